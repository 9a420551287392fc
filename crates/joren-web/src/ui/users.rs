//! The staff page (owners): who may sign in and with which role, new accounts, a forgotten
//! password replaced by a temporary one, accounts disabled or enabled, and the API tokens of
//! each account, each shown once when made and revoked with one button.

use askama::Template;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect};
use joren_app::AppError;
use joren_app::auth::UserEdit;
use joren_core::role::Role;
use joren_core::{Code, FieldError, FieldErrors};

use super::error_flash::ErrorFlash;
use super::extract::Checked;
use super::form_state::{FormState, RowForm};
use super::{Chrome, Staff, UiError, UiResult, render, role_key};
use crate::AppState;
use crate::auth::WebUser;
use crate::i18n::Tr;

pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("us.nav", "スタッフ", "Staff"),
    ("us.title", "スタッフとアクセス", "Staff and access"),
    (
        "us.help",
        "Joren にログインできる人と、できることを決めます。オーナーはすべて、スタッフは顧客・注文・ポイントの記録、閲覧のみは見るだけです。",
        "Who can sign in to Joren and what they may do: owners everything, staff record customers, orders and points, viewers only look.",
    ),
    ("us.name", "表示名", "Display name"),
    ("us.username", "ログイン名", "Sign-in name"),
    ("us.role", "権限", "Role"),
    ("us.status", "状態", "Status"),
    ("us.active", "有効", "Active"),
    ("us.disabled", "無効", "Disabled"),
    ("us.since", "作成日", "Since"),
    ("us.you", "(あなた)", "(you)"),
    ("us.save", "変更を保存", "Save"),
    ("us.disable", "無効にする", "Disable"),
    ("us.enable", "有効に戻す", "Enable again"),
    (
        "us.disable_confirm",
        "この人はログインできなくなり、API トークンも無効になります。よろしいですか?",
        "They will be signed out and their API tokens revoked. Continue?",
    ),
    ("us.reset", "パスワードを再発行", "New password"),
    (
        "us.reset_confirm",
        "今のパスワードは使えなくなり、仮パスワードを1度だけ表示します。よろしいですか?",
        "The current password stops working and a temporary one is shown once. Continue?",
    ),
    ("us.new", "スタッフを追加", "Add a staff member"),
    ("us.password", "パスワード", "Password"),
    (
        "us.password_help",
        "空欄なら仮パスワードを作って1度だけ表示します (10文字以上)。",
        "Leave empty to get a temporary password shown once (10 characters or more).",
    ),
    ("us.create", "追加", "Add"),
    ("us.shown_password", "{0} さんの仮パスワード", "Temporary password for {0}"),
    ("us.shown_token", "{0} さんの API トークン「{1}」", "API token “{1}” for {0}"),
    (
        "us.shown_once",
        "この画面を閉じると2度と表示されません。今コピーして本人に渡してください。",
        "It is not shown again once you leave this page: copy it now and hand it over.",
    ),
    ("us.tokens", "API トークン", "API tokens"),
    (
        "us.tokens_help",
        "レジや他のシステムが Joren の API を使うための鍵です。持ち主の権限で動きます。",
        "Keys for a till or another system to use Joren's API, acting with their owner's role.",
    ),
    ("us.token_name", "用途", "Used for"),
    ("us.token_user", "持ち主", "Belongs to"),
    ("us.token_made", "作成", "Made"),
    ("us.token_used", "最終利用", "Last used"),
    ("us.token_never", "未使用", "Never"),
    ("us.token_live", "有効", "Live"),
    ("us.token_revoked", "無効", "Revoked"),
    ("us.revoke", "無効にする", "Revoke"),
    (
        "us.revoke_confirm",
        "このトークンを使っている連携は止まります。よろしいですか?",
        "Whatever uses this token stops working. Continue?",
    ),
    ("us.no_tokens", "API トークンはまだありません。", "No API tokens yet."),
    ("us.new_token", "トークンを作る", "Make a token"),
    ("us.token_placeholder", "例: レジ1", "e.g. Till 1"),
];

pub(super) struct UserRow {
    id: i64,
    name: String,
    username: String,
    role: &'static str,
    role_value: &'static str,
    disabled: bool,
    since: String,
    is_you: bool,
}

pub(super) struct TokenRow {
    id: i64,
    name: String,
    owner: String,
    made: String,
    used: Option<String>,
    revoked: bool,
}

/// A secret made just now, shown on this answer only.
pub(super) struct Shown {
    title: String,
    secret: String,
}

#[derive(Template)]
#[template(path = "users.html")]
pub(super) struct UsersPage {
    c: Chrome,
    users: Vec<UserRow>,
    tokens: Vec<TokenRow>,
    /// The new-user form.
    f: FormState,
    /// The new-token form.
    tf: FormState,
    shown: Option<Shown>,
    error: Option<String>,
    /// An account's row form that came back refused (its name and role as typed, why beside).
    row: RowForm,
}

/// `GET /users`.
pub(super) async fn page(
    State(s): State<AppState>,
    ErrorFlash(error): ErrorFlash,
    Staff { user, t }: Staff,
) -> UiResult {
    users_page(&s, t, &user, Forms { error, ..Forms::fresh() }).await
}

struct Forms {
    user: FormState,
    token: FormState,
    shown: Option<Shown>,
    error: Option<String>,
    row: RowForm,
}

impl Forms {
    /// Both forms empty (a new account is staff unless chosen otherwise), nothing shown.
    fn fresh() -> Self {
        Self {
            user: FormState::new([("role", "staff".to_string())]),
            token: FormState::default(),
            shown: None,
            error: None,
            row: RowForm::default(),
        }
    }

    /// The page with a secret made just now, shown once.
    fn showing(title: String, secret: String) -> Self {
        Self { shown: Some(Shown { title, secret }), ..Self::fresh() }
    }
}

async fn users_page(s: &AppState, t: Tr, me: &WebUser, forms: Forms) -> UiResult {
    let err = |e| UiError::from_app(t, e);
    let accounts = s.app.list_users(&me.actor).await.map_err(err)?;
    let tokens = s.app.list_api_tokens(&me.actor).await.map_err(err)?;
    let name_of = |id: i64| {
        accounts.iter().find(|u| u.id == id).map(|u| shown_name(&u.display_name, &u.username)).unwrap_or_default()
    };
    let tokens = tokens
        .into_iter()
        .rev()
        .map(|k| TokenRow {
            id: k.id,
            owner: name_of(k.user_id),
            made: t.date(k.created_at.with_timezone(&s.app.tz()).date_naive()),
            used: k.last_used_at.map(|at| s.app.local_time(at)),
            revoked: k.revoked,
            name: k.name,
        })
        .collect();
    let users = accounts
        .iter()
        .map(|u| UserRow {
            id: u.id,
            name: shown_name(&u.display_name, &u.username),
            username: u.username.clone(),
            role: role_key(u.role),
            role_value: u.role.as_str(),
            disabled: u.disabled,
            since: t.date(u.created_at.with_timezone(&s.app.tz()).date_naive()),
            is_you: me.actor.user_id == Some(u.id),
        })
        .collect();
    let mut tf = forms.token;
    if tf.v("user").is_empty() {
        tf.values.insert("user", me.actor.user_id.map(|id| id.to_string()).unwrap_or_default());
    }
    Ok(render(&UsersPage {
        c: Chrome::new(t, me, "settings", "/users"),
        users,
        tokens,
        f: forms.user,
        tf,
        shown: forms.shown,
        error: forms.error,
        row: forms.row,
    }))
}

fn shown_name(display_name: &str, username: &str) -> String {
    if display_name.trim().is_empty() { username.to_string() } else { display_name.to_string() }
}

/// The account behind a row's id (owners only: the list is theirs to read).
async fn account(s: &AppState, me: &WebUser, t: Tr, id: i64) -> Result<joren_app::User, UiError> {
    let accounts = s.app.list_users(&me.actor).await.map_err(|e| UiError::from_app(t, e))?;
    accounts.into_iter().find(|u| u.id == id).ok_or_else(|| UiError::from_app(t, AppError::NotFound("user")))
}

fn parse_role(field: &str, v: &str) -> Result<Role, FieldError> {
    Role::parse(v.trim()).ok_or_else(|| FieldError::new(field, Code::Choose))
}

#[derive(serde::Deserialize)]
pub(super) struct NewUserForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
    #[serde(default)]
    password: String,
}

/// `POST /users`: adds an account. Without a typed password a temporary one is made and
/// shown on this answer only; refused, the form comes back as typed (the password aside)
/// with each problem beside its field.
pub(super) async fn create(State(s): State<AppState>, Checked { user: me, t, form }: Checked<NewUserForm>) -> UiResult {
    let username = form.username.trim();
    let typed = !form.password.is_empty();
    let password = if typed { form.password.clone() } else { joren_app::auth::temporary_password_for(username) };
    let created = match parse_role("role", &form.role) {
        Ok(role) => s.app.create_user(&me.actor, username, &form.display_name, role, &password).await,
        Err(e) => Err(AppError::Validation(FieldErrors(vec![e]))),
    };
    match created {
        Ok(_) if typed => Ok(Redirect::to("/users").into_response()),
        Ok(_) => {
            let who = shown_name(form.display_name.trim(), username);
            let title = t.t("us.shown_password").replace("{0}", &who);
            users_page(&s, t, &me, Forms::showing(title, password)).await
        }
        Err(AppError::Validation(v)) => refused_new_user(&s, t, &me, &form, v.0).await,
        // The only conflict of a new account is its name being taken.
        Err(AppError::Conflict(p)) => {
            let taken = FieldError { field: "username".into(), code: p.code, args: p.args };
            refused_new_user(&s, t, &me, &form, vec![taken]).await
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

/// The new-user form back as typed (the password aside), each problem beside its field.
async fn refused_new_user(s: &AppState, t: Tr, me: &WebUser, form: &NewUserForm, errors: Vec<FieldError>) -> UiResult {
    let mut f = FormState::new([
        ("username", form.username.clone()),
        ("display_name", form.display_name.clone()),
        ("role", form.role.clone()),
    ]);
    f.refuse(&errors, t);
    super::refused(users_page(s, t, me, Forms { user: f, ..Forms::fresh() }).await)
}

#[derive(serde::Deserialize)]
pub(super) struct EditForm {
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    role: String,
}

/// `POST /users/{id}`: changes a display name and role from the account's row.
pub(super) async fn update(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user: me, t, form }: Checked<EditForm>,
) -> UiResult {
    let account = account(&s, &me, t, id).await?;
    let edit = match parse_role("role", &form.role) {
        Ok(role) => Ok(UserEdit { display_name: Some(&form.display_name), role: Some(role), ..Default::default() }),
        Err(e) => Err(AppError::Validation(FieldErrors(vec![e]))),
    };
    let done = match edit {
        Ok(edit) => s.app.update_user(&me.actor, &account.username, edit).await,
        Err(e) => Err(e),
    };
    finish(&s, t, &me, ("user-edit", id), done, [("display_name", form.display_name), ("role", form.role)]).await
}

/// `POST /users/{id}/disable` and `/enable`.
pub(super) async fn disable(State(s): State<AppState>, Path(id): Path<i64>, c: Checked<super::CsrfForm>) -> UiResult {
    set_disabled(s, id, c, true).await
}

pub(super) async fn enable(State(s): State<AppState>, Path(id): Path<i64>, c: Checked<super::CsrfForm>) -> UiResult {
    set_disabled(s, id, c, false).await
}

async fn set_disabled(
    s: AppState,
    id: i64,
    Checked { user: me, t, .. }: Checked<super::CsrfForm>,
    on: bool,
) -> UiResult {
    let account = account(&s, &me, t, id).await?;
    let done =
        s.app.update_user(&me.actor, &account.username, UserEdit { disabled: Some(on), ..Default::default() }).await;
    if done.is_ok() && on && me.actor.user_id == Some(id) {
        // Disabling oneself ends one's own session: the login page is what is left.
        return Ok(Redirect::to("/login").into_response());
    }
    finish(&s, t, &me, ("user-state", id), done, []).await
}

/// Back to the list; refused, the list with the account's row open, what was typed in it kept
/// and why beside it (the last owner cannot be demoted or disabled, a name too long).
async fn finish(
    s: &AppState,
    t: Tr,
    me: &WebUser,
    (form, id): (&'static str, i64),
    done: Result<(), AppError>,
    typed: impl IntoIterator<Item = (&'static str, String)>,
) -> UiResult {
    match done {
        Ok(()) => Ok(Redirect::to("/users").into_response()),
        Err(e @ (AppError::Validation(_) | AppError::Conflict(_))) => {
            let row = RowForm::refused(form, id, typed, &e, t);
            let status = if row.conflict {
                axum::http::StatusCode::CONFLICT
            } else {
                axum::http::StatusCode::UNPROCESSABLE_ENTITY
            };
            let mut page = users_page(s, t, me, Forms { row, ..Forms::fresh() }).await?;
            *page.status_mut() = status;
            Ok(page)
        }
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

/// `POST /users/{id}/password`: replaces a forgotten password by a temporary one, shown once.
pub(super) async fn reset_password(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user: me, t, .. }: Checked<super::CsrfForm>,
) -> UiResult {
    let account = account(&s, &me, t, id).await?;
    let password = s.app.reset_password(&me.actor, &account.username).await.map_err(|e| UiError::from_app(t, e))?;
    if me.actor.user_id == Some(id) {
        // One's own sessions ended with the old password; sign in with the new one.
        return Ok(Redirect::to("/login").into_response());
    }
    let who = shown_name(&account.display_name, &account.username);
    users_page(&s, t, &me, Forms::showing(t.t("us.shown_password").replace("{0}", &who), password)).await
}

#[derive(serde::Deserialize)]
pub(super) struct TokenForm {
    #[serde(default)]
    user: String,
    #[serde(default)]
    name: String,
}

/// `POST /users/tokens`: makes an API token for an account, shown on this answer only.
pub(super) async fn create_token(
    State(s): State<AppState>,
    Checked { user: me, t, form }: Checked<TokenForm>,
) -> UiResult {
    let owner = match joren_core::text::parse_int(&form.user) {
        Some(id) => account(&s, &me, t, id).await.ok(),
        None => None,
    };
    // Refused, the token form as typed with each problem beside its field.
    let refused = |e: FieldErrors| {
        let mut token = FormState::new([("user", form.user.clone()), ("name", form.name.clone())]);
        token.refuse(&e.0, t);
        Forms { token, ..Forms::fresh() }
    };
    let Some(owner) = owner else {
        let forms = refused(FieldErrors(vec![FieldError::new("user", Code::Choose)]));
        return super::refused(users_page(&s, t, &me, forms).await);
    };
    match s.app.create_api_token(&me.actor, &owner.username, &form.name).await {
        Ok((secret, _)) => {
            let who = shown_name(&owner.display_name, &owner.username);
            let title = t.t("us.shown_token").replace("{0}", &who).replace("{1}", form.name.trim());
            users_page(&s, t, &me, Forms::showing(title, secret)).await
        }
        Err(AppError::Validation(e)) => super::refused(users_page(&s, t, &me, refused(e)).await),
        Err(e) => Err(UiError::from_app(t, e)),
    }
}

/// `POST /users/tokens/{id}/revoke`.
pub(super) async fn revoke_token(
    State(s): State<AppState>,
    Path(id): Path<i64>,
    Checked { user: me, t, .. }: Checked<super::CsrfForm>,
) -> UiResult {
    s.app.revoke_api_token(&me.actor, id).await.map_err(|e| UiError::from_app(t, e))?;
    Ok(Redirect::to("/users").into_response())
}
