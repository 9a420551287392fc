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
}

/// Longest scenario name.
const MAX_NAME: usize = 100;
/// Events read per dispatch, runs per advance pass.
const DISPATCH_BATCH: i64 = 500;
const ADVANCE_BATCH: i64 = 500;
/// Runs planned and written at once.
const ADVANCE_CONCURRENCY: usize = 16;
const DAY_MS: i64 = 86_400_000;

/// How far back the preview of an event trigger looks, how many events it reads at most,
/// and how many entrants it names.
pub const PREVIEW_DAYS: i64 = 30;
const PREVIEW_EVENTS: i64 = 100_000;
const PREVIEW_SAMPLE: usize = 10;

/// What a preview of a scenario's entrants counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "basis", content = "days", rename_all = "snake_case")]
pub enum EntrantsBasis {
    /// Only by hand: nobody enters by themselves.
    Manual,
    /// The daily trigger's customers today.
    Today,
    /// Who is in the RFM segment now.
    InSegmentNow,
    /// The customers the trigger's events started for in the last N days.
    LastDays(i64),
}

/// Who would enter a scenario: how many and the first few by name.
#[derive(Debug, Clone, Serialize)]
pub struct Entrants {
    pub basis: EntrantsBasis,
    pub count: usize,
    pub sample: Vec<(i64, String)>,
}

/// Whether a daily trigger (birthday, N days after the first or last purchase) picks a
/// customer with these dates on local day `day`.
fn daily_hit(
    trigger: &Trigger,
    day: chrono::NaiveDate,
    tz: joren_core::time::Tz,
    first_ms: Option<i64>,
    last_ms: Option<i64>,
    birthday: Option<&str>,
) -> bool {
    match trigger {
        Trigger::Birthday => birthday
            .and_then(|b| chrono::NaiveDate::parse_from_str(b, "%Y-%m-%d").ok())
            .is_some_and(|b| is_birthday(b, day)),
        Trigger::DaysAfterPurchase { which, days } => {
            let at = match which {
                joren_core::scenario::PurchaseAnchor::First => first_ms,
                joren_core::scenario::PurchaseAnchor::Last => last_ms,
            };
            at.map(|ms| joren_core::time::local_date(joren_store::from_ms(ms), tz))
                .is_some_and(|d0| d0 + chrono::Duration::days(i64::from(*days)) == day)
        }
        _ => false,
    }
}

/// Parses and validates a definition, every problem named by its field.
pub fn parse_definition(v: &serde_json::Value) -> Result<Definition> {
    let def: Definition = serde_json::from_value(v.clone())
        .map_err(|e| FieldError::new("definition", format!("シナリオの形式が正しくありません: {e}")))?;
    def.validate()?;
    Ok(def)
}

fn check_name(name: &str) -> Result<String> {
    let name = name.trim();
    let mut e = FieldErrors::default();
    if name.is_empty() {
        e.push("name", "名前を入れてください");
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
            return Err(FieldError::new("window_days", "期間は1〜365日です").into());
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
            return Err(AppError::Conflict("シナリオが有効になっていません (先に有効にしてください)".into()));
        }
        let def = parse_definition(&scenario.definition)?;
        Ok((scenario, def))
    }

    async fn active_definitions(&self) -> Result<Vec<(Scenario, Definition)>> {
        let mut out = Vec::new();
        for s in self.store.scenarios(true).await? {
            match serde_json::from_value::<Definition>(s.definition.clone()) {
                Ok(d) => out.push((s, d)),
                Err(e) => tracing::error!(scenario = s.id, error = %e, "stored scenario does not parse"),
            }
        }
        Ok(out)
    }

    /// One pass of the engine: acts on new events, moves due runs on, delivers due messages.
    pub async fn automate_once(&self) -> Result<AutomationPass> {
        let (events, enrolled) = self.dispatch_events().await?;
        let steps = self.advance_due_runs().await?;
        let messages = self.deliver_messages().await?;
        Ok(AutomationPass { events, enrolled, steps, messages })
    }

    /// Acts on events not yet dispatched: exits (an order, an unsubscribe), wake-ups of runs
    /// waiting for an order, and enrolments of the scenarios they trigger. Answers (events,
    /// enrolments planned).
    pub async fn dispatch_events(&self) -> Result<(usize, u64)> {
        let events = self.store.pending_events(DISPATCH_BATCH).await?;
        if events.is_empty() {
            return Ok((0, 0));
        }
        let active = self.active_definitions().await?;
        let now = self.config.clock.now_ms();
        let on_order: Vec<i64> = active.iter().filter(|(_, d)| d.exit.on_order).map(|(s, _)| s.id).collect();
        let on_unsub: Vec<i64> = active.iter().filter(|(_, d)| d.exit.on_unsubscribe).map(|(s, _)| s.id).collect();
        let mut planned = 0;
        let mut out = Vec::with_capacity(events.len());
        for e in &events {
            let mut fx = EventEffects::default();
            if let (Some(customer), Some(kind)) = (e.customer_id, EventKind::parse(&e.kind)) {
                match kind {
                    EventKind::OrderPlaced => {
                        fx.exits.push((customer, on_order.clone(), "ordered".into()));
                        fx.wake_for_order.push(customer);
                    }
                    EventKind::ConsentChanged
                        if e.payload["channel"] == "email" && e.payload["granted"] == serde_json::json!(false) =>
                    {
                        fx.exits.push((customer, on_unsub.clone(), "unsubscribed".into()));
                    }
                    _ => {}
                }
                for (s, d) in &active {
                    // An event from before the scenario was switched on starts nothing.
                    let after_activation = s.activated_at_ms.is_none_or(|at| e.occurred_at.timestamp_millis() >= at);
                    if after_activation && d.trigger.matches(kind, &e.payload) {
                        let (occurrence, order) = match kind {
                            EventKind::OrderPlaced => (format!("order:{}", e.entity_id), e.entity_id.parse().ok()),
                            _ => (format!("event:{}", e.id), None),
                        };
                        fx.enrol.push(enrolment(s, d, customer, occurrence, order, now));
                        planned += 1;
                    }
                }
            }
            out.push((e.id, fx));
        }
        if self.store.apply_event_effects(&out, now).await? { Ok((events.len(), planned)) } else { Ok((0, 0)) }
    }

    /// The daily time-based triggers for local day `day`: birthdays and N days after the
    /// first or last purchase. Occurrences are keyed by the day, so running it twice enrols
    /// once.
    pub async fn enrol_daily(&self, day: chrono::NaiveDate) -> Result<u64> {
        let active: Vec<_> = self
            .active_definitions()
            .await?
            .into_iter()
            .filter(|(_, d)| matches!(d.trigger, Trigger::Birthday | Trigger::DaysAfterPurchase { .. }))
            .collect();
        if active.is_empty() {
            return Ok(0);
        }
        let now = self.config.clock.now_ms();
        let tz = self.tz();
        let mut batch = Vec::new();
        for (customer, first, last, birthday) in self.store.customer_dates().await? {
            for (s, d) in &active {
                if daily_hit(&d.trigger, day, tz, first, last, birthday.as_deref()) {
                    batch.push(enrolment(s, d, customer, format!("day:{day}"), None, now));
                }
            }
        }
        let mut n = 0;
        for chunk in batch.chunks(5_000) {
            n += self.store.enrol(chunk, now).await?;
        }
        Ok(n)
    }

    /// Who would enter a scenario with definition `def` (saved or not): for the daily triggers
    /// the customers they pick today; for an RFM segment entered, who is in it now (they enter
    /// when they move in); for the other events, the customers they started for in the last
    /// [`PREVIEW_DAYS`] days. Before the entry rule and the control group.
    pub async fn scenario_entrants(&self, def: &Definition) -> Result<Entrants> {
        let tz = self.tz();
        let now = self.now();
        let mut ids: Vec<i64> = Vec::new();
        let basis = match &def.trigger {
            Trigger::Manual => EntrantsBasis::Manual,
            Trigger::Birthday | Trigger::DaysAfterPurchase { .. } => {
                let today = joren_core::time::local_date(now, tz);
                for (customer, first, last, birthday) in self.store.customer_dates().await? {
                    if daily_hit(&def.trigger, today, tz, first, last, birthday.as_deref()) {
                        ids.push(customer);
                    }
                }
                EntrantsBasis::Today
            }
            Trigger::SegmentEntered { segment } => {
                let f = joren_core::segment_filter::parse(
                    &serde_json::json!({"field": "segment", "op": "eq", "value": segment}),
                )?;
                ids = self.store.all_segment_members(&f).await?;
                EntrantsBasis::InSegmentNow
            }
            t => {
                let kind = t.event().expect("the other triggers are events");
                let since = now.timestamp_millis() - PREVIEW_DAYS * DAY_MS;
                let mut seen = std::collections::HashSet::new();
                for e in self.store.events_since(kind, since, PREVIEW_EVENTS).await? {
                    if let Some(c) = e.customer_id
                        && t.matches(kind, &e.payload)
                        && seen.insert(c)
                    {
                        ids.push(c);
                    }
                }
                EntrantsBasis::LastDays(PREVIEW_DAYS)
            }
        };
        let sample_ids: Vec<i64> = ids.iter().copied().take(PREVIEW_SAMPLE).collect();
        let sample = self.store.customer_names(&sample_ids).await?;
        Ok(Entrants { basis, count: ids.len(), sample })
    }

    /// Checks what a definition points at outside itself: every saved segment a check names
    /// exists (the message names the step).
    async fn check_references(&self, def: &Definition) -> Result<()> {
        let mut e = FieldErrors::default();
        for (i, step) in def.steps.iter().enumerate() {
            if let Step::Check { segment_id: Some(id), .. } = step {
                match self.store.saved_segment(*id).await {
                    Ok(_) => {}
                    Err(joren_store::StoreError::NotFound(_)) => {
                        e.push(&format!("steps[{i}].segment_id"), "その保存セグメントはありません");
                    }
                    Err(err) => return Err(err.into()),
                }
            }
        }
        if e.is_empty() { Ok(()) } else { Err(e.into()) }
    }

    /// Moves on every run whose next step is due. Answers how many advanced.
    pub async fn advance_due_runs(&self) -> Result<usize> {
        let now = self.now();
        let runs = self.store.due_runs(now.timestamp_millis(), ADVANCE_BATCH).await?;
        // Each scenario version's definition and pause state, read once per pass.
        let mut defs: HashMap<(i64, i64), Option<Definition>> = HashMap::new();
        let mut paused: HashMap<i64, bool> = HashMap::new();
        for run in &runs {
            let key = (run.scenario_id, run.version);
            if let std::collections::hash_map::Entry::Vacant(slot) = defs.entry(key) {
                let def = self
                    .store
                    .scenario_version(run.scenario_id, run.version)
                    .await?
                    .and_then(|v| serde_json::from_value::<Definition>(v).ok());
                slot.insert(def);
            }
            if let std::collections::hash_map::Entry::Vacant(slot) = paused.entry(run.scenario_id) {
                slot.insert(self.store.scenario(run.scenario_id).await?.is_some_and(|s| s.status == "paused"));
            }
        }
        // Runs advance side by side (on SQLite their commits share a group commit); each
        // advance is fenced by its step, so two workers never write one twice.
        use futures_util::StreamExt;
        let results: Vec<Result<bool>> = futures_util::stream::iter(runs)
            .filter(|run| std::future::ready(!paused[&run.scenario_id]))
            .filter_map(|run| {
                let def = defs[&(run.scenario_id, run.version)].clone();
                std::future::ready(def.map(|d| (run, d)))
            })
            .map(|(run, def)| async move {
                let plan = match self.plan_advance(&run, &def, now).await {
                    Ok(plan) => plan,
                    Err(e) => {
                        tracing::warn!(run = run.id, error = %e, "scenario step failed");
                        RunAdvance {
                            step: run.step,
                            state: "failed".into(),
                            last_error: Some(e.to_string()),
                            ..Default::default()
                        }
                    }
                };
                Ok(self.store.advance_run(run.id, run.step, &plan, now.timestamp_millis()).await?)
            })
            .buffer_unordered(ADVANCE_CONCURRENCY)
            .collect()
            .await;
        let mut advanced = 0;
        for r in results {
            advanced += usize::from(r?);
        }
        Ok(advanced)
    }

    /// What advancing `run` now writes: the steps from where it stands up to the next wait.
    async fn plan_advance(&self, run: &Run, def: &Definition, now: DateTime<Utc>) -> Result<RunAdvance> {
        let steps = &def.steps;
        let mut a = RunAdvance { state: "waiting".into(), ..Default::default() };
        let mut i = run.step as usize;
        // A run woken by an order while it waited for one takes the wait's "then".
        if run.waiting_for_order == 2
            && let Some(Step::WaitForOrder { then, .. }) = i.checked_sub(1).and_then(|w| steps.get(w))
        {
            match then {
                Otherwise::Exit => {
                    a.step = i as i64;
                    a.state = "exited".into();
                    a.exit_reason = Some("ordered".into());
                    return Ok(a);
                }
                Otherwise::Skip(n) => i += *n as usize,
            }
        }
        let mut ctx: Option<(joren_store::Customer, template::Context)> = None;
        let mut guard = 0;
        loop {
            guard += 1;
            if guard > steps.len() + 2 {
                return Err(AppError::Internal("scenario steps did not end".into()));
            }
            let Some(step) = steps.get(i) else {
                a.state = "done".into();
                a.due_at_ms = None;
                break;
            };
            if step.is_wait() {
                let until = wait_until(step, now, self.tz())
                    .ok_or_else(|| AppError::Internal(format!("step {i}: the wait has no end")))?;
                a.due_at_ms = Some(until.timestamp_millis());
                a.waiting_for_order = i64::from(matches!(step, Step::WaitForOrder { .. }));
                i += 1;
                break;
            }
            if ctx.is_none() {
                let used = template_variables(def);
                ctx = Some(self.message_context(run.customer_id, run.order_id, &used).await?);
            }
            let (customer, vars) = ctx.as_ref().expect("loaded above");
            match step {
                Step::Check { filter, segment_id, consent, otherwise } => {
                    let mut ok = true;
                    if let Some(channel) = consent {
                        ok &= customer.consents.iter().any(|c| &c.channel == channel && c.granted);
                    }
                    if let Some(f) = filter
                        && ok
                    {
                        let f = joren_core::segment_filter::parse(f)?;
                        ok &= self.store.customer_matches(&f, run.customer_id).await?;
                    }
                    if let Some(id) = segment_id
                        && ok
                    {
                        // The saved segment as it is now; a deleted one matches nobody.
                        ok &= match self.store.saved_segment(*id).await {
                            Ok(saved) => {
                                let f = joren_core::segment_filter::parse(&saved.filter)?;
                                self.store.customer_matches(&f, run.customer_id).await?
                            }
                            Err(joren_store::StoreError::NotFound(_)) => false,
                            Err(e) => return Err(e.into()),
                        };
                    }
                    match (ok, otherwise) {
                        (true, _) => i += 1,
                        (false, Otherwise::Skip(n)) => i += 1 + *n as usize,
                        (false, Otherwise::Exit) => {
                            a.state = "exited".into();
                            a.exit_reason = Some("check".into());
                            break;
                        }
                    }
                    continue;
                }
                Step::Email { subject, body, marketing } => {
                    if let Some(to) = customer.profile.email.clone().filter(|e| !e.is_empty()) {
                        let subject = template::render(&format!("steps[{i}].subject"), subject, vars)?;
                        let text = template::render(&format!("steps[{i}].body"), body, vars)?;
                        let text = format!("{text}{}", self.mail_footer(*marketing, &vars.unsubscribe_url));
                        a.messages.push((
                            i as i64,
                            NewMessage {
                                customer_id: run.customer_id,
                                channel: "email".into(),
                                marketing: *marketing,
                                recipient: to,
                                subject: subject.lines().next().unwrap_or_default().to_string(),
                                body_html: template::text_to_html(&text),
                                body_text: text,
                                not_before_ms: now.timestamp_millis(),
                                test_mode: self.config.mail.test_mode(),
                            },
                        ));
                    }
                }
                Step::Task { task, title, due_days } => {
                    let title = template::render(&format!("steps[{i}].title"), title, vars).unwrap_or(title.clone());
                    a.tasks.push((
                        i as i64,
                        NewTask {
                            customer_id: run.customer_id,
                            kind: task.as_str().into(),
                            title,
                            due_on: joren_core::time::local_date(now, self.tz())
                                + chrono::Duration::days(i64::from(*due_days)),
                            assignee_id: customer.profile.owner_user_id,
                        },
                    ));
                }
                Step::Tag { add, remove } => {
                    a.add_tags.extend(add.iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()));
                    a.remove_tags.extend(remove.iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()));
                }
                Step::Points { points, reason } => {
                    let key = format!("scenario-run:{}:{i}", run.id);
                    let input = crate::points::GrantInput {
                        points: *points,
                        kind: joren_core::points::ValueKind::Free,
                        reason: reason.clone(),
                        expires_on: None,
                    };
                    self.grant_points(&Actor::system("scenario"), run.customer_id, input, Some(&key)).await?;
                }
                Step::Wait { .. } | Step::WaitUntil { .. } | Step::WaitForOrder { .. } => {
                    unreachable!("waits end the loop")
                }
            }
            i += 1;
        }
        a.step = i as i64;
        Ok(a)
    }

    /// The customer and the variables their messages are rendered with.
    /// Only the variables in `used` that cost a query are looked up (`None`: all of them).
    async fn message_context(
        &self,
        customer_id: i64,
        order_id: Option<i64>,
        used: &Option<std::collections::HashSet<String>>,
    ) -> Result<(joren_store::Customer, template::Context)> {
        let wants = |v: &str| used.as_ref().is_none_or(|u| u.contains(v));
        let c = self.store.get_customer(customer_id).await?;
        let points = if wants("points") || wants("points_expiring") || wants("points_expiry_date") {
            self.points_account(customer_id).await.ok()
        } else {
            None
        };
        let rank = if wants("rank") { self.customer_rank(customer_id).await.ok() } else { None };
        let next_lot = points.as_ref().and_then(|p| p.lots.iter().find(|l| l.expires_on.is_some() && l.remaining > 0));
        let order_total = match order_id.filter(|_| wants("order_total")) {
            Some(id) => self.store.get_order(id).await.map(|o| o.total).unwrap_or_default(),
            None => 0,
        };
        let ctx = template::Context {
            name: c.display_name.clone(),
            family_name: c.profile.family_name.clone(),
            given_name: c.profile.given_name.clone(),
            company: c.profile.company_name.clone(),
            shop_name: self.config.mail.shop_name.clone(),
            rank: rank.filter(|r| r.enabled).map(|r| r.tier).unwrap_or_default(),
            points: points.as_ref().map(|p| p.free.available + p.paid.available).unwrap_or_default(),
            points_expiring: next_lot.map(|l| l.remaining).unwrap_or_default(),
            points_expiry_date: next_lot.and_then(|l| l.expires_on).map(|d| d.to_string()).unwrap_or_default(),
            last_item: if wants("last_item") {
                self.store.last_item_bought(customer_id).await?.unwrap_or_default()
            } else {
                String::new()
            },
            recommended_item: if wants("recommended_item") {
                self.recommended_item(customer_id).await.unwrap_or_default()
            } else {
                String::new()
            },
            order_total,
            // Marketing mail carries the link in its footer whatever the template says.
            unsubscribe_url: if wants("unsubscribe_url") {
                self.unsubscribe_url(customer_id).await?
            } else {
                String::new()
            },
        };
        Ok((c, ctx))
    }

    /// A message rendered for a real customer (or the sample one) as it would be sent:
    /// subject, text with the footer, and the HTML part. Template errors name the field.
    pub async fn preview_message(
        &self,
        subject: &str,
        body: &str,
        marketing: bool,
        customer_id: Option<i64>,
    ) -> Result<MessagePreview> {
        let mut e = FieldErrors::default();
        e.take(template::check("subject", subject));
        e.take(template::check("body", body));
        if !e.is_empty() {
            return Err(e.into());
        }
        let vars = match customer_id {
            Some(id) => self.message_context(id, None, &None).await?.1,
            None => template::Context { shop_name: self.config.mail.shop_name.clone(), ..template::Context::sample() },
        };
        let subject = template::render("subject", subject, &vars)?;
        let text =
            format!("{}{}", template::render("body", body, &vars)?, self.mail_footer(marketing, &vars.unsubscribe_url));
        Ok(MessagePreview { subject, html: template::text_to_html(&text), text })
    }

    async fn recommended_item(&self, customer_id: i64) -> Option<String> {
        let s = self.cross_sell_for_customer(customer_id, 1).await.ok()?;
        s.into_iter().next().map(|x| x.consequent_name)
    }
}

/// The variables a definition's messages and tasks use, plus the unsubscribe link when it
/// sends marketing mail (its footer carries one).
fn template_variables(def: &Definition) -> Option<std::collections::HashSet<String>> {
    let mut used = std::collections::HashSet::new();
    for step in &def.steps {
        let sources: Vec<&str> = match step {
            Step::Email { subject, body, .. } => vec![subject, body],
            Step::Task { title, .. } => vec![title],
            _ => continue,
        };
        for src in sources {
            used.extend(template::variables(src)?);
        }
    }
    if def.sends_marketing() {
        used.insert("unsubscribe_url".into());
    }
    Some(used)
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
