//! Letters and postcards (both backends): the open letter tasks' addresses on the print page
//! as A4 labels or 縦書き postcards, as CSV for a print service and through the API; 様 for a
//! person, 御中 for a company; a customer without an address is named, not printed.

use serde_json::json;

use super::common::{self, Session, backends, spawn};

#[tokio::test]
async fn letter_tasks_print_as_labels_postcards_and_csv() {
    for b in backends() {
        let t = spawn(b).await;
        let person = t
            .customer(json!({"family_name": "山田", "given_name": "花子", "postal_code": "600-8001",
                "prefecture": "京都府", "city": "京都市下京区", "street": "四条通1-1", "building": "四条ビル3階"}))
            .await;
        let company = t
            .customer(json!({"kind": "account", "company_name": "株式会社サンプル", "postal_code": "1000001",
                "prefecture": "東京都", "city": "千代田区", "street": "千代田1-1"}))
            .await;
        let nowhere = t.customer(json!({"family_name": "住所", "given_name": "なし"})).await;
        let mut tasks = Vec::new();
        for (c, kind) in [(person, "letter"), (company, "letter"), (nowhere, "letter"), (person, "call")] {
            let (s, v) = t
                .post(&t.staff_token, "/api/v1/tasks", &json!({"customer_id": c, "kind": kind, "title": "お礼状"}))
                .await;
            assert_eq!(s, 201, "{v}");
            tasks.push(v["id"].as_i64().unwrap());
        }
        let cookie = t.login_cookie("staff").await;
        let page = |path: &str| {
            let (t, cookie) = (&t, &cookie);
            let path = path.to_string();
            async move {
                let r = t.client.get(t.url(&path)).header("cookie", cookie).send().await.unwrap();
                (
                    r.status().as_u16(),
                    r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()),
                    r.bytes().await.unwrap(),
                )
            }
        };
        let (s, _, html) = page("/tasks/print?view=all").await;
        let html = String::from_utf8(html.to_vec()).unwrap();
        assert_eq!(s, 200, "[{b}]");
        assert!(html.contains("id=\"print-count\">2<"), "[{b}] two letters with addresses: {html}");
        let label = |id: i64| {
            let start = html.find(&format!("id=\"label-{id}\"")).unwrap_or_else(|| panic!("label {id}"));
            html[start..start + html[start..].find("</div>").unwrap()].to_string()
        };
        let a = label(tasks[0]);
        assert!(
            a.contains("〒600-8001") && a.contains("京都府京都市下京区四条通1-1") && a.contains("四条ビル3階"),
            "{a}"
        );
        assert!(a.contains("山田 花子 様"), "{a}");
        let c = label(tasks[1]);
        assert!(c.contains("〒100-0001") && c.contains("株式会社サンプル 御中"), "{c}");
        assert!(!html.contains(&format!("id=\"label-{}\"", tasks[3])), "a call is not a letter");
        let missing = &html[html.find("id=\"print-no-address\"").expect("the customer without an address is named")..];
        assert!(missing.contains("住所 なし 様") && missing.contains(&format!("/customers/{nowhere}/edit")));

        let (_, _, html) = page("/tasks/print?view=all&layout=postcard").await;
        let html = String::from_utf8(html.to_vec()).unwrap();
        let card = &html[html.find(&format!("id=\"postcard-{}\"", tasks[0])).unwrap()..];
        let card = &card[..card.find("</section>").unwrap()];
        assert!(card.contains("<span>6</span><span>0</span><span>0</span><span>8</span>"), "{card}");
        assert!(card.contains("class=\"pc-name\">山田 花子 様<"), "{card}");
        assert!(html.contains("size: 100mm 148mm"), "a postcard a page");

        let (s, ty, csv) = page("/tasks/print.csv?view=all").await;
        assert_eq!((s, ty.as_deref()), (200, Some("text/csv; charset=utf-8")));
        let csv = String::from_utf8(csv.to_vec()).unwrap();
        let mut lines = csv.lines();
        assert_eq!(lines.next(), Some("\u{feff}郵便番号,都道府県,市区町村,番地,建物名,宛名,内容,期限"), "[{b}]");
        let rows: Vec<&str> = lines.collect();
        assert_eq!(rows.len(), 2, "{csv}");
        assert!(
            rows[0].starts_with("600-8001,京都府,京都市下京区,四条通1-1,四条ビル3階,山田 花子 様,お礼状,"),
            "{csv}"
        );
        let (_, _, csv) = page("/tasks/print.csv?view=all&header=code").await;
        assert!(String::from_utf8(csv.to_vec()).unwrap().starts_with("\u{feff}postal_code,prefecture,city,street"));

        let (s, v) = t.get(&t.staff_token, "/api/v1/tasks/letters").await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["labels"].as_array().unwrap().len(), 2, "{v}");
        assert_eq!(v["without_address"][0][0], json!(nowhere));
        // A letter marked done is no longer printed.
        let (s, v) = t
            .post(
                &t.staff_token,
                &format!("/api/v1/tasks/{}/finish", tasks[0]),
                &json!({"state": "done", "outcome": "投函"}),
            )
            .await;
        assert_eq!(s, 200, "{v}");
        let (_, v) = t.get(&t.staff_token, "/api/v1/tasks/letters").await;
        assert_eq!(v["labels"].as_array().unwrap().len(), 1, "[{b}] {v}");

        // Finished from the task list: an outcome past 2,000 characters comes back beside its
        // task, as typed, and nothing is finished; a short one finishes it.
        let staff = Session { t: &t, cookie: cookie.clone() };
        let finish = format!("/tasks/{}/finish", tasks[1]);
        let long = "話".repeat(2_001);
        let (s, _, html) = staff.post(&finish, &[("state", "done"), ("outcome", long.as_str()), ("view", "all")]).await;
        assert_eq!(s, 422, "[{b}]");
        assert!(common::field_error(&html, &format!("finish-{}-outcome", tasks[1])).is_some(), "[{b}] beside it");
        assert!(html.contains(&format!(">{long}</textarea>")), "[{b}] the outcome kept as typed");
        assert!(
            html.contains("id=\"view-all\"") && html.contains("badge active\" id=\"view-all\""),
            "[{b}] the same list"
        );
        let (s, location, _) =
            staff.post(&finish, &[("state", "done"), ("outcome", "担当者へ手渡し"), ("view", "all")]).await;
        assert_eq!((s, location.as_str()), (303, "/tasks?flash=1"), "[{b}]");
        let (_, v) = t.get(&t.staff_token, "/api/v1/tasks/letters").await;
        assert_eq!(v["labels"].as_array().unwrap().len(), 0, "[{b}] {v}");
    }
}
