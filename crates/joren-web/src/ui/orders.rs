//! The order page: lines, refunds and cancellation.

use super::form_state::FormState;
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
    /// The refund and cancel forms: as typed when they came back refused, each error beside
    /// its field.
    refund: FormState,
    cancel: FormState,
}

pub(super) async fn order_page(
    State(s): State<AppState>,
    ErrorFlash(error): ErrorFlash,
    Staff { user, t }: Staff,
    Path(id): Path<i64>,
) -> UiResult {
    order_view(&s, t, &user, id, error, Refused::None).await
}

/// A form of the order page that came back refused, as typed with its errors.
enum Refused {
    None,
    Refund(FormState),
    Cancel(FormState),
}

async fn order_view(s: &AppState, t: Tr, user: &WebUser, id: i64, error: Option<String>, refused: Refused) -> UiResult {
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
    let status = if matches!(refused, Refused::None) { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let (mut refund, mut cancel) = (FormState::default(), FormState::default());
    match refused {
        Refused::Refund(f) => refund = f,
        Refused::Cancel(f) => cancel = f,
        Refused::None => {}
    }
    let mut page = render(&OrderPage {
        refund,
        cancel,
        c: Chrome::new(t, user, "customers", format!("/orders/{id}")),
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
    });
    *page.status_mut() = status;
    Ok(page)
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
    let done = match f.amount.trim() {
        "" => s.app.refund_order(&user.actor, id, RefundInput { amount: None, reason: f.reason.clone() }).await,
        a => match joren_core::money::parse_amount("amount", a, "JPY") {
            Ok(v) => {
                s.app.refund_order(&user.actor, id, RefundInput { amount: Some(v), reason: f.reason.clone() }).await
            }
            Err(e) => Err(AppError::Validation(joren_core::FieldErrors(vec![e]))),
        },
    };
    let form = FormState::new([("amount", f.amount), ("reason", f.reason)]);
    adjusted(&s, t, &user, id, done, form, Refused::Refund).await
}

pub(super) async fn cancel_order(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<AdjustForm>,
) -> UiResult {
    let done = s.app.cancel_order(&user.actor, id, &f.reason).await;
    adjusted(&s, t, &user, id, done, FormState::new([("reason", f.reason)]), Refused::Cancel).await
}

/// Back to the order; refused, the form as typed with each error beside its field.
async fn adjusted(
    s: &AppState,
    t: Tr,
    user: &WebUser,
    id: i64,
    r: Result<joren_app::orders::Order, AppError>,
    mut form: FormState,
    which: fn(FormState) -> Refused,
) -> UiResult {
    match r {
        Ok(_) => Ok(Redirect::to(&format!("/orders/{id}")).into_response()),
        Err(AppError::Validation(e)) => {
            form.refuse(&e.0, t);
            order_view(s, t, user, id, None, which(form)).await
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}
