//! Points benchmarks.
//!
//! `cargo run --release --example bench_points -- expiry [LOTS] [DATABASE_URL]`
//!   fills a fresh database with LOTS lots (default 1,000,000: 250,000 customers × 4 grants, all
//!   past their last day) and times the nightly expiry run over them.
//!
//! `cargo run --release --example bench_points -- ingest BASE_URL TOKEN CUSTOMERS SECONDS CONCURRENCY`
//!   is the load generator for order ingest through the API (run from its own process against a
//!   `joren serve` on loopback, see `scripts/bench_points.sh`): CONCURRENCY connections post
//!   orders with idempotency keys to random customers for SECONDS, then it prints orders/s
//!   and latency percentiles. Every order earns points in its own transaction.
//!
//! `… ingest BASE_URL TOKEN CUSTOMERS SECONDS CONCURRENCY FLOOD` also runs FLOOD clients for the
//!   same time that do what a password-guessing attacker does: fetch the login page (its CSRF
//!   cookie and token), post a wrong password, again and again, spreading the guesses over many
//!   user names and the owner's; it prints their attempts and the answers they got.

#[path = "support/load.rs"]
mod load;

use std::time::{Duration, Instant};

use joren_app::{App, AppConfig};
use joren_core::customer::CustomerProfile;
use joren_core::points::ExpiryPolicy;
use joren_store::LotSource;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("ingest") => ingest(&args[2..]).await,
        _ => expiry(&args[2.min(args.len())..]).await,
    }
}

async fn expiry(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let lots: usize = args.first().and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let url = args.get(1).cloned().unwrap_or_else(|| format!("sqlite://{}/points.db", dir.path().display()));
    let app = App::open(&url, AppConfig::default()).await?;
    let customers = lots.div_ceil(4);
    let started = Instant::now();
    let mut ids = Vec::with_capacity(customers);
    for start in (0..customers).step_by(20_000) {
        let batch: Vec<joren_store::NewCustomerRecord> = (start..(start + 20_000).min(customers))
            .map(|i| {
                (CustomerProfile { family_name: format!("顧客{i}"), ..Default::default() }, Vec::new(), Vec::new())
            })
            .collect();
        ids.extend(app.store.create_customers_batch(&batch, "bench").await?);
    }
    let source = LotSource { source: "bonus", reason: "bench".into(), created_by: None, breakdown: Default::default() };
    let earned = chrono::NaiveDate::from_ymd_opt(2025, 1, 10).expect("date");
    let mut made = 0;
    for round in 0..4 {
        let take = (lots - made).min(ids.len());
        if take == 0 {
            break;
        }
        let expiry = ExpiryPolicy::FixedTerm { months: 12 - round, end_of_month: true };
        made += app.store.grant_points_bulk(&ids[..take], 100, &source, earned, expiry).await?;
    }
    println!("{customers} customers, {made} lots in {:.1}s", started.elapsed().as_secs_f64());
    let today = chrono::NaiveDate::from_ymd_opt(2026, 6, 1).expect("date");
    let started = Instant::now();
    let run = app.expire_points(today).await?;
    println!("expiry run: {} lots, {} points expired in {:.2}s", run.lots, run.points, started.elapsed().as_secs_f64());
    let started = Instant::now();
    let again = app.expire_points(today).await?;
    println!("second run (nothing due): {} lots in {:.3}s", again.lots, started.elapsed().as_secs_f64());
    assert!(app.verify_points().await?.is_empty(), "every lot equals the sum of its entries");
    Ok(())
}

async fn ingest(args: &[String]) -> Result<(), Box<dyn std::error::Error>> {
    let (base, token, customers, seconds, concurrency, flood) = match args {
        [b, t, c, s, n] => (b, t, c, s, n, 0),
        [b, t, c, s, n, f] => (b, t, c, s, n, f.parse()?),
        _ => return Err("ingest BASE_URL TOKEN CUSTOMERS SECONDS CONCURRENCY [FLOOD]".into()),
    };
    let customers: u64 = customers.parse()?;
    let seconds: u64 = seconds.parse()?;
    let concurrency: u64 = concurrency.parse()?;
    let client = load::client(concurrency);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let run = format!("{:x}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH)?.as_millis());
    // The flood runs beside the orders, until the same deadline.
    let flooders: Vec<_> = (0..flood)
        .map(|f| tokio::spawn(guess_passwords(base.split(',').next().unwrap_or_default().to_string(), f, deadline)))
        .collect();
    // BASE may list several servers (`http://a,http://b`): worker w sends to server w mod n,
    // and with two or more every fifth order is sent again, same key and body, to the next
    // server, as a client retrying through a balancer would: it must be answered as the
    // first one was and never stored twice.
    let bases: Vec<String> = base.split(',').map(str::to_string).collect();
    let orders_token = token.clone();
    let resent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let resends = resent.clone();
    let load = load::run(concurrency, deadline, move |w, n, _random| {
        let retry = bases.len() > 1 && n % 5 == 1;
        if retry {
            resends.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        }
        let n = if retry { n - 1 } else { n };
        let server = &bases[(w as usize + retry as usize) % bases.len()];
        let random = mix(w << 32 | n);
        let customer = 1 + (random >> 33) % customers;
        let key = format!("bench-{run}-{w}-{n}");
        let body = serde_json::json!({
            "customer_id": customer, "external_id": key, "channel": "store",
            "items": [{"sku": "BN-1", "name": "ブレンド 200g", "category": "珈琲豆", "quantity": 1,
                       "unit_price": 1000 + (random >> 40) % 4000, "tax_rate": 8}]
        });
        let req = client
            .post(format!("{server}/api/v1/orders"))
            .bearer_auth(&orders_token)
            .header("Idempotency-Key", &key)
            .json(&body);
        (req, 201)
    })
    .await;
    let elapsed = load.elapsed();
    let mut answers = std::collections::BTreeMap::<u16, u64>::new();
    for f in flooders {
        for (status, n) in f.await? {
            *answers.entry(status).or_default() += n;
        }
    }
    if flood > 0 {
        let attempts: u64 = answers.values().sum();
        let by_status: Vec<String> = answers.iter().map(|(s, n)| format!("{s}: {n}")).collect();
        println!(
            "login flood: {flood} clients, {attempts} wrong-password posts ({:.0}/s); answers {}",
            attempts as f64 / elapsed,
            by_status.join(", ")
        );
    }
    let resent = resent.load(std::sync::atomic::Ordering::Relaxed);
    if resent > 0 {
        println!("{resent} of the requests were an order sent again to the other server");
    }
    load.report("orders", "orders");
    Ok(())
}

/// A well-mixed 64-bit number from `x` (SplitMix64's finaliser), so a resent order is built
/// the same as the first.
fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One password-guessing client: the login page for its CSRF cookie and token, then a wrong
/// password, until the deadline; every third guess is for the owner (`bench`), the others for
/// made-up names. Returns how many answers of each status it got (0 = no answer).
async fn guess_passwords(base: String, client_no: u64, deadline: Instant) -> Vec<(u16, u64)> {
    joren_app::install_tls();
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
    let mut answers = std::collections::BTreeMap::<u16, u64>::new();
    let mut n = 0u64;
    while Instant::now() < deadline {
        n += 1;
        let Ok(page) = client.get(format!("{base}/login")).send().await else {
            *answers.entry(0).or_default() += 1;
            continue;
        };
        let cookie = page
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .unwrap_or_default()
            .to_string();
        let html = page.text().await.unwrap_or_default();
        let csrf = html.split("name=\"csrf\" value=\"").nth(1).and_then(|t| t.split('"').next()).unwrap_or_default();
        let user = if n.is_multiple_of(3) { "bench".to_string() } else { format!("guess{client_no}x{n}") };
        let password = format!("wrong-password-{n}");
        let status = client
            .post(format!("{base}/login"))
            .header("cookie", cookie)
            .form(&[("username", user.as_str()), ("password", &password), ("next", "/"), ("csrf", csrf)])
            .send()
            .await
            .map(|r| r.status().as_u16())
            .unwrap_or(0);
        *answers.entry(status).or_default() += 1;
    }
    answers.into_iter().collect()
}
