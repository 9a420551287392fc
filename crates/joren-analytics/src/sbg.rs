//! The shifted-beta-geometric model for contract/subscription retention (Fader & Hardie 2007,
//! "How to project customer retention"): each customer churns at the end of a period with
//! probability θ ~ Beta(α, β). Fitted on a cohort's survivor counts; projects survival and
//! period-to-period retention rates.

use serde::Serialize;

use crate::AnalyticsError;
use crate::fit::maximize;
use crate::special::ln_beta;

/// Fitted parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Params {
    pub alpha: f64,
    pub beta: f64,
}

/// P(T = t): churn at the end of period t (t ≥ 1).
pub fn churn_probability(p: &Params, t: u32) -> f64 {
    (ln_beta(p.alpha + 1.0, p.beta + f64::from(t) - 1.0) - ln_beta(p.alpha, p.beta)).exp()
}

/// S(t): still subscribed after t periods.
pub fn survival(p: &Params, t: u32) -> f64 {
    (ln_beta(p.alpha, p.beta + f64::from(t)) - ln_beta(p.alpha, p.beta)).exp()
}

/// r(t) = S(t) / S(t − 1) = (β + t − 1) / (α + β + t − 1): the retention rate of period t.
pub fn retention_rate(p: &Params, t: u32) -> f64 {
    (p.beta + f64::from(t) - 1.0) / (p.alpha + p.beta + f64::from(t) - 1.0)
}

/// Log-likelihood of survivor counts `alive[0..=T]` (alive[0] = cohort size).
pub fn log_likelihood(p: &Params, alive: &[u64]) -> f64 {
    let t_max = alive.len() - 1;
    let mut ll = 0.0;
    for t in 1..=t_max {
        let lost = alive[t - 1].saturating_sub(alive[t]) as f64;
        if lost > 0.0 {
            ll += lost * churn_probability(p, t as u32).ln();
        }
    }
    ll + alive[t_max] as f64 * survival(p, t_max as u32).ln()
}

/// A fitted model.
#[derive(Debug, Clone, Serialize)]
pub struct Fit {
    pub params: Params,
    pub standard_errors: Option<Vec<f64>>,
    pub log_likelihood: f64,
}

/// Fits on survivor counts (non-increasing, at least two periods observed after the start).
pub fn fit(alive: &[u64]) -> Result<Fit, AnalyticsError> {
    if alive.len() < 3 || alive[0] < 10 {
        return Err(AnalyticsError::NotEnoughData("sBG needs a cohort of at least 10 and two observed periods".into()));
    }
    if alive.windows(2).any(|w| w[1] > w[0]) {
        return Err(AnalyticsError::NotEnoughData("survivor counts must not increase".into()));
    }
    if alive[alive.len() - 1] == alive[0] {
        return Err(AnalyticsError::NotEnoughData("nobody churned: retention cannot be estimated".into()));
    }
    let ll = |v: &[f64]| log_likelihood(&Params { alpha: v[0], beta: v[1] }, alive);
    let opt = maximize(&ll, &[1.0, 1.0])?;
    Ok(Fit {
        params: Params { alpha: opt.params[0], beta: opt.params[1] },
        standard_errors: opt.standard_errors,
        log_likelihood: opt.log_likelihood,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fader & Hardie (2007), the "regular" and "high end" cohorts, years 0–7 (survivors of
    /// 1,000): the paper reports α = 0.704, β = 1.182 and α = 0.668, β = 3.806.
    #[test]
    fn reproduces_the_published_fits() {
        let regular = [1000, 631, 468, 382, 326, 289, 262, 241];
        let f = fit(&regular).unwrap();
        assert!((f.params.alpha - 0.704).abs() < 5e-4 && (f.params.beta - 1.182).abs() < 5e-4, "{:?}", f.params);
        let high_end = [1000, 869, 743, 653, 593, 551, 517, 491];
        let f = fit(&high_end).unwrap();
        assert!((f.params.alpha - 0.668).abs() < 5e-4 && (f.params.beta - 3.806).abs() < 5e-4, "{:?}", f.params);
        // Projections are consistent: S(t) = Π r(i).
        let p = f.params;
        let product: f64 = (1..=10).map(|t| retention_rate(&p, t)).product();
        assert!((survival(&p, 10) - product).abs() < 1e-12);
        assert!((1..=10).map(|t| churn_probability(&p, t)).sum::<f64>() + survival(&p, 10) - 1.0 < 1e-12);
    }

    #[test]
    fn refuses_data_without_information() {
        assert!(fit(&[100, 100, 100]).is_err());
        assert!(fit(&[100, 90, 95]).is_err());
        assert!(fit(&[5, 4, 3]).is_err());
    }
}
