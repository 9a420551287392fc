//! The counter (レジ・来店): find a customer the way staff at a till do (phone, kana, member number),
//! see at a glance what matters while they stand there, and ring up a sale — items from the
//! product list or an amount, points used and a 回数券 visit — in one step that a double tap or
//! a resent form applies once.
//!
//! A sale is three writes, each idempotent under a key derived from the sale's own key: the
//! points are held first (so a sale the customer cannot pay with points changes nothing), then
//! the order is created, then the hold is confirmed against the order and the ticket visit
//! taken. A retry with the same key replays what was done and finishes what was not; a hold
//! left by a crash between the steps runs out by itself (the reservation timeout) and its
//! points go back.

use chrono::{Datelike, NaiveDate};
use joren_core::order::{AMOUNT_ONLY_ITEM_NAME, LineItemInput, OrderInput};
use joren_core::{Code, FieldError, FieldErrors};
use joren_store::{CustomerSummary, Order, Redemption, Ticket, TicketWrite};
use serde::{Deserialize, Serialize};

use crate::next_action::Suggestion;
use crate::perks::PerkCheck;
use crate::points::ReserveInput;
use crate::tickets::UseInput;
use crate::{Actor, App, AppError, Result};

/// Most customers a counter search lists.
pub const FOUND_MAX: i64 = 20;

/// One line of a sale: a product from the list and how many.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SaleItem {
    pub product_id: i64,
    #[serde(default = "one")]
    pub quantity: i64,
}

fn one() -> i64 {
    1
}

/// A sale as the counter screen or a POS system sends it. Items, or an amount (tax included)
/// when the shop keeps no product list, or neither when the visit only takes a ticket visit.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct SaleInput {
    pub customer_id: i64,
    #[serde(default)]
    pub items: Vec<SaleItem>,
    #[serde(default)]
    pub amount: Option<i64>,
    /// Points the customer pays with (free points, soonest-expiring first), at most the total.
    #[serde(default)]
    pub points: i64,
    /// A 回数券 to take one visit from.
    #[serde(default)]
    pub ticket_id: Option<i64>,
    #[serde(default)]
    pub note: String,
}

/// What a sale did.
#[derive(Debug, Clone, Serialize)]
pub struct Sale {
    pub customer_id: i64,
    pub order: Option<Order>,
    /// Points earned by the order.
    pub points_earned: i64,
    pub points_used: Option<Redemption>,
    pub ticket: Option<Ticket>,
    /// What the customer pays in money: the total less the points used.
    pub to_pay: i64,
    /// True when the request repeated an earlier one with its key (a double tap, a resent
    /// request): some step of it had been done already, and was answered, not done again.
    pub replayed: bool,
}

/// What staff see at the counter about the customer in front of them.
#[derive(Debug, Clone, Serialize)]
pub struct CounterCard {
    pub customer: joren_store::Customer,
    /// The rank's name (None when the programme has no ranks).
    pub rank: Option<String>,
    pub points_available: i64,
    /// The soonest expiry and the points that expire then.
    pub points_next_expiry: Option<(NaiveDate, i64)>,
    /// Tickets that can be used today.
    pub tickets: Vec<Ticket>,
    /// Perks open to the customer.
    pub perks: Vec<PerkCheck>,
    pub birthday_this_month: bool,
    pub next_action: Option<Suggestion>,
    /// The newest visit, order or contact record with what was noted then.
    pub last_visit: Option<joren_store::TimelineEntry>,
}

impl App {
    /// Customers matching what staff typed: a member number (the customer number) first, then
    /// phone digits, kana, name or email as the customer search reads them. Digits that start
    /// with 0 are a phone number, never a member number.
    pub async fn counter_find(&self, query: &str) -> Result<Vec<CustomerSummary>> {
        let q = joren_core::kana::fold_for_search(query.trim());
        let q = q.trim();
        if q.is_empty() {
            return Ok(Vec::new());
        }
        let mut found = self.store.search_customers(q, FOUND_MAX, 0).await?.items;
        let number = q.trim_start_matches('#');
        if number.len() <= 12
            && !number.starts_with('0')
            && let Ok(id) = number.parse::<i64>()
            && !found.iter().any(|c| c.id == id)
            && let Some(c) = self.store.customers_by_ids(&[id]).await?.pop()
            && c.merged_into.is_none()
        {
            let totals = self.store.customer_order_totals(id).await?;
            found.insert(
                0,
                CustomerSummary {
                    id,
                    kind: c.profile.kind,
                    display_name: c.display_name,
                    family_name_kana: c.profile.family_name_kana,
                    given_name_kana: c.profile.given_name_kana,
                    email: c.profile.email,
                    phone: c.profile.phone,
                    order_count: totals.orders,
                    total_spent: totals.spent,
                    last_order_at: totals.last_at,
                },
            );
        }
        found.truncate(FOUND_MAX as usize);
        Ok(found)
    }

    /// The counter's view of customer `id`.
    pub async fn counter_card(&self, id: i64) -> Result<CounterCard> {
        let customer = self.store.get_customer(id).await?;
        if let Some(survivor) = customer.merged_into {
            return Err(FieldError::new("customer_id", Code::CustomerMerged).arg(survivor).into());
        }
        let today = self.today_date();
        let rank = self.customer_rank(id).await?;
        let points = self.points_account(id).await?;
        let tickets = self.customer_tickets(id).await?.into_iter().filter(|t| t.status == "active").collect();
        let perks = self.customer_perks(id).await?.into_iter().filter(|p| p.allowed).collect();
        let rules = self.next_action_rules().await?;
        let next_action = self.customer_metrics(id).await?.and_then(|(_, m)| crate::next_action::suggest(&rules, &m));
        let last_visit = self
            .timeline(id, 50)
            .await?
            .into_iter()
            .find(|e| e.kind == "order" || e.kind == "ticket_use" || e.kind.starts_with("interaction:"));
        Ok(CounterCard {
            birthday_this_month: customer.profile.birthday.is_some_and(|b| b.month() == today.month()),
            customer,
            rank: rank.enabled.then_some(rank.tier),
            points_available: points.free.available,
            points_next_expiry: points.free.next_expiry,
            tickets,
            perks,
            next_action,
            last_visit,
        })
    }

    /// Rings up a sale once (see the module's description); `key` is required — the counter
    /// screen puts a fresh one in every form it shows.
    pub async fn counter_sale(&self, actor: &Actor, input: SaleInput, key: &str) -> Result<Sale> {
        actor.require_write()?;
        let order_input = self.sale_order(&input).await?;
        let customer = self.store.get_customer(input.customer_id).await?;
        if let Some(survivor) = customer.merged_into {
            return Err(FieldError::new("customer_id", Code::CustomerMerged).arg(survivor).into());
        }
        let ticket = match input.ticket_id {
            Some(id) => Some(self.sale_ticket(input.customer_id, id).await?),
            None => None,
        };
        let total = match &order_input {
            Some(o) => o.clone().validate_within(self.now(), self.tz(), &self.config.order_dates)?.total,
            None => 0,
        };
        if input.points > total {
            let e =
                FieldError::new("points", Code::PointsOverTotal).arg(joren_core::money::format_amount(total, "JPY"));
            return Err(e.into());
        }
        let hold = if input.points > 0 {
            let reserve = ReserveInput {
                customer_id: input.customer_id,
                points: input.points,
                kind: joren_core::points::ValueKind::Free,
                order_id: None,
                note: "レジ".into(),
            };
            Some(self.reserve_points(actor, reserve, Some(&format!("{key}:points"))).await?)
        } else {
            None
        };
        let created = match order_input {
            Some(o) => match self.create_order(actor, o, Some(&format!("{key}:order"))).await {
                Ok(c) => Some(c),
                Err(e) => {
                    // The points go back — unless this is the same sale sent again at the same
                    // moment: the hold it replayed is the first request's, which may yet
                    // confirm it with its order.
                    if let Some(h) = hold.as_ref().filter(|h| !h.replayed) {
                        self.cancel_redemption(actor, h.id).await?;
                    }
                    return Err(e);
                }
            },
            None => None,
        };
        let points_used = match (&hold, &created) {
            (Some(h), Some(c)) => match self.confirm_redemption(actor, h.id, Some(c.order.id)).await {
                Ok(r) => Some(r),
                // The same sale sent again at the same moment confirmed it against this order
                // first: that is this step done.
                Err(AppError::Conflict(p)) if p.code == Code::RedemptionConfirmed => {
                    let r = self.get_redemption(h.id).await?;
                    if r.order_id != Some(c.order.id) {
                        return Err(AppError::Conflict(p));
                    }
                    Some(r)
                }
                Err(e) => return Err(e),
            },
            _ => None,
        };
        let used: Option<TicketWrite> = match &ticket {
            Some(t) => {
                let note = match &created {
                    Some(c) => format!("レジ (注文 {})", c.order.id),
                    None => "レジ".into(),
                };
                Some(self.use_ticket(actor, t.id, UseInput { note }, Some(&format!("{key}:ticket"))).await?)
            }
            None => None,
        };
        let replayed = created.as_ref().is_some_and(|c| c.replayed)
            || hold.as_ref().is_some_and(|h| h.replayed)
            || used.as_ref().is_some_and(|u| u.replayed);
        Ok(Sale {
            customer_id: input.customer_id,
            to_pay: total - input.points,
            points_earned: created.as_ref().map_or(0, |c| c.points.total),
            order: created.map(|c| c.order),
            points_used,
            ticket: used.map(|u| u.ticket),
            replayed,
        })
    }

    /// The order a sale makes (None: a visit that only takes a ticket visit), its lines priced
    /// from the product list as it is now; every unreadable part named at once.
    async fn sale_order(&self, input: &SaleInput) -> Result<Option<OrderInput>> {
        let mut errors = FieldErrors::default();
        let ids: Vec<i64> = input.items.iter().map(|i| i.product_id).collect();
        let products = self.store.products_by_id(&ids).await?;
        let mut items = Vec::new();
        for (n, item) in input.items.iter().enumerate() {
            match products.iter().find(|p| p.id == item.product_id) {
                Some(p) if p.input.active => items.push(LineItemInput {
                    sku: p.input.sku.clone(),
                    name: p.input.name.clone(),
                    category: p.input.category.clone(),
                    quantity: item.quantity,
                    unit_price: p.input.unit_price,
                    tax_rate: p.input.tax_rate,
                }),
                Some(p) => {
                    errors.push(&format!("items[{n}].product_id"), Code::PlanClosed).with(&p.input.name);
                }
                None => {
                    errors.push(&format!("items[{n}].product_id"), Code::NoSuchProduct).with(item.product_id);
                }
            }
        }
        match input.amount {
            Some(a) if !input.items.is_empty() => {
                errors.push("amount", Code::ItemsOrAmount).with(a);
            }
            Some(a) => items.push(LineItemInput {
                name: AMOUNT_ONLY_ITEM_NAME.into(),
                quantity: 1,
                unit_price: a,
                ..LineItemInput::default()
            }),
            None if items.is_empty() && errors.0.is_empty() && input.ticket_id.is_none() => {
                errors.push("items", Code::NeedItems);
            }
            None => {}
        }
        if input.note.chars().count() > NOTE_MAX {
            errors.push("note", Code::TooLong).with(NOTE_MAX).with(input.note.chars().count());
        }
        if input.points < 0 {
            errors.push("points", Code::Range).with(0).with(joren_core::order::bounds::MAX_CHARGE);
        }
        if !errors.0.is_empty() {
            return Err(AppError::Validation(errors));
        }
        if items.is_empty() {
            return Ok(None);
        }
        Ok(Some(OrderInput {
            customer_id: input.customer_id,
            channel: Some("store".into()),
            note: input.note.trim().to_string(),
            items,
            ..OrderInput::default()
        }))
    }

    /// The customer's ticket `id`, usable today.
    async fn sale_ticket(&self, customer_id: i64, id: i64) -> Result<Ticket> {
        let t = self.ticket(id).await?;
        if t.customer_id != customer_id {
            return Err(AppError::NotFound("ticket"));
        }
        if t.status == "active" { Ok(t) } else { Err(t.refusal("ticket_id").into()) }
    }
}

/// A finished sale as the counter shows it after the fact, read back from what was stored.
#[derive(Debug, Clone, Serialize)]
pub struct Receipt {
    pub order: Option<Order>,
    /// Points paid with on the order, and earned by it.
    pub points_used: i64,
    pub points_earned: i64,
    pub ticket: Option<Ticket>,
    /// Points the customer has now.
    pub points_available: i64,
}

impl App {
    /// The receipt of a sale to customer `customer_id`: its order and/or the ticket it took a
    /// visit from (either must be the customer's).
    pub async fn counter_receipt(&self, customer_id: i64, order: Option<i64>, ticket: Option<i64>) -> Result<Receipt> {
        let order = match order {
            Some(id) => Some(self.store.get_order(id).await?).filter(|o| o.customer_id == customer_id),
            None => None,
        };
        let ticket = match ticket {
            Some(id) => Some(self.ticket(id).await?).filter(|t| t.customer_id == customer_id),
            None => None,
        };
        let account = self.points_account(customer_id).await?;
        let on_order = |o: Option<i64>| order.as_ref().is_some_and(|x| o == Some(x.id));
        Ok(Receipt {
            points_used: account
                .redemptions
                .iter()
                .filter(|r| on_order(r.order_id) && r.status == "confirmed")
                .map(|r| r.points)
                .sum(),
            points_earned: account.lots.iter().filter(|l| on_order(l.order_id)).map(|l| l.granted).sum(),
            points_available: account.free.available,
            order,
            ticket,
        })
    }
}

/// Longest note on a sale.
pub const NOTE_MAX: usize = 10_000;
