//! The new and edit customer form: every field as typed kept on a refusal, each message beside its
//! field.

use super::*;

/// The customer form's fields, as typed.
#[derive(Deserialize, Default)]
#[serde(default)]
pub(super) struct CustomerForm {
    csrf: String,
    kind: String,
    company_name: String,
    family_name: String,
    given_name: String,
    family_name_kana: String,
    given_name_kana: String,
    email: String,
    phone: String,
    line_user_id: String,
    postal_code: String,
    prefecture: String,
    city: String,
    street: String,
    building: String,
    birthday: String,
    gender: String,
    acquisition_source: String,
    acquisition_campaign: String,
    tags: String,
    preferences: String,
    notes: String,
    /// 担当者: a user id, or empty for none.
    owner_user_id: String,
}

impl CustomerForm {
    fn from_profile(p: &CustomerProfile) -> Self {
        let o = |v: &Option<String>| v.clone().unwrap_or_default();
        Self {
            csrf: String::new(),
            kind: p.kind.as_str().into(),
            company_name: p.company_name.clone(),
            family_name: p.family_name.clone(),
            given_name: p.given_name.clone(),
            family_name_kana: p.family_name_kana.clone(),
            given_name_kana: p.given_name_kana.clone(),
            email: o(&p.email),
            phone: p.phone.as_deref().map(display_phone).unwrap_or_default(),
            line_user_id: o(&p.line_user_id),
            postal_code: o(&p.postal_code),
            prefecture: o(&p.prefecture),
            city: o(&p.city),
            street: o(&p.street),
            building: o(&p.building),
            birthday: p.birthday.map(|d| d.to_string()).unwrap_or_default(),
            gender: o(&p.gender),
            acquisition_source: o(&p.acquisition_source),
            acquisition_campaign: o(&p.acquisition_campaign),
            tags: p.tags.join(", "),
            preferences: p.preferences.clone(),
            notes: p.notes.clone(),
            owner_user_id: p.owner_user_id.map(|i| i.to_string()).unwrap_or_default(),
        }
    }

    /// Every field of the form is set (an empty box clears the field). On the new-customer
    /// form 個人 is only the preselected choice: a name like 株式会社… is then read as a
    /// company's (`new`); on an existing customer the kind shown is the kind kept.
    fn to_input(&self, new: bool) -> CustomerInput {
        let v = |s: &String| Some(s.clone());
        CustomerInput {
            kind: v(&self.kind).filter(|k| !(k.is_empty() || new && k == "person")),
            family_name: v(&self.family_name),
            given_name: v(&self.given_name),
            family_name_kana: v(&self.family_name_kana),
            given_name_kana: v(&self.given_name_kana),
            company_name: v(&self.company_name),
            email: v(&self.email),
            phone: v(&self.phone),
            line_user_id: v(&self.line_user_id),
            birthday: v(&self.birthday),
            gender: v(&self.gender),
            postal_code: v(&self.postal_code),
            prefecture: v(&self.prefecture),
            city: v(&self.city),
            street: v(&self.street),
            building: v(&self.building),
            notes: v(&self.notes),
            preferences: v(&self.preferences),
            tags: Some(self.tags.split([',', '、']).map(|t| t.trim().to_string()).collect()),
            // An id that is not a number is reported by the use case as an unknown user.
            owner_user_id: Some(match self.owner_user_id.trim() {
                "" => None,
                id => Some(id.parse().unwrap_or(-1)),
            }),
            acquisition_source: v(&self.acquisition_source),
            acquisition_campaign: v(&self.acquisition_campaign),
            address: None,
        }
    }
}

#[derive(Template)]
#[template(path = "customer_form.html")]
pub(super) struct CustomerFormPage {
    c: Chrome,
    title: &'static str,
    action: String,
    cancel: String,
    f: CustomerForm,
    errors: Vec<String>,
    /// Each field's error beside it.
    fe: super::form_state::FormState,
    genders: Vec<(&'static str, &'static str)>,
    sources: Vec<(&'static str, &'static str)>,
    staff: Vec<(String, String)>,
    /// The 47 prefectures: (stored value, label in the reader's language).
    prefectures: Vec<(&'static str, String)>,
    unknown_prefecture: Option<String>,
}

pub(super) fn form_page(
    staff: Vec<(i64, String)>,
    c: Chrome,
    title: &'static str,
    action: String,
    cancel: String,
    f: CustomerForm,
    refused: &[joren_core::FieldError],
) -> Response {
    let errors: Vec<String> = refused.iter().map(|x| say_fields(c.t, std::slice::from_ref(x))).collect();
    let mut fe = super::form_state::FormState::default();
    fe.refuse(refused, c.t);
    let genders = GENDERS
        .iter()
        .map(|g| {
            (
                *g,
                match *g {
                    "female" => "gender.female",
                    "male" => "gender.male",
                    "other" => "gender.other",
                    _ => "gender.unspecified",
                },
            )
        })
        .collect();
    let sources = ACQUISITION_SOURCES
        .iter()
        .map(|s| {
            (
                *s,
                match *s {
                    "store" => "source.store",
                    "ec" => "source.ec",
                    "advertising" => "source.advertising",
                    "referral" => "source.referral",
                    "event" => "source.event",
                    "sns" => "source.sns",
                    "phone" => "source.phone",
                    _ => "source.other",
                },
            )
        })
        .collect();
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let lang = c.t.0;
    // A value sent back that is none of the 47 stays selected beside its error.
    let unknown_prefecture = (!f.prefecture.is_empty()
        && !joren_core::postal::PREFECTURES.contains(&f.prefecture.as_str()))
    .then(|| f.prefecture.clone());
    let staff = staff.into_iter().map(|(id, name)| (id.to_string(), name)).collect();
    (
        status,
        render(&CustomerFormPage {
            c,
            title,
            action,
            cancel,
            f,
            errors,
            fe,
            genders,
            sources,
            staff,
            unknown_prefecture,
            prefectures: prefecture_options(lang),
        }),
    )
        .into_response()
}

/// The 47 prefectures as (stored value, label in the reader's language), in JIS order.
pub(super) fn prefecture_options(lang: crate::i18n::Lang) -> Vec<(&'static str, String)> {
    joren_core::postal::PREFECTURES
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let label = match lang {
                crate::i18n::Lang::En => joren_core::postal::prefecture_in_english(i),
                crate::i18n::Lang::Ja => p.to_string(),
            };
            (*p, label)
        })
        .collect()
}

pub(super) async fn new_customer_page(State(s): State<AppState>, Staff { user, t }: Staff) -> UiResult {
    let c = Chrome::new(t, &user, "customers", "/customers/new");
    let mut f = CustomerForm::default();
    // Whoever registers a customer is their 担当者 unless changed.
    if let Some(uid) = user.actor.user_id.filter(|_| user.actor.role.can_write()) {
        f.owner_user_id = uid.to_string();
    }
    Ok(form_page(
        s.app.staff_directory().await.map_err(|e| UiError::from_app(t, e))?,
        c,
        t.t("customers.new"),
        "/customers/new".into(),
        "/customers".into(),
        f,
        &[],
    ))
}

pub(super) async fn new_customer_submit(
    State(s): State<AppState>,
    Checked { user, t, form: f }: Checked<CustomerForm>,
) -> UiResult {
    let input = joren_app::customers::NewCustomer { profile: f.to_input(true), ..Default::default() };
    match s.app.create_customer(&user.actor, input).await {
        Ok(c) => Ok(Redirect::to(&format!("/customers/{}", c.id)).into_response()),
        Err(e) => match e.field_errors() {
            Some(errors) => {
                let c = Chrome::new(t, &user, "customers", "/customers/new");
                let staff = s.app.staff_directory().await.map_err(|e| UiError::from_app(t, e))?;
                Ok(form_page(
                    staff,
                    c,
                    t.t("customers.new"),
                    "/customers/new".into(),
                    "/customers".into(),
                    f,
                    &errors.0,
                ))
            }
            None => Err(UiError::from_app(t, e)),
        },
    }
}

pub(super) async fn edit_customer_page(
    State(s): State<AppState>,
    Staff { user, t }: Staff,
    Path(id): Path<i64>,
) -> UiResult {
    let path = format!("/customers/{id}/edit");
    let customer = s.app.get_customer(id).await.map_err(|e| UiError::from_app(t, e))?;
    let c = Chrome::new(t, &user, "customers", path.clone());
    Ok(form_page(
        s.app.staff_directory().await.map_err(|e| UiError::from_app(t, e))?,
        c,
        t.t("customer.edit"),
        path,
        format!("/customers/{id}"),
        CustomerForm::from_profile(&customer.profile),
        &[],
    ))
}

pub(super) async fn edit_customer_submit(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user, t, form: f }: Checked<CustomerForm>,
) -> UiResult {
    let path = format!("/customers/{id}/edit");
    match s.app.update_customer(&user.actor, id, f.to_input(false)).await {
        Ok(_) => Ok(Redirect::to(&format!("/customers/{id}")).into_response()),
        Err(e) => match e.field_errors() {
            Some(errors) => {
                let c = Chrome::new(t, &user, "customers", path.clone());
                let staff = s.app.staff_directory().await.map_err(|e| UiError::from_app(t, e))?;
                Ok(form_page(staff, c, t.t("customer.edit"), path, format!("/customers/{id}"), f, &errors.0))
            }
            None => Err(UiError::from_app(t, e)),
        },
    }
}

/// `GET /postal/{code}`: the addresses a postal code covers, for the customer form to fill in
/// (signed-in staff; the table ships with Joren, nothing leaves the shop's PC).
pub(super) async fn postal(_: Staff, Path(code): Path<String>) -> Response {
    axum::Json(serde_json::json!({"items": joren_core::postcodes::lookup(&code)})).into_response()
}
