//! What can happen to a customer that Joren may react to (a scenario's trigger, a webhook).
//! Each is written as an event row with the change that caused it.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum EventKind {
    /// A live order (API, form, till); imported history raises none.
    OrderPlaced,
    OrderRefunded,
    OrderCancelled,
    /// Up or down, by an order, a review or a person.
    RankChanged,
    /// A membership started, renewed, paused, resumed or cancelled.
    MembershipChanged,
    /// A customer entered another RFM segment in a new metrics snapshot.
    SegmentMoved,
    /// A consent recorded or withdrawn (any channel, any source).
    ConsentChanged,
    /// A survey answered (raised by the voice-of-the-customer feature).
    SurveyAnswered,
    /// Points granted outside an order: by hand, a bonus (birthday, first purchase, survey),
    /// a campaign, a scenario step.
    PointsGranted,
    /// Points expired in the nightly run (one event a customer and run, with the total).
    PointsExpired,
    /// A customer created by a person or a program (the API, a form, the till); an import
    /// raises none, as imported orders raise none.
    CustomerCreated,
    /// A customer's profile changed (a person or the API).
    CustomerUpdated,
    /// A scenario's run moved on: the steps it took, where it stands now (for integrations;
    /// the scenario engine does not react to it).
    ScenarioStep,
    /// A complaint case opened (raised by the voice-of-the-customer feature).
    CaseOpened,
    /// A complaint case closed (raised by the voice-of-the-customer feature).
    CaseClosed,
    /// A customer's success stage changed (by the rules or by staff).
    StageChanged,
}

impl EventKind {
    pub const ALL: [Self; 16] = [
        Self::OrderPlaced,
        Self::OrderRefunded,
        Self::OrderCancelled,
        Self::RankChanged,
        Self::MembershipChanged,
        Self::SegmentMoved,
        Self::ConsentChanged,
        Self::SurveyAnswered,
        Self::PointsGranted,
        Self::PointsExpired,
        Self::CustomerCreated,
        Self::CustomerUpdated,
        Self::ScenarioStep,
        Self::CaseOpened,
        Self::CaseClosed,
        Self::StageChanged,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::OrderPlaced => "order.placed",
            Self::OrderRefunded => "order.refunded",
            Self::OrderCancelled => "order.cancelled",
            Self::RankChanged => "rank.changed",
            Self::MembershipChanged => "membership.changed",
            Self::SegmentMoved => "segment.moved",
            Self::ConsentChanged => "consent.changed",
            Self::SurveyAnswered => "survey.answered",
            Self::PointsGranted => "points.granted",
            Self::PointsExpired => "points.expired",
            Self::CustomerCreated => "customer.created",
            Self::CustomerUpdated => "customer.updated",
            Self::ScenarioStep => "scenario.step",
            Self::CaseOpened => "case.opened",
            Self::CaseClosed => "case.closed",
            Self::StageChanged => "stage.changed",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        for k in EventKind::ALL {
            assert_eq!(EventKind::parse(k.as_str()), Some(k));
        }
        let mut names: Vec<_> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), EventKind::ALL.len());
    }
}
