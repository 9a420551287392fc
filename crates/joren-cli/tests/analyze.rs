//! `joren analyze` on the CDNOW sample: the JSON contract of DESIGN.md and the per-customer file.

use std::process::Command;

fn cdnow() -> String {
    format!("{}/../../../shared/data/cdnow_sample_transactions.csv", env!("CARGO_MANIFEST_DIR"))
}

fn run(args: &[&str]) -> (bool, String, String) {
    let o = Command::new(env!("CARGO_BIN_EXE_joren")).args(args).output().unwrap();
    (o.status.success(), String::from_utf8_lossy(&o.stdout).into(), String::from_utf8_lossy(&o.stderr).into())
}

#[test]
fn clv_json_follows_the_contract() {
    let file = cdnow();
    let (ok, out, err) = run(&[
        "analyze",
        "clv",
        "--transactions",
        &file,
        "--model",
        "bgnbd",
        "--calibration-end",
        "1997-09-30",
        "--time-unit",
        "week",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["model"], "bgnbd");
    assert_eq!(v["customers"], 2357);
    for (k, want) in [("r", 0.2425929), ("alpha", 4.4135317), ("a", 0.7928861), ("b", 2.4257532)] {
        let got = v["params"][k].as_f64().unwrap();
        assert!(((got - want) / want).abs() < 1e-4, "{k}: {got}");
    }
    assert!((v["log_likelihood"].as_f64().unwrap() + 9582.42556).abs() < 0.01);

    let (ok, out, _) = run(&[
        "analyze",
        "clv",
        "--transactions",
        &file,
        "--model",
        "gg",
        "--calibration-end",
        "1997-09-30",
        "--time-unit",
        "week",
        "--format",
        "json",
    ]);
    assert!(ok);
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["model"], "gg");
    assert!(v["params"]["p"].is_number() && v["params"]["q"].is_number() && v["params"]["gamma"].is_number());
    assert_eq!(v["customers"], 946);

    let (ok, out, err) = run(&[
        "analyze",
        "clv",
        "--transactions",
        &file,
        "--model",
        "pnbd",
        "--calibration-end",
        "1997-09-30",
        "--time-unit",
        "week",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["model"], "pnbd");
    for (k, want) in [("r", 0.5532755), ("alpha", 10.5776126), ("s", 0.6062136), ("beta", 11.6679113)] {
        let got = v["params"][k].as_f64().unwrap();
        assert!(((got - want) / want).abs() < 1e-3, "{k}: {got}");
    }
}

#[test]
fn per_customer_forecasts_are_written_for_everyone() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("pc.csv");
    let (ok, _, err) = run(&[
        "analyze",
        "clv",
        "--transactions",
        &cdnow(),
        "--calibration-end",
        "1997-09-30",
        "--time-unit",
        "week",
        "--per-customer",
        out.to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let text = std::fs::read_to_string(&out).unwrap();
    let rows: Vec<Vec<&str>> = text.lines().skip(1).map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 2357);
    let one = rows.iter().find(|r| r[0] == "1").unwrap();
    let p_alive: f64 = one[5].parse().unwrap();
    assert!((p_alive - 0.7266).abs() < 1e-3, "{one:?}");
    for r in &rows {
        for v in &r[5..9] {
            let v: f64 = v.parse().unwrap();
            assert!(v.is_finite() && v >= 0.0, "{r:?}");
        }
        let score: u8 = r[9].parse().unwrap();
        let band = match score {
            0..30 => "low",
            30..60 => "medium",
            _ => "high",
        };
        assert!(score <= 100 && r[10] == band, "{r:?}");
        assert!(r[11].len() == 10 && r[11].starts_with("199"), "expected next purchase is a date: {r:?}");
    }
    // Customer 2 bought twice in January 1997 and never again: high risk, long overdue.
    let two = rows.iter().find(|r| r[0] == "2").unwrap();
    assert_eq!(two[10], "high", "{two:?}");
    assert!(two[11].as_bytes() < b"1997-09-30".as_slice(), "{two:?}");
}

#[test]
fn validate_compares_the_forecast_with_the_holdout() {
    let file = cdnow();
    let validate = |model: &str, format: &str| {
        run(&[
            "analyze",
            "validate",
            "--transactions",
            &file,
            "--calibration-end",
            "1997-09-30",
            "--holdout-end",
            "1998-06-30",
            "--time-unit",
            "week",
            "--model",
            model,
            "--format",
            format,
        ])
    };
    let (ok, out, err) = validate("bgnbd", "json");
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["actual_total"], 1882);
    assert_eq!(v["customers"], 2357);
    assert_eq!(v["by_frequency"].as_array().unwrap().len(), 8, "0..6 and 7+");
    let predicted = v["predicted_total"].as_f64().unwrap();
    assert!((1600.0..1700.0).contains(&predicted), "{predicted}");
    let (ok, out, err) = validate("pnbd", "table");
    assert!(ok, "{err}");
    assert!(out.contains("actual 1882") && out.contains("7+"), "{out}");

    let (ok, _, err) = run(&["analyze", "validate", "--transactions", &file, "--calibration-end", "1999-01-01"]);
    assert!(!ok && err.contains("holdout must end after"), "{err}");
}

#[test]
fn bgbb_fits_discrete_opportunities() {
    let file = cdnow();
    let (ok, out, err) =
        run(&["analyze", "clv", "--transactions", &file, "--model", "bgbb", "--period-days", "91", "--format", "json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["model"], "bgbb");
    for k in ["alpha", "beta", "gamma", "delta"] {
        assert!(v["params"][k].as_f64().unwrap() > 0.0, "{v}");
    }
    assert!(v["log_likelihood"].as_f64().unwrap() < 0.0);
    let (ok, _, err) = run(&["analyze", "clv", "--transactions", &file, "--model", "bgbb", "--per-customer", "/tmp/x"]);
    assert!(!ok && err.contains("--per-customer is available for"), "{err}");
}

#[test]
fn bad_input_names_the_line() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("bad.csv");
    std::fs::write(&f, "customer_id,date,amount\n1,2024-01-01,10\n2,2024-02-30,5\n").unwrap();
    let (ok, _, err) = run(&["analyze", "rfm", "--transactions", f.to_str().unwrap()]);
    assert!(!ok);
    assert!(err.contains("line 3") && err.contains("2024-02-30"), "{err}");
}

#[test]
fn kpi_and_cohorts_on_cdnow() {
    let file = cdnow();
    let (ok, out, err) = run(&[
        "analyze",
        "kpi",
        "--transactions",
        &file,
        "--start",
        "1998-01-01",
        "--calibration-end",
        "1998-06-30",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let k: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    // Every CDNOW customer first bought in Q1 1997, so all 2,357 are active on 1998-01-01 with
    // a 365-day window and nobody is new in 1998.
    assert_eq!(k["start_customers"], 2357);
    assert_eq!(k["new_customers"], 0);
    let retention = k["retention_rate"].as_f64().unwrap();
    assert!((retention - 100.0 * k["end_customers"].as_f64().unwrap() / 2357.0).abs() < 1e-9);
    assert!((k["churn_rate"].as_f64().unwrap() + retention - 100.0).abs() < 1e-9);

    let (ok, out, err) = run(&["analyze", "cohorts", "--transactions", &file, "--format", "json"]);
    assert!(ok, "{err}");
    let t: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let rows = t.as_array().unwrap();
    assert_eq!(rows.iter().map(|r| r["customers"].as_u64().unwrap()).sum::<u64>(), 2357);
    assert_eq!(
        rows.iter().map(|r| r["label"].as_str().unwrap()).collect::<Vec<_>>(),
        ["1997-01", "1997-02", "1997-03"]
    );
    assert!(rows.iter().all(|r| r["active_share"][0] == 1.0));

    let (ok, _, err) =
        run(&["analyze", "kpi", "--transactions", &file, "--start", "1999-01-01", "--calibration-end", "1998-06-30"]);
    assert!(!ok && err.contains("after the end"), "{err}");
}

#[test]
fn subscription_retention_from_survivor_counts() {
    let (ok, out, err) =
        run(&["analyze", "retention", "--alive", "1000,869,743,653,593,551,517,491", "--format", "json"]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(v["model"], "sbg");
    assert!((v["params"]["alpha"].as_f64().unwrap() - 0.668).abs() < 5e-4);
    assert!((v["params"]["beta"].as_f64().unwrap() - 3.806).abs() < 5e-4);
    assert_eq!(v["projection"].as_array().unwrap().len(), 12);
    let (ok, _, err) = run(&["analyze", "retention", "--alive", "100,100,100"]);
    assert!(!ok && err.contains("nobody churned"), "{err}");
}

#[test]
fn kpis_and_cohorts_split_by_acquisition_source() {
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("tx.csv");
    // A came from the campaign and bought again; B came by referral and bought three times;
    // C (campaign) bought once; D has no source.
    std::fs::write(
        &f,
        "customer_id,date,amount,source\nA,2024-01-05,1000,広告\nA,2024-03-01,1200,紹介\nB,2024-01-10,800,紹介\n\
         B,2024-02-11,900,紹介\nB,2024-05-11,900,紹介\nC,2024-02-01,500,広告\nD,2024-04-01,700,\n",
    )
    .unwrap();
    let file = f.to_str().unwrap();
    let (ok, out, err) = run(&[
        "analyze",
        "kpi",
        "--transactions",
        file,
        "--start",
        "2024-03-01",
        "--group-column",
        "source",
        "--format",
        "json",
    ]);
    assert!(ok, "{err}");
    let v: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    let groups = v["groups"].as_array().unwrap();
    let names: Vec<&str> = groups.iter().map(|g| g["group"].as_str().unwrap()).collect();
    assert_eq!(names, ["(none)", "広告", "紹介"], "A counts where it came from, not its later rows");
    let k = |name: &str| &groups.iter().find(|g| g["group"] == name).unwrap()["kpis"];
    assert_eq!(k("広告")["start_customers"], 2);
    assert_eq!(k("広告")["repeat_rate"], 50.0, "A of A and C bought twice");
    assert_eq!(k("紹介")["repeat_rate"], 100.0);
    assert_eq!(k("(none)")["new_customers"], 1);
    let sum: u64 = groups.iter().map(|g| g["kpis"]["end_customers"].as_u64().unwrap()).sum();
    assert_eq!(v["end_customers"].as_u64().unwrap(), sum, "the groups partition the customers");

    let (ok, out, err) =
        run(&["analyze", "cohorts", "--transactions", file, "--group-column", "source", "--format", "csv"]);
    assert!(ok, "{err}");
    assert!(out.starts_with("group,cohort,"), "{out}");
    assert!(out.contains("紹介,2024-01,1,1,1.000000"), "B is active one month after its first: {out}");
    assert!(out.contains("広告,2024-02,1,0,"), "{out}");

    let (ok, _, err) = run(&["analyze", "cohorts", "--transactions", file, "--group-column", "campaign"]);
    assert!(!ok && err.contains("column campaign not found"), "{err}");
}
