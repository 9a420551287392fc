//! Contact history use cases.

use chrono::Utc;
use joren_store::{Interaction, NewInteraction};
use serde::{Deserialize, Serialize};

use crate::{Actor, App, Result};

/// Kinds of interaction staff can log.
pub const INTERACTION_KINDS: [&str; 9] = ["email", "phone", "sms", "line", "dm", "visit", "meeting", "chat", "note"];

/// An interaction as submitted.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InteractionInput {
    pub kind: String,
    #[serde(default)]
    pub direction: Option<String>,
    #[serde(default)]
    pub contact_id: Option<i64>,
    #[serde(default)]
    pub subject: String,
    #[serde(default)]
    pub body: String,
    /// RFC 3339 or `YYYY-MM-DD HH:MM`; defaults to now.
    #[serde(default)]
    pub occurred_at: Option<String>,
}

impl App {
    /// Logs a call, visit, message… on a customer's history (staff = the actor).
    pub async fn log_interaction(
        &self,
        actor: &Actor,
        customer_id: i64,
        input: InteractionInput,
    ) -> Result<Interaction> {
        actor.require_write()?;
        let mut errors = joren_core::FieldErrors::default();
        let kind = input.kind.trim().to_lowercase();
        if !INTERACTION_KINDS.contains(&kind.as_str()) {
            errors.push("kind", joren_core::Code::NotOneOf).with(&input.kind).with(INTERACTION_KINDS.join(", "));
        }
        let direction =
            input.direction.as_deref().map(str::trim).filter(|s| !s.is_empty()).unwrap_or("out").to_string();
        if direction != "in" && direction != "out" {
            errors.push("direction", joren_core::Code::NotOneOf).with(&direction).with("in, out");
        }
        if input.subject.trim().is_empty() && input.body.trim().is_empty() {
            errors.push("subject", joren_core::Code::NeedSubjectOrBody);
        }
        errors.take(joren_core::text::check_text("subject", &input.subject, joren_core::text::SHORT_TEXT));
        errors.take(joren_core::text::check_text("body", &input.body, joren_core::text::LONG_TEXT));
        let occurred_at = match input.occurred_at.as_deref().map(str::trim).filter(|s| !s.is_empty()) {
            None => self.now(),
            Some(s) => errors
                .take(joren_core::order::parse_timestamp("occurred_at", s, self.tz()))
                .and_then(|t| {
                    errors.take(self.config.order_dates.check("occurred_at", t, self.now(), self.tz())).map(|_| t)
                })
                .unwrap_or_else(Utc::now),
        };
        if !errors.is_empty() {
            return Err(errors.into());
        }
        let new = NewInteraction {
            customer_id,
            contact_id: input.contact_id,
            kind,
            direction,
            staff_user_id: actor.user_id,
            subject: input.subject.trim().to_string(),
            body: input.body.trim().to_string(),
            occurred_at,
        };
        let id = self.store.add_interaction(&new).await?;
        self.audit(
            actor,
            "interaction.create",
            "customer",
            customer_id,
            serde_json::json!({"interaction_id": id, "kind": new.kind}),
        )
        .await?;
        Ok(self.store.get_interaction(id).await?)
    }

    pub async fn list_interactions(&self, customer_id: i64, limit: i64) -> Result<Vec<Interaction>> {
        Ok(self.store.list_interactions(customer_id, limit.clamp(1, 1000)).await?)
    }
}
