//! The beta-geometric/beta-binomial model (Fader, Hardie & Shang, "Customer-base analysis in a
//! discrete-time noncontractual setting", Marketing Science 2010) for discrete purchase
//! opportunities — yearly donations, a monthly market stall, seasonal events: at each
//! opportunity an alive customer buys with probability p ~ Beta(α, β) and, after it, leaves
//! for good with probability θ ~ Beta(γ, δ).
//!
//! A customer is (x, t_x, n): repeat opportunities with a purchase, the last such opportunity
//! (0 if none), and repeat opportunities observed since the first purchase.

use serde::Serialize;

use crate::AnalyticsError;
use crate::TransactionLog;
use crate::fit::maximize;
use crate::special::{ln_beta, ln_gamma};
use crate::summary::group_by_customer;

/// Fitted parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Params {
    pub alpha: f64,
    pub beta: f64,
    pub gamma: f64,
    pub delta: f64,
}

/// Customers grouped by identical (x, t_x, n).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histories {
    pub x: Vec<u32>,
    pub t_x: Vec<u32>,
    pub n: Vec<u32>,
    pub count: Vec<f64>,
}

impl Histories {
    /// Adds `count` customers with history (x, t_x, n).
    pub fn push(&mut self, x: u32, t_x: u32, n: u32, count: f64) {
        self.x.push(x);
        self.t_x.push(t_x);
        self.n.push(n);
        self.count.push(count);
    }

    pub fn customers(&self) -> f64 {
        self.count.iter().sum()
    }

    /// Builds the histories from a transaction log cut into opportunities of `period_days`,
    /// counted from each customer's first purchase; opportunities that end after `end_day`
    /// are not yet observed and left out.
    pub fn from_log(log: &TransactionLog, end_day: i32, period_days: i32) -> Self {
        let groups = group_by_customer(log);
        let mut counts = std::collections::BTreeMap::<(u32, u32, u32), f64>::new();
        for c in 0..log.customers() {
            let rows = groups.rows(c);
            let Some(first_row) = rows.clone().next() else { continue };
            let first = log.day[first_row as usize];
            if first > end_day {
                continue;
            }
            let n = ((end_day - first + 1) / period_days - 1).max(0) as u32;
            let (mut x, mut t_x, mut last_period) = (0u32, 0u32, 0u32);
            for r in rows {
                let period = ((log.day[r as usize] - first) / period_days) as u32;
                if period == 0 || period > n || period == last_period {
                    continue;
                }
                x += 1;
                t_x = period;
                last_period = period;
            }
            *counts.entry((x, t_x, n)).or_default() += 1.0;
        }
        let mut h = Self::default();
        for ((x, t_x, n), count) in counts {
            h.push(x, t_x, n, count);
        }
        h
    }
}

/// ln L of one history (FHS 2010, eq. 5), summed in log space.
pub fn ln_likelihood_one(p: &Params, x: u32, t_x: u32, n: u32) -> f64 {
    let Params { alpha, beta, gamma, delta } = *p;
    let (x, t_x, n) = (f64::from(x), f64::from(t_x), f64::from(n));
    let base = ln_beta(alpha, beta) + ln_beta(gamma, delta);
    let mut terms = vec![ln_beta(alpha + x, beta + n - x) + ln_beta(gamma, delta + n) - base];
    let mut i = 0.0;
    while i < n - t_x {
        terms.push(ln_beta(alpha + x, beta + t_x - x + i) + ln_beta(gamma + 1.0, delta + t_x + i) - base);
        i += 1.0;
    }
    log_sum_exp(&terms)
}

fn log_sum_exp(v: &[f64]) -> f64 {
    let m = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    if !m.is_finite() {
        return m;
    }
    m + v.iter().map(|t| (t - m).exp()).sum::<f64>().ln()
}

/// The full log-likelihood.
pub fn log_likelihood(p: &Params, h: &Histories) -> f64 {
    (0..h.x.len()).map(|i| h.count[i] * ln_likelihood_one(p, h.x[i], h.t_x[i], h.n[i])).sum()
}

/// A fitted model.
#[derive(Debug, Clone, Serialize)]
pub struct Fit {
    pub params: Params,
    pub standard_errors: Option<Vec<f64>>,
    pub log_likelihood: f64,
    pub customers: f64,
    pub iterations: u64,
}

/// Fits by maximum likelihood; refuses data with too few customers or no repeat purchases.
pub fn fit(h: &Histories) -> Result<Fit, AnalyticsError> {
    let customers = h.customers();
    let repeaters: f64 = (0..h.x.len()).filter(|&i| h.x[i] > 0).map(|i| h.count[i]).sum();
    if customers < 20.0 {
        return Err(AnalyticsError::NotEnoughData(format!(
            "BG/BB needs at least 20 customers with an observed opportunity, got {customers}"
        )));
    }
    if repeaters < 5.0 || h.n.iter().all(|&n| n < 2) {
        return Err(AnalyticsError::NotEnoughData(format!(
            "BG/BB needs repeat purchases over at least two opportunities ({repeaters} repeat buyers)"
        )));
    }
    let ll = |v: &[f64]| log_likelihood(&Params { alpha: v[0], beta: v[1], gamma: v[2], delta: v[3] }, h);
    let opt = maximize(&ll, &[1.0, 1.0, 1.0, 1.0])?;
    Ok(Fit {
        params: Params { alpha: opt.params[0], beta: opt.params[1], gamma: opt.params[2], delta: opt.params[3] },
        standard_errors: opt.standard_errors,
        log_likelihood: opt.log_likelihood,
        customers,
        iterations: opt.iterations,
    })
}

/// P(alive at opportunity n + 1 | x, t_x, n) (FHS 2010, eq. 11).
pub fn p_alive(p: &Params, x: u32, t_x: u32, n: u32) -> f64 {
    let Params { alpha, beta, gamma, delta } = *p;
    let (xf, nf) = (f64::from(x), f64::from(n));
    let ln_alive = ln_beta(alpha + xf, beta + nf - xf) - ln_beta(alpha, beta) + ln_beta(gamma, delta + nf + 1.0)
        - ln_beta(gamma, delta);
    (ln_alive - ln_likelihood_one(p, x, t_x, n)).exp()
}

/// Expected purchases in the next `future` opportunities given (x, t_x, n) (FHS 2010, eq. 13);
/// `None` at γ = 1, where the closed form has no value.
pub fn conditional_expected_purchases(p: &Params, x: u32, t_x: u32, n: u32, future: u32) -> Option<f64> {
    let Params { alpha, beta, gamma, delta } = *p;
    if (gamma - 1.0).abs() < 1e-9 {
        return None;
    }
    let (xf, nf, ns) = (f64::from(x), f64::from(n), f64::from(future));
    let ln_l = ln_likelihood_one(p, x, t_x, n);
    let lead = (ln_beta(alpha + xf + 1.0, beta + nf - xf) - ln_beta(alpha, beta) - ln_l).exp() * delta / (gamma - 1.0)
        * (ln_gamma(gamma + delta) - ln_gamma(1.0 + delta)).exp();
    let g = |k: f64| (ln_gamma(1.0 + delta + k) - ln_gamma(gamma + delta + k)).exp();
    Some(lead * (g(nf) - g(nf + ns)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::days_from_civil;

    #[test]
    fn histories_from_a_log_count_opportunities_after_the_first() {
        let d = |y, m, day| days_from_civil(y, m, day);
        let log = TransactionLog::from_rows(
            [
                ("a", d(2020, 1, 1), 100),
                ("a", d(2020, 6, 1), 100),  // same first period: not a repeat
                ("a", d(2021, 3, 1), 100),  // period 1
                ("a", d(2022, 2, 1), 100),  // period 2
                ("a", d(2022, 12, 1), 100), // period 2 again: one purchase per opportunity
                ("b", d(2021, 1, 1), 100),
                ("c", d(2022, 6, 1), 100), // first year not over at the end
            ],
            2,
        );
        let h = Histories::from_log(&log, d(2023, 12, 31), 365);
        let mut got: Vec<_> = (0..h.x.len()).map(|i| (h.x[i], h.t_x[i], h.n[i], h.count[i])).collect();
        got.sort_by(|a, b| a.partial_cmp(b).unwrap());
        // a: 4 full years from 2020-01-01 → n = 3 repeat opportunities, bought in 1 and 2.
        // b: 2021-01-01 → 2023-12-31 is 3 years → n = 2, no repeat. c: n = 0 (only 1.6 years).
        assert_eq!(got, [(0, 0, 0, 1.0), (0, 0, 2, 1.0), (2, 2, 3, 1.0)]);
    }

    #[test]
    fn p_alive_for_one_customer_matches_enumerating_the_paths() {
        // Fixed p and θ are the limit of very tight Beta distributions; with p = 0.5, θ = 0.2
        // and history "bought at 1, nothing at 2 and 3" (x=1, t_x=1, n=3) the paths are:
        // alive throughout, or left after 1 or after 2.
        let (buy, leave) = (0.5f64, 0.2f64);
        let stay = 1.0 - leave;
        let alive = stay * buy * (stay * (1.0 - buy)).powi(2) * stay;
        let total =
            stay * buy * (stay * (1.0 - buy)).powi(2) + stay * buy * leave + stay * buy * stay * (1.0 - buy) * leave;
        let scale = 1e6;
        let p = Params { alpha: buy * scale, beta: (1.0 - buy) * scale, gamma: leave * scale, delta: stay * scale };
        let got = p_alive(&p, 1, 1, 3);
        assert!((got - alive / total).abs() < 1e-4, "{got} vs {}", alive / total);
    }
}
