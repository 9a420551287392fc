//! What the period KPIs and the cohort table need from an order log, small enough to keep with
//! a snapshot: from it the KPIs of any period and the monthly cohorts up to any day come out
//! exactly as [`crate::kpi::kpis`] and [`crate::cohort::cohorts`] compute them from the log,
//! without reading the log again (a shop with ten million orders opens its dashboard in
//! milliseconds instead of seconds).
//!
//! The one count that does not add up day by day is "customers who bought in [a, b]". It is kept
//! as visits: every (customer, purchase day) counted by (day, the customer's previous purchase
//! day). A customer bought in [a, b] exactly when one of their purchase days in [a, b] has its
//! previous purchase day before a — their first purchase on or after a — so the count is the
//! visits with a ≤ day ≤ b and previous < a. Visits number at most one per customer and day but
//! in practice far fewer distinct (day, previous day) pairs.
//!
//! Counts add up over disjoint groups of customers: activities of groups (acquisition sources)
//! are [`merge`]d into the whole shop's.

use std::collections::BTreeMap;

use crate::AnalyticsError;
use crate::cohort::{Cohort, CohortTable, Granularity, period_of};
use crate::kpi::KpiCounts;
use crate::log::TransactionLog;
use crate::summary::group_by_customer;

/// The previous purchase day of a customer's first purchase.
const NONE: i32 = i32::MIN;

/// One day's orders.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DayTotals {
    pub orders: u64,
    /// In minor units.
    pub revenue: i64,
    /// Customers whose second order falls on the day (the repeat rate's numerator).
    pub second_orders: u64,
}

/// The activity of a group of customers; see the module's documentation.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Activity {
    /// Decimal places of the amounts.
    pub scale: u32,
    /// (day, previous purchase day of the same customer or `NONE`) → customers, sorted.
    visits: Vec<((i32, i32), u64)>,
    /// Day → the day's orders, sorted.
    days: Vec<(i32, DayTotals)>,
    /// (month of the first purchase, day) → (customers of that cohort whose first purchase in
    /// the day's month is that day, the cohort's revenue that day), sorted.
    cohort_days: Vec<((i32, i32), (u64, i64))>,
}

type Map<K, V> = hashbrown::HashMap<K, V, foldhash::fast::RandomState>;

#[derive(Default)]
struct Builder {
    visits: Map<(i32, i32), u64>,
    days: Map<i32, DayTotals>,
    cohort_days: Map<(i32, i32), (u64, i64)>,
}

fn sorted<K: Ord + Copy, V>(m: Map<K, V>) -> Vec<(K, V)> {
    let mut v: Vec<(K, V)> = m.into_iter().collect();
    v.sort_unstable_by_key(|e| e.0);
    v
}

/// The activity of each group of customers: `group(c)` is customer c's group, below `groups`.
pub fn by_group(log: &TransactionLog, groups: usize, group: impl Fn(usize) -> usize) -> Vec<Activity> {
    let grouped = group_by_customer(log);
    let mut builders: Vec<Builder> = (0..groups).map(|_| Builder::default()).collect();
    for c in 0..log.customers() {
        let rows = grouped.rows(c);
        let Some(r0) = rows.clone().next() else { continue };
        let b = &mut builders[group(c)];
        let cohort = period_of(log.day[r0 as usize], Granularity::Month);
        let (mut previous, mut last_month) = (NONE, i32::MIN);
        for (i, r) in rows.enumerate() {
            let (day, amount) = (log.day[r as usize], log.amount[r as usize]);
            if day != previous {
                *b.visits.entry((day, previous)).or_default() += 1;
            }
            let totals = b.days.entry(day).or_default();
            totals.orders += 1;
            totals.revenue += amount;
            if i == 1 {
                totals.second_orders += 1;
            }
            let cell = b.cohort_days.entry((cohort, day)).or_default();
            if day != previous {
                let month = period_of(day, Granularity::Month);
                if month != last_month {
                    cell.0 += 1;
                    last_month = month;
                }
            }
            cell.1 += amount;
            previous = day;
        }
    }
    builders
        .into_iter()
        .map(|b| Activity {
            scale: log.scale,
            visits: sorted(b.visits),
            days: sorted(b.days),
            cohort_days: sorted(b.cohort_days),
        })
        .collect()
}

/// The activity of all of `parts` together (disjoint groups of customers).
pub fn merge<'a>(parts: impl IntoIterator<Item = &'a Activity>) -> Activity {
    let mut visits: BTreeMap<(i32, i32), u64> = BTreeMap::new();
    let mut days: BTreeMap<i32, DayTotals> = BTreeMap::new();
    let mut cohort_days: BTreeMap<(i32, i32), (u64, i64)> = BTreeMap::new();
    let mut scale = 0;
    for p in parts {
        scale = p.scale;
        for &(k, n) in &p.visits {
            *visits.entry(k).or_default() += n;
        }
        for &(d, t) in &p.days {
            let e = days.entry(d).or_default();
            e.orders += t.orders;
            e.revenue += t.revenue;
            e.second_orders += t.second_orders;
        }
        for &(k, (n, v)) in &p.cohort_days {
            let e = cohort_days.entry(k).or_default();
            e.0 += n;
            e.1 += v;
        }
    }
    Activity {
        scale,
        visits: visits.into_iter().collect(),
        days: days.into_iter().collect(),
        cohort_days: cohort_days.into_iter().collect(),
    }
}

impl Activity {
    /// The last day with an order (None when there is none).
    pub fn last_day(&self) -> Option<i32> {
        self.days.last().map(|d| d.0)
    }

    /// Customers who bought at least once in [a, b].
    pub fn customers_between(&self, a: i32, b: i32) -> u64 {
        let lo = self.visits.partition_point(|v| v.0.0 < a);
        let hi = self.visits.partition_point(|v| v.0.0 <= b);
        self.visits[lo..hi].iter().filter(|v| v.0.1 < a).map(|v| v.1).sum()
    }

    /// Customers whose first purchase falls in [a, b].
    fn first_purchases(&self, a: i32, b: i32) -> u64 {
        let lo = self.visits.partition_point(|v| v.0.0 < a);
        let hi = self.visits.partition_point(|v| v.0.0 <= b);
        self.visits[lo..hi].iter().filter(|v| v.0.1 == NONE).map(|v| v.1).sum()
    }

    fn days_between(&self, a: i32, b: i32) -> &[(i32, DayTotals)] {
        let lo = self.days.partition_point(|d| d.0 < a);
        let hi = self.days.partition_point(|d| d.0 <= b);
        &self.days[lo..hi]
    }

    /// The counts of the KPIs of [start, end] with an activity window of `window` days, the
    /// same as [`crate::kpi::kpi_counts`] on the log this was built from.
    pub fn kpi_counts(&self, start: i32, end: i32, window: i32) -> KpiCounts {
        let period = self.days_between(start, end);
        KpiCounts {
            start_customers: self.customers_between(start - window, start - 1),
            end_customers: self.customers_between(end - window + 1, end),
            new_customers: self.first_purchases(start, end),
            repeaters: self.days_between(i32::MIN, end).iter().map(|d| d.1.second_orders).sum(),
            buyers: self.first_purchases(i32::MIN, end),
            orders: period.iter().map(|d| d.1.orders).sum(),
            ordering_customers: self.customers_between(start, end),
            revenue: period.iter().map(|d| d.1.revenue).sum(),
        }
    }

    /// The monthly cohorts up to `end`, the same as [`crate::cohort::cohorts`] on the log.
    pub fn monthly_cohorts(&self, end: i32) -> Vec<Cohort> {
        let last = period_of(end, Granularity::Month);
        let mut table = CohortTable::new();
        for &((cohort, day), (customers, revenue)) in &self.cohort_days {
            if day > end {
                continue;
            }
            let width = (last - cohort + 1) as usize;
            let entry = table.entry(cohort).or_insert_with(|| (0, vec![0; width], vec![0; width]));
            let k = (period_of(day, Granularity::Month) - cohort) as usize;
            if k == 0 {
                entry.0 += customers;
            }
            entry.1[k] += customers;
            entry.2[k] += revenue;
        }
        crate::cohort::finish(table, Granularity::Month, self.scale)
    }

    /// The activity as bytes to store: sorted keys as differences, all numbers as varints.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(16 + 4 * self.visits.len() + 12 * self.days.len());
        out.extend_from_slice(MAGIC);
        let put = |out: &mut Vec<u8>, v: u64| put_varint(out, v);
        put(&mut out, u64::from(self.scale));
        put(&mut out, self.visits.len() as u64);
        let mut last = 0i32;
        for &((day, previous), n) in &self.visits {
            put(&mut out, zigzag(i64::from(day) - i64::from(last)));
            // 0: a first purchase; otherwise the days since the previous purchase (≥ 1).
            put(&mut out, if previous == NONE { 0 } else { (i64::from(day) - i64::from(previous)) as u64 });
            put(&mut out, n);
            last = day;
        }
        put(&mut out, self.days.len() as u64);
        last = 0;
        for &(day, t) in &self.days {
            put(&mut out, zigzag(i64::from(day) - i64::from(last)));
            put(&mut out, t.orders);
            put(&mut out, zigzag(t.revenue));
            put(&mut out, t.second_orders);
            last = day;
        }
        put(&mut out, self.cohort_days.len() as u64);
        let (mut last_cohort, mut last_day) = (0i32, 0i32);
        for &((cohort, day), (n, revenue)) in &self.cohort_days {
            put(&mut out, zigzag(i64::from(cohort) - i64::from(last_cohort)));
            put(&mut out, zigzag(i64::from(day) - i64::from(last_day)));
            put(&mut out, n);
            put(&mut out, zigzag(revenue));
            (last_cohort, last_day) = (cohort, day);
        }
        out
    }

    /// Reads what [`Activity::to_bytes`] wrote.
    pub fn from_bytes(bytes: &[u8]) -> Result<Activity, AnalyticsError> {
        let corrupt = |what: &str| AnalyticsError::Corrupt(format!("activity: {what}"));
        let mut r = Reader { bytes: bytes.strip_prefix(MAGIC).ok_or_else(|| corrupt("unknown format"))? };
        let day = |v: i64| i32::try_from(v).map_err(|_| corrupt("day out of range"));
        let scale = u32::try_from(r.varint()?).map_err(|_| corrupt("scale"))?;
        let n = r.len()?;
        let mut visits = Vec::with_capacity(n);
        let mut last = 0i64;
        for _ in 0..n {
            let d = last + unzigzag(r.varint()?);
            let gap = r.varint()?;
            let previous = if gap == 0 { NONE } else { day(d - gap as i64)? };
            visits.push(((day(d)?, previous), r.varint()?));
            last = d;
        }
        let n = r.len()?;
        let mut days = Vec::with_capacity(n);
        last = 0;
        for _ in 0..n {
            let d = last + unzigzag(r.varint()?);
            let (orders, revenue, second_orders) = (r.varint()?, unzigzag(r.varint()?), r.varint()?);
            days.push((day(d)?, DayTotals { orders, revenue, second_orders }));
            last = d;
        }
        let n = r.len()?;
        let mut cohort_days = Vec::with_capacity(n);
        let (mut last_cohort, mut last_day) = (0i64, 0i64);
        for _ in 0..n {
            let c = last_cohort + unzigzag(r.varint()?);
            let d = last_day + unzigzag(r.varint()?);
            let (customers, revenue) = (r.varint()?, unzigzag(r.varint()?));
            cohort_days.push(((day(c)?, day(d)?), (customers, revenue)));
            (last_cohort, last_day) = (c, d);
        }
        if !r.bytes.is_empty() {
            return Err(corrupt("trailing bytes"));
        }
        let in_order = visits.windows(2).all(|w| w[0].0 < w[1].0)
            && days.windows(2).all(|w| w[0].0 < w[1].0)
            && cohort_days.windows(2).all(|w| w[0].0 < w[1].0);
        if !in_order {
            return Err(corrupt("keys out of order"));
        }
        Ok(Activity { scale, visits, days, cohort_days })
    }
}

const MAGIC: &[u8] = b"JACT1";

fn zigzag(v: i64) -> u64 {
    ((v << 1) ^ (v >> 63)) as u64
}

fn unzigzag(v: u64) -> i64 {
    ((v >> 1) as i64) ^ -((v & 1) as i64)
}

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

struct Reader<'a> {
    bytes: &'a [u8],
}

impl Reader<'_> {
    fn varint(&mut self) -> Result<u64, AnalyticsError> {
        let mut v = 0u64;
        for shift in (0..64).step_by(7) {
            let (&b, rest) =
                self.bytes.split_first().ok_or_else(|| AnalyticsError::Corrupt("activity: cut short".into()))?;
            self.bytes = rest;
            v |= u64::from(b & 0x7f) << shift;
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(AnalyticsError::Corrupt("activity: number too long".into()))
    }

    /// A count of entries, no more than the bytes left could hold.
    fn len(&mut self) -> Result<usize, AnalyticsError> {
        let n = self.varint()?;
        usize::try_from(n)
            .ok()
            .filter(|&n| n <= self.bytes.len())
            .ok_or_else(|| AnalyticsError::Corrupt("activity: count larger than the data".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cohort::cohorts;
    use crate::kpi::kpi_counts;
    use crate::log::days_from_civil;

    /// A deterministic log: customers with 0–12 orders over two years, several on one day,
    /// amounts from 1 to 99,999, two groups.
    fn log() -> TransactionLog {
        let mut x: u64 = 0x2545_F491_4F6C_DD1D;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let start = days_from_civil(2024, 1, 1);
        let mut rows = Vec::new();
        for c in 0..400 {
            let first = start + (next() % 700) as i32;
            let mut day = first;
            for _ in 0..next() % 12 {
                rows.push((format!("c{c}"), day, (next() % 99_999 + 1) as i64));
                day += (next() % 60) as i32;
            }
        }
        rows.sort_by_key(|r| r.1);
        TransactionLog::from_rows(rows.iter().map(|(c, d, a)| (c.as_str(), *d, *a)), 0)
    }

    #[test]
    fn kpis_and_cohorts_match_the_log_for_every_period_tried() {
        let log = log();
        let parts = by_group(&log, 2, |c| c % 2);
        let all = merge(&parts);
        let day0 = days_from_civil(2024, 1, 1);
        for (start, len, window) in [(0, 90, 365), (100, 30, 365), (400, 365, 90), (-50, 10, 365), (750, 200, 30)] {
            let (s, e) = (day0 + start, day0 + start + len - 1);
            assert_eq!(all.kpi_counts(s, e, window), kpi_counts(&log, s, e, window), "period {start}+{len}");
            let mut summed = KpiCounts::default();
            for p in &parts {
                summed += p.kpi_counts(s, e, window);
            }
            assert_eq!(summed, kpi_counts(&log, s, e, window));
            let sub = log.subset(|c| c % 2 == 1);
            assert_eq!(parts[1].kpi_counts(s, e, window), kpi_counts(&sub, s, e, window));
        }
        for end in [day0 + 31, day0 + 45, day0 + 400, day0 + 1000] {
            let from_log = cohorts(&log, end, Granularity::Month);
            let from_activity = all.monthly_cohorts(end);
            assert_eq!(from_log.len(), from_activity.len());
            for (a, b) in from_log.iter().zip(&from_activity) {
                assert_eq!((&a.label, a.customers, &a.active_share), (&b.label, b.customers, &b.active_share));
                assert_eq!(a.revenue, b.revenue);
            }
        }
        assert!(all.kpi_counts(day0, day0 + 700, 365).orders > 1000, "the log is not trivial");
    }

    #[test]
    fn bytes_read_back_the_same_and_damage_is_refused() {
        let all = merge(&by_group(&log(), 2, |c| c % 2));
        let bytes = all.to_bytes();
        assert_eq!(Activity::from_bytes(&bytes).unwrap(), all);
        assert!(matches!(Activity::from_bytes(&bytes[..bytes.len() - 3]), Err(AnalyticsError::Corrupt(_))));
        assert!(matches!(Activity::from_bytes(b"JACT2"), Err(AnalyticsError::Corrupt(_))));
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(matches!(Activity::from_bytes(&longer), Err(AnalyticsError::Corrupt(_))));
        let empty = Activity::default();
        assert_eq!(Activity::from_bytes(&empty.to_bytes()).unwrap(), empty);
        assert_eq!(empty.last_day(), None);
    }

    #[test]
    fn two_orders_on_one_day_are_one_visit_but_make_a_repeater() {
        let d = days_from_civil(2025, 3, 1);
        let log = TransactionLog::from_rows([("a", d, 100), ("a", d, 50), ("b", d + 40, 10)], 0);
        let a = merge(&by_group(&log, 1, |_| 0));
        let k = a.kpi_counts(d, d + 60, 365);
        assert_eq!((k.ordering_customers, k.orders, k.repeaters, k.buyers, k.revenue), (2, 3, 1, 2, 160));
        assert_eq!(a.customers_between(d + 1, d + 39), 0);
        assert_eq!(k, kpi_counts(&log, d, d + 60, 365));
    }
}
