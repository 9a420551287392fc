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
pub fn forecast(
    s: &CustomerSummary,
    model: &PurchaseModel,
    gg: &gamma_gamma::Params,
    h: Horizon,
) -> Vec<CustomerForecast> {
    use rayon::prelude::*;
    let unit_days = s.unit.days();
    (0..s.len())
        .into_par_iter()
        .with_min_len(4096)
        .map(|i| {
            let (x, t_x, t) = (f64::from(s.frequency[i]), s.recency[i], s.age[i]);
            let expected = |days: f64| model.expected_purchases(x, t_x, t, days / unit_days);
            let value = gamma_gamma::expected_average_value(gg, x, s.monetary_value[i]);
            let mut clv = 0.0;
            let mut previous = 0.0;
            for m in 1..=h.clv_months {
                let cumulative = expected(30.0 * f64::from(m));
                clv += (cumulative - previous) * value / (1.0 + h.monthly_discount).powi(m as i32);
                previous = cumulative;
            }
            CustomerForecast {
                p_alive: model.p_alive(x, t_x, t),
                expected_purchases: expected(h.purchases_days),
                expected_value: value,
                clv,
            }
        })
        .collect()
}
