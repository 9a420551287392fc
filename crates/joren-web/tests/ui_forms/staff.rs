//! The staff page and the accounts API (owners, both backends): accounts added with a typed or
//! a temporary password, roles changed, passwords replaced, accounts disabled and enabled,
//! API tokens made and revoked — and never a shop without an enabled owner.

use serde_json::{Value, json};

use super::common::{self, Session, backends, spawn};

/// The `<tr>` of the account or token row with this id.
fn row<'a>(html: &'a str, id: &str) -> &'a str {
    html.split(&format!("id=\"{id}\"")).nth(1).unwrap_or_else(|| panic!("no #{id}")).split("</tr>").next().unwrap()
}

/// The secret shown once on the page.
fn secret(html: &str) -> String {
    html.split("id=\"secret-value\">").nth(1).expect("a secret is shown").split('<').next().unwrap().to_string()
}

/// The text beside a field of the new-user or new-token form.
fn field_error<'a>(html: &'a str, input_id: &str) -> &'a str {
    let after = html.split(&format!("id=\"{input_id}\"")).nth(1).unwrap_or_else(|| panic!("no #{input_id}"));
    let label = after.split("</label>").next().unwrap();
    label.split("class=\"field-error\">").nth(1).map_or("", |e| e.split('<').next().unwrap())
}

/// Whether the login form opens a session with this name and password.
async fn signs_in(t: &common::TestApp, username: &str, password: &str) -> bool {
    let r = t.post_login(username, password).await;
    r.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("joren_session="))
}

#[tokio::test]
async fn the_owner_manages_staff_and_tokens_from_the_page() {
    for b in backends() {
        let t = spawn(b).await;
        let owner = Session { t: &t, cookie: t.login_cookie("owner").await };
        let (status, html) = owner.page("/users").await;
        assert_eq!(status, 200, "[{b}]");
        let list = html.split("id=\"user-list\"").nth(1).unwrap().split("</table>").next().unwrap();
        assert!(list.contains("オーナー") && list.contains("スタッフ") && list.contains("閲覧のみ"), "[{b}] {list}");
        assert!(row(&html, "user-1").contains("\">オーナー</td>"), "[{b}] roles in words");
        assert!(html.contains("id=\"nav-users\""), "[{b}] the owner's menu links the page");

        // Refused: every problem beside its field, what was typed kept (never the password).
        let (status, _, html) = owner
            .post(
                "/users",
                &[("display_name", "新人 花子"), ("username", "hana ko"), ("password", "short"), ("role", "staff")],
            )
            .await;
        assert_eq!(status, 422, "[{b}]");
        assert!(field_error(&html, "new-user-username").contains("ユーザー名は英数字"), "[{b}]");
        assert!(html.contains("value=\"新人 花子\"") && html.contains("value=\"hana ko\""), "[{b}] input kept");
        assert!(!html.contains("value=\"short\""), "[{b}] the password is not sent back");
        let (status, _, html) = owner
            .post("/users", &[("display_name", "x"), ("username", "staff"), ("password", ""), ("role", "staff")])
            .await;
        assert_eq!(status, 422, "[{b}]");
        assert!(field_error(&html, "new-user-username").contains("staff はすでに使われています"), "[{b}]");

        // Added without a password: a temporary one shown once, and it signs in.
        let (status, _, html) = owner
            .post(
                "/users",
                &[("display_name", "新人 花子"), ("username", "hanako"), ("password", ""), ("role", "staff")],
            )
            .await;
        assert_eq!(status, 200, "[{b}]");
        assert!(html.contains("新人 花子 さんの仮パスワード"), "[{b}]");
        let first = secret(&html);
        assert_eq!(first.len(), 19, "[{b}] four groups of four: {first}");
        assert!(signs_in(&t, "hanako", &first).await, "[{b}] the temporary password signs in");
        let (_, again) = owner.page("/users").await;
        assert!(!again.contains(&first), "[{b}] shown once only");
        let users = t.app.list_users(&joren_app::Actor::system("t")).await.unwrap();
        let hanako = users.iter().find(|u| u.username == "hanako").unwrap().id;
        let owner_id = users.iter().find(|u| u.username == "owner").unwrap().id;
        // Added with a typed password: straight back to the list.
        let (status, location, _) = owner
            .post(
                "/users",
                &[("display_name", ""), ("username", "taro"), ("password", "kissaten-2026"), ("role", "viewer")],
            )
            .await;
        assert_eq!((status, location.as_str()), (303, "/users"), "[{b}]");
        assert!(signs_in(&t, "taro", "kissaten-2026").await, "[{b}]");

        // Role and display name from the row.
        let (status, _, _) =
            owner.post(&format!("/users/{hanako}"), &[("display_name", "早番 花子"), ("role", "viewer")]).await;
        assert_eq!(status, 303, "[{b}]");
        let (_, html) = owner.page("/users").await;
        let r = row(&html, &format!("user-{hanako}"));
        assert!(r.contains("早番 花子") && r.contains(">閲覧のみ<"), "[{b}] {r}");

        // A forgotten password: a new temporary one; the old one stops working.
        let (status, _, html) = owner.post(&format!("/users/{hanako}/password"), &[]).await;
        assert_eq!(status, 200, "[{b}]");
        let second = secret(&html);
        assert_ne!(first, second);
        assert!(!signs_in(&t, "hanako", &first).await, "[{b}] the old password is gone");
        assert!(signs_in(&t, "hanako", &second).await, "[{b}]");
        let hanako_session = Session { t: &t, cookie: t.login_cookie_with("hanako", &second).await };
        let (status, _) = hanako_session.page("/customers").await;
        assert_eq!(status, 200);

        // A token for her from the page: shown once, it opens the API, revoked it does not.
        let (status, _, html) = owner.post("/users/tokens", &[("user", &hanako.to_string()), ("name", "")]).await;
        assert_eq!(status, 422, "[{b}]");
        assert!(!field_error(&html, "token-name").is_empty(), "[{b}] the empty name beside its field");
        let (status, _, html) = owner.post("/users/tokens", &[("user", &hanako.to_string()), ("name", "レジ1")]).await;
        assert_eq!(status, 200, "[{b}]");
        assert!(html.contains("早番 花子 さんの API トークン「レジ1」"), "[{b}]");
        let token = secret(&html);
        assert!(token.starts_with("jrn_"), "[{b}]");
        let (status, _) = t.get(&token, "/api/v1/customers").await;
        assert_eq!(status, 200, "[{b}] the token works");
        let (_, tokens) = t.get(&t.owner_token, "/api/v1/tokens").await;
        let token_id =
            tokens["items"].as_array().unwrap().iter().find(|k| k["name"] == "レジ1").unwrap()["id"].as_i64().unwrap();
        let (_, html) = owner.page("/users").await;
        let r = row(&html, &format!("token-{token_id}"));
        assert!(r.contains("早番 花子") && r.contains(">有効<") && !r.contains("jrn_"), "[{b}] {r}");
        let (status, _, _) = owner.post(&format!("/users/tokens/{token_id}/revoke"), &[]).await;
        assert_eq!(status, 303, "[{b}]");
        let (status, _) = t.get(&token, "/api/v1/customers").await;
        assert_eq!(status, 401, "[{b}] a revoked token is refused");
        let (_, html) = owner.page("/users").await;
        assert!(row(&html, &format!("token-{token_id}")).contains(">無効<"), "[{b}]");

        // Disabled: signed out, cannot sign in; enabled again: signs in.
        let (status, _, _) = owner.post(&format!("/users/{hanako}/disable"), &[]).await;
        assert_eq!(status, 303, "[{b}]");
        let (status, _) = hanako_session.page("/customers").await;
        assert_eq!(status, 303, "[{b}] her session ended (sent to the login page)");
        assert!(!signs_in(&t, "hanako", &second).await, "[{b}]");
        let (_, html) = owner.page("/users").await;
        assert!(row(&html, &format!("user-{hanako}")).contains(">無効<"), "[{b}]");
        owner.post(&format!("/users/{hanako}/enable"), &[]).await;
        assert!(signs_in(&t, "hanako", &second).await, "[{b}]");

        // The only owner cannot demote or disable themself.
        // Said at the account's row, the row open with what was typed.
        let edit = [("display_name", "店主 太郎"), ("role", "staff")];
        let (status, _, html) = owner.post(&format!("/users/{owner_id}"), &edit).await;
        assert_eq!(status, 409, "[{b}]");
        let message = common::field_error(&html, &format!("user-edit-{owner_id}-form")).unwrap_or_default();
        assert!(message.contains("有効なオーナーが1人もいなくなる"), "[{b}] {message}");
        let row = &html[html.find(&format!("id=\"user-{owner_id}\"")).unwrap()..];
        let row = &row[..row.find("</tr>").unwrap()];
        assert!(row.contains("<details open>") && row.contains("value=\"店主 太郎\""), "[{b}] kept: {row}");
        assert!(row.contains("<option value=\"staff\" selected>"), "[{b}] the role as chosen: {row}");
        let (status, _, html) = owner.post(&format!("/users/{owner_id}/disable"), &[]).await;
        assert_eq!(status, 409, "[{b}]");
        let message = common::field_error(&html, &format!("user-state-{owner_id}-form")).unwrap_or_default();
        assert!(message.contains("有効なオーナーが1人もいなくなる"), "[{b}] {message}");
        let (status, _) = owner.page("/users").await;
        assert_eq!(status, 200, "[{b}] still signed in, still owner");

        // In English: words, no Japanese in the fixed texts; staff may not open the page.
        let en = Session { t: &t, cookie: format!("{}; joren_lang=en", owner.cookie) };
        let (_, html) = en.page("/users").await;
        assert!(html.contains("Staff and access") && html.contains(">Viewer<") && html.contains("API tokens"), "[{b}]");
        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (status, _) = staff.page("/users").await;
        assert_eq!(status, 403, "[{b}] the owner's page");
        let (status, _, _) = staff.post(&format!("/users/{hanako}/disable"), &[]).await;
        assert_eq!(status, 403, "[{b}]");

        // The audit log names each change in words.
        let (_, html) = owner.page("/audit").await;
        for words in ["ユーザーを作成", "スタッフの権限・状態を変更", "パスワードを再発行", "API トークンを無効化"]
        {
            assert!(html.contains(words), "[{b}] {words}");
        }
    }
}

#[tokio::test]
async fn accounts_and_tokens_through_the_api_keep_an_owner() {
    for b in backends() {
        let t = spawn(b).await;
        let patch = |token: String, who: &'static str, body: Value| {
            let t = &t;
            async move { t.send(reqwest::Method::PATCH, &token, &format!("/api/v1/users/{who}"), &body).await }
        };
        let (status, v) =
            patch(t.owner_token.clone(), "staff", json!({"display_name": "店長代理", "role": "viewer"})).await;
        assert_eq!(status, 200, "[{b}] {v}");
        assert_eq!((v["display_name"].as_str(), v["role"].as_str()), (Some("店長代理"), Some("viewer")), "[{b}]");
        let (status, v) = patch(t.owner_token.clone(), "staff", json!({"role": "chief"})).await;
        assert_eq!((status, v["error"]["field"].as_str()), (422, Some("role")), "[{b}] {v}");
        let (status, v) = patch(t.owner_token.clone(), "staff", json!({"password": "abc"})).await;
        assert_eq!(status, 422, "[{b}] {v}");
        assert_eq!(v["error"]["details"][0]["code"], "password_too_short", "[{b}]");
        let (status, _) = patch(t.owner_token.clone(), "nobody", json!({"disabled": true})).await;
        assert_eq!(status, 404, "[{b}]");
        let (status, _) = patch(t.viewer_token.clone(), "staff", json!({"disabled": true})).await;
        assert_eq!(status, 403, "[{b}] owners only");

        // A temporary password in the answer; the old one stops working.
        let (status, v) = t.post(&t.owner_token, "/api/v1/users/staff/password-reset", &json!({})).await;
        assert_eq!(status, 200, "[{b}] {v}");
        let temporary = v["password"].as_str().unwrap().to_string();
        assert!(!signs_in(&t, "staff", common::PASSWORD).await, "[{b}] the old password is gone");
        assert!(signs_in(&t, "staff", &temporary).await, "[{b}]");

        // Tokens: made (secret once), listed without secrets, revoked.
        let (status, v) = t.post(&t.owner_token, "/api/v1/tokens", &json!({"username": "viewer", "name": " "})).await;
        assert_eq!(status, 422, "[{b}] {v}");
        let (status, v) = t.post(&t.owner_token, "/api/v1/tokens", &json!({"username": "viewer", "name": "BI"})).await;
        assert_eq!(status, 201, "[{b}] {v}");
        let (secret, id) = (v["token"].as_str().unwrap().to_string(), v["id"].as_i64().unwrap());
        let (_, list) = t.get(&t.owner_token, "/api/v1/tokens").await;
        assert!(!list.to_string().contains(&secret), "[{b}] no secret listed");
        assert_eq!((t.get(&secret, "/api/v1/customers").await).0, 200, "[{b}]");
        let (status, _) =
            t.send(reqwest::Method::DELETE, &t.owner_token, &format!("/api/v1/tokens/{id}"), &json!({})).await;
        assert_eq!(status, 204, "[{b}]");
        assert_eq!((t.get(&secret, "/api/v1/customers").await).0, 401, "[{b}]");
        let (status, _) =
            t.send(reqwest::Method::DELETE, &t.owner_token, &format!("/api/v1/tokens/{id}"), &json!({})).await;
        assert_eq!(status, 404, "[{b}] revoked once");

        // Two owners demoting each other at the same moment: one wins, one owner is left.
        let (status, _) = t
            .post(
                &t.owner_token,
                "/api/v1/users",
                &json!({"username": "owner2", "role": "owner", "password": "second-owner-pass"}),
            )
            .await;
        assert_eq!(status, 201, "[{b}]");
        let (owner2_token, _) = t.app.create_api_token(&joren_app::Actor::system("t"), "owner2", "test").await.unwrap();
        let (a, b2) = tokio::join!(
            patch(t.owner_token.clone(), "owner2", json!({"role": "staff"})),
            patch(owner2_token.clone(), "owner", json!({"role": "staff"})),
        );
        let mut statuses = [a.0, b2.0];
        statuses.sort();
        assert!(statuses == [200, 403] || statuses == [200, 409], "[{b}] one demotion only: {a:?} {b2:?}");
        let (_, users) = t.get(if a.0 == 200 { &t.owner_token } else { &owner2_token }, "/api/v1/users").await;
        let owners = users["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|u| u["role"] == "owner" && u["disabled"] == false)
            .count();
        assert_eq!(owners, 1, "[{b}] {users}");
        // The last one cannot go.
        let last = if a.0 == 200 { ("owner", t.owner_token.clone()) } else { ("owner2", owner2_token.clone()) };
        let (status, v) = t
            .send(reqwest::Method::PATCH, &last.1, &format!("/api/v1/users/{}", last.0), &json!({"disabled": true}))
            .await;
        assert_eq!((status, v["error"]["reason"].as_str()), (409, Some("last_owner")), "[{b}] {v}");
    }
}
