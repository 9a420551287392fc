//! The owner's week: what needs doing, on one page — calls and letters due, who to contact
//! this week (slipping, overdue, dormant), points and 回数券 about to run out — and the newest
//! orders. The statistics live on the dashboard.

use chrono::NaiveDate;
use joren_store::{Order, Task, TaskFilter, Ticket};
use serde::Serialize;

use crate::dashboard::ContactLists;
use crate::{App, Result};

/// How far ahead the expiring points and tickets are listed.
pub const EXPIRY_DAYS: u64 = 30;
/// Most rows in each of the page's lists.
pub const LIST_MAX: usize = 10;

/// A customer whose points run out soon.
#[derive(Debug, Clone, Serialize)]
pub struct ExpiringPoints {
    pub customer_id: i64,
    pub name: String,
    pub points: i64,
    pub first_day: NaiveDate,
}

/// What the week holds.
#[derive(Debug, Clone, Serialize)]
pub struct WeekWork {
    pub today: NaiveDate,
    /// Open tasks due today or before, the most overdue first (at most [`LIST_MAX`]), and how
    /// many there are in all.
    pub tasks: Vec<Task>,
    pub tasks_due: i64,
    pub contacts: ContactLists,
    /// The next-best-action rules, to suggest what to do for each customer listed.
    pub rules: Vec<crate::next_action::Rule>,
    /// Customers with points expiring within [`EXPIRY_DAYS`], soonest first, and how many.
    pub points_expiring: Vec<ExpiringPoints>,
    pub points_expiring_customers: usize,
    /// Usable 回数券 whose last day is within [`EXPIRY_DAYS`], with the holder's name.
    pub tickets_expiring: Vec<(Ticket, String)>,
    /// The newest orders with their customer's name.
    pub recent_orders: Vec<(Order, String)>,
    pub customers: i64,
    pub orders: i64,
}

impl App {
    /// The home page's week (see the module).
    pub async fn week_work(&self) -> Result<WeekWork> {
        let today = self.today_date();
        let filter =
            TaskFilter { state: "open".into(), due_by: Some(today), limit: LIST_MAX as i64, ..TaskFilter::default() };
        let tasks = self.tasks(&filter).await?;
        let tasks_due = self.tasks_due_today().await?;
        let contacts = self.contact_lists(LIST_MAX as i64).await?;
        let mut expiring = self.points_expiring_within(EXPIRY_DAYS).await?;
        expiring.sort_by(|a, b| a.2.cmp(&b.2).then(b.1.cmp(&a.1)));
        let points_expiring_customers = expiring.len();
        expiring.truncate(LIST_MAX);
        let mut tickets = self.tickets_expiring_within(EXPIRY_DAYS).await?;
        tickets.truncate(LIST_MAX);
        let page = self.list_orders(None, 5, 0).await?;
        let ids: Vec<i64> = expiring
            .iter()
            .map(|e| e.0)
            .chain(tickets.iter().map(|t| t.customer_id))
            .chain(page.items.iter().map(|o| o.customer_id))
            .collect();
        let names: std::collections::HashMap<i64, String> =
            self.store.customer_names(&ids).await?.into_iter().collect();
        let name = |id: i64| names.get(&id).cloned().unwrap_or_default();
        Ok(WeekWork {
            today,
            tasks,
            tasks_due,
            contacts,
            rules: self.next_action_rules().await?,
            points_expiring: expiring
                .into_iter()
                .map(|(customer_id, points, first_day)| ExpiringPoints {
                    name: name(customer_id),
                    customer_id,
                    points,
                    first_day,
                })
                .collect(),
            points_expiring_customers,
            tickets_expiring: tickets
                .into_iter()
                .map(|t| {
                    let n = name(t.customer_id);
                    (t, n)
                })
                .collect(),
            recent_orders: page
                .items
                .into_iter()
                .map(|o| {
                    let n = name(o.customer_id);
                    (o, n)
                })
                .collect(),
            customers: self.store.count_customers().await?,
            orders: page.total,
        })
    }
}
