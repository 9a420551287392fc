//! Customer-success stages in the pages: the funnel (`/stages`: customers per stage and the
//! days spent in each) and the customer page's stage with a form to set it by hand or hand it
//! back to the rules.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use joren_core::success::Stage;

use super::{Checked, Chrome, Staff, UiError, UiResult, render};
use crate::AppState;
use crate::i18n::Tr;

pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("stage.title", "顧客の段階 (カスタマーサクセス)", "Customer success stages"),
    (
        "stage.help",
        "導入 → 定着 → 成果 → 拡大 → 推奨 の段階です。毎晩、購入とアンケートと紹介から判定します (成果はスタッフが記録します)。手で設定した段階はそのまま残ります。",
        "Onboarding → adoption → value → expansion → advocacy. Set every night from orders, answers and referrals (value is noted by staff); a stage set by hand stays.",
    ),
    ("stage.onboarding", "導入 (初回利用)", "Onboarding (first use)"),
    ("stage.adoption", "定着 (90日に3回以上)", "Adoption (3+ orders in 90 days)"),
    ("stage.value_realisation", "成果 (効果を実感)", "Value realised (results noted)"),
    ("stage.expansion", "拡大 (利用額が1.5倍)", "Expansion (spending up 1.5×)"),
    ("stage.advocacy", "推奨 (推奨者・紹介)", "Advocacy (promoter, referrals)"),
    ("stage.customers", "人数", "Customers"),
    ("stage.days_left", "次の段階までの平均日数", "Mean days before moving on"),
    ("stage.days_now", "今の段階での平均日数", "Mean days in it now"),
    ("stage.none", "段階なし", "No stage"),
    ("stage.by_staff", "手動で設定", "Set by hand"),
    ("stage.by_rules", "ルールで判定", "By the rules"),
    ("stage.since", "から", "since"),
    ("stage.set", "段階を設定", "Set the stage"),
    ("stage.auto", "ルールに任せる", "Leave it to the rules"),
    ("stage.save", "保存", "Save"),
];

#[derive(Template)]
#[template(path = "stages.html")]
struct FunnelPage {
    c: Chrome,
    rows: Vec<(&'static str, u64, String, String)>,
    chart: String,
}

/// `GET /stages`: the funnel.
pub(super) async fn funnel(State(s): State<AppState>, Staff { user, t }: Staff) -> UiResult {
    let f = s.app.stage_funnel().await.map_err(|e| UiError::from_app(t, e))?;
    let days = |d: Option<f64>| d.map(|x| format!("{x:.0}")).unwrap_or_else(|| "–".into());
    let bars: Vec<(String, f64, String)> = f
        .iter()
        .map(|x| (t.t(&format!("stage.{}", x.stage)).to_string(), x.customers as f64, x.customers.to_string()))
        .collect();
    let chart = super::chart::bars("stage-funnel", t.t("stage.title"), &bars, "#27ae60");
    let rows = f
        .iter()
        .map(|x| (t.t(&format!("stage.{}", x.stage)), x.customers, days(x.mean_days_left), days(x.mean_days_now)))
        .collect();
    Ok(render(&FunnelPage { c: Chrome::new(t, &user, "voice", "/stages"), rows, chart }))
}

/// The customer page's stage line: (words, set by staff, since).
pub(crate) fn describe(
    s: &AppState,
    t: Tr,
    stage: Option<&joren_app::stages::CustomerStage>,
) -> (String, String, String) {
    match stage {
        Some(x) => (
            x.stage.clone(),
            t.t(&format!("stage.{}", x.stage)).to_string(),
            format!(
                "{} {} · {}",
                s.app.local_time(joren_app::from_ms(x.since_ms)),
                t.t("stage.since"),
                t.t(if x.by_staff { "stage.by_staff" } else { "stage.by_rules" })
            ),
        ),
        None => (String::new(), t.t("stage.none").to_string(), String::new()),
    }
}

/// The stages to choose from: (code, words).
pub(crate) fn choices(t: Tr) -> Vec<(&'static str, &'static str)> {
    Stage::ALL.iter().map(|s| (s.as_str(), t.t(&format!("stage.{}", s.as_str())))).collect()
}

#[derive(serde::Deserialize)]
pub(super) struct SetForm {
    #[serde(default)]
    stage: String,
}

/// `POST /customers/{id}/stage`: a stage by hand, or back to the rules (empty).
pub(super) async fn set(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form }: Checked<SetForm>,
) -> UiResult {
    let stage = Stage::parse(&form.stage);
    s.app.set_customer_stage(&user.actor, id, stage).await.map_err(|e| UiError::from_app(t, e))?;
    Ok(Redirect::to(&format!("/customers/{id}#stage")).into_response())
}
