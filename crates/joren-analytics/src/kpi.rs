//! Retention KPIs for a period [start, end] (days since 1970-01-01, both inclusive). Every row
//! of the log is one order (refunds and cancellations are excluded by the caller).
//!
//! Definitions:
//! - A customer is **active** at a day d when they purchased within the `window` days up to d
//!   (in [d − window + 1, d]); default window 365 days.
//! - **S** = customers active at the start, counting purchases before the period only
//!   ([start − window, start − 1]); **E** = customers active at the end ([end − window + 1,
//!   end]); **N** = customers whose first purchase ever falls in the period.
//! - **retention rate** = (E − N) / S × 100; **churn rate** = 100 − retention.
//! - **repeat rate** = customers with ≥ 2 orders up to the end / customers with ≥ 1 × 100.
//! - **purchase frequency** = orders in the period / customers who ordered in the period.
//! - **average order value** = revenue in the period / orders in the period.
//! - **simple LTV** = AOV × orders per year (frequency scaled to 365 days) × average lifetime
//!   in years, the lifetime being 1 / (1 − yearly retention), yearly retention =
//!   (retention / 100)^(365 / period days). Absent when nobody churned or S = 0.

use serde::Serialize;

use crate::log::TransactionLog;
use crate::summary::group_by_customer;

/// The KPIs of one period. Rates in percent; money in major units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Kpis {
    pub start_customers: u64,
    pub end_customers: u64,
    pub new_customers: u64,
    pub retention_rate: Option<f64>,
    pub churn_rate: Option<f64>,
    pub repeat_rate: Option<f64>,
    pub orders: u64,
    pub ordering_customers: u64,
    pub revenue: f64,
    pub purchase_frequency: Option<f64>,
    pub average_order_value: Option<f64>,
    pub simple_ltv: Option<f64>,
}

/// The counts the KPIs are made of. They add up over disjoint groups of customers (the KPIs
/// of a whole shop are the counts of its acquisition sources added, then finished).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KpiCounts {
    /// S, E and N of the definitions above.
    pub start_customers: u64,
    pub end_customers: u64,
    pub new_customers: u64,
    /// Customers with at least two orders up to the end, and with at least one.
    pub repeaters: u64,
    pub buyers: u64,
    /// Orders in the period, the customers who placed them, their revenue in minor units.
    pub orders: u64,
    pub ordering_customers: u64,
    pub revenue: i64,
}

impl std::ops::AddAssign for KpiCounts {
    fn add_assign(&mut self, o: Self) {
        self.start_customers += o.start_customers;
        self.end_customers += o.end_customers;
        self.new_customers += o.new_customers;
        self.repeaters += o.repeaters;
        self.buyers += o.buyers;
        self.orders += o.orders;
        self.ordering_customers += o.ordering_customers;
        self.revenue += o.revenue;
    }
}

/// Computes the KPIs of [start, end] with an activity window of `window` days.
pub fn kpis(log: &TransactionLog, start: i32, end: i32, window: i32) -> Kpis {
    finish(kpi_counts(log, start, end, window), start, end, log.scale)
}

/// The counts of [start, end] with an activity window of `window` days, read from the log.
pub fn kpi_counts(log: &TransactionLog, start: i32, end: i32, window: i32) -> KpiCounts {
    let groups = group_by_customer(log);
    let mut k = KpiCounts::default();
    for c in 0..log.customers() {
        let days = groups.rows(c).map(|r| log.day[r as usize]);
        let Some(first_day) = days.clone().min() else { continue };
        if first_day > end {
            continue;
        }
        let up_to_end = days.clone().filter(|&d| d <= end).count();
        k.buyers += 1;
        if up_to_end >= 2 {
            k.repeaters += 1;
        }
        if days.clone().any(|d| d >= start - window && d < start) {
            k.start_customers += 1;
        }
        if days.clone().any(|d| d > end - window && d <= end) {
            k.end_customers += 1;
        }
        if (start..=end).contains(&first_day) {
            k.new_customers += 1;
        }
        let mut in_period = 0;
        for r in groups.rows(c) {
            let d = log.day[r as usize];
            if (start..=end).contains(&d) {
                in_period += 1;
                k.revenue += log.amount[r as usize];
            }
        }
        if in_period > 0 {
            k.ordering_customers += 1;
            k.orders += in_period;
        }
    }
    k
}

/// The KPIs of [start, end] from their counts; `scale` is the decimal places of the amounts.
pub fn finish(k: KpiCounts, start: i32, end: i32, scale: u32) -> Kpis {
    let scale = 10f64.powi(scale as i32);
    let (s, e, n) = (k.start_customers, k.end_customers, k.new_customers);
    let retention = (s > 0).then(|| (e as f64 - n as f64) / s as f64 * 100.0);
    let frequency = (k.ordering_customers > 0).then(|| k.orders as f64 / k.ordering_customers as f64);
    let aov = (k.orders > 0).then(|| k.revenue as f64 / scale / k.orders as f64);
    let period_days = f64::from(end - start + 1);
    let simple_ltv = match (retention, frequency, aov) {
        (Some(r), Some(f), Some(v)) if (0.0..100.0).contains(&r) => {
            let yearly_retention = (r / 100.0).powf(365.0 / period_days);
            Some(v * f * (365.0 / period_days) / (1.0 - yearly_retention))
        }
        _ => None,
    };
    Kpis {
        start_customers: s,
        end_customers: e,
        new_customers: n,
        retention_rate: retention,
        churn_rate: retention.map(|r| 100.0 - r),
        repeat_rate: (k.buyers > 0).then(|| k.repeaters as f64 / k.buyers as f64 * 100.0),
        orders: k.orders,
        ordering_customers: k.ordering_customers,
        revenue: k.revenue as f64 / scale,
        purchase_frequency: frequency,
        average_order_value: aov,
        simple_ltv,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::days_from_civil;

    #[test]
    fn kpis_on_a_log_worked_out_by_hand() {
        let d = |m, day| days_from_civil(2025, m, day);
        // Period: 2025-04-01 .. 2025-06-30, window 90 days.
        // a: bought in March and May → active at start and end.
        // b: bought in February only → active at start (within 90 days), not at end: churned.
        // c: first purchase in May → new, active at end.
        // d: bought in 2024 → neither.
        // e: bought in March and July → active at start; not at the end (July is after it).
        let log = TransactionLog::from_rows(
            [
                ("a", d(3, 10), 1000),
                ("a", d(5, 5), 3000),
                ("b", d(2, 1), 500),
                ("c", d(5, 20), 2000),
                ("c", d(6, 1), 2000),
                ("d", days_from_civil(2024, 6, 1), 100),
                ("e", d(3, 1), 700),
                ("e", d(7, 15), 900),
            ],
            2,
        );
        let k = kpis(&log, d(4, 1), d(6, 30), 90);
        assert_eq!((k.start_customers, k.end_customers, k.new_customers), (3, 2, 1));
        // (E − N) / S = (2 − 1) / 3
        assert!((k.retention_rate.unwrap() - 100.0 / 3.0).abs() < 1e-9);
        assert!((k.churn_rate.unwrap() - 200.0 / 3.0).abs() < 1e-9);
        // Up to the end: a, c, e... e has one order by then; a and c have two: 2 of 5 buyers.
        assert!((k.repeat_rate.unwrap() - 40.0).abs() < 1e-9);
        assert_eq!((k.orders, k.ordering_customers), (3, 2));
        assert!((k.revenue - 70.0).abs() < 1e-9);
        assert!((k.purchase_frequency.unwrap() - 1.5).abs() < 1e-9);
        assert!((k.average_order_value.unwrap() - 70.0 / 3.0).abs() < 1e-9);
        let days = 91.0;
        let yearly = (1.0f64 / 3.0).powf(365.0 / days);
        let ltv = 70.0 / 3.0 * 1.5 * (365.0 / days) / (1.0 - yearly);
        assert!((k.simple_ltv.unwrap() - ltv).abs() < 1e-9);
    }

    #[test]
    fn empty_periods_give_no_rates_instead_of_nan() {
        let log = TransactionLog::from_rows([("a", 100, 1)], 2);
        let k = kpis(&log, 0, 10, 365);
        assert_eq!(k.retention_rate, None);
        assert_eq!(k.average_order_value, None);
        assert_eq!(k.simple_ltv, None);
    }
}
