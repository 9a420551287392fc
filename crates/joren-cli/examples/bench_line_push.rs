//! LINE push benchmark (issue #19's target: pushes to 100,000 linked customers through a local
//! stand-in for the Messaging API at ≥ 1,000 pushes/s, with zero duplicates under injected 429s
//! and 5xx). Run by `scripts/bench_line_push.sh`, which imports the customers first:
//!
//! `bench_line_push DATABASE_URL JOREN_BIN WORKERS`
//!   Makes a saved segment of every customer tagged `LINE` and a one-step LINE scenario, starts
//!   the stand-in (the tests' own, `tests/common/line_api.rs`: bearer token, retry keys, 409 on
//!   a repeated key) answering every 20th request 429, every 50th 500 and every 97th "delivered,
//!   then 500" (the answer lost), broadcasts the scenario to the segment, then starts WORKERS
//!   `joren worker` processes and waits until every message is sent. Prints the broadcast time,
//!   the pushes per second from the workers' start to the last push, the requests it took, and
//!   checks each customer got exactly one push.

#[path = "../../joren-web/tests/common/line_api.rs"]
#[allow(dead_code)]
mod line_api;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [db, joren, workers] = args.as_slice() else {
        return Err("bench_line_push DATABASE_URL JOREN_BIN WORKERS".into());
    };
    let workers: usize = workers.parse()?;
    let app = joren_app::App::open(db, joren_app::AppConfig { background_jobs: false, ..Default::default() }).await?;
    let owner = joren_app::Actor::system("bench");
    let seg = app
        .create_segment(
            &owner,
            &joren_app::segments::SegmentInput {
                name: "LINE".into(),
                description: String::new(),
                filter: serde_json::json!({"all": [{"field": "tags", "op": "contains", "value": "LINE"}]}),
            },
        )
        .await?;
    let def = serde_json::json!({"trigger": {"kind": "manual"}, "steps": [
        {"type": "line", "text": "{{ name }}\n年末年始の営業時間のお知らせです。", "marketing": false,
         "quick_replies": ["了解"]}
    ]});
    let s = app
        .create_scenario(&owner, joren_app::scenarios::ScenarioInput { name: "お知らせ".into(), definition: def })
        .await?;
    app.set_scenario_status(&owner, s.id, joren_app::scenarios::Status::Active).await?;

    const TOKEN: &str = "bench-line-token";
    let api = line_api::LineApi::start(TOKEN);
    api.every(20, line_api::Fault::RateLimit);
    api.every(50, line_api::Fault::ServerError);
    api.every(97, line_api::Fault::AcceptThenFail);

    let t0 = Instant::now();
    let n = app.broadcast(&owner, s.id, seg.id).await? as usize;
    println!("broadcast: {n} customers entered in {:.2} s", t0.elapsed().as_secs_f64());

    let start = Instant::now();
    let mut children: Vec<std::process::Child> = (0..workers)
        .map(|i| {
            Command::new(joren)
                .args(["worker", "--name", &format!("bench{i}")])
                .env("JOREN_DATABASE_URL", db)
                .env("JOREN_LINE_CHANNEL_TOKEN", TOKEN)
                .env("JOREN_LINE_API_URL", &api.url)
                .env("JOREN_LOG", "warn")
                .stdout(Stdio::null())
                .spawn()
                .expect("joren worker")
        })
        .collect();
    let deadline = start + Duration::from_secs(1800);
    let mut last_print = Instant::now();
    while api.delivered() < n {
        if Instant::now() > deadline {
            return Err(format!("only {} of {n} pushed in 30 min", api.delivered()).into());
        }
        if last_print.elapsed() > Duration::from_secs(10) {
            eprintln!("  {} pushed after {:.0} s", api.delivered(), start.elapsed().as_secs_f64());
            last_print = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let pushed_in = start.elapsed().as_secs_f64();
    // The outbox catches up with the last answers (and the 409s of lost ones).
    loop {
        let c = app.store.outbox_counts(Some(s.id)).await?;
        if c.sent as usize == n {
            break;
        }
        if Instant::now() > deadline {
            return Err(format!("outbox not all sent: {c:?}").into());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let recorded_in = start.elapsed().as_secs_f64();
    for c in &mut children {
        let _ = c.kill();
        let _ = c.wait();
    }
    let pushes = api.pushes();
    let mut to: Vec<&str> = pushes.iter().map(|p| p.to.as_str()).collect();
    to.sort_unstable();
    to.dedup();
    println!(
        "pushed: {n} in {pushed_in:.2} s = {:.0} pushes/s ({workers} worker(s)); all recorded sent after {recorded_in:.2} s; \
         {} requests (429s, 500s and lost answers retried)",
        n as f64 / pushed_in,
        api.requests()
    );
    let ok = pushes.len() == n && to.len() == n;
    println!(
        "delivered: {} pushes to {} distinct users of {n}: {}",
        pushes.len(),
        to.len(),
        if ok { "ok, none doubled" } else { "MISMATCH" }
    );
    if !ok {
        return Err("duplicates or losses".into());
    }
    Ok(())
}
