//! The audit log page (owners): who did what to which record, filtered by staff member,
//! customer and days, with each action in words.

use askama::Template;
use axum::extract::{Query, State};
use joren_core::FieldError;

use super::{Chrome, Staff, UiError, UiResult, render};
use crate::AppState;

pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("au.nav", "操作ログ", "Audit log"),
    ("au.title", "操作ログ", "Audit log"),
    (
        "au.help",
        "誰が・いつ・何を変えたかの記録です (消せません)。",
        "Who changed what, and when (it cannot be erased).",
    ),
    ("au.who", "担当者", "Staff member"),
    ("au.everyone", "全員", "Everyone"),
    ("au.customer", "顧客番号", "Customer no."),
    ("au.from", "開始日", "From"),
    ("au.to", "終了日", "To"),
    ("au.show", "表示", "Show"),
    ("au.when", "日時", "When"),
    ("au.action", "操作", "Action"),
    ("au.target", "対象", "Record"),
    ("au.detail", "内容", "Detail"),
    ("au.none", "該当する記録はありません。", "No records."),
    ("au.system", "システム", "System"),
    ("au.older", "さらに古い記録", "Older records"),
    ("au.a.session.login", "ログイン", "Signed in"),
    ("au.a.customer.create", "顧客を登録", "Customer created"),
    ("au.a.customer.update", "顧客を変更", "Customer changed"),
    ("au.a.customer.merge", "顧客を統合", "Customers merged"),
    ("au.a.customer.not_duplicate", "別人と記録 (重複の候補から外す)", "Marked as different people"),
    ("au.a.customer.consent", "連絡の同意を記録", "Consent recorded"),
    ("au.a.customer.line_link", "LINE と連携", "Linked to LINE"),
    ("au.a.customer.line_message", "LINE でメッセージを送信", "Sent a LINE message"),
    ("au.a.customer.sms_message", "SMS を送信", "Sent a text"),
    ("au.a.customer.email_reply", "メールで返信", "Answered by mail"),
    ("au.a.conversation.assign", "会話の担当を変更", "Changed who has a conversation"),
    ("au.a.webhook.create", "Webhook を追加", "Added a webhook"),
    ("au.a.webhook.update", "Webhook を変更", "Changed a webhook"),
    ("au.a.webhook.delete", "Webhook を削除", "Deleted a webhook"),
    ("au.a.webhook.retry", "Webhook の配信を再送", "Sent a webhook delivery again"),
    ("au.a.conversation.close", "会話を完了", "Closed a conversation"),
    ("au.a.conversation.reopen", "会話を再開", "Reopened a conversation"),
    ("au.a.consent.unsubscribe", "配信停止 (お客様)", "Unsubscribed (by the customer)"),
    ("au.a.contact.create", "担当者を登録", "Contact person added"),
    ("au.a.order.create", "注文を登録", "Order recorded"),
    ("au.a.order.refund", "返金", "Refund"),
    ("au.a.order.cancel", "注文をキャンセル", "Order cancelled"),
    ("au.a.points.grant", "ポイントを付与", "Points granted"),
    ("au.a.points.deduct", "ポイントを減算", "Points deducted"),
    ("au.a.points.reserve", "ポイント利用を予約", "Points held"),
    ("au.a.points.confirm_redemption", "ポイント利用を確定", "Points used"),
    ("au.a.points.cancel_redemption", "ポイント利用を取消", "Points use cancelled"),
    ("au.a.points.survey_bonus", "アンケートのポイント", "Survey points"),
    ("au.a.points.programme", "ポイント設定を変更", "Points settings changed"),
    ("au.a.points.birthdays", "誕生日ポイント", "Birthday points"),
    ("au.a.points.expire", "ポイント失効", "Points expired"),
    ("au.a.rank.set", "ランクを手動変更", "Rank set by hand"),
    ("au.a.ticket.sell", "回数券を販売", "Ticket sold"),
    ("au.a.ticket.refund", "回数券を払い戻し", "Ticket refunded"),
    ("au.a.ticket_plan.save", "回数券プランを保存", "Ticket plan saved"),
    ("au.a.membership.start", "会員を開始", "Membership started"),
    ("au.a.membership.change", "会員を変更", "Membership changed"),
    ("au.a.membership_plan.save", "会員プランを保存", "Membership plan saved"),
    ("au.a.perk.save", "特典を保存", "Perk saved"),
    ("au.a.product.save", "商品を保存", "Product saved"),
    ("au.a.scenario.create", "シナリオを作成", "Scenario created"),
    ("au.a.scenario.update", "シナリオを変更", "Scenario changed"),
    ("au.a.scenario.status", "シナリオの開始・停止", "Scenario started or paused"),
    ("au.a.scenario.enrol", "シナリオに追加", "Added to a scenario"),
    ("au.a.task.create", "連絡を作成", "Contact task created"),
    ("au.a.task.finish", "連絡を完了", "Contact task finished"),
    ("au.a.template.create", "テンプレートを作成", "Template created"),
    ("au.a.template.update", "テンプレートを変更", "Template changed"),
    ("au.a.template.delete", "テンプレートを削除", "Template deleted"),
    ("au.a.survey.create", "アンケートを作成", "Survey created"),
    ("au.a.survey.update", "アンケートを変更", "Survey changed"),
    ("au.a.survey.archive", "アンケートをアーカイブ", "Survey archived"),
    ("au.a.survey.restore", "アンケートを元に戻す", "Survey restored"),
    ("au.a.survey.send", "アンケートを送信", "Survey sent"),
    ("au.a.case.open", "クレームを受付", "Complaint recorded"),
    ("au.a.customer.stage", "顧客の段階を設定", "Success stage set"),
    ("au.a.case.step", "クレームの手順を記録", "Complaint step recorded"),
    ("au.a.case.settings", "クレーム対応のルールを変更", "Complaint rules changed"),
    ("au.a.referral.settings", "紹介プログラムの設定を変更", "Referral settings changed"),
    ("au.a.referral.record", "紹介を記録", "Referral recorded"),
    ("au.a.referral.reward", "紹介ポイントを付与", "Referral rewarded"),
    ("au.a.referral.reverse", "紹介ポイントを取り消し", "Referral reward taken back"),
    ("au.a.settings.industry", "業種を設定", "Industry set"),
    ("au.a.settings.mail", "メール設定を変更", "Mail settings changed"),
    ("au.a.settings.mail.reset", "メール設定を初期化", "Mail settings reset"),
    ("au.a.settings.next_action_rules", "次の一手のルールを変更", "Next-action rules changed"),
    ("au.a.mail.test", "テストメールを送信", "Test mail sent"),
    ("au.a.job.retry", "ジョブを再実行", "Job retried"),
    ("au.a.token.create", "API トークンを発行", "API token created"),
    ("au.a.token.revoke", "API トークンを無効化", "API token revoked"),
    ("au.a.user.create", "ユーザーを作成", "User created"),
    ("au.a.user.update", "スタッフの権限・状態を変更", "Staff account changed"),
    ("au.a.user.password_reset", "パスワードを再発行", "New password issued"),
    ("au.a.create", "作成", "Created"),
    ("au.a.update", "変更", "Changed"),
    ("au.a.delete", "削除", "Deleted"),
    ("au.a.export", "書き出し", "Exported"),
    ("au.a.other", "その他の操作", "Other action"),
    ("au.e.customer", "顧客", "Customer"),
    ("au.e.conversation", "会話 (受信箱)", "Conversation (inbox)"),
    ("au.e.webhook", "Webhook", "Webhook"),
    ("au.e.webhook_delivery", "Webhook の配信", "Webhook delivery"),
    ("au.e.order", "注文", "Order"),
    ("au.e.segment", "セグメント", "Segment"),
    ("au.e.scenario", "シナリオ", "Scenario"),
    ("au.e.survey", "アンケート", "Survey"),
    ("au.e.case", "クレーム", "Complaint"),
    ("au.e.referral", "紹介", "Referral"),
    ("au.e.user", "ユーザー", "User"),
    ("au.e.api_token", "API トークン", "API token"),
    ("au.e.other", "記録", "Record"),
];

pub(super) struct Row {
    at: String,
    who: String,
    action: &'static str,
    target: String,
    link: Option<String>,
    detail: String,
}

#[derive(Template)]
#[template(path = "audit.html")]
pub(super) struct AuditPage {
    c: Chrome,
    users: Vec<(i64, String)>,
    user: String,
    customer: String,
    from: String,
    to: String,
    rows: Vec<Row>,
    older: Option<String>,
    error: Option<String>,
}

#[derive(serde::Deserialize, Default)]
#[serde(default)]
pub(super) struct AuditQuery {
    user: String,
    customer: String,
    from: String,
    to: String,
    offset: i64,
}

const PAGE: i64 = 100;

/// The word key of an action (`points.grant` → `au.a.points.grant`); one without words is
/// "other action", never its code.
fn action_key(action: &str) -> &'static str {
    let key = format!("au.a.{action}");
    WORDS.iter().find(|w| w.0 == key).map_or("au.a.other", |w| w.0)
}

/// `GET /audit`.
pub(super) async fn page(State(s): State<AppState>, Staff { user, t }: Staff, Query(q): Query<AuditQuery>) -> UiResult {
    let err = |e| UiError::from_app(t, e);
    let users = s.app.list_users(&user.actor).await.map_err(err)?.into_iter().map(|u| (u.id, u.display_name)).collect();
    let mut problems = Vec::new();
    let number = |field: &str, v: &str, problems: &mut Vec<FieldError>| {
        let v = v.trim().trim_start_matches(['#', '＃']);
        if v.is_empty() {
            return None;
        }
        joren_core::text::parse_int(v).or_else(|| {
            problems.push(FieldError::new(field, joren_core::Code::BadNumber).arg(v));
            None
        })
    };
    let day = |field: &str, v: &str, problems: &mut Vec<FieldError>| {
        if v.trim().is_empty() {
            return None;
        }
        joren_core::dates::parse_date(field, v).map_err(|e| problems.push(e)).ok()
    };
    let who = number("user", &q.user, &mut problems);
    let customer = number("customer", &q.customer, &mut problems);
    let days = (day("from", &q.from, &mut problems), day("to_day", &q.to, &mut problems));
    let entries = s.app.audit_search(&user.actor, who, customer, days, PAGE + 1, q.offset).await.map_err(err)?;
    let more = entries.len() as i64 > PAGE;
    let rows = entries
        .into_iter()
        .take(PAGE as usize)
        .map(|e| {
            let entity = match e.entity.as_str() {
                "customer" | "order" | "segment" | "scenario" | "survey" | "case" | "referral" | "user"
                | "api_token" => {
                    format!("au.e.{}", e.entity)
                }
                _ => "au.e.other".into(),
            };
            let link = match e.entity.as_str() {
                "customer" | "order" | "segment" | "scenario" | "survey" => {
                    Some(format!("/{}s/{}", e.entity, e.entity_id))
                }
                "referral" => Some("/referrals".into()),
                _ => None,
            };
            let mut detail = e.detail.to_string();
            if detail == "{}" || detail == "null" {
                detail.clear();
            }
            if detail.chars().count() > 200 {
                detail = format!("{}…", detail.chars().take(200).collect::<String>());
            }
            Row {
                at: s.app.local_time(e.at),
                who: if e.user_id.is_some() { e.actor } else { format!("{} ({})", t.t("au.system"), e.actor) },
                action: action_key(&e.action),
                target: format!("{} {}", t.t(&entity), e.entity_id).trim().to_string(),
                link,
                detail,
            }
        })
        .collect();
    let older = more.then(|| {
        format!(
            "/audit?user={}&customer={}&from={}&to={}&offset={}",
            super::urlencode(&q.user),
            super::urlencode(&q.customer),
            super::urlencode(&q.from),
            super::urlencode(&q.to),
            q.offset + PAGE
        )
    });
    Ok(render(&AuditPage {
        c: Chrome::new(t, &user, "settings", "/audit"),
        users,
        error: (!problems.is_empty()).then(|| super::say_fields(t, &problems)),
        user: q.user,
        customer: q.customer,
        from: q.from,
        to: q.to,
        rows,
        older,
    }))
}

#[cfg(test)]
mod tests {
    /// Every action the lower layers audit has its words (read from their sources), so the
    /// page never falls back to "other action" for one of ours.
    #[test]
    fn every_audited_action_is_worded() {
        let texts = crate::i18n::workspace_sources(&["joren-store", "joren-app"]);
        let mut actions = std::collections::BTreeSet::new();
        for t in &texts {
            for marker in ["audit(actor, \"", "audit(&actor, \"", "audit_note(\"", "action: \""] {
                for part in t.split(marker).skip(1) {
                    actions.insert(part.split('"').next().unwrap().to_string());
                }
            }
        }
        assert!(actions.len() > 30, "{actions:?}");
        let missing: Vec<&String> = actions.iter().filter(|a| super::action_key(a) == "au.a.other").collect();
        assert!(missing.is_empty(), "actions without words: {missing:?}");
    }
}
