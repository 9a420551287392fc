//! CSV import and export through the API, on SQLite and PostgreSQL.

mod common;

use common::{TestApp, backends, spawn};
use serde_json::{Value, json};

async fn import(t: &TestApp, kind: &str, query: &str, body: Vec<u8>) -> (u16, Value) {
    let r = t
        .client
        .post(t.url(&format!("/api/v1/import/{kind}{query}")))
        .bearer_auth(&t.staff_token)
        .header("content-type", "text/csv")
        .body(body)
        .send()
        .await
        .unwrap();
    let s = r.status().as_u16();
    (s, r.json().await.unwrap())
}

fn rejected_lines(report: &Value) -> Vec<u64> {
    report["rejected"].as_array().unwrap().iter().map(|r| r["line"].as_u64().unwrap()).collect()
}

const CUSTOMERS: &str = "顧客番号,姓,名,セイ,メイ,メールアドレス,電話番号,郵便番号,都道府県,メルマガ,備考\r\n\
M001,山田,太郎,やまだ,たろう,taro@example.jp,090-1234-5678,100-0001,東京都,はい,①番窓口の常連\r\n\
M002,佐藤,花子,ｻﾄｳ,ﾊﾅｺ,hanako@example,03-1111-2222,,大阪府,,\r\n\
M003,鈴木,一郎,スズキ,イチロウ,ichiro@example.jp,,5300001,大阪府,いいえ,\r\n\
M004,高橋,,タカハシ,,,12,,,,\r\n\
M005,田中,美咲,Tanaka,ミサキ,misaki@example.jp,,,,,\r\n\
M006,伊藤,健,イトウ,ケン,taro@example.jp,,,,,\r\n\
M007,渡辺,直子,ワタナベ,ナオコ,naoko@example.jp,080-2222-3333,,東京,たぶん,\r\n";

#[tokio::test]
async fn shift_jis_customers_with_bad_rows_import_once() {
    for b in backends() {
        let t = spawn(b).await;
        let (sjis, _, had_errors) = encoding_rs::SHIFT_JIS.encode(CUSTOMERS);
        assert!(!had_errors);
        let (s, report) = import(&t, "customers", "", sjis.to_vec()).await;
        assert_eq!(s, 200, "{report}");
        assert_eq!(report["encoding"], "Shift_JIS");
        assert_eq!(report["rows"], 7);
        assert_eq!(report["created"], 5, "[{b}] {report}");
        // line 6: latin kana; 7: same email as line 2 — rejected. Lines 3 (bad email), 5 (bad
        // phone) and 8 (consent flag): imported without the unreadable values (line 8's 東京 is
        // read as 東京都).
        assert_eq!(rejected_lines(&report), vec![6, 7], "{report}");
        let reasons: Vec<&str> =
            report["rejected"].as_array().unwrap().iter().map(|r| r["reason"].as_str().unwrap()).collect();
        assert!(reasons[0].starts_with("family_name_kana"), "{reasons:?}");
        assert!(reasons[1].contains("2 行目"), "{reasons:?}");
        assert_eq!(report["rejected"][0]["record"][1], "田中", "the rejected row's cells come back decoded");
        let dropped: Vec<(u64, Vec<String>)> = report["notes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                let codes = n["dropped"].as_array().unwrap().iter().map(|d| format!("{}:{}", d["field"], d["code"]));
                (n["line"].as_u64().unwrap(), codes.map(|c| c.replace('"', "")).collect())
            })
            .collect();
        assert_eq!(
            dropped,
            [
                (3, vec!["email:bad_email".to_string()]),
                (5, vec!["phone:no_such_phone_number".to_string()]),
                (8, vec!["consent_email:bad_yes_no".to_string()]),
            ],
            "[{b}] {report}"
        );
        assert!(report["notes"][0]["message"].as_str().unwrap().starts_with("email: "), "{report}");

        let (_, page) = t.get(&t.staff_token, "/api/v1/customers?q=%E3%82%84%E3%81%BE%E3%81%A0").await;
        assert_eq!(page["total"], 1);
        let id = page["items"][0]["id"].as_i64().unwrap();
        let (_, c) = t.get(&t.staff_token, &format!("/api/v1/customers/{id}")).await;
        assert_eq!(c["given_name_kana"], "タロウ");
        assert_eq!(c["phone"], "+819012345678");
        assert_eq!(c["notes"], "①番窓口の常連", "CP932 extension characters survive");
        assert_eq!(c["consents"][0]["granted"], true);
        assert_eq!(c["consents"][0]["source"], "import:csv");
        assert_eq!(c["external_ids"][0], json!({"system": "csv", "external_id": "M001"}));

        // The same file again: nothing new, nothing duplicated.
        let (_, again) = import(&t, "customers", "", sjis.to_vec()).await;
        assert_eq!(again["created"], 0, "{again}");
        assert_eq!(again["unchanged"], 5);
        let (_, all) = t.get(&t.staff_token, "/api/v1/customers").await;
        assert_eq!(all["total"], 5, "[{b}] re-import created duplicates");

        // A fixed file updates the matched customer instead of adding one.
        let fixed = "顧客番号,姓,メールアドレス,電話番号\nM001,山田,taro@example.jp,090-9999-0000\n";
        let (_, upd) = import(&t, "customers", "", fixed.as_bytes().to_vec()).await;
        assert_eq!((upd["created"].as_u64(), upd["updated"].as_u64()), (Some(0), Some(1)), "{upd}");
        assert_eq!(upd["encoding"], "UTF-8");
    }
}

#[tokio::test]
async fn utf8_bom_english_headers_and_mapping_override() {
    let t = spawn("sqlite").await;
    let mut body = b"\xEF\xBB\xBF".to_vec();
    body.extend("Last Name,First Name,E-mail,Contact\nKimura,Taku,taku@example.jp,070-1234-5678\n".as_bytes());
    let (_, r) = import(&t, "customers", "?map=phone%3DContact", body).await;
    assert_eq!(r["created"], 1, "{r}");
    assert!(r["mapping"].as_array().unwrap().contains(&json!(["phone", "Contact"])), "{r}");
    let (_, page) = t.get(&t.staff_token, "/api/v1/customers?q=07012345678").await;
    assert_eq!(page["items"][0]["display_name"], "Kimura Taku 様");
    let (s, e) = import(&t, "customers", "?map=nope%3DContact", b"a\n1\n".to_vec()).await;
    assert_eq!(s, 422);
    assert_eq!(e["error"]["field"], "mapping");
}

const ORDERS: &str = "注文番号,顧客番号,メールアドレス,氏名,注文日,商品コード,商品名,カテゴリ,数量,単価,税率,販売チャネル\n\
A-1,C1,aoi@example.jp,青木 葵,2026-01-05,BN-1,ブレンド,珈琲豆,2,1400,8%,店舗\n\
A-1,C1,aoi@example.jp,青木 葵,2026-01-05,TL-1,ドリッパー,器具,1,3300,10%,店舗\n\
A-2,C1,aoi@example.jp,青木 葵,2026-02-10,BN-2,マンデリン,珈琲豆,abc,1700,8%,通販\n\
A-3,C2,,,2026-02-11,BN-1,ブレンド,珈琲豆,1,1400,8%,通販\n\
A-4,,,,2026-02-12,BN-1,ブレンド,珈琲豆,1,1400,8%,通販\n\
A-5,C1,aoi@example.jp,青木 葵,,BN-1,ブレンド,珈琲豆,1,1400,8%,店舗\n\
A-6,C3,kin@example.jp,金子 誠,2026-03-01,BN-1,ブレンド,珈琲豆,1,1400,5%,店舗\n";

#[tokio::test]
async fn orders_import_groups_lines_rejects_bad_rows_and_reruns_cleanly() {
    for b in backends() {
        let t = spawn(b).await;
        let (s, r) = import(&t, "orders", "", ORDERS.as_bytes().to_vec()).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["rows"], 7);
        assert_eq!(r["created"], 2, "[{b}] A-1 (two lines) and A-3: {r}");
        assert_eq!(r["customers_created"], 2);
        assert_eq!(rejected_lines(&r), vec![4, 6, 7, 8], "{r}");
        let reasons: Vec<&str> =
            r["rejected"].as_array().unwrap().iter().map(|x| x["reason"].as_str().unwrap()).collect();
        assert!(reasons[0].contains("quantity"), "{reasons:?}");
        assert!(reasons[1].contains("氏名・メール・電話のいずれかが必要です"), "{reasons:?}");
        assert!(reasons[2].contains("ordered_at"), "{reasons:?}");
        assert!(reasons[3].contains("tax_rate"), "{reasons:?}");

        let (_, orders) = t.get(&t.staff_token, "/api/v1/orders").await;
        assert_eq!(orders["total"], 2);
        let a1 = orders["items"].as_array().unwrap().iter().find(|o| o["external_id"] == "A-1").unwrap().clone();
        assert_eq!(a1["items"].as_array().unwrap().len(), 2);
        assert_eq!(a1["total"], 2 * 1400 + 3300);
        assert_eq!(a1["ordered_at"], "2026-01-04T15:00:00Z", "plain dates are midnight in Asia/Tokyo");
        assert_eq!(a1["channel"], "store");
        let (_, c) = t.get(&t.staff_token, &format!("/api/v1/customers/{}", a1["customer_id"])).await;
        assert_eq!(c["display_name"], "青木 葵 様");
        assert_eq!(c["external_ids"][0]["external_id"], "C1");

        let (_, again) = import(&t, "orders", "", ORDERS.as_bytes().to_vec()).await;
        assert_eq!(again["created"], 0, "{again}");
        assert_eq!(again["skipped_existing"], 2);
        assert_eq!(again["customers_created"], 0);
        let (_, orders) = t.get(&t.staff_token, "/api/v1/orders").await;
        assert_eq!(orders["total"], 2, "[{b}] re-import duplicated orders");
    }
}

/// The bulk paths write texts as they were read: PostgreSQL's COPY has its own escapes (a
/// backslash, tab or line break inside a value, `\N` for NULL) and SQLite binds them.
#[tokio::test]
async fn order_lines_with_backslashes_tabs_and_line_breaks_read_back_exactly() {
    let names = ["円\\マーク \\N", "タブ\tの\t名前", "二行\nの名前", "\\."];
    for b in backends() {
        let t = spawn(b).await;
        let mut csv = String::from("注文番号,顧客番号,注文日,商品コード,商品名,カテゴリ,数量,単価,税率\n");
        for (i, name) in names.iter().enumerate() {
            let quoted = format!("\"{name}\"");
            csv.push_str(&format!("E-1,C1,2026-01-05,SKU\\{i},{quoted},\\N,1,{},8%\n", 100 * (i + 1)));
        }
        let (s, r) = import(&t, "orders", "", csv.into_bytes()).await;
        assert_eq!((s, r["created"].as_u64()), (200, Some(1)), "[{b}] {r}");
        let (_, orders) = t.get(&t.staff_token, "/api/v1/orders").await;
        let items = orders["items"][0]["items"].as_array().unwrap();
        let read: Vec<(&str, &str, &str)> = items
            .iter()
            .map(|i| (i["sku"].as_str().unwrap(), i["name"].as_str().unwrap(), i["category"].as_str().unwrap()))
            .collect();
        let expected: Vec<(String, &str, &str)> =
            names.iter().enumerate().map(|(i, n)| (format!("SKU\\{i}"), *n, "\\N")).collect();
        let expected: Vec<(&str, &str, &str)> = expected.iter().map(|(s, n, c)| (s.as_str(), *n, *c)).collect();
        assert_eq!(read, expected, "[{b}]");
    }
}

#[tokio::test]
async fn orders_without_an_order_id_column_still_import_once() {
    let t = spawn("sqlite").await;
    let file = "customer_id,date,amount\n1,1997-01-01,29.33\n1,1997-01-01,29.33\n2,1997-01-12,11.77\n";
    let (_, r) = import(&t, "orders", "?map=line_amount%3Damount", file.as_bytes().to_vec()).await;
    // The shop currency is yen: cents are an error, not a silent rounding.
    assert_eq!(r["created"], 0, "{r}");
    assert_eq!(r["rejected"].as_array().unwrap().len(), 3);
    let file = "customer_id,date,amount\n1,1997-01-01,2933\n1,1997-01-01,2933\n2,1997-01-12,1177\n";
    let (_, r) = import(&t, "orders", "?map=line_amount%3Damount", file.as_bytes().to_vec()).await;
    assert_eq!(r["created"], 3, "two identical rows are two orders: {r}");
    let (_, r) = import(&t, "orders", "?map=line_amount%3Damount", file.as_bytes().to_vec()).await;
    assert_eq!((r["created"].as_u64(), r["skipped_existing"].as_u64()), (Some(0), Some(3)), "{r}");
}

/// A Shopify orders export, written from Shopify's documented column list (Admin → Orders →
/// Export): line items of one order on consecutive rows, order fields only on the first.
const SHOPIFY: &str = "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,Lineitem sku,Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,Billing Name,Billing Street,Billing Address1,Billing Address2,Billing Company,Billing City,Billing Zip,Billing Province,Billing Country,Billing Phone,Notes,Cancelled at,Payment Method,Refunded Amount,Vendor,Id,Tags,Source,Phone\n\
#1001,mei@example.jp,paid,2026-04-01 10:05:00 +0900,fulfilled,2026-04-02 09:00:00 +0900,yes,JPY,5100.00,600.00,436.00,5700.00,,0.00,ヤマト運輸,2026-04-01 10:00:00 +0900,2,つねやブレンド 200g,1400.00,,BN-BLD,true,true,fulfilled,森 芽衣,1-2-3,1-2-3,,,世田谷区,154-0001,JP-13,JP,090-5555-6666,,,Shopify Payments,0.00,つねや,5550001,,web,\n\
#1001,,,,,,,,,,,,,,,,1,ハンドドリッパー,2300.00,,TL-DRP,true,true,fulfilled,,,,,,,,,,,,,,,つねや,,,,\n\
#1002,mei@example.jp,partially_refunded,2026-04-10 12:00:00 +0900,fulfilled,,yes,JPY,3600.00,0.00,266.00,3600.00,WELCOME,200.00,,2026-04-10 11:55:00 +0900,2,エチオピア 200g,1900.00,,BN-ETH,true,true,fulfilled,森 芽衣,,,,,,,,,090-5555-6666,,,Shopify Payments,1000.00,つねや,5550002,,pos,\n\
#1003,ken@example.jp,voided,,unfulfilled,,no,JPY,1400.00,0.00,103.00,1400.00,,0.00,,2026-04-11 09:00:00 +0900,1,つねやブレンド 200g,1400.00,,BN-BLD,true,true,,石井 健,,,,,,,,,,,2026-04-11 10:00:00 +0900,,0.00,つねや,5550003,,web,\n";

#[tokio::test]
async fn shopify_orders_export_imports_with_refunds_and_cancellations() {
    for b in backends() {
        let t = spawn(b).await;
        let (s, r) = import(&t, "orders", "", SHOPIFY.as_bytes().to_vec()).await;
        assert_eq!(s, 200, "{r}");
        assert_eq!(r["preset"], "shopify", "detected from the headers");
        assert_eq!(r["created"], 3, "[{b}] {r}");
        assert_eq!(r["rejected"].as_array().unwrap().len(), 0, "{r}");
        assert_eq!(r["customers_created"], 2);
        let (_, orders) = t.get(&t.staff_token, "/api/v1/orders").await;
        let by =
            |name: &str| orders["items"].as_array().unwrap().iter().find(|o| o["external_id"] == name).unwrap().clone();
        let o1 = by("#1001");
        assert_eq!(o1["items"].as_array().unwrap().len(), 2);
        assert_eq!(o1["subtotal"], 2 * 1400 + 2300);
        assert_eq!(o1["total"], 5100 + 600);
        assert_eq!(o1["channel"], "ec");
        assert_eq!(o1["ordered_at"], "2026-04-01T01:00:00Z");
        let o2 = by("#1002");
        assert_eq!(o2["status"], "partially_refunded");
        assert_eq!(o2["refunded"], 1000);
        assert_eq!(o2["discount"], 200);
        assert_eq!(o2["channel"], "store");
        assert_eq!(by("#1003")["status"], "cancelled");
        assert_eq!(o1["customer_id"], o2["customer_id"], "one customer matched by email");
        let (_, c) = t.get(&t.staff_token, &format!("/api/v1/customers/{}", o1["customer_id"])).await;
        assert_eq!(c["display_name"], "森 芽衣 様");
        assert_eq!(c["phone"], "+819055556666");
        // The billing address comes along (Shopify's province code read as its name), and
        // "Accepts Marketing: yes" is an email consent with the import as its source.
        let got = ["postal_code", "prefecture", "city", "street"].map(|k| c[k].clone());
        assert_eq!(got, [json!("154-0001"), json!("東京都"), json!("世田谷区"), json!("1-2-3")], "[{b}] {c}");
        assert_eq!(
            (&c["consents"][0]["channel"], &c["consents"][0]["granted"]),
            (&json!("email"), &json!(true)),
            "{c}"
        );
        assert_eq!(c["consents"][0]["source"], "import:shopify", "[{b}] {c}");
        let ken = by("#1003")["customer_id"].clone();
        let (_, k) = t.get(&t.staff_token, &format!("/api/v1/customers/{ken}")).await;
        assert_eq!(k["consents"], json!([]), "[{b}] \"no\" records nothing, it is not an opt-out: {k}");

        // A customer already known, without a recorded choice, who accepts marketing in a later
        // export gets the consent; one who opted out keeps the opt-out.
        let (s, k2) = t
            .send(
                reqwest::Method::PUT,
                &t.staff_token,
                &format!("/api/v1/customers/{ken}/consents/email"),
                &json!({"granted": false, "source": "電話で"}),
            )
            .await;
        assert_eq!(s, 200, "{k2}");
        let later = SHOPIFY
            .replace("#1003,ken@example.jp,voided,,unfulfilled,,no,", "#1004,ken@example.jp,paid,,unfulfilled,,yes,")
            .replace("#1001", "#1011")
            .replace("#1002", "#1012");
        let (_, r2) = import(&t, "orders", "", later.into_bytes()).await;
        assert_eq!(r2["created"], 3, "[{b}] {r2} {k2}");
        let (_, k) = t.get(&t.staff_token, &format!("/api/v1/customers/{ken}")).await;
        assert_eq!(k["consents"][0]["granted"], false, "[{b}] an opt-out is never undone by an import: {k}");

        let (_, again) = import(&t, "orders", "", SHOPIFY.as_bytes().to_vec()).await;
        assert_eq!(again["skipped_existing"], 3);
        let (_, orders) = t.get(&t.staff_token, "/api/v1/orders").await;
        assert_eq!(orders["total"], 6);
        let (_, o) = t.get(&t.staff_token, &format!("/api/v1/orders/{}", o2["id"])).await;
        assert_eq!(o["adjustments"].as_array().unwrap().len(), 1, "the refund is not applied twice");
    }
}

/// Shopify's customers export, as it is today and as it was (`Address1`, `Accepts Marketing`):
/// detected by its headers, everything it holds about the customer kept (the default address
/// with its `JP-13` province code, company, tags, note), `yes` an email consent from the import,
/// `no` nothing; the Shopify id keeps a re-import from doubling anyone.
#[tokio::test]
async fn shopify_customers_export_imports_with_address_and_consents() {
    const NOW: &str = "Customer ID,First Name,Last Name,Email,Accepts Email Marketing,Default Address Company,\
Default Address Address1,Default Address Address2,Default Address City,Default Address Province Code,\
Default Address Country Code,Default Address Zip,Default Address Phone,Phone,Accepts SMS Marketing,Total Spent,\
Total Orders,Note,Tax Exempt,Tags\n\
'7012345678901,芽衣,森,mei@example.jp,yes,,桜新町1-2-3,メゾン桜 101,世田谷区,JP-13,JP,'154-0015,,+81 90-5555-6666,no,5700.00,2,ギフト包装希望,no,\"VIP, 珈琲豆\"\n\
'7012345678902,健,石井,ken@example.jp,no,株式会社石井商店,本町2-3-4,,大阪市中央区,JP-27,JP,'541-0053,,,no,0.00,0,,no,\n";
    const OLD: &str = "First Name,Last Name,Email,Company,Address1,Address2,City,Province,Province Code,Country,\
Country Code,Zip,Phone,Accepts Marketing,Total Spent,Total Orders,Tags,Note,Tax Exempt\n\
愛,早川,ai@example.jp,,大通西1,,札幌市中央区,Hokkaido,JP-01,Japan,JP,600001,090-1111-0000,yes,0.00,0,,,no\n";
    for b in backends() {
        let t = spawn(b).await;
        let (s, r) = import(&t, "customers", "", NOW.as_bytes().to_vec()).await;
        assert_eq!(s, 200, "[{b}] {r}");
        assert_eq!((r["preset"].as_str(), r["created"].as_i64()), (Some("shopify"), Some(2)), "[{b}] {r}");
        assert_eq!(r["rejected"].as_array().unwrap().len(), 0, "[{b}] {r}");
        let (_, list) = t.get(&t.staff_token, "/api/v1/customers?q=mei@example.jp").await;
        let (_, mei) = t.get(&t.staff_token, &format!("/api/v1/customers/{}", list["items"][0]["id"])).await;
        assert_eq!(mei["display_name"], "森 芽衣 様", "[{b}] family name from Last Name");
        let address = ["postal_code", "prefecture", "city", "street", "building"].map(|k| mei[k].clone());
        let expected = ["154-0015", "東京都", "世田谷区", "桜新町1-2-3", "メゾン桜 101"].map(|v| json!(v));
        assert_eq!(address, expected, "[{b}] {mei}");
        assert_eq!((&mei["phone"], &mei["notes"]), (&json!("+819055556666"), &json!("ギフト包装希望")), "[{b}]");
        assert_eq!(mei["tags"], json!(["VIP", "珈琲豆"]), "[{b}]");
        assert_eq!(mei["consents"].as_array().unwrap().len(), 1, "[{b}] sms 'no' records nothing: {mei}");
        assert_eq!((&mei["consents"][0]["channel"], &mei["consents"][0]["granted"]), (&json!("email"), &json!(true)));
        assert_eq!(mei["consents"][0]["source"], "import:shopify", "[{b}]");
        assert_eq!(mei["external_ids"][0]["system"], "shopify", "[{b}] {mei}");
        let (_, list) = t.get(&t.staff_token, "/api/v1/customers?q=ken@example.jp").await;
        let (_, ken) = t.get(&t.staff_token, &format!("/api/v1/customers/{}", list["items"][0]["id"])).await;
        // A person who gave their company with the address stays a person, the company kept.
        assert_eq!(
            (&ken["display_name"], &ken["company_name"]),
            (&json!("石井 健 様"), &json!("株式会社石井商店")),
            "[{b}]"
        );
        assert_eq!(
            (&ken["prefecture"], &ken["consents"]),
            (&json!("大阪府"), &json!([])),
            "[{b}] no is not an opt-out"
        );
        let (_, again) = import(&t, "customers", "", NOW.as_bytes().to_vec()).await;
        assert_eq!(again["created"], 0, "[{b}] a re-import doubles nobody: {again}");

        let (s, r) = import(&t, "customers", "", OLD.as_bytes().to_vec()).await;
        assert_eq!((s, r["preset"].as_str(), r["created"].as_i64()), (200, Some("shopify"), Some(1)), "[{b}] {r}");
        let (_, list) = t.get(&t.staff_token, "/api/v1/customers?q=ai@example.jp").await;
        let (_, ai) = t.get(&t.staff_token, &format!("/api/v1/customers/{}", list["items"][0]["id"])).await;
        let got = ["postal_code", "prefecture", "city", "street"].map(|k| ai[k].clone());
        assert_eq!(got, ["060-0001", "北海道", "札幌市中央区", "大通西1"].map(|v| json!(v)), "[{b}] {ai}");
        assert_eq!(ai["consents"][0]["granted"], true, "[{b}] Accepts Marketing: yes");
    }
}

#[tokio::test]
async fn exports_have_bom_escape_formulas_and_round_trip() {
    for b in backends() {
        let t = spawn(b).await;
        t.customer(json!({"family_name": "=HYPERLINK(\"http://evil\")", "given_name": "太郎", "email": "evil@example.jp", "notes": "+1 とても大事", "tags": ["@vip"]}))
            .await;
        t.customer(json!({"family_name": "安全", "email": "safe@example.jp", "phone": "090-1234-5678", "consents": {"email": true},
                          "gender": "female", "acquisition_source": "ec", "kind": "person"})).await;
        let r = t.client.get(t.url("/api/v1/export/customers.csv")).bearer_auth(&t.viewer_token).send().await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert!(r.headers()["content-type"].to_str().unwrap().starts_with("text/csv"));
        let bytes = r.bytes().await.unwrap();
        assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "UTF-8 BOM for Excel");
        let text = std::str::from_utf8(&bytes[3..]).unwrap();
        assert!(text.contains("\"'=HYPERLINK(\"\"http://evil\"\")\""), "{text}");
        assert!(text.contains("'+1 とても大事"), "{text}");
        assert!(text.contains("'@vip"), "{text}");
        assert!(text.contains("090-1234-5678"), "phones exported in national format: {text}");
        assert!(!text.lines().any(|l| l.split(',').any(|c| c.starts_with('=') || c.starts_with('+'))), "{text}");
        // Japanese headers and readable values by default; codes for machines; English on request.
        assert!(text.starts_with("顧客ID,顧客種別,姓,名,セイ,メイ,会社名,メールアドレス,電話番号,郵便番号"), "{text}");
        let safe = text.lines().find(|l| l.contains("安全")).unwrap();
        for word in [",個人,", ",女性,", ",EC・通販,", ",はい,"] {
            assert!(safe.contains(word), "{word} in {safe}");
        }
        for code in [",person,", ",female,", ",ec,"] {
            assert!(!safe.contains(code), "no code {code} in {safe}");
        }
        let codes = t.client.get(t.url("/api/v1/export/customers.csv?headers=codes")).bearer_auth(&t.viewer_token);
        let codes = codes.send().await.unwrap().text().await.unwrap();
        assert!(codes.starts_with("\u{feff}id,kind,family_name,given_name"), "{codes}");
        assert!(
            codes.lines().any(|l| l.contains(",person,") && l.contains(",female,") && l.contains(",1,")),
            "{codes}"
        );
        let en = t.client.get(t.url("/api/v1/export/customers.csv?headers=en")).bearer_auth(&t.viewer_token);
        let en = en.send().await.unwrap().text().await.unwrap();
        assert!(en.starts_with("\u{feff}Customer ID,Kind,Family name"), "{en}");
        assert!(en.lines().next().unwrap().trim_start_matches('\u{feff}').is_ascii(), "{en}");

        // Round trip into a fresh shop.
        let fresh = spawn(b).await;
        let (_, r) = import(&fresh, "customers", "", bytes.to_vec()).await;
        assert_eq!(r["created"], 2, "{r}");
        let (_, page) = fresh.get(&fresh.staff_token, "/api/v1/customers?q=safe").await;
        let id = page["items"][0]["id"].as_i64().unwrap();
        let (_, c) = fresh.get(&fresh.staff_token, &format!("/api/v1/customers/{id}")).await;
        assert_eq!(c["phone"], "+819012345678");
        assert_eq!(c["consents"][0]["granted"], true);
        assert_eq!((&c["gender"], &c["acquisition_source"]), (&json!("female"), &json!("ec")), "read back: {c}");
        assert_eq!(r["notes"], json!([]), "the words read back without a correction: {r}");

        let (_, o) = t.post(&t.staff_token, "/api/v1/orders", &common::order_body(id, Some("X-1"), 1400)).await;
        let _ = o;
        let r = t.client.get(t.url("/api/v1/export/orders.csv")).bearer_auth(&t.viewer_token).send().await.unwrap();
        let text = r.text().await.unwrap();
        assert!(text.starts_with('\u{feff}'));
        assert_eq!(text.lines().count(), 1 + 2, "header + one row per line item: {text}");
        assert!(text.starts_with("\u{feff}注文番号,Joren注文ID,顧客ID,注文日時,販売チャネル,ステータス"), "{text}");
        assert!(text.lines().nth(1).unwrap().contains(",完了,"), "the status in words: {text}");
        // The orders file reads back into a fresh shop, its status and lines whole.
        let (_, r) = import(&fresh, "orders", "", text.clone().into_bytes()).await;
        assert_eq!((r["created"].as_u64(), r["rejected"].as_array().map(Vec::len)), (Some(1), Some(0)), "{r}");
    }
}

/// A file larger than one batch into an empty store is an initial load: the order indexes are
/// dropped and built once at the end; they are back afterwards, and `migrate` restores them if
/// a load was cut off before its end.
#[tokio::test]
async fn initial_bulk_load_rebuilds_the_order_indexes() {
    use joren_app::Actor;
    use joren_app::import::{ImportKind, ImportOptions};
    let secondary = ["orders_customer_totals", "orders_ordered_at"];
    // PostgreSQL also drops the order rows' foreign keys for the load; SQLite's have no names.
    let keys =
        |b: &str| if b == "postgres" { vec!["order_items_order_id_fkey", "orders_customer_id_fkey"] } else { vec![] };
    for b in backends() {
        let t = spawn(b).await;
        let mut csv = String::from("注文番号,顧客番号,注文日,商品コード,数量,単価,税率\n");
        for i in 0..25 {
            csv.push_str(&format!("B-{i},C{},2026-01-{:02},BN-1,1,{},8%\n", i % 4, i % 28 + 1, 1000 + i));
        }
        let mut options = ImportOptions::new(ImportKind::Orders);
        options.batch_size = 4;
        let mut rows_seen = Vec::new();
        let report = t
            .app
            .import_csv(&Actor::system("test"), csv.as_bytes(), &options, &mut |n| rows_seen.push(n))
            .await
            .unwrap();
        assert_eq!(report.created, 25, "[{b}] {report:?}");
        assert_eq!(report.customers_created, 4);
        assert!(rows_seen.len() > 2, "[{b}] progress reported per batch: {rows_seen:?}");
        let indexes = t.app.store.index_names("orders").await.unwrap();
        for name in secondary {
            assert!(indexes.iter().any(|i| i == name), "[{b}] {name} missing after the load: {indexes:?}");
        }
        let present = t.app.store.foreign_key_names().await.unwrap();
        for name in keys(b) {
            assert!(present.iter().any(|k| k == name), "[{b}] {name} missing after the load: {present:?}");
        }
        for table in ["orders", "order_items"] {
            assert!(t.app.store.table_analyzed(table).await.unwrap(), "[{b}] {table} has no statistics after the load");
        }
        let (_, page) = t.get(&t.staff_token, "/api/v1/orders?limit=5").await;
        assert_eq!(page["total"], 25);
        assert_eq!(page["items"][0]["external_id"], "B-24", "newest first: {page}");

        // A load cut off between dropping and rebuilding: the next start repairs it.
        t.app.store.defer_order_indexes().await.unwrap();
        let indexes = t.app.store.index_names("orders").await.unwrap();
        assert!(!indexes.iter().any(|i| secondary.contains(&i.as_str())), "[{b}] {indexes:?}");
        let present = t.app.store.foreign_key_names().await.unwrap();
        assert!(!present.iter().any(|k| keys(b).contains(&k.as_str())), "[{b}] {present:?}");
        t.app.store.migrate().await.unwrap();
        let indexes = t.app.store.index_names("orders").await.unwrap();
        for name in secondary {
            assert!(indexes.iter().any(|i| i == name), "[{b}] {name} not restored by migrate: {indexes:?}");
        }
        let present = t.app.store.foreign_key_names().await.unwrap();
        for name in keys(b) {
            assert!(present.iter().any(|k| k == name), "[{b}] {name} not restored by migrate: {present:?}");
        }

        // A second file on a non-empty store leaves the indexes alone and adds only new orders.
        let report = t.app.import_csv(&Actor::system("test"), csv.as_bytes(), &options, &mut |_| {}).await.unwrap();
        assert_eq!((report.created, report.skipped_existing), (0, 25), "[{b}]");
    }
}

/// A shop's own Excel file as Japanese people keep it (Shift_JIS): 和暦 birthdays, one 住所
/// column, postal codes that lost their leading zero, full-width digits, a company written
/// with ㈱, and an unreadable optional value — every customer imported, each change noted.
#[tokio::test]
async fn a_japanese_excel_file_imports_as_people_wrote_it() {
    const FILE: &str = "会員番号,氏名,フリガナ,生年月日,郵便番号,住所,電話番号,メールアドレス\r\n\
A001,山田 太郎,ヤマダ タロウ,昭和55年3月3日,600001,北海道札幌市中央区北1条西2丁目 札幌ビル5F,０９０－１２３４－５６７８,taro@example.jp\r\n\
A002,佐藤 花子,サトウ ハナコ,S60.12.1,〒１００－０００５,東京都千代田区丸の内１丁目９番２号,03-1111-2222,hanako@@example\r\n\
A003,㈱ジョーレン商事,ジョーレンショウジ,,5300001,大阪府大阪市北区梅田3-1-3 ルクア10F,06-6123-4567,info@joren.example.jp\r\n\
A004,鈴木 一郎,スズキ イチロウ,R1/5/1,,京都府京都市下京区四条通1-1,,ichiro@example.jp\r\n\
A005,田中 美咲,タナカ ミサキ,平成32年1月1日,,,,misaki@example.jp\r\n";
    for b in backends() {
        let t = spawn(b).await;
        let (sjis, _, had_errors) = encoding_rs::SHIFT_JIS.encode(FILE);
        assert!(!had_errors);
        let (s, report) = import(&t, "customers", "", sjis.to_vec()).await;
        assert_eq!(s, 200, "{report}");
        assert_eq!((report["created"].as_u64(), rejected_lines(&report)), (Some(5), vec![]), "[{b}] {report}");
        let customer = |x: &'static str| {
            let t = &t;
            async move {
                let (_, page) = t.get(&t.staff_token, "/api/v1/customers?limit=50").await;
                for c in page["items"].as_array().unwrap() {
                    let (_, c) = t.get(&t.staff_token, &format!("/api/v1/customers/{}", c["id"])).await;
                    if c["external_ids"][0]["external_id"] == x {
                        return c;
                    }
                }
                panic!("{x} not imported: {page}")
            }
        };
        let c = customer("A001").await;
        let fields = |c: &Value, names: &[&str]| names.iter().map(|n| c[*n].clone()).collect::<Vec<_>>();
        assert_eq!(
            fields(&c, &["birthday", "postal_code", "prefecture", "city", "street", "building", "phone"]),
            [
                json!("1980-03-03"),
                json!("060-0001"),
                json!("北海道"),
                json!("札幌市中央区"),
                json!("北1条西2丁目"),
                json!("札幌ビル5F"),
                json!("+819012345678")
            ],
            "[{b}] {c}"
        );
        let c = customer("A002").await;
        assert_eq!(
            fields(&c, &["birthday", "postal_code", "city", "street", "email"]),
            [json!("1985-12-01"), json!("100-0005"), json!("千代田区"), json!("丸の内1丁目9番2号"), Value::Null],
            "[{b}] the bad email left out, the rest kept: {c}"
        );
        let c = customer("A003").await;
        assert_eq!(
            fields(&c, &["kind", "company_name", "family_name"]),
            [json!("account"), json!("㈱ジョーレン商事"), json!("")],
            "[{b}] {c}"
        );
        assert!(c["display_name"].as_str().unwrap().ends_with("御中"), "[{b}] a company is addressed 御中: {c}");
        assert_eq!(customer("A004").await["birthday"], "2019-05-01", "[{b}] 令和元年");
        assert_eq!(customer("A005").await["birthday"], Value::Null, "[{b}] 平成32年 does not exist: left out");

        let notes: Vec<(u64, Vec<String>, Vec<String>)> = report["notes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| {
                let codes = |k: &str| {
                    n[k].as_array().unwrap().iter().map(|e| e["code"].as_str().unwrap().to_string()).collect::<Vec<_>>()
                };
                (n["line"].as_u64().unwrap(), codes("changed"), codes("dropped"))
            })
            .collect();
        let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
        assert_eq!(
            notes,
            [
                (2, s(&["address_split", "postal_padded"]), s(&[])),
                (3, s(&["address_split"]), s(&["bad_email"])),
                (4, s(&["address_split", "company_detected"]), s(&[])),
                (5, s(&["address_split"]), s(&[])),
                (6, s(&[]), s(&["bad_date"])),
            ],
            "[{b}] {report}"
        );
        assert!(
            report["notes"][0]["message"].as_str().unwrap().contains("060-0001"),
            "[{b}] the padded code is named: {report}"
        );
    }
}
