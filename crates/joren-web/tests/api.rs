//! HTTP API integration tests, run against SQLite and PostgreSQL.

mod common;

use common::{backends, order_body, spawn};
use reqwest::Method;
use serde_json::json;

#[tokio::test]
async fn customers_are_created_validated_searched_and_updated() {
    for b in backends() {
        let t = spawn(b).await;
        let (status, v) = t
            .post(
                &t.staff_token,
                "/api/v1/customers",
                &json!({"family_name": "山田", "email": "not-an-email", "phone": "12"}),
            )
            .await;
        assert_eq!(status, 422, "[{b}] {v}");
        assert_eq!(v["error"]["code"], "validation_failed");
        assert_eq!(v["error"]["field"], "email");
        assert_eq!(v["error"]["details"][1]["field"], "phone");

        let (status, v) =
            t.post(&t.staff_token, "/api/v1/customers", &json!({"family_name": "山田", "colour": "red"})).await;
        assert_eq!(status, 422, "[{b}] unknown field must be rejected: {v}");
        assert_eq!(v["error"]["field"], "colour");

        let id = t
            .customer(json!({
                "family_name": "山田", "given_name": "花子", "family_name_kana": "やまだ", "given_name_kana": "ﾊﾅｺ",
                "email": "hanako@example.jp", "phone": "090-1111-2222", "postal_code": "1500001", "prefecture": "東京都",
                "tags": ["VIP"], "consents": {"email": true}, "external_ids": [{"system": "pos", "external_id": "M1"}],
                "acquisition_source": "referral", "acquisition_campaign": "紹介"
            }))
            .await;
        t.customer(json!({"family_name": "佐藤", "family_name_kana": "サトウ", "email": "sato@example.jp"})).await;

        let (_, c) = t.get(&t.viewer_token, &format!("/api/v1/customers/{id}")).await;
        assert_eq!(c["display_name"], "山田 花子 様");
        assert_eq!(c["family_name_kana"], "ヤマダ");
        assert_eq!(c["given_name_kana"], "ハナコ");
        assert_eq!(c["phone"], "+819011112222");
        assert_eq!(c["postal_code"], "150-0001");
        assert_eq!(c["consents"][0]["channel"], "email");
        assert_eq!(c["consents"][0]["granted"], true);
        assert_eq!(c["external_ids"][0]["external_id"], "M1");

        for q in ["やまだ", "ヤマダ", "ﾔﾏﾀﾞ", "山田花子", "hanako@", "090-1111", "09011112222"] {
            let (_, page) = t.get(&t.viewer_token, &format!("/api/v1/customers?q={}", urlencode(q))).await;
            assert_eq!(page["total"], 1, "[{b}] query {q}: {page}");
            assert_eq!(page["items"][0]["id"], id);
        }
        let (_, all) = t.get(&t.viewer_token, "/api/v1/customers?limit=1").await;
        assert_eq!(all["total"], 2);
        assert_eq!(all["items"].as_array().unwrap().len(), 1);
        let (_, none) = t.get(&t.viewer_token, "/api/v1/customers?q=%25").await;
        assert_eq!(none["total"], 0, "a literal % must not match everything");

        let (status, u) = t
            .send(
                Method::PATCH,
                &t.staff_token,
                &format!("/api/v1/customers/{id}"),
                &json!({"email": "", "notes": "甘党"}),
            )
            .await;
        assert_eq!(status, 200, "{u}");
        assert!(u["email"].is_null());
        assert_eq!(u["notes"], "甘党");
        assert_eq!(u["phone"], "+819011112222", "fields not sent stay as they were");

        let (status, v) = t
            .send(
                Method::PUT,
                &t.staff_token,
                &format!("/api/v1/customers/{id}/consents/email"),
                &json!({"granted": false, "source": "unsubscribe-link"}),
            )
            .await;
        assert_eq!(status, 200);
        assert_eq!(v["consents"][0]["granted"], false);
        assert_eq!(v["consents"][0]["source"], "unsubscribe-link");
        let (status, _) = t
            .send(
                Method::PUT,
                &t.staff_token,
                &format!("/api/v1/customers/{id}/consents/fax"),
                &json!({"granted": true}),
            )
            .await;
        assert_eq!(status, 422);

        let (status, _) = t.get(&t.viewer_token, "/api/v1/customers/999999").await;
        assert_eq!(status, 404);

        let (_, audit) = t.get(&t.owner_token, &format!("/api/v1/audit?entity=customer&entity_id={id}")).await;
        let actions: Vec<&str> =
            audit["items"].as_array().unwrap().iter().map(|e| e["action"].as_str().unwrap()).collect();
        assert!(
            actions.contains(&"customer.create")
                && actions.contains(&"customer.update")
                && actions.contains(&"customer.consent"),
            "{actions:?}"
        );
        assert_eq!(audit["items"][0]["actor"], "staff");
    }
}

/// The API reads Japanese input as the forms do: one `address` line split into its parts
/// (the parts given separately win), 和暦 and full-width dates, a company by its ㈱.
#[tokio::test]
async fn the_api_reads_addresses_dates_and_companies_as_written() {
    for b in backends() {
        let t = spawn(b).await;
        let (s, c) = t
            .post(
                &t.staff_token,
                "/api/v1/customers",
                &json!({"family_name": "鈴木", "birthday": "Ｈ２．４．１", "building": "2階",
                        "address": "〒600-8001 京都府京都市下京区四条通1-1 四条ビル"}),
            )
            .await;
        assert_eq!(s, 201, "[{b}] {c}");
        let got = ["birthday", "postal_code", "prefecture", "city", "street", "building"].map(|k| c[k].clone());
        assert_eq!(
            got,
            [
                json!("1990-04-01"),
                json!("600-8001"),
                json!("京都府"),
                json!("京都市下京区"),
                json!("四条通1-1"),
                json!("2階")
            ],
            "[{b}] {c}"
        );
        let (s, c) = t.post(&t.staff_token, "/api/v1/customers", &json!({"family_name": "㈱ジョーレン"})).await;
        assert_eq!(
            (s, &c["kind"], &c["display_name"]),
            (201, &json!("account"), &json!("㈱ジョーレン 御中")),
            "[{b}] {c}"
        );
        let (s, c) = t
            .post(&t.staff_token, "/api/v1/customers", &json!({"kind": "person", "family_name": "㈱ジョーレン"}))
            .await;
        assert_eq!((s, &c["kind"]), (201, &json!("person")), "[{b}] a kind given is kept: {c}");
    }
}

/// `POST /customers` with an `Idempotency-Key` is applied once: a retry answers the customer
/// created the first time (even though its external id is taken by then — by itself); the same
/// key with another body is a 409; without a key every post is a new customer.
#[tokio::test]
async fn customer_creation_is_idempotent() {
    for b in backends() {
        let t = spawn(b).await;
        let body = json!({"family_name": "再送", "email": "retry@example.jp",
                          "external_ids": [{"system": "pos", "external_id": "R-1"}], "consents": {"email": true}});
        let (s1, first, again1) = t.post_keyed("/api/v1/customers", Some("cust-1"), &body).await;
        assert_eq!((s1, again1), (201, false), "[{b}] {first}");
        let (s2, second, again2) = t.post_keyed("/api/v1/customers", Some("cust-1"), &body).await;
        assert_eq!((s2, again2), (201, true), "[{b}] a retry is answered, not refused: {second}");
        assert_eq!(first["id"], second["id"], "[{b}]");
        let (_, list) = t.get(&t.staff_token, "/api/v1/customers").await;
        assert_eq!(list["total"], 1, "[{b}] one customer");
        let (_, audit) = t.get(&t.owner_token, "/api/v1/audit").await;
        let creates = audit["items"].as_array().unwrap().iter().filter(|e| e["action"] == "customer.create").count();
        assert_eq!(creates, 1, "[{b}] audited once");

        let other = json!({"family_name": "別人", "email": "other@example.jp"});
        let (s3, v, _) = t.post_keyed("/api/v1/customers", Some("cust-1"), &other).await;
        assert_eq!(s3, 409, "[{b}] the key with another body: {v}");
        let (s4, v4, _) = t.post_keyed("/api/v1/customers", None, &other).await;
        let (s5, v5, _) = t.post_keyed("/api/v1/customers", None, &other).await;
        assert_eq!((s4, s5), (201, 201), "[{b}] {v4} {v5}");
        assert_ne!(v4["id"], v5["id"], "[{b}] without a key each post is a customer of its own");
    }
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

#[tokio::test]
async fn accounts_have_contact_persons_and_interactions() {
    for b in backends() {
        let t = spawn(b).await;
        let (status, v) = t.post(&t.staff_token, "/api/v1/customers", &json!({"kind": "account"})).await;
        assert_eq!(status, 422);
        assert_eq!(v["error"]["field"], "company_name");
        let acc =
            t.customer(json!({"kind": "account", "company_name": "株式会社サンプル", "phone": "03-1234-5678"})).await;
        let (status, contact) = t
            .post(&t.staff_token, &format!("/api/v1/customers/{acc}/contacts"), &json!({"family_name": "鈴木", "given_name": "一郎", "department": "購買部", "role": "部長", "email": "suzuki@sample.co.jp"}))
            .await;
        assert_eq!(status, 201, "{contact}");
        assert_eq!(contact["display_name"], "購買部 部長 鈴木 一郎 様");
        let (_, c) = t.get(&t.staff_token, &format!("/api/v1/customers/{acc}")).await;
        assert_eq!(c["display_name"], "株式会社サンプル 御中");
        assert_eq!(c["contacts"][0]["email"], "suzuki@sample.co.jp");

        let cid = contact["id"].as_i64().unwrap();
        let (status, i) = t
            .post(&t.staff_token, &format!("/api/v1/customers/{acc}/interactions"), &json!({"kind": "phone", "direction": "in", "contact_id": cid, "subject": "見積依頼", "body": "業務用1kgを10袋"}))
            .await;
        assert_eq!(status, 201, "{i}");
        assert_eq!(i["staff_name"], "staff");
        let (status, v) = t
            .post(
                &t.staff_token,
                &format!("/api/v1/customers/{acc}/interactions"),
                &json!({"kind": "fax", "subject": "x"}),
            )
            .await;
        assert_eq!(status, 422);
        assert_eq!(v["error"]["field"], "kind");
        let other = t.customer(json!({"family_name": "別人", "email": "other@example.jp"})).await;
        let (status, v) = t
            .post(
                &t.staff_token,
                &format!("/api/v1/customers/{other}/interactions"),
                &json!({"kind": "phone", "contact_id": cid, "subject": "x"}),
            )
            .await;
        assert_eq!(status, 422, "a contact of another customer is rejected: {v}");
        assert_eq!(v["error"]["field"], "contact_id");

        t.post(&t.staff_token, "/api/v1/orders", &order_body(acc, Some("B2B-1"), 1500)).await;
        let (_, tl) = t.get(&t.staff_token, &format!("/api/v1/customers/{acc}/timeline")).await;
        let kinds: Vec<&str> = tl["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds.len(), 2);
        assert!(kinds.contains(&"order") && kinds.contains(&"interaction:phone"), "{kinds:?}");
    }
}

#[tokio::test]
async fn order_creation_is_idempotent() {
    for b in backends() {
        let t = spawn(b).await;
        let cust = t.customer(json!({"family_name": "田中", "email": "tanaka@example.jp"})).await;
        let body = order_body(cust, None, 1400);
        let send = |key: &'static str, body: serde_json::Value| {
            let (client, url, token) = (t.client.clone(), t.url("/api/v1/orders"), t.staff_token.clone());
            async move {
                let r = client
                    .post(url)
                    .bearer_auth(token)
                    .header("Idempotency-Key", key)
                    .json(&body)
                    .send()
                    .await
                    .unwrap();
                let replayed = r.headers().get("idempotent-replayed").is_some();
                (r.status().as_u16(), replayed, r.json::<serde_json::Value>().await.unwrap())
            }
        };
        let (s1, r1, o1) = send("key-1", body.clone()).await;
        assert_eq!((s1, r1), (201, false), "{o1}");
        assert_eq!(o1["total"], 2 * 1400 + 3300);
        assert_eq!(o1["tax"], 2800 * 8 / 108 + 3300 * 10 / 110);
        // The answer describes the order exactly as it is stored.
        let (_, stored) = t.get(&t.staff_token, &format!("/api/v1/orders/{}", o1["id"])).await;
        for (field, value) in stored.as_object().unwrap() {
            assert_eq!(&o1[field], value, "[{b}] the created order's {field} as stored");
        }
        let (s2, r2, o2) = send("key-1", body.clone()).await;
        assert_eq!((s2, r2), (201, true));
        assert_eq!(o1["id"], o2["id"]);
        let (s3, _, e3) = send("key-1", order_body(cust, None, 9999)).await;
        assert_eq!(s3, 409, "same key, different body: {e3}");
        assert_eq!(e3["error"]["code"], "conflict");

        // Concurrent duplicates: many requests with one key at the same time create one order.
        let body2 = order_body(cust, None, 1600);
        let mut set = tokio::task::JoinSet::new();
        for _ in 0..12 {
            set.spawn(send("key-concurrent", body2.clone()));
        }
        let results = set.join_all().await;
        let ids: std::collections::HashSet<i64> = results
            .iter()
            .map(|(s, _, o)| {
                assert_eq!(*s, 201, "[{b}] {o}");
                o["id"].as_i64().unwrap()
            })
            .collect();
        assert_eq!(ids.len(), 1, "[{b}] concurrent retries created {} orders", ids.len());
        assert_eq!(results.iter().filter(|(_, replayed, _)| !replayed).count(), 1);

        // external_id makes a retry without a key idempotent too.
        let ext = order_body(cust, Some("POS-777"), 1400);
        let (a, oa) = t.post(&t.staff_token, "/api/v1/orders", &ext).await;
        let (b2, ob) = t.post(&t.staff_token, "/api/v1/orders", &ext).await;
        assert_eq!((a, b2), (201, 201));
        assert_eq!(oa["id"], ob["id"]);
        let (c, _) = t.post(&t.staff_token, "/api/v1/orders", &order_body(cust, Some("POS-777"), 1)).await;
        assert_eq!(c, 409);

        let (_, list) = t.get(&t.staff_token, &format!("/api/v1/orders?customer_id={cust}")).await;
        assert_eq!(list["total"], 3, "[{b}] exactly three distinct orders: {list}");

        let (status, v) = t.post(&t.staff_token, "/api/v1/orders", &json!({"customer_id": cust, "items": []})).await;
        assert_eq!(status, 422);
        assert_eq!(v["error"]["field"], "items");
        let (status, v) = t.post(&t.staff_token, "/api/v1/orders", &order_body(424242, None, 100)).await;
        assert_eq!(status, 422);
        assert_eq!(v["error"]["field"], "customer_id");
    }
}

#[tokio::test]
async fn refunds_and_cancellations_are_entries_not_edits() {
    for b in backends() {
        let t = spawn(b).await;
        let cust = t.customer(json!({"family_name": "伊藤", "email": "ito@example.jp"})).await;
        let (_, o) = t.post(&t.staff_token, "/api/v1/orders", &order_body(cust, Some("R-1"), 1000)).await;
        let id = o["id"].as_i64().unwrap();
        let (s, r) = t
            .post(&t.staff_token, &format!("/api/v1/orders/{id}/refunds"), &json!({"amount": 1000, "reason": "破損"}))
            .await;
        assert_eq!(s, 201, "{r}");
        assert_eq!(r["status"], "partially_refunded");
        assert_eq!(r["refunded"], 1000);
        assert_eq!(r["total"], 5300, "the order itself is never edited");
        let (s, e) = t.post(&t.staff_token, &format!("/api/v1/orders/{id}/refunds"), &json!({"amount": 5000})).await;
        assert_eq!(s, 422, "over-refund: {e}");
        assert_eq!(e["error"]["field"], "amount");
        let (s, _) = t.post(&t.staff_token, &format!("/api/v1/orders/{id}/cancel"), &json!({})).await;
        assert_eq!(s, 422, "a refunded order cannot be cancelled");
        let (s, r) = t.post(&t.staff_token, &format!("/api/v1/orders/{id}/refunds"), &json!({"reason": "残額"})).await;
        assert_eq!(s, 201);
        assert_eq!(r["status"], "refunded");
        assert_eq!(r["adjustments"].as_array().unwrap().len(), 2);

        let (_, o2) = t.post(&t.staff_token, "/api/v1/orders", &order_body(cust, Some("R-2"), 1000)).await;
        let id2 = o2["id"].as_i64().unwrap();
        let r = t
            .client
            .post(t.url(&format!("/api/v1/orders/{id2}/cancel")))
            .bearer_auth(&t.staff_token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200);
        let (_, c) = t.get(&t.staff_token, &format!("/api/v1/orders/{id2}")).await;
        assert_eq!(c["status"], "cancelled");
        let (s, _) = t.post(&t.staff_token, &format!("/api/v1/orders/{id2}/refunds"), &json!({})).await;
        assert_eq!(s, 422);
        let (_, tl) = t.get(&t.staff_token, &format!("/api/v1/customers/{cust}/timeline")).await;
        let kinds: Vec<&str> = tl["items"].as_array().unwrap().iter().map(|e| e["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds.iter().filter(|k| **k == "refund").count(), 2);
        assert_eq!(kinds.iter().filter(|k| **k == "cancel").count(), 1);
    }
}

#[tokio::test]
async fn merge_moves_everything_to_the_survivor() {
    for b in backends() {
        let t = spawn(b).await;
        let keep = t
            .customer(json!({"family_name": "中村", "given_name": "愛", "email": "ai@example.jp", "tags": ["常連"]}))
            .await;
        let dup = t
            .customer(json!({"family_name": "中村", "given_name": "愛", "phone": "080-3333-4444", "tags": ["ギフト"], "birthday": "1990-04-01",
                              "consents": {"line": true}, "external_ids": [{"system": "ec", "external_id": "EC-9"}]}))
            .await;
        t.post(&t.staff_token, "/api/v1/orders", &order_body(dup, Some("M-1"), 1000)).await;
        t.post(&t.staff_token, "/api/v1/orders", &order_body(keep, Some("M-2"), 1000)).await;
        t.post(
            &t.staff_token,
            &format!("/api/v1/customers/{dup}/interactions"),
            &json!({"kind": "visit", "subject": "来店"}),
        )
        .await;
        t.post(&t.staff_token, &format!("/api/v1/customers/{dup}/contacts"), &json!({"family_name": "中村"})).await;

        let (s, m) =
            t.post(&t.staff_token, &format!("/api/v1/customers/{keep}/merge"), &json!({"merge_id": dup})).await;
        assert_eq!(s, 200, "{m}");
        assert_eq!(m["orders_moved"], 1);
        assert_eq!(m["interactions_moved"], 1);
        assert_eq!(m["contacts_moved"], 1);

        let (_, survivor) = t.get(&t.staff_token, &format!("/api/v1/customers/{keep}")).await;
        assert_eq!(survivor["email"], "ai@example.jp");
        assert_eq!(survivor["phone"], "+818033334444", "empty fields are filled from the duplicate");
        assert_eq!(survivor["birthday"], "1990-04-01");
        assert_eq!(survivor["tags"], json!(["ギフト", "常連"]));
        assert_eq!(survivor["external_ids"][0]["external_id"], "EC-9");
        assert_eq!(survivor["consents"][0]["channel"], "line");
        assert_eq!(survivor["contacts"].as_array().unwrap().len(), 1);
        let (_, orders) = t.get(&t.staff_token, &format!("/api/v1/orders?customer_id={keep}")).await;
        assert_eq!(orders["total"], 2);
        let (_, tl) = t.get(&t.staff_token, &format!("/api/v1/customers/{keep}/timeline")).await;
        assert_eq!(tl["items"].as_array().unwrap().len(), 3);

        let (_, gone) = t.get(&t.staff_token, &format!("/api/v1/customers/{dup}")).await;
        assert_eq!(gone["merged_into"], keep);
        let (_, search) = t.get(&t.staff_token, "/api/v1/customers?q=%E4%B8%AD%E6%9D%91").await;
        assert_eq!(search["total"], 1, "the merged record no longer shows in search");
        let (s, _) =
            t.post(&t.staff_token, &format!("/api/v1/customers/{keep}/merge"), &json!({"merge_id": dup})).await;
        assert_eq!(s, 409, "merging twice is refused");
        let (s, _) = t.post(&t.staff_token, "/api/v1/orders", &order_body(dup, None, 100)).await;
        assert_eq!(s, 422, "no new orders on a merged-away record");
        let (s, _) =
            t.post(&t.staff_token, &format!("/api/v1/customers/{keep}/merge"), &json!({"merge_id": keep})).await;
        assert_eq!(s, 409);
    }
}

#[tokio::test]
async fn roles_and_authentication_are_enforced() {
    for b in backends() {
        let t = spawn(b).await;
        let r = t.client.get(t.url("/api/v1/customers")).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 401);
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "unauthorized");
        let (s, _) = t.get("jrn_not-a-real-token", "/api/v1/customers").await;
        assert_eq!(s, 401);

        let (s, v) = t.post(&t.viewer_token, "/api/v1/customers", &json!({"family_name": "閲覧"})).await;
        assert_eq!(s, 403, "viewer cannot write: {v}");
        let (s, _) = t.get(&t.viewer_token, "/api/v1/customers").await;
        assert_eq!(s, 200, "viewer can read");
        let cust = t.customer(json!({"family_name": "木村", "email": "kimura@example.jp"})).await;
        let (s, _) = t.post(&t.viewer_token, "/api/v1/orders", &order_body(cust, None, 100)).await;
        assert_eq!(s, 403);

        let new_user = json!({"username": "newbie", "role": "staff", "password": "long-enough-pw"});
        let (s, _) = t.post(&t.staff_token, "/api/v1/users", &new_user).await;
        assert_eq!(s, 403, "staff cannot manage users");
        let (s, _) = t.get(&t.staff_token, "/api/v1/users").await;
        assert_eq!(s, 403);
        let (s, v) = t.post(&t.owner_token, "/api/v1/users", &new_user).await;
        assert_eq!(s, 201, "{v}");
        let (s, _) = t.post(&t.owner_token, "/api/v1/users", &new_user).await;
        assert_eq!(s, 409, "duplicate username");
        let (s, v) = t
            .post(&t.owner_token, "/api/v1/users", &json!({"username": "x", "role": "staff", "password": "short"}))
            .await;
        assert_eq!(s, 422);
        assert_eq!(v["error"]["field"], "password");
        let (_, users) = t.get(&t.owner_token, "/api/v1/users").await;
        assert_eq!(users["items"].as_array().unwrap().len(), 4);
        assert!(users["items"][0].get("password_hash").is_none(), "hashes never leave the server");
    }
}

#[tokio::test]
async fn session_writes_need_the_csrf_token() {
    for b in backends() {
        let t = spawn(b).await;
        let cookie = t.login_cookie("staff").await;
        let r = t.client.get(t.url("/api/v1/customers")).header("cookie", &cookie).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200, "a session can read the API");
        let r = t
            .client
            .post(t.url("/api/v1/customers"))
            .header("cookie", &cookie)
            .json(&json!({"family_name": "偽"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403, "[{b}] cookie without CSRF token is rejected");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["error"]["code"], "csrf");
        let r = t
            .client
            .post(t.url("/api/v1/customers"))
            .header("cookie", &cookie)
            .header("x-csrf-token", "0".repeat(64))
            .json(&json!({"family_name": "偽"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403, "wrong CSRF token is rejected");

        let cust = t.customer(json!({"family_name": "森", "email": "mori@example.jp"})).await;
        let page = t
            .client
            .get(t.url(&format!("/customers/{cust}")))
            .header("cookie", &cookie)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let csrf = page.split("name=\"csrf\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let form = |csrf: &str| {
            vec![
                ("csrf", csrf.to_string()),
                ("kind", "phone".into()),
                ("direction", "out".into()),
                ("subject", "お礼".into()),
                ("body", "".into()),
            ]
        };
        let r = t
            .client
            .post(t.url(&format!("/customers/{cust}/interactions")))
            .header("cookie", &cookie)
            .form(&form("bad"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403, "web form without the right token is rejected");
        let r = t
            .client
            .post(t.url(&format!("/customers/{cust}/interactions")))
            .header("cookie", &cookie)
            .form(&form(&csrf))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 303);
        let (_, list) = t.get(&t.staff_token, &format!("/api/v1/customers/{cust}/interactions")).await;
        assert_eq!(
            list["items"].as_array().unwrap().len(),
            1,
            "exactly the one form post with a valid token was recorded"
        );

        let r = t
            .client
            .post(t.url("/api/v1/customers"))
            .header("cookie", &cookie)
            .header("x-csrf-token", &csrf)
            .json(&json!({"family_name": "本物"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 201);

        let r = t.post_login("staff", "wrong-password").await;
        assert_eq!(r.status().as_u16(), 303);
        assert!(r.headers().get("location").unwrap().to_str().unwrap().starts_with("/login?error=1"));
        assert!(r.headers().get("set-cookie").is_none());
    }
}

#[tokio::test]
async fn health_and_openapi_are_served() {
    let t = spawn("sqlite").await;
    let r = t.client.get(t.url("/healthz")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let doc: serde_json::Value =
        t.client.get(t.url("/api/v1/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert_eq!(doc["openapi"], "3.1.0");
    // Every route of the API is documented with each of its methods (read from the router's
    // sources, so a route is covered the day it is added).
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/src/api");
    let mut sources = vec![include_str!("../src/api.rs").to_string()];
    for entry in std::fs::read_dir(dir).unwrap() {
        sources.push(std::fs::read_to_string(entry.unwrap().path()).unwrap());
    }
    let mut checked = 0;
    for part in sources.iter().flat_map(|s| s.split(".route(\"").skip(1)) {
        let route = part.split('"').next().unwrap();
        if route == "/openapi.json" {
            continue;
        }
        let handlers = part.split(".route(").next().unwrap().split(".merge(").next().unwrap();
        for method in ["get", "post", "put", "patch", "delete"] {
            if handlers.contains(&format!("{method}(")) {
                assert!(doc["paths"][route].get(method).is_some(), "{method} {route} is not in openapi.json");
                checked += 1;
            }
        }
    }
    assert!(checked > 100, "the routes were found: {checked}");
    // Every success answer says what it holds (204 aside); the harness checks each answer a
    // test gets against it (tests/common/openapi.rs).
    let mut undescribed = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            for (status, response) in op["responses"].as_object().into_iter().flatten() {
                if status.starts_with('2') && status != "204" && response.get("content").is_none() {
                    undescribed.push(format!("{method} {path} {status}"));
                }
            }
        }
    }
    assert!(undescribed.is_empty(), "success answers without a schema: {undescribed:?}");
    // The postal-code table answers the way the customer form uses it.
    let (status, v) = t.get(&t.staff_token, "/api/v1/postal-codes/%E3%80%92104-0061").await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(
        v["items"],
        serde_json::json!([{"postal_code": "104-0061", "prefecture": "東京都", "city": "中央区", "town": "銀座"}])
    );
    let (_, v) = t.get(&t.staff_token, "/api/v1/postal-codes/000-0000").await;
    assert_eq!(v["items"], serde_json::json!([]), "an unknown code gives nothing");
    for path in [
        "/customers",
        "/customers/{id}/merge",
        "/customers/{id}/metrics",
        "/metrics/snapshot",
        "/orders",
        "/orders/{id}/refunds",
        "/import/{kind}",
        "/export/{kind}",
        "/settings/points",
        "/customers/{id}/points",
        "/customers/{id}/points/grants",
        "/customers/{id}/points/survey-bonus",
        "/points/redemptions",
        "/points/redemptions/{id}/confirm",
        "/points/redemptions/{id}/cancel",
        "/points/report",
        "/customers/{id}/rank",
        "/ranks/evaluate",
        "/ranks/report",
        "/ranks/changes",
        "/ticket-plans",
        "/customers/{id}/tickets",
        "/tickets/{id}/uses",
        "/tickets/{id}/refund",
        "/tickets/outstanding",
        "/membership-plans",
        "/customers/{id}/memberships",
        "/memberships/{id}/changes",
        "/memberships/report",
        "/perks",
        "/perks/{id}/check",
        "/customers/{id}/perks",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} undocumented");
    }
    let params = doc["paths"]["/orders"]["post"]["parameters"].as_array().unwrap();
    assert!(params.iter().any(|p| p["name"] == "Idempotency-Key"));
}

/// The timeline API pages: pages of 3 put together are the whole timeline, newest first, each
/// entry once, and the last page says there is no next one.
#[tokio::test]
async fn the_timeline_pages() {
    for b in backends() {
        let t = spawn(b).await;
        let c = t.customer(json!({"family_name": "頁", "phone": "090-8000-0001"})).await;
        for i in 0..4 {
            let mut body = order_body(c, Some(&format!("TL-{i}")), 1000 + i);
            body["ordered_at"] = json!((chrono::Utc::now() - chrono::Duration::days(40 - i)).to_rfc3339());
            let (s, _) = t.post(&t.staff_token, "/api/v1/orders", &body).await;
            assert_eq!(s, 201);
            let note = json!({"kind": "phone", "subject": format!("電話 {i}")});
            let (s, _) = t.post(&t.staff_token, &format!("/api/v1/customers/{c}/interactions"), &note).await;
            assert_eq!(s, 201);
        }
        let (_, all) = t.get(&t.staff_token, &format!("/api/v1/customers/{c}/timeline")).await;
        let all = all["items"].as_array().unwrap().clone();
        assert_eq!(all.len(), 8, "[{b}]");
        let mut paged = Vec::new();
        let mut offset = Some(0);
        while let Some(o) = offset {
            let (s, page) = t.get(&t.staff_token, &format!("/api/v1/customers/{c}/timeline?limit=3&offset={o}")).await;
            assert_eq!(s, 200, "[{b}] {page}");
            assert!(page["items"].as_array().unwrap().len() <= 3);
            paged.extend(page["items"].as_array().unwrap().clone());
            offset = page["next_offset"].as_i64();
        }
        assert_eq!(paged, all, "[{b}] the pages are the timeline");
    }
}

/// The answers other tests seldom reach, each checked against openapi.json by the harness
/// (tests/common/openapi.rs), so every documented response schema meets a real answer.
#[tokio::test]
async fn seldom_used_answers_match_the_document() {
    for b in backends() {
        let t = spawn(b).await;
        let put = |token: &str, path: String, body: serde_json::Value| {
            let (t, token) = (&t, token.to_string());
            async move { t.send(reqwest::Method::PUT, &token, &path, &body).await }
        };
        let account = t.customer(serde_json::json!({"kind": "account", "company_name": "株式会社文書"})).await;
        let contact = serde_json::json!({"family_name": "記載", "email": "doc@example.jp"});
        let (s, _) = t.post(&t.staff_token, &format!("/api/v1/customers/{account}/contacts"), &contact).await;
        assert_eq!(s, 201, "[{b}]");
        let (s, v) = t.get(&t.staff_token, &format!("/api/v1/customers/{account}/contacts")).await;
        assert_eq!((s, v["items"].as_array().map(Vec::len)), (200, Some(1)), "[{b}] {v}");

        let plan = serde_json::json!({"name": "5回券", "visits": 5, "price": 5000, "valid_months": 3});
        let (_, p) = t.post(&t.owner_token, "/api/v1/ticket-plans", &plan).await;
        let (s, _) = put(&t.owner_token, format!("/api/v1/ticket-plans/{}", p["id"]), plan.clone()).await;
        assert_eq!(s, 200, "[{b}]");
        let (s, _, _) = t
            .post_keyed(
                &format!("/api/v1/customers/{account}/tickets"),
                Some("doc"),
                &serde_json::json!({"plan_id": p["id"]}),
            )
            .await;
        assert_eq!(s, 201, "[{b}]");
        let (s, v) = t.get(&t.staff_token, &format!("/api/v1/customers/{account}/tickets")).await;
        assert_eq!((s, v["items"].as_array().map(Vec::len)), (200, Some(1)), "[{b}]");

        let mplan = serde_json::json!({"name": "月額", "price": 3000, "period_months": 1});
        let (_, m) = t.post(&t.owner_token, "/api/v1/membership-plans", &mplan).await;
        let (s, _) = put(&t.owner_token, format!("/api/v1/membership-plans/{}", m["id"]), mplan).await;
        assert_eq!(s, 200, "[{b}]");
        let (s, v) = t.get(&t.staff_token, "/api/v1/membership-plans").await;
        assert_eq!((s, v["items"].as_array().map(Vec::len)), (200, Some(1)), "[{b}]");

        let perk = serde_json::json!({"name": "先行", "kind": "priority_booking", "membership_plan_id": m["id"]});
        let (s, _) = t.post(&t.owner_token, "/api/v1/perks", &perk).await;
        assert_eq!(s, 201, "[{b}]");
        let (s, v) = t.get(&t.staff_token, "/api/v1/perks").await;
        assert_eq!((s, v["items"].as_array().map(Vec::len)), (200, Some(1)), "[{b}]");

        let def = serde_json::json!({"trigger": {"kind": "manual"}, "steps": [{"type": "task", "task": "call", "title": "お電話"}]});
        let (s, sc) =
            t.post(&t.staff_token, "/api/v1/scenarios", &serde_json::json!({"name": "文書", "definition": def})).await;
        assert_eq!(s, 201, "[{b}] {sc}");
        let (s, v) = t.get(&t.staff_token, "/api/v1/scenarios").await;
        assert_eq!((s, v["items"].as_array().map(Vec::len)), (200, Some(1)), "[{b}]");
        t.post(&t.staff_token, &format!("/api/v1/scenarios/{}/activate", sc["id"]), &serde_json::json!({})).await;
        let (s, v) = t
            .post(
                &t.staff_token,
                &format!("/api/v1/scenarios/{}/enrol", sc["id"]),
                &serde_json::json!({"customer_id": account}),
            )
            .await;
        assert_eq!(s, 200, "[{b}] {v}");
        t.app.advance_due_runs().await.unwrap();
        let (s, v) =
            t.post(&t.staff_token, &format!("/api/v1/scenarios/{}/pause", sc["id"]), &serde_json::json!({})).await;
        assert_eq!((s, v["status"].as_str()), (200, Some("paused")), "[{b}] {v}");
        let (_, tasks) = t.get(&t.staff_token, "/api/v1/tasks").await;
        let task = tasks["items"][0]["id"].as_i64().unwrap_or_default();
        let (s, v) = t.get(&t.staff_token, &format!("/api/v1/tasks/{task}")).await;
        assert_eq!(s, 200, "[{b}] {v} {tasks}");

        let preview = serde_json::json!({"subject": "{{ name }}へ", "body": "こんにちは"});
        let (s, v) = t.post(&t.staff_token, "/api/v1/templates/preview", &preview).await;
        assert_eq!(s, 200, "[{b}] {v}");
        let template = serde_json::json!({"name": "文書テンプレート", "subject": "お知らせ", "body": "本文"});
        let (s, v) = t.post(&t.staff_token, "/api/v1/message-templates", &template).await;
        assert_eq!(s, 201, "[{b}] {v}");
        let (s, _) = t.get(&t.staff_token, &format!("/api/v1/message-templates/{}", v["id"])).await;
        assert_eq!(s, 200, "[{b}]");
    }
}
