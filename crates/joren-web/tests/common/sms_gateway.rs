//! A stand-in SMS gateway on loopback (its own thread and runtime), in both shapes Joren
//! speaks:
//! - Twilio's `POST /2010-04-01/Accounts/{sid}/Messages.json`: a form with `To`, `From` (or
//!   `MessagingServiceSid`) and `Body`, basic auth with the account SID and auth token (401
//!   otherwise), `To` in E.164 (400 with Twilio's error 21211 otherwise); answers 201 with the
//!   message's `sid`.
//! - A JSON gateway's `POST /send`: a bearer token, an `Idempotency-Key` (a key it accepted
//!   before is answered 409 and nothing is sent again), a body with `to` and `text`.
//!
//! Faults can be planned (the line_api stand-in's: 429, 500, or sent-then-500), and every text
//! sent is kept. It also signs replies the way each gateway signs its webhook calls.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use base64::Engine;
use serde_json::{Value, json};

pub use super::line_api::Fault;

/// One text the gateway sent.
#[derive(Debug, Clone)]
pub struct Text {
    pub to: String,
    pub from: String,
    pub body: String,
    /// The JSON gateway's idempotency key (empty for Twilio).
    pub key: String,
}

#[derive(Default)]
struct Inner {
    accepted: HashMap<String, String>,
    texts: Vec<Text>,
    requests: u64,
    planned: VecDeque<Fault>,
}

#[derive(Clone)]
struct Shared {
    account: String,
    token: String,
    inner: Arc<Mutex<Inner>>,
}

pub struct SmsGateway {
    pub url: String,
    shared: Shared,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl SmsGateway {
    /// Starts the stand-in for Twilio account `account` (and the JSON gateway's bearer
    /// token), both with `token`.
    pub fn start(account: &str, token: &str) -> Self {
        let shared = Shared { account: account.into(), token: token.into(), inner: Default::default() };
        let app = Router::new()
            .route("/2010-04-01/Accounts/{sid}/Messages.json", post(twilio))
            .route("/send", post(json_send))
            .with_state(shared.clone());
        let (url, stop) = super::line_api::serve_loopback(app, 1);
        Self { url, shared, _stop: stop }
    }

    /// The next requests meet these faults, in order.
    pub fn plan(&self, faults: &[Fault]) {
        self.shared.inner.lock().unwrap().planned.extend(faults.iter().copied());
    }

    /// Every text sent, in order.
    pub fn texts(&self) -> Vec<Text> {
        self.shared.inner.lock().unwrap().texts.clone()
    }

    pub fn requests(&self) -> u64 {
        self.shared.inner.lock().unwrap().requests
    }
}

/// What a fault answers before anything is sent (None: send).
fn fault_answer(fault: Option<Fault>) -> Option<Response> {
    match fault {
        Some(Fault::RateLimit) => Some(
            (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", "2")],
                axum::Json(json!({"code": 20429, "message": "Too Many Requests"})),
            )
                .into_response(),
        ),
        Some(Fault::ServerError) => {
            Some((StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({"message": "Internal error"}))).into_response())
        }
        _ => None,
    }
}

async fn twilio(State(s): State<Shared>, Path(sid): Path<String>, headers: HeaderMap, body: String) -> Response {
    let mut inner = s.inner.lock().unwrap();
    inner.requests += 1;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!("{}:{}", s.account, s.token));
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok()).unwrap_or_default();
    if sid != s.account || auth != format!("Basic {basic}") {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"code": 20003, "message": "Authenticate"})))
            .into_response();
    }
    let fault = inner.planned.pop_front();
    if let Some(r) = fault_answer(fault) {
        return r;
    }
    let form: Vec<(String, String)> = serde_urlencoded::from_str(&body).unwrap_or_default();
    let get = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()).unwrap_or_default();
    let to = get("To");
    let from = [get("From"), get("MessagingServiceSid")].concat();
    let e164 = to.starts_with('+') && to.len() >= 11 && to[1..].bytes().all(|b| b.is_ascii_digit());
    if !e164 || from.is_empty() || get("Body").is_empty() {
        let message = format!("The 'To' number {to} is not a valid phone number.");
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"code": 21211, "message": message}))).into_response();
    }
    let n = inner.texts.len() + 1;
    inner.texts.push(Text { to, from, body: get("Body"), key: String::new() });
    if fault == Some(Fault::AcceptThenFail) {
        return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({"message": "Internal error"}))).into_response();
    }
    (StatusCode::CREATED, axum::Json(json!({"sid": format!("SM{n:032}"), "status": "queued"}))).into_response()
}

async fn json_send(State(s): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let mut inner = s.inner.lock().unwrap();
    inner.requests += 1;
    if header("authorization") != format!("Bearer {}", s.token) {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"error": "unauthorized"}))).into_response();
    }
    let key = header("idempotency-key");
    if key.is_empty() {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "Idempotency-Key is required"}))).into_response();
    }
    if let Some(first) = inner.accepted.get(&key) {
        return (StatusCode::CONFLICT, axum::Json(json!({"error": "duplicate", "id": first}))).into_response();
    }
    let fault = inner.planned.pop_front();
    if let Some(r) = fault_answer(fault) {
        return r;
    }
    let Ok(v) = serde_json::from_str::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"error": "not JSON"}))).into_response();
    };
    let field = |k: &str| v[k].as_str().unwrap_or_default().to_string();
    let id = format!("msg-{}", inner.requests);
    inner.accepted.insert(key.clone(), id.clone());
    inner.texts.push(Text { to: field("to"), from: field("from"), body: field("text"), key });
    if fault == Some(Fault::AcceptThenFail) {
        return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({"error": "internal"}))).into_response();
    }
    (StatusCode::OK, axum::Json(json!({"id": id}))).into_response()
}

/// Posts a text from `from` to the app at `base` as Twilio does: a form signed with
/// `X-Twilio-Signature` over `public_url` + `/webhooks/sms` and the sorted fields (a wrong
/// `token` forges it). Answers the status and body.
pub async fn twilio_reply(
    client: &reqwest::Client,
    base: &str,
    public_url: &str,
    token: &str,
    sid: &str,
    from: &str,
    text: &str,
) -> (u16, String) {
    use hmac::Mac;
    let params = [
        ("AccountSid", "AC1"),
        ("Body", text),
        ("From", from),
        ("MessageSid", sid),
        ("NumMedia", "0"),
        ("To", "+815000000000"),
    ];
    let mut sorted = params.to_vec();
    sorted.sort();
    let mut data = format!("{public_url}/webhooks/sms");
    for (k, v) in sorted {
        data.push_str(k);
        data.push_str(v);
    }
    let mut mac = hmac::Hmac::<sha1::Sha1>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(data.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let r = client
        .post(format!("{base}/webhooks/sms"))
        .header("x-twilio-signature", signature)
        .form(&params)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

/// Posts a text to the app at `base` as a JSON gateway does, signed with `token`.
pub async fn json_reply(client: &reqwest::Client, base: &str, token: &str, body: &Value) -> (u16, Value) {
    use hmac::Mac;
    let raw = body.to_string();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(token.as_bytes()).unwrap();
    mac.update(raw.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let r = client
        .post(format!("{base}/webhooks/sms"))
        .header("content-type", "application/json")
        .header("x-signature", signature)
        .body(raw)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}
