//! The customer list, the customer page (the 360) with its forms — contact
//! history, contacts, consents, merge — and the new/edit customer form.

use super::form_state::{FormState, RowForm};
use super::*;

/// A customer's address on one line: 〒, 都道府県, 市区町村, 町域・番地, 建物名.
pub(super) fn address_line(p: &CustomerProfile) -> String {
    [
        p.postal_code.as_ref().map(|z| format!("〒{z}")),
        p.prefecture.clone(),
        p.city.clone(),
        p.street.clone(),
        p.building.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" ")
}

/// The opening of a long text (a note over 200 characters or 3 lines) shown folded, the whole
/// text a click away; `None` for a short one.
pub(super) fn fold(text: &str) -> Option<String> {
    const CHARS: usize = 200;
    const LINES: usize = 3;
    if text.chars().count() <= CHARS && text.lines().count() <= LINES {
        return None;
    }
    let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or_default();
    Some(first.chars().take(80).collect())
}

pub(super) struct TimelineRow {
    at: String,
    kind: String,
    /// The opening of a long detail, shown folded.
    folded: Option<String>,
    label: &'static str,
    title: String,
    detail: String,
    amount: String,
    staff: String,
    link: Option<String>,
}

pub(super) struct ContactRow {
    name: String,
    email: String,
    phone: String,
}

pub(super) struct ConsentRow {
    /// Channel code (`email`, …) and its label key.
    code: &'static str,
    channel: &'static str,
    /// None: never recorded.
    granted: Option<bool>,
    source: String,
    at: String,
}

/// The analytics panel of the customer 360, from the newest metrics snapshot.
pub(super) struct InsightView {
    as_of: String,
    segment: &'static str,
    rfm: String,
    p_alive: String,
    expected_90d: String,
    order_value: String,
    clv: String,
    churn_key: &'static str,
    churn_score: String,
    next_purchase: String,
    overdue: bool,
    not_fitted: bool,
    /// Next best action and the facts that chose it.
    action: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "customer.html")]
pub(super) struct CustomerPage {
    c: Chrome,
    id: i64,
    insight: Option<InsightView>,
    /// Cross-sell: (product, because-they-bought, share of those buyers %, lift).
    suggestions: Vec<(String, String, String, String)>,
    name: String,
    kana: String,
    merged_into: Option<i64>,
    fields: Vec<(&'static str, String, Option<String>)>,
    tags: Vec<String>,
    consents: Vec<ConsentRow>,
    contacts: Vec<ContactRow>,
    external_ids: Vec<String>,
    order_count: i64,
    total_spent: String,
    first_order: String,
    last_order: String,
    timeline: Vec<TimelineRow>,
    kinds: Vec<(&'static str, &'static str)>,
    can_write: bool,
    is_account: bool,
    points: Option<points::PointsPanel>,
    points_flash: Option<String>,
    tickets: Option<tickets::TicketsPanel>,
    tickets_flash: Option<String>,
    memberships: Option<memberships::MembershipsPanel>,
    memberships_flash: Option<String>,
    perks: Vec<perks::PerkLine>,
    flash: Option<String>,
    error: Option<String>,
    /// The contact-history and contact-person forms: as typed when they came back refused,
    /// each error beside its field.
    log: FormState,
    contact: FormState,
    /// The points grant/deduct form, the rank form and the merge box.
    adjust: FormState,
    rank: FormState,
    merge: FormState,
    /// The LINE panel (None for a merged customer).
    line: Option<super::line::LinePanel>,
    /// The SMS panel (None for a merged customer).
    sms: Option<super::sms::SmsPanel>,
    /// The survey panel (None for a merged customer).
    surveys: Option<super::surveys::customer::SurveyPanel>,
    /// The customer's complaint cases, newest first.
    cases: Vec<super::cases::CaseRow>,
    /// The customer-success stage: (code, words, since and how), and the stages to choose.
    stage: (String, String, String),
    stage_choices: Vec<(&'static str, &'static str)>,
    /// The referral panel (None for a merged customer).
    referral: Option<super::referrals::ReferralPanel>,
    /// The customer's open conversation by mail, with a key for the reply form.
    mail_reply: Option<(i64, String)>,
    /// A refused form of one row or panel: a 回数券's use or refund, a sale, a membership's
    /// start, change or cancellation, a consent.
    row: RowForm,
}

pub(super) fn kind_key(kind: &str) -> &'static str {
    match kind {
        "order" => "kind.order",
        "refund" => "kind.refund",
        "cancel" => "kind.cancel",
        "interaction:email" => "kind.email",
        "interaction:phone" => "kind.phone",
        "interaction:sms" => "kind.sms",
        "interaction:line" => "kind.line",
        "interaction:dm" => "kind.dm",
        "interaction:visit" => "kind.visit",
        "interaction:meeting" => "kind.meeting",
        "interaction:chat" => "kind.chat",
        "rank" => "kind.rank",
        "ticket" => "kind.ticket",
        "ticket_use" => "kind.ticket_use",
        "membership" => "kind.membership",
        "message:sent" => "kind.message.sent",
        "message:queued" | "message:sending" => "kind.message.queued",
        "message:failed" => "kind.message.failed",
        "message:suppressed" => "kind.message.suppressed",
        "line_message:sent" => "kind.line_message.sent",
        "line_message:queued" | "line_message:sending" => "kind.line_message.queued",
        "line_message:failed" => "kind.line_message.failed",
        "line_message:suppressed" => "kind.line_message.suppressed",
        "sms_message:sent" => "kind.sms_message.sent",
        "sms_message:queued" | "sms_message:sending" => "kind.sms_message.queued",
        "sms_message:failed" => "kind.sms_message.failed",
        "sms_message:suppressed" => "kind.sms_message.suppressed",
        "task:open" => "kind.task.open",
        "task:done" => "kind.task.done",
        "task:skipped" => "kind.task.skipped",
        _ => "kind.note",
    }
}

#[derive(Deserialize, Default)]
pub(super) struct CustomerQuery {
    logged: Option<String>,
    merged: Option<String>,
    points: Option<String>,
    tickets: Option<String>,
    memberships: Option<String>,
    line_sent: Option<String>,
    sms_sent: Option<String>,
    survey_sent: Option<String>,
    survey_link: Option<i64>,
}

pub(super) async fn customer(
    State(s): State<AppState>,
    ErrorFlash(error): ErrorFlash,
    Staff { user, t }: Staff,
    Path(id): Path<i64>,
    Query(cq): Query<CustomerQuery>,
) -> UiResult {
    customer_page(&s, t, &user, id, cq, error, RefusedForm::None).await
}

/// A form of the customer page that came back refused: what was typed, and why.
pub(super) enum RefusedForm {
    None,
    Log(FormState),
    Contact(FormState),
    Points(FormState),
    Rank(FormState),
    Merge(FormState),
    Row(RowForm),
}

/// The customer page of customer `id` with one of its rows' forms refused (a 回数券's use, a
/// membership's cancellation…): that form as typed with its problems beside it.
pub(super) async fn refused_row(s: &AppState, t: Tr, user: &crate::auth::WebUser, id: i64, form: RowForm) -> UiResult {
    customer_page(s, t, user, id, CustomerQuery::default(), None, RefusedForm::Row(form)).await
}

/// A plan chosen from a panel's list (回数券, membership): its id, or "choose a plan".
pub(super) fn chosen_plan(typed: &str) -> Result<i64, AppError> {
    typed.trim().parse().map_err(|_| joren_core::FieldError::new("plan_id", joren_core::Code::Choose).into())
}

/// The customer page; with a refused form, that form as typed with its errors, and 422.
pub(super) async fn customer_page(
    s: &AppState,
    t: Tr,
    user: &crate::auth::WebUser,
    id: i64,
    cq: CustomerQuery,
    error: Option<String>,
    refused: RefusedForm,
) -> UiResult {
    let err = |e| UiError::from_app(t, e);
    let c = s.app.get_customer(id).await.map_err(err)?;
    let p = &c.profile;
    let address = address_line(p);
    let owner = match p.owner_user_id {
        Some(uid) => s.app.staff_directory().await.map_err(err)?.into_iter().find(|(i, _)| *i == uid).map(|(_, n)| n),
        None => None,
    };
    let mut fields = vec![
        ("customer.owner", owner.unwrap_or_default()),
        ("col.email", p.email.clone().unwrap_or_default()),
        ("col.phone", p.phone.as_deref().map(display_phone).unwrap_or_default()),
        ("customer.address", address),
        ("customer.birthday", p.birthday.map(|d| t.date(d)).unwrap_or_default()),
        (
            "customer.source",
            [
                p.acquisition_source.as_deref().map(|c| t.maybe(&format!("source.{c}")).unwrap_or(c).to_string()),
                p.acquisition_campaign.clone(),
            ]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" / "),
        ),
        ("customer.preferences", p.preferences.clone()),
        ("customer.notes", p.notes.clone()),
    ];
    fields.retain(|(_, v)| !v.is_empty());
    let fields = fields.into_iter().map(|(label, value)| (label, value.clone(), fold(&value))).collect();
    let contacts = s
        .app
        .list_contacts(id)
        .await
        .map_err(err)?
        .into_iter()
        .map(|x| ContactRow {
            name: x.display_name,
            email: x.profile.email.unwrap_or_default(),
            phone: x.profile.phone.as_deref().map(display_phone).unwrap_or_default(),
        })
        .collect();
    let consents = [("email", "kind.email"), ("sms", "kind.sms"), ("line", "kind.line"), ("dm", "kind.dm")]
        .into_iter()
        .map(|(code, label)| {
            let state = c.consents.iter().find(|x| x.channel == code);
            ConsentRow {
                code,
                channel: label,
                granted: state.map(|x| x.granted),
                source: state.map(|x| consent_source(t, &x.source)).unwrap_or_default(),
                at: state.map(|x| s.app.local_time(x.at)).unwrap_or_default(),
            }
        })
        .collect();
    // Over all the customer's orders, not only the newest 500 listed.
    let totals = s.app.customer_order_totals(id).await.map_err(err)?;
    let timeline = s
        .app
        .timeline(id, 200)
        .await
        .map_err(err)?
        .into_iter()
        .map(|e| {
            let (title, detail) = super::timeline::worded(t, &e);
            TimelineRow {
                at: s.app.local_time(e.at),
                label: kind_key(&e.kind),
                link: matches!(e.kind.as_str(), "order" | "refund" | "cancel").then(|| format!("/orders/{}", e.ref_id)),
                kind: e.kind.replace("interaction:", "").replace(':', "-"),
                title,
                folded: fold(&detail),
                detail,
                amount: e.amount.map(|a| format_amount(a, e.currency.as_deref().unwrap_or("JPY"))).unwrap_or_default(),
                staff: e.staff_name.unwrap_or_default(),
            }
        })
        .collect();
    let kinds = INTERACTION_KINDS.iter().map(|k| (*k, kind_key(&format!("interaction:{k}")))).collect();
    let today = s.app.local_time(s.app.now())[..10].to_string();
    let rules = s.app.next_action_rules().await.map_err(err)?;
    let insight = s.app.customer_metrics(id).await.map_err(err)?.map(|(snap, m)| {
        let dash = || "—".to_string();
        let action = joren_app::next_action::suggest(&rules, &m).map(|a| {
            let why = a.reasons.iter().map(|r| next_action_reason(t, r)).collect::<Vec<_>>().join("、");
            (if t.0 == crate::i18n::Lang::En { a.action_en } else { a.action_ja }, why)
        });
        InsightView {
            as_of: s.app.local_time(snap.computed_at),
            segment: joren_app::metrics::segment_label(&m.segment, t.0 == crate::i18n::Lang::En),
            rfm: format!("R{} F{} M{}", m.r_score, m.f_score, m.m_score),
            // One purchase says nothing yet about coming back (the model gives such a
            // customer 100 %): say so instead of a certainty.
            p_alive: if m.frequency <= 1 {
                t.t("insight.too_early").to_string()
            } else {
                m.p_alive.map(|p| format!("{:.0}%", p * 100.0)).unwrap_or_else(dash)
            },
            expected_90d: m.expected_purchases_90d.map(|e| format!("{e:.2}")).unwrap_or_else(dash),
            order_value: m.expected_order_value.map(|v| format_amount(v.round() as i64, "JPY")).unwrap_or_else(dash),
            clv: m.clv_12m.map(|v| format_amount(v.round() as i64, "JPY")).unwrap_or_else(dash),
            churn_key: match m.churn_band.as_deref() {
                Some("high") => "insight.churn_high",
                Some("medium") => "insight.churn_medium",
                Some("low") => "insight.churn_low",
                _ => "insight.not_fitted",
            },
            churn_score: m.churn_score.map(|v| v.to_string()).unwrap_or_else(dash),
            overdue: m.expected_next_purchase.as_deref().is_some_and(|d| d < today.as_str()),
            next_purchase: m.expected_next_purchase.unwrap_or_else(dash),
            not_fitted: m.p_alive.is_none(),
            action,
        }
    });
    let suggestions = s
        .app
        .cross_sell_for_customer(id, 5)
        .await
        .map_err(err)?
        .into_iter()
        .map(|a| {
            (a.consequent_name, a.antecedent_name, format!("{:.0}", a.confidence * 100.0), format!("{:.1}", a.lift))
        })
        .collect();
    let perks = match c.merged_into {
        None => perks::panel(&s.app, id, t).await.map_err(err)?,
        Some(_) => Vec::new(),
    };
    // The channel panels (LINE, SMS, mail) each show the customer's open conversation there:
    // their conversations are read once for the three.
    let (line, sms, mail_reply) = match c.merged_into {
        None => {
            let conversations = s.app.customer_conversations(id).await.map_err(err)?;
            let line = super::line::panel(&s.app, id, cq.line_sent.is_some(), &conversations).await.map_err(err)?;
            // An open conversation by mail is answered from here too (threaded).
            let mail = conversations
                .iter()
                .find(|x| x.channel == "email" && x.state == "open")
                .map(|x| (x.id, format!("ui-{}", joren_app::auth::random_token())));
            (Some(line), Some(super::sms::panel(&s.app, &c, cq.sms_sent.is_some(), &conversations)), mail)
        }
        Some(_) => (None, None, None),
    };
    let surveys = match c.merged_into {
        None => {
            Some(super::surveys::customer::panel(s, id, cq.survey_link, cq.survey_sent.is_some()).await.map_err(err)?)
        }
        Some(_) => None,
    };
    let stage = super::stages::describe(s, t, s.app.customer_stage(id).await.map_err(err)?.as_ref());
    let referral = match c.merged_into {
        None => Some(super::referrals::panel(s, t, id).await.map_err(err)?),
        Some(_) => None,
    };
    let case_filter = joren_app::cases::CaseFilter { customer_id: Some(id), limit: 20, ..Default::default() };
    let cases = s.app.cases(&case_filter).await.map_err(err)?.iter().map(|k| super::cases::row(s, t, k)).collect();
    let (points, tickets, memberships) = match c.merged_into {
        None => (
            Some(points::panel(&s.app, id, t).await.map_err(err)?),
            Some(tickets::panel(&s.app, id, t).await.map_err(err)?),
            Some(memberships::panel(&s.app, id, t).await.map_err(err)?),
        ),
        Some(_) => (None, None, None),
    };
    let status = match &refused {
        RefusedForm::None => StatusCode::OK,
        RefusedForm::Row(r) if r.conflict => StatusCode::CONFLICT,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let (mut log, mut contact, mut adjust, mut rank, mut merge, mut row) = Default::default();
    match refused {
        RefusedForm::Row(f) => row = f,
        RefusedForm::Log(f) => log = f,
        RefusedForm::Contact(f) => contact = f,
        RefusedForm::Points(f) => adjust = f,
        RefusedForm::Rank(f) => rank = f,
        RefusedForm::Merge(f) => merge = f,
        RefusedForm::None => {}
    }
    let mut page = render(&CustomerPage {
        log,
        contact,
        adjust,
        rank,
        merge,
        row,
        line,
        sms,
        surveys,
        cases,
        stage,
        stage_choices: super::stages::choices(t),
        referral,
        mail_reply,
        insight,
        suggestions,
        points,
        points_flash: cq.points.map(|_| t.t("points.adjusted").to_string()),
        tickets,
        tickets_flash: cq.tickets.map(|_| t.t("tickets.done").to_string()),
        memberships,
        memberships_flash: cq.memberships.map(|_| t.t("memberships.done").to_string()),
        perks,
        can_write: user.actor.role.can_write(),
        is_account: p.kind == joren_core::customer::CustomerKind::Account,
        c: Chrome::new(t, user, "customers", format!("/customers/{id}")),
        id,
        name: c.display_name.clone(),
        kana: format!("{} {}", p.family_name_kana, p.given_name_kana).trim().to_string(),
        merged_into: c.merged_into,
        tags: p.tags.clone(),
        fields,
        consents,
        contacts,
        external_ids: c.external_ids.iter().map(|x| format!("{}: {}", x.system, x.external_id)).collect(),
        order_count: totals.orders,
        total_spent: format_amount(totals.spent, "JPY"),
        first_order: totals.first_at.map(|t| s.app.local_time(t)[..10].to_string()).unwrap_or_default(),
        last_order: totals.last_at.map(|t| s.app.local_time(t)[..10].to_string()).unwrap_or_default(),
        timeline,
        kinds,
        flash: cq
            .logged
            .map(|_| t.t("customer.logged").to_string())
            .or(cq.merged.map(|_| t.t("customer.merged_ok").to_string())),
        error,
    });
    *page.status_mut() = status;
    Ok(page)
}

#[derive(Deserialize)]
pub(super) struct InteractionForm {
    kind: String,
    direction: String,
    subject: String,
    body: String,
}

pub(super) async fn log_interaction(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<InteractionForm>,
) -> UiResult {
    let input = InteractionInput {
        kind: f.kind.clone(),
        direction: Some(f.direction.clone()),
        contact_id: None,
        subject: f.subject.clone(),
        body: f.body.clone(),
        occurred_at: None,
    };
    match s.app.log_interaction(&user.actor, id, input).await {
        Ok(_) => Ok(Redirect::to(&format!("/customers/{id}?logged=1")).into_response()),
        // Back as typed (a long note is not lost), each error beside its field.
        Err(AppError::Validation(e)) => {
            let mut form = FormState::new([
                ("kind", f.kind),
                ("direction", f.direction),
                ("subject", f.subject),
                ("body", f.body),
            ]);
            form.refuse(&e.0, t);
            customer_page(&s, t, &user, id, CustomerQuery::default(), None, RefusedForm::Log(form)).await
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

#[derive(Deserialize)]
pub(super) struct RefreshForm {
    /// Where to go back to afterwards (a path on this site).
    back: String,
}

/// Recomputes every customer's metrics now, then returns to the page the button was on.
pub(super) async fn refresh_metrics(
    State(s): State<AppState>,
    Checked { user, t, form: f }: Checked<RefreshForm>,
) -> UiResult {
    let back = if f.back.starts_with('/') && !f.back.starts_with("//") { f.back } else { "/".to_string() };
    s.app.refresh_metrics(&user.actor).await.map_err(|e| UiError::from_app(t, e))?;
    Ok(Redirect::to(&back).into_response())
}

#[derive(Deserialize)]
pub(super) struct MergeForm {
    merge_id: String,
}

pub(super) async fn merge_customer(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<MergeForm>,
) -> UiResult {
    let typed = f.merge_id.trim().trim_start_matches(['#', '＃']);
    let done = match joren_core::text::parse_int(typed) {
        Some(other) => s.app.merge_customers(&user.actor, id, other).await.map(|_| ()),
        None => Err(AppError::Validation(joren_core::FieldErrors(vec![
            joren_core::FieldError::new("merge_id", joren_core::Code::BadNumber).arg(f.merge_id.trim()),
        ]))),
    };
    match done {
        Ok(()) => Ok(Redirect::to(&format!("/customers/{id}?merged=1")).into_response()),
        // Back with the number typed and why beside it (not a number, the customer itself,
        // already merged, no such customer).
        Err(e @ (AppError::Conflict(_) | AppError::NotFound(_) | AppError::Validation(_))) => {
            let mut form = FormState::new([("merge_id", f.merge_id)]);
            match &e {
                AppError::Validation(v) => form.refuse(&v.0, t),
                _ => {
                    form.errors.insert("merge_id".into(), say(t, &e));
                }
            }
            customer_page(&s, t, &user, id, CustomerQuery::default(), None, RefusedForm::Merge(form)).await
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

#[derive(Deserialize)]
pub(super) struct ContactForm {
    #[serde(flatten)]
    contact: joren_core::contact::ContactInput,
}

pub(super) async fn add_contact(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<ContactForm>,
) -> UiResult {
    let c = &f.contact;
    let form = FormState::new([
        ("family_name", c.family_name.clone()),
        ("given_name", c.given_name.clone()),
        ("department", c.department.clone()),
        ("role", c.role.clone()),
        ("email", c.email.clone()),
        ("phone", c.phone.clone()),
    ]);
    match s.app.add_contact(&user.actor, id, f.contact).await {
        Ok(_) => Ok(Redirect::to(&format!("/customers/{id}?logged=1")).into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            let mut form = form;
            match &e {
                AppError::Validation(v) => form.refuse(&v.0, t),
                // Merged into another customer meanwhile: said under the form, typing kept.
                _ => {
                    form.errors.insert("form".into(), say(t, &e));
                }
            }
            customer_page(&s, t, &user, id, CustomerQuery::default(), None, RefusedForm::Contact(form)).await
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

#[derive(Deserialize)]
pub(super) struct ConsentForm {
    channel: String,
    granted: String,
}

pub(super) async fn set_consent(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<ConsentForm>,
) -> UiResult {
    let source = format!("staff:{} (web)", user.actor.name);
    match s.app.set_consent(&user.actor, id, &f.channel, f.granted == "1", &source).await {
        Ok(_) => Ok(Redirect::to(&format!("/customers/{id}?logged=1")).into_response()),
        // Said under the consent table (only a crafted channel gets here).
        Err(e @ AppError::Validation(_)) => {
            let form = RowForm::refused("consent", 0, [("channel", f.channel)], &e, t);
            refused_row(&s, t, &user, id, form).await
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

/// Where a consent came from, in words: the recorded source is `import:<system>`,
/// `api:<name>`, `staff:<name> (web)`, an unsubscribe link, or what an API caller wrote.
pub(super) fn consent_source(t: Tr, source: &str) -> String {
    if let Some(system) = source.strip_prefix("import:") {
        return format!("{} ({system})", t.t("consent.from_import"));
    }
    if let Some(who) = source.strip_prefix("api:") {
        return format!("{} ({who})", t.t("consent.from_api"));
    }
    if let Some(who) = source.strip_prefix("staff:") {
        return format!("{} ({})", t.t("consent.from_staff"), who.trim_end_matches(" (web)"));
    }
    match source {
        "list_unsubscribe" => t.t("consent.from_list_unsubscribe").to_string(),
        "unsubscribe_link" => t.t("consent.from_unsubscribe_link").to_string(),
        other => other.to_string(),
    }
}

/// One condition behind a next-best-action suggestion, in words.
pub(super) fn next_action_reason(t: Tr, r: &joren_app::next_action::Reason) -> String {
    use joren_app::next_action::Reason;
    let en = t.0 == crate::i18n::Lang::En;
    match r {
        Reason::Segment { segment } => {
            format!("{}: {}", t.t("nba.segment"), joren_app::metrics::segment_label(segment, en))
        }
        Reason::ChurnBand { band, score } => {
            let band = t.maybe(&format!("segb.band.{band}")).unwrap_or(band.as_str());
            match score {
                Some(s) => format!("{}: {band} ({s})", t.t("nba.churn")),
                None => format!("{}: {band}", t.t("nba.churn")),
            }
        }
        Reason::Clv { clv, min } => format!(
            "{}: {} (≥ {})",
            t.t("nba.clv"),
            format_amount(clv.round() as i64, "JPY"),
            format_amount(min.round() as i64, "JPY")
        ),
        Reason::Default => t.t("nba.default").to_string(),
    }
}
