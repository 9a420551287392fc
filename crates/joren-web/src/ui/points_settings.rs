//! The points settings page (owners): the whole programme in one form — earn rule, expiry,
//! campaigns, ranks, bonuses — previewed on an example order without saving, read as typed in
//! Japan, and kept as typed with every problem named when refused.

use std::collections::HashMap;

use askama::Template;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect};
use joren_app::AppError;
use joren_app::points::PreviewInput;
use joren_core::points::{EarnRule, ExpiryPolicy, Rounding, ShortfallPolicy, TaxBase};
use joren_core::programme::{BirthdayBonus, BirthdayTiming, Campaign, Programme};
use joren_core::rank::{RankMeasure, RankRules, RankWindow, Tier};

use super::form_state::FormState;
use super::{Checked, Chrome, Staff, UiError, UiResult, render, say_fields};
use crate::AppState;

#[derive(Default)]
pub(super) struct CampaignRow {
    pub name: String,
    pub from: String,
    pub to: String,
    pub multiplier: String,
    pub category: String,
    /// The segment code ("" = everyone).
    pub segment: String,
    /// The lowest rank level it is for ("" = everyone).
    pub min_rank: String,
}

#[derive(Template)]
#[template(path = "points_settings.html")]
pub(super) struct SettingsPage {
    c: Chrome,
    p: Programme,
    expiry_kind: &'static str,
    months: u32,
    end_of_month: bool,
    fiscal_month: u32,
    fiscal_day: u32,
    min_months: u32,
    campaigns: Vec<CampaignRow>,
    /// RFM segments a campaign can be for: (code, name).
    segments: Vec<(&'static str, &'static str)>,
    tiers: Vec<TierRow>,
    rank_window: &'static str,
    rank_months: u32,
    can_edit: bool,
    preview_total: String,
    preview_multiplier: String,
    /// The tier level the preview is for ("" = the multiplier typed in).
    preview_rank: String,
    preview_category: String,
    /// The RFM segment code the preview is for ("" = none).
    preview_segment: String,
    preview: Option<PreviewView>,
    flash: Option<String>,
    error: Option<String>,
    /// The form as it was typed, when it came back refused (field → value).
    typed: HashMap<String, String>,
    /// Each refused field's problem, by the form field's name, shown beside it.
    fe: FormState,
}

impl SettingsPage {
    /// The value of form field `key` as typed (when the form came back refused), else as stored.
    fn typed(&self, key: &str, stored: impl std::fmt::Display) -> String {
        self.typed.get(key).cloned().unwrap_or_else(|| stored.to_string())
    }

    /// Shows the form as it was typed: every value, the campaign and rank rows too.
    fn keep_typed(&mut self, f: &HashMap<String, String>) {
        let get = |k: String| f.get(&k).cloned().unwrap_or_default();
        let mut campaigns: Vec<CampaignRow> = (0..)
            .take_while(|i| f.contains_key(&format!("campaign_name_{i}")))
            .map(|i| CampaignRow {
                name: get(format!("campaign_name_{i}")),
                from: get(format!("campaign_from_{i}")),
                to: get(format!("campaign_to_{i}")),
                multiplier: get(format!("campaign_multiplier_{i}")),
                category: get(format!("campaign_category_{i}")),
                segment: get(format!("campaign_segment_{i}")),
                min_rank: get(format!("campaign_min_rank_{i}")),
            })
            .collect();
        if campaigns.last().is_none_or(|c| !c.name.trim().is_empty()) {
            campaigns.push(CampaignRow { multiplier: "200".into(), ..CampaignRow::default() });
        }
        self.campaigns = campaigns;
        let mut tiers: Vec<TierRow> = (0..)
            .take_while(|i| f.contains_key(&format!("tier_name_{i}")))
            .map(|i| TierRow {
                name: get(format!("tier_name_{i}")),
                threshold: get(format!("tier_threshold_{i}")),
                multiplier: get(format!("tier_multiplier_{i}")),
            })
            .collect();
        if tiers.last().is_none_or(|x| !x.name.trim().is_empty()) {
            tiers.push(TierRow { name: String::new(), threshold: String::new(), multiplier: "100".into() });
        }
        self.tiers = tiers;
        let fields = [
            ("preview_total", &mut self.preview_total),
            ("preview_multiplier", &mut self.preview_multiplier),
            ("preview_category", &mut self.preview_category),
            ("preview_rank", &mut self.preview_rank),
            ("preview_segment", &mut self.preview_segment),
        ];
        for (k, field) in fields {
            if let Some(v) = f.get(k) {
                field.clone_from(v);
            }
        }
        self.typed = f.clone();
    }
}

pub(super) struct TierRow {
    pub name: String,
    pub threshold: String,
    pub multiplier: String,
}

pub(super) struct PreviewView {
    /// The tier the preview was for, if one was chosen.
    pub rank: Option<String>,
    pub total: i64,
    pub base: i64,
    pub campaign: i64,
    pub bonus: i64,
    pub amount: String,
    pub multiplier: i64,
    pub available_on: String,
    pub expires_on: Option<String>,
}

fn settings_page(c: Chrome, p: Programme, can_edit: bool) -> SettingsPage {
    let (expiry_kind, months, end_of_month, fiscal_month, fiscal_day, min_months) = match p.expiry {
        ExpiryPolicy::Never => ("never", 12, false, 3, 31, 0),
        ExpiryPolicy::FixedTerm { months, end_of_month } => ("fixed_term", months, end_of_month, 3, 31, 0),
        ExpiryPolicy::ExtendedByActivity { months } => ("extended", months, false, 3, 31, 0),
        ExpiryPolicy::FiscalDate { month, day, min_months } => ("fiscal", 12, false, month, day, min_months),
        ExpiryPolicy::Until { .. } => ("never", 12, false, 3, 31, 0),
    };
    let campaigns = p
        .campaigns
        .iter()
        .map(|x| CampaignRow {
            name: x.name.clone(),
            from: x.from.to_string(),
            to: x.to.to_string(),
            multiplier: x.multiplier_percent.to_string(),
            category: x.category.clone().unwrap_or_default(),
            segment: x.segment.clone().unwrap_or_default(),
            min_rank: x.min_rank.map(|l| l.to_string()).unwrap_or_default(),
        })
        .chain(std::iter::once(CampaignRow {
            name: String::new(),
            from: String::new(),
            to: String::new(),
            multiplier: "200".into(),
            category: String::new(),
            segment: String::new(),
            min_rank: String::new(),
        }))
        .collect();
    let tiers = p
        .ranks
        .tiers
        .iter()
        .map(|t| TierRow {
            name: t.name.clone(),
            threshold: t.threshold.to_string(),
            multiplier: t.points_multiplier_percent.to_string(),
        })
        .chain(std::iter::once(TierRow { name: String::new(), threshold: String::new(), multiplier: "100".into() }))
        .collect();
    let (rank_window, rank_months) = match p.ranks.window {
        RankWindow::Rolling { months } => ("rolling", months),
        RankWindow::CalendarYear => ("calendar_year", 12),
    };
    let segments = joren_app::metrics::segment_choices(c.t.0 == crate::i18n::Lang::En);
    SettingsPage {
        c,
        p,
        segments,
        tiers,
        rank_window,
        rank_months,
        preview_rank: String::new(),
        expiry_kind,
        months,
        end_of_month,
        fiscal_month,
        fiscal_day,
        min_months,
        campaigns,
        can_edit,
        preview_total: "12800".into(),
        preview_multiplier: "100".into(),
        preview_category: String::new(),
        preview_segment: String::new(),
        preview: None,
        flash: None,
        error: None,
        typed: HashMap::new(),
        fe: FormState::default(),
    }
}

#[derive(serde::Deserialize, Default)]
pub(super) struct SettingsQuery {
    saved: Option<String>,
}

/// `GET /settings/points`.
pub(super) async fn settings(
    State(s): State<AppState>,
    Staff { user, t }: Staff,
    axum::extract::Query(q): axum::extract::Query<SettingsQuery>,
) -> UiResult {
    let p = s.app.points_programme().await.map_err(|e| UiError::from_app(t, e))?;
    let mut page =
        settings_page(Chrome::new(t, &user, "points", "/settings/points"), p, user.actor.role.can_manage_users());
    page.flash = q.saved.map(|_| t.t("points.saved").to_string());
    Ok(render(&page))
}

/// Reads the programme from the settings form as people in Japan type numbers (１００,
/// 1,000, ￥3,300) and dates (2026/12/1, 令和8年12月1日). Every unreadable value is named at
/// once, by the programme's own field path (so the page words it with its label: 付与ポイント,
/// キャンペーン1の終了日), and read as 0 so the rest is still checked. With it, the form rows the
/// programme's campaigns and tiers came from (rows left empty or ticked for deletion are not in
/// the programme, so its `campaigns[1]` may be the form's third row).
fn programme_from_form(f: &HashMap<String, String>) -> (Programme, joren_core::FieldErrors, FormRows) {
    let errors = std::cell::RefCell::new(joren_core::FieldErrors::default());
    let get = |k: &str| f.get(k).map(|v| v.trim()).unwrap_or_default();
    // (form field, the programme's field path)
    let num = |k: &str, field: &str| -> i64 { super::form_int(&mut errors.borrow_mut(), field, get(k)) };
    let small = |k: &str, field: &str| -> u32 {
        let v = num(k, field);
        u32::try_from(v).unwrap_or_else(|_| {
            errors.borrow_mut().push(field, joren_core::Code::Range).with(0).with(u32::MAX);
            0
        })
    };
    let expiry = match get("expiry_kind") {
        "never" => ExpiryPolicy::Never,
        "extended" => ExpiryPolicy::ExtendedByActivity { months: small("expiry_months", "expiry.months") },
        "fiscal" => ExpiryPolicy::FiscalDate {
            month: small("fiscal_month", "expiry.month"),
            day: small("fiscal_day", "expiry.day"),
            min_months: small("min_months", "expiry.min_months"),
        },
        _ => ExpiryPolicy::FixedTerm {
            months: small("expiry_months", "expiry.months"),
            end_of_month: f.contains_key("end_of_month"),
        },
    };
    let mut campaigns = Vec::new();
    let mut rows = FormRows::default();
    for i in 0.. {
        let Some(name) = f.get(&format!("campaign_name_{i}")) else { break };
        if name.trim().is_empty() || f.contains_key(&format!("campaign_delete_{i}")) {
            continue;
        }
        let n = campaigns.len();
        rows.campaigns.push(i);
        let date = |k: String, field: String| -> chrono::NaiveDate {
            joren_core::dates::parse_date(&field, get(&k)).unwrap_or_else(|e| {
                errors.borrow_mut().0.push(e);
                chrono::NaiveDate::default()
            })
        };
        let category = get(&format!("campaign_category_{i}"));
        let segment = get(&format!("campaign_segment_{i}"));
        let min_rank = get(&format!("campaign_min_rank_{i}"));
        campaigns.push(Campaign {
            name: name.trim().to_string(),
            from: date(format!("campaign_from_{i}"), format!("campaigns[{n}].from")),
            to: date(format!("campaign_to_{i}"), format!("campaigns[{n}].to")),
            multiplier_percent: num(&format!("campaign_multiplier_{i}"), &format!("campaigns[{n}].multiplier_percent")),
            category: (!category.is_empty()).then(|| category.to_string()),
            segment: (!segment.is_empty()).then(|| segment.to_string()),
            min_rank: (!min_rank.is_empty())
                .then(|| num(&format!("campaign_min_rank_{i}"), &format!("campaigns[{n}].min_rank")))
                .map(|l| usize::try_from(l).unwrap_or(usize::MAX)),
        });
    }
    let programme = Programme {
        enabled: f.contains_key("enabled"),
        earn: EarnRule {
            points: num("earn_points", "earn.points"),
            per_yen: num("earn_per_yen", "earn.per_yen"),
            base: if get("earn_base") == "exclusive" { TaxBase::Exclusive } else { TaxBase::Inclusive },
            rounding: match get("rounding") {
                "half_up" => Rounding::HalfUp,
                "ceil" => Rounding::Ceil,
                _ => Rounding::Floor,
            },
        },
        expiry,
        pending_days: small("pending_days", "pending_days"),
        shortfall: if get("shortfall") == "record_debt" {
            ShortfallPolicy::RecordDebt
        } else {
            ShortfallPolicy::DeductOtherLots
        },
        first_purchase_bonus: num("first_purchase_bonus", "first_purchase_bonus"),
        survey_bonus: if get("survey_bonus").is_empty() { 0 } else { num("survey_bonus", "survey_bonus") },
        birthday_bonus: BirthdayBonus {
            points: num("birthday_bonus_points", "birthday_bonus.points"),
            timing: if get("birthday_bonus_timing") == "month" { BirthdayTiming::Month } else { BirthdayTiming::Day },
        },
        campaigns,
        reservation_minutes: small("reservation_minutes", "reservation_minutes"),
        ranks: ranks_from_form(f, &num, &small, &mut rows.tiers),
    };
    (programme, errors.into_inner(), rows)
}

/// Which form row each of the programme's campaigns and tiers was read from.
#[derive(Default)]
struct FormRows {
    campaigns: Vec<usize>,
    tiers: Vec<usize>,
}

/// The form field a programme field path was read from (`campaigns[1].to` → `campaign_to_2`
/// when the form's second row was left empty), if one field is to blame.
fn form_field(path: &str, rows: &FormRows) -> Option<String> {
    const FIXED: [(&str, &str); 14] = [
        ("earn.points", "earn_points"),
        ("earn.per_yen", "earn_per_yen"),
        ("expiry.months", "expiry_months"),
        ("expiry.month", "fiscal_month"),
        ("expiry.day", "fiscal_day"),
        ("expiry.min_months", "min_months"),
        ("pending_days", "pending_days"),
        ("first_purchase_bonus", "first_purchase_bonus"),
        ("birthday_bonus.points", "birthday_bonus_points"),
        ("survey_bonus", "survey_bonus"),
        ("reservation_minutes", "reservation_minutes"),
        ("ranks.window.months", "rank_months"),
        ("ranks.grace_reviews", "rank_grace"),
        ("ranks.tiers", "tiers"),
    ];
    if let Some((_, name)) = FIXED.iter().find(|(p, _)| *p == path) {
        return Some((*name).to_string());
    }
    let row = |rest: &str, rows: &[usize]| -> Option<(usize, String)> {
        let (n, field) = rest.split_once("].")?;
        Some((*rows.get(n.parse::<usize>().ok()?)?, field.to_string()))
    };
    if let Some(rest) = path.strip_prefix("campaigns[") {
        let (i, field) = row(rest, &rows.campaigns)?;
        let field = if field == "multiplier_percent" { "multiplier" } else { field.as_str() };
        return Some(format!("campaign_{field}_{i}"));
    }
    let (i, field) = row(path.strip_prefix("ranks.tiers[")?, &rows.tiers)?;
    let field = if field == "points_multiplier_percent" { "multiplier" } else { field.as_str() };
    Some(format!("tier_{field}_{i}"))
}

/// The rank section of the settings form (tier rows `tier_*_N`; a row with an empty name or
/// ticked for deletion is left out).
fn ranks_from_form(
    f: &HashMap<String, String>,
    num: &dyn Fn(&str, &str) -> i64,
    small: &dyn Fn(&str, &str) -> u32,
    rows: &mut Vec<usize>,
) -> RankRules {
    let get = |k: &str| f.get(k).map(|v| v.trim()).unwrap_or_default();
    let mut tiers = Vec::new();
    for i in 0.. {
        let Some(name) = f.get(&format!("tier_name_{i}")) else { break };
        if name.trim().is_empty() || f.contains_key(&format!("tier_delete_{i}")) {
            continue;
        }
        let n = tiers.len();
        rows.push(i);
        tiers.push(Tier {
            name: name.trim().to_string(),
            threshold: num(&format!("tier_threshold_{i}"), &format!("ranks.tiers[{n}].threshold")),
            points_multiplier_percent: num(
                &format!("tier_multiplier_{i}"),
                &format!("ranks.tiers[{n}].points_multiplier_percent"),
            ),
        });
    }
    RankRules {
        enabled: f.contains_key("ranks_enabled"),
        measure: RankMeasure::parse(get("rank_measure")).unwrap_or(RankMeasure::Spend),
        window: match get("rank_window") {
            "calendar_year" => RankWindow::CalendarYear,
            _ => RankWindow::Rolling { months: small("rank_months", "ranks.window.months") },
        },
        tiers,
        grace_reviews: small("rank_grace", "ranks.grace_reviews"),
        step_down_one: f.contains_key("rank_step_down_one"),
    }
}

/// The settings page refused: the form as it was typed, every problem named at once above the
/// form (it is long) and again beside its field.
fn refused_page(
    chrome: Chrome,
    programme: Programme,
    can_edit: bool,
    f: &HashMap<String, String>,
    rows: &FormRows,
    errors: &[joren_core::FieldError],
) -> SettingsPage {
    let t = chrome.t;
    let mut page = settings_page(chrome, programme, can_edit);
    page.keep_typed(f);
    page.error = Some(say_fields(t, errors));
    for e in errors {
        if let Some(field) = form_field(&e.field, rows) {
            let said = crate::i18n::errors::field_error(e, t.0);
            page.fe.errors.entry(field).or_insert(said);
        }
    }
    page
}

/// `POST /settings/points`: `action=preview` shows what an order would earn under the form's
/// settings without saving; otherwise the owner saves them.
pub(super) async fn save_settings(
    State(s): State<AppState>,
    Checked { user, t, form: f }: Checked<HashMap<String, String>>,
) -> UiResult {
    let chrome = || Chrome::new(t, &user, "points", "/settings/points");
    let can_edit = user.actor.role.can_manage_users();
    let (programme, unreadable, rows) = programme_from_form(&f);
    if let Err(e) = super::all_errors(unreadable, programme.validate()) {
        let page = refused_page(chrome(), programme, can_edit, &f, &rows, &e.0);
        return Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response());
    }
    if f.get("action").map(String::as_str) == Some("preview") {
        let mut page = settings_page(chrome(), programme.clone(), can_edit);
        page.preview_total = f.get("preview_total").cloned().unwrap_or_default();
        page.preview_multiplier = f.get("preview_multiplier").cloned().unwrap_or_else(|| "100".into());
        page.preview_category = f.get("preview_category").cloned().unwrap_or_default();
        page.preview_rank = f.get("preview_rank").cloned().unwrap_or_default();
        page.preview_segment = f.get("preview_segment").cloned().unwrap_or_default();
        let total = joren_core::text::parse_int(&page.preview_total);
        let tier = page.preview_rank.parse::<usize>().ok().and_then(|l| programme.ranks.tiers.get(l));
        let multiplier = match tier {
            Some(t) => Some(t.points_multiplier_percent),
            None => joren_core::text::parse_int(&page.preview_multiplier),
        };
        match (total, multiplier) {
            (Some(total), Some(multiplier)) if total >= 0 && (1..=10_000).contains(&multiplier) => {
                let category = page.preview_category.trim();
                let input = PreviewInput {
                    total,
                    tax: 0,
                    category: (!category.is_empty()).then(|| category.to_string()),
                    on: None,
                    rank_multiplier_percent: multiplier,
                    rank_level: page.preview_rank.parse().unwrap_or(0),
                    segment: (!page.preview_segment.is_empty()).then(|| page.preview_segment.clone()),
                    first_order: f.contains_key("preview_first"),
                };
                let p = s.app.preview_points(&programme, &input);
                page.preview = Some(PreviewView {
                    rank: tier.map(|t| t.name.clone()),
                    total: p.total,
                    base: p.earned.base,
                    campaign: p.earned.campaign,
                    bonus: p.earned.bonus,
                    amount: joren_core::money::format_amount(total, "JPY"),
                    multiplier,
                    available_on: p.available_on.to_string(),
                    expires_on: p.expires_on.map(|d| d.to_string()),
                });
            }
            _ => page.error = Some(t.t("points.preview_bad").to_string()),
        }
        return Ok(render(&page));
    }
    match s.app.set_points_programme(&user.actor, programme.clone()).await {
        Ok(()) => Ok(Redirect::to("/settings/points?saved=1").into_response()),
        Err(AppError::Validation(e)) => {
            let page = refused_page(chrome(), programme, can_edit, &f, &rows, &e.0);
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, render(&page)).into_response())
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}
