//! The words of CSV exports for people: column headers and coded values (kind, gender,
//! acquisition source, consents, order channel and status) in the reader's language. The
//! Japanese headers are the ones Joren's import recognises, so an exported file reads back.

use super::{Lang, Tr};

/// Column headers: field code, Japanese, English.
const HEADERS: &[(&str, &str, &str)] = &[
    ("id", "顧客ID", "Customer ID"),
    ("kind", "顧客種別", "Kind"),
    ("family_name", "姓", "Family name"),
    ("given_name", "名", "Given name"),
    ("family_name_kana", "セイ", "Family name kana"),
    ("given_name_kana", "メイ", "Given name kana"),
    ("company_name", "会社名", "Company name"),
    ("email", "メールアドレス", "Email"),
    ("phone", "電話番号", "Phone"),
    ("postal_code", "郵便番号", "Postal code"),
    ("prefecture", "都道府県", "Prefecture"),
    ("city", "市区町村", "City"),
    ("street", "町域・番地", "Address 1"),
    ("building", "建物名・部屋番号", "Address 2"),
    ("birthday", "生年月日", "Birthday"),
    ("gender", "性別", "Gender"),
    ("tags", "タグ", "Tags"),
    ("notes", "備考", "Notes"),
    ("preferences", "好み", "Preferences"),
    ("acquisition_source", "獲得経路", "Acquisition source"),
    ("acquisition_campaign", "キャンペーン", "Campaign"),
    ("consent_email", "メール配信", "Accepts email marketing"),
    ("consent_sms", "SMS配信", "Accepts SMS marketing"),
    ("consent_line", "LINE配信", "Consent LINE"),
    ("consent_dm", "DM送付", "Consent DM"),
    ("created_at", "登録日時", "Registered at"),
    ("order_count", "購入回数", "Purchases"),
    ("total_spent", "累計購入額", "Total spent"),
    ("last_order_at", "最終購入日時", "Last purchase"),
    ("segment", "顧客区分", "Customer group"),
    ("rank", "ランク", "Rank"),
    ("points", "保有ポイント", "Points"),
    ("order_id", "注文番号", "Order number"),
    ("joren_order_id", "Joren注文ID", "Joren order ID"),
    ("customer_id", "顧客ID", "Customer ID"),
    ("ordered_at", "注文日時", "Order date"),
    ("channel", "販売チャネル", "Channel"),
    ("status", "ステータス", "Status"),
    ("currency", "通貨", "Currency"),
    ("subtotal", "商品合計", "Items total"),
    ("shipping", "送料", "Shipping"),
    ("discount", "値引き", "Discount"),
    ("tax", "消費税", "Tax"),
    ("total", "合計", "Total"),
    ("refunded", "返金額", "Refunded amount"),
    ("line_no", "行番号", "Line no."),
    ("sku", "商品コード", "SKU"),
    ("item_name", "商品名", "Product name"),
    ("category", "カテゴリ", "Category"),
    ("quantity", "数量", "Quantity"),
    ("unit_price", "単価", "Unit price"),
    ("tax_rate", "税率", "Tax rate"),
    ("line_amount", "金額", "Line amount"),
];

/// Sales channels: code, Japanese, English (as the orders import reads them).
const CHANNELS: &[(&str, &str, &str)] = &[
    ("store", "店舗", "store"),
    ("ec", "通販", "online"),
    ("phone", "電話", "phone"),
    ("event", "イベント", "event"),
    ("wholesale", "卸", "wholesale"),
    ("other", "その他", "other"),
];

/// An export's words in one language.
pub struct ExportWords(pub Lang);

impl ExportWords {
    fn pick(&self, ja: &'static str, en: &'static str) -> String {
        if self.0 == Lang::En { en.to_string() } else { ja.to_string() }
    }
}

impl joren_app::export::ExportWords for ExportWords {
    fn header(&self, field: &str) -> String {
        HEADERS.iter().find(|(f, ..)| *f == field).map_or_else(|| field.to_string(), |(_, ja, en)| self.pick(ja, en))
    }

    fn value(&self, field: &str, code: &str) -> String {
        let t = Tr(self.0);
        let word = |key: String| t.maybe(&key).map_or_else(|| code.to_string(), str::to_string);
        match field {
            "kind" => match code {
                "account" => self.pick("法人", "company"),
                _ => self.pick("個人", "person"),
            },
            "gender" => word(format!("gender.{code}")),
            "acquisition_source" => word(format!("source.{code}")),
            "segment" => joren_app::metrics::segment_label(code, self.0 == Lang::En).to_string(),
            "status" => word(format!("order.status.{code}")),
            "channel" => CHANNELS
                .iter()
                .find(|(c, ..)| *c == code)
                .map_or_else(|| code.to_string(), |(_, ja, en)| self.pick(ja, en)),
            f if f.starts_with("consent_") => match code {
                "1" => self.pick("はい", "yes"),
                _ => self.pick("いいえ", "no"),
            },
            _ => code.to_string(),
        }
    }
}

/// An export's `?headers=`: `codes` (field codes and codes, for programs), `en` or `ja`.
#[derive(serde::Deserialize)]
pub struct ExportQuery {
    pub headers: Option<String>,
}

impl ExportQuery {
    /// The words asked for, else `reader`'s language.
    pub fn words(&self, reader: Lang) -> Box<dyn joren_app::export::ExportWords> {
        for_request(self.headers.as_deref(), reader)
    }
}

/// The words an export is written with: `codes` (field codes and codes, for machines), `en`
/// or `ja`; otherwise the reader's language.
pub fn for_request(asked: Option<&str>, reader: Lang) -> Box<dyn joren_app::export::ExportWords> {
    match asked {
        Some("codes") => Box::new(joren_app::export::Codes),
        Some("en") => Box::new(ExportWords(Lang::En)),
        Some("ja") => Box::new(ExportWords(Lang::Ja)),
        _ => Box::new(ExportWords(reader)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use joren_app::export::{CUSTOMER_COLUMNS, ExportWords as _, ORDER_COLUMNS};

    #[test]
    fn every_column_has_words_and_the_english_ones_no_japanese() {
        for lang in [Lang::Ja, Lang::En] {
            let w = ExportWords(lang);
            for c in CUSTOMER_COLUMNS.iter().chain(&ORDER_COLUMNS) {
                let h = w.header(c);
                assert_ne!(&h, c, "{c} has a header");
                if lang == Lang::En {
                    assert!(h.is_ascii(), "{h}");
                }
            }
        }
        let ja = ExportWords(Lang::Ja);
        assert_eq!(ja.value("gender", "female"), "女性");
        assert_eq!(ja.value("acquisition_source", "ec"), "EC・通販");
        assert_eq!(ja.value("status", "partially_refunded"), "一部返金済み");
        assert_eq!(ja.value("channel", "store"), "店舗");
        assert_eq!(ja.value("consent_email", "1"), "はい");
        assert_eq!(ja.value("kind", "account"), "法人");
        assert_eq!(ExportWords(Lang::En).value("consent_dm", "0"), "no");
    }
}
