//! RFM: recency (days since the last purchase), frequency (purchases), monetary (total spend)
//! per customer, scored 1–5 by quintiles (SQL `NTILE(5)`; ties broken by customer id so the
//! scores are reproducible) or by fixed thresholds, and a named segment for every one of the
//! 125 score combinations.

use serde::Serialize;

use crate::log::{CustomerIds, TransactionLog};

/// Per-customer RFM values and scores (customers in the log's order).
#[derive(Debug, Clone, Default)]
pub struct Rfm {
    pub recency_days: Vec<i32>,
    pub frequency: Vec<u32>,
    /// Total spend in minor units.
    pub monetary: Vec<i64>,
    pub r: Vec<u8>,
    pub f: Vec<u8>,
    pub m: Vec<u8>,
}

/// Raw R, F, M values over transactions up to `end_day` (inclusive). Frequency counts
/// transaction rows (orders), as the order-level KPIs do. Customers without a transaction by
/// then get recency −1 and frequency 0.
pub fn values(log: &TransactionLog, end_day: i32) -> Rfm {
    let n = log.customers();
    let mut rfm = Rfm { recency_days: vec![-1; n], frequency: vec![0; n], monetary: vec![0; n], ..Default::default() };
    // One pass over the rows in file order (no grouping needed): the last day kept as the
    // recency until the end.
    let mut last = vec![i32::MIN; n];
    for ((&c, &day), &amount) in log.customer.iter().zip(&log.day).zip(&log.amount) {
        if day > end_day {
            continue;
        }
        let c = c as usize;
        last[c] = last[c].max(day);
        rfm.frequency[c] += 1;
        rfm.monetary[c] += amount;
    }
    for (r, l) in rfm.recency_days.iter_mut().zip(last) {
        if l != i32::MIN {
            *r = end_day - l;
        }
    }
    rfm
}

/// The 1–5 bucket of 0-based position `pos` among `n`, exactly as SQL `NTILE(5)`: the first
/// `n % 5` buckets get one extra row.
pub fn ntile(pos: usize, n: usize, k: usize) -> u8 {
    let q = n / k;
    let rem = n % k;
    let big = rem * (q + 1);
    let bucket = if pos < big { pos / (q + 1) + 1 } else { rem + (pos - big) / q.max(1) + 1 };
    bucket as u8
}

/// Compares customer ids numerically when both are integers, else as text.
fn id_order(ids: &CustomerIds) -> Vec<u32> {
    let numeric: Option<Vec<u64>> = ids.iter().map(|s| s.parse().ok()).collect();
    let mut order: Vec<u32> = (0..ids.len() as u32).collect();
    match numeric {
        Some(nums) => order.sort_unstable_by_key(|&i| nums[i as usize]),
        None => order.sort_unstable_by(|&a, &b| ids[a as usize].cmp(&ids[b as usize])),
    }
    let mut rank = vec![0u32; ids.len()];
    for (r, &i) in order.iter().enumerate() {
        rank[i as usize] = r as u32;
    }
    rank
}

/// Scores by quintiles over the customers who purchased: R from the longest recency (1) to the
/// shortest (5); F and M from the lowest (1) to the highest (5); ties by customer id.
pub fn score_quintiles(ids: &CustomerIds, rfm: &mut Rfm) {
    let id_rank = id_order(ids);
    let active: Vec<u32> = (0..rfm.frequency.len() as u32).filter(|&c| rfm.frequency[c as usize] > 0).collect();
    let n = active.len();
    let n_all = rfm.frequency.len();
    // Each score sorts (value, rank of the id, customer) triples: plain integers compared
    // in place, no lookups through the customer number while sorting; the three on all cores.
    let assign = |value: &(dyn Fn(usize) -> i64 + Sync), out: &mut [u8]| {
        let mut keys: Vec<(i64, u32, u32)> =
            active.iter().map(|&c| (value(c as usize), id_rank[c as usize], c)).collect();
        keys.sort_unstable();
        for (pos, &(_, _, c)) in keys.iter().enumerate() {
            out[c as usize] = ntile(pos, n, 5);
        }
    };
    let (rec, freq, mon) = (&rfm.recency_days, &rfm.frequency, &rfm.monetary);
    let mut r = vec![0; n_all];
    let mut f = vec![0; n_all];
    let mut m = vec![0; n_all];
    rayon::join(
        || assign(&|c| -i64::from(rec[c]), &mut r),
        || rayon::join(|| assign(&|c| i64::from(freq[c]), &mut f), || assign(&|c| mon[c], &mut m)),
    );
    rfm.r = r;
    rfm.f = f;
    rfm.m = m;
}

/// Fixed-threshold scoring: recency in days (ascending limits for scores 5, 4, 3, 2: e.g.
/// [30, 60, 90, 180] means ≤ 30 days → 5, ≤ 60 → 4, …, > 180 → 1), frequency and monetary as
/// minimums for scores 2, 3, 4, 5.
#[derive(Debug, Clone, Serialize)]
pub struct Thresholds {
    pub recency_days: [i32; 4],
    pub frequency: [u32; 4],
    pub monetary: [i64; 4],
}

pub fn score_thresholds(rfm: &mut Rfm, t: &Thresholds) {
    let n = rfm.frequency.len();
    rfm.r = (0..n)
        .map(|c| match rfm.recency_days[c] {
            d if d < 0 => 0,
            d => 5 - t.recency_days.iter().take_while(|&&lim| d > lim).count() as u8,
        })
        .collect();
    rfm.f = (0..n)
        .map(|c| {
            if rfm.frequency[c] == 0 {
                0
            } else {
                1 + t.frequency.iter().filter(|&&lim| rfm.frequency[c] >= lim).count() as u8
            }
        })
        .collect();
    rfm.m = (0..n)
        .map(|c| {
            if rfm.frequency[c] == 0 {
                0
            } else {
                1 + t.monetary.iter().filter(|&&lim| rfm.monetary[c] >= lim).count() as u8
            }
        })
        .collect();
}

/// Named segments. Every score combination maps to exactly one (see [`segment`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Segment {
    /// 優良顧客 — R, F, M high.
    Champions,
    /// 常連顧客 — recent and frequent, spend not top.
    Loyal,
    /// 成長顧客 — recent, buying sometimes: could become regulars.
    Potential,
    /// 新規顧客 — recent first-time or rare buyers.
    New,
    /// 要注意顧客 — used to buy well, recency slipping.
    NeedsAttention,
    /// 休眠顧客 — long gone but were frequent and valuable.
    Dormant,
    /// 離反リスク顧客 — long gone, bought rarely but spent a lot.
    AtRisk,
    /// 離反顧客 — long gone, low frequency and spend.
    Lost,
    /// 一般顧客 — the middle of everything.
    Regular,
}

impl Segment {
    /// Every segment, best first.
    pub const ALL: [Segment; 9] = [
        Self::Champions,
        Self::Loyal,
        Self::Potential,
        Self::New,
        Self::Regular,
        Self::NeedsAttention,
        Self::AtRisk,
        Self::Dormant,
        Self::Lost,
    ];

    /// The stable code stored and used in the API (`champions`, `loyal`, …).
    pub fn code(self) -> &'static str {
        match self {
            Self::Champions => "champions",
            Self::Loyal => "loyal",
            Self::Potential => "potential",
            Self::New => "new",
            Self::NeedsAttention => "needs_attention",
            Self::Dormant => "dormant",
            Self::AtRisk => "at_risk",
            Self::Lost => "lost",
            Self::Regular => "regular",
        }
    }

    pub fn from_code(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn name_ja(self) -> &'static str {
        match self {
            Self::Champions => "優良顧客",
            Self::Loyal => "常連顧客",
            Self::Potential => "成長顧客",
            Self::New => "新規顧客",
            Self::NeedsAttention => "要注意顧客",
            Self::Dormant => "休眠顧客",
            Self::AtRisk => "離反リスク顧客",
            Self::Lost => "離反顧客",
            Self::Regular => "一般顧客",
        }
    }

    pub fn name_en(self) -> &'static str {
        match self {
            Self::Champions => "Champions",
            Self::Loyal => "Loyal customers",
            Self::Potential => "Potential loyalists",
            Self::New => "New customers",
            Self::NeedsAttention => "Need attention",
            Self::Dormant => "Dormant",
            Self::AtRisk => "At risk",
            Self::Lost => "Lost",
            Self::Regular => "Regular",
        }
    }
}

/// Score levels: high ≥ `high`, low ≤ `low`, mid between (defaults 4 and 2).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Levels {
    pub high: u8,
    pub low: u8,
}

impl Default for Levels {
    fn default() -> Self {
        Self { high: 4, low: 2 }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum L {
    Lo,
    Mid,
    Hi,
}

/// The segment of scores (r, f, m), each 1–5. The complete mapping, with H = high, M = mid,
/// L = low per [`Levels`]:
///
/// | R | F | M | segment |
/// |---|---|---|---|
/// | H | H | H | 優良顧客 Champions |
/// | H | H | M or L | 常連顧客 Loyal |
/// | H | M | any | 成長顧客 Potential |
/// | H | L | any | 新規顧客 New |
/// | M | H | any | 要注意顧客 Need attention |
/// | M | M or L | H | 要注意顧客 Need attention |
/// | M | M or L | M or L | 一般顧客 Regular |
/// | L | H or M | H | 休眠顧客 Dormant |
/// | L | H | M or L | 休眠顧客 Dormant |
/// | L | L | H | 離反リスク顧客 At risk |
/// | L | M | M or L | 離反顧客 Lost |
/// | L | L | M or L | 離反顧客 Lost |
pub fn segment(r: u8, f: u8, m: u8, levels: Levels) -> Segment {
    let lv = |s: u8| {
        if s >= levels.high {
            L::Hi
        } else if s <= levels.low {
            L::Lo
        } else {
            L::Mid
        }
    };
    match (lv(r), lv(f), lv(m)) {
        (L::Hi, L::Hi, L::Hi) => Segment::Champions,
        (L::Hi, L::Hi, _) => Segment::Loyal,
        (L::Hi, L::Mid, _) => Segment::Potential,
        (L::Hi, L::Lo, _) => Segment::New,
        (L::Mid, L::Hi, _) | (L::Mid, _, L::Hi) => Segment::NeedsAttention,
        (L::Mid, _, _) => Segment::Regular,
        (L::Lo, L::Hi | L::Mid, L::Hi) | (L::Lo, L::Hi, _) => Segment::Dormant,
        (L::Lo, L::Lo, L::Hi) => Segment::AtRisk,
        (L::Lo, _, _) => Segment::Lost,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_match_the_serialised_names() {
        for s in Segment::ALL {
            assert_eq!(Segment::from_code(s.code()), Some(s));
            assert_eq!(serde_json::to_value(s).unwrap(), s.code());
        }
    }

    #[test]
    fn ntile_matches_sql() {
        // 7 rows in 5 buckets: sizes 2, 2, 1, 1, 1.
        let b: Vec<u8> = (0..7).map(|p| ntile(p, 7, 5)).collect();
        assert_eq!(b, [1, 1, 2, 2, 3, 4, 5]);
        let b: Vec<u8> = (0..3).map(|p| ntile(p, 3, 5)).collect();
        assert_eq!(b, [1, 2, 3]);
    }

    #[test]
    fn the_design_segments_and_completeness() {
        let l = Levels::default();
        assert_eq!(segment(5, 5, 5, l), Segment::Champions);
        assert_eq!(segment(5, 4, 3, l), Segment::Loyal);
        assert_eq!(segment(5, 1, 1, l), Segment::New);
        assert_eq!(segment(1, 5, 5, l), Segment::Dormant);
        assert_eq!(segment(1, 1, 5, l), Segment::AtRisk);
        let mut seen = std::collections::HashSet::new();
        for r in 1..=5 {
            for f in 1..=5 {
                for m in 1..=5 {
                    seen.insert(segment(r, f, m, l));
                }
            }
        }
        assert_eq!(seen.len(), 9, "every named segment is reachable");
    }

    #[test]
    fn thresholds_score_by_fixed_limits() {
        let mut rfm = Rfm {
            recency_days: vec![10, 200, -1],
            frequency: vec![12, 1, 0],
            monetary: vec![50_000, 900, 0],
            ..Default::default()
        };
        score_thresholds(
            &mut rfm,
            &Thresholds {
                recency_days: [30, 60, 90, 180],
                frequency: [2, 4, 8, 12],
                monetary: [1_000, 5_000, 20_000, 50_000],
            },
        );
        assert_eq!((rfm.r[0], rfm.f[0], rfm.m[0]), (5, 5, 5));
        assert_eq!((rfm.r[1], rfm.f[1], rfm.m[1]), (1, 1, 1));
        assert_eq!((rfm.r[2], rfm.f[2], rfm.m[2]), (0, 0, 0), "no purchase, no score");
    }
}
