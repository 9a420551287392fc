//! The customer list: search, narrow (kind, prefecture, tag, segment of the newest analysis)
//! and sort (kana, newest, last purchase, who has not come back, spend, purchases), 50 a page;
//! on a phone each customer is a card.

use super::*;
use joren_app::{CustomerList, CustomerSort};

pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("cl.sort", "並び順", "Sort"),
    ("cl.sort.kana", "フリガナ順", "By kana"),
    ("cl.sort.newest", "登録が新しい順", "Newest first"),
    ("cl.sort.last_order", "最近購入した順", "Bought most recently"),
    ("cl.sort.lapsed", "ご無沙汰の順 (最終購入が古い順)", "Not back longest (oldest last purchase)"),
    ("cl.sort.spent", "購入額が多い順", "Spent most"),
    ("cl.sort.orders", "購入回数が多い順", "Most purchases"),
    ("cl.kind", "種類", "Type"),
    ("cl.prefecture", "都道府県", "Prefecture"),
    ("cl.tag", "タグ", "Tag"),
    ("cl.segment", "顧客区分", "Customer group"),
    ("cl.all", "すべて", "All"),
    ("cl.clear", "条件をクリア", "Clear"),
];

pub(super) struct CustomerRow {
    id: i64,
    name: String,
    kana: String,
    email: String,
    phone: String,
    orders: i64,
    spent: String,
    last: String,
}

#[derive(Template)]
#[template(path = "customers.html")]
pub(super) struct CustomersPage {
    c: Chrome,
    q: ListQuery,
    total: i64,
    rows: Vec<CustomerRow>,
    page: i64,
    pages: i64,
    prev: Option<String>,
    next: Option<String>,
    sorts: Vec<(&'static str, String)>,
    prefectures: Vec<(&'static str, String)>,
    tags: Vec<(String, i64)>,
    segments: Vec<(&'static str, &'static str)>,
    narrowed: bool,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct ListQuery {
    q: String,
    page: Option<i64>,
    sort: String,
    kind: String,
    prefecture: String,
    tag: String,
    segment: String,
}

impl ListQuery {
    /// This list's address on page `p`.
    fn link(&self, p: i64) -> String {
        format!(
            "/customers?q={}&sort={}&kind={}&prefecture={}&tag={}&segment={}&page={p}",
            urlencode(&self.q),
            urlencode(&self.sort),
            urlencode(&self.kind),
            urlencode(&self.prefecture),
            urlencode(&self.tag),
            urlencode(&self.segment),
        )
    }
}

/// `GET /customers`.
pub(super) async fn customers(
    State(s): State<AppState>,
    Staff { user, t }: Staff,
    Query(lq): Query<ListQuery>,
) -> UiResult {
    let page = lq.page.unwrap_or(1).max(1);
    // What cannot be read narrows nothing and is said above the list (a link kept from an
    // older version, a typed address).
    let mut problems = Vec::new();
    let sort = CustomerSort::parse(&lq.sort).unwrap_or_default();
    let kind = joren_core::customer::CustomerKind::parse(&lq.kind);
    let list = CustomerList {
        query: lq.q.clone(),
        kind,
        prefecture: Some(lq.prefecture.clone()),
        tag: Some(lq.tag.clone()),
        segment: Some(lq.segment.clone()),
        sort,
        limit: PAGE_SIZE,
        offset: (page - 1) * PAGE_SIZE,
    };
    let result = match s.app.list_customers(list.clone()).await {
        Ok(r) => r,
        Err(AppError::Validation(e)) => {
            problems.extend(e.0);
            let plain = CustomerList { prefecture: None, segment: None, ..list };
            s.app.list_customers(plain).await.map_err(|e| UiError::from_app(t, e))?
        }
        Err(e) => return Err(UiError::from_app(t, e)),
    };
    let rows = result
        .items
        .into_iter()
        .map(|c| CustomerRow {
            id: c.id,
            name: c.display_name,
            kana: format!("{} {}", c.family_name_kana, c.given_name_kana).trim().to_string(),
            email: c.email.unwrap_or_default(),
            phone: c.phone.as_deref().map(display_phone).unwrap_or_default(),
            orders: c.order_count,
            spent: format_amount(c.total_spent, "JPY"),
            last: c.last_order_at.map(|d| s.app.local_time(d)[..10].to_string()).unwrap_or_default(),
        })
        .collect();
    let pages = ((result.total + PAGE_SIZE - 1) / PAGE_SIZE).max(1);
    let tags = s.app.customer_tags().await.map_err(|e| UiError::from_app(t, e))?;
    let en = t.0 == crate::i18n::Lang::En;
    let segments =
        joren_app::metrics::segment_codes().map(|code| (code, joren_app::metrics::segment_label(code, en))).collect();
    let sorts = CustomerSort::ALL.iter().map(|s| (s.code(), format!("cl.sort.{}", s.code()))).collect();
    let narrowed = [&lq.kind, &lq.prefecture, &lq.tag, &lq.segment].iter().any(|v| !v.is_empty());
    Ok(render(&CustomersPage {
        c: Chrome::new(t, &user, "customers", "/customers"),
        total: result.total,
        rows,
        page,
        pages,
        prev: (page > 1).then(|| lq.link(page - 1)),
        next: (page < pages).then(|| lq.link(page + 1)),
        sorts,
        prefectures: super::customer_form::prefecture_options(t.0),
        tags,
        segments,
        narrowed,
        error: (!problems.is_empty()).then(|| say_fields(t, &problems)),
        q: ListQuery { sort: sort.code().to_string(), ..lq },
    }))
}
