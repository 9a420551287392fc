//! Users, passwords (argon2id), login sessions with CSRF tokens, and API tokens.

use argon2::password_hash::PasswordVerifier;
use argon2::password_hash::phc::PasswordHash;
use argon2::{Argon2, PasswordHasher};
use chrono::{Duration, Utc};
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
    if ok {
        Ok(())
    } else {
        Err(joren_core::FieldError::new("username", "ユーザー名は英数字と _ - . @ の64文字以内です").into())
    }
}

fn check_password(password: &str) -> Result<()> {
    if password.chars().count() < 8 {
        return Err(joren_core::FieldError::new("password", "パスワードは8文字以上にしてください").into());
    }
    Ok(())
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
        check_password(password)?;
        let hash = hash_password(password)?;
        let id = self.store.create_user(username, display_name, role, &hash).await?;
        self.audit(actor, "user.create", "user", id, serde_json::json!({"username": username, "role": role.as_str()}))
            .await?;
        Ok(id)
    }

    /// Changes a user's role, password or disabled flag (owners only).
    pub async fn update_user(
        &self,
        actor: &Actor,
        username: &str,
        role: Option<Role>,
        password: Option<&str>,
        disabled: Option<bool>,
    ) -> Result<()> {
        actor.require_owner()?;
        let user = self.store.user_by_username(username).await?.ok_or(AppError::NotFound("user"))?;
        let hash = match password {
            Some(p) => {
                check_password(p)?;
                Some(hash_password(p)?)
            }
            None => None,
        };
        self.store.update_user(user.id, role, hash.as_deref(), disabled).await?;
        self.audit(
            actor,
            "user.update",
            "user",
            user.id,
            serde_json::json!({"role": role.map(Role::as_str), "password_changed": password.is_some(), "disabled": disabled}),
        )
        .await
    }

    /// Checks a username and password and opens a session.
    pub async fn login(&self, username: &str, password: &str) -> Result<Login> {
        let user = self.store.user_by_username(username.trim()).await?;
        let Some(user) = user.filter(|u| !u.disabled && verify_password(password, &u.password_hash)) else {
            // Same work whether or not the user exists, so timing does not reveal usernames.
            let _ = verify_password(password, DUMMY_HASH);
            return Err(AppError::Unauthorized);
        };
        let session_token = random_token();
        let csrf_token = random_token();
        let expires = Utc::now() + Duration::days(SESSION_DAYS);
        self.store.create_session(&sha256_hex(session_token.as_bytes()), user.id, &csrf_token, expires).await?;
        let actor = Actor::from_user(&user);
        self.audit(&actor, "session.login", "user", user.id, serde_json::json!({})).await?;
        Ok(Login { session_token, csrf_token, actor })
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
    fn tokens_are_random_and_long() {
        let a = random_token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, random_token());
    }
}
