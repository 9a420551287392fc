//! The customer 360 timeline: orders, refunds/cancellations, interactions, rank changes,
//! 回数券 sales and uses, and membership events in one chronological list (later: surveys,
//! cases).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::Row;

use crate::{Result, Store, from_ms};

/// One event on a customer's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    /// `order`, `refund`, `cancel`, `interaction:<kind>`, `rank`, `ticket`, `ticket_use`,
    /// `membership`, `message:<state>` (a scenario's mail) or `task:<state>`.
    pub kind: String,
    /// Id of the order or interaction.
    pub ref_id: i64,
    pub title: String,
    pub detail: String,
    pub amount: Option<i64>,
    pub currency: Option<String>,
    pub direction: Option<String>,
    pub staff_name: Option<String>,
    /// The entry's parts as values (codes, names, counts) for a page to word in its reader's
    /// language; `title` and `detail` are the same in Japanese, kept for API clients.
    pub facts: Facts,
}

/// What an entry records, as values.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Facts {
    /// Nothing beyond the title and detail (free text: contact records, mail, tasks).
    #[default]
    None,
    /// An order: its channel and status codes, first item and how many more, the order's note
    /// and the points paid with on it.
    Order {
        channel: String,
        status: String,
        first_item: Option<String>,
        more_items: i64,
        note: String,
        points_used: i64,
    },
    /// A rank change: the tier names, the cause code (`order`, `evaluation`, `review`, `grace`,
    /// `manual`) and the reason typed.
    Rank { from: String, to: String, from_level: i64, to_level: i64, cause: String, reason: String },
    /// A 回数券 sold.
    Ticket { name: String, visits: i64 },
    /// The `n`th visit of a 回数券.
    TicketUse { name: String, n: i64, visits: i64, note: String },
    /// A membership event (`start`, `renew`, `pause`, `resume`, `cancel`).
    Membership { name: String, event: String, note: String },
}

impl Store {
    /// The newest `limit` events of a customer, newest first.
    pub async fn timeline(&self, customer_id: i64, limit: i64) -> Result<Vec<TimelineEntry>> {
        let mut out = Vec::new();
        let orders = sqlx::query(
            "SELECT o.id, o.ordered_at, o.total, o.currency, o.channel, o.status, o.note, \
             (SELECT CAST(COALESCE(SUM(r.points), 0) AS BIGINT) FROM point_redemptions r \
                WHERE r.order_id = o.id AND r.status = 'confirmed') AS points_used, \
             (SELECT COUNT(*) FROM order_items i WHERE i.order_id = o.id) AS n_items, \
             (SELECT name FROM order_items i WHERE i.order_id = o.id ORDER BY line_no LIMIT 1) AS first_item \
             FROM orders o WHERE o.customer_id = $1 ORDER BY o.ordered_at DESC LIMIT $2",
        )
        .bind(customer_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        for r in orders {
            let n: i64 = r.try_get("n_items")?;
            let first: Option<String> = r.try_get("first_item")?;
            let detail = match (&first, n) {
                (Some(f), 1) => f.clone(),
                (Some(f), n) => format!("{f} ほか{}点", n - 1),
                _ => String::new(),
            };
            let (channel, status): (String, String) = (r.try_get("channel")?, r.try_get("status")?);
            out.push(TimelineEntry {
                at: from_ms(r.try_get("ordered_at")?),
                kind: "order".into(),
                ref_id: r.try_get("id")?,
                title: format!("{channel} / {status}"),
                detail,
                amount: Some(r.try_get("total")?),
                currency: Some(r.try_get("currency")?),
                direction: None,
                staff_name: None,
                facts: Facts::Order {
                    channel,
                    status,
                    more_items: (n - 1).max(0),
                    first_item: first,
                    note: r.try_get("note")?,
                    points_used: r.try_get("points_used")?,
                },
            });
        }
        let adjustments = sqlx::query(
            "SELECT a.order_id, a.kind, a.amount, a.reason, a.at, o.currency FROM order_adjustments a \
             JOIN orders o ON o.id = a.order_id WHERE o.customer_id = $1 ORDER BY a.at DESC LIMIT $2",
        )
        .bind(customer_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        for r in adjustments {
            out.push(TimelineEntry {
                at: from_ms(r.try_get("at")?),
                kind: r.try_get("kind")?,
                ref_id: r.try_get("order_id")?,
                title: format!("#{}", r.try_get::<i64, _>("order_id")?),
                detail: r.try_get("reason")?,
                amount: Some(-r.try_get::<i64, _>("amount")?),
                currency: Some(r.try_get("currency")?),
                direction: None,
                staff_name: None,
                facts: Facts::None,
            });
        }
        for i in self.list_interactions(customer_id, limit).await? {
            out.push(TimelineEntry {
                at: i.occurred_at,
                kind: format!("interaction:{}", i.kind),
                ref_id: i.id,
                title: i.subject,
                detail: i.body,
                amount: None,
                currency: None,
                direction: Some(i.direction),
                staff_name: i.staff_name,
                facts: Facts::None,
            });
        }
        self.loyalty_timeline(customer_id, limit, &mut out).await?;
        self.automation_timeline(customer_id, limit, &mut out).await?;
        out.sort_by(|a, b| b.at.cmp(&a.at).then(b.ref_id.cmp(&a.ref_id)).then(b.kind.cmp(&a.kind)));
        out.truncate(limit as usize);
        Ok(out)
    }

    /// A page of the timeline: `limit` entries after the newest `offset`, and whether older
    /// ones follow. Each source is read up to `offset + limit + 1` rows, which holds every
    /// entry of the page (the merged order is the same on every call).
    pub async fn timeline_page(&self, customer_id: i64, limit: i64, offset: i64) -> Result<(Vec<TimelineEntry>, bool)> {
        let mut all = self.timeline(customer_id, offset + limit + 1).await?;
        let more = all.len() as i64 > offset + limit;
        all.truncate((offset + limit) as usize);
        Ok((all.into_iter().skip(offset as usize).collect(), more))
    }

    /// Messages decided by scenarios (with their scenario and step, and whether they went)
    /// and staff tasks (open, done or skipped).
    async fn automation_timeline(&self, customer_id: i64, limit: i64, out: &mut Vec<TimelineEntry>) -> Result<()> {
        let messages = sqlx::query(
            "SELECT m.id, m.subject, m.state, m.step, m.created_at, m.sent_at, m.channel, s.name FROM outbox m \
             LEFT JOIN scenarios s ON s.id = m.scenario_id WHERE m.customer_id = $1 ORDER BY m.id DESC LIMIT $2",
        )
        .bind(customer_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        for r in messages {
            let sent: Option<i64> = r.try_get("sent_at")?;
            let scenario: Option<String> = r.try_get("name")?;
            let step: Option<i64> = r.try_get("step")?;
            out.push(TimelineEntry {
                at: from_ms(sent.unwrap_or(r.try_get("created_at")?)),
                // Mail is `message:…`; another channel's message says which (`line_message:…`).
                kind: match r.try_get::<String, _>("channel")?.as_str() {
                    "email" => format!("message:{}", r.try_get::<String, _>("state")?),
                    ch => format!("{ch}_message:{}", r.try_get::<String, _>("state")?),
                },
                ref_id: r.try_get("id")?,
                title: r.try_get("subject")?,
                detail: match (scenario, step) {
                    (Some(s), Some(st)) => format!("{s} · {}", st + 1),
                    (Some(s), None) => s,
                    _ => String::new(),
                },
                amount: None,
                currency: None,
                direction: Some("out".into()),
                staff_name: None,
                facts: Facts::None,
            });
        }
        let tasks = sqlx::query(
            "SELECT t.id, t.kind, t.title, t.state, t.due_on, t.outcome, t.created_at, s.name FROM tasks t \
             LEFT JOIN scenarios s ON s.id = t.scenario_id WHERE t.customer_id = $1 ORDER BY t.id DESC LIMIT $2",
        )
        .bind(customer_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        for r in tasks {
            let scenario: Option<String> = r.try_get("name")?;
            let outcome: Option<String> = r.try_get("outcome")?;
            out.push(TimelineEntry {
                at: from_ms(r.try_get("created_at")?),
                kind: format!("task:{}", r.try_get::<String, _>("state")?),
                ref_id: r.try_get("id")?,
                title: r.try_get("title")?,
                detail: [scenario, Some(r.try_get::<String, _>("due_on")?), outcome]
                    .into_iter()
                    .flatten()
                    .filter(|x| !x.is_empty())
                    .collect::<Vec<_>>()
                    .join(" · "),
                amount: None,
                currency: None,
                direction: None,
                staff_name: None,
                facts: Facts::None,
            });
        }
        Ok(())
    }

    /// Rank changes, ticket sales and uses, and membership events. Each is placed at the moment
    /// it was written, unless that is not on its business day (a backdated entry: a catch-up
    /// review, an imported history), which then places it at noon UTC of that day.
    async fn loyalty_timeline(&self, customer_id: i64, limit: i64, out: &mut Vec<TimelineEntry>) -> Result<()> {
        let entry = |at: i64, kind: &str, ref_id: i64, title: String, detail: String, amount: Option<i64>, facts| {
            TimelineEntry {
                at: from_ms(at),
                kind: kind.into(),
                ref_id,
                title,
                detail,
                amount,
                currency: amount.map(|_| "JPY".to_string()),
                direction: None,
                staff_name: None,
                facts,
            }
        };
        let ranks = sqlx::query(
            "SELECT id, from_name, to_name, from_level, to_level, cause, reason, created_at, day FROM rank_changes \
             WHERE customer_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(customer_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        for r in ranks {
            let (from, to): (i64, i64) = (r.try_get("from_level")?, r.try_get("to_level")?);
            let arrow = if to > from {
                "▲"
            } else if to < from {
                "▼"
            } else {
                "＝"
            };
            let (from_name, to_name): (String, String) = (r.try_get("from_name")?, r.try_get("to_name")?);
            let (cause, reason): (String, String) = (r.try_get("cause")?, r.try_get("reason")?);
            let title = format!("{from_name} → {to_name} {arrow}");
            let detail = [cause.as_str(), reason.as_str()].join(" ").trim().to_string();
            let facts = Facts::Rank { from: from_name, to: to_name, from_level: from, to_level: to, cause, reason };
            out.push(entry(
                on_day(r.try_get("created_at")?, r.try_get("day")?),
                "rank",
                r.try_get("id")?,
                title,
                detail,
                None,
                facts,
            ));
        }
        let tickets = sqlx::query(
            "SELECT id, name, visits, price, created_at, sold_day AS day FROM tickets WHERE customer_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(customer_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        for r in tickets {
            let (name, visits): (String, i64) = (r.try_get("name")?, r.try_get("visits")?);
            out.push(entry(
                on_day(r.try_get("created_at")?, r.try_get("day")?),
                "ticket",
                r.try_get("id")?,
                format!("{name} ({visits}回)"),
                String::new(),
                Some(r.try_get("price")?),
                Facts::Ticket { name, visits },
            ));
        }
        let uses = sqlx::query(
            "SELECT u.id, u.note, u.created_at, u.day, t.name, t.visits, \
             (SELECT COUNT(*) FROM ticket_uses x WHERE x.ticket_id = u.ticket_id AND x.id <= u.id) AS n \
             FROM ticket_uses u JOIN tickets t ON t.id = u.ticket_id WHERE u.customer_id = $1 ORDER BY u.id DESC LIMIT $2",
        )
        .bind(customer_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        for r in uses {
            let (name, n, visits, note): (String, i64, i64, String) =
                (r.try_get("name")?, r.try_get("n")?, r.try_get("visits")?, r.try_get("note")?);
            out.push(entry(
                on_day(r.try_get("created_at")?, r.try_get("day")?),
                "ticket_use",
                r.try_get("id")?,
                format!("{name} {n}/{visits}回目"),
                note.clone(),
                None,
                Facts::TicketUse { name, n, visits, note },
            ));
        }
        let events = sqlx::query(
            "SELECT e.id, e.kind, e.note, e.created_at, e.day, m.name FROM membership_events e \
             JOIN memberships m ON m.id = e.membership_id WHERE e.customer_id = $1 ORDER BY e.id DESC LIMIT $2",
        )
        .bind(customer_id)
        .bind(limit)
        .fetch_all(&self.pool)
        .await?;
        for r in events {
            let (event, name, note): (String, String, String) =
                (r.try_get("kind")?, r.try_get("name")?, r.try_get("note")?);
            let what = match event.as_str() {
                "start" => "加入",
                "renew" => "更新",
                "pause" => "休止",
                "resume" => "再開",
                _ => "解約",
            };
            out.push(entry(
                on_day(r.try_get("created_at")?, r.try_get("day")?),
                "membership",
                r.try_get("id")?,
                format!("{name} {what}"),
                note.clone(),
                None,
                Facts::Membership { name, event, note },
            ));
        }
        Ok(())
    }
}

/// `created_at` (epoch ms) if it can be on local day number `day` in any time zone, else noon
/// UTC of that day.
fn on_day(created_at: i64, day: i64) -> i64 {
    const DAY_MS: i64 = 86_400_000;
    const HOUR_MS: i64 = 3_600_000;
    let start = day * DAY_MS;
    if (start - 14 * HOUR_MS..start + DAY_MS + 12 * HOUR_MS).contains(&created_at) {
        created_at
    } else {
        start + DAY_MS / 2
    }
}
