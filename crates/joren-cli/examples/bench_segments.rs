//! Segment evaluation benchmark: fills a fresh SQLite database with N customers (default
//! 1,000,000; prefectures, birthdays, tags, consents, acquisition sources) and a metrics
//! snapshot for each, then times typical filters: the count plus the first page of 50 ids,
//! as the builder's live count and the API do.
//! `cargo run --release --example bench_segments -- [N] [DATABASE_URL]`

use joren_app::{App, AppConfig, CustomerMetrics};
use joren_core::customer::CustomerProfile;
use serde_json::json;

const PREFECTURES: [&str; 8] = ["東京都", "大阪府", "神奈川県", "愛知県", "福岡県", "北海道", "京都府", "兵庫県"];
const SEGMENTS: [&str; 6] = ["champions", "loyal", "new", "at_risk", "dormant", "lost"];
const SOURCES: [&str; 4] = ["store", "ec", "advertising", "referral"];

/// splitmix64: a deterministic stream of random numbers, enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir()?;
    let url = args.get(2).cloned().unwrap_or_else(|| format!("sqlite://{}/bench.db", dir.path().display()));
    let app = App::open(&url, AppConfig::default()).await?;
    let mut rng = Rng(42);
    if app.store.count_customers().await? > 0 {
        println!("reusing the customers and metrics already in {url}");
        return time_filters(&app).await;
    }
    let started = std::time::Instant::now();
    let mut ids = Vec::with_capacity(n);
    for start in (0..n).step_by(20_000) {
        let batch: Vec<joren_store::NewCustomerRecord> = (start..(start + 20_000).min(n))
            .map(|i| {
                let profile = CustomerProfile {
                    family_name: format!("顧客{i}"),
                    given_name: "様".into(),
                    prefecture: Some(PREFECTURES[rng.below(8) as usize].into()),
                    birthday: chrono::NaiveDate::from_ymd_opt(
                        1950 + rng.below(55) as i32,
                        1 + rng.below(12) as u32,
                        1 + rng.below(28) as u32,
                    ),
                    tags: if rng.below(10) == 0 { vec!["VIP".into()] } else { Vec::new() },
                    acquisition_source: Some(SOURCES[rng.below(4) as usize].into()),
                    ..Default::default()
                };
                (profile, Vec::new(), vec![("email".to_string(), rng.below(3) != 0)])
            })
            .collect();
        ids.extend(app.store.create_customers_batch(&batch, "bench").await?);
    }
    println!("created {n} customers in {:.1}s", started.elapsed().as_secs_f64());
    let started = std::time::Instant::now();
    let metrics: Vec<CustomerMetrics> = ids
        .iter()
        .map(|&customer_id| {
            let frequency = 1 + rng.below(20) as i64;
            let p_alive = rng.unit();
            CustomerMetrics {
                customer_id,
                recency_days: rng.below(730) as i64,
                frequency,
                monetary: frequency * (1000 + rng.below(9000) as i64),
                r_score: 1 + rng.below(5) as i64,
                f_score: 1 + rng.below(5) as i64,
                m_score: 1 + rng.below(5) as i64,
                segment: SEGMENTS[rng.below(6) as usize].into(),
                p_alive: Some(p_alive),
                expected_purchases_90d: Some(rng.unit() * 3.0),
                expected_order_value: Some(2000.0 + rng.unit() * 8000.0),
                clv_12m: Some(rng.unit() * 100_000.0),
                churn_score: Some((100.0 * (1.0 - p_alive)) as i64),
                churn_band: Some(["low", "medium", "high"][rng.below(3) as usize].into()),
                expected_next_purchase: None,
            }
        })
        .collect();
    app.store.write_metric_snapshot("2026-11-23", 0, &json!({}), &metrics, &[], &[]).await?;
    println!("wrote the metrics snapshot in {:.1}s", started.elapsed().as_secs_f64());
    time_filters(&app).await
}

/// Times each filter: count plus the first page of 50 ids, median and max of 11 runs.
async fn time_filters(app: &App) -> Result<(), Box<dyn std::error::Error>> {
    let filters = [
        (
            "segment in (dormant, at_risk) AND p_alive < 0.3",
            json!({"all": [
            {"field": "segment", "op": "in", "value": ["dormant", "at_risk"]},
            {"field": "p_alive", "op": "lt", "value": 0.3}]}),
        ),
        (
            "(total_spent ≥ 50,000 OR clv ≥ 80,000) AND 東京都",
            json!({"all": [
            {"any": [{"field": "total_spent", "op": "gte", "value": 50000}, {"field": "clv_12m", "op": "gte", "value": 80000}]},
            {"field": "prefecture", "op": "eq", "value": "東京都"}]}),
        ),
        (
            "birthday month 5 AND email consent",
            json!({"all": [
            {"field": "birthday_month", "op": "eq", "value": 5},
            {"field": "consent_email", "op": "eq", "value": true}]}),
        ),
        (
            "tag VIP AND churn band high",
            json!({"all": [
            {"field": "tags", "op": "contains", "value": "VIP"},
            {"field": "churn_band", "op": "eq", "value": "high"}]}),
        ),
        ("recency ≥ 365 days", json!({"field": "recency_days", "op": "gte", "value": 365})),
    ];
    for (name, filter) in filters {
        let mut times = Vec::new();
        let mut total = 0;
        for _ in 0..11 {
            let t = std::time::Instant::now();
            total = app.evaluate_segment(&filter, 50, 0).await?.total;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!("{name:<52} {total:>7} customers  median {:>7.1} ms  max {:>7.1} ms", times[5], times[10]);
    }
    Ok(())
}
