//! The counter screen (レジ・来店): find the customer in front of you by phone, kana or member
//! number, see what matters at a glance, and ring up a sale with points and a 回数券 visit in
//! one step. Every sale form carries its own idempotency key, so a double tap or a resent form
//! is applied once; a refused form comes back with everything typed and each error beside its
//! field. The product list the sale picks from is kept on `/products` (owners).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use joren_app::AppError;
use joren_app::auth::random_token;
use joren_app::counter::{CounterCard, SaleInput, SaleItem};
use joren_core::money::format_amount;
use joren_core::phone::display_phone;
use joren_core::product::ProductInput;
use joren_core::{FieldError, FieldErrors};

use super::form_state::FormState;
use super::{Checked, Chrome, ErrorFlash, Staff, UiError, UiResult, back_with_error, render, say_fields};
use crate::AppState;
use crate::i18n::{Lang, Tr};

pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("nav.counter", "レジ", "Counter"),
    ("ct.title", "レジ・来店", "Counter"),
    ("ct.find", "お客様を探す", "Find the customer"),
    ("ct.find_help", "電話番号・フリガナ・会員番号・名前", "Phone, kana, member number or name"),
    ("ct.search", "検索", "Search"),
    ("ct.none_found", "見つかりません。新しいお客様なら登録してください。", "No one found. Register a new customer?"),
    ("ct.new_customer", "新規登録", "New customer"),
    ("ct.member_no", "会員番号", "Member no."),
    ("ct.rank", "ランク", "Rank"),
    ("ct.points", "ポイント", "Points"),
    ("ct.expires", "{1} pt が {0} に失効", "{1} pt expire on {0}"),
    ("ct.tickets", "回数券", "Tickets"),
    ("ct.left", "残り {0} 回", "{0} visits left"),
    ("ct.until", "{0} まで", "until {0}"),
    ("ct.perks", "使える特典", "Perks open to them"),
    ("ct.birthday", "今月お誕生日", "Birthday this month"),
    ("ct.next_action", "おすすめの対応", "Suggested"),
    ("ct.last_visit", "前回", "Last time"),
    ("ct.sale", "お会計", "Sale"),
    ("ct.products", "商品", "Items"),
    ("ct.qty", "数量", "Qty"),
    (
        "ct.no_products",
        "商品が登録されていません。金額で入力するか、商品を登録してください。",
        "No products yet: enter an amount, or add products.",
    ),
    ("ct.or_amount", "または金額 (税込)", "Or an amount (tax incl.)"),
    ("ct.use_points", "使うポイント", "Points to use"),
    ("ct.available", "利用可能 {0} pt", "{0} pt available"),
    ("ct.use_ticket", "回数券を1回使う", "Use one ticket visit"),
    ("ct.no_ticket", "使わない", "None"),
    ("ct.note", "メモ", "Note"),
    ("ct.ring_up", "会計する", "Ring up"),
    ("ct.receipt", "お会計が済みました", "Sale recorded"),
    ("ct.total", "合計", "Total"),
    ("ct.points_used", "ポイント利用", "Points used"),
    ("ct.to_pay", "お支払い", "To pay"),
    ("ct.earned", "今回のポイント", "Points earned"),
    ("ct.balance", "ポイント残高", "Points now"),
    ("ct.ticket_after", "{0}: 残り {1} 回", "{0}: {1} visits left"),
    ("ct.next_customer", "次のお客様", "Next customer"),
    ("ct.customer_page", "顧客ページ", "Customer page"),
    ("ct.tax8", "軽減税率", "reduced rate"),
    ("pr.title", "商品", "Products"),
    (
        "pr.help",
        "レジで選ぶ商品です。価格は税込。価格を変えても過去の注文は変わりません。",
        "What the counter rings up. Prices include tax; changing one leaves past orders alone.",
    ),
    ("pr.none", "商品はまだありません", "No products yet"),
    ("pr.sku", "商品コード", "SKU"),
    ("pr.name", "商品名", "Name"),
    ("pr.category", "分類", "Category"),
    ("pr.price", "価格 (税込)", "Price (tax incl.)"),
    ("pr.tax_rate", "税率", "Tax rate"),
    ("pr.rate10", "10% (標準)", "10% (standard)"),
    ("pr.rate8", "8% (軽減・食品)", "8% (reduced, food)"),
    ("pr.rate0", "非課税", "No tax"),
    ("pr.on_sale", "販売中", "On sale"),
    ("pr.off_sale", "販売終了", "Not on sale"),
    ("pr.new", "商品を追加", "Add a product"),
    ("pr.save", "保存", "Save"),
    ("pr.stop", "販売を終了", "Stop selling"),
    ("pr.resume", "販売を再開", "Sell again"),
    ("pr.saved", "保存しました", "Saved"),
];

pub(super) struct FoundRow {
    id: i64,
    name: String,
    kana: String,
    phone: String,
    last: String,
}

#[derive(Template)]
#[template(path = "counter.html")]
pub(super) struct FindPage {
    c: Chrome,
    q: String,
    found: Vec<FoundRow>,
}

#[derive(serde::Deserialize)]
pub(super) struct FindQuery {
    #[serde(default)]
    q: String,
}

/// `GET /counter`: the search box; with `?q=` its matches (straight to the customer when one).
pub(super) async fn find(State(s): State<AppState>, Staff { user, t }: Staff, Query(f): Query<FindQuery>) -> UiResult {
    let found = s.app.counter_find(&f.q).await.map_err(|e| UiError::from_app(t, e))?;
    if let [only] = found.as_slice() {
        return Ok(Redirect::to(&format!("/counter/{}", only.id)).into_response());
    }
    let found = found
        .into_iter()
        .map(|c| FoundRow {
            id: c.id,
            name: c.display_name,
            kana: format!("{} {}", c.family_name_kana, c.given_name_kana).trim().to_string(),
            phone: c.phone.as_deref().map(display_phone).unwrap_or_default(),
            last: c.last_order_at.map(|d| s.app.local_time(d)[..10].to_string()).unwrap_or_default(),
        })
        .collect();
    Ok(render(&FindPage { c: Chrome::new(t, &user, "counter", "/counter"), q: f.q, found }))
}

pub(super) struct ProductRow {
    id: i64,
    name: String,
    price: String,
    reduced: bool,
    qty: String,
    error: String,
}

pub(super) struct CardView {
    id: i64,
    name: String,
    kana: String,
    rank: Option<String>,
    points: i64,
    expiry: Option<String>,
    tickets: Vec<(i64, String, String)>,
    perks: Vec<String>,
    birthday: bool,
    next_action: Option<(String, String)>,
    last_visit: Option<(String, String, String)>,
}

pub(super) struct ReceiptView {
    total: String,
    points_used: i64,
    to_pay: String,
    earned: i64,
    balance: i64,
    ticket: Option<String>,
    order_id: Option<i64>,
}

#[derive(Template)]
#[template(path = "counter_customer.html")]
pub(super) struct CustomerPage {
    c: Chrome,
    card: CardView,
    products: Vec<ProductRow>,
    f: FormState,
    key: String,
    receipt: Option<ReceiptView>,
    error: Option<String>,
}

fn card_view(t: Tr, app: &joren_app::App, k: CounterCard) -> CardView {
    let p = &k.customer.profile;
    let day = |d: chrono::NaiveDate| t.date(d);
    CardView {
        id: k.customer.id,
        name: k.customer.display_name.clone(),
        kana: format!("{} {}", p.family_name_kana, p.given_name_kana).trim().to_string(),
        rank: k.rank,
        points: k.points_available,
        expiry: k
            .points_next_expiry
            .map(|(d, n)| t.t("ct.expires").replace("{0}", &day(d)).replace("{1}", &n.to_string())),
        tickets: k
            .tickets
            .iter()
            .map(|x| {
                let until =
                    x.last_day.map(|d| format!(" · {}", t.t("ct.until").replace("{0}", &day(d)))).unwrap_or_default();
                (x.id, x.name.clone(), format!("{}{until}", t.t("ct.left").replace("{0}", &x.remaining.to_string())))
            })
            .collect(),
        perks: k.perks.into_iter().map(|x| x.name).collect(),
        birthday: k.birthday_this_month,
        next_action: k.next_action.map(|a| {
            let why =
                a.reasons.iter().map(|r| super::customers::next_action_reason(t, r)).collect::<Vec<_>>().join("、");
            (if t.0 == Lang::En { a.action_en } else { a.action_ja }, why)
        }),
        last_visit: k.last_visit.map(|e| {
            let (title, detail) = super::timeline::worded(t, &e);
            let detail = if detail.chars().count() > 200 {
                format!("{}…", detail.chars().take(200).collect::<String>())
            } else {
                detail
            };
            (app.local_time(e.at)[..10].to_string(), title, detail)
        }),
    }
}

#[derive(serde::Deserialize)]
pub(super) struct DoneQuery {
    order: Option<i64>,
    ticket: Option<i64>,
}

/// `GET /counter/{id}`: the customer at a glance and the sale form (after a sale, its receipt).
pub(super) async fn customer(
    State(s): State<AppState>,
    ErrorFlash(error): ErrorFlash,
    Staff { user, t }: Staff,
    Path(id): Path<i64>,
    Query(done): Query<DoneQuery>,
) -> UiResult {
    let receipt = match (done.order, done.ticket) {
        (None, None) => None,
        (order, ticket) => {
            let r = s.app.counter_receipt(id, order, ticket).await.map_err(|e| UiError::from_app(t, e))?;
            let total = r.order.as_ref().map_or(0, |o| o.total);
            Some(ReceiptView {
                total: format_amount(total, "JPY"),
                points_used: r.points_used,
                to_pay: format_amount(total - r.points_used, "JPY"),
                earned: r.points_earned,
                balance: r.points_available,
                ticket: r
                    .ticket
                    .map(|x| t.t("ct.ticket_after").replace("{0}", &x.name).replace("{1}", &x.remaining.to_string())),
                order_id: r.order.map(|o| o.id),
            })
        }
    };
    let typed = Typed { f: FormState::default(), quantities: Vec::new(), key: format!("ui-{}", random_token()) };
    sale_page(&s, t, &user, id, typed, receipt, error).await
}

/// The sale form as it was typed: its fields, each product's quantity (product id, what was
/// typed, its error) and the sale's key.
struct Typed {
    f: FormState,
    quantities: Vec<(i64, String, String)>,
    /// A refused form keeps its key: if a step of it was done before the refusal, sending it
    /// again finishes that sale instead of starting a second one.
    key: String,
}

/// The customer's counter page with the sale form as typed.
async fn sale_page(
    s: &AppState,
    t: Tr,
    user: &crate::auth::WebUser,
    id: i64,
    typed: Typed,
    receipt: Option<ReceiptView>,
    error: Option<String>,
) -> UiResult {
    let err = |e| UiError::from_app(t, e);
    let card = s.app.counter_card(id).await.map_err(err)?;
    let card = card_view(t, &s.app, card);
    let products = s
        .app
        .products(true)
        .await
        .map_err(err)?
        .into_iter()
        .map(|p| {
            let mine = typed.quantities.iter().find(|x| x.0 == p.id);
            ProductRow {
                id: p.id,
                name: p.input.name,
                price: format_amount(p.input.unit_price, "JPY"),
                reduced: p.input.tax_rate == 8,
                qty: mine.map(|x| x.1.clone()).unwrap_or_default(),
                error: mine.map(|x| x.2.clone()).unwrap_or_default(),
            }
        })
        .collect();
    let page = CustomerPage {
        c: Chrome::new(t, user, "counter", format!("/counter/{id}")),
        card,
        products,
        f: typed.f,
        key: typed.key,
        receipt,
        error,
    };
    Ok(render(&page))
}

/// `POST /counter/{id}/sale`: rings up the sale; refused, the form comes back as typed.
pub(super) async fn sale(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form }: Checked<Vec<(String, String)>>,
) -> UiResult {
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    let mut unreadable = FieldErrors::default();
    let mut typed: Vec<(i64, String, String)> = Vec::new();
    let mut items = Vec::new();
    for (name, value) in &form {
        let Some(pid) = name.strip_prefix("qty_").and_then(|x| x.parse::<i64>().ok()) else { continue };
        if value.trim().is_empty() {
            continue;
        }
        let field = format!("qty_{pid}");
        let quantity = super::form_int(&mut unreadable, &field, value);
        typed.push((pid, value.clone(), String::new()));
        if quantity != 0 {
            items.push((SaleItem { product_id: pid, quantity }, field));
        }
    }
    let optional = |errors: &mut FieldErrors, k: &str| {
        let v = get(k);
        (!v.is_empty()).then(|| super::form_int(errors, k, &v))
    };
    let amount = optional(&mut unreadable, "amount");
    let points = optional(&mut unreadable, "points").unwrap_or(0);
    let ticket_id = get("ticket_id").parse::<i64>().ok();
    let input = SaleInput {
        customer_id: id,
        items: items.iter().map(|(i, _)| i.clone()).collect(),
        amount,
        points,
        ticket_id,
        note: get("note"),
    };
    let refused = if unreadable.0.is_empty() {
        match s.app.counter_sale(&user.actor, input, &get("key")).await {
            Ok(sale) => {
                let mut to = format!("/counter/{id}?");
                if let Some(o) = &sale.order {
                    to.push_str(&format!("order={}&", o.id));
                }
                if let Some(x) = &sale.ticket {
                    to.push_str(&format!("ticket={}", x.id));
                }
                return Ok(Redirect::to(to.trim_end_matches(['&', '?'])).into_response());
            }
            Err(AppError::Validation(e)) => e,
            Err(e) => return Err(UiError::from_app(t, e)),
        }
    } else {
        unreadable
    };
    // Each refusal beside its field: an item's is the product row's.
    let mut f = FormState::new([
        ("amount", get("amount")),
        ("points", get("points")),
        ("ticket_id", get("ticket_id")),
        ("note", get("note")),
    ]);
    let mut rest: Vec<FieldError> = Vec::new();
    for e in refused.0 {
        let row = e
            .field
            .strip_prefix("items[")
            .and_then(|x| x.split(']').next())
            .and_then(|n| n.parse::<usize>().ok())
            .and_then(|n| items.get(n))
            .map(|(_, field)| field.clone())
            .unwrap_or_else(|| e.field.clone());
        match row.strip_prefix("qty_").and_then(|x| x.parse::<i64>().ok()) {
            Some(pid) => {
                if let Some(x) = typed.iter_mut().find(|x| x.0 == pid) {
                    x.2 = crate::i18n::errors::field_error(&e, t.0);
                }
            }
            None => rest.push(FieldError { field: row, ..e }),
        }
    }
    f.refuse(&rest, t);
    let shown = ["amount", "points", "ticket_id", "note"];
    let elsewhere: Vec<FieldError> = rest.into_iter().filter(|e| !shown.contains(&e.field.as_str())).collect();
    let error = (!elsewhere.is_empty()).then(|| say_fields(t, &elsewhere));
    let key = match get("key") {
        k if k.is_empty() => format!("ui-{}", random_token()),
        k => k,
    };
    super::refused(sale_page(&s, t, &user, id, Typed { f, quantities: typed, key }, None, error).await)
}

pub(super) struct ProductListRow {
    id: i64,
    sku: String,
    name: String,
    category: String,
    price: String,
    price_raw: i64,
    tax_rate: i64,
    active: bool,
}

#[derive(Template)]
#[template(path = "products.html")]
pub(super) struct ProductsPage {
    c: Chrome,
    rows: Vec<ProductListRow>,
    f: FormState,
    can_edit: bool,
    error: Option<String>,
}

/// `GET /products`: the product list and the form to add one (owners).
pub(super) async fn products(
    State(s): State<AppState>,
    ErrorFlash(error): ErrorFlash,
    Staff { user, t }: Staff,
) -> UiResult {
    products_page(&s, t, &user, FormState::new([("tax_rate", "10".to_string())]), error).await
}

async fn products_page(
    s: &AppState,
    t: Tr,
    user: &crate::auth::WebUser,
    f: FormState,
    error: Option<String>,
) -> UiResult {
    let rows = s
        .app
        .products(false)
        .await
        .map_err(|e| UiError::from_app(t, e))?
        .into_iter()
        .map(|p| ProductListRow {
            id: p.id,
            price: format_amount(p.input.unit_price, "JPY"),
            price_raw: p.input.unit_price,
            sku: p.input.sku,
            name: p.input.name,
            category: p.input.category,
            tax_rate: p.input.tax_rate,
            active: p.input.active,
        })
        .collect();
    Ok(render(&ProductsPage {
        c: Chrome::new(t, user, "counter", "/products"),
        rows,
        f,
        can_edit: user.actor.role.can_manage_users(),
        error,
    }))
}

#[derive(serde::Deserialize)]
pub(super) struct ProductForm {
    #[serde(default)]
    sku: String,
    name: String,
    #[serde(default)]
    category: String,
    unit_price: String,
    #[serde(default)]
    tax_rate: String,
    #[serde(default)]
    active: Option<String>,
}

impl ProductForm {
    /// The product typed, or every problem at once.
    fn input(&self) -> Result<ProductInput, FieldErrors> {
        let mut unreadable = FieldErrors::default();
        let unit_price = super::form_int(&mut unreadable, "unit_price", &self.unit_price);
        let tax_rate = if self.tax_rate.trim().is_empty() {
            10
        } else {
            super::form_int(&mut unreadable, "tax_rate", &self.tax_rate)
        };
        let input = ProductInput {
            sku: self.sku.trim().to_string(),
            name: self.name.trim().to_string(),
            category: self.category.trim().to_string(),
            unit_price,
            tax_rate,
            active: self.active.is_some(),
        };
        super::all_errors(unreadable, input.validate()).map(|()| input)
    }
}

/// `POST /products`: adds a product (owners); refused, the form comes back as typed.
pub(super) async fn create_product(
    State(s): State<AppState>,
    Checked { user, t, form }: Checked<ProductForm>,
) -> UiResult {
    let saved = match form.input() {
        Ok(input) => s.app.save_product(&user.actor, None, input).await.map(|_| ()),
        Err(e) => Err(AppError::Validation(e)),
    };
    match saved {
        Ok(()) => Ok(Redirect::to("/products").into_response()),
        Err(AppError::Validation(e)) => {
            let mut f = FormState::new([
                ("sku", form.sku),
                ("name", form.name),
                ("category", form.category),
                ("unit_price", form.unit_price),
                ("tax_rate", form.tax_rate),
            ]);
            f.refuse(&e.0, t);
            super::refused(products_page(&s, t, &user, f, None).await)
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

/// `POST /products/{id}`: changes a product from its row (price, stop or resume selling).
pub(super) async fn update_product(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form }: Checked<ProductForm>,
) -> UiResult {
    let saved = match form.input() {
        Ok(input) => s.app.save_product(&user.actor, Some(id), input).await.map(|_| ()),
        Err(e) => Err(AppError::Validation(e)),
    };
    match saved {
        Ok(()) => Ok(Redirect::to("/products").into_response()),
        Err(AppError::Validation(e)) => {
            Ok(back_with_error("/products", &format!("{}: {}", form.name, say_fields(t, &e))))
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}
