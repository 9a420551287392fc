//! The loyalty pages' forms through HTTP with a real session (both backends): points
//! adjusted and the programme configured, ranks, 回数券, memberships and perks.

use serde_json::json;

use super::common::{self, Session, backends, spawn};

/// The points pages: the customer page's panel and manual adjustment (a reason required), the
/// settings form (preview without saving, owners save, bad fields named) and the report.
#[tokio::test]
async fn points_are_adjusted_configured_and_reported_from_the_web_pages() {
    for b in backends() {
        let t = spawn(b).await;
        let c = t.customer(json!({"family_name": "森", "given_name": "花", "phone": "090-5000-0001"})).await;
        let mut order = common::order_body(c, Some("W-1"), 1000);
        order["ordered_at"] = json!((chrono::Utc::now() - chrono::Duration::days(30)).to_rfc3339());
        let (s, v) = t.post(&t.staff_token, "/api/v1/orders", &order).await;
        assert_eq!(s, 201, "{v}");
        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (_, html) = staff.page(&format!("/customers/{c}")).await;
        assert!(html.contains("id=\"points-available\">53<"), "[{b}] ¥5,300 earned 53 points");

        let path = format!("/customers/{c}/points");
        let (status, _, html) = staff.post(&path, &[("action", "grant"), ("points", "たくさん"), ("reason", "")]).await;
        assert_eq!(status, 422, "[{b}] refused, the form comes back as typed");
        assert!(common::field_error(&html, "reason").is_some(), "[{b}] a reason is required, said beside it");
        assert!(common::field_error(&html, "points").is_some(), "[{b}] and the unreadable points at the same time");
        assert!(html.contains("value=\"たくさん\""), "[{b}] what was typed is kept");
        let (_, location, _) =
            staff.post(&path, &[("action", "grant"), ("points", "1,000"), ("reason", "お誕生日")]).await;
        assert!(location.contains("points=1"), "[{b}] {location}");
        let (_, location, _) = staff.post(&path, &[("action", "deduct"), ("points", "3"), ("reason", "誤付与")]).await;
        assert!(location.contains("points=1"), "[{b}] {location}");
        let (_, html) = staff.page(&format!("/customers/{c}?points=1")).await;
        assert!(html.contains("id=\"points-available\">1050<"), "[{b}] 53 + 1,000 − 3");
        assert!(html.contains("お誕生日") && html.contains("id=\"points-flash\""), "[{b}] lot reason and flash shown");
        let (status, _, html) = staff.post(&path, &[("action", "deduct"), ("points", "5000"), ("reason", "x")]).await;
        assert_eq!(status, 422, "[{b}] cannot deduct more than available");
        assert!(html.contains("class=\"field-error\""), "[{b}] said beside the form's fields");
        assert!(html.contains("value=\"deduct\" selected"), "[{b}] the choice kept");

        // Settings: the preview answers without saving; staff cannot save; owners can.
        let form = [
            ("enabled", "1"),
            ("earn_per_yen", "200"),
            ("earn_points", "1"),
            ("earn_base", "inclusive"),
            ("rounding", "floor"),
            ("pending_days", "7"),
            ("first_purchase_bonus", "0"),
            ("birthday_bonus_points", "300"),
            ("birthday_bonus_timing", "month"),
            ("reservation_minutes", "30"),
            ("expiry_kind", "fixed_term"),
            ("expiry_months", "6"),
            ("fiscal_month", "3"),
            ("fiscal_day", "31"),
            ("min_months", "0"),
            ("shortfall", "record_debt"),
            ("campaign_name_0", "年末感謝祭"),
            // A campaign long past, so the preview of an order today does not include it.
            ("campaign_from_0", "2020-12-01"),
            ("campaign_to_0", "2020-12-31"),
            ("campaign_multiplier_0", "200"),
            ("campaign_category_0", ""),
            ("ranks_enabled", "1"),
            ("rank_measure", "spend"),
            ("rank_window", "rolling"),
            ("rank_months", "6"),
            ("rank_grace", "1"),
            ("tier_name_0", "レギュラー"),
            ("tier_threshold_0", "0"),
            ("tier_multiplier_0", "100"),
            ("tier_name_1", "ゴールド"),
            ("tier_threshold_1", "50,000"),
            ("tier_multiplier_1", "200"),
            ("tier_name_2", ""),
            ("tier_threshold_2", ""),
            ("tier_multiplier_2", "100"),
            ("preview_total", "12800"),
            ("preview_multiplier", "150"),
            ("preview_rank", ""),
        ];
        let mut preview = form.to_vec();
        preview.push(("action", "preview"));
        let (status, _, html) = staff.post("/settings/points", &preview).await;
        assert_eq!(status, 200, "[{b}]");
        assert!(html.contains("id=\"preview-points\">96<"), "[{b}] ¥12,800 / 200 × 1.5 = 96");
        // The preview for a tier uses the tier's multiplier: ¥12,800 by a ゴールド member → 64 × 2.
        let mut by_tier = preview.clone();
        by_tier.retain(|(k, _)| *k != "preview_rank");
        by_tier.push(("preview_rank", "1"));
        let (_, _, html) = staff.post("/settings/points", &by_tier).await;
        assert!(
            html.contains("id=\"preview-points\">128<") && html.contains("id=\"preview-tier\">ゴールド<"),
            "[{b}] tier preview"
        );
        assert_eq!(t.app.points_programme().await.unwrap().earn.per_yen, 100, "[{b}] a preview saves nothing");
        let mut save = form.to_vec();
        save.push(("action", "save"));
        let (status, _, _) = staff.post("/settings/points", &save).await;
        assert_eq!(status, 403, "[{b}] staff cannot change the programme");
        let owner = Session { t: &t, cookie: t.login_cookie("owner").await };
        let mut bad = save.clone();
        bad[1] = ("earn_per_yen", "0");
        let (status, _, html) = owner.post("/settings/points", &bad).await;
        assert_eq!(status, 422);
        assert!(
            html.contains("id=\"form-error\"")
                && html.contains("ポイントを付ける金額 (円ごと): 1〜1000000円で指定してください"),
            "[{b}] the bad field is named in words: {html}"
        );
        // Unreadable values: every one named by its label at once, and the form as typed.
        let mut unreadable = save.clone();
        for (k, v) in unreadable.iter_mut() {
            match *k {
                "pending_days" => *v = "一週間",
                "campaign_to_0" => *v = "年末まで",
                "tier_threshold_1" => *v = "たくさん",
                "campaign_name_0" => *v = "年末感謝祭・改",
                _ => {}
            }
        }
        let (status, _, html) = owner.post("/settings/points", &unreadable).await;
        assert_eq!(status, 422, "[{b}]");
        let error = html.split("id=\"form-error\">").nth(1).unwrap().split("</p>").next().unwrap();
        for label in ["仮ポイントの日数: ", "キャンペーン1の終了日: ", "ランク2の条件: "] {
            assert!(error.contains(label), "[{b}] {label} in {error}");
        }
        assert!(!error.contains("pending_days") && !error.contains("campaign_"), "[{b}] no field codes: {error}");
        for typed in ["value=\"一週間\"", "value=\"年末まで\"", "value=\"たくさん\"", "value=\"年末感謝祭・改\""]
        {
            assert!(html.contains(typed), "[{b}] kept as typed: {typed}");
        }
        // …and each again beside its own field.
        for field in ["pending_days", "campaign_to_0", "tier_threshold_1"] {
            assert!(common::field_error(&html, field).is_some(), "[{b}] said beside {field}");
        }
        assert!(common::field_error(&html, "earn_points").is_none(), "[{b}] not beside a good field");
        // A row left empty above a bad campaign: the problem sits beside the row it came from
        // (the programme's first campaign is the form's second row).
        let mut gap = save.clone();
        gap.retain(|(k, _)| !k.starts_with("campaign_"));
        gap.extend([
            ("campaign_name_0", ""),
            ("campaign_name_1", "春の感謝祭"),
            ("campaign_from_1", "2026-04-30"),
            ("campaign_to_1", "2026-04-01"),
            ("campaign_multiplier_1", "200"),
        ]);
        let (status, _, html) = owner.post("/settings/points", &gap).await;
        assert_eq!(status, 422, "[{b}]");
        assert!(common::field_error(&html, "campaign_to_1").is_some(), "[{b}] beside the second row's end");
        assert!(common::field_error(&html, "campaign_to_0").is_none(), "[{b}] not beside the empty row");
        assert_eq!(t.app.points_programme().await.unwrap().earn.per_yen, 100, "[{b}] nothing saved");
        // Full-width numbers and a slash date are read as typed in Japan.
        for (k, v) in save.iter_mut() {
            match *k {
                "earn_per_yen" => *v = "２００",
                "campaign_from_0" => *v = "2020/12/1",
                "tier_threshold_1" => *v = "５０，０００",
                _ => {}
            }
        }
        let (status, location, _) = owner.post("/settings/points", &save).await;
        assert_eq!((status, location.as_str()), (303, "/settings/points?saved=1"), "[{b}]");
        let p = t.app.points_programme().await.unwrap();
        assert_eq!((p.earn.per_yen, p.pending_days, p.campaigns.len()), (200, 7, 1), "[{b}] {p:?}");
        assert_eq!(p.expiry, joren_core::points::ExpiryPolicy::FixedTerm { months: 6, end_of_month: false });
        assert_eq!(p.shortfall, joren_core::points::ShortfallPolicy::RecordDebt);
        let birthday =
            joren_core::programme::BirthdayBonus { points: 300, timing: joren_core::programme::BirthdayTiming::Month };
        assert_eq!(p.birthday_bonus, birthday, "[{b}]");
        assert!(p.ranks.enabled && p.ranks.grace_reviews == 1, "[{b}] {:?}", p.ranks);
        assert_eq!(p.ranks.window, joren_core::rank::RankWindow::Rolling { months: 6 });
        let tiers: Vec<(&str, i64, i64)> =
            p.ranks.tiers.iter().map(|x| (x.name.as_str(), x.threshold, x.points_multiplier_percent)).collect();
        assert_eq!(tiers, [("レギュラー", 0, 100), ("ゴールド", 50_000, 200)], "[{b}] the empty tier row is left out");
        let mut clash = save.clone();
        clash.retain(|(k, _)| *k != "tier_threshold_1");
        clash.push(("tier_threshold_1", "0"));
        let (_, _, html) = owner.post("/settings/points", &clash).await;
        assert!(
            html.contains("ランク2の条件: 前のランクより大きい値にしてください"),
            "[{b}] a tier below the one before is named: {html}"
        );
        let (_, html) = owner.page("/settings/points").await;
        assert!(html.contains("value=\"年末感謝祭\""), "[{b}] the saved campaign is listed");

        let (status, html) = staff.page("/points").await;
        assert_eq!(status, 200);
        assert!(html.contains("id=\"outstanding-free\">1050<") && html.contains("points-movement"), "[{b}] report");
    }
}

#[tokio::test]
async fn ranks_are_shown_changed_and_reported_from_the_web_pages() {
    for b in backends() {
        let t = spawn(b).await;
        let mut programme = t.app.points_programme().await.unwrap();
        programme.ranks.enabled = true;
        t.app.set_points_programme(&joren_app::Actor::system("test"), programme).await.unwrap();
        let c = t.customer(json!({"family_name": "森", "given_name": "蘭", "phone": "090-5100-0001"})).await;
        // ¥2 × 12,000 + ¥3,300 = ¥27,300 this year: レギュラー, ¥2,700 short of シルバー (¥30,000).
        let mut order = common::order_body(c, Some("RK-1"), 12_000);
        order["ordered_at"] = json!(chrono::Utc::now().to_rfc3339());
        let (s, v) = t.post(&t.staff_token, "/api/v1/orders", &order).await;
        assert_eq!(s, 201, "{v}");
        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (_, html) = staff.page(&format!("/customers/{c}")).await;
        assert!(html.contains("id=\"rank-tier\">レギュラー<"), "[{b}] the base tier is shown");
        assert!(html.contains("id=\"rank-value\">¥27,300<") && html.contains("id=\"rank-missing\">¥2,700<"), "[{b}]");

        let path = format!("/customers/{c}/rank");
        let (status, _, html) = staff.post(&path, &[("tier", "2"), ("reason", "")]).await;
        assert_eq!(status, 422, "[{b}]");
        assert!(common::field_error(&html, "rank-reason").is_some(), "[{b}] a reason is required, said beside it");
        let (_, location, _) = staff.post(&path, &[("tier", "2"), ("reason", "開店記念のご招待")]).await;
        assert!(location.contains("points=1"), "[{b}] {location}");
        let (_, html) = staff.page(&format!("/customers/{c}")).await;
        assert!(html.contains("id=\"rank-tier\">ゴールド<"), "[{b}] set by hand");
        assert!(html.contains("id=\"rank-history\"") && html.contains("開店記念のご招待"), "[{b}] history with reason");
        assert!(html.contains("レギュラー → ゴールド ▲"), "[{b}] the change is on the timeline");

        let (status, html) = staff.page("/points").await;
        assert_eq!(status, 200);
        assert!(html.contains("id=\"rank-count-2\">1<") && html.contains("id=\"rank-movement\""), "[{b}] report");
        let (status, location, _) = staff.post("/ranks/evaluate", &[]).await;
        assert_eq!((status, location.as_str()), (303, "/points?evaluated=0#ranks"), "[{b}] nothing to change");
        let viewer = Session { t: &t, cookie: t.login_cookie("viewer").await };
        let (status, _, _) = viewer.post("/ranks/evaluate", &[]).await;
        assert_eq!(status, 403, "[{b}] viewers cannot run the evaluation");
    }
}

/// The value of `name="NAME" value="…"` in a form on `html` (the first one).
fn form_value(html: &str, name: &str) -> String {
    html.split(&format!("name=\"{name}\" value=\"")).nth(1).unwrap().split('"').next().unwrap().to_string()
}

#[tokio::test]
async fn tickets_are_sold_used_and_refunded_from_the_web_pages() {
    for b in backends() {
        let t = spawn(b).await;
        let owner = Session { t: &t, cookie: t.login_cookie("owner").await };
        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let plan = [("name", "10回券"), ("visits", "10"), ("price", "45,000"), ("valid_months", "6"), ("active", "1")];
        let (status, _, _) = staff.post("/tickets/plans", &plan).await;
        assert_eq!(status, 403, "[{b}] plans are the owner's");
        let (status, _, html) = owner
            .post("/tickets/plans", &[("visits", "0"), ("price", "1"), ("valid_months", "0"), ("name", "x")])
            .await;
        assert_eq!(status, 422, "[{b}] refused, the form comes back as typed");
        let message = common::field_error(&html, "visits").unwrap_or_default();
        assert!(message.starts_with("1〜1000"), "[{b}] beside the visits: {message}");
        assert!(html.contains("id=\"plan-name\" inputmode=\"text\" style=\"width:10em\" value=\"x\""), "[{b}] kept");
        let (status, location, _) = owner.post("/tickets/plans", &plan).await;
        assert_eq!((status, location.as_str()), (303, "/tickets"), "[{b}]");

        let c = t.customer(json!({"family_name": "小林", "given_name": "結衣", "phone": "090-6200-0001"})).await;
        let (_, html) = staff.page(&format!("/customers/{c}")).await;
        assert!(html.contains("id=\"ticket-sell\"") && html.contains("10回券 (10回 ¥45,000)"), "[{b}] plan offered");
        let sell_form = &html[html.find("id=\"ticket-sell\"").unwrap()..];
        let plan_id = sell_form.split("<option value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let sell_key = form_value(sell_form, "key");
        let sell = [("plan_id", plan_id.as_str()), ("key", sell_key.as_str())];
        for _ in 0..2 {
            let (status, location, _) = staff.post(&format!("/customers/{c}/tickets"), &sell).await;
            assert_eq!((status, location.contains("tickets=1")), (303, true), "[{b}] {location}");
        }
        let tickets = t.app.customer_tickets(c).await.unwrap();
        assert_eq!(tickets.len(), 1, "[{b}] the same form sent twice sells one ticket");
        let id = tickets[0].id;

        let (_, html) = staff.page(&format!("/customers/{c}")).await;
        let use_form = &html[html.find(&format!("action=\"/tickets/{id}/use\"")).unwrap()..];
        let use_key = form_value(use_form, "key");
        for _ in 0..2 {
            staff.post(&format!("/tickets/{id}/use"), &[("key", use_key.as_str()), ("note", "カット")]).await;
        }
        let (_, html) = staff.page(&format!("/customers/{c}?tickets=1")).await;
        assert!(html.contains(&format!("id=\"ticket-remaining-{id}\">9<")), "[{b}] a double click uses one visit");
        assert!(html.contains("id=\"tickets-flash\""));
        assert!(html.contains("10回券 1/10回目") && html.contains("回数券購入"), "[{b}] sale and use on the timeline");

        // Refused forms of a ticket's row come back beside that row, as typed.
        let (status, _, html) = staff.post(&format!("/tickets/{id}/refund"), &[("reason", "  ")]).await;
        assert_eq!(status, 422, "[{b}] a reason is required");
        let message = common::field_error(&html, &format!("ticket-refund-{id}-reason")).unwrap_or_default();
        assert!(message.contains("理由"), "[{b}] said beside the reason: {message}");
        let refund_box = &html[..html.find(&format!("action=\"/tickets/{id}/refund\"")).unwrap()];
        assert!(
            refund_box.ends_with("</summary><form method=\"post\" ") && refund_box.contains("<details open>"),
            "[{b}] the refund box stays open"
        );
        let long = "あ".repeat(1_001);
        let (status, _, html) =
            staff.post(&format!("/tickets/{id}/use"), &[("key", "ui-long-note"), ("note", long.as_str())]).await;
        assert_eq!(status, 422, "[{b}] a note past 1,000 characters is refused");
        assert!(common::field_error(&html, &format!("ticket-use-{id}-note")).is_some(), "[{b}] beside the note");
        assert!(html.contains(&format!("value=\"{long}\"")), "[{b}] the note kept as typed");
        assert_eq!(t.app.ticket(id).await.unwrap().remaining, 9, "[{b}] no visit taken");
        let (status, _, html) =
            staff.post(&format!("/customers/{c}/tickets"), &[("plan_id", "十"), ("key", "ui-bad-plan")]).await;
        assert_eq!(status, 422, "[{b}]");
        assert!(common::field_error(&html, "ticket-sell-0-plan_id").is_some(), "[{b}] beside the plan choice");
        let (_, html) = owner.page("/tickets").await;
        assert!(
            html.contains("id=\"tickets-outstanding\">¥40,500<") && html.contains("id=\"tickets-exempt\">¥40,500<"),
            "[{b}]"
        );
        staff.post(&format!("/tickets/{id}/refund"), &[("reason", "引っ越し")]).await;
        let (_, html) = staff.page(&format!("/customers/{c}")).await;
        assert!(html.contains("払い戻し済み") && html.contains("¥40,500"), "[{b}] refunded 9/10 of ¥45,000");
        assert!(!html.contains(&format!("action=\"/tickets/{id}/use\"")), "[{b}] no more uses offered");
        // A use sent from a page shown before the refund (another till): said at the row.
        let (status, _, html) =
            staff.post(&format!("/tickets/{id}/use"), &[("key", "ui-after-refund"), ("note", "")]).await;
        assert_eq!(status, 422, "[{b}] the ticket is no longer usable");
        assert!(common::field_error(&html, &format!("ticket-use-{id}-form")).is_some(), "[{b}] said at its row");

        // Ending a plan's sale takes it off the customer page.
        let (_, html) = owner.page("/tickets").await;
        let toggle = &html[html.find("action=\"/tickets/plans/").unwrap()..];
        let path = toggle["action=\"".len()..].split('"').next().unwrap().to_string();
        let stop = [("name", "10回券"), ("visits", "10"), ("price", "¥45,000"), ("valid_months", "6")];
        let (status, _, _) = owner.post(&path, &stop).await;
        assert_eq!(status, 303);
        let (_, html) = staff.page(&format!("/customers/{c}")).await;
        assert!(!html.contains("id=\"ticket-sell\"") && html.contains("販売中の回数券プランがありません"), "[{b}]");
    }
}

#[tokio::test]
async fn memberships_are_started_renewed_and_cancelled_from_the_web_pages() {
    for b in backends() {
        let t = spawn(b).await;
        let owner = Session { t: &t, cookie: t.login_cookie("owner").await };
        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let plan = [("name", "月額会員"), ("price", "3,300"), ("period_months", "1"), ("active", "1")];
        let (status, _, _) = staff.post("/memberships/plans", &plan).await;
        assert_eq!(status, 403, "[{b}] plans are the owner's");
        let (_, location, _) = owner.post("/memberships/plans", &plan).await;
        assert_eq!(location, "/memberships", "[{b}]");

        let c = t.customer(json!({"family_name": "松本", "given_name": "凛", "phone": "090-8100-0001"})).await;
        let (_, html) = staff.page(&format!("/customers/{c}")).await;
        let start_form = &html[html.find("id=\"membership-start\"").expect("start form")..];
        let plan_id = start_form.split("<option value=\"").nth(1).unwrap().split('"').next().unwrap().to_string();
        let key = form_value(start_form, "key");
        for _ in 0..2 {
            staff
                .post(&format!("/customers/{c}/memberships"), &[("plan_id", plan_id.as_str()), ("key", key.as_str())])
                .await;
        }
        let ms = t.app.customer_memberships(c).await.unwrap();
        assert_eq!(ms.len(), 1, "[{b}] the same form sent twice starts one membership");
        let id = ms[0].id;

        let (_, html) = staff.page(&format!("/customers/{c}")).await;
        let change_form = &html[html.find(&format!("action=\"/memberships/{id}/change\"")).unwrap()..];
        let key = form_value(change_form, "key");
        for _ in 0..2 {
            staff.post(&format!("/memberships/{id}/change"), &[("key", key.as_str()), ("action", "renew")]).await;
        }
        assert_eq!(t.app.membership(id).await.unwrap().renewals, 1, "[{b}] a double click renews once");
        // A cancellation without a reason comes back beside its row with the note as typed.
        let no_reason = [("key", key.as_str()), ("action", "cancel"), ("reason", ""), ("note", "大阪へ")];
        let (status, _, html) = staff.post(&format!("/memberships/{id}/change"), &no_reason).await;
        assert_eq!(status, 422, "[{b}]");
        assert!(common::field_error(&html, &format!("membership-cancel-{id}-reason")).is_some(), "[{b}]");
        assert!(html.contains("value=\"大阪へ\"") && html.contains("<details open>"), "[{b}] kept, box open");
        assert_eq!(t.app.membership(id).await.unwrap().status, "active", "[{b}] not cancelled");
        let cancel = [("key", key.as_str()), ("action", "cancel"), ("reason", "moved"), ("note", "大阪へ")];
        let (_, location, _) = staff.post(&format!("/memberships/{id}/change"), &cancel).await;
        assert!(location.contains("memberships=1"), "[{b}] {location}");
        let (_, html) = staff.page(&format!("/customers/{c}")).await;
        assert!(
            html.contains(&format!("id=\"membership-status-{id}\">解約済み<")) && html.contains("転居 大阪へ"),
            "[{b}]"
        );
        assert!(
            html.contains("月額会員 加入") && html.contains("月額会員 解約"),
            "[{b}] membership events on the timeline"
        );

        // Renewing a cancelled membership (a page shown before the cancellation): said at its row.
        let (status, _, html) =
            staff.post(&format!("/memberships/{id}/change"), &[("key", "ui-late"), ("action", "renew")]).await;
        assert_eq!(status, 422, "[{b}]");
        assert!(common::field_error(&html, &format!("membership-change-{id}-form")).is_some(), "[{b}] at its row");

        let (_, html) = staff.page("/memberships").await;
        assert!(html.contains("id=\"churn-reasons\"") && html.contains("月額会員"), "[{b}]");
        let moved = html.split("<td>転居</td><td class=\"num\">").nth(1).unwrap().split('<').next().unwrap();
        assert_eq!(moved, "1", "[{b}] the reason is counted");
    }
}

#[tokio::test]
async fn perks_are_defined_and_shown_on_the_customer_page() {
    for b in backends() {
        let t = spawn(b).await;
        let mut programme = t.app.points_programme().await.unwrap();
        programme.ranks.enabled = true;
        t.app.set_points_programme(&joren_app::Actor::system("test"), programme).await.unwrap();
        let owner = Session { t: &t, cookie: t.login_cookie("owner").await };
        let staff = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (_, html) = owner.page("/perks").await;
        assert!(html.contains("id=\"perk-new\"") && html.contains("<option value=\"2\">ゴールド</option>"), "[{b}]");
        let (status, _, html) =
            owner.post("/perks", &[("name", "先行予約"), ("kind", "priority_booking"), ("active", "1")]).await;
        assert_eq!(status, 422, "[{b}]");
        assert!(common::field_error(&html, "gate").is_some(), "[{b}] a gate is required, said beside the gates");
        assert!(
            html.contains("value=\"先行予約\"") && html.contains("value=\"priority_booking\" selected"),
            "[{b}] kept"
        );
        let perk = [
            ("name", "先行予約"),
            ("kind", "priority_booking"),
            ("min_rank_level", "2"),
            ("description", "新作を1週間早く"),
            ("active", "1"),
        ];
        let (status, _, _) = staff.post("/perks", &perk).await;
        assert_eq!(status, 403, "[{b}]");
        let (_, location, _) = owner.post("/perks", &perk).await;
        assert_eq!(location, "/perks", "[{b}]");

        let gold = t.customer(json!({"family_name": "佐々木", "given_name": "光", "phone": "090-9100-0001"})).await;
        let other = t.customer(json!({"family_name": "佐々木", "given_name": "影", "phone": "090-9100-0002"})).await;
        staff.post(&format!("/customers/{gold}/rank"), &[("tier", "2"), ("reason", "招待")]).await;
        let (_, html) = staff.page(&format!("/customers/{gold}")).await;
        assert!(
            html.contains("✓ <strong>先行予約</strong>") && html.contains("ランク ゴールド 以上"),
            "[{b}] open to ゴールド"
        );
        let (_, html) = staff.page(&format!("/customers/{other}")).await;
        assert!(html.contains("✗ <strong>先行予約</strong>"), "[{b}] closed, with what is needed");

        let (_, html) = owner.page("/perks").await;
        let id = html.split("id=\"perk-end-").nth(1).unwrap().split('"').next().unwrap().to_string();
        let end_form = &html[html.find("id=\"perk-end-").unwrap()..];
        let fields: Vec<(String, String)> =
            ["name", "description", "kind", "min_rank_level", "membership_plan_id", "segment_id"]
                .iter()
                .map(|n| (n.to_string(), form_value(end_form, n)))
                .collect();
        let form: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let (_, location, _) = owner.post(&format!("/perks/{id}"), &form).await;
        assert_eq!(location, "/perks", "[{b}] ended");
        let (_, html) = staff.page(&format!("/customers/{gold}")).await;
        assert!(!html.contains("先行予約"), "[{b}] an ended perk is no longer listed");
    }
}
