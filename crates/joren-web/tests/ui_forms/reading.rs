//! Pages that read people as they write (both backends where data is stored): the customer
//! form taking 和暦, full-width digits, a stripped postal code, a company by its ㈱ and the 47
//! prefectures; unknown addresses and bad ids answered with a page in the reader's language.

use serde_json::json;

use super::common::{self, Session, backends, spawn};

/// The customer form reads what a Japanese shop owner types: a 和暦 birthday, full-width
/// digits, a postal code that lost its leading zero, and a company written as a name (新規 only:
/// 個人 is just the preselected choice there).
#[tokio::test]
async fn the_customer_form_reads_japanese_input() {
    for b in backends() {
        let t = spawn(b).await;
        let s = Session { t: &t, cookie: t.login_cookie("staff").await };
        let (status, location, html) = s
            .post(
                "/customers/new",
                &[
                    ("kind", "person"),
                    ("family_name", "山田"),
                    ("given_name", "花子"),
                    ("birthday", "昭和55年3月3日"),
                    ("postal_code", "６００００１"),
                    ("prefecture", "京都"),
                    ("phone", "０９０－１２３４－５６７８"),
                ],
            )
            .await;
        assert_eq!(status, 303, "[{b}] {html}");
        let id: i64 = location.trim_start_matches("/customers/").parse().unwrap();
        let (_, c) = t.get(&t.staff_token, &format!("/api/v1/customers/{id}")).await;
        let got = ["birthday", "postal_code", "phone", "kind", "prefecture"].map(|k| c[k].clone());
        assert_eq!(
            got,
            [json!("1980-03-03"), json!("060-0001"), json!("+819012345678"), json!("person"), json!("京都府")],
            "[{b}] {c}"
        );
        // The edit form: 都道府県 is a list of the 47 with the customer's chosen.
        let (_, html) = s.page(&format!("/customers/{id}/edit")).await;
        assert!(html.contains("<option value=\"京都府\" selected>京都府</option>"), "[{b}] {html}");
        assert!(html.contains("<option value=\"沖縄県\">沖縄県</option>"), "[{b}]");

        let (status, location, _) =
            s.post("/customers/new", &[("kind", "person"), ("family_name", "（株）ジョーレン")]).await;
        assert_eq!(status, 303, "[{b}]");
        let id: i64 = location.trim_start_matches("/customers/").parse().unwrap();
        let (_, c) = t.get(&t.staff_token, &format!("/api/v1/customers/{id}")).await;
        assert_eq!((&c["kind"], &c["company_name"]), (&json!("account"), &json!("（株）ジョーレン")), "[{b}] {c}");
        assert_eq!(c["display_name"], "（株）ジョーレン 御中");
        // On the edit form the kind shown is kept: 個人 stays 個人.
        let (status, _, _) =
            s.post(&format!("/customers/{id}/edit"), &[("kind", "person"), ("family_name", "（株）ジョーレン")]).await;
        assert_eq!(status, 303);
        let (_, c) = t.get(&t.staff_token, &format!("/api/v1/customers/{id}")).await;
        assert_eq!(c["kind"], "person", "[{b}] an explicit choice on an existing customer is kept: {c}");

        // A date that does not exist is refused beside its field, what was typed kept.
        let (status, _, html) = s
            .post(
                "/customers/new",
                &[("kind", "person"), ("family_name", "鈴木"), ("birthday", "平成32年1月1日"), ("prefecture", "東")],
            )
            .await;
        assert_eq!(status, 422, "[{b}]");
        assert!(html.contains("<option value=\"東\" selected>東</option>"), "[{b}] a value not in the list is kept");
        assert!(html.contains("value=\"平成32年1月1日\"") && html.contains("昭和55年3月3日"), "[{b}] {html}");
    }
}

/// An address nothing answers, an id that is not a number and a method a page does not take
/// get the styled error page in the reader's language — never the
/// framework's plain English — and the API answers JSON.
#[tokio::test]
async fn unknown_addresses_and_bad_ids_get_a_page_a_person_can_read() {
    let t = spawn("sqlite").await;
    let s = Session { t: &t, cookie: t.login_cookie("staff").await };
    let en = Session { t: &t, cookie: format!("{}; joren_lang=en", s.cookie) };
    let get = |session: &Session<'_>, path: &str| {
        let r = t.client.get(t.url(path)).header("cookie", &session.cookie);
        async move {
            let r = r.send().await.unwrap();
            let kind = r.headers().get("content-type").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default();
            (r.status().as_u16(), kind, r.text().await.unwrap())
        }
    };
    let (status, kind, html) = get(&s, "/no-such-page").await;
    assert_eq!(status, 404);
    assert!(kind.starts_with("text/html") && html.contains("このページは見つかりませんでした"), "{kind} {html}");
    let (status, _, html) = get(&en, "/no-such-page").await;
    assert_eq!(status, 404);
    assert!(html.contains("There is no page at this address") && html.contains("lang=\"en\""), "{html}");
    for path in ["/customers/abc", "/orders/1x", "/customers/99999999999999999999999"] {
        let (status, kind, html) = get(&s, path).await;
        assert_eq!(status, 404, "{path}");
        assert!(kind.starts_with("text/html") && html.contains("番号の部分が正しくありません"), "{path}: {html}");
        assert!(!html.contains("Invalid URL") && !html.contains("Cannot parse"), "{path}: {html}");
    }
    // A method the page does not take.
    let r = t.client.delete(t.url("/customers")).header("cookie", &s.cookie).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 405);
    assert!(r.text().await.unwrap().contains("その操作はできません"));
    // The API answers JSON, for an unknown address too.
    let (status, v) = t.get(&t.staff_token, "/api/v1/no-such-thing").await;
    assert_eq!((status, v["error"]["code"].as_str()), (404, Some("not_found")), "{v}");
    let r = t.client.get(t.url("/api/nothing")).send().await.unwrap();
    assert_eq!(r.status().as_u16(), 404);
    let v: serde_json::Value = r.json().await.unwrap();
    assert_eq!(v["error"]["code"], "not_found", "{v}");
    let (status, v) = t.get(&t.staff_token, "/api/v1/customers/abc").await;
    assert_eq!(status, 400, "{v}");
    assert!(v["error"]["code"].is_string(), "{v}");
}

/// The customer page words what is stored as codes or formats: the acquisition source, and
/// the birthday in each language's way.
#[tokio::test]
async fn the_customer_page_shows_words_not_codes() {
    let t = spawn("sqlite").await;
    let s = Session { t: &t, cookie: t.login_cookie("staff").await };
    let id = t
        .customer(json!({"family_name": "山田", "birthday": "1980-03-03", "acquisition_source": "ec", "acquisition_campaign": "春の市"}))
        .await;
    let (_, html) = s.page(&format!("/customers/{id}")).await;
    assert!(html.contains("EC・通販 / 春の市") && html.contains("1980年3月3日"), "{html}");
    assert!(!html.contains(">ec /") && !html.contains("ec / 春の市"), "{html}");
    let en = Session { t: &t, cookie: format!("{}; joren_lang=en", s.cookie) };
    let (_, html) = en.page(&format!("/customers/{id}")).await;
    assert!(html.contains("Online shop / 春の市") && html.contains("1980-03-03"), "{html}");
    assert!(!html.contains("1980年"), "no Japanese date format in English: {html}");
}

/// The 回数券 and membership plan forms read numbers as typed in Japan (full-width, ￥, 1,000)
/// and show every problem at once, each by its label.
#[tokio::test]
async fn plan_forms_read_full_width_numbers_and_show_every_error() {
    let t = spawn("sqlite").await;
    let owner = Session { t: &t, cookie: t.login_cookie("owner").await };
    let plan = [
        ("name", "カット5回券"),
        ("visits", "５"),
        ("price", "￥１２，０００"),
        ("valid_months", "６"),
        ("active", "1"),
    ];
    let (status, _, _) = owner.post("/tickets/plans", &plan).await;
    assert_eq!(status, 303);
    let (_, plans) = t.get(&t.owner_token, "/api/v1/ticket-plans").await;
    let p = &plans["items"][0];
    assert_eq!((&p["visits"], &p["price"], &p["valid_months"]), (&json!(5), &json!(12000), &json!(6)), "{plans}");

    let (status, _, html) =
        owner.post("/tickets/plans", &[("name", ""), ("visits", "abc"), ("price", "1"), ("valid_months", "-1")]).await;
    assert_eq!(status, 422);
    assert!(common::field_error(&html, "name").is_some(), "every error at once, each beside its field");
    assert_eq!(common::field_error(&html, "visits").as_deref(), Some("数字ではありません: abc"));
    assert!(common::field_error(&html, "valid_months").is_some());
    assert!(common::field_error(&html, "price").is_none());
    assert!(html.contains("value=\"abc\"") && html.contains("value=\"-1\""), "what was typed is kept");

    let (status, _, _) = owner
        .post(
            "/memberships/plans",
            &[("name", "定期便"), ("price", "３，３００円"), ("period_months", "１"), ("active", "1")],
        )
        .await;
    assert_eq!(status, 303);
    let (status, _, html) =
        owner.post("/memberships/plans", &[("name", "x"), ("price", "たくさん"), ("period_months", "0")]).await;
    assert_eq!(status, 422);
    assert_eq!(common::field_error(&html, "price").as_deref(), Some("数字ではありません: たくさん"));
    assert!(common::field_error(&html, "period_months").is_some());
    assert!(html.contains("value=\"たくさん\""), "what was typed is kept");
}

/// The customer form puts each problem beside its field (and lists them all above), keeps what
/// was typed, names the 10,000-character limit of a note; a long note folds on the customer page.
#[tokio::test]
async fn customer_form_errors_sit_beside_their_fields_and_long_notes_fold() {
    for b in backends() {
        let t = spawn(b).await;
        let s = Session { t: &t, cookie: t.login_cookie("staff").await };
        let too_long = "あ".repeat(10_001);
        let (status, _, html) = s
            .post(
                "/customers/new",
                &[
                    ("kind", "person"),
                    ("family_name", "長井"),
                    ("email", "nagai@"),
                    ("notes", &too_long),
                    ("birthday", "昭和99年1月1日"),
                ],
            )
            .await;
        assert_eq!(status, 422, "[{b}]");
        let beside = |field: &str| {
            html.split(&format!("id=\"error-{field}\">")).nth(1).map(|r| r.split('<').next().unwrap().to_string())
        };
        assert!(beside("email").is_some_and(|e| e.contains("nagai@")), "[{b}] the email's error beside it");
        assert!(beside("notes").is_some_and(|e| e.contains("10000")), "[{b}] the limit named: {:?}", beside("notes"));
        assert!(beside("birthday").is_some(), "[{b}] the era date beside its field");
        assert!(beside("family_name").is_none(), "[{b}] a good field has no error");
        assert!(html.contains("id=\"form-errors\""), "[{b}] all of them above too");
        assert!(html.contains("value=\"長井\"") && html.contains(&too_long), "[{b}] what was typed is kept");
        assert!(html.contains("10,000文字まで"), "[{b}] the limit is said before typing");

        let note = format!("{}\n2行目\n3行目\n4行目: 最後まで読むと分かること", "初回来店。".repeat(10));
        let id = t.customer(json!({"family_name": "長井", "notes": note})).await;
        let (_, html) = s.page(&format!("/customers/{id}")).await;
        let folded = html.split("<details class=\"long-text\">").nth(1).expect("the long note folds");
        assert!(folded.contains("初回来店。初回来店。") && folded.contains("全文を表示"), "[{b}]");
        assert!(folded.contains("4行目: 最後まで読むと分かること"), "[{b}] the whole note a click away");
        let short = t.customer(json!({"family_name": "短", "notes": "短いメモ"})).await;
        let (_, html) = s.page(&format!("/customers/{short}")).await;
        assert!(!html.contains("<details class=\"long-text\">") && html.contains("短いメモ"), "[{b}]");
    }
}
