//! Cross-sell from purchase co-occurrence, on SQLite and PostgreSQL: the snapshot job stores
//! the rules with the support, confidence and lift worked out by hand below; suggestions per
//! customer leave out what they already bought; per product; on the 360 page and dashboard.

mod common;

use common::{backends, spawn};
use serde_json::{Value, json};

fn order(customer: i64, ext: &str, skus: &[&str]) -> Value {
    let items: Vec<Value> = skus
        .iter()
        .map(|s| json!({"sku": s, "name": format!("商品{s}"), "category": "雑貨", "quantity": 1, "unit_price": 1000, "tax_rate": 10}))
        .collect();
    json!({"customer_id": customer, "external_id": ext, "ordered_at": "2026-06-01T10:00:00+09:00", "items": items})
}

#[tokio::test]
async fn rules_suggestions_and_pages() {
    for b in backends() {
        let t = spawn(b).await;
        // 20 customers: 8 bought A and B (in separate orders), 4 only A, 4 only C, 3 B and C,
        // 1 all three. n(A) 13, n(B) 12, n(C) 8, n(AB) 9, n(BC) 4, n(AC) 1.
        let mut groups: Vec<(&[&str], usize)> = vec![(&["A", "B"], 8), (&["A"], 4), (&["C"], 4), (&["B", "C"], 3)];
        groups.push((&["A", "B", "C"], 1));
        let mut ids = Vec::new();
        let mut n = 0;
        for (skus, count) in groups {
            for _ in 0..count {
                n += 1;
                let id = t.customer(json!({"family_name": format!("客{n}")})).await;
                for (k, sku) in skus.iter().enumerate() {
                    let (s, v) =
                        t.post(&t.staff_token, "/api/v1/orders", &order(id, &format!("X-{n}-{k}"), &[sku])).await;
                    assert_eq!(s, 201, "{v}");
                }
                ids.push((id, skus));
            }
        }
        // A cancelled order does not count as a purchase: were it counted, this A-only
        // customer would make n(AB) 10.
        assert_eq!(ids[9].1, &["A"]);
        let (_, o) = t.post(&t.staff_token, "/api/v1/orders", &order(ids[9].0, "X-cancel", &["B"])).await;
        let (s, _) =
            t.post(&t.staff_token, &format!("/api/v1/orders/{}/cancel", o["id"]), &json!({"reason": "取消"})).await;
        assert_eq!(s, 200);

        let (s, v) = t.get(&t.viewer_token, "/api/v1/metrics/associations").await;
        assert_eq!((s, v["items"].as_array().map(Vec::len)), (200, Some(0)), "[{b}] nothing before a snapshot: {v}");
        let (s, _) = t.post(&t.staff_token, "/api/v1/metrics/snapshot", &json!({})).await;
        assert_eq!(s, 201);

        let (_, v) = t.get(&t.viewer_token, "/api/v1/metrics/associations").await;
        let items = v["items"].as_array().unwrap();
        assert_eq!(items.len(), 1, "[{b}] only A–B clears the thresholds (B–C has lift < 1, A–C one customer): {v}");
        let top = &items[0];
        assert_eq!(
            (top["antecedent"].as_str(), top["consequent"].as_str()),
            (Some("B"), Some("A")),
            "B → A is the surer direction"
        );
        assert_eq!(top["pair_count"], 9);
        assert_eq!(top["consequent_name"], "商品A");
        let close = |v: &Value, want: f64| (v.as_f64().unwrap() - want).abs() < 1e-9;
        assert!(close(&top["support"], 9.0 / 20.0), "{top}");
        assert!(close(&top["confidence"], 9.0 / 12.0), "{top}");
        assert!(close(&top["lift"], (9.0 / 12.0) / (13.0 / 20.0)), "{top}");

        let (_, v) = t.get(&t.viewer_token, "/api/v1/products/A/associations").await;
        assert_eq!(v["items"].as_array().unwrap().len(), 1);
        assert_eq!(v["items"][0]["consequent"], "B");
        assert!(close(&v["items"][0]["confidence"], 9.0 / 13.0));
        let (_, v) = t.get(&t.viewer_token, "/api/v1/products/Z/associations").await;
        assert_eq!(v["items"], json!([]));

        let only_a = ids.iter().find(|(_, s)| **s == ["A"]).unwrap().0;
        let (_, v) = t.get(&t.viewer_token, &format!("/api/v1/customers/{only_a}/cross-sell")).await;
        assert_eq!(v["items"].as_array().unwrap().len(), 1, "[{b}] {v}");
        assert_eq!(
            (v["items"][0]["consequent"].as_str(), v["items"][0]["antecedent"].as_str()),
            (Some("B"), Some("A"))
        );
        let both = ids.iter().find(|(_, s)| **s == ["A", "B"]).unwrap().0;
        let (_, v) = t.get(&t.viewer_token, &format!("/api/v1/customers/{both}/cross-sell")).await;
        assert_eq!(v["items"], json!([]), "[{b}] nothing they have not bought yet");
        let (s, _) = t.get(&t.viewer_token, "/api/v1/customers/999999/cross-sell").await;
        assert_eq!(s, 404);

        let cookie = t.login_cookie("viewer").await;
        let page = |path: String| {
            let t = &t;
            let cookie = cookie.clone();
            async move { t.client.get(t.url(&path)).header("cookie", cookie).send().await.unwrap().text().await.unwrap() }
        };
        let html = page(format!("/customers/{only_a}")).await;
        assert!(html.contains("id=\"cross-sell\"") && html.contains("<strong>商品B</strong>"), "[{b}] {html}");
        assert!(html.contains("69%"), "9 of the 13 buyers of A: {html}");
        let html = page("/dashboard".into()).await;
        assert!(html.contains("id=\"pairs-table\"") && html.contains("→ 商品A"), "[{b}] {html}");
    }
}
