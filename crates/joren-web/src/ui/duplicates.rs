//! Duplicate suggestions and the merge review: pairs of customers that may be one person (same
//! phone, same email, same kana name and birthday), each compared side by side before one
//! click merges them — or a click says they are different people and the pair goes away.

use super::*;

pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("dup.nav", "重複の候補", "Possible duplicates"),
    ("dup.title", "重複の候補", "Possible duplicates"),
    (
        "dup.help",
        "同じ人が2件登録されているかもしれない顧客です。比べて、同じ人なら統合、別人 (家族で同じ電話など) なら候補から外してください。",
        "Customers who may be registered twice. Compare them: merge if they are one person, or say they are different people (a family sharing a phone, say).",
    ),
    ("dup.none", "重複の候補はありません。", "No possible duplicates."),
    ("dup.same_phone", "同じ電話番号", "Same phone"),
    ("dup.same_email", "同じメール", "Same email"),
    ("dup.same_kana_birthday", "同じフリガナと誕生日", "Same kana name and birthday"),
    ("dup.compare", "比べる", "Compare"),
    ("dup.review", "統合の確認", "Review the merge"),
    (
        "dup.review_help",
        "左の顧客を残し、右の顧客の注文・ポイント・履歴・タグを移します。左で空欄の項目は右の値で補います (★)。右の顧客は統合済みとして残り、元に戻せる記録が残ります。",
        "The customer on the left stays; the orders, points, history and tags of the one on the right move to it. Fields empty on the left are filled from the right (★). The one on the right is kept, marked as merged.",
    ),
    ("dup.keep", "残す顧客", "Keeps"),
    ("dup.merge", "統合される顧客", "Merged into it"),
    ("dup.swap", "左右を入れ替える", "Swap sides"),
    ("dup.do_merge", "統合する", "Merge"),
    (
        "dup.merge_confirm",
        "右の顧客を左の顧客に統合します。よろしいですか?",
        "Merge the customer on the right into the one on the left?",
    ),
    ("dup.different", "別人です (候補から外す)", "Different people (remove from the list)"),
    ("dup.filled", "★ 統合後にこの値が入ります", "★ this value is filled in"),
    ("dup.registered", "登録日", "Registered"),
    ("dup.points", "ポイント", "Points"),
    ("dup.tags", "タグ", "Tags"),
    ("dup.customer_no", "顧客番号", "Customer no."),
];

/// The most pairs the page lists.
const SHOWN: i64 = 100;

pub(super) struct PairRow {
    first: i64,
    first_name: String,
    second: i64,
    second_name: String,
    reasons: Vec<&'static str>,
}

#[derive(Template)]
#[template(path = "duplicates.html")]
pub(super) struct DuplicatesPage {
    c: Chrome,
    pairs: Vec<PairRow>,
    can_write: bool,
    error: Option<String>,
}

fn reasons(p: &joren_app::DuplicatePair) -> Vec<&'static str> {
    [
        (p.same_phone, "dup.same_phone"),
        (p.same_email, "dup.same_email"),
        (p.same_kana_and_birthday, "dup.same_kana_birthday"),
    ]
    .into_iter()
    .filter_map(|(on, key)| on.then_some(key))
    .collect()
}

/// `GET /customers/duplicates`.
pub(super) async fn list(
    State(s): State<AppState>,
    ErrorFlash(error): ErrorFlash,
    Staff { user, t }: Staff,
) -> UiResult {
    let err = |e| UiError::from_app(t, e);
    let pairs = s.app.duplicate_suggestions(SHOWN).await.map_err(err)?;
    let ids: Vec<i64> = pairs.iter().flat_map(|p| [p.first, p.second]).collect();
    let names: std::collections::HashMap<i64, String> =
        s.app.customer_names(&ids).await.map_err(err)?.into_iter().collect();
    let name = |id: i64| names.get(&id).cloned().unwrap_or_else(|| format!("#{id}"));
    let pairs = pairs
        .iter()
        .map(|p| PairRow {
            first: p.first,
            first_name: name(p.first),
            second: p.second,
            second_name: name(p.second),
            reasons: reasons(p),
        })
        .collect();
    Ok(render(&DuplicatesPage {
        c: Chrome::new(t, &user, "customers", "/customers/duplicates"),
        pairs,
        can_write: user.actor.role.can_write(),
        error,
    }))
}

/// One line of the comparison: the label, each side's value, and whether the merge fills the
/// kept side's empty value from the other.
pub(super) struct Line {
    label: &'static str,
    keep: String,
    merge: String,
    filled: bool,
}

#[derive(Template)]
#[template(path = "merge_review.html")]
pub(super) struct ReviewPage {
    c: Chrome,
    keep: i64,
    merge: i64,
    keep_name: String,
    merge_name: String,
    lines: Vec<Line>,
    reasons: Vec<&'static str>,
    can_write: bool,
}

#[derive(Deserialize)]
pub(super) struct ReviewQuery {
    keep: i64,
    merge: i64,
}

/// What the comparison shows of one customer, in the reader's words.
type Facts = (joren_app::Customer, Vec<(&'static str, String, bool)>);

async fn facts(s: &AppState, t: Tr, id: i64) -> Result<Facts, AppError> {
    let c = s.app.get_customer(id).await?;
    let totals = s.app.customer_order_totals(id).await?;
    let points = s.app.points_account(id).await?;
    let p = &c.profile;
    let address = super::customers::address_line(p);
    let kana = format!("{} {}", p.family_name_kana, p.given_name_kana).trim().to_string();
    // (label, value, whether an empty value here is filled from the other side on a merge)
    let lines = vec![
        ("dup.customer_no", id.to_string(), false),
        ("col.kana", kana, true),
        ("col.phone", p.phone.as_deref().map(display_phone).unwrap_or_default(), true),
        ("col.email", p.email.clone().unwrap_or_default(), true),
        ("customer.address", address, true),
        ("customer.birthday", p.birthday.map(|d| t.date(d)).unwrap_or_default(), true),
        ("dup.tags", p.tags.join(", "), false),
        ("dup.registered", t.date(c.created_at.with_timezone(&s.app.tz()).date_naive()), false),
        ("col.orders", totals.orders.to_string(), false),
        ("col.spent", format_amount(totals.spent, "JPY"), false),
        ("col.last_order", totals.last_at.map(|d| s.app.local_time(d)[..10].to_string()).unwrap_or_default(), false),
        (
            "dup.points",
            format!("{} pt", joren_core::money::group_digits(points.free.balance + points.paid.balance)),
            false,
        ),
    ];
    Ok((c, lines))
}

/// `GET /customers/merge?keep=&merge=`: the two side by side before merging.
pub(super) async fn review(
    State(s): State<AppState>,
    Staff { user, t }: Staff,
    Query(q): Query<ReviewQuery>,
) -> UiResult {
    let err = |e| UiError::from_app(t, e);
    let (keep_customer, keep) = facts(&s, t, q.keep).await.map_err(err)?;
    let (merge_customer, merge) = facts(&s, t, q.merge).await.map_err(err)?;
    let lines = keep
        .into_iter()
        .zip(merge)
        .map(|((label, k, fills), (_, m, _))| Line {
            filled: fills && k.is_empty() && !m.is_empty(),
            label,
            keep: k,
            merge: m,
        })
        .collect();
    let (a, b) = (&keep_customer.profile, &merge_customer.profile);
    let pair = joren_app::DuplicatePair {
        first: q.keep.min(q.merge),
        second: q.keep.max(q.merge),
        same_phone: a.phone.is_some() && a.phone == b.phone,
        same_email: a.email.is_some() && a.email == b.email,
        same_kana_and_birthday: !a.family_name_kana.is_empty()
            && (&a.family_name_kana, &a.given_name_kana) == (&b.family_name_kana, &b.given_name_kana)
            && a.birthday.is_some()
            && a.birthday == b.birthday,
    };
    Ok(render(&ReviewPage {
        c: Chrome::new(t, &user, "customers", format!("/customers/merge?keep={}&merge={}", q.keep, q.merge)),
        keep: q.keep,
        merge: q.merge,
        keep_name: keep_customer.display_name,
        merge_name: merge_customer.display_name,
        lines,
        reasons: reasons(&pair),
        can_write: user.actor.role.can_write(),
    }))
}

#[derive(Deserialize)]
pub(super) struct DismissForm {
    first: i64,
    second: i64,
}

/// `POST /customers/duplicates/dismiss`: the two are different people.
pub(super) async fn dismiss(State(s): State<AppState>, Checked { user, t, form }: Checked<DismissForm>) -> UiResult {
    match s.app.dismiss_duplicate(&user.actor, form.first, form.second).await {
        Ok(()) => Ok(Redirect::to("/customers/duplicates").into_response()),
        Err(e @ AppError::Conflict(_)) => Ok(back_with_error("/customers/duplicates", &say(t, &e))),
        Err(e) => Err(UiError::from_app(t, e)),
    }
}
