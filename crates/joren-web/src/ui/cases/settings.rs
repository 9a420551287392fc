//! `/settings/cases`: the rules complaint deadlines are counted by — the opening hours of each
//! weekday (empty: closed), closed on public holidays or not, the shop's own closed days (one
//! date a line: 年末年始, お盆), and the first-response allowance in hours. Owners only; the
//! year's public holidays are listed so the owner sees what counts as closed.

use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect};
use chrono::{Datelike, NaiveTime};
use joren_app::AppError;
use joren_app::cases::CaseSettings;
use joren_core::business_hours::{Calendar, Hours, jp_holiday};

use super::super::{Checked, Chrome, Staff, UiError, UiResult, WebUser, render};
use crate::AppState;
use crate::i18n::{Lang, Tr};

pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("cs.title", "クレーム対応のルール", "Complaint rules"),
    (
        "cs.help",
        "一次対応の期限は、営業日の時間だけで数えます (定休日・祝日・臨時休業日は数えません)。営業時間外に届いたクレームは次の開店から数えます。",
        "The first-response deadline counts only business days (closed weekdays, public holidays and the shop's closed days do not count). A complaint after hours counts from the next opening.",
    ),
    ("cs.hours", "一次対応までの時間 (営業日で数える時間)", "Hours to the first response (counted on business days)"),
    ("cs.week", "営業時間 (空欄は定休日)", "Opening hours (empty: closed)"),
    ("cs.open", "開店", "Opens"),
    ("cs.close", "閉店", "Closes"),
    ("cs.holidays", "祝日は休業", "Closed on public holidays"),
    ("cs.closed_days", "臨時休業日 (1行に1日、例: 2026-12-31)", "The shop's closed days (one a line, e.g. 2026-12-31)"),
    ("cs.this_year", "今年の祝日", "This year's public holidays"),
    ("cs.save", "保存", "Save"),
    ("cs.saved", "保存しました", "Saved"),
    ("cs.bad_time", "時刻は 10:00 のように入力してください", "Write a time like 10:00"),
];

#[derive(Template)]
#[template(path = "case_settings.html")]
struct SettingsPage {
    c: Chrome,
    hours: String,
    /// (weekday name, open, close, error).
    week: Vec<(&'static str, String, String, String)>,
    holidays: bool,
    closed_days: String,
    errors: std::collections::HashMap<String, String>,
    this_year: Vec<(String, &'static str)>,
    saved: bool,
}

fn names(t: Tr) -> [&'static str; 7] {
    if t.0 == Lang::En {
        ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
    } else {
        ["月曜日", "火曜日", "水曜日", "木曜日", "金曜日", "土曜日", "日曜日"]
    }
}

fn page(s: &AppState, t: Tr, user: &WebUser, x: &CaseSettings) -> SettingsPage {
    let week = names(t)
        .iter()
        .zip(x.calendar.week.iter())
        .map(|(n, h)| {
            let f = |v: Option<NaiveTime>| v.map(|v| v.format("%H:%M").to_string()).unwrap_or_default();
            (*n, f(h.map(|h| h.open)), f(h.map(|h| h.close)), String::new())
        })
        .collect();
    let year = s.app.today_date().year();
    let mut this_year = Vec::new();
    let mut d = chrono::NaiveDate::from_ymd_opt(year, 1, 1).expect("1 January");
    while d.year() == year {
        if let Some(n) = jp_holiday(d) {
            this_year.push((t.date(d), n));
        }
        d = d.succ_opt().expect("a next day");
    }
    SettingsPage {
        c: Chrome::new(t, user, "voice", "/settings/cases"),
        hours: x.first_response_hours.to_string(),
        week,
        holidays: x.calendar.closed_on_holidays,
        closed_days: x.calendar.closed_days.iter().map(|d| d.to_string()).collect::<Vec<_>>().join("\n"),
        errors: Default::default(),
        this_year,
        saved: false,
    }
}

/// `GET /settings/cases`
pub(crate) async fn settings_page(
    State(s): State<AppState>,
    Staff { user, t }: Staff,
    axum::extract::Query(q): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> UiResult {
    let x = s.app.case_settings().await.map_err(|e| UiError::from_app(t, e))?;
    let mut p = page(&s, t, &user, &x);
    p.saved = q.contains_key("saved");
    Ok(render(&p))
}

/// `POST /settings/cases`: the form as typed; times and dates that do not read come back
/// beside their field.
pub(crate) async fn save_settings(
    State(s): State<AppState>,
    Checked { user, t, form }: Checked<Vec<(String, String)>>,
) -> UiResult {
    let get = |k: &str| form.iter().find(|(f, _)| f == k).map(|(_, v)| v.trim().to_string()).unwrap_or_default();
    let mut errors = std::collections::HashMap::new();
    let mut week = [None; 7];
    let mut typed = Vec::new();
    for (i, slot) in week.iter_mut().enumerate() {
        let (open, close) = (get(&format!("open{i}")), get(&format!("close{i}")));
        let read = |v: &str| joren_core::scenario::parse_time_of_day(&joren_core::text::half_width(v));
        match (open.is_empty() && close.is_empty(), read(&open), read(&close)) {
            (true, _, _) => {}
            (false, Some(o), Some(c)) if o < c => *slot = Some(Hours { open: o, close: c }),
            _ => {
                errors.insert(format!("day{i}"), t.t("cs.bad_time").to_string());
            }
        }
        typed.push((open, close));
    }
    let mut closed_days = Vec::new();
    for line in get("closed_days").lines().map(str::trim).filter(|l| !l.is_empty()) {
        match joren_core::dates::parse_date("closed_days", line) {
            Ok(d) => closed_days.push(d),
            Err(e) => {
                errors.insert("closed_days".into(), crate::i18n::errors::field_error(&e, t.0));
            }
        }
    }
    let hours = joren_core::text::parse_int(&get("hours")).unwrap_or(-1);
    let x = CaseSettings {
        first_response_hours: u32::try_from(hours).unwrap_or(0),
        calendar: Calendar { week, closed_on_holidays: get("holidays") == "1", closed_days },
    };
    let saved = if errors.is_empty() { Some(s.app.save_case_settings(&user.actor, &x).await) } else { None };
    match saved {
        Some(Ok(_)) => return Ok(Redirect::to("/settings/cases?saved=1").into_response()),
        Some(Err(AppError::Validation(v))) => {
            for e in v.0 {
                let field = if e.field == "calendar" { "day0".to_string() } else { e.field.clone() };
                errors.insert(field, crate::i18n::errors::field_error(&e, t.0));
            }
        }
        Some(Err(e)) => return Err(UiError::from_app(t, e)),
        None => {}
    }
    let mut p = page(&s, t, &user, &x);
    for (i, (open, close)) in typed.into_iter().enumerate() {
        p.week[i].1 = open;
        p.week[i].2 = close;
        p.week[i].3 = errors.get(&format!("day{i}")).cloned().unwrap_or_default();
    }
    p.hours = get("hours");
    p.closed_days = get("closed_days");
    p.errors = errors;
    Ok((StatusCode::UNPROCESSABLE_ENTITY, render(&p)).into_response())
}
