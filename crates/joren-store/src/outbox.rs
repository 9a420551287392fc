//! The outbox (see the migration `0019_scenarios.sql`): messages written when a run step
//! decides to send, claimed by delivery workers with a lease, and marked under the attempt that
//! claimed them (fencing, as for jobs). A claim that outlives its lease is taken over, so a
//! crash between handing a mail to the SMTP server and marking it sent can send that message
//! again: at most the messages in flight at the crash are doubled; none is lost.

use serde::Serialize;
use sqlx::Row;
use sqlx::any::AnyRow;

use crate::db::Tx;
use crate::scenarios::NewMessage;
use crate::{Result, Store};

/// A message as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub id: i64,
    pub run_id: Option<i64>,
    pub scenario_id: Option<i64>,
    pub version: Option<i64>,
    pub step: Option<i64>,
    pub customer_id: Option<i64>,
    pub occurrence: String,
    pub channel: String,
    pub marketing: bool,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    pub state: String,
    pub not_before_ms: i64,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub test_mode: bool,
    pub message_id: Option<String>,
    pub created_at_ms: i64,
    pub updated_at_ms: i64,
    pub sent_at_ms: Option<i64>,
    /// What the provider is sent when it is more than the text (LINE's message objects, as
    /// JSON); `None` for email.
    pub payload: Option<String>,
}

/// How a delivery attempt ended.
#[derive(Debug, Clone)]
pub enum Delivery {
    /// Handed over (or, in test mode, kept in the outbox as sent).
    Sent { message_id: String },
    /// A check at send time said "not now" (quiet hours, a frequency cap): queued again at
    /// `until_ms` without using up an attempt.
    Deferred { until_ms: i64, reason: String },
    /// A passing failure: tried again at `at_ms`.
    Retry { at_ms: i64, error: String },
    /// A failure that retrying cannot mend (a permanent SMTP rejection, too many attempts).
    Failed { error: String },
    /// Not to be sent at all (no consent, unsubscribed, undeliverable address).
    Suppressed { reason: String },
}

/// What a finished delivery writes: state, next try, error, message id, sent at, and whether
/// the attempt is given back (a deferral is not a try).
type Finish<'a> = (&'a str, Option<i64>, Option<&'a str>, Option<&'a str>, Option<i64>, i64);

/// Messages per state.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct OutboxCounts {
    pub queued: i64,
    pub sending: i64,
    pub sent: i64,
    pub failed: i64,
    pub suppressed: i64,
}

const COLUMNS: &str = "id, run_id, scenario_id, version, step, customer_id, occurrence, channel, marketing, recipient, \
                       subject, body_text, body_html, state, not_before, attempts, last_error, test_mode, message_id, \
                       created_at, updated_at, sent_at, payload";

fn from_row(r: &AnyRow) -> Result<Message> {
    Ok(Message {
        id: r.try_get("id")?,
        run_id: r.try_get("run_id")?,
        scenario_id: r.try_get("scenario_id")?,
        version: r.try_get("version")?,
        step: r.try_get("step")?,
        customer_id: r.try_get("customer_id")?,
        occurrence: r.try_get("occurrence")?,
        channel: r.try_get("channel")?,
        marketing: r.try_get::<i64, _>("marketing")? != 0,
        recipient: r.try_get("recipient")?,
        subject: r.try_get("subject")?,
        body_text: r.try_get("body_text")?,
        body_html: r.try_get("body_html")?,
        state: r.try_get("state")?,
        not_before_ms: r.try_get("not_before")?,
        attempts: r.try_get("attempts")?,
        last_error: r.try_get("last_error")?,
        test_mode: r.try_get::<i64, _>("test_mode")? != 0,
        message_id: r.try_get("message_id")?,
        created_at_ms: r.try_get("created_at")?,
        updated_at_ms: r.try_get("updated_at")?,
        sent_at_ms: r.try_get("sent_at")?,
        payload: r.try_get("payload")?,
    })
}

/// Sent messages recorded per statement (three parameters each).
const FINISH_ROWS: usize = 500;

/// Writes a message in `tx`, once per (scenario version, step, customer, occurrence,
/// channel): a second write of the same decision is ignored.
pub(crate) async fn insert(
    tx: &mut Tx,
    source: Option<(i64, i64, i64, i64)>,
    occurrence: &str,
    m: &NewMessage,
    now_ms: i64,
) -> Result<Option<i64>> {
    let (run, scenario, version, step) = match source {
        Some((r, s, v, st)) => (Some(r), Some(s), Some(v), Some(st)),
        None => (None, None, None, None),
    };
    // A scenario's message is one per step and occurrence; a direct one per customer, channel
    // and occurrence (the partial index `outbox_direct`).
    let conflict = match source {
        Some(_) => "(scenario_id, version, step, customer_id, occurrence, channel)",
        None => "(customer_id, channel, occurrence) WHERE scenario_id IS NULL",
    };
    let id: Option<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "INSERT INTO outbox (run_id, scenario_id, version, step, customer_id, occurrence, channel, marketing, recipient, \
         subject, body_text, body_html, state, not_before, test_mode, created_at, updated_at, payload) \
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,'queued',$13,$14,$15,$15,$16) \
         ON CONFLICT {conflict} DO NOTHING RETURNING id",
    )))
    .bind(run)
    .bind(scenario)
    .bind(version)
    .bind(step)
    .bind(m.customer_id)
    .bind(occurrence)
    .bind(&m.channel)
    .bind(m.marketing as i64)
    .bind(&m.recipient)
    .bind(&m.subject)
    .bind(&m.body_text)
    .bind(&m.body_html)
    .bind(m.not_before_ms)
    .bind(m.test_mode as i64)
    .bind(now_ms)
    .bind(&m.payload)
    .fetch_optional(&mut **tx)
    .await?;
    Ok(id)
}

impl Store {
    /// Queues a message no scenario decided (a staff member's reply), once per customer,
    /// channel and `occurrence`: answers its id and whether it is new (false: the same
    /// occurrence was queued before, nothing written). A new one answers the customer's open
    /// conversation on the channel, if any (its first response, in the same transaction; the
    /// conversation becomes staff member `author`'s if nobody had it).
    pub async fn queue_direct_message(
        &self,
        occurrence: &str,
        m: &NewMessage,
        author: Option<i64>,
        now_ms: i64,
    ) -> Result<(i64, bool)> {
        let mut tx = self.begin_write().await?;
        let fresh = insert(&mut tx, None, occurrence, m, now_ms).await?;
        let id = match fresh {
            Some(id) => {
                crate::conversations::note_reply(&mut tx, &m.channel, &m.recipient, &m.body_text, author, now_ms)
                    .await?;
                id
            }
            None => {
                sqlx::query_scalar(
                    "SELECT id FROM outbox WHERE customer_id = $1 AND channel = $2 AND occurrence = $3 \
                     AND scenario_id IS NULL",
                )
                .bind(m.customer_id)
                .bind(&m.channel)
                .bind(occurrence)
                .fetch_one(&mut *tx)
                .await?
            }
        };
        tx.commit().await?;
        Ok((id, fresh.is_some()))
    }

    /// Leases messages due at `now_ms` for `lease_ms`, up to `limit`'s counts: queued ones
    /// whose time has come and ones whose sender's lease ran out. Each claim counts an attempt.
    pub async fn claim_messages(&self, now_ms: i64, lease_ms: i64, limit: ClaimLimit) -> Result<Vec<Message>> {
        // Asked first without the writer: most passes of an idle shop find nothing due (a
        // message committed a moment ago is taken on the next pass).
        let any: Option<i64> = sqlx::query_scalar(
            "SELECT id FROM outbox WHERE state = 'queued' AND test_mode IN (0, 1) AND not_before <= $1 \
             UNION ALL SELECT id FROM outbox WHERE state = 'sending' AND lease_until < $1 LIMIT 1",
        )
        .bind(now_ms)
        .fetch_optional(&self.pool)
        .await?;
        if any.is_none() {
            return Ok(Vec::new());
        }
        let mut tx = self.begin_write().await?;
        let out = self.claim_in(&mut tx, now_ms, lease_ms, limit).await?;
        tx.commit().await?;
        Ok(out)
    }

    /// [`Store::finish_messages`] and a claim of the next due messages in one transaction: a
    /// sender going from one batch to the next waits for the writer once, not twice, and on
    /// SQLite the outcomes and the claim go to the connection in one trip (the writer is held
    /// for that trip only). The claim commits with the outcomes, so a crash before the commit
    /// loses neither (the batch sent is the one in flight; the next was not claimed). Leases
    /// that ran out are left to the pass's first claim ([`Store::claim_messages`]).
    pub async fn finish_and_claim(
        &self,
        outcomes: &[(i64, i64, Delivery)],
        now_ms: i64,
        lease_ms: i64,
        limit: ClaimLimit,
    ) -> Result<Vec<Message>> {
        let mut tx = self.begin_write().await?;
        let (_, mut batch) = self.finish_rest(&mut tx, outcomes, now_ms).await?;
        push_due_claims(&mut batch, now_ms, lease_ms, limit, 0);
        claimed(&tx.commit_returning(batch).await?)
    }

    async fn claim_in(&self, tx: &mut Tx, now_ms: i64, lease_ms: i64, limit: ClaimLimit) -> Result<Vec<Message>> {
        // Expired leases first, then due messages: statements each on its own partial index
        // (one with an OR over both scanned the whole outbox once it held 100,000 rows).
        // Leases that ran out are taken back a live batch at a time, whatever their mode.
        let mut batch = crate::batch::Batch::new(self.backend());
        push_claim(&mut batch, Claim::LeaseRanOut, now_ms, lease_ms, limit.live);
        let mut rows = batch.run(tx).await?;
        let mut batch = crate::batch::Batch::new(self.backend());
        push_due_claims(&mut batch, now_ms, lease_ms, limit, rows.len() as i64);
        if !batch.is_empty() {
            rows.extend(batch.run(tx).await?);
        }
        claimed(&rows)
    }

    /// When marketing messages to a customer other than `except` were sent (or are being
    /// sent) at or after `since_ms`, oldest first: the frequency caps.
    /// When the customer's marketing messages sent (or being sent, by any worker) since
    /// `since_ms` went, oldest first, leaving out the messages `except` (the caller's own
    /// batch, which it counts itself).
    pub async fn marketing_sent_since(&self, customer_id: i64, since_ms: i64, except: &[i64]) -> Result<Vec<i64>> {
        let except = if except.is_empty() {
            String::new()
        } else {
            format!(" AND id NOT IN ({})", except.iter().map(i64::to_string).collect::<Vec<_>>().join(","))
        };
        Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COALESCE(sent_at, updated_at) FROM outbox WHERE customer_id = $1 AND marketing = 1 \
             AND state IN ('sent', 'sending') AND COALESCE(sent_at, updated_at) >= $2{except} ORDER BY 1"
        )))
        .bind(customer_id)
        .bind(since_ms)
        .fetch_all(&self.pool)
        .await?)
    }

    /// Records how a batch of attempts ended, in one transaction; an attempt that is no longer
    /// current (its lease ran out and another worker claimed it) changes nothing. Answers how
    /// many were still current.
    pub async fn finish_messages(&self, outcomes: &[(i64, i64, Delivery)], now_ms: i64) -> Result<u64> {
        if outcomes.is_empty() {
            return Ok(0);
        }
        let mut tx = self.begin_write().await?;
        let n = self.finish_in(&mut tx, outcomes, now_ms).await?;
        tx.commit().await?;
        Ok(n)
    }

    async fn finish_in(&self, tx: &mut Tx, outcomes: &[(i64, i64, Delivery)], now_ms: i64) -> Result<u64> {
        let (mut n, batch) = self.finish_rest(tx, outcomes, now_ms).await?;
        if !batch.is_empty() {
            n += batch.execute(tx).await?;
        }
        Ok(n)
    }

    /// Records the outcomes that are not a send (few: each its own statement) and answers how
    /// many were still current, with a batch marking the sent ones (nearly all of a batch) in
    /// multi-row updates, for the caller to run.
    async fn finish_rest(
        &self,
        tx: &mut Tx,
        outcomes: &[(i64, i64, Delivery)],
        now_ms: i64,
    ) -> Result<(u64, crate::batch::Batch)> {
        let mut n = 0;
        let mut sent: Vec<(i64, i64, &str)> = Vec::with_capacity(outcomes.len());
        for (id, attempt, outcome) in outcomes {
            match outcome {
                Delivery::Sent { message_id } => sent.push((*id, *attempt, message_id)),
                _ => n += finish_query(*id, *attempt, outcome, now_ms).execute(&mut **tx).await?.rows_affected(),
            }
        }
        let mut batch = crate::batch::Batch::new(self.backend());
        for chunk in sent.chunks(FINISH_ROWS) {
            push_sent(&mut batch, chunk, now_ms);
        }
        Ok((n, batch))
    }

    pub async fn message(&self, id: i64) -> Result<Option<Message>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM outbox WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(from_row).transpose()
    }

    /// The newest messages, optionally of one customer, scenario or state.
    pub async fn messages(
        &self,
        customer_id: Option<i64>,
        scenario_id: Option<i64>,
        state: Option<&str>,
        limit: i64,
    ) -> Result<Vec<Message>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM outbox WHERE ($1 < 0 OR customer_id = $1) AND ($2 < 0 OR scenario_id = $2) \
             AND ($3 = '' OR state = $3) ORDER BY id DESC LIMIT $4"
        )))
        .bind(customer_id.unwrap_or(-1))
        .bind(scenario_id.unwrap_or(-1))
        .bind(state.unwrap_or(""))
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(from_row).collect()
    }

    /// Messages per state, optionally of one scenario.
    pub async fn outbox_counts(&self, scenario_id: Option<i64>) -> Result<OutboxCounts> {
        let rows =
            sqlx::query("SELECT state, COUNT(*) AS n FROM outbox WHERE ($1 < 0 OR scenario_id = $1) GROUP BY state")
                .bind(scenario_id.unwrap_or(-1))
                .fetch_all(&self.pool)
                .await?;
        let mut c = OutboxCounts::default();
        for r in rows {
            let n: i64 = r.try_get("n")?;
            match r.try_get::<String, _>("state")?.as_str() {
                "queued" => c.queued = n,
                "sending" => c.sending = n,
                "sent" => c.sent = n,
                "failed" => c.failed = n,
                "suppressed" => c.suppressed = n,
                _ => {}
            }
        }
        Ok(c)
    }

    /// Marks an address as not to be mailed again (a permanent rejection).
    pub async fn mark_undeliverable(&self, address: &str, reason: &str, now_ms: i64) -> Result<()> {
        self.execute_write(
            sqlx::query(
                "INSERT INTO undeliverable_addresses (address, reason, at) VALUES ($1, $2, $3) \
                 ON CONFLICT (address) DO UPDATE SET reason = excluded.reason, at = excluded.at",
            )
            .bind(address.to_lowercase())
            .bind(reason)
            .bind(now_ms),
        )
        .await?;
        Ok(())
    }

    /// Why an address is undeliverable, if it is.
    /// Which of `addresses` bounced for good, with the reason (one query for a batch).
    pub async fn undeliverable_among(&self, addresses: &[String]) -> Result<std::collections::HashMap<String, String>> {
        let mut out = std::collections::HashMap::new();
        for chunk in addresses.chunks(500) {
            let sql = format!(
                "SELECT address, reason FROM undeliverable_addresses WHERE address IN ({})",
                self.placeholders(1, chunk.len())
            );
            let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
            for a in chunk {
                q = q.bind(a.to_lowercase());
            }
            for r in q.fetch_all(&self.pool).await? {
                out.insert(r.try_get("address")?, r.try_get("reason")?);
            }
        }
        Ok(out)
    }

    /// The LINE users among `ids` who unfollowed (blocked) the shop's account: nothing is
    /// pushed to them, whatever the message.
    pub async fn line_unfollowed_among(&self, ids: &[String]) -> Result<std::collections::HashSet<String>> {
        let mut out = std::collections::HashSet::new();
        for chunk in ids.chunks(500) {
            let sql = format!(
                "SELECT line_user_id FROM line_users WHERE following = 0 AND line_user_id IN ({})",
                self.placeholders(1, chunk.len())
            );
            let mut q = sqlx::query_scalar::<_, String>(sqlx::AssertSqlSafe(sql));
            for id in chunk {
                q = q.bind(id);
            }
            out.extend(q.fetch_all(&self.pool).await?);
        }
        Ok(out)
    }
}

/// The update recording how attempt `attempt` of message `id` ended; it changes nothing when
/// the attempt is no longer current (the lease ran out and another worker claimed it).
fn finish_query(
    id: i64,
    attempt: i64,
    outcome: &Delivery,
    now_ms: i64,
) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
    let (state, not_before, error, message_id, sent_at, refund_attempt): Finish<'_> = match outcome {
        Delivery::Sent { message_id } => ("sent", None, None, Some(message_id), Some(now_ms), 0),
        Delivery::Deferred { until_ms, reason } => ("queued", Some(*until_ms), Some(reason), None, None, 1),
        Delivery::Retry { at_ms, error } => ("queued", Some(*at_ms), Some(error), None, None, 0),
        Delivery::Failed { error } => ("failed", None, Some(error), None, None, 0),
        Delivery::Suppressed { reason } => ("suppressed", None, Some(reason), None, None, 0),
    };
    sqlx::query(
        "UPDATE outbox SET state = $1, not_before = COALESCE($2, not_before), last_error = $3, \
         message_id = COALESCE($4, message_id), sent_at = COALESCE($5, sent_at), lease_until = NULL, \
         attempts = attempts - $6, updated_at = $7 WHERE id = $8 AND attempts = $9 AND state = 'sending'",
    )
    .bind(state)
    .bind(not_before)
    .bind(error.map(|e| e.chars().take(2_000).collect::<String>()))
    .bind(message_id.map(str::to_string))
    .bind(sent_at)
    .bind(refund_attempt)
    .bind(now_ms)
    .bind(id)
    .bind(attempt)
}

/// Adds to `batch` the update marking `sent` ((id, attempt, the server's message id)) as sent:
/// an attempt no longer current (its lease ran out, another worker claimed it) is left alone.
fn push_sent(batch: &mut crate::batch::Batch, sent: &[(i64, i64, &str)], now_ms: i64) {
    let row = "(CAST(? AS BIGINT),CAST(? AS BIGINT),CAST(? AS TEXT))";
    batch
        .push(&format!(
            "UPDATE outbox SET state = 'sent', last_error = NULL, message_id = v.column3, sent_at = ?, \
             lease_until = NULL, updated_at = ? FROM (VALUES {}) AS v \
             WHERE outbox.id = v.column1 AND outbox.attempts = v.column2 AND outbox.state = 'sending'",
            vec![row; sent.len()].join(",")
        ))
        .bind(now_ms)
        .bind(now_ms);
    for (id, attempt, message_id) in sent {
        batch.bind(*id).bind(*attempt).bind(message_id.to_string());
    }
}

/// How many due messages one claim takes, by mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClaimLimit {
    /// Live messages: handed to a transport, so a crash after sending and before the outcome
    /// is written sends them again. Kept small: it is the bound on what a crash doubles.
    pub live: i64,
    /// Test-mode messages: kept in the outbox as sent, nothing leaves the machine, so a crash
    /// doubles none of them and they are claimed in large batches.
    pub test: i64,
}

impl ClaimLimit {
    /// Whether a claim that answered `claimed` took as many as it could of either mode (more
    /// may be due).
    pub fn filled_by(&self, claimed: &[Message]) -> bool {
        let test = claimed.iter().filter(|m| m.test_mode).count() as i64;
        claimed.len() as i64 - test >= self.live || test >= self.test
    }
}

/// Which messages a claim takes.
#[derive(Clone, Copy)]
enum Claim {
    /// Claimed by a sender whose lease ran out (it crashed, say).
    LeaseRanOut,
    /// Queued, their time has come, and they are (or are not) in test mode.
    Due { test_mode: bool },
}

/// Adds to `batch` the claims of due messages up to `limit`, live and test-mode ones each on
/// their part of the index; `taken` live ones were claimed already (leases that ran out).
fn push_due_claims(batch: &mut crate::batch::Batch, now_ms: i64, lease_ms: i64, limit: ClaimLimit, taken: i64) {
    if limit.live > taken {
        push_claim(batch, Claim::Due { test_mode: false }, now_ms, lease_ms, limit.live - taken);
    }
    if limit.test > 0 {
        push_claim(batch, Claim::Due { test_mode: true }, now_ms, lease_ms, limit.test);
    }
}

/// Adds to `batch` the claim of up to `limit` messages of `which` kind, oldest first, leased for
/// `lease_ms` (each claim counts an attempt; PostgreSQL skips rows another worker holds).
fn push_claim(batch: &mut crate::batch::Batch, which: Claim, now_ms: i64, lease_ms: i64, limit: i64) {
    let (filter, order) = match which {
        Claim::LeaseRanOut => ("state = 'sending' AND lease_until < ?", "lease_until, id"),
        Claim::Due { test_mode: false } => ("state = 'queued' AND test_mode = 0 AND not_before <= ?", "not_before, id"),
        Claim::Due { test_mode: true } => ("state = 'queued' AND test_mode = 1 AND not_before <= ?", "not_before, id"),
    };
    let lock = batch.backend().skip_locked();
    batch
        .push(&format!(
            "UPDATE outbox SET state = 'sending', attempts = attempts + 1, lease_until = ?, updated_at = ? \
             WHERE id IN (SELECT id FROM outbox WHERE {filter} ORDER BY {order} LIMIT ?{lock}) RETURNING {COLUMNS}"
        ))
        .bind(now_ms + lease_ms)
        .bind(now_ms)
        .bind(now_ms)
        .bind(limit);
}

/// The messages a claim returned, in due order.
fn claimed(rows: &[AnyRow]) -> Result<Vec<Message>> {
    let mut out = rows.iter().map(from_row).collect::<Result<Vec<_>>>()?;
    out.sort_by_key(|m| (m.not_before_ms, m.id));
    Ok(out)
}
