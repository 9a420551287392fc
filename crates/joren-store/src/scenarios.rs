//! Scenarios, their versions and runs (see the migration `0019_scenarios.sql`). The engine's
//! decisions are made in `joren_app::scenarios`; here they are written, each in one
//! transaction with what it causes: an event's enrolments and exits with its dispatched mark,
//! a run's step with its outbox rows, tasks and tags. Times are milliseconds from the caller's
//! clock.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::bulk::Val;
use crate::db::Tx;
use crate::{Result, Store, StoreError, now_ms as now_ms_store};

/// A scenario with its current definition.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    pub id: i64,
    pub name: String,
    pub status: String,
    pub version: i64,
    pub definition: serde_json::Value,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// When it last became active (store clock); events before it trigger nothing.
    pub activated_at_ms: Option<i64>,
}

/// A run as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Run {
    pub id: i64,
    pub scenario_id: i64,
    pub version: i64,
    pub customer_id: i64,
    pub occurrence: String,
    pub order_id: Option<i64>,
    pub control: bool,
    pub step: i64,
    pub state: String,
    pub due_at_ms: Option<i64>,
    /// 0: not waiting for an order; 1: waiting; 2: the order came.
    pub waiting_for_order: i64,
    pub exit_reason: Option<String>,
    pub last_error: Option<String>,
    pub entered_at_ms: i64,
    pub updated_at_ms: i64,
}

/// A customer entering a scenario.
#[derive(Debug, Clone)]
pub struct Enrolment {
    pub scenario_id: i64,
    pub version: i64,
    pub customer_id: i64,
    pub occurrence: String,
    pub order_id: Option<i64>,
    pub control: bool,
    /// Refused when the customer entered this scenario after this time (`i64::MIN`: once
    /// ever; `i64::MAX`: every time).
    pub not_entered_since_ms: i64,
}

/// What acting on one event does besides enrolling: runs that end, and runs waiting for an
/// order that wake.
#[derive(Debug, Clone, Default)]
pub struct EventEffects {
    pub enrol: Vec<Enrolment>,
    /// (customer, scenarios whose waiting runs end, reason).
    pub exits: Vec<(i64, Vec<i64>, String)>,
    /// Customers whose runs waiting for an order wake.
    pub wake_for_order: Vec<i64>,
}

/// A message decided by a run step.
#[derive(Debug, Clone)]
pub struct NewMessage {
    pub customer_id: i64,
    pub channel: String,
    pub marketing: bool,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub not_before_ms: i64,
    pub test_mode: bool,
    /// The provider's message objects when they are more than the text (LINE), as JSON.
    pub payload: Option<String>,
}

/// A task decided by a run step.
#[derive(Debug, Clone)]
pub struct NewTask {
    pub customer_id: i64,
    pub kind: String,
    pub title: String,
    pub due_on: chrono::NaiveDate,
    pub assignee_id: Option<i64>,
}

/// Everything one advance of a run writes.
#[derive(Debug, Clone, Default)]
pub struct RunAdvance {
    /// (step index, message).
    pub messages: Vec<(i64, NewMessage)>,
    /// (step index, task).
    pub tasks: Vec<(i64, NewTask)>,
    /// Survey invitations the run's messages carry (written only when the run moves).
    pub invitations: Vec<crate::NewInvitation>,
    pub add_tags: Vec<String>,
    pub remove_tags: Vec<String>,
    /// Where the run stands afterwards.
    pub step: i64,
    pub state: String,
    pub due_at_ms: Option<i64>,
    pub waiting_for_order: i64,
    pub exit_reason: Option<String>,
    pub last_error: Option<String>,
}

/// Runs of one scenario by state and step.
#[derive(Debug, Clone, Serialize)]
pub struct RunCount {
    pub state: String,
    pub step: i64,
    pub count: i64,
}

/// Runs moved by one update statement (8 parameters each).
const ADVANCE_ROWS: usize = 500;

const OUTBOX_COLUMNS: [&str; 18] = [
    "run_id",
    "scenario_id",
    "version",
    "step",
    "customer_id",
    "occurrence",
    "channel",
    "marketing",
    "recipient",
    "subject",
    "body_text",
    "body_html",
    "state",
    "not_before",
    "test_mode",
    "created_at",
    "updated_at",
    "payload",
];

const RUN_COLUMNS: &str = "id, scenario_id, version, customer_id, occurrence, order_id, control, step, state, due_at, \
                           waiting_for_order, exit_reason, last_error, entered_at, updated_at";

fn run_from_row(r: &AnyRow) -> Result<Run> {
    Ok(Run {
        id: r.try_get("id")?,
        scenario_id: r.try_get("scenario_id")?,
        version: r.try_get("version")?,
        customer_id: r.try_get("customer_id")?,
        occurrence: r.try_get("occurrence")?,
        order_id: r.try_get("order_id")?,
        control: r.try_get::<i64, _>("control")? != 0,
        step: r.try_get("step")?,
        state: r.try_get("state")?,
        due_at_ms: r.try_get("due_at")?,
        waiting_for_order: r.try_get("waiting_for_order")?,
        exit_reason: r.try_get("exit_reason")?,
        last_error: r.try_get("last_error")?,
        entered_at_ms: r.try_get("entered_at")?,
        updated_at_ms: r.try_get("updated_at")?,
    })
}

fn scenario_from_row(r: &AnyRow) -> Result<Scenario> {
    let definition: String = r.try_get("definition")?;
    Ok(Scenario {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        status: r.try_get("status")?,
        version: r.try_get("version")?,
        definition: serde_json::from_str(&definition).unwrap_or(serde_json::Value::Null),
        created_at_ms: r.try_get("created_at")?,
        updated_at_ms: r.try_get("updated_at")?,
        activated_at_ms: r.try_get("activated_at")?,
    })
}

const SCENARIO_SELECT: &str = "SELECT s.id, s.name, s.status, s.version, v.definition, s.created_at, s.updated_at, \
    s.activated_at \
    FROM scenarios s JOIN scenario_versions v ON v.scenario_id = s.id AND v.version = s.version";

impl Store {
    /// Creates a scenario (a draft, version 1).
    pub async fn create_scenario(&self, name: &str, definition: &str, by: Option<i64>, now_ms: i64) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO scenarios (name, status, version, created_at, updated_at) VALUES ($1, 'draft', 1, $2, $2) \
             RETURNING id",
        )
        .bind(name)
        .bind(now_ms)
        .fetch_one(&mut *tx)
        .await?;
        insert_version(&mut tx, id, 1, definition, by, now_ms).await?;
        tx.commit().await?;
        Ok(id)
    }

    /// Saves a new version of a scenario's definition (runs in progress keep theirs); answers
    /// the new version number.
    pub async fn update_scenario(
        &self,
        id: i64,
        name: &str,
        definition: &str,
        by: Option<i64>,
        now_ms: i64,
    ) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let version: Option<i64> = sqlx::query_scalar(
            "UPDATE scenarios SET version = version + 1, name = $1, updated_at = $2 WHERE id = $3 RETURNING version",
        )
        .bind(name)
        .bind(now_ms)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let version = version.ok_or(StoreError::NotFound("scenario"))?;
        insert_version(&mut tx, id, version, definition, by, now_ms).await?;
        tx.commit().await?;
        Ok(version)
    }

    /// Sets a scenario's status (`draft`, `active`, `paused`).
    pub async fn set_scenario_status(&self, id: i64, status: &str, now_ms: i64) -> Result<()> {
        let done = self
            .execute_write(
                sqlx::query(
                    "UPDATE scenarios SET activated_at = CASE WHEN $1 = 'active' AND status <> 'active' THEN $4 \
                     ELSE activated_at END, status = $1, updated_at = $2 WHERE id = $3",
                )
                .bind(status)
                .bind(now_ms)
                .bind(id)
                .bind(crate::now_ms()),
            )
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("scenario"));
        }
        Ok(())
    }

    pub async fn scenario(&self, id: i64) -> Result<Option<Scenario>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SCENARIO_SELECT} WHERE s.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(scenario_from_row).transpose()
    }

    /// Every scenario, newest first; `active_only` for the engine.
    pub async fn scenarios(&self, active_only: bool) -> Result<Vec<Scenario>> {
        let filter = if active_only { " WHERE s.status = 'active'" } else { "" };
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{SCENARIO_SELECT}{filter} ORDER BY s.id DESC")))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(scenario_from_row).collect()
    }

    /// One version's definition (a run reads the version it entered).
    pub async fn scenario_version(&self, id: i64, version: i64) -> Result<Option<serde_json::Value>> {
        let def: Option<String> =
            sqlx::query_scalar("SELECT definition FROM scenario_versions WHERE scenario_id = $1 AND version = $2")
                .bind(id)
                .bind(version)
                .fetch_optional(&self.pool)
                .await?;
        Ok(def.map(|d| serde_json::from_str(&d).unwrap_or(serde_json::Value::Null)))
    }

    /// Enrols customers outside any event (a broadcast, one customer by hand, the daily
    /// birthday and days-after-purchase checks). Answers how many entered.
    pub async fn enrol(&self, enrolments: &[Enrolment], now_ms: i64) -> Result<u64> {
        let mut tx = self.begin_write().await?;
        let mut n = 0;
        for e in enrolments {
            n += crate::scenario_events::insert_run(&mut tx, e, now_ms).await?;
        }
        tx.commit().await?;
        Ok(n)
    }

    /// Runs whose next step is due, oldest first, after `after` (the due time and id of the
    /// last run of the page before); a paused scenario's runs wait.
    pub async fn due_runs(&self, now_ms: i64, after: Option<(i64, i64)>, limit: i64) -> Result<Vec<Run>> {
        // Keyset paging in due order: after (due time, id) of the last run of the page before.
        let (after_due, after_id) = after.unwrap_or((i64::MIN, i64::MIN));
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RUN_COLUMNS} FROM scenario_runs WHERE state = 'waiting' AND due_at <= $1 \
             AND (due_at, id) > ($2, $3) \
             AND scenario_id NOT IN (SELECT id FROM scenarios WHERE status = 'paused') \
             ORDER BY due_at, id LIMIT $4"
        )))
        .bind(now_ms)
        .bind(after_due)
        .bind(after_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(run_from_row).collect()
    }

    /// A customer's runs, newest first.
    pub async fn customer_runs(&self, customer_id: i64) -> Result<Vec<Run>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {RUN_COLUMNS} FROM scenario_runs WHERE customer_id = $1 ORDER BY id DESC LIMIT 200"
        )))
        .bind(customer_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(run_from_row).collect()
    }

    /// Writes a batch of run advances in one transaction: each run moves on only if it still
    /// stands where it was read (`run.step`, waiting) — a run another worker moved on in the
    /// meantime writes nothing — and its messages, tasks and tags go with it. The runs move in
    /// multi-row updates and their mail goes in multi-row inserts (a few statements a batch,
    /// not two a run). Answers how many runs moved.
    pub async fn advance_runs(&self, batch: &[(&Run, &RunAdvance)], now_ms: i64) -> Result<usize> {
        if batch.is_empty() {
            return Ok(0);
        }
        // In run order, so two workers writing overlapping batches lock rows in one order.
        let mut batch = batch.to_vec();
        batch.sort_by_key(|(run, _)| run.id);
        let mut tx = self.begin_write().await?;
        let mut moved: std::collections::HashSet<i64> = std::collections::HashSet::with_capacity(batch.len());
        for chunk in batch.chunks(ADVANCE_ROWS) {
            moved.extend(self.move_runs(&mut tx, chunk, now_ms).await?);
        }
        let moved_runs: Vec<&(&Run, &RunAdvance)> = batch.iter().filter(|(r, _)| moved.contains(&r.id)).collect();
        let mut messages: Vec<Vec<Val>> = Vec::new();
        for (run, a) in &moved_runs {
            for (step, m) in &a.messages {
                messages.push(vec![
                    Val::OptInt(Some(run.id)),
                    Val::OptInt(Some(run.scenario_id)),
                    Val::OptInt(Some(run.version)),
                    Val::OptInt(Some(*step)),
                    Val::Int(m.customer_id),
                    Val::Text(run.occurrence.clone()),
                    Val::Text(m.channel.clone()),
                    Val::Int(m.marketing as i64),
                    Val::Text(m.recipient.clone()),
                    Val::Text(m.subject.clone()),
                    Val::Text(m.body_text.clone()),
                    Val::Text(m.body_html.clone()),
                    Val::Text("queued".into()),
                    Val::Int(m.not_before_ms),
                    Val::Int(m.test_mode as i64),
                    Val::Int(now_ms),
                    Val::Int(now_ms),
                    Val::OptText(m.payload.clone()),
                ]);
            }
        }
        self.bulk_insert_with(
            &mut tx,
            "outbox",
            &OUTBOX_COLUMNS,
            messages,
            " ON CONFLICT (scenario_id, version, step, customer_id, occurrence, channel) DO NOTHING",
        )
        .await?;
        // Each run's move as a `scenario.step` event for integrations (webhooks). Written as
        // dispatched: the scenario engine does not react to its own steps. Stamped like every
        // other event (the store's time), so a subscription sees it in order with them.
        let stamp = now_ms_store();
        let steps = moved_runs.iter().map(|(run, a)| {
            let payload = serde_json::json!({
                "scenario_id": run.scenario_id,
                "version": run.version,
                "from_step": run.step,
                "step": a.step,
                "state": a.state,
                "exit_reason": a.exit_reason,
                "messages": a.messages.len(),
                "tasks": a.tasks.len(),
            });
            vec![
                Val::Text(joren_core::event::EventKind::ScenarioStep.as_str().into()),
                Val::Int(run.customer_id),
                Val::Text("scenario_run".into()),
                Val::Text(run.id.to_string()),
                Val::Text(payload.to_string()),
                Val::Int(stamp),
                Val::Int(stamp),
            ]
        });
        let columns = ["kind", "customer_id", "entity", "entity_id", "payload", "occurred_at", "dispatched_at"];
        self.bulk_insert(&mut tx, "events", &columns, steps.collect::<Vec<_>>()).await?;
        let invitations: Vec<crate::NewInvitation> =
            moved_runs.iter().flat_map(|(_, a)| a.invitations.iter().cloned()).collect();
        crate::surveys::insert_invitations(&mut tx, &invitations).await?;
        let mut tagged: Vec<i64> = Vec::new();
        for (run, a) in &moved_runs {
            for (step, t) in &a.tasks {
                crate::tasks::insert(&mut tx, Some((run.id, *step, run.scenario_id)), t, now_ms).await?;
            }
            for tag in &a.add_tags {
                sqlx::query("INSERT INTO customer_tags (customer_id, tag) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                    .bind(run.customer_id)
                    .bind(tag)
                    .execute(&mut *tx)
                    .await?;
            }
            for tag in &a.remove_tags {
                sqlx::query("DELETE FROM customer_tags WHERE customer_id = $1 AND tag = $2")
                    .bind(run.customer_id)
                    .bind(tag)
                    .execute(&mut *tx)
                    .await?;
            }
            if !a.add_tags.is_empty() || !a.remove_tags.is_empty() {
                tagged.push(run.customer_id);
            }
        }
        tagged.sort_unstable();
        tagged.dedup();
        for c in tagged {
            self.refresh_customer_facts(&mut tx, c, c).await?;
        }
        tx.commit().await?;
        Ok(moved_runs.len())
    }

    /// One multi-row fenced update: each run takes its new place only where it still stands
    /// at the step it was read at, waiting. Answers the runs that moved.
    async fn move_runs(&self, tx: &mut Tx, chunk: &[(&Run, &RunAdvance)], now_ms: i64) -> Result<Vec<i64>> {
        const TYPES: [&str; 8] = ["BIGINT", "BIGINT", "BIGINT", "TEXT", "BIGINT", "BIGINT", "TEXT", "TEXT"];
        // VALUES columns: id, from step, step, state, due, waiting for an order, exit reason,
        // last error.
        let sql = format!(
            "UPDATE scenario_runs SET step = v.column3, state = v.column4, due_at = v.column5, \
             waiting_for_order = v.column6, exit_reason = v.column7, last_error = v.column8, updated_at = {} \
             FROM (VALUES {}) AS v WHERE scenario_runs.id = v.column1 AND scenario_runs.step = v.column2 \
             AND scenario_runs.state = 'waiting' RETURNING scenario_runs.id",
            self.placeholders(1, 1),
            self.typed_values(2, &TYPES, chunk.len())
        );
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(now_ms);
        for (run, a) in chunk {
            q = q
                .bind(run.id)
                .bind(run.step)
                .bind(a.step)
                .bind(a.state.clone())
                .bind(a.due_at_ms)
                .bind(a.waiting_for_order)
                .bind(a.exit_reason.clone())
                .bind(a.last_error.clone());
        }
        let rows = q.fetch_all(&mut **tx).await?;
        rows.iter().map(|r| Ok(r.try_get::<i64, _>(0)?)).collect()
    }

    /// Runs of a scenario by state and step (customers waiting at each step, done, exited).
    pub async fn run_counts(&self, scenario_id: i64) -> Result<Vec<RunCount>> {
        let rows = sqlx::query(
            "SELECT state, step, COUNT(*) AS n FROM scenario_runs WHERE scenario_id = $1 GROUP BY state, step \
             ORDER BY state, step",
        )
        .bind(scenario_id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok(RunCount { state: r.try_get("state")?, step: r.try_get("step")?, count: r.try_get("n")? }))
            .collect()
    }

    /// For each run of a scenario that entered at or before `entered_by_ms`: whether it is in
    /// the control group, and the customer's live orders and their total in the `window_ms`
    /// after entering (the uplift report).
    pub async fn run_outcomes(
        &self,
        scenario_id: i64,
        window_ms: i64,
        entered_by_ms: i64,
    ) -> Result<Vec<(bool, i64, i64)>> {
        let rows = sqlx::query(
            "SELECT r.control, COUNT(o.id) AS orders, CAST(COALESCE(SUM(o.total), 0) AS BIGINT) AS revenue FROM scenario_runs r \
             LEFT JOIN orders o ON o.customer_id = r.customer_id AND o.status <> 'cancelled' \
             AND o.ordered_at > r.entered_at AND o.ordered_at <= r.entered_at + $2 \
             WHERE r.scenario_id = $1 AND r.entered_at <= $3 GROUP BY r.id, r.control",
        )
        .bind(scenario_id)
        .bind(window_ms)
        .bind(entered_by_ms)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<i64, _>("control")? != 0, r.try_get("orders")?, r.try_get("revenue")?)))
            .collect()
    }

    /// The first purchase, last purchase and birthday of live customers, for the daily
    /// time-based triggers: (customer, first order ms, last order ms, birthday).
    pub async fn customer_dates(&self) -> Result<Vec<(i64, Option<i64>, Option<i64>, Option<String>)>> {
        let rows = sqlx::query(
            "SELECT c.id, MIN(o.ordered_at) AS first_at, MAX(o.ordered_at) AS last_at, c.birthday FROM customers c \
             LEFT JOIN orders o ON o.customer_id = c.id AND o.status <> 'cancelled' \
             WHERE c.merged_into IS NULL GROUP BY c.id, c.birthday",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("id")?, r.try_get("first_at")?, r.try_get("last_at")?, r.try_get("birthday")?)))
            .collect()
    }
}

async fn insert_version(
    tx: &mut Tx,
    id: i64,
    version: i64,
    definition: &str,
    by: Option<i64>,
    now_ms: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO scenario_versions (scenario_id, version, definition, created_by, created_at) \
         VALUES ($1,$2,$3,$4,$5)",
    )
    .bind(id)
    .bind(version)
    .bind(definition)
    .bind(by)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(())
}
