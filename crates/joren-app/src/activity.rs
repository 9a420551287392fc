//! The shop's activity by acquisition source (`joren_analytics::activity`): what the
//! dashboard's period KPIs and cohorts are computed from. A small shop's is built from the live
//! order log on each view, so a sale shows at once; a large shop's is built by the nightly
//! snapshot and kept with it, so its dashboard never reads millions of orders per view (and
//! says which moment its figures are from).

use std::sync::Arc;

use chrono::{DateTime, Utc};
use joren_analytics::TransactionLog;
use joren_analytics::activity::{self, Activity};
use joren_store::SnapshotInfo;

use crate::{App, AppError, Result};

/// Above this many orders in the newest snapshot, the dashboard reads the activity kept with
/// it instead of the live order log (reading 100,000 orders takes about a tenth of a second;
/// ten million, seconds).
pub const LIVE_ORDER_LIMIT: i64 = 100_000;

/// The activity of the whole shop and of each acquisition source.
#[derive(Debug, Default)]
pub struct ShopActivity {
    pub all: Activity,
    /// (source, activity), by source name; customers without a source are only in `all`.
    pub by_source: Vec<(String, Activity)>,
    /// None: live; Some: as of the snapshot computed at that moment, whose last day is `last_day`.
    pub as_of: Option<(DateTime<Utc>, i32)>,
}

/// The decoded activity of the last snapshot read, by snapshot id (shared by an app's clones).
pub(crate) type ActivityCache = Arc<tokio::sync::Mutex<Option<(i64, Arc<ShopActivity>)>>>;

/// The activity of each acquisition source of the log's customers ('' for none), by source.
fn by_source(log: &TransactionLog, sources: &std::collections::HashMap<i64, String>) -> Vec<(String, Activity)> {
    let mut names: Vec<&str> = sources.values().map(String::as_str).collect();
    names.push("");
    names.sort_unstable();
    names.dedup();
    let group = |c: usize| {
        let source = log.customer_ids[c].parse::<i64>().ok().and_then(|id| sources.get(&id)).map_or("", String::as_str);
        names.binary_search(&source).unwrap_or(0)
    };
    let groups: Vec<usize> = (0..log.customers()).map(group).collect();
    let parts = activity::by_group(log, names.len(), |c| groups[c]);
    names.iter().map(|n| n.to_string()).zip(parts).collect()
}

/// The kind of the activity kept with a snapshot.
const KIND: &str = "activity";

/// The activity of the log by acquisition source, to keep with a snapshot.
pub(crate) fn kept_figures(
    log: &TransactionLog,
    sources: &std::collections::HashMap<i64, String>,
) -> Vec<joren_store::SnapshotFigure> {
    by_source(log, sources)
        .into_iter()
        .map(|(group, a)| joren_store::SnapshotFigure { kind: KIND.into(), group, data: a.to_bytes() })
        .collect()
}

impl App {
    /// The activity the dashboard reads: kept with the newest snapshot when the shop is large
    /// (more than `config.live_dashboard_orders` orders, by default [`LIVE_ORDER_LIMIT`]) and
    /// the snapshot has it, otherwise from the live order log.
    pub async fn shop_activity(&self) -> Result<Arc<ShopActivity>> {
        self.shop_activity_with(self.store.latest_snapshot().await?.as_ref()).await
    }

    /// [`App::shop_activity`] with the newest snapshot already looked up.
    pub(crate) async fn shop_activity_with(&self, snapshot: Option<&SnapshotInfo>) -> Result<Arc<ShopActivity>> {
        if let Some(s) = snapshot
            && s.orders > self.config.live_dashboard_orders
        {
            let mut cache = self.activity_cache.lock().await;
            if let Some((id, a)) = cache.as_ref()
                && *id == s.id
            {
                return Ok(a.clone());
            }
            let rows = self.store.snapshot_figures(s.id, KIND).await?;
            if !rows.is_empty() {
                let last_day = joren_analytics::log::parse_day(s.observation_end.as_bytes()).unwrap_or(self.today());
                let computed_at = s.computed_at;
                let decoded = tokio::task::spawn_blocking(move || decode(rows, (computed_at, last_day)))
                    .await
                    .map_err(|e| AppError::Internal(format!("activity: {e}")))?;
                match decoded {
                    Ok(a) => {
                        let a = Arc::new(a);
                        *cache = Some((s.id, a.clone()));
                        return Ok(a);
                    }
                    // Written by another version, say: the live log still gives the figures,
                    // slowly, until the next snapshot writes them again.
                    Err(e) => tracing::warn!(snapshot = s.id, error = %e, "activity kept with the snapshot unreadable"),
                }
            }
        }
        let order_log = self.order_log().await?;
        let sources = self.store.acquisition_sources().await?.into_iter().collect();
        let parts = by_source(&order_log.log, &sources);
        Ok(Arc::new(assemble(parts, None)))
    }
}

fn decode(rows: Vec<(String, Vec<u8>)>, as_of: (DateTime<Utc>, i32)) -> Result<ShopActivity> {
    let parts = rows
        .into_iter()
        .map(|(name, bytes)| {
            Activity::from_bytes(&bytes).map(|a| (name, a)).map_err(|e| AppError::Internal(e.to_string()))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(assemble(parts, Some(as_of)))
}

fn assemble(parts: Vec<(String, Activity)>, as_of: Option<(DateTime<Utc>, i32)>) -> ShopActivity {
    let all = activity::merge(parts.iter().map(|p| &p.1));
    ShopActivity { all, by_source: parts.into_iter().filter(|p| !p.0.is_empty()).collect(), as_of }
}
