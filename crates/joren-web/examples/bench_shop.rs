//! A shop at scale (issue #21): fills a fresh database with CUSTOMERS customers (default
//! 1,000,000) and ORDERS orders (default ten per customer) through the bulk paths an import
//! uses, then times the pages a shop owner opens over loopback with a logged-in session.
//!
//! - customers: 姓名 with kana, email, phone, prefecture, birthday, a VIP tag for one in ten,
//!   an acquisition source, an email consent for two in three;
//! - orders: one to three lines of 20 products (the 8 % and 10 % rates), over the three years
//!   ending today; who buys is heavy-tailed (a customer drawn as `N·u²`: the first few hundred
//!   thousand are regulars, the rest buy once or twice, many never);
//! - one interaction for every fourth customer, a welcome points lot for every customer and a
//!   campaign lot for every third;
//! - then the nightly snapshot (`refresh_metrics`), timed.
//!
//! Run it again on the same database to time the pages without building it again.
//! `cargo run --release -p joren-web --example bench_shop -- [CUSTOMERS] [ORDERS] [DATABASE_URL]`

use std::time::Instant;

#[path = "support/pages.rs"]
mod pages;

use chrono::{Duration, Utc};
use joren_app::demo::{FEMALE, MALE, SURNAMES};
use joren_app::{Actor, App, AppConfig};
use joren_core::customer::CustomerProfile;
use joren_core::fingerprint::Fingerprint;
use joren_core::order::{LineItemInput, OrderInput};
use joren_core::role::Role;
use serde_json::json;

const PREFECTURES: [&str; 8] = ["東京都", "大阪府", "神奈川県", "愛知県", "福岡県", "北海道", "京都府", "兵庫県"];
const SOURCES: [&str; 4] = ["store", "ec", "advertising", "referral"];
/// (sku, name, category, price, tax rate)
const PRODUCTS: [(&str, &str, &str, i64, i64); 20] = [
    ("BN-01", "ブレンド 200g", "珈琲豆", 1400, 8),
    ("BN-02", "マンデリン 200g", "珈琲豆", 1700, 8),
    ("BN-03", "エチオピア 200g", "珈琲豆", 1800, 8),
    ("BN-04", "コロンビア 200g", "珈琲豆", 1600, 8),
    ("BN-05", "デカフェ 200g", "珈琲豆", 1900, 8),
    ("BN-06", "グアテマラ 200g", "珈琲豆", 1650, 8),
    ("SW-01", "フィナンシェ 5個入", "焼き菓子", 1200, 8),
    ("SW-02", "マドレーヌ 5個入", "焼き菓子", 1100, 8),
    ("SW-03", "クッキー缶", "焼き菓子", 2400, 8),
    ("SW-04", "パウンドケーキ", "焼き菓子", 1800, 8),
    ("GF-01", "ギフトセット 小", "ギフト", 3300, 8),
    ("GF-02", "ギフトセット 大", "ギフト", 5500, 8),
    ("GF-03", "お歳暮セット", "ギフト", 4400, 8),
    ("TL-01", "ハンドドリッパー", "器具", 3300, 10),
    ("TL-02", "ペーパーフィルター", "器具", 440, 10),
    ("TL-03", "コーヒーミル", "器具", 8800, 10),
    ("TL-04", "ドリップポット", "器具", 5500, 10),
    ("TL-05", "キャニスター", "器具", 2200, 10),
    ("MG-01", "マグカップ", "雑貨", 1980, 10),
    ("MG-02", "タンブラー", "雑貨", 2750, 10),
];

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

const USER: &str = "bench";
const PASSWORD: &str = "shop-scale-passphrase-4471";

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let customers: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(1_000_000);
    let orders: usize = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(customers * 10);
    let dir = tempfile::tempdir()?;
    let url = args.get(3).cloned().unwrap_or_else(|| format!("sqlite://{}/shop.db", dir.path().display()));
    let config = AppConfig { background_jobs: false, ..AppConfig::default() };
    let app = App::open(&url, config).await?;
    if app.store.count_customers().await? == 0 {
        build(&app, customers, orders).await?;
    } else {
        println!("timing the shop already in {url}");
    }
    time_pages(&app).await
}

async fn build(app: &App, customers: usize, orders: usize) -> Result<(), Box<dyn std::error::Error>> {
    let system = Actor::system("bench");
    let mut rng = Rng(42);
    app.create_user(&system, USER, "ベンチ", Role::Owner, PASSWORD).await?;

    let started = Instant::now();
    let mut ids: Vec<i64> = Vec::with_capacity(customers);
    for start in (0..customers).step_by(20_000) {
        let batch: Vec<joren_store::NewCustomerRecord> = (start..(start + 20_000).min(customers))
            .map(|i| {
                let (family, family_kana) = SURNAMES[rng.below(SURNAMES.len() as u64) as usize];
                let given_names = if i % 2 == 0 { FEMALE } else { MALE };
                let (given, given_kana) = given_names[rng.below(given_names.len() as u64) as usize];
                let profile = CustomerProfile {
                    family_name: family.into(),
                    given_name: given.into(),
                    family_name_kana: family_kana.into(),
                    given_name_kana: given_kana.into(),
                    email: Some(format!("c{i}@example.jp")),
                    phone: Some(format!("+8190{:08}", i)),
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
    println!("{customers} customers in {:.1}s", started.elapsed().as_secs_f64());

    let started = Instant::now();
    let (now, tz) = (app.now(), app.tz());
    let span_seconds = 3 * 365 * 86_400;
    app.store.defer_order_indexes().await?;
    let mut written = 0;
    for start in (0..orders).step_by(20_000) {
        let mut batch = Vec::with_capacity(20_000);
        for n in start..(start + 20_000).min(orders) {
            let u = rng.unit();
            let customer = ids[((customers as f64) * u * u) as usize % customers];
            let at = now - Duration::seconds(1 + rng.below(span_seconds) as i64);
            let items = (0..1 + rng.below(3))
                .map(|_| {
                    let (sku, name, category, price, rate) = PRODUCTS[rng.below(20) as usize];
                    LineItemInput {
                        sku: sku.into(),
                        name: name.into(),
                        category: category.into(),
                        quantity: 1 + (rng.below(10) == 0) as i64,
                        unit_price: price,
                        tax_rate: rate,
                    }
                })
                .collect();
            let input = OrderInput {
                customer_id: customer,
                external_id: Some(format!("S{n:09}")),
                ordered_at: Some(at.to_rfc3339()),
                channel: Some(if rng.below(3) == 0 { "ec" } else { "store" }.into()),
                items,
                ..Default::default()
            };
            let fingerprint = Fingerprint::of_json(&input);
            batch.push((input.validate(now, tz).map_err(|e| format!("order {n}: {e:?}"))?, fingerprint));
        }
        written += app.store.insert_orders_batch(&batch).await?.iter().flatten().count();
        if (start + 20_000) % 1_000_000 == 0 {
            println!("  {} orders, {:.1}s", start + 20_000, started.elapsed().as_secs_f64());
        }
    }
    app.store.ensure_order_indexes().await?;
    println!("{written} orders in {:.1}s (indexes built at the end)", started.elapsed().as_secs_f64());

    let started = Instant::now();
    let kinds = ["phone", "email", "visit", "line"];
    for chunk in ids.chunks(4 * 20_000) {
        let batch: Vec<joren_store::NewInteraction> = chunk
            .iter()
            .step_by(4)
            .map(|&customer_id| joren_store::NewInteraction {
                customer_id,
                contact_id: None,
                kind: kinds[rng.below(4) as usize].into(),
                direction: "out".into(),
                staff_user_id: None,
                subject: "ご購入のお礼".into(),
                body: "お電話でご感想を伺いました。".into(),
                occurred_at: Utc::now() - Duration::days(rng.below(700) as i64),
            })
            .collect();
        app.store.insert_interactions_batch(&batch).await?;
    }
    let today = app.today_date();
    let expiry = app.points_programme().await?.expiry;
    let lot = |reason: &str| joren_store::LotSource {
        source: "bonus",
        reason: reason.into(),
        created_by: None,
        breakdown: Default::default(),
    };
    app.store.grant_points_bulk(&ids, 500, &lot("入会ボーナス"), today - Duration::days(200), expiry).await?;
    let third: Vec<i64> = ids.iter().copied().step_by(3).collect();
    app.store.grant_points_bulk(&third, 300, &lot("キャンペーン"), today - Duration::days(30), expiry).await?;
    println!(
        "{} interactions, {} points lots in {:.1}s",
        customers.div_ceil(4),
        customers + third.len(),
        started.elapsed().as_secs_f64()
    );

    let started = Instant::now();
    let snapshot = app.refresh_metrics(&system).await?;
    println!(
        "nightly snapshot ({} customers, {} orders) in {:.1}s",
        snapshot.customers,
        snapshot.orders,
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Median, p95 and max of 20 requests per page after 2 warm-ups, over loopback with a
/// logged-in session (the segment count through the API with a token).
async fn time_pages(app: &App) -> Result<(), Box<dyn std::error::Error>> {
    let (base, client) = pages::serve(app).await?;
    let cookie = pages::login(&client, &base, USER, PASSWORD).await?;
    let (token, _) = app.create_api_token(&Actor::system("bench"), USER, "bench pages").await?;

    // The 360 of the shop's biggest regular (the first customer: thousands of orders at a
    // million customers) and of a typical one (a few orders).
    let regular = app.store.customers_after(0, 1).await?.first().map(|c| c.id).ok_or("no customers")?;
    let count = app.store.count_customers().await?;
    let typical = app.store.customers_after(count / 2, 1).await?.first().map(|c| c.id).ok_or("no customers")?;
    let filter = json!({"limit": 50, "filter": {"all": [
        {"field": "segment", "op": "in", "value": ["at_risk", "dormant"]},
        {"field": "prefecture", "op": "eq", "value": "東京都"}]}});
    let pages: [(&str, String, Option<serde_json::Value>); 10] = [
        ("dashboard", "/dashboard".into(), None),
        ("home", "/".into(), None),
        ("360, regular", format!("/customers/{regular}"), None),
        ("360, typical", format!("/customers/{typical}"), None),
        ("customer list", "/customers".into(), None),
        // タナカ ヒナ: a kana surname and the start of a given name.
        ("search (kana)", "/customers?q=%E3%82%BF%E3%83%8A%E3%82%AB+%E3%83%92%E3%83%8A".into(), None),
        // 田中: a two-character surname, found where a name starts.
        ("search (surname)", "/customers?q=%E7%94%B0%E4%B8%AD".into(), None),
        ("search (email)", "/customers?q=c123456%40example".into(), None),
        ("search (phone)", "/customers?q=090-0012-3456".into(), None),
        ("segment count", "/api/v1/segments/evaluate".into(), Some(filter)),
    ];
    for (name, path, body) in pages {
        let url = format!("{base}{path}");
        pages::time_page(name, 2, 20, || match &body {
            None => client.get(&url).header("cookie", &cookie),
            Some(b) => client.post(&url).bearer_auth(&token).json(b),
        })
        .await?;
    }
    Ok(())
}
