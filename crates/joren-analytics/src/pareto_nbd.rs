//! The Pareto/NBD model (Schmittlein, Morrison & Colombo 1987; likelihood as in Fader & Hardie,
//! "A note on deriving the Pareto/NBD model", 2005): purchases at Poisson rate λ ~ Gamma(r, α)
//! while alive, an exponential lifetime with rate μ ~ Gamma(s, β).

use serde::Serialize;

use crate::AnalyticsError;
use crate::bgnbd::Compressed;
use crate::fit::maximize;
use crate::special::{hyp2f1, ln_gamma};
use crate::summary::CustomerSummary;

/// Fitted parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Params {
    pub r: f64,
    pub alpha: f64,
    pub s: f64,
    pub beta: f64,
}

/// The customer's likelihood in parts, all in logs and scaled by a common `ln_scale`:
/// `alive` = the term for "still alive at T", `gone` = the term for "died in (t_x, T]".
/// L = exp(ln_scale) × Γ(r+x)α^r β^s / Γ(r) × (alive + gone).
struct Parts {
    ln_scale: f64,
    alive: f64,
    gone: f64,
}

fn parts(p: &Params, x: f64, t_x: f64, t: f64) -> Option<Parts> {
    let Params { r, alpha, s, beta } = *p;
    let rsx = r + s + x;
    // A0 uses the larger of α and β so the 2F1 argument lies in [0, 1).
    let (big, small_b, hb) = if alpha >= beta { (alpha, beta, s + 1.0) } else { (beta, alpha, r + x) };
    let z = |u: f64| (big - small_b) / (big + u);
    let l1 = -(r + x) * (alpha + t).ln() - s * (beta + t).ln();
    let l2 = hyp2f1(rsx, hb, rsx + 1.0, z(t_x))?.ln() - rsx * (big + t_x).ln();
    let l3 = hyp2f1(rsx, hb, rsx + 1.0, z(t))?.ln() - rsx * (big + t).ln();
    let m = l1.max(l2).max(l3);
    let alive = (l1 - m).exp();
    let gone = s / rsx * ((l2 - m).exp() - (l3 - m).exp());
    (alive + gone > 0.0 && (alive + gone).is_finite()).then_some(Parts { ln_scale: m, alive, gone: gone.max(0.0) })
}

/// ln L of one customer, or `None` where the hypergeometric series fails.
pub fn ln_likelihood_one(p: &Params, x: f64, t_x: f64, t: f64) -> Option<f64> {
    let Params { r, alpha, s, beta } = *p;
    let q = parts(p, x, t_x, t)?;
    Some(ln_gamma(r + x) - ln_gamma(r) + r * alpha.ln() + s * beta.ln() + q.ln_scale + (q.alive + q.gone).ln())
}

/// P(alive at T | x, t_x, T): the share of the likelihood that has the customer still alive
/// (Fader & Hardie 2005, eq. 11, evaluated without overflow).
pub fn p_alive(p: &Params, x: f64, t_x: f64, t: f64) -> Option<f64> {
    let q = parts(p, x, t_x, t)?;
    Some(q.alive / (q.alive + q.gone))
}

/// E[Y(horizon) | x, t_x, T]: expected purchases in the next `horizon` time units
/// (Schmittlein, Morrison & Colombo 1987; Fader & Hardie 2005, eq. 12):
/// (r+x)(β+T) / ((α+T)(s−1)) × [1 − ((β+T)/(β+T+t))^(s−1)] × P(alive), with the s → 1 limit
/// (r+x)(β+T)/(α+T) × ln((β+T+t)/(β+T)) × P(alive).
pub fn conditional_expected_purchases(p: &Params, x: f64, t_x: f64, t: f64, horizon: f64) -> Option<f64> {
    Some(expected_purchases_if_alive(p, x, t, horizon) * p_alive(p, x, t_x, t)?)
}

/// The expected purchases in the next `horizon` units of a customer known to be alive now
/// (E[Y] = this × P(alive)); depends on x and T only.
pub fn expected_purchases_if_alive(p: &Params, x: f64, t: f64, horizon: f64) -> f64 {
    let Params { r, alpha, s, beta } = *p;
    let ratio = (beta + t) / (beta + t + horizon);
    let rate = (r + x) * (beta + t) / (alpha + t);
    let lifetime_factor = if (s - 1.0).abs() < 1e-9 {
        -ratio.ln()
    } else {
        // (1 − ratio^(s−1)) / (s − 1), computed stably as −expm1((s−1) ln ratio) / (s − 1).
        -((s - 1.0) * ratio.ln()).exp_m1() / (s - 1.0)
    };
    rate * lifetime_factor
}

/// The full log-likelihood (sum over customers); −∞ where it cannot be evaluated.
pub fn log_likelihood(p: &Params, d: &Compressed) -> f64 {
    let mut total = 0.0;
    for i in 0..d.x.len() {
        match ln_likelihood_one(p, d.x[i], d.t_x[i], d.t[i]) {
            Some(v) => total += d.weight[i] * v,
            None => return f64::NEG_INFINITY,
        }
    }
    total
}

/// A fitted model.
#[derive(Debug, Clone, Serialize)]
pub struct Fit {
    pub params: Params,
    pub standard_errors: Option<Vec<f64>>,
    pub log_likelihood: f64,
    pub customers: usize,
    pub repeaters: usize,
    pub iterations: u64,
}

/// Fits by maximum likelihood, refusing data that cannot support the model.
pub fn fit(s: &CustomerSummary) -> Result<Fit, AnalyticsError> {
    let repeaters = crate::bgnbd::require_repeat_data(s, "Pareto/NBD")?;
    let d = Compressed::from_summary(s);
    let mean_t = d.mean_age();
    let ll = |v: &[f64]| log_likelihood(&Params { r: v[0], alpha: v[1], s: v[2], beta: v[3] }, &d);
    let start = mean_t.max(1e-3);
    let opt = maximize(&ll, &[1.0, start, 1.0, start])?;
    Ok(Fit {
        params: Params { r: opt.params[0], alpha: opt.params[1], s: opt.params[2], beta: opt.params[3] },
        standard_errors: opt.standard_errors,
        log_likelihood: opt.log_likelihood,
        customers: s.len(),
        repeaters,
        iterations: opt.iterations,
    })
}
