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
            e.push("kind", joren_core::Code::Choose);
        }
        if input.title.trim().is_empty() {
            e.push("title", joren_core::Code::Required);
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
            return Err(FieldError::new("state", joren_core::Code::Choose).into());
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

/// Where a letter or postcard goes: one open letter task's customer, addressed the Japanese
/// way (〒, address, 氏名 様 or 会社名 御中).
#[derive(Debug, Clone, Serialize)]
pub struct MailingLabel {
    pub task_id: i64,
    pub customer_id: i64,
    /// `600-8001`; empty when unknown.
    pub postal_code: String,
    pub prefecture: String,
    pub city: String,
    pub street: String,
    pub building: String,
    /// `山田 太郎 様` / `株式会社サンプル 御中`.
    pub addressee: String,
    /// The task's title (what the letter is for).
    pub title: String,
    pub due_on: String,
}

/// The labels of the open letter tasks, and the tasks whose customer has no postal address
/// (they cannot be printed; their names are listed so someone can fill the address in).
#[derive(Debug, Clone, Serialize)]
pub struct MailingList {
    pub labels: Vec<MailingLabel>,
    pub without_address: Vec<(i64, String)>,
}

/// Most letters on one print run.
const MAX_LABELS: i64 = 1_000;

impl App {
    /// The open letter and postcard tasks as addressed labels, soonest due first: those of
    /// staff member `mine` and those nobody is assigned (everyone's), or all when None.
    pub async fn mailing_list(&self, mine: Option<i64>) -> Result<MailingList> {
        let filter =
            TaskFilter { state: "open".into(), kind: "letter".into(), limit: MAX_LABELS, ..Default::default() };
        let mut tasks = self.store.tasks(&filter).await?;
        if let Some(me) = mine {
            tasks.retain(|t| t.assignee_id.is_none_or(|a| a == me));
        }
        let ids: Vec<i64> = tasks.iter().map(|t| t.customer_id).collect();
        let customers: std::collections::HashMap<i64, joren_store::Customer> =
            self.store.customers_by_ids(&ids).await?.into_iter().map(|c| (c.id, c)).collect();
        let mut list = MailingList { labels: Vec::new(), without_address: Vec::new() };
        for t in tasks {
            let Some(c) = customers.get(&t.customer_id) else { continue };
            let p = &c.profile;
            let text = |v: &Option<String>| v.clone().unwrap_or_default();
            if p.postal_code.as_deref().unwrap_or_default().is_empty()
                || p.street.as_deref().unwrap_or_default().is_empty()
            {
                list.without_address.push((c.id, c.display_name.clone()));
                continue;
            }
            list.labels.push(MailingLabel {
                task_id: t.id,
                customer_id: c.id,
                postal_code: text(&p.postal_code),
                prefecture: text(&p.prefecture),
                city: text(&p.city),
                street: text(&p.street),
                building: text(&p.building),
                addressee: c.display_name.clone(),
                title: t.title,
                due_on: t.due_on,
            });
        }
        Ok(list)
    }
}

/// The mailing list's CSV columns: Japanese headers for a person or a print service's form,
/// or the field names for a program.
const LABEL_HEADERS_JA: [&str; 8] = ["郵便番号", "都道府県", "市区町村", "番地", "建物名", "宛名", "内容", "期限"];
const LABEL_HEADERS_CODE: [&str; 8] =
    ["postal_code", "prefecture", "city", "street", "building", "addressee", "title", "due_on"];

/// Writes a mailing list as CSV (UTF-8 with a byte-order mark, so Excel reads it as such).
pub fn write_mailing_csv<W: std::io::Write>(list: &MailingList, code_headers: bool, mut out: W) -> std::io::Result<()> {
    out.write_all("\u{feff}".as_bytes())?;
    let mut w = csv::Writer::from_writer(out);
    w.write_record(if code_headers { LABEL_HEADERS_CODE } else { LABEL_HEADERS_JA })?;
    for l in &list.labels {
        w.write_record([
            &l.postal_code,
            &l.prefecture,
            &l.city,
            &l.street,
            &l.building,
            &l.addressee,
            &l.title,
            &l.due_on,
        ])?;
    }
    w.flush()
}
