//! The shop's saved messages (メッセージの文面): written once, picked in the scenario editor for
//! any mail step. Subject and body are checked like a step's when saved: an unknown variable
//! or a template that cannot be read is refused then, naming the field, never at send time.

use joren_core::{Code, FieldErrors};
pub use joren_store::MessageTemplate;
use serde::Deserialize;

use crate::{Actor, App, Result};

/// The longest name, subject and body accepted.
pub const MAX_NAME: usize = 100;
pub const MAX_SUBJECT: usize = 200;
pub const MAX_BODY: usize = 10_000;

/// A message to save.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MessageTemplateInput {
    pub name: String,
    pub subject: String,
    pub body: String,
    /// Marketing mail (consent, caps, opt-out link) rather than a transactional one.
    #[serde(default = "yes")]
    pub marketing: bool,
}

fn yes() -> bool {
    true
}

impl MessageTemplateInput {
    /// Every problem at once, each naming its field.
    fn validate(&self) -> std::result::Result<(), FieldErrors> {
        let mut e = FieldErrors::default();
        for (field, value, max) in
            [("name", &self.name, MAX_NAME), ("subject", &self.subject, MAX_SUBJECT), ("body", &self.body, MAX_BODY)]
        {
            if value.trim().is_empty() {
                e.push(field, Code::Required);
            } else if let Err(err) = joren_core::text::check_text(field, value, max) {
                e.0.push(err);
            } else if field != "name" {
                e.take(joren_core::template::check(field, value));
            }
        }
        if e.is_empty() { Ok(()) } else { Err(e) }
    }
}

impl App {
    pub async fn message_templates(&self) -> Result<Vec<MessageTemplate>> {
        Ok(self.store.message_templates().await?)
    }

    pub async fn message_template(&self, id: i64) -> Result<MessageTemplate> {
        Ok(self.store.message_template(id).await?)
    }

    /// Saves a new message (staff and owners; audited).
    pub async fn create_message_template(
        &self,
        actor: &Actor,
        input: &MessageTemplateInput,
    ) -> Result<MessageTemplate> {
        actor.require_write()?;
        input.validate()?;
        let t = self
            .store
            .create_message_template(input.name.trim(), &input.subject, &input.body, input.marketing, actor.user_id)
            .await?;
        self.audit(actor, "template.create", "message_template", t.id, serde_json::json!({"name": t.name})).await?;
        Ok(t)
    }

    /// Replaces a saved message (scenarios that copied it keep their text; audited).
    pub async fn update_message_template(
        &self,
        actor: &Actor,
        id: i64,
        input: &MessageTemplateInput,
    ) -> Result<MessageTemplate> {
        actor.require_write()?;
        input.validate()?;
        let t = self
            .store
            .update_message_template(id, input.name.trim(), &input.subject, &input.body, input.marketing)
            .await?;
        self.audit(actor, "template.update", "message_template", id, serde_json::json!({"name": t.name})).await?;
        Ok(t)
    }

    /// Deletes a saved message (audited).
    pub async fn delete_message_template(&self, actor: &Actor, id: i64) -> Result<()> {
        actor.require_write()?;
        let t = self.store.message_template(id).await?;
        self.store.delete_message_template(id).await?;
        self.audit(actor, "template.delete", "message_template", id, serde_json::json!({"name": t.name})).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_named_at_once_and_unknown_variables_are_refused_when_saved() {
        let bad = MessageTemplateInput {
            name: " ".into(),
            subject: "{{ nmae }} 様".into(),
            body: "{% if %}".into(),
            marketing: true,
        };
        let e = bad.validate().unwrap_err();
        let got: Vec<(&str, Code)> = e.0.iter().map(|f| (f.field.as_str(), f.code)).collect();
        assert_eq!(
            got,
            [("name", Code::Required), ("subject", Code::TemplateUnknownVariables), ("body", Code::TemplateSyntax)]
        );
        let good = MessageTemplateInput {
            name: "来店のお礼".into(),
            subject: "{{ name }}、ご来店ありがとうございました".into(),
            body: "{{ shop_name }}です。".into(),
            marketing: false,
        };
        assert!(good.validate().is_ok());
        let long = MessageTemplateInput { body: "あ".repeat(MAX_BODY + 1), ..good };
        assert_eq!(long.validate().unwrap_err().0[0].code, Code::TooLong);
    }
}
