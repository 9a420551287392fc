//! The order page: lines, refunds and cancellation.

use super::*;

pub(super) type ItemRow = (String, String, String, i64, String, i64, String);

#[derive(Template)]
#[template(path = "order.html")]
pub(super) struct OrderPage {
    c: Chrome,
    o: joren_app::orders::Order,
    customer: String,
    ordered_at: String,
    /// The sales channel and the status in words.
    channel: String,
    status: &'static str,
    items: Vec<ItemRow>,
    totals: Vec<(&'static str, String)>,
    adjustments: Vec<(String, String, String, String)>,
    remaining: String,
    can_write: bool,
    error: Option<String>,
}

pub(super) async fn order_page(
    State(s): State<AppState>,
    ErrorFlash(error): ErrorFlash,
    Staff { user, t }: Staff,
    Path(id): Path<i64>,
) -> UiResult {
    let err = |e| UiError::from_app(t, e);
    let o = s.app.get_order(id).await.map_err(err)?;
    let customer = s.app.get_customer(o.customer_id).await.map_err(err)?.display_name;
    let money = |v: i64| format_amount(v, &o.currency);
    let items = o
        .items
        .iter()
        .map(|i| {
            (
                i.sku.clone(),
                i.name.clone(),
                i.category.clone(),
                i.quantity,
                money(i.unit_price),
                i.tax_rate,
                money(i.amount),
            )
        })
        .collect();
    let mut totals = vec![("order.subtotal", money(o.subtotal))];
    if o.shipping != 0 {
        totals.push(("order.shipping", money(o.shipping)));
    }
    if o.discount != 0 {
        totals.push(("order.discount", money(-o.discount)));
    }
    totals.push(("order.total", money(o.total)));
    totals.push(("order.tax", money(o.tax)));
    if o.refunded != 0 {
        totals.push(("order.refunded", money(-o.refunded)));
    }
    let adjustments = o
        .adjustments
        .iter()
        .map(|a| (s.app.local_time(a.at), a.kind.clone(), money(-a.amount), a.reason.clone()))
        .collect();
    Ok(render(&OrderPage {
        c: Chrome::new(t, &user, "customers", format!("/orders/{id}")),
        customer,
        ordered_at: s.app.local_time(o.ordered_at),
        channel: t.maybe(&format!("channel.{}", o.channel)).map_or_else(|| o.channel.clone(), str::to_string),
        status: t.t(&format!("order.status.{}", o.status.as_str())),
        items,
        totals,
        adjustments,
        remaining: (o.total - o.refunded).to_string(),
        can_write: user.actor.role.can_write(),
        error,
        o,
    }))
}

#[derive(Deserialize)]
pub(super) struct AdjustForm {
    #[serde(default)]
    amount: String,
    #[serde(default)]
    reason: String,
}

pub(super) async fn refund_order(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<AdjustForm>,
) -> UiResult {
    let amount = match f.amount.trim() {
        "" => None,
        a => match joren_core::money::parse_amount("amount", a, "JPY") {
            Ok(v) => Some(v),
            Err(e) => {
                return Ok(back_with_error(&format!("/orders/{id}"), &say_fields(t, std::slice::from_ref(&e))));
            }
        },
    };
    adjusted(t, id, s.app.refund_order(&user.actor, id, RefundInput { amount, reason: f.reason }).await)
}

pub(super) async fn cancel_order(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<AdjustForm>,
) -> UiResult {
    adjusted(t, id, s.app.cancel_order(&user.actor, id, &f.reason).await)
}

pub(super) fn adjusted(t: Tr, id: i64, r: Result<joren_app::orders::Order, AppError>) -> UiResult {
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/orders/{id}")).into_response()),
        Err(e @ AppError::Validation(_)) => Ok(back_with_error(&format!("/orders/{id}"), &say(t, &e))),
        Err(e) => Err(UiError::from_app(t, e)),
    }
}
