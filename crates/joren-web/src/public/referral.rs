//! `/r/{code}`: a customer's referral link. GET shows the shop's offer and a short sign-up form
//! (name, email or phone, the mail consent as an opt-in box left unticked); POST records the
//! new customer as referred. The page never shows who referred, and it thanks an address that
//! is a customer's already the same way as a new one, so it tells nobody who is a customer.
//! Japanese or English by the browser's language (`?lang=en` to switch).

use askama::Template;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use joren_app::AppError;
use joren_app::referrals::{ReferralOffer, SignUp};

use crate::AppState;
use crate::i18n::Tr;

pub const WORDS: &[(&str, &str, &str)] = &[
    ("rp.title", "ご紹介でのご登録", "Sign up by referral"),
    ("rp.welcome", "ご紹介ありがとうございます。", "Welcome — a customer of ours referred you."),
    ("rp.offer", "はじめてのご購入で {0} ポイントを差し上げます。", "Your first purchase earns you {0} points."),
    ("rp.family_name", "姓", "Family name"),
    ("rp.given_name", "名", "Given name"),
    ("rp.email", "メールアドレス", "Email"),
    ("rp.phone", "電話番号", "Phone"),
    ("rp.contact_help", "メールアドレスか電話番号のどちらかは必須です。", "An email or a phone number is needed."),
    ("rp.mail_ok", "お得な情報をメールで受け取る", "Send me news and offers by email"),
    (
        "rp.privacy",
        "ご登録いただいた情報は、ご購入・ポイントの管理とご案内のためだけに使います。",
        "What you enter is used only for your purchases, your points and, if you agree, our news.",
    ),
    ("rp.submit", "登録する", "Sign up"),
    (
        "rp.thanks",
        "ご登録ありがとうございました。はじめてのご購入時に、紹介ポイントを差し上げます (はじめてのお客様が対象です)。",
        "Thank you for signing up. Your first purchase earns the referral points (for first-time customers).",
    ),
    ("rp.fix", "入力内容をご確認ください。", "Please check what you entered."),
    (
        "rp.invalid",
        "このリンクは使えません。紹介してくださった方にご確認ください。",
        "This link does not work. Please check it with the person who referred you.",
    ),
];

#[derive(Template)]
#[template(path = "referral_signup.html")]
struct SignUpPage {
    t: Tr,
    offer: ReferralOffer,
    offer_words: String,
    done: bool,
    /// The form as typed, and the problems by field.
    form: SignUp,
    errors: std::collections::HashMap<String, String>,
}

impl SignUpPage {
    fn err(&self, k: &str) -> &str {
        self.errors.get(k).map_or("", String::as_str)
    }

    /// The name fields: (field, word key, as typed, autocomplete).
    fn names(&self) -> [(&'static str, &'static str, &str, &'static str); 2] {
        [
            ("family_name", "rp.family_name", self.form.family_name.as_str(), "family-name"),
            ("given_name", "rp.given_name", self.form.given_name.as_str(), "given-name"),
        ]
    }
}

fn page(t: Tr, offer: ReferralOffer, form: SignUp) -> SignUpPage {
    let offer_words =
        if offer.points > 0 { t.t("rp.offer").replace("{0}", &offer.points.to_string()) } else { String::new() };
    SignUpPage { t, offer, offer_words, done: false, form, errors: Default::default() }
}

fn invalid(t: Tr) -> Response {
    crate::ui::error_response_in(t, StatusCode::NOT_FOUND, t.t("rp.invalid"))
}

fn failed(t: Tr, e: AppError) -> Response {
    tracing::error!(error = %e, "referral page failed");
    crate::ui::error_response_in(t, StatusCode::INTERNAL_SERVER_ERROR, &crate::i18n::errors::app_error(&e, t.0))
}

/// `GET /r/{code}`
pub(super) async fn show(
    State(s): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    Path(code): Path<String>,
) -> Response {
    let t = super::survey::tr(&headers, q.as_deref());
    match s.app.referral_offer(&code).await {
        Ok(offer) => crate::ui::render_page(&page(t, offer, SignUp::default())),
        Err(AppError::NotFound(_)) => invalid(t),
        Err(e) => failed(t, e),
    }
}

/// `POST /r/{code}`: the sign-up. Refused input comes back as typed with the problem beside
/// its field (422).
pub(super) async fn sign_up(
    State(s): State<AppState>,
    headers: HeaderMap,
    RawQuery(q): RawQuery,
    Path(code): Path<String>,
    body: axum::body::Bytes,
) -> Response {
    let t = super::survey::tr(&headers, q.as_deref());
    let offer = match s.app.referral_offer(&code).await {
        Ok(o) => o,
        Err(AppError::NotFound(_)) => return invalid(t),
        Err(e) => return failed(t, e),
    };
    let get =
        |k: &str| form_urlencoded::parse(&body).find(|(f, _)| f == k).map(|(_, v)| v.into_owned()).unwrap_or_default();
    let form = SignUp {
        family_name: get("family_name"),
        given_name: get("given_name"),
        email: get("email"),
        phone: get("phone"),
        mail_ok: get("mail_ok") == "1",
    };
    match s.app.sign_up_by_referral(&code, &form).await {
        Ok(_) => {
            let mut p = page(t, offer, SignUp::default());
            p.done = true;
            crate::ui::render_page(&p)
        }
        Err(AppError::Validation(v)) => {
            let mut p = page(t, offer, form);
            for e in v.0 {
                p.errors.entry(e.field.clone()).or_insert_with(|| crate::i18n::errors::field_error(&e, t.0));
            }
            let mut r = crate::ui::render_page(&p);
            *r.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
            r
        }
        Err(AppError::NotFound(_)) => invalid(t),
        Err(e) => failed(t, e),
    }
}
