//! Crash safety of the points ledger: the real `joren serve` process on a SQLite file is
//! killed (SIGKILL) in the middle of streams (four at once, committed in groups) of orders (which earn points), checkout
//! redemptions and grants, then restarted, several times. After every restart: every lot
//! equals the sum of its entries, every acknowledged write is there (its key replays to the
//! same id), and the request cut off by the kill, retried with its key, is applied exactly
//! once. At the end each customer's balance is exactly what the acknowledged writes add up to.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::{Value, json};

/// Runs `joren ARGS`, which must succeed; returns its standard output.
fn joren_ok(db: &str, args: &[&str], stdin: Option<&str>) -> String {
    let o = common::joren(db, args, stdin);
    assert!(o.status.success(), "{args:?}: {}", common::out(&o));
    String::from_utf8_lossy(&o.stdout).trim().to_string()
}

/// Starts the server on a free port; returns the process and its base URL.
fn start(db: &str) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_joren"))
        .args(["serve", "--addr", "127.0.0.1:0"])
        .env("JOREN_DATABASE_URL", db)
        .env("JOREN_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    let url = line.split_whitespace().find(|w| w.starts_with("http://")).expect("banner with the URL");
    (child, url.trim_end_matches('/').to_string())
}

/// One write of the stream: where it goes, its key and body.
#[derive(Clone, Debug)]
struct Write1 {
    path: String,
    key: String,
    body: Value,
    customer: usize,
}

/// The n-th write of stream `stream`: an order, a one-point reservation or a five-point grant.
fn nth_write(stream: &str, n: usize, customers: &[i64]) -> Write1 {
    let ci = (n / 3) % customers.len();
    let c = customers[ci];
    let key = format!("{stream}-{n}");
    let (path, body) = match n % 3 {
        0 => (
            "/api/v1/orders".to_string(),
            json!({"customer_id": c, "external_id": key, "ordered_at": "2026-03-01T10:00:00+09:00",
                   "items": [{"sku": "B", "name": "豆", "category": "珈琲豆", "quantity": 1, "unit_price": 1200 + n as i64, "tax_rate": 8}]}),
        ),
        1 => ("/api/v1/points/redemptions".to_string(), json!({"customer_id": c, "points": 1})),
        _ => (format!("/api/v1/customers/{c}/points/grants"), json!({"points": 5, "reason": "来店"})),
    };
    Write1 { path, key, body, customer: ci }
}

/// Writers streaming at once in each round.
const WRITERS: usize = 4;

/// Sends a write; `Some((id, points added to the balance, replayed))` when acknowledged.
async fn send(client: &reqwest::Client, base: &str, token: &str, w: &Write1) -> Option<(i64, i64, bool)> {
    let r = client
        .post(format!("{base}{}", w.path))
        .bearer_auth(token)
        .header("Idempotency-Key", &w.key)
        .json(&w.body)
        .timeout(Duration::from_secs(20))
        .send()
        .await
        .ok()?;
    let status = r.status().as_u16();
    let replayed = r.headers().get("idempotent-replayed").is_some();
    let v: Value = r.json().await.ok()?;
    assert_eq!(status, 201, "{} answered {status}: {v}", w.path);
    Some(if w.path.ends_with("/orders") {
        (v["id"].as_i64().unwrap(), v["points_earned"]["total"].as_i64().unwrap(), replayed)
    } else if w.path.ends_with("/redemptions") {
        (v["id"].as_i64().unwrap(), -1, replayed)
    } else {
        (v["lot_id"].as_i64().unwrap(), 5, replayed)
    })
}

/// Creates a customer through the API; answers the id.
async fn new_customer(client: &reqwest::Client, base: &str, token: &str, family_name: &str, phone: &str) -> i64 {
    let r = client
        .post(format!("{base}/api/v1/customers"))
        .bearer_auth(token)
        .json(&json!({"family_name": family_name, "phone": phone}))
        .send()
        .await
        .unwrap();
    r.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn get_json(client: &reqwest::Client, url: &str, token: &str) -> Value {
    client.get(url).bearer_auth(token).send().await.unwrap().json().await.unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_server_mid_stream_loses_no_acknowledged_point_write() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/crash.db", dir.path().display());
    joren_ok(&db, &["migrate"], None);
    joren_ok(&db, &["user", "create", "owner1", "--role", "owner", "--password-stdin"], Some("a-long-passphrase\n"));
    let token = joren_ok(&db, &["token", "create", "--user", "owner1", "--name", "crash"], None);
    joren_app::install_tls();
    let client = reqwest::Client::new();

    let (mut server, mut base) = start(&db);
    let mut customers = Vec::new();
    for i in 0..3 {
        let id = new_customer(&client, &base, &token, &format!("顧客{i}"), &format!("090-4000-000{i}")).await;
        let r = client
            .post(format!("{base}/api/v1/customers/{id}/points/grants"))
            .bearer_auth(&token)
            .json(&json!({"points": 1000, "reason": "開始"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);
        customers.push(id);
    }
    let mut expected = vec![1000i64; customers.len()];
    let mut acknowledged: Vec<(Write1, i64)> = Vec::new();
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;

    for round in 0..6 {
        // A writer streams until the kill cuts it off; what it saw acknowledged is recorded.
        // Several writers stream at once (so the server commits their writes in groups) until
        // the kill cuts them off; what each saw acknowledged is recorded.
        let acked = Arc::new(AtomicUsize::new(0));
        let writers: Vec<_> = (0..WRITERS)
            .map(|wi| {
                let (client, base, token, customers) = (client.clone(), base.clone(), token.clone(), customers.clone());
                let acked = acked.clone();
                tokio::spawn(async move {
                    let stream = format!("r{round}-w{wi}");
                    let mut done = Vec::new();
                    for n in 0.. {
                        let w = nth_write(&stream, n, &customers);
                        match send(&client, &base, &token, &w).await {
                            Some((id, delta, _)) => {
                                done.push((w, id, delta));
                                acked.fetch_add(1, Ordering::SeqCst);
                            }
                            None => return (done, Some(w)),
                        }
                    }
                    (done, None)
                })
            })
            .collect();
        // The kill falls at a random moment once the stream is going (a loaded machine may
        // take a while to answer the first write of a fresh server).
        for _ in 0..400 {
            if acked.load(Ordering::SeqCst) > 0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        tokio::time::sleep(Duration::from_millis(50 + (seed >> 33) % 400)).await;
        server.kill().unwrap();
        server.wait().unwrap();
        let mut done = Vec::new();
        let mut cut_off = Vec::new();
        for writer in writers {
            let (d, c) = writer.await.unwrap();
            done.extend(d);
            cut_off.extend(c);
        }
        assert!(!done.is_empty(), "round {round}: the stream got going before the kill");
        eprintln!("round {round}: {} writes acknowledged, {} cut off", done.len(), cut_off.len());

        // The port changes with every start; later requests use the new base.
        (server, base) = start(&db);
        for (w, id, delta) in done {
            expected[w.customer] += delta;
            acknowledged.push((w, id));
        }
        for w in cut_off {
            // A request the kill cut off: retried with its key, it is applied once, whether
            // or not it had committed before the kill.
            let (id, delta, _) = send(&client, &base, &token, &w).await.expect("retry after restart");
            expected[w.customer] += delta;
            acknowledged.push((w, id));
        }
        let v = get_json(&client, &format!("{base}/api/v1/points/verify"), &token).await;
        assert_eq!(v["ok"], true, "round {round}: ledger whole after the crash: {v}");
        for (w, id) in &acknowledged {
            let (again, _, replayed) = send(&client, &base, &token, w).await.unwrap();
            assert_eq!((again, replayed), (*id, true), "round {round}: acknowledged {w:?} is there, applied once");
        }
        for (i, c) in customers.iter().enumerate() {
            let a = get_json(&client, &format!("{base}/api/v1/customers/{c}/points"), &token).await;
            assert_eq!(a["free"]["balance"], expected[i], "round {round}: customer {c}'s balance adds up: {a}");
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();
}

/// The databases a multi-process test runs on: a SQLite file, and a fresh PostgreSQL database
/// when `JOREN_TEST_POSTGRES_URL` is set (required under CI).
async fn databases(dir: &std::path::Path) -> Vec<String> {
    let mut urls = vec![format!("sqlite://{}/workers.db", dir.display())];
    match std::env::var("JOREN_TEST_POSTGRES_URL") {
        Ok(admin) => {
            let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
            let name = format!("joren_t_workers_{}_{nanos}", std::process::id());
            let store = joren_store::Store::connect(&admin).await.expect("PostgreSQL reachable");
            store.create_database(&name).await.unwrap();
            store.close().await;
            urls.push(format!("{}/{name}", admin.rsplit_once('/').unwrap().0));
        }
        Err(_) if std::env::var("CI").is_ok() => panic!("CI is set but JOREN_TEST_POSTGRES_URL is not"),
        Err(_) => eprintln!("NOTE: JOREN_TEST_POSTGRES_URL not set; the PostgreSQL worker test NOT run"),
    }
    urls
}

/// Two `joren worker` processes on one database share the queue: every job is done by exactly
/// one of them, both do some, and what the jobs write (one snapshot each) is there once per job.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_worker_processes_share_the_queue_and_do_nothing_twice() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        joren_ok(&db, &["demo", "--no-serve", "--customers", "400", "--demo-database-url", &db], None);
        let app = joren_app::App::open(&db, joren_app::AppConfig::default()).await.unwrap();
        let owner = joren_app::Actor::system("test");
        let snapshots = |app: joren_app::App| {
            let owner = owner.clone();
            async move {
                let log = app.audit_log(&owner, None, 1000).await.unwrap();
                log.iter().filter(|e| e.action == "metrics.refresh" && e.actor == "scheduler").count()
            }
        };
        let before = snapshots(app.clone()).await;
        let mut workers: Vec<(Child, std::thread::JoinHandle<Vec<String>>)> = ["wA", "wB"]
            .into_iter()
            .map(|name| {
                let mut child = Command::new(env!("CARGO_BIN_EXE_joren"))
                    .args(["worker", "--name", name])
                    .env("JOREN_DATABASE_URL", &db)
                    .env("JOREN_LOG", "info")
                    .stdout(Stdio::null())
                    .stderr(Stdio::piped())
                    .spawn()
                    .unwrap();
                let err = BufReader::new(child.stderr.take().unwrap());
                (child, std::thread::spawn(move || err.lines().map_while(Result::ok).collect()))
            })
            .collect();
        // Enqueued while both are running: 24 snapshots, each a real one.
        let now = chrono::Utc::now().timestamp_millis();
        let mut ids = Vec::new();
        for i in 0..24 {
            let job = joren_app::jobs::NewJob {
                kind: "metrics.snapshot".into(),
                dedupe_key: Some(format!("metrics.snapshot:shared-{i}")),
                payload: json!({ "date": chrono::Utc::now().date_naive() }),
                run_at_ms: now,
                max_attempts: 3,
            };
            ids.push(app.store.enqueue_job(&job, now).await.unwrap().unwrap());
        }
        let deadline = std::time::Instant::now() + Duration::from_secs(240);
        loop {
            let c = app.store.job_counts().await.unwrap();
            let ours_done = {
                let mut n = 0;
                for id in &ids {
                    n += usize::from(
                        app.store.get_job(*id).await.unwrap().unwrap().state == joren_app::jobs::JobState::Done,
                    );
                }
                n
            };
            if ours_done == ids.len() && c.queued + c.running == 0 {
                break;
            }
            assert!(std::time::Instant::now() < deadline, "{db}: workers did not finish: {c:?}");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        let mut finished_by: Vec<(String, Vec<i64>)> = Vec::new();
        for (name, (mut child, lines)) in ["wA", "wB"].into_iter().zip(workers.drain(..)) {
            child.kill().unwrap();
            child.wait().unwrap();
            let ids: Vec<i64> = lines
                .join()
                .unwrap()
                .iter()
                .filter(|l| l.contains("job finished"))
                .filter_map(|l| l.split("job=").nth(1)?.split_whitespace().next()?.parse().ok())
                .collect();
            finished_by.push((name.to_string(), ids));
        }
        let mut all: Vec<i64> = finished_by.iter().flat_map(|(_, ids)| ids.clone()).collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(n, all.len(), "{db}: a job was finished twice: {finished_by:?}");
        for id in &ids {
            let job = app.store.get_job(*id).await.unwrap().unwrap();
            assert!(all.contains(id), "{db}: job {id} done but not logged by either worker");
            assert_eq!(job.attempts, 1, "{db}: job {id} was claimed more than once");
            let by = finished_by.iter().find(|(_, l)| l.contains(id)).unwrap();
            assert_eq!(job.worker.as_deref(), Some(by.0.as_str()), "{db}");
        }
        for (name, ids) in &finished_by {
            assert!(!ids.is_empty(), "{db}: {name} did no work: {finished_by:?}");
        }
        // What the jobs did is there once per job: our 24 plus the night's scheduled one.
        let snapshot_jobs = 24 + 1;
        assert_eq!(snapshots(app.clone()).await - before, snapshot_jobs, "{db}: one snapshot per job");
        eprintln!("{db}: {} jobs by wA, {} by wB", finished_by[0].1.len(), finished_by[1].1.len());
    }
}

/// Two `joren serve` processes on one database, as behind one address a balancer may send a
/// client's request to one and its retry to the other (issue #21): each order is sent to both
/// at the same moment with the same key, then once more to one of them. Each is stored once
/// and earns its points once; every answer names the same order; the ledger adds up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_store_an_order_sent_to_both_at_once_once() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let db = db.replace("workers.db", "servers.db");
        joren_ok(&db, &["migrate"], None);
        joren_ok(
            &db,
            &["user", "create", "owner1", "--role", "owner", "--password-stdin"],
            Some("a-long-passphrase\n"),
        );
        let token = joren_ok(&db, &["token", "create", "--user", "owner1", "--name", "two"], None);
        joren_app::install_tls();
        let client = reqwest::Client::new();
        let (mut a, base_a) = start(&db);
        let (mut b, base_b) = start(&db);
        let mut customers = Vec::new();
        for i in 0..3 {
            customers
                .push(new_customer(&client, &base_a, &token, &format!("顧客{i}"), &format!("090-4100-000{i}")).await);
        }
        const N: usize = 24;
        let mut orders = Vec::new();
        for n in 0..N {
            let w = nth_write("two", n * 3, &customers);
            assert!(w.path.ends_with("/orders"));
            let (x, y) = tokio::join!(send(&client, &base_a, &token, &w), send(&client, &base_b, &token, &w));
            let (x, y) = (x.expect("the first server answered"), y.expect("the second server answered"));
            assert_eq!((x.0, x.1), (y.0, y.1), "{db}: order {n}: both answer with the same order and points");
            assert!(x.2 != y.2, "{db}: order {n}: exactly one of the two answers is a replay ({x:?}, {y:?})");
            let again = if n % 2 == 0 { &base_b } else { &base_a };
            let z = send(&client, again, &token, &w).await.expect("the retry answered");
            assert_eq!((z.0, z.1, z.2), (x.0, x.1, true), "{db}: order {n}: the retry replays it");
            assert!(x.1 > 0, "{db}: the order earned points");
            orders.push(x.0);
        }
        orders.sort();
        orders.dedup();
        assert_eq!(orders.len(), N, "{db}: a distinct order per key");
        let stored = get_json(&client, &format!("{base_b}/api/v1/orders?limit=1"), &token).await;
        assert_eq!(stored["total"], N as i64, "{db}: {stored}");
        let verify = get_json(&client, &format!("{base_a}/api/v1/points/verify"), &token).await;
        assert_eq!(verify["ok"], true, "{db}: {verify}");
        for c in &customers {
            let lots = get_json(&client, &format!("{base_a}/api/v1/customers/{c}/points"), &token).await;
            let earned = lots["lots"].as_array().map(|l| l.len()).unwrap_or_default();
            assert_eq!(earned, N / customers.len(), "{db}: customer {c}: one lot per order: {lots}");
        }
        for s in [&mut a, &mut b] {
            s.kill().unwrap();
            s.wait().unwrap();
        }
    }
}

#[path = "../../joren-web/tests/common/smtp.rs"]
#[allow(dead_code)]
mod smtp;

/// `n` customers (each `profile(i)`, tagged お知らせ), a saved segment of them and an active
/// one-step scenario (`step`) broadcast to it; answers the scenario's id.
async fn broadcast(
    app: &joren_app::App,
    n: usize,
    profile: impl Fn(usize) -> joren_core::customer::CustomerInput,
    step: Value,
) -> i64 {
    let owner = joren_app::Actor::system("test");
    for i in 0..n {
        let mut p = profile(i);
        p.tags = Some(vec!["お知らせ".into()]);
        app.create_customer(&owner, joren_app::customers::NewCustomer { profile: p, ..Default::default() })
            .await
            .unwrap();
    }
    let filter = json!({"all": [{"field": "tags", "op": "contains", "value": "お知らせ"}]});
    let seg = joren_app::segments::SegmentInput { name: "お知らせ".into(), description: String::new(), filter };
    let seg = app.create_segment(&owner, &seg).await.unwrap();
    let definition = json!({"trigger": {"kind": "manual"}, "steps": [step]});
    let input = joren_app::scenarios::ScenarioInput { name: "お知らせ".into(), definition };
    let s = app.create_scenario(&owner, input).await.unwrap();
    app.set_scenario_status(&owner, s.id, joren_app::scenarios::Status::Active).await.unwrap();
    assert_eq!(app.broadcast(&owner, s.id, seg.id).await.unwrap(), n as u64);
    s.id
}

/// Two workers (`spawn(name)`) share the broadcast; one is killed (SIGKILL) once a third of the
/// messages are out (`sent()` counts what the receiver has), a third worker takes over; when
/// all `n` of `scenario`'s messages are recorded sent, the workers stop.
async fn kill_one_of_two_workers(
    app: &joren_app::App,
    scenario: i64,
    n: usize,
    db: &str,
    spawn: impl Fn(&str) -> Child,
    sent: impl Fn() -> usize,
) {
    let mut a = spawn("wA");
    let mut b = spawn("wB");
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    while sent() < n / 3 {
        assert!(std::time::Instant::now() < deadline, "{db}: the workers did not start sending");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    a.kill().unwrap(); // SIGKILL, in the middle of the broadcast
    a.wait().unwrap();
    let mut c = spawn("wC");
    loop {
        let counts = app.store.outbox_counts(Some(scenario)).await.unwrap();
        if counts.sent == n as i64 {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{db}: not all sent: {counts:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for w in [&mut b, &mut c] {
        w.kill().unwrap();
        w.wait().unwrap();
    }
}

/// Mail under two `joren worker` processes and a `kill -9`: a broadcast of 150 customers to a
/// real SMTP server on loopback. The workers share the runs and the outbox: one outbox row per
/// customer whoever decided it; one worker is killed in the middle of sending, a third takes
/// over its claims when their lease runs out. Every customer gets the mail; no more are
/// doubled than one worker's claimed batch.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mail_is_sent_once_per_step_by_two_workers_and_a_kill_doubles_at_most_one_batch() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let db = db.replace("workers.db", "mail.db");
        let server = smtp::SmtpServer::start();
        let app = joren_app::App::open(&db, joren_app::AppConfig::default()).await.unwrap();
        const N: usize = 150;
        let step = json!({"type": "email", "subject": "営業時間のお知らせ", "body": "{{ name }}\n年末年始の営業時間です。", "marketing": false});
        let profile = |i: usize| joren_core::customer::CustomerInput {
            family_name: Some(format!("顧客{i}")),
            email: Some(format!("c{i}@example.jp")),
            ..Default::default()
        };
        let scenario = broadcast(&app, N, profile, step).await;

        let spawn = |name: &str| {
            Command::new(env!("CARGO_BIN_EXE_joren"))
                .args(["worker", "--name", name])
                .env("JOREN_DATABASE_URL", &db)
                .env("JOREN_SMTP_URL", server.url())
                .env("JOREN_MAIL_LEASE_SECS", "3")
                .env("JOREN_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        };
        kill_one_of_two_workers(&app, scenario, N, &db, spawn, || server.received().len()).await;
        let counts = app.store.outbox_counts(Some(scenario)).await.unwrap();
        assert_eq!(
            (counts.sent, counts.queued, counts.sending, counts.failed),
            (N as i64, 0, 0, 0),
            "{db}: one row per customer"
        );
        let got = server.received();
        let mut to: Vec<String> = got.iter().map(|m| m.to[0].clone()).collect();
        to.sort();
        let total = to.len();
        to.dedup();
        assert_eq!(to.len(), N, "{db}: every customer got the mail");
        let doubled = total - N;
        assert!(
            doubled as i64 <= joren_app::mail::DELIVERY_BATCH,
            "{db}: {doubled} doubled; at most one claimed batch may be"
        );
        eprintln!("{db}: {N} mails, {doubled} sent twice after the kill (bound {})", joren_app::mail::DELIVERY_BATCH);
        assert!(got.iter().all(|m| m.subject() == "営業時間のお知らせ"));
    }
}

#[path = "../../joren-web/tests/common/line_api.rs"]
#[allow(dead_code)]
mod line_api;

/// LINE pushes under two `joren worker` processes, a `kill -9` and a Messaging API that
/// answers 429 and 500 (some after delivering): a broadcast of 150 linked customers through
/// the stand-in. Each push carries its message's retry key, so a push retried after a lost
/// answer or a worker killed between LINE's acceptance and the outbox write is answered 409
/// and recorded as sent: every customer gets exactly one message — none doubled, none lost.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn line_pushes_are_delivered_exactly_once_through_faults_and_a_kill() {
    let dir = tempfile::tempdir().unwrap();
    for db in databases(dir.path()).await {
        let db = db.replace("workers.db", "line.db");
        const TOKEN: &str = "line-token-crash-test";
        let api = line_api::LineApi::start(TOKEN);
        api.every(7, line_api::Fault::RateLimit);
        api.every(11, line_api::Fault::AcceptThenFail);
        api.every(13, line_api::Fault::ServerError);
        let app = joren_app::App::open(&db, joren_app::AppConfig::default()).await.unwrap();
        const N: usize = 150;
        let step = json!({"type": "line", "text": "{{ name }}\n年末年始の営業時間です。", "marketing": false});
        let profile = |i: usize| joren_core::customer::CustomerInput {
            family_name: Some(format!("友だち{i}")),
            line_user_id: Some(format!("U{i:032x}")),
            ..Default::default()
        };
        let scenario = broadcast(&app, N, profile, step).await;

        let spawn = |name: &str| {
            Command::new(env!("CARGO_BIN_EXE_joren"))
                .args(["worker", "--name", name])
                .env("JOREN_DATABASE_URL", &db)
                .env("JOREN_LINE_CHANNEL_TOKEN", TOKEN)
                .env("JOREN_LINE_API_URL", &api.url)
                .env("JOREN_MAIL_LEASE_SECS", "3")
                .env("JOREN_LOG", "warn")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        };
        kill_one_of_two_workers(&app, scenario, N, &db, spawn, || api.delivered()).await;
        let counts = app.store.outbox_counts(Some(scenario)).await.unwrap();
        assert_eq!((counts.sent, counts.queued, counts.sending, counts.failed), (N as i64, 0, 0, 0), "{db}");
        let pushes = api.pushes();
        let mut to: Vec<String> = pushes.iter().map(|p| p.to.clone()).collect();
        to.sort();
        to.dedup();
        assert_eq!(to.len(), N, "{db}: every customer got the message");
        assert_eq!(pushes.len(), N, "{db}: and none got it twice");
        assert!(api.requests() > N as u64, "{db}: the faults made retries ({} requests)", api.requests());
        eprintln!("{db}: {N} pushes delivered once each over {} requests", api.requests());
    }
}
