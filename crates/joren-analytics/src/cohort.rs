//! Cohort tables: customers grouped by the month (or week) of their first purchase; for each
//! cohort and period since, the share still purchasing, the revenue, and the cumulative revenue
//! per customer of the cohort.

use serde::Serialize;

use crate::log::{TransactionLog, civil_from_days};
use crate::summary::group_by_customer;

/// Month or week cohorts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Granularity {
    Month,
    Week,
}

/// Period number of a day: months since 1970-01, or weeks since the Monday 1969-12-29.
pub fn period_of(day: i32, g: Granularity) -> i32 {
    match g {
        Granularity::Month => {
            let (y, m, _) = civil_from_days(day);
            (y - 1970) * 12 + m as i32 - 1
        }
        Granularity::Week => (day + 3).div_euclid(7),
    }
}

/// One cohort's row.
#[derive(Debug, Clone, Serialize)]
pub struct Cohort {
    /// Period number of the cohort (see [`period_of`]); `label` is `YYYY-MM` or the week's Monday.
    pub period: i32,
    pub label: String,
    pub customers: u64,
    /// Index k = periods since the first purchase (0 = the first period).
    pub active_share: Vec<f64>,
    pub revenue: Vec<f64>,
    pub cumulative_revenue_per_customer: Vec<f64>,
}

/// Builds the cohort table over all transactions up to `end` (inclusive).
pub fn cohorts(log: &TransactionLog, end: i32, g: Granularity) -> Vec<Cohort> {
    let groups = group_by_customer(log);
    let last_period = period_of(end, g);
    let mut table = CohortTable::new();
    for c in 0..log.customers() {
        let rows: Vec<u32> = groups.rows(c).filter(|&r| log.day[r as usize] <= end).collect();
        let Some(&r0) = rows.first() else { continue };
        let cohort = period_of(log.day[r0 as usize], g);
        let width = (last_period - cohort + 1) as usize;
        let entry = table.entry(cohort).or_insert_with(|| (0, vec![0; width], vec![0; width]));
        entry.0 += 1;
        let mut last_k = usize::MAX;
        for &r in &rows {
            let k = (period_of(log.day[r as usize], g) - cohort) as usize;
            entry.2[k] += log.amount[r as usize];
            if k != last_k {
                entry.1[k] += 1;
                last_k = k;
            }
        }
    }
    finish(table, g, log.scale)
}

/// Cohort → (customers, customers active k periods after their first, revenue k periods after).
pub(crate) type CohortTable = std::collections::BTreeMap<i32, (u64, Vec<u64>, Vec<i64>)>;

/// The cohort rows of a table; `scale` is the decimal places of the amounts.
pub(crate) fn finish(table: CohortTable, g: Granularity, scale: u32) -> Vec<Cohort> {
    let scale = 10f64.powi(scale as i32);
    table
        .into_iter()
        .map(|(period, (customers, active, revenue))| {
            let n = customers as f64;
            let mut cumulative = 0.0;
            Cohort {
                period,
                label: match g {
                    Granularity::Month => {
                        format!("{:04}-{:02}", 1970 + period.div_euclid(12), period.rem_euclid(12) + 1)
                    }
                    Granularity::Week => {
                        let (y, m, d) = civil_from_days(period * 7 - 3);
                        format!("{y:04}-{m:02}-{d:02}")
                    }
                },
                customers,
                active_share: active.iter().map(|&a| a as f64 / n).collect(),
                revenue: revenue.iter().map(|&v| v as f64 / scale).collect(),
                cumulative_revenue_per_customer: revenue
                    .iter()
                    .map(|&v| {
                        cumulative += v as f64 / scale;
                        cumulative / n
                    })
                    .collect(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::days_from_civil;

    #[test]
    fn monthly_cohorts_worked_out_by_hand() {
        let d = |m, day| days_from_civil(2025, m, day);
        let log = TransactionLog::from_rows(
            [
                ("a", d(1, 5), 1000),
                ("a", d(1, 20), 500),
                ("a", d(3, 2), 2000),
                ("b", d(1, 31), 300),
                ("c", d(2, 1), 700),
                ("c", d(3, 1), 100),
                ("c", d(5, 1), 999),
            ],
            2,
        );
        let t = cohorts(&log, d(3, 31), Granularity::Month);
        assert_eq!(t.len(), 2);
        let jan = &t[0];
        assert_eq!((jan.label.as_str(), jan.customers), ("2025-01", 2));
        assert_eq!(jan.active_share, [1.0, 0.0, 0.5], "a and b in January, nobody in February, a in March");
        assert_eq!(jan.revenue, [18.0, 0.0, 20.0]);
        assert_eq!(jan.cumulative_revenue_per_customer, [9.0, 9.0, 19.0]);
        let feb = &t[1];
        assert_eq!((feb.label.as_str(), feb.customers), ("2025-02", 1));
        assert_eq!(feb.active_share, [1.0, 1.0], "May is after the end");
        assert_eq!(feb.revenue, [7.0, 1.0]);
    }

    #[test]
    fn weeks_start_on_monday() {
        // 2025-11-24 is a Monday; the Sunday before belongs to the previous week.
        let monday = days_from_civil(2025, 11, 24);
        assert_eq!(period_of(monday, Granularity::Week), period_of(monday + 6, Granularity::Week));
        assert_eq!(period_of(monday - 1, Granularity::Week) + 1, period_of(monday, Granularity::Week));
        let log = TransactionLog::from_rows([("a", monday + 2, 100)], 2);
        assert_eq!(cohorts(&log, monday + 10, Granularity::Week)[0].label, "2025-11-24");
    }
}
