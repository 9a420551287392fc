//! Server time of the pages a shop owner opens every morning, on the demo shop (`joren demo`'s
//! data: 2,000 customers, seed 42 as `joren demo`, metrics computed): the dashboard, a customer 360 page and
//! the segment list, each fetched over loopback with a logged-in session; median, p95 and
//! max of 41 requests after 3 warm-ups.
//! `cargo run --release -p joren-web --example bench_dashboard -- [CUSTOMERS] [DATABASE_URL]`

use std::time::Instant;

use joren_app::{App, AppConfig};

#[path = "support/pages.rs"]
mod pages;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let customers: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(2000);
    let dir = tempfile::tempdir()?;
    let url = args.get(2).cloned().unwrap_or_else(|| format!("sqlite://{}/demo.db", dir.path().display()));
    let config = AppConfig { background_jobs: false, ..AppConfig::default() };
    let app = App::open(&url, config).await?;
    let started = Instant::now();
    let summary = app.generate_demo(42, customers, &mut |_| {}).await?;
    println!(
        "demo shop: {} customers + {} accounts, {} orders, {} interactions ({:.1}s to build and analyse)",
        summary.customers,
        summary.accounts,
        summary.orders,
        summary.interactions,
        started.elapsed().as_secs_f64()
    );

    // Where the dashboard's time goes, use case by use case (median of 21).
    let mut parts: Vec<(&str, Vec<f64>)> =
        ["order log", "dashboard", "contact lists", "bought together"].iter().map(|n| (*n, Vec::new())).collect();
    for _ in 0..21 {
        let t = Instant::now();
        app.order_log().await?;
        parts[0].1.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        app.dashboard(None).await?;
        parts[1].1.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        app.contact_lists(15).await?;
        parts[2].1.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        app.top_associations(10).await?;
        parts[3].1.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    for (name, mut times) in parts {
        times.sort_by(|a, b| a.total_cmp(b));
        println!("  {name:<16} median {:>6.1} ms", times[times.len() / 2]);
    }

    let (base, client) = pages::serve(&app).await?;
    let (user, password, _, _) = joren_app::demo::DEMO_USERS[0];
    let cookie = pages::login(&client, &base, user, password).await?;

    let customer_id = app.store.customers_after(0, 1).await?.first().map(|c| c.id).ok_or("no customers")?;
    let pages = [
        ("dashboard", "/dashboard".to_string()),
        ("customer 360", format!("/customers/{customer_id}")),
        ("segments", "/segments".to_string()),
        ("customer list", "/customers".to_string()),
    ];
    for (name, path) in pages {
        let label = format!("{name} {path}");
        pages::time_page(&label, 3, 41, || client.get(format!("{base}{path}")).header("cookie", &cookie)).await?;
    }
    Ok(())
}
