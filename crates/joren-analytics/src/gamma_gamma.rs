//! The Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie 2013):
//! transaction values of a customer ~ Gamma(p, ν), ν ~ Gamma(q, γ) across customers; fitted on
//! repeat buyers' mean repeat value.

use serde::Serialize;

use crate::AnalyticsError;
use crate::fit::maximize;
use crate::special::ln_gamma;
use crate::summary::CustomerSummary;

/// Fitted parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Params {
    pub p: f64,
    pub q: f64,
    pub gamma: f64,
}

/// ln L of one repeat buyer with `x` repeat transactions of mean value `m`.
pub fn ln_likelihood_one(pr: &Params, x: f64, m: f64) -> f64 {
    let Params { p, q, gamma } = *pr;
    ln_gamma(p * x + q) - ln_gamma(p * x) - ln_gamma(q) + q * gamma.ln() + (p * x - 1.0) * m.ln() + p * x * x.ln()
        - (p * x + q) * (gamma + x * m).ln()
}

/// A fitted model.
#[derive(Debug, Clone, Serialize)]
pub struct Fit {
    pub params: Params,
    /// Standard errors of p, q, γ (observed information), when the Hessian is invertible.
    pub standard_errors: Option<Vec<f64>>,
    pub log_likelihood: f64,
    pub repeaters: usize,
    pub iterations: u64,
}

/// Fits on the customers with at least one repeat purchase and a positive mean value.
pub fn fit(s: &CustomerSummary) -> Result<Fit, AnalyticsError> {
    let data: Vec<(f64, f64)> = (0..s.len())
        .filter(|&i| s.frequency[i] > 0 && s.monetary_value[i] > 0.0)
        .map(|i| (f64::from(s.frequency[i]), s.monetary_value[i]))
        .collect();
    if data.len() < 10 {
        return Err(AnalyticsError::NotEnoughData(format!(
            "Gamma-Gamma needs at least 10 repeat buyers with spend (have {})",
            data.len()
        )));
    }
    // Terms of x alone are computed once per distinct x; ln m once per customer.
    let mut xs: Vec<f64> = data.iter().map(|d| d.0).collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    let rows: Vec<(usize, f64, f64)> = data
        .iter()
        .map(|&(x, m)| (xs.binary_search_by(|v| v.total_cmp(&x)).expect("present"), x * m, m.ln()))
        .collect();
    let ll = |v: &[f64]| {
        let (p, q, gamma) = (v[0], v[1], v[2]);
        let lg_q = ln_gamma(q);
        let ln_g = gamma.ln();
        let per_x: Vec<(f64, f64)> = xs
            .iter()
            .map(|&x| (ln_gamma(p * x + q) - ln_gamma(p * x) - lg_q + q * ln_g + p * x * x.ln(), p * x))
            .collect();
        rows.iter()
            .map(|&(xi, xm, ln_m)| {
                let (c, px) = per_x[xi];
                c + (px - 1.0) * ln_m - (px + q) * (gamma + xm).ln()
            })
            .sum::<f64>()
    };
    let opt = maximize(&ll, &[1.0, 1.0, 1.0])?;
    let params = Params { p: opt.params[0], q: opt.params[1], gamma: opt.params[2] };
    if params.q <= 1.0 {
        return Err(AnalyticsError::NotConverged(format!(
            "q = {:.4} ≤ 1: the expected spend is not finite; the data do not support the model",
            params.q
        )));
    }
    Ok(Fit {
        params,
        standard_errors: opt.standard_errors,
        log_likelihood: opt.log_likelihood,
        repeaters: data.len(),
        iterations: opt.iterations,
    })
}

/// E[Z | x, m]: expected mean transaction value of a customer (the population mean without
/// repeats).
pub fn expected_average_value(pr: &Params, x: f64, m: f64) -> f64 {
    let Params { p, q, gamma } = *pr;
    p * (gamma + x * m) / (p * x + q - 1.0)
}
