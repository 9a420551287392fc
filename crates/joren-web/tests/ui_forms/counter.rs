//! The counter screen (レジ・来店) and its API on both backends: the product list (owners), the
//! customer found by phone, kana or member number, the card, and a sale with items, points and
//! a 回数券 visit applied once however often it is sent — at the same moment too.

use serde_json::{Value, json};

use super::common::{Session, TestApp, backends, spawn};

async fn product(t: &TestApp, body: Value) -> i64 {
    let (s, v) = t.post(&t.owner_token, "/api/v1/products", &body).await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_i64().unwrap()
}

/// A customer with 500 points and a three-visit 回数券: (customer, ticket).
async fn regular(t: &TestApp, phone: &str) -> (i64, i64) {
    let c = t
        .customer(json!({"family_name": "小林", "given_name": "結衣", "family_name_kana": "コバヤシ",
                         "given_name_kana": "ユイ", "phone": phone}))
        .await;
    let (s, v) = t
        .post(
            &t.staff_token,
            &format!("/api/v1/customers/{c}/points/grants"),
            &json!({"points": 500, "reason": "開店記念"}),
        )
        .await;
    assert_eq!(s, 201, "{v}");
    let (s, plan) = t
        .post(
            &t.owner_token,
            "/api/v1/ticket-plans",
            &json!({"name": "3回券", "visits": 3, "price": 9000, "valid_months": 6}),
        )
        .await;
    assert_eq!(s, 201, "{plan}");
    let (s, sold, _) = t
        .post_keyed(
            &format!("/api/v1/customers/{c}/tickets"),
            Some(&format!("sell-{c}")),
            &json!({"plan_id": plan["id"]}),
        )
        .await;
    assert_eq!(s, 201, "{sold}");
    (c, sold["id"].as_i64().unwrap())
}

/// The customer's orders, points available and the ticket's visits left, as the API reads them.
async fn state(t: &TestApp, c: i64, ticket: i64) -> (i64, i64, i64) {
    let (_, orders) = t.get(&t.staff_token, &format!("/api/v1/orders?customer_id={c}")).await;
    let (_, points) = t.get(&t.staff_token, &format!("/api/v1/customers/{c}/points")).await;
    let (_, tk) = t.get(&t.staff_token, &format!("/api/v1/tickets/{ticket}")).await;
    (
        orders["total"].as_i64().unwrap(),
        points["free"]["available"].as_i64().unwrap(),
        tk["remaining"].as_i64().unwrap(),
    )
}

async fn sale(t: &TestApp, key: Option<&str>, body: &Value) -> (u16, Value, bool) {
    t.post_keyed("/api/v1/counter/sales", key, body).await
}

#[tokio::test]
async fn a_counter_sale_with_points_and_a_ticket_visit_is_applied_once() {
    for b in backends() {
        let t = spawn(b).await;
        // The product list: owners only, every bad field at once, one SKU per product.
        let coffee =
            json!({"sku": "BEAN-200", "name": "ブレンド豆 200g", "category": "豆", "unit_price": 1620, "tax_rate": 8});
        let (s, _) = t.post(&t.staff_token, "/api/v1/products", &coffee).await;
        assert_eq!(s, 403, "[{b}] the product list is the owner's");
        let (s, v) =
            t.post(&t.owner_token, "/api/v1/products", &json!({"name": "", "unit_price": -1, "tax_rate": 5})).await;
        let fields: Vec<&str> =
            v["error"]["details"].as_array().unwrap().iter().map(|e| e["field"].as_str().unwrap()).collect();
        assert_eq!((s, fields), (422, vec!["name", "unit_price", "tax_rate"]), "[{b}] {v}");
        let beans = product(&t, coffee.clone()).await;
        let (s, v) = t.post(&t.owner_token, "/api/v1/products", &coffee).await;
        assert_eq!(
            (s, &v["error"]["field"], &v["error"]["details"][0]["code"]),
            (422, &json!("sku"), &json!("sku_taken")),
            "[{b}] {v}"
        );
        let mug = product(&t, json!({"name": "マグカップ", "unit_price": 2200})).await;
        let old = product(&t, json!({"name": "旧ブレンド", "unit_price": 1000, "active": false})).await;
        let (_, on_sale) = t.get(&t.staff_token, "/api/v1/products?on_sale=true").await;
        assert_eq!(on_sale["items"].as_array().unwrap().len(), 2, "[{b}] {on_sale}");

        let (c, ticket) = regular(&t, "090-3333-4444").await;
        // Found by phone digits, by kana (hiragana typed), by member number.
        for q in ["09033334444", "こばやし", &c.to_string()] {
            let (_, found) = t.get(&t.staff_token, &format!("/api/v1/counter/customers?q={}", urlencode(q))).await;
            assert_eq!(found["items"][0]["id"], json!(c), "[{b}] {q}: {found}");
        }
        // Digits that start with 0 are a phone number, not member number `c`.
        let phone_like = format!("0{c}");
        if !"09033334444".contains(&phone_like) {
            let (_, found) = t.get(&t.staff_token, &format!("/api/v1/counter/customers?q={phone_like}")).await;
            assert!(found["items"].as_array().unwrap().iter().all(|x| x["id"] != json!(c)), "[{b}] {found}");
        }
        let (_, card) = t.get(&t.staff_token, &format!("/api/v1/counter/customers/{c}")).await;
        assert_eq!(
            (&card["points_available"], &card["tickets"][0]["id"]),
            (&json!(500), &json!(ticket)),
            "[{b}] {card}"
        );

        let body = json!({"customer_id": c, "items": [{"product_id": beans, "quantity": 2}, {"product_id": mug}],
                          "points": 300, "ticket_id": ticket, "note": "ギフト包装"});
        let (s, v, _) = sale(&t, None, &body).await;
        assert_eq!((s, &v["error"]["field"]), (400, &json!("Idempotency-Key")), "[{b}] a sale needs its key");

        // The same sale sent twice at the same moment (a double tap): one order, one use of
        // points, one visit.
        let (first, second) = tokio::join!(sale(&t, Some("till-1"), &body), sale(&t, Some("till-1"), &body));
        for (s, v, _) in [&first, &second] {
            assert_eq!(*s, 201, "[{b}] {v}");
            assert_eq!(v["order"]["id"], first.1["order"]["id"], "[{b}] the same order");
        }
        assert!(first.2 || second.2, "[{b}] one of them is a replay");
        let v = &first.1;
        assert_eq!(v["order"]["total"], json!(1620 * 2 + 2200), "[{b}] {v}");
        assert_eq!(v["order"]["channel"], json!("store"));
        assert_eq!(v["order"]["note"], json!("ギフト包装"));
        assert_eq!((&v["to_pay"], &v["points_used"]["points"]), (&json!(5440 - 300), &json!(300)), "[{b}] {v}");
        assert_eq!(v["points_used"]["status"], json!("confirmed"));
        assert_eq!(v["points_used"]["order_id"], v["order"]["id"], "[{b}] the points paid for this order");
        assert_eq!(v["ticket"]["remaining"], json!(2));
        let earned = v["points_earned"].as_i64().unwrap();
        assert!(earned > 0, "[{b}] the sale earns points: {v}");
        let (orders, _, left) = state(&t, c, ticket).await;
        assert_eq!((orders, left), (1, 2), "[{b}] applied once");
        let (_, points) = t.get(&t.staff_token, &format!("/api/v1/customers/{c}/points")).await;
        assert_eq!(
            points["free"]["available"].as_i64().unwrap() + points["free"]["pending"].as_i64().unwrap(),
            500 - 300 + earned
        );
        // A later retry replays; the same key with another sale is refused.
        let (s, again, replayed) = sale(&t, Some("till-1"), &body).await;
        assert_eq!((s, replayed, &again["order"]["id"]), (201, true, &v["order"]["id"]), "[{b}] {again}");
        let (s, _, _) = sale(&t, Some("till-1"), &json!({"customer_id": c, "amount": 100})).await;
        assert_eq!(s, 409, "[{b}] the key belongs to the first sale");

        let (_, receipt_state) = t.get(&t.staff_token, &format!("/api/v1/customers/{c}/timeline")).await;
        assert!(receipt_state.to_string().contains("ギフト包装"), "[{b}] the sale is on the timeline");

        // Refused sales change nothing.
        let (available_before, before) = (state(&t, c, ticket).await.1, state(&t, c, ticket).await);
        let refused = [
            (json!({"customer_id": c, "amount": 100, "points": 101}), "points", "points_over_total"),
            (json!({"customer_id": c, "amount": 100000, "points": 99999}), "points", "not_enough_points"),
            (json!({"customer_id": c, "items": [{"product_id": old}]}), "items[0].product_id", "plan_closed"),
            (json!({"customer_id": c, "items": [{"product_id": 999_999}]}), "items[0].product_id", "no_such_product"),
            (json!({"customer_id": c, "items": [{"product_id": mug, "quantity": 0}]}), "items[0].quantity", "range"),
            (json!({"customer_id": c}), "items", "need_items"),
            (json!({"customer_id": c, "items": [{"product_id": mug}], "amount": 500}), "amount", "items_or_amount"),
        ];
        for (n, (body, field, code)) in refused.iter().enumerate() {
            let (s, v, _) = sale(&t, Some(&format!("bad-{n}")), body).await;
            assert_eq!(s, 422, "[{b}] {body}: {v}");
            let e = v["error"]["details"].as_array().unwrap().iter().find(|e| e["field"] == json!(field));
            assert_eq!(e.map(|e| &e["code"]), Some(&json!(code)), "[{b}] {body}: {v}");
        }
        assert_eq!(state(&t, c, ticket).await, before, "[{b}] nothing recorded by a refused sale");
        assert_eq!(available_before, before.1);

        // An amount without a product list; a visit that only takes a ticket visit.
        let (s, v, _) = sale(&t, Some("till-2"), &json!({"customer_id": c, "amount": 3300})).await;
        assert_eq!(
            (s, &v["order"]["total"], &v["order"]["items"][0]["quantity"]),
            (201, &json!(3300), &json!(1)),
            "[{b}] {v}"
        );
        let (s, v, _) = sale(&t, Some("till-3"), &json!({"customer_id": c, "ticket_id": ticket})).await;
        assert_eq!((s, &v["order"], &v["ticket"]["remaining"]), (201, &Value::Null, &json!(1)), "[{b}] {v}");
        let (s, v, _) = sale(&t, Some("till-4"), &json!({"customer_id": c, "ticket_id": ticket})).await;
        assert_eq!(s, 201, "{v}");
        let (s, v, _) = sale(&t, Some("till-5"), &json!({"customer_id": c, "ticket_id": ticket})).await;
        assert_eq!((s, &v["error"]["details"][0]["code"]), (422, &json!("ticket_used_up")), "[{b}] {v}");
        let other = t.customer(json!({"family_name": "別人", "phone": "090-3333-5555"})).await;
        let (s, _, _) = sale(&t, Some("till-6"), &json!({"customer_id": other, "ticket_id": ticket})).await;
        assert_eq!(s, 404, "[{b}] another customer's ticket");
    }
}

fn urlencode(s: &str) -> String {
    s.bytes().map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") }).collect()
}

/// The pages: the search goes straight to the one customer found, the card and the sale form
/// with numbers typed the Japanese way, the receipt after the sale, a resent form applied
/// once, a refused form kept as typed with the errors beside their fields; the product list
/// kept by the owner.
#[tokio::test]
async fn the_counter_pages_ring_up_a_sale_once_and_keep_a_refused_form() {
    for b in backends() {
        let t = spawn(b).await;
        let owner = Session { t: &t, cookie: t.login_cookie("owner").await };
        let (status, _, html) =
            owner.post("/products", &[("name", "ブレンド豆"), ("unit_price", "千円"), ("tax_rate", "8")]).await;
        assert_eq!(status, 422, "[{b}] {html}");
        assert!(html.contains("value=\"ブレンド豆\"") && html.contains("value=\"千円\""), "[{b}] kept as typed");
        assert!(html.contains("class=\"field-error\""), "[{b}] the error beside the price");
        let (status, location, _) = owner
            .post(
                "/products",
                &[("name", "ブレンド豆"), ("unit_price", "￥１，６２０"), ("tax_rate", "8"), ("active", "1")],
            )
            .await;
        assert_eq!((status, location.as_str()), (303, "/products"), "[{b}] full-width price read");
        let (_, v) = t.get(&t.staff_token, "/api/v1/products").await;
        assert_eq!((&v["items"][0]["unit_price"], &v["items"][0]["tax_rate"]), (&json!(1620), &json!(8)), "[{b}] {v}");
        let beans = v["items"][0]["id"].as_i64().unwrap();

        let (c, ticket) = regular(&t, "080-1212-3434").await;
        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let r = t.client.get(t.url("/counter?q=080-1212-3434")).header("cookie", &staff.cookie).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 303, "[{b}] one match: straight to the customer");
        assert_eq!(r.headers()["location"], format!("/counter/{c}").as_str());
        let (_, html) = staff.page("/counter?q=誰もいない").await;
        assert!(html.contains("id=\"counter-none\""), "[{b}] nobody found, said so");
        let (_, html) = staff.page(&format!("/counter/{c}")).await;
        assert!(html.contains("id=\"card-points\">500 pt<"), "[{b}] points at a glance");
        assert!(html.contains("3回券") && html.contains("残り 3 回"), "[{b}] the ticket and its visits");
        let key = html.split("name=\"key\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();

        // Refused: an unreadable quantity and too many points; everything comes back as typed.
        let qty = format!("qty_{beans}");
        let (status, _, html) = staff
            .post(
                &format!("/counter/{c}/sale"),
                &[(&qty, "二つ"), ("points", "９９９"), ("note", "袋不要"), ("key", &key)],
            )
            .await;
        assert_eq!(status, 422, "[{b}]");
        assert!(
            html.contains("value=\"二つ\"") && html.contains("value=\"９９９\"") && html.contains(">袋不要<"),
            "[{b}] kept"
        );
        assert!(html.contains(&format!("name=\"key\" value=\"{key}\"")), "[{b}] a refused sale keeps its key");
        let (status, _, html) = staff
            .post(
                &format!("/counter/{c}/sale"),
                &[(&qty, "2"), ("points", "９９９"), ("note", "袋不要"), ("key", &key)],
            )
            .await;
        assert_eq!(status, 422, "[{b}]");
        let beside_points = html.split("id=\"sale-points\">").nth(1).unwrap().split("</label>").next().unwrap();
        assert!(
            beside_points.contains("field-error") && beside_points.contains("500"),
            "[{b}] only 500 pt: {beside_points}"
        );
        assert_eq!(state(&t, c, ticket).await, (0, 500, 3), "[{b}] nothing recorded");

        // The sale, with full-width numbers, sent twice (a double tap): once.
        let form = [
            (qty.as_str(), "２"),
            ("points", "３００"),
            ("ticket_id", &ticket.to_string()),
            ("note", "袋不要"),
            ("key", &format!("{key}-ok")),
        ];
        let (status, location, _) = staff.post(&format!("/counter/{c}/sale"), &form).await;
        assert_eq!(status, 303, "[{b}]");
        assert!(
            location.starts_with(&format!("/counter/{c}?order=")) && location.contains("&ticket="),
            "[{b}] {location}"
        );
        let (status, again, _) = staff.post(&format!("/counter/{c}/sale"), &form).await;
        assert_eq!((status, &again), (303, &location), "[{b}] the resent form answers the same sale");
        let (orders, _, left) = state(&t, c, ticket).await;
        assert_eq!((orders, left), (1, 2), "[{b}] one order, one visit");
        let (_, html) = staff.page(&location).await;
        assert!(html.contains("id=\"receipt-total\">¥3,240<"), "[{b}] {html}");
        assert!(
            html.contains("id=\"receipt-points\">−300 pt<") && html.contains("id=\"receipt-pay\">¥2,940<"),
            "[{b}]"
        );
        assert!(html.contains("3回券: 残り 2 回"), "[{b}] the ticket after the visit");
        // The receipt line on the customer's timeline, and the counter's "last time".
        let (_, html) = staff.page(&format!("/customers/{c}")).await;
        assert!(html.contains("店舗 · 完了") && html.contains("ブレンド豆 · 300 pt 利用 · 袋不要"), "[{b}] {html}");
        assert!(html.contains("3回券 1/3回目"), "[{b}] the visit on the timeline");
        assert!(!html.contains("store / completed"), "[{b}] no codes");
        let en = Session { t: &t, cookie: format!("{}; joren_lang=en", staff.cookie) };
        let (_, html) = en.page(&format!("/customers/{c}")).await;
        assert!(html.contains("In store · completed") && html.contains("300 pt used"), "[{b}] in English");
        assert!(html.contains("3回券: visit 1 of 3"), "[{b}]");
        let (_, html) = staff.page(&format!("/counter/{c}")).await;
        let last = html.split("id=\"card-last\">").nth(1).unwrap().split("</dd>").next().unwrap();
        assert!(last.contains("3回券 1/3回目") || last.contains("店舗 · 完了"), "[{b}] last time: {last}");
    }
}

/// The member card: the shop's name, the customer's name and member number with its QR code,
/// linked from the customer page; the number it carries finds the customer at the counter.
#[tokio::test]
async fn the_member_card_carries_the_number_the_counter_finds() {
    for b in backends() {
        let t = spawn(b).await;
        let c = t.customer(json!({"family_name": "会員", "given_name": "証子", "phone": "090-7100-0001"})).await;
        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (_, html) = staff.page(&format!("/customers/{c}")).await;
        assert!(html.contains(&format!("href=\"/customers/{c}/card\"")), "[{b}] the customer page links the card");
        let (status, html) = staff.page(&format!("/customers/{c}/card")).await;
        assert_eq!(status, 200, "[{b}]");
        assert!(html.contains(&format!("id=\"card-number\">{c}<")) && html.contains("会員 証子 様"), "[{b}]");
        let qr = html.split("id=\"card-qr\">").nth(1).unwrap();
        assert!(qr.contains("<svg") && qr.contains(" d=\"M"), "[{b}] a drawn QR code");
        let (_, html) = staff.page("/counter").await;
        assert!(html.contains("data-scan-into=\"counter-q\""), "[{b}] the camera reader where the browser has one");
        // What a scanner types (the number) opens the customer at the counter.
        let r = t.client.get(t.url(&format!("/counter?q={c}"))).header("cookie", &staff.cookie).send().await.unwrap();
        assert_eq!(r.headers()["location"].to_str().unwrap(), format!("/counter/{c}"), "[{b}]");
        let (status, _) = staff.page("/customers/999999/card").await;
        assert_eq!(status, 404, "[{b}]");
    }
}

/// Four tills sending the same sale at the same moment, ten times over: every answer is the
/// one sale (never a 500 or a 409), and it happened once — one order, one use of points, one
/// visit. On PostgreSQL this met a deadlock between the simultaneous transactions and a
/// redemption already confirmed by the first; both are retried or recognised now.
#[tokio::test]
async fn the_same_sale_from_four_tills_at_once_is_one_sale() {
    for b in backends() {
        let t = spawn(b).await;
        let beans = product(&t, json!({"name": "豆", "unit_price": 1620, "tax_rate": 8, "sku": "B1"})).await;
        let mug = product(&t, json!({"name": "マグ", "unit_price": 2200, "tax_rate": 10, "sku": "M1"})).await;
        for round in 0..10 {
            let (c, ticket) = regular(&t, &format!("090-5{round:03}-0001")).await;
            let body = json!({"customer_id": c, "items": [{"product_id": beans, "quantity": 2}, {"product_id": mug}],
                              "points": 300, "ticket_id": ticket});
            let key = format!("till-{round}");
            let (a, b2, c2, d) = tokio::join!(
                sale(&t, Some(&key), &body),
                sale(&t, Some(&key), &body),
                sale(&t, Some(&key), &body),
                sale(&t, Some(&key), &body)
            );
            for (s, v, _) in [&a, &b2, &c2, &d] {
                assert_eq!(*s, 201, "[{b}] round {round}: {v}");
                assert_eq!(v["order"]["id"], a.1["order"]["id"], "[{b}] round {round}: the same order");
            }
            let (orders, points, visits) = state(&t, c, ticket).await;
            assert_eq!((orders, points, visits), (1, 200, 2), "[{b}] round {round}: once");
        }
    }
}
