//! Maximum-likelihood fitting on log-parameters with honest failure reports: L-BFGS (from
//! `argmin`) where the model supplies its gradient, Nelder–Mead restarted from its own optimum
//! otherwise; both finished by Newton steps that also give the standard errors.

use std::sync::Mutex;

use argmin::core::{CostFunction, Error, Executor, Gradient, State};
use argmin::solver::linesearch::MoreThuenteLineSearch;
use argmin::solver::neldermead::NelderMead;
use argmin::solver::quasinewton::LBFGS;

use crate::AnalyticsError;

struct Negated<'a, F: Fn(&[f64]) -> f64> {
    log_likelihood: &'a F,
}

impl<F: Fn(&[f64]) -> f64> CostFunction for Negated<'_, F> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, log_params: &Vec<f64>) -> Result<f64, Error> {
        let params: Vec<f64> = log_params.iter().map(|p| p.exp()).collect();
        let ll = (self.log_likelihood)(&params);
        Ok(if ll.is_finite() { -ll } else { f64::MAX })
    }
}

/// The optimum found: parameters (natural scale), log-likelihood, iterations used, and the
/// standard errors from the observed information (inverse of the negated Hessian).
#[derive(Debug, Clone)]
pub struct Optimum {
    pub params: Vec<f64>,
    pub log_likelihood: f64,
    pub iterations: u64,
    pub standard_errors: Option<Vec<f64>>,
}

/// Maximises `log_likelihood` over positive parameters starting at `start`.
pub fn maximize<F: Fn(&[f64]) -> f64>(log_likelihood: &F, start: &[f64]) -> Result<Optimum, AnalyticsError> {
    let mut point: Vec<f64> = start.iter().map(|p| p.ln()).collect();
    // The simplex only has to find the basin: it stops when its spread is a tiny fraction of
    // the log-likelihood's size; Newton steps below take the result to full precision.
    let scale = (log_likelihood(start).abs()).max(1.0);
    let mut best = f64::MAX;
    let mut iterations = 0;
    for round in 0..3 {
        let step = if round == 0 { 0.5 } else { 0.05 };
        let mut simplex = vec![point.clone()];
        for i in 0..point.len() {
            let mut v = point.clone();
            v[i] += step;
            simplex.push(v);
        }
        let solver = NelderMead::new(simplex)
            .with_sd_tolerance(scale * 1e-11)
            .map_err(|e| AnalyticsError::NotConverged(e.to_string()))?;
        let result = Executor::new(Negated { log_likelihood }, solver)
            .configure(|s| s.max_iters(3_000))
            .run()
            .map_err(|e| AnalyticsError::NotConverged(e.to_string()))?;
        let state = result.state();
        iterations += state.get_iter();
        let cost = state.get_best_cost();
        let Some(p) = state.get_best_param() else {
            return Err(AnalyticsError::NotConverged("no parameters found".into()));
        };
        point = p.clone();
        let improved = best - cost;
        best = best.min(cost);
        if round > 0 && improved.abs() < scale * 1e-10 {
            break;
        }
    }
    if !best.is_finite() || best == f64::MAX {
        return Err(AnalyticsError::NotConverged("the likelihood is not finite anywhere it looked".into()));
    }
    let start: Vec<f64> = point.iter().map(|p| p.exp()).collect();
    if start.iter().any(|p| !(1e-8..1e8).contains(p)) {
        return Err(AnalyticsError::NotConverged(format!("a parameter ran to a bound: {start:?}")));
    }
    let (params, log_likelihood, hessian) =
        newton_polish(log_likelihood, &|x: &[f64]| derivatives(log_likelihood, x), start);
    if !log_likelihood.is_finite() {
        return Err(AnalyticsError::NotConverged("the likelihood is not finite at the optimum".into()));
    }
    let standard_errors = identified(&params, &hessian)?;
    Ok(Optimum { params, log_likelihood, iterations, standard_errors: Some(standard_errors) })
}

/// Standard errors at a proper maximum, or why the data do not pin the parameters down: the
/// likelihood is flat in some direction (the negated Hessian is not positive definite).
fn identified(params: &[f64], hessian: &[Vec<f64>]) -> Result<Vec<f64>, AnalyticsError> {
    let negated: Vec<Vec<f64>> = hessian.iter().map(|row| row.iter().map(|h| -h).collect()).collect();
    let se: Option<Vec<f64>> = invert(&negated).map(|inv| (0..params.len()).map(|i| inv[i][i].sqrt()).collect());
    match se {
        Some(se) if se.iter().all(|v| v.is_finite() && *v > 0.0) => Ok(se),
        _ => Err(AnalyticsError::NotConverged(
            "the likelihood is flat around the optimum (no proper maximum): the data cannot identify the model".into(),
        )),
    }
}

/// Refuses a fit whose shape parameters ran off to extremes: e.g. a Beta(a, b) with a and b in
/// the tens of thousands is a single fixed probability, so the heterogeneity the model
/// describes is not there to estimate. Only shape parameters are checked: scale parameters
/// follow the data's units (days, yen) and may be large.
pub fn check_shapes(model: &str, shapes: &[(&str, f64)]) -> Result<(), AnalyticsError> {
    match shapes.iter().find(|(_, v)| *v > 1e4) {
        Some((name, v)) => Err(AnalyticsError::NotConverged(format!(
            "{model}: {name} ran to {v:.3e}; the data show no heterogeneity for the model to estimate"
        ))),
        None => Ok(()),
    }
}

/// A log-likelihood with its gradient, seen by the minimiser as −ln L over log-parameters.
/// The line search asks for the cost and then the gradient at the same point: the last
/// evaluation is kept so each point costs one pass over the data.
struct NegatedSmooth<'a, F: Fn(&[f64]) -> (f64, Vec<f64>)> {
    value_and_gradient: &'a F,
    /// |ln L| at the start: the minimiser sees ln L / scale, so its steps and tolerances do
    /// not depend on how many customers there are.
    scale: f64,
    last: Mutex<Option<Evaluated>>,
}

/// A point in log-parameters with its cost and gradient.
type Evaluated = (Vec<f64>, f64, Vec<f64>);

impl<F: Fn(&[f64]) -> (f64, Vec<f64>)> NegatedSmooth<'_, F> {
    fn eval(&self, log_params: &[f64]) -> Result<(f64, Vec<f64>), Error> {
        let mut last = self.last.lock().expect("not poisoned");
        if let Some((p, c, g)) = last.as_ref()
            && p.as_slice() == log_params
        {
            return Ok((*c, g.clone()));
        }
        let params: Vec<f64> = log_params.iter().map(|p| p.exp()).collect();
        let (ll, g) = (self.value_and_gradient)(&params);
        if !ll.is_finite() || g.iter().any(|v| !v.is_finite()) {
            return Err(Error::msg("the likelihood is not finite here"));
        }
        // d(−ln L)/d(ln p) = −p × d ln L / dp
        let grad: Vec<f64> = g.iter().zip(&params).map(|(g, p)| -g * p / self.scale).collect();
        let cost = -ll / self.scale;
        *last = Some((log_params.to_vec(), cost, grad.clone()));
        Ok((cost, grad))
    }
}

impl<F: Fn(&[f64]) -> (f64, Vec<f64>)> CostFunction for NegatedSmooth<'_, F> {
    type Param = Vec<f64>;
    type Output = f64;

    fn cost(&self, log_params: &Vec<f64>) -> Result<f64, Error> {
        Ok(self.eval(log_params)?.0)
    }
}

impl<F: Fn(&[f64]) -> (f64, Vec<f64>)> Gradient for NegatedSmooth<'_, F> {
    type Param = Vec<f64>;
    type Gradient = Vec<f64>;

    fn gradient(&self, log_params: &Vec<f64>) -> Result<Vec<f64>, Error> {
        Ok(self.eval(log_params)?.1)
    }
}

/// Distinct histories from which a fit first runs on a sample of them.
/// (Small in unit tests, so the CDNOW sample goes the warm way there.)
pub(crate) const WARM_FROM: usize = if cfg!(test) { 300 } else { 200_000 };
/// The sample's size: about this many histories.
pub(crate) const WARM_SAMPLE: usize = if cfg!(test) { 200 } else { 25_000 };

/// The starting point for a fit of many histories: where the same likelihood over a sample
/// of them (every k-th, `fit_sample(k)`) peaks, when there are more than [`WARM_FROM`]; else,
/// or if the sample cannot be fitted, `start`. The optimum over all of them is the same
/// either way — the search from near it just takes fewer passes over the data.
pub(crate) fn warm_start(
    histories: usize,
    start: &[f64],
    fit_sample: impl FnOnce(usize) -> Result<Optimum, AnalyticsError>,
) -> Vec<f64> {
    if histories <= WARM_FROM {
        return start.to_vec();
    }
    match fit_sample(histories / WARM_SAMPLE) {
        Ok(o) if o.params.iter().all(|p| p.is_finite() && *p > 0.0) => o.params,
        _ => start.to_vec(),
    }
}

/// Maximises a log-likelihood that comes with its gradient (`value_and_gradient` returns
/// ln L and ∂ln L/∂p at natural-scale parameters): L-BFGS to the optimum, Newton steps with
/// a Hessian from differences of the exact gradient, standard errors from that Hessian.
/// Falls back to the derivative-free search if L-BFGS cannot make progress.
pub fn maximize_smooth<F: Fn(&[f64]) -> (f64, Vec<f64>)>(
    value_and_gradient: &F,
    start: &[f64],
) -> Result<Optimum, AnalyticsError> {
    let value = |p: &[f64]| value_and_gradient(p).0;
    let scale = value(start).abs();
    if !scale.is_finite() || scale == 0.0 {
        return maximize(&value, start);
    }
    let problem = NegatedSmooth { value_and_gradient, scale, last: Mutex::new(None) };
    let init: Vec<f64> = start.iter().map(|p| p.ln()).collect();
    let solver = LBFGS::new(MoreThuenteLineSearch::new(), 7)
        .with_tolerance_grad(1e-9)
        .and_then(|s| s.with_tolerance_cost(1e-15))
        .map_err(|e| AnalyticsError::NotConverged(e.to_string()))?;
    let run = Executor::new(problem, solver).configure(|s| s.param(init).max_iters(500)).run();
    let Ok(result) = run else { return maximize(&value, start) };
    let state = result.state();
    let iterations = state.get_iter();
    let Some(best) = state.get_best_param().cloned() else { return maximize(&value, start) };
    let point: Vec<f64> = best.iter().map(|p| p.exp()).collect();
    // Near a maximum the relative gradient in log-parameters is tiny; if the quasi-Newton
    // search stopped elsewhere (a failed line search), use the derivative-free search.
    let (_, g) = value_and_gradient(&point);
    if g.iter().zip(&point).any(|(g, p)| !(g * p / scale).is_finite() || (g * p / scale).abs() > 1e-5) {
        return maximize(&value, start);
    }
    if point.iter().any(|p| !(1e-8..1e8).contains(p)) {
        return Err(AnalyticsError::NotConverged(format!("a parameter ran to a bound: {point:?}")));
    }
    let gradient = |p: &[f64]| value_and_gradient(p).1;
    let derivatives = |x: &[f64]| (gradient(x), hessian_from_gradient(&gradient, x));
    let (params, log_likelihood, hessian) = newton_polish(&value, &derivatives, point);
    if !log_likelihood.is_finite() {
        return Err(AnalyticsError::NotConverged("the likelihood is not finite at the optimum".into()));
    }
    let standard_errors = identified(&params, &hessian)?;
    Ok(Optimum { params, log_likelihood, iterations, standard_errors: Some(standard_errors) })
}

/// Hessian by central differences of an exact gradient (symmetrised).
fn hessian_from_gradient<G: Fn(&[f64]) -> Vec<f64>>(gradient: &G, x: &[f64]) -> Vec<Vec<f64>> {
    let n = x.len();
    let mut hess = vec![vec![0.0; n]; n];
    for j in 0..n {
        let h = 1e-5 * x[j].abs().max(1e-6);
        let mut up = x.to_vec();
        let mut down = x.to_vec();
        up[j] += h;
        down[j] -= h;
        let (gu, gd) = (gradient(&up), gradient(&down));
        for i in 0..n {
            hess[i][j] = (gu[i] - gd[i]) / (2.0 * h);
        }
    }
    // Symmetrise: the two differences of one mixed derivative agree up to rounding.
    (0..n).map(|i| (0..n).map(|j| (hess[i][j] + hess[j][i]) / 2.0).collect()).collect()
}

/// Newton steps from a point near the maximum (quadratic convergence), each halved until the
/// likelihood does not drop; stops when the Newton step is negligible and returns the point,
/// its log-likelihood and the Hessian there. `derivatives` gives the gradient and Hessian:
/// by differences of the likelihood, or of an exact gradient.
fn newton_polish<V: Fn(&[f64]) -> f64, D: Fn(&[f64]) -> (Vec<f64>, Vec<Vec<f64>>)>(
    value: &V,
    derivatives: &D,
    mut x: Vec<f64>,
) -> (Vec<f64>, f64, Vec<Vec<f64>>) {
    let mut fx = value(&x);
    for _ in 0..50 {
        let (g, hess) = derivatives(&x);
        let Some(inv) = invert(&hess) else { return (x, fx, hess) };
        let step: Vec<f64> = (0..x.len()).map(|i| -(0..x.len()).map(|j| inv[i][j] * g[j]).sum::<f64>()).collect();
        if x.iter().zip(&step).all(|(v, s)| (s / v).abs() < 1e-10) {
            return (x, fx, hess);
        }
        let mut t = 1.0;
        let mut moved = false;
        while t > 1e-6 {
            let y: Vec<f64> = x.iter().zip(&step).map(|(v, s)| v + t * s).collect();
            if y.iter().all(|v| *v > 0.0) {
                let fy = value(&y);
                if fy.is_finite() && fy >= fx {
                    x = y;
                    fx = fy;
                    moved = true;
                    break;
                }
            }
            t *= 0.5;
        }
        if !moved {
            return (x, fx, hess);
        }
    }
    let hess = derivatives(&x).1;
    (x, fx, hess)
}

/// Gradient and Hessian by central differences with relative steps.
fn derivatives<F: Fn(&[f64]) -> f64>(f: &F, x: &[f64]) -> (Vec<f64>, Vec<Vec<f64>>) {
    let n = x.len();
    let h: Vec<f64> = x.iter().map(|v| 1e-4 * v.abs().max(1e-6)).collect();
    let at = |d: &[(usize, f64)]| {
        let mut y = x.to_vec();
        for &(i, s) in d {
            y[i] += s * h[i];
        }
        f(&y)
    };
    let f0 = f(x);
    let mut g = vec![0.0; n];
    let mut hess = vec![vec![0.0; n]; n];
    for i in 0..n {
        let (fp, fm) = (at(&[(i, 1.0)]), at(&[(i, -1.0)]));
        g[i] = (fp - fm) / (2.0 * h[i]);
        hess[i][i] = (fp - 2.0 * f0 + fm) / (h[i] * h[i]);
        for j in 0..i {
            let v = (at(&[(i, 1.0), (j, 1.0)]) - at(&[(i, 1.0), (j, -1.0)]) - at(&[(i, -1.0), (j, 1.0)])
                + at(&[(i, -1.0), (j, -1.0)]))
                / (4.0 * h[i] * h[j]);
            hess[i][j] = v;
            hess[j][i] = v;
        }
    }
    (g, hess)
}

/// Inverse of a small square matrix (Gauss-Jordan with partial pivoting).
fn invert(m: &[Vec<f64>]) -> Option<Vec<Vec<f64>>> {
    let n = m.len();
    let mut a: Vec<Vec<f64>> = m.to_vec();
    let mut inv: Vec<Vec<f64>> = (0..n).map(|i| (0..n).map(|j| f64::from(u8::from(i == j))).collect()).collect();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-300 || !a[pivot][col].is_finite() {
            return None;
        }
        a.swap(col, pivot);
        inv.swap(col, pivot);
        let d = a[col][col];
        for j in 0..n {
            a[col][j] /= d;
            inv[col][j] /= d;
        }
        for i in 0..n {
            if i != col {
                let factor = a[i][col];
                for j in 0..n {
                    a[i][j] -= factor * a[col][j];
                    inv[i][j] -= factor * inv[col][j];
                }
            }
        }
    }
    Some(inv)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn smooth_search_finds_the_same_maximum_from_the_gradient() {
        let c = [2.0, 0.5, 7.0];
        let s = [0.1, 0.2, 0.5];
        let fg = |v: &[f64]| {
            let ll = -(0..3).map(|i| (v[i] - c[i]).powi(2) / (2.0 * s[i] * s[i])).sum::<f64>();
            (ll, (0..3).map(|i| -(v[i] - c[i]) / (s[i] * s[i])).collect::<Vec<f64>>())
        };
        let o = maximize_smooth(&fg, &[1.0, 1.0, 1.0]).unwrap();
        for i in 0..3 {
            assert!((o.params[i] - c[i]).abs() < 1e-8, "{:?}", o.params);
            assert!((o.standard_errors.as_ref().unwrap()[i] - s[i]).abs() < 1e-6);
        }
    }

    #[test]
    fn finds_the_maximum_of_a_known_function_with_standard_errors() {
        // ln L = −Σ (θ_i − c_i)² / (2σ_i²): maximum at c, standard errors σ.
        let c = [2.0, 0.5, 7.0];
        let s = [0.1, 0.2, 0.5];
        let f = |v: &[f64]| -(0..3).map(|i| (v[i] - c[i]).powi(2) / (2.0 * s[i] * s[i])).sum::<f64>();
        let o = maximize(&f, &[1.0, 1.0, 1.0]).unwrap();
        for i in 0..3 {
            assert!((o.params[i] - c[i]).abs() < 1e-8, "{:?}", o.params);
            assert!((o.standard_errors.as_ref().unwrap()[i] - s[i]).abs() < 1e-4);
        }
    }
}
