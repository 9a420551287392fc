//! Store-level tests on SQLite, and on PostgreSQL when `JOREN_TEST_POSTGRES_URL` is set.

use joren_core::customer::{CustomerInput, CustomerProfile};
use joren_core::fingerprint::Fingerprint;
use joren_core::order::{LineItemInput, OrderInput};
use joren_store::{Backend, Store};

async fn stores() -> Vec<(Store, tempfile::TempDir)> {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/t.db", dir.path().display());
    let s = Store::connect(&url).await.unwrap();
    s.migrate().await.unwrap();
    let mut out = vec![(s, dir)];
    if let Ok(admin) = std::env::var("JOREN_TEST_POSTGRES_URL") {
        let name = format!("joren_store_{}", std::process::id() as u64 * 1000 + rand_suffix());
        let admin_store = Store::connect(&admin).await.expect("PostgreSQL reachable");
        admin_store.create_database(&name).await.unwrap();
        let url = replace_db(&admin, &name);
        let s = Store::connect(&url).await.unwrap();
        s.migrate().await.unwrap();
        assert_eq!(s.backend(), Backend::Postgres);
        out.push((s, tempfile::tempdir().unwrap()));
    } else if std::env::var("CI").is_ok() {
        panic!("CI is set but JOREN_TEST_POSTGRES_URL is not: PostgreSQL tests must run in CI");
    } else {
        eprintln!("NOTE: JOREN_TEST_POSTGRES_URL not set; PostgreSQL store tests NOT run");
    }
    out
}

/// A suffix no other test of this process uses (a clock reading alone once gave two
/// simultaneous tests the same database name: "database … already exists").
fn rand_suffix() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % 1000
}

fn replace_db(url: &str, name: &str) -> String {
    let (base, _) = url.rsplit_once('/').unwrap();
    format!("{base}/{name}")
}

fn person(family: &str, kana: &str, email: &str) -> CustomerProfile {
    CustomerInput {
        family_name: Some(family.into()),
        given_name: Some("花子".into()),
        family_name_kana: Some(kana.into()),
        email: Some(email.into()),
        ..Default::default()
    }
    .apply(CustomerProfile::default())
    .unwrap()
}

/// The counts the home page and the customer list show: kept up to an id and refreshed, right
/// before and after a refresh, merges subtracted.
#[tokio::test]
async fn counts_kept_up_to_an_id_stay_right() {
    for (s, _dir) in stores().await {
        let b = s.backend();
        let mut ids = Vec::new();
        for i in 0..3 {
            ids.push(
                s.create_customer(&person("数", "カズ", &format!("n{i}@example.jp")), &[], &[], "t", None)
                    .await
                    .unwrap(),
            );
        }
        assert_eq!((s.count_customers().await.unwrap(), s.count_orders().await.unwrap()), (3, 0), "[{b:?}]");
        let order = |n: i64| {
            OrderInput {
                customer_id: ids[0],
                external_id: Some(format!("N-{n}")),
                items: vec![LineItemInput { name: "豆".into(), quantity: 1, unit_price: 100, ..Default::default() }],
                ..Default::default()
            }
            .validate(chrono::Utc::now(), chrono_tz::Asia::Tokyo)
            .unwrap()
        };
        for n in 0..2 {
            s.create_order(&order(n), &Fingerprint::of(format!("n{n}").as_bytes()), None, None, None).await.unwrap();
        }
        s.refresh_row_counts().await.unwrap();
        assert_eq!((s.count_customers().await.unwrap(), s.count_orders().await.unwrap()), (3, 2), "[{b:?}]");
        // Rows after the refresh are counted from the primary key; a merge takes one away.
        for n in 2..5 {
            s.create_order(&order(n), &Fingerprint::of(format!("n{n}").as_bytes()), None, None, None).await.unwrap();
        }
        ids.push(s.create_customer(&person("数", "カズ", "n3@example.jp"), &[], &[], "t", None).await.unwrap());
        s.merge_customers(ids[0], ids[1], None).await.unwrap();
        assert_eq!((s.count_customers().await.unwrap(), s.count_orders().await.unwrap()), (3, 5), "[{b:?}]");
        assert_eq!(s.list_orders(None, 1, 0).await.unwrap().total, 5, "[{b:?}]");
        assert_eq!(s.search_customers("", 1, 0).await.unwrap().total, 3, "[{b:?}] the unfiltered list");
        s.refresh_row_counts().await.unwrap();
        assert_eq!((s.count_customers().await.unwrap(), s.count_orders().await.unwrap()), (3, 5), "[{b:?}]");
    }
}

/// The search through the trigram index (FTS5 on SQLite, pg_trgm on PostgreSQL): a word of
/// three or more characters anywhere, a shorter one where a name, kana, email or phone starts;
/// every write path keeps the index in step (an edit, a merge).
#[tokio::test]
async fn search_finds_words_through_the_index() {
    for (s, dir) in stores().await {
        let b = s.backend();
        let mut p = person("田中", "タナカ", "tanaka@example.jp");
        p.tags = vec!["VIP".into()];
        let tanaka = s.create_customer(&p, &[], &[], "t", None).await.unwrap();
        let mut p = person("中田", "ナカタ", "naka_ta@example.jp");
        p.tags = vec!["VIP".into(), "常連".into()];
        p.phone = Some("+819012345678".into());
        p.company_name = "株式会社 100%果汁".into();
        let nakata = s.create_customer(&p, &[], &[], "t", None).await.unwrap();
        let found = |q: &'static str| {
            let s = &s;
            async move {
                let page = s.search_customers(q, 10, 0).await.unwrap();
                let mut ids: Vec<i64> = page.items.iter().map(|c| c.id).collect();
                assert_eq!(page.total, ids.len() as i64, "{q}: the total counts what the page lists");
                // A page past the end is empty and still knows the total.
                let next = s.search_customers(q, 10, 10).await.unwrap();
                assert_eq!((next.total, next.items.len()), (page.total, 0), "{q}");
                ids.sort_unstable();
                ids
            }
        };
        // Three characters or more: anywhere.
        assert_eq!(found("ナカタ").await, [nakata], "[{b:?}]");
        assert_eq!(found("たなか").await, [tanaka], "[{b:?}] hiragana folded");
        assert_eq!(found("田中花子").await, [tanaka], "[{b:?}] family and given name together");
        assert_eq!(found("2345678").await, [nakata], "[{b:?}] phone digits anywhere");
        assert_eq!(found("090-1234-5678").await, [nakata], "[{b:?}] phone as typed");
        assert_eq!(found("example.jp").await, [tanaka, nakata], "[{b:?}]");
        assert_eq!(found("a_ta@").await, [nakata], "[{b:?}] _ is a character, not a wildcard");
        assert_eq!(found("__ta@").await, Vec::<i64>::new(), "[{b:?}]");
        assert_eq!(found("100%果").await, [nakata], "[{b:?}] % is a character");
        // One or two characters: where a part starts.
        assert_eq!(found("田中").await, [tanaka], "[{b:?}] 田中 starts a name; 中田 holds no 田中");
        assert_eq!(found("中").await, [nakata], "[{b:?}] 中 starts 中田, not 田中");
        assert_eq!(found("ナカ").await, [nakata], "[{b:?}] ナカ starts ナカタ, not タナカ");
        assert_eq!(found("花子").await, [tanaka, nakata], "[{b:?}]");
        assert_eq!(found("%").await, Vec::<i64>::new(), "[{b:?}] a literal % matches nothing here");
        assert_eq!(found("09").await, [nakata], "[{b:?}] the national phone number starts with 09");
        // Every word must match.
        assert_eq!(found("花子 ナカタ").await, [nakata], "[{b:?}]");
        assert_eq!(found("ナカタ タナカ").await, Vec::<i64>::new(), "[{b:?}]");
        // An edit is searched at once, the old name no more.
        let mut renamed = person("鈴木", "スズキ", "tanaka@example.jp");
        renamed.given_name = "一郎".into();
        s.update_customer(tanaka, &renamed).await.unwrap();
        assert_eq!(found("たなか").await, Vec::<i64>::new(), "[{b:?}] the old kana gone");
        assert_eq!(found("スズキ").await, [tanaka], "[{b:?}]");
        assert_eq!(found("花子").await, [nakata], "[{b:?}]");
        let tags = |v: &[(&str, i64)]| v.iter().map(|(t, n)| (t.to_string(), *n)).collect::<Vec<_>>();
        assert_eq!(
            s.customer_tags().await.unwrap(),
            tags(&[("VIP", 1), ("常連", 1)]),
            "[{b:?}] the edit dropped a VIP"
        );
        // A merged customer is no longer found; its tags went to the survivor.
        s.merge_customers(tanaka, nakata, None).await.unwrap();
        assert_eq!(found("ナカタ").await, Vec::<i64>::new(), "[{b:?}]");
        assert_eq!(found("鈴木").await, [tanaka], "[{b:?}]");
        assert_eq!(s.customer_tags().await.unwrap(), tags(&[("VIP", 1), ("常連", 1)]), "[{b:?}]");
        if b == Backend::Sqlite {
            // A tag a merged record still carries (a scenario's step may tag it after the
            // merge) is not counted.
            let url = format!("sqlite://{}/t.db", dir.path().display());
            let raw = sqlx::AnyPool::connect(&url).await.unwrap();
            sqlx::query("INSERT INTO customer_tags (customer_id, tag) VALUES ($1, 'VIP'), ($1, '休眠')")
                .bind(nakata)
                .execute(&raw)
                .await
                .unwrap();
            assert_eq!(s.customer_tags().await.unwrap(), tags(&[("VIP", 1), ("常連", 1)]), "[{b:?}]");
        }
    }
}

#[tokio::test]
async fn customers_orders_and_merge_round_trip() {
    for (s, _dir) in stores().await {
        let a = s
            .create_customer(&person("佐藤", "さとう", "a@example.jp"), &[], &[("email".into(), true)], "test", None)
            .await
            .unwrap();
        let b = s.create_customer(&person("佐藤", "サトウ", "b@example.jp"), &[], &[], "test", None).await.unwrap();
        let page = s.search_customers("さとう", 10, 0).await.unwrap();
        assert_eq!(page.total, 2, "{:?}", s.backend());
        let c = s.get_customer(a).await.unwrap();
        assert_eq!(c.display_name, "佐藤 花子 様");
        assert!(c.consents[0].granted);

        let draft = OrderInput {
            customer_id: b,
            external_id: Some("X-1".into()),
            items: vec![LineItemInput {
                name: "珈琲豆".into(),
                quantity: 2,
                unit_price: 1500,
                tax_rate: 8,
                ..Default::default()
            }],
            ..Default::default()
        }
        .validate(chrono::Utc::now(), chrono_tz::Asia::Tokyo)
        .unwrap();
        let first = s.create_order(&draft, &Fingerprint::of(b"h1"), None, None, None).await.unwrap();
        let again = s.create_order(&draft, &Fingerprint::of(b"h1"), None, None, None).await.unwrap();
        assert_eq!(first.id, again.id);
        assert!(again.replayed);
        assert!(s.create_order(&draft, &Fingerprint::of(b"h2"), None, None, None).await.is_err());

        let m = s.merge_customers(a, b, None).await.unwrap();
        assert_eq!(m.orders_moved, 1);
        assert_eq!(s.get_order(first.id).await.unwrap().customer_id, a);
        assert_eq!(s.get_customer(b).await.unwrap().merged_into, Some(a));
        assert_eq!(s.search_customers("佐藤", 10, 0).await.unwrap().total, 1);

        let (refunded, _) =
            s.adjust_order(first.id, joren_store::Adjustment::history(false, Some(1000), "破損")).await.unwrap();
        assert_eq!(refunded.status.as_str(), "partially_refunded");
        let tl = s.timeline(a, 50).await.unwrap();
        assert_eq!(tl.len(), 2);
    }
}

#[tokio::test]
async fn housekeeping_forgets_old_keys_sessions_and_uploads_only() {
    const HOUR: i64 = 3600 * 1000;
    for (s, _dir) in stores().await {
        let c = s.create_customer(&person("鈴木", "スズキ", "k@example.jp"), &[], &[], "test", None).await.unwrap();
        let draft = OrderInput {
            customer_id: c,
            items: vec![LineItemInput { name: "豆".into(), quantity: 1, unit_price: 1000, ..Default::default() }],
            ..Default::default()
        }
        .validate(chrono::Utc::now(), chrono_tz::Asia::Tokyo)
        .unwrap();
        let first = s.create_order(&draft, &Fingerprint::of(b"h"), Some("key-1"), None, None).await.unwrap();
        let user = s.create_user("u", "U", joren_core::role::Role::Staff, "x").await.unwrap();
        let now = chrono::Utc::now();
        s.create_session("live", user, "c", now + chrono::Duration::hours(2)).await.unwrap();
        s.create_session("stale", user, "c", now - chrono::Duration::hours(1)).await.unwrap();
        s.save_upload("up", Some(user), "orders", "a.csv", b"x").await.unwrap();

        let now_ms = now.timestamp_millis();
        let done = s.housekeeping(now_ms, 24 * HOUR, 24 * HOUR).await.unwrap();
        assert_eq!((done.idempotency_keys, done.sessions, done.uploads), (0, 1, 0), "{:?}", s.backend());
        assert!(s.session("live").await.unwrap().is_some());
        let replay = s.create_order(&draft, &Fingerprint::of(b"h"), Some("key-1"), None, None).await.unwrap();
        assert!(replay.replayed && replay.id == first.id, "a fresh key still replays");

        let later = s.housekeeping(now_ms + 25 * HOUR, 24 * HOUR, 24 * HOUR).await.unwrap();
        assert_eq!((later.idempotency_keys, later.sessions, later.uploads), (1, 1, 1));
        assert!(s.get_upload("up").await.is_err(), "the stale upload is gone");
    }
}

/// Concurrent writers are committed in groups on SQLite: a writer that fails midway (here an
/// order for a customer that does not exist, refused after the group's transaction began) or
/// whose request is dropped while it waits leaves every other writer's work in place, each
/// acknowledged order is there exactly once, and a same-key retry inside a group replays.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_writers_fail_and_succeed_independently() {
    for (s, _dir) in stores().await {
        let customer =
            s.create_customer(&person("高橋", "たかはし", "t@example.jp"), &[], &[], "test", None).await.unwrap();
        let order = |customer_id: i64, n: usize| {
            OrderInput {
                customer_id,
                external_id: Some(format!("G-{n}")),
                items: vec![LineItemInput {
                    name: "珈琲豆".into(),
                    quantity: 1,
                    unit_price: 1000 + n as i64,
                    tax_rate: 8,
                    ..Default::default()
                }],
                ..Default::default()
            }
            .validate(chrono::Utc::now(), chrono_tz::Asia::Tokyo)
            .unwrap()
        };
        let mut set = tokio::task::JoinSet::new();
        for n in 0..60 {
            let (s, draft) = (s.clone(), order(if n % 5 == 4 { 999_999 } else { customer }, n));
            set.spawn(async move {
                let key = format!("key-{}", n % 50);
                (
                    n,
                    s.create_order(
                        &draft,
                        &Fingerprint::of(format!("h{n}").as_bytes()),
                        Some(&key).filter(|_| n < 50).map(|k| k.as_str()),
                        None,
                        None,
                    )
                    .await,
                )
            });
        }
        // Writers dropped while queued or mid-way must not stall or sink the rest.
        for n in 100..110 {
            let (s, draft) = (s.clone(), order(customer, n));
            let handle =
                tokio::spawn(
                    async move { s.create_order(&draft, &Fingerprint::of(b"dropped"), None, None, None).await },
                );
            tokio::task::yield_now().await;
            handle.abort();
        }
        let mut made = std::collections::HashMap::new();
        for (n, result) in set.join_all().await {
            match result {
                Ok(created) => {
                    assert!(n % 5 != 4, "{:?}: order {n} for a missing customer was accepted", s.backend());
                    assert!(made.insert(n, created.id).is_none());
                }
                Err(e) => assert!(n % 5 == 4, "{:?}: order {n} failed: {e}", s.backend()),
            }
        }
        assert_eq!(made.len(), 48, "{:?}", s.backend());
        for (n, id) in &made {
            let stored = s.get_order(*id).await.unwrap();
            assert_eq!(
                (stored.external_id.as_deref(), stored.total),
                (Some(format!("G-{n}").as_str()), 1000 + *n as i64)
            );
        }
        let page = s.list_orders(Some(customer), 500, 0).await.unwrap();
        let number =
            |o: &joren_store::Order| o.external_id.as_deref().and_then(|e| e.strip_prefix("G-")?.parse::<usize>().ok());
        let dropped = page.items.iter().filter(|o| number(o).is_some_and(|n| n >= 100)).count();
        assert_eq!(
            page.total as usize,
            48 + dropped,
            "{:?}: nothing but the acknowledged (and perhaps dropped) orders",
            s.backend()
        );

        // The same key twice at once: one order, the other a replay of it (committed when answered).
        let draft = order(customer, 200);
        let request = Fingerprint::of(b"h200");
        let (a, b) = tokio::join!(
            s.create_order(&draft, &request, Some("twice"), None, None),
            s.create_order(&draft, &request, Some("twice"), None, None)
        );
        let (a, b) = (a.unwrap(), b.unwrap());
        assert_eq!(a.id, b.id);
        assert!(a.replayed != b.replayed);
        s.get_order(a.id).await.unwrap();
    }
}

/// The SQLite file holds personal data: it and its WAL are created for the owner only, and an
/// existing file readable by others is narrowed at the next start.
#[cfg(unix)]
#[tokio::test]
async fn the_sqlite_database_and_its_wal_are_readable_by_the_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("shop.db");
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let s = Store::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    s.migrate().await.unwrap();
    let wal = dir.path().join("shop.db-wal");
    assert!(wal.exists(), "WAL mode");
    assert_eq!((mode(&path), mode(&wal)), (0o600, 0o600));
    s.close().await;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let s = Store::connect(&format!("sqlite://{}", path.display())).await.unwrap();
    assert_eq!(mode(&path), 0o600, "narrowed on open");
    s.close().await;
}

#[tokio::test]
async fn the_job_queue_dedupes_leases_fences_retries_and_buries() {
    use joren_store::{JobState, NewJob};
    for (s, _dir) in stores().await {
        let b = s.backend();
        let job = |key: &str, max: i64| NewJob {
            kind: "test.work".into(),
            dedupe_key: Some(key.into()),
            payload: serde_json::json!({"n": 1}),
            run_at_ms: 1_000,
            max_attempts: max,
        };
        // A dedupe key is enqueued once, whoever asks.
        let id = s.enqueue_job(&job("daily:2026-03-01", 3), 500).await.unwrap().expect("new");
        assert_eq!(s.enqueue_job(&job("daily:2026-03-01", 3), 600).await.unwrap(), None, "{b:?}");
        // Not due before its time.
        assert!(s.claim_jobs("w1", 999, 10_000, 10).await.unwrap().is_empty(), "{b:?}");
        let got = s.claim_jobs("w1", 1_000, 10_000, 10).await.unwrap();
        assert_eq!((got.len(), got[0].id, got[0].attempt), (1, id, 1), "{b:?}");
        assert_eq!(got[0].payload["n"], 1);
        // Leased: nobody else gets it until the lease runs out.
        assert!(s.claim_jobs("w2", 5_000, 10_000, 10).await.unwrap().is_empty(), "{b:?}");
        let again = s.claim_jobs("w2", 11_001, 10_000, 10).await.unwrap();
        assert_eq!((again.len(), again[0].attempt), (1, 2), "{b:?} an expired lease is taken over");
        // The stalled first worker's late report is refused; the second worker's counts.
        assert!(!s.complete_job(id, 1, 11_500).await.unwrap(), "{b:?} fenced");
        assert!(!s.fail_job(id, 1, "late", Some(12_000), 11_500).await.unwrap(), "{b:?} fenced");
        assert!(s.complete_job(id, 2, 11_600).await.unwrap(), "{b:?}");
        let done = s.get_job(id).await.unwrap().unwrap();
        assert_eq!((done.state, done.attempts, done.worker.as_deref()), (JobState::Done, 2, Some("w2")), "{b:?}");
        assert!(s.claim_jobs("w3", 99_000, 10_000, 10).await.unwrap().is_empty(), "{b:?} done stays done");

        // Failures retry at the given time, then the job is dead with its reason.
        let id = s.enqueue_job(&job("flaky", 2), 500).await.unwrap().unwrap();
        let c = s.claim_jobs("w1", 1_000, 10_000, 10).await.unwrap();
        assert!(s.fail_job(id, c[0].attempt, "SMTP 451", Some(3_000), 1_100).await.unwrap());
        assert!(s.claim_jobs("w1", 2_999, 10_000, 10).await.unwrap().is_empty(), "{b:?} backing off");
        let c = s.claim_jobs("w1", 3_000, 10_000, 10).await.unwrap();
        assert_eq!(c[0].attempt, 2);
        assert!(s.fail_job(id, 2, "SMTP 451 again", Some(5_000), 3_100).await.unwrap());
        let dead = s.get_job(id).await.unwrap().unwrap();
        assert_eq!((dead.state, dead.last_error.as_deref()), (JobState::Dead, Some("SMTP 451 again")), "{b:?}");
        assert_eq!(s.job_counts().await.unwrap().dead, 1);
        assert_eq!(s.list_jobs(Some(JobState::Dead), 10).await.unwrap()[0].id, id);
        // Retried by hand: queued now with a fresh allowance, and it can succeed.
        assert!(s.retry_dead_job(id, 6_000).await.unwrap());
        assert!(!s.retry_dead_job(id, 6_000).await.unwrap(), "{b:?} only a dead job is retried");
        let c = s.claim_jobs("w1", 6_000, 10_000, 10).await.unwrap();
        assert_eq!(c[0].attempt, 3);
        assert!(s.complete_job(id, 3, 6_100).await.unwrap());

        // A lease that runs out on the last attempt buries the job instead of running it again.
        let id = s.enqueue_job(&job("hangs", 1), 500).await.unwrap().unwrap();
        assert_eq!(s.claim_jobs("w1", 7_000, 1_000, 10).await.unwrap().len(), 1);
        assert!(s.claim_jobs("w2", 9_000, 1_000, 10).await.unwrap().is_empty(), "{b:?}");
        assert_eq!(s.get_job(id).await.unwrap().unwrap().state, JobState::Dead, "{b:?}");

        // Many claimers at once: every job is leased to exactly one of them.
        for i in 0..60 {
            s.enqueue_job(&NewJob { dedupe_key: Some(format!("bulk:{i}")), ..job("", 3) }, 500).await.unwrap();
        }
        let claimers = (0..6).map(|w| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let got = s.claim_jobs(&format!("w{w}"), 20_000, 60_000, 4).await.unwrap();
                    if got.is_empty() {
                        break mine;
                    }
                    mine.extend(got.into_iter().map(|j| j.id));
                }
            })
        });
        let mut all: Vec<i64> = Vec::new();
        for c in claimers {
            all.extend(c.await.unwrap());
        }
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!((n, all.len()), (60, 60), "{b:?} no job leased twice, none left out");
        assert_eq!(s.purge_done_jobs(12_000).await.unwrap(), 2, "{b:?} old done jobs are forgotten, no others");
        assert!(s.job_by_dedupe_key("daily:2026-03-01").await.unwrap().is_none());
    }
}

/// The order log and the purchases behind cross-sell are read in blocks of ids on SQLite: read
/// across many small blocks (gaps, a cancelled order, names holding the separators and
/// multi-byte text) they give exactly what one block gives, on both backends.
#[tokio::test]
async fn order_log_and_purchases_read_the_same_in_blocks_of_any_size() {
    for (s, _dir) in stores().await {
        let names = ["珈琲豆, 深煎り; 200g", "12,3;", "ギフト\n箱入り", "a", "3,x", r"C:\豆\t"];
        let mut orders = Vec::new();
        for c in 0..4 {
            let customer = s
                .create_customer(&person("読込", "よみこみ", &format!("b{c}@example.jp")), &[], &[], "test", None)
                .await
                .unwrap();
            for k in 0..3 {
                let items = (0..=k)
                    .map(|i| LineItemInput {
                        name: names[(c + k + i) % names.len()].into(),
                        sku: if i == 1 { format!("SKU-{c}") } else { String::new() },
                        quantity: 1,
                        unit_price: 100 + 10 * c as i64 + k as i64,
                        tax_rate: 10,
                        ..Default::default()
                    })
                    .collect();
                let draft = OrderInput { customer_id: customer, items, ..Default::default() }
                    .validate(chrono::Utc::now(), chrono_tz::Asia::Tokyo)
                    .unwrap();
                let seed = format!("{c}-{k}");
                orders.push(
                    s.create_order(&draft, &Fingerprint::of(seed.as_bytes()), None, None, None).await.unwrap().id,
                );
            }
        }
        s.adjust_order(orders[4], joren_store::Adjustment::history(true, None, "取消")).await.unwrap();
        let read = |s: Store| async move {
            let mut log = Vec::new();
            let n = s.stream_order_log(|c, at, amount| log.push((c, at, amount))).await.unwrap();
            let mut bought = Vec::new();
            s.stream_customer_products(|c, p, name| bought.push((c, p.to_string(), name.to_string()))).await.unwrap();
            log.sort();
            bought.sort();
            (n, log, bought)
        };
        let whole = read(s.clone()).await;
        assert_eq!(whole.0, 11, "{:?}: twelve orders, one cancelled", s.backend());
        assert!(whole.2.iter().any(|b| b.2 == r"C:\豆\t"), "{:?}: backslashes read back", s.backend());
        assert!(
            whole.2.iter().any(|b| b.2 == "珈琲豆, 深煎り; 200g") && whole.2.iter().any(|b| b.2 == "ギフト\n箱入り")
        );
        for block in [1, 2, 5] {
            s.set_read_block(block);
            assert_eq!(read(s.clone()).await, whole, "{:?}, blocks of {block}", s.backend());
        }
    }
}
