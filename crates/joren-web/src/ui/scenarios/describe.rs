//! A scenario's trigger and steps in the reader's words, for its page.

use joren_core::scenario::{Otherwise, Step, Trigger};

use crate::i18n::{Lang, Tr};

/// A trigger in words; `segment_name` names a saved segment it watches.
pub(super) fn trigger_words(t: Tr, tr: &Trigger, segment_name: &dyn Fn(i64) -> String) -> String {
    let seg = |s: &str| joren_app::metrics::segment_label(s, t.0 == Lang::En);
    match tr {
        Trigger::OrderPlaced => t.t("sc.trigger.order_placed").into(),
        Trigger::RankChanged { direction: Some(joren_core::scenario::Direction::Up) } => {
            t.t("sc.trigger.rank_up").into()
        }
        Trigger::RankChanged { direction: Some(joren_core::scenario::Direction::Down) } => {
            t.t("sc.trigger.rank_down").into()
        }
        Trigger::RankChanged { direction: None } => t.t("sc.trigger.rank_any").into(),
        Trigger::SegmentEntered { segment } => format!("{}{}", t.t("sc.trigger.segment_entered"), seg(segment)),
        Trigger::SegmentLeft { segment } => format!("{}{}", t.t("sc.trigger.segment_left"), seg(segment)),
        Trigger::MembershipChanged { .. } => t.t("sc.trigger.membership").into(),
        Trigger::SurveyAnswered => t.t("sc.trigger.survey").into(),
        Trigger::CaseClosed => t.t("sc.trigger.case_closed").into(),
        Trigger::StageChanged { stage } => match stage {
            Some(s) => format!("{}: {}", t.t("sc.trigger.stage_changed"), t.t(&format!("stage.{s}"))),
            None => t.t("sc.trigger.stage_changed").into(),
        },
        Trigger::Birthday => t.t("sc.trigger.birthday").into(),
        Trigger::DaysAfterPurchase { which, days } => {
            let key = match which {
                joren_core::scenario::PurchaseAnchor::First => "sc.trigger.first_purchase",
                joren_core::scenario::PurchaseAnchor::Last => "sc.trigger.last_purchase",
            };
            format!("{}{days}", t.t(key))
        }
        Trigger::Manual => t.t("sc.trigger.manual").into(),
        Trigger::PurchaseOverdue { days } => format!("{}{days}", t.t("sc.trigger.overdue")),
        Trigger::PointsExpiring { days } => format!("{}{days}", t.t("sc.trigger.points_expiring")),
        Trigger::TicketLow { remaining } => format!("{}{remaining}", t.t("sc.trigger.ticket_low")),
        Trigger::TicketExpiring { days } => format!("{}{days}", t.t("sc.trigger.ticket_expiring")),
        Trigger::MembershipRenewal { days } => format!("{}{days}", t.t("sc.trigger.membership_renewal")),
        Trigger::SavedSegmentEntered { segment_id } => {
            format!("{}{}", t.t("sc.trigger.saved_entered"), segment_name(*segment_id))
        }
        Trigger::SavedSegmentLeft { segment_id } => {
            format!("{}{}", t.t("sc.trigger.saved_left"), segment_name(*segment_id))
        }
    }
}

/// A step in words; `name_of("scenario" | "survey", id)` names the scenario a step starts
/// and the survey it sends.
pub(super) fn step_words(t: Tr, s: &Step, name_of: &dyn Fn(&str, i64) -> String) -> String {
    let otherwise = |o: &Otherwise| match o {
        Otherwise::Exit => t.t("sc.step.otherwise.exit").to_string(),
        Otherwise::Skip(n) => format!("{}{n}", t.t("sc.step.otherwise.skip")),
    };
    match s {
        Step::Wait { days, hours } => {
            let mut w = t.t("sc.step.wait").to_string();
            if *days > 0 {
                w.push_str(&format!(" {days}{}", t.t("sc.step.days")));
            }
            if *hours > 0 {
                w.push_str(&format!(" {hours}{}", t.t("sc.step.hours")));
            }
            w
        }
        Step::WaitUntil { time, weekday } => {
            let mut w = format!("{}{time}", t.t("sc.step.until"));
            if let Some(d) = weekday {
                let names = if t.0 == Lang::En {
                    ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
                } else {
                    ["月", "火", "水", "木", "金", "土", "日"]
                };
                w.push_str(&format!(" ({})", names[(*d as usize).clamp(1, 7) - 1]));
            }
            w
        }
        Step::WaitForOrder { timeout_days, then } => {
            format!("{}{timeout_days} · {}", t.t("sc.step.wait_order"), otherwise(then))
        }
        Step::Check { filter, segment_id, consent, otherwise: o } => {
            let mut parts = Vec::new();
            if filter.is_some() || segment_id.is_some() {
                parts.push(t.t("sc.step.check.filter"));
            }
            if let Some(channel) = consent {
                parts.push(t.t(&format!("se.consent.{channel}")));
            }
            format!("{}{} · {}", t.t("sc.step.check"), parts.join(" / "), otherwise(o))
        }
        Step::Email { subject, marketing, .. } => format!(
            "{}{subject} {}",
            t.t("sc.step.email"),
            t.t(if *marketing { "sc.step.email.marketing" } else { "sc.step.email.transactional" })
        ),
        Step::Line { text, marketing, .. } => format!(
            "{}{} {}",
            t.t("sc.step.line"),
            text.lines().next().unwrap_or_default().chars().take(40).collect::<String>(),
            t.t(if *marketing { "sc.step.email.marketing" } else { "sc.step.email.transactional" })
        ),
        Step::Sms { text, marketing } => {
            let n = joren_core::sms::segments(text).segments;
            format!(
                "{}{} ({}) {}",
                t.t("sc.step.sms"),
                text.lines().next().unwrap_or_default().chars().take(40).collect::<String>(),
                t.t("sc.step.sms.segments").replace("{0}", &n.to_string()),
                t.t(if *marketing { "sc.step.email.marketing" } else { "sc.step.email.transactional" })
            )
        }
        Step::Task { task, title, .. } => format!("{}{title}", t.t(&format!("sc.step.task.{}", task.as_str()))),
        Step::Survey { survey_id, channel, .. } => format!(
            "{}{} ({})",
            t.t("sc.step.survey"),
            name_of("survey", *survey_id),
            t.t(&format!("kind.{}", channel.as_str()))
        ),
        Step::Tag { add, remove } => {
            let mut w = Vec::new();
            if let Some(a) = add {
                w.push(format!("{}{a}", t.t("sc.step.tag_add")));
            }
            if let Some(r) = remove {
                w.push(format!("{}{r}", t.t("sc.step.tag_remove")));
            }
            w.join(" · ")
        }
        Step::Points { points, reason } => format!("{}{points} pt ({reason})", t.t("sc.step.points")),
        Step::Start { scenario_id } => format!("{}{}", t.t("sc.step.start"), name_of("scenario", *scenario_id)),
    }
}
