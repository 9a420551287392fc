//! Segments: filters over customers and their metrics (see `joren_core::segment_filter`),
//! evaluated on demand and saved by name for lists, exports and (later) automations.

use joren_core::FieldError;
use joren_store::{SavedSegment, SegmentPage};
use serde::Deserialize;

use crate::{Actor, App, Result};

/// A segment to save: name, optional description and the filter (JSON).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentInput {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub filter: serde_json::Value,
}

impl SegmentInput {
    /// Checks the name and the filter; returns the trimmed name.
    fn validate(&self) -> Result<String> {
        let name = self.name.trim();
        if name.is_empty() {
            return Err(FieldError::new("name", joren_core::Code::Required).into());
        }
        if name.chars().count() > 100 {
            return Err(FieldError::new("name", joren_core::Code::TooLong).arg(100).arg(name.chars().count()).into());
        }
        if self.description.chars().count() > 1000 {
            return Err(FieldError::new("description", joren_core::Code::TooLong)
                .arg(1000)
                .arg(self.description.chars().count())
                .into());
        }
        joren_core::segment_filter::parse(&self.filter)?;
        Ok(name.to_string())
    }
}

impl App {
    /// Evaluates a segment filter (JSON, see `joren_core::segment_filter`): how many customers
    /// it selects and one page of their ids. Bad filters are refused naming the place.
    pub async fn evaluate_segment(&self, filter: &serde_json::Value, limit: i64, offset: i64) -> Result<SegmentPage> {
        let f = joren_core::segment_filter::parse(filter)?;
        Ok(self.store.evaluate_segment(&f, limit.clamp(1, 1000), offset).await?)
    }

    /// A page of the customers a filter selects, with their contact details, in the
    /// segment's order, and how many it selects in all.
    pub async fn members_with_contacts(
        &self,
        filter: &serde_json::Value,
        limit: i64,
        offset: i64,
    ) -> Result<(i64, Vec<joren_store::Customer>)> {
        let page = self.evaluate_segment(filter, limit, offset.max(0)).await?;
        let mut members = self.store.customers_by_ids(&page.customer_ids).await?;
        members.sort_by_key(|c| page.customer_ids.iter().position(|i| *i == c.id));
        Ok((page.total, members))
    }

    /// Every saved segment, by name.
    pub async fn saved_segments(&self) -> Result<Vec<SavedSegment>> {
        Ok(self.store.saved_segments().await?)
    }

    /// One saved segment.
    pub async fn saved_segment(&self, id: i64) -> Result<SavedSegment> {
        Ok(self.store.saved_segment(id).await?)
    }

    /// Saves a new segment (staff and owners).
    pub async fn create_segment(&self, actor: &Actor, input: &SegmentInput) -> Result<SavedSegment> {
        actor.require_write()?;
        let name = input.validate()?;
        let saved =
            self.store.create_saved_segment(&name, input.description.trim(), &input.filter, actor.user_id).await?;
        self.audit(actor, "create", "segment", saved.id, serde_json::json!({"name": name, "filter": input.filter}))
            .await?;
        Ok(saved)
    }

    /// Replaces a saved segment.
    pub async fn update_segment(&self, actor: &Actor, id: i64, input: &SegmentInput) -> Result<SavedSegment> {
        actor.require_write()?;
        let name = input.validate()?;
        let saved = self.store.update_saved_segment(id, &name, input.description.trim(), &input.filter).await?;
        self.audit(actor, "update", "segment", id, serde_json::json!({"name": name, "filter": input.filter})).await?;
        Ok(saved)
    }

    /// Deletes a saved segment.
    pub async fn delete_segment(&self, actor: &Actor, id: i64) -> Result<()> {
        actor.require_write()?;
        let saved = self.store.saved_segment(id).await?;
        self.store.delete_saved_segment(id).await?;
        self.audit(actor, "delete", "segment", id, serde_json::json!({"name": saved.name})).await
    }

    /// The customers a saved segment selects now: count and one page of ids.
    pub async fn segment_members(&self, id: i64, limit: i64, offset: i64) -> Result<SegmentPage> {
        let saved = self.store.saved_segment(id).await?;
        self.evaluate_segment(&saved.filter, limit, offset).await
    }

    /// Display names of customers, in the order given (lists of segment members).
    pub async fn customer_names(&self, ids: &[i64]) -> Result<Vec<(i64, String)>> {
        Ok(self.store.customer_names(ids).await?)
    }

    /// Every customer id a filter selects (for export).
    pub(crate) async fn segment_customer_ids(&self, filter: &serde_json::Value) -> Result<Vec<i64>> {
        let f = joren_core::segment_filter::parse(filter)?;
        Ok(self.store.segment_customer_ids(&f).await?)
    }
}
