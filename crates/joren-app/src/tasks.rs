//! Tasks for people (今日の連絡): the calls, letters and visits scenario steps make, and ones
//! made by hand. Finishing one records its outcome on the customer's timeline.

use chrono::NaiveDate;
use joren_core::scenario::TaskKind;
use joren_core::{FieldError, FieldErrors};
pub use joren_store::{Task, TaskFilter};
use serde::{Deserialize, Serialize};

use crate::{Actor, App, AppError, Result};

/// Longest outcome note.
const MAX_OUTCOME: usize = 2_000;

/// A task made by hand.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TaskInput {
    pub customer_id: i64,
    pub kind: String,
    pub title: String,
    pub due_on: Option<NaiveDate>,
    #[serde(default)]
    pub assignee_id: Option<i64>,
}

/// How a task ended.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct TaskOutcome {
    /// `done` or `skipped`.
    pub state: String,
    #[serde(default)]
    pub outcome: String,
}

/// The interaction a finished task is recorded as.
fn interaction_kind(kind: &str) -> &'static str {
    match kind {
        "call" => "phone",
        "letter" => "dm",
        _ => "visit",
    }
}

impl App {
    /// Tasks by filter (open ones by due date first).
    pub async fn tasks(&self, filter: &TaskFilter) -> Result<Vec<Task>> {
        Ok(self.store.tasks(filter).await?)
    }

    pub async fn task(&self, id: i64) -> Result<Task> {
        self.store.task(id).await?.ok_or(AppError::NotFound("task"))
    }

    /// Open tasks due today or earlier.
    pub async fn tasks_due_today(&self) -> Result<i64> {
        Ok(self.store.open_task_count(self.today_date()).await?)
    }

    pub async fn create_task(&self, actor: &Actor, input: TaskInput) -> Result<Task> {
        actor.require_write()?;
        let mut e = FieldErrors::default();
        let kind = TaskKind::parse(&input.kind);
        if kind.is_none() {
            e.push("kind", "電話・手紙・訪問から選んでください");
        }
        if input.title.trim().is_empty() {
            e.push("title", "内容を入れてください");
        }
        e.take(joren_core::text::check_text("title", &input.title, 200));
        if !e.is_empty() {
            return Err(e.into());
        }
        self.get_customer(input.customer_id).await?;
        let t = joren_store::NewTask {
            customer_id: input.customer_id,
            kind: kind.expect("checked").as_str().into(),
            title: input.title.trim().to_string(),
            due_on: input.due_on.unwrap_or_else(|| self.today_date()),
            assignee_id: input.assignee_id.or(actor.user_id),
        };
        let id = self.store.create_task(&t, self.config.clock.now_ms()).await?;
        self.audit(actor, "task.create", "task", id, serde_json::json!({"customer_id": t.customer_id})).await?;
        self.task(id).await
    }

    /// Marks a task done (its outcome lands on the customer's timeline as a call, letter or
    /// visit) or skipped.
    pub async fn finish_task(&self, actor: &Actor, id: i64, outcome: TaskOutcome) -> Result<Task> {
        actor.require_write()?;
        if !matches!(outcome.state.as_str(), "done" | "skipped") {
            return Err(FieldError::new("state", "完了かスキップを選んでください").into());
        }
        joren_core::text::check_text("outcome", &outcome.outcome, MAX_OUTCOME)?;
        let task = self.task(id).await?;
        self.store
            .finish_task(
                id,
                &outcome.state,
                outcome.outcome.trim(),
                interaction_kind(&task.kind),
                actor.user_id,
                self.config.clock.now_ms(),
            )
            .await?;
        self.audit(actor, "task.finish", "task", id, serde_json::json!({"state": outcome.state})).await?;
        self.task(id).await
    }
}
