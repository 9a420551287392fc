//! Snapshots of per-customer metrics from the analytics engine: the order log read out for the
//! engine, and its results written back atomically, with segment moves between snapshots.

use sqlx::Row;

use crate::bulk::Val;
use crate::{Result, Store, now_ms};

/// One customer's metrics in a snapshot. Model outputs are `None` when the snapshot's models
/// could not be fitted (the reason is in the snapshot's diagnostics).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CustomerMetrics {
    pub customer_id: i64,
    pub recency_days: i64,
    pub frequency: i64,
    /// Total spend in minor units.
    pub monetary: i64,
    pub r_score: i64,
    pub f_score: i64,
    pub m_score: i64,
    /// RFM segment code (e.g. `loyal`), see `joren_analytics::rfm::Segment`.
    pub segment: String,
    pub p_alive: Option<f64>,
    pub expected_purchases_90d: Option<f64>,
    pub expected_order_value: Option<f64>,
    pub clv_12m: Option<f64>,
    pub churn_score: Option<i64>,
    pub churn_band: Option<String>,
    /// YYYY-MM-DD in the shop's time zone.
    pub expected_next_purchase: Option<String>,
}

/// What a snapshot was computed from.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SnapshotInfo {
    pub id: i64,
    pub computed_at: chrono::DateTime<chrono::Utc>,
    /// Last day of the order log the snapshot saw (YYYY-MM-DD, shop time zone).
    pub observation_end: String,
    pub orders: i64,
    pub customers: i64,
    pub diagnostics: serde_json::Value,
}

/// Figures computed with a snapshot and kept with it (see the `snapshot_figures` table): the
/// dashboard's, so a view reads a few rows instead of every order or every customer's metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapshotFigure {
    /// What they are (`activity`, `dashboard`).
    pub kind: String,
    /// Which part (an acquisition source; '' when there are no parts).
    pub group: String,
    /// Encoded by the kind's owner.
    pub data: Vec<u8>,
}

/// A segment move recorded between two snapshots.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SegmentChange {
    pub customer_id: i64,
    pub from_segment: Option<String>,
    pub to_segment: String,
    pub snapshot_id: i64,
    pub at: chrono::DateTime<chrono::Utc>,
}

/// A row of `customer_metrics` ([`METRIC_COLUMNS`]).
fn metric_row(snapshot_id: i64, m: &CustomerMetrics) -> Vec<Val> {
    vec![
        Val::Int(snapshot_id),
        Val::Int(m.customer_id),
        Val::Int(m.recency_days),
        Val::Int(m.frequency),
        Val::Int(m.monetary),
        Val::Int(m.r_score),
        Val::Int(m.f_score),
        Val::Int(m.m_score),
        Val::Text(m.segment.clone()),
        Val::OptReal(m.p_alive),
        Val::OptReal(m.expected_purchases_90d),
        Val::OptReal(m.expected_order_value),
        Val::OptReal(m.clv_12m),
        Val::OptInt(m.churn_score),
        Val::OptText(m.churn_band.clone()),
        Val::OptText(m.expected_next_purchase.clone()),
    ]
}

/// A row of `product_associations` ([`RULE_COLUMNS`]).
fn rule_row(snapshot_id: i64, a: &crate::ProductAssociation) -> Vec<Val> {
    vec![
        Val::Int(snapshot_id),
        Val::Text(a.antecedent.clone()),
        Val::Text(a.antecedent_name.clone()),
        Val::Text(a.consequent.clone()),
        Val::Text(a.consequent_name.clone()),
        Val::Int(a.pair_count),
        Val::OptReal(Some(a.support)),
        Val::OptReal(Some(a.confidence)),
        Val::OptReal(Some(a.lift)),
    ]
}

const NEW_SNAPSHOT: &str = "INSERT INTO metric_snapshots (computed_at, observation_end, orders, customers, diagnostics, \
     complete) VALUES ($1, $2, $3, $4, $5, 0) RETURNING id";

const RULE_COLUMNS: [&str; 9] = [
    "snapshot_id",
    "antecedent",
    "antecedent_name",
    "consequent",
    "consequent_name",
    "pair_count",
    "support",
    "confidence",
    "lift",
];

const METRIC_COLUMNS: [&str; 16] = [
    "snapshot_id",
    "customer_id",
    "recency_days",
    "frequency",
    "monetary",
    "r_score",
    "f_score",
    "m_score",
    "segment",
    "p_alive",
    "expected_purchases_90d",
    "expected_order_value",
    "clv_12m",
    "churn_score",
    "churn_band",
    "expected_next_purchase",
];

fn snapshot_from_row(r: &sqlx::any::AnyRow) -> Result<SnapshotInfo> {
    let diagnostics: String = r.try_get("diagnostics")?;
    Ok(SnapshotInfo {
        id: r.try_get("id")?,
        computed_at: crate::from_ms(r.try_get("computed_at")?),
        observation_end: r.try_get("observation_end")?,
        orders: r.try_get("orders")?,
        customers: r.try_get("customers")?,
        diagnostics: serde_json::from_str(&diagnostics).unwrap_or(serde_json::Value::Null),
    })
}

fn metrics_from_row(r: &sqlx::any::AnyRow) -> Result<CustomerMetrics> {
    Ok(CustomerMetrics {
        customer_id: r.try_get("customer_id")?,
        recency_days: r.try_get("recency_days")?,
        frequency: r.try_get("frequency")?,
        monetary: r.try_get("monetary")?,
        r_score: r.try_get("r_score")?,
        f_score: r.try_get("f_score")?,
        m_score: r.try_get("m_score")?,
        segment: r.try_get("segment")?,
        p_alive: r.try_get("p_alive")?,
        expected_purchases_90d: r.try_get("expected_purchases_90d")?,
        expected_order_value: r.try_get("expected_order_value")?,
        clv_12m: r.try_get("clv_12m")?,
        churn_score: r.try_get("churn_score")?,
        churn_band: r.try_get("churn_band")?,
        expected_next_purchase: r.try_get("expected_next_purchase")?,
    })
}

/// Changes whenever the order log could have: orders added (count and newest id, so an order
/// committed late under a lower id still counts), refunds and cancellations (adjustments),
/// merges (orders moved to another customer).
pub type OrderLogVersion = [i64; 4];

impl Store {
    /// The current [`OrderLogVersion`]: four index lookups and counts.
    pub async fn order_log_version(&self) -> Result<OrderLogVersion> {
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM orders) AS a, (SELECT COALESCE(MAX(id), 0) FROM orders) AS b,              (SELECT COUNT(*) FROM order_adjustments) AS c, (SELECT COUNT(*) FROM customer_merges) AS d",
        )
        .fetch_one(&self.pool)
        .await?;
        Ok([row.try_get("a")?, row.try_get("b")?, row.try_get("c")?, row.try_get("d")?])
    }

    /// Streams the order log the analytics engine reads: (customer id, ordered-at epoch ms,
    /// amount after refunds in minor units) of every order that is not cancelled or fully
    /// refunded, in no particular order (sorting ten million orders by customer through the
    /// index took 30 s of random reads on SQLite where a scan takes 1.2 s; the engine groups
    /// them itself), read in blocks as one consistent picture. Returns the number of orders.
    pub async fn stream_order_log(&self, mut row: impl FnMut(i64, i64, i64)) -> Result<u64> {
        self.for_each_int_row(
            "orders",
            "id",
            "status IN ('completed', 'partially_refunded')",
            ["customer_id", "ordered_at", "total - refunded"],
            |[customer, at, amount]| row(customer, at, amount),
        )
        .await
    }

    /// Writes a snapshot: records it as not complete, writes its metrics and cross-sell rules
    /// (by COPY on PostgreSQL), then in one transaction the segment moves since the previous
    /// complete snapshot, marks it complete and drops all but the previous one. Readers only
    /// see complete snapshots, so they see all of it or none of it.
    pub async fn write_metric_snapshot(
        &self,
        observation_end: &str,
        orders: i64,
        diagnostics: &serde_json::Value,
        metrics: &[CustomerMetrics],
        associations: &[crate::ProductAssociation],
        figures: &[SnapshotFigure],
    ) -> Result<SnapshotInfo> {
        let now = now_ms();
        // The snapshot is recorded first, not complete: no reader sees it until the
        // transaction below completes it; cut off before that, a later snapshot's clean-up
        // removes it.
        let id = self
            .insert_returning_id(
                sqlx::query_scalar(NEW_SNAPSHOT)
                    .bind(now)
                    .bind(observation_end)
                    .bind(orders)
                    .bind(metrics.len() as i64)
                    .bind(diagnostics.to_string()),
            )
            .await?;
        let metric_rows: Vec<Vec<Val>> = metrics.iter().map(|m| metric_row(id, m)).collect();
        let rule_rows: Vec<Vec<Val>> = associations.iter().map(|a| rule_row(id, a)).collect();
        let mut tx = match self.backend() {
            crate::Backend::Postgres => {
                // The rows go in by COPY on a connection of their own.
                let mut copy = self.copy_tx().await?;
                crate::copy::copy_in(&mut copy, "customer_metrics", &METRIC_COLUMNS, metric_rows).await?;
                crate::copy::copy_in(&mut copy, "product_associations", &RULE_COLUMNS, rule_rows).await?;
                copy.commit().await?;
                self.begin_bulk_write().await?
            }
            crate::Backend::Sqlite => {
                let mut tx = self.begin_bulk_write().await?;
                self.bulk_insert(&mut tx, "customer_metrics", &METRIC_COLUMNS, metric_rows).await?;
                self.bulk_insert(&mut tx, "product_associations", &RULE_COLUMNS, rule_rows).await?;
                tx
            }
        };
        let previous: Option<i64> =
            sqlx::query_scalar("SELECT MAX(id) FROM metric_snapshots WHERE complete = 1").fetch_one(&mut *tx).await?;
        if let Some(prev) = previous {
            sqlx::query(
                "INSERT INTO segment_changes (customer_id, from_segment, to_segment, snapshot_id, at) \
                 SELECT n.customer_id, o.segment, n.segment, n.snapshot_id, $1 FROM customer_metrics n \
                 LEFT JOIN customer_metrics o ON o.snapshot_id = $2 AND o.customer_id = n.customer_id \
                 WHERE n.snapshot_id = $3 AND (o.segment IS NULL OR o.segment <> n.segment)",
            )
            .bind(now)
            .bind(prev)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            // Each move is an event too, written with the snapshot.
            let payload = match self.backend() {
                crate::Backend::Sqlite => {
                    "json_object('from', from_segment, 'to', to_segment, 'snapshot_id', snapshot_id)"
                }
                crate::Backend::Postgres => {
                    "json_build_object('from', from_segment, 'to', to_segment, 'snapshot_id', snapshot_id)::text"
                }
            };
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "INSERT INTO events (kind, customer_id, entity, entity_id, payload, occurred_at) \
                 SELECT 'segment.moved', customer_id, 'metric_snapshot', CAST(snapshot_id AS TEXT), {payload}, at \
                 FROM segment_changes WHERE snapshot_id = $1"
            )))
            .bind(id)
            .execute(&mut *tx)
            .await?;
        }
        for f in figures {
            sqlx::query("INSERT INTO snapshot_figures (snapshot_id, kind, grp, data) VALUES ($1, $2, $3, $4)")
                .bind(id)
                .bind(&f.kind)
                .bind(&f.group)
                .bind(f.data.as_slice())
                .execute(&mut *tx)
                .await?;
        }
        self.copy_snapshot_to_facts(&mut tx, id).await?;
        sqlx::query("UPDATE metric_snapshots SET complete = 1 WHERE id = $1").bind(id).execute(&mut *tx).await?;
        let keep_from = previous.unwrap_or(id);
        sqlx::query("DELETE FROM customer_metrics WHERE snapshot_id < $1").bind(keep_from).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM product_associations WHERE snapshot_id < $1")
            .bind(keep_from)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM snapshot_figures WHERE snapshot_id < $1").bind(keep_from).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM metric_snapshots WHERE id < $1").bind(keep_from).execute(&mut *tx).await?;
        tx.commit().await?;
        if self.backend() == crate::Backend::Postgres {
            // The planner's statistics know the previous snapshot's rows only: asked for a few
            // customers of the new one it read all million of them (1.2 s a page view until
            // autovacuum analysed the table, which may be minutes later).
            for table in ["customer_metrics", "segment_changes", "customer_facts"] {
                sqlx::query(sqlx::AssertSqlSafe(format!("ANALYZE {table}"))).execute(&self.pool).await?;
            }
        }
        Ok(self.latest_snapshot().await?.expect("just written"))
    }

    /// The figures of one kind kept with a snapshot, (group, data) by group; empty for a
    /// snapshot written before figures of that kind were kept.
    pub async fn snapshot_figures(&self, snapshot_id: i64, kind: &str) -> Result<Vec<(String, Vec<u8>)>> {
        let rows =
            sqlx::query("SELECT grp, data FROM snapshot_figures WHERE snapshot_id = $1 AND kind = $2 ORDER BY grp")
                .bind(snapshot_id)
                .bind(kind)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| Ok((r.try_get("grp")?, r.try_get("data")?))).collect()
    }

    /// The newest complete snapshot.
    pub async fn latest_snapshot(&self) -> Result<Option<SnapshotInfo>> {
        sqlx::query(
            "SELECT id, computed_at, observation_end, orders, customers, diagnostics FROM metric_snapshots \
             WHERE complete = 1 ORDER BY id DESC LIMIT 1",
        )
        .fetch_optional(&self.pool)
        .await?
        .as_ref()
        .map(snapshot_from_row)
        .transpose()
    }

    /// A customer's metrics in the newest complete snapshot.
    pub async fn customer_metrics(&self, customer_id: i64) -> Result<Option<(SnapshotInfo, CustomerMetrics)>> {
        let Some(snapshot) = self.latest_snapshot().await? else { return Ok(None) };
        let sql = format!(
            "SELECT {} FROM customer_metrics WHERE snapshot_id = $1 AND customer_id = $2",
            METRIC_COLUMNS[1..].join(", ")
        );
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(snapshot.id)
            .bind(customer_id)
            .fetch_optional(&self.pool)
            .await?;
        let Some(r) = row else { return Ok(None) };
        Ok(Some((snapshot, metrics_from_row(&r)?)))
    }

    /// The metrics of `ids` in a snapshot, in the order of `ids` (those without a row there,
    /// such as a record merged since, left out).
    pub async fn metrics_of_customers(&self, snapshot_id: i64, ids: &[i64]) -> Result<Vec<CustomerMetrics>> {
        let cols = METRIC_COLUMNS[1..].join(", ");
        let rows = self
            .fetch_by_ids(ids, |list| {
                format!(
                    "SELECT {cols} FROM customer_metrics WHERE snapshot_id = {snapshot_id} AND customer_id IN ({list})"
                )
            })
            .await?;
        let mut by_id: std::collections::HashMap<i64, CustomerMetrics> =
            rows.iter().map(|r| metrics_from_row(r).map(|m| (m.customer_id, m))).collect::<Result<_>>()?;
        Ok(ids.iter().filter_map(|id| by_id.remove(id)).collect())
    }

    /// Keeps one more figure with a complete snapshot (computed from it after it was written).
    pub async fn add_snapshot_figure(&self, snapshot_id: i64, figure: &SnapshotFigure) -> Result<()> {
        self.execute_write(
            sqlx::query(
                "INSERT INTO snapshot_figures (snapshot_id, kind, grp, data) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (snapshot_id, kind, grp) DO UPDATE SET data = excluded.data",
            )
            .bind(snapshot_id)
            .bind(figure.kind.clone())
            .bind(figure.group.clone())
            .bind(figure.data.clone()),
        )
        .await?;
        Ok(())
    }

    /// Customers and total spend (minor units) per segment in a snapshot.
    pub async fn segment_totals(&self, snapshot_id: i64) -> Result<Vec<(String, i64, i64)>> {
        let rows = sqlx::query(
            "SELECT segment, COUNT(*) AS n, CAST(SUM(monetary) AS BIGINT) AS spend FROM customer_metrics WHERE snapshot_id = $1 GROUP BY segment",
        )
        .bind(snapshot_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok((r.try_get("segment")?, r.try_get("n")?, r.try_get("spend")?))).collect()
    }

    /// Every predicted 12-month CLV in a snapshot (customers the models covered).
    pub async fn clv_values(&self, snapshot_id: i64) -> Result<Vec<f64>> {
        Ok(sqlx::query_scalar("SELECT clv_12m FROM customer_metrics WHERE snapshot_id = $1 AND clv_12m IS NOT NULL")
            .bind(snapshot_id)
            .fetch_all(&self.pool)
            .await?)
    }

    /// The customers of a churn band in a snapshot, most valuable first.
    pub async fn customers_in_band(&self, snapshot_id: i64, band: &str, limit: i64) -> Result<Vec<CustomerMetrics>> {
        self.metrics_where(snapshot_id, "churn_band = $2", "clv_12m DESC", band, limit).await
    }

    /// Customers past their expected next purchase as of `today` (YYYY-MM-DD), most valuable
    /// first (those the models cover).
    pub async fn overdue_customers(&self, snapshot_id: i64, today: &str, limit: i64) -> Result<Vec<CustomerMetrics>> {
        self.metrics_where(
            snapshot_id,
            "expected_next_purchase < $2 AND clv_12m IS NOT NULL",
            "clv_12m DESC",
            today,
            limit,
        )
        .await
    }

    /// Customers of a segment, most valuable first (by predicted CLV, then past spend).
    pub async fn customers_in_segment(
        &self,
        snapshot_id: i64,
        segment: &str,
        limit: i64,
    ) -> Result<Vec<CustomerMetrics>> {
        self.metrics_where(snapshot_id, "segment = $2", "COALESCE(clv_12m, 0) DESC, monetary DESC", segment, limit)
            .await
    }

    /// Metrics rows of a snapshot matching `condition` (which may use `$2` = `arg`), in
    /// `order` then by customer id. Both fragments are constants of this module.
    async fn metrics_where(
        &self,
        snapshot_id: i64,
        condition: &'static str,
        order: &'static str,
        arg: &str,
        limit: i64,
    ) -> Result<Vec<CustomerMetrics>> {
        let sql = format!(
            "SELECT {} FROM customer_metrics WHERE snapshot_id = $1 AND {condition} ORDER BY {order}, customer_id LIMIT $3",
            METRIC_COLUMNS[1..].join(", ")
        );
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(sql)).bind(snapshot_id).bind(arg).bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(metrics_from_row).collect()
    }

    /// Customers whose segment moved in snapshot `snapshot_id` from one of `from` to one of
    /// `to` (e.g. from regulars to slipping), with their current metrics, most valuable first.
    pub async fn moved_between(
        &self,
        snapshot_id: i64,
        from: &[&str],
        to: &[&str],
        limit: i64,
    ) -> Result<Vec<(CustomerMetrics, String)>> {
        let cols: Vec<String> = METRIC_COLUMNS[1..].iter().map(|c| format!("m.{c}")).collect();
        let sql = format!(
            "SELECT {}, s.from_segment FROM segment_changes s JOIN customer_metrics m \
             ON m.snapshot_id = s.snapshot_id AND m.customer_id = s.customer_id \
             WHERE s.snapshot_id = $1 AND s.from_segment IN ({}) AND s.to_segment IN ({}) \
             ORDER BY COALESCE(m.clv_12m, 0) DESC, m.customer_id LIMIT {}",
            cols.join(", "),
            self.placeholders(2, from.len()),
            self.placeholders(2 + from.len(), to.len()),
            limit.max(0)
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(snapshot_id);
        for v in from.iter().chain(to) {
            q = q.bind(*v);
        }
        let rows = q.fetch_all(&self.pool).await?;
        rows.iter().map(|r| Ok((metrics_from_row(r)?, r.try_get("from_segment")?))).collect()
    }

    /// A customer's recorded segment moves, newest first.
    pub async fn segment_changes(&self, customer_id: i64) -> Result<Vec<SegmentChange>> {
        let rows = sqlx::query(
            "SELECT customer_id, from_segment, to_segment, snapshot_id, at FROM segment_changes \
             WHERE customer_id = $1 ORDER BY at DESC, id DESC",
        )
        .bind(customer_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(SegmentChange {
                    customer_id: r.try_get("customer_id")?,
                    from_segment: r.try_get("from_segment")?,
                    to_segment: r.try_get("to_segment")?,
                    snapshot_id: r.try_get("snapshot_id")?,
                    at: crate::from_ms(r.try_get("at")?),
                })
            })
            .collect()
    }
}
