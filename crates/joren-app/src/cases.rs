//! Complaint cases (クレーム・問い合わせ, issue #20): opened by staff, from an inbox
//! conversation, or by themselves for an unhappy survey answer (NPS 0–6, CSAT 1–2); walked
//! through the seven steps in order, each with when and by whom; the first response due by the
//! 24-hour rule counted on the shop's business days (its hours, closed weekdays, Japanese public
//! holidays and its own closed days), escalated to the owner once a quarter of the time is
//! left, listed when breached; closed with the root cause and the change made, reported by
//! month ("what keeps going wrong").

use chrono::{DateTime, Utc};
use joren_core::business_hours::Calendar;
use joren_core::case::{self, ROOT_CAUSES, Sla, Stage, StepInput};
use joren_core::{Code, FieldError};
pub use joren_store::{Case, CaseFilter, CaseStep};
use joren_store::{CaseStepWrite, NewCase, NewTask};
use serde::{Deserialize, Serialize};

use crate::{Actor, App, AppError, Result};

/// The settings key of the case rules.
const SETTINGS_KEY: &str = "cases.settings";

/// The rules cases are handled by.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CaseSettings {
    /// The first response is due this many hours after a complaint, counted on business days.
    pub first_response_hours: u32,
    pub calendar: Calendar,
}

impl Default for CaseSettings {
    fn default() -> Self {
        Self { first_response_hours: 24, calendar: Calendar::default() }
    }
}

/// A case to open by hand or from the inbox.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CaseInput {
    #[serde(default)]
    pub customer_id: Option<i64>,
    /// Opened from this inbox conversation (its customer, and the time the customer wrote).
    #[serde(default)]
    pub conversation_id: Option<i64>,
    pub title: String,
    /// A root-cause category the complaint is about (`product`, `delivery`, …), if known.
    #[serde(default)]
    pub category: String,
    /// What the customer said.
    #[serde(default)]
    pub note: String,
    #[serde(default)]
    pub assignee_id: Option<i64>,
}

/// A case with its steps and where its first response stands.
#[derive(Debug, Clone, Serialize)]
pub struct CaseDetail {
    #[serde(flatten)]
    pub case: Case,
    pub steps: Vec<CaseStep>,
    /// None when no deadline could be counted (a calendar that never opens).
    pub sla: Option<Sla>,
    /// The step to take next (None once closed).
    pub next: Option<&'static str>,
}

/// Closed cases by month and root cause.
#[derive(Debug, Clone, Serialize)]
pub struct PreventionReport {
    pub months: Vec<String>,
    /// (root cause, count per month, total).
    pub rows: Vec<(String, Vec<u64>, u64)>,
}

impl App {
    /// The case rules (defaults until an owner saves them).
    pub async fn case_settings(&self) -> Result<CaseSettings> {
        Ok(match self.store.setting(SETTINGS_KEY).await? {
            Some(json) => serde_json::from_str(&json).unwrap_or_default(),
            None => CaseSettings::default(),
        })
    }

    /// Saves the case rules (owners; audited). Deadlines already counted stay.
    pub async fn save_case_settings(&self, actor: &Actor, s: &CaseSettings) -> Result<CaseSettings> {
        actor.require_owner()?;
        if !(1..=240).contains(&s.first_response_hours) {
            return Err(FieldError::new("first_response_hours", Code::Range).arg(1).arg(240).into());
        }
        if !s.calendar.ever_open() {
            return Err(FieldError::new("calendar", Code::Required).into());
        }
        let json = serde_json::to_string(s).map_err(|e| AppError::Internal(e.to_string()))?;
        self.store.set_setting(SETTINGS_KEY, &json).await?;
        self.audit(actor, "case.settings", "settings", 0, serde_json::to_value(s).unwrap_or_default()).await?;
        Ok(s.clone())
    }

    /// The deadline and escalation time of a complaint received at `opened`.
    pub(crate) async fn case_deadlines(&self, opened: DateTime<Utc>) -> Result<(Option<i64>, Option<i64>)> {
        let s = self.case_settings().await?;
        let due = s.calendar.deadline(opened, s.first_response_hours, self.tz());
        let escalate = due.map(|d| case::escalate_at(d, s.first_response_hours).max(opened));
        Ok((due.map(|d| d.timestamp_millis()), escalate.map(|d| d.timestamp_millis())))
    }

    /// Opens a case by hand or from an inbox conversation (once per conversation, once per
    /// `key`); audited. Answers the case and whether this call opened it.
    pub async fn open_case(&self, actor: &Actor, input: &CaseInput, key: Option<&str>) -> Result<(CaseDetail, bool)> {
        actor.require_write()?;
        let conversation = match input.conversation_id {
            Some(cid) => Some(self.store.conversation(cid).await?),
            None => None,
        };
        // From the inbox, what the customer wrote is the title when none is given.
        let title = match (&conversation, input.title.trim()) {
            (Some(conv), "") => conv.last_text.chars().take(60).collect::<String>(),
            (_, t) => t.to_string(),
        };
        case::check_case(&title, &input.category)?;
        let mut e = joren_core::FieldErrors::default();
        e.take(joren_core::text::check_text("note", &input.note, 2_000));
        if !e.is_empty() {
            return Err(e.into());
        }
        let now = self.now();
        let (customer_id, opened, source, source_key) = match &conversation {
            Some(conv) => {
                // The clock starts when the customer wrote.
                let key = format!("conversation:{}", conv.id);
                (conv.customer_id.or(input.customer_id), conv.opened_at.min(now), "inbox", key)
            }
            None => {
                let scoped = crate::scoped_idempotency_key(actor, key)?;
                let k = match scoped {
                    Some(k) => format!("staff:{k}"),
                    None => format!("staff:{}:{}", actor.name, crate::auth::random_token()),
                };
                (input.customer_id, now, "staff", k)
            }
        };
        if let Some(c) = customer_id {
            self.store.get_customer(c).await?;
        }
        let (due, escalate) = self.case_deadlines(opened).await?;
        let k = NewCase {
            customer_id,
            conversation_id: input.conversation_id,
            response_id: None,
            source: source.into(),
            source_key,
            title,
            category: input.category.clone(),
            assignee_id: input.assignee_id.or(actor.user_id),
            opened_at_ms: opened.timestamp_millis(),
            due_at_ms: due,
            escalate_at_ms: escalate,
            created_by: actor.user_id,
            created_by_name: actor.name.clone(),
            note: input.note.trim().into(),
        };
        let (c, opened_now) = self.store.open_case(&k).await?;
        if opened_now {
            self.audit(actor, "case.open", "case", c.id, serde_json::json!({"title": c.title})).await?;
        }
        Ok((self.case_detail(c.id).await?, opened_now))
    }

    /// Opens a case for an unhappy survey answer (a detractor, or a CSAT of 1–2), once per
    /// answer: raised from the answer's event.
    pub(crate) async fn open_case_for_answer(&self, customer_id: i64, response_id: i64) -> Result<()> {
        let r = self.store.survey_response(response_id).await?;
        let scores = joren_core::survey::Scores { nps: r.nps, csat: r.csat, ces: r.ces };
        if !joren_core::survey::is_unhappy(scores) {
            return Ok(());
        }
        let what = match (r.nps, r.csat) {
            (Some(n), _) if n <= 6 => format!("NPS {n}"),
            (_, Some(c)) => format!("CSAT {c}"),
            _ => String::new(),
        };
        let now = self.now();
        let (due, escalate) = self.case_deadlines(now).await?;
        let k = NewCase {
            customer_id: Some(customer_id),
            conversation_id: None,
            response_id: Some(response_id),
            source: "survey".into(),
            source_key: format!("survey:{response_id}"),
            title: format!("{} ({what})", r.survey_name),
            category: String::new(),
            assignee_id: None,
            opened_at_ms: now.timestamp_millis(),
            due_at_ms: due,
            escalate_at_ms: escalate,
            created_by: None,
            created_by_name: "survey".into(),
            note: r.free_text.clone(),
        };
        self.store.open_case(&k).await?;
        Ok(())
    }

    /// A case with its steps.
    pub async fn case_detail(&self, id: i64) -> Result<CaseDetail> {
        let c = self.store.case(id).await?;
        let steps = self.store.case_steps(id).await?;
        Ok(self.detail_of(c, steps))
    }

    /// Cases as listed (without their steps).
    pub async fn cases(&self, filter: &CaseFilter) -> Result<Vec<CaseDetail>> {
        let list = self.store.cases(filter, self.config.clock.now_ms()).await?;
        Ok(list.into_iter().map(|c| self.detail_of(c, Vec::new())).collect())
    }

    /// A case with where its first response stands now and the step to take next.
    fn detail_of(&self, k: Case, steps: Vec<CaseStep>) -> CaseDetail {
        let first_response = k.first_response_at_ms.map(joren_store::from_ms);
        let sla = k.due_at_ms.map(|due| case::sla(joren_store::from_ms(due), first_response, self.now()));
        let next = Stage::parse(&k.stage).and_then(Stage::next).map(Stage::as_str);
        CaseDetail { case: k, steps, sla, next }
    }

    /// Records the next step of case `id` (staff; audited). Refused with the next step's
    /// name when out of order, and 409 when someone recorded it meanwhile.
    pub async fn record_case_step(&self, actor: &Actor, id: i64, input: &StepInput) -> Result<CaseDetail> {
        actor.require_write()?;
        let c = self.store.case(id).await?;
        let current =
            Stage::parse(&c.stage).ok_or_else(|| AppError::Internal(format!("case {id}: stage {}", c.stage)))?;
        let stage = case::check_step(current, input)?;
        let w = CaseStepWrite {
            from: c.stage.clone(),
            stage: stage.as_str().into(),
            note: input.note.trim().into(),
            by_user_id: actor.user_id,
            by_name: actor.name.clone(),
            at_ms: self.config.clock.now_ms(),
            promised_on: input.promised_on.map(|d| d.to_string()),
            root_cause: input.root_cause.clone(),
            prevention: input.prevention.trim().into(),
        };
        self.store.record_case_step(id, &w).await?;
        self.audit(actor, "case.step", "case", id, serde_json::json!({"stage": stage.as_str()})).await?;
        self.case_detail(id).await
    }

    /// Escalates the cases whose time has come: each once, with a call on the owner's list.
    pub async fn escalate_cases(&self) -> Result<usize> {
        let owner = self
            .store
            .list_users()
            .await?
            .into_iter()
            .find(|u| u.role == joren_core::role::Role::Owner && !u.disabled)
            .map(|u| u.id);
        let today = joren_core::time::local_date(self.now(), self.tz());
        let tz = self.tz();
        let escalated = self
            .store
            .escalate_cases(self.config.clock.now_ms(), |c| {
                let due =
                    c.due_at_ms.map(|d| joren_store::from_ms(d).with_timezone(&tz).format("%m/%d %H:%M").to_string());
                Some(NewTask {
                    customer_id: c.customer_id?,
                    kind: "call".into(),
                    title: format!("【至急】クレームの初期対応 (期限 {}): {}", due.unwrap_or_default(), c.title),
                    due_on: today,
                    assignee_id: owner,
                })
            })
            .await?;
        for c in &escalated {
            tracing::warn!(case = c.id, "case escalated: first response due soon");
        }
        Ok(escalated.len())
    }

    /// Closed cases by month (the shop's) and root cause over the last `months` months.
    pub async fn prevention_report(&self, months: u32) -> Result<PreventionReport> {
        let months = months.clamp(1, 36);
        let tz = self.tz();
        let (from, _) = self.last_months(months);
        let rows = self.store.case_root_causes(joren_core::time::start_of_day(from, tz).timestamp_millis()).await?;
        let labels: Vec<String> = (0..months)
            .map(|i| from.checked_add_months(chrono::Months::new(i)).unwrap_or(from).format("%Y-%m").to_string())
            .collect();
        let mut out = Vec::new();
        for cause in ROOT_CAUSES {
            let mut counts = vec![0u64; labels.len()];
            for (c, at) in &rows {
                if c == cause {
                    let m = joren_core::time::local_date(joren_store::from_ms(*at), tz).format("%Y-%m").to_string();
                    if let Some(i) = labels.iter().position(|l| *l == m) {
                        counts[i] += 1;
                    }
                }
            }
            let total: u64 = counts.iter().sum();
            if total > 0 {
                out.push((cause.to_string(), counts, total));
            }
        }
        out.sort_by_key(|r| std::cmp::Reverse(r.2));
        Ok(PreventionReport { months: labels, rows: out })
    }
}
