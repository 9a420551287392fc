//! Customer search benchmark: fills a fresh database with N customers (through the CSV
//! importer) and times searches by kana, name, email and phone.
//! `cargo run --release --example bench_search -- [N] [DATABASE_URL]`

use joren_app::import::{ImportKind, ImportOptions};
use joren_app::{Actor, App, AppConfig};

use joren_app::demo::{FEMALE as GIVEN, SURNAMES as FAMILY};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let url = args.get(2).cloned().unwrap_or_else(|| format!("sqlite://{}/bench.db", dir.path().display()));
    let app = App::open(&url, AppConfig::default()).await?;
    let actor = Actor::system("bench");
    let mut csv = String::from("顧客番号,姓,名,セイ,メイ,メールアドレス,電話番号\n");
    for i in 0..n {
        let (f, fk) = FAMILY[i % FAMILY.len()];
        let (g, gk) = GIVEN[(i / FAMILY.len()) % GIVEN.len()];
        csv.push_str(&format!(
            "B{i:07},{f},{g},{fk},{gk},user{i}@example.jp,090-{:04}-{:04}\n",
            (i / 10000) % 10000 + 1000,
            i % 10000
        ));
    }
    let started = std::time::Instant::now();
    let mut options = ImportOptions::new(ImportKind::Customers);
    options.batch_size = 5000;
    let report = app.import_csv(&actor, csv.as_bytes(), &options, &mut |_| {}).await?;
    println!(
        "imported {} customers in {:.2}s ({} rejected)",
        report.created,
        started.elapsed().as_secs_f64(),
        report.rejected.len()
    );
    for q in ["やまだ", "ヤマダ ハナコ", "山田花子", "user12345@", "090-1001-2345", "存在しない名前", ""]
    {
        let mut times = Vec::new();
        let mut total = 0;
        for _ in 0..21 {
            let t = std::time::Instant::now();
            total = app.search_customers(q, 50, 0).await?.total;
            times.push(t.elapsed().as_secs_f64() * 1000.0);
        }
        times.sort_by(|a, b| a.total_cmp(b));
        println!("search {q:<16} {total:>7} hits  median {:>6.1} ms  max {:>6.1} ms", times[10], times[20]);
    }
    Ok(())
}
