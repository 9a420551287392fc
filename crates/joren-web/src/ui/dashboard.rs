//! The dashboard page: KPI tiles against the previous period, the repeat rate against the
//! shop's industry, the cohort heatmap, RFM segments, the CLV distribution (server-side SVG, no
//! scripts, works offline), KPIs by acquisition source and the churn-risk list.

use askama::Template;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Redirect};
use joren_app::dashboard::{self, Dashboard, INDUSTRIES};
use joren_core::money::format_amount;
use serde::Deserialize;

use super::{Checked, Chrome, Staff, UiError, UiResult, render};
use crate::AppState;
use crate::i18n::{Lang, Tr};

#[derive(Deserialize, Default)]
pub(super) struct PeriodQuery {
    start: Option<String>,
    end: Option<String>,
}

/// One KPI tile: value now, value in the previous period, and the change.
pub(super) struct Tile {
    label: &'static str,
    help: &'static str,
    value: String,
    previous: String,
    delta: String,
    /// `up`, `down` or empty, with `good` when the move is favourable.
    trend: &'static str,
}

pub(super) struct CohortRow {
    label: String,
    customers: u64,
    /// (share, cell style, whether the month is still running).
    cells: Vec<(String, String, bool)>,
    /// The cohort of the month still running (its customers are not all in yet).
    partial: bool,
}

pub(super) struct SourceRow {
    name: String,
    start: u64,
    end: u64,
    retention: String,
    repeat: String,
    aov: String,
}

/// A row of the owner's next-action rule editor (conditions as their form values).
pub(super) struct RuleRow {
    i: usize,
    segment: String,
    band: String,
    min_clv: String,
    ja: String,
    en: String,
}

pub(super) struct RiskRow {
    id: i64,
    name: String,
    score: i64,
    clv: String,
    next: String,
    segment: &'static str,
    action: String,
}

#[derive(Template)]
#[template(path = "dashboard.html")]
pub(super) struct DashboardPage {
    c: Chrome,
    start: String,
    end: String,
    previous: String,
    tiles: Vec<Tile>,
    repeat_rate: String,
    industry: Option<(&'static str, String)>,
    industry_verdict: &'static str,
    industries: Vec<(&'static str, &'static str, bool)>,
    is_owner: bool,
    can_write: bool,
    cohort_width: usize,
    cohorts: Vec<CohortRow>,
    /// Some cell counts a month still running.
    cohorts_running: bool,
    segments_svg: String,
    clv_svg: String,
    sources: Vec<SourceRow>,
    at_risk: Vec<RiskRow>,
    snapshot: Option<String>,
    /// When the KPIs and cohorts are a large shop's figures kept with the snapshot: its time.
    figures_as_of: Option<String>,
    not_fitted: Option<String>,
    model_words: Option<String>,
    validation_words: Option<String>,
    /// The next-action rules for the owner's editor, then one empty row to add a rule.
    rules: Vec<RuleRow>,
    /// RFM segment choices of the rule editor: (code, label).
    segment_choices: Vec<(&'static str, &'static str)>,
    /// Products bought together: (left, right, customers who bought both, confidence %, lift).
    pairs: Vec<(String, String, i64, String, String)>,
}

fn pct(v: Option<f64>) -> String {
    v.map(|v| format!("{v:.1}%")).unwrap_or_else(|| "—".into())
}

fn yen(v: Option<f64>) -> String {
    v.map(|v| format_amount(v.round() as i64, "JPY")).unwrap_or_else(|| "—".into())
}

/// A KPI tile; `higher_is_better` decides whether a rise is shown as good.
fn tile(
    label: &'static str,
    help: &'static str,
    now: Option<f64>,
    before: Option<f64>,
    show: fn(Option<f64>) -> String,
    higher_is_better: bool,
) -> Tile {
    let (delta, trend) = match (now, before) {
        (Some(a), Some(b)) if (a - b).abs() > 1e-9 => {
            let up = a > b;
            let good = up == higher_is_better;
            let d = if b.abs() > 1e-9 { format!("{:+.1}%", (a - b) / b.abs() * 100.0) } else { String::new() };
            (
                d,
                if up && good {
                    "up good"
                } else if up {
                    "up"
                } else if good {
                    "down good"
                } else {
                    "down"
                },
            )
        }
        _ => (String::new(), ""),
    };
    Tile { label, help, value: show(now), previous: show(before), delta, trend }
}

fn heat(share: f64) -> String {
    // From white to the accent colour.
    let a = share.clamp(0.0, 1.0);
    format!("background: rgba(140, 82, 45, {:.2}); color: {}", 0.08 + 0.8 * a, if a > 0.5 { "#fff" } else { "inherit" })
}

fn build(
    t: Tr,
    c: Chrome,
    d: Dashboard,
    rules: &[joren_app::next_action::Rule],
    pairs: Vec<joren_app::ProductAssociation>,
    role: joren_core::role::Role,
    local_time: &dyn Fn(chrono::DateTime<chrono::Utc>) -> String,
) -> DashboardPage {
    let (is_owner, can_write) = (role.can_manage_users(), role.can_write());
    let en = t.0 == Lang::En;
    let (k, p) = (&d.kpis, &d.previous_kpis);
    let count = |v: u64| Some(v as f64);
    let tiles = vec![
        tile("kpi.retention", "kpi.retention_help", k.retention_rate, p.retention_rate, pct, true),
        tile("kpi.churn", "kpi.churn_help", k.churn_rate, p.churn_rate, pct, false),
        tile("kpi.repeat", "kpi.repeat_help", k.repeat_rate, p.repeat_rate, pct, true),
        tile(
            "kpi.active",
            "kpi.active_help",
            count(k.end_customers),
            count(p.end_customers),
            |v| v.map(|v| format!("{v:.0}")).unwrap_or_default(),
            true,
        ),
        tile("kpi.aov", "kpi.aov_help", k.average_order_value, p.average_order_value, yen, true),
        tile("kpi.ltv", "kpi.ltv_help", k.simple_ltv, p.simple_ltv, yen, true),
    ];
    let industry = d
        .industry
        .as_deref()
        .and_then(dashboard::industry)
        .map(|i| (if en { i.2 } else { i.1 }, format!("{:.0}–{:.0}%", i.3, i.4)));
    let industry_verdict = match (d.industry.as_deref().and_then(dashboard::industry), k.repeat_rate) {
        (Some(i), Some(r)) if r < i.3 => "industry.below",
        (Some(i), Some(r)) if r > i.4 => "industry.above",
        (Some(_), Some(_)) => "industry.within",
        _ => "industry.choose",
    };
    let cohort_width = d.cohorts.iter().map(|r| r.active_share.len()).max().unwrap_or(0).min(12);
    // The period's last month is still running unless the period ends on its last day: its
    // column in each row, and its own cohort, are counts so far.
    let running = chrono::NaiveDate::parse_from_str(&d.period.label().1, "%Y-%m-%d")
        .ok()
        .filter(|e| e.succ_opt().is_some_and(|n| chrono::Datelike::month(&n) == chrono::Datelike::month(e)))
        .map(|e| e.format("%Y-%m").to_string());
    let cohorts = d
        .cohorts
        .iter()
        .map(|r| {
            let last = r.active_share.len().saturating_sub(1);
            CohortRow {
                label: r.label.clone(),
                customers: r.customers,
                partial: running.as_deref() == Some(r.label.as_str()),
                cells: r
                    .active_share
                    .iter()
                    .enumerate()
                    .take(cohort_width)
                    .map(|(k, s)| (format!("{:.0}%", s * 100.0), heat(*s), running.is_some() && k == last))
                    .collect(),
            }
        })
        .collect();
    let total_spend: i64 = d.segments.iter().map(|s| s.2).sum::<i64>().max(1);
    let total_customers: i64 = d.segments.iter().map(|s| s.1).sum::<i64>().max(1);
    let seg_rows: Vec<(String, f64, String)> = d
        .segments
        .iter()
        .map(|(code, n, spend)| {
            (
                joren_app::metrics::segment_label(code, en).to_string(),
                *n as f64,
                format!(
                    "{n} ({:.0}%) · {} {:.0}%",
                    *n as f64 / total_customers as f64 * 100.0,
                    if en { "revenue" } else { "売上" },
                    *spend as f64 / total_spend as f64 * 100.0
                ),
            )
        })
        .collect();
    let mut lower = 0i64;
    let clv_rows: Vec<(String, f64, String)> = d
        .clv_buckets
        .iter()
        .map(|(upper, n)| {
            let label = if *upper == i64::MAX {
                format!("{}〜", format_amount(lower, "JPY"))
            } else {
                format!("〜{}", format_amount(*upper, "JPY"))
            };
            lower = *upper;
            (label, *n as f64, n.to_string())
        })
        .collect();
    let sources = d
        .by_source
        .iter()
        .map(|(name, k)| SourceRow {
            name: t.t(&format!("source.{name}")).to_string(),
            start: k.start_customers,
            end: k.end_customers,
            retention: pct(k.retention_rate),
            repeat: pct(k.repeat_rate),
            aov: yen(k.average_order_value),
        })
        .collect();
    let at_risk = d
        .at_risk
        .iter()
        .map(|(m, name)| RiskRow {
            id: m.customer_id,
            name: name.clone(),
            score: m.churn_score.unwrap_or_default(),
            clv: yen(m.clv_12m),
            next: m.expected_next_purchase.clone().unwrap_or_default(),
            segment: joren_app::metrics::segment_label(&m.segment, en),
            action: joren_app::next_action::suggest(rules, m)
                .map(|a| if en { a.action_en } else { a.action_ja })
                .unwrap_or_default(),
        })
        .collect();
    let diag = d.snapshot.as_ref().map(|s| &s.diagnostics);
    let not_fitted = diag.and_then(|d| d.get("not_fitted")).and_then(|v| v.as_str()).map(str::to_string);
    let model_words = diag.and_then(|d| d.get("bgnbd")).map(|bg| {
        let r = bg["params"]["r"].as_f64().unwrap_or(0.0);
        let alpha = bg["params"]["alpha"].as_f64().unwrap_or(1.0);
        let a = bg["params"]["a"].as_f64().unwrap_or(0.0);
        let b = bg["params"]["b"].as_f64().unwrap_or(1.0);
        let days_between = alpha / r.max(1e-9);
        let leave = a / (a + b) * 100.0;
        if en {
            format!(
                "Fitted on {} repeat buyers: a typical customer buys about every {days_between:.0} days while they stay, \
                 and after each purchase about {leave:.0}% do not come back.",
                bg["repeaters"]
            )
        } else {
            format!(
                "リピーター {} 人のデータから推定: 平均的なお客様は来店を続けている間およそ {days_between:.0} 日に 1 回購入し、\
                 購入のたびに約 {leave:.0}% の方がそれきり離れていきます。",
                bg["repeaters"]
            )
        }
    });
    let validation_words = diag.and_then(|d| d.get("validation")).and_then(|v| {
        if v["checked"] != true {
            return None;
        }
        let (actual, predicted) = (v["actual"].as_u64()?, v["predicted"].as_f64()?);
        let error = v["error_percent"].as_f64();
        Some(if en {
            format!(
                "Check: fitted on the data up to {} days ago, the model expected {predicted:.0} repeat purchases in those days; \
                 customers made {actual}{}.",
                v["holdout_days"],
                error.map(|e| format!(" ({e:+.0}%)")).unwrap_or_default()
            )
        } else {
            format!(
                "検証: {} 日前までのデータで予測したところ、その後の再購入は予測 {predicted:.0} 回に対し実際は {actual} 回でした{}。",
                v["holdout_days"],
                error.map(|e| format!(" (予測の誤差 {e:+.0}%)")).unwrap_or_default()
            )
        })
    });
    let (start, end) = d.period.label();
    let (ps, pe) = d.previous.label();
    DashboardPage {
        c,
        start,
        end,
        previous: format!("{ps} 〜 {pe}"),
        tiles,
        repeat_rate: pct(k.repeat_rate),
        industry,
        industry_verdict,
        industries: INDUSTRIES
            .iter()
            .map(|i| (i.0, if en { i.2 } else { i.1 }, d.industry.as_deref() == Some(i.0)))
            .collect(),
        is_owner,
        can_write,
        cohort_width,
        cohorts_running: running.is_some() && !d.cohorts.is_empty(),
        cohorts,
        segments_svg: if seg_rows.is_empty() {
            String::new()
        } else {
            super::chart::bars("segment-bars", t.t("dash.segments"), &seg_rows, "#8c522d")
        },
        clv_svg: if clv_rows.iter().all(|r| r.1 == 0.0) {
            String::new()
        } else {
            super::chart::bars("clv-bars", t.t("dash.clv"), &clv_rows, "#3f6f8c")
        },
        sources,
        at_risk,
        snapshot: d.snapshot.as_ref().map(|s| local_time(s.computed_at)),
        figures_as_of: d.figures_as_of.map(local_time),
        not_fitted,
        model_words,
        validation_words,
        rules: rules
            .iter()
            .map(Some)
            .chain([None])
            .enumerate()
            .map(|(i, r)| RuleRow {
                i,
                segment: r.and_then(|r| r.segment.clone()).unwrap_or_default(),
                band: r.and_then(|r| r.churn_band.clone()).unwrap_or_default(),
                min_clv: r.and_then(|r| r.min_clv).map(|v| format!("{v:.0}")).unwrap_or_default(),
                ja: r.map(|r| r.action_ja.clone()).unwrap_or_default(),
                en: r.map(|r| r.action_en.clone()).unwrap_or_default(),
            })
            .collect(),
        segment_choices: joren_app::metrics::segment_choices(en),
        pairs: pairs
            .into_iter()
            .map(|a| {
                let share = format!("{:.0}%", a.confidence * 100.0);
                (a.antecedent_name, a.consequent_name, a.pair_count, share, format!("{:.1}", a.lift))
            })
            .collect(),
    }
}

pub(super) async fn page(
    State(s): State<AppState>,
    Staff { user, t }: Staff,
    Query(q): Query<PeriodQuery>,
) -> UiResult {
    let period = match (q.start.filter(|v| !v.is_empty()), q.end.filter(|v| !v.is_empty())) {
        (Some(a), Some(b)) => Some((a, b)),
        _ => None,
    };
    let d = s.app.dashboard(period).await.map_err(|e| UiError::from_app(t, e))?;
    let rules = s.app.next_action_rules().await.map_err(|e| UiError::from_app(t, e))?;
    let pairs = s.app.top_associations(10).await.map_err(|e| UiError::from_app(t, e))?;
    let c = Chrome::new(t, &user, "dashboard", "/dashboard");
    let role = user.actor.role;
    Ok(render(&build(t, c, d, &rules, pairs, role, &|at| s.app.local_time(at))))
}

/// Saves the next-action rules from the dashboard's editor. Per rule N (the existing ones,
/// then N = their count for a new one): `segment_N`, `churn_band_N` (empty = any),
/// `min_clv_N` (empty = none), `action_ja_N`, `action_en_N`, `order_N` (position, ties keep
/// the current order), `delete_N`. A field left out keeps the rule's current value; a new rule
/// without a Japanese action is not added. `reset` restores the defaults.
pub(super) async fn set_rules(
    State(s): State<AppState>,
    Checked { user, t, form: f }: Checked<std::collections::HashMap<String, String>>,
) -> UiResult {
    let rules = if f.contains_key("reset") {
        joren_app::next_action::default_rules()
    } else {
        let current = s.app.next_action_rules().await.map_err(|e| UiError::from_app(t, e))?;
        rules_from_form(&f, current).map_err(|e| UiError::from_app(t, e.into()))?
    };
    s.app.set_next_action_rules(&user.actor, rules).await.map_err(|e| UiError::from_app(t, e))?;
    Ok(Redirect::to("/dashboard#rules").into_response())
}

/// The rules the editor's form describes (see [`set_rules`]), in their new order.
fn rules_from_form(
    f: &std::collections::HashMap<String, String>,
    current: Vec<joren_app::next_action::Rule>,
) -> Result<Vec<joren_app::next_action::Rule>, joren_core::FieldError> {
    let value = |name: &str, i: usize| f.get(&format!("{name}_{i}")).map(|v| v.trim());
    let condition = |v: Option<&str>, was: Option<String>| match v {
        None => was,
        Some("") => None,
        Some(v) => Some(v.to_string()),
    };
    let new_index = current.len();
    let blank = joren_app::next_action::Rule {
        segment: None,
        churn_band: None,
        min_clv: None,
        action_ja: String::new(),
        action_en: String::new(),
    };
    let mut kept = Vec::new();
    for (i, rule) in current.into_iter().chain([blank]).enumerate() {
        if f.contains_key(&format!("delete_{i}")) {
            continue;
        }
        let action_ja = value("action_ja", i).map(str::to_string).unwrap_or(rule.action_ja);
        if i == new_index && action_ja.is_empty() {
            continue;
        }
        let min_clv = match value("min_clv", i) {
            None => rule.min_clv,
            Some("") => None,
            Some(v) => Some(
                v.replace([',', '¥', '￥'], "").parse::<f64>().ok().filter(|v| v.is_finite() && *v >= 0.0).ok_or_else(
                    || joren_core::FieldError::new(format!("rules[{i}].min_clv"), joren_core::Code::BadAmount).arg(v),
                )?,
            ),
        };
        let order = value("order", i).and_then(|v| v.parse::<f64>().ok()).unwrap_or((i + 1) as f64);
        let rule = joren_app::next_action::Rule {
            segment: condition(value("segment", i), rule.segment),
            churn_band: condition(value("churn_band", i), rule.churn_band),
            min_clv,
            action_ja,
            action_en: value("action_en", i).map(str::to_string).unwrap_or(rule.action_en),
        };
        kept.push((order, i, rule));
    }
    kept.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
    Ok(kept.into_iter().map(|(_, _, r)| r).collect())
}

#[derive(Deserialize)]
pub(super) struct IndustryForm {
    industry: String,
}

pub(super) async fn set_industry(
    State(s): State<AppState>,
    Checked { user, t, form: f }: Checked<IndustryForm>,
) -> UiResult {
    s.app.set_industry(&user.actor, &f.industry).await.map_err(|e| UiError::from_app(t, e))?;
    Ok(Redirect::to("/dashboard").into_response())
}
