//! Test harness: starts the real server on a random port against a fresh SQLite file, or a
//! fresh PostgreSQL database when `JOREN_TEST_POSTGRES_URL` is set (required under `CI`).

#![allow(dead_code)]

pub mod imap;
pub mod line_api;
pub mod openapi;
pub mod sms_gateway;
pub mod smtp;

use joren_app::{Actor, App, AppConfig};
use joren_core::role::Role;
use serde_json::Value;

pub struct TestApp {
    pub base: String,
    pub app: App,
    pub client: reqwest::Client,
    pub owner_token: String,
    pub staff_token: String,
    pub viewer_token: String,
    pub backend: &'static str,
    /// The database the server runs on (a second process can open it).
    pub database_url: String,
    _dir: tempfile::TempDir,
    _server: tokio::task::JoinHandle<()>,
}

pub const PASSWORD: &str = "password-123";

/// The database URLs to run each test against: SQLite always, PostgreSQL when configured.
pub fn backends() -> Vec<&'static str> {
    let mut v = vec!["sqlite"];
    match std::env::var("JOREN_TEST_POSTGRES_URL") {
        Ok(_) => v.push("postgres"),
        Err(_) if std::env::var("CI").is_ok() => {
            panic!("CI is set but JOREN_TEST_POSTGRES_URL is not: the PostgreSQL suite must run in CI")
        }
        Err(_) => eprintln!("NOTE: JOREN_TEST_POSTGRES_URL not set — PostgreSQL suite NOT run (SQLite only)"),
    }
    v
}

fn unique_name() -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("joren_t_{}_{}_{}", std::process::id(), nanos % 1_000_000_000, N.fetch_add(1, Ordering::Relaxed))
}

pub async fn database_url(backend: &str, dir: &tempfile::TempDir) -> String {
    match backend {
        "sqlite" => format!("sqlite://{}/joren.db", dir.path().display()),
        _ => {
            let admin = std::env::var("JOREN_TEST_POSTGRES_URL").unwrap();
            let name = unique_name();
            let store = joren_app::Store::connect(&admin).await.expect("PostgreSQL reachable");
            store.create_database(&name).await.expect("create test database");
            store.close().await;
            let (base, _) = admin.rsplit_once('/').unwrap();
            format!("{base}/{name}")
        }
    }
}

pub async fn spawn(backend: &'static str) -> TestApp {
    spawn_with(backend, AppConfig::default()).await
}

/// [`spawn`] with settings of the test's own (a manual clock, say); background work stays off.
pub async fn spawn_with(backend: &'static str, config: AppConfig) -> TestApp {
    // The server's errors (an internal error's cause, say) go to the test's captured output,
    // printed when the test fails.
    let _ = tracing_subscriber::fmt().with_env_filter("error").with_test_writer().try_init();
    let dir = tempfile::tempdir().unwrap();
    let url = database_url(backend, &dir).await;
    let config = AppConfig { background_jobs: false, ..config };
    let app = App::open(&url, config).await.unwrap();
    let system = Actor::system("test");
    let mut tokens = Vec::new();
    for (name, role) in [("owner", Role::Owner), ("staff", Role::Staff), ("viewer", Role::Viewer)] {
        app.create_user(&system, name, name, role, PASSWORD).await.unwrap();
        tokens.push(app.create_api_token(&system, name, "test").await.unwrap().0);
    }
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server_app = app.clone();
    let server = tokio::spawn(async move {
        joren_web::serve(server_app, listener, std::future::pending()).await.unwrap();
    });
    TestApp {
        base: format!("http://{addr}"),
        app,
        client: {
            joren_app::install_tls();
            reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap()
        },
        owner_token: tokens[0].clone(),
        staff_token: tokens[1].clone(),
        viewer_token: tokens[2].clone(),
        backend,
        database_url: url,
        _dir: dir,
        _server: server,
    }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// GET with a bearer token; a JSON answer is checked against openapi.json.
    pub async fn get(&self, token: &str, path: &str) -> (u16, Value) {
        let r = self.client.get(self.url(path)).bearer_auth(token).send().await.unwrap();
        let status = r.status().as_u16();
        let body = r.json().await.unwrap_or(Value::Null);
        openapi::check("GET", path, status, &body);
        (status, body)
    }

    /// A JSON request with a bearer token; a JSON answer is checked against openapi.json.
    pub async fn send(&self, method: reqwest::Method, token: &str, path: &str, body: &Value) -> (u16, Value) {
        let r = self.client.request(method.clone(), self.url(path)).bearer_auth(token).json(body).send().await.unwrap();
        let status = r.status().as_u16();
        let answer = r.json().await.unwrap_or(Value::Null);
        openapi::check(method.as_str(), path, status, &answer);
        (status, answer)
    }

    pub async fn post(&self, token: &str, path: &str, body: &Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, token, path, body).await
    }

    /// POST as staff with an optional `Idempotency-Key`; also answers whether the response said
    /// it was a replay (`Idempotent-Replayed`).
    pub async fn post_keyed(&self, path: &str, key: Option<&str>, body: &Value) -> (u16, Value, bool) {
        let mut r = self.client.post(self.url(path)).bearer_auth(&self.staff_token).json(body);
        if let Some(k) = key {
            r = r.header("Idempotency-Key", k);
        }
        let r = r.send().await.unwrap();
        let status = r.status().as_u16();
        let again = r.headers().get("idempotent-replayed").is_some();
        let answer = r.json().await.unwrap_or(Value::Null);
        openapi::check("POST", path, status, &answer);
        (status, answer, again)
    }

    /// Imports an orders CSV through the API as staff; answers the import report.
    pub async fn import_orders(&self, csv: String) -> Value {
        let r = self
            .client
            .post(self.url("/api/v1/import/orders"))
            .bearer_auth(&self.staff_token)
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let report = r.json().await.unwrap();
        openapi::check("POST", "/api/v1/import/orders", 200, &report);
        report
    }

    /// Creates a customer as staff and returns its id.
    pub async fn customer(&self, body: Value) -> i64 {
        let (status, v) = self.post(&self.staff_token, "/api/v1/customers", &body).await;
        assert_eq!(status, 201, "{v}");
        v["id"].as_i64().unwrap()
    }

    /// The login form's CSRF cookie (`name=value`) and token, as a browser gets them.
    pub async fn login_form(&self) -> (String, String) {
        let r = self.client.get(self.url("/login")).send().await.unwrap();
        let cookie = r.headers().get("set-cookie").expect("login CSRF cookie").to_str().unwrap();
        let cookie = cookie.split(';').next().unwrap().to_string();
        let html = r.text().await.unwrap();
        let token = html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        (cookie, token)
    }

    /// Posts the login form as a browser would (page first, then the form with its token).
    pub async fn post_login(&self, username: &str, password: &str) -> reqwest::Response {
        let (cookie, csrf) = self.login_form().await;
        self.client
            .post(self.url("/login"))
            .header("cookie", cookie)
            .form(&[("username", username), ("password", password), ("next", "/"), ("csrf", &csrf)])
            .send()
            .await
            .unwrap()
    }

    /// Logs in through the form; returns the session cookie header value.
    pub async fn login_cookie(&self, username: &str) -> String {
        self.login_cookie_with(username, PASSWORD).await
    }

    /// [`Self::login_cookie`] with a password of the test's own.
    pub async fn login_cookie_with(&self, username: &str, password: &str) -> String {
        let r = self.post_login(username, password).await;
        assert_eq!(r.status().as_u16(), 303);
        let set = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap())
            .find(|v| v.starts_with("joren_session="))
            .expect("session cookie")
            .to_string();
        assert!(set.contains("HttpOnly") && set.contains("SameSite=Lax"), "{set}");
        set.split(';').next().unwrap().to_string()
    }
}

pub fn order_body(customer_id: i64, ext: Option<&str>, price: i64) -> Value {
    let mut v = serde_json::json!({
        "customer_id": customer_id,
        "ordered_at": "2026-03-01T10:00:00+09:00",
        "channel": "store",
        "items": [
            {"sku": "BN-1", "name": "ブレンド 200g", "category": "珈琲豆", "quantity": 2, "unit_price": price, "tax_rate": 8},
            {"sku": "TL-1", "name": "ドリッパー", "category": "器具", "quantity": 1, "unit_price": 3300, "tax_rate": 10}
        ]
    });
    if let Some(e) = ext {
        v["external_id"] = serde_json::json!(e);
    }
    v
}

/// Imports the orders of the CDNOW sample's first `customers` customers (real purchase
/// histories; amounts in US cents) with dates shifted so the sample's last day is today.
pub async fn import_cdnow(t: &TestApp, customers: u32) {
    let path = format!("{}/../../../shared/data/cdnow_sample_transactions.csv", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap();
    let last = chrono::NaiveDate::from_ymd_opt(1998, 6, 30).unwrap();
    let shift = chrono::Utc::now().date_naive() - last;
    let mut csv = String::from("order_id,customer_id,ordered_at,line_amount,currency\n");
    for (n, line) in text.lines().skip(1).enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        if f[0].parse::<u32>().unwrap() > customers {
            continue;
        }
        let day = chrono::NaiveDate::parse_from_str(f[1], "%Y-%m-%d").unwrap() + shift;
        csv.push_str(&format!("CD-{n},{},{day}T12:00:00+09:00,{},USD\n", f[0], f[3]));
    }
    let report = t.import_orders(csv).await;
    assert_eq!(report["rejected"].as_array().map(Vec::len), Some(0), "{report}");
}

/// The error a refused form shows beside `field` (`id="error-{field}"`), if any.
pub fn field_error(html: &str, field: &str) -> Option<String> {
    html.split(&format!("id=\"error-{field}\">")).nth(1).map(|r| r.split('<').next().unwrap().to_string())
}

/// A signed-in browser session over plain HTTP: pages with its cookie, forms with the page's
/// CSRF token.
pub struct Session<'a> {
    pub t: &'a TestApp,
    pub cookie: String,
}

impl Session<'_> {
    pub async fn page(&self, path: &str) -> (u16, String) {
        let r = self.t.client.get(self.t.url(path)).header("cookie", &self.cookie).send().await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    /// The session's CSRF token, as a page carries it.
    pub async fn csrf(&self) -> String {
        let (_, html) = self.page("/customers").await;
        html.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string()
    }

    /// Posts a form that is refused with a message for the page it goes back to: checks the
    /// post answers 303 to an address without the message, follows it with the message's
    /// cookie, and answers the error shown there (`id="form-error"`) and the page's address.
    /// The message is shown once: the page clears it.
    pub async fn post_refused(&self, path: &str, form: &[(&str, &str)]) -> (String, String) {
        let csrf = self.csrf().await;
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("csrf", &csrf));
        let r = self.t.client.post(self.t.url(path)).header("cookie", &self.cookie).form(&fields).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 303, "{path}: a refused post goes back to its page");
        let location = r.headers()["location"].to_str().unwrap().to_string();
        assert!(!location.contains("error"), "the message is not in the address: {location}");
        let flash = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .map(|v| v.to_str().unwrap().split(';').next().unwrap().to_string())
            .find(|c| c.starts_with("joren_error="))
            .unwrap_or_else(|| panic!("{path}: no message was left for the page"));
        let cookie = format!("{}; {flash}", self.cookie);
        let r = self.t.client.get(self.t.url(&location)).header("cookie", &cookie).send().await.unwrap();
        let cleared =
            r.headers().get_all("set-cookie").iter().any(|v| v.to_str().unwrap().starts_with("joren_error=;"));
        assert!(cleared, "{location}: the page clears the message once shown");
        let html = r.text().await.unwrap();
        let message = html
            .split("id=\"form-error\">")
            .nth(1)
            .and_then(|rest| rest.split("</p>").next())
            .unwrap_or_else(|| panic!("{location}: the message is not shown: {html}"))
            .to_string();
        (message, location)
    }

    /// Posts a form with the token; answers status, `Location` and the page.
    pub async fn post(&self, path: &str, form: &[(&str, &str)]) -> (u16, String, String) {
        let csrf = self.csrf().await;
        let mut fields: Vec<(&str, &str)> = form.to_vec();
        fields.push(("csrf", &csrf));
        let r = self.t.client.post(self.t.url(path)).header("cookie", &self.cookie).form(&fields).send().await.unwrap();
        let location = r.headers().get("location").map(|l| l.to_str().unwrap().to_string()).unwrap_or_default();
        (r.status().as_u16(), location, r.text().await.unwrap())
    }
}
