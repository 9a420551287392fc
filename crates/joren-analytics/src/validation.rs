//! Calibration/holdout validation: fit a model on the data up to a date, forecast the period
//! after it for every customer, and compare with what those customers actually did — in
//! aggregate, per customer (correlation), and by calibration frequency (the "conditional
//! expectations" table of Fader, Hardie & Lee 2005, figure 4).

use serde::Serialize;

use crate::TransactionLog;
use crate::clv::PurchaseModel;
use crate::summary::{CustomerSummary, group_by_customer};

/// Forecasts every customer of the calibration summary `s` (up to `cal_end`) over
/// (`cal_end`, `holdout_end`] with `model`, fitted on `s`, and compares with what they did.
pub fn check_forecast(
    log: &TransactionLog,
    s: &CustomerSummary,
    model: &PurchaseModel,
    cal_end: i32,
    holdout_end: i32,
    max_frequency: u32,
) -> Validation {
    let horizon = f64::from(holdout_end - cal_end) / s.unit.days();
    let predicted: Vec<f64> = (0..s.len())
        .map(|i| model.expected_purchases(f64::from(s.frequency[i]), s.recency[i], s.age[i], horizon))
        .collect();
    let actual = holdout_transactions(log, s, cal_end, holdout_end);
    compare(&predicted, &actual, &s.frequency, max_frequency)
}

/// Repeat transactions each summarised customer made in the holdout (`cal_end`, `holdout_end`]:
/// distinct purchase days, as in the calibration summary (same-day purchases are one).
pub fn holdout_transactions(log: &TransactionLog, s: &CustomerSummary, cal_end: i32, holdout_end: i32) -> Vec<u32> {
    let groups = group_by_customer(log);
    s.customer
        .iter()
        .map(|&c| {
            let mut last = None;
            let mut n = 0;
            for r in groups.rows(c as usize) {
                let d = log.day[r as usize];
                if d > cal_end && d <= holdout_end && last != Some(d) {
                    n += 1;
                    last = Some(d);
                }
            }
            n
        })
        .collect()
}

/// One row of the table by calibration frequency.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FrequencyRow {
    /// Repeat transactions in calibration; the last row holds this many or more.
    pub frequency: u32,
    pub or_more: bool,
    pub customers: usize,
    /// Mean holdout transactions per customer: actual and forecast.
    pub actual_mean: f64,
    pub predicted_mean: f64,
}

/// How a forecast compared with the holdout.
#[derive(Debug, Clone, Serialize)]
pub struct Validation {
    pub customers: usize,
    pub actual_total: u64,
    pub predicted_total: f64,
    /// (predicted − actual) / actual × 100: negative is an under-forecast.
    pub error_percent: f64,
    /// Pearson correlation of forecast and actual per customer; `None` when either is constant.
    pub correlation: Option<f64>,
    /// Mean absolute error per customer.
    pub mean_absolute_error: f64,
    pub by_frequency: Vec<FrequencyRow>,
}

/// Compares per-customer forecasts with holdout actuals; `frequency` is each customer's
/// calibration x and `max_frequency` the first bucket that collects "this many or more".
pub fn compare(predicted: &[f64], actual: &[u32], frequency: &[u32], max_frequency: u32) -> Validation {
    assert_eq!(predicted.len(), actual.len());
    assert_eq!(predicted.len(), frequency.len());
    let n = predicted.len();
    let actual_total: u64 = actual.iter().map(|&a| u64::from(a)).sum();
    let predicted_total: f64 = predicted.iter().sum();
    let mut buckets = vec![(0usize, 0.0f64, 0.0f64); max_frequency as usize + 1];
    for i in 0..n {
        let b = &mut buckets[frequency[i].min(max_frequency) as usize];
        b.0 += 1;
        b.1 += f64::from(actual[i]);
        b.2 += predicted[i];
    }
    let by_frequency = buckets
        .into_iter()
        .enumerate()
        .filter(|(_, b)| b.0 > 0)
        .map(|(k, (count, a, p))| FrequencyRow {
            frequency: k as u32,
            or_more: k as u32 == max_frequency,
            customers: count,
            actual_mean: a / count as f64,
            predicted_mean: p / count as f64,
        })
        .collect();
    let mean_absolute_error = if n == 0 {
        0.0
    } else {
        predicted.iter().zip(actual).map(|(p, &a)| (p - f64::from(a)).abs()).sum::<f64>() / n as f64
    };
    Validation {
        customers: n,
        actual_total,
        predicted_total,
        error_percent: if actual_total > 0 {
            (predicted_total - actual_total as f64) / actual_total as f64 * 100.0
        } else {
            f64::NAN
        },
        correlation: pearson(predicted, actual),
        mean_absolute_error,
        by_frequency,
    }
}

fn pearson(p: &[f64], a: &[u32]) -> Option<f64> {
    let n = p.len() as f64;
    if p.len() < 2 {
        return None;
    }
    let mp = p.iter().sum::<f64>() / n;
    let ma = a.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
    let (mut sxy, mut sxx, mut syy) = (0.0, 0.0, 0.0);
    for (x, &y) in p.iter().zip(a) {
        let (dx, dy) = (x - mp, f64::from(y) - ma);
        sxy += dx * dy;
        sxx += dx * dx;
        syy += dy * dy;
    }
    (sxx > 0.0 && syy > 0.0).then(|| sxy / (sxx * syy).sqrt())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::days_from_civil;
    use crate::summary::{TimeUnit, summarize};

    #[test]
    fn holdout_counts_distinct_days_after_calibration_only() {
        let d = |m, day| days_from_civil(2024, m, day);
        let log = TransactionLog::from_rows(
            [
                ("a", d(1, 1), 100),
                ("a", d(2, 1), 100),
                ("a", d(2, 1), 100),
                ("a", d(3, 5), 100),
                ("a", d(3, 5), 100),
                ("a", d(3, 9), 100),
                ("a", d(9, 9), 100),
                ("b", d(1, 20), 100),
                ("c", d(3, 2), 100),
            ],
            2,
        );
        let s = summarize(&log, d(2, 29), TimeUnit::Day);
        assert_eq!(s.customer, [0, 1], "c starts in the holdout and is not forecast");
        assert_eq!(holdout_transactions(&log, &s, d(2, 29), d(6, 30)), [2, 0], "3/5 twice is one; 9/9 is after");
    }

    #[test]
    fn comparison_worked_by_hand() {
        let v = compare(&[0.5, 1.5, 2.0, 4.0], &[0, 2, 1, 5], &[0, 1, 1, 9], 2);
        assert_eq!(v.actual_total, 8);
        assert!((v.predicted_total - 8.0).abs() < 1e-12);
        assert!(v.error_percent.abs() < 1e-12);
        assert!((v.mean_absolute_error - (0.5 + 0.5 + 1.0 + 1.0) / 4.0).abs() < 1e-12);
        assert_eq!(v.by_frequency.len(), 3);
        assert_eq!(
            v.by_frequency[1],
            FrequencyRow { frequency: 1, or_more: false, customers: 2, actual_mean: 1.5, predicted_mean: 1.75 }
        );
        assert!(v.by_frequency[2].or_more && v.by_frequency[2].customers == 1);
        // Pearson of (0.5,1.5,2,4) and (0,2,1,5), both means 2: sxy 9, sxx 6.5, syy 14.
        assert!((v.correlation.unwrap() - 9.0 / (6.5f64 * 14.0).sqrt()).abs() < 1e-12);
        assert_eq!(compare(&[1.0, 1.0], &[0, 3], &[0, 0], 3).correlation, None, "a constant forecast has none");
    }
}
