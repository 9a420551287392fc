//! Per-customer forecasts from fitted BG/NBD and Gamma-Gamma models: P(alive), expected
//! purchases over a horizon, expected order value and customer-lifetime value over a horizon
//! with monthly discounting.

use serde::Serialize;

use crate::summary::CustomerSummary;
use crate::{bgnbd, gamma_gamma, pareto_nbd};

/// The fitted purchase-and-survival model the forecast uses.
#[derive(Debug, Clone, Copy)]
pub enum PurchaseModel {
    BgNbd(bgnbd::Params),
    ParetoNbd(pareto_nbd::Params),
}

impl PurchaseModel {
    /// P(alive | x, t_x, T); NaN where the model cannot be evaluated.
    pub fn p_alive(&self, x: f64, t_x: f64, t: f64) -> f64 {
        match self {
            Self::BgNbd(p) => bgnbd::p_alive(p, x, t_x, t),
            Self::ParetoNbd(p) => pareto_nbd::p_alive(p, x, t_x, t).unwrap_or(f64::NAN),
        }
    }

    /// E[Y(horizon) | x, t_x, T] in the summary's time unit; NaN where it cannot be evaluated.
    pub fn expected_purchases(&self, x: f64, t_x: f64, t: f64, horizon: f64) -> f64 {
        match self {
            Self::BgNbd(p) => bgnbd::conditional_expected_purchases(p, x, t_x, t, horizon),
            Self::ParetoNbd(p) => pareto_nbd::conditional_expected_purchases(p, x, t_x, t, horizon),
        }
        .unwrap_or(f64::NAN)
    }

    /// Expected purchases in `horizon` of a customer alive now (E[Y] = this × P(alive)); a
    /// function of x and T only.
    pub fn expected_purchases_if_alive(&self, x: f64, t: f64, horizon: f64) -> f64 {
        match self {
            Self::BgNbd(p) => bgnbd::expected_purchases_if_alive(p, x, t, horizon).unwrap_or(f64::NAN),
            Self::ParetoNbd(p) => pareto_nbd::expected_purchases_if_alive(p, x, t, horizon),
        }
    }
}

/// What to forecast.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Horizon {
    /// Days ahead for "expected purchases" (e.g. 90).
    pub purchases_days: f64,
    /// Months of value in the CLV (e.g. 12), each month = 30 days.
    pub clv_months: u32,
    /// Discount rate per month (e.g. 0.01).
    pub monthly_discount: f64,
}

impl Default for Horizon {
    fn default() -> Self {
        Self { purchases_days: 90.0, clv_months: 12, monthly_discount: 0.01 }
    }
}

/// Forecasts of one customer.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CustomerForecast {
    pub p_alive: f64,
    pub expected_purchases: f64,
    pub expected_value: f64,
    pub clv: f64,
}

/// Forecasts for every customer of the summary (same order). The CLV is Σ over months of the
/// expected purchases in that month × expected value, discounted: the approach of Fader,
/// Hardie & Lee (2005) with the discrete monthly discount `lifetimes` uses.
///
/// Both models factor E[Y(h) | x, t_x, T] = P(alive | x, t_x, T) × g(h | x, T): the
/// hypergeometric part g depends only on x and T, which far fewer customers than a million
/// have distinct. It is computed once per (x, T) for every horizon, and each customer costs
/// one P(alive).
pub fn forecast(
    s: &CustomerSummary,
    model: &PurchaseModel,
    gg: &gamma_gamma::Params,
    h: Horizon,
) -> Vec<CustomerForecast> {
    use rayon::prelude::*;
    let unit_days = s.unit.days();
    let mut index: std::collections::HashMap<(u32, u64), u32, foldhash::fast::RandomState> = Default::default();
    let mut keys: Vec<(u32, f64)> = Vec::new();
    let group: Vec<u32> = (0..s.len())
        .map(|i| {
            *index.entry((s.frequency[i], s.age[i].to_bits())).or_insert_with(|| {
                keys.push((s.frequency[i], s.age[i]));
                keys.len() as u32 - 1
            })
        })
        .collect();
    // Per (x, T): g for the purchases horizon, and Σ_m (g(m) − g(m−1)) / (1 + d)^m.
    let per_key: Vec<(f64, f64)> = keys
        .par_iter()
        .with_min_len(256)
        .map(|&(x, t)| {
            let x = f64::from(x);
            let g = |days: f64| model.expected_purchases_if_alive(x, t, days / unit_days);
            let mut discounted = 0.0;
            let mut previous = 0.0;
            for m in 1..=h.clv_months {
                let cumulative = g(30.0 * f64::from(m));
                discounted += (cumulative - previous) / (1.0 + h.monthly_discount).powi(m as i32);
                previous = cumulative;
            }
            (g(h.purchases_days), discounted)
        })
        .collect();
    (0..s.len())
        .into_par_iter()
        .with_min_len(4096)
        .map(|i| {
            let (x, t_x, t) = (f64::from(s.frequency[i]), s.recency[i], s.age[i]);
            let p_alive = model.p_alive(x, t_x, t);
            let (purchases, discounted) = per_key[group[i] as usize];
            let value = gamma_gamma::expected_average_value(gg, x, s.monetary_value[i]);
            CustomerForecast {
                p_alive,
                expected_purchases: purchases * p_alive,
                expected_value: value,
                clv: discounted * p_alive * value,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::TimeUnit;

    #[test]
    fn shared_factors_give_the_direct_per_customer_forecast() {
        let s = CustomerSummary {
            customer: vec![0, 1, 2, 3, 4],
            frequency: vec![0, 2, 2, 7, 1],
            recency: vec![0.0, 30.43, 12.0, 35.0, 2.0],
            age: vec![38.86, 38.86, 38.86, 38.86, 20.0],
            monetary_value: vec![0.0, 20.0, 31.5, 12.0, 8.0],
            first_day: vec![0; 5],
            last_day: vec![0; 5],
            unit: TimeUnit::Week,
        };
        let gg = gamma_gamma::Params { p: 6.25, q: 3.74, gamma: 15.44 };
        let h = Horizon { purchases_days: 90.0, clv_months: 12, monthly_discount: 0.01 };
        for model in [
            PurchaseModel::BgNbd(bgnbd::Params { r: 0.2426, alpha: 4.4135, a: 0.7929, b: 2.4258 }),
            PurchaseModel::ParetoNbd(pareto_nbd::Params { r: 0.5533, alpha: 10.5776, s: 0.6062, beta: 11.6679 }),
        ] {
            let f = forecast(&s, &model, &gg, h);
            for (i, fi) in f.iter().enumerate() {
                let (x, t_x, t) = (f64::from(s.frequency[i]), s.recency[i], s.age[i]);
                let e = |days: f64| model.expected_purchases(x, t_x, t, days / 7.0);
                let value = gamma_gamma::expected_average_value(&gg, x, s.monetary_value[i]);
                let clv: f64 =
                    (1..=12).map(|m| (e(30.0 * m as f64) - e(30.0 * (m - 1) as f64)) * value / 1.01f64.powi(m)).sum();
                let close = |a: f64, b: f64| (a - b).abs() <= 1e-12 * b.abs().max(1e-3);
                assert!(
                    close(fi.expected_purchases, e(90.0)),
                    "{model:?} {i}: {} vs {}",
                    fi.expected_purchases,
                    e(90.0)
                );
                assert!(close(fi.clv, clv), "{model:?} {i}: {} vs {clv}", fi.clv);
                assert!(close(fi.p_alive, model.p_alive(x, t_x, t)));
            }
        }
    }
}
