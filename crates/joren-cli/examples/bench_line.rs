//! LINE inbound benchmark (issue #19's target: 1,000 webhook events/s verified and stored with
//! p99 < 50 ms on SQLite). The load generator for `scripts/bench_line.sh`:
//!
//! `cargo run --release --example bench_line -- BASE_URL CHANNEL_SECRET USERS SECONDS CONCURRENCY`
//!   CONCURRENCY connections post LINE webhook calls, signed as LINE signs them, for SECONDS:
//!   each call one text message from one of USERS LINE users (`U` + the number in 32 hex
//!   digits; the script links the first half to customers, so half the messages land on a
//!   timeline and half wait), every tenth call a redelivery of an event already sent. Prints
//!   events/s and latency percentiles; any answer but 200 is an error.

#[path = "support/latency.rs"]
mod latency;

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
    let client = reqwest::Client::builder().pool_max_idle_per_host(concurrency as usize).build()?;
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let run = format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis());
    let workers: Vec<_> = (0..concurrency)
        .map(|w| {
            let (client, base, secret, run) = (client.clone(), base.clone(), secret.clone(), run.clone());
            tokio::spawn(async move {
                let mut latencies = Vec::new();
                let mut errors = 0u64;
                let mut state = 0x9E37_79B9_7F4A_7C15u64 ^ (w + 1);
                let mut n = 0u64;
                while Instant::now() < deadline {
                    state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                    let user = 1 + (state >> 33) % users;
                    // Every tenth call redelivers this worker's previous event.
                    let id = if n > 0 && n.is_multiple_of(10) { n - 1 } else { n };
                    n += 1;
                    let ms = chrono::Utc::now().timestamp_millis();
                    let body = serde_json::json!({"destination": "Ubench", "events": [{
                        "type": "message", "mode": "active", "timestamp": ms,
                        "webhookEventId": format!("{run}-{w}-{id}"),
                        "deliveryContext": {"isRedelivery": id != n - 1},
                        "source": {"type": "user", "userId": format!("U{user:032x}")},
                        "message": {"type": "text", "id": format!("{w}{id}"), "text": "明日の10時に予約できますか？"}
                    }]})
                    .to_string();
                    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).expect("key");
                    mac.update(body.as_bytes());
                    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
                    let started = Instant::now();
                    let ok = client
                        .post(format!("{base}/webhooks/line"))
                        .header("content-type", "application/json")
                        .header("x-line-signature", signature)
                        .body(body)
                        .send()
                        .await
                        .map(|r| r.status().as_u16() == 200)
                        .unwrap_or(false);
                    if ok {
                        latencies.push(started.elapsed());
                    } else {
                        errors += 1;
                    }
                }
                (latencies, errors)
            })
        })
        .collect();
    let started = Instant::now();
    let mut all = Vec::new();
    let mut errors = 0;
    for w in workers {
        let (l, e) = w.await?;
        all.extend(l);
        errors += e;
    }
    let elapsed = started.elapsed().as_secs_f64();
    latency::report("webhook events", "events", all, errors, elapsed, concurrency);
    Ok(())
}
