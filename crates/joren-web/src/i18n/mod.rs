//! UI strings in Japanese (default) and English. A missing key shows the key itself, and a test
//! checks that every key used in the templates exists.

use serde::Deserialize;

mod dashboard;
pub mod errors;
pub mod export;
mod import;
mod memberships;
mod perks;
mod points;
mod segments;
mod tickets;

/// UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Self {
        if s.starts_with("en") { Self::En } else { Self::Ja }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Ja => "ja",
            Self::En => "en",
        }
    }
}

/// Translator handed to templates: `{{ c.t.t("nav.customers") }}`.
#[derive(Debug, Clone, Copy)]
pub struct Tr(pub Lang);

/// The word tables: the shared one here, and each feature's beside its pages.
const TABLES: &[&[(&str, &str, &str)]] = &[
    MESSAGES,
    errors::WORDS,
    dashboard::WORDS,
    import::WORDS,
    memberships::WORDS,
    perks::WORDS,
    points::WORDS,
    segments::WORDS,
    tickets::WORDS,
    crate::ui::audit::WORDS,
    crate::ui::counter::WORDS,
    crate::ui::customer_list::WORDS,
    crate::ui::duplicates::WORDS,
    crate::ui::home::WORDS,
    crate::ui::jobs::WORDS,
    crate::ui::channels::WORDS,
    crate::ui::line::WORDS,
    crate::ui::sms::WORDS,
    crate::ui::inbox::WORDS,
    crate::ui::mail::WORDS,
    crate::ui::webhooks::WORDS,
    crate::ui::member_card::WORDS,
    crate::ui::message_templates::WORDS,
    crate::ui::scenarios::WORDS,
    crate::ui::scenario_editor::WORDS,
    crate::ui::cases::WORDS,
    crate::ui::checklist::WORDS,
    crate::ui::stages::WORDS,
    crate::ui::referrals::WORDS,
    crate::ui::cases::SETTINGS_WORDS,
    crate::ui::surveys::WORDS,
    crate::ui::surveys::EDIT_WORDS,
    crate::ui::surveys::customer::WORDS,
    crate::ui::tasks::WORDS,
    crate::ui::timeline::WORDS,
    crate::ui::users::WORDS,
    crate::public::WORDS,
    crate::public::SURVEY_WORDS,
    crate::public::REFERRAL_WORDS,
];

/// Every (key, 日本語, English) of every table.
fn all_words() -> impl Iterator<Item = &'static (&'static str, &'static str, &'static str)> {
    TABLES.iter().flat_map(|t| t.iter())
}

impl Tr {
    pub fn t(&self, key: &str) -> &'static str {
        match all_words().find(|(k, _, _)| *k == key) {
            Some((_, ja, en)) => match self.0 {
                Lang::Ja => ja,
                Lang::En => en,
            },
            None => {
                tracing::warn!(key, "missing translation");
                "??"
            }
        }
    }

    /// The word for `key` if a table has it (labels looked up by a field's name).
    pub fn maybe(&self, key: &str) -> Option<&'static str> {
        all_words().find(|(k, _, _)| *k == key).map(|(_, ja, en)| match self.0 {
            Lang::Ja => *ja,
            Lang::En => *en,
        })
    }

    pub fn lang(&self) -> &'static str {
        self.0.code()
    }

    /// A date as the reader writes it: 2026年3月3日, or 2026-03-03 in English.
    pub fn date(&self, d: chrono::NaiveDate) -> String {
        d.format(match self.0 {
            Lang::Ja => "%Y年%-m月%-d日",
            Lang::En => "%Y-%m-%d",
        })
        .to_string()
    }
}

/// The Rust sources of these workspace crates, for tests that check every code they use has
/// its words.
#[cfg(test)]
pub(crate) fn workspace_sources(crates: &[&str]) -> Vec<String> {
    fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(std::fs::read_to_string(&p).unwrap());
            }
        }
    }
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut texts = Vec::new();
    for c in crates {
        walk(&root.join(c).join("src"), &mut texts);
    }
    texts
}

/// (key, 日本語, English)
pub const MESSAGES: &[(&str, &str, &str)] = &[
    ("app.name", "Joren 常連", "Joren"),
    ("app.tagline", "お客様が何度も戻ってくるお店に", "Keep your customers coming back"),
    ("nav.home", "ホーム", "Home"),
    ("nav.customers", "顧客", "Customers"),
    ("nav.voice", "お客様の声", "Customer voice"),
    ("nav.import", "取込・出力", "Import / export"),
    ("nav.analytics", "分析", "Analytics"),
    ("nav.loyalty", "ポイント・ランク", "Loyalty"),
    ("nav.automation", "フォロー自動化", "Follow-ups"),
    ("nav.segments", "セグメント", "Segments"),
    ("nav.soon", "準備中", "coming soon"),
    ("nav.logout", "ログアウト", "Log out"),
    ("nav.menu", "メニュー", "Menu"),
    ("nav.settings", "設定 ▾", "Settings ▾"),
    ("role.owner", "オーナー", "Owner"),
    ("role.staff", "スタッフ", "Staff"),
    ("role.viewer", "閲覧のみ", "Viewer"),
    ("nav.lang_other", "English", "日本語"),
    ("login.title", "ログイン", "Log in"),
    ("login.username", "ユーザー名", "Username"),
    ("login.password", "パスワード", "Password"),
    ("login.submit", "ログイン", "Log in"),
    ("login.failed", "ユーザー名またはパスワードが違います", "Wrong username or password"),
    (
        "login.locked",
        "ログインの失敗が続いたため、しばらくログインできません。数分後にもう一度お試しください",
        "Too many failed logins: please wait a few minutes and try again",
    ),
    (
        "login.expired",
        "フォームの有効期限が切れました。もう一度ログインしてください",
        "The form expired: please log in again",
    ),
    ("home.title", "ホーム", "Home"),
    ("home.customers", "顧客数", "Customers"),
    ("home.orders", "注文数", "Orders"),
    ("home.recent_orders", "最近の注文", "Recent orders"),
    ("customers.title", "顧客一覧", "Customers"),
    ("customers.search", "名前・フリガナ・メール・電話で検索", "Search by name, kana, email or phone"),
    ("customers.search_button", "検索", "Search"),
    ("customers.found", "件", "found"),
    ("customers.none", "該当する顧客はいません", "No customers match"),
    (
        "customers.search_hint",
        "1〜2文字の語は名前・フリガナ・会社名・メール・電話番号の先頭に、3文字以上の語はどこにでも一致します。",
        "A word of one or two characters matches the start of a name, kana, company, email or phone; a longer word matches anywhere.",
    ),
    ("col.name", "お名前", "Name"),
    ("col.kana", "フリガナ", "Kana"),
    ("col.email", "メール", "Email"),
    ("col.phone", "電話", "Phone"),
    ("col.orders", "購入回数", "Orders"),
    ("col.spent", "累計購入額", "Total spent"),
    ("col.last_order", "最終購入日", "Last order"),
    ("col.date", "日時", "Date"),
    ("col.kind", "種類", "Type"),
    ("col.content", "内容", "Details"),
    ("col.amount", "金額", "Amount"),
    ("col.staff", "担当", "Staff"),
    ("col.status", "状態", "Status"),
    ("col.line", "行", "Line"),
    ("col.reason", "理由", "Reason"),
    ("page.prev", "前へ", "Previous"),
    ("page.next", "次へ", "Next"),
    ("customer.profile", "プロフィール", "Profile"),
    ("customer.address", "住所", "Address"),
    ("customer.birthday", "誕生日", "Birthday"),
    ("customer.tags", "タグ", "Tags"),
    ("customer.preferences", "好み", "Preferences"),
    ("customer.notes", "メモ", "Notes"),
    ("customer.read_all", "全文を表示", "read all"),
    ("customer.long_limit", "10,000文字まで", "Up to 10,000 characters"),
    ("customer.source", "獲得経路", "Acquired via"),
    ("customer.owner", "担当者", "Account manager"),
    ("rules.title", "次の一手のルール", "Next-best-action rules"),
    (
        "rules.help",
        "上から順に、最初に当てはまったルールのアクションを提案します。条件 (RFM セグメント・離反リスク・予測 CLV の下限) はすべて満たすときに当てはまり、空欄は「問わない」です。順番の数字を変えると並べ替え、最後の行で追加できます。API: /api/v1/settings/next-best-action",
        "The first rule that matches, from the top, gives the suggestion. A rule matches when all its conditions (RFM segment, churn risk, minimum predicted CLV) hold; a blank condition means any. Change the numbers to reorder; add a rule in the last row. API: /api/v1/settings/next-best-action",
    ),
    ("rules.action_ja", "アクション (日本語)", "Action (Japanese)"),
    ("rules.action_en", "アクション (英語)", "Action (English)"),
    ("rules.save", "ルールを保存", "Save rules"),
    ("rules.order", "順番", "Order"),
    ("rules.segment", "RFM セグメント", "RFM segment"),
    ("rules.min_clv", "予測 CLV (円) 以上", "Predicted CLV at least (¥)"),
    ("rules.any", "問わない", "Any"),
    ("rules.delete", "削除", "Delete"),
    ("rules.add", "追加:", "New:"),
    ("rules.reset", "初期設定に戻す", "Restore the defaults"),
    ("customer.consents", "連絡の同意", "Consents"),
    ("customer.granted", "同意", "granted"),
    ("customer.denied", "拒否", "refused"),
    ("customer.contacts", "担当者 (法人)", "Contact persons"),
    ("customer.timeline", "タイムライン", "Timeline"),
    ("customer.summary", "購入の概要", "Purchases"),
    ("customer.merged", "この顧客は統合されました。統合先:", "This customer was merged into:"),
    ("customer.external_ids", "外部ID", "External ids"),
    ("customer.log", "対応を記録", "Log a contact"),
    ("customer.log_submit", "記録する", "Save"),
    ("customer.subject", "件名", "Subject"),
    ("customer.body", "内容", "Details"),
    ("customer.direction", "方向", "Direction"),
    ("customer.dir_in", "お客様から", "from customer"),
    ("customer.dir_out", "お店から", "from shop"),
    ("customer.logged", "記録しました", "Saved"),
    ("customer.viewer_readonly", "閲覧権限のため記録できません", "Viewers cannot log contacts"),
    ("kind.order", "注文", "Order"),
    ("kind.refund", "返金", "Refund"),
    ("kind.cancel", "キャンセル", "Cancellation"),
    ("kind.email", "メール", "Email"),
    ("kind.phone", "電話", "Phone call"),
    ("kind.sms", "SMS", "SMS"),
    ("kind.line", "LINE", "LINE"),
    ("kind.dm", "DM・手紙", "DM / letter"),
    ("kind.visit", "来店・訪問", "Visit"),
    ("kind.meeting", "商談", "Meeting"),
    ("kind.chat", "チャット", "Chat"),
    ("kind.note", "メモ", "Note"),
    ("customers.new", "新規顧客", "New customer"),
    ("customer.edit", "編集", "Edit"),
    ("customer.merge", "重複顧客を統合", "Merge a duplicate"),
    (
        "customer.merge_help",
        "同じお客様の別の記録の顧客番号を入力すると、注文・履歴・担当者をこの顧客にまとめます。",
        "Enter the customer number of another record of the same person: its orders, history and contacts move here.",
    ),
    ("customer.merge_id", "統合する顧客番号", "Customer number to merge"),
    ("customer.merge_submit", "統合する", "Merge"),
    ("customer.merged_ok", "統合しました", "Merged"),
    ("customer.number", "顧客番号", "Customer no."),
    ("customer.consent_unknown", "未確認", "not asked"),
    ("customer.consent_grant", "同意を記録", "record consent"),
    ("customer.consent_revoke", "停止を記録", "record opt-out"),
    ("customer.add_contact", "担当者を追加", "Add a contact person"),
    ("customer.department", "部署", "Department"),
    ("customer.title", "役職", "Title"),
    ("form.kind", "区分", "Type"),
    ("form.person", "個人", "Person"),
    ("form.account", "法人", "Company"),
    ("form.company_name", "会社名", "Company name"),
    ("form.family_name", "姓", "Family name"),
    ("form.given_name", "名", "Given name"),
    ("form.family_name_kana", "セイ", "Family name (kana)"),
    ("form.given_name_kana", "メイ", "Given name (kana)"),
    ("form.postal_code", "郵便番号", "Postal code"),
    ("form.prefecture", "都道府県", "Prefecture"),
    ("form.segment", "顧客区分", "Customer group"),
    ("form.username", "ログイン名", "Sign-in name"),
    ("form.password", "パスワード", "Password"),
    ("form.display_name", "表示名", "Display name"),
    ("form.city", "市区町村", "City"),
    ("form.street", "町域・番地", "Street"),
    ("form.building", "建物名・部屋番号", "Building"),
    ("form.birthday_hint", "1980-03-03 / 昭和55年3月3日 / S55.3.3", "1980-03-03 or 1980/3/3"),
    ("form.gender", "性別", "Gender"),
    ("form.campaign", "キャンペーン名", "Campaign"),
    ("form.tags", "タグ (カンマ区切り)", "Tags (comma-separated)"),
    ("form.save", "保存", "Save"),
    ("form.cancel", "戻る", "Cancel"),
    ("gender.female", "女性", "Female"),
    ("gender.male", "男性", "Male"),
    ("gender.other", "その他", "Other"),
    ("gender.unspecified", "回答しない", "Prefer not to say"),
    ("source.store", "店舗", "Store walk-in"),
    ("source.ec", "EC・通販", "Online shop"),
    ("source.advertising", "広告", "Advertising"),
    ("source.referral", "紹介", "Referral"),
    ("source.event", "イベント", "Event"),
    ("source.sns", "SNS", "Social media"),
    ("source.phone", "電話", "Phone"),
    ("source.other", "その他", "Other"),
    ("order.title", "注文", "Order"),
    ("order.item", "商品", "Item"),
    ("order.category", "カテゴリ", "Category"),
    ("order.quantity", "数量", "Qty"),
    ("order.unit_price", "単価", "Unit price"),
    ("order.tax_rate", "税率", "Tax"),
    ("order.subtotal", "小計", "Subtotal"),
    ("order.shipping", "送料", "Shipping"),
    ("order.discount", "値引き", "Discount"),
    ("order.tax", "うち消費税", "of which tax"),
    ("order.total", "合計", "Total"),
    ("order.refunded", "返金済み", "Refunded"),
    ("order.adjustments", "返金・キャンセル", "Refunds and cancellations"),
    ("order.refund", "返金する", "Refund"),
    ("order.refund_amount", "返金額 (空欄で残額すべて)", "Amount (empty = all that remains)"),
    ("order.reason", "理由", "Reason"),
    ("order.cancel", "注文をキャンセル", "Cancel order"),
    ("error.title", "エラー", "Error"),
    ("nba.segment", "セグメント", "Segment"),
    ("nba.churn", "離脱リスク", "Churn risk"),
    ("nba.clv", "今後12か月の予測購入額", "Expected spend in the next 12 months"),
    ("nba.default", "ほかの条件に当てはまらないお客様", "no other rule matched"),
    ("channel.store", "店舗", "In store"),
    ("channel.ec", "通販", "Online"),
    ("channel.phone", "電話", "Phone"),
    ("channel.event", "イベント", "Event"),
    ("channel.wholesale", "卸", "Wholesale"),
    ("channel.other", "その他", "Other"),
    ("consent.from_import", "取込", "Imported"),
    ("consent.from_api", "API", "API"),
    ("consent.from_staff", "スタッフ", "Staff"),
    ("consent.from_list_unsubscribe", "メールソフトの配信停止ボタン", "The mail program's unsubscribe button"),
    ("consent.from_unsubscribe_link", "メールの配信停止リンク", "The unsubscribe link in a mail"),
    (
        "error.not_found",
        "このページは見つかりませんでした。アドレスを確かめるか、ホームから探してください。",
        "There is no page at this address. Check the address, or start again from the home page.",
    ),
    (
        "error.bad_address",
        "このアドレスのページはありません (番号の部分が正しくありません)。",
        "There is no page at this address (the number in it is not right).",
    ),
    ("error.method", "このページではその操作はできません。", "This page does not take that action."),
    ("error.too_large", "送られたデータが大きすぎます。", "What was sent is too large."),
    (
        "error.unreadable_form",
        "送信内容を読み取れませんでした。ページを読み込み直して、もう一度お試しください。",
        "What was sent could not be read. Reload the page and try again.",
    ),
    ("kind.rank", "ランク", "Rank"),
    ("kind.ticket", "回数券購入", "Ticket sold"),
    ("kind.ticket_use", "回数券利用", "Ticket used"),
    ("kind.membership", "会員", "Membership"),
    ("kind.message.sent", "メール送信", "Mail sent"),
    ("kind.message.queued", "メール送信待ち", "Mail waiting"),
    ("kind.message.failed", "メール送信失敗", "Mail failed"),
    ("kind.message.suppressed", "メール送信せず", "Mail not sent"),
    ("kind.line_message.sent", "LINE 送信", "LINE sent"),
    ("kind.line_message.queued", "LINE 送信待ち", "LINE waiting"),
    ("kind.line_message.failed", "LINE 送信失敗", "LINE failed"),
    ("kind.line_message.suppressed", "LINE 送信せず", "LINE not sent"),
    ("kind.sms_message.sent", "SMS 送信", "SMS sent"),
    ("kind.sms_message.queued", "SMS 送信待ち", "SMS waiting"),
    ("kind.sms_message.failed", "SMS 送信失敗", "SMS failed"),
    ("kind.sms_message.suppressed", "SMS 送信せず", "SMS not sent"),
    ("kind.task.open", "連絡予定", "To contact"),
    ("kind.task.done", "連絡済み", "Contacted"),
    ("kind.task.skipped", "連絡見送り", "Contact skipped"),
    ("error.forbidden", "この操作の権限がありません", "You are not allowed to do this"),
    (
        "error.csrf",
        "フォームの有効期限が切れました。ページを読み込み直してからもう一度送信してください。",
        "This form has expired. Reload the page and send it again.",
    ),
    ("error.form_too_large", "送信された内容が大きすぎます", "What was sent is too large"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_key_is_translated() {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/templates");
        let mut missing = Vec::new();
        for entry in std::fs::read_dir(dir).unwrap() {
            let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
            for part in text.split("t.t(\"").skip(1) {
                let key = part.split('"').next().unwrap();
                if !all_words().any(|(k, _, _)| *k == key) {
                    missing.push(key.to_string());
                }
            }
        }
        assert!(missing.is_empty(), "untranslated keys: {missing:?}");
    }

    #[test]
    fn keys_are_unique() {
        let words: Vec<_> = all_words().collect();
        for (i, (k, _, _)) in words.iter().enumerate() {
            assert!(!words[i + 1..].iter().any(|(k2, _, _)| k2 == k), "duplicate key {k}");
        }
    }
}
