//! The editor's form: what was typed, step by step, read into a definition (with the errors
//! beside their fields) and a saved definition written back into the form.

use std::collections::BTreeMap;

use joren_core::scenario::{
    Definition, Direction, EntryRule, ExitRules, MAX_STEPS, Otherwise, PurchaseAnchor, Step, TaskKind, Trigger,
};
use joren_core::text::{half_width, parse_int};
use serde_json::{Value, json};

use crate::i18n::Tr;

/// The kinds of step, in the order the add list shows them.
pub(super) const KINDS: [&str; 12] = [
    "email",
    "line",
    "sms",
    "survey",
    "wait",
    "wait_until",
    "wait_for_order",
    "check",
    "task",
    "tag",
    "points",
    "start",
];

/// The triggers, in the order the list shows them; (code, word key).
pub(super) const TRIGGERS: [(&str, &str); 21] = [
    ("order_placed", "sc.trigger.order_placed"),
    ("first_purchase", "se.trigger.first_purchase"),
    ("last_purchase", "se.trigger.last_purchase"),
    ("birthday", "sc.trigger.birthday"),
    ("segment_entered", "se.trigger.segment_entered"),
    ("segment_left", "se.trigger.segment_left"),
    ("saved_segment_entered", "se.trigger.saved_entered"),
    ("saved_segment_left", "se.trigger.saved_left"),
    ("rank_up", "sc.trigger.rank_up"),
    ("rank_down", "sc.trigger.rank_down"),
    ("rank_any", "sc.trigger.rank_any"),
    ("membership", "sc.trigger.membership"),
    ("purchase_overdue", "se.trigger.overdue"),
    ("points_expiring", "se.trigger.points_expiring"),
    ("ticket_low", "se.trigger.ticket_low"),
    ("ticket_expiring", "se.trigger.ticket_expiring"),
    ("membership_renewal", "se.trigger.membership_renewal"),
    ("survey", "sc.trigger.survey"),
    ("case_closed", "sc.trigger.case_closed"),
    ("stage_changed", "sc.trigger.stage_changed"),
    ("manual", "sc.trigger.manual"),
];

pub(super) const CHANGES: [&str; 3] = ["renewed", "paused", "cancelled"];

/// Highest step index a posted form may name (a bound on what one post can make us hold).
pub(super) const MAX_FORM_STEPS: usize = MAX_STEPS + 10;

/// One step as typed: its kind, its fields' text and the errors next to them.
#[derive(Debug, Clone, Default)]
pub(super) struct StepForm {
    pub(super) kind: String,
    pub(super) v: BTreeMap<String, String>,
    pub(super) errors: BTreeMap<String, String>,
    pub(super) preview: Option<MailPreview>,
}

#[derive(Debug, Clone)]
pub(super) struct MailPreview {
    pub(super) subject: String,
    pub(super) html: String,
}

impl StepForm {
    pub(super) fn new(kind: &str) -> Self {
        let mut s = Self { kind: kind.into(), ..Self::default() };
        match kind {
            "wait" => s.set("days", "1"),
            "wait_until" => s.set("time", "10:00"),
            "wait_for_order" => s.set("timeout_days", "30"),
            "task" => {
                s.set("task", "call");
                s.set("due_days", "3");
            }
            "email" | "line" | "sms" => s.set("marketing", "1"),
            "survey" => {
                s.set("channel", "email");
                s.set("subject", "【{{ shop_name }}】ご購入後のアンケートのお願い");
                s.set(
                    "text",
                    "{{ name }}\n\n先日はご購入ありがとうございました。\nお使いになってのご感想をお聞かせください(1分ほどで終わります)。",
                );
            }
            _ => {}
        }
        s
    }

    pub(super) fn set(&mut self, k: &str, v: impl Into<String>) {
        self.v.insert(k.into(), v.into());
    }

    /// The typed text of field `k` ("" when none).
    pub(super) fn v(&self, k: &str) -> &str {
        self.v.get(k).map(String::as_str).unwrap_or("")
    }

    pub(super) fn is(&self, k: &str, value: &str) -> bool {
        self.v(k) == value
    }

    /// The error next to field `k` ("" when none).
    pub(super) fn err(&self, k: &str) -> &str {
        self.errors.get(k).map(String::as_str).unwrap_or("")
    }

    pub(super) fn has_errors(&self) -> bool {
        !self.errors.is_empty()
    }
}

/// The whole form as typed.
#[derive(Debug, Clone, Default)]
pub(super) struct Form {
    pub(super) top: StepForm,
    pub(super) steps: Vec<StepForm>,
    pub(super) general: Vec<String>,
}

impl Form {
    pub(super) fn blank() -> Self {
        let mut top = StepForm::default();
        top.set("trigger", "order_placed");
        top.set("entry", "every_time");
        top.set("holdout", "10");
        top.set("trigger_days", "30");
        top.set("entry_days", "30");
        Self { top, steps: vec![StepForm::new("email")], general: Vec::new() }
    }

    /// Reads a posted form: top-level fields by name, step fields as `s{i}.{field}`.
    pub(super) fn from_pairs(pairs: Vec<(String, String)>) -> (Self, String) {
        let mut f = Self::default();
        let mut op = String::new();
        for (k, v) in pairs {
            if k == "op" {
                op = v;
            } else if k == "csrf" {
                continue;
            } else if let Some((i, field)) = k.strip_prefix('s').and_then(|r| r.split_once('.')) {
                let Ok(i) = i.parse::<usize>() else { continue };
                if i >= MAX_FORM_STEPS {
                    continue;
                }
                if f.steps.len() <= i {
                    f.steps.resize_with(i + 1, StepForm::default);
                }
                if field == "kind" {
                    f.steps[i].kind = v;
                } else {
                    f.steps[i].set(field, v);
                }
            } else {
                f.top.set(&k, v);
            }
        }
        // A gap in the numbering (a hand-made post) leaves no kindless step behind.
        f.steps.retain(|s| !s.kind.is_empty());
        (f, op)
    }

    /// The form of a saved definition.
    pub(super) fn from_definition(name: &str, d: &Definition) -> Self {
        let mut f = Self::blank();
        f.steps.clear();
        f.top.set("name", name);
        let (code, days, segment, change) = match &d.trigger {
            Trigger::OrderPlaced => ("order_placed", None, None, None),
            Trigger::DaysAfterPurchase { which: PurchaseAnchor::First, days } => {
                ("first_purchase", Some(*days), None, None)
            }
            Trigger::DaysAfterPurchase { which: PurchaseAnchor::Last, days } => {
                ("last_purchase", Some(*days), None, None)
            }
            Trigger::Birthday => ("birthday", None, None, None),
            Trigger::SegmentEntered { segment } => ("segment_entered", None, Some(segment.clone()), None),
            Trigger::SegmentLeft { segment } => ("segment_left", None, Some(segment.clone()), None),
            Trigger::RankChanged { direction: Some(Direction::Up) } => ("rank_up", None, None, None),
            Trigger::RankChanged { direction: Some(Direction::Down) } => ("rank_down", None, None, None),
            Trigger::RankChanged { direction: None } => ("rank_any", None, None, None),
            Trigger::MembershipChanged { change } => ("membership", None, None, change.clone()),
            Trigger::SurveyAnswered => ("survey", None, None, None),
            Trigger::CaseClosed => ("case_closed", None, None, None),
            Trigger::StageChanged { stage } => {
                f.top.set("trigger_stage", stage.clone().unwrap_or_default());
                ("stage_changed", None, None, None)
            }
            Trigger::Manual => ("manual", None, None, None),
            Trigger::PurchaseOverdue { days } => ("purchase_overdue", Some(*days), None, None),
            Trigger::PointsExpiring { days } => ("points_expiring", Some(*days), None, None),
            Trigger::TicketLow { remaining } => ("ticket_low", Some(*remaining), None, None),
            Trigger::TicketExpiring { days } => ("ticket_expiring", Some(*days), None, None),
            Trigger::MembershipRenewal { days } => ("membership_renewal", Some(*days), None, None),
            Trigger::SavedSegmentEntered { segment_id } => {
                f.top.set("trigger_saved", segment_id.to_string());
                ("saved_segment_entered", None, None, None)
            }
            Trigger::SavedSegmentLeft { segment_id } => {
                f.top.set("trigger_saved", segment_id.to_string());
                ("saved_segment_left", None, None, None)
            }
        };
        f.top.set("trigger", code);
        if let Some(d) = days {
            f.top.set("trigger_days", d.to_string());
        }
        if let Some(s) = segment {
            f.top.set("trigger_segment", s);
        }
        f.top.set("trigger_change", change.unwrap_or_default());
        match d.entry {
            EntryRule::Once => f.top.set("entry", "once"),
            EntryRule::OncePer { days } => {
                f.top.set("entry", "once_per");
                f.top.set("entry_days", days.to_string());
            }
            EntryRule::EveryTime => f.top.set("entry", "every_time"),
        }
        if d.exit.on_order {
            f.top.set("exit_order", "1");
        }
        if d.exit.on_unsubscribe {
            f.top.set("exit_unsub", "1");
        }
        f.top.set("holdout", d.holdout_percent.to_string());
        f.steps = d.steps.iter().map(step_form).collect();
        f
    }

    /// Applies an editing button (`add`, `up:i`, `down:i`, `remove:i`, `library:i`). Answers
    /// false for an operation it does not know.
    pub(super) fn apply(&mut self, op: &str, t: Tr) -> bool {
        let (verb, arg) = op.split_once(':').unwrap_or((op, ""));
        let i: Option<usize> = arg.parse().ok().filter(|i| *i < self.steps.len());
        match (verb, i) {
            ("add", _) => {
                let kind = self.top.v("add_kind").to_string();
                if !KINDS.contains(&kind.as_str()) {
                    return false;
                }
                if self.steps.len() >= MAX_STEPS {
                    self.general.push(t.t("se.err.too_many").into());
                } else {
                    self.steps.push(StepForm::new(&kind));
                }
            }
            ("up", Some(i)) if i > 0 => self.steps.swap(i, i - 1),
            ("down", Some(i)) if i + 1 < self.steps.len() => self.steps.swap(i, i + 1),
            ("remove", Some(i)) => {
                self.steps.remove(i);
            }
            ("library", Some(i)) => {
                let key = self.steps[i].v("library").to_string();
                if let Some(m) =
                    joren_app::scenario_templates::ready_messages(t.lang()).into_iter().find(|m| m.key == key)
                {
                    let s = &mut self.steps[i];
                    s.set("subject", m.subject);
                    s.set("body", m.body);
                    s.set("marketing", if m.marketing { "1" } else { "" });
                }
            }
            _ => return false,
        }
        true
    }

    /// The definition the form describes, or None with the errors set next to their fields.
    pub(super) fn definition(&mut self, t: Tr) -> Option<Definition> {
        let trigger = self.trigger(t);
        let entry = match self.top.v("entry") {
            "once" => Some(EntryRule::Once),
            "once_per" => self.top_number(t, "entry_days").map(|days| EntryRule::OncePer { days }),
            _ => Some(EntryRule::EveryTime),
        };
        let holdout = number(&mut self.top, t, "holdout", false);
        let exit =
            ExitRules { on_order: self.top.is("exit_order", "1"), on_unsubscribe: self.top.is("exit_unsub", "1") };
        let steps: Vec<Option<Step>> = self.steps.iter_mut().map(|s| step_of(s, t)).collect();
        let (trigger, entry, holdout) = (trigger?, entry?, holdout?);
        let steps: Option<Vec<Step>> = steps.into_iter().collect();
        Some(Definition { trigger, entry, exit, steps: steps?, holdout_percent: holdout })
    }

    pub(super) fn trigger(&mut self, t: Tr) -> Option<Trigger> {
        let segment = || self.top.v("trigger_segment").to_string();
        Some(match self.top.v("trigger") {
            "first_purchase" => {
                Trigger::DaysAfterPurchase { which: PurchaseAnchor::First, days: self.top_number(t, "trigger_days")? }
            }
            "last_purchase" => {
                Trigger::DaysAfterPurchase { which: PurchaseAnchor::Last, days: self.top_number(t, "trigger_days")? }
            }
            "birthday" => Trigger::Birthday,
            "segment_entered" => Trigger::SegmentEntered { segment: segment() },
            "segment_left" => Trigger::SegmentLeft { segment: segment() },
            "rank_up" => Trigger::RankChanged { direction: Some(Direction::Up) },
            "rank_down" => Trigger::RankChanged { direction: Some(Direction::Down) },
            "rank_any" => Trigger::RankChanged { direction: None },
            "membership" => Trigger::MembershipChanged {
                change: Some(self.top.v("trigger_change").to_string()).filter(|c| CHANGES.contains(&c.as_str())),
            },
            "survey" => Trigger::SurveyAnswered,
            "case_closed" => Trigger::CaseClosed,
            "stage_changed" => Trigger::StageChanged {
                stage: Some(self.top.v("trigger_stage").to_string())
                    .filter(|c| joren_core::success::Stage::parse(c).is_some()),
            },
            "manual" => Trigger::Manual,
            "purchase_overdue" => Trigger::PurchaseOverdue { days: self.top_number(t, "trigger_days")? },
            "points_expiring" => Trigger::PointsExpiring { days: self.top_number(t, "trigger_days")? },
            "ticket_low" => Trigger::TicketLow { remaining: self.top_number(t, "trigger_days")? },
            "ticket_expiring" => Trigger::TicketExpiring { days: self.top_number(t, "trigger_days")? },
            "membership_renewal" => Trigger::MembershipRenewal { days: self.top_number(t, "trigger_days")? },
            "saved_segment_entered" => Trigger::SavedSegmentEntered { segment_id: self.saved_segment(t)? },
            "saved_segment_left" => Trigger::SavedSegmentLeft { segment_id: self.saved_segment(t)? },
            _ => Trigger::OrderPlaced,
        })
    }

    /// The saved segment picked for a segment trigger.
    fn saved_segment(&mut self, t: Tr) -> Option<i64> {
        let id = self.top.v("trigger_saved").parse::<i64>().ok();
        if id.is_none() {
            self.top.errors.insert("trigger_saved".into(), t.t("se.err.segment").into());
        }
        id
    }

    pub(super) fn top_number(&mut self, t: Tr, k: &str) -> Option<u32> {
        number(&mut self.top, t, k, true)
    }

    /// Puts the errors a save answered next to their fields (`steps[2].time` → step 3's
    /// time); what names no field of the form goes to the top.
    pub(super) fn place_errors(&mut self, errors: &joren_core::FieldErrors, lang: crate::i18n::Lang) {
        for e in &errors.0 {
            let message = || crate::i18n::errors::field_error(e, lang);
            let placed = match e.field.strip_prefix("steps[").and_then(|r| r.split_once("].")) {
                Some((i, field)) => match i.parse::<usize>().ok().and_then(|i| self.steps.get_mut(i)) {
                    Some(s) => {
                        let field = match field {
                            "segment_id" | "filter" => "segment",
                            "scenario_id" => "scenario",
                            "add" => "tag_add",
                            "card.image_url" => "card_image",
                            "card.title" => "card_title",
                            "card.button_label" => "card_label",
                            "card.button_url" => "card_url",
                            f => f,
                        };
                        s.errors.entry(field.to_string()).or_insert_with(message);
                        true
                    }
                    None => false,
                },
                None => {
                    let field = match e.field.as_str() {
                        "name" => Some("name"),
                        "trigger.days" => Some("trigger_days"),
                        "trigger.segment" => Some("trigger_segment"),
                        "trigger.segment_id" => Some("trigger_saved"),
                        "entry.days" => Some("entry_days"),
                        "holdout_percent" => Some("holdout"),
                        _ => None,
                    };
                    match field {
                        Some(f) => {
                            self.top.errors.entry(f.into()).or_insert_with(message);
                            true
                        }
                        None => false,
                    }
                }
            };
            if !placed {
                self.general.push(message());
            }
        }
    }

    pub(super) fn has_errors(&self) -> bool {
        self.top.has_errors() || self.steps.iter().any(StepForm::has_errors) || !self.general.is_empty()
    }
}

/// Reads a whole number typed in field `k` (full-width digits welcome). An empty optional
/// field is 0.
pub(super) fn number(s: &mut StepForm, t: Tr, k: &str, required: bool) -> Option<u32> {
    let text = s.v(k).trim().to_string();
    if text.is_empty() && !required {
        return Some(0);
    }
    match parse_int(&text).and_then(|n| u32::try_from(n).ok()) {
        Some(n) => Some(n),
        None => {
            s.errors.insert(k.into(), t.t("se.err.number").into());
            None
        }
    }
}

pub(super) fn otherwise_of(s: &mut StepForm, t: Tr, choice: &str) -> Option<Otherwise> {
    if s.is(choice, "skip") { number(s, t, "skip", true).map(Otherwise::Skip) } else { Some(Otherwise::Exit) }
}

pub(super) fn opt_text(s: &StepForm, k: &str) -> Option<String> {
    Some(s.v(k).trim().to_string()).filter(|x| !x.is_empty())
}

/// The step a step form describes, or None with its errors set.
pub(super) fn step_of(s: &mut StepForm, t: Tr) -> Option<Step> {
    match s.kind.as_str() {
        "wait" => {
            let (days, hours) = (number(s, t, "days", false), number(s, t, "hours", false));
            Some(Step::Wait { days: days?, hours: hours? })
        }
        "wait_until" => {
            let time = half_width(s.v("time"));
            let weekday = match s.v("weekday") {
                "" => None,
                _ => Some(number(s, t, "weekday", true)?),
            };
            Some(Step::WaitUntil { time, weekday })
        }
        "wait_for_order" => {
            let timeout = number(s, t, "timeout_days", true);
            let then = otherwise_of(s, t, "then");
            Some(Step::WaitForOrder { timeout_days: timeout?, then: then? })
        }
        "check" => {
            let condition = s.v("segment").to_string();
            let (mut filter, mut segment_id) = (None, None);
            if let Some(code) = condition.strip_prefix("rfm:") {
                filter = Some(json!({"field": "segment", "op": "eq", "value": code}));
            } else if let Some(id) = condition.strip_prefix("saved:") {
                segment_id = Some(id.parse::<i64>().ok().or_else(|| {
                    s.errors.insert("segment".into(), t.t("se.err.segment").into());
                    None
                })?);
            } else if condition == "custom" {
                match serde_json::from_str::<Value>(s.v("filter")) {
                    Ok(v) => filter = Some(v),
                    Err(_) => {
                        s.errors.insert("segment".into(), t.t("se.err.json").into());
                        return None;
                    }
                }
            }
            let consent = opt_text(s, "consent");
            let otherwise = otherwise_of(s, t, "otherwise")?;
            Some(Step::Check { filter, segment_id, consent, otherwise })
        }
        "email" => Some(Step::Email {
            subject: s.v("subject").to_string(),
            body: s.v("body").to_string(),
            marketing: s.is("marketing", "1"),
        }),
        "line" => {
            let card = ["card_image", "card_title", "card_label", "card_url"].iter().any(|k| !s.v(k).trim().is_empty());
            Some(Step::Line {
                text: s.v("text").to_string(),
                card: card.then(|| joren_core::line::Card {
                    image_url: s.v("card_image").trim().to_string(),
                    title: s.v("card_title").trim().to_string(),
                    button_label: s.v("card_label").trim().to_string(),
                    button_url: s.v("card_url").trim().to_string(),
                }),
                quick_replies: joren_core::line::split_quick_replies(s.v("quick_replies")),
                marketing: s.is("marketing", "1"),
            })
        }
        "sms" => Some(Step::Sms { text: s.v("text").to_string(), marketing: s.is("marketing", "1") }),
        "task" => {
            let task = TaskKind::parse(s.v("task")).unwrap_or(TaskKind::Call);
            let due = number(s, t, "due_days", false)?;
            Some(Step::Task { task, title: s.v("title").to_string(), due_days: due })
        }
        "tag" => Some(Step::Tag { add: opt_text(s, "tag_add"), remove: opt_text(s, "tag_remove") }),
        "points" => {
            let points = parse_int(s.v("points"));
            if points.is_none() {
                s.errors.insert("points".into(), t.t("se.err.number").into());
            }
            Some(Step::Points { points: points?, reason: s.v("reason").to_string() })
        }
        "survey" => {
            let Ok(survey_id) = s.v("survey").parse::<i64>() else {
                s.errors.insert("survey".into(), t.t("se.err.survey").into());
                return None;
            };
            Some(Step::Survey {
                survey_id,
                channel: joren_core::scenario::SurveyChannel::parse(s.v("channel")).unwrap_or_default(),
                subject: s.v("subject").to_string(),
                text: s.v("text").to_string(),
                marketing: s.is("marketing", "1"),
            })
        }
        "start" => match s.v("scenario").parse::<i64>() {
            Ok(id) => Some(Step::Start { scenario_id: id }),
            Err(_) => {
                s.errors.insert("scenario".into(), t.t("se.err.scenario").into());
                None
            }
        },
        _ => {
            s.errors.insert("kind".into(), t.t("se.err.kind").into());
            None
        }
    }
}

/// The form of a saved step.
pub(super) fn step_form(step: &Step) -> StepForm {
    let mut s = StepForm::default();
    let skip = |s: &mut StepForm, k: &str, o: &Otherwise| match o {
        Otherwise::Exit => s.set(k, "exit"),
        Otherwise::Skip(n) => {
            s.set(k, "skip");
            s.set("skip", n.to_string());
        }
    };
    match step {
        Step::Wait { days, hours } => {
            s.kind = "wait".into();
            s.set("days", days.to_string());
            s.set("hours", if *hours == 0 { String::new() } else { hours.to_string() });
        }
        Step::WaitUntil { time, weekday } => {
            s.kind = "wait_until".into();
            s.set("time", time.clone());
            s.set("weekday", weekday.map(|w| w.to_string()).unwrap_or_default());
        }
        Step::WaitForOrder { timeout_days, then } => {
            s.kind = "wait_for_order".into();
            s.set("timeout_days", timeout_days.to_string());
            skip(&mut s, "then", then);
        }
        Step::Check { filter, segment_id, consent, otherwise } => {
            s.kind = "check".into();
            let rfm =
                filter.as_ref().and_then(|f| match (f["field"].as_str(), f["op"].as_str(), f["value"].as_str()) {
                    (Some("segment"), Some("eq"), Some(code)) if f.as_object().is_some_and(|o| o.len() == 3) => {
                        Some(code.to_string())
                    }
                    _ => None,
                });
            match (segment_id, rfm, filter) {
                (Some(id), _, _) => s.set("segment", format!("saved:{id}")),
                (None, Some(code), _) => s.set("segment", format!("rfm:{code}")),
                (None, None, Some(f)) => {
                    s.set("segment", "custom");
                    s.set("filter", serde_json::to_string_pretty(f).unwrap_or_default());
                }
                (None, None, None) => s.set("segment", ""),
            }
            s.set("consent", consent.clone().unwrap_or_default());
            skip(&mut s, "otherwise", otherwise);
        }
        Step::Email { subject, body, marketing } => {
            s.kind = "email".into();
            s.set("subject", subject.clone());
            s.set("body", body.clone());
            s.set("marketing", if *marketing { "1" } else { "" });
        }
        Step::Line { text, card, quick_replies, marketing } => {
            s.kind = "line".into();
            s.set("text", text.clone());
            if let Some(c) = card {
                s.set("card_image", c.image_url.clone());
                s.set("card_title", c.title.clone());
                s.set("card_label", c.button_label.clone());
                s.set("card_url", c.button_url.clone());
            }
            s.set("quick_replies", quick_replies.join("、"));
            s.set("marketing", if *marketing { "1" } else { "" });
        }
        Step::Sms { text, marketing } => {
            s.kind = "sms".into();
            s.set("text", text.clone());
            s.set("marketing", if *marketing { "1" } else { "" });
        }
        Step::Task { task, title, due_days } => {
            s.kind = "task".into();
            s.set("task", task.as_str());
            s.set("title", title.clone());
            s.set("due_days", due_days.to_string());
        }
        Step::Tag { add, remove } => {
            s.kind = "tag".into();
            s.set("tag_add", add.clone().unwrap_or_default());
            s.set("tag_remove", remove.clone().unwrap_or_default());
        }
        Step::Start { scenario_id } => {
            s.kind = "start".into();
            s.set("scenario", scenario_id.to_string());
        }
        Step::Survey { survey_id, channel, subject, text, marketing } => {
            s.kind = "survey".into();
            s.set("survey", survey_id.to_string());
            s.set("channel", channel.as_str());
            s.set("subject", subject.clone());
            s.set("text", text.clone());
            s.set("marketing", if *marketing { "1" } else { "" });
        }
        Step::Points { points, reason } => {
            s.kind = "points".into();
            s.set("points", points.to_string());
            s.set("reason", reason.clone());
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::Lang;

    fn pairs(p: &[(&str, &str)]) -> Vec<(String, String)> {
        p.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    /// What the page posts back when saved: every field of the form.
    fn posted(f: &Form) -> Vec<(String, String)> {
        let mut p = vec![("op".to_string(), "save".to_string())];
        for (k, v) in &f.top.v {
            p.push((k.clone(), v.clone()));
        }
        for (i, s) in f.steps.iter().enumerate() {
            p.push((format!("s{i}.kind"), s.kind.clone()));
            for (k, v) in &s.v {
                p.push((format!("s{i}.{k}"), v.clone()));
            }
        }
        p
    }

    #[test]
    fn a_stage_trigger_keeps_its_stage_through_the_form() {
        let def: Definition = serde_json::from_value(json!({
            "trigger": {"kind": "stage_changed", "stage": "advocacy"},
            "steps": [{"type": "tag", "add": "推奨者"}]
        }))
        .unwrap();
        let f = Form::from_definition("x", &def);
        assert_eq!(f.top.v("trigger_stage"), "advocacy");
        let (mut back, _) = Form::from_pairs(posted(&f));
        assert_eq!(back.definition(Tr(Lang::Ja)).map(|d| d.trigger), Some(def.trigger));
    }

    #[test]
    fn every_ready_scenario_comes_back_the_same_through_the_form() {
        for lang in ["ja", "en"] {
            for ready in joren_app::scenario_templates::ready_scenarios(lang) {
                let def: Definition = serde_json::from_value(ready.definition).unwrap();
                let f = Form::from_definition(&ready.name, &def);
                let (mut back, op) = Form::from_pairs(posted(&f));
                assert_eq!(op, "save");
                assert_eq!(back.definition(Tr(Lang::Ja)), Some(def), "{lang} {}", ready.key);
            }
        }
    }

    #[test]
    fn a_saved_segment_trigger_needs_its_segment() {
        let (mut f, _) = Form::from_pairs(pairs(&[
            ("trigger", "saved_segment_left"),
            ("trigger_saved", "7"),
            ("s0.kind", "wait"),
            ("s0.days", "1"),
        ]));
        let d = f.definition(Tr(Lang::Ja)).expect("reads");
        assert_eq!(d.trigger, Trigger::SavedSegmentLeft { segment_id: 7 });
        assert_eq!(Form::from_definition("x", &d).top.v("trigger_saved"), "7");
        let (mut f, _) =
            Form::from_pairs(pairs(&[("trigger", "saved_segment_entered"), ("s0.kind", "wait"), ("s0.days", "1")]));
        assert!(f.definition(Tr(Lang::En)).is_none());
        assert_eq!(f.top.err("trigger_saved"), "Choose a segment");
    }

    #[test]
    fn full_width_numbers_are_read_and_bad_ones_named() {
        let (mut f, _) = Form::from_pairs(pairs(&[
            ("trigger", "last_purchase"),
            ("trigger_days", "６０"),
            ("entry", "once"),
            ("holdout", "１０"),
            ("s0.kind", "wait"),
            ("s0.days", "３"),
            ("s1.kind", "wait_until"),
            ("s1.time", "１０：００"),
            ("s2.kind", "points"),
            ("s2.points", "１，０００"),
            ("s2.reason", "感謝"),
        ]));
        let d = f.definition(Tr(Lang::Ja)).expect("reads");
        assert_eq!(d.trigger, Trigger::DaysAfterPurchase { which: PurchaseAnchor::Last, days: 60 });
        assert_eq!(d.holdout_percent, 10);
        assert_eq!(d.steps[0], Step::Wait { days: 3, hours: 0 });
        assert_eq!(d.steps[1], Step::WaitUntil { time: "10:00".into(), weekday: None });
        assert_eq!(d.steps[2], Step::Points { points: 1000, reason: "感謝".into() });

        let (mut f, _) =
            Form::from_pairs(pairs(&[("trigger", "order_placed"), ("s0.kind", "wait"), ("s0.days", "三")]));
        assert!(f.definition(Tr(Lang::En)).is_none());
        assert_eq!(f.steps[0].err("days"), "Enter a number");
        assert_eq!(f.steps[0].v("days"), "三", "what was typed stays");
    }

    #[test]
    fn steps_move_and_go_and_a_ready_message_fills_a_mail() {
        let (mut f, _) = Form::from_pairs(pairs(&[
            ("s0.kind", "email"),
            ("s0.subject", "A"),
            ("s1.kind", "wait"),
            ("s2.kind", "task"),
            ("add_kind", "tag"),
        ]));
        assert!(f.apply("down:0", Tr(Lang::Ja)));
        assert_eq!(f.steps.iter().map(|s| s.kind.as_str()).collect::<Vec<_>>(), ["wait", "email", "task"]);
        assert!(f.apply("up:2", Tr(Lang::Ja)));
        assert_eq!(f.steps[1].kind, "task");
        assert!(f.apply("remove:0", Tr(Lang::Ja)));
        assert!(f.apply("add", Tr(Lang::Ja)));
        assert_eq!(f.steps.iter().map(|s| s.kind.as_str()).collect::<Vec<_>>(), ["task", "email", "tag"]);
        assert!(!f.apply("up:0", Tr(Lang::Ja)), "the first step cannot go up");
        assert!(!f.apply("remove:9", Tr(Lang::Ja)));
        f.steps[1].set("library", "birthday.2");
        assert!(f.apply("library:1", Tr(Lang::Ja)));
        assert!(f.steps[1].v("body").contains("{{ name }}"), "{}", f.steps[1].v("body"));
        assert_ne!(f.steps[1].v("subject"), "A");
    }

    #[test]
    fn a_line_step_reads_its_card_and_one_tap_answers_and_places_lines_bounds() {
        let (mut f, _) = Form::from_pairs(pairs(&[
            ("trigger", "manual"),
            ("s0.kind", "line"),
            ("s0.text", "{{ name }}、新作です"),
            ("s0.quick_replies", "行きたい、また今度"),
            ("s0.card_image", "http://shop.example.jp/a.jpg"),
            ("s0.card_title", "春"),
            ("s0.card_label", "見る"),
            ("s0.card_url", "https://shop.example.jp/new"),
            ("s0.marketing", "1"),
        ]));
        let d = f.definition(Tr(Lang::Ja)).expect("reads");
        let Step::Line { text, card, quick_replies, marketing } = &d.steps[0] else { panic!("{:?}", d.steps[0]) };
        assert_eq!((text.as_str(), *marketing), ("{{ name }}、新作です", true));
        assert_eq!(quick_replies, &["行きたい", "また今度"]);
        assert_eq!(card.as_ref().map(|c| c.button_url.as_str()), Some("https://shop.example.jp/new"));
        let back = Form::from_definition("x", &d);
        assert_eq!(back.steps[0].v("quick_replies"), "行きたい、また今度");
        assert_eq!(back.steps[0].v("card_image"), "http://shop.example.jp/a.jpg");
        // LINE's refusal of the plain-http image lands under the image field.
        let errors = d.validate().unwrap_err();
        f.place_errors(&errors, Lang::En);
        assert!(f.steps[0].err("card_image").contains("https://"), "{:?}", f.steps[0].errors);
        // Without a card, none is sent.
        let (mut f, _) = Form::from_pairs(pairs(&[("trigger", "manual"), ("s0.kind", "line"), ("s0.text", "やあ")]));
        let d = f.definition(Tr(Lang::Ja)).expect("reads");
        assert!(matches!(&d.steps[0], Step::Line { card: None, marketing: false, .. }), "{:?}", d.steps[0]);
    }
}
