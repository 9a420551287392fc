//! Hardening (#16): bounded input, a login that cannot be flooded, redirects that stay on this
//! site, security headers, strict CSV, and the smaller defects an attack-minded test found.
//! Each test runs on SQLite and PostgreSQL.

mod common;
#[path = "hardening/fuzz.rs"]
mod fuzz;

use common::{PASSWORD, TestApp, backends, order_body, spawn};
use joren_app::auth::UserEdit;
use serde_json::{Value, json};

fn line(price: i64, quantity: i64) -> Value {
    json!({"name": "豆", "quantity": quantity, "unit_price": price, "tax_rate": 8})
}

async fn order(t: &TestApp, customer: i64, items: Vec<Value>) -> (u16, Value) {
    t.post(&t.staff_token, "/api/v1/orders", &json!({"customer_id": customer, "items": items})).await
}

#[tokio::test]
async fn money_and_counts_are_bounded_and_sums_never_overflow() {
    for b in backends() {
        let t = spawn(b).await;
        let c = t.customer(json!({"family_name": "上限", "phone": "090-1600-0001"})).await;
        for (items, field) in [
            (vec![line(i64::MAX, 1)], "items[0].unit_price"),
            (vec![line(100, 1_000_000_000_000)], "items[0].quantity"),
            (vec![line(100_000_000, 2)], "items[0].quantity"),
            (vec![line(-1, 1)], "items[0].unit_price"),
            (vec![line(1, 1); 1001], "items"),
        ] {
            let (s, v) = order(&t, c, items).await;
            assert_eq!(s, 422, "[{b}] {field}: {v}");
            assert_eq!(v["error"]["field"], field, "[{b}] {v}");
        }
        let (s, v) = t
            .post(
                &t.staff_token,
                "/api/v1/orders",
                &json!({"customer_id": c, "shipping": 100_000_001, "items": [line(100, 1)]}),
            )
            .await;
        assert_eq!((s, v["error"]["field"].as_str()), (422, Some("shipping")), "[{b}] {v}");
        assert_eq!(t.get(&t.staff_token, "/api/v1/orders").await.1["total"], 0, "[{b}] nothing was written");

        // The largest orders allowed: 1,000 lines of ¥100,000,000, three times.
        for _ in 0..3 {
            let (s, v) = order(&t, c, vec![line(100_000_000, 1); 1000]).await;
            assert_eq!(s, 201, "[{b}] {v}");
            assert_eq!(v["total"], 100_000_000_000_i64, "[{b}]");
        }
        assert_eq!(t.get(&t.staff_token, &format!("/api/v1/customers/{c}")).await.0, 200, "[{b}]");
        let (s, v) = t.get(&t.staff_token, "/api/v1/customers").await;
        assert_eq!(s, 200, "[{b}] {v}");
        assert_eq!(v["items"][0]["total_spent"], 300_000_000_000_i64, "[{b}] {v}");
        assert_eq!(t.get(&t.staff_token, &format!("/api/v1/customers/{c}/rank")).await.0, 200, "[{b}]");
        assert_eq!(t.post(&t.owner_token, "/api/v1/ranks/evaluate", &json!({})).await.0, 200, "[{b}]");
        let cookie = t.login_cookie("staff").await;
        for page in ["/", "/customers", &format!("/customers/{c}")] {
            let r = t.client.get(t.url(page)).header("cookie", &cookie).send().await.unwrap();
            assert_eq!(r.status().as_u16(), 200, "[{b}] {page}");
        }
        let (s, v) = t.post(&t.staff_token, "/api/v1/metrics/snapshot", &json!({})).await;
        assert_eq!(s, 201, "[{b}] {v}");
        let (_, m) = t.get(&t.staff_token, &format!("/api/v1/customers/{c}/metrics")).await;
        assert!(m["monetary"].as_f64().unwrap_or(0.0) >= 0.0, "[{b}] {m}");
    }
}

#[tokio::test]
async fn impossible_order_dates_are_refused_and_never_end_the_observation() {
    for b in backends() {
        let t = spawn(b).await;
        let c = t.customer(json!({"family_name": "日付", "phone": "090-1600-0002"})).await;
        let tomorrow_plus = (chrono::Utc::now() + chrono::Duration::days(2)).to_rfc3339();
        for at in ["0001-01-01", "1989-12-31", "2999-01-01", tomorrow_plus.as_str()] {
            let mut body = order_body(c, None, 1000);
            body["ordered_at"] = json!(at);
            let (s, v) = t.post(&t.staff_token, "/api/v1/orders", &body).await;
            assert_eq!((s, v["error"]["field"].as_str()), (422, Some("ordered_at")), "[{b}] {at}: {v}");
        }
        let mut body = order_body(c, None, 1000);
        body["ordered_at"] = json!("1990-01-01");
        assert_eq!(t.post(&t.staff_token, "/api/v1/orders", &body).await.0, 201, "[{b}] the earliest day");
        // An import row dated 2999 is a reject naming its line; the good row is kept.
        let csv = "order_id,customer_id,ordered_at,line_amount\nF-1,x1,2999-01-01,1000\nF-2,x2,2025-01-01,1000\n";
        let report = import(&t, "orders", csv.as_bytes().to_vec()).await;
        assert_eq!(report["rejected"][0]["line"], 2, "[{b}] {report}");
        assert!(report["rejected"][0]["reason"].as_str().unwrap().contains("ordered_at"), "[{b}] {report}");
        assert_eq!(report["rejected"].as_array().unwrap().len(), 1, "[{b}] {report}");
        let (_, snap) = t.post(&t.staff_token, "/api/v1/metrics/snapshot", &json!({})).await;
        assert_eq!(snap["observation_end"], t.app.today_date().to_string(), "[{b}] observation ends today: {snap}");
    }
}

#[tokio::test]
async fn control_characters_are_refused_with_the_field_named() {
    for b in backends() {
        let t = spawn(b).await;
        let (s, v) = t
            .post(&t.staff_token, "/api/v1/customers", &json!({"family_name": "山\u{0}田", "phone": "0312345678"}))
            .await;
        assert_eq!((s, v["error"]["field"].as_str()), (422, Some("family_name")), "[{b}] {v}");
        let c = t.customer(json!({"family_name": "制御", "phone": "090-1600-0003"})).await;
        let mut body = order_body(c, None, 1000);
        body["items"][1]["name"] = json!("ドリ\u{1}ッパー");
        let (s, v) = t.post(&t.staff_token, "/api/v1/orders", &body).await;
        assert_eq!((s, v["error"]["field"].as_str()), (422, Some("items[1].name")), "[{b}] {v}");
        let (s, v) = t.get(&t.staff_token, "/api/v1/customers?q=%00").await;
        assert_eq!((s, v["error"]["field"].as_str()), (422, Some("q")), "[{b}] {v}");
        // Line breaks and tabs are text, not control characters.
        let note = json!({"kind": "note", "subject": "電話", "body": "一行目\r\n二行目\tタブ"});
        let (s, v) = t.post(&t.staff_token, &format!("/api/v1/customers/{c}/interactions"), &note).await;
        assert_eq!(s, 201, "[{b}] {v}");
        // A web form: the page says which field, nothing is written.
        let cookie = t.login_cookie("staff").await;
        let csrf = csrf_of(&t, &cookie).await;
        let r = t
            .client
            .post(t.url("/customers/new"))
            .header("cookie", &cookie)
            .form(&[("csrf", csrf.as_str()), ("kind", "person"), ("family_name", "a\u{0}b")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 422, "[{b}]");
        assert!(r.text().await.unwrap().contains("family_name"), "[{b}]");
        assert_eq!(t.get(&t.staff_token, "/api/v1/customers").await.1["total"], 1, "[{b}] nothing more written");
        // Free text has limits.
        let (s, v) = t
            .send(
                reqwest::Method::PATCH,
                &t.staff_token,
                &format!("/api/v1/customers/{c}"),
                &json!({"notes": "あ".repeat(10_001)}),
            )
            .await;
        assert_eq!((s, v["error"]["field"].as_str()), (422, Some("notes")), "[{b}] {v}");
        let tags: Vec<String> = (0..101).map(|i| format!("t{i}")).collect();
        let (s, v) = t
            .send(reqwest::Method::PATCH, &t.staff_token, &format!("/api/v1/customers/{c}"), &json!({"tags": tags}))
            .await;
        assert_eq!((s, v["error"]["field"].as_str()), (422, Some("tags")), "[{b}] {v}");
    }
}

/// The CSRF token of the logged-in page.
async fn csrf_of(t: &TestApp, cookie: &str) -> String {
    let html = t.client.get(t.url("/")).header("cookie", cookie).send().await.unwrap().text().await.unwrap();
    html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string()
}

async fn import(t: &TestApp, kind: &str, body: Vec<u8>) -> Value {
    let r = t
        .client
        .post(t.url(&format!("/api/v1/import/{kind}")))
        .bearer_auth(&t.staff_token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    r.json().await.unwrap()
}

#[tokio::test]
async fn redirects_stay_on_this_site() {
    for b in backends() {
        let t = spawn(b).await;
        let location = |r: &reqwest::Response| {
            r.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default()
        };
        for next in ["/%09/evil.example/phish", "//evil.example", "/%5Cevil.example", "https://evil.example", "/%20/x"]
        {
            let r = t.client.get(t.url(&format!("/lang/en?next={next}"))).send().await.unwrap();
            assert_eq!((r.status().as_u16(), location(&r)), (303, "/".to_string()), "[{b}] {next}");
        }
        let r = t.client.get(t.url("/lang/en?next=/%0a")).send().await.unwrap();
        assert_eq!((r.status().as_u16(), location(&r)), (303, "/".to_string()), "[{b}] a line break: never a 500");
        let r = t.client.get(t.url("/lang/en?next=/customers%3Fq%3Dx")).send().await.unwrap();
        assert_eq!(location(&r), "/customers?q=x", "[{b}] a plain path is followed");
        let (cookie, csrf) = t.login_form().await;
        let r = t
            .client
            .post(t.url("/login"))
            .header("cookie", cookie)
            .form(&[("username", "staff"), ("password", PASSWORD), ("next", "/\t/evil.example/"), ("csrf", &csrf)])
            .send()
            .await
            .unwrap();
        assert_eq!((r.status().as_u16(), location(&r)), (303, "/".to_string()), "[{b}]");
    }
}

#[tokio::test]
async fn answers_carry_security_headers_and_bodies_are_bounded() {
    for b in backends() {
        let t = spawn(b).await;
        let cookie = t.login_cookie("staff").await;
        let page = t.client.get(t.url("/customers")).header("cookie", &cookie).send().await.unwrap();
        let api = t.client.get(t.url("/api/v1/customers")).bearer_auth(&t.staff_token).send().await.unwrap();
        for r in [&page, &api] {
            let h = r.headers();
            let csp = h.get("content-security-policy").unwrap().to_str().unwrap();
            assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "[{b}] {csp}");
            assert!(!csp.contains("script-src 'self' 'unsafe-inline'"), "[{b}] {csp}");
            assert_eq!(h.get("x-frame-options").unwrap(), "DENY");
            assert_eq!(h.get("x-content-type-options").unwrap(), "nosniff");
            assert_eq!(h.get("referrer-policy").unwrap(), "same-origin");
            assert_eq!(h.get("cache-control").unwrap(), "no-store", "[{b}] personal data is not cached");
            assert!(h.get("strict-transport-security").is_none(), "no HSTS without --secure-cookies");
        }
        let css = t.client.get(t.url("/static/app.css")).send().await.unwrap();
        assert!(css.headers().get("cache-control").unwrap().to_str().unwrap().contains("max-age"), "[{b}]");
        let html = page.text().await.unwrap();
        assert!(!html.contains("onsubmit=") && !html.contains("onclick="), "[{b}] no inline script");

        // A 2 MB body is refused before anything reads it: the login form and the API.
        let big = "x".repeat(2 * 1024 * 1024);
        let r = t.client.post(t.url("/login")).form(&[("username", "owner"), ("password", big.as_str())]).send().await;
        assert_eq!(r.unwrap().status().as_u16(), 413, "[{b}]");
        let r = t
            .client
            .post(t.url("/api/v1/orders"))
            .bearer_auth(&t.staff_token)
            .header("content-type", "application/json")
            .body(format!("{{\"note\":\"{big}\"}}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 413, "[{b}]");
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["error"]["code"], "payload_too_large", "[{b}] {v}");
    }
}

#[tokio::test]
async fn api_errors_are_json_and_name_the_field_not_its_value() {
    for b in backends() {
        let t = spawn(b).await;
        let c = t.customer(json!({"family_name": "型", "phone": "090-1600-0004"})).await;
        let cases = [
            (
                json!({"customer_id": c, "items": [{"name": "x", "quantity": "abc", "unit_price": 1}]}),
                "items[0].quantity",
            ),
            (json!({"customer_id": c, "items": [{"quantity": 1, "unit_price": 1}]}), "items[0].name"),
            (json!({"customer_id": c, "bogus": 1, "items": []}), "bogus"),
            (json!({"customer_id": "七", "items": []}), "customer_id"),
        ];
        for (body, field) in cases {
            let (s, v) = t.post(&t.staff_token, "/api/v1/orders", &body).await;
            assert_eq!((s, v["error"]["field"].as_str()), (422, Some(field)), "[{b}] {v}");
        }
        for (path, status, code) in [
            ("/api/v1/customers/abc", 400, "bad_request"),
            ("/api/v1/nowhere", 404, "not_found"),
            ("/api/v1/customers?limit=x", 400, "bad_request"),
        ] {
            let r = t.client.get(t.url(path)).bearer_auth(&t.staff_token).send().await.unwrap();
            assert_eq!(r.status().as_u16(), status, "[{b}] {path}");
            let v: Value = r.json().await.unwrap_or(Value::Null);
            assert_eq!(v["error"]["code"], code, "[{b}] {path}: {v}");
        }
    }
}

#[tokio::test]
async fn logins_are_throttled_per_account_and_address_and_never_for_good() {
    for b in backends() {
        let t = spawn(b).await;
        let location = |r: &reqwest::Response| r.headers().get("location").unwrap().to_str().unwrap().to_string();
        // An unknown user and a wrong password get the same answer.
        let unknown = t.post_login("nobody", "wrong-password").await;
        let wrong = t.post_login("staff", "wrong-password").await;
        assert_eq!(location(&unknown), location(&wrong), "[{b}]");
        for _ in 0..4 {
            assert!(location(&t.post_login("staff", "wrong-password").await).contains("error=1"), "[{b}]");
        }
        // Five failures: locked, even with the right password, and without hashing it; the
        // refusal is answered only after a wait, so a guesser cannot hammer it.
        let asked = std::time::Instant::now();
        let r = t.post_login("staff", PASSWORD).await;
        assert!(location(&r).contains("error=locked"), "[{b}] {}", location(&r));
        assert!(asked.elapsed() >= std::time::Duration::from_millis(500), "[{b}] {:?}", asked.elapsed());
        let page = t.client.get(t.url("/login?error=locked")).send().await.unwrap().text().await.unwrap();
        assert!(page.contains("しばらくログインできません"), "[{b}] the page says why");
        // Other accounts are not affected; the lock runs out by itself.
        assert_eq!(t.post_login("owner", PASSWORD).await.status().as_u16(), 303);
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let r = t.post_login("staff", PASSWORD).await;
        assert!(
            r.headers().get_all("set-cookie").iter().any(|c| c.to_str().unwrap().starts_with("joren_session=")),
            "[{b}]"
        );

        // One address guessing across many accounts is locked after 20 failures.
        for i in 0..16 {
            t.post_login(&format!("guess{i}"), "wrong-password").await;
        }
        let r = t.post_login("viewer", PASSWORD).await;
        assert!(location(&r).contains("error=locked"), "[{b}] the address is locked: {}", location(&r));
        // The login form needs its own token: a cross-site post logs nobody in.
        let r = t.client.post(t.url("/login")).form(&[("username", "owner"), ("password", PASSWORD)]).send().await;
        let r = r.unwrap();
        assert!(location(&r).contains("error=csrf"), "[{b}]");
        assert!(r.headers().get("set-cookie").is_none(), "[{b}]");
    }
}

#[tokio::test]
async fn passwords_sessions_and_tokens_follow_the_user_record() {
    for b in backends() {
        let t = spawn(b).await;
        let system = joren_app::Actor::system("test");
        let cookie = t.login_cookie("staff").await;
        let home = |cookie: String| {
            let t = &t;
            async move { t.client.get(t.url("/")).header("cookie", cookie).send().await.unwrap().status().as_u16() }
        };
        assert_eq!(home(cookie.clone()).await, 200);
        t.app
            .update_user(&system, "staff", UserEdit { password: Some("a-brand-new-passphrase"), ..Default::default() })
            .await
            .unwrap();
        assert_eq!(home(cookie).await, 303, "[{b}] a new password ends the old sessions");
        assert_eq!(t.get(&t.viewer_token, "/api/v1/customers").await.0, 200);
        t.app.update_user(&system, "viewer", UserEdit { disabled: Some(true), ..Default::default() }).await.unwrap();
        t.app.update_user(&system, "viewer", UserEdit { disabled: Some(false), ..Default::default() }).await.unwrap();
        assert_eq!(t.get(&t.viewer_token, "/api/v1/customers").await.0, 401, "[{b}] old tokens stay revoked");
        for (name, pw, why) in [
            ("newbie", "short-pw", "too short"),
            ("newbie", "password123", "common"),
            ("newbie", "newbie-is-me-1", "contains the user name"),
        ] {
            let body = json!({"username": name, "role": "staff", "password": pw});
            let (s, v) = t.post(&t.owner_token, "/api/v1/users", &body).await;
            assert_eq!((s, v["error"]["field"].as_str()), (422, Some("password")), "[{b}] {why}: {v}");
        }
    }
}

#[tokio::test]
async fn idempotency_keys_belong_to_their_user() {
    for b in backends() {
        let t = spawn(b).await;
        let c = t.customer(json!({"family_name": "鍵", "phone": "090-1600-0005"})).await;
        let body = order_body(c, None, 1000);
        let send = |token: &str| {
            t.client
                .post(t.url("/api/v1/orders"))
                .bearer_auth(token)
                .header("Idempotency-Key", "till-1")
                .json(&body)
                .send()
        };
        let first: Value = send(&t.owner_token).await.unwrap().json().await.unwrap();
        let again: Value = send(&t.owner_token).await.unwrap().json().await.unwrap();
        assert_eq!(first["id"], again["id"], "[{b}] the owner's retry is the same order");
        let r = send(&t.staff_token).await.unwrap();
        assert_eq!(r.status().as_u16(), 201, "[{b}]");
        assert!(r.headers().get("idempotent-replayed").is_none(), "[{b}] not the owner's stored answer");
        let staff: Value = r.json().await.unwrap();
        assert_ne!(staff["id"], first["id"], "[{b}]");
    }
}

#[tokio::test]
async fn redemptions_settle_once_and_deductions_are_undone_by_their_maker_or_an_owner() {
    for b in backends() {
        let t = spawn(b).await;
        let c = t.customer(json!({"family_name": "利用", "phone": "090-1600-0006"})).await;
        let grant = json!({"points": 1000, "reason": "テスト"});
        assert_eq!(t.post(&t.owner_token, &format!("/api/v1/customers/{c}/points/grants"), &grant).await.0, 201);
        let audits = |action: &'static str| {
            let t = &t;
            async move {
                let (_, v) = t.get(&t.owner_token, "/api/v1/audit?limit=1000").await;
                v["items"].as_array().unwrap().iter().filter(|e| e["action"] == action).count()
            }
        };
        let (s, r) =
            t.post(&t.staff_token, "/api/v1/points/redemptions", &json!({"customer_id": c, "points": 100})).await;
        assert_eq!(s, 201, "[{b}] {r}");
        let path = |id: &Value, what: &str| format!("/api/v1/points/redemptions/{id}/{what}");
        assert_eq!(t.post(&t.staff_token, &path(&r["id"], "confirm"), &json!({})).await.0, 200);
        assert_eq!(t.post(&t.staff_token, &path(&r["id"], "confirm"), &json!({})).await.0, 200, "again: same");
        let (s, v) = t.post(&t.staff_token, &path(&r["id"], "cancel"), &json!({})).await;
        assert_eq!(s, 409, "[{b}] a confirmed checkout is not cancelled: {v}");
        assert_eq!((audits("points.reserve").await, audits("points.confirm_redemption").await), (1, 1), "[{b}]");

        // Confirm and cancel racing on fresh reservations: exactly one wins each time.
        for _ in 0..6 {
            let (_, r) =
                t.post(&t.staff_token, "/api/v1/points/redemptions", &json!({"customer_id": c, "points": 10})).await;
            let (confirm, cancel, empty) = (path(&r["id"], "confirm"), path(&r["id"], "cancel"), json!({}));
            let (a, z) =
                tokio::join!(t.post(&t.staff_token, &confirm, &empty), t.post(&t.staff_token, &cancel, &empty));
            let statuses = [a.0, z.0];
            assert!(statuses == [200, 409] || statuses == [409, 200], "[{b}] {statuses:?} {a:?} {z:?}");
        }
        let (_, verify) = t.get(&t.owner_token, "/api/v1/points/verify").await;
        assert_eq!(verify["ok"], true, "[{b}] {verify}");

        // The owner's manual deduction: staff may not undo it, the owner may, once.
        let (s, d) = t
            .post(
                &t.owner_token,
                &format!("/api/v1/customers/{c}/points/deductions"),
                &json!({"points": 50, "reason": "誤り"}),
            )
            .await;
        assert_eq!(s, 201, "[{b}] {d}");
        assert_eq!(t.post(&t.staff_token, &path(&d["id"], "cancel"), &json!({})).await.0, 403, "[{b}]");
        let cancels = audits("points.cancel_redemption").await;
        assert_eq!(t.post(&t.owner_token, &path(&d["id"], "cancel"), &json!({})).await.0, 200, "[{b}]");
        assert_eq!(t.post(&t.owner_token, &path(&d["id"], "cancel"), &json!({})).await.0, 200, "[{b}] again");
        assert_eq!(
            audits("points.cancel_redemption").await,
            cancels + 1,
            "[{b}] a repeated cancel is not audited again"
        );
    }
}

/// The (line, reason) of every rejected row.
fn rejects(report: &Value) -> Vec<(u64, String)> {
    report["rejected"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["line"].as_u64().unwrap(), r["reason"].as_str().unwrap().to_string()))
        .collect()
}

#[tokio::test]
async fn csv_rows_that_would_be_lost_or_changed_are_rejects_with_their_line() {
    for b in backends() {
        let t = spawn(b).await;
        // An unclosed quote would swallow the rest of the file into one cell.
        let csv = "姓,名,電話番号\n山田,太郎,090-3000-0001\n佐藤,\"花子,090-3000-0002\n鈴木,一郎,090-3000-0003\n";
        let report = import(&t, "customers", csv.as_bytes().to_vec()).await;
        let r = rejects(&report);
        assert_eq!(report["created"], 1, "[{b}] {report}");
        assert_eq!(r.len(), 1, "[{b}] {report}");
        assert!(r[0].0 == 3 && r[0].1.contains("引用符"), "[{b}] {r:?}");

        // Too many or too few cells.
        let csv = "姓,名,電話番号\n中村,一,090-3000-0011,余分\n小林,二\n加藤,三,090-3000-0013\n";
        let report = import(&t, "customers", csv.as_bytes().to_vec()).await;
        let r = rejects(&report);
        assert_eq!(report["created"], 1, "[{b}] {report}");
        assert_eq!(r.iter().map(|x| x.0).collect::<Vec<_>>(), [2, 3], "[{b}] {r:?}");
        assert!(r.iter().all(|x| x.1.contains("列の数")), "[{b}] {r:?}");
        assert_eq!(report["rejected"][0]["record"][3], "余分", "[{b}] the row is kept whole for the reject file");

        // A Shift_JIS row inside a UTF-8 file, and a UTF-8 row inside a Shift_JIS file.
        let mut file = "姓,名,電話番号\n吉田,四,090-3000-0021\n".as_bytes().to_vec();
        file.extend_from_slice(&encoding_rs::SHIFT_JIS.encode("山口,五,090-3000-0022\n").0);
        file.extend_from_slice("松本,六,090-3000-0023\n".as_bytes());
        let report = import(&t, "customers", file).await;
        let r = rejects(&report);
        assert_eq!(
            (report["created"].as_u64(), report["mixed_encoding"].as_bool()),
            (Some(2), Some(true)),
            "[{b}] {report}"
        );
        assert!(r.len() == 1 && r[0].0 == 3 && r[0].1.contains("Shift_JIS"), "[{b}] {r:?}");
        assert_eq!(report["rejected"][0]["record"][0], "山口", "[{b}] shown readable");
        let mut file = encoding_rs::SHIFT_JIS
            .encode("姓,名,電話番号\n井上,七,090-3000-0031\n木村,八,090-3000-0032\n")
            .0
            .into_owned();
        file.extend_from_slice("林,九,090-3000-0033\n".as_bytes());
        let report = import(&t, "customers", file).await;
        let r = rejects(&report);
        assert_eq!(
            (report["encoding"].as_str(), report["created"].as_u64()),
            (Some("Shift_JIS"), Some(2)),
            "[{b}] {report}"
        );
        assert!(r.len() == 1 && r[0].0 == 4 && r[0].1.contains("UTF-8"), "[{b}] {r:?}");
        let (_, found) = t.get(&t.staff_token, "/api/v1/customers?q=井上").await;
        assert!(
            found["items"][0]["display_name"].as_str().unwrap_or("").starts_with("井上"),
            "[{b}] no mojibake: {found}"
        );

        // A NUL byte and a huge cell.
        let huge = "あ".repeat(20_000);
        let csv = format!("姓,名,電話番号\n森,\u{0},090-3000-0041\n池田,{huge},090-3000-0042\n橋本,十,090-3000-0043\n");
        let report = import(&t, "customers", csv.into_bytes()).await;
        let r = rejects(&report);
        assert_eq!(report["created"], 1, "[{b}] {report:.300}");
        assert!(r[0].0 == 2 && r[0].1.contains("制御文字") && r[0].1.contains("名"), "[{b}] {r:?}");
        assert!(r[1].0 == 3 && r[1].1.contains("大きすぎ"), "[{b}] {:?}", r[1]);

        // An order with one bad line is rejected whole; the other order is kept.
        let csv = "order_id,customer_id,ordered_at,line_amount,product_name\nA-1,c1,2025-01-01,1000,豆\nA-1,c1,2025-01-01,500\nA-2,c2,2025-01-02,800,器具\n";
        let report = import(&t, "orders", csv.as_bytes().to_vec()).await;
        let r = rejects(&report);
        assert_eq!(r.iter().map(|x| x.0).collect::<Vec<_>>(), [2, 3], "[{b}] {r:?}");
        assert!(r[0].1.contains("3 行目"), "[{b}] {r:?}");
        let (_, orders) = t.get(&t.staff_token, "/api/v1/orders").await;
        assert_eq!(orders["total"], 1, "[{b}] only A-2: {orders}");
    }
}
