//! Users, passwords (argon2id), login sessions with CSRF tokens, and API tokens.

use argon2::password_hash::PasswordVerifier;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher};
use chrono::Duration;
use joren_core::role::Role;
use rand::RngCore;

use crate::{Actor, App, AppError, Result, sha256_hex};

/// How long a login session lasts.
pub const SESSION_DAYS: i64 = 14;

/// Prefix of API tokens, so they are recognisable in logs and secret scanners.
pub const TOKEN_PREFIX: &str = "jrn_";

/// Hashes a password with argon2id (random salt, PHC string).
pub fn hash_password(password: &str) -> Result<String> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AppError::Internal(format!("password hashing failed: {e}")))
}

/// Checks a password against a stored PHC hash.
pub fn verify_password(password: &str, hash: &str) -> bool {
    match PasswordHash::new(hash) {
        Ok(parsed) => Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok(),
        Err(_) => false,
    }
}

/// 32 random bytes from the OS-seeded CSPRNG, hex-encoded.
pub fn random_token() -> String {
    let mut buf = [0u8; 32];
    rand::rng().fill_bytes(&mut buf);
    buf.iter().map(|b| format!("{b:02x}")).collect()
}

/// A new login: the secret cookie value and the CSRF token for forms.
#[derive(Debug, Clone)]
pub struct Login {
    pub session_token: String,
    pub csrf_token: String,
    pub actor: Actor,
}

fn check_username(username: &str) -> Result<()> {
    let ok = !username.is_empty()
        && username.len() <= 64
        && username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '@'));
    if ok { Ok(()) } else { Err(joren_core::FieldError::new("username", joren_core::Code::BadUsername).into()) }
}

/// What an owner changes of a user; `None` leaves it as it is.
#[derive(Debug, Default, Clone, Copy)]
pub struct UserEdit<'a> {
    pub display_name: Option<&'a str>,
    pub role: Option<joren_core::role::Role>,
    pub password: Option<&'a str>,
    pub disabled: Option<bool>,
}

/// Longest display name (characters).
pub const MAX_DISPLAY_NAME_CHARS: usize = 100;

fn check_display_name(name: &str) -> Result<()> {
    let n = name.chars().count();
    if n > MAX_DISPLAY_NAME_CHARS {
        return Err(joren_core::FieldError::new("display_name", joren_core::Code::TooLong)
            .arg(MAX_DISPLAY_NAME_CHARS)
            .arg(n)
            .into());
    }
    Ok(())
}

/// A random password to hand over once: 16 letters and digits without look-alikes (0/O, 1/l/I),
/// in groups of four (`k7pm-x3qa-…`), about 80 bits.
pub fn temporary_password() -> String {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut buf = [0u8; 16];
    rand::rng().fill_bytes(&mut buf);
    let chars: Vec<char> = buf.iter().map(|b| ALPHABET[(*b as usize) % ALPHABET.len()] as char).collect();
    chars.chunks(4).map(|c| c.iter().collect::<String>()).collect::<Vec<_>>().join("-")
}

/// [`temporary_password`] that passes [`check_password`] for this user name (a short user name
/// can turn up inside a random one).
pub fn temporary_password_for(username: &str) -> String {
    loop {
        let p = temporary_password();
        if check_password(username, &p).is_ok() {
            return p;
        }
    }
}

/// Shortest password accepted for a new or changed password.
pub const MIN_PASSWORD_CHARS: usize = 10;

/// Passwords people pick first; refused whatever their length (compared case-insensitively).
const COMMON_PASSWORDS: &[&str] = &[
    "1234567890",
    "0123456789",
    "12345678910",
    "1111111111",
    "0000000000",
    "1q2w3e4r5t",
    "qwertyuiop",
    "qwerty1234",
    "asdfghjkl;",
    "password12",
    "password123",
    "password1234",
    "passw0rd12",
    "iloveyou12",
    "abcdefghij",
    "abcd123456",
    "letmein123",
    "welcome123",
    "admin12345",
    "administrator",
    "changeme123",
    "joren12345",
    "jorenjoren",
    "zaq12wsxcde",
    "1qaz2wsx3edc",
    "aaaaaaaaaa",
    "abc1234567",
];

/// The password policy: at least [`MIN_PASSWORD_CHARS`] characters, at most 256, not the user
/// name (nor containing it), not a commonly used password.
pub fn check_password(username: &str, password: &str) -> Result<()> {
    use joren_core::{Code, FieldError};
    let bad = |e: FieldError| Err(e.into());
    let n = password.chars().count();
    if n < MIN_PASSWORD_CHARS {
        return bad(FieldError::new("password", Code::PasswordTooShort).arg(MIN_PASSWORD_CHARS));
    }
    if n > 256 {
        return bad(FieldError::new("password", Code::PasswordTooLong).arg(256));
    }
    let lower = password.to_lowercase();
    if !username.is_empty() && lower.contains(&username.to_lowercase()) {
        return bad(FieldError::new("password", Code::PasswordHasUsername));
    }
    if COMMON_PASSWORDS.contains(&lower.as_str()) || lower.chars().all(|c| lower.starts_with(c)) {
        return bad(FieldError::new("password", Code::PasswordCommon));
    }
    Ok(())
}

/// Failed logins an account may have within [`FAILURE_WINDOW_MS`] before it is locked.
pub const ACCOUNT_FREE_FAILURES: i64 = 5;
/// Failed logins one client address may have (over any accounts) before it is locked.
pub const ADDRESS_FREE_FAILURES: i64 = 20;
/// Failures older than this are forgotten.
pub const FAILURE_WINDOW_MS: i64 = 30 * 60 * 1000;
/// How long a refusal of a locked login waits before it is answered (at most the lock's rest).
pub const LOCKED_ANSWER_DELAY_MS: i64 = 2_000;

/// Password hashing (argon2, ≈ 20 MB and tens of milliseconds of one core each) runs on a
/// bounded pool: at most `permits` at once on blocking threads, at most `max_waiting` queued;
/// beyond that a login is refused at once. So a flood of logins cannot take every core or the
/// memory from the rest of the shop.
#[derive(Debug)]
pub struct PasswordWork {
    permits: tokio::sync::Semaphore,
    waiting: std::sync::atomic::AtomicUsize,
    max_waiting: usize,
}

impl Default for PasswordWork {
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
        Self::new((cores / 2).max(1), 32)
    }
}

impl PasswordWork {
    pub fn new(permits: usize, max_waiting: usize) -> Self {
        Self { permits: tokio::sync::Semaphore::new(permits), waiting: Default::default(), max_waiting }
    }

    /// Runs `f` (a hash or a verification) on the pool; `None` when the queue is full.
    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> Result<Option<T>> {
        use std::sync::atomic::Ordering;
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Ok(None);
        }
        let permit = self.permits.acquire().await;
        self.waiting.fetch_sub(1, Ordering::SeqCst);
        let _permit = permit.map_err(|e| AppError::Internal(e.to_string()))?;
        tokio::task::spawn_blocking(f).await.map(Some).map_err(|e| AppError::Internal(e.to_string()))
    }
}

impl App {
    /// Creates a user (owners only; the CLI acts as owner).
    pub async fn create_user(
        &self,
        actor: &Actor,
        username: &str,
        display_name: &str,
        role: Role,
        password: &str,
    ) -> Result<i64> {
        actor.require_owner()?;
        check_username(username)?;
        check_display_name(display_name.trim())?;
        check_password(username, password)?;
        let hash = self.hash_on_pool(password).await?;
        let id = self.store.create_user(username, display_name.trim(), role, &hash).await?;
        self.audit(actor, "user.create", "user", id, serde_json::json!({"username": username, "role": role.as_str()}))
            .await?;
        Ok(id)
    }

    /// Changes a user's display name, role, password or disabled flag (owners only); the
    /// audit record is written with the change. Refused when it would leave no enabled owner.
    pub async fn update_user(&self, actor: &Actor, username: &str, edit: UserEdit<'_>) -> Result<()> {
        actor.require_owner()?;
        let user = self.store.user_by_username(username).await?.ok_or(AppError::NotFound("user"))?;
        let display_name = edit.display_name.map(str::trim);
        if let Some(name) = display_name {
            check_display_name(name)?;
        }
        let hash = match edit.password {
            Some(p) => {
                check_password(username, p)?;
                Some(self.hash_on_pool(p).await?)
            }
            None => None,
        };
        self.write_user_change(actor, &user, display_name, edit.role, hash.as_deref(), edit.disabled, false).await
    }

    /// Gives a user a new random password (owners only), returned to be handed over once; the
    /// user's sessions end. For staff who forgot theirs.
    pub async fn reset_password(&self, actor: &Actor, username: &str) -> Result<String> {
        actor.require_owner()?;
        let user = self.store.user_by_username(username).await?.ok_or(AppError::NotFound("user"))?;
        let password = temporary_password_for(username);
        let hash = self.hash_on_pool(&password).await?;
        self.write_user_change(actor, &user, None, None, Some(&hash), None, true).await?;
        Ok(password)
    }

    #[allow(clippy::too_many_arguments)]
    async fn write_user_change(
        &self,
        actor: &Actor,
        user: &joren_store::User,
        display_name: Option<&str>,
        role: Option<Role>,
        password_hash: Option<&str>,
        disabled: Option<bool>,
        reset: bool,
    ) -> Result<()> {
        let change = joren_store::UserChange { display_name, role, password_hash, disabled };
        let detail = serde_json::json!({
            "username": user.username,
            "display_name": display_name,
            "role": role.map(Role::as_str),
            "password_changed": password_hash.is_some(),
            "password_reset": reset,
            "disabled": disabled,
        });
        let action = if reset { "user.password_reset" } else { "user.update" };
        self.store.update_user(user.id, &change, &actor.audit_note(action, detail)).await?;
        Ok(())
    }

    async fn hash_on_pool(&self, password: &str) -> Result<String> {
        let password = password.to_string();
        self.password_work
            .run(move || hash_password(&password))
            .await?
            .ok_or_else(|| AppError::Conflict(joren_core::Code::Busy.into()))?
    }

    /// Checks a username and password and opens a session. A login is refused without any
    /// password work while its account (or the client's address) is locked after repeated
    /// failures ([`AppError::TooManyAttempts`]); every failure is counted and logged. An
    /// unknown user costs the same work and gets the same answer as a wrong password.
    pub async fn login(&self, username: &str, password: &str, client: Option<std::net::IpAddr>) -> Result<Login> {
        let username = username.trim();
        let now = self.now().timestamp_millis();
        let account_key = format!("user:{}", username.to_lowercase());
        let address_key = client.map(|ip| format!("ip:{ip}"));
        let keys: Vec<&str> = std::iter::once(account_key.as_str()).chain(address_key.as_deref()).collect();
        if let Some(until) = self.store.login_locked_until(&keys, now).await? {
            // Logged when the lock began (`login failed` with its count); a line per refused
            // guess would let a flood fill the log.
            tracing::debug!(user = username, client = ?client, "login refused: locked after repeated failures");
            // The answer waits (up to LOCKED_ANSWER_DELAY_MS, never past the lock): a guesser
            // waits for each refusal instead of being answered thousands of times a second,
            // and a waiting answer costs the server a timer, not a core.
            let wait = (until - now).clamp(0, LOCKED_ANSWER_DELAY_MS);
            tokio::time::sleep(std::time::Duration::from_millis(wait as u64)).await;
            return Err(AppError::TooManyAttempts { retry_after_secs: ((until - now - wait) / 1000).max(1) });
        }
        let user = self.store.user_by_username(username).await?;
        if password.len() > 1024 {
            return self.login_failed(username, &account_key, address_key.as_deref(), client, now).await;
        }
        let (hash, live) = match &user {
            Some(u) => (u.password_hash.clone(), !u.disabled),
            // Same work whether or not the user exists, so timing does not reveal usernames.
            None => (DUMMY_HASH.to_string(), false),
        };
        let pw = password.to_string();
        let verified = self.password_work.run(move || verify_password(&pw, &hash)).await?;
        let Some(verified) = verified else {
            tracing::warn!(user = username, client = ?client, "login refused: password work queue full");
            return Err(AppError::TooManyAttempts { retry_after_secs: 1 });
        };
        let Some(user) = user.filter(|_| live && verified) else {
            return self.login_failed(username, &account_key, address_key.as_deref(), client, now).await;
        };
        self.store.clear_login_failures(&account_key).await?;
        let session_token = random_token();
        let csrf_token = random_token();
        let expires = self.now() + Duration::days(SESSION_DAYS);
        self.store.create_session(&sha256_hex(session_token.as_bytes()), user.id, &csrf_token, expires).await?;
        let actor = Actor::from_user(&user);
        self.audit(&actor, "session.login", "user", user.id, serde_json::json!({})).await?;
        Ok(Login { session_token, csrf_token, actor })
    }

    async fn login_failed(
        &self,
        username: &str,
        account_key: &str,
        address_key: Option<&str>,
        client: Option<std::net::IpAddr>,
        now: i64,
    ) -> Result<Login> {
        let failures =
            self.store.record_login_failure(account_key, now, FAILURE_WINDOW_MS, ACCOUNT_FREE_FAILURES).await?;
        if let Some(k) = address_key {
            self.store.record_login_failure(k, now, FAILURE_WINDOW_MS, ADDRESS_FREE_FAILURES).await?;
        }
        tracing::warn!(user = username, client = ?client, failures, "login failed");
        Err(AppError::Unauthorized)
    }

    /// The actor and CSRF token of a session cookie value, if the session is live.
    pub async fn session(&self, session_token: &str) -> Result<Option<(Actor, String)>> {
        let s = self.store.session(&sha256_hex(session_token.as_bytes())).await?;
        Ok(s.map(|s| (Actor::from_user(&s.user), s.csrf_token)))
    }

    pub async fn logout(&self, session_token: &str) -> Result<()> {
        self.store.delete_session(&sha256_hex(session_token.as_bytes())).await?;
        Ok(())
    }

    /// Creates an API token for `username`; returns the secret (shown once) and its id.
    pub async fn create_api_token(&self, actor: &Actor, username: &str, name: &str) -> Result<(String, i64)> {
        actor.require_owner()?;
        let name = name.trim();
        let n = name.chars().count();
        if n == 0 {
            return Err(joren_core::FieldError::new("name", joren_core::Code::Required).into());
        }
        if n > 100 {
            return Err(joren_core::FieldError::new("name", joren_core::Code::TooLong).arg(100).arg(n).into());
        }
        let user = self.store.user_by_username(username).await?.ok_or(AppError::NotFound("user"))?;
        let secret = format!("{TOKEN_PREFIX}{}", random_token());
        let id = self.store.create_api_token(user.id, name, &sha256_hex(secret.as_bytes())).await?;
        self.audit(actor, "token.create", "api_token", id, serde_json::json!({"user": username, "name": name})).await?;
        Ok((secret, id))
    }

    pub async fn revoke_api_token(&self, actor: &Actor, id: i64) -> Result<()> {
        actor.require_owner()?;
        self.store.revoke_api_token(id).await?;
        self.audit(actor, "token.revoke", "api_token", id, serde_json::json!({})).await
    }

    /// The actor behind a bearer token.
    pub async fn authenticate_token(&self, secret: &str) -> Result<Actor> {
        if !secret.starts_with(TOKEN_PREFIX) {
            return Err(AppError::Unauthorized);
        }
        let user = self.store.user_by_api_token(&sha256_hex(secret.as_bytes())).await?;
        user.map(|u| Actor::from_user(&u)).ok_or(AppError::Unauthorized)
    }
}

/// A valid argon2id hash of a random string, verified against when the user does not exist.
const DUMMY_HASH: &str =
    "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3wC3tPpS8RkYDkGgUsWvXk0o9qrvVJ8Z3MB3D1wVZ1o";

impl App {
    /// All users (owners only).
    pub async fn list_users(&self, actor: &Actor) -> Result<Vec<joren_store::User>> {
        actor.require_owner()?;
        Ok(self.store.list_users().await?)
    }

    /// The newest audit records, optionally of one entity (owners only).
    pub async fn audit_log(
        &self,
        actor: &Actor,
        entity: Option<(&str, &str)>,
        limit: i64,
    ) -> Result<Vec<joren_store::AuditEntry>> {
        actor.require_owner()?;
        Ok(self.store.audit_log(entity, limit.clamp(1, 1000)).await?)
    }

    /// Audit records for the owner's page: by who did it, on which customer, between two
    /// local days (inclusive) of the shop's time zone; newest first, `limit` after `offset`.
    pub async fn audit_search(
        &self,
        actor: &Actor,
        user_id: Option<i64>,
        customer_id: Option<i64>,
        days: (Option<chrono::NaiveDate>, Option<chrono::NaiveDate>),
        limit: i64,
        offset: i64,
    ) -> Result<Vec<joren_store::AuditEntry>> {
        actor.require_owner()?;
        let start_of = |d: chrono::NaiveDate| {
            use chrono::TimeZone;
            self.tz().from_local_datetime(&d.and_time(chrono::NaiveTime::MIN)).earliest().map(|t| t.timestamp_millis())
        };
        let filter = joren_store::AuditFilter {
            entity: customer_id.map(|c| ("customer".to_string(), c.to_string())),
            user_id,
            from_ms: days.0.and_then(start_of),
            until_ms: days.1.and_then(|d| d.succ_opt()).and_then(start_of),
            limit: limit.clamp(1, 1000),
            offset: offset.clamp(0, 1_000_000),
        };
        Ok(self.store.audit_search(&filter).await?)
    }

    /// Checks that the database answers.
    pub async fn health(&self) -> Result<()> {
        self.store.count_users().await?;
        Ok(())
    }
}

impl App {
    /// API tokens' metadata, never their secrets (owners only).
    pub async fn list_api_tokens(&self, actor: &Actor) -> Result<Vec<joren_store::ApiToken>> {
        actor.require_owner()?;
        Ok(self.store.list_api_tokens().await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_hash_with_argon2id_and_verify() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password("correct horse", &h));
        assert!(!verify_password("wrong horse", &h));
        assert!(!verify_password("x", "not a hash"));
    }

    #[test]
    fn temporary_passwords_are_readable_random_and_pass_the_policy() {
        let a = temporary_password();
        assert_eq!(a.len(), 19, "{a}");
        assert_eq!(a.split('-').map(str::len).collect::<Vec<_>>(), [4, 4, 4, 4], "{a}");
        assert!(!a.chars().any(|c| "01lIoO".contains(c)), "no look-alikes: {a}");
        assert_ne!(a, temporary_password());
        // A one-letter user name would often be inside a random password: never handed out.
        for _ in 0..50 {
            let p = temporary_password_for("a");
            assert!(!p.contains('a') && check_password("a", &p).is_ok(), "{p}");
        }
    }

    #[test]
    fn tokens_are_random_and_long() {
        let a = random_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_token());
    }
}
