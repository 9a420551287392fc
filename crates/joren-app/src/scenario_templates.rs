//! Ready scenarios (テンプレート), each a name, a description and a definition in Japanese or
//! English, made into a draft scenario in two clicks from the scenarios page (or the API).

use serde::Serialize;
use serde_json::{Value, json};

use crate::scenarios::ScenarioInput;
use crate::{Actor, App, AppError, Result};

/// A ready scenario.
#[derive(Debug, Clone, Serialize)]
pub struct ReadyScenario {
    pub key: &'static str,
    pub name: String,
    pub description: String,
    pub definition: Value,
    /// The ready survey its survey steps send (`csat`, `exit`): made, or the shop's copy
    /// found, when the scenario is made; the steps hold 0 until then.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub survey: Option<&'static str>,
}

/// The ready scenarios in `lang` ("ja" or "en").
pub fn ready_scenarios(lang: &str) -> Vec<ReadyScenario> {
    let en = lang == "en";
    let t = |ja: &str, e: &str| if en { e.to_string() } else { ja.to_string() };
    vec![
        ReadyScenario {
            key: "post_purchase",
            name: t("購入後フォロー", "Post-purchase follow-up"),
            description: t(
                "購入直後のお礼、1〜2日後の到着確認 (大切なお客様には電話)、3〜5日後の使い方、1週間後の満足度アンケート、1か月後の使い心地、2か月後の次のご提案。",
                "A thank-you right after purchase, an arrival check after 1–2 days (a call for valuable customers), how-to tips after 3–5 days, a satisfaction survey after a week, a usage check after a month and the next suggestion after two.",
            ),
            definition: json!({
                "trigger": {"kind": "order_placed"},
                "entry": {"rule": "every_time"},
                "holdout_percent": 10,
                "steps": [
                    {"type": "email", "marketing": false,
                     "subject": t("ご購入ありがとうございます", "Thank you for your order"),
                     "body": t("{{ name }}\n\nこのたびは{{ shop_name }}をご利用いただき、ありがとうございます。\nご注文 ({{ order_total }}円) を承りました。", "Dear {{ name }},\n\nThank you for shopping at {{ shop_name }}. We have received your order ({{ order_total }} yen).")},
                    {"type": "wait", "days": 2},
                    {"type": "check", "filter": {"all": [{"field": "total_spent", "op": "gte", "value": 50000}]}, "otherwise": {"skip": 1}},
                    {"type": "task", "task": "call", "title": t("{{ name }}へ到着と使い心地の確認のお電話", "Call {{ name }}: did it arrive, how is it?"), "due_days": 1},
                    {"type": "email",
                     "subject": t("商品は無事に届きましたか", "Did your order arrive safely?"),
                     "body": t("{{ name }}\n\n{{ last_item }}は無事にお手元に届きましたか。気になる点があれば、このメールにご返信ください。", "Dear {{ name }},\n\nDid your {{ last_item }} arrive safely? If anything is not right, just reply to this mail.")},
                    {"type": "wait", "days": 2},
                    {"type": "email",
                     "subject": t("{{ last_item }}をもっと楽しむコツ", "Getting the most out of {{ last_item }}"),
                     "body": t("{{ name }}\n\n{{ last_item }}の上手な使い方をご紹介します。", "Dear {{ name }},\n\nHere are a few tips for your {{ last_item }}.")},
                    {"type": "wait", "days": 3},
                    {"type": "survey", "survey_id": 0, "channel": "email",
                     "subject": t("ご感想をお聞かせください", "How did we do?"),
                     "text": t("{{ name }}\n\nお買い物はいかがでしたか。下の数字を押すだけのかんたんなアンケートです (1分ほど)。", "Dear {{ name }},\n\nHow was your purchase? Tap a number below: it takes about a minute.")},
                    {"type": "wait", "days": 23},
                    {"type": "email",
                     "subject": t("その後、使い心地はいかがですか", "How is it going?"),
                     "body": t("{{ name }}\n\nご購入から1か月が経ちました。{{ last_item }}の使い心地はいかがですか。", "Dear {{ name }},\n\nIt has been a month. How are you getting on with your {{ last_item }}?")},
                    {"type": "wait", "days": 30},
                    {"type": "email",
                     "subject": t("{{ name }}へのおすすめ", "Picked for you"),
                     "body": t("{{ name }}\n\n{{ last_item }}をお求めの方には{{ recommended_item }}も好評です。", "Dear {{ name }},\n\nCustomers who bought {{ last_item }} also love {{ recommended_item }}.")}
                ]
            }),
            survey: Some("csat"),
        },
        ReadyScenario {
            key: "birthday",
            name: t("誕生日のお祝い", "Birthday greeting"),
            description: t(
                "お誕生日の朝10時にお祝いのメールと誕生日ポイント。",
                "A birthday mail with birthday points at 10:00 on the day.",
            ),
            definition: json!({
                "trigger": {"kind": "birthday"},
                "entry": {"rule": "once_per", "days": 300},
                "steps": [
                    {"type": "wait_until", "time": "10:00"},
                    {"type": "points", "points": 300, "reason": t("誕生日ポイント", "Birthday points")},
                    {"type": "email",
                     "subject": t("お誕生日おめでとうございます", "Happy birthday!"),
                     "body": t("{{ name }}\n\nお誕生日おめでとうございます。ささやかですが300ポイントをお贈りしました (残高 {{ points }} pt)。", "Dear {{ name }},\n\nHappy birthday! We have added 300 points to your account (balance {{ points }} pt).")}
                ]
            }),
            survey: None,
        },
        ReadyScenario {
            key: "win_back",
            name: t("休眠顧客の呼び戻し", "Win back dormant customers"),
            description: t(
                "休眠顧客になったら、大切なお客様には担当者からお電話、それ以外の方には特別なご案内のメール。次のご注文で終了。",
                "When a customer becomes dormant: a personal call for valuable ones, an offer mail for the rest. Ends at their next order.",
            ),
            definition: json!({
                "trigger": {"kind": "segment_entered", "segment": "dormant"},
                "entry": {"rule": "once_per", "days": 90},
                "exit": {"on_order": true, "on_unsubscribe": false},
                "holdout_percent": 10,
                "steps": [
                    {"type": "check", "filter": {"all": [{"field": "total_spent", "op": "gte", "value": 50000}]}, "otherwise": {"skip": 2}},
                    {"type": "task", "task": "call", "title": t("{{ name }}へご無沙汰のお電話", "Call {{ name }}: we have missed you"), "due_days": 3},
                    {"type": "wait_for_order", "timeout_days": 30, "then": "exit"},
                    {"type": "check", "consent": "email", "otherwise": "exit"},
                    {"type": "email",
                     "subject": t("{{ name }}、お久しぶりです", "We miss you, {{ name }}"),
                     "body": t("{{ name }}\n\nしばらくお見かけしておりませんでした。次回のご来店でお使いいただける特別なご案内をお送りします。", "Dear {{ name }},\n\nIt has been a while. Here is something special for your next visit.")}
                ]
            }),
            survey: None,
        },
        ReadyScenario {
            key: "rank_up",
            name: t("ランクアップのお祝い", "Rank-up congratulations"),
            description: t(
                "ランクが上がった日にお祝いのメール。",
                "A congratulations mail the day a customer moves up a rank.",
            ),
            definition: json!({
                "trigger": {"kind": "rank_changed", "direction": "up"},
                "steps": [
                    {"type": "wait_until", "time": "10:00"},
                    {"type": "email",
                     "subject": t("{{ rank }}ランクになりました", "You are now {{ rank }}"),
                     "body": t("{{ name }}\n\nいつもありがとうございます。{{ rank }}ランクになりました。", "Dear {{ name }},\n\nThank you for your custom: you are now {{ rank }}.")}
                ]
            }),
            survey: None,
        },
        ReadyScenario {
            key: "second_purchase",
            name: t("2回目のご購入のおすすめ", "Second-purchase nudge"),
            description: t(
                "初回購入から30日たっても2回目がない方に、おすすめのご案内。ご注文で終了。",
                "30 days after a first purchase without a second, a suggestion. Ends at their next order.",
            ),
            definition: json!({
                "trigger": {"kind": "days_after_purchase", "which": "first", "days": 30},
                "entry": {"rule": "once"},
                "exit": {"on_order": true, "on_unsubscribe": true},
                "holdout_percent": 10,
                "steps": [
                    {"type": "check", "filter": {"all": [{"field": "frequency", "op": "eq", "value": 0}]}, "otherwise": "exit"},
                    {"type": "wait_until", "time": "10:00"},
                    {"type": "email",
                     "subject": t("{{ last_item }}の次に", "After {{ last_item }}"),
                     "body": t("{{ name }}\n\n{{ last_item }}をお求めの方に人気の{{ recommended_item }}をご紹介します。", "Dear {{ name }},\n\nCustomers who liked {{ last_item }} often pick {{ recommended_item }} next.")}
                ]
            }),
            survey: None,
        },
        ReadyScenario {
            key: "points_expiry",
            name: t("ポイント失効のお知らせ", "Points expiry reminder"),
            description: t(
                "ポイントが失効する30日前と7日前に、残りのポイントと失効日をお知らせします。",
                "30 and 7 days before points expire, a reminder with the points and the date.",
            ),
            definition: json!({
                "trigger": {"kind": "points_expiring", "days": 30},
                "entry": {"rule": "every_time"},
                "exit": {"on_order": false, "on_unsubscribe": true},
                "steps": [
                    {"type": "check", "consent": "email", "otherwise": "exit"},
                    {"type": "wait_until", "time": "10:00"},
                    {"type": "email",
                     "subject": t("{{ points_expiring }}ポイントの有効期限が近づいています", "{{ points_expiring }} points expire soon"),
                     "body": t("{{ name }}\n\n{{ points_expiry_date }}に{{ points_expiring }}ポイントの有効期限を迎えます (残高 {{ points }} pt)。お買い物やご来店の際にお使いください。", "Dear {{ name }},\n\n{{ points_expiring }} points expire on {{ points_expiry_date }} (balance {{ points }} pt). Use them on your next visit.")},
                    {"type": "wait", "days": 23},
                    {"type": "email",
                     "subject": t("ポイントの有効期限まであと1週間です", "One week left to use your points"),
                     "body": t("{{ name }}\n\n{{ points_expiry_date }}に有効期限を迎えるポイントがあります (残高 {{ points }} pt)。期限が過ぎると失効しますので、お早めにお使いください。", "Dear {{ name }},\n\nSome of your points expire on {{ points_expiry_date }} (balance {{ points }} pt). Use them before they lapse.")}
                ]
            }),
            survey: None,
        },
        ReadyScenario {
            key: "ticket_last_visit",
            name: t("回数券の残り1回のお知らせ", "Ticket book: one visit left"),
            description: t(
                "回数券の残りが1回になったら、次の回数券のご案内。来店の多い方には担当者からお電話。",
                "When a ticket book is down to its last visit: a note about the next one, and a call for frequent visitors.",
            ),
            definition: json!({
                "trigger": {"kind": "ticket_low", "remaining": 1},
                "entry": {"rule": "every_time"},
                "steps": [
                    {"type": "wait_until", "time": "10:00"},
                    {"type": "check", "consent": "email", "otherwise": {"skip": 1}},
                    {"type": "email",
                     "subject": t("回数券の残りがあと1回になりました", "One visit left on your ticket book"),
                     "body": t("{{ name }}\n\nいつもご来店ありがとうございます。回数券の残りがあと1回になりました。次の回数券もご用意しております。", "Dear {{ name }},\n\nThank you for your visits. Your ticket book has one visit left; the next one is ready for you at the shop.")},
                    {"type": "check", "filter": {"all": [{"field": "frequency", "op": "gte", "value": 5}]}, "otherwise": "exit"},
                    {"type": "task", "task": "call", "title": t("{{ name }}へ回数券の継続のご案内", "Call {{ name }} about the next ticket book"), "due_days": 3}
                ]
            }),
            survey: None,
        },
        ReadyScenario {
            key: "membership_renewal",
            name: t("会員更新のお知らせ", "Membership renewal reminder"),
            description: t(
                "会員の更新日の14日前に、更新のご案内 (取引のお知らせとして送ります)。",
                "14 days before a membership renews, a notice (sent as a transactional mail).",
            ),
            definition: json!({
                "trigger": {"kind": "membership_renewal", "days": 14},
                "entry": {"rule": "every_time"},
                "steps": [
                    {"type": "wait_until", "time": "10:00"},
                    {"type": "email", "marketing": false,
                     "subject": t("会員の更新日が近づいています", "Your membership renews soon"),
                     "body": t("{{ name }}\n\nいつもご利用ありがとうございます。会員の更新日が2週間後に近づいています。内容の変更や休会をご希望の方はお知らせください。", "Dear {{ name }},\n\nThank you for being a member. Your membership renews in two weeks; let us know if you would like to change or pause it.")}
                ]
            }),
            survey: None,
        },
        ReadyScenario {
            key: "complaint_follow_up",
            name: t("クレーム解決後の満足度確認", "After a complaint: how did we do?"),
            description: t(
                "クレームが完了して3日後に、対応への満足度アンケート (満足度が低ければまたクレームとして記録されます)。",
                "Three days after a complaint is closed, a satisfaction survey about how it was handled (a low score opens a case again).",
            ),
            definition: json!({
                "trigger": {"kind": "case_closed"},
                "entry": {"rule": "every_time"},
                "steps": [
                    {"type": "wait", "days": 3},
                    {"type": "wait_until", "time": "10:00"},
                    {"type": "survey", "survey_id": 0, "channel": "email",
                     "subject": t("その後いかがでしょうか", "How are things now?"),
                     "text": t("{{ name }}\n\n先日はご迷惑をおかけし、申し訳ございませんでした。その後の対応について、ご満足いただけたかお聞かせください。", "Dear {{ name }},\n\nWe are sorry for the trouble we caused. Please tell us whether our response put things right.")}
                ]
            }),
            survey: Some("case"),
        },
        ReadyScenario {
            key: "exit_reason",
            name: t("退会理由のおたずね", "Why did you leave?"),
            description: t(
                "会員を退会された方に、翌日、理由のアンケート (理由の分析は「離反理由」のページ)。",
                "The day after a membership is cancelled, a survey asking why (analysed on the churn-reasons page).",
            ),
            definition: json!({
                "trigger": {"kind": "membership_changed", "change": "cancelled"},
                "entry": {"rule": "every_time"},
                "steps": [
                    {"type": "wait", "days": 1},
                    {"type": "wait_until", "time": "10:00"},
                    {"type": "survey", "survey_id": 0, "channel": "email",
                     "subject": t("これまでのご利用ありがとうございました", "Thank you for being with us"),
                     "text": t("{{ name }}\n\nこれまでのご利用、本当にありがとうございました。よろしければ、退会された理由をお聞かせください。今後のお店づくりに活かします。", "Dear {{ name }},\n\nThank you for all your visits. If you could tell us why you left, it would help us improve.")}
                ]
            }),
            survey: Some("exit"),
        },
        ReadyScenario {
            key: "lapsed_reason",
            name: t("休眠顧客に理由をおたずね", "Ask lapsed customers why"),
            description: t(
                "休眠顧客になって45日たってもご注文がなければ、来なくなった理由のアンケート (次のご注文で終了)。",
                "45 days after a customer becomes dormant with no order since, a survey asking why they stopped coming (ends at their next order).",
            ),
            definition: json!({
                "trigger": {"kind": "segment_entered", "segment": "dormant"},
                "entry": {"rule": "once_per", "days": 365},
                "exit": {"on_order": true, "on_unsubscribe": true},
                "steps": [
                    {"type": "wait_for_order", "timeout_days": 45, "then": "exit"},
                    {"type": "wait_until", "time": "10:00"},
                    {"type": "survey", "survey_id": 0, "channel": "email", "marketing": false,
                     "subject": t("お店についてのお願い", "A question from us"),
                     "text": t("{{ name }}\n\nしばらくお見かけしておりませんでした。よろしければ、足が遠のいた理由をお聞かせください。これからのお店づくりに活かします。", "Dear {{ name }},\n\nWe have not seen you for a while. If you could tell us why, it would help us do better.")}
                ]
            }),
            survey: Some("exit"),
        },
    ]
}

impl App {
    /// Makes a draft scenario from ready scenario `key` in `lang`.
    /// A ready scenario that sends a survey sends the shop's copy of the ready survey (made
    /// now when there is none).
    pub async fn create_from_ready(&self, actor: &Actor, key: &str, lang: &str) -> Result<crate::scenarios::Scenario> {
        let ready = self.ready_scenario(actor, key, lang).await?;
        self.create_scenario(actor, ScenarioInput { name: ready.name, definition: ready.definition }).await
    }

    /// Ready scenario `key` in `lang`, its survey steps pointing at the shop's copy of their
    /// ready survey (made now when there is none; staff).
    pub async fn ready_scenario(&self, actor: &Actor, key: &str, lang: &str) -> Result<ReadyScenario> {
        let mut ready =
            ready_scenarios(lang).into_iter().find(|r| r.key == key).ok_or(AppError::NotFound("template"))?;
        if let Some(code) = ready.survey {
            let survey_id = self.ready_survey_id(actor, code, lang).await?;
            set_survey_ids(&mut ready.definition, survey_id);
        }
        Ok(ready)
    }

    /// The shop's survey made from ready survey `code` (by its name, not archived), made now
    /// if there is none.
    async fn ready_survey_id(&self, actor: &Actor, code: &str, lang: &str) -> Result<i64> {
        let name = crate::surveys::ready::ready_surveys(lang)
            .into_iter()
            .find(|(c, _)| *c == code)
            .map(|(_, s)| s.name)
            .ok_or(AppError::NotFound("survey"))?;
        if let Some((id, _)) = self.survey_choices().await?.into_iter().find(|(_, n)| *n == name) {
            return Ok(id);
        }
        Ok(self.create_ready_survey(actor, code, lang).await?.survey.id)
    }
}

/// Points every survey step of a definition at survey `id`.
pub(crate) fn set_survey_ids(definition: &mut Value, id: i64) {
    if let Some(steps) = definition["steps"].as_array_mut() {
        for step in steps.iter_mut().filter(|s| s["type"] == "survey") {
            step["survey_id"] = json!(id);
        }
    }
}

/// A ready message an editor can start from: every mail of the ready scenarios.
#[derive(Debug, Clone, Serialize)]
pub struct ReadyMessage {
    /// `scenario_key.step` (e.g. `post_purchase.0`), stable across languages.
    pub key: String,
    /// The scenario's name and the subject, for the pick list.
    pub label: String,
    pub subject: String,
    pub body: String,
    pub marketing: bool,
}

/// The mails of the ready scenarios in `lang`, in the order the scenarios list them.
pub fn ready_messages(lang: &str) -> Vec<ReadyMessage> {
    let mut out = Vec::new();
    for r in ready_scenarios(lang) {
        let Ok(def) = serde_json::from_value::<joren_core::scenario::Definition>(r.definition) else { continue };
        for (i, step) in def.steps.into_iter().enumerate() {
            if let joren_core::scenario::Step::Email { subject, body, marketing } = step {
                out.push(ReadyMessage {
                    key: format!("{}.{i}", r.key),
                    label: format!("{}: {subject}", r.name),
                    subject,
                    body,
                    marketing,
                });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenarios::parse_definition;

    #[test]
    fn every_ready_scenario_is_valid_in_both_languages() {
        for lang in ["ja", "en"] {
            for mut r in ready_scenarios(lang) {
                set_survey_ids(&mut r.definition, 1);
                parse_definition(&r.definition).unwrap_or_else(|e| panic!("{lang} {}: {e}", r.key));
            }
        }
    }
}
