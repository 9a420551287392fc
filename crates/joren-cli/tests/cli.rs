//! The `joren` binary end to end on a temporary SQLite database.

mod common;

use std::process::Command;

use common::{joren, out};

#[test]
fn users_tokens_import_and_export_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/cli.db", dir.path().display());

    let o = joren(&db, &["migrate"], None);
    assert!(o.status.success(), "{}", out(&o));

    let o =
        joren(&db, &["user", "create", "owner1", "--role", "owner", "--password-stdin"], Some("a-secret-passphrase\n"));
    assert!(o.status.success(), "{}", out(&o));
    assert!(!out(&o).contains("a-secret-passphrase"), "the password it was given is never printed");
    assert!(!out(&o).contains("argon2"), "nor its hash");

    let o = joren(&db, &["user", "create", "someone"], None);
    assert!(!o.status.success(), "no password source is an error");
    assert!(out(&o).contains("--password-stdin"));

    let o = joren(&db, &["user", "create", "gen", "--role", "viewer", "--generate-password"], None);
    assert!(o.status.success());
    assert!(out(&o).contains("password: "), "a generated password is printed once, as asked");

    let o = joren(&db, &["user", "create", "owner1", "--password-stdin"], Some("another-passphrase\n"));
    assert!(!o.status.success(), "duplicate username fails");

    let o = joren(&db, &["token", "create", "--user", "owner1", "--name", "shop-sync"], None);
    assert!(o.status.success(), "{}", out(&o));
    let token = String::from_utf8_lossy(&o.stdout).trim().to_string();
    assert!(token.starts_with("jrn_") && token.len() > 40, "{token}");
    let o = joren(&db, &["token", "list"], None);
    assert!(out(&o).contains("shop-sync") && !out(&o).contains(&token), "listing never shows secrets");

    let csv = dir.path().join("customers.csv");
    std::fs::write(&csv, "姓,名,メール,電話番号\n山田,太郎,taro@example.jp,090-1234-5678\n佐藤,,bad-email,\n鈴木,花子,hanako@example.jp,\n").unwrap();
    let o = joren(&db, &["import", "customers", csv.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", out(&o));
    let text = out(&o);
    assert!(text.contains("新規 2 created") && text.contains("エラー 1 rejected"), "{text}");
    assert!(text.contains("3 行目 / line 3"), "{text}");
    let rejects = std::fs::read_to_string(dir.path().join("customers.csv.rejects.csv")).unwrap();
    assert!(rejects.starts_with('\u{feff}'));
    assert!(rejects.contains("bad-email") && rejects.lines().count() == 2, "{rejects}");

    let o = joren(&db, &["import", "customers", csv.to_str().unwrap()], None);
    assert!(out(&o).contains("新規 0 created"), "re-import creates nothing: {}", out(&o));

    // Ragged rows are rejects, and the reject file holds every one of them whatever its shape.
    let ragged = dir.path().join("ragged.csv");
    std::fs::write(
        &ragged,
        "姓,名,電話番号
中村,一,090-2000-0001,余分,もう一つ
小林,二
加藤,三,090-2000-0003
",
    )
    .unwrap();
    let o = joren(&db, &["import", "customers", ragged.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("新規 1 created") && out(&o).contains("エラー 2 rejected"), "{}", out(&o));
    let rejects = std::fs::read_to_string(dir.path().join("ragged.csv.rejects.csv")).unwrap();
    assert_eq!(rejects.lines().count(), 3, "{rejects}");
    assert!(rejects.contains("もう一つ") && rejects.contains("小林"), "{rejects}");

    let export = dir.path().join("out.csv");
    let o = joren(&db, &["export", "customers", "-o", export.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", out(&o));
    let exported = std::fs::read_to_string(&export).unwrap();
    assert_eq!(exported.lines().count(), 4, "{exported}");
    assert!(exported.contains("090-1234-5678"));

    let o = joren(&db, &["import", "orders", dir.path().join("missing.csv").to_str().unwrap()], None);
    assert!(!o.status.success());
    assert!(out(&o).contains("missing.csv"), "the error names the file: {}", out(&o));
}

#[test]
fn demo_generates_a_believable_shop() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/demo.db", dir.path().display());
    let o = joren(&db, &["demo", "--demo-database-url", &db, "--customers", "300", "--no-serve"], None);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains("顧客 300 人"), "{}", out(&o));
    let token = out(&o).split("API token (owner): ").nth(1).unwrap().split_whitespace().next().unwrap().to_string();
    assert!(out(&o).contains(&format!("Authorization: Bearer {token}")), "a ready curl line: {}", out(&o));
    let o = joren(&db, &["export", "orders"], None);
    let orders = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(orders.lines().count() > 1000, "two years of orders for 300 customers");
    assert!(orders.contains("つねやブレンド"));
    // The loyalty side: ranks evaluated, a membership cohort with its sBG fit, perks.
    let o = joren(&db, &["ranks", "report"], None);
    let gold: i64 =
        out(&o).lines().find(|l| l.starts_with("ゴールド\t")).unwrap().split('\t').nth(1).unwrap().parse().unwrap();
    assert!(gold > 0, "some regulars reach ゴールド: {}", out(&o));
    let o = joren(&db, &["memberships", "report"], None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(v["cohort"]["alive"].as_array().is_some_and(|a| a.len() >= 3), "a launch cohort: {v}");
    let o = joren(&db, &["perks", "list"], None);
    assert!(out(&o).contains("新豆の先行予約"), "{}", out(&o));
    let o = joren(&db, &["points", "verify"], None);
    assert!(o.status.success(), "{}", out(&o));
    // Regulars have the points of their past year's purchases, not only the 300-point welcome
    // bonus every third customer got (≤ 30,000 in all) and birthday points.
    let o = joren(&db, &["points", "report"], None);
    let free: i64 = out(&o).split("free ").nth(1).unwrap().split(',').next().unwrap().trim().parse().unwrap();
    assert!(free > 60_000, "points from the programme's start: {}", out(&o));
    // The follow-ups: six ready scenarios on, in test mode.
    let o = joren(&db, &["scenarios", "list"], None);
    let list: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let on: Vec<&str> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "active")
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert_eq!(on.len(), 6, "{list}");
    assert!(on.contains(&"ポイント失効のお知らせ"), "{on:?}");
    // Surveys answered over the last months: NPS, satisfaction and why customers left.
    let o = joren(&db, &["surveys", "report", "--months", "7"], None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(r["nps"]["responses"].as_u64().unwrap() > 20, "{r}");
    assert!(r["nps"]["detractors"].as_u64().unwrap() > 0 && r["nps"]["promoters"].as_u64().unwrap() > 0, "{r}");
    assert!(r["csat"]["mean"].as_f64().unwrap() > 3.0, "{r}");
    assert!(r["response_rate"].as_f64().unwrap() > 0.4, "{r}");
    // Referrals in each state, through the CLI.
    let o = joren(&db, &["referrals", "report"], None);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (&r["rewarded"], &r["reversed"], &r["pending"]),
        (&serde_json::json!(3), &serde_json::json!(1), &serde_json::json!(1)),
        "{r}"
    );
    assert!(r["top_referrers"].as_array().unwrap().len() >= 2, "{r}");
    let o = joren(&db, &["referrals", "list", "--status", "reversed"], None);
    let l: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(l["total"], 1, "{l}");
    let o = joren(&db, &["surveys", "responses", "--q", "駐車場"], None);
    let found: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(!found.as_array().unwrap().is_empty(), "the written answers are searchable");
    // The inbox: LINE conversations waiting, answered and closed, a friend not linked yet; two
    // replies by mail (one answered in its thread) and a text.
    tokio::runtime::Runtime::new().unwrap().block_on(async {
        let app = joren_app::App::open(&db, joren_app::AppConfig::default()).await.unwrap();
        let actor = joren_app::Actor::system("test");
        use joren_app::conversations::InboxView;
        let (counts, open) = app.conversations(&actor, InboxView::Open, 50).await.unwrap();
        assert_eq!((counts.open, counts.unassigned), (6, 4), "{open:?}");
        let channels: Vec<&str> = open.iter().map(|c| c.channel.as_str()).collect();
        assert_eq!(channels.iter().filter(|c| **c == "email").count(), 2, "{channels:?}");
        assert!(channels.contains(&"sms"), "{channels:?}");
        let answered = open.iter().find(|c| c.channel == "email" && c.first_response_at.is_some()).unwrap();
        let (_, sent) = app.outbox(answered.customer_id, None, None, 10).await.unwrap();
        assert!(
            sent.iter().any(|m| m.subject == "Re: ご注文ありがとうございました"),
            "answered in the thread: {sent:?}"
        );
        assert!(open.iter().any(|c| c.customer_id.is_none()), "a friend not linked yet");
        assert!(open.iter().any(|c| c.first_response_at.is_some() && c.assignee_name.is_some()), "one answered");
        let (_, closed) = app.conversations(&actor, InboxView::Closed, 50).await.unwrap();
        assert_eq!(closed.len(), 1);
        assert!(closed[0].resolution_secs().is_some_and(|s| s > 3600), "closed a day after it opened");
        // Complaint cases in different steps: one closed with its prevention, one breached.
        use joren_app::cases::CaseFilter;
        let of = |state: &str| CaseFilter { state: state.into(), ..CaseFilter::default() };
        let closed = app.cases(&of("closed")).await.unwrap();
        assert_eq!(closed.len(), 1, "{closed:?}");
        assert!(!closed[0].case.prevention.is_empty());
        assert!(!app.cases(&of("breached")).await.unwrap().is_empty(), "one past its deadline");
        let open = app.cases(&of("open")).await.unwrap();
        assert!(open.iter().any(|k| k.case.stage == "proposed"), "{open:?}");
        assert!(open.iter().any(|k| k.case.source == "survey"), "unhappy answers opened cases");
        let funnel = app.stage_funnel().await.unwrap();
        assert!(funnel.iter().filter(|s| s.customers > 0).count() >= 3, "customers in several stages: {funnel:?}");
        let list = app.retention_checklist().await.unwrap();
        assert!(list.met >= 5, "the demo shop meets much of the checklist: {:?}", list.items);
    });
}

/// A port already taken is said in Japanese and English, with the way to pick another.
#[test]
fn a_busy_port_is_named_with_how_to_choose_another() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/busy.db", dir.path().display());
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port();
    let addr = format!("127.0.0.1:{port}");
    let o = joren(&db, &["demo", "--demo-database-url", &db, "--customers", "20", "--addr", &addr], None);
    assert!(!o.status.success());
    let text = out(&o);
    assert!(text.contains(&format!("ポート {port} は別のプログラムが使用中です")), "{text}");
    assert!(text.contains(&format!("port {port} is already in use")) && text.contains("--addr"), "{text}");
}

#[test]
fn help_explains_every_subcommand() {
    let o = Command::new(env!("CARGO_BIN_EXE_joren")).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    for sub in ["serve", "demo", "import", "export", "migrate", "user", "token"] {
        assert!(help.contains(sub), "{sub} missing from --help");
    }
    let o = Command::new(env!("CARGO_BIN_EXE_joren")).args(["import", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(help.contains("Shift_JIS") && help.contains("--map"), "{help}");
}

/// `joren analyze --from-db` reads the shop's own orders: the CDNOW sample imported as orders
/// gives the published BG/NBD fit, as the CSV does; errors are clear.
#[test]
fn analyze_from_the_database_matches_the_csv() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/cli.db", dir.path().display());
    let sample = format!("{}/../../../shared/data/cdnow_sample_transactions.csv", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(sample).unwrap();
    let mut csv = String::from("order_id,customer_id,ordered_at,line_amount,currency\n");
    for (n, line) in text.lines().skip(1).enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        csv.push_str(&format!("CD-{n},{},{},{},USD\n", f[0], f[1], f[3]));
    }
    let orders = dir.path().join("orders.csv");
    std::fs::write(&orders, csv).unwrap();
    let o = joren(&db, &["analyze", "summary", "--from-db"], None);
    assert!(!o.status.success(), "an empty shop has nothing to analyse");
    assert!(out(&o).contains("no orders"), "{}", out(&o));
    let o = joren(&db, &["import", "orders", orders.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", out(&o));
    let o = joren(
        &db,
        &[
            "analyze",
            "clv",
            "--from-db",
            "--model",
            "bgnbd",
            "--calibration-end",
            "1997-09-30",
            "--time-unit",
            "week",
            "--format",
            "json",
        ],
        None,
    );
    assert!(o.status.success(), "{}", out(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["customers"], 2357);
    for (k, want) in [("r", 0.2425929), ("alpha", 4.4135317), ("a", 0.7928861), ("b", 2.4257532)] {
        let got = v["params"][k].as_f64().unwrap();
        assert!(((got - want) / want).abs() < 1e-4, "{k}: {got}");
    }
    let o = joren(&db, &["analyze", "summary", "--from-db", "--transactions", "x.csv"], None);
    assert!(!o.status.success() && out(&o).contains("--from-db"), "{}", out(&o));
    let o = joren(&db, &["analyze", "kpi", "--from-db", "--group-column", "source"], None);
    assert!(!o.status.success() && out(&o).contains("--group-column"), "{}", out(&o));
}

/// Ranks on order counts over calendar years, evaluated by the CLI over the CDNOW sample's real
/// purchase histories; the expected tiers are counted straight from the CSV.
#[test]
fn ranks_are_set_up_evaluated_and_reviewed_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/cli.db", dir.path().display());
    let sample = format!("{}/../../../shared/data/cdnow_sample_transactions.csv", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(sample).unwrap();
    let mut csv = String::from("order_id,customer_id,ordered_at,line_amount,currency\n");
    let mut per_year: std::collections::HashMap<(&str, &str), i64> = Default::default();
    for (n, line) in text.lines().skip(1).enumerate() {
        let f: Vec<&str> = line.split(',').collect();
        csv.push_str(&format!("CD-{n},{},{},{},USD\n", f[0], f[1], f[3]));
        *per_year.entry((f[0], &f[1][..4])).or_default() += 1;
    }
    let orders = dir.path().join("orders.csv");
    std::fs::write(&orders, csv).unwrap();
    assert!(joren(&db, &["import", "orders", orders.to_str().unwrap()], None).status.success());

    let o = joren(&db, &["points", "settings"], None);
    assert!(o.status.success(), "{}", out(&o));
    let mut programme: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    programme["ranks"] = serde_json::json!({
        "enabled": true, "measure": "orders", "window": {"kind": "calendar_year"},
        "tiers": [
            {"name": "レギュラー", "threshold": 0, "points_multiplier_percent": 100},
            {"name": "シルバー", "threshold": 5, "points_multiplier_percent": 120},
            {"name": "ゴールド", "threshold": 10, "points_multiplier_percent": 150}
        ],
        "grace_reviews": 0, "step_down_one": true
    });
    let file = dir.path().join("programme.json");
    programme["ranks"]["tiers"][1]["threshold"] = serde_json::json!(0);
    std::fs::write(&file, programme.to_string()).unwrap();
    let o = joren(&db, &["points", "settings", "--set", file.to_str().unwrap()], None);
    assert!(!o.status.success() && out(&o).contains("ranks.tiers[1].threshold"), "{}", out(&o));
    programme["ranks"]["tiers"][1]["threshold"] = serde_json::json!(5);
    std::fs::write(&file, programme.to_string()).unwrap();
    let o = joren(&db, &["points", "settings", "--set", file.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", out(&o));

    let count = |year: &str, min: i64| per_year.iter().filter(|((_, y), n)| *y == year && **n >= min).count();
    let o = joren(&db, &["ranks", "evaluate", "--on", "1997-12-31"], None);
    assert!(o.status.success(), "{}", out(&o));
    assert!(out(&o).contains(&format!("upgraded {},", count("1997", 5))), "{}", out(&o));
    // 1 January 1998 judges 1997 (everyone keeps); 1 January 1999 judges 1998: one tier down at
    // a time for those who fell short (step_down_one).
    let o = joren(&db, &["ranks", "evaluate", "--on", "1998-01-01"], None);
    assert!(out(&o).contains(&format!("reviewed {}, 降格 / downgraded 0", count("1997", 5))), "{}", out(&o));
    let ranked: Vec<&str> =
        per_year.iter().filter(|((_, y), n)| *y == "1997" && **n >= 5).map(|((c, _), _)| *c).collect();
    let gold_1997 = |c: &str| per_year.get(&(c, "1997")).copied().unwrap_or(0) >= 10;
    let in_1998 = |c: &str| per_year.get(&(c, "1998")).copied().unwrap_or(0);
    let falls = ranked.iter().filter(|c| in_1998(c) < if gold_1997(c) { 10 } else { 5 }).count();
    let o = joren(&db, &["ranks", "evaluate", "--on", "1999-01-01"], None);
    assert!(out(&o).contains(&format!("downgraded {falls},")), "{} (expected {falls})", out(&o));
    assert!(falls > 0, "the sample has customers who bought less in 1998");

    let o = joren(&db, &["ranks", "report"], None);
    assert!(o.status.success() && out(&o).contains("ゴールド\t"), "{}", out(&o));
    let o = joren(&db, &["ranks", "set", "1", "ゴールド", "--reason", "VIP"], None);
    assert!(o.status.success(), "{}", out(&o));
    let o = joren(&db, &["ranks", "show", "1"], None);
    assert!(out(&o).starts_with("ゴールド (level 2") && out(&o).contains("manual\t0\tVIP"), "{}", out(&o));
    let o = joren(&db, &["ranks", "set", "1", "ダイヤ", "--reason", "x"], None);
    assert!(!o.status.success() && out(&o).contains("tier"), "{}", out(&o));
}

#[test]
fn tickets_are_sold_used_and_refunded_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/cli.db", dir.path().display());
    assert!(joren(&db, &["migrate"], None).status.success());
    let csv = dir.path().join("c.csv");
    std::fs::write(&csv, "姓,名,電話番号\n高橋,誠,090-7000-0001\n").unwrap();
    assert!(joren(&db, &["import", "customers", csv.to_str().unwrap()], None).status.success());
    let o = joren(&db, &["tickets", "plan-add", "5回券", "--visits", "0", "--price", "20000"], None);
    assert!(!o.status.success() && out(&o).contains("visits"), "{}", out(&o));
    let o = joren(&db, &["tickets", "plan-add", "5回券", "--visits", "5", "--price", "20000"], None);
    assert!(out(&o).contains("plan 1: 5回券"), "{}", out(&o));
    let o = joren(&db, &["tickets", "sell", "1", "1"], None);
    assert!(out(&o).contains("ticket 1\t5回券\t5/5 left"), "{}", out(&o));
    for left in [4, 3] {
        let o = joren(&db, &["tickets", "use", "1", "--note", "施術"], None);
        assert!(out(&o).contains(&format!("{left}/5 left")), "{}", out(&o));
    }
    let o = joren(&db, &["tickets", "outstanding"], None);
    assert!(out(&o).contains("outstanding ¥12000 in 1 tickets") && out(&o).contains("¥12000)"), "{}", out(&o));
    let o = joren(&db, &["tickets", "refund", "1", "--reason", "解約"], None);
    assert!(out(&o).contains("¥12000 refunded"), "{}", out(&o));
    let o = joren(&db, &["tickets", "use", "1"], None);
    assert!(!o.status.success() && out(&o).contains("払い戻し済み"), "{}", out(&o));
    let o = joren(&db, &["tickets", "list", "1"], None);
    assert!(out(&o).contains("refunded"), "{}", out(&o));
}

#[test]
fn memberships_are_started_changed_and_reported_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/cli.db", dir.path().display());
    assert!(joren(&db, &["migrate"], None).status.success());
    let csv = dir.path().join("c.csv");
    std::fs::write(&csv, "姓,名,電話番号\n山本,蓮,090-7100-0001\n").unwrap();
    assert!(joren(&db, &["import", "customers", csv.to_str().unwrap()], None).status.success());
    let o = joren(&db, &["memberships", "plan-add", "月額会員", "--price", "3300"], None);
    assert!(out(&o).contains("plan 1: 月額会員"), "{}", out(&o));
    let o = joren(&db, &["memberships", "start", "1", "1"], None);
    assert!(out(&o).contains("membership 1\t月額会員\tactive"), "{}", out(&o));
    let o = joren(&db, &["memberships", "change", "1", "renew"], None);
    assert!(out(&o).contains("renewals 1"), "{}", out(&o));
    let o = joren(&db, &["memberships", "change", "1", "cancel"], None);
    assert!(!o.status.success() && out(&o).contains("reason"), "{}", out(&o));
    let o = joren(&db, &["memberships", "change", "1", "cancel", "--reason", "not_using"], None);
    assert!(out(&o).contains("cancelled") && out(&o).contains("reason not_using"), "{}", out(&o));
    // A perk for members of the plan: closed once the membership is cancelled.
    let o =
        joren(&db, &["perks", "add", "会員限定セール", "--kind", "limited_product", "--membership-plan-id", "1"], None);
    assert!(out(&o).contains("perk 1"), "{}", out(&o));
    let o = joren(&db, &["perks", "check", "1", "1"], None);
    assert!(!o.status.success() && out(&o).contains("会員プラン「月額会員」"), "{}", out(&o));
    let o = joren(&db, &["memberships", "start", "1", "1"], None);
    assert!(o.status.success(), "{}", out(&o));
    let o = joren(&db, &["perks", "check", "1", "1"], None);
    assert!(o.status.success() && out(&o).contains("allowed"), "{}", out(&o));
    let o = joren(&db, &["memberships", "report"], None);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let not_using = v["reasons"].as_array().unwrap().iter().find(|r| r["reason"] == "not_using").unwrap();
    assert_eq!(not_using["cancelled"], 1, "{v}");
}

#[test]
fn scenarios_are_made_from_a_ready_one_and_switched_on_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/cli.db", dir.path().display());
    assert!(joren(&db, &["migrate"], None).status.success());
    let o = joren(&db, &["scenarios", "templates", "--lang", "en"], None);
    let ready: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(ready.as_array().unwrap().iter().any(|r| r["key"] == "points_expiry"), "{ready}");
    let o = joren(&db, &["scenarios", "create", "--template", "nothing"], None);
    assert!(!o.status.success() && out(&o).contains("no ready scenario nothing"), "{}", out(&o));
    let o = joren(&db, &["scenarios", "create", "--template", "post_purchase"], None);
    let made: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", out(&o)));
    assert_eq!((made["name"].as_str(), made["status"].as_str()), (Some("購入後フォロー"), Some("draft")), "{made}");
    let o = joren(&db, &["scenarios", "activate", &made["id"].to_string()], None);
    assert!(out(&o).contains("\"active\""), "{}", out(&o));
    let def = dir.path().join("def.json");
    std::fs::write(&def, r#"{"trigger": {"kind": "manual"}, "steps": []}"#).unwrap();
    let o = joren(&db, &["scenarios", "create", "--name", "空", "--file", def.to_str().unwrap()], None);
    assert!(!o.status.success() && out(&o).contains("ステップ"), "an empty scenario is refused: {}", out(&o));
}

#[test]
fn mail_settings_are_saved_shown_and_reset_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/cli.db", dir.path().display());
    assert!(joren(&db, &["migrate"], None).status.success());
    let show = |args: &[&str]| -> serde_json::Value {
        let o = joren(&db, args, None);
        assert!(o.status.success(), "{}", out(&o));
        serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", out(&o)))
    };
    let v = show(&["mail", "settings"]);
    assert_eq!((v["mode"].as_str(), v["source"].as_str()), (Some("test"), Some("flags")), "{v}");
    let file = dir.path().join("mail.json");
    std::fs::write(
        &file,
        r#"{"mode": "smtp", "host": "mail.example.jp", "port": 587, "security": "starttls",
        "username": "shop", "password": "s3cret", "from_address": "info@example.jp", "shop_name": "花屋",
        "postal_address": "〒100-0001 東京都千代田区千代田1-1", "quiet_from": "21:00", "quiet_until": "09:00",
        "max_per_day": 1, "max_per_week": "３"}"#,
    )
    .unwrap();
    let v = show(&["mail", "set-settings", file.to_str().unwrap()]);
    assert_eq!(
        (v["mode"].as_str(), v["source"].as_str(), v["max_per_week"].as_i64()),
        (Some("smtp"), Some("saved"), Some(3))
    );
    assert_eq!(v["has_password"], true, "{v}");
    assert!(!out(&joren(&db, &["mail", "settings"], None)).contains("s3cret"), "the password is never shown");
    std::fs::write(&file, r#"{"mode": "smtp", "host": "", "port": 0, "from_address": "x", "shop_name": "花屋"}"#)
        .unwrap();
    let o = joren(&db, &["mail", "set-settings", file.to_str().unwrap()], None);
    assert!(!o.status.success(), "{}", out(&o));
    assert!(
        out(&o).contains("host: 入力してください / Please fill this in") && out(&o).contains("port:"),
        "{}",
        out(&o)
    );
    let v = show(&["mail", "reset-settings"]);
    assert_eq!((v["mode"].as_str(), v["source"].as_str()), (Some("test"), Some("flags")), "{v}");
}

#[test]
fn saved_messages_are_written_listed_and_deleted_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/cli.db", dir.path().display());
    assert!(joren(&db, &["migrate"], None).status.success());
    let file = dir.path().join("m.json");
    std::fs::write(&file, r#"{"name": "お礼", "subject": "{{ nmae }}", "body": "x"}"#).unwrap();
    let o = joren(&db, &["mail", "save-template", file.to_str().unwrap()], None);
    assert!(!o.status.success() && out(&o).contains("subject: 使えない変数があります: nmae"), "{}", out(&o));
    std::fs::write(
        &file,
        r#"{"name": "お礼", "subject": "{{ name }}、ありがとうございました", "body": "{{ shop_name }}"}"#,
    )
    .unwrap();
    let o = joren(&db, &["mail", "save-template", file.to_str().unwrap()], None);
    let saved: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{}", out(&o)));
    assert_eq!((saved["name"].as_str(), saved["marketing"].as_bool()), (Some("お礼"), Some(true)), "{saved}");
    let id = saved["id"].to_string();
    let o = joren(&db, &["mail", "templates"], None);
    assert!(out(&o).contains("ありがとうございました"), "{}", out(&o));
    assert!(joren(&db, &["mail", "delete-template", &id], None).status.success());
    let o = joren(&db, &["mail", "templates"], None);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), "[]", "{}", out(&o));
}

/// LINE, the inbox and webhooks from the command line (issue #19): link a user, answer their
/// conversation once per key and close it; subscribe a URL, queue a test, read the log.
#[test]
fn line_the_inbox_and_webhooks_work_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let db = format!("sqlite://{}/channels.db", dir.path().display());
    let user = "U0000000000000000000000000000c11c";
    let rt = tokio::runtime::Runtime::new().unwrap();
    let customer = rt.block_on(async {
        let app = joren_app::App::open(&db, joren_app::AppConfig::default()).await.unwrap();
        let input = joren_app::customers::NewCustomer {
            profile: joren_core::customer::CustomerInput { family_name: Some("端末".into()), ..Default::default() },
            ..Default::default()
        };
        app.create_customer(&joren_app::Actor::system("test"), input).await.unwrap().id
    });
    let json = |args: &[&str]| -> serde_json::Value {
        let o = joren(&db, args, None);
        assert!(o.status.success(), "{args:?}: {}", out(&o));
        serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{args:?}: {e}: {}", out(&o)))
    };
    let id = customer.to_string();
    let v = json(&["line", "link", &id, user]);
    assert_eq!(v["following"], serde_json::Value::Null, "{v}");
    let o = joren(&db, &["line", "link", &id, "U123"], None);
    assert!(!o.status.success() && out(&o).contains("U123"), "a bad id is named: {}", out(&o));
    // The customer follows the account and writes: a conversation opens.
    rt.block_on(async {
        let app = joren_app::App::open(&db, joren_app::AppConfig::default()).await.unwrap();
        let now = chrono::Utc::now();
        for (n, kind) in [
            joren_store::LineEventKind::Follow,
            joren_store::LineEventKind::Message {
                kind: "text".into(), body: "営業時間を教えてください".into()
            },
        ]
        .into_iter()
        .enumerate()
        {
            let e = joren_store::LineEvent {
                event_id: format!("cli-{n}"),
                line_user_id: user.into(),
                at: now,
                kind,
                link_code: None,
                received_at: now,
            };
            app.store.apply_line_event(&e).await.unwrap();
        }
    });
    let v = json(&["inbox", "list"]);
    assert_eq!(v["counts"]["open"], 1, "{v}");
    let conv = v["items"][0]["id"].as_i64().unwrap().to_string();
    let first = json(&["inbox", "reply", &conv, "10時から19時までです", "--key", "cli-1"]);
    assert_eq!((first["created"].as_bool(), first["test_mode"].as_bool()), (Some(true), Some(true)), "{first}");
    let again = json(&["inbox", "reply", &conv, "10時から19時までです", "--key", "cli-1"]);
    assert_eq!((again["created"].as_bool(), &again["message_id"]), (Some(false), &first["message_id"]), "once per key");
    let shown = json(&["inbox", "show", &conv]);
    assert_eq!(shown["first_response_secs"].as_i64().map(|s| s >= 0), Some(true), "{shown}");
    assert_eq!(shown["thread"][0]["text"], "営業時間を教えてください");
    assert_eq!(json(&["inbox", "close", &conv])["state"], "closed");
    let o = joren(&db, &["inbox", "list", "--view", "someday"], None);
    assert!(!o.status.success() && out(&o).contains("--view"), "{}", out(&o));

    // Webhooks: a bad address named; a subscription with its secret, a test queued, the log.
    let o = joren(&db, &["webhooks", "add", "ftp://x"], None);
    assert!(!o.status.success() && out(&o).contains("url"), "{}", out(&o));
    let sub = json(&["webhooks", "add", "https://crm.example.jp/hook", "--events", "order.placed,rank.changed"]);
    assert!(sub["secret"].as_str().unwrap().starts_with("whsec_"), "{sub}");
    assert_eq!(sub["events"], serde_json::json!(["order.placed", "rank.changed"]));
    let sid = sub["id"].as_i64().unwrap().to_string();
    assert_eq!(json(&["webhooks", "test", &sid])["kind"], "webhook.test");
    let log = json(&["webhooks", "deliveries", "--subscription", &sid]);
    assert_eq!((log.as_array().map(Vec::len), log[0]["state"].as_str()), (Some(1), Some("queued")), "{log}");
    assert!(json(&["webhooks", "events"]).as_array().unwrap().iter().any(|k| k == "points.granted"));
    let o = joren(&db, &["webhooks", "remove", &sid], None);
    assert!(o.status.success(), "{}", out(&o));
    assert_eq!(json(&["webhooks", "list"]), serde_json::json!([]));
}
