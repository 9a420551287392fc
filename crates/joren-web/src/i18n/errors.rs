//! Error codes worded for people: every [`Code`] the lower layers return has a Japanese and an
//! English sentence here (an exhaustive `match`, so a new code cannot reach a page unworded).
//! `{0}`, `{1}`, … stand for the code's values; a value written `@key` is itself a word key
//! (a status or an action), looked up in the reader's language.

use joren_app::AppError;
use joren_core::{Code, FieldError, Problem};

use super::{Lang, Tr};

/// The sentence for `code`: (日本語, English).
fn words(code: Code) -> (&'static str, &'static str) {
    use Code::*;
    match code {
        Required => ("入力してください", "Please fill this in"),
        Choose => ("選んでください", "Please choose one"),
        TooLong => ("{0}文字以内にしてください (いま {1}文字)", "At most {0} characters (now {1})"),
        LengthRange => ("{0}〜{1}文字で入力してください", "Use {0} to {1} characters"),
        TooMany => ("{0}個までです", "At most {0}"),
        Range => ("{0}〜{1} で指定してください", "Use a number from {0} to {1}"),
        BadKey => {
            ("半角の英数字と _ (40文字まで) で入力してください: {0}", "Use letters, digits and _ (at most 40): {0}")
        }
        Duplicate => ("同じものが2つあります: {0}", "This appears twice: {0}"),
        RangeDays => ("{0}〜{1}日で指定してください", "Use {0} to {1} days"),
        RangeMonths => ("{0}〜{1}か月で指定してください", "Use {0} to {1} months"),
        RangePercent => ("{0}〜{1}% で指定してください", "Use {0} to {1} %"),
        RangeYen => ("{0}〜{1}円で指定してください", "Use ¥{0} to ¥{1}"),
        RangeTimes => ("{0}〜{1}回で指定してください", "Use {0} to {1} times"),
        RangeMinutes => ("{0}〜{1}分で指定してください", "Use {0} to {1} minutes"),
        NotOneOf => ("「{0}」は使えません (使える値: {1})", "\"{0}\" is not allowed (allowed: {1})"),
        ControlChars => ("制御文字 (NUL など) は使えません", "Control characters (such as NUL) are not allowed"),
        BadHost => ("サーバー名として使えません: {0}", "Not a server name: {0}"),
        BadEmail => ("メールアドレスの形式が正しくありません: {0}", "Not an email address: {0}"),
        BadPhone => ("電話番号として読めません: {0}", "Not a phone number: {0}"),
        NoSuchPhoneNumber => ("存在しない電話番号です: {0}", "No such phone number: {0}"),
        BadPostalCode => {
            ("郵便番号は7桁で入力してください (例: 100-0001): {0}", "A postal code has 7 digits (e.g. 100-0001): {0}")
        }
        BadPrefecture => ("都道府県名が正しくありません: {0}", "Not a prefecture: {0}"),
        BadDate => (
            "日付として読めません (例: 1980-03-03, 1980/3/3, 昭和55年3月3日, S55.3.3): {0}",
            "Not a date (e.g. 1980-03-03, 1980/3/3, or a Japanese era date such as S55.3.3): {0}",
        ),
        PostalPadded => (
            "郵便番号「{0}」は先頭の0が落ちていたため {1} として登録しました",
            "Postal code \"{0}\" had lost its leading zero and was saved as {1}",
        ),
        CompanyDetected => ("「{0}」は会社名として登録しました (御中)", "\"{0}\" was saved as a company name"),
        AddressFromPostcode => {
            ("郵便番号 {0} から住所を補いました: {1}", "The address was filled from postal code {0}: {1}")
        }
        AddressSplit => {
            ("住所「{0}」を都道府県・市区町村・番地・建物名に分けました", "Address \"{0}\" was split into its parts")
        }
        BadDateTime => {
            ("日時は RFC 3339 か YYYY-MM-DD で入力してください: {0}", "Write the time as RFC 3339 or YYYY-MM-DD: {0}")
        }
        BadTime => ("時刻は HH:MM で入力してください", "Write the time as HH:MM"),
        BadWeekday => ("曜日は1(月)〜7(日)です", "The weekday is 1 (Monday) to 7 (Sunday)"),
        BadKana => (
            "読み仮名はカタカナで入力してください (「{0}」はカナではありません)",
            "Write the reading in katakana (\"{0}\" is not kana)",
        ),
        BadAmount => ("金額として読めません: {0}", "Not an amount: {0}"),
        AmountDecimals => ("小数点以下の桁が多すぎます: {0}", "Too many decimal places: {0}"),
        BadCurrency => ("通貨コードが正しくありません: {0}", "Not a currency code: {0}"),
        BadNumber => ("数字ではありません: {0}", "Not a number: {0}"),
        BadYesNo => ("はい/いいえ として読めません: {0}", "Not yes or no: {0}"),
        BadJson => ("JSON として読めません: {0}", "Not JSON: {0}"),
        BadFilter => ("条件が正しくありません: {0}", "The conditions cannot be used: {0}"),
        FilterTooDeep => ("条件のグループは{0}段までです", "Condition groups nest at most {0} deep"),
        FilterNotObject => ("条件の形式が正しくありません", "A condition must be an object"),
        FilterGroupAlone => ("「{0}」は他の項目と並べられません", "\"{0}\" must be the only key of its object"),
        FilterGroupList => ("「{0}」には条件のリストを指定してください", "\"{0}\" takes a list of conditions"),
        FilterEmptyGroup => ("空の条件グループです", "An empty group matches nothing"),
        FilterUnknownKey => (
            "「{0}」は使えません (field, op, value か all / any)",
            "Unknown key \"{0}\" (use field, op, value, or all / any)",
        ),
        FilterUnknownField => ("「{0}」という項目はありません (使える項目: {1})", "No field \"{0}\" (fields: {1})"),
        FilterUnknownOp => ("「{0}」という比べ方はありません", "No operator \"{0}\""),
        FilterOps => ("{0} に使える比べ方は {1} です", "{0} takes {1}"),
        FilterValue => ("{0} を {1} で比べる値は{2}です", "{0} {1} needs {2}"),
        DateTooEarly => ("{0} より前の日付は使えません", "Dates before {0} are not accepted"),
        DateInFuture => ("未来の日付は使えません", "A date in the future is not accepted"),
        DateInPast => ("過去の日付は指定できません", "A date in the past is not accepted"),
        StartAfterEnd => ("開始日が終了日より後です", "The start is after the end"),
        NoSuchDay => ("{0}月{1}日 は日付ではありません", "{0}/{1} (month/day) is not a date"),
        NoSuchCustomer => ("顧客が見つかりません", "No such customer"),
        NoSuchUser => ("ユーザー {0} は存在しません", "There is no user {0}"),
        UserDisabled => ("ユーザー {0} は無効化されています", "User {0} is disabled"),
        NoSuchRank => ("ランク「{0}」はありません", "There is no rank \"{0}\""),
        NoSuchPlan => ("プラン {0} はありません", "There is no plan {0}"),
        NoSuchProduct => ("商品 {0} はありません", "There is no product {0}"),
        ItemsOrAmount => {
            ("商品か金額 ({0}) のどちらかで入力してください", "Give the items or an amount ({0}), not both")
        }
        NoSuchSegment => ("その保存セグメントはありません ({0})", "There is no such saved segment ({0})"),
        NoSuchRfmSegment => ("「{0}」はセグメントではありません", "\"{0}\" is not a segment"),
        NoSuchScenario => ("そのシナリオはありません", "There is no such scenario"),
        NotThisCustomersOrder => ("この顧客の注文ではありません", "Not an order of this customer"),
        CustomerMerged => ("この顧客は {0} に統合されました", "This customer was merged into {0}"),
        NeedNameOrContact => ("氏名・メール・電話のいずれかが必要です", "A name, an email or a phone number is needed"),
        NeedCompanyName => ("法人顧客には会社名が必要です", "A company customer needs a company name"),
        NeedSystemAndId => ("システム名と外部IDは必須です", "Both the system and the external id are needed"),
        ExternalIdTaken => {
            ("外部ID {0}:{1} はすでに顧客 {2} のものです", "External id {0}:{1} already belongs to customer {2}")
        }
        MergeIntoItself => ("同じ顧客どうしは統合できません", "A customer cannot be merged into itself"),
        AlreadyMerged => ("この顧客はすでに統合されています", "This customer was already merged"),
        LineUserTaken => (
            "この LINE ユーザーはすでに顧客 #{0} とつながっています",
            "This LINE user is already linked to customer #{0}",
        ),
        BadLineUserId => (
            "LINE ユーザー ID ではありません (U で始まる33文字): {0}",
            "Not a LINE user id (U and 32 more characters): {0}",
        ),
        NoLineUser => (
            "この顧客には LINE で送れません (連携されていないか、ブロックされています)",
            "This customer cannot be reached on LINE (not linked, or they blocked the account)",
        ),
        NoSmsPhone => (
            "この顧客には SMS で送れません (携帯電話番号がないか、配信停止されています)",
            "This customer cannot be reached by SMS (no mobile number, or they replied STOP)",
        ),
        SmsTooLong => (
            "SMS は{0}文字まで (10通分) です。このままでは{1}通になります",
            "An SMS is at most {0} characters (10 segments); this would take {1}",
        ),
        NoEmailAddress => (
            "この顧客にはメールアドレスがないため、メールで送れません",
            "This customer has no email address to write to",
        ),
        SurveyArchived => (
            "このアンケートはアーカイブ済みです。送るには元に戻してください",
            "This survey is archived; restore it to send it",
        ),
        SurveyAnswered => ("このアンケートには回答済みです", "This survey has been answered already"),
        SurveyExpired => ("このアンケートの回答期限を過ぎています", "The time to answer this survey has passed"),
        CaseStepOrder => ("手順は順番に記録してください (次は「{0}」)", "Record the steps in order (next: {0})"),
        ReferralsOff => (
            "紹介プログラムが停止中です。紹介の設定で有効にしてください",
            "The referral programme is off; switch it on in the referral settings",
        ),
        UnknownReferralCode => ("紹介コード「{0}」は見つかりません", "No customer has the referral code {0}"),
        SelfReferral => (
            "ご本人による紹介は対象外です (紹介者と同じ連絡先・住所です)",
            "A customer cannot refer themselves (the same contact details or address as the referrer)",
        ),
        AlreadyReferred => {
            ("このお客様はすでに{0}の紹介で登録されています", "This customer was already referred by {0}")
        }
        NotNewCustomer => (
            "紹介の対象は、まだご購入のない新しいお客様だけです",
            "Only a new customer with no orders yet can be referred",
        ),
        LineOnly => (
            "カードやボタンを付けられるのは LINE だけです (SMS・メールには付けられません)",
            "Only a LINE message carries a card or buttons (not a text or a mail)",
        ),
        BadUrl => ("https:// で始まるアドレスを入れてください: {0}", "Enter an address starting with https://: {0}"),
        NeedItems => ("明細が1行以上必要です", "At least one line item is needed"),
        LineAmountTooLarge => ("1行の金額 (数量 × 単価) は{0}円までです", "A line (quantity × price) is at most ¥{0}"),
        DiscountOverTotal => ("値引きが合計を超えています", "The discount is more than the total"),
        RefundCancelled => ("キャンセル済みの注文は返金できません", "A cancelled order cannot be refunded"),
        RefundOverRemaining => ("返金額が残額 {0}円を超えています", "The refund is more than the ¥{0} left"),
        OrderNotCancellable => (
            "{0}の注文はキャンセルできません (返金を使ってください)",
            "An order that is {0} cannot be cancelled (refund it)",
        ),
        RanksDisabled => (
            "ランク制度が無効です (ポイント設定で有効にしてください)",
            "Ranks are off (turn them on in the points settings)",
        ),
        FirstTierZero => ("最初のランクの条件は 0 です", "The first rank starts at 0"),
        TierNameTaken => ("同じ名前のランクがあります", "Another rank has this name"),
        NeedTiers => ("ランクを1つ以上設定してください", "Set up at least one rank"),
        TierNotIncreasing => ("前のランクより大きい値にしてください", "Use a value above the previous rank's"),
        NeedReason => ("理由を入力してください (監査記録に残ります)", "Give a reason (it is kept in the audit log)"),
        NeedPerkGate => (
            "対象 (ランク・会員プラン・セグメント) を1つ以上指定してください",
            "Choose who it is for (a rank, a plan or a segment)",
        ),
        AlreadyCancelled => ("ポイント利用 {0} は取り消し済みです", "Redemption {0} was already cancelled"),
        NotEnoughPoints => {
            ("ポイントが足りません (利用可能 {0}、必要 {1})", "Not enough points ({0} available, {1} needed)")
        }
        RedemptionConfirmed => (
            "ポイント利用 {0} は確定済みです (注文の返金・キャンセルで戻ります)",
            "Redemption {0} is confirmed (a refund or cancellation of the order returns it)",
        ),
        NotPositive => ("1 以上で指定してください: {0}", "Use 1 or more: {0}"),
        TemplateSyntax => ("テンプレートの書き方が正しくありません: {0}", "The template has a syntax error: {0}"),
        TemplateUnknownVariables => ("使えない変数があります: {0}", "Unknown variables: {0}"),
        TemplateRender => ("テンプレートを表示できません: {0}", "The template cannot be shown: {0}"),
        BadScenario => ("シナリオの形式が正しくありません: {0}", "The scenario cannot be read: {0}"),
        NeedSteps => ("ステップを1つ以上追加してください", "Add at least one step"),
        BadSkip => ("飛ばすステップの数が正しくありません", "The number of steps to skip is wrong"),
        ScenarioNotActive => (
            "シナリオが有効になっていません (先に有効にしてください)",
            "The scenario is not active (activate it first)",
        ),
        NeedSubjectOrBody => ("件名か内容を入力してください", "Give a subject or a text"),
        TaskFinished => ("この連絡はすでに終わっています", "This task is already finished"),
        ConversationOpen => ("この会話はすでに対応中です", "This conversation is open already"),
        ConversationClosed => ("この会話はすでに完了しています", "This conversation is closed already"),
        DeliveryNotFailed => ("送信に失敗した配信だけを再送できます", "Only a delivery that failed can be sent again"),
        UnknownEvent => ("購読できないイベントです: {0}", "Not an event a webhook can subscribe to: {0}"),
        ConversationOpenElsewhere => (
            "同じお客様の別の会話が対応中です。そちらで続けてください",
            "Another conversation with this customer is open: carry on there",
        ),
        BadUsername => {
            ("ユーザー名は英数字と _ - . @ の64文字以内です", "A user name is up to 64 letters, digits and _ - . @")
        }
        UsernameTaken => ("ユーザー名 {0} はすでに使われています", "The user name {0} is taken"),
        PasswordTooShort => ("パスワードは{0}文字以上にしてください", "Use at least {0} characters"),
        PasswordTooLong => ("パスワードは{0}文字以内にしてください", "Use at most {0} characters"),
        PasswordHasUsername => ("ユーザー名を含むパスワードは使えません", "The password may not contain the user name"),
        PasswordCommon => {
            ("よく使われるパスワードです。別のものにしてください", "This password is too common; choose another")
        }
        ReadOnlyUser => ("閲覧権限のユーザーは変更できません", "Viewers cannot change anything"),
        OwnerOnly => ("オーナーだけができる操作です", "Only an owner can do this"),
        LastOwner => (
            "有効なオーナーが1人もいなくなるため変更できません (先に別のオーナーを作ってください)",
            "This would leave no enabled owner (make someone else an owner first)",
        ),
        NotYourUpload => ("この取込ファイルは他のユーザーのものです", "This upload belongs to another user"),
        NoHeaderRow => ("ヘッダー行がありません", "The file has no header row"),
        BadMapping => ("列の指定が正しくありません: {0}", "The column mapping cannot be used: {0}"),
        NeedOrderDateColumn => {
            ("注文日の列が見つかりません (ordered_at を指定してください)", "No order date column (map ordered_at)")
        }
        NeedPriceColumn => (
            "単価か金額の列が必要です (unit_price / line_amount)",
            "A unit price or line amount column is needed (unit_price / line_amount)",
        ),
        ColumnCount => (
            "列の数が {0} 列です (見出し行は {1} 列): 区切りや引用符を確かめてください",
            "{0} columns where the header has {1}: check the separators and quotes",
        ),
        CellTooLarge => ("セルが大きすぎます ({0} バイト、上限 {1})", "The cell is too large ({0} bytes, at most {1})"),
        UnclosedQuote => (
            "{0} 行目で始まる引用符 (\") が閉じられていません: ファイルの終わりまでが1つのセルとして読まれたため取り込みません",
            "The quote (\") opened on line {0} is never closed: the rest of the file was read as one cell, so it is not imported",
        ),
        Utf8InShiftJis => (
            "{0} 行目: UTF-8 の行が Shift_JIS のファイルに混ざっています (文字化けを防ぐため取り込みません)",
            "Line {0}: a UTF-8 line in a Shift_JIS file (not imported, to avoid garbled text)",
        ),
        ShiftJisInUtf8 => (
            "{0} 行目: Shift_JIS の行が UTF-8 のファイルに混ざっています (文字化けを防ぐため取り込みません)",
            "Line {0}: a Shift_JIS line in a UTF-8 file (not imported, to avoid garbled text)",
        ),
        Undecodable => (
            "{0} 行目: 文字として読めないバイトがあります (ファイルの文字コードを確かめてください)",
            "Line {0}: bytes that are not text (check the file's encoding)",
        ),
        NotDivisible => ("金額 {0} が数量 {1} で割り切れません", "The amount {0} does not divide by the quantity {1}"),
        BadCsv => ("CSV の形式エラー: {0}", "CSV format error: {0}"),
        SameAsLine => (
            "同じファイルの {0} 行目と同じ顧客です (ID・メール・電話が一致)",
            "The same customer as line {0} of this file (id, email or phone match)",
        ),
        OrderLineRefused => {
            ("同じ注文の {0} 行目のエラーのため取り込みません", "Not imported: line {0} of the same order was refused")
        }
        ChangedMeanwhile => {
            ("同時に変更されました。もう一度お試しください", "Someone changed it at the same time; please try again")
        }
        Busy => ("混み合っています。少し待ってからもう一度お試しください", "Busy; please try again in a moment"),
        KeyReused => (
            "この Idempotency-Key は別の内容の依頼に使われています",
            "This Idempotency-Key was used for another request",
        ),
        JobNotDead => (
            "ジョブ {0} は{1}です (再実行できるのは停止したジョブだけです)",
            "Job {0} is {1} (only dead jobs can be retried)",
        ),
        NameTaken => ("「{0}」という名前はすでに使われています", "The name \"{0}\" is taken"),
        SkuTaken => ("商品コード「{0}」は別の商品で使われています", "The SKU \"{0}\" belongs to another product"),
        PointsOverTotal => ("使うポイントがお会計 ({0}) を超えています", "More points than the sale comes to ({0})"),
        NotThisCustomersContact => ("この顧客の担当者ではありません", "Not a contact of this customer"),
        PlanClosed => ("「{0}」は受付を終了しています", "\"{0}\" is no longer offered"),
        AlreadyMember => ("すでに「{0}」の会員です", "Already a member of \"{0}\""),
        MembershipStateRefused => ("{0}の会員には「{1}」できません", "A membership that is {0} cannot take \"{1}\""),
        TicketRefunded => ("払い戻し済みの回数券です", "This ticket book was refunded"),
        TicketUsedUp => ("残り回数がありません", "No visits left"),
        TicketExpired => ("有効期限 ({0}) を過ぎています", "Past its last day ({0})"),
        ExternalOrderDiffers => {
            ("注文番号 {0} の注文が別の内容ですでにあります", "An order {0} already exists with other contents")
        }
        Other => ("{0}", "{0}"),
    }
}

/// The sentence for `code` with `args` put in, in `lang`.
pub fn word(code: Code, args: &[String], lang: Lang) -> String {
    let (ja, en) = words(code);
    let mut out = match lang {
        Lang::Ja => ja,
        Lang::En => en,
    }
    .to_string();
    for (i, a) in args.iter().enumerate() {
        let value = match a.strip_prefix('@') {
            Some(key) => Tr(lang).maybe(key).map_or_else(|| key.to_string(), str::to_string),
            None => a.clone(),
        };
        out = out.replace(&format!("{{{i}}}"), &value);
    }
    out
}

/// One field's error as a sentence, without the field's name (shown beside its field).
pub fn field_error(e: &FieldError, lang: Lang) -> String {
    word(e.code, &e.args, lang)
}

/// A problem as a sentence.
pub fn problem(p: &Problem, lang: Lang) -> String {
    word(p.code, &p.args, lang)
}

/// Several field errors as one line, each led by its field's label where the pages have one
/// (`form.<field>`); a field without a label (an internal path) is not named.
pub fn field_errors(errors: &[FieldError], lang: Lang) -> String {
    errors
        .iter()
        .map(|e| {
            let text = field_error(e, lang);
            match label(&e.field, lang) {
                Some(label) => format!("{label}: {text}"),
                None => text,
            }
        })
        .collect::<Vec<_>>()
        .join(" / ")
}

/// The words for a field's name (`form.<field>`); in a list's field such as
/// `ranks.tiers[1].threshold` the label of `ranks.tiers[].threshold` with `{n}` the item's place
/// counted from 1.
fn label(field: &str, lang: Lang) -> Option<String> {
    let tr = Tr(lang);
    if let Some(l) = tr.maybe(&format!("form.{field}")) {
        return Some(l.to_string());
    }
    let open = field.find('[')?;
    let close = open + field[open..].find(']')?;
    let n: usize = field[open + 1..close].parse().ok()?;
    let key = format!("form.{}[]{}", &field[..open], &field[close + 1..]);
    tr.maybe(&key).map(|l| l.replace("{n}", &(n + 1).to_string()))
}

/// Several field errors as `field: sentence`, joined by `; ` — fields named as the API and the
/// CSV columns name them (for developers: the API's messages and the command line).
pub fn named(errors: &[FieldError], lang: Lang) -> String {
    errors
        .iter()
        .map(
            |e| {
                if e.field.is_empty() { field_error(e, lang) } else { format!("{}: {}", e.field, field_error(e, lang)) }
            },
        )
        .collect::<Vec<_>>()
        .join("; ")
}

/// An application error as a sentence in `lang`.
pub fn app_error(e: &AppError, lang: Lang) -> String {
    let tr = Tr(lang);
    match e {
        AppError::Validation(errors) => field_errors(&errors.0, lang),
        AppError::NotFound(what) => {
            let thing = tr.maybe(&format!("thing.{what}")).unwrap_or(what);
            match lang {
                Lang::Ja => format!("{thing}が見つかりません"),
                Lang::En => format!("{thing} not found"),
            }
        }
        AppError::Conflict(p) | AppError::Forbidden(p) => problem(p, lang),
        AppError::Unauthorized => tr.t("error.unauthorized").to_string(),
        AppError::TooManyAttempts { retry_after_secs } => {
            tr.t("error.too_many_attempts").replace("{0}", &retry_after_secs.to_string())
        }
        AppError::Io(m) => m.clone(),
        AppError::Internal(_) => tr.t("error.internal").to_string(),
    }
}

pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("error.unauthorized", "ログインが必要です", "Please sign in"),
    (
        "error.too_many_attempts",
        "ログインの失敗が続いたため、{0}秒後までログインできません",
        "Too many failed sign-ins: try again in {0} seconds",
    ),
    (
        "error.internal",
        "内部エラーが起きました。管理者にお知らせください",
        "Something went wrong inside Joren; please tell your administrator",
    ),
    ("form.email", "メール", "Email"),
    ("form.name", "名前", "Name"),
    ("form.visits", "回数", "Visits"),
    ("form.price", "価格", "Price"),
    ("form.valid_months", "有効期間 (か月)", "Valid for (months)"),
    ("form.period_months", "期間 (か月)", "Period (months)"),
    ("form.gate", "対象", "Who it is for"),
    ("form.points", "ポイント", "Points"),
    ("form.merge_id", "統合する顧客番号", "Customer number to merge"),
    ("form.customer", "顧客番号", "Customer no."),
    ("form.from", "開始日", "From"),
    ("form.to_day", "終了日", "To"),
    ("form.reason", "理由", "Reason"),
    ("form.amount", "金額", "Amount"),
    ("form.filter", "条件", "Conditions"),
    ("form.description", "説明", "Description"),
    ("form.expires_on", "有効期限", "Expires on"),
    ("form.earn.points", "付与ポイント", "Points earned"),
    ("form.earn.per_yen", "ポイントを付ける金額 (円ごと)", "Spend per points (yen)"),
    ("form.expiry.months", "有効期間 (か月)", "Valid for (months)"),
    ("form.expiry.month", "失効日 (月)", "Expiry date (month)"),
    ("form.expiry.day", "失効日 (日)", "Expiry date (day)"),
    ("form.expiry.min_months", "最低有効期間 (か月)", "Minimum validity (months)"),
    ("form.pending_days", "仮ポイントの日数", "Pending days"),
    ("form.first_purchase_bonus", "初回購入ボーナス", "First purchase bonus"),
    ("form.birthday_bonus.points", "誕生日ポイント", "Birthday points"),
    ("form.survey_bonus", "アンケート回答ポイント", "Survey points"),
    ("form.reservation_minutes", "利用予約の保持 (分)", "Reservation hold (minutes)"),
    ("form.to", "宛先", "To"),
    ("order.status.completed", "完了", "completed"),
    ("order.status.cancelled", "キャンセル済み", "cancelled"),
    ("order.status.refunded", "返金済み", "refunded"),
    ("order.status.partially_refunded", "一部返金済み", "partly refunded"),
    ("form.start", "開始日", "Start"),
    ("form.end", "終了日", "End"),
    ("form.ranks.tiers[].name", "ランク{n}の名前", "Rank {n}'s name"),
    ("form.ranks.tiers[].threshold", "ランク{n}の条件", "Rank {n}'s threshold"),
    ("form.ranks.tiers[].points_multiplier_percent", "ランク{n}のポイント倍率", "Rank {n}'s points multiplier"),
    ("form.ranks.window.months", "ランクの集計期間 (か月)", "Rank window (months)"),
    ("form.ranks.grace_reviews", "降格の猶予 (回)", "Grace reviews"),
    ("form.campaigns[].name", "キャンペーン{n}の名前", "Campaign {n}'s name"),
    ("form.campaigns[].from", "キャンペーン{n}の開始日", "Campaign {n}'s start"),
    ("form.campaigns[].to", "キャンペーン{n}の終了日", "Campaign {n}'s end"),
    ("form.campaigns[].multiplier_percent", "キャンペーン{n}の倍率", "Campaign {n}'s multiplier"),
    ("form.campaigns[].min_rank", "キャンペーン{n}の対象ランク", "Campaign {n}'s rank"),
    ("form.campaigns[].segment", "キャンペーン{n}のセグメント", "Campaign {n}'s segment"),
    ("form.rules[].min_clv", "ルール{n}の CLV 下限", "Rule {n}'s minimum CLV"),
    ("form.rules[].segment", "ルール{n}のセグメント", "Rule {n}'s segment"),
    ("form.rules[].churn_band", "ルール{n}の離反リスク", "Rule {n}'s churn risk"),
    ("form.rules[].action_ja", "ルール{n}のアクション", "Rule {n}'s action"),
    ("form.phone", "電話", "Phone"),
    ("form.birthday", "誕生日", "Birthday"),
    ("thing.customer", "顧客", "The customer"),
    ("thing.order", "注文", "The order"),
    ("thing.user", "ユーザー", "The user"),
    ("thing.segment", "セグメント", "The segment"),
    ("thing.survey", "アンケート", "The survey"),
    ("thing.case", "クレーム", "The complaint"),
    ("thing.referral", "紹介", "The referral"),
    ("thing.point_lot", "ポイントの付与", "The points grant"),
    ("thing.survey link", "アンケートのリンク", "The survey link"),
    ("thing.survey response", "アンケートの回答", "The survey answer"),
    ("thing.scenario", "シナリオ", "The scenario"),
    ("thing.redemption", "ポイント利用", "The redemption"),
    ("thing.ticket", "回数券", "The ticket book"),
    ("thing.ticket plan", "回数券プラン", "The ticket plan"),
    ("thing.task", "連絡", "The task"),
    ("thing.perk", "特典", "The perk"),
    ("thing.line channel", "LINE の設定", "The LINE channel"),
    ("thing.sms gateway", "SMS ゲートウェイの設定", "The SMS gateway"),
    ("thing.mailbox", "返信を受け取るメールボックスの設定", "The replies mailbox"),
    ("thing.conversation", "会話", "The conversation"),
    ("thing.webhook", "Webhook", "The webhook"),
    ("thing.webhook delivery", "Webhook の配信", "The webhook delivery"),
    ("thing.product", "商品", "The product"),
    ("thing.membership", "会員", "The membership"),
    ("thing.membership plan", "会員プラン", "The membership plan"),
    ("thing.job", "ジョブ", "The job"),
    ("thing.upload", "取込ファイル", "The upload"),
    ("thing.unsubscribe link", "配信停止のリンク", "The unsubscribe link"),
    ("thing.template", "テンプレート", "The template"),
    ("thing.message", "メール", "The message"),
    ("thing.interaction", "対応履歴", "The contact record"),
    ("thing.import report", "取込結果", "The import report"),
    ("thing.import kind", "取込の種類", "The import kind"),
    ("thing.contact", "担当者", "The contact person"),
    ("thing.api token", "API トークン", "The API token"),
    ("thing.metrics", "分析結果", "The analysis"),
    ("thing.metric snapshot", "分析結果", "The analysis"),
    ("thing.order context", "注文", "The order"),
    ("thing.export", "書き出しの種類", "The export"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_fill_the_sentence_and_word_keys_are_translated() {
        let e = FieldError::new("points", Code::Range).arg(1).arg(100);
        assert_eq!(field_error(&e, Lang::Ja), "1〜100 で指定してください");
        assert_eq!(field_error(&e, Lang::En), "Use a number from 1 to 100");
        let e = FieldError::new("status", Code::MembershipStateRefused)
            .arg("@memberships.paused")
            .arg("@memberships.pause");
        assert_eq!(field_error(&e, Lang::Ja), "休止中の会員には「休止」できません");
        assert_eq!(field_error(&e, Lang::En), "A membership that is Paused cannot take \"Pause\"");
        let e = FieldError::new("status", Code::OrderNotCancellable).arg("@order.status.partially_refunded");
        assert_eq!(field_error(&e, Lang::Ja), "一部返金済みの注文はキャンセルできません (返金を使ってください)");
    }

    #[test]
    fn a_labelled_field_is_named_and_an_internal_path_is_not() {
        let errors =
            [FieldError::new("email", Code::BadEmail).arg("a@"), FieldError::new("steps[2].days", Code::Required)];
        assert_eq!(field_errors(&errors, Lang::En), "Email: Not an email address: a@ / Please fill this in");
        let listed = [FieldError::new("ranks.tiers[1].threshold", Code::TierNotIncreasing)];
        assert_eq!(field_errors(&listed, Lang::Ja), "ランク2の条件: 前のランクより大きい値にしてください");
        assert_eq!(named(&listed, Lang::En), "ranks.tiers[1].threshold: Use a value above the previous rank's");
    }

    #[test]
    fn english_sentences_have_no_japanese_and_every_placeholder_has_a_value_slot() {
        // The words are complete by the exhaustive match; here their English must be English.
        for code in Code::ALL {
            let (ja, en) = words(*code);
            assert!(!ja.is_empty() && !en.is_empty(), "{code:?}");
            assert!(
                !en.chars().any(|c| ('\u{3040}'..='\u{30ff}').contains(&c) || ('\u{4e00}'..='\u{9fff}').contains(&c)),
                "{code:?}: {en}"
            );
            for i in 0..4 {
                let slot = format!("{{{i}}}");
                assert_eq!(ja.contains(&slot), en.contains(&slot), "{code:?}: {slot} in one language only");
            }
        }
    }

    /// Every `NotFound(<what>)` the lower layers and the web crate raise has its `thing.…` word, so
    /// "… が見つかりません" never names an internal code.
    #[test]
    fn every_thing_that_can_be_missing_has_a_word() {
        let texts = crate::i18n::workspace_sources(&["joren-store", "joren-app", "joren-web"]);
        let mut things = std::collections::BTreeSet::new();
        for t in &texts {
            for part in t.split("NotFound(\"").skip(1) {
                things.insert(part.split('"').next().unwrap().to_string());
            }
        }
        assert!(things.len() > 20, "{things:?}");
        for thing in things {
            for lang in [Lang::Ja, Lang::En] {
                assert!(Tr(lang).maybe(&format!("thing.{thing}")).is_some(), "no word for thing.{thing}");
            }
        }
    }
}
