//! The queries survey reports read (see `surveys`): scored answers with what they are broken
//! down by, the answers about each ordered product, and the invitations sent.

use serde::Serialize;
use sqlx::Row;

use crate::{Result, Store};

/// One scored answer with what it is broken down by.
#[derive(Debug, Clone, Serialize)]
pub struct ScoreRow {
    pub survey_id: i64,
    pub answered_at_ms: i64,
    pub nps: Option<i64>,
    pub csat: Option<i64>,
    pub ces: Option<i64>,
    pub scenario_id: Option<i64>,
    pub scenario_name: Option<String>,
    pub owner_id: Option<i64>,
    pub owner_name: Option<String>,
    pub rank: Option<String>,
    pub segment: Option<String>,
}

/// Invitations sent in a period by survey, month and scenario (for response rates).
#[derive(Debug, Clone, Serialize)]
pub struct SentRow {
    pub survey_id: i64,
    pub sent_at_ms: i64,
    pub scenario_id: Option<i64>,
    pub answered: bool,
}

/// `sql` (its period `$1`..`$2`, and `{survey}` where one survey's condition goes) for
/// `survey_id` or all surveys, bound.
fn in_period(
    sql: &str,
    survey_condition: &str,
    survey_id: Option<i64>,
    from_ms: i64,
    to_ms: i64,
) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
    let condition = if survey_id.is_some() { survey_condition } else { "" };
    let q = sqlx::query(sqlx::AssertSqlSafe(sql.replace("{survey}", condition))).bind(from_ms).bind(to_ms);
    match survey_id {
        Some(id) => q.bind(id),
        None => q,
    }
}

impl Store {
    /// Every scored response answered in `[from_ms, to_ms)` (of one survey, or all), with its
    /// customer's 担当者, rank and RFM segment and the scenario that sent it.
    pub async fn survey_scores(&self, survey_id: Option<i64>, from_ms: i64, to_ms: i64) -> Result<Vec<ScoreRow>> {
        let sql = "SELECT r.survey_id, r.answered_at, r.nps, r.csat, r.ces, i.scenario_id, sc.name AS scenario_name, \
             c.owner_user_id, u.display_name AS owner_name, rk.tier_name AS rank_tier, f.segment \
             FROM survey_responses r JOIN survey_invitations i ON i.id = r.invitation_id \
             JOIN customers c ON c.id = r.customer_id LEFT JOIN scenarios sc ON sc.id = i.scenario_id \
             LEFT JOIN users u ON u.id = c.owner_user_id LEFT JOIN customer_ranks rk ON rk.customer_id = r.customer_id \
             LEFT JOIN customer_facts f ON f.customer_id = r.customer_id \
             WHERE r.answered_at >= $1 AND r.answered_at < $2{survey} ORDER BY r.answered_at";
        let rows = in_period(sql, " AND r.survey_id = $3", survey_id, from_ms, to_ms).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(ScoreRow {
                    survey_id: r.try_get("survey_id")?,
                    answered_at_ms: r.try_get("answered_at")?,
                    nps: r.try_get("nps")?,
                    csat: r.try_get("csat")?,
                    ces: r.try_get("ces")?,
                    scenario_id: r.try_get("scenario_id")?,
                    scenario_name: r.try_get("scenario_name")?,
                    owner_id: r.try_get("owner_user_id")?,
                    owner_name: r.try_get("owner_name")?,
                    rank: r.try_get("rank_tier")?,
                    segment: r.try_get("segment")?,
                })
            })
            .collect()
    }

    /// The scores of responses answered in `[from_ms, to_ms)` about an order (the invitation
    /// a post-purchase scenario sent), once per product the order held: (product, NPS, CSAT,
    /// CES).
    pub async fn survey_scores_by_product(
        &self,
        survey_id: Option<i64>,
        from_ms: i64,
        to_ms: i64,
    ) -> Result<Vec<(String, Option<i64>, Option<i64>, Option<i64>)>> {
        let sql = "SELECT DISTINCT r.id, oi.name, r.nps, r.csat, r.ces FROM survey_responses r \
             JOIN survey_invitations i ON i.id = r.invitation_id JOIN order_items oi ON oi.order_id = i.order_id \
             WHERE r.answered_at >= $1 AND r.answered_at < $2{survey}";
        let rows = in_period(sql, " AND r.survey_id = $3", survey_id, from_ms, to_ms).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((r.try_get("name")?, r.try_get("nps")?, r.try_get("csat")?, r.try_get("ces")?)))
            .collect()
    }

    /// Every invitation sent in `[from_ms, to_ms)` (of one survey, or all): when, from which
    /// scenario, and whether it was answered.
    pub async fn survey_sends(&self, survey_id: Option<i64>, from_ms: i64, to_ms: i64) -> Result<Vec<SentRow>> {
        let sql = "SELECT i.survey_id, i.sent_at, i.scenario_id, r.id AS response_id FROM survey_invitations i \
             LEFT JOIN survey_responses r ON r.invitation_id = i.id WHERE i.sent_at >= $1 AND i.sent_at < $2{survey}";
        let rows = in_period(sql, " AND i.survey_id = $3", survey_id, from_ms, to_ms).fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| {
                Ok(SentRow {
                    survey_id: r.try_get("survey_id")?,
                    sent_at_ms: r.try_get("sent_at")?,
                    scenario_id: r.try_get("scenario_id")?,
                    answered: r.try_get::<Option<i64>, _>("response_id")?.is_some(),
                })
            })
            .collect()
    }
}
