//! Complaint cases (see the migration `0036_cases.sql`): opened once per source (written with
//! its `case.opened` event and its "received" step), moved one step at a time — a step is
//! taken only from the stage it was read at, so two people pressing at once record it once —
//! closed with its prevention and its `case.closed` event, and escalated once.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::scenarios::NewTask;
use crate::{Result, Store, StoreError};

/// A case with its customer's and assignee's names.
#[derive(Debug, Clone, Serialize)]
pub struct Case {
    pub id: i64,
    pub customer_id: Option<i64>,
    pub customer_name: Option<String>,
    pub conversation_id: Option<i64>,
    pub response_id: Option<i64>,
    /// `staff`, `inbox`, `survey`.
    pub source: String,
    pub title: String,
    pub category: String,
    pub stage: String,
    pub assignee_id: Option<i64>,
    pub assignee_name: Option<String>,
    pub opened_at_ms: i64,
    pub due_at_ms: Option<i64>,
    pub escalate_at_ms: Option<i64>,
    pub first_response_at_ms: Option<i64>,
    pub escalated_at_ms: Option<i64>,
    pub promised_on: Option<String>,
    pub carried_out_at_ms: Option<i64>,
    pub root_cause: String,
    pub prevention: String,
    pub closed_at_ms: Option<i64>,
}

/// One step as recorded.
#[derive(Debug, Clone, Serialize)]
pub struct CaseStep {
    pub stage: String,
    pub note: String,
    pub by_user_id: Option<i64>,
    pub by_name: String,
    pub at_ms: i64,
}

/// A case to open.
#[derive(Debug, Clone)]
pub struct NewCase {
    pub customer_id: Option<i64>,
    pub conversation_id: Option<i64>,
    pub response_id: Option<i64>,
    pub source: String,
    /// Unique: a conversation, a survey answer or a retried request opens one case.
    pub source_key: String,
    pub title: String,
    pub category: String,
    pub assignee_id: Option<i64>,
    pub opened_at_ms: i64,
    pub due_at_ms: Option<i64>,
    pub escalate_at_ms: Option<i64>,
    pub created_by: Option<i64>,
    pub created_by_name: String,
    pub note: String,
}

/// A step to record.
#[derive(Debug, Clone)]
pub struct StepWrite {
    /// The stage the case was read at (the step is refused if it moved meanwhile).
    pub from: String,
    pub stage: String,
    pub note: String,
    pub by_user_id: Option<i64>,
    pub by_name: String,
    pub at_ms: i64,
    pub promised_on: Option<String>,
    pub root_cause: String,
    pub prevention: String,
}

/// Which cases to list.
#[derive(Debug, Clone, Default)]
pub struct CaseFilter {
    /// `open`, `closed`, `breached` (not answered by the deadline, open or not); empty: all.
    pub state: String,
    pub customer_id: Option<i64>,
    pub limit: i64,
}

const SELECT: &str = "SELECT k.id, k.customer_id, c.kind AS customer_kind, c.family_name, c.given_name, c.company_name, \
    k.conversation_id, k.response_id, k.source, k.title, k.category, k.stage, k.assignee_id, \
    u.display_name AS assignee_name, k.opened_at, k.due_at, k.escalate_at, k.first_response_at, k.escalated_at, \
    k.promised_on, k.carried_out_at, k.root_cause, k.prevention, k.closed_at FROM cases k \
    LEFT JOIN customers c ON c.id = k.customer_id LEFT JOIN users u ON u.id = k.assignee_id";

fn from_row(r: &AnyRow) -> Result<Case> {
    let customer_id: Option<i64> = r.try_get("customer_id")?;
    Ok(Case {
        id: r.try_get("id")?,
        customer_name: match customer_id {
            Some(_) => Some(crate::customer_name(r)?),
            None => None,
        },
        customer_id,
        conversation_id: r.try_get("conversation_id")?,
        response_id: r.try_get("response_id")?,
        source: r.try_get("source")?,
        title: r.try_get("title")?,
        category: r.try_get("category")?,
        stage: r.try_get("stage")?,
        assignee_id: r.try_get("assignee_id")?,
        assignee_name: r.try_get("assignee_name")?,
        opened_at_ms: r.try_get("opened_at")?,
        due_at_ms: r.try_get("due_at")?,
        escalate_at_ms: r.try_get("escalate_at")?,
        first_response_at_ms: r.try_get("first_response_at")?,
        escalated_at_ms: r.try_get("escalated_at")?,
        promised_on: r.try_get("promised_on")?,
        carried_out_at_ms: r.try_get("carried_out_at")?,
        root_cause: r.try_get("root_cause")?,
        prevention: r.try_get("prevention")?,
        closed_at_ms: r.try_get("closed_at")?,
    })
}

fn event_payload(k: &Case) -> serde_json::Value {
    serde_json::json!({
        "case_id": k.id,
        "source": k.source,
        "title": k.title,
        "category": k.category,
        "stage": k.stage,
        "root_cause": k.root_cause,
    })
}

impl Store {
    pub async fn case(&self, id: i64) -> Result<Case> {
        let sql = format!("{SELECT} WHERE k.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("case"))?;
        from_row(&row)
    }

    /// A case's steps, in the order taken.
    pub async fn case_steps(&self, id: i64) -> Result<Vec<CaseStep>> {
        let rows = sqlx::query(
            "SELECT stage, note, by_user_id, by_name, at FROM case_steps WHERE case_id = $1 ORDER BY at, id",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CaseStep {
                    stage: r.try_get("stage")?,
                    note: r.try_get("note")?,
                    by_user_id: r.try_get("by_user_id")?,
                    by_name: r.try_get("by_name")?,
                    at_ms: r.try_get("at")?,
                })
            })
            .collect()
    }

    /// Cases, newest first; `now_ms` tells a breach.
    pub async fn cases(&self, f: &CaseFilter, now_ms: i64) -> Result<Vec<Case>> {
        let mut sql = format!("{SELECT} WHERE 1 = 1");
        let mut n = 0;
        let mut next = || {
            n += 1;
            n
        };
        let breached = f.state == "breached";
        match f.state.as_str() {
            "open" => sql.push_str(" AND k.closed_at IS NULL"),
            "closed" => sql.push_str(" AND k.closed_at IS NOT NULL"),
            "breached" => sql.push_str(&format!(
                " AND ((k.first_response_at IS NULL AND k.due_at < ${}) OR k.first_response_at > k.due_at)",
                next()
            )),
            _ => {}
        }
        if f.customer_id.is_some() {
            sql.push_str(&format!(" AND k.customer_id = ${}", next()));
        }
        sql.push_str(&format!(" ORDER BY k.opened_at DESC, k.id DESC LIMIT ${}", next()));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if breached {
            q = q.bind(now_ms);
        }
        if let Some(c) = f.customer_id {
            q = q.bind(c);
        }
        let limit = if f.limit > 0 { f.limit.min(1000) } else { 200 };
        let rows = q.bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(from_row).collect()
    }

    /// Opens a case once per source key, with its "received" step and `case.opened` event in
    /// one transaction. Answers the case and whether this call opened it.
    pub async fn open_case(&self, k: &NewCase) -> Result<(Case, bool)> {
        let mut tx = self.begin_write().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO cases (customer_id, conversation_id, response_id, source, source_key, title, category, stage, \
             assignee_id, opened_at, due_at, escalate_at, created_by, updated_at) \
             VALUES ($1,$2,$3,$4,$5,$6,$7,'received',$8,$9,$10,$11,$12,$9) ON CONFLICT (source_key) DO NOTHING RETURNING id",
        )
        .bind(k.customer_id)
        .bind(k.conversation_id)
        .bind(k.response_id)
        .bind(&k.source)
        .bind(&k.source_key)
        .bind(&k.title)
        .bind(&k.category)
        .bind(k.assignee_id)
        .bind(k.opened_at_ms)
        .bind(k.due_at_ms)
        .bind(k.escalate_at_ms)
        .bind(k.created_by)
        .fetch_optional(&mut *tx)
        .await?;
        if let Some(id) = id {
            sqlx::query("INSERT INTO case_steps (case_id, stage, note, by_user_id, by_name, at) VALUES ($1,'received',$2,$3,$4,$5)")
                .bind(id)
                .bind(&k.note)
                .bind(k.created_by)
                .bind(&k.created_by_name)
                .bind(k.opened_at_ms)
                .execute(&mut *tx)
                .await?;
            if let Some(customer) = k.customer_id {
                let payload =
                    serde_json::json!({"case_id": id, "source": k.source, "title": k.title, "category": k.category});
                let kind = joren_core::event::EventKind::CaseOpened;
                crate::events::insert(&mut tx, kind, customer, "case", id, &payload).await?;
            }
        }
        tx.commit().await?;
        let opened = id.is_some();
        let id = match id {
            Some(id) => id,
            None => {
                sqlx::query_scalar("SELECT id FROM cases WHERE source_key = $1")
                    .bind(&k.source_key)
                    .fetch_one(&self.pool)
                    .await?
            }
        };
        Ok((self.case(id).await?, opened))
    }

    /// Records a step: only from the stage the case was read at (0 rows: it moved meanwhile,
    /// `Conflict`). The first response, the promised date, the carrying out and the closing
    /// with its prevention are written on the case; closing raises `case.closed`.
    pub async fn record_case_step(&self, id: i64, w: &StepWrite) -> Result<Case> {
        let mut tx = self.begin_write().await?;
        let closing = w.stage == "prevented";
        let done = sqlx::query(
            "UPDATE cases SET stage = $1, updated_at = $2, \
             first_response_at = CASE WHEN $1 = 'first_response' THEN $2 ELSE first_response_at END, \
             promised_on = COALESCE($3, promised_on), \
             carried_out_at = CASE WHEN $1 = 'carried_out' THEN $2 ELSE carried_out_at END, \
             root_cause = CASE WHEN $1 = 'prevented' THEN $4 ELSE root_cause END, \
             prevention = CASE WHEN $1 = 'prevented' THEN $5 ELSE prevention END, \
             closed_at = CASE WHEN $1 = 'prevented' THEN $2 ELSE closed_at END \
             WHERE id = $6 AND stage = $7",
        )
        .bind(&w.stage)
        .bind(w.at_ms)
        .bind(&w.promised_on)
        .bind(&w.root_cause)
        .bind(&w.prevention)
        .bind(id)
        .bind(&w.from)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::Conflict(joren_core::Code::CaseStepOrder.into()));
        }
        sqlx::query(
            "INSERT INTO case_steps (case_id, stage, note, by_user_id, by_name, at) VALUES ($1,$2,$3,$4,$5,$6)",
        )
        .bind(id)
        .bind(&w.stage)
        .bind(&w.note)
        .bind(w.by_user_id)
        .bind(&w.by_name)
        .bind(w.at_ms)
        .execute(&mut *tx)
        .await?;
        let sql = format!("{SELECT} WHERE k.id = $1");
        let case = from_row(&sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(&mut *tx).await?)?;
        if let (true, Some(customer)) = (closing, case.customer_id) {
            let kind = joren_core::event::EventKind::CaseClosed;
            crate::events::insert(&mut tx, kind, customer, "case", id, &event_payload(&case)).await?;
        }
        tx.commit().await?;
        Ok(case)
    }

    /// Escalates every open case not answered whose escalation time has come, once each: the
    /// case is marked and `task(case)` (a call for the owner) goes on the contact list in the
    /// same transaction. Answers the cases escalated.
    pub async fn escalate_cases(&self, now_ms: i64, task: impl Fn(&Case) -> Option<NewTask>) -> Result<Vec<Case>> {
        let mut tx = self.begin_write().await?;
        let ids: Vec<i64> = sqlx::query_scalar(
            "UPDATE cases SET escalated_at = $1, updated_at = $1 WHERE closed_at IS NULL AND first_response_at IS NULL \
             AND escalated_at IS NULL AND escalate_at <= $1 RETURNING id",
        )
        .bind(now_ms)
        .fetch_all(&mut *tx)
        .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let sql = format!("{SELECT} WHERE k.id = $1");
            let case = from_row(&sqlx::query(sqlx::AssertSqlSafe(sql)).bind(id).fetch_one(&mut *tx).await?)?;
            if let Some(t) = task(&case) {
                crate::tasks::insert(&mut tx, None, &t, now_ms).await?;
            }
            out.push(case);
        }
        tx.commit().await?;
        Ok(out)
    }

    /// Closed cases' root causes and closing times since `from_ms` (the prevention report).
    pub async fn case_root_causes(&self, from_ms: i64) -> Result<Vec<(String, i64)>> {
        let rows = sqlx::query("SELECT root_cause, closed_at FROM cases WHERE closed_at >= $1 ORDER BY closed_at")
            .bind(from_ms)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok((r.try_get("root_cause")?, r.try_get("closed_at")?))).collect()
    }
}
