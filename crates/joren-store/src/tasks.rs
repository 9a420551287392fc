//! Tasks for people (今日の連絡): calls, letters and visits made by scenario steps or by hand.
//! Finishing one writes its outcome as an interaction on the customer's timeline in the same
//! transaction.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::scenarios::NewTask;
use crate::{Result, Store, StoreError};

/// A task with what the list shows about its customer and where it came from.
#[derive(Debug, Clone, Serialize)]
pub struct Task {
    pub id: i64,
    pub run_id: Option<i64>,
    pub step: Option<i64>,
    pub scenario_id: Option<i64>,
    pub scenario_name: Option<String>,
    pub customer_id: i64,
    pub customer_name: String,
    pub phone: Option<String>,
    pub kind: String,
    pub title: String,
    pub due_on: String,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub state: String,
    pub outcome: Option<String>,
    pub created_at_ms: i64,
    pub done_at_ms: Option<i64>,
}

/// Which tasks to list.
#[derive(Debug, Clone, Default)]
pub struct TaskFilter {
    /// `open`, `done`, `skipped`; empty for all.
    pub state: String,
    pub assignee_id: Option<i64>,
    pub customer_id: Option<i64>,
    /// Only tasks due on or before this local date.
    pub due_by: Option<chrono::NaiveDate>,
    /// `call`, `letter`, `visit`; empty for all.
    pub kind: String,
    pub limit: i64,
}

const SELECT: &str = "SELECT t.id, t.run_id, t.step, t.scenario_id, s.name AS scenario_name, t.customer_id, \
    c.kind AS customer_kind, c.family_name, c.given_name, c.company_name, c.phone, t.kind, t.title, t.due_on, t.assignee_id, u.display_name AS assignee_name, \
    t.state, t.outcome, t.created_at, t.done_at FROM tasks t JOIN customers c ON c.id = t.customer_id \
    LEFT JOIN scenarios s ON s.id = t.scenario_id LEFT JOIN users u ON u.id = t.assignee_id";

fn from_row(r: &AnyRow) -> Result<Task> {
    Ok(Task {
        id: r.try_get("id")?,
        run_id: r.try_get("run_id")?,
        step: r.try_get("step")?,
        scenario_id: r.try_get("scenario_id")?,
        scenario_name: r.try_get("scenario_name")?,
        customer_id: r.try_get("customer_id")?,
        customer_name: crate::customer_name(r)?,
        phone: r.try_get("phone")?,
        kind: r.try_get("kind")?,
        title: r.try_get("title")?,
        due_on: r.try_get("due_on")?,
        assignee_id: r.try_get("assignee_id")?,
        assignee_name: r.try_get("assignee_name")?,
        state: r.try_get("state")?,
        outcome: r.try_get("outcome")?,
        created_at_ms: r.try_get("created_at")?,
        done_at_ms: r.try_get("done_at")?,
    })
}

/// Writes an open task in `tx`; from a scenario step (`source`: run, step, scenario) at most
/// once per run and step. Answers its id, or `None` when that step's task exists already.
pub(crate) async fn insert(
    tx: &mut crate::db::Tx,
    source: Option<(i64, i64, i64)>,
    t: &NewTask,
    now_ms: i64,
) -> Result<Option<i64>> {
    let (run, step, scenario) = match source {
        Some((r, st, sc)) => (Some(r), Some(st), Some(sc)),
        None => (None, None, None),
    };
    Ok(sqlx::query_scalar(
        "INSERT INTO tasks (run_id, step, scenario_id, customer_id, kind, title, due_on, assignee_id, state, \
         created_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,'open',$9,$9) \
         ON CONFLICT (run_id, step) DO NOTHING RETURNING id",
    )
    .bind(run)
    .bind(step)
    .bind(scenario)
    .bind(t.customer_id)
    .bind(&t.kind)
    .bind(&t.title)
    .bind(t.due_on.to_string())
    .bind(t.assignee_id)
    .bind(now_ms)
    .fetch_optional(&mut **tx)
    .await?)
}

impl Store {
    /// A task made by hand.
    pub async fn create_task(&self, t: &NewTask, now_ms: i64) -> Result<i64> {
        let mut tx = self.begin_write().await?;
        let id = insert(&mut tx, None, t, now_ms)
            .await?
            .ok_or_else(|| StoreError::Conflict(joren_core::Problem::other("task exists")))?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn task(&self, id: i64) -> Result<Option<Task>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("{SELECT} WHERE t.id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// Tasks by filter: open ones by due date, finished ones newest first.
    pub async fn tasks(&self, f: &TaskFilter) -> Result<Vec<Task>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "{SELECT} WHERE ($1 = '' OR t.state = $1) AND ($2 < 0 OR t.assignee_id = $2) \
             AND ($3 < 0 OR t.customer_id = $3) AND ($4 = '' OR t.due_on <= $4) AND ($6 = '' OR t.kind = $6) \
             ORDER BY CASE WHEN t.state = 'open' THEN 0 ELSE 1 END, \
             CASE WHEN t.state = 'open' THEN t.due_on END, t.done_at DESC, t.id LIMIT $5"
        )))
        .bind(&f.state)
        .bind(f.assignee_id.unwrap_or(-1))
        .bind(f.customer_id.unwrap_or(-1))
        .bind(f.due_by.map(|d| d.to_string()).unwrap_or_default())
        .bind(if f.limit > 0 { f.limit } else { 200 })
        .bind(&f.kind)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Finishes an open task as `done` or `skipped` with its outcome, and records the
    /// outcome as an interaction (`interaction_kind`: call, letter, visit) on the customer's
    /// timeline, in one transaction. A task already finished is a conflict.
    pub async fn finish_task(
        &self,
        id: i64,
        state: &str,
        outcome: &str,
        interaction_kind: &str,
        by: Option<i64>,
        now_ms: i64,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let row: Option<(i64, String, String)> = sqlx::query_as(
            "UPDATE tasks SET state = $1, outcome = $2, done_by = $3, done_at = $4, updated_at = $4 \
             WHERE id = $5 AND state = 'open' RETURNING customer_id, title, kind",
        )
        .bind(state)
        .bind(outcome)
        .bind(by)
        .bind(now_ms)
        .bind(id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some((customer_id, title, _)) = row else {
            let exists: Option<i64> =
                sqlx::query_scalar("SELECT id FROM tasks WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
            return Err(match exists {
                None => StoreError::NotFound("task"),
                Some(_) => StoreError::Conflict(joren_core::Code::TaskFinished.into()),
            });
        };
        if state == "done" {
            sqlx::query(
                "INSERT INTO interactions (customer_id, kind, direction, staff_user_id, subject, body, occurred_at, \
                 created_at) VALUES ($1,$2,'out',$3,$4,$5,$6,$6)",
            )
            .bind(customer_id)
            .bind(interaction_kind)
            .bind(by)
            .bind(title)
            .bind(outcome)
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    /// Open tasks per kind due on or before `day` (the home page's count).
    pub async fn open_task_count(&self, due_by: chrono::NaiveDate) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM tasks WHERE state = 'open' AND due_on <= $1")
            .bind(due_by.to_string())
            .fetch_one(&self.pool)
            .await?)
    }
}
