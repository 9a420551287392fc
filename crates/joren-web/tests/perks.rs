//! Member-only perks through the API on SQLite and PostgreSQL: a perk opens to any of its gates
//! (rank at or above a tier, an active membership, a saved segment); the answer names the gate
//! that opened it or the ones missed; gates must name things that exist.

mod common;

use common::{backends, spawn};
use serde_json::{Value, json};

#[tokio::test]
async fn perks_open_to_rank_membership_or_segment() {
    for b in backends() {
        let t = spawn(b).await;
        let (_, mut p) = t.get(&t.owner_token, "/api/v1/settings/points").await;
        p["ranks"]["enabled"] = json!(true);
        let (s, v) = t.send(reqwest::Method::PUT, &t.owner_token, "/api/v1/settings/points", &p).await;
        assert_eq!(s, 200, "{v}");
        let (_, plan) = t
            .post(
                &t.owner_token,
                "/api/v1/membership-plans",
                &json!({"name": "プレミアム会員", "price": 990, "period_months": 1}),
            )
            .await;
        let vip = t
            .customer(json!({"family_name": "伊藤", "given_name": "華", "phone": "090-9000-0001", "tags": ["VIP"]}))
            .await;
        let member = t.customer(json!({"family_name": "加藤", "given_name": "蒼", "phone": "090-9000-0002"})).await;
        let gold = t.customer(json!({"family_name": "吉田", "given_name": "湊", "phone": "090-9000-0003"})).await;
        let nobody = t.customer(json!({"family_name": "山口", "given_name": "結", "phone": "090-9000-0004"})).await;
        let (s, v) = t
            .post(&t.staff_token, &format!("/api/v1/customers/{member}/memberships"), &json!({"plan_id": plan["id"]}))
            .await;
        assert_eq!(s, 201, "{v}");
        let path = format!("/api/v1/customers/{gold}/rank");
        let (s, v) =
            t.send(reqwest::Method::PUT, &t.staff_token, &path, &json!({"tier": "ゴールド", "reason": "特別"})).await;
        assert_eq!(s, 200, "{v}");
        t.post(&t.staff_token, "/api/v1/metrics/snapshot", &json!({})).await;
        let filter = json!({"field": "tags", "op": "contains", "value": "VIP"});
        let (s, seg) = t.post(&t.staff_token, "/api/v1/segments", &json!({"name": "VIP", "filter": filter})).await;
        assert_eq!(s, 201, "{seg}");

        let perk = json!({"name": "新作の先行予約", "kind": "priority_booking", "min_rank_level": 2,
            "membership_plan_id": plan["id"], "segment_id": seg["id"]});
        let (s, _) = t.post(&t.staff_token, "/api/v1/perks", &perk).await;
        assert_eq!(s, 403, "[{b}] perks are the owner's");
        let (s, v) = t.post(&t.owner_token, "/api/v1/perks", &json!({"name": "x", "kind": "event"})).await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("gate")), "[{b}] {v}");
        let (s, v) = t
            .post(&t.owner_token, "/api/v1/perks", &json!({"name": "x", "kind": "event", "membership_plan_id": 999}))
            .await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("membership_plan_id")), "[{b}] {v}");
        let (s, v) =
            t.post(&t.owner_token, "/api/v1/perks", &json!({"name": "x", "kind": "event", "min_rank_level": 9})).await;
        assert_eq!((s, &v["error"]["field"]), (422, &json!("min_rank_level")), "[{b}] {v}");
        let (s, created) = t.post(&t.owner_token, "/api/v1/perks", &perk).await;
        assert_eq!(s, 201, "{created}");
        let id = created["id"].as_i64().unwrap();

        let check = |c: i64| {
            let t = &t;
            async move {
                let (s, v) = t.get(&t.viewer_token, &format!("/api/v1/perks/{id}/check?customer_id={c}")).await;
                assert_eq!(s, 200, "{v}");
                v
            }
        };
        let v = check(gold).await;
        assert_eq!((&v["allowed"], &v["because"]), (&json!(true), &json!(["ランク ゴールド 以上"])), "[{b}] {v}");
        let v = check(member).await;
        assert_eq!(
            (&v["allowed"], &v["because"]),
            (&json!(true), &json!(["会員プラン「プレミアム会員」"])),
            "[{b}] {v}"
        );
        let v = check(vip).await;
        assert_eq!((&v["allowed"], &v["because"]), (&json!(true), &json!(["セグメント「VIP」"])), "[{b}] {v}");
        let v = check(nobody).await;
        assert_eq!(v["allowed"], json!(false), "[{b}] {v}");
        assert_eq!(v["missing"].as_array().unwrap().len(), 3, "[{b}] every gate missed is named: {v}");

        // A cancelled membership closes the membership gate.
        let (_, ms) = t.get(&t.staff_token, &format!("/api/v1/customers/{member}/memberships")).await;
        let mid = &ms["items"][0]["id"];
        t.post(
            &t.staff_token,
            &format!("/api/v1/memberships/{mid}/changes"),
            &json!({"action": "cancel", "reason": "other"}),
        )
        .await;
        assert_eq!(check(member).await["allowed"], json!(false), "[{b}]");

        // The member page: every active perk with the answer; a deactivated perk is gone.
        let (_, list) = t.get(&t.staff_token, &format!("/api/v1/customers/{gold}/perks")).await;
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
        let mut off = perk.clone();
        off["active"] = json!(false);
        let (s, _) = t.send(reqwest::Method::PUT, &t.owner_token, &format!("/api/v1/perks/{id}"), &off).await;
        assert_eq!(s, 200);
        let (_, list) = t.get(&t.staff_token, &format!("/api/v1/customers/{gold}/perks")).await;
        assert_eq!(list["items"], Value::Array(vec![]), "[{b}]");
        assert_eq!(check(gold).await["allowed"], json!(false), "[{b}] an inactive perk is open to no one");
    }
}
