//! Survey results: NPS, CSAT and CES over a period against the literature's targets, the
//! response rate per send, the trend by month (the shop's months) and breakdowns by RFM
//! segment, rank, 担当者 and scenario. Scored exactly by `joren_core::survey`.

use chrono::{Datelike, NaiveDate};
use joren_core::survey::{self, Mean, Nps, targets};
use joren_store::ScoreRow;
use serde::Serialize;

use crate::{App, Result};

/// The most months a report covers.
pub const MAX_MONTHS: u32 = 36;

#[derive(Debug, Clone, Serialize)]
pub struct SurveyReport {
    pub survey_id: Option<i64>,
    /// The first day of the first month and the day after the last (shop's dates).
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub nps: Nps,
    pub csat: Mean,
    pub ces: Mean,
    pub sent: u64,
    pub responses: u64,
    pub response_rate: Option<f64>,
    /// Whether each score meets its target (None without answers).
    pub nps_met: Option<bool>,
    pub csat_met: Option<bool>,
    pub ces_met: Option<bool>,
    pub months: Vec<MonthRow>,
    pub breakdowns: Vec<Breakdown>,
    /// The retention targets beside the scores: monthly churn and the repeat rate against
    /// the shop's industry.
    pub retention: RetentionTargets,
}

/// The literature's retention targets read from the order log (the last 30 days).
#[derive(Debug, Clone, Serialize)]
pub struct RetentionTargets {
    /// Customers active 30 days ago (a purchase within a year) who are no longer, in per
    /// cent (None without such customers).
    pub monthly_churn: Option<f64>,
    /// Target: ≤ 5 %.
    pub churn_met: Option<bool>,
    /// Customers with two or more purchases among those with one, in per cent.
    pub repeat_rate: Option<f64>,
    /// The shop's industry (set on the dashboard) and its typical repeat-rate range.
    pub industry: Option<String>,
    pub industry_range: Option<(f64, f64)>,
    /// Whether the repeat rate reaches the industry's range (None without an industry).
    pub repeat_met: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MonthRow {
    /// `2026-11`.
    pub month: String,
    pub nps: Option<f64>,
    pub csat: Option<f64>,
    pub ces: Option<f64>,
    pub sent: u64,
    pub responses: u64,
    pub response_rate: Option<f64>,
}

/// The scores by one dimension.
#[derive(Debug, Clone, Serialize)]
pub struct Breakdown {
    /// `segment`, `rank`, `owner`, `scenario`, `product`.
    pub by: String,
    pub rows: Vec<BreakdownRow>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BreakdownRow {
    /// The segment's code, the rank's name, the staff member's or scenario's name; empty
    /// for none (no rank, no 担当者, sent by hand).
    pub label: String,
    pub responses: u64,
    pub nps: Option<f64>,
    pub csat: Option<f64>,
    pub ces: Option<f64>,
}

fn first_of_month(d: NaiveDate) -> NaiveDate {
    d.with_day(1).expect("day 1")
}

fn add_months(d: NaiveDate, n: u32) -> NaiveDate {
    d.checked_add_months(chrono::Months::new(n)).unwrap_or(d)
}

/// Scores of a set of rows.
fn score(rows: &[&ScoreRow]) -> (Nps, Mean, Mean) {
    (
        survey::nps(rows.iter().filter_map(|r| r.nps)),
        survey::csat(rows.iter().filter_map(|r| r.csat)),
        survey::ces(rows.iter().filter_map(|r| r.ces)),
    )
}

/// One answer's NPS, CSAT and CES.
type Scores3 = (Option<i64>, Option<i64>, Option<i64>);
/// Scores grouped by label: (label, NPS, CSAT, CES) per answer.
type Labelled = (String, Option<i64>, Option<i64>, Option<i64>);

fn breakdown(by: &str, rows: impl IntoIterator<Item = Labelled>) -> Breakdown {
    let mut groups: std::collections::BTreeMap<String, Vec<Scores3>> = Default::default();
    for (label, n, c, e) in rows {
        groups.entry(label).or_default().push((n, c, e));
    }
    let mut out: Vec<BreakdownRow> = groups
        .into_iter()
        .map(|(label, rs)| BreakdownRow {
            label,
            responses: rs.len() as u64,
            nps: survey::nps(rs.iter().filter_map(|r| r.0)).score,
            csat: survey::csat(rs.iter().filter_map(|r| r.1)).mean,
            ces: survey::ces(rs.iter().filter_map(|r| r.2)).mean,
        })
        .collect();
    out.sort_by(|a, b| b.responses.cmp(&a.responses).then(a.label.cmp(&b.label)));
    Breakdown { by: by.into(), rows: out }
}

/// Each answer labelled by `label`.
fn labelled(rows: &[ScoreRow], label: impl Fn(&ScoreRow) -> Option<String>) -> Vec<Labelled> {
    rows.iter().map(|r| (label(r).unwrap_or_default(), r.nps, r.csat, r.ces)).collect()
}

impl App {
    /// The last `months` months of the shop's calendar, this month included: the first day
    /// of the first month, and the first day of next month.
    pub(crate) fn last_months(&self, months: u32) -> (NaiveDate, NaiveDate) {
        let this_month = first_of_month(joren_core::time::local_date(self.now(), self.tz()));
        let from = this_month.checked_sub_months(chrono::Months::new(months.max(1) - 1)).unwrap_or(this_month);
        (from, add_months(this_month, 1))
    }

    /// Monthly churn and the repeat rate against their targets (the last 30 days; for a large
    /// shop, the 30 days up to its last analysis, as on the dashboard).
    pub async fn retention_targets(&self) -> Result<RetentionTargets> {
        let activity = self.shop_activity().await?;
        let today = activity.as_of.map_or(self.today(), |(_, day)| day);
        let counts = activity.all.kpi_counts(today - 29, today, crate::dashboard::ACTIVE_WINDOW_DAYS);
        let k = joren_analytics::kpi::finish(counts, today - 29, today, activity.all.scale);
        let industry = self.store.setting("industry").await?;
        let range = industry.as_deref().and_then(crate::dashboard::industry).map(|i| (i.3, i.4));
        Ok(RetentionTargets {
            monthly_churn: k.churn_rate,
            churn_met: k.churn_rate.map(targets::churn_met),
            repeat_rate: k.repeat_rate,
            repeat_met: match (k.repeat_rate, range) {
                (Some(r), Some((low, _))) => Some(targets::repeat_met(r, low)),
                _ => None,
            },
            industry,
            industry_range: range,
        })
    }

    /// The results of survey `survey_id` (all surveys when None) over the last `months`
    /// months of the shop's calendar, this month included.
    pub async fn survey_report(&self, survey_id: Option<i64>, months: u32) -> Result<SurveyReport> {
        if let Some(id) = survey_id {
            self.store.survey(id).await?;
        }
        let months = months.clamp(1, MAX_MONTHS);
        let tz = self.tz();
        let (from, to) = self.last_months(months);
        let (from_ms, to_ms) = (
            joren_core::time::start_of_day(from, tz).timestamp_millis(),
            joren_core::time::start_of_day(to, tz).timestamp_millis(),
        );
        let rows = self.store.survey_scores(survey_id, from_ms, to_ms).await?;
        let sends = self.store.survey_sends(survey_id, from_ms, to_ms).await?;
        let all: Vec<&ScoreRow> = rows.iter().collect();
        let (nps, csat, ces) = score(&all);
        let month_of = |ms: i64| first_of_month(joren_core::time::local_date(joren_store::from_ms(ms), tz));
        let mut month_rows = Vec::new();
        let mut m = from;
        while m < to {
            let here: Vec<&ScoreRow> = rows.iter().filter(|r| month_of(r.answered_at_ms) == m).collect();
            let sent_here: Vec<_> = sends.iter().filter(|s| month_of(s.sent_at_ms) == m).collect();
            let answered = sent_here.iter().filter(|s| s.answered).count() as u64;
            let (n, c, e) = score(&here);
            month_rows.push(MonthRow {
                month: m.format("%Y-%m").to_string(),
                nps: n.score,
                csat: c.mean,
                ces: e.mean,
                sent: sent_here.len() as u64,
                responses: here.len() as u64,
                response_rate: survey::response_rate(answered, sent_here.len() as u64),
            });
            m = add_months(m, 1);
        }
        let sent = sends.len() as u64;
        let answered = sends.iter().filter(|s| s.answered).count() as u64;
        // By product: the answers about an order, once for each product it held.
        let by_product = self.store.survey_scores_by_product(survey_id, from_ms, to_ms).await?;
        let breakdowns = vec![
            breakdown("segment", labelled(&rows, |r| r.segment.clone())),
            breakdown("rank", labelled(&rows, |r| r.rank.clone())),
            breakdown("owner", labelled(&rows, |r| r.owner_name.clone())),
            breakdown("scenario", labelled(&rows, |r| r.scenario_name.clone())),
            breakdown("product", by_product),
        ];
        let retention = self.retention_targets().await?;
        Ok(SurveyReport {
            retention,
            survey_id,
            from,
            to,
            nps_met: nps.score.map(targets::nps_met),
            csat_met: csat.mean.map(targets::csat_met),
            ces_met: ces.mean.map(targets::ces_met),
            nps,
            csat,
            ces,
            sent,
            responses: rows.len() as u64,
            response_rate: survey::response_rate(answered, sent),
            months: month_rows,
            breakdowns,
        })
    }
}

/// A survey's results page: the survey, its report and its responses as filtered.
#[derive(Debug, Clone, Serialize)]
pub struct SurveyResults {
    pub survey: super::SurveyDef,
    pub report: SurveyReport,
    pub responses: Vec<joren_store::SurveyResponse>,
}

impl App {
    /// Survey `id`'s results over `months` and its responses matching `filter`.
    pub async fn survey_results(
        &self,
        id: i64,
        months: u32,
        filter: &joren_store::ResponseFilter,
    ) -> Result<SurveyResults> {
        let survey = self.survey(id).await?;
        let report = self.survey_report(Some(id), months).await?;
        let filter = joren_store::ResponseFilter { survey_id: Some(id), ..filter.clone() };
        let responses = self.store.survey_responses(&filter).await?;
        Ok(SurveyResults { survey, report, responses })
    }
}
