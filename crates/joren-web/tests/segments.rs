//! Segment filters over the API on SQLite and PostgreSQL: each operator family, AND/OR
//! nesting, values bound (never pasted into SQL), bad filters refused by their place.

mod common;

use common::{backends, spawn};
use serde_json::{Value, json};

fn order(customer: i64, ext: &str, category: &str, day: &str) -> Value {
    json!({"customer_id": customer, "external_id": ext, "ordered_at": format!("{day}T10:00:00+09:00"),
           "items": [{"sku": "X", "name": "商品", "category": category, "quantity": 1, "unit_price": 2000, "tax_rate": 8}]})
}

#[tokio::test]
async fn filters_select_the_right_customers() {
    for b in backends() {
        let t = spawn(b).await;
        let a = t
            .customer(json!({"family_name": "東", "prefecture": "東京都", "tags": ["VIP"], "birthday": "1990-05-10",
                             "acquisition_source": "advertising", "consents": {"email": true}}))
            .await;
        let bb = t.customer(json!({"family_name": "西", "prefecture": "大阪府", "birthday": "1985-12-01", "consents": {"email": true}})).await;
        let (s, _) = t
            .send(
                reqwest::Method::PUT,
                &t.staff_token,
                &format!("/api/v1/customers/{bb}/consents/email"),
                &json!({"granted": false}),
            )
            .await;
        assert!(s == 200 || s == 204, "consent revoked: {s}");
        let c = t.customer(json!({"family_name": "南", "prefecture": "東京都"})).await;
        let d = t.customer(json!({"family_name": "東", "prefecture": "東京都", "tags": ["VIP"]})).await;
        let (s, _) = t.post(&t.staff_token, &format!("/api/v1/customers/{a}/merge"), &json!({"merge_id": d})).await;
        assert_eq!(s, 200, "the duplicate is merged away");
        for (cust, ext, cat, day) in
            [(a, "S-1", "珈琲豆", "2026-01-10"), (a, "S-2", "珈琲豆", "2026-03-10"), (c, "S-3", "器具", "2026-02-10")]
        {
            let (s, v) = t.post(&t.staff_token, "/api/v1/orders", &order(cust, ext, cat, day)).await;
            assert_eq!(s, 201, "{v}");
        }
        let (s, _) = t.post(&t.staff_token, "/api/v1/metrics/snapshot", &json!({})).await;
        assert_eq!(s, 201);

        let eval = |filter: Value| {
            let t = &t;
            async move {
                let (s, v) = t.post(&t.viewer_token, "/api/v1/segments/evaluate", &json!({"filter": filter})).await;
                assert_eq!(s, 200, "{v}");
                let mut ids: Vec<i64> =
                    v["customer_ids"].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect();
                ids.sort();
                assert_eq!(v["total"].as_i64().unwrap() as usize, ids.len());
                ids
            }
        };
        assert_eq!(
            eval(json!({"field": "prefecture", "op": "eq", "value": "東京都"})).await,
            [a, c],
            "[{b}] merged record excluded"
        );
        assert_eq!(eval(json!({"field": "prefecture", "op": "ne", "value": "東京都"})).await, [bb]);
        assert_eq!(eval(json!({"field": "tags", "op": "contains", "value": "VIP"})).await, [a]);
        assert_eq!(eval(json!({"field": "birthday_month", "op": "in", "value": [5, 6]})).await, [a]);
        assert_eq!(
            eval(json!({"field": "consent_email", "op": "eq", "value": true})).await,
            [a],
            "the latest consent event counts"
        );
        assert_eq!(eval(json!({"field": "consent_email", "op": "eq", "value": false})).await, [bb, c]);
        assert_eq!(eval(json!({"field": "purchased_category", "op": "eq", "value": "器具"})).await, [c]);
        assert_eq!(
            eval(json!({"field": "frequency", "op": "gte", "value": 2})).await,
            [a],
            "metrics from the snapshot"
        );
        assert_eq!(eval(json!({"field": "total_spent", "op": "lt", "value": 3000})).await, [c]);
        assert_eq!(
            eval(json!({"field": "acquisition_source", "op": "in", "value": ["advertising", "referral"]})).await,
            [a]
        );
        assert_eq!(
            eval(json!({"all": [{"field": "prefecture", "op": "eq", "value": "東京都"},
                                {"any": [{"field": "tags", "op": "contains", "value": "VIP"},
                                         {"field": "purchased_category", "op": "in", "value": ["器具", "食器"]}]}]}))
            .await,
            [a, c]
        );
        assert_eq!(
            eval(json!({"any": [{"field": "prefecture", "op": "eq", "value": "大阪府"},
                                {"all": [{"field": "tags", "op": "contains", "value": "VIP"}, {"field": "frequency", "op": "lt", "value": 2}]}]}))
            .await,
            [bb]
        );
        assert!(
            eval(json!({"field": "prefecture", "op": "eq", "value": "東京都' OR '1'='1"})).await.is_empty(),
            "values are bound"
        );

        let (s, v) = t
            .post(
                &t.staff_token,
                "/api/v1/segments/evaluate",
                &json!({"filter": {"field": "prefecture", "op": "eq", "value": "東京都"}, "limit": 1, "offset": 1}),
            )
            .await;
        assert_eq!((s, v["total"].as_i64(), v["customer_ids"].as_array().map(Vec::len)), (200, Some(2), Some(1)));
        let (s, v) = t
            .post(
                &t.staff_token,
                "/api/v1/segments/evaluate",
                &json!({"filter": {"field": "prefecture", "op": "eq", "value": "東京都"}, "offset": 10}),
            )
            .await;
        assert_eq!((s, v["total"].as_i64()), (200, Some(2)), "the total is known past the last page");
        let (s, e) = t
            .post(
                &t.staff_token,
                "/api/v1/segments/evaluate",
                &json!({"filter": {"any": [{"field": "p_alive", "op": "like", "value": 1}]}}),
            )
            .await;
        assert_eq!((s, e["error"]["field"].as_str()), (422, Some("filter.any[0].op")), "{e}");
    }
}

/// Saved segments over the API: create (names unique, filters checked), read with the current
/// count, members, CSV export with BOM and escaped formulas, update, delete, and permissions.
#[tokio::test]
async fn saved_segments_crud_members_and_export() {
    for b in backends() {
        let t = spawn(b).await;
        let tokyo =
            t.customer(json!({"family_name": "=HYPERLINK(\"x\")", "given_name": "一", "prefecture": "東京都"})).await;
        let osaka = t.customer(json!({"family_name": "西", "given_name": "二", "prefecture": "大阪府"})).await;
        let tokyo2 = t.customer(json!({"family_name": "南", "given_name": "三", "prefecture": "東京都"})).await;
        let filter = json!({"field": "prefecture", "op": "eq", "value": "東京都"});

        let (s, v) = t.post(&t.viewer_token, "/api/v1/segments", &json!({"name": "東京", "filter": filter})).await;
        assert_eq!(s, 403, "[{b}] viewers cannot save segments: {v}");
        let (s, v) = t.post(&t.staff_token, "/api/v1/segments", &json!({"name": "  ", "filter": filter})).await;
        assert_eq!((s, v["error"]["field"].as_str()), (422, Some("name")), "[{b}] {v}");
        let (s, v) = t
            .post(
                &t.staff_token,
                "/api/v1/segments",
                &json!({"name": "壊れた", "filter": {"field": "p_alive", "op": "like", "value": 1}}),
            )
            .await;
        assert_eq!(s, 422, "[{b}] {v}");
        assert!(v["error"]["message"].as_str().unwrap().contains("filter.op"), "[{b}] names the place: {v}");

        let (s, created) = t
            .post(
                &t.staff_token,
                "/api/v1/segments",
                &json!({"name": "東京のお客様", "description": "都内", "filter": filter}),
            )
            .await;
        assert_eq!(s, 201, "[{b}] {created}");
        let id = created["id"].as_i64().unwrap();
        assert_eq!(created["filter"], filter);
        let (s, v) =
            t.post(&t.staff_token, "/api/v1/segments", &json!({"name": "東京のお客様", "filter": filter})).await;
        assert_eq!((s, v["error"]["field"].as_str()), (422, Some("name")), "[{b}] duplicate name: {v}");

        let (s, got) = t.get(&t.viewer_token, &format!("/api/v1/segments/{id}")).await;
        assert_eq!((s, got["count"].as_i64()), (200, Some(2)), "[{b}] {got}");
        let (_, list) = t.get(&t.viewer_token, "/api/v1/segments").await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
        let (_, members) = t.get(&t.viewer_token, &format!("/api/v1/segments/{id}/customers?limit=1")).await;
        assert_eq!(members["total"], 2);
        assert_eq!(members["customer_ids"], json!([tokyo]), "[{b}] first page of one, ascending ids");

        // The export adds each customer's standing: purchases, segment, rank, points.
        let (st, o) = t.post(&t.staff_token, "/api/v1/orders", &common::order_body(tokyo, Some("SEG-1"), 1000)).await;
        assert_eq!(st, 201, "[{b}] {o}");
        let grant = json!({"points": 300, "reason": "来店"});
        let (st, _) = t.post(&t.staff_token, &format!("/api/v1/customers/{tokyo}/points/grants"), &grant).await;
        assert_eq!(st, 201, "[{b}]");
        t.app.refresh_metrics(&joren_app::Actor::system("t")).await.unwrap();
        let (_, points) = t.get(&t.staff_token, &format!("/api/v1/customers/{tokyo}/points")).await;
        let held = points["free"]["balance"].as_i64().unwrap() + points["paid"]["balance"].as_i64().unwrap();
        assert!(held >= 300, "[{b}] {points}");
        let (_, m) = t.get(&t.staff_token, &format!("/api/v1/customers/{tokyo}/metrics")).await;
        let segment = joren_app::metrics::segment_label(m["metrics"]["segment"].as_str().unwrap(), false);
        let (_, programme) = t.get(&t.owner_token, "/api/v1/settings/points").await;
        let ranks_on = programme["ranks"]["enabled"].as_bool().unwrap();
        let export = |query: &'static str| {
            let t = &t;
            async move {
                let url = t.url(&format!("/api/v1/segments/{id}/export.csv{query}"));
                t.client.get(url).bearer_auth(&t.viewer_token).send().await.unwrap()
            }
        };
        let r = export("").await;
        let body = r.text().await.unwrap();
        let mut reader = csv::Reader::from_reader(body.trim_start_matches('\u{feff}').as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
        assert_eq!(
            &header[header.len() - 6..],
            ["購入回数", "累計購入額", "最終購入日時", "顧客区分", "ランク", "保有ポイント"],
            "[{b}]"
        );
        let first = reader.records().next().unwrap().unwrap();
        let n = first.len();
        assert_eq!(&first[n - 6], "1", "[{b}] {first:?}");
        assert_eq!(first[n - 5], o["total"].as_i64().unwrap().to_string(), "[{b}] net spend");
        assert!(first[n - 4].starts_with("2026-03-01"), "[{b}] last purchase in the shop's time: {first:?}");
        assert_eq!(&first[n - 3], segment, "[{b}] the segment in words");
        assert_eq!(first[n - 2].is_empty(), !ranks_on, "[{b}] a rank only where ranks are on");
        assert_eq!(first[n - 1], held.to_string(), "[{b}] points held");
        let r = export("?headers=codes").await;
        let body = r.text().await.unwrap();
        assert!(
            body.lines().next().unwrap().ends_with(",order_count,total_spent,last_order_at,segment,rank,points"),
            "[{b}]"
        );
        let code = m["metrics"]["segment"].as_str().unwrap();
        assert!(body.lines().nth(1).unwrap().contains(&format!(",{code},")), "[{b}] codes for machines");
        // With ranks on, a customer never reviewed holds the first tier.
        let mut p = programme.clone();
        p["ranks"] = json!({"enabled": true, "measure": "spend", "window": {"kind": "rolling", "months": 12},
            "tiers": [{"name": "レギュラー", "threshold": 0, "points_multiplier_percent": 100},
                      {"name": "ゴールド", "threshold": 100000, "points_multiplier_percent": 150}],
            "grace_reviews": 0, "step_down_one": false});
        let (st, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/points", &p).await;
        assert_eq!(st, 200, "[{b}] {v}");
        let r = export("").await;
        let body = r.text().await.unwrap();
        let row = body.lines().nth(1).unwrap();
        assert!(row.contains(",レギュラー,"), "[{b}] {row}");

        let r = export("").await;
        assert_eq!(r.status().as_u16(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let body = r.bytes().await.unwrap();
        assert!(body.starts_with(b"\xEF\xBB\xBF"), "[{b}] BOM for Excel");
        let text = std::str::from_utf8(&body[3..]).unwrap();
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        let ids: Vec<i64> = rows.iter().map(|r| r[0].parse().unwrap()).collect();
        assert_eq!(ids, [tokyo, tokyo2], "[{b}] only the segment's customers, {osaka} left out");
        assert_eq!(&rows[0][2], "'=HYPERLINK(\"x\")", "[{b}] formula escaped");

        let (s, v) = t
            .send(
                reqwest::Method::PUT,
                &t.staff_token,
                &format!("/api/v1/segments/{id}"),
                &json!({"name": "大阪のお客様", "filter": {"field": "prefecture", "op": "eq", "value": "大阪府"}}),
            )
            .await;
        assert_eq!(s, 200, "[{b}] {v}");
        let (_, members) = t.get(&t.viewer_token, &format!("/api/v1/segments/{id}/customers")).await;
        assert_eq!(members["customer_ids"], json!([osaka]));

        let (s, _) =
            t.send(reqwest::Method::DELETE, &t.viewer_token, &format!("/api/v1/segments/{id}"), &json!({})).await;
        assert_eq!(s, 403);
        let (s, _) =
            t.send(reqwest::Method::DELETE, &t.staff_token, &format!("/api/v1/segments/{id}"), &json!({})).await;
        assert_eq!(s, 204);
        let (s, v) = t.get(&t.viewer_token, &format!("/api/v1/segments/{id}")).await;
        assert_eq!(s, 404, "[{b}] {v}");
    }
}

/// A filter on metrics alone reads the metrics table without the customers table: a record
/// merged after the snapshot must still drop out.
#[tokio::test]
async fn metric_only_filters_leave_merged_records_out() {
    for b in backends() {
        let t = spawn(b).await;
        let keep = t.customer(json!({"family_name": "残", "email": "keep@example.jp"})).await;
        let dup = t.customer(json!({"family_name": "残", "email": "dup@example.jp"})).await;
        for (cust, ext) in [(keep, "M-1"), (dup, "M-2")] {
            let (s, v) = t.post(&t.staff_token, "/api/v1/orders", &order(cust, ext, "珈琲豆", "2026-01-10")).await;
            assert_eq!(s, 201, "{v}");
        }
        let (s, _) = t.post(&t.staff_token, "/api/v1/metrics/snapshot", &json!({})).await;
        assert_eq!(s, 201);
        let metric_only = json!({"filter": {"field": "frequency", "op": "gte", "value": 1}});
        let (_, v) = t.post(&t.viewer_token, "/api/v1/segments/evaluate", &metric_only).await;
        assert_eq!(v["total"], 2, "[{b}] {v}");
        let (s, _) =
            t.post(&t.staff_token, &format!("/api/v1/customers/{keep}/merge"), &json!({"merge_id": dup})).await;
        assert_eq!(s, 200);
        let (_, v) = t.post(&t.viewer_token, "/api/v1/segments/evaluate", &metric_only).await;
        assert_eq!((v["total"].as_i64(), &v["customer_ids"]), (Some(1), &json!([keep])), "[{b}] {v}");
        let mixed = json!({"filter": {"all": [{"field": "frequency", "op": "gte", "value": 1},
                                              {"field": "tags", "op": "contains", "value": "none"}]}});
        let (_, v) = t.post(&t.viewer_token, "/api/v1/segments/evaluate", &mixed).await;
        assert_eq!(v["total"], 0, "[{b}] {v}");
    }
}

/// Segments read `customer_facts`, which every write keeps in step: a profile edit, a consent
/// given after creation, a customer created after the snapshot (attributes yes, metrics no),
/// a merge that moves consents to the survivor, a new snapshot; and a full rebuild of the
/// facts (what the first start after the upgrade does) gives the same answers.
#[tokio::test]
async fn segment_facts_follow_every_write_and_rebuild_to_the_same_answers() {
    for b in backends() {
        let t = spawn(b).await;
        let a = t.customer(json!({"family_name": "甲", "prefecture": "東京都", "birthday": "1980-07-01"})).await;
        let dup = t.customer(json!({"family_name": "甲", "prefecture": "東京都", "consents": {"sms": true}})).await;
        let (s, v) = t.post(&t.staff_token, "/api/v1/orders", &order(a, "F-1", "珈琲豆", "2026-01-10")).await;
        assert_eq!(s, 201, "{v}");
        let (s, _) = t.post(&t.staff_token, "/api/v1/metrics/snapshot", &json!({})).await;
        assert_eq!(s, 201);
        let late = t.customer(json!({"family_name": "乙", "prefecture": "大阪府"})).await;

        let eval = |filter: Value| {
            let t = &t;
            async move {
                let (s, v) = t.post(&t.viewer_token, "/api/v1/segments/evaluate", &json!({"filter": filter})).await;
                assert_eq!(s, 200, "{v}");
                v["customer_ids"].as_array().unwrap().iter().map(|x| x.as_i64().unwrap()).collect::<Vec<i64>>()
            }
        };
        let osaka = json!({"field": "prefecture", "op": "eq", "value": "大阪府"});
        let bought = json!({"field": "frequency", "op": "gte", "value": 1});
        let sms = json!({"field": "consent_sms", "op": "eq", "value": true});
        let july = json!({"field": "birthday_month", "op": "eq", "value": 7});
        assert_eq!(eval(osaka.clone()).await, [late], "[{b}] created after the snapshot: attributes count");
        assert_eq!(eval(bought.clone()).await, [a], "[{b}] …but it has no metrics yet");

        let (s, v) = t
            .send(
                reqwest::Method::PATCH,
                &t.staff_token,
                &format!("/api/v1/customers/{a}"),
                &json!({"prefecture": "大阪府"}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(eval(osaka.clone()).await, [a, late], "[{b}] a profile edit moves the customer");
        assert_eq!(eval(july.clone()).await, [a], "[{b}] untouched attributes stay");
        assert_eq!(eval(bought.clone()).await, [a], "[{b}] metrics survive a profile edit");

        let (s, _) = t
            .send(
                reqwest::Method::PUT,
                &t.staff_token,
                &format!("/api/v1/customers/{late}/consents/sms"),
                &json!({"granted": true}),
            )
            .await;
        assert!(s == 200 || s == 204, "{s}");
        assert_eq!(eval(sms.clone()).await, [dup, late], "[{b}] consent given after creation");

        let (s, _) = t.post(&t.staff_token, &format!("/api/v1/customers/{a}/merge"), &json!({"merge_id": dup})).await;
        assert_eq!(s, 200);
        assert_eq!(eval(sms.clone()).await, [a, late], "[{b}] the merged record's consents move to the survivor");

        let (s, v) = t.post(&t.staff_token, "/api/v1/orders", &order(late, "F-2", "器具", "2026-02-10")).await;
        assert_eq!(s, 201, "{v}");
        let (s, _) = t.post(&t.staff_token, "/api/v1/metrics/snapshot", &json!({})).await;
        assert_eq!(s, 201);
        assert_eq!(eval(bought.clone()).await, [a, late], "[{b}] a new snapshot reaches the facts");
        let late_order = v["id"].as_i64().unwrap();
        let (s, v) = t.post(&t.staff_token, &format!("/api/v1/orders/{late_order}/cancel"), &json!({})).await;
        assert_eq!(s, 200, "{v}");
        let (s, _) = t.post(&t.staff_token, "/api/v1/metrics/snapshot", &json!({})).await;
        assert_eq!(s, 201);
        assert_eq!(
            eval(bought.clone()).await,
            [a],
            "[{b}] a customer the new snapshot leaves out loses the old metrics"
        );

        let filters = [osaka, bought, sms, july, json!({"field": "consent_email", "op": "eq", "value": false})];
        let mut before = Vec::new();
        for f in &filters {
            before.push(eval(f.clone()).await);
        }
        t.app.store.rebuild_customer_facts().await.unwrap();
        assert_eq!(t.app.store.count_customer_facts().await.unwrap(), 2, "[{b}] one row per live customer");
        for (f, expected) in filters.iter().zip(&before) {
            assert_eq!(&eval(f.clone()).await, expected, "[{b}] rebuilt facts answer {f} the same");
        }
    }
}
