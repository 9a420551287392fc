//! The referral programme in the pages: `/referrals` (the counts, whether promoters refer, the
//! customers who refer most, every referral by status, and the owner's settings form) and the
//! customer page's panel (the customer's code and link, who referred them, whom they referred,
//! and a form to record the code a new customer brought).

use askama::Template;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Redirect};
use joren_app::AppError;
use joren_app::referrals::{Referral, ReferralFilter};
use joren_core::money::group_digits;
use joren_core::referral::ReferralSettings;
use serde::Deserialize;

use super::form_state::RowForm;
use super::{Checked, Chrome, Staff, UiError, UiResult, WebUser, render};
use crate::AppState;
use crate::i18n::Tr;

pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("rf.title", "紹介プログラム", "Referral programme"),
    (
        "rf.help",
        "お客様ごとの紹介コードとリンクで新しいお客様を紹介していただき、紹介されたお客様の初回のご購入で双方にポイントを差し上げます。その注文がキャンセル・全額返金されるとポイントは取り消されます。",
        "Each customer has a code and a link to refer new customers; the new customer's first order earns both of them points. If that order is cancelled or wholly refunded, the points are taken back.",
    ),
    ("rf.code", "紹介コード", "Referral code"),
    ("rf.link", "紹介リンク", "Referral link"),
    ("rf.referred_by", "紹介者", "Referred by"),
    ("rf.referred", "紹介したお客様", "Customers they referred"),
    ("rf.none", "まだ紹介はありません", "No referrals yet"),
    ("rf.record", "紹介コードを記録", "Record a referral code"),
    (
        "rf.record_help",
        "この方が紹介で来店された場合、紹介者のコードを入力してください (まだご購入のないお客様のみ)。",
        "If this customer came by a referral, enter the referrer's code (only before their first order).",
    ),
    ("rf.record_save", "記録する", "Record"),
    ("rf.off", "紹介プログラムは停止中です", "The referral programme is off"),
    ("rf.status.pending", "初回購入待ち", "Waiting for a first order"),
    ("rf.status.rewarded", "ポイント付与済み", "Rewarded"),
    ("rf.status.reversed", "取り消し", "Taken back"),
    ("rf.via.page", "紹介ページから登録", "Signed up on the link"),
    ("rf.via.staff", "スタッフが記録", "Recorded by staff"),
    ("rf.via.api", "API", "API"),
    (
        "rf.over_limit",
        "紹介者は今月の上限に達していたため、紹介者へのポイントはありません",
        "The referrer had reached this month's limit: no points for them",
    ),
    ("rf.pending", "初回購入待ち", "Waiting"),
    ("rf.rewarded", "付与済み", "Rewarded"),
    ("rf.reversed", "取り消し", "Taken back"),
    ("rf.last_30", "直近30日の紹介", "Referred in the last 30 days"),
    ("rf.nps", "推奨者は実際に紹介しているか", "Do promoters actually refer?"),
    ("rf.nps.promoter", "推奨者 (9–10)", "Promoters (9–10)"),
    ("rf.nps.passive", "中立者 (7–8)", "Passives (7–8)"),
    ("rf.nps.detractor", "批判者 (0–6)", "Detractors (0–6)"),
    ("rf.nps.none", "NPS 未回答", "No NPS answer"),
    ("rf.customers", "人数", "Customers"),
    ("rf.referrers", "紹介した人", "Referred someone"),
    ("rf.referrals", "紹介数", "Referrals"),
    ("rf.rate", "紹介した割合", "Share who referred"),
    ("rf.top", "よく紹介してくださるお客様", "Customers who refer most"),
    ("rf.list", "紹介の一覧", "Referrals"),
    ("rf.state", "状態", "Status"),
    ("rf.all", "すべて", "All"),
    ("rf.when", "日時", "When"),
    ("rf.points", "ポイント (紹介者 / 新規)", "Points (referrer / new)"),
    ("rf.settings", "紹介の設定", "Referral settings"),
    ("rf.enabled", "紹介プログラムを使う", "Run the referral programme"),
    ("rf.referrer_points", "紹介者へのポイント", "Points for the referrer"),
    ("rf.referred_points", "紹介されたお客様へのポイント", "Points for the new customer"),
    (
        "rf.monthly_limit",
        "紹介者1人あたりの月間上限 (件、0 は上限なし)",
        "Most rewarded referrals per referrer a month (0: no limit)",
    ),
    ("rf.save", "保存", "Save"),
    ("rf.saved", "保存しました", "Saved"),
    ("rf.owner_only", "設定を変えられるのはオーナーだけです", "Only an owner can change the settings"),
    ("rf.not_a_number", "数字で入力してください", "Enter a number"),
];

/// A referral as a row: (customer id, name, status words, how, when, points).
pub(crate) struct Row {
    pub customer_id: i64,
    pub name: String,
    pub other_id: i64,
    pub other_name: String,
    pub status: String,
    pub status_words: &'static str,
    pub via: &'static str,
    pub when: String,
    pub points: String,
    pub over_limit: bool,
}

fn row(s: &AppState, t: Tr, r: &Referral, from_referrer: bool) -> Row {
    let (customer_id, name, other_id, other_name) = if from_referrer {
        (r.referrer_id, r.referrer_name.clone(), r.referred_id, r.referred_name.clone())
    } else {
        (r.referred_id, r.referred_name.clone(), r.referrer_id, r.referrer_name.clone())
    };
    Row {
        customer_id,
        name,
        other_id,
        other_name,
        status: r.status.clone(),
        status_words: t.t(&format!("rf.status.{}", r.status)),
        via: t.t(&format!("rf.via.{}", r.via)),
        when: s.app.local_time(joren_app::from_ms(r.rewarded_at_ms.unwrap_or(r.created_at_ms))),
        points: if r.status == "pending" {
            String::new()
        } else {
            format!("{} / {} pt", group_digits(r.referrer_points), group_digits(r.referred_points))
        },
        over_limit: r.over_limit,
    }
}

/// The customer page's referral panel.
pub(crate) struct ReferralPanel {
    pub enabled: bool,
    pub code: String,
    pub link: String,
    /// Who referred them (the referrer's side of the row).
    pub referred_by: Option<Row>,
    /// Whom they referred (the new customer's side).
    pub referred: Vec<Row>,
    /// The record form is offered: on, not referred, no order yet.
    pub can_record: bool,
}

pub(crate) async fn panel(s: &AppState, t: Tr, id: i64) -> joren_app::Result<ReferralPanel> {
    let x = s.app.customer_referrals(id).await?;
    let enabled = s.app.referral_settings().await?.enabled;
    Ok(ReferralPanel {
        enabled,
        can_record: enabled && x.can_be_referred,
        referred_by: x.referred_by.as_ref().map(|r| row(s, t, r, true)),
        referred: x.referred.iter().map(|r| row(s, t, r, false)).collect(),
        code: x.code,
        link: x.link,
    })
}

#[derive(Deserialize)]
pub(super) struct RecordForm {
    #[serde(default)]
    code: String,
}

/// `POST /customers/{id}/referral`: the code a new customer brought. Refused (unknown code,
/// themselves, bought already, referred already, programme off), the panel comes back with
/// the code as typed and why.
pub(super) async fn record(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form }: Checked<RecordForm>,
) -> UiResult {
    match s.app.record_referral(&user.actor, &form.code, id, "staff").await {
        Ok(_) => Ok(Redirect::to(&format!("/customers/{id}#referral")).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            let form = RowForm::refused("referral", 0, [("code", form.code)], &e, t);
            super::customers::refused_row(&s, t, &user, id, form).await
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

#[derive(Template)]
#[template(path = "referrals.html")]
struct ReferralsPage {
    c: Chrome,
    report: joren_app::referrals::ReferralReport,
    /// (group words, customers, referrers, referrals, rate).
    by_nps: Vec<(&'static str, u64, u64, u64, String)>,
    chart: String,
    rows: Vec<Row>,
    total: i64,
    status: String,
    /// The settings form: as saved, or as typed when refused.
    form: SettingsForm,
    errors: std::collections::HashMap<String, String>,
    saved: bool,
    is_owner: bool,
}

#[derive(Deserialize, Default, Clone)]
pub(super) struct SettingsForm {
    #[serde(default)]
    enabled: String,
    #[serde(default)]
    referrer_points: String,
    #[serde(default)]
    referred_points: String,
    #[serde(default)]
    monthly_limit: String,
}

impl SettingsForm {
    fn of(x: &ReferralSettings) -> Self {
        Self {
            enabled: if x.enabled { "1".into() } else { String::new() },
            referrer_points: x.referrer_points.to_string(),
            referred_points: x.referred_points.to_string(),
            monthly_limit: x.monthly_limit.to_string(),
        }
    }
}

#[derive(Deserialize, Default)]
pub(super) struct ListQuery {
    #[serde(default)]
    status: String,
    #[serde(default)]
    saved: Option<String>,
}

async fn page(
    s: &AppState,
    t: Tr,
    user: &WebUser,
    status: &str,
    form: Option<SettingsForm>,
) -> joren_app::Result<ReferralsPage> {
    let report = s.app.referral_report().await?;
    let filter = ReferralFilter {
        status: (!status.is_empty()).then(|| status.to_string()),
        limit: 200,
        ..ReferralFilter::default()
    };
    let (total, items) = s.app.list_referrals(&filter).await?;
    let by_nps: Vec<_> = report
        .by_nps
        .iter()
        .map(|g| {
            let rate = g.referrer_rate.map(|r| format!("{:.1}%", r * 100.0)).unwrap_or_else(|| "–".into());
            (t.t(&format!("rf.nps.{}", g.group)), g.customers, g.referrers, g.referrals, rate)
        })
        .collect();
    let bars: Vec<(String, f64, String)> = report
        .by_nps
        .iter()
        .zip(&by_nps)
        .map(|(g, (name, _, _, _, rate))| (name.to_string(), g.referrer_rate.unwrap_or(0.0) * 100.0, rate.clone()))
        .collect();
    let chart = super::chart::bars("referral-nps", t.t("rf.nps"), &bars, "#8e44ad");
    Ok(ReferralsPage {
        c: Chrome::new(t, user, "voice", "/referrals"),
        form: form.unwrap_or_else(|| SettingsForm::of(&report.settings)),
        report,
        by_nps,
        chart,
        rows: items.iter().map(|r| row(s, t, r, true)).collect(),
        total,
        status: status.to_string(),
        errors: Default::default(),
        saved: false,
        is_owner: user.actor.require_owner().is_ok(),
    })
}

impl ReferralsPage {
    /// The settings form's number fields: (name, as typed, problem).
    fn fields(&self) -> Vec<(&'static str, &str, &str)> {
        let f = &self.form;
        [
            ("referrer_points", f.referrer_points.as_str()),
            ("referred_points", f.referred_points.as_str()),
            ("monthly_limit", f.monthly_limit.as_str()),
        ]
        .into_iter()
        .map(|(k, v)| (k, v, self.errors.get(k).map_or("", String::as_str)))
        .collect()
    }
}

/// `GET /referrals`
pub(super) async fn list(State(s): State<AppState>, Staff { user, t }: Staff, Query(q): Query<ListQuery>) -> UiResult {
    let status =
        if ["pending", "rewarded", "reversed"].contains(&q.status.as_str()) { q.status } else { String::new() };
    let mut p = page(&s, t, &user, &status, None).await.map_err(|e| UiError::from_app(t, e))?;
    p.saved = q.saved.is_some();
    Ok(render(&p))
}

/// `POST /settings/referrals`: the owner's settings; numbers as typed (full-width digits,
/// `1,000`, `500pt` are read); a refused form comes back as typed with the problem beside
/// its field.
pub(super) async fn save_settings(
    State(s): State<AppState>,
    Checked { user, t, form }: Checked<SettingsForm>,
) -> UiResult {
    let mut errors = std::collections::HashMap::new();
    let mut num = |field: &str, v: &str| match joren_core::text::parse_int(v) {
        Some(n) => n,
        None => {
            errors.insert(field.to_string(), t.t("rf.not_a_number").to_string());
            0
        }
    };
    let x = ReferralSettings {
        enabled: form.enabled == "1",
        referrer_points: num("referrer_points", &form.referrer_points),
        referred_points: num("referred_points", &form.referred_points),
        monthly_limit: u32::try_from(num("monthly_limit", &form.monthly_limit)).unwrap_or(u32::MAX),
    };
    if errors.is_empty() {
        match s.app.save_referral_settings(&user.actor, &x).await {
            Ok(_) => return Ok(Redirect::to("/referrals?saved=1#settings").into_response()),
            Err(AppError::Validation(v)) => {
                for e in v.0 {
                    errors.insert(e.field.clone(), crate::i18n::errors::field_error(&e, t.0));
                }
            }
            Err(e) => return Err(UiError::from_app(t, e)),
        }
    }
    let mut p = page(&s, t, &user, "", Some(form)).await.map_err(|e| UiError::from_app(t, e))?;
    p.errors = errors;
    let mut r = render(&p);
    *r.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    Ok(r)
}
