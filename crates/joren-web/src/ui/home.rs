//! The home page: the owner's to-do for the week — calls and letters due today, who to contact
//! this week (with one-click 記録 links), points and 回数券 about to run out — then the newest
//! orders. The statistics are on the dashboard (分析).

use askama::Template;
use axum::extract::State;
use joren_app::home::WeekWork;
use joren_core::money::format_amount;

use super::{Chrome, Staff, UiError, UiResult, render};
use crate::AppState;
use crate::i18n::{Lang, Tr};

pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("home.week", "今週やること", "This week"),
    ("home.today", "今日", "Today"),
    ("home.tasks", "今日までの連絡", "Contacts due today"),
    ("home.tasks_more", "ほか {0} 件", "{0} more"),
    ("home.no_tasks", "今日までの連絡はありません。", "No contacts due."),
    ("home.all_tasks", "すべての連絡を見る", "All contacts"),
    ("home.points_expiring", "30日以内にポイントが失効するお客様", "Points expiring within 30 days"),
    ("home.points_expiring_count", "{0} 人", "{0} customers"),
    ("home.no_points_expiring", "失効が近いポイントはありません。", "No points expiring soon."),
    ("home.tickets_expiring", "30日以内に期限が切れる回数券", "Tickets expiring within 30 days"),
    ("home.no_tickets_expiring", "期限が近い回数券はありません。", "No tickets expiring soon."),
    ("home.expires_on", "{0} に失効", "expire {0}"),
    ("home.visits_left", "残り {0} 回 · {1} まで", "{0} visits left · until {1}"),
    ("home.log", "記録", "Log"),
    ("home.counter", "レジを開く", "Open the counter"),
    ("home.stats", "数字の分析は「分析」へ", "Figures and analysis: see Analytics"),
];

/// A row of the "contact this week" lists.
pub(super) struct ContactRow {
    id: i64,
    name: String,
    detail: String,
    clv: String,
    action: String,
    /// When the shop last reached out (shop-local date), if ever.
    contacted: Option<String>,
    /// …within the past week.
    contacted_recently: bool,
}

pub(super) struct TaskRow {
    customer_id: i64,
    customer: String,
    kind: String,
    title: String,
    due: String,
    overdue: bool,
}

pub(super) struct RecentOrder {
    id: i64,
    customer_id: i64,
    customer: String,
    at: String,
    total: String,
    status: String,
}

#[derive(Template)]
#[template(path = "home.html")]
pub(super) struct HomePage {
    c: Chrome,
    today: String,
    tasks: Vec<TaskRow>,
    tasks_more: i64,
    /// (title key, table id, rows) of the "contact this week" lists.
    contact_lists: Vec<(&'static str, &'static str, Vec<ContactRow>)>,
    /// (customer id, name, points, "expire on …").
    points: Vec<(i64, String, i64, String)>,
    points_customers: usize,
    /// (customer id, name, ticket name, "n visits left · until …").
    tickets: Vec<(i64, String, String, String)>,
    customers: i64,
    orders: i64,
    recent: Vec<RecentOrder>,
}

/// `GET /`.
pub(super) async fn page(State(s): State<AppState>, Staff { user, t }: Staff) -> UiResult {
    let w = s.app.week_work().await.map_err(|e| UiError::from_app(t, e))?;
    Ok(render(&build(t, Chrome::new(t, &user, "home", "/"), &s.app, w)))
}

fn build(t: Tr, c: Chrome, app: &joren_app::App, w: WeekWork) -> HomePage {
    let en = t.0 == Lang::En;
    let day = |d: chrono::NaiveDate| d.format(if en { "%Y-%m-%d" } else { "%-m月%-d日" }).to_string();
    let fill = |key: &str, a: &str, b: &str| t.t(key).replace("{0}", a).replace("{1}", b);
    let week_ago = app.now() - chrono::Duration::days(7);
    let contacted = &w.contacts.last_contacted;
    let rules = &w.rules;
    let row = |m: &joren_app::CustomerMetrics, name: &str, detail: String| ContactRow {
        id: m.customer_id,
        name: name.to_string(),
        detail,
        clv: m.clv_12m.map(|v| format_amount(v.round() as i64, "JPY")).unwrap_or_else(|| "—".into()),
        contacted: contacted.get(&m.customer_id).map(|at| app.local_time(*at)[..10].to_string()),
        contacted_recently: contacted.get(&m.customer_id).is_some_and(|at| *at >= week_ago),
        action: joren_app::next_action::suggest(rules, m)
            .map(|a| if en { a.action_en } else { a.action_ja })
            .unwrap_or_default(),
    };
    let seg = |code: &str| joren_app::metrics::segment_label(code, en);
    let slipping = w
        .contacts
        .slipping
        .iter()
        .map(|(m, from, name)| row(m, name, format!("{} → {}", seg(from), seg(&m.segment))))
        .collect();
    let overdue = w
        .contacts
        .overdue
        .iter()
        .map(|(m, name)| row(m, name, m.expected_next_purchase.clone().unwrap_or_default()))
        .collect();
    let dormant = w
        .contacts
        .dormant
        .iter()
        .map(|(m, name)| {
            let since = if en { "days since last purchase" } else { "日前に最終購入" };
            row(m, name, format!("{} {since}", m.recency_days))
        })
        .collect();
    let today = w.today.to_string();
    HomePage {
        c,
        today: day(w.today),
        tasks_more: (w.tasks_due - w.tasks.len() as i64).max(0),
        tasks: w
            .tasks
            .into_iter()
            .map(|x| TaskRow {
                customer_id: x.customer_id,
                customer: x.customer_name,
                kind: format!("tk.kind.{}", x.kind),
                title: x.title,
                overdue: x.due_on < today,
                due: x.due_on,
            })
            .collect(),
        contact_lists: vec![
            ("week.slipping", "list-slipping", slipping),
            ("week.overdue", "list-overdue", overdue),
            ("week.dormant", "list-dormant", dormant),
        ],
        points: w
            .points_expiring
            .into_iter()
            .map(|p| (p.customer_id, p.name, p.points, fill("home.expires_on", &day(p.first_day), "")))
            .collect(),
        points_customers: w.points_expiring_customers,
        tickets: w
            .tickets_expiring
            .into_iter()
            .map(|(tk, name)| {
                let until = tk.last_day.map(day).unwrap_or_default();
                (tk.customer_id, name, tk.name, fill("home.visits_left", &tk.remaining.to_string(), &until))
            })
            .collect(),
        customers: w.customers,
        orders: w.orders,
        recent: w
            .recent_orders
            .into_iter()
            .map(|(o, name)| RecentOrder {
                id: o.id,
                customer_id: o.customer_id,
                customer: name,
                at: app.local_time(o.ordered_at),
                total: format_amount(o.total, &o.currency),
                status: o.status.as_str().into(),
            })
            .collect(),
    }
}
