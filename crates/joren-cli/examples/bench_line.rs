//! LINE inbound benchmark (issue #19's target: 1,000 webhook events/s verified and stored with
//! p99 < 50 ms on SQLite). The load generator for `scripts/bench_line.sh`:
//!
//! `cargo run --release --example bench_line -- BASE_URL CHANNEL_SECRET USERS SECONDS CONCURRENCY`
//!   CONCURRENCY connections post LINE webhook calls, signed as LINE signs them, for SECONDS:
//!   each call one text message from one of USERS LINE users (`U` + the number in 32 hex
//!   digits; the script links the first half to customers, so half the messages land on a
//!   timeline and half wait), every tenth call a redelivery of an event already sent. Prints
//!   events/s and latency percentiles; any answer but 200 is an error.

#[path = "support/load.rs"]
mod load;

use std::time::{Duration, Instant};

use base64::Engine;
use hmac::{Hmac, Mac};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [base, secret, users, seconds, concurrency] = args.as_slice() else {
        return Err("bench_line BASE_URL CHANNEL_SECRET USERS SECONDS CONCURRENCY".into());
    };
    let users: u64 = users.parse()?;
    let seconds: u64 = seconds.parse()?;
    let concurrency: u64 = concurrency.parse()?;
    let client = load::client(concurrency);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let run = format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis());
    let (base, secret) = (base.clone(), secret.clone());
    let load = load::run(concurrency, deadline, move |w, n, random| {
        let user = 1 + (random >> 33) % users;
        // Every tenth call redelivers this worker's previous event.
        let id = if n > 0 && n.is_multiple_of(10) { n - 1 } else { n };
        let ms = chrono::Utc::now().timestamp_millis();
        let body = serde_json::json!({"destination": "Ubench", "events": [{
            "type": "message", "mode": "active", "timestamp": ms,
            "webhookEventId": format!("{run}-{w}-{id}"),
            "deliveryContext": {"isRedelivery": id != n},
            "source": {"type": "user", "userId": format!("U{user:032x}")},
            "message": {"type": "text", "id": format!("{w}{id}"), "text": "明日の10時に予約できますか？"}
        }]})
        .to_string();
        let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
        mac.update(body.as_bytes());
        let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
        let req = client
            .post(format!("{base}/webhooks/line"))
            .header("content-type", "application/json")
            .header("x-line-signature", signature)
            .body(body);
        (req, 200)
    })
    .await;
    load.report("webhook events", "events");
    Ok(())
}
