//! Evaluating segment filters: the checked filter tree of `joren_core::segment_filter` turned
//! into one SQL query over `customer_facts` (one narrow row per live customer with its newest
//! metrics, attributes and consents; see `facts.rs`). Field names map to fixed column names
//! written here; every value is a bound parameter.

use joren_core::segment_filter::{Filter, Kind, Op, Operand};
use sqlx::Row;

use crate::{Backend, Result, Store, StoreError, now_ms};

/// A value to bind, in order of appearance.
enum Bind {
    Number(f64),
    Text(String),
}

struct SqlBuilder {
    backend: Backend,
    binds: Vec<Bind>,
}

impl SqlBuilder {
    fn param(&mut self, b: Bind) -> String {
        self.binds.push(b);
        match self.backend {
            Backend::Sqlite => "?".into(),
            Backend::Postgres => format!("${}", self.binds.len()),
        }
    }

    fn list(&mut self, values: impl IntoIterator<Item = Bind>) -> String {
        values.into_iter().map(|b| self.param(b)).collect::<Vec<_>>().join(", ")
    }

    fn filter(&mut self, f: &Filter) -> String {
        match f {
            Filter::All(parts) => {
                format!("({})", parts.iter().map(|p| self.filter(p)).collect::<Vec<_>>().join(" AND "))
            }
            Filter::Any(parts) => {
                format!("({})", parts.iter().map(|p| self.filter(p)).collect::<Vec<_>>().join(" OR "))
            }
            Filter::Condition { field, kind, op, value } => self.condition(field, *kind, *op, value),
        }
    }

    fn condition(&mut self, field: &str, kind: Kind, op: Op, value: &Operand) -> String {
        match kind {
            Kind::Flag => {
                let granted = matches!(value, Operand::Flag(true));
                format!("{} = {}", column(field), granted as i64)
            }
            Kind::TextList => {
                let Operand::Text(tag) = value else { return "1 = 0".into() };
                let p = self.param(Bind::Text(tag.clone()));
                // `IN` over the tag index: the tagged few drive the query instead of a lookup
                // per customer (2.6× faster at a million customers).
                format!("f.customer_id IN (SELECT t.customer_id FROM customer_tags t WHERE t.tag = {p})")
            }
            Kind::Category => {
                let categories = match value {
                    Operand::Text(t) => vec![t.clone()],
                    Operand::Texts(t) => t.clone(),
                    _ => return "1 = 0".into(),
                };
                let list = self.list(categories.into_iter().map(Bind::Text));
                format!(
                    "EXISTS (SELECT 1 FROM orders o JOIN order_items i ON i.order_id = o.id \
                     WHERE o.customer_id = f.customer_id AND o.status <> 'cancelled' AND i.category IN ({list}))"
                )
            }
            Kind::Number | Kind::Text => {
                let column = column(field);
                match (op, value) {
                    (Op::In, Operand::Texts(v)) => {
                        format!("{column} IN ({})", self.list(v.iter().cloned().map(Bind::Text)))
                    }
                    (Op::In, Operand::Numbers(v)) => {
                        format!("{column} IN ({})", self.list(v.iter().copied().map(Bind::Number)))
                    }
                    (_, Operand::Number(n)) => format!("{column} {} {}", op.sql(), self.param(Bind::Number(*n))),
                    (_, Operand::Text(t)) => format!("{column} {} {}", op.sql(), self.param(Bind::Text(t.clone()))),
                    _ => "1 = 0".into(),
                }
            }
        }
    }
}

/// The `customer_facts` column of a scalar or flag field: named after the field itself.
fn column(field: &str) -> &'static str {
    match field {
        "segment" => "f.segment",
        "churn_band" => "f.churn_band",
        "churn_score" => "f.churn_score",
        "p_alive" => "f.p_alive",
        "clv_12m" => "f.clv_12m",
        "expected_purchases_90d" => "f.expected_purchases_90d",
        "recency_days" => "f.recency_days",
        "frequency" => "f.frequency",
        "total_spent" => "f.total_spent",
        "birthday_month" => "f.birthday_month",
        "prefecture" => "f.prefecture",
        "acquisition_source" => "f.acquisition_source",
        "acquisition_campaign" => "f.acquisition_campaign",
        "owner_user_id" => "f.owner_user_id",
        "consent_email" => "f.consent_email",
        "consent_sms" => "f.consent_sms",
        "consent_line" => "f.consent_line",
        "consent_dm" => "f.consent_dm",
        // The parser only lets the fields above through; anything else matches nobody.
        _ => "NULL",
    }
}

/// How many customers a filter selects, and one page of their ids (ascending).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SegmentPage {
    pub total: i64,
    pub customer_ids: Vec<i64>,
}

/// The customers a filter selects, as `FROM … WHERE …`: live customers (merged records have
/// no facts row); customers without metrics in the newest snapshot fail metric conditions.
fn from_where(filter: &Filter, backend: Backend) -> (String, Vec<Bind>) {
    let mut b = SqlBuilder { backend, binds: Vec::new() };
    let condition = b.filter(filter);
    (format!("FROM customer_facts f WHERE {condition}"), b.binds)
}

fn bind_all_scalar<'q, O>(
    mut q: sqlx::query::QueryScalar<'q, sqlx::Any, O, sqlx::any::AnyArguments>,
    binds: &[Bind],
) -> sqlx::query::QueryScalar<'q, sqlx::Any, O, sqlx::any::AnyArguments> {
    for v in binds {
        q = match v {
            Bind::Number(n) => q.bind(*n),
            Bind::Text(t) => q.bind(t.clone()),
        };
    }
    q
}

/// A segment saved from the builder.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SavedSegment {
    pub id: i64,
    pub name: String,
    pub description: String,
    /// The filter as saved (JSON, see `joren_core::segment_filter`).
    pub filter: serde_json::Value,
    pub created_by: Option<i64>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub updated_at: chrono::DateTime<chrono::Utc>,
}

fn saved_segment(r: &sqlx::any::AnyRow) -> Result<SavedSegment> {
    let filter: String = r.try_get("filter")?;
    Ok(SavedSegment {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        description: r.try_get("description")?,
        filter: serde_json::from_str(&filter).unwrap_or(serde_json::Value::Null),
        created_by: r.try_get("created_by")?,
        created_at: crate::from_ms(r.try_get("created_at")?),
        updated_at: crate::from_ms(r.try_get("updated_at")?),
    })
}

/// A segment name taken by another saved segment.
fn name_taken(e: StoreError, name: &str) -> StoreError {
    if e.is_unique_violation() {
        StoreError::Invalid(joren_core::FieldError::new("name", joren_core::Code::NameTaken).arg(name))
    } else {
        e
    }
}

const SAVED_COLUMNS: &str = "id, name, description, filter, created_by, created_at, updated_at";

impl Store {
    /// Every saved segment, by name.
    pub async fn saved_segments(&self) -> Result<Vec<SavedSegment>> {
        let rows =
            sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {SAVED_COLUMNS} FROM saved_segments ORDER BY name")))
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(saved_segment).collect()
    }

    /// One saved segment.
    pub async fn saved_segment(&self, id: i64) -> Result<SavedSegment> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {SAVED_COLUMNS} FROM saved_segments WHERE id = $1")))
            .bind(id)
            .fetch_optional(&self.pool)
            .await?
            .ok_or(StoreError::NotFound("segment"))?;
        saved_segment(&row)
    }

    /// Saves a new segment (the filter already checked by the caller); names are unique.
    pub async fn create_saved_segment(
        &self,
        name: &str,
        description: &str,
        filter: &serde_json::Value,
        actor: Option<i64>,
    ) -> Result<SavedSegment> {
        let now = now_ms();
        let id: i64 = self
            .insert_returning_id(
                sqlx::query_scalar(
                    "INSERT INTO saved_segments (name, description, filter, created_by, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
                )
                .bind(name)
                .bind(description)
                .bind(filter.to_string())
                .bind(actor)
                .bind(now),
            )
            .await
            .map_err(|e| name_taken(e, name))?;
        self.saved_segment(id).await
    }

    /// Replaces a saved segment's name, description and filter.
    pub async fn update_saved_segment(
        &self,
        id: i64,
        name: &str,
        description: &str,
        filter: &serde_json::Value,
    ) -> Result<SavedSegment> {
        let done = self
            .execute_write(
                sqlx::query(
                    "UPDATE saved_segments SET name = $1, description = $2, filter = $3, updated_at = $4 WHERE id = $5",
                )
                .bind(name)
                .bind(description)
                .bind(filter.to_string())
                .bind(now_ms())
                .bind(id),
            )
            .await
            .map_err(|e| name_taken(e, name))?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("segment"));
        }
        self.saved_segment(id).await
    }

    /// Deletes a saved segment.
    pub async fn delete_saved_segment(&self, id: i64) -> Result<()> {
        let done = self.execute_write(sqlx::query("DELETE FROM saved_segments WHERE id = $1").bind(id)).await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound("segment"));
        }
        Ok(())
    }

    /// Every customer id a filter selects, ascending (export, bulk actions).
    pub async fn segment_customer_ids(&self, filter: &Filter) -> Result<Vec<i64>> {
        let (from_where, binds) = from_where(filter, self.backend());
        let q = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT f.customer_id {from_where} ORDER BY f.customer_id"
        )));
        Ok(bind_all_scalar(q, &binds).fetch_all(&self.pool).await?)
    }

    /// Whether a filter selects one customer (perks gated by a segment).
    pub async fn segment_contains(&self, filter: &Filter, customer_id: i64) -> Result<bool> {
        let (from_where, binds) = from_where(filter, self.backend());
        let q = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM (SELECT f.customer_id {from_where}) s WHERE s.customer_id = {customer_id}"
        )));
        let n: i64 = bind_all_scalar(q, &binds).fetch_one(&self.pool).await?;
        Ok(n > 0)
    }

    /// Evaluates a segment filter: how many customers it selects and one page of their ids.
    /// Two statements: the count, and the page in id order (which stops at the page's end).
    pub async fn evaluate_segment(&self, filter: &Filter, limit: i64, offset: i64) -> Result<SegmentPage> {
        let (from_where, binds) = from_where(filter, self.backend());
        let count = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) {from_where}")));
        let total: i64 = bind_all_scalar(count, &binds).fetch_one(&self.pool).await?;
        let page = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT f.customer_id {from_where} ORDER BY f.customer_id LIMIT {} OFFSET {}",
            limit.clamp(0, 100_000),
            offset.max(0)
        )));
        let customer_ids =
            if total > 0 { bind_all_scalar(page, &binds).fetch_all(&self.pool).await? } else { Vec::new() };
        Ok(SegmentPage { total, customer_ids })
    }

    /// Whether one customer matches `filter` (a scenario's check step).
    pub async fn customer_matches(&self, filter: &Filter, customer_id: i64) -> Result<bool> {
        let (from_where, binds) = from_where(filter, self.backend());
        let q = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT COUNT(*) FROM (SELECT f.customer_id {from_where}) m WHERE m.customer_id = {customer_id}"
        )));
        let n: i64 = bind_all_scalar(q, &binds).fetch_one(&self.pool).await?;
        Ok(n > 0)
    }

    /// Every customer a filter selects (a broadcast), in id order.
    pub async fn all_segment_members(&self, filter: &Filter) -> Result<Vec<i64>> {
        let (from_where, binds) = from_where(filter, self.backend());
        let q = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT f.customer_id {from_where} ORDER BY f.customer_id"
        )));
        Ok(bind_all_scalar(q, &binds).fetch_all(&self.pool).await?)
    }
}
