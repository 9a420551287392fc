//! UI strings in Japanese (default) and English. A missing key shows the key itself, and a test
//! checks that every key used in the templates exists.

use serde::Deserialize;

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

impl Tr {
    pub fn t(&self, key: &str) -> &'static str {
        match MESSAGES.iter().find(|(k, _, _)| *k == key) {
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

    pub fn lang(&self) -> &'static str {
        self.0.code()
    }
}

/// (key, 日本語, English)
pub const MESSAGES: &[(&str, &str, &str)] = &[
    ("app.name", "Joren 常連", "Joren"),
    ("app.tagline", "お客様が何度も戻ってくるお店に", "Keep your customers coming back"),
    ("nav.home", "ホーム", "Home"),
    ("nav.customers", "顧客", "Customers"),
    ("nav.import", "取込・出力", "Import / export"),
    ("nav.analytics", "分析", "Analytics"),
    ("nav.loyalty", "ポイント・ランク", "Loyalty"),
    ("nav.automation", "フォロー自動化", "Follow-ups"),
    ("nav.segments", "セグメント", "Segments"),
    ("segb.list_title", "セグメント", "Segments"),
    (
        "segb.list_intro",
        "条件で顧客を絞り込み、名前を付けて保存します。人数はいつも最新の分析結果で数え直します。",
        "Pick customers by conditions and save the selection by name. Sizes are recounted on the latest analysis.",
    ),
    ("segb.new", "新しいセグメント", "New segment"),
    ("segb.none", "保存したセグメントはまだありません。", "No saved segments yet."),
    ("segb.name", "名前", "Name"),
    ("segb.description", "説明", "Description"),
    ("segb.members", "該当する顧客", "Customers in it"),
    ("segb.export", "CSV 出力", "Export CSV"),
    ("segb.save", "保存", "Save"),
    ("segb.delete", "このセグメントを削除", "Delete this segment"),
    ("segb.confirm_delete", "削除しますか？", "Delete it?"),
    ("segb.json", "条件を JSON で見る・編集する", "View or edit the conditions as JSON"),
    (
        "segb.json_help",
        "API の /api/v1/segments と同じ書式です。書き換えると上の条件にも反映されます。",
        "The same format as the API's /api/v1/segments. Edits here update the builder above.",
    ),
    ("segb.ui.all", "すべての条件を満たす (AND)", "match all (AND)"),
    ("segb.ui.any", "いずれかの条件を満たす (OR)", "match any (OR)"),
    ("segb.ui.add_condition", "＋ 条件を追加", "+ Add condition"),
    ("segb.ui.add_group", "＋ 条件グループを追加", "+ Add group"),
    ("segb.ui.remove", "削除", "Remove"),
    ("segb.ui.yes", "はい", "yes"),
    ("segb.ui.no", "いいえ", "no"),
    ("segb.ui.count", "該当:", "Matching:"),
    ("segb.ui.list_hint", "カンマ区切り", "comma-separated"),
    (
        "segb.ui.json_only",
        "この条件は入れ子が深いため、下の JSON で編集してください。",
        "These conditions nest too deep for the builder: edit them as JSON below.",
    ),
    ("segb.band.low", "低", "low"),
    ("segb.band.medium", "中", "medium"),
    ("segb.band.high", "高", "high"),
    ("segb.op.eq", "＝ (等しい)", "is"),
    ("segb.op.ne", "≠ (異なる)", "is not"),
    ("segb.op.lt", "＜ (未満)", "is less than"),
    ("segb.op.lte", "≦ (以下)", "is at most"),
    ("segb.op.gt", "＞ (超)", "is more than"),
    ("segb.op.gte", "≧ (以上)", "is at least"),
    ("segb.op.in", "次のいずれか", "is one of"),
    ("segb.op.contains", "次を含む", "includes"),
    ("segb.field.segment", "RFM セグメント", "RFM segment"),
    ("segb.field.churn_band", "離反リスク", "Churn risk"),
    ("segb.field.churn_score", "離反リスク点数 (0–100)", "Churn risk score (0–100)"),
    ("segb.field.p_alive", "継続確率 P(alive) (0–1)", "P(alive) (0–1)"),
    ("segb.field.clv_12m", "予測 LTV 12か月 (円)", "Predicted 12-month CLV (yen)"),
    ("segb.field.expected_purchases_90d", "今後90日の予測購入回数", "Expected purchases, next 90 days"),
    ("segb.field.recency_days", "最終購入からの日数", "Days since last purchase"),
    ("segb.field.frequency", "購入回数", "Number of purchases"),
    ("segb.field.total_spent", "累計購入額 (円)", "Total spent (yen)"),
    ("segb.field.birthday_month", "誕生月", "Birthday month"),
    ("segb.field.prefecture", "都道府県", "Prefecture"),
    ("segb.field.acquisition_source", "獲得経路", "Acquisition source"),
    ("segb.field.acquisition_campaign", "獲得キャンペーン", "Acquisition campaign"),
    ("segb.field.owner_user_id", "担当者 (ユーザー ID)", "Owner (user id)"),
    ("segb.field.tags", "タグ", "Tags"),
    ("segb.field.purchased_category", "購入したカテゴリ", "Purchased category"),
    ("segb.field.consent_email", "メール配信の同意", "Email consent"),
    ("segb.field.consent_sms", "SMS 配信の同意", "SMS consent"),
    ("segb.field.consent_line", "LINE 配信の同意", "LINE consent"),
    ("segb.field.consent_dm", "DM 送付の同意", "Direct-mail consent"),
    ("xsell.title", "おすすめ商品 (クロスセル)", "Suggested products (cross-sell)"),
    (
        "xsell.help",
        "この方がまだ買っていない商品のうち、同じ商品を買った他のお客様がよく一緒に買っているもの。信頼度 = その商品の購入者のうち提案商品も買った割合、リフト = それが全体の購入率の何倍か (1 より大きいほど関係が強い)",
        "Products this customer has not bought that customers who bought the same items often did. Confidence = share of the item's buyers who also bought the suggestion; lift = how many times the overall rate that is (above 1 = related)",
    ),
    ("xsell.bought", "を買った方の", "buyers:"),
    ("xsell.also", "が購入", "also bought it"),
    ("xsell.lift", "リフト", "lift"),
    ("xsell.pairs", "よく一緒に買われる組み合わせ", "Bought together"),
    (
        "xsell.pairs_help",
        "両方を買ったお客様の数が多い組み合わせ。信頼度は左の商品の購入者のうち右の商品も買った割合、リフトは偶然の何倍か",
        "Pairs the most customers bought both of. Confidence: share of the left item's buyers who bought the right one; lift: how many times chance",
    ),
    ("xsell.customers", "両方購入", "Bought both"),
    ("xsell.confidence", "信頼度", "Confidence"),
    (
        "xsell.none",
        "組み合わせはまだありません (分析後、3人以上が一緒に買った商品が表示されます)",
        "No pairs yet (after an analysis, products at least 3 customers bought together appear here)",
    ),
    ("nav.soon", "準備中", "coming soon"),
    ("nav.logout", "ログアウト", "Log out"),
    ("nav.lang_other", "English", "日本語"),
    ("login.title", "ログイン", "Log in"),
    ("login.username", "ユーザー名", "Username"),
    ("login.password", "パスワード", "Password"),
    ("login.submit", "ログイン", "Log in"),
    ("login.failed", "ユーザー名またはパスワードが違います", "Wrong username or password"),
    ("home.title", "ホーム", "Home"),
    ("home.customers", "顧客数", "Customers"),
    ("home.orders", "注文数", "Orders"),
    ("home.recent_orders", "最近の注文", "Recent orders"),
    (
        "home.analytics_soon",
        "リテンション分析・ダッシュボードはこの場所に表示されます (次のリリース)。",
        "Retention analytics and the dashboard will appear here (next release).",
    ),
    ("customers.title", "顧客一覧", "Customers"),
    ("customers.search", "名前・フリガナ・メール・電話で検索", "Search by name, kana, email or phone"),
    ("customers.search_button", "検索", "Search"),
    ("customers.found", "件", "found"),
    ("customers.none", "該当する顧客はいません", "No customers match"),
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
    ("customer.source", "獲得経路", "Acquired via"),
    ("customer.owner", "担当者", "Account manager"),
    ("insight.title", "分析", "Insights"),
    ("dash.title", "分析ダッシュボード", "Analytics dashboard"),
    ("dash.start", "期間の開始", "From"),
    ("dash.end", "期間の終了", "To"),
    ("dash.show", "表示", "Show"),
    ("dash.compared", "比較対象 (前の期間):", "Compared with the previous period:"),
    ("dash.before", "前期間", "before"),
    ("dash.cohorts", "コホート別の継続率", "Retention by cohort"),
    (
        "dash.cohorts_help",
        "初回購入の月ごとに顧客をまとめ、その後の各月に購入した人の割合",
        "Customers grouped by the month of their first purchase; the share who bought in each later month",
    ),
    ("dash.cohort", "初回購入月", "First purchase"),
    ("dash.size", "人数", "Customers"),
    ("dash.no_orders", "まだ注文がありません。", "No orders yet."),
    ("dash.segments", "RFM セグメント (人数と売上比)", "RFM segments (customers and revenue share)"),
    ("dash.clv", "予測 CLV (12か月) の分布", "Predicted 12-month CLV"),
    ("dash.by_source", "獲得経路別の継続", "Retention by acquisition source"),
    ("dash.no_sources", "獲得経路が登録された顧客がいません。", "No customer has an acquisition source yet."),
    ("dash.at_risk", "離反リスクの高い顧客 (価値の高い順)", "High churn risk, most valuable first"),
    (
        "dash.no_risk",
        "離反リスクの高い顧客はいません (または未分析)。",
        "No high-risk customers (or not analysed yet).",
    ),
    ("dash.model", "予測モデル", "Forecast model"),
    ("kpi.retention", "継続率", "Retention rate"),
    (
        "kpi.retention_help",
        "(期末の顧客数 − 期間中の新規) ÷ 期首の顧客数 × 100。顧客 = 直近 365 日に購入した人",
        "(customers at end − new in period) ÷ customers at start × 100; a customer = bought within the last 365 days",
    ),
    ("kpi.churn", "離反率", "Churn rate"),
    ("kpi.churn_help", "100 − 継続率", "100 − retention rate"),
    ("kpi.repeat", "リピート率", "Repeat rate"),
    (
        "kpi.repeat_help",
        "期末の顧客のうち 2 回以上購入した人の割合",
        "Share of the customers at the end who have bought twice or more",
    ),
    ("kpi.active", "アクティブ顧客", "Active customers"),
    (
        "kpi.active_help",
        "期末時点で直近 365 日に購入した顧客の数",
        "Customers who bought within the 365 days up to the end",
    ),
    ("kpi.aov", "平均注文額", "Average order value"),
    ("kpi.aov_help", "期間中の売上 ÷ 注文数", "Revenue in the period ÷ orders"),
    ("kpi.ltv", "簡易 LTV", "Simple LTV"),
    (
        "kpi.ltv_help",
        "平均注文額 × 年間購入頻度 × 平均継続年数 (1 ÷ (1 − 年間継続率))",
        "AOV × orders per year × average lifetime in years (1 ÷ (1 − yearly retention))",
    ),
    ("industry.title", "業界の目安との比較", "Against your industry"),
    ("industry.typical", "の一般的なリピート率", "typical repeat rate"),
    ("industry.below", "目安より低め", "below the typical range"),
    ("industry.within", "目安の範囲内", "within the typical range"),
    ("industry.above", "目安より高め", "above the typical range"),
    (
        "industry.choose",
        "業種を選ぶと、リピート率を業界の目安と比べます。",
        "Choose your industry to compare the repeat rate with its typical range.",
    ),
    ("industry.save", "業種を保存", "Save industry"),
    ("insight.segment", "RFM セグメント", "RFM segment"),
    (
        "insight.segment_help",
        "最終購入からの日数 (R)・購入回数 (F)・購入金額 (M) を全顧客の中で 5 段階に分けた組み合わせによる分類",
        "Recency (R), frequency (F) and monetary (M), each scored 1–5 by quintile across all customers, combined into a named segment",
    ),
    ("insight.churn", "離反リスク", "Churn risk"),
    (
        "insight.churn_help",
        "100 × (½ × (1 − 継続確率) + ½ × 購入周期からの遅れ)。0〜29 低、30〜59 中、60 以上 高",
        "100 × (½ (1 − P(alive)) + ½ × how far past the customer's own purchase rhythm). 0–29 low, 30–59 medium, 60+ high",
    ),
    ("insight.churn_high", "高", "High"),
    ("insight.churn_medium", "中", "Medium"),
    ("insight.churn_low", "低", "Low"),
    ("insight.not_fitted", "—", "—"),
    ("insight.p_alive", "継続確率", "P(alive)"),
    (
        "insight.p_alive_help",
        "BG/NBD モデルが推定した、この顧客がまだ離れていない確率",
        "The probability, estimated by the BG/NBD model, that the customer has not left",
    ),
    ("insight.clv", "12か月の顧客生涯価値", "12-month CLV"),
    (
        "insight.clv_help",
        "今後 12 か月の予想購入回数 × 予想単価 (Gamma-Gamma)、月 1% で割引",
        "Expected purchases over the next 12 months × expected order value (Gamma-Gamma), discounted 1% a month",
    ),
    ("insight.next", "次回購入の目安", "Next purchase expected by"),
    (
        "insight.next_help",
        "最終購入日 + この顧客の購入間隔 (店全体の中央値で補正)",
        "Last purchase + the customer's interval between purchases (shrunk toward the shop's median)",
    ),
    ("insight.overdue", "予定超過", "Overdue"),
    ("insight.expected_90d", "90 日以内の予想購入回数", "Expected purchases, next 90 days"),
    ("insight.order_value", "予想単価", "Expected order value"),
    ("insight.as_of", "計算日時:", "Computed"),
    (
        "insight.none",
        "まだ分析していません。「今すぐ分析」で全顧客の指標を計算します (夜間にも自動で更新されます)。",
        "Not analysed yet. \"Analyse now\" computes every customer's metrics (they are also refreshed nightly).",
    ),
    (
        "insight.not_fitted_help",
        "データがまだ少ないため、予測モデルは使っていません (RFM のみ)。",
        "Too little data for the forecasting models yet (RFM only).",
    ),
    ("insight.refresh", "今すぐ分析", "Analyse now"),
    ("insight.next_action", "次の一手", "Next best action"),
    ("week.title", "今週連絡したい顧客", "Contact this week"),
    ("rules.title", "次の一手のルール", "Next-best-action rules"),
    (
        "rules.help",
        "上から順に、最初に当てはまったルールのアクションを提案します。条件の追加・変更は API (/api/v1/settings/next-best-action) で行えます。",
        "The first rule that matches, from the top, gives the suggestion. Conditions can be added or changed over the API (/api/v1/settings/next-best-action).",
    ),
    ("rules.when", "条件", "When"),
    ("rules.action_ja", "アクション (日本語)", "Action (Japanese)"),
    ("rules.action_en", "アクション (英語)", "Action (English)"),
    ("rules.save", "ルールを保存", "Save rules"),
    ("rules.otherwise", "その他すべて", "Everyone else"),
    (
        "week.slipping",
        "セグメントが悪化した顧客 (前回の分析から)",
        "Slipped to a worse segment since the last analysis",
    ),
    (
        "week.overdue",
        "次回購入の目安を過ぎた顧客 (価値の高い順)",
        "Past their expected next purchase, most valuable first",
    ),
    ("week.dormant", "掘り起こしたい休眠顧客", "Dormant customers worth reactivating"),
    ("week.none", "該当する顧客はいません (または未分析)。", "Nobody here (or not analysed yet)."),
    ("insight.because", "理由:", "because"),
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
    ("import.title", "CSV取込", "Import CSV"),
    (
        "import.help",
        "Excel の CSV (Shift_JIS) も UTF-8 もそのまま読めます。列名は自動で判定され、取込前に確認できます。同じファイルを再度取り込んでも重複しません。",
        "Excel CSV (Shift_JIS) and UTF-8 both work. Columns are detected from the headers and shown before importing. Re-importing the same file creates no duplicates.",
    ),
    ("import.kind", "種類", "Kind"),
    ("import.customers", "顧客", "Customers"),
    ("import.orders", "注文", "Orders"),
    ("import.preset", "形式", "Layout"),
    ("import.preset_auto", "自動判定", "Detect"),
    ("import.preset_generic", "汎用", "Generic"),
    ("import.preset_shopify", "Shopify 注文エクスポート", "Shopify orders export"),
    ("import.file", "ファイル", "File"),
    ("import.preview", "内容を確認", "Preview"),
    ("import.preview_title", "取込内容の確認", "Check before importing"),
    ("import.encoding", "文字コード", "Encoding"),
    ("import.mapping", "列の対応", "Column mapping"),
    ("import.field", "項目", "Field"),
    ("import.column", "CSVの列", "CSV column"),
    ("import.not_used", "(使わない)", "(not used)"),
    ("import.sample", "先頭の行", "First rows"),
    ("import.run", "取り込む", "Import"),
    ("import.report_title", "取込結果", "Import report"),
    ("import.rows", "読んだ行", "Rows read"),
    ("import.created", "新規", "Created"),
    ("import.updated", "更新", "Updated"),
    ("import.unchanged", "変更なし", "Unchanged"),
    ("import.skipped", "取込済み (スキップ)", "Already imported (skipped)"),
    ("import.customers_created", "新規顧客 (注文から)", "Customers created from orders"),
    ("import.rejected", "エラー行", "Rejected rows"),
    ("import.rejects_download", "エラー行を CSV でダウンロード", "Download rejected rows as CSV"),
    ("import.export_title", "CSV出力", "Export CSV"),
    (
        "import.export_help",
        "UTF-8 (BOM付き) で出力します。Excel でそのまま開けます。",
        "Exports UTF-8 with BOM; opens directly in Excel.",
    ),
    ("import.export_customers", "顧客を出力", "Export customers"),
    ("import.export_orders", "注文を出力", "Export orders"),
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
    ("form.city", "市区町村", "City"),
    ("form.street", "町域・番地", "Street"),
    ("form.building", "建物名・部屋番号", "Building"),
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
    ("error.forbidden", "この操作の権限がありません", "You are not allowed to do this"),
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
                if !MESSAGES.iter().any(|(k, _, _)| *k == key) {
                    missing.push(key.to_string());
                }
            }
        }
        assert!(missing.is_empty(), "untranslated keys: {missing:?}");
    }

    #[test]
    fn keys_are_unique() {
        for (i, (k, _, _)) in MESSAGES.iter().enumerate() {
            assert!(!MESSAGES[i + 1..].iter().any(|(k2, _, _)| k2 == k), "duplicate key {k}");
        }
    }
}
