//! Complaint cases (クレーム・問い合わせ, issue #20): the seven steps of handling a complaint
//! after it is received, taken in order, each with when and by whom; the first response's
//! deadline (the 24-hour rule, counted on the shop's business days: `business_hours`), when to
//! escalate to the owner, and the root-cause categories the prevention log is reported by.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{Code, FieldError, FieldErrors};

/// Where a case stands: received, then the seven steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    /// 受付: the complaint is in (the first-response clock runs).
    Received,
    /// 一次対応: the customer was answered (the 24-hour rule).
    FirstResponse,
    /// 傾聴・共感: listened to and the feeling acknowledged.
    Listened,
    /// 事実確認: what happened is established.
    Facts,
    /// 解決策の提示: a solution proposed, with the date it will be carried out by.
    Proposed,
    /// 実行: the solution carried out (by the promised date).
    CarriedOut,
    /// フォロー: the customer's satisfaction checked afterwards.
    FollowedUp,
    /// 再発防止: the root cause and the change made recorded; the case is closed.
    Prevented,
}

impl Stage {
    pub const ALL: [Self; 8] = [
        Self::Received,
        Self::FirstResponse,
        Self::Listened,
        Self::Facts,
        Self::Proposed,
        Self::CarriedOut,
        Self::FollowedUp,
        Self::Prevented,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::FirstResponse => "first_response",
            Self::Listened => "listened",
            Self::Facts => "facts",
            Self::Proposed => "proposed",
            Self::CarriedOut => "carried_out",
            Self::FollowedUp => "followed_up",
            Self::Prevented => "prevented",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The step after this one (None once prevention is recorded).
    pub fn next(self) -> Option<Self> {
        Self::ALL.iter().position(|s| *s == self).and_then(|i| Self::ALL.get(i + 1)).copied()
    }

    /// 1 for the first response … 7 for prevention (0 for received).
    pub fn number(self) -> usize {
        Self::ALL.iter().position(|s| *s == self).unwrap_or_default()
    }
}

/// What keeps going wrong: the root-cause categories of the prevention log.
pub const ROOT_CAUSES: [&str; 7] = ["product", "delivery", "service", "price", "billing", "information", "other"];

/// The categories a complaint is about (the same list).
pub fn is_root_cause(s: &str) -> bool {
    ROOT_CAUSES.contains(&s)
}

/// One step as recorded.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepInput {
    /// The step taken: it must be the next one.
    pub stage: String,
    #[serde(default)]
    pub note: String,
    /// With `proposed`: the date the solution will be carried out by (YYYY-MM-DD).
    #[serde(default)]
    pub promised_on: Option<chrono::NaiveDate>,
    /// With `prevented`: the root-cause category and the change made.
    #[serde(default)]
    pub root_cause: String,
    #[serde(default)]
    pub prevention: String,
}

/// Checks a step against where the case stands; answers the stage it moves to.
pub fn check_step(current: Stage, input: &StepInput) -> Result<Stage, FieldErrors> {
    let mut e = FieldErrors::default();
    let Some(stage) = Stage::parse(&input.stage) else {
        e.push("stage", Code::Choose);
        return Err(e);
    };
    if current.next() != Some(stage) {
        let expected = current.next().map(Stage::as_str).unwrap_or("closed");
        e.push("stage", Code::CaseStepOrder).with(format!("@case.stage.{expected}"));
    }
    e.take(crate::text::check_text("note", &input.note, 2_000));
    match stage {
        Stage::Proposed if input.promised_on.is_none() => {
            e.push("promised_on", Code::Required);
        }
        Stage::Prevented => {
            if !is_root_cause(&input.root_cause) {
                e.push("root_cause", Code::Choose);
            }
            if input.prevention.trim().is_empty() {
                e.push("prevention", Code::Required);
            }
            e.take(crate::text::check_text("prevention", &input.prevention, 2_000));
        }
        _ => {}
    }
    if e.is_empty() { Ok(stage) } else { Err(e) }
}

/// The first response's state against its deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Sla {
    /// Answered by the deadline.
    Met,
    /// Answered after it.
    Late,
    /// Not answered; the deadline is still ahead.
    Running,
    /// Not answered, and the deadline has passed: a breach.
    Breached,
}

pub fn sla(due: DateTime<Utc>, first_response: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Sla {
    match first_response {
        Some(t) if t <= due => Sla::Met,
        Some(_) => Sla::Late,
        None if now <= due => Sla::Running,
        None => Sla::Breached,
    }
}

/// When a case not answered yet goes to the owner: a quarter of the allowance before the
/// deadline (6 hours before a 24-hour one).
pub fn escalate_at(due: DateTime<Utc>, sla_hours: u32) -> DateTime<Utc> {
    due - chrono::Duration::minutes(i64::from(sla_hours) * 60 / 4)
}

/// A case's title and category checked.
pub fn check_case(title: &str, category: &str) -> Result<(), FieldErrors> {
    let mut e = FieldErrors::default();
    if title.trim().is_empty() {
        e.push("title", Code::Required);
    }
    e.take(crate::text::check_text("title", title, 200));
    if !category.is_empty() && !is_root_cause(category) {
        e.0.push(FieldError::new("category", Code::Choose));
    }
    if e.is_empty() { Ok(()) } else { Err(e) }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn step(stage: &str) -> StepInput {
        StepInput { stage: stage.into(), ..StepInput::default() }
    }

    #[test]
    fn the_seven_steps_are_taken_in_order() {
        let mut at = Stage::Received;
        let mut walked = vec![];
        while let Some(next) = at.next() {
            let mut input = step(next.as_str());
            if next == Stage::Proposed {
                input.promised_on = chrono::NaiveDate::from_ymd_opt(2026, 12, 10);
            }
            if next == Stage::Prevented {
                input.root_cause = "delivery".into();
                input.prevention = "梱包材を厚手に変更".into();
            }
            at = check_step(at, &input).unwrap();
            walked.push(at.number());
        }
        assert_eq!(walked, [1, 2, 3, 4, 5, 6, 7]);
        // Out of order, a skipped step, or after the end: refused, naming the next one.
        let e = check_step(Stage::Received, &step("facts")).unwrap_err();
        assert_eq!((e.0[0].code, e.0[0].args[0].as_str()), (Code::CaseStepOrder, "@case.stage.first_response"));
        assert_eq!(check_step(Stage::Prevented, &step("prevented")).unwrap_err().0[0].args[0], "@case.stage.closed");
        let e = check_step(Stage::Facts, &step("proposed")).unwrap_err();
        assert_eq!(e.0[0].field, "promised_on");
        let e = check_step(Stage::FollowedUp, &StepInput { root_cause: "weather".into(), ..step("prevented") })
            .unwrap_err();
        let fields: Vec<&str> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["root_cause", "prevention"]);
    }

    #[test]
    fn the_first_response_is_met_late_running_or_breached() {
        let t = |h: i64| DateTime::<Utc>::from_timestamp(1_796_000_000 + h * 3600, 0).unwrap();
        let due = t(24);
        assert_eq!(sla(due, Some(t(3)), t(30)), Sla::Met);
        assert_eq!(sla(due, Some(t(24)), t(30)), Sla::Met, "at the deadline is in time");
        assert_eq!(sla(due, Some(t(25)), t(30)), Sla::Late);
        assert_eq!(sla(due, None, t(23)), Sla::Running);
        assert_eq!(sla(due, None, t(25)), Sla::Breached);
        assert_eq!(escalate_at(due, 24), t(18), "six hours before a 24-hour deadline");
    }
}
