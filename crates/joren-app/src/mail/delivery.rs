//! Delivery of the outbox, whatever the channel: due messages claimed in small batches with a
//! lease, each checked when it is about to go (bounced addresses, consent, the address still
//! the customer's, a LINE user who blocked the account, quiet hours and frequency caps across
//! channels, STOP and daytime for texts), then sent by its channel — mail over SMTP
//! (`super::send`), LINE by the Messaging API (`crate::line`), texts by the SMS gateway
//! (`crate::sms`) — and the batch's outcomes written together, fenced by attempt.

use chrono::{DateTime, Utc};
use joren_store::{Delivery, Message};

use super::quiet_until;
use crate::{App, AppError, Result};

/// What a delivery batch's checks read once for the whole batch.
struct BatchFacts {
    /// The batch's message ids (left out of the caps' count: the group counts its own).
    ids: Vec<i64>,
    /// Bounced addresses among the batch's recipients (lowercase), with the reason.
    undeliverable: std::collections::HashMap<String, String>,
    /// The customers of the batch's marketing messages and texts.
    customers: std::collections::HashMap<i64, joren_store::Customer>,
    /// LINE users among the batch's recipients who blocked the account.
    line_blocked: std::collections::HashSet<String>,
}

/// What one customer's earlier messages in the batch did.
#[derive(Default)]
struct GroupFacts {
    /// When their marketing mail went.
    sent_now: Vec<i64>,
    /// Addresses that bounced for good.
    bounced: Vec<String>,
}

/// Messages sent at once by one worker.
const SEND_CONCURRENCY: usize = 8;

/// Live messages claimed per batch: also the most a crash can send twice.
pub const DELIVERY_BATCH: i64 = 20;
/// Test-mode messages claimed per batch: nothing is sent, so a crash doubles none; a large
/// batch keeps the outbox's writes few while orders start follow-ups (the demo's default).
pub const TEST_DELIVERY_BATCH: i64 = 500;
const CLAIM: joren_store::ClaimLimit = joren_store::ClaimLimit { live: DELIVERY_BATCH, test: TEST_DELIVERY_BATCH };
/// Attempts before a passing failure counts as final.
const MAX_ATTEMPTS: i64 = 6;
const DAY_MS: i64 = 86_400_000;

impl App {
    /// The newest messages (optionally of one customer, scenario or state) and the counts.
    pub async fn outbox(
        &self,
        customer_id: Option<i64>,
        scenario_id: Option<i64>,
        state: Option<&str>,
        limit: i64,
    ) -> Result<(joren_store::OutboxCounts, Vec<Message>)> {
        let items = self.store.messages(customer_id, scenario_id, state, limit.clamp(1, 1000)).await?;
        Ok((self.store.outbox_counts(scenario_id).await?, items))
    }

    pub async fn message(&self, id: i64) -> Result<Message> {
        self.store.message(id).await?.ok_or(AppError::NotFound("message"))
    }

    /// Delivers due messages (one pass). Answers how many were handled.
    pub async fn deliver_messages(&self) -> Result<usize> {
        Ok(self.deliver_batches(1).await?.0)
    }

    /// Up to `batches` batches of [`App::deliver_messages`], the outcomes of one written with
    /// the claim of the next (one wait for the writer between batches instead of two). Stops
    /// at a batch that was not full. Answers how many were claimed and whether the last
    /// batch was full (more may be due).
    pub async fn deliver_batches(&self, batches: usize) -> Result<(usize, bool)> {
        let lease = self.config.mail.lease_ms;
        let mut now = self.now();
        let mut claimed = self.store.claim_messages(now.timestamp_millis(), lease, CLAIM).await?;
        let mut total = 0;
        for i in 1..=batches {
            total += claimed.len();
            let full = CLAIM.filled_by(&claimed);
            let finished = self.deliver_claimed(std::mem::take(&mut claimed), now).await?;
            if !full || i == batches {
                self.store.finish_messages(&finished, self.config.clock.now_ms()).await?;
                return Ok((total, full));
            }
            now = self.now();
            claimed = self.store.finish_and_claim(&finished, now.timestamp_millis(), lease, CLAIM).await?;
        }
        Ok((total, false))
    }

    /// Checks and sends the `claimed` messages; answers each one's (id, attempt, outcome).
    async fn deliver_claimed(&self, claimed: Vec<Message>, now: DateTime<Utc>) -> Result<Vec<(i64, i64, Delivery)>> {
        let n = claimed.len();
        use futures_util::StreamExt;
        // A customer's messages go one after another (the caps see the one before); different
        // customers' at once. One recipient's failure never holds the others back: every
        // outcome is recorded.
        let mut by_customer: Vec<Vec<Message>> = Vec::new();
        let mut group_of: std::collections::HashMap<i64, usize> = std::collections::HashMap::new();
        for m in claimed {
            match m.customer_id.and_then(|c| group_of.get(&c)) {
                Some(&g) => by_customer[g].push(m),
                None => {
                    if let Some(c) = m.customer_id {
                        group_of.insert(c, by_customer.len());
                    }
                    by_customer.push(vec![m]);
                }
            }
        }
        // The batch's outcomes are written together at its end. Caps count the customer's
        // messages sent before this batch from the database and this batch's own sends here.
        let all = || by_customer.iter().flatten();
        let batch: Vec<i64> = all().map(|m| m.id).collect();
        // What the checks read, once for the batch: bounced addresses, the customers of
        // marketing mail (consent, address).
        let recipients: Vec<String> = all().filter(|m| m.channel == "email").map(|m| m.recipient.clone()).collect();
        let line_users: Vec<String> = all().filter(|m| m.channel == "line").map(|m| m.recipient.clone()).collect();
        // Marketing needs consent; every text needs the number not to have replied STOP.
        let marketing: Vec<i64> =
            all().filter(|m| m.marketing || m.channel == "sms").filter_map(|m| m.customer_id).collect();
        let facts = BatchFacts {
            ids: batch,
            undeliverable: self.store.undeliverable_among(&recipients).await?,
            customers: self.store.customers_for_messages(&marketing).await?.into_iter().map(|c| (c.id, c)).collect(),
            line_blocked: self.store.line_unfollowed_among(&line_users).await?,
        };
        let facts = &facts;
        let outcomes: Vec<Result<Vec<(i64, i64, Delivery)>>> = futures_util::stream::iter(by_customer)
            .map(|group| async move {
                let mut group_facts = GroupFacts::default();
                let mut out = Vec::with_capacity(group.len());
                for m in group {
                    let outcome = self.deliver_one(&m, now, facts, &group_facts).await?;
                    match &outcome {
                        Delivery::Sent { .. } if m.marketing => group_facts.sent_now.push(now.timestamp_millis()),
                        Delivery::Failed { error } if error.starts_with("permanent") && m.channel == "email" => {
                            group_facts.bounced.push(m.recipient.to_lowercase());
                        }
                        _ => {}
                    }
                    out.push((m.id, m.attempts, outcome));
                }
                Ok(out)
            })
            .buffer_unordered(SEND_CONCURRENCY)
            .collect()
            .await;
        let mut finished = Vec::with_capacity(n);
        for o in outcomes {
            finished.extend(o?);
        }
        Ok(finished)
    }

    /// Checks and sends (or holds) one claimed message; answers how it ended. `facts` were
    /// read for its batch, `group` is what this customer's earlier messages in it did.
    async fn deliver_one(
        &self,
        m: &Message,
        now: DateTime<Utc>,
        facts: &BatchFacts,
        group: &GroupFacts,
    ) -> Result<Delivery> {
        let outcome = match self.delivery_check(m, now, facts, group).await {
            Ok(Some(held)) => held,
            Ok(None) if m.channel == "line" => self.push_line(m).await,
            Ok(None) if m.channel == "sms" => self.send_sms(m).await,
            Ok(None) => self.send(m).await,
            Err(e) => Delivery::Retry { at_ms: retry_at(m, now), error: e.to_string() },
        };
        if let Delivery::Failed { error } = &outcome
            && error.starts_with("permanent")
            && m.channel == "email"
        {
            self.store.mark_undeliverable(&m.recipient, error, now.timestamp_millis()).await?;
        }
        Ok(match outcome {
            Delivery::Retry { error, .. } if m.attempts >= MAX_ATTEMPTS => Delivery::Failed { error },
            o => o,
        })
    }

    /// The checks at send time: `Some` when the message must not go now.
    async fn delivery_check(
        &self,
        m: &Message,
        now: DateTime<Utc>,
        facts: &BatchFacts,
        group: &GroupFacts,
    ) -> Result<Option<Delivery>> {
        if m.channel == "line" && facts.line_blocked.contains(&m.recipient) {
            return Ok(Some(Delivery::Suppressed { reason: "blocked on LINE".into() }));
        }
        let address = m.recipient.to_lowercase();
        if let Some(reason) = facts.undeliverable.get(&address) {
            return Ok(Some(Delivery::Suppressed { reason: format!("undeliverable: {reason}") }));
        }
        if group.bounced.contains(&address) {
            return Ok(Some(Delivery::Suppressed { reason: "undeliverable: bounced in this batch".into() }));
        }
        if m.channel == "sms"
            && let Some(held) = self.sms_check(m, now, facts)
        {
            return Ok(Some(held));
        }
        if !m.marketing {
            return Ok(None);
        }
        let Some(customer_id) = m.customer_id else { return Ok(None) };
        let Some(c) = facts.customers.get(&customer_id) else {
            return Ok(Some(Delivery::Suppressed { reason: "the customer is gone".into() }));
        };
        if !c.consents.iter().any(|s| s.channel == m.channel && s.granted) {
            return Ok(Some(Delivery::Suppressed { reason: format!("no {} consent", m.channel) }));
        }
        let address_now = match m.channel.as_str() {
            "line" => c.profile.line_user_id.as_deref(),
            "sms" => c.profile.phone.as_deref(),
            _ => c.profile.email.as_deref(),
        };
        if address_now != Some(m.recipient.as_str()) {
            return Ok(Some(Delivery::Suppressed { reason: "the address changed".into() }));
        }
        let cfg = self.mail();
        if let Some(until) = quiet_until(now, &cfg, self.tz()) {
            return Ok(Some(Delivery::Deferred { until_ms: until.timestamp_millis(), reason: "quiet hours".into() }));
        }
        let since = now.timestamp_millis() - 7 * DAY_MS;
        let mut week = self.store.marketing_sent_since(customer_id, since, &facts.ids).await?;
        week.extend_from_slice(&group.sent_now);
        week.sort_unstable();
        let day: Vec<i64> = week.iter().copied().filter(|t| *t >= now.timestamp_millis() - DAY_MS).collect();
        let cap = |times: &[i64], max: i64, window: i64| -> Option<i64> {
            (times.len() as i64 >= max && max > 0).then(|| times[times.len() - max as usize] + window + 1)
        };
        if let Some(at) = cap(&day, cfg.max_per_day, DAY_MS).or_else(|| cap(&week, cfg.max_per_week, 7 * DAY_MS)) {
            return Ok(Some(Delivery::Deferred { until_ms: at, reason: "frequency cap".into() }));
        }
        Ok(None)
    }
}

impl App {
    /// A text's own checks: never to a number that replied STOP (whatever the text), and a
    /// scenario's texts only in the daytime (a staff member's goes when they send it).
    fn sms_check(&self, m: &Message, now: DateTime<Utc>, facts: &BatchFacts) -> Option<Delivery> {
        let stopped = m.customer_id.and_then(|id| facts.customers.get(&id)).is_some_and(crate::sms::stopped);
        if stopped {
            return Some(Delivery::Suppressed { reason: "SMS stopped by the customer".into() });
        }
        let (start, end) = self.config.sms.daytime;
        if m.scenario_id.is_some()
            && let Some(until) = super::outside_hours_until(now, (end, start), self.tz())
        {
            return Some(Delivery::Deferred { until_ms: until.timestamp_millis(), reason: "outside SMS hours".into() });
        }
        None
    }
}

pub(super) fn retry_at(m: &Message, now: DateTime<Utc>) -> i64 {
    let wait = joren_core::retry::backoff_ms(m.attempts.max(1), 60_000, 3_600_000, rand::random::<f64>());
    now.timestamp_millis() + wait
}
