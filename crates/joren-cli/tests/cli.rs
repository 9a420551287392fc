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

    let export = dir.path().join("out.csv");
    let o = joren(&db, &["export", "customers", "-o", export.to_str().unwrap()], None);
    assert!(o.status.success(), "{}", out(&o));
    let exported = std::fs::read_to_string(&export).unwrap();
    assert_eq!(exported.lines().count(), 3, "{exported}");
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
    let o = joren(&db, &["export", "orders"], None);
    let orders = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(orders.lines().count() > 1000, "two years of orders for 300 customers");
    assert!(orders.contains("つねやブレンド"));
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
