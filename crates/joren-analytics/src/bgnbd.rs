//! The BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way"):
//! while alive a customer buys at Poisson rate λ ~ Gamma(r, α); after each purchase they drop
//! out with probability p ~ Beta(a, b).

use std::collections::HashMap;

use serde::Serialize;

use crate::AnalyticsError;
use crate::fit::maximize_smooth;
use crate::special::{digamma, hyp2f1, ln_beta, ln_gamma};
use crate::summary::CustomerSummary;

/// Fitted parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Params {
    pub r: f64,
    pub alpha: f64,
    pub a: f64,
    pub b: f64,
}

/// Customers with identical (x, t_x, T) share one likelihood term: with daily or weekly data
/// a million customers collapse to far fewer distinct triples. The distinct values of x, t_x
/// and T are kept once each, so the terms that depend on only one of them (log-gammas of x,
/// logarithms of α + t) are computed once per value, not once per customer.
#[derive(Debug, Clone, Default)]
pub struct Compressed {
    pub x: Vec<f64>,
    pub t_x: Vec<f64>,
    pub t: Vec<f64>,
    pub weight: Vec<f64>,
    xs: Vec<f64>,
    times: Vec<f64>,
    xi: Vec<u32>,
    txi: Vec<u32>,
    ti: Vec<u32>,
}

impl Compressed {
    pub fn from_summary(s: &CustomerSummary) -> Self {
        let mut index: HashMap<(u32, u64, u64), usize, foldhash::fast::RandomState> = HashMap::default();
        let mut c = Self::default();
        let mut x_index: HashMap<u32, u32, foldhash::fast::RandomState> = HashMap::default();
        let mut t_index: HashMap<u64, u32, foldhash::fast::RandomState> = HashMap::default();
        for i in 0..s.len() {
            let key = (s.frequency[i], s.recency[i].to_bits(), s.age[i].to_bits());
            if let Some(&j) = index.get(&key) {
                c.weight[j] += 1.0;
                continue;
            }
            index.insert(key, c.x.len());
            c.x.push(f64::from(s.frequency[i]));
            c.t_x.push(s.recency[i]);
            c.t.push(s.age[i]);
            c.weight.push(1.0);
            let xs = &mut c.xs;
            c.xi.push(*x_index.entry(s.frequency[i]).or_insert_with(|| {
                xs.push(f64::from(s.frequency[i]));
                xs.len() as u32 - 1
            }));
            for (v, out) in [(s.recency[i], &mut c.txi), (s.age[i], &mut c.ti)] {
                let times = &mut c.times;
                out.push(*t_index.entry(v.to_bits()).or_insert_with(|| {
                    times.push(v);
                    times.len() as u32 - 1
                }));
            }
        }
        c
    }

    pub fn customers(&self) -> f64 {
        self.weight.iter().sum()
    }

    /// Every `step`-th distinct history with its weight (the value tables shared).
    pub fn sample(&self, step: usize) -> Self {
        let pick = |v: &[f64]| v.iter().step_by(step).copied().collect::<Vec<f64>>();
        let pick_u = |v: &[u32]| v.iter().step_by(step).copied().collect::<Vec<u32>>();
        Self {
            x: pick(&self.x),
            t_x: pick(&self.t_x),
            t: pick(&self.t),
            weight: pick(&self.weight),
            xs: self.xs.clone(),
            times: self.times.clone(),
            xi: pick_u(&self.xi),
            txi: pick_u(&self.txi),
            ti: pick_u(&self.ti),
        }
    }

    /// Mean T over customers (a starting value for the scale parameters).
    pub fn mean_age(&self) -> f64 {
        self.t.iter().zip(&self.weight).map(|(t, w)| t * w).sum::<f64>() / self.customers()
    }
}

/// The repeat-purchase models need at least 30 customers and 10 repeat buyers; returns the
/// number of repeaters, or says why the data cannot support `model`.
pub(crate) fn require_repeat_data(s: &CustomerSummary, model: &str) -> Result<usize, AnalyticsError> {
    let repeaters = s.frequency.iter().filter(|&&x| x > 0).count();
    if s.len() < 30 || repeaters < 10 {
        return Err(AnalyticsError::NotEnoughData(format!(
            "{model} needs at least 30 customers and 10 repeat buyers (have {} and {repeaters})",
            s.len()
        )));
    }
    Ok(repeaters)
}

/// ln L of one customer (the paper's equation 6).
pub fn ln_likelihood_one(p: &Params, x: f64, t_x: f64, t: f64) -> f64 {
    let Params { r, alpha, a, b } = *p;
    let a1 = ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln();
    let a2 = ln_beta(a, b + x) - ln_beta(a, b);
    let a3 = -(r + x) * (alpha + t).ln();
    if x > 0.0 {
        let a4 = a.ln() - (b + x - 1.0).ln() - (r + x) * (alpha + t_x).ln();
        let m = a3.max(a4);
        a1 + a2 + m + ((a3 - m).exp() + (a4 - m).exp()).ln()
    } else {
        a1 + a2 + a3
    }
}

/// The full log-likelihood of the data (sum over customers, not a mean).
pub fn log_likelihood(p: &Params, d: &Compressed) -> f64 {
    let Params { r, alpha, a, b } = *p;
    let base_ab = ln_beta(a, b);
    let lg_r = ln_gamma(r);
    let ln_a = a.ln();
    // Per distinct x: A1 + A2, ln(b + x − 1) and r + x.
    let per_x: Vec<(f64, f64, f64)> =
        d.xs.iter()
            .map(|&x| {
                let a12 = ln_gamma(r + x) - lg_r + r * alpha.ln() + ln_beta(a, b + x) - base_ab;
                (a12, if x > 0.0 { (b + x - 1.0).ln() } else { 0.0 }, r + x)
            })
            .collect();
    let ln_t: Vec<f64> = d.times.iter().map(|t| (alpha + t).ln()).collect();
    let term = |i: usize| {
        let (a12, ln_bx, rx) = per_x[d.xi[i] as usize];
        let a3 = -rx * ln_t[d.ti[i] as usize];
        let t = if d.x[i] > 0.0 {
            // ln(e^a3 + e^a4) = max + ln(1 + e^(min − max))
            let a4 = ln_a - ln_bx - rx * ln_t[d.txi[i] as usize];
            a3.max(a4) + (-(a3 - a4).abs()).exp().ln_1p()
        } else {
            a3
        };
        d.weight[i] * (a12 + t)
    };
    // Fixed chunks summed in order: the result does not depend on thread scheduling.
    use rayon::prelude::*;
    const CHUNK: usize = 16_384;
    let partial: Vec<f64> = (0..d.x.len().div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| (c * CHUNK..((c + 1) * CHUNK).min(d.x.len())).map(term).sum::<f64>())
        .collect();
    partial.iter().sum()
}

/// The log-likelihood and its gradient with respect to (r, α, a, b), in one pass.
///
/// Per customer ln L = A1 + A2 + ln(e^A3 + [x>0] e^A4) (the paper's eq. 6). With
/// w4 = e^A4 / (e^A3 + e^A4) the share of the "dropped out after the last purchase" term and
/// w3 = 1 − w4:
/// ∂/∂r = ψ(r+x) − ψ(r) + ln α − w3 ln(α+T) − w4 ln(α+t_x);
/// ∂/∂α = r/α − (r+x) (w3/(α+T) + w4/(α+t_x));
/// ∂/∂a = ψ(a+b) − ψ(a+b+x) + w4/a;
/// ∂/∂b = ψ(b+x) − ψ(b) + ψ(a+b) − ψ(a+b+x) − w4/(b+x−1).
pub fn log_likelihood_and_gradient(p: &Params, d: &Compressed) -> (f64, [f64; 4]) {
    let Params { r, alpha, a, b } = *p;
    let base_ab = ln_beta(a, b);
    let (lg_r, dg_r, dg_b, dg_ab) = (ln_gamma(r), digamma(r), digamma(b), digamma(a + b));
    let (ln_a, ln_alpha) = (a.ln(), alpha.ln());
    struct PerX {
        a12: f64,
        ln_bx: f64,
        rx: f64,
        dr: f64,
        da: f64,
        db: f64,
        inv_bx: f64,
    }
    let per_x: Vec<PerX> =
        d.xs.iter()
            .map(|&x| {
                let (dg_abx, dg_bx) = (digamma(a + b + x), digamma(b + x));
                PerX {
                    a12: ln_gamma(r + x) - lg_r + r * ln_alpha + ln_beta(a, b + x) - base_ab,
                    ln_bx: if x > 0.0 { (b + x - 1.0).ln() } else { 0.0 },
                    rx: r + x,
                    dr: digamma(r + x) - dg_r + ln_alpha,
                    da: dg_ab - dg_abx,
                    db: dg_bx - dg_b + dg_ab - dg_abx,
                    inv_bx: if x > 0.0 { 1.0 / (b + x - 1.0) } else { 0.0 },
                }
            })
            .collect();
    let per_t: Vec<(f64, f64)> = d.times.iter().map(|t| ((alpha + t).ln(), 1.0 / (alpha + t))).collect();
    let term = |i: usize| -> [f64; 5] {
        let q = &per_x[d.xi[i] as usize];
        let (ln_t, inv_t) = per_t[d.ti[i] as usize];
        let a3 = -q.rx * ln_t;
        let (ll, w4, ln_tx, inv_tx) = if d.x[i] > 0.0 {
            let (ln_tx, inv_tx) = per_t[d.txi[i] as usize];
            let a4 = ln_a - q.ln_bx - q.rx * ln_tx;
            // ln(e^a3 + e^a4) = max + ln(1 + e^(min − max)); w4 = 1 / (1 + e^(a3 − a4)).
            let e = (-(a3 - a4).abs()).exp();
            let w4 = if a4 >= a3 { 1.0 / (1.0 + e) } else { e / (1.0 + e) };
            (a3.max(a4) + e.ln_1p(), w4, ln_tx, inv_tx)
        } else {
            (a3, 0.0, 0.0, 0.0)
        };
        let w3 = 1.0 - w4;
        let w = d.weight[i];
        [
            w * (q.a12 + ll),
            w * (q.dr - w3 * ln_t - w4 * ln_tx),
            w * (r / alpha - q.rx * (w3 * inv_t + w4 * inv_tx)),
            w * (q.da + w4 / a),
            w * (q.db - w4 * q.inv_bx),
        ]
    };
    use rayon::prelude::*;
    const CHUNK: usize = 16_384;
    let partial: Vec<[f64; 5]> = (0..d.x.len().div_ceil(CHUNK))
        .into_par_iter()
        .map(|c| {
            let mut acc = [0.0; 5];
            for i in c * CHUNK..((c + 1) * CHUNK).min(d.x.len()) {
                let t = term(i);
                for k in 0..5 {
                    acc[k] += t[k];
                }
            }
            acc
        })
        .collect();
    let mut total = [0.0; 5];
    for part in partial {
        for k in 0..5 {
            total[k] += part[k];
        }
    }
    (total[0], [total[1], total[2], total[3], total[4]])
}

/// A fitted model with its diagnostics.
#[derive(Debug, Clone, Serialize)]
pub struct Fit {
    pub params: Params,
    /// Standard errors of r, α, a, b (observed information), when the Hessian is invertible.
    pub standard_errors: Option<Vec<f64>>,
    pub log_likelihood: f64,
    pub customers: usize,
    pub repeaters: usize,
    pub iterations: u64,
}

/// Fits by maximum likelihood. Refuses data that cannot support the model.
pub fn fit(s: &CustomerSummary) -> Result<Fit, AnalyticsError> {
    let repeaters = require_repeat_data(s, "BG/NBD")?;
    let d = Compressed::from_summary(s);
    let mean_t = d.mean_age();
    let value_and_gradient = |d: &Compressed, v: &[f64]| {
        let (ll, g) = log_likelihood_and_gradient(&Params { r: v[0], alpha: v[1], a: v[2], b: v[3] }, d);
        (ll, g.to_vec())
    };
    let start = crate::fit::warm_start(d.x.len(), &[1.0, mean_t.max(1e-3), 1.0, 1.0], |step| {
        let sample = d.sample(step);
        maximize_smooth(&|v: &[f64]| value_and_gradient(&sample, v), &[1.0, mean_t.max(1e-3), 1.0, 1.0])
    });
    let opt = maximize_smooth(&|v: &[f64]| value_and_gradient(&d, v), &start)?;
    let params = Params { r: opt.params[0], alpha: opt.params[1], a: opt.params[2], b: opt.params[3] };
    crate::fit::check_shapes("BG/NBD", &[("r", params.r), ("a", params.a), ("b", params.b)])?;
    Ok(Fit {
        params,
        standard_errors: opt.standard_errors,
        log_likelihood: opt.log_likelihood,
        customers: s.len(),
        repeaters,
        iterations: opt.iterations,
    })
}

/// P(alive | x, t_x, T).
pub fn p_alive(p: &Params, x: f64, t_x: f64, t: f64) -> f64 {
    if x == 0.0 {
        return 1.0;
    }
    let Params { r, alpha, a, b } = *p;
    let ln_ratio = (a / (b + x - 1.0)).ln() + (r + x) * ((alpha + t) / (alpha + t_x)).ln();
    1.0 / (1.0 + ln_ratio.exp())
}

/// E[Y(horizon) | x, t_x, T]: expected purchases in the next `horizon` time units, i.e.
/// P(alive) × the expectation for a customer known to be alive
/// ([`expected_purchases_if_alive`]).
pub fn conditional_expected_purchases(p: &Params, x: f64, t_x: f64, t: f64, horizon: f64) -> Option<f64> {
    Some(expected_purchases_if_alive(p, x, t, horizon)? * p_alive(p, x, t_x, t))
}

/// The expected purchases in the next `horizon` units of a customer known to be alive now:
/// E[Y(horizon) | x, t_x, T] = this × P(alive). Depends on x and T only (not t_x), so it can
/// be shared by all customers with the same x and T.
///
/// Uses (1−z)^(r+x) 2F1(r+x, b+x; a+b+x−1; z) = (1−z)^(a−1) 2F1(a+b−1−r, a−1; a+b+x−1; z)
/// with z = horizon/(α+T+horizon), so no huge intermediate values appear for heavy buyers.
pub fn expected_purchases_if_alive(p: &Params, x: f64, t: f64, horizon: f64) -> Option<f64> {
    let Params { r, alpha, a, b } = *p;
    if a == 1.0 {
        return None;
    }
    let z = horizon / (alpha + t + horizon);
    let f = (1.0 - z).powf(a - 1.0) * hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)?;
    Some((a + b + x - 1.0) / (a - 1.0) * (1.0 - f))
}

/// E[X(t)]: expected purchases of a new customer in `t` time units.
pub fn expected_purchases_new(p: &Params, t: f64) -> Option<f64> {
    let Params { r, alpha, a, b } = *p;
    let z = t / (alpha + t);
    Some((a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + t)).powf(r) * hyp2f1(r, b, a + b - 1.0, z)?))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::summary::TimeUnit;

    /// The CDNOW sample (2,357 customers, weeks), read as the golden tests read it.
    pub(crate) fn cdnow_summary() -> CustomerSummary {
        let path = format!("{}/../../../shared/data/cdnow_sample_transactions.csv", env!("CARGO_MANIFEST_DIR"));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut b = crate::TransactionLogBuilder::new(2);
        b.feed(&bytes).unwrap();
        let log = b.finish().unwrap();
        crate::summary::summarize(&log, crate::log::days_from_civil(1997, 9, 30), crate::TimeUnit::Week)
    }

    #[test]
    fn a_fit_started_from_a_samples_optimum_reaches_the_same_optimum() {
        let s = cdnow_summary();
        let d = Compressed::from_summary(&s);
        let start = [1.0, d.mean_age(), 1.0, 1.0];
        let vg = |d: &Compressed, v: &[f64]| {
            let (ll, g) = log_likelihood_and_gradient(&Params { r: v[0], alpha: v[1], a: v[2], b: v[3] }, d);
            (ll, g.to_vec())
        };
        assert!(d.x.len() > crate::fit::WARM_FROM, "{} histories: the test's threshold takes the warm way", d.x.len());
        let warm = crate::fit::warm_start(d.x.len(), &start, |step| {
            let sample = d.sample(step);
            assert!(sample.x.len() < d.x.len() / 2 && sample.customers() < d.customers() / 2.0);
            maximize_smooth(&|v: &[f64]| vg(&sample, v), &start)
        });
        assert_ne!(warm, start, "the sample was fitted");
        let cold = maximize_smooth(&|v: &[f64]| vg(&d, v), &start).unwrap();
        let fitted = fit(&s).unwrap();
        // The same optimum up to where the likelihood is flat (a few parts in 10⁷ of a
        // parameter change it by less than a part in 10¹²).
        let got = [fitted.params.r, fitted.params.alpha, fitted.params.a, fitted.params.b];
        for (g, c) in got.iter().zip(&cold.params) {
            assert!((g - c).abs() <= 2e-6 * c.abs(), "warm {got:?} against cold {:?}", cold.params);
        }
        assert!((fitted.log_likelihood - cold.log_likelihood).abs() <= 1e-9 * cold.log_likelihood.abs());
        // The published values (Fader, Hardie & Lee 2005): r 0.243, α 4.414, a 0.793, b 2.426.
        assert!((fitted.params.r - 0.2426).abs() < 1e-3 && (fitted.params.b - 2.4259).abs() < 1e-2);
    }

    #[test]
    fn tabled_likelihood_equals_the_sum_of_per_customer_terms() {
        let s = CustomerSummary {
            customer: vec![0, 1, 2, 3, 4],
            frequency: vec![0, 2, 2, 7, 0],
            recency: vec![0.0, 30.43, 30.43, 12.0, 0.0],
            age: vec![38.86, 38.86, 38.86, 20.0, 10.0],
            monetary_value: vec![0.0; 5],
            first_day: vec![0; 5],
            last_day: vec![0; 5],
            unit: TimeUnit::Week,
        };
        let d = Compressed::from_summary(&s);
        assert_eq!(d.x.len(), 4, "two customers share one triple");
        let p = Params { r: 0.24, alpha: 4.4, a: 0.79, b: 2.43 };
        let direct: f64 =
            (0..5).map(|i| ln_likelihood_one(&p, f64::from(s.frequency[i]), s.recency[i], s.age[i])).sum();
        assert!((log_likelihood(&p, &d) - direct).abs() < 1e-9 * direct.abs());
        // The analytic gradient agrees with central differences of the likelihood.
        let (ll, g) = log_likelihood_and_gradient(&p, &d);
        assert!((ll - direct).abs() < 1e-9 * direct.abs());
        let v = [p.r, p.alpha, p.a, p.b];
        for k in 0..4 {
            let h = 1e-6 * v[k];
            let at = |s: f64| {
                let mut w = v;
                w[k] += s * h;
                log_likelihood(&Params { r: w[0], alpha: w[1], a: w[2], b: w[3] }, &d)
            };
            let numeric = (at(1.0) - at(-1.0)) / (2.0 * h);
            assert!((g[k] - numeric).abs() < 1e-5 * numeric.abs().max(1.0), "∂{k}: {} vs {numeric}", g[k]);
        }
    }
}
