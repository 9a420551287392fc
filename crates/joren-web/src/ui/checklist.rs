//! `/checklist` (顧客維持のチェックリスト): the retention checklist Joren grades from the
//! shop's own data — the ground, acting, improving — each item met, partly or not yet, with
//! the numbers it was read from and a link to where it is done.

use askama::Template;
use axum::extract::State;
use joren_core::checklist::Grade;

use super::{Chrome, Staff, UiError, UiResult, render};
use crate::AppState;

pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("ck.title", "顧客維持のチェックリスト", "Retention checklist"),
    (
        "ck.help",
        "お店のデータから Joren が採点します。データが変われば評価も変わります。",
        "Joren grades it from the shop's data; when the data changes, so do the grades.",
    ),
    ("ck.score", "達成 {0} / 一部 {1} / 全 {2} 項目", "Met {0} / partly {1} / of {2}"),
    ("ck.phase.foundation", "基盤構築", "Building the ground"),
    ("ck.phase.execution", "施策実行", "Acting"),
    ("ck.phase.improvement", "継続改善", "Improving"),
    ("ck.grade.met", "達成", "Met"),
    ("ck.grade.partly", "一部", "Partly"),
    ("ck.grade.not_yet", "未着手", "Not yet"),
    ("ck.go", "ここで行う", "Do it here"),
    ("checklist.customer_data", "顧客データの統合", "Customer data in one place"),
    (
        "checklist.customer_data.evidence",
        "顧客 {0} 人、連絡先のある方 {1}%",
        "{0} customers, {1}% with contact details",
    ),
    ("checklist.segments", "セグメントの活用", "Segments in use"),
    (
        "checklist.segments.evidence",
        "保存したセグメント {0} 件、シナリオで使用 {1} 件",
        "{0} saved segments, {1} used by scenarios",
    ),
    ("checklist.loyalty", "ポイント・ランク制度", "Loyalty programme running"),
    ("checklist.loyalty.evidence", "", ""),
    ("checklist.perks", "会員特典", "Member perks defined"),
    ("checklist.perks.evidence", "特典 {0} 件", "{0} perks"),
    ("checklist.follow_up", "購入後のフォロー", "Follow-up timeline active"),
    (
        "checklist.follow_up.evidence",
        "稼働中のシナリオ {0} 本 (注文で始まるもの {1} 本)",
        "{0} active scenarios ({1} started by an order)",
    ),
    ("checklist.communication", "定期的なコミュニケーション", "Regular communication"),
    (
        "checklist.communication.evidence",
        "30日間の送信 {0} 通、1年以内の購入者への到達 {1}%",
        "{0} messages in 30 days, reaching {1}% of the year's buyers",
    ),
    ("checklist.satisfaction", "満足度の測定", "Satisfaction measured"),
    (
        "checklist.satisfaction.evidence",
        "アンケート {0} 件、90日間の回答 {1} 件",
        "{0} surveys, {1} answers in 90 days",
    ),
    ("checklist.service_quality", "対応品質 (24時間ルール)", "Service quality (24-hour rule)"),
    (
        "checklist.service_quality.evidence",
        "90日間のクレーム {0} 件、期限内の一次対応 {1}%",
        "{0} complaints in 90 days, {1}% answered in time",
    ),
    ("checklist.success_support", "顧客の成功支援", "Customer success support"),
    ("checklist.success_support.evidence", "段階を設定した顧客 {0} 人", "{0} customers with a stage"),
    ("checklist.kpi_review", "指標の定期的な確認", "Retention KPIs reviewed"),
    ("checklist.kpi_review.evidence", "最後の集計から {0} 日", "{0} days since the last analysis"),
    ("checklist.feedback_acted", "声を集めて改善", "Feedback collected and acted on"),
    (
        "checklist.feedback_acted.evidence",
        "90日間の回答 {0} 件、再発防止の記録 {1} 件",
        "{0} answers and {1} preventions in 90 days",
    ),
    ("checklist.churn_reasons", "離反理由の分析", "Churn reasons analysed"),
    (
        "checklist.churn_reasons.evidence",
        "記録された理由 {0} 件 (退会理由・アンケート)",
        "{0} reasons recorded (cancellations, exit survey)",
    ),
    ("checklist.long_term", "長期的な関係 (常連の割合)", "Long-term relations (share of regulars)"),
    ("checklist.long_term.evidence", "3回以上購入の常連 {0} 人 ({1}%)", "{0} regulars with 3+ orders ({1}%)"),
    ("checklist.effects_verified", "効果の検証", "Effects verified"),
    ("checklist.effects_verified.evidence", "対照群つきのシナリオ {0} 本", "{0} scenarios with a control group"),
];

struct Row {
    code: &'static str,
    title: &'static str,
    grade: &'static str,
    grade_key: &'static str,
    evidence: String,
    link: &'static str,
}

#[derive(Template)]
#[template(path = "checklist.html")]
struct ChecklistPage {
    c: Chrome,
    score: String,
    phases: Vec<(&'static str, Vec<Row>)>,
}

/// `GET /checklist`
pub(super) async fn page(State(s): State<AppState>, Staff { user, t }: Staff) -> UiResult {
    let list = s.app.retention_checklist().await.map_err(|e| UiError::from_app(t, e))?;
    let score = t
        .t("ck.score")
        .replace("{0}", &list.met.to_string())
        .replace("{1}", &list.partly.to_string())
        .replace("{2}", &list.items.len().to_string());
    let mut phases: Vec<(&'static str, Vec<Row>)> = ["foundation", "execution", "improvement"]
        .iter()
        .map(|p| (t.t(&format!("ck.phase.{p}")), Vec::new()))
        .collect();
    for (i, p) in ["foundation", "execution", "improvement"].iter().enumerate() {
        for item in list.items.iter().filter(|x| x.phase == *p) {
            let mut evidence = t.t(&format!("checklist.{}.evidence", item.code)).to_string();
            for (n, v) in item.evidence.iter().enumerate() {
                evidence = evidence.replace(&format!("{{{n}}}"), v);
            }
            let (grade, grade_key) = match item.grade {
                Grade::Met => ("met", "ck.grade.met"),
                Grade::Partly => ("partly", "ck.grade.partly"),
                Grade::NotYet => ("not_yet", "ck.grade.not_yet"),
            };
            phases[i].1.push(Row {
                code: item.code,
                title: t.t(&format!("checklist.{}", item.code)),
                grade,
                grade_key,
                evidence,
                link: item.link,
            });
        }
    }
    Ok(render(&ChecklistPage { c: Chrome::new(t, &user, "voice", "/checklist"), score, phases }))
}
