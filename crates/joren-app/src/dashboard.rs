//! The owner's morning dashboard: retention KPIs of a period against the previous one, the
//! cohort table, KPIs by acquisition source, RFM segment sizes, the distribution of predicted
//! CLV, the churn-risk list and the repeat rate against the shop's industry.

use joren_analytics::cohort::Cohort;
use joren_analytics::kpi::{self, Kpis};
use joren_analytics::log::{format_day as date, parse_day};
use joren_store::{CustomerMetrics, SnapshotInfo};
use serde::Serialize;

use crate::{Actor, App, AppError, Result};

/// Typical repeat rates by industry (share of customers with two or more purchases), for the
/// comparison on the dashboard: (code, Japanese, English, low %, high %).
pub const INDUSTRIES: [(&str, &str, &str, f64, f64); 4] = [
    ("retail", "小売・EC", "Retail / e-commerce", 20.0, 30.0),
    ("restaurant", "飲食", "Restaurants", 30.0, 50.0),
    ("beauty", "美容・健康", "Beauty / health", 40.0, 60.0),
    ("b2b", "B2B サービス", "B2B services", 70.0, 90.0),
];

/// The industry with code `code` in [`INDUSTRIES`].
pub fn industry(code: &str) -> Option<&'static (&'static str, &'static str, &'static str, f64, f64)> {
    INDUSTRIES.iter().find(|i| i.0 == code)
}

/// A period [start, end] as days since 1970-01-01.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Period {
    pub start: i32,
    pub end: i32,
}

impl Period {
    /// The period of the same length just before this one.
    pub fn previous(self) -> Self {
        let len = self.end - self.start + 1;
        Self { start: self.start - len, end: self.start - 1 }
    }

    pub fn label(self) -> (String, String) {
        (date(self.start), date(self.end))
    }
}

/// Everything the dashboard shows.
#[derive(Debug, Clone, Serialize)]
pub struct Dashboard {
    pub period: Period,
    pub previous: Period,
    pub kpis: Kpis,
    pub previous_kpis: Kpis,
    /// KPIs of the period per acquisition source.
    pub by_source: Vec<(String, Kpis)>,
    /// Monthly cohorts of the last 12 months of first purchases.
    pub cohorts: Vec<Cohort>,
    pub snapshot: Option<SnapshotInfo>,
    /// When the KPIs and cohorts come from the activity kept with a snapshot (a large shop),
    /// the moment it was computed; None when they are live.
    pub figures_as_of: Option<chrono::DateTime<chrono::Utc>>,
    /// (segment code, customers, spend in minor units), best segment first.
    pub segments: Vec<(String, i64, i64)>,
    /// CLV histogram: (upper bound of the bucket in yen, customers).
    pub clv_buckets: Vec<(i64, usize)>,
    /// High churn risk, most valuable first.
    pub at_risk: Vec<(CustomerMetrics, String)>,
    /// The shop's industry code, if chosen.
    pub industry: Option<String>,
}

/// "Contact this week": three short lists from the newest snapshot.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ContactLists {
    /// Moved from a good segment to a slipping one in the newest snapshot (with the old one).
    pub slipping: Vec<(CustomerMetrics, String, String)>,
    /// Past their expected next purchase, most valuable first.
    pub overdue: Vec<(CustomerMetrics, String)>,
    /// 休眠顧客 worth reactivating, most valuable first.
    pub dormant: Vec<(CustomerMetrics, String)>,
    /// When the shop last reached out to each listed customer (never: absent).
    pub last_contacted: std::collections::HashMap<i64, chrono::DateTime<chrono::Utc>>,
}

/// The kind of the dashboard's figures kept with a snapshot.
const KEPT: &str = "dashboard";

/// The kind of the contact lists kept with a snapshot, and how many of each it keeps (a view
/// asking for more reads them live).
const KEPT_CONTACTS: &str = "contacts";
const CONTACTS_KEPT: i64 = 100;

/// The rows of the three contact lists: slipping (with the segment they left), overdue, dormant.
type ListRows = (Vec<(CustomerMetrics, String)>, Vec<CustomerMetrics>, Vec<CustomerMetrics>);

/// The contact lists of a snapshot as of the day they were computed (the overdue list
/// depends on the day): customer ids in list order, the slipping ones with their old segment.
#[derive(Serialize, serde::Deserialize)]
struct KeptContacts {
    day: String,
    slipping: Vec<(i64, String)>,
    overdue: Vec<i64>,
    dormant: Vec<i64>,
}

/// The snapshot's segment sizes and CLV histogram, kept with it so a view does not read every
/// customer's metrics.
#[derive(Debug, Serialize, serde::Deserialize)]
struct KeptFigures {
    /// (segment code, customers, spend in minor units).
    segments: Vec<(String, i64, i64)>,
    clv_buckets: Vec<(i64, usize)>,
}

/// The dashboard's figures of a snapshot's metrics, to keep with it.
pub(crate) fn kept_figures(metrics: &[CustomerMetrics]) -> joren_store::SnapshotFigure {
    let mut segments: std::collections::BTreeMap<&str, (i64, i64)> = Default::default();
    for m in metrics {
        let e = segments.entry(m.segment.as_str()).or_default();
        e.0 += 1;
        e.1 += m.monetary;
    }
    let clv: Vec<f64> = metrics.iter().filter_map(|m| m.clv_12m).collect();
    let kept = KeptFigures {
        segments: segments.into_iter().map(|(code, (n, spend))| (code.to_string(), n, spend)).collect(),
        clv_buckets: clv_histogram(&clv),
    };
    joren_store::SnapshotFigure {
        kind: KEPT.into(),
        group: String::new(),
        data: serde_json::to_vec(&kept).expect("plain data serialises"),
    }
}

/// Segments a customer should not leave, and the ones that mean they are slipping away.
const GOOD: [&str; 5] = ["champions", "loyal", "potential", "new", "regular"];
const SLIPPING: [&str; 4] = ["needs_attention", "at_risk", "dormant", "lost"];

/// Days a customer counts as active after a purchase, for the dashboard's KPIs.
pub const ACTIVE_WINDOW_DAYS: i32 = 365;

impl App {
    /// The dashboard for `period` (default: the last 90 days up to today, shop time zone; for a
    /// large shop whose figures are kept with the snapshot, up to the snapshot's day, and a
    /// period reaching past that day is cut at it).
    pub async fn dashboard(&self, period: Option<(String, String)>) -> Result<Dashboard> {
        let snapshot = self.store.latest_snapshot().await?;
        let activity = self.shop_activity_with(snapshot.as_ref()).await?;
        let today = activity.as_of.map_or(self.today(), |(_, day)| day);
        let period = match period {
            None => Period { start: today - 89, end: today },
            Some((start, end)) => {
                let parse = |field: &str, v: &str| {
                    parse_day(v.as_bytes()).ok_or_else(|| {
                        AppError::from(joren_core::FieldError::new(field, joren_core::Code::BadDate).arg(v))
                    })
                };
                let p = Period { start: parse("start", &start)?, end: parse("end", &end)? };
                if p.start > p.end {
                    return Err(joren_core::FieldError::new("start", joren_core::Code::StartAfterEnd).into());
                }
                match activity.as_of {
                    Some((_, last)) if p.end > last => Period { start: p.start.min(last), end: last },
                    _ => p,
                }
            }
        };
        let previous = period.previous();
        let kpis_of = |a: &joren_analytics::activity::Activity, p: Period| {
            kpi::finish(a.kpi_counts(p.start, p.end, ACTIVE_WINDOW_DAYS), p.start, p.end, a.scale)
        };
        let by_source = activity
            .by_source
            .iter()
            .map(|(name, a)| (name.clone(), kpis_of(a, period)))
            .filter(|(_, k)| k.end_customers > 0 || k.start_customers > 0)
            .collect();
        let all_cohorts = activity.all.monthly_cohorts(period.end);
        let skip = all_cohorts.len().saturating_sub(12);
        let (segments, clv_buckets, at_risk) = match &snapshot {
            None => (Vec::new(), Vec::new(), Vec::new()),
            Some(s) => {
                let kept = self.store.snapshot_figures(s.id, KEPT).await?;
                let kept: Option<KeptFigures> = kept.first().and_then(|(_, data)| serde_json::from_slice(data).ok());
                let (mut segments, clv) = match kept {
                    Some(k) => (k.segments, k.clv_buckets),
                    // A snapshot from before the figures were kept with it.
                    None => {
                        (self.store.segment_totals(s.id).await?, clv_histogram(&self.store.clv_values(s.id).await?))
                    }
                };
                let rank = |code: &str| {
                    joren_analytics::rfm::Segment::ALL.iter().position(|x| x.code() == code).unwrap_or(usize::MAX)
                };
                segments.sort_by_key(|(code, _, _)| rank(code));
                let at_risk = self.with_names(self.store.customers_in_band(s.id, "high", 20).await?).await?;
                (segments, clv, at_risk)
            }
        };
        Ok(Dashboard {
            kpis: kpis_of(&activity.all, period),
            previous_kpis: kpis_of(&activity.all, previous),
            period,
            previous,
            by_source,
            cohorts: all_cohorts.into_iter().skip(skip).collect(),
            snapshot,
            figures_as_of: activity.as_of.map(|(at, _)| at),
            segments,
            clv_buckets,
            at_risk,
            industry: self.store.setting("industry").await?,
        })
    }

    /// Who to contact this week (empty until a snapshot exists). The lists of today's snapshot
    /// are kept with it (see [`App::keep_contact_lists`]); a view reads those customers' rows
    /// instead of sorting a million metric rows three times.
    pub async fn contact_lists(&self, limit: i64) -> Result<ContactLists> {
        let Some(snap) = self.store.latest_snapshot().await? else { return Ok(ContactLists::default()) };
        let today = date(self.today());
        let (slipping, overdue, dormant) = match self.kept_contacts(snap.id, &today, limit).await? {
            Some(kept) => kept,
            None => self.live_contacts(snap.id, &today, limit).await?,
        };
        let mut lists = ContactLists::default();
        let names = self.names_of(slipping.iter().map(|(m, _)| m.customer_id)).await?;
        for (m, from) in slipping {
            let n = names.get(&m.customer_id).cloned().unwrap_or_default();
            lists.slipping.push((m, from, n));
        }
        lists.overdue = self.with_names(overdue).await?;
        lists.dormant = self.with_names(dormant).await?;
        let listed: Vec<i64> = (lists.slipping.iter().map(|(m, _, _)| m.customer_id))
            .chain(lists.overdue.iter().chain(&lists.dormant).map(|(m, _)| m.customer_id))
            .collect();
        lists.last_contacted = self.store.last_contacted(&listed).await?.into_iter().collect();
        Ok(lists)
    }

    /// Computes the contact lists of snapshot `snapshot_id` as of today, [`CONTACTS_KEPT`] of
    /// each, and keeps their customer ids with it (the snapshot's rows never change after).
    pub(crate) async fn keep_contact_lists(&self, snapshot_id: i64) -> Result<()> {
        let day = date(self.today());
        let (slipping, overdue, dormant) = self.live_contacts(snapshot_id, &day, CONTACTS_KEPT).await?;
        let ids = |rows: Vec<CustomerMetrics>| rows.into_iter().map(|m| m.customer_id).collect();
        let kept = KeptContacts {
            slipping: slipping.into_iter().map(|(m, from)| (m.customer_id, from)).collect(),
            overdue: ids(overdue),
            dormant: ids(dormant),
            day,
        };
        let data = serde_json::to_vec(&kept).map_err(|e| AppError::Internal(format!("contact lists: {e}")))?;
        let figure = joren_store::SnapshotFigure { kind: KEPT_CONTACTS.into(), group: String::new(), data };
        Ok(self.store.add_snapshot_figure(snapshot_id, &figure).await?)
    }

    /// The three lists of snapshot `snapshot_id` as of `day`, `limit` of each, read from its
    /// metric rows.
    async fn live_contacts(&self, snapshot_id: i64, day: &str, limit: i64) -> Result<ListRows> {
        Ok((
            self.store.moved_between(snapshot_id, &GOOD, &SLIPPING, limit).await?,
            self.store.overdue_customers(snapshot_id, day, limit).await?,
            self.store.customers_in_segment(snapshot_id, "dormant", limit).await?,
        ))
    }

    /// The kept lists of `snapshot_id` cut to `limit`, when they were kept on `today` and hold
    /// as many as the live lists would: a kept list shorter than [`CONTACTS_KEPT`] is every
    /// match; a full one serves `limit` of its customers still in the snapshot (one merged
    /// since has no metrics there). None sends the caller to the live queries.
    async fn kept_contacts(&self, snapshot_id: i64, today: &str, limit: i64) -> Result<Option<ListRows>> {
        if limit > CONTACTS_KEPT {
            return Ok(None);
        }
        let Some((_, data)) = self.store.snapshot_figures(snapshot_id, KEPT_CONTACTS).await?.into_iter().next() else {
            return Ok(None);
        };
        let Ok(kept) = serde_json::from_slice::<KeptContacts>(&data) else { return Ok(None) };
        if kept.day != today {
            return Ok(None);
        }
        let slipping_ids: Vec<i64> = kept.slipping.iter().map(|(id, _)| *id).collect();
        let mut ids: Vec<i64> = [&slipping_ids, &kept.overdue, &kept.dormant].into_iter().flatten().copied().collect();
        ids.sort_unstable();
        ids.dedup();
        let by_id: std::collections::HashMap<i64, CustomerMetrics> =
            self.store.metrics_of_customers(snapshot_id, &ids).await?.into_iter().map(|m| (m.customer_id, m)).collect();
        let limit = limit.max(0) as usize;
        // One list: its customers still in the snapshot, or None when a full list lost so many
        // that fewer than `limit` remain.
        let cut = |list: &[i64]| -> Option<Vec<CustomerMetrics>> {
            let rows: Vec<CustomerMetrics> = list.iter().filter_map(|id| by_id.get(id).cloned()).take(limit).collect();
            (rows.len() == limit || list.len() < CONTACTS_KEPT as usize).then_some(rows)
        };
        let (Some(slipping), Some(overdue), Some(dormant)) =
            (cut(&slipping_ids), cut(&kept.overdue), cut(&kept.dormant))
        else {
            return Ok(None);
        };
        let from: std::collections::HashMap<i64, String> = kept.slipping.into_iter().collect();
        let slipping = slipping
            .into_iter()
            .map(|m| {
                let f = from.get(&m.customer_id).cloned().unwrap_or_default();
                (m, f)
            })
            .collect();
        Ok(Some((slipping, overdue, dormant)))
    }

    /// Display names by customer id, in one query.
    async fn names_of(&self, ids: impl Iterator<Item = i64>) -> Result<std::collections::HashMap<i64, String>> {
        let ids: Vec<i64> = ids.collect();
        Ok(self.store.customer_names(&ids).await?.into_iter().collect())
    }

    /// Pairs each row with the customer's display name.
    async fn with_names(&self, rows: Vec<CustomerMetrics>) -> Result<Vec<(CustomerMetrics, String)>> {
        let names = self.names_of(rows.iter().map(|m| m.customer_id)).await?;
        Ok(rows
            .into_iter()
            .map(|m| {
                let n = names.get(&m.customer_id).cloned().unwrap_or_default();
                (m, n)
            })
            .collect())
    }

    /// Today in the shop's time zone, as days since 1970-01-01.
    pub fn today(&self) -> i32 {
        self.local_day(self.now().timestamp_millis())
    }

    /// Chooses the industry the dashboard compares the repeat rate with (owners).
    pub async fn set_industry(&self, actor: &Actor, code: &str) -> Result<()> {
        actor.require_owner()?;
        if industry(code).is_none() {
            let codes: Vec<&str> = INDUSTRIES.iter().map(|i| i.0).collect();
            return Err(joren_core::FieldError::new("industry", joren_core::Code::NotOneOf)
                .arg(code)
                .arg(codes.join(", "))
                .into());
        }
        self.store.set_setting("industry", code).await?;
        self.audit(actor, "settings.industry", "settings", "industry", serde_json::json!({"industry": code})).await
    }
}

/// Buckets of predicted CLV (yen) with round upper bounds, so the chart reads naturally.
pub fn clv_histogram(values: &[f64]) -> Vec<(i64, usize)> {
    const BOUNDS: [i64; 9] = [1_000, 3_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, i64::MAX];
    let mut counts = [0usize; BOUNDS.len()];
    for v in values {
        let i = BOUNDS.iter().position(|&b| (*v as i64) < b).unwrap_or(BOUNDS.len() - 1);
        counts[i] += 1;
    }
    BOUNDS.iter().copied().zip(counts).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn previous_period_has_the_same_length_and_ends_the_day_before() {
        let p = Period { start: 100, end: 189 };
        let q = p.previous();
        assert_eq!((q.start, q.end), (10, 99));
    }

    #[test]
    fn clv_histogram_puts_each_value_in_one_bucket() {
        let h = clv_histogram(&[0.0, 999.9, 1000.0, 4_999.0, 250_000.0]);
        assert_eq!(h[0], (1_000, 2));
        assert_eq!(h[1], (3_000, 1));
        assert_eq!(h[2], (5_000, 1));
        assert_eq!(h.last().unwrap().1, 1);
        assert_eq!(h.iter().map(|b| b.1).sum::<usize>(), 5);
    }
}
