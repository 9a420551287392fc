//! The customer list: partial-match search, narrowed by kind, prefecture, tag and segment,
//! sorted by kana, newest, last purchase, spend or number of purchases; one page at a time
//! with the total that matched.

use joren_core::customer::CustomerKind;
use sqlx::{AssertSqlSafe, Row};

use super::{CustomerPage, CustomerSummary};
use crate::{Result, Store, from_ms};

/// How the list is ordered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum CustomerSort {
    /// 50音 (family then given name kana).
    #[default]
    Kana,
    /// Registered most recently first.
    Newest,
    /// Bought most recently first (never bought last).
    LastOrder,
    /// Bought longest ago first — who has not come back (never bought last).
    Lapsed,
    /// Most spent first (net of refunds, cancelled orders aside).
    Spent,
    /// Most purchases first.
    Orders,
}

impl CustomerSort {
    pub const ALL: [Self; 6] = [Self::Kana, Self::Newest, Self::LastOrder, Self::Lapsed, Self::Spent, Self::Orders];

    pub fn code(self) -> &'static str {
        match self {
            Self::Kana => "kana",
            Self::Newest => "newest",
            Self::LastOrder => "last_order",
            Self::Lapsed => "lapsed",
            Self::Spent => "spent",
            Self::Orders => "orders",
        }
    }

    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.code() == code)
    }

    /// Whether the order needs each customer's purchases summed.
    fn needs_totals(self) -> bool {
        matches!(self, Self::LastOrder | Self::Lapsed | Self::Spent | Self::Orders)
    }

    /// The order over the columns of the page query (`c.…`, the purchase totals as `c.t_…`).
    fn order_by(self) -> &'static str {
        match self {
            Self::Kana => "c.family_name_kana, c.given_name_kana, c.id",
            Self::Newest => "c.created_at DESC, c.id DESC",
            Self::LastOrder => "CASE WHEN c.t_last IS NULL THEN 1 ELSE 0 END, c.t_last DESC, c.id",
            Self::Lapsed => "CASE WHEN c.t_last IS NULL THEN 1 ELSE 0 END, c.t_last, c.id",
            Self::Spent => "c.t_spent DESC, c.id",
            Self::Orders => "c.t_orders DESC, c.id",
        }
    }
}

/// What the customer list shows: every field optional (an empty query lists everyone).
#[derive(Debug, Clone, Default)]
pub struct CustomerList {
    /// Words matched against names, kana, company, email and phone (every word must match; a
    /// word of one or two characters where one of them starts, a longer one anywhere).
    pub query: String,
    pub kind: Option<CustomerKind>,
    pub prefecture: Option<String>,
    pub tag: Option<String>,
    /// The RFM segment code of the newest analysis (`dormant`, …).
    pub segment: Option<String>,
    pub sort: CustomerSort,
    pub limit: i64,
    pub offset: i64,
}

impl Store {
    /// Partial-match search over names, kana, company, email and phone, in 50音 order; see
    /// [`Store::list_customers`].
    pub async fn search_customers(&self, query: &str, limit: i64, offset: i64) -> Result<CustomerPage> {
        self.list_customers(&CustomerList { query: query.to_string(), limit, offset, ..Default::default() }).await
    }

    /// A page of the customer list. The search folds the query the same way as the stored
    /// search text and matches every whitespace-separated word against that one pre-folded
    /// column through its trigram index (see `search.rs`), so a search at a million customers
    /// reads only the candidates.
    /// Sorting by purchases sums every order once, grouped (one pass over the orders).
    pub async fn list_customers(&self, list: &CustomerList) -> Result<CustomerPage> {
        let folded = joren_core::kana::fold_for_search(list.query.trim());
        let words = super::search::words(&folded);
        // Parameters: $1 limit, $2 offset, then the words, then the narrowing values.
        let mut values: Vec<String> = Vec::new();
        let mut filter = String::from("cu.merged_into IS NULL");
        // SQLite: when every word is one trigram (a word of three characters, or a space and
        // one of two), the index's answer is the match itself (both sides folded the same
        // way): no row is checked, and with nothing else narrowing the index counts them.
        let mut counted_by_index = None;
        match self.backend() {
            crate::Backend::Sqlite => {
                let one_trigram_each = !words.is_empty() && words.iter().all(|w| w.needle.chars().count() == 3);
                if let Some(q) = super::search::fts_query(&words) {
                    let only_words = list.kind.is_none()
                        && list.prefecture.is_none()
                        && list.tag.is_none()
                        && list.segment.is_none();
                    if one_trigram_each && only_words {
                        counted_by_index = Some(q.clone());
                    }
                    values.push(q);
                    filter.push_str(" AND cu.id IN (SELECT rowid FROM customer_search WHERE customer_search MATCH $3)");
                }
                if !one_trigram_each {
                    for w in &words {
                        values.push(w.needle.clone());
                        filter.push_str(&format!(" AND instr(' ' || cu.search_text, ${}) > 0", values.len() + 2));
                    }
                }
            }
            crate::Backend::Postgres => {
                for w in &words {
                    values.push(super::search::like_pattern(w));
                    filter.push_str(&format!(" AND (' ' || cu.search_text) LIKE ${}", values.len() + 2));
                }
            }
        }
        let mut narrow = |sql: &str, value: String| {
            values.push(value);
            filter.push_str(&sql.replace('?', &format!("${}", values.len() + 2)));
        };
        if let Some(kind) = list.kind {
            narrow(" AND cu.kind = ?", kind.as_str().to_string());
        }
        if let Some(p) = &list.prefecture {
            narrow(" AND cu.prefecture = ?", p.clone());
        }
        if let Some(tag) = &list.tag {
            narrow(
                " AND EXISTS (SELECT 1 FROM customer_tags t WHERE t.customer_id = cu.id AND t.tag = ?)",
                tag.clone(),
            );
        }
        if let Some(seg) = &list.segment {
            narrow(
                " AND EXISTS (SELECT 1 FROM customer_facts f WHERE f.customer_id = cu.id AND f.segment = ?)",
                seg.clone(),
            );
        }
        let narrowed = !values.is_empty();
        // Narrowed, one pass: the window count gives the total of all matches alongside the
        // page. Not narrowed, the count comes cheaply on its own.
        let window = if narrowed && counted_by_index.is_none() { "COUNT(*) OVER ()" } else { "0" };
        let (totals, totals_join) = if list.sort.needs_totals() {
            (
                "COALESCE(a.n, 0) AS t_orders, COALESCE(a.spent, 0) AS t_spent, a.last_at AS t_last",
                "LEFT JOIN (SELECT customer_id, COUNT(*) AS n, CAST(SUM(total - refunded) AS BIGINT) AS spent, \
                 MAX(ordered_at) AS last_at FROM orders WHERE status <> 'cancelled' GROUP BY customer_id) a \
                 ON a.customer_id = cu.id",
            )
        } else {
            ("0 AS t_orders, 0 AS t_spent, 0 AS t_last", "")
        };
        let order = list.sort.order_by();
        let inner_order = order.replace("c.", "");
        let sql = format!(
            "SELECT c.id, c.kind, c.family_name, c.given_name, c.company_name, c.family_name_kana, \
             c.given_name_kana, c.email, c.phone, c.total_count, \
             (SELECT COUNT(*) FROM orders o WHERE o.customer_id = c.id AND o.status <> 'cancelled') AS order_count, \
             (SELECT CAST(COALESCE(SUM(o.total - o.refunded), 0) AS BIGINT) FROM orders o \
                WHERE o.customer_id = c.id AND o.status <> 'cancelled') AS total_spent, \
             (SELECT MAX(o.ordered_at) FROM orders o WHERE o.customer_id = c.id AND o.status <> 'cancelled') \
                AS last_order_at \
             FROM (SELECT * FROM (SELECT cu.id, cu.kind, cu.family_name, cu.given_name, cu.company_name, \
                          cu.family_name_kana, cu.given_name_kana, cu.email, cu.phone, cu.created_at, \
                          {window} AS total_count, {totals} \
                   FROM customers cu {totals_join} WHERE {filter}) x \
                   ORDER BY {inner_order} LIMIT $1 OFFSET $2) c \
             ORDER BY {order}"
        );
        let bind_all = |sql: String| {
            let mut q = sqlx::query(AssertSqlSafe(sql)).bind(list.limit).bind(list.offset);
            for v in &values {
                q = q.bind(v.clone());
            }
            q
        };
        let rows = bind_all(sql).fetch_all(&self.pool).await?;
        let total: i64 = match rows.first() {
            // A common surname matches thousands: counted in the index (1 ms for 19,934 of a
            // million) rather than over every matching row beside the page.
            _ if let Some(q) = &counted_by_index => {
                sqlx::query_scalar("SELECT COUNT(*) FROM customer_search WHERE customer_search MATCH $1")
                    .bind(q.clone())
                    .fetch_one(&self.pool)
                    .await?
            }
            Some(r) if narrowed => r.try_get("total_count")?,
            None if list.offset == 0 && narrowed => 0,
            // Everyone: the kept count (no read of every customer).
            _ if !narrowed => self.count_customers().await?,
            _ => {
                // Past the last page: count separately. The values are bound
                // from $3 on in both statements; `$1 = $1 AND $2 = $2` consumes limit and offset.
                let sql = format!("SELECT COUNT(*) AS n FROM customers cu WHERE $1 = $1 AND $2 = $2 AND {filter}");
                bind_all(sql).fetch_one(&self.pool).await?.try_get("n")?
            }
        };
        let items = rows
            .iter()
            .map(|r| {
                let kind = CustomerKind::parse(&r.try_get::<String, _>("kind")?).unwrap_or_default();
                Ok(CustomerSummary {
                    id: r.try_get("id")?,
                    kind,
                    display_name: joren_core::customer::display_name(
                        kind,
                        &r.try_get::<String, _>("family_name")?,
                        &r.try_get::<String, _>("given_name")?,
                        &r.try_get::<String, _>("company_name")?,
                    ),
                    family_name_kana: r.try_get("family_name_kana")?,
                    given_name_kana: r.try_get("given_name_kana")?,
                    email: r.try_get("email")?,
                    phone: r.try_get("phone")?,
                    order_count: r.try_get("order_count")?,
                    total_spent: r.try_get("total_spent")?,
                    last_order_at: r.try_get::<Option<i64>, _>("last_order_at")?.map(from_ms),
                })
            })
            .collect::<Result<_>>()?;
        Ok(CustomerPage { total, items })
    }

    /// The tags live customers carry, with how many carry each, by name (at most 500). Counted
    /// over the tags alone, less those merged records still carry (found by their own small
    /// index): no read of a million customers on each view of the list.
    pub async fn customer_tags(&self) -> Result<Vec<(String, i64)>> {
        let all = sqlx::query("SELECT tag, COUNT(*) AS n FROM customer_tags GROUP BY tag ORDER BY tag")
            .fetch_all(&self.pool)
            .await?;
        let merged: std::collections::HashMap<String, i64> = sqlx::query(
            "SELECT tag, COUNT(*) AS n FROM customer_tags \
             WHERE customer_id IN (SELECT id FROM customers WHERE merged_into IS NOT NULL) GROUP BY tag",
        )
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|r| Ok((r.try_get("tag")?, r.try_get("n")?)))
        .collect::<Result<_>>()?;
        let mut out = Vec::new();
        for r in &all {
            let tag: String = r.try_get("tag")?;
            let n = r.try_get::<i64, _>("n")? - merged.get(&tag).copied().unwrap_or(0);
            if n > 0 {
                out.push((tag, n));
            }
            if out.len() == 500 {
                break;
            }
        }
        Ok(out)
    }

    /// What a segment export adds to each customer: purchases (count, net spend, last), the
    /// newest analysis's segment, the rank's name (none without a rank row) and the points held
    /// on local day `on` (unexpired lots, pending included). In the order of `ids`.
    pub async fn customer_standing(&self, ids: &[i64], on: chrono::NaiveDate) -> Result<Vec<CustomerStanding>> {
        let day = crate::points::day_number(on);
        let rows = self
            .fetch_by_ids(ids, |list| {
                format!(
                    "SELECT c.id, \
                     (SELECT COUNT(*) FROM orders o WHERE o.customer_id = c.id AND o.status <> 'cancelled') AS n, \
                     (SELECT CAST(COALESCE(SUM(o.total - o.refunded), 0) AS BIGINT) FROM orders o \
                        WHERE o.customer_id = c.id AND o.status <> 'cancelled') AS spent, \
                     (SELECT MAX(o.ordered_at) FROM orders o WHERE o.customer_id = c.id AND o.status <> 'cancelled') AS last_at, \
                     (SELECT f.segment FROM customer_facts f WHERE f.customer_id = c.id) AS segment, \
                     (SELECT r.tier_name FROM customer_ranks r WHERE r.customer_id = c.id) AS rank_name, \
                     (SELECT CAST(COALESCE(SUM(l.remaining), 0) AS BIGINT) FROM point_lots l WHERE l.customer_id = c.id \
                        AND l.remaining > 0 AND (l.expires_day IS NULL OR l.expires_day >= {day})) AS points \
                     FROM customers c WHERE c.id IN ({list})"
                )
            })
            .await?;
        let mut found = std::collections::HashMap::with_capacity(rows.len());
        for r in rows {
            let s = CustomerStanding {
                id: r.try_get("id")?,
                orders: r.try_get("n")?,
                spent: r.try_get("spent")?,
                last_order_at: r.try_get::<Option<i64>, _>("last_at")?.map(from_ms),
                segment: r.try_get("segment")?,
                rank: r.try_get("rank_name")?,
                points: r.try_get("points")?,
            };
            found.insert(s.id, s);
        }
        Ok(ids.iter().filter_map(|id| found.remove(id)).collect())
    }
}

/// A customer's purchases, segment, rank and points at a glance.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CustomerStanding {
    pub id: i64,
    pub orders: i64,
    pub spent: i64,
    pub last_order_at: Option<chrono::DateTime<chrono::Utc>>,
    pub segment: Option<String>,
    pub rank: Option<String>,
    pub points: i64,
}
