//! Per-customer metrics: the analytics engine run on the order log, stored as a snapshot that
//! the customer 360, lists and segments read.

use std::sync::Arc;

use chrono::{TimeZone, Utc};
use joren_analytics::{TimeUnit, TransactionLog, bgnbd, churn, clv, gamma_gamma, rfm};
use joren_store::{CustomerMetrics, SegmentChange, SnapshotInfo};
use serde_json::json;

use crate::{Actor, App, Result};

/// Days ahead for "expected purchases" and months of value in the CLV stored in snapshots.
pub const HORIZON: clv::Horizon = clv::Horizon { purchases_days: 90.0, clv_months: 12, monthly_discount: 0.01 };

const QUARTER_HOUR_MS: i64 = 15 * 60 * 1000;

/// Logs how long a snapshot has taken up to the end of `phase`.
fn log_phase(started: std::time::Instant, phase: &str) {
    tracing::info!(phase, elapsed_ms = started.elapsed().as_millis() as u64, "snapshot");
}

/// The order log as the engine reads it, with the shop-local day of each order.
#[derive(Debug)]
pub struct OrderLog {
    pub log: TransactionLog,
    pub orders: u64,
}

/// The last order log read and the store's version it was read at (shared by an app's clones).
pub(crate) type OrderLogCache = Arc<tokio::sync::Mutex<Option<(joren_store::OrderLogVersion, Arc<OrderLog>)>>>;

impl App {
    /// The shop-local calendar day (days since 1970-01-01) of an epoch-ms instant.
    pub(crate) fn local_day(&self, ms: i64) -> i32 {
        use chrono::Datelike;
        let t = Utc.timestamp_millis_opt(ms).single().unwrap_or_default().with_timezone(&self.config.time_zone);
        joren_analytics::log::days_from_civil(t.year(), t.month(), t.day())
    }

    /// Reads the order log (cancelled and fully refunded orders left out, partial refunds
    /// deducted) as a transaction log of whole minor units keyed by customer id.
    /// The order log, read again only when orders changed since the last read (new orders,
    /// refunds or cancellations, merges): the dashboard reads it on every view.
    pub async fn order_log(&self) -> Result<Arc<OrderLog>> {
        let mut cache = self.order_log_cache.lock().await;
        let version = self.store.order_log_version().await?;
        if let Some((v, log)) = cache.as_ref()
            && *v == version
        {
            return Ok(log.clone());
        }
        let log = Arc::new(self.read_order_log().await?);
        *cache = Some((version, log.clone()));
        Ok(log)
    }

    async fn read_order_log(&self) -> Result<OrderLog> {
        let mut log = TransactionLog::rows(0);
        // An order dated after today (a till whose clock runs ahead, within the accepted
        // tolerance) counts as today's: the observation never ends in the future.
        let today = self.today();
        // The local day of each quarter hour seen, worked out once: every zone's offset and
        // every change of it falls on a quarter hour, so all of one quarter is on one day.
        let mut days: std::collections::HashMap<i64, i32> = std::collections::HashMap::new();
        let orders = self
            .store
            .stream_order_log(|customer, at, amount| {
                let quarter = at.div_euclid(QUARTER_HOUR_MS);
                let day = *days.entry(quarter).or_insert_with(|| self.local_day(quarter * QUARTER_HOUR_MS));
                log.push_id(customer, day.min(today), amount)
            })
            .await?;
        Ok(OrderLog { log: log.finish(), orders })
    }

    /// Recomputes every customer's metrics from the order log as of today (shop time zone)
    /// and stores them as the new snapshot. Models that the data cannot support are left out
    /// with the reason in the diagnostics; RFM is always computed.
    pub async fn refresh_metrics(&self, actor: &Actor) -> Result<SnapshotInfo> {
        actor.require_write()?;
        // Each phase's time goes to the log (a large shop's snapshot takes minutes).
        let started = std::time::Instant::now();
        let phase = move |name: &str| log_phase(started, name);
        let order_log = self.order_log().await?;
        phase("order log read");
        let orders = order_log.orders;
        let today = self.today();
        let end = today;
        let sources = self.store.acquisition_sources().await?.into_iter().collect();
        let models = tokio::task::spawn_blocking(move || {
            let (metrics, diagnostics) = compute_metrics(&order_log.log, end);
            phase("models");
            // The dashboard of a large shop reads these instead of the order log and the metrics.
            let mut figures = crate::activity::kept_figures(&order_log.log, &sources);
            figures.push(crate::dashboard::kept_figures(&metrics));
            phase("dashboard figures");
            (metrics, diagnostics, figures)
        });
        // The purchases for cross-sell are read while the models run.
        let associations = self.compute_associations().await?;
        phase("cross-sell");
        let (metrics, diagnostics, figures) =
            models.await.map_err(|e| crate::AppError::Internal(format!("metrics: {e}")))?;
        let day = joren_analytics::log::format_day(end);
        let snapshot = self
            .store
            .write_metric_snapshot(&day, orders as i64, &diagnostics, &metrics, &associations, &figures)
            .await?;
        // The home page's and lists' counts read only the rows added after this; its contact
        // lists are kept with the snapshot.
        self.store.refresh_row_counts().await?;
        self.keep_contact_lists(snapshot.id).await?;
        phase("written");
        self.audit(
            actor,
            "metrics.refresh",
            "metric_snapshot",
            snapshot.id,
            json!({"customers": snapshot.customers, "orders": orders}),
        )
        .await?;
        Ok(snapshot)
    }

    /// The nightly refresh: recomputes the snapshot when none exists yet or the newest was
    /// computed before 03:00 today (shop time) and it is now past 03:00. Called hourly by the
    /// server; returns the new snapshot when it ran.
    pub async fn refresh_metrics_if_due(&self) -> Result<Option<SnapshotInfo>> {
        let now = self.now().with_timezone(&self.config.time_zone);
        let Some(three) = now.date_naive().and_hms_opt(3, 0, 0) else { return Ok(None) };
        let Some(nightly) = self.config.time_zone.from_local_datetime(&three).earliest() else { return Ok(None) };
        let due = match self.store.latest_snapshot().await? {
            None => true,
            Some(s) => now >= nightly && s.computed_at < nightly.with_timezone(&Utc),
        };
        if !due {
            return Ok(None);
        }
        Ok(Some(self.refresh_metrics(&Actor::system("scheduler")).await?))
    }

    /// A customer's metrics in the newest snapshot, if any snapshot includes them.
    pub async fn customer_metrics(&self, customer_id: i64) -> Result<Option<(SnapshotInfo, CustomerMetrics)>> {
        self.store.get_customer(customer_id).await?;
        Ok(self.store.customer_metrics(customer_id).await?)
    }

    pub async fn segment_changes(&self, customer_id: i64) -> Result<Vec<SegmentChange>> {
        Ok(self.store.segment_changes(customer_id).await?)
    }

    pub async fn latest_snapshot(&self) -> Result<Option<SnapshotInfo>> {
        Ok(self.store.latest_snapshot().await?)
    }
}

/// Days held out to check the forecast: fit on the data up to 90 days ago, forecast those 90
/// days, compare with what customers did.
pub const HOLDOUT_DAYS: i32 = 90;

/// How the BG/NBD forecast would have done over the last [`HOLDOUT_DAYS`]: actual and
/// forecast repeat purchases of the customers known before, the error and the per-customer
/// correlation; or why it could not be checked.
pub fn holdout_check(log: &TransactionLog, end: i32) -> serde_json::Value {
    use joren_analytics::validation;
    let cal_end = end - HOLDOUT_DAYS;
    let s = joren_analytics::summary::summarize(log, cal_end, TimeUnit::Day);
    match bgnbd::fit(&s) {
        Err(e) => json!({"checked": false, "reason": e.to_string()}),
        Ok(fit) => {
            let model = clv::PurchaseModel::BgNbd(fit.params);
            let v = validation::check_forecast(log, &s, &model, cal_end, end, 7);
            json!({"checked": true, "holdout_days": HOLDOUT_DAYS, "customers": v.customers,
                   "actual": v.actual_total, "predicted": v.predicted_total,
                   "error_percent": v.error_percent.is_finite().then_some(v.error_percent),
                   "correlation": v.correlation})
        }
    }
}

/// Every RFM segment: (code, label), in the engine's order.
pub fn segment_choices(english: bool) -> Vec<(&'static str, &'static str)> {
    rfm::Segment::ALL.iter().map(|s| (s.code(), if english { s.name_en() } else { s.name_ja() })).collect()
}

/// The display name of a stored segment code, in Japanese or English.
/// The codes of the RFM segments, best first.
pub fn segment_codes() -> impl Iterator<Item = &'static str> {
    rfm::Segment::ALL.into_iter().map(rfm::Segment::code)
}

pub fn segment_label(code: &str, english: bool) -> &'static str {
    match rfm::Segment::from_code(code) {
        Some(s) if english => s.name_en(),
        Some(s) => s.name_ja(),
        None => "—",
    }
}

/// Runs the engine: RFM for everyone who bought; BG/NBD + Gamma-Gamma (in days) for P(alive),
/// expected purchases, order value and CLV; churn risk from those. Customer ids of the log are
/// the store's ids as text.
pub fn compute_metrics(log: &TransactionLog, end: i32) -> (Vec<CustomerMetrics>, serde_json::Value) {
    let mut r = rfm::values(log, end);
    rfm::score_quintiles(&log.customer_ids, &mut r);
    let s = joren_analytics::summary::summarize(log, end, TimeUnit::Day);
    let mut diagnostics = json!({
        "observation_end_day": end, "customers": s.len(), "transactions": log.len(),
        "horizon": {"purchases_days": HORIZON.purchases_days, "clv_months": HORIZON.clv_months,
                    "monthly_discount": HORIZON.monthly_discount},
    });
    diagnostics["validation"] = holdout_check(log, end);
    let models = match (bgnbd::fit(&s), gamma_gamma::fit(&s)) {
        (Ok(bg), Ok(gg)) => {
            diagnostics["bgnbd"] = json!({"params": bg.params, "standard_errors": bg.standard_errors,
                                          "log_likelihood": bg.log_likelihood, "repeaters": bg.repeaters});
            diagnostics["gamma_gamma"] = json!({"params": gg.params, "log_likelihood": gg.log_likelihood,
                                                "repeaters": gg.repeaters});
            let f = clv::forecast(&s, &clv::PurchaseModel::BgNbd(bg.params), &gg.params, HORIZON);
            let alive: Vec<f64> = f.iter().map(|f| f.p_alive).collect();
            match churn::assess_all(&s, &alive, end, &churn::Settings::default()) {
                Ok(risk) => Some((f, risk)),
                Err(e) => {
                    diagnostics["not_fitted"] = json!(e.to_string());
                    None
                }
            }
        }
        (Err(e), _) | (_, Err(e)) => {
            diagnostics["not_fitted"] = json!(e.to_string());
            None
        }
    };
    let mut by_customer = vec![usize::MAX; log.customers()];
    for (i, &c) in s.customer.iter().enumerate() {
        by_customer[c as usize] = i;
    }
    let date = joren_analytics::log::format_day;
    let metrics = (0..log.customers())
        .filter(|&c| r.frequency[c] > 0)
        .filter_map(|c| {
            let customer_id = log.customer_ids[c].parse().ok()?;
            let segment = rfm::segment(r.r[c], r.f[c], r.m[c], rfm::Levels::default());
            let i = by_customer[c];
            let (f, risk) = match (&models, i) {
                (Some((f, risk)), i) if i != usize::MAX => (Some(f[i]), Some(risk[i])),
                _ => (None, None),
            };
            Some(CustomerMetrics {
                customer_id,
                recency_days: i64::from(r.recency_days[c]),
                frequency: i64::from(r.frequency[c]),
                monetary: r.monetary[c],
                r_score: i64::from(r.r[c]),
                f_score: i64::from(r.f[c]),
                m_score: i64::from(r.m[c]),
                segment: segment.code().to_string(),
                p_alive: f.map(|f| f.p_alive),
                expected_purchases_90d: f.map(|f| f.expected_purchases),
                expected_order_value: f.map(|f| f.expected_value),
                clv_12m: f.map(|f| f.clv),
                churn_score: risk.map(|r| i64::from(r.score)),
                churn_band: risk.map(|r| r.band.as_str().to_string()),
                expected_next_purchase: risk.map(|r| date(r.expected_next_day)),
            })
        })
        .collect();
    (metrics, diagnostics)
}
