//! Property tests run in CI for a bounded number of cases: random JSON bodies on the write
//! endpoints and random CSV files on the import, against the real server on both databases.
//! Whatever comes in: never a 500, and a refused request writes nothing.

use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Value, json};

use crate::common::{TestApp, backends, spawn};

/// Field names the write endpoints know, and a few they do not.
const FIELDS: &[&str] = &[
    "customer_id",
    "items",
    "name",
    "quantity",
    "unit_price",
    "tax_rate",
    "sku",
    "category",
    "ordered_at",
    "channel",
    "currency",
    "shipping",
    "discount",
    "note",
    "external_id",
    "prices_include_tax",
    "family_name",
    "given_name",
    "email",
    "phone",
    "birthday",
    "postal_code",
    "prefecture",
    "tags",
    "notes",
    "kind",
    "points",
    "reason",
    "expires_on",
    "subject",
    "body",
    "occurred_at",
    "direction",
    "filter",
    "all",
    "any",
    "field",
    "op",
    "value",
    "amount",
    "bogus",
];

fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec![0_i64, 1, -1, 8, 10, 100_000, 100_000_001, i64::MAX, i64::MIN]).prop_map(Value::from),
        any::<f64>().prop_filter("JSON numbers are finite", |f| f.is_finite()).prop_map(|f| json!(f)),
        prop::sample::select(vec![
            "2026-03-01",
            "0001-01-01",
            "2999-12-31",
            "令和8年3月1日",
            "2026/1/5",
            "segment",
            "in",
            "gte",
            "dormant",
            "store",
            "JPY",
            "東京都",
            "090-1234-5678",
            "a@example.jp",
            "",
        ])
        .prop_map(Value::from),
        any::<String>().prop_map(Value::from),
    ]
}

fn body() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((prop::sample::select(FIELDS), inner), 0..7)
                .prop_map(|kv| Value::Object(kv.into_iter().map(|(k, v)| (k.to_string(), v)).collect())),
        ]
    })
}

/// What a refused request must leave as it was.
async fn state(t: &TestApp, customer: i64) -> (Value, Value, usize) {
    let customers = t.get(&t.owner_token, "/api/v1/customers?limit=500").await.1;
    let orders = t.get(&t.owner_token, &format!("/api/v1/customers/{customer}")).await.1;
    let audit = t.get(&t.owner_token, "/api/v1/audit?limit=1000").await.1["items"].as_array().map_or(0, Vec::len);
    (customers, orders, audit)
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config { cases, failure_persistence: None, ..Config::default() })
}

#[test]
fn random_write_bodies_never_answer_500_and_refusals_write_nothing() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for b in backends() {
        let t = rt.block_on(spawn(b));
        let c = rt.block_on(t.customer(json!({"family_name": "検査", "phone": "090-1700-0001"})));
        let (_, o) = rt.block_on(t.post(&t.staff_token, "/api/v1/orders", &crate::common::order_body(c, None, 1000)));
        let order = o["id"].as_i64().unwrap();
        let paths = [
            ("POST", "/api/v1/customers".to_string()),
            ("PATCH", format!("/api/v1/customers/{c}")),
            ("POST", "/api/v1/orders".to_string()),
            ("POST", format!("/api/v1/orders/{order}/refunds")),
            ("POST", format!("/api/v1/customers/{c}/interactions")),
            ("POST", format!("/api/v1/customers/{c}/points/grants")),
            ("POST", "/api/v1/points/redemptions".to_string()),
            ("POST", "/api/v1/segments/evaluate".to_string()),
        ];
        let result = runner(160).run(&(0..paths.len(), body()), |(i, body)| {
            let (method, path) = &paths[i];
            rt.block_on(async {
                let before = state(&t, c).await;
                let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
                let (status, answer) = t.send(method, &t.staff_token, path, &body).await;
                prop_assert!(status < 500, "[{b}] {path} {body} → {status} {answer}");
                if status >= 400 {
                    prop_assert!(answer["error"]["code"].is_string(), "[{b}] {path} → {answer}");
                    prop_assert_eq!(state(&t, c).await, before, "[{}] refused {} {} wrote something", b, path, body);
                }
                Ok::<(), TestCaseError>(())
            })
        });
        if let Err(e) = result {
            panic!("{e}");
        }
    }
}

/// A CSV-like file: cells from an alphabet with the characters that break parsers (quotes,
/// separators, line ends, NUL, Shift_JIS bytes, kanji), rows of varying length.
fn csv_file() -> impl Strategy<Value = Vec<u8>> {
    let cell = prop::collection::vec(
        prop::sample::select(vec![
            &b"\""[..],
            b",",
            b"\n",
            b"\r",
            b"\0",
            b" ",
            b"a",
            b"1",
            b"-",
            "山田".as_bytes(),
            "ﾀﾛｳ".as_bytes(),
            b"\x8e\x52",
            b"\xff",
            b"090-1234-5678",
            b"x@example.jp",
            b"2026-01-05",
            "１２８０".as_bytes(),
        ]),
        0..6,
    )
    .prop_map(|parts| parts.concat());
    let row = prop::collection::vec(cell, 0..6).prop_map(|cells| cells.join(&b","[..]));
    prop::collection::vec(row, 0..8).prop_map(|rows| {
        let mut file = "姓,名,電話番号,メール\n".as_bytes().to_vec();
        file.extend(rows.join(&b"\n"[..]));
        file
    })
}

#[test]
fn random_csv_files_import_or_reject_every_row_and_never_answer_500() {
    let rt = tokio::runtime::Runtime::new().unwrap();
    for b in backends() {
        let t = rt.block_on(spawn(b));
        let result = runner(96).run(&csv_file(), |file| {
            rt.block_on(async {
                let count = |v: Value| v["total"].as_u64().unwrap_or(0);
                let before = count(t.get(&t.staff_token, "/api/v1/customers").await.1);
                let r = t
                    .client
                    .post(t.url("/api/v1/import/customers"))
                    .bearer_auth(&t.staff_token)
                    .header("content-type", "text/csv")
                    .body(file.clone())
                    .send()
                    .await
                    .unwrap();
                let status = r.status().as_u16();
                let report: Value = r.json().await.unwrap_or(Value::Null);
                prop_assert!(status < 500, "[{b}] {} → {status} {report}", String::from_utf8_lossy(&file));
                let after = count(t.get(&t.staff_token, "/api/v1/customers").await.1);
                if status == 200 {
                    let created = report["created"].as_u64().unwrap();
                    prop_assert_eq!(after - before, created, "[{}] {}", b, report);
                    for r in report["rejected"].as_array().unwrap() {
                        prop_assert!(r["line"].as_u64().unwrap() >= 2 && r["reason"].is_string(), "[{}] {}", b, r);
                    }
                } else {
                    prop_assert_eq!(after, before, "[{}] a refused file wrote nothing", b);
                }
                Ok::<(), TestCaseError>(())
            })
        });
        if let Err(e) = result {
            panic!("{e}");
        }
    }
}
