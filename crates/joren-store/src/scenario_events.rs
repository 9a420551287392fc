//! Events dispatched into runs: an event's exits, wake-ups and enrolments written with its
//! dispatched mark in one transaction (see [`Store::apply_event_effects`]), the every-time
//! enrolments of a batch in multi-row inserts.

use sqlx::Row;

use crate::db::Tx;
use crate::scenarios::{Enrolment, EventEffects};
use crate::{Backend, Result, Store};

/// Enrolments per multi-row insert (ten parameters each).
const ENROL_ROWS: usize = 500;

/// What stands waiting for the customers of a batch of events, read once in the batch's
/// transaction and kept up to date as its effects apply, so an effect that would change
/// nothing (most orders end no run and wake none) costs no statement.
struct Waiting {
    /// (customer, scenario) with a waiting run.
    runs: std::collections::HashSet<(i64, i64)>,
    /// Customers with a run waiting for an order.
    for_order: std::collections::HashSet<i64>,
}

impl Waiting {
    async fn read(tx: &mut Tx, events: &[(i64, EventEffects)]) -> Result<Self> {
        let mut customers: Vec<i64> = events
            .iter()
            .flat_map(|(_, e)| {
                e.exits
                    .iter()
                    .map(|x| x.0)
                    .chain(e.wake_for_order.iter().copied())
                    .chain(e.enrol.iter().map(|x| x.customer_id))
            })
            .collect();
        customers.sort_unstable();
        customers.dedup();
        let mut w = Self { runs: Default::default(), for_order: Default::default() };
        for chunk in customers.chunks(1_000) {
            let list = chunk.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
            // One row per (customer, scenario), however many of its runs wait (a customer
            // who orders often has a follow-up waiting for each order).
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT customer_id, scenario_id, CAST(MAX(CASE WHEN waiting_for_order = 1 THEN 1 ELSE 0 END) AS BIGINT) AS for_order \
                 FROM scenario_runs WHERE state = 'waiting' AND customer_id IN ({list}) GROUP BY customer_id, scenario_id"
            )))
            .fetch_all(&mut **tx)
            .await?;
            for r in rows {
                let c: i64 = r.try_get("customer_id")?;
                w.runs.insert((c, r.try_get("scenario_id")?));
                if r.try_get::<i64, _>("for_order")? == 1 {
                    w.for_order.insert(c);
                }
            }
        }
        Ok(w)
    }
}

impl Store {
    /// Acts on events `event_ids` (each with its effects, in order) and marks them
    /// dispatched, all in one transaction: an event's runs exist exactly when it is marked.
    /// Answers `false`, writing nothing, when another process dispatched any of them first.
    pub async fn apply_event_effects(&self, events: &[(i64, EventEffects)], now_ms: i64) -> Result<bool> {
        if events.is_empty() {
            return Ok(true);
        }
        let mut tx = self.begin_write().await?;
        if self.backend() == Backend::Postgres {
            // One dispatcher at a time across processes (entry rules read earlier runs).
            sqlx::query("SELECT pg_advisory_xact_lock(7071)").execute(&mut *tx).await?;
        }
        let ids: Vec<String> = events.iter().map(|(id, _)| id.to_string()).collect();
        let marked = sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE events SET dispatched_at = $1 WHERE dispatched_at IS NULL AND id IN ({})",
            ids.join(",")
        )))
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        if marked.rows_affected() != events.len() as u64 {
            drop(tx); // rolled back
            return Ok(false);
        }
        let mut waiting = Waiting::read(&mut tx, events).await?;
        let mut pending = Vec::new();
        for (_, effects) in events {
            self.apply_effects(&mut tx, effects, now_ms, &mut waiting, &mut pending).await?;
        }
        self.insert_runs(&mut tx, &mut pending, now_ms, &mut waiting).await?;
        tx.commit().await?;
        Ok(true)
    }

    /// One event's effects, in order. Enrolments that enter every time (nothing in the batch
    /// changes whether they may) wait in `pending` and go in multi-row inserts; they are
    /// written before anything that reads or changes what they would (an exit from a
    /// scenario, an enrolment with an entry rule), so the batch acts as event after event.
    async fn apply_effects<'e>(
        &self,
        tx: &mut Tx,
        effects: &'e EventEffects,
        now_ms: i64,
        waiting: &mut Waiting,
        pending: &mut Vec<&'e Enrolment>,
    ) -> Result<()> {
        if effects.exits.iter().any(|(_, scenarios, _)| !scenarios.is_empty()) {
            self.insert_runs(tx, pending, now_ms, waiting).await?;
        }
        for (customer, scenarios, reason) in &effects.exits {
            let hit: Vec<i64> = scenarios.iter().copied().filter(|s| waiting.runs.contains(&(*customer, *s))).collect();
            if hit.is_empty() {
                continue;
            }
            let ids: Vec<String> = hit.iter().map(i64::to_string).collect();
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE scenario_runs SET state = 'exited', exit_reason = $1, due_at = NULL, updated_at = $2 \
                 WHERE customer_id = $3 AND state = 'waiting' AND scenario_id IN ({})",
                ids.join(",")
            )))
            .bind(reason)
            .bind(now_ms)
            .bind(*customer)
            .execute(&mut **tx)
            .await?;
            for s in hit {
                waiting.runs.remove(&(*customer, s));
            }
        }
        // A run that enters now does not wait for an order: the wake-ups do not depend on
        // what is pending.
        for customer in &effects.wake_for_order {
            if !waiting.for_order.remove(customer) {
                continue;
            }
            sqlx::query(
                "UPDATE scenario_runs SET waiting_for_order = 2, due_at = $1, updated_at = $1 \
                 WHERE customer_id = $2 AND state = 'waiting' AND waiting_for_order = 1",
            )
            .bind(now_ms)
            .bind(*customer)
            .execute(&mut **tx)
            .await?;
        }
        for e in &effects.enrol {
            if e.not_entered_since_ms == i64::MAX {
                pending.push(e);
                continue;
            }
            self.insert_runs(tx, pending, now_ms, waiting).await?;
            if insert_run(tx, e, now_ms).await? == 1 && !e.control {
                waiting.runs.insert((e.customer_id, e.scenario_id));
            }
        }
        Ok(())
    }

    /// Writes the `pending` enrolments (each once per scenario, customer and occurrence) in
    /// multi-row inserts and notes the runs that now wait.
    async fn insert_runs(
        &self,
        tx: &mut Tx,
        pending: &mut Vec<&Enrolment>,
        now_ms: i64,
        waiting: &mut Waiting,
    ) -> Result<()> {
        const COLUMNS: usize = 10;
        for chunk in pending.chunks(ENROL_ROWS) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| {
                    format!("({}, 0, {})", self.placeholders(i * COLUMNS + 1, 6), self.placeholders(i * COLUMNS + 7, 4))
                })
                .collect();
            let sql = format!(
                "INSERT INTO scenario_runs (scenario_id, version, customer_id, occurrence, order_id, control, step, \
                 state, due_at, entered_at, updated_at) VALUES {} \
                 ON CONFLICT (scenario_id, customer_id, occurrence) DO NOTHING RETURNING customer_id, scenario_id, state",
                values.join(",")
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for e in chunk {
                q = q
                    .bind(e.scenario_id)
                    .bind(e.version)
                    .bind(e.customer_id)
                    .bind(e.occurrence.clone())
                    .bind(e.order_id)
                    .bind(e.control as i64)
                    .bind(if e.control { "control" } else { "waiting" })
                    .bind(now_ms)
                    .bind(now_ms)
                    .bind(now_ms);
            }
            for r in q.fetch_all(&mut **tx).await? {
                if r.try_get::<String, _>("state")? == "waiting" {
                    waiting.runs.insert((r.try_get("customer_id")?, r.try_get("scenario_id")?));
                }
            }
        }
        pending.clear();
        Ok(())
    }
}

/// One enrolment, checked against its entry rule (no run of the scenario for the customer
/// entered after `not_entered_since_ms`); answers whether it entered.
pub(crate) async fn insert_run(tx: &mut Tx, e: &Enrolment, now_ms: i64) -> Result<u64> {
    let state = if e.control { "control" } else { "waiting" };
    let done = sqlx::query(
        "INSERT INTO scenario_runs (scenario_id, version, customer_id, occurrence, order_id, control, step, state, \
         due_at, entered_at, updated_at) \
         SELECT $1, $2, $3, $4, $5, $6, 0, $7, $8, $8, $8 \
         WHERE NOT EXISTS (SELECT 1 FROM scenario_runs WHERE scenario_id = $1 AND customer_id = $3 AND entered_at > $9) \
         ON CONFLICT (scenario_id, customer_id, occurrence) DO NOTHING",
    )
    .bind(e.scenario_id)
    .bind(e.version)
    .bind(e.customer_id)
    .bind(&e.occurrence)
    .bind(e.order_id)
    .bind(e.control as i64)
    .bind(state)
    .bind(now_ms)
    .bind(e.not_entered_since_ms)
    .execute(&mut **tx)
    .await?;
    Ok(done.rows_affected())
}
