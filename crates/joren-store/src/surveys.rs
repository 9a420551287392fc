//! Surveys (see the migration `0035_surveys.sql`): the shop's surveys, the invitations sent
//! (each with its token), and one response per invitation — written with its
//! `survey.answered` event in one transaction, so a scenario or the survey bonus never misses
//! or doubles an answer.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::Tx;
use crate::scenarios::NewMessage;
use crate::{Result, Store, StoreError, now_ms};

/// A survey as stored (its questions as JSON, read by the app).
#[derive(Debug, Clone, Serialize)]
pub struct Survey {
    pub id: i64,
    pub name: String,
    pub title: String,
    pub intro: String,
    pub thanks: String,
    pub questions: serde_json::Value,
    pub valid_days: i64,
    pub archived: bool,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    /// Invitations sent and responses received, all time.
    pub sent: i64,
    pub responses: i64,
}

/// What a survey is saved with.
#[derive(Debug, Clone)]
pub struct SurveyWrite {
    pub name: String,
    pub title: String,
    pub intro: String,
    pub thanks: String,
    pub questions: serde_json::Value,
    pub valid_days: i64,
}

/// An invitation to answer: who, which survey, by which channel, from where, until when.
#[derive(Debug, Clone, Serialize)]
pub struct Invitation {
    pub id: i64,
    pub survey_id: i64,
    pub customer_id: i64,
    #[serde(skip)]
    pub token: String,
    pub channel: String,
    /// `scenario`, `staff`, `case`.
    pub source: String,
    pub scenario_id: Option<i64>,
    pub sent_at_ms: i64,
    pub expires_at_ms: i64,
    pub response_id: Option<i64>,
    /// False while only the channel's first answer is in (the rest may follow on the page).
    pub complete: bool,
}

/// An invitation to write: made by a scenario step (with the run's advance) or by hand.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    pub survey_id: i64,
    pub customer_id: i64,
    pub token: String,
    pub channel: String,
    pub source: String,
    /// Unique: a step planned twice, or a request retried, invites once.
    pub source_key: String,
    pub scenario_id: Option<i64>,
    /// The order the scenario's run was about (the post-purchase check), for breakdowns.
    pub order_id: Option<i64>,
    pub created_by: Option<i64>,
    pub sent_at_ms: i64,
    pub expires_at_ms: i64,
}

/// A response as stored, with its customer's name.
#[derive(Debug, Clone, Serialize)]
pub struct Response {
    pub id: i64,
    pub invitation_id: i64,
    pub survey_id: i64,
    pub survey_name: String,
    pub customer_id: i64,
    pub customer_name: String,
    pub answers: serde_json::Value,
    pub nps: Option<i64>,
    pub csat: Option<i64>,
    pub ces: Option<i64>,
    pub free_text: String,
    pub complete: bool,
    pub channel: String,
    pub scenario_id: Option<i64>,
    pub answered_at_ms: i64,
}

/// A response to write.
#[derive(Debug, Clone)]
pub struct ResponseWrite {
    pub answers: serde_json::Value,
    pub nps: Option<i64>,
    pub csat: Option<i64>,
    pub ces: Option<i64>,
    pub free_text: String,
    pub complete: bool,
}

/// What writing a response did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Answered {
    /// The first answer to the invitation: stored with its event.
    New(i64),
    /// The rest of a response begun in the channel.
    Completed(i64),
    /// Answered before: nothing written.
    Already(i64),
}

/// Which responses to list.
#[derive(Debug, Clone, Default)]
pub struct ResponseFilter {
    pub survey_id: Option<i64>,
    pub customer_id: Option<i64>,
    /// Words the free text contains (case-insensitive on ASCII).
    pub text: String,
    /// `detractor` (NPS 0–6), `passive`, `promoter`, `unhappy` (CSAT ≤ 2).
    pub group: String,
    pub limit: i64,
}

const SURVEY_COLUMNS: &str = "s.id, s.name, s.title, s.intro, s.thanks, s.questions, s.valid_days, s.archived, \
    s.created_at, s.updated_at, \
    (SELECT COUNT(*) FROM survey_invitations i WHERE i.survey_id = s.id) AS sent, \
    (SELECT COUNT(*) FROM survey_responses r WHERE r.survey_id = s.id) AS responses";

fn survey_from_row(r: &AnyRow) -> Result<Survey> {
    let questions: String = r.try_get("questions")?;
    Ok(Survey {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        title: r.try_get("title")?,
        intro: r.try_get("intro")?,
        thanks: r.try_get("thanks")?,
        questions: serde_json::from_str(&questions).unwrap_or(serde_json::Value::Null),
        valid_days: r.try_get("valid_days")?,
        archived: r.try_get::<i64, _>("archived")? != 0,
        created_at_ms: r.try_get("created_at")?,
        updated_at_ms: r.try_get("updated_at")?,
        sent: r.try_get("sent")?,
        responses: r.try_get("responses")?,
    })
}

const INVITATION_COLUMNS: &str = "i.id, i.survey_id, i.customer_id, i.token, i.channel, i.source, i.scenario_id, \
    i.sent_at, i.expires_at, r.id AS response_id, r.complete";

fn invitation_from_row(r: &AnyRow) -> Result<Invitation> {
    Ok(Invitation {
        id: r.try_get("id")?,
        survey_id: r.try_get("survey_id")?,
        customer_id: r.try_get("customer_id")?,
        token: r.try_get("token")?,
        channel: r.try_get("channel")?,
        source: r.try_get("source")?,
        scenario_id: r.try_get("scenario_id")?,
        sent_at_ms: r.try_get("sent_at")?,
        expires_at_ms: r.try_get("expires_at")?,
        response_id: r.try_get("response_id")?,
        complete: r.try_get::<Option<i64>, _>("complete")?.unwrap_or(0) != 0,
    })
}

const RESPONSE_SELECT: &str = "SELECT r.id, r.invitation_id, r.survey_id, s.name AS survey_name, r.customer_id, \
    c.kind AS customer_kind, c.family_name, c.given_name, c.company_name, r.answers, r.nps, r.csat, r.ces, \
    r.free_text, r.complete, i.channel, i.scenario_id, r.answered_at FROM survey_responses r \
    JOIN surveys s ON s.id = r.survey_id JOIN customers c ON c.id = r.customer_id \
    JOIN survey_invitations i ON i.id = r.invitation_id";

fn response_from_row(r: &AnyRow) -> Result<Response> {
    let answers: String = r.try_get("answers")?;
    Ok(Response {
        id: r.try_get("id")?,
        invitation_id: r.try_get("invitation_id")?,
        survey_id: r.try_get("survey_id")?,
        survey_name: r.try_get("survey_name")?,
        customer_id: r.try_get("customer_id")?,
        customer_name: crate::customer_name(r)?,
        answers: serde_json::from_str(&answers).unwrap_or(serde_json::Value::Null),
        nps: r.try_get("nps")?,
        csat: r.try_get("csat")?,
        ces: r.try_get("ces")?,
        free_text: r.try_get("free_text")?,
        complete: r.try_get::<i64, _>("complete")? != 0,
        channel: r.try_get("channel")?,
        scenario_id: r.try_get("scenario_id")?,
        answered_at_ms: r.try_get("answered_at")?,
    })
}

fn name_taken(e: StoreError, name: &str) -> StoreError {
    if e.is_unique_violation() {
        StoreError::Invalid(joren_core::FieldError::new("name", joren_core::Code::NameTaken).arg(name))
    } else {
        e
    }
}

/// How an invitation is looked up.
#[derive(Clone, Copy)]
enum InvitationBy<'a> {
    Id(i64),
    Token(&'a str),
    SourceKey(&'a str),
}

/// Writes `invitations` inside `tx`; one whose `source_key` was written before is skipped.
/// Answers the ids written, in order (`None` for a skipped one).
pub(crate) async fn insert_invitations(tx: &mut Tx, invitations: &[NewInvitation]) -> Result<Vec<Option<i64>>> {
    let mut out = Vec::with_capacity(invitations.len());
    for v in invitations {
        let id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO survey_invitations (survey_id, customer_id, token, channel, source, source_key, scenario_id, \
             order_id, created_by, sent_at, expires_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) \
             ON CONFLICT (source_key) DO NOTHING RETURNING id",
        )
        .bind(v.survey_id)
        .bind(v.customer_id)
        .bind(&v.token)
        .bind(&v.channel)
        .bind(&v.source)
        .bind(&v.source_key)
        .bind(v.scenario_id)
        .bind(v.order_id)
        .bind(v.created_by)
        .bind(v.sent_at_ms)
        .bind(v.expires_at_ms)
        .fetch_optional(&mut **tx)
        .await?;
        out.push(id);
    }
    Ok(out)
}

impl Store {
    /// Every survey (archived last), by name.
    pub async fn surveys(&self) -> Result<Vec<Survey>> {
        let sql = format!("SELECT {SURVEY_COLUMNS} FROM surveys s ORDER BY s.archived, s.name");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).fetch_all(&self.pool).await?;
        rows.iter().map(survey_from_row).collect()
    }

    /// The surveys that can be sent, (id, name) by name: for pick lists, without the counts
    /// `surveys` reads.
    pub async fn survey_choices(&self) -> Result<Vec<(i64, String)>> {
        Ok(sqlx::query_as("SELECT id, name FROM surveys WHERE archived = 0 ORDER BY name")
            .fetch_all(&self.pool)
            .await?)
    }

    pub async fn survey(&self, id: i64) -> Result<Survey> {
        let sql = format!("SELECT {SURVEY_COLUMNS} FROM surveys s WHERE s.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("survey"))?;
        survey_from_row(&row)
    }

    pub async fn create_survey(&self, w: &SurveyWrite, actor: Option<i64>) -> Result<Survey> {
        let now = now_ms();
        let id = self
            .insert_returning_id(
                sqlx::query_scalar(
                    "INSERT INTO surveys (name, title, intro, thanks, questions, valid_days, created_by, created_at, \
                     updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$8) RETURNING id",
                )
                .bind(&w.name)
                .bind(&w.title)
                .bind(&w.intro)
                .bind(&w.thanks)
                .bind(w.questions.to_string())
                .bind(w.valid_days)
                .bind(actor)
                .bind(now),
            )
            .await
            .map_err(|e| name_taken(e, &w.name))?;
        self.survey(id).await
    }

    /// Replaces a survey's texts and questions (responses keep the answers they gave).
    pub async fn update_survey(&self, id: i64, w: &SurveyWrite) -> Result<Survey> {
        let done = self
            .execute_write(
                sqlx::query(
                    "UPDATE surveys SET name = $1, title = $2, intro = $3, thanks = $4, questions = $5, \
                     valid_days = $6, updated_at = $7 WHERE id = $8",
                )
                .bind(&w.name)
                .bind(&w.title)
                .bind(&w.intro)
                .bind(&w.thanks)
                .bind(w.questions.to_string())
                .bind(w.valid_days)
                .bind(now_ms())
                .bind(id),
            )
            .await
            .map_err(|e| name_taken(e, &w.name))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("survey"));
        }
        self.survey(id).await
    }

    /// Archives a survey (nothing new is sent; its results stay) or brings it back.
    pub async fn set_survey_archived(&self, id: i64, archived: bool) -> Result<Survey> {
        let done = self
            .execute_write(
                sqlx::query("UPDATE surveys SET archived = $1, updated_at = $2 WHERE id = $3")
                    .bind(archived as i64)
                    .bind(now_ms())
                    .bind(id),
            )
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("survey"));
        }
        self.survey(id).await
    }

    /// Writes one invitation and, when `message` is given, its message in the outbox, in one
    /// transaction; an invitation whose `source_key` exists (a retried request) writes
    /// nothing. Answers the invitation and whether this call wrote it.
    pub async fn invite(&self, v: &NewInvitation, message: Option<&NewMessage>) -> Result<(Invitation, bool)> {
        let mut tx = self.begin_write().await?;
        let written = insert_invitations(&mut tx, std::slice::from_ref(v)).await?[0];
        if let (Some(id), Some(m)) = (written, message) {
            crate::outbox::insert(&mut tx, None, &format!("survey:{id}"), m, v.sent_at_ms).await?;
        }
        tx.commit().await?;
        Ok((self.invitation_where(InvitationBy::SourceKey(&v.source_key)).await?, written.is_some()))
    }

    pub async fn invitation(&self, id: i64) -> Result<Invitation> {
        self.invitation_where(InvitationBy::Id(id)).await
    }

    /// The invitation a token names.
    pub async fn invitation_by_token(&self, token: &str) -> Result<Invitation> {
        self.invitation_where(InvitationBy::Token(token)).await
    }

    async fn invitation_where(&self, by: InvitationBy<'_>) -> Result<Invitation> {
        let column = match by {
            InvitationBy::Id(_) => "id",
            InvitationBy::Token(_) => "token",
            InvitationBy::SourceKey(_) => "source_key",
        };
        let sql = format!(
            "SELECT {INVITATION_COLUMNS} FROM survey_invitations i LEFT JOIN survey_responses r \
             ON r.invitation_id = i.id WHERE i.{column} = $1"
        );
        let q = sqlx::query(sqlx::AssertSqlSafe(sql));
        let q = match by {
            InvitationBy::Id(id) => q.bind(id),
            InvitationBy::Token(t) | InvitationBy::SourceKey(t) => q.bind(t.to_string()),
        };
        let row = q.fetch_optional(&self.pool).await?.ok_or(StoreError::NotFound("survey link"))?;
        invitation_from_row(&row)
    }

    /// Writes the response to `invitation` with its `survey.answered` event, once: a second
    /// complete answer writes nothing (`Already`); the rest of a response begun in the
    /// channel (`complete` false) completes it without a second event.
    pub async fn answer_survey(&self, invitation: &Invitation, w: &ResponseWrite, at_ms: i64) -> Result<Answered> {
        let mut tx = self.begin_write().await?;
        let existing: Option<(i64, i64, String)> =
            sqlx::query_as("SELECT id, complete, answers FROM survey_responses WHERE invitation_id = $1")
                .bind(invitation.id)
                .fetch_optional(&mut *tx)
                .await?;
        let out = match existing {
            Some((id, complete, _)) if complete != 0 || !w.complete => Answered::Already(id),
            Some((id, _, before)) => {
                // The channel's first answer stays; the page adds the rest.
                let mut answers: serde_json::Map<String, serde_json::Value> =
                    serde_json::from_str(&before).unwrap_or_default();
                if let Some(given) = w.answers.as_object() {
                    for (k, v) in given {
                        answers.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                }
                sqlx::query(
                    "UPDATE survey_responses SET answers = $1, nps = COALESCE(nps, $2), csat = COALESCE(csat, $3), \
                     ces = COALESCE(ces, $4), free_text = $5, complete = 1, updated_at = $6 WHERE id = $7",
                )
                .bind(serde_json::Value::Object(answers).to_string())
                .bind(w.nps)
                .bind(w.csat)
                .bind(w.ces)
                .bind(&w.free_text)
                .bind(at_ms)
                .bind(id)
                .execute(&mut *tx)
                .await?;
                Answered::Completed(id)
            }
            None => {
                let id: Option<i64> = sqlx::query_scalar(
                    "INSERT INTO survey_responses (invitation_id, survey_id, customer_id, answers, nps, csat, ces, \
                     free_text, complete, answered_at, updated_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$10) \
                     ON CONFLICT (invitation_id) DO NOTHING RETURNING id",
                )
                .bind(invitation.id)
                .bind(invitation.survey_id)
                .bind(invitation.customer_id)
                .bind(w.answers.to_string())
                .bind(w.nps)
                .bind(w.csat)
                .bind(w.ces)
                .bind(&w.free_text)
                .bind(w.complete as i64)
                .bind(at_ms)
                .fetch_optional(&mut *tx)
                .await?;
                match id {
                    Some(id) => {
                        let payload = serde_json::json!({
                            "survey_id": invitation.survey_id,
                            "response_id": id,
                            "invitation_id": invitation.id,
                            "scenario_id": invitation.scenario_id,
                            "channel": invitation.channel,
                            "nps": w.nps,
                            "csat": w.csat,
                            "ces": w.ces,
                        });
                        let kind = joren_core::event::EventKind::SurveyAnswered;
                        crate::events::insert(&mut tx, kind, invitation.customer_id, "survey_response", id, &payload)
                            .await?;
                        Answered::New(id)
                    }
                    // Another request answered in the meantime (PostgreSQL).
                    None => {
                        let id = sqlx::query_scalar("SELECT id FROM survey_responses WHERE invitation_id = $1")
                            .bind(invitation.id)
                            .fetch_one(&mut *tx)
                            .await?;
                        Answered::Already(id)
                    }
                }
            }
        };
        tx.commit().await?;
        Ok(out)
    }

    pub async fn survey_response(&self, id: i64) -> Result<Response> {
        let sql = format!("{RESPONSE_SELECT} WHERE r.id = $1");
        let row = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("survey response"))?;
        response_from_row(&row)
    }

    /// Responses, newest first.
    pub async fn survey_responses(&self, f: &ResponseFilter) -> Result<Vec<Response>> {
        let mut sql = format!("{RESPONSE_SELECT} WHERE 1 = 1");
        let mut n = 0;
        let mut next = || {
            n += 1;
            n
        };
        if f.survey_id.is_some() {
            sql.push_str(&format!(" AND r.survey_id = ${}", next()));
        }
        if f.customer_id.is_some() {
            sql.push_str(&format!(" AND r.customer_id = ${}", next()));
        }
        let text = f.text.trim().to_lowercase();
        if !text.is_empty() {
            sql.push_str(&format!(" AND LOWER(r.free_text) LIKE ${} ESCAPE '\\'", next()));
        }
        sql.push_str(match f.group.as_str() {
            "detractor" => " AND r.nps <= 6",
            "passive" => " AND r.nps BETWEEN 7 AND 8",
            "promoter" => " AND r.nps >= 9",
            "unhappy" => " AND r.csat <= 2",
            _ => "",
        });
        sql.push_str(&format!(" ORDER BY r.answered_at DESC, r.id DESC LIMIT ${}", next()));
        let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(id) = f.survey_id {
            q = q.bind(id);
        }
        if let Some(id) = f.customer_id {
            q = q.bind(id);
        }
        if !text.is_empty() {
            let escaped = text.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
            q = q.bind(format!("%{escaped}%"));
        }
        let limit = if f.limit > 0 { f.limit.min(1000) } else { 100 };
        let rows = q.bind(limit).fetch_all(&self.pool).await?;
        rows.iter().map(response_from_row).collect()
    }

    /// Responses that answered question `key` (the exit survey's reason), newest first.
    pub async fn responses_with_answer(&self, key: &str, limit: i64) -> Result<Vec<Response>> {
        let sql = format!("{RESPONSE_SELECT} WHERE r.answers LIKE $1 ORDER BY r.answered_at DESC, r.id DESC LIMIT $2");
        let rows = sqlx::query(sqlx::AssertSqlSafe(sql))
            .bind(format!("%\"{key}\":%"))
            .bind(limit)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(response_from_row).collect()
    }
}
