//! The scenario engine: scenarios kept as versioned data (`joren_core::scenario`), customers
//! enrolled by events, by the daily time-based triggers or by hand, and their runs moved on
//! step by step by the worker.
//!
//! What holds a run to "once, on time, to the right person":
//! - an event's enrolments and exits are written in the transaction that marks it
//!   dispatched, and a run is unique per (scenario, customer, occurrence), so an event acts once
//!   however many workers see it;
//! - a run's advance (its messages, tasks and tags, and where it stands afterwards) is one
//!   transaction fenced by the step it started from; an outbox row is unique per (scenario
//!   version, step, customer, occurrence, channel); points go through the ledger under a key
//!   per run and step;
//! - a run reads the version it entered, so an edit changes only who enters next.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
pub use joren_analytics::uplift;
use joren_core::event::EventKind;
use joren_core::scenario::{Definition, EntryRule, Otherwise, Step, Trigger, in_holdout, is_birthday, wait_until};
use joren_core::template;
use joren_core::{FieldError, FieldErrors};
use joren_store::{Enrolment, EventEffects, NewMessage, NewTask, RunAdvance};
pub use joren_store::{Run, RunCount, Scenario};
use serde::{Deserialize, Serialize};

use crate::{Actor, App, AppError, Result};

mod engine;
pub(crate) use engine::Known;

mod preview;

pub use preview::{Entrants, EntrantsBasis, PREVIEW_DAYS};

/// A scenario as submitted: a name and its definition (JSON, see `joren_core::scenario`).
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ScenarioInput {
    pub name: String,
    pub definition: serde_json::Value,
}

/// A scenario's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Draft,
    Active,
    Paused,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Draft => "draft",
            Self::Active => "active",
            Self::Paused => "paused",
        }
    }
}

/// A scenario's page: its definition, where its customers stand and what it sent.
#[derive(Debug, Clone, Serialize)]
pub struct ScenarioReport {
    pub scenario: Scenario,
    pub runs: Vec<RunCount>,
    pub outbox: joren_store::OutboxCounts,
}

/// A scenario's uplift over a window.
#[derive(Debug, Clone, Serialize)]
pub struct UpliftReport {
    pub window_days: i64,
    /// Runs whose window has not ended yet (left out).
    pub still_in_window: usize,
    #[serde(flatten)]
    pub uplift: joren_analytics::uplift::Uplift,
}

/// A rendered message.
#[derive(Debug, Clone, Serialize)]
pub struct MessagePreview {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// What one pass of the engine did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AutomationPass {
    pub events: usize,
    pub enrolled: u64,
    pub steps: usize,
    pub messages: usize,
    /// Webhook deliveries attempted.
    pub webhooks: usize,
    /// Some part stopped at its limit for one pass (more may be waiting): the worker runs the
    /// next pass at once instead of pausing.
    #[serde(skip)]
    pub more: bool,
}

/// Longest scenario name.
const MAX_NAME: usize = 100;
const DAY_MS: i64 = 86_400_000;

/// Parses and validates a definition, every problem named by its field.
pub fn parse_definition(v: &serde_json::Value) -> Result<Definition> {
    let def: Definition = serde_json::from_value(v.clone())
        .map_err(|e| FieldError::new("definition", joren_core::Code::BadScenario).arg(e))?;
    def.validate()?;
    Ok(def)
}

fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    let mut e = FieldErrors::default();
    if name.is_empty() {
        e.push("name", joren_core::Code::Required);
    }
    e.take(joren_core::text::check_text("name", name, MAX_NAME));
    if e.is_empty() { Ok(name.to_string()) } else { Err(e.into()) }
}

impl App {
    /// Creates a scenario as a draft (nothing enters until it is activated).
    pub async fn create_scenario(&self, actor: &Actor, input: ScenarioInput) -> Result<Scenario> {
        actor.require_write()?;
        let name = check_name(&input.name);
        let def = parse_definition(&input.definition);
        let (name, def) = merge_errors(name, def)?;
        self.check_references(&def).await?;
        let json = serde_json::to_string(&def).map_err(|e| AppError::Internal(e.to_string()))?;
        let id = self.store.create_scenario(&name, &json, actor.user_id, self.config.clock.now_ms()).await?;
        self.audit(actor, "scenario.create", "scenario", id, serde_json::json!({"name": name})).await?;
        self.scenario(id).await
    }

    /// Saves an edit as a new version: customers already in it finish the version they
    /// entered; new entrants get this one.
    pub async fn update_scenario(&self, actor: &Actor, id: i64, input: ScenarioInput) -> Result<Scenario> {
        actor.require_write()?;
        let (name, def) = merge_errors(check_name(&input.name), parse_definition(&input.definition))?;
        self.check_references(&def).await?;
        let json = serde_json::to_string(&def).map_err(|e| AppError::Internal(e.to_string()))?;
        let version = self.store.update_scenario(id, &name, &json, actor.user_id, self.config.clock.now_ms()).await?;
        self.audit(actor, "scenario.update", "scenario", id, serde_json::json!({"version": version})).await?;
        self.scenario(id).await
    }

    /// Activates, pauses or returns a scenario to draft. A paused scenario enrols nobody and
    /// its runs wait where they are.
    pub async fn set_scenario_status(&self, actor: &Actor, id: i64, status: Status) -> Result<Scenario> {
        actor.require_write()?;
        self.store.set_scenario_status(id, status.as_str(), self.config.clock.now_ms()).await?;
        self.audit(actor, "scenario.status", "scenario", id, serde_json::json!({"status": status.as_str()})).await?;
        self.scenario(id).await
    }

    pub async fn scenario(&self, id: i64) -> Result<Scenario> {
        self.store.scenario(id).await?.ok_or(AppError::NotFound("scenario"))
    }

    pub async fn scenarios(&self) -> Result<Vec<Scenario>> {
        Ok(self.store.scenarios(false).await?)
    }

    /// A scenario with its customers by step and its messages by state.
    pub async fn scenario_report(&self, id: i64) -> Result<ScenarioReport> {
        let scenario = self.scenario(id).await?;
        let runs = self.store.run_counts(id).await?;
        let outbox = self.store.outbox_counts(Some(id)).await?;
        Ok(ScenarioReport { scenario, runs, outbox })
    }

    /// The scenario's effect: treated against control over `window_days` after entry, over
    /// the runs whose window has ended (the rest are counted as still running).
    pub async fn scenario_uplift(&self, id: i64, window_days: i64) -> Result<UpliftReport> {
        if !(1..=365).contains(&window_days) {
            return Err(FieldError::new("window_days", joren_core::Code::RangeDays).arg(1).arg(365).into());
        }
        self.scenario(id).await?;
        let window = window_days * DAY_MS;
        let now = self.config.clock.now_ms();
        let outcomes: Vec<joren_analytics::uplift::Outcome> = self
            .store
            .run_outcomes(id, window, now - window)
            .await?
            .into_iter()
            .map(|(control, orders, revenue)| joren_analytics::uplift::Outcome {
                control,
                orders: u32::try_from(orders).unwrap_or(u32::MAX),
                revenue,
            })
            .collect();
        let all = self.store.run_outcomes(id, window, now).await?.len();
        Ok(UpliftReport {
            window_days,
            still_in_window: all - outcomes.len(),
            uplift: joren_analytics::uplift::uplift(&outcomes),
        })
    }

    /// A customer's runs (the 360 page).
    pub async fn customer_runs(&self, customer_id: i64) -> Result<Vec<Run>> {
        Ok(self.store.customer_runs(customer_id).await?)
    }

    /// Enrols one customer by hand (any trigger; the entry rule still holds). Answers whether
    /// they entered.
    pub async fn enrol_customer(&self, actor: &Actor, scenario_id: i64, customer_id: i64) -> Result<bool> {
        actor.require_write()?;
        let (scenario, def) = self.active_scenario(scenario_id).await?;
        self.get_customer(customer_id).await?;
        let now = self.config.clock.now_ms();
        let e = enrolment(&scenario, &def, customer_id, format!("manual:{now}"), None, now);
        let n = self.store.enrol(&[e], now).await?;
        self.audit(actor, "scenario.enrol", "scenario", scenario_id, serde_json::json!({"customer_id": customer_id}))
            .await?;
        Ok(n == 1)
    }

    /// Enrols every member of a saved segment now (a broadcast). Answers how many entered.
    pub async fn broadcast(&self, actor: &Actor, scenario_id: i64, segment_id: i64) -> Result<u64> {
        actor.require_write()?;
        let (scenario, def) = self.active_scenario(scenario_id).await?;
        let saved = self.store.saved_segment(segment_id).await?;
        let filter = joren_core::segment_filter::parse(&saved.filter)?;
        let members = self.store.all_segment_members(&filter).await?;
        let now = self.config.clock.now_ms();
        let occurrence = format!("broadcast:{segment_id}:{now}");
        let mut entered = 0;
        for chunk in members.chunks(5_000) {
            let batch: Vec<Enrolment> =
                chunk.iter().map(|c| enrolment(&scenario, &def, *c, occurrence.clone(), None, now)).collect();
            entered += self.store.enrol(&batch, now).await?;
        }
        self.audit(
            actor,
            "scenario.broadcast",
            "scenario",
            scenario_id,
            serde_json::json!({"segment_id": segment_id, "entered": entered}),
        )
        .await?;
        Ok(entered)
    }

    /// Enrols every customer `filter` selects as if they had entered at `at_ms` (the demo's
    /// history: a win-back run that started weeks ago). Answers how many entered.
    pub(crate) async fn enrol_matching_at(
        &self,
        scenario_id: i64,
        filter: &serde_json::Value,
        at_ms: i64,
    ) -> Result<u64> {
        let (scenario, def) = self.active_scenario(scenario_id).await?;
        let f = joren_core::segment_filter::parse(filter)?;
        let members = self.store.all_segment_members(&f).await?;
        let batch: Vec<Enrolment> =
            members.iter().map(|c| enrolment(&scenario, &def, *c, format!("demo:{at_ms}"), None, at_ms)).collect();
        Ok(self.store.enrol(&batch, at_ms).await?)
    }

    async fn active_scenario(&self, id: i64) -> Result<(Scenario, Definition)> {
        let scenario = self.scenario(id).await?;
        if scenario.status != "active" {
            return Err(AppError::Conflict(joren_core::Code::ScenarioNotActive.into()));
        }
        let def = parse_definition(&scenario.definition)?;
        Ok((scenario, def))
    }

    pub(crate) async fn active_definitions(&self) -> Result<Vec<(Scenario, Definition)>> {
        let mut out = Vec::new();
        for s in self.store.scenarios(true).await? {
            match serde_json::from_value::<Definition>(s.definition.clone()) {
                Ok(d) => out.push((s, d)),
                Err(e) => tracing::error!(scenario = s.id, error = %e, "stored scenario does not parse"),
            }
        }
        Ok(out)
    }
}

fn merge_errors(name: Result<String>, def: Result<Definition>) -> Result<(String, Definition)> {
    match (name, def) {
        (Ok(n), Ok(d)) => Ok((n, d)),
        (n, d) => {
            let mut all = FieldErrors::default();
            for e in [n.err(), d.err()].into_iter().flatten() {
                match e {
                    AppError::Validation(f) => all.0.extend(f.0),
                    other => return Err(other),
                }
            }
            Err(all.into())
        }
    }
}

fn enrolment(
    s: &Scenario,
    d: &Definition,
    customer: i64,
    occurrence: String,
    order: Option<i64>,
    now: i64,
) -> Enrolment {
    Enrolment {
        scenario_id: s.id,
        version: s.version,
        customer_id: customer,
        occurrence,
        order_id: order,
        control: in_holdout(s.id, customer, d.holdout_percent),
        not_entered_since_ms: match d.entry {
            EntryRule::Once => i64::MIN,
            EntryRule::OncePer { days } => now - i64::from(days) * DAY_MS,
            EntryRule::EveryTime => i64::MAX,
        },
    }
}
