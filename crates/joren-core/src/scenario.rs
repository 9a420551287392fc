//! Scenarios (シナリオ) as data: what starts one for a customer (the trigger), who may enter
//! (the entry rule), what ends it early (exit rules) and its steps in order — waits, checks and
//! actions. A definition is stored as JSON, one row per version; a customer who entered
//! version 3 finishes version 3 after an edit. Pure rules: validation and the wait arithmetic
//! in the shop's zone; the engine that runs them is `joren_app::scenarios`.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc, Weekday};
use serde::{Deserialize, Serialize};

use crate::FieldErrors;
use crate::event::EventKind;
use crate::time::{Tz, local_to_utc};

/// Most steps in one scenario.
pub const MAX_STEPS: usize = 50;
/// Longest single wait (about ten years) and longest event timeout.
pub const MAX_WAIT_DAYS: u32 = 3_650;
/// Most visits left a "回数券 nearly used up" trigger may name.
pub const MAX_TICKET_REMAINING: u32 = 100;
/// Most points one step may grant.
pub const MAX_STEP_POINTS: i64 = 1_000_000;

/// What enrols a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    /// Each live order runs its own timeline (imported history raises none).
    OrderPlaced,
    /// A rank change; `direction` "up", "down" or absent for either.
    RankChanged {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        direction: Option<Direction>,
    },
    /// The customer's RFM segment became `segment` in a new snapshot.
    SegmentEntered { segment: String },
    /// The customer's RFM segment stopped being `segment`.
    SegmentLeft { segment: String },
    /// A membership change: "renewed", "paused", "cancelled" … or absent for any.
    MembershipChanged {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        change: Option<String>,
    },
    /// A survey answered (raised by the voice-of-the-customer feature).
    SurveyAnswered,
    /// A complaint case closed (its prevention recorded): ask how it went.
    CaseClosed,
    /// The customer's success stage became `stage` (any stage when absent).
    StageChanged {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        stage: Option<String>,
    },
    /// The customer's birthday, on the shop's local date (29 February on the 28th in other
    /// years). Checked once a day.
    Birthday,
    /// `days` after the customer's first or last purchase, checked once a day.
    DaysAfterPurchase { which: PurchaseAnchor, days: u32 },
    /// `days` days (1 or more) after the expected next purchase date of the nightly churn
    /// analysis, when no order came; checked once a day; once per expected date.
    PurchaseOverdue { days: u32 },
    /// The customer's nearest points expiry is `days` days away, checked once a day; once per
    /// expiry date.
    PointsExpiring { days: u32 },
    /// A 回数券 is down to `remaining` visits or fewer (but not used up); once per ticket.
    TicketLow { remaining: u32 },
    /// A 回数券 with visits left expires in `days` days; once per ticket.
    TicketExpiring { days: u32 },
    /// A membership's paid period ends in `days` days (its renewal is due); once per period.
    MembershipRenewal { days: u32 },
    /// The customer came into saved segment `segment_id` since the day before (checked once
    /// a day against who was in it; a segment's first check records, starts nothing).
    SavedSegmentEntered { segment_id: i64 },
    /// The customer left saved segment `segment_id` since the day before.
    SavedSegmentLeft { segment_id: i64 },
    /// Only by hand: one customer, or every member of a saved segment now (a broadcast).
    Manual,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    Up,
    Down,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PurchaseAnchor {
    First,
    Last,
}

impl Trigger {
    /// Whether the trigger is checked once a day (rather than started by an event or by hand).
    pub fn is_daily(&self) -> bool {
        self.event().is_none() && *self != Self::Manual
    }

    /// The event that can start this trigger, if it is event-driven.
    pub fn event(&self) -> Option<EventKind> {
        Some(match self {
            Self::OrderPlaced => EventKind::OrderPlaced,
            Self::RankChanged { .. } => EventKind::RankChanged,
            Self::SegmentEntered { .. } | Self::SegmentLeft { .. } => EventKind::SegmentMoved,
            Self::MembershipChanged { .. } => EventKind::MembershipChanged,
            Self::SurveyAnswered => EventKind::SurveyAnswered,
            Self::CaseClosed => EventKind::CaseClosed,
            Self::StageChanged { .. } => EventKind::StageChanged,
            Self::Birthday
            | Self::DaysAfterPurchase { .. }
            | Self::PurchaseOverdue { .. }
            | Self::PointsExpiring { .. }
            | Self::TicketLow { .. }
            | Self::TicketExpiring { .. }
            | Self::MembershipRenewal { .. }
            | Self::SavedSegmentEntered { .. }
            | Self::SavedSegmentLeft { .. }
            | Self::Manual => return None,
        })
    }

    /// Whether an event of this trigger's kind, with `payload`, starts it.
    pub fn matches(&self, kind: EventKind, payload: &serde_json::Value) -> bool {
        if self.event() != Some(kind) {
            return false;
        }
        let text = |k: &str| payload.get(k).and_then(|v| v.as_str()).unwrap_or_default();
        match self {
            Self::RankChanged { direction } => {
                let (from, to) = (payload["from_level"].as_i64(), payload["to_level"].as_i64());
                match (direction, from, to) {
                    (None, _, _) => true,
                    (Some(Direction::Up), Some(f), Some(t)) => t > f,
                    (Some(Direction::Down), Some(f), Some(t)) => t < f,
                    _ => false,
                }
            }
            Self::SegmentEntered { segment } => text("to") == segment && text("from") != segment,
            Self::SegmentLeft { segment } => text("from") == segment && text("to") != segment,
            Self::StageChanged { stage } => stage.as_deref().is_none_or(|s| s == text("to")),
            Self::MembershipChanged { change } => {
                change.as_deref().is_none_or(|c| membership_change(c) == membership_change(text("change")))
            }
            _ => true,
        }
    }
}

/// Who may enter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum EntryRule {
    /// Once in the customer's life.
    Once,
    /// At most once in any `days` days.
    OncePer { days: u32 },
    /// Every occurrence (each order its own run).
    #[default]
    EveryTime,
}

/// What ends a run before its last step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct ExitRules {
    /// Leave when the customer orders again (after entering).
    #[serde(default)]
    pub on_order: bool,
    /// Leave when the customer withdraws consent for a channel the scenario sends on (email
    /// unsubscribed, the LINE account blocked, STOP by SMS).
    #[serde(default)]
    pub on_unsubscribe: bool,
}

/// A staff task's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TaskKind {
    /// 電話
    Call,
    /// 手紙・はがき
    Letter,
    /// 訪問
    Visit,
}

impl TaskKind {
    pub const ALL: [Self; 3] = [Self::Call, Self::Letter, Self::Visit];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Call => "call",
            Self::Letter => "letter",
            Self::Visit => "visit",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// What to do when a check fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Otherwise {
    /// End the run.
    Exit,
    /// Skip the next `n` steps (the "yes" branch) and go on after them.
    Skip(u32),
}

/// One step of a scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Step {
    /// A fixed delay.
    Wait {
        #[serde(default)]
        days: u32,
        #[serde(default)]
        hours: u32,
    },
    /// Until the next local time of day `time` ("10:00"), on `weekday` (1 = Monday … 7) if given.
    WaitUntil {
        time: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        weekday: Option<u32>,
    },
    /// Until the customer places an order (then `then`), at most `timeout_days` (then go on).
    WaitForOrder {
        timeout_days: u32,
        #[serde(default = "exit_on_event")]
        then: Otherwise,
    },
    /// A check: the customer matches `filter` (the segment filter language), is a member of
    /// the saved segment `segment_id` (its filter as it is when the step runs) and, when
    /// `consent` names a channel, has consented to it. If not, `otherwise`.
    Check {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        filter: Option<serde_json::Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        segment_id: Option<i64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        consent: Option<String>,
        otherwise: Otherwise,
    },
    /// An email from a template (subject and body with `{{ variables }}`). Marketing mail
    /// needs the customer's recorded opt-in; transactional mail (an order thank-you) does not.
    Email {
        subject: String,
        body: String,
        #[serde(default = "yes")]
        marketing: bool,
    },
    /// A LINE message to the customer's linked LINE user (nothing when none is linked): a
    /// text with `{{ variables }}`, optionally a card and quick-reply buttons. Marketing
    /// messages need the customer's LINE consent (they follow the account); every push stops
    /// once they block it.
    Line {
        text: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        card: Option<crate::line::Card>,
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        quick_replies: Vec<String>,
        #[serde(default = "yes")]
        marketing: bool,
    },
    /// An SMS to the customer's mobile number (nothing when they have none): a text with
    /// `{{ variables }}`, at most 10 segments. Sent in the daytime only; marketing texts need
    /// the customer's SMS consent, and nothing goes to someone who replied STOP.
    Sms {
        text: String,
        #[serde(default = "yes")]
        marketing: bool,
    },
    /// A task for a person: a call, a letter or a visit, due `due_days` after it is made,
    /// for the customer's 担当者 (or anyone when they have none).
    Task {
        task: TaskKind,
        title: String,
        #[serde(default)]
        due_days: u32,
    },
    /// Adds and/or removes a tag.
    Tag {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        add: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        remove: Option<String>,
    },
    /// Grants points through the ledger (once per run and step).
    Points { points: i64, reason: String },
    /// Starts another scenario for the customer (once per run and step; its entry rule and
    /// control group apply; nothing when it is not active).
    Start { scenario_id: i64 },
    /// Asks the customer to answer survey `survey_id` on `channel`: an invitation with its own
    /// link, sent with `text` (and `subject` for mail). The mail carries the first question's
    /// scores as links, LINE as quick-reply buttons; the rest is answered on the page. A
    /// satisfaction survey is not advertising (transactional) unless `marketing` says so.
    Survey {
        survey_id: i64,
        #[serde(default)]
        channel: SurveyChannel,
        #[serde(default, skip_serializing_if = "String::is_empty")]
        subject: String,
        text: String,
        #[serde(default)]
        marketing: bool,
    },
}

/// The channel a survey is sent on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurveyChannel {
    #[default]
    Email,
    Line,
    Sms,
}

impl SurveyChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Line => "line",
            Self::Sms => "sms",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "email" => Some(Self::Email),
            "line" => Some(Self::Line),
            "sms" => Some(Self::Sms),
            _ => None,
        }
    }
}

fn yes() -> bool {
    true
}

fn exit_on_event() -> Otherwise {
    Otherwise::Exit
}

impl Step {
    /// Whether the step waits (the run is saved and resumes later).
    pub fn is_wait(&self) -> bool {
        matches!(self, Self::Wait { .. } | Self::WaitUntil { .. } | Self::WaitForOrder { .. })
    }
}

/// A scenario's definition: one version of it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Definition {
    pub trigger: Trigger,
    #[serde(default)]
    pub entry: EntryRule,
    #[serde(default)]
    pub exit: ExitRules,
    pub steps: Vec<Step>,
    /// Share of entrants (0–50 %) kept as a control group: recorded, sent nothing, compared.
    #[serde(default)]
    pub holdout_percent: u32,
}

/// A membership change as the ledger records it (`cancel`), whether written that way or as
/// the editor offers it (`cancelled`).
fn membership_change(c: &str) -> &str {
    match c {
        "renewed" => "renew",
        "paused" => "pause",
        "cancelled" | "canceled" => "cancel",
        "resumed" => "resume",
        "started" => "start",
        other => other,
    }
}

/// Parses "HH:MM".
pub fn parse_time_of_day(s: &str) -> Option<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M").ok()
}

impl Definition {
    /// Checks bounds, shapes and templates, naming each bad field (`steps[2].time`).
    pub fn validate(&self) -> Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        match &self.trigger {
            Trigger::SegmentEntered { segment } | Trigger::SegmentLeft { segment } if segment.trim().is_empty() => {
                e.push("trigger.segment", crate::Code::Choose);
            }
            Trigger::DaysAfterPurchase { days, .. } if *days == 0 || *days > MAX_WAIT_DAYS => {
                e.push("trigger.days", crate::Code::RangeDays).with(1).with(MAX_WAIT_DAYS);
            }
            Trigger::PurchaseOverdue { days } if *days == 0 || *days > MAX_WAIT_DAYS => {
                e.push("trigger.days", crate::Code::RangeDays).with(1).with(MAX_WAIT_DAYS);
            }
            Trigger::PointsExpiring { days }
            | Trigger::TicketExpiring { days }
            | Trigger::MembershipRenewal { days }
                if *days > MAX_WAIT_DAYS =>
            {
                e.push("trigger.days", crate::Code::RangeDays).with(0).with(MAX_WAIT_DAYS);
            }
            Trigger::SavedSegmentEntered { segment_id } | Trigger::SavedSegmentLeft { segment_id }
                if *segment_id <= 0 =>
            {
                e.push("trigger.segment_id", crate::Code::Choose);
            }
            Trigger::TicketLow { remaining } if *remaining == 0 || *remaining > MAX_TICKET_REMAINING => {
                e.push("trigger.days", crate::Code::RangeTimes).with(1).with(MAX_TICKET_REMAINING);
            }
            _ => {}
        }
        if let EntryRule::OncePer { days } = self.entry
            && (days == 0 || days > MAX_WAIT_DAYS)
        {
            e.push("entry.days", crate::Code::RangeDays).with(1).with(MAX_WAIT_DAYS);
        }
        if self.holdout_percent > 50 {
            e.push("holdout_percent", crate::Code::RangePercent).with(0).with(50);
        }
        if self.steps.is_empty() {
            e.push("steps", crate::Code::NeedSteps);
        }
        if self.steps.len() > MAX_STEPS {
            e.push("steps", crate::Code::TooMany).with(MAX_STEPS);
        }
        for (i, step) in self.steps.iter().enumerate() {
            let f = |name: &str| format!("steps[{i}].{name}");
            match step {
                Step::Wait { days, hours } => {
                    if *days == 0 && *hours == 0 {
                        e.push(&f("days"), crate::Code::Required);
                    }
                    if *days > MAX_WAIT_DAYS || *hours > 24 * 31 {
                        e.push(&f("days"), crate::Code::RangeDays).with(0).with(MAX_WAIT_DAYS);
                    }
                }
                Step::WaitUntil { time, weekday } => {
                    if parse_time_of_day(time).is_none() {
                        e.push(&f("time"), crate::Code::BadTime);
                    }
                    if weekday.is_some_and(|w| !(1..=7).contains(&w)) {
                        e.push(&f("weekday"), crate::Code::BadWeekday);
                    }
                }
                Step::WaitForOrder { timeout_days, then } => {
                    if *timeout_days == 0 || *timeout_days > MAX_WAIT_DAYS {
                        e.push(&f("timeout_days"), crate::Code::RangeDays).with(1).with(MAX_WAIT_DAYS);
                    }
                    self.check_skip(i, *then, &mut e);
                }
                Step::Check { consent, otherwise, filter, .. } => {
                    if consent.as_deref().is_some_and(|c| !crate::customer::CONSENT_CHANNELS.contains(&c)) {
                        e.push(&f("consent"), crate::Code::Choose);
                    }
                    // The filter's own refusal (its rule and what it names), placed at the step.
                    if let Some(why) = filter.as_ref().and_then(|x| crate::segment_filter::parse(x).err()) {
                        e.0.push(crate::FieldError { field: f("filter"), code: why.code, args: why.args });
                    }
                    self.check_skip(i, *otherwise, &mut e);
                }
                Step::Email { subject, body, .. } => {
                    if subject.trim().is_empty() {
                        e.push(&f("subject"), crate::Code::Required);
                    }
                    if body.trim().is_empty() {
                        e.push(&f("body"), crate::Code::Required);
                    }
                    e.take(crate::text::check_text(&f("subject"), subject, 200));
                    e.take(crate::text::check_text(&f("body"), body, crate::text::LONG_TEXT));
                    e.take(crate::template::check(&f("subject"), subject));
                    e.take(crate::template::check(&f("body"), body));
                }
                Step::Line { text, card, quick_replies, .. } => {
                    e.0.extend(crate::line::check(&f(""), text, card.as_ref(), quick_replies).0);
                    e.take(crate::template::check(&f("text"), text));
                }
                Step::Sms { text, .. } => {
                    e.0.extend(crate::sms::check(&f("text"), text).0);
                    e.take(crate::template::check(&f("text"), text));
                }
                Step::Task { title, due_days, .. } => {
                    if title.trim().is_empty() {
                        e.push(&f("title"), crate::Code::Required);
                    }
                    e.take(crate::text::check_text(&f("title"), title, 200));
                    if *due_days > 365 {
                        e.push(&f("due_days"), crate::Code::RangeDays).with(0).with(365);
                    }
                }
                Step::Tag { add, remove } => {
                    if add.as_deref().unwrap_or_default().trim().is_empty()
                        && remove.as_deref().unwrap_or_default().trim().is_empty()
                    {
                        e.push(&f("add"), crate::Code::Required);
                    }
                    for t in add.iter().chain(remove) {
                        e.take(crate::text::check_text(&f("add"), t, 50));
                    }
                }
                Step::Start { scenario_id } => {
                    if *scenario_id <= 0 {
                        e.push(&f("scenario_id"), crate::Code::Choose);
                    }
                }
                Step::Survey { survey_id, channel, subject, text, .. } => {
                    if *survey_id <= 0 {
                        e.push(&f("survey_id"), crate::Code::Choose);
                    }
                    if *channel == SurveyChannel::Email && subject.trim().is_empty() {
                        e.push(&f("subject"), crate::Code::Required);
                    }
                    if text.trim().is_empty() {
                        e.push(&f("text"), crate::Code::Required);
                    }
                    e.take(crate::text::check_text(&f("subject"), subject, 200));
                    let max = if *channel == SurveyChannel::Sms { 200 } else { crate::text::LONG_TEXT };
                    e.take(crate::text::check_text(&f("text"), text, max));
                    e.take(crate::template::check(&f("subject"), subject));
                    e.take(crate::template::check(&f("text"), text));
                }
                Step::Points { points, reason } => {
                    if *points <= 0 || *points > MAX_STEP_POINTS {
                        e.push(&f("points"), crate::Code::Range).with(1).with(MAX_STEP_POINTS);
                    }
                    e.take(crate::text::check_text(&f("reason"), reason, 200));
                }
            }
        }
        if e.is_empty() { Ok(()) } else { Err(e) }
    }

    fn check_skip(&self, i: usize, otherwise: Otherwise, e: &mut FieldErrors) {
        if let Otherwise::Skip(n) = otherwise
            && (n == 0 || i + 1 + n as usize > self.steps.len())
        {
            e.push(&format!("steps[{i}].otherwise"), crate::Code::BadSkip);
        }
    }

    /// The channels the steps send on (email, line, sms), each once.
    pub fn channels(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        for s in &self.steps {
            let ch = match s {
                Step::Email { .. } => "email",
                Step::Line { .. } => "line",
                Step::Sms { .. } => "sms",
                Step::Survey { channel, .. } => channel.as_str(),
                _ => continue,
            };
            if !out.contains(&ch) {
                out.push(ch);
            }
        }
        out
    }

    /// Whether a customer entered by `t` sends anything that needs a marketing consent.
    pub fn sends_marketing(&self) -> bool {
        self.steps.iter().any(|s| {
            matches!(
                s,
                Step::Email { marketing: true, .. }
                    | Step::Line { marketing: true, .. }
                    | Step::Sms { marketing: true, .. }
                    | Step::Survey { marketing: true, .. }
            )
        })
    }
}

/// When a wait that starts at `now` ends. `WaitForOrder` answers its timeout.
pub fn wait_until(step: &Step, now: DateTime<Utc>, tz: Tz) -> Option<DateTime<Utc>> {
    match step {
        Step::Wait { days, hours } => {
            Some(now + chrono::Duration::days(i64::from(*days)) + chrono::Duration::hours(i64::from(*hours)))
        }
        Step::WaitForOrder { timeout_days, .. } => Some(now + chrono::Duration::days(i64::from(*timeout_days))),
        Step::WaitUntil { time, weekday } => {
            let at = parse_time_of_day(time)?;
            let local = now.with_timezone(&tz).naive_local();
            let mut day = local.date();
            for _ in 0..15 {
                let candidate = local_to_utc(day.and_time(at), tz);
                let weekday_ok = weekday.is_none_or(|w| day.weekday().number_from_monday() == w);
                if candidate > now && weekday_ok {
                    return Some(candidate);
                }
                day = day.succ_opt()?;
            }
            None
        }
        _ => None,
    }
}

/// Whether `birthday` falls on `today` (29 February counts on 28 February in other years).
pub fn is_birthday(birthday: NaiveDate, today: NaiveDate) -> bool {
    if birthday.month() == 2 && birthday.day() == 29 && NaiveDate::from_ymd_opt(today.year(), 2, 29).is_none() {
        return today.month() == 2 && today.day() == 28;
    }
    birthday.month() == today.month() && birthday.day() == today.day()
}

/// The holdout draw: a stable number 0–99 from (scenario, customer), so a customer is in the
/// same group every time they are considered (FNV-1a, fixed across builds and platforms).
pub fn holdout_bucket(scenario_id: i64, customer_id: i64) -> u32 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in scenario_id.to_le_bytes().into_iter().chain(customer_id.to_le_bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    // Fold the high bits in: the low bits of FNV over small integers are poorly mixed.
    ((h ^ (h >> 32)) % 100) as u32
}

/// Whether the customer is in the control group of a scenario keeping `percent` out.
pub fn in_holdout(scenario_id: i64, customer_id: i64, percent: u32) -> bool {
    holdout_bucket(scenario_id, customer_id) < percent
}

/// The weekday of a local date, 1 = Monday.
pub fn weekday_number(d: Weekday) -> u32 {
    d.number_from_monday()
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKYO: Tz = chrono_tz::Asia::Tokyo;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    fn def(steps: serde_json::Value) -> Definition {
        serde_json::from_value(serde_json::json!({"trigger": {"kind": "order_placed"}, "steps": steps})).unwrap()
    }

    #[test]
    fn a_membership_trigger_matches_the_ledger_s_change_as_the_editor_words_it() {
        // The ledger's events say `cancel`; the editor offers `cancelled`: both match.
        let t = Trigger::MembershipChanged { change: Some("cancelled".into()) };
        let kind = EventKind::MembershipChanged;
        assert!(t.matches(kind, &serde_json::json!({"change": "cancel"})));
        assert!(t.matches(kind, &serde_json::json!({"change": "cancelled"})));
        assert!(!t.matches(kind, &serde_json::json!({"change": "pause"})));
        let paused = Trigger::MembershipChanged { change: Some("paused".into()) };
        assert!(paused.matches(kind, &serde_json::json!({"change": "pause"})));
        let any = Trigger::MembershipChanged { change: None };
        assert!(any.matches(kind, &serde_json::json!({"change": "renew"})));
    }

    #[test]
    fn a_definition_reads_from_json_with_defaults() {
        let d = def(serde_json::json!([
            {"type": "email", "subject": "ご購入ありがとうございます", "body": "{{ name }}", "marketing": false},
            {"type": "wait", "days": 2},
            {"type": "task", "task": "call", "title": "届いたか確認"},
        ]));
        assert_eq!(d.entry, EntryRule::EveryTime);
        assert!(!d.exit.on_order);
        assert!(d.validate().is_ok());
        assert!(!d.sends_marketing());
        let back: Definition = serde_json::from_str(&serde_json::to_string(&d).unwrap()).unwrap();
        assert_eq!(back, d);
    }

    #[test]
    fn validation_names_each_bad_step_field() {
        let d = def(serde_json::json!([
            {"type": "wait"},
            {"type": "wait_until", "time": "25:00", "weekday": 8},
            {"type": "email", "subject": " ", "body": "{{ coupon }}"},
            {"type": "check", "consent": "fax", "otherwise": {"skip": 5}},
            {"type": "points", "points": 0, "reason": ""},
        ]));
        let fields: Vec<String> = d.validate().unwrap_err().0.into_iter().map(|f| f.field).collect();
        for f in ["steps[0].days", "steps[1].time", "steps[1].weekday", "steps[2].subject", "steps[3].consent"] {
            assert!(fields.contains(&f.to_string()), "{f} in {fields:?}");
        }
        assert!(fields.contains(&"steps[3].otherwise".to_string()));
        assert!(fields.contains(&"steps[2].body".to_string()), "an unknown variable is refused at save");
        assert!(fields.contains(&"steps[4].points".to_string()));
        assert!(def(serde_json::json!([])).validate().is_err());
    }

    #[test]
    fn waits_end_at_the_right_local_time() {
        let now = utc("2026-03-02T13:00:00Z"); // 22:00 in Tokyo, a Monday
        assert_eq!(wait_until(&Step::Wait { days: 1, hours: 2 }, now, TOKYO), Some(utc("2026-03-03T15:00:00Z")));
        // The next 10:00 in Tokyo is tomorrow's (01:00 UTC).
        let ten = Step::WaitUntil { time: "10:00".into(), weekday: None };
        assert_eq!(wait_until(&ten, now, TOKYO), Some(utc("2026-03-03T01:00:00Z")));
        // Saturday 10:00 (weekday 6).
        let sat = Step::WaitUntil { time: "10:00".into(), weekday: Some(6) };
        assert_eq!(wait_until(&sat, now, TOKYO), Some(utc("2026-03-07T01:00:00Z")));
        // Just before 10:00 local the same morning counts.
        assert_eq!(wait_until(&ten, utc("2026-03-03T00:59:00Z"), TOKYO), Some(utc("2026-03-03T01:00:00Z")));
    }

    #[test]
    fn birthdays_on_29_february_fall_on_the_28th_in_other_years() {
        let leap = NaiveDate::from_ymd_opt(2004, 2, 29).unwrap();
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd).unwrap();
        assert!(is_birthday(leap, d(2027, 2, 28)));
        assert!(!is_birthday(leap, d(2027, 3, 1)));
        assert!(is_birthday(leap, d(2028, 2, 29)));
        assert!(!is_birthday(leap, d(2028, 2, 28)), "in a leap year the day itself");
        assert!(is_birthday(d(1980, 3, 3), d(2026, 3, 3)));
    }

    #[test]
    fn the_holdout_is_stable_and_near_its_share() {
        assert_eq!(holdout_bucket(3, 42), holdout_bucket(3, 42));
        let held = (1..=10_000).filter(|c| in_holdout(7, *c, 10)).count();
        assert!((900..=1_100).contains(&held), "{held} of 10,000 held out at 10 %");
        let other = (1..=10_000).filter(|c| in_holdout(8, *c, 10) && in_holdout(7, *c, 10)).count();
        assert!(other < 200, "scenarios draw independently: {other} in both");
    }

    #[test]
    fn triggers_match_their_events() {
        let up = Trigger::RankChanged { direction: Some(Direction::Up) };
        assert!(up.matches(EventKind::RankChanged, &serde_json::json!({"from_level": 1, "to_level": 2})));
        assert!(!up.matches(EventKind::RankChanged, &serde_json::json!({"from_level": 2, "to_level": 1})));
        let dormant = Trigger::SegmentEntered { segment: "dormant".into() };
        assert!(dormant.matches(EventKind::SegmentMoved, &serde_json::json!({"from": "loyal", "to": "dormant"})));
        assert!(!dormant.matches(EventKind::SegmentMoved, &serde_json::json!({"from": "dormant", "to": "loyal"})));
        assert!(!Trigger::OrderPlaced.matches(EventKind::OrderRefunded, &serde_json::json!({})));
    }
}
