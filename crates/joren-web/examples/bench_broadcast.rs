//! A broadcast to N customers (default 100,000) on a fresh database: enrolling them from a
//! saved segment, deciding each one's mail and writing the outbox (the engine's advance), and
//! delivering to a real SMTP server on loopback (the tests' server: mailin's SMTP state
//! machine). Prints customers/s for each phase, mails received against outbox rows (0
//! doubled), and the process's peak resident memory.
//! `cargo run --release -p joren-web --example bench_broadcast -- [CUSTOMERS] [DATABASE_URL or -] [marketing]`
//! (`marketing`: the mail is marketing — consent, caps and the opt-out link checked and
//! added for each; quiet hours off so the run does not wait for the morning).

#[path = "../tests/common/smtp.rs"]
#[allow(dead_code)]
mod smtp;

use std::time::Instant;

/// The allocator of the shipped binary (joren-cli), so the figures are the product's.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

use joren_app::{Actor, App, AppConfig};
use joren_core::customer::{CustomerInput, CustomerProfile};
use serde_json::json;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args.get(1).and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir()?;
    let url = args
        .get(2)
        .filter(|a| *a != "-")
        .cloned()
        .unwrap_or_else(|| format!("sqlite://{}/bench.db", dir.path().display()));
    let server = smtp::SmtpServer::start_counting();
    let marketing = args.get(3).is_some_and(|a| a == "marketing");
    let midnight = chrono::NaiveTime::MIN;
    let mail = joren_app::mail::MailConfig {
        transport: joren_app::mail::MailConfig::parse_transport(&server.url())?,
        quiet_from: midnight,
        quiet_until: midnight,
        ..Default::default()
    };
    let app = App::open(&url, AppConfig { background_jobs: false, mail, ..AppConfig::default() }).await?;
    let owner = Actor::system("bench");
    let t0 = Instant::now();
    for chunk in (0..n).collect::<Vec<_>>().chunks(5_000) {
        let batch: Vec<_> = chunk
            .iter()
            .map(|i| {
                let input = CustomerInput {
                    family_name: Some(format!("顧客{i}")),
                    given_name: Some("花子".into()),
                    email: Some(format!("c{i}@example.jp")),
                    tags: Some(vec!["案内".into()]),
                    ..Default::default()
                };
                (input.apply(CustomerProfile::default()).expect("valid"), vec![], vec![("email".to_string(), true)])
            })
            .collect();
        app.store.create_customers_batch(&batch, "bench").await?;
    }
    println!("{n} customers created in {:.1}s", t0.elapsed().as_secs_f64());
    let seg = app
        .create_segment(
            &owner,
            &joren_app::segments::SegmentInput {
                name: "案内".into(),
                description: String::new(),
                filter: json!({"all": [{"field": "tags", "op": "contains", "value": "案内"}]}),
            },
        )
        .await?;
    let def = json!({"trigger": {"kind": "manual"}, "steps": [
        {"type": "email", "marketing": marketing, "subject": "営業時間のお知らせ", "body": "{{ name }}\n年末年始の営業時間をお知らせします。{{ shop_name }}"}
    ]});
    let s = app
        .create_scenario(&owner, joren_app::scenarios::ScenarioInput { name: "案内".into(), definition: def })
        .await?;
    app.set_scenario_status(&owner, s.id, joren_app::scenarios::Status::Active).await?;

    let t = Instant::now();
    let entered = app.broadcast(&owner, s.id, seg.id).await?;
    let enrol_s = t.elapsed().as_secs_f64();
    println!("enrol: {entered} customers in {enrol_s:.2}s = {:.0} customers/s", entered as f64 / enrol_s);

    let t = Instant::now();
    let mut decided = 0;
    loop {
        let k = app.advance_due_runs().await?;
        if k == 0 {
            break;
        }
        decided += k;
    }
    let decide_s = t.elapsed().as_secs_f64();
    let rows = app.store.outbox_counts(Some(s.id)).await?.queued;
    println!(
        "decide and write the outbox: {decided} runs, {rows} messages in {decide_s:.2}s = {:.0} customers/s",
        decided as f64 / decide_s
    );
    println!("enrol + decide: {:.0} customers/s", entered as f64 / (enrol_s + decide_s));

    let t = Instant::now();
    loop {
        if app.deliver_messages().await? == 0 {
            break;
        }
    }
    let send_s = t.elapsed().as_secs_f64();
    let c = app.store.outbox_counts(Some(s.id)).await?;
    let received = server.received().len();
    println!(
        "deliver over SMTP: {} sent in {send_s:.2}s = {:.0} mails/s; received {received}, doubled {}",
        c.sent,
        c.sent as f64 / send_s,
        received as i64 - c.sent
    );
    if let Ok(status) = std::fs::read_to_string("/proc/self/status")
        && let Some(line) = status.lines().find(|l| l.starts_with("VmHWM"))
    {
        println!("peak memory: {}", line.trim_start_matches("VmHWM:").trim());
    }
    Ok(())
}
