//! Signing in and out, and the language switch.

use super::*;

pub(super) async fn set_lang(Path(code): Path<String>, Query(q): Query<NextQuery>) -> Response {
    let lang = Lang::parse(&code);
    (
        [(header::SET_COOKIE, format!("{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Lax", lang.code()))],
        Redirect::to(&safe_next(q.next.as_deref())),
    )
        .into_response()
}

#[derive(Deserialize)]
pub(super) struct NextQuery {
    next: Option<String>,
    error: Option<String>,
}

#[derive(Template)]
#[template(path = "login.html")]
pub(super) struct LoginPage {
    t: Tr,
    next: String,
    /// Why the last attempt failed, worded.
    message: Option<String>,
    /// The login form's CSRF token (also in the `joren_login` cookie).
    csrf: String,
}

/// Cookie holding the login form's CSRF token (double submit: the form must send it back).
pub(super) const LOGIN_CSRF_COOKIE: &str = "joren_login";

pub(super) async fn login_page(State(s): State<AppState>, UiLang(t): UiLang, Query(q): Query<NextQuery>) -> Response {
    let message = q.error.as_deref().map(|e| match e {
        "locked" => t.t("login.locked").to_string(),
        "csrf" => t.t("login.expired").to_string(),
        _ => t.t("login.failed").to_string(),
    });
    let csrf = auth::random_token();
    let secure = if s.app.config.secure_cookies { "; Secure" } else { "" };
    let cookie = format!("{LOGIN_CSRF_COOKIE}={csrf}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{secure}");
    let page = render(&LoginPage { t, next: safe_next(q.next.as_deref()), message, csrf });
    ([(header::SET_COOKIE, cookie)], page).into_response()
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    username: String,
    password: String,
    #[serde(default)]
    next: String,
    #[serde(default)]
    csrf: String,
}

/// The client's address as the socket saw it (no proxy header is trusted).
pub(crate) struct ClientAddr(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientAddr {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut axum::http::request::Parts, _: &S) -> Result<Self, Self::Rejection> {
        let info = parts.extensions.get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
        Ok(Self(info.map(|c| c.0.ip())))
    }
}

pub(super) async fn login_submit(
    State(s): State<AppState>,
    ClientAddr(client): ClientAddr,
    headers: HeaderMap,
    Form(f): Form<LoginForm>,
) -> Response {
    let next = safe_next(Some(&f.next));
    let back = |why: &str| Redirect::to(&format!("/login?error={why}&next={}", urlencode(&next))).into_response();
    let sent_cookie = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == LOGIN_CSRF_COOKIE)
        .map(|(_, v)| v.to_string());
    if !sent_cookie.is_some_and(|c| !f.csrf.is_empty() && constant_time_eq(&c, &f.csrf)) {
        return back("csrf");
    }
    match s.app.login(&f.username, &f.password, client).await {
        Ok(login) => {
            let secure = if s.app.config.secure_cookies { "; Secure" } else { "" };
            let cookie = format!(
                "{SESSION_COOKIE}={}; Path=/; HttpOnly; SameSite=Lax; Max-Age={}{secure}",
                login.session_token,
                auth::SESSION_DAYS * 86400
            );
            let used = format!("{LOGIN_CSRF_COOKIE}=; Path=/login; HttpOnly; SameSite=Strict; Max-Age=0");
            let mut resp = ([(header::SET_COOKIE, cookie)], Redirect::to(&next)).into_response();
            if let Ok(v) = header::HeaderValue::from_str(&used) {
                resp.headers_mut().append(header::SET_COOKIE, v);
            }
            resp
        }
        Err(AppError::TooManyAttempts { .. }) => back("locked"),
        Err(_) => back("1"),
    }
}

pub(super) async fn logout(
    State(s): State<AppState>,
    headers: HeaderMap,
    Checked { user: _, t, form: CsrfForm {} }: Checked<CsrfForm>,
) -> UiResult {
    let token = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == SESSION_COOKIE)
        .map(|(_, v)| v.to_string());
    if let Some(token) = token {
        s.app.logout(&token).await.map_err(|e| UiError::from_app(t, e))?;
    }
    let clear = format!("{SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0");
    Ok(([(header::SET_COOKIE, clear)], Redirect::to("/login")).into_response())
}
