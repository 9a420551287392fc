//! Churn risk per customer: how likely the customer has already left (1 − P(alive) from a
//! fitted model) combined with how far past their own purchase rhythm they are, as a score
//! 0–100 with a band, and the date by which the next purchase is expected.
//!
//! Definitions (also in `joren analyze clv --help`):
//! - **interval**: the customer's typical days between purchases. Their own mean gap
//!   (t_x / x in days) shrunk towards the shop's median gap among repeat buyers, weighted by
//!   how many gaps they have: `(x × own + k × shop) / (x + k)` with k = `prior_weight` (1 by
//!   default). A one-time buyer gets the shop's median.
//! - **overdue ratio**: days since the last purchase ÷ interval (1.0 = exactly due now).
//! - **score** = 100 × (w × (1 − P(alive)) + (1 − w) × clamp((overdue − 1) / 2, 0, 1)), with
//!   w = `alive_weight` (0.5): the rhythm part is 0 while the customer is within their interval
//!   and reaches 1 at three intervals since the last purchase.
//! - **band**: 低 below `medium_from` (30), 中 below `high_from` (60), 高 from there.
//! - **expected next purchase by** = last purchase day + interval.

use serde::Serialize;

use crate::AnalyticsError;
use crate::summary::CustomerSummary;

/// Tunable parts of the score.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Settings {
    pub alive_weight: f64,
    pub prior_weight: f64,
    pub medium_from: u8,
    pub high_from: u8,
}

impl Default for Settings {
    fn default() -> Self {
        Self { alive_weight: 0.5, prior_weight: 1.0, medium_from: 30, high_from: 60 }
    }
}

/// Risk band.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Band {
    Low,
    Medium,
    High,
}

impl Band {
    pub fn name_ja(self) -> &'static str {
        match self {
            Self::Low => "低",
            Self::Medium => "中",
            Self::High => "高",
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
        }
    }
}

/// The assessment of one customer.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ChurnRisk {
    pub score: u8,
    pub band: Band,
    pub interval_days: f64,
    pub overdue_ratio: f64,
    /// Day (days since 1970-01-01) by which the next purchase is expected.
    pub expected_next_day: i32,
}

/// The shop's median days between purchases among repeat buyers.
pub fn shop_interval_days(s: &CustomerSummary) -> Result<f64, AnalyticsError> {
    let mut gaps: Vec<f64> = (0..s.len())
        .filter(|&i| s.frequency[i] > 0)
        .map(|i| f64::from(s.last_day[i] - s.first_day[i]) / f64::from(s.frequency[i]))
        .collect();
    if gaps.is_empty() {
        return Err(AnalyticsError::NotEnoughData(
            "no customer has bought twice, so there is no purchase rhythm to compare with".into(),
        ));
    }
    gaps.sort_by(f64::total_cmp);
    let n = gaps.len();
    Ok(if n % 2 == 1 { gaps[n / 2] } else { (gaps[n / 2 - 1] + gaps[n / 2]) / 2.0 })
}

/// Assesses one customer of the summary given their P(alive).
pub fn assess(
    s: &CustomerSummary,
    i: usize,
    p_alive: f64,
    end_day: i32,
    shop_interval: f64,
    settings: &Settings,
) -> ChurnRisk {
    let x = f64::from(s.frequency[i]);
    let own_total = f64::from(s.last_day[i] - s.first_day[i]);
    let k = settings.prior_weight;
    // x × own mean gap = own total span.
    let interval = ((own_total + k * shop_interval) / (x + k)).max(1.0);
    let days_since = f64::from(end_day - s.last_day[i]);
    let overdue = days_since / interval;
    let rhythm = ((overdue - 1.0) / 2.0).clamp(0.0, 1.0);
    let w = settings.alive_weight;
    let p_gone = (1.0 - p_alive).clamp(0.0, 1.0);
    let score = (100.0 * (w * p_gone + (1.0 - w) * rhythm)).round().clamp(0.0, 100.0) as u8;
    let band = if score >= settings.high_from {
        Band::High
    } else if score >= settings.medium_from {
        Band::Medium
    } else {
        Band::Low
    };
    ChurnRisk {
        score,
        band,
        interval_days: interval,
        overdue_ratio: overdue,
        expected_next_day: s.last_day[i] + interval.round() as i32,
    }
}

/// Assesses every customer of the summary (`p_alive` in the same order).
pub fn assess_all(
    s: &CustomerSummary,
    p_alive: &[f64],
    end_day: i32,
    settings: &Settings,
) -> Result<Vec<ChurnRisk>, AnalyticsError> {
    let shop = shop_interval_days(s)?;
    Ok((0..s.len()).map(|i| assess(s, i, p_alive[i], end_day, shop, settings)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::summary::TimeUnit;

    fn summary() -> CustomerSummary {
        // a: bought on days 0, 30, 60 (x=2, gap 30); b: days 0 and 100 (gap 100);
        // c: once on day 50; d: days 0, 10, 20, 30, 40 (gap 10). End of observation: day 120.
        CustomerSummary {
            customer: vec![0, 1, 2, 3],
            frequency: vec![2, 1, 0, 4],
            recency: vec![60.0, 100.0, 0.0, 40.0],
            age: vec![120.0, 120.0, 70.0, 120.0],
            monetary_value: vec![0.0; 4],
            first_day: vec![0, 0, 50, 0],
            last_day: vec![60, 100, 50, 40],
            unit: TimeUnit::Day,
        }
    }

    #[test]
    fn shop_rhythm_is_the_median_gap_of_repeaters() {
        // Gaps 30, 100, 10 → median 30; the one-time buyer is left out.
        assert_eq!(shop_interval_days(&summary()).unwrap(), 30.0);
        let mut one_timers = summary();
        one_timers.frequency = vec![0; 4];
        assert!(matches!(shop_interval_days(&one_timers), Err(AnalyticsError::NotEnoughData(_))));
    }

    #[test]
    fn scores_worked_by_hand() {
        let s = summary();
        let st = Settings::default();
        let r = assess_all(&s, &[0.9, 0.8, 1.0, 0.2], 120, &st).unwrap();
        // a: interval (60 + 30)/3 = 30; 60 days since → overdue 2 → rhythm 0.5;
        //    score 100 × (0.5 × 0.1 + 0.5 × 0.5) = 30 → 中; next by day 60 + 30 = 90.
        assert_eq!((r[0].score, r[0].band, r[0].expected_next_day), (30, Band::Medium, 90));
        assert!((r[0].interval_days - 30.0).abs() < 1e-12 && (r[0].overdue_ratio - 2.0).abs() < 1e-12);
        // b: interval (100 + 30)/2 = 65; 20 days since → within rhythm; score 100 × 0.5 × 0.2 = 10.
        assert_eq!((r[1].score, r[1].band, r[1].expected_next_day), (10, Band::Low, 165));
        // c: one purchase → shop interval 30; 70 days since → overdue 7/3 → rhythm 2/3;
        //    P(alive) 1 → score 100 × 0.5 × 2/3 = 33.3 → 33.
        assert_eq!((r[2].score, r[2].band, r[2].expected_next_day), (33, Band::Medium, 80));
        // d: interval (40 + 30)/5 = 14; 80 days since → far past → rhythm 1;
        //    score 100 × (0.5 × 0.8 + 0.5) = 90 → 高.
        assert_eq!((r[3].score, r[3].band, r[3].expected_next_day), (90, Band::High, 54));
    }
}
