//! Words, not codes: every main page, in Japanese and in English, read as a person reads it
//! (the visible text, tags and attributes left out). No internal code may show on either, and
//! the English pages may hold no Japanese in their fixed texts — the shop's own data here is
//! typed in ASCII, so any Japanese left on an English page is ours (the default rank names,
//! the shop's to rename, are taken out first).

use serde_json::json;

use super::common::{Session, backends};

/// The text a reader sees: no script, style, code, tags or attributes; entities decoded.
fn visible(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(i) = rest.find('<') {
        out.push_str(&rest[..i]);
        out.push(' ');
        let tail = &rest[i..];
        let skip_to = if tail.starts_with("<script") {
            tail.find("</script>").map(|j| j + 9)
        } else if tail.starts_with("<style") {
            tail.find("</style>").map(|j| j + 8)
        } else if tail.starts_with("<code") {
            // What the reader is meant to type as it is (template variables): not words.
            tail.find("</code>").map(|j| j + 7)
        } else {
            tail.find('>').map(|j| j + 1)
        };
        rest = &tail[skip_to.unwrap_or(tail.len())..];
    }
    out.push_str(rest);
    out.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&#39;", "'")
}

/// Codes that once leaked onto pages; none may show again.
const CODES: &[&str] = &[
    "store / ",
    "ec / ",
    "import:",
    "staff:",
    "api:",
    "consent_",
    "external_id",
    "full_name_kana",
    "family_name",
    "given_name",
    "segment =",
    "churn band",
    "needs_attention",
    "at_risk",
    "partially_refunded",
    "priority_booking",
    "limited_product",
    "merge_id",
    "▲ evaluation",
    "customer が",
    "line,reason",
    "NotFound",
    "Invalid URL",
];

fn japanese(text: &str) -> Vec<String> {
    text.split(|c: char| c.is_whitespace())
        .filter(|w| {
            w.chars().any(|c| matches!(c, '\u{3040}'..='\u{30ff}' | '\u{4e00}'..='\u{9fff}' | '\u{ff01}'..='\u{ff5e}'))
        })
        .map(str::to_string)
        .collect()
}

#[tokio::test]
async fn every_main_page_in_both_languages_shows_words_not_codes() {
    for b in backends() {
        let config = joren_app::AppConfig { line_channel_secret: Some("words-secret".into()), ..Default::default() };
        let t = super::common::spawn_with(b, config).await;
        let line_user = "U0000000000000000000000000000a0a0";
        let id = t
            .customer(json!({"family_name": "Yamada", "given_name": "Hanako", "email": "hanako@example.com",
                             "phone": "090-1234-5678", "acquisition_source": "store", "tags": ["VIP"],
                             "line_user_id": line_user}))
            .await;
        // A LINE message: a conversation in the inbox.
        let now = chrono::Utc::now().timestamp_millis();
        let hello = super::common::line_api::text_event("w-1", line_user, now, "Can I book for tomorrow?");
        let status = super::common::line_api::post_webhook(&t.client, &t.url(""), "words-secret", &[hello]).await;
        assert_eq!(status, 200, "[{b}]");
        let body = json!({"customer_id": id, "external_id": "W-1", "channel": "store",
                          "items": [{"name": "Blend beans", "quantity": 2, "unit_price": 1500, "tax_rate": 8},
                                    {"name": "Mug", "quantity": 1, "unit_price": 2200}]});
        let (_, order) = t.post(&t.staff_token, "/api/v1/orders", &body).await;
        let oid = order["id"].as_i64().unwrap();
        let (s, _) = t
            .post(
                &t.staff_token,
                &format!("/api/v1/orders/{oid}/refunds"),
                &json!({"amount": 100, "reason": "Scratched"}),
            )
            .await;
        assert!(s < 300, "[{b}] refund {s}");
        let (s, _) = t
            .send(
                reqwest::Method::PUT,
                &t.staff_token,
                &format!("/api/v1/customers/{id}/consents/email"),
                &json!({"granted": true}),
            )
            .await;
        assert!(s < 300, "[{b}] consent {s}");
        let (_, plan) = t
            .post(
                &t.owner_token,
                "/api/v1/ticket-plans",
                &json!({"name": "Ten visits", "visits": 10, "price": 9000, "valid_months": 6}),
            )
            .await;
        t.post_keyed(&format!("/api/v1/customers/{id}/tickets"), Some("w1"), &json!({"plan_id": plan["id"]})).await;
        let (_, mplan) = t
            .post(
                &t.owner_token,
                "/api/v1/membership-plans",
                &json!({"name": "Monthly beans", "price": 3000, "period_months": 1}),
            )
            .await;
        t.post_keyed(&format!("/api/v1/customers/{id}/memberships"), Some("m1"), &json!({"plan_id": mplan["id"]}))
            .await;
        t.post(&t.owner_token, "/api/v1/products", &json!({"name": "Blend beans", "unit_price": 1620, "tax_rate": 8}))
            .await;
        let mut programme = t.app.points_programme().await.unwrap();
        programme.ranks.enabled = true;
        t.app.set_points_programme(&joren_app::Actor::system("test"), programme.clone()).await.unwrap();
        t.post(
            &t.owner_token,
            "/api/v1/perks",
            &json!({"name": "Early access", "kind": "priority_booking", "min_rank_level": 1}),
        )
        .await;
        let (s, v) = t
            .post(
                &t.staff_token,
                &format!("/api/v1/customers/{id}/interactions"),
                &json!({"kind": "phone", "subject": "Thanks call"}),
            )
            .await;
        assert_eq!(s, 201, "[{b}] {v}");
        let tiers: Vec<String> = programme.ranks.tiers.iter().map(|x| x.name.clone()).collect();

        let pages = [
            "/".to_string(),
            "/customers".into(),
            format!("/customers/{id}"),
            format!("/customers/{id}/edit"),
            "/customers/new".into(),
            "/counter".into(),
            format!("/counter/{id}"),
            format!("/orders/{oid}"),
            "/dashboard".into(),
            "/segments".into(),
            "/points".into(),
            "/settings/points".into(),
            "/tickets".into(),
            "/memberships".into(),
            "/perks".into(),
            "/products".into(),
            "/tasks".into(),
            "/inbox".into(),
            "/inbox?view=all".into(),
            "/inbox/1".into(),
            "/import".into(),
            "/jobs".into(),
            "/settings/mail".into(),
            "/settings/webhooks".into(),
            "/audit".into(),
            "/users".into(),
            "/customers/duplicates".into(),
            format!("/customers/{id}/card"),
            format!("/customers/merge?keep={id}&merge={id}"),
            "/no/such/page".into(),
            "/customers/abc".into(),
            // Pages that show the shop's ready-made Japanese messages and scenarios (data):
            // checked for codes only.
            "/scenarios".into(),
            "/scenarios/new".into(),
            "/templates".into(),
            "/segments/new".into(),
            "/outbox".into(),
        ];
        let data_pages = ["/scenarios", "/scenarios/new", "/templates", "/segments/new", "/outbox"];
        let owner = Session { t: &t, cookie: t.login_cookie("owner").await };
        let en = Session { t: &t, cookie: format!("{}; joren_lang=en", owner.cookie) };
        let mut found = Vec::new();
        for page in &pages {
            for (lang, s) in [("ja", &owner), ("en", &en)] {
                let (_, html) = s.page(page).await;
                let text = visible(&html);
                for code in CODES {
                    if text.contains(code) {
                        found.push(format!("{lang} {page}: code {code:?}"));
                    }
                }
                if lang == "en" && !data_pages.contains(&page.as_str()) {
                    // Not fixed texts: the shop's own words (its rank names, and until it names
                    // itself the default shop name), the honorific of every customer's name
                    // (DESIGN.md: names surname-first with 様, in both languages), and 日本語,
                    // the link that switches to Japanese.
                    let mut text =
                        text.replace("日本語", "").replace("Joren のお店", "").replace(" 様", "").replace(" 御中", "");
                    for tier in &tiers {
                        text = text.replace(tier.as_str(), "");
                    }
                    let words = japanese(&text);
                    if !words.is_empty() {
                        found.push(format!("en {page}: Japanese {words:?}"));
                    }
                }
            }
        }
        assert!(found.is_empty(), "[{b}]\n{}", found.join("\n"));

        // Refused forms name the field by its label, in the reader's language.
        let (status, _, html) = owner.post(&format!("/customers/{id}/merge"), &[("merge_id", "abc")]).await;
        assert_eq!(status, 422, "[{b}]");
        let message = super::common::field_error(&html, "merge_id").unwrap_or_default();
        assert_eq!(message, "数字ではありません: abc", "[{b}] beside the merge box");
        let (_, _, html) = en.post(&format!("/customers/{id}/merge"), &[("merge_id", "abc")]).await;
        let message = super::common::field_error(&html, "merge_id").unwrap_or_default();
        assert_eq!(message, "Not a number: abc", "[{b}]");
        let form = [("action", "grant"), ("points", "たくさん"), ("reason", "x")];
        let (status, _, html) = en.post(&format!("/customers/{id}/points"), &form).await;
        let message = super::common::field_error(&html, "points").unwrap_or_default();
        assert_eq!(status, 422, "[{b}]");
        assert_eq!(message, "Not a number: たくさん", "[{b}] the rule in English, the typed value as typed");
    }
}
