//! The Gamma-Gamma spend model (Fader, Hardie & Lee 2005, "RFM and CLV"; Fader & Hardie 2013):
//! transaction values of a customer ~ Gamma(p, ν), ν ~ Gamma(q, γ) across customers; fitted on
//! repeat buyers' mean repeat value.

use serde::Serialize;

use crate::AnalyticsError;
use crate::fit::maximize_smooth;
use crate::special::{digamma, ln_gamma};
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

/// Repeat buyers' (x, mean value) prepared for the likelihood: terms of x alone once per
/// distinct x, ln m once per customer.
struct Spend {
    xs: Vec<f64>,
    rows: Vec<(usize, f64, f64)>,
}

impl Spend {
    fn new(data: &[(f64, f64)]) -> Self {
        let mut xs: Vec<f64> = data.iter().map(|d| d.0).collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        let rows = data
            .iter()
            .map(|&(x, m)| (xs.binary_search_by(|v| v.total_cmp(&x)).expect("present"), x * m, m.ln()))
            .collect();
        Self { xs, rows }
    }

    /// ln L and its gradient in (p, q, γ):
    /// ℓ = lnΓ(px+q) − lnΓ(px) − lnΓ(q) + q ln γ + (px−1) ln m + px ln x − (px+q) ln(γ+xm);
    /// ∂p = x (ψ(px+q) − ψ(px) + ln m + ln x − ln(γ+xm)); ∂q = ψ(px+q) − ψ(q) + ln γ − ln(γ+xm);
    /// ∂γ = q/γ − (px+q)/(γ+xm).
    fn log_likelihood_and_gradient(&self, pr: &Params) -> (f64, Vec<f64>) {
        let Params { p, q, gamma } = *pr;
        let (lg_q, dg_q, ln_g) = (ln_gamma(q), digamma(q), gamma.ln());
        let per_x: Vec<[f64; 5]> = self
            .xs
            .iter()
            .map(|&x| {
                let px = p * x;
                let dg = digamma(px + q);
                [
                    ln_gamma(px + q) - ln_gamma(px) - lg_q + q * ln_g + px * x.ln(),
                    px,
                    x,
                    dg - digamma(px) + x.ln(),
                    dg - dg_q + ln_g,
                ]
            })
            .collect();
        use rayon::prelude::*;
        const CHUNK: usize = 16_384;
        let partial: Vec<[f64; 4]> = self
            .rows
            .par_chunks(CHUNK)
            .map(|chunk| {
                let mut acc = [0.0; 4];
                for &(xi, xm, ln_m) in chunk {
                    let [c, px, x, dp, dq] = per_x[xi];
                    let ln_gxm = (gamma + xm).ln();
                    acc[0] += c + (px - 1.0) * ln_m - (px + q) * ln_gxm;
                    acc[1] += x * (dp + ln_m - ln_gxm);
                    acc[2] += dq - ln_gxm;
                    acc[3] += q / gamma - (px + q) / (gamma + xm);
                }
                acc
            })
            .collect();
        let mut t = [0.0; 4];
        for part in partial {
            for k in 0..4 {
                t[k] += part[k];
            }
        }
        (t[0], vec![t[1], t[2], t[3]])
    }
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
    let value_and_gradient =
        |spend: &Spend, v: &[f64]| spend.log_likelihood_and_gradient(&Params { p: v[0], q: v[1], gamma: v[2] });
    let start = crate::fit::warm_start(data.len(), &[1.0, 1.0, 1.0], |step| {
        let sample = Spend::new(&data.iter().step_by(step).copied().collect::<Vec<_>>());
        maximize_smooth(&|v: &[f64]| value_and_gradient(&sample, v), &[1.0, 1.0, 1.0])
    });
    let spend = Spend::new(&data);
    let opt = maximize_smooth(&|v: &[f64]| value_and_gradient(&spend, v), &start)?;
    let params = Params { p: opt.params[0], q: opt.params[1], gamma: opt.params[2] };
    crate::fit::check_shapes("Gamma-Gamma", &[("p", params.p), ("q", params.q)])?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fit_started_from_a_samples_optimum_reaches_the_same_optimum() {
        let s = crate::bgnbd::tests::cdnow_summary();
        let data: Vec<(f64, f64)> = (0..s.len())
            .filter(|&i| s.frequency[i] > 0 && s.monetary_value[i] > 0.0)
            .map(|i| (f64::from(s.frequency[i]), s.monetary_value[i]))
            .collect();
        assert!(data.len() > crate::fit::WARM_FROM);
        let vg = |sp: &Spend, v: &[f64]| sp.log_likelihood_and_gradient(&Params { p: v[0], q: v[1], gamma: v[2] });
        let start = [1.0, 1.0, 1.0];
        let warm = crate::fit::warm_start(data.len(), &start, |step| {
            let sample = Spend::new(&data.iter().step_by(step).copied().collect::<Vec<_>>());
            maximize_smooth(&|v: &[f64]| vg(&sample, v), &start)
        });
        assert_ne!(warm, start, "the sample was fitted");
        let spend = Spend::new(&data);
        let cold = maximize_smooth(&|v: &[f64]| vg(&spend, v), &start).unwrap();
        let fitted = fit(&s).unwrap();
        // The same optimum up to where the likelihood is flat (a few parts in 10⁷ of a
        // parameter change it by less than a part in 10¹²).
        let got = [fitted.params.p, fitted.params.q, fitted.params.gamma];
        for (g, c) in got.iter().zip(&cold.params) {
            assert!((g - c).abs() <= 2e-6 * c.abs(), "warm {got:?} against cold {:?}", cold.params);
        }
    }

    #[test]
    fn gradient_matches_differences_and_the_per_customer_likelihood() {
        let data = [(1.0, 20.0), (3.0, 35.5), (3.0, 12.0), (12.0, 48.25)];
        let spend = Spend::new(&data);
        let pr = Params { p: 6.25, q: 3.74, gamma: 15.44 };
        let (ll, g) = spend.log_likelihood_and_gradient(&pr);
        let direct: f64 = data.iter().map(|&(x, m)| ln_likelihood_one(&pr, x, m)).sum();
        assert!((ll - direct).abs() < 1e-10 * direct.abs());
        let v = [pr.p, pr.q, pr.gamma];
        for k in 0..3 {
            let h = 1e-6 * v[k];
            let at = |s: f64| {
                let mut w = v;
                w[k] += s * h;
                spend.log_likelihood_and_gradient(&Params { p: w[0], q: w[1], gamma: w[2] }).0
            };
            let numeric = (at(1.0) - at(-1.0)) / (2.0 * h);
            assert!((g[k] - numeric).abs() < 1e-5 * numeric.abs().max(1.0), "∂{k}: {} vs {numeric}", g[k]);
        }
    }
}
