//! Prepaid ticket (回数券) use cases: plans (owners), sale and use (idempotent by key, staff),
//! refund of the unused part (reason required, audited), expiring tickets and the outstanding
//! paid value.

use joren_core::ticket::TicketPlanInput;
pub use joren_store::{Ticket, TicketPlan, TicketWrite};
use serde::{Deserialize, Serialize};

use crate::{Actor, App, Result, sha256_hex};

/// A sale request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SellInput {
    pub plan_id: i64,
}

/// A use request.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UseInput {
    #[serde(default)]
    pub note: String,
}

/// A refund request.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefundTicketInput {
    pub reason: String,
}

/// Outstanding paid value of usable tickets.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct TicketsOutstanding {
    pub value: i64,
    /// The part from tickets usable only within 6 months of sale (exempt from filing).
    pub exempt_value: i64,
    pub tickets: i64,
}

impl App {
    pub async fn ticket_plans(&self) -> Result<Vec<TicketPlan>> {
        Ok(self.store.ticket_plans().await?)
    }

    /// Creates (`id: None`) or changes a plan (owners); tickets sold keep their terms.
    pub async fn save_ticket_plan(&self, actor: &Actor, id: Option<i64>, input: TicketPlanInput) -> Result<TicketPlan> {
        actor.require_owner()?;
        input.validate()?;
        let plan = self.store.save_ticket_plan(id, &input).await?;
        self.audit(actor, "ticket_plan.save", "ticket_plan", plan.id, serde_json::to_value(&input).unwrap_or_default())
            .await?;
        Ok(plan)
    }

    /// Sells a ticket (staff); a retry with the same `Idempotency-Key` answers the first sale.
    pub async fn sell_ticket(
        &self,
        actor: &Actor,
        customer_id: i64,
        input: SellInput,
        key: Option<&str>,
    ) -> Result<TicketWrite> {
        actor.require_write()?;
        let key = crate::scoped_idempotency_key(actor, key)?;
        let key = key.as_deref();
        let hash = sha256_hex(format!("{customer_id}:{}", input.plan_id).as_bytes());
        let note = actor.audit_note("ticket.sell", serde_json::json!({"customer_id": customer_id}));
        Ok(self
            .store
            .sell_ticket(customer_id, input.plan_id, self.today_date(), key, &hash, actor.user_id, &note)
            .await?)
    }

    /// Takes one visit (staff); a retry with the same key answers the first use. The note is
    /// at most 1,000 characters.
    pub async fn use_ticket(&self, actor: &Actor, id: i64, input: UseInput, key: Option<&str>) -> Result<TicketWrite> {
        actor.require_write()?;
        joren_core::text::check_text("note", &input.note, 1_000)?;
        let key = crate::scoped_idempotency_key(actor, key)?;
        let key = key.as_deref();
        Ok(self.store.use_ticket(id, self.today_date(), key, &input.note, actor.user_id).await?)
    }

    /// Refunds the unused part (reason required, audited).
    pub async fn refund_ticket(&self, actor: &Actor, id: i64, input: RefundTicketInput) -> Result<Ticket> {
        actor.require_write()?;
        crate::points::check_reason(&input.reason)?;
        let note = actor.audit_note("ticket.refund", serde_json::json!({"reason": input.reason.trim()}));
        Ok(self.store.refund_ticket(id, self.today_date(), &input.reason, &note).await?)
    }

    pub async fn ticket(&self, id: i64) -> Result<Ticket> {
        Ok(self.store.ticket(id, self.today_date()).await?)
    }

    pub async fn customer_tickets(&self, customer_id: i64) -> Result<Vec<Ticket>> {
        self.store.get_customer(customer_id).await?;
        Ok(self.store.customer_tickets(customer_id, self.today_date()).await?)
    }

    /// Usable tickets whose last day is within `days` from today.
    pub async fn tickets_expiring_within(&self, days: u64) -> Result<Vec<Ticket>> {
        let today = self.today_date();
        Ok(self.store.tickets_expiring(today, today + chrono::Days::new(days)).await?)
    }

    pub async fn tickets_outstanding(&self) -> Result<TicketsOutstanding> {
        let (value, exempt_value, tickets) = self.store.tickets_outstanding(self.today_date()).await?;
        Ok(TicketsOutstanding { value, exempt_value, tickets })
    }
}
