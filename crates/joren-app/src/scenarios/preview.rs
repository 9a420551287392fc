//! Looking before acting: who would enter a scenario now, a message rendered for a customer, and
//! what a definition points at outside itself.

use super::engine::{by_customer_dates, daily_hit, saved_segment_of};
use super::*;

impl App {
    /// Who would enter a scenario with definition `def` (saved or not): for the daily triggers
    /// the customers they pick today; for an RFM segment entered, who is in it now (they enter
    /// when they move in); for the other events, the customers they started for in the last
    /// [`PREVIEW_DAYS`] days. Before the entry rule and the control group.
    pub async fn scenario_entrants(&self, def: &Definition) -> Result<Entrants> {
        let tz = self.tz();
        let now = self.now();
        let mut ids: Vec<i64> = Vec::new();
        let basis = match &def.trigger {
            Trigger::Manual => EntrantsBasis::Manual,
            t if t.is_daily() => {
                let today = joren_core::time::local_date(now, tz);
                if let Some(segment) = saved_segment_of(t) {
                    if let Some((moves, _)) = self.segment_moves(segment).await? {
                        ids = match t {
                            Trigger::SavedSegmentLeft { .. } => moves.left,
                            _ => moves.entered,
                        };
                    }
                } else if by_customer_dates(t) {
                    for (customer, first, last, birthday) in self.store.customer_dates().await? {
                        if daily_hit(t, today, tz, first, last, birthday.as_deref()) {
                            ids.push(customer);
                        }
                    }
                } else {
                    let mut seen = std::collections::HashSet::new();
                    for (customer, _) in self.daily_candidates(t, today).await? {
                        if seen.insert(customer) {
                            ids.push(customer);
                        }
                    }
                }
                EntrantsBasis::Today
            }
            Trigger::SegmentEntered { segment } => {
                let f = joren_core::segment_filter::parse(
                    &serde_json::json!({"field": "segment", "op": "eq", "value": segment}),
                )?;
                ids = self.store.all_segment_members(&f).await?;
                EntrantsBasis::InSegmentNow
            }
            t => {
                let kind = t.event().expect("the other triggers are events");
                let since = now.timestamp_millis() - PREVIEW_DAYS * DAY_MS;
                let mut seen = std::collections::HashSet::new();
                for e in self.store.events_since(kind, since, PREVIEW_EVENTS).await? {
                    if let Some(c) = e.customer_id
                        && t.matches(kind, &e.payload)
                        && seen.insert(c)
                    {
                        ids.push(c);
                    }
                }
                EntrantsBasis::LastDays(PREVIEW_DAYS)
            }
        };
        let sample_ids: Vec<i64> = ids.iter().copied().take(PREVIEW_SAMPLE).collect();
        let sample = self.store.customer_names(&sample_ids).await?;
        Ok(Entrants { basis, count: ids.len(), sample })
    }

    /// Checks what a definition points at outside itself: the saved segment its trigger
    /// watches and every saved segment or scenario a step names exist (the message names the
    /// field).
    pub(super) async fn check_references(&self, def: &Definition) -> Result<()> {
        let mut e = FieldErrors::default();
        if let Some(segment) = saved_segment_of(&def.trigger)
            && let Err(joren_store::StoreError::NotFound(_)) = self.store.saved_segment(segment).await
        {
            e.push("trigger.segment_id", joren_core::Code::NoSuchSegment).with(segment);
        }
        for (i, step) in def.steps.iter().enumerate() {
            if let Step::Start { scenario_id } = step
                && let Err(AppError::NotFound(_)) = self.scenario(*scenario_id).await
            {
                e.push(&format!("steps[{i}].scenario_id"), joren_core::Code::NoSuchScenario);
            }
            if let Step::Check { segment_id: Some(id), .. } = step {
                match self.store.saved_segment(*id).await {
                    Ok(_) => {}
                    Err(joren_store::StoreError::NotFound(_)) => {
                        e.push(&format!("steps[{i}].segment_id"), joren_core::Code::NoSuchSegment).with(id);
                    }
                    Err(err) => return Err(err.into()),
                }
            }
        }
        if e.is_empty() { Ok(()) } else { Err(e.into()) }
    }

    /// A message rendered for a real customer (or the sample one) as it would be sent:
    /// subject, text with the footer, and the HTML part. Template errors name the field.
    pub async fn preview_message(
        &self,
        subject: &str,
        body: &str,
        marketing: bool,
        customer_id: Option<i64>,
    ) -> Result<MessagePreview> {
        let mut e = FieldErrors::default();
        e.take(template::check("subject", subject));
        e.take(template::check("body", body));
        if !e.is_empty() {
            return Err(e.into());
        }
        let vars = match customer_id {
            Some(id) => self.message_context(id, None, &None, engine::Known::default()).await?.1,
            None => template::Context { shop_name: self.mail().shop_name.clone(), ..template::Context::sample() },
        };
        let subject = template::render("subject", subject, &vars)?;
        let text =
            format!("{}{}", template::render("body", body, &vars)?, self.mail_footer(marketing, &vars.unsubscribe_url));
        Ok(MessagePreview { subject, html: template::text_to_html(&text), text })
    }
}

/// How far back the preview of an event trigger looks, how many events it reads at most,
/// and how many entrants it names.
pub const PREVIEW_DAYS: i64 = 30;

pub(super) const PREVIEW_EVENTS: i64 = 100_000;

pub(super) const PREVIEW_SAMPLE: usize = 10;

/// What a preview of a scenario's entrants counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "basis", content = "days", rename_all = "snake_case")]
pub enum EntrantsBasis {
    /// Only by hand: nobody enters by themselves.
    Manual,
    /// The daily trigger's customers today.
    Today,
    /// Who is in the RFM segment now.
    InSegmentNow,
    /// The customers the trigger's events started for in the last N days.
    LastDays(i64),
}

/// Who would enter a scenario: how many and the first few by name.
#[derive(Debug, Clone, Serialize)]
pub struct Entrants {
    pub basis: EntrantsBasis,
    pub count: usize,
    pub sample: Vec<(i64, String)>,
}
