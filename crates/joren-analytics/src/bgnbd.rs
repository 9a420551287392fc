//! The BG/NBD model (Fader, Hardie & Lee 2005, "Counting your customers the easy way"):
//! while alive a customer buys at Poisson rate λ ~ Gamma(r, α); after each purchase they drop
//! out with probability p ~ Beta(a, b).

use std::collections::HashMap;

use serde::Serialize;

use crate::AnalyticsError;
use crate::fit::maximize;
use crate::special::{hyp2f1, ln_beta, ln_gamma};
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
/// a million customers collapse to far fewer distinct triples.
#[derive(Debug, Clone, Default)]
pub struct Compressed {
    pub x: Vec<f64>,
    pub t_x: Vec<f64>,
    pub t: Vec<f64>,
    pub weight: Vec<f64>,
}

impl Compressed {
    pub fn from_summary(s: &CustomerSummary) -> Self {
        let mut index: HashMap<(u32, u64, u64), usize> = HashMap::new();
        let mut c = Self::default();
        for i in 0..s.len() {
            let key = (s.frequency[i], s.recency[i].to_bits(), s.age[i].to_bits());
            match index.get(&key) {
                Some(&j) => c.weight[j] += 1.0,
                None => {
                    index.insert(key, c.x.len());
                    c.x.push(f64::from(s.frequency[i]));
                    c.t_x.push(s.recency[i]);
                    c.t.push(s.age[i]);
                    c.weight.push(1.0);
                }
            }
        }
        c
    }

    pub fn customers(&self) -> f64 {
        self.weight.iter().sum()
    }
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
    (0..d.x.len()).map(|i| d.weight[i] * ln_likelihood_one(p, d.x[i], d.t_x[i], d.t[i])).sum()
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
    let repeaters = s.frequency.iter().filter(|&&x| x > 0).count();
    if s.len() < 30 || repeaters < 10 {
        return Err(AnalyticsError::NotEnoughData(format!(
            "BG/NBD needs at least 30 customers and 10 repeat buyers (have {} and {repeaters})",
            s.len()
        )));
    }
    let d = Compressed::from_summary(s);
    let mean_t = d.t.iter().zip(&d.weight).map(|(t, w)| t * w).sum::<f64>() / d.customers();
    let ll = |v: &[f64]| log_likelihood(&Params { r: v[0], alpha: v[1], a: v[2], b: v[3] }, &d);
    let opt = maximize(&ll, &[1.0, mean_t.max(1e-3), 1.0, 1.0])?;
    let params = Params { r: opt.params[0], alpha: opt.params[1], a: opt.params[2], b: opt.params[3] };
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

/// E[Y(horizon) | x, t_x, T]: expected purchases in the next `horizon` time units.
///
/// Uses (1−z)^(r+x) 2F1(r+x, b+x; a+b+x−1; z) = (1−z)^(a−1) 2F1(a+b−1−r, a−1; a+b+x−1; z)
/// with z = horizon/(α+T+horizon), so no huge intermediate values appear for heavy buyers.
pub fn conditional_expected_purchases(p: &Params, x: f64, t_x: f64, t: f64, horizon: f64) -> Option<f64> {
    let Params { r, alpha, a, b } = *p;
    if a == 1.0 {
        return None;
    }
    let z = horizon / (alpha + t + horizon);
    let f = (1.0 - z).powf(a - 1.0) * hyp2f1(a + b - 1.0 - r, a - 1.0, a + b + x - 1.0, z)?;
    let numerator = (a + b + x - 1.0) / (a - 1.0) * (1.0 - f);
    let denominator = if x > 0.0 { 1.0 + (a / (b + x - 1.0)) * ((alpha + t) / (alpha + t_x)).powf(r + x) } else { 1.0 };
    Some(numerator / denominator)
}

/// E[X(t)]: expected purchases of a new customer in `t` time units.
pub fn expected_purchases_new(p: &Params, t: f64) -> Option<f64> {
    let Params { r, alpha, a, b } = *p;
    let z = t / (alpha + t);
    Some((a + b - 1.0) / (a - 1.0) * (1.0 - (alpha / (alpha + t)).powf(r) * hyp2f1(r, b, a + b - 1.0, z)?))
}
