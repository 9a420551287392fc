//! Per-customer repeat-purchase summary (x, t_x, T, mean repeat value), as the papers and
//! Python's `lifetimes` define it: purchases of one customer on the same day are one
//! transaction (amounts summed); x = transactions after the first; t_x = time from the first
//! to the last; T = time from the first to the end of observation; the mean value excludes the
//! first transaction.

use crate::log::TransactionLog;

/// The time unit of t_x and T.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TimeUnit {
    #[default]
    Day,
    Week,
}

impl TimeUnit {
    pub fn days(self) -> f64 {
        match self {
            Self::Day => 1.0,
            Self::Week => 7.0,
        }
    }
}

/// Columns of the summary, one entry per customer whose first purchase is on or before the
/// end of observation.
#[derive(Debug, Clone, Default)]
pub struct CustomerSummary {
    /// Index into the log's customers.
    pub customer: Vec<u32>,
    /// x: repeat transactions (distinct purchase days − 1).
    pub frequency: Vec<u32>,
    /// t_x in the time unit.
    pub recency: Vec<f64>,
    /// T in the time unit.
    pub age: Vec<f64>,
    /// Mean value of the repeat transactions (major units), 0 without repeats.
    pub monetary_value: Vec<f64>,
    /// First and last purchase day (days since 1970-01-01).
    pub first_day: Vec<i32>,
    pub last_day: Vec<i32>,
    pub unit: TimeUnit,
}

impl CustomerSummary {
    pub fn len(&self) -> usize {
        self.customer.len()
    }

    pub fn is_empty(&self) -> bool {
        self.customer.is_empty()
    }
}

/// Rows of the log grouped by customer, each group in day order: see [`group_by_customer`].
pub(crate) struct Groups {
    /// Customer c's rows are `start[c]..start[c + 1]` of `order`, or of the log itself when it
    /// is already in that order.
    start: Vec<u32>,
    order: Option<Vec<u32>>,
}

/// One customer's rows (indices into the log), in day order.
#[derive(Clone)]
pub(crate) enum GroupRows<'a> {
    InPlace(std::ops::Range<u32>),
    Sorted(std::iter::Copied<std::slice::Iter<'a, u32>>),
}

impl Iterator for GroupRows<'_> {
    type Item = u32;

    #[inline]
    fn next(&mut self) -> Option<u32> {
        match self {
            Self::InPlace(r) => r.next(),
            Self::Sorted(r) => r.next(),
        }
    }
}

impl Groups {
    pub fn rows(&self, c: usize) -> GroupRows<'_> {
        let (from, to) = (self.start[c], self.start[c + 1]);
        match &self.order {
            None => GroupRows::InPlace(from..to),
            Some(order) => GroupRows::Sorted(order[from as usize..to as usize].iter().copied()),
        }
    }
}

/// Groups the log's rows by customer (counting sort, O(n)), each group in day order. A log
/// already in that order — a file sorted by customer and date, the usual export — is used as
/// it is, without a second copy of its row numbers.
pub(crate) fn group_by_customer(log: &TransactionLog) -> Groups {
    let n_customers = log.customers();
    // Row numbers are u32 throughout (the log's customer numbers are too).
    let mut start = vec![0u32; n_customers + 1];
    for &c in &log.customer {
        start[c as usize + 1] += 1;
    }
    for i in 0..n_customers {
        start[i + 1] += start[i];
    }
    let (customer, day) = (&log.customer, &log.day);
    let in_order = (1..log.len()).all(|i| {
        let (a, b) = (customer[i - 1], customer[i]);
        a < b || (a == b && day[i - 1] <= day[i])
    });
    if in_order {
        return Groups { start, order: None };
    }
    let mut fill = start.clone();
    let mut order = vec![0u32; log.len()];
    for (row, &c) in log.customer.iter().enumerate() {
        order[fill[c as usize] as usize] = row as u32;
        fill[c as usize] += 1;
    }
    for c in 0..n_customers {
        let group = &mut order[start[c] as usize..start[c + 1] as usize];
        if !group.windows(2).all(|w| log.day[w[0] as usize] <= log.day[w[1] as usize]) {
            group.sort_by_key(|&r| log.day[r as usize]);
        }
    }
    Groups { start, order: Some(order) }
}

/// Summarises transactions up to and including `end_day` (days since 1970-01-01).
pub fn summarize(log: &TransactionLog, end_day: i32, unit: TimeUnit) -> CustomerSummary {
    use rayon::prelude::*;
    let groups = group_by_customer(log);
    // Ranges of customers summarised on all cores a few at a time, appended in order (a few
    // ranges' columns in flight, not a second copy of the whole summary).
    const CHUNK: usize = 1 << 14;
    const AT_ONCE: usize = 8;
    let n = log.customers();
    let mut s = CustomerSummary { unit, ..Default::default() };
    s.customer.reserve(n);
    s.frequency.reserve(n);
    s.recency.reserve(n);
    s.age.reserve(n);
    s.monetary_value.reserve(n);
    s.first_day.reserve(n);
    s.last_day.reserve(n);
    let chunks = n.div_ceil(CHUNK);
    for from in (0..chunks).step_by(AT_ONCE) {
        let parts: Vec<CustomerSummary> = (from..(from + AT_ONCE).min(chunks))
            .into_par_iter()
            .map(|k| summarize_range(log, &groups, k * CHUNK..((k + 1) * CHUNK).min(n), end_day, unit))
            .collect();
        for p in parts {
            s.customer.extend_from_slice(&p.customer);
            s.frequency.extend_from_slice(&p.frequency);
            s.recency.extend_from_slice(&p.recency);
            s.age.extend_from_slice(&p.age);
            s.monetary_value.extend_from_slice(&p.monetary_value);
            s.first_day.extend_from_slice(&p.first_day);
            s.last_day.extend_from_slice(&p.last_day);
        }
    }
    s
}

/// The summary of the customers numbered `customers`.
fn summarize_range(
    log: &TransactionLog,
    groups: &Groups,
    customers: std::ops::Range<usize>,
    end_day: i32,
    unit: TimeUnit,
) -> CustomerSummary {
    let scale = 10f64.powi(log.scale as i32);
    let mut s = CustomerSummary { unit, ..Default::default() };
    for c in customers {
        let mut days =
            groups.rows(c).map(|r| (log.day[r as usize], log.amount[r as usize])).filter(|(d, _)| *d <= end_day);
        let Some((first, mut day_total)) = days.next() else { continue };
        let (mut last, mut distinct, mut first_total, mut total) = (first, 1u32, None, 0i64);
        for (d, a) in days {
            if d == last {
                day_total += a;
            } else {
                if first_total.is_none() {
                    first_total = Some(day_total);
                }
                total += day_total;
                distinct += 1;
                last = d;
                day_total = a;
            }
        }
        let first_total = first_total.unwrap_or(day_total);
        total += day_total;
        let x = distinct - 1;
        s.customer.push(c as u32);
        s.frequency.push(x);
        s.recency.push(f64::from(last - first) / unit.days());
        s.age.push(f64::from(end_day - first) / unit.days());
        s.monetary_value.push(if x > 0 { (total - first_total) as f64 / scale / f64::from(x) } else { 0.0 });
        s.first_day.push(first);
        s.last_day.push(last);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::days_from_civil;

    #[test]
    fn same_day_purchases_are_one_transaction() {
        let d = |m, day| days_from_civil(1997, m, day);
        let log = TransactionLog::from_rows(
            [
                ("a", d(1, 1), 1000),
                ("a", d(1, 1), 500),
                ("a", d(1, 15), 200),
                ("a", d(1, 29), 400),
                ("b", d(3, 1), 100),
                ("c", d(12, 1), 1),
            ],
            2,
        );
        let s = summarize(&log, d(1, 29), TimeUnit::Week);
        assert_eq!(s.customer, [0], "b and c start after the end");
        assert_eq!(s.frequency, [2]);
        assert!((s.recency[0] - 4.0).abs() < 1e-12);
        assert!((s.age[0] - 4.0).abs() < 1e-12);
        assert!((s.monetary_value[0] - 3.0).abs() < 1e-12, "mean of 2.00 and 4.00, the first day excluded");
    }

    #[test]
    fn a_log_out_of_order_is_summarised_as_the_same_log_in_order() {
        // In order (by customer, then day) the log's rows are used in place; shuffled, they are
        // sorted by customer and day first. Both give each customer the same summary.
        let rows: Vec<(String, i32, i64)> = (0..400)
            .map(|i: i64| (format!("c{}", i % 37), days_from_civil(2024, 1, 1) + (i * 7919 % 300) as i32, 100 + i))
            .collect();
        let mut sorted = rows.clone();
        sorted.sort_by(|a, b| (a.0.as_str(), a.1).cmp(&(b.0.as_str(), b.1)));
        let end = days_from_civil(2024, 9, 1);
        let by_id = |rows: &[(String, i32, i64)]| {
            let log = TransactionLog::from_rows(rows.iter().map(|(c, d, a)| (c.as_str(), *d, *a)), 2);
            let s = summarize(&log, end, TimeUnit::Day);
            let mut out: Vec<(String, u32, f64, f64, f64)> = (0..s.len())
                .map(|i| {
                    let id = log.customer_ids[s.customer[i] as usize].to_string();
                    (id, s.frequency[i], s.recency[i], s.age[i], s.monetary_value[i])
                })
                .collect();
            out.sort_by(|a, b| a.0.cmp(&b.0));
            out
        };
        let (shuffled, in_order) = (by_id(&rows), by_id(&sorted));
        assert_eq!(shuffled.len(), 37);
        assert_eq!(shuffled, in_order);
        assert!(shuffled.iter().any(|c| c.1 > 3), "repeat purchases are counted");
    }
}
