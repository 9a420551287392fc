//! A stand-in for the LINE Messaging API's push endpoint on loopback (its own thread and
//! runtime), behaving as LINE documents it: `POST /v2/bot/message/push` needs the channel
//! access token as a bearer token (401 otherwise) and an `X-Line-Retry-Key` shaped as a
//! UUID (400 otherwise); a key it accepted before is answered 409 with the first request's id
//! in `x-line-accepted-request-id`, and nothing is delivered again. Faults can be planned
//! (the next requests answered 429 or 500 before accepting, or accepted and then answered 500
//! as if the answer were lost) or drawn at a steady rate, so tests and the benchmark see
//! retries. Every delivery is kept.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};

/// What the stand-in does to one request instead of answering 200.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// 429 Too Many Requests; nothing delivered.
    RateLimit,
    /// 500; nothing delivered.
    ServerError,
    /// Delivered, then answered 500 (the answer was lost on the way back).
    AcceptThenFail,
}

/// One push LINE delivered.
#[derive(Debug, Clone)]
pub struct Push {
    pub to: String,
    pub messages: Value,
    pub retry_key: String,
}

#[derive(Default)]
struct Inner {
    accepted: HashMap<String, String>,
    pushes: Vec<Push>,
    requests: u64,
    planned: VecDeque<Fault>,
    /// Faults drawn at a steady rate: (every n-th request, fault).
    every: Vec<(u64, Fault)>,
}

#[derive(Clone)]
struct Shared {
    token: String,
    inner: Arc<Mutex<Inner>>,
}

pub struct LineApi {
    pub url: String,
    shared: Shared,
    _stop: tokio::sync::oneshot::Sender<()>,
}

impl LineApi {
    /// Starts the stand-in for channel access token `token`.
    pub fn start(token: &str) -> Self {
        let shared = Shared { token: token.to_string(), inner: Default::default() };
        let app = Router::new().route("/v2/bot/message/push", post(push)).with_state(shared.clone());
        let (url, stop) = serve_loopback(app, 2);
        Self { url, shared, _stop: stop }
    }

    /// The next requests meet these faults, in order.
    pub fn plan(&self, faults: &[Fault]) {
        self.shared.inner.lock().unwrap().planned.extend(faults.iter().copied());
    }

    /// Every `n`-th request meets `fault` (several rates may be set; the first that applies
    /// wins).
    pub fn every(&self, n: u64, fault: Fault) {
        self.shared.inner.lock().unwrap().every.push((n, fault));
    }

    /// Every push delivered, in order.
    pub fn pushes(&self) -> Vec<Push> {
        self.shared.inner.lock().unwrap().pushes.clone()
    }

    /// How many pushes were delivered (cheaper than [`LineApi::pushes`] for polling).
    pub fn delivered(&self) -> usize {
        self.shared.inner.lock().unwrap().pushes.len()
    }

    /// Requests received (answered however).
    pub fn requests(&self) -> u64 {
        self.shared.inner.lock().unwrap().requests
    }
}

/// Serves `app` on a free loopback port from its own thread and runtime (a stand-in for a
/// provider: LINE here, the SMS gateway's stand-in too) until the returned sender is dropped; answers its URL.
pub fn serve_loopback(app: axum::Router, threads: usize) -> (String, tokio::sync::oneshot::Sender<()>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.set_nonblocking(true).unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener).unwrap();
            axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await
                .unwrap();
        });
    });
    (url, stop)
}

fn is_uuid(s: &str) -> bool {
    let parts: Vec<&str> = s.split('-').collect();
    parts.iter().map(|p| p.len()).eq([8, 4, 4, 4, 12]) && parts.iter().all(|p| p.bytes().all(|b| b.is_ascii_hexdigit()))
}

async fn push(State(s): State<Shared>, headers: HeaderMap, body: String) -> Response {
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let mut inner = s.inner.lock().unwrap();
    inner.requests += 1;
    let n = inner.requests;
    if header("authorization") != format!("Bearer {}", s.token) {
        return (StatusCode::UNAUTHORIZED, axum::Json(json!({"message": "Authentication failed"}))).into_response();
    }
    let key = header("x-line-retry-key");
    if !is_uuid(&key) {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"message": "The retry key is invalid"}))).into_response();
    }
    if let Some(first) = inner.accepted.get(&key) {
        let mut r =
            (StatusCode::CONFLICT, axum::Json(json!({"message": "The retry key is already accepted"}))).into_response();
        r.headers_mut().insert("x-line-accepted-request-id", first.parse().unwrap());
        return r;
    }
    let fault = inner.planned.pop_front().or_else(|| inner.every.iter().find(|(e, _)| n % e == 0).map(|(_, f)| *f));
    match fault {
        Some(Fault::RateLimit) => {
            return (StatusCode::TOO_MANY_REQUESTS, axum::Json(json!({"message": "Too many requests"})))
                .into_response();
        }
        Some(Fault::ServerError) => {
            return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({"message": "Internal error"})))
                .into_response();
        }
        _ => {}
    }
    let Ok(v) = serde_json::from_str::<Value>(&body) else {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"message": "The request body has 1 error(s)"})))
            .into_response();
    };
    let to = v["to"].as_str().unwrap_or_default().to_string();
    let messages = v["messages"].clone();
    let shaped =
        to.len() == 33 && to.starts_with('U') && messages.as_array().is_some_and(|m| (1..=5).contains(&m.len()));
    if !shaped {
        return (StatusCode::BAD_REQUEST, axum::Json(json!({"message": "The request body has 1 error(s)"})))
            .into_response();
    }
    let request_id = format!("req-{n}");
    inner.accepted.insert(key.clone(), request_id.clone());
    inner.pushes.push(Push { to, messages, retry_key: key });
    if fault == Some(Fault::AcceptThenFail) {
        return (StatusCode::INTERNAL_SERVER_ERROR, axum::Json(json!({"message": "Internal error"}))).into_response();
    }
    let mut r =
        (StatusCode::OK, axum::Json(json!({"sentMessages": [{"id": request_id, "quoteToken": "q"}]}))).into_response();
    r.headers_mut().insert("x-line-request-id", request_id.parse().unwrap());
    r
}

/// Posts LINE webhook `events` to the app at `base`, signed with `secret` as LINE signs them
/// (base64 HMAC-SHA256 of the raw body); answers the status.
pub async fn post_webhook(client: &reqwest::Client, base: &str, secret: &str, events: &[Value]) -> u16 {
    use base64::Engine;
    use hmac::Mac;
    let body = json!({"destination": "Ufff", "events": events}).to_string();
    let mut mac = hmac::Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(body.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let r = client
        .post(format!("{base}/webhooks/line"))
        .header("content-type", "application/json")
        .header("x-line-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    r.status().as_u16()
}

/// A LINE text message event from `user`.
pub fn text_event(id: &str, user: &str, ms: i64, text: &str) -> Value {
    json!({"type": "message", "mode": "active", "timestamp": ms, "webhookEventId": id,
           "deliveryContext": {"isRedelivery": false}, "source": {"type": "user", "userId": user},
           "message": {"type": "text", "id": id, "text": text}})
}
