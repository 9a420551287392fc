//! The owner's pages through HTTP with a real session (both backends): the home page's week,
//! what a customer's figures must not claim, a saved segment's members page by page, and the
//! audit log.

use serde_json::json;

use super::common::{self, Session, backends, spawn};

/// The home page is the week's to-do: a call due today (overdue ones marked), points and a
/// 回数券 about to run out with 記録 links, the newest orders — in Japanese and English, with no
/// placeholder left.
#[tokio::test]
async fn the_home_page_lists_the_weeks_work() {
    for b in backends() {
        let t = spawn(b).await;
        let c = t.customer(json!({"family_name": "早川", "given_name": "愛", "phone": "090-1000-2000"})).await;
        let today = t.app.today_date();
        let body = json!({"customer_id": c, "kind": "call", "title": "新商品のご案内", "due_on": (today - chrono::Days::new(2)).to_string()});
        let (s, v) = t.post(&t.staff_token, "/api/v1/tasks", &body).await;
        assert_eq!(s, 201, "[{b}] {v}");
        let soon = today + chrono::Days::new(10);
        let grant = json!({"points": 120, "reason": "キャンペーン", "expires_on": soon.to_string()});
        let (s, v) = t.post(&t.staff_token, &format!("/api/v1/customers/{c}/points/grants"), &grant).await;
        assert_eq!(s, 201, "[{b}] {v}");
        let (_, plan) = t
            .post(
                &t.owner_token,
                "/api/v1/ticket-plans",
                &json!({"name": "体験3回券", "visits": 3, "price": 3000, "valid_months": 1}),
            )
            .await;
        let (s, _, _) =
            t.post_keyed(&format!("/api/v1/customers/{c}/tickets"), Some("t1"), &json!({"plan_id": plan["id"]})).await;
        assert_eq!(s, 201);
        let (s, _) = t.post(&t.staff_token, "/api/v1/orders", &common::order_body(c, Some("H-1"), 800)).await;
        assert_eq!(s, 201);

        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (status, html) = staff.page("/").await;
        assert_eq!(status, 200, "[{b}]");
        let section = |id: &str| {
            html.split(&format!("id=\"{id}\"")).nth(1).unwrap().split("</section>").next().unwrap().to_string()
        };
        let tasks = section("home-tasks");
        assert!(
            tasks.contains("新商品のご案内") && tasks.contains("期限切れ") && tasks.contains("早川"),
            "[{b}] {tasks}"
        );
        let points = section("home-points");
        assert!(
            points.contains("120 pt")
                && points.contains(&format!("{}月{}日 に失効", soon.format("%-m"), soon.format("%-d"))),
            "[{b}] {points}"
        );
        assert!(points.contains(&format!("/customers/{c}#log-form")), "[{b}] one click to log the contact");
        let tickets = section("home-tickets");
        assert!(tickets.contains("体験3回券") && tickets.contains("残り 3 回"), "[{b}] {tickets}");
        assert!(html.contains("id=\"contact-week\""), "[{b}] contact lists");
        assert!(html.contains("id=\"tile-orders\">注文数 1<"), "[{b}]");
        assert!(!html.contains("次のリリース"), "[{b}] no placeholder");
        let en = Session { t: &t, cookie: format!("{}; joren_lang=en", staff.cookie) };
        let (_, html) = en.page("/").await;
        assert!(html.contains("Contacts due today") && html.contains("Overdue") && html.contains("120 pt"), "[{b}]");
        assert!(html.contains(&format!("expire {soon}")) && html.contains("3 visits left"), "[{b}] {html}");
    }
}

/// What the pages say about a customer must not mislead: one purchase is "too early to tell"
/// (the model's 100 % is no forecast), and an order that was cancelled is no last purchase.
#[tokio::test]
async fn one_purchase_is_too_early_to_tell_and_a_cancelled_order_is_no_purchase() {
    for b in backends() {
        let t = spawn(b).await;
        let once = t.customer(json!({"family_name": "一度", "phone": "090-7000-0001"})).await;
        let gone = t.customer(json!({"family_name": "取消", "phone": "090-7000-0002"})).await;
        let mut body = common::order_body(once, Some("O-1"), 1000);
        body["ordered_at"] = json!((chrono::Utc::now() - chrono::Duration::days(20)).to_rfc3339());
        let (s, _) = t.post(&t.staff_token, "/api/v1/orders", &body).await;
        assert_eq!(s, 201);
        let (s, order) = t.post(&t.staff_token, "/api/v1/orders", &common::order_body(gone, Some("G-1"), 1000)).await;
        assert_eq!(s, 201);
        let (s, v) = t
            .post(&t.staff_token, &format!("/api/v1/orders/{}/cancel", order["id"]), &json!({"reason": "入力ミス"}))
            .await;
        assert!(s < 300, "[{b}] {v}");
        t.app.refresh_metrics(&joren_app::Actor::system("test")).await.unwrap();

        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (_, html) = staff.page(&format!("/customers/{once}")).await;
        assert!(html.contains("購入1回: まだ判断できません"), "[{b}] {html}");
        let (_, list) = t.get(&t.staff_token, "/api/v1/customers?q=090-7000-0002").await;
        assert_eq!(list["items"][0]["id"], json!(gone), "[{b}] {list}");
        assert_eq!(list["items"][0]["last_order_at"], json!(null), "[{b}] a cancelled order is no purchase");
        let (_, html) = staff.page("/customers?q=090-7000-0002").await;
        assert!(html.contains("data-label=\"最終購入日\"></td>"), "[{b}] no last purchase shown");
        assert!(!html.contains("search-hint"), "[{b}] found: no hint");
        // Nothing found: the page says how words are matched (「02」 ends 090-7000-0002 but,
        // two characters, matches only where a name, email or phone starts).
        let (_, html) = staff.page("/customers?q=02").await;
        assert!(html.contains("id=\"search-hint\">1〜2文字の語は"), "[{b}] {html}");
    }
}

/// A saved segment's page lists every member, 50 a page, with their phone and email.
#[tokio::test]
async fn a_saved_segment_pages_through_its_members_with_contact_details() {
    for b in backends() {
        let t = spawn(b).await;
        for i in 0..55 {
            t.customer(json!({"family_name": "会員", "given_name": format!("{i:02}"), "prefecture": "京都府",
                              "phone": format!("075-000-{i:04}"), "email": format!("m{i}@example.jp")}))
                .await;
        }
        t.customer(json!({"family_name": "対象外", "prefecture": "滋賀県"})).await;
        let body = json!({"name": "京都のお客様", "filter": {"field": "prefecture", "op": "eq", "value": "京都府"}});
        let (s, seg) = t.post(&t.staff_token, "/api/v1/segments", &body).await;
        assert_eq!(s, 201, "[{b}] {seg}");
        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (_, first) = staff.page(&format!("/segments/{}", seg["id"])).await;
        let (_, second) = staff.page(&format!("/segments/{}?page=2", seg["id"])).await;
        let rows = |html: &str| html.matches("class=\"member-link\"").count();
        assert_eq!((rows(&first), rows(&second)), (50, 5), "[{b}] 55 members over two pages");
        assert!(first.contains("id=\"members-next\"") && !second.contains("id=\"members-next\""), "[{b}]");
        assert!(second.contains("id=\"members-prev\"") && second.contains("2 / 2"), "[{b}]");
        let both = format!("{first}{second}");
        for i in 0..55 {
            assert!(both.contains(&format!("m{i}@example.jp")), "[{b}] member {i} with their email");
        }
        assert!(!both.contains("対象外"), "[{b}] only the segment's members");
        assert!(first.contains("075-000-0000"), "[{b}] phone shown");
    }
}

/// The audit log page (owners): actions in words, filtered by staff member, customer and days;
/// a bad date named by its label; staff may not read it.
#[tokio::test]
async fn the_owner_reads_the_audit_log_filtered() {
    for b in backends() {
        let t = spawn(b).await;
        let c = t.customer(json!({"family_name": "監査", "phone": "090-9100-0001"})).await;
        let other = t.customer(json!({"family_name": "別件", "phone": "090-9100-0002"})).await;
        let grant = json!({"points": 50, "reason": "お詫び"});
        let (s, _) = t.post(&t.staff_token, &format!("/api/v1/customers/{c}/points/grants"), &grant).await;
        assert_eq!(s, 201);
        let staff_id = t.app.staff_directory().await.unwrap().into_iter().find(|(_, n)| n == "staff").unwrap().0;
        let owner = Session { t: &t, cookie: t.login_cookie("owner").await };
        let (status, html) = owner.page(&format!("/audit?customer={c}")).await;
        assert_eq!(status, 200, "[{b}]");
        let log = html.split("id=\"audit-log\"").nth(1).unwrap().split("</table>").next().unwrap();
        assert!(log.contains("ポイントを付与") && log.contains("顧客を登録") && log.contains("お詫び"), "[{b}] {log}");
        assert!(!log.contains(&format!("顧客 {other}<")), "[{b}] only this customer's records");
        assert!(!log.contains("points.grant"), "[{b}] actions in words");
        let (_, html) = owner.page(&format!("/audit?user={staff_id}")).await;
        assert!(
            html.contains("ポイントを付与") && !html.contains(">ログイン<"),
            "[{b}] only the staff member's records"
        );
        let yesterday = t.app.today_date() - chrono::Days::new(1);
        let (_, html) = owner.page(&format!("/audit?to={}", yesterday.format("%Y/%m/%d"))).await;
        assert!(html.contains("id=\"audit-none\""), "[{b}] nothing before today");
        let (_, html) = owner.page("/audit?from=いつか").await;
        assert!(html.contains("id=\"form-error\"") && html.contains("開始日"), "[{b}] the bad date named");
        let en = Session { t: &t, cookie: format!("{}; joren_lang=en", owner.cookie) };
        let (_, html) = en.page(&format!("/audit?customer={c}")).await;
        assert!(html.contains("Points granted") && html.contains("Customer created"), "[{b}]");
        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (status, _) = staff.page("/audit").await;
        assert_eq!(status, 403, "[{b}] the owner's page");
    }
}

/// The customer list sorted and narrowed, through the API and the page (both backends).
#[tokio::test]
async fn the_customer_list_sorts_and_narrows() {
    for b in backends() {
        let t = spawn(b).await;
        let a = t
            .customer(
                json!({"family_name": "安藤", "family_name_kana": "アンドウ", "prefecture": "東京都", "tags": ["VIP"]}),
            )
            .await;
        let k = t.customer(json!({"kind": "account", "company_name": "株式会社加藤商店", "family_name_kana": "カトウ", "prefecture": "大阪府"})).await;
        let s = t.customer(json!({"family_name": "佐藤", "family_name_kana": "サトウ", "prefecture": "東京都"})).await;
        let order = |c: i64, ext: &str, price: i64, day: &str| {
            let mut body = common::order_body(c, Some(ext), price);
            body["ordered_at"] = json!(format!("{day}T10:00:00+09:00"));
            body
        };
        for body in
            [order(a, "A1", 500, "2026-01-10"), order(a, "A2", 500, "2026-02-10"), order(k, "K1", 5000, "2025-11-01")]
        {
            let (status, v) = t.post(&t.staff_token, "/api/v1/orders", &body).await;
            assert_eq!(status, 201, "[{b}] {v}");
        }
        let ids = |v: &serde_json::Value| -> Vec<i64> {
            v["items"].as_array().unwrap().iter().map(|c| c["id"].as_i64().unwrap()).collect()
        };
        let list = |query: &'static str| {
            let t = &t;
            async move { t.get(&t.staff_token, &format!("/api/v1/customers?{query}")).await }
        };
        let (_, v) = list("").await;
        assert_eq!(ids(&v), [a, k, s], "[{b}] kana order by default");
        let (_, v) = list("sort=spent").await;
        assert_eq!(ids(&v), [k, a, s], "[{b}] most spent first");
        let (_, v) = list("sort=orders").await;
        assert_eq!(ids(&v), [a, k, s], "[{b}] most purchases first");
        let (_, v) = list("sort=last_order").await;
        assert_eq!(ids(&v), [a, k, s], "[{b}] bought most recently first, never bought last");
        let (_, v) = list("sort=lapsed").await;
        assert_eq!(ids(&v), [k, a, s], "[{b}] not back longest first, never bought last");
        let (_, v) = list("sort=newest").await;
        assert_eq!(ids(&v), [s, k, a], "[{b}] newest first");
        let (_, v) = list("kind=account").await;
        assert_eq!((ids(&v), v["total"].as_i64()), (vec![k], Some(1)), "[{b}]");
        let (_, v) = list("prefecture=%E6%9D%B1%E4%BA%AC&sort=spent").await;
        assert_eq!((ids(&v), v["total"].as_i64()), (vec![a, s], Some(2)), "[{b}] 東京 read as 東京都");
        let (_, v) = list("tag=VIP").await;
        assert_eq!(ids(&v), [a], "[{b}]");
        let (_, v) = list("sort=spent&limit=1&offset=1").await;
        assert_eq!((ids(&v), v["total"].as_i64()), (vec![a], Some(3)), "[{b}] pages of a sorted list");
        let (status, v) = list("sort=price").await;
        assert_eq!((status, v["error"]["field"].as_str()), (422, Some("sort")), "[{b}] {v}");
        let (status, v) = list("segment=vip").await;
        assert_eq!(status, 422, "[{b}] {v}");
        assert_eq!(v["error"]["details"][0]["field"], "segment", "[{b}]");
        // The segment of the newest analysis.
        let (status, _) = t.post(&t.owner_token, "/api/v1/metrics/snapshot", &json!({})).await;
        assert!(status == 200 || status == 201, "[{b}]");
        let (_, m) = t.get(&t.staff_token, &format!("/api/v1/customers/{k}/metrics")).await;
        let seg = m["metrics"]["segment"].as_str().unwrap().to_string();
        let (_, v) = t.get(&t.staff_token, &format!("/api/v1/customers?segment={seg}")).await;
        assert!(ids(&v).contains(&k) && !ids(&v).contains(&s), "[{b}] {seg}: {v}");

        // The page: the choices kept, the rows in order, the pager keeping them.
        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (status, html) = staff.page("/customers?sort=spent&prefecture=東京都").await;
        assert_eq!(status, 200, "[{b}]");
        let table = html.split("id=\"customers\"").nth(1).unwrap();
        let (pa, ps) = (table.find("安藤").unwrap(), table.find("佐藤").unwrap());
        assert!(pa < ps && !table.contains("加藤商店"), "[{b}] Tokyo only, most spent first");
        assert!(html.contains("<option value=\"spent\" selected>購入額が多い順</option>"), "[{b}]");
        assert!(html.contains("<option value=\"東京都\" selected>"), "[{b}]");
        assert!(html.contains("<option value=\"VIP\">VIP (1)</option>"), "[{b}] tags with their counts");
        assert!(html.contains("id=\"list-clear\""), "[{b}] a way back to everyone");
        let (_, html) = staff.page("/customers?segment=vip").await;
        assert!(html.contains("id=\"form-error\"") && html.contains("顧客区分"), "[{b}] named by its label");
        let en = Session { t: &t, cookie: format!("{}; joren_lang=en", staff.cookie) };
        let (_, html) = en.page("/customers?sort=lapsed").await;
        assert!(html.contains("selected>Not back longest"), "[{b}]");
    }
}

/// Duplicate suggestions: same phone, same email, same kana and birthday; compared side by
/// side, merged with one click, or marked as different people (both backends).
#[tokio::test]
async fn duplicates_are_suggested_compared_merged_or_dismissed() {
    for b in backends() {
        let t = spawn(b).await;
        let person = |extra: serde_json::Value| {
            let mut v = json!({"family_name": "山田", "given_name": "花子", "family_name_kana": "ヤマダ", "given_name_kana": "ハナコ"});
            v.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
            v
        };
        let a = t.customer(person(json!({"phone": "090-1111-2222", "birthday": "1980-03-03"}))).await;
        let twin = t.customer(person(json!({"phone": "090-1111-2222", "email": "hanako@example.jp"}))).await;
        let same_birthday = t.customer(person(json!({"phone": "080-3333-4444", "birthday": "1980-03-03"}))).await;
        t.customer(json!({"family_name": "別人", "phone": "070-5555-6666"})).await;
        let (status, _) = t.post(&t.staff_token, "/api/v1/orders", &common::order_body(twin, Some("D-1"), 900)).await;
        assert_eq!(status, 201);

        let (status, v) = t.get(&t.staff_token, "/api/v1/customers/duplicates").await;
        assert_eq!(status, 200, "[{b}] {v}");
        let expected = json!([
            {"first": a, "second": same_birthday, "same_phone": false, "same_email": false, "same_kana_and_birthday": true},
            {"first": a, "second": twin, "same_phone": true, "same_email": false, "same_kana_and_birthday": false},
        ]);
        assert_eq!(v["items"], expected, "[{b}] newest pair first, with what they share");

        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (_, html) = staff.page("/customers").await;
        assert!(html.contains("href=\"/customers/duplicates\""), "[{b}] the list links the suggestions");
        let (status, html) = staff.page("/customers/duplicates").await;
        assert_eq!(status, 200, "[{b}]");
        let row = html.split(&format!("id=\"pair-{a}-{twin}\"")).nth(1).unwrap().split("</tr>").next().unwrap();
        assert!(row.contains("同じ電話番号") && row.contains("山田 花子 様"), "[{b}] {row}");
        assert!(html.contains("同じフリガナと誕生日"), "[{b}]");

        // The review: side by side, the kept customer's empty email filled from the other.
        let (status, html) = staff.page(&format!("/customers/merge?keep={a}&merge={twin}")).await;
        assert_eq!(status, 200, "[{b}]");
        let table = html.split("id=\"merge-compare\"").nth(1).unwrap().split("</table>").next().unwrap();
        assert!(table.contains("class=\"filled\"") && table.contains("★ hanako@example.jp"), "[{b}] {table}");
        assert!(table.contains("<th>累計購入額</th><td>¥0</td><td>¥5,100</td>"), "[{b}] each side's spend: {table}");
        assert!(html.contains(&format!("href=\"/customers/merge?keep={twin}&amp;merge={a}\"")), "[{b}] swap");
        let (status, location, _) =
            staff.post(&format!("/customers/{a}/merge"), &[("merge_id", &twin.to_string())]).await;
        assert_eq!((status, location), (303, format!("/customers/{a}?merged=1")), "[{b}]");
        let (_, c) = t.get(&t.staff_token, &format!("/api/v1/customers/{a}")).await;
        assert_eq!(c["email"], "hanako@example.jp", "[{b}]");

        // The other pair: different people (a mother and daughter, say); gone for good.
        let viewer = Session { t: &t, cookie: t.login_cookie("viewer").await };
        let (_, html) = viewer.page("/customers/duplicates").await;
        assert!(!html.contains("id=\"dismiss-"), "[{b}] viewers only look");
        let (status, _, _) = viewer
            .post("/customers/duplicates/dismiss", &[("first", &a.to_string()), ("second", &same_birthday.to_string())])
            .await;
        assert_eq!(status, 403, "[{b}]");
        let (status, location, _) = staff
            .post("/customers/duplicates/dismiss", &[("first", &same_birthday.to_string()), ("second", &a.to_string())])
            .await;
        assert_eq!((status, location.as_str()), (303, "/customers/duplicates"), "[{b}]");
        let (_, html) = staff.page("/customers/duplicates").await;
        assert!(html.contains("id=\"no-duplicates\""), "[{b}] nothing left to look at");
        let (status, _) = t
            .post(&t.staff_token, "/api/v1/customers/duplicates/dismiss", &json!({"first": a, "second": same_birthday}))
            .await;
        assert_eq!(status, 204, "[{b}] saying it again changes nothing");
        let (_, v) = t.get(&t.staff_token, "/api/v1/customers/duplicates").await;
        assert_eq!(v["items"], json!([]), "[{b}]");
        let (status, _) =
            t.post(&t.staff_token, "/api/v1/customers/duplicates/dismiss", &json!({"first": a, "second": a})).await;
        assert_eq!(status, 409, "[{b}] one customer is not a pair");
        let owner = Session { t: &t, cookie: t.login_cookie("owner").await };
        let (_, html) = owner.page(&format!("/audit?customer={a}")).await;
        assert!(html.contains("別人と記録") && html.contains("顧客を統合"), "[{b}]");
        let en = Session { t: &t, cookie: format!("{}; joren_lang=en", owner.cookie) };
        let (_, html) = en.page(&format!("/customers/merge?keep={a}&merge={same_birthday}")).await;
        assert!(html.contains("Review the merge") && html.contains("Same kana name and birthday"), "[{b}]");
    }
}

/// The part of the dashboard computed from the order log: the KPI tiles, the period, the
/// sources table and the cohort heatmap (the last two absent for a period without them).
fn period_figures(html: &str) -> String {
    let cut = |from: &str, to: &str| {
        html.split(from).nth(1).map(|rest| rest.split(to).next().unwrap().to_string()).unwrap_or_default()
    };
    [
        cut("id=\"period-form\"", "</form>"),
        cut("id=\"kpi-tiles\"", "<section"),
        cut("id=\"source-table\"", "</table>"),
        cut("id=\"cohort-heatmap\"", "</table>"),
    ]
    .join("\n")
}

/// A large shop's dashboard reads its period KPIs, sources and cohorts from the activity kept
/// with the snapshot — the same figures the live order log gives — says when they are from, does
/// not move with a new order until the next analysis, and cuts a period at the snapshot's day.
/// (The shop counts as large from 0 orders here; by default from 100,000.)
#[tokio::test]
async fn a_large_shops_dashboard_reads_the_figures_kept_with_the_snapshot() {
    for b in backends() {
        let config = joren_app::AppConfig { live_dashboard_orders: 0, ..joren_app::AppConfig::default() };
        let t = common::spawn_with(b, config).await;
        let owner = Session { t: &t, cookie: t.login_cookie("owner").await };
        let today = t.app.today_date();
        let mut first = 0;
        for c in 0..8i64 {
            let source = ["advertising", "referral", "store"][c as usize % 3];
            let id = t.customer(json!({"family_name": format!("大店{c}"), "acquisition_source": source})).await;
            first = if c == 0 { id } else { first };
            for k in 0..=(c % 4) {
                let mut body = common::order_body(id, Some(&format!("L-{c}-{k}")), 1500 + 100 * c + 10 * k);
                let day = today - chrono::Days::new((400 - 90 * k - 11 * c) as u64);
                body["ordered_at"] = json!(format!("{day}T12:00:00+09:00"));
                let (s, v) = t.post(&t.staff_token, "/api/v1/orders", &body).await;
                assert_eq!(s, 201, "[{b}] {v}");
            }
        }
        let (_, live) = owner.page("/dashboard").await;
        assert!(!live.contains("id=\"figures-as-of\""), "[{b}] live before any snapshot");
        assert!(live.contains("id=\"source-table\"") && live.contains("id=\"cohort-heatmap\""), "{live}");
        let (status, _, _) = owner.post("/metrics/refresh", &[("back", "/dashboard")]).await;
        assert_eq!(status, 303);
        let (_, kept) = owner.page("/dashboard").await;
        assert!(kept.contains("id=\"figures-as-of\"") && kept.contains("毎晩の分析"), "[{b}] {kept}");
        assert_eq!(period_figures(&kept), period_figures(&live), "[{b}] the same figures as the live log");
        // The segment sizes and the CLV histogram kept with the snapshot are those its metrics give.
        let d = t.app.dashboard(None).await.unwrap();
        let snap = d.snapshot.as_ref().unwrap();
        let mut totals = t.app.store.segment_totals(snap.id).await.unwrap();
        totals.sort();
        let mut shown = d.segments.clone();
        shown.sort();
        assert_eq!(shown, totals, "[{b}]");
        let clv = joren_app::dashboard::clv_histogram(&t.app.store.clv_values(snap.id).await.unwrap());
        assert_eq!(d.clv_buckets, clv, "[{b}]");
        assert!(!clv.is_empty() && d.figures_as_of == Some(snap.computed_at), "[{b}]");
        let custom = "/dashboard?start=2020-01-01&end=2020-12-31";
        let (_, live_custom) = owner.page(custom).await;

        // A new order today: the kept figures stay as they were until the next analysis.
        let (s, _) = t.post(&t.staff_token, "/api/v1/orders", &common::order_body(first, Some("L-new"), 9900)).await;
        assert_eq!(s, 201);
        let (_, still) = owner.page("/dashboard").await;
        assert_eq!(period_figures(&still), period_figures(&kept), "[{b}] not moved by the new order");
        let (_, future) = owner.page(&format!("/dashboard?start={today}&end={}", today + chrono::Days::new(30))).await;
        assert!(future.contains(&format!("name=\"end\" value=\"{today}\"")), "[{b}] cut at the snapshot's day");
        let (_, old) = owner.page(custom).await;
        assert_eq!(period_figures(&old), period_figures(&live_custom), "[{b}] any past period");
        owner.post("/metrics/refresh", &[("back", "/dashboard")]).await;
        let (_, fresh) = owner.page("/dashboard").await;
        assert_ne!(period_figures(&fresh), period_figures(&kept), "[{b}] the next analysis counts it");
        let en = Session { t: &t, cookie: format!("{}; joren_lang=en", owner.cookie) };
        let (_, html) = en.page("/dashboard").await;
        assert!(html.contains("as of the analysis at"), "[{b}] in English too");
    }
}
