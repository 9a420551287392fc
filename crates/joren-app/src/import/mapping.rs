//! Column mapping: which CSV column holds which field. Detected from common Japanese and English
//! header names, or fixed by a preset (Shopify's orders and customers exports), and overridable
//! by the user.

use unicode_normalization::UnicodeNormalization;

/// Fields a customers file can fill, with the header names recognised for each.
pub const CUSTOMER_FIELDS: &[(&str, &[&str])] = &[
    ("external_id", &["顧客id", "顧客番号", "会員番号", "会員id", "顧客コード", "customerid", "id", "externalid"]),
    ("family_name", &["姓", "氏", "苗字", "名字", "lastname", "familyname", "surname"]),
    ("given_name", &["名", "firstname", "givenname"]),
    ("full_name", &["氏名", "名前", "お名前", "顧客名", "name", "fullname", "displayname"]),
    ("family_name_kana", &["セイ", "姓カナ", "せい", "姓フリガナ", "フリガナ姓", "lastnamekana", "familynamekana"]),
    ("given_name_kana", &["メイ", "名カナ", "めい", "名フリガナ", "フリガナ名", "firstnamekana", "givennamekana"]),
    ("full_name_kana", &["フリガナ", "ふりがな", "カナ", "氏名カナ", "氏名フリガナ", "よみがな", "kana"]),
    ("company_name", &["会社名", "法人名", "企業名", "company", "companyname"]),
    ("kind", &["顧客種別", "種別", "kind"]),
    ("email", &["メールアドレス", "メール", "eメール", "email", "emailaddress", "mail"]),
    ("phone", &["電話番号", "電話", "tel", "携帯電話", "携帯番号", "phone", "phonenumber", "mobile"]),
    ("line_user_id", &["lineid", "lineuserid"]),
    ("postal_code", &["郵便番号", "〒", "zip", "zipcode", "postalcode", "postcode"]),
    ("prefecture", &["都道府県", "prefecture", "province"]),
    ("city", &["市区町村", "city"]),
    ("address", &["住所", "所在地", "address", "fulladdress"]),
    ("street", &["町域番地", "番地", "住所1", "address1", "street"]),
    ("building", &["建物名", "建物名部屋番号", "住所2", "address2", "building"]),
    ("birthday", &["生年月日", "誕生日", "birthday", "dateofbirth", "birthdate"]),
    ("gender", &["性別", "gender", "sex"]),
    ("tags", &["タグ", "tags", "tag"]),
    ("notes", &["備考", "メモ", "notes", "note"]),
    ("preferences", &["好み", "preferences"]),
    ("acquisition_source", &["流入元", "獲得経路", "来店きっかけ", "acquisitionsource", "source"]),
    ("acquisition_campaign", &["キャンペーン", "キャンペーン名", "campaign", "acquisitioncampaign"]),
    (
        "consent_email",
        &["メール配信", "メルマガ", "メール配信許可", "acceptsemailmarketing", "consentemail", "emailoptin"],
    ),
    ("consent_sms", &["sms配信", "acceptssmsmarketing", "consentsms"]),
    ("consent_line", &["line配信", "consentline"]),
    ("consent_dm", &["dm送付", "dm", "consentdm"]),
];

/// Fields an orders file can fill (one row per line item; rows of one order are adjacent).
pub const ORDER_FIELDS: &[(&str, &[&str])] = &[
    ("order_id", &["注文番号", "注文id", "受注番号", "伝票番号", "orderid", "ordernumber", "order"]),
    ("customer_external_id", &["顧客id", "顧客番号", "会員番号", "会員id", "顧客コード", "customerid", "customer"]),
    ("email", &["メールアドレス", "メール", "email"]),
    ("phone", &["電話番号", "電話", "tel", "phone"]),
    ("customer_name", &["氏名", "名前", "お名前", "顧客名", "購入者名", "customername", "name"]),
    (
        "ordered_at",
        &["注文日", "注文日時", "購入日", "購入日時", "受注日", "日付", "orderdate", "orderedat", "date", "createdat"],
    ),
    ("sku", &["商品コード", "品番", "sku", "productcode", "itemcode"]),
    ("item_name", &["商品名", "品名", "product", "productname", "item", "itemname"]),
    ("category", &["カテゴリ", "カテゴリー", "分類", "category"]),
    ("quantity", &["数量", "個数", "qty", "quantity"]),
    ("unit_price", &["単価", "販売価格", "価格", "unitprice", "price"]),
    ("line_amount", &["金額", "小計", "amount", "lineamount", "linetotal"]),
    ("tax_rate", &["税率", "taxrate"]),
    ("channel", &["販売チャネル", "チャネル", "販売経路", "channel"]),
    ("status", &["ステータス", "状態", "status"]),
    ("currency", &["通貨", "currency"]),
    ("shipping", &["送料", "shipping"]),
    ("discount", &["値引き", "値引", "割引", "discount", "discountamount"]),
    ("refunded_amount", &["返金額", "refundedamount"]),
    ("cancelled_at", &["キャンセル日", "cancelledat"]),
    // The buyer's details, for a customer the file creates.
    ("company_name", &["会社名", "法人名", "company", "companyname"]),
    ("postal_code", &["郵便番号", "〒", "zip", "zipcode", "postalcode"]),
    ("prefecture", &["都道府県", "prefecture", "province"]),
    ("city", &["市区町村", "city"]),
    ("address", &["住所", "所在地", "address"]),
    ("street", &["町域番地", "番地", "住所1", "address1"]),
    ("building", &["建物名", "住所2", "address2"]),
    ("accepts_marketing", &["メルマガ", "メール配信", "acceptsmarketing", "acceptsemailmarketing"]),
];

/// Shopify's orders export (Admin → Orders → Export), by its documented column names.
pub const SHOPIFY_ORDERS: &[(&str, &str)] = &[
    ("order_id", "Name"),
    ("email", "Email"),
    ("ordered_at", "Created at"),
    ("item_name", "Lineitem name"),
    ("sku", "Lineitem sku"),
    ("quantity", "Lineitem quantity"),
    ("unit_price", "Lineitem price"),
    ("currency", "Currency"),
    ("shipping", "Shipping"),
    ("discount", "Discount Amount"),
    ("customer_name", "Billing Name"),
    ("phone", "Billing Phone"),
    ("status", "Financial Status"),
    ("cancelled_at", "Cancelled at"),
    ("refunded_amount", "Refunded Amount"),
    ("channel", "Source"),
    ("category", "Vendor"),
    ("company_name", "Billing Company"),
    ("postal_code", "Billing Zip"),
    ("prefecture", "Billing Province"),
    ("city", "Billing City"),
    ("street", "Billing Address1"),
    ("building", "Billing Address2"),
    ("accepts_marketing", "Accepts Marketing"),
];

/// Shopify's customers export (Admin → Customers → Export), by its column names — today's
/// (`Default Address …`, `Accepts Email Marketing`) and the older ones (`Address1`, `Accepts
/// Marketing`). A field takes the first of its headers the file has.
pub const SHOPIFY_CUSTOMERS: &[(&str, &str)] = &[
    ("external_id", "Customer ID"),
    ("given_name", "First Name"),
    ("family_name", "Last Name"),
    ("email", "Email"),
    ("consent_email", "Accepts Email Marketing"),
    ("consent_email", "Accepts Marketing"),
    ("consent_sms", "Accepts SMS Marketing"),
    ("company_name", "Default Address Company"),
    ("company_name", "Company"),
    ("street", "Default Address Address1"),
    ("street", "Address1"),
    ("building", "Default Address Address2"),
    ("building", "Address2"),
    ("city", "Default Address City"),
    ("city", "City"),
    ("prefecture", "Default Address Province Code"),
    ("prefecture", "Province Code"),
    ("prefecture", "Province"),
    ("postal_code", "Default Address Zip"),
    ("postal_code", "Zip"),
    ("phone", "Phone"),
    ("phone", "Default Address Phone"),
    ("tags", "Tags"),
    ("notes", "Note"),
];

/// Folds a header for matching: NFKC, lower case, no spaces, underscores, hyphens, dots or brackets.
pub fn fold_header(h: &str) -> String {
    h.nfkc()
        .flat_map(char::to_lowercase)
        .filter(|c| {
            !c.is_whitespace()
                && !matches!(c, '_' | '-' | '.' | '(' | ')' | '（' | '）' | '・' | '/' | '［' | '］' | '[' | ']')
        })
        .collect()
}

/// A resolved mapping: field name → column index.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Mapping {
    pub columns: Vec<(&'static str, usize)>,
}

impl Mapping {
    /// Column index of a field, if mapped.
    pub fn get(&self, field: &str) -> Option<usize> {
        self.columns.iter().find(|(f, _)| *f == field).map(|(_, i)| *i)
    }

    /// Maps each field to the first header that matches one of its names.
    pub fn detect(headers: &[String], fields: &[(&'static str, &[&str])]) -> Self {
        let folded: Vec<String> = headers.iter().map(|h| fold_header(h)).collect();
        let mut columns = Vec::new();
        let mut used = vec![false; headers.len()];
        for (field, names) in fields {
            let names: Vec<String> = names.iter().map(|n| fold_header(n)).collect();
            if let Some(i) = (0..folded.len()).find(|&i| !used[i] && names.contains(&folded[i])) {
                used[i] = true;
                columns.push((*field, i));
            }
        }
        Self { columns }
    }

    /// A preset: field → exact header name.
    pub fn preset(headers: &[String], preset: &[(&'static str, &str)]) -> Self {
        let mut columns: Vec<(&'static str, usize)> = Vec::new();
        for (field, header) in preset {
            if columns.iter().any(|(f, _)| f == field) {
                continue;
            }
            if let Some(i) = headers.iter().position(|h| h.trim() == *header) {
                columns.push((field, i));
            }
        }
        Self { columns }
    }

    /// Replaces or adds `field = header` overrides (header by name or 1-based column number).
    pub fn override_with(
        &mut self,
        headers: &[String],
        overrides: &[(String, String)],
        fields: &[(&'static str, &[&str])],
    ) -> Result<(), String> {
        for (field, header) in overrides {
            let Some((name, _)) = fields.iter().find(|(f, _)| f == field) else {
                let known: Vec<&str> = fields.iter().map(|(f, _)| *f).collect();
                return Err(format!("unknown field {field} (known: {})", known.join(", ")));
            };
            self.columns.retain(|(f, _)| f != name);
            if header.is_empty() {
                continue;
            }
            let idx = headers
                .iter()
                .position(|h| h.trim() == header.trim())
                .or_else(|| header.parse::<usize>().ok().filter(|n| *n >= 1 && *n <= headers.len()).map(|n| n - 1))
                .ok_or_else(|| format!("column {header} not found in the header row"))?;
            self.columns.push((name, idx));
        }
        Ok(())
    }
}

/// True when the headers look like Shopify's orders export.
pub fn looks_like_shopify(headers: &[String]) -> bool {
    ["Lineitem name", "Financial Status", "Name"].iter().all(|h| headers.iter().any(|x| x.trim() == *h))
}

/// True when the headers look like Shopify's customers export.
pub fn looks_like_shopify_customers(headers: &[String]) -> bool {
    let has = |h: &str| headers.iter().any(|x| x.trim() == h);
    has("First Name")
        && has("Last Name")
        && has("Total Orders")
        && (has("Accepts Email Marketing") || has("Accepts Marketing"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn japanese_and_english_headers_are_detected() {
        let m = Mapping::detect(
            &h(&["顧客番号", "姓", "名", "セイ", "メイ", "メールアドレス", "電話番号", "郵便番号"]),
            CUSTOMER_FIELDS,
        );
        assert_eq!(m.get("external_id"), Some(0));
        assert_eq!(m.get("family_name"), Some(1));
        assert_eq!(m.get("given_name_kana"), Some(4));
        assert_eq!(m.get("postal_code"), Some(7));
        let m = Mapping::detect(&h(&["Last Name", "First_Name", "E-mail", "Phone Number"]), CUSTOMER_FIELDS);
        assert_eq!(m.get("family_name"), Some(0));
        assert_eq!(m.get("given_name"), Some(1));
        assert_eq!(m.get("email"), Some(2));
        assert_eq!(m.get("phone"), Some(3));
    }

    #[test]
    fn overrides_replace_detection() {
        let headers = h(&["氏名", "連絡先"]);
        let mut m = Mapping::detect(&headers, CUSTOMER_FIELDS);
        m.override_with(&headers, &[("phone".into(), "連絡先".into())], CUSTOMER_FIELDS).unwrap();
        assert_eq!(m.get("phone"), Some(1));
        assert!(m.override_with(&headers, &[("nope".into(), "x".into())], CUSTOMER_FIELDS).is_err());
        assert!(m.override_with(&headers, &[("email".into(), "missing".into())], CUSTOMER_FIELDS).is_err());
    }
}
