//! Perk pages: the member perks on the customer page (what the customer may use, and why) and
//! `/perks` where the owner defines perks and their gates.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use joren_app::perks::{GateName, PerkCheck};
use joren_app::{App, AppError};
use joren_core::perk::{PerkInput, PerkKind};

use super::form_state::FormState;
use super::{Checked, Chrome, ErrorFlash, Staff, UiError, UiResult, back_with_error, render, say_fields};
use crate::AppState;
use crate::auth::WebUser;

/// A perk on the customer page: open or not, and why, in the reader's words.
pub(super) struct PerkLine {
    pub perk_id: i64,
    pub name: String,
    pub description: String,
    pub allowed: bool,
    pub because: String,
}

/// A gate in the reader's words.
pub(super) fn gate_words(t: crate::i18n::Tr, g: &GateName) -> String {
    let (key, name) = match g {
        GateName::Rank { tier } => ("perks.gate.rank", tier),
        GateName::Membership { plan } => ("perks.gate.plan", plan),
        GateName::Segment { segment } => ("perks.gate.segment", segment),
    };
    t.t(key).replace("{0}", name)
}

/// The member perks on the customer page.
pub(super) async fn panel(app: &App, id: i64, t: crate::i18n::Tr) -> Result<Vec<PerkLine>, AppError> {
    Ok(app
        .customer_perks(id)
        .await?
        .into_iter()
        .map(|p: PerkCheck| PerkLine {
            because: if p.allowed {
                p.met_gates.iter().map(|g| gate_words(t, g)).collect::<Vec<_>>().join("・")
            } else {
                let gates = p.missing_gates.iter().map(|g| gate_words(t, g)).collect::<Vec<_>>();
                format!("{} {}", t.t("perks.needs"), gates.join(t.t("perks.or")))
            },
            perk_id: p.perk_id,
            name: p.name,
            description: p.description,
            allowed: p.allowed,
        })
        .collect())
}

pub(super) fn kind_key(k: PerkKind) -> &'static str {
    match k {
        PerkKind::PriorityBooking => "perks.kind.priority_booking",
        PerkKind::LimitedProduct => "perks.kind.limited_product",
        PerkKind::Event => "perks.kind.event",
        PerkKind::Content => "perks.kind.content",
        PerkKind::Other => "perks.kind.other",
    }
}

pub(super) struct PerkRow {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub kind: &'static str,
    pub gates: Vec<String>,
    pub active: bool,
    /// The stored definition, for the form that ends the perk.
    pub kind_code: &'static str,
    pub rank: String,
    pub plan: String,
    pub segment: String,
}

#[derive(Template)]
#[template(path = "perks.html")]
pub(super) struct PerksPage {
    c: Chrome,
    perks: Vec<PerkRow>,
    kinds: Vec<(&'static str, &'static str)>,
    tiers: Vec<(usize, String)>,
    plans: Vec<(i64, String)>,
    segments: Vec<(i64, String)>,
    can_edit: bool,
    /// The new-perk form: as typed when it came back refused, each error beside its field.
    f: FormState,
    error: Option<String>,
}

/// `GET /perks`.
pub(super) async fn page(
    State(s): State<AppState>,
    ErrorFlash(error): ErrorFlash,
    Staff { user, t }: Staff,
) -> UiResult {
    perks_page(&s, t, &user, FormState::default(), error).await
}

async fn perks_page(s: &AppState, t: crate::i18n::Tr, user: &WebUser, f: FormState, error: Option<String>) -> UiResult {
    let err = |e| UiError::from_app(t, e);
    let ranks = s.app.points_programme().await.map_err(err)?.ranks;
    let tiers: Vec<(usize, String)> = ranks.tiers.iter().enumerate().map(|(i, x)| (i, x.name.clone())).collect();
    let plans: Vec<(i64, String)> =
        s.app.membership_plans().await.map_err(err)?.into_iter().map(|p| (p.id, p.name)).collect();
    let segments: Vec<(i64, String)> =
        s.app.saved_segments().await.map_err(err)?.into_iter().map(|x| (x.id, x.name)).collect();
    let name_of = |list: &[(i64, String)], id: i64| list.iter().find(|x| x.0 == id).map(|x| x.1.clone());
    let perks = s
        .app
        .perks()
        .await
        .map_err(err)?
        .into_iter()
        .map(|p| {
            let mut gates = Vec::new();
            if let Some(l) = p.input.min_rank_level {
                let tier = usize::try_from(l).ok().and_then(|l| tiers.get(l)).map(|x| x.1.clone());
                gates.push(format!("{} {}", t.t("perks.rank_from"), tier.unwrap_or_else(|| l.to_string())));
            }
            if let Some(id) = p.input.membership_plan_id {
                gates.push(format!("{} {}", t.t("perks.plan"), name_of(&plans, id).unwrap_or_default()));
            }
            if let Some(id) = p.input.segment_id {
                gates.push(format!("{} {}", t.t("perks.segment"), name_of(&segments, id).unwrap_or_default()));
            }
            let text = |v: Option<i64>| v.map(|x| x.to_string()).unwrap_or_default();
            PerkRow {
                id: p.id,
                kind: kind_key(p.input.kind),
                kind_code: p.input.kind.as_str(),
                rank: text(p.input.min_rank_level),
                plan: text(p.input.membership_plan_id),
                segment: text(p.input.segment_id),
                name: p.input.name,
                description: p.input.description,
                gates,
                active: p.input.active,
            }
        })
        .collect();
    Ok(render(&PerksPage {
        c: Chrome::new(t, user, "points", "/perks"),
        perks,
        kinds: PerkKind::ALL.iter().map(|k| (k.as_str(), kind_key(*k))).collect(),
        tiers,
        plans,
        segments,
        can_edit: user.actor.role.can_manage_users(),
        f,
        error,
    }))
}

#[derive(serde::Deserialize)]
pub(super) struct PerkForm {
    name: String,
    #[serde(default)]
    description: String,
    kind: String,
    #[serde(default)]
    min_rank_level: String,
    #[serde(default)]
    membership_plan_id: String,
    #[serde(default)]
    segment_id: String,
    #[serde(default)]
    active: Option<String>,
}

impl PerkForm {
    fn input(&self) -> PerkInput {
        let id = |v: &str| v.trim().parse::<i64>().ok();
        PerkInput {
            name: self.name.clone(),
            description: self.description.clone(),
            kind: PerkKind::parse(&self.kind).unwrap_or(PerkKind::Other),
            min_rank_level: id(&self.min_rank_level),
            membership_plan_id: id(&self.membership_plan_id),
            segment_id: id(&self.segment_id),
            active: self.active.is_some(),
        }
    }
}

/// `POST /perks`: a new perk (owners).
/// Refused, the form comes back as typed with each error beside its field.
pub(super) async fn create(State(s): State<AppState>, Checked { user, t, form: f }: Checked<PerkForm>) -> UiResult {
    match s.app.save_perk(&user.actor, None, f.input()).await {
        Ok(_) => Ok(Redirect::to("/perks").into_response()),
        Err(AppError::Validation(e)) => {
            let mut form = FormState::new([
                ("name", f.name),
                ("description", f.description),
                ("kind", f.kind),
                ("min_rank_level", f.min_rank_level),
                ("membership_plan_id", f.membership_plan_id),
                ("segment_id", f.segment_id),
            ]);
            form.refuse(&e.0, t);
            super::refused(perks_page(&s, t, &user, form, None).await)
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

/// `POST /perks/{id}`: changes a perk, e.g. ends it (owners).
pub(super) async fn update(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<PerkForm>,
) -> UiResult {
    save(&s, t, &user, Some(id), f.input()).await
}

async fn save(s: &AppState, t: crate::i18n::Tr, user: &WebUser, id: Option<i64>, input: PerkInput) -> UiResult {
    match s.app.save_perk(&user.actor, id, input).await {
        Ok(_) => Ok(Redirect::to("/perks").into_response()),
        Err(AppError::Validation(e)) => Ok(back_with_error("/perks", &say_fields(t, &e))),
        Err(e) => Err(UiError::from_app(t, e)),
    }
}
