//! Ready surveys (Japanese and English), each made in one click from the surveys page: NPS
//! with its reason, satisfaction after a purchase (CSAT), effort (CES), and the exit survey
//! that asks a leaving customer why (reason codes + words, for the churn-reason report).

use joren_core::survey::{Question, QuestionKind, ShowIf};

use super::{DEFAULT_VALID_DAYS, SurveyInput};

/// The reasons the exit survey offers, in the order asked: (the membership cancel reason it
/// counts as, 日本語, English) — so the churn-reason report joins the two.
pub const EXIT_REASONS: [(&str, &str, &str); 7] = [
    ("price", "価格が高い", "Too expensive"),
    ("dissatisfied", "品質・内容に不満", "Unhappy with the quality"),
    ("dissatisfied", "接客・対応に不満", "Unhappy with the service"),
    ("competitor", "他のお店・サービスに移った", "Moved to another shop"),
    ("not_using", "必要がなくなった", "No longer needed"),
    ("moved", "引っ越し・通いにくくなった", "Moved away / hard to reach"),
    ("other", "その他", "Other"),
];

/// The cancel-reason code of an exit-survey answer (either language); `other` for a choice
/// the shop added.
pub fn exit_reason_code(answer: &str) -> &'static str {
    EXIT_REASONS.iter().find(|(_, ja, en)| *ja == answer || *en == answer).map_or("other", |(c, _, _)| c)
}

/// The key of the exit survey's reason question.
pub const EXIT_REASON_KEY: &str = "reason";

fn q(key: &str, text: &str, kind: QuestionKind, required: bool) -> Question {
    Question { key: key.into(), text: text.into(), kind, required, show_if: None }
}

fn when(mut q: Question, question: &str, at_least: Option<i64>, at_most: Option<i64>) -> Question {
    q.show_if = Some(ShowIf { question: question.into(), at_least, at_most });
    q
}

/// The ready surveys in `lang` (`ja` or `en`): (code, survey).
pub fn ready_surveys(lang: &str) -> Vec<(&'static str, SurveyInput)> {
    let en = lang == "en";
    let w = |ja: &str, e: &str| if en { e.to_string() } else { ja.to_string() };
    let survey = |name: String, title: String, intro: String, questions: Vec<Question>| SurveyInput {
        name,
        title,
        intro,
        thanks: w(
            "ご回答ありがとうございました。いただいた声は、これからのお店づくりに活かします。",
            "Thank you for your answers. We will use them to serve you better.",
        ),
        questions,
        valid_days: DEFAULT_VALID_DAYS,
    };
    vec![
        (
            "nps",
            survey(
                w("おすすめ度 (NPS)", "Recommendation (NPS)"),
                w("お店についてのアンケート", "A question about our shop"),
                w("1分ほどで終わります。", "It takes about a minute."),
                vec![
                    q(
                        "nps",
                        &w(
                            "当店を友人や知人にすすめる可能性は、どのくらいありますか?",
                            "How likely are you to recommend us to a friend or colleague?",
                        ),
                        QuestionKind::Nps,
                        true,
                    ),
                    q(
                        "why",
                        &w("そう思われた一番の理由を教えてください。", "What is the main reason for your score?"),
                        QuestionKind::Text,
                        false,
                    ),
                    when(
                        q(
                            "better",
                            &w(
                                "どうすればもっと良くなるか、教えていただけますか?",
                                "What could we do to make it better?",
                            ),
                            QuestionKind::Text,
                            false,
                        ),
                        "nps",
                        None,
                        Some(6),
                    ),
                ],
            ),
        ),
        (
            "csat",
            survey(
                w("購入後の満足度 (CSAT)", "Satisfaction after a purchase (CSAT)"),
                w("ご購入後のアンケート", "How was your purchase?"),
                w("お買い上げありがとうございました。", "Thank you for your purchase."),
                vec![
                    q(
                        "csat",
                        &w(
                            "今回のお買い物に、どのくらい満足されましたか?",
                            "How satisfied are you with your purchase?",
                        ),
                        QuestionKind::Csat,
                        true,
                    ),
                    q(
                        "best",
                        &w("特によかった点を選んでください (いくつでも)。", "What did you like? (any)"),
                        QuestionKind::Multiple {
                            choices: if en {
                                vec!["Quality".into(), "Price".into(), "Staff".into(), "Delivery".into()]
                            } else {
                                vec!["品質".into(), "価格".into(), "スタッフの対応".into(), "配送の早さ".into()]
                            },
                        },
                        false,
                    ),
                    when(
                        q(
                            "complaint",
                            &w("ご不満な点を教えてください。", "What disappointed you?"),
                            QuestionKind::Text,
                            true,
                        ),
                        "csat",
                        None,
                        Some(3),
                    ),
                ],
            ),
        ),
        (
            "ces",
            survey(
                w("お手続きの簡単さ (CES)", "Effort (CES)"),
                w("お手続きについてのアンケート", "How easy was it?"),
                String::new(),
                vec![
                    q(
                        "ces",
                        &w(
                            "今回のお手続き (ご注文・お問い合わせ) は、どのくらい簡単でしたか? (1 = とても簡単 … 7 = とても大変)",
                            "How easy was it to get what you needed? (1 = very easy … 7 = very hard)",
                        ),
                        QuestionKind::Ces,
                        true,
                    ),
                    q(
                        "hard",
                        &w("手間がかかった点があれば教えてください。", "What took effort, if anything?"),
                        QuestionKind::Text,
                        false,
                    ),
                ],
            ),
        ),
        (
            "case",
            survey(
                w("クレーム対応の満足度", "How we handled your complaint"),
                w("対応についてのアンケート", "How did we handle it?"),
                w(
                    "ご迷惑をおかけしました。その後の対応についてお聞かせください。",
                    "We are sorry for the trouble. Please tell us how we handled it.",
                ),
                vec![
                    q(
                        "csat",
                        &w(
                            "今回の私どもの対応に、どのくらい満足されましたか?",
                            "How satisfied are you with how we handled it?",
                        ),
                        QuestionKind::Csat,
                        true,
                    ),
                    when(
                        q(
                            "still",
                            &w("まだ解決していないことがあれば教えてください。", "Is anything still not right?"),
                            QuestionKind::Text,
                            false,
                        ),
                        "csat",
                        None,
                        Some(3),
                    ),
                ],
            ),
        ),
        (
            "exit",
            survey(
                w("退会・休止の理由", "Why customers leave"),
                w("これまでのご利用ありがとうございました", "Thank you for being our customer"),
                w(
                    "よろしければ、ご利用をやめられた理由をお聞かせください。今後の参考にいたします。",
                    "If you could tell us why you stopped, it would help us improve.",
                ),
                vec![
                    q(
                        EXIT_REASON_KEY,
                        &w("一番近い理由を選んでください。", "Which reason is closest?"),
                        QuestionKind::Single {
                            choices: EXIT_REASONS
                                .iter()
                                .map(|(_, ja, e)| if en { e } else { ja }.to_string())
                                .collect(),
                        },
                        true,
                    ),
                    q(
                        "detail",
                        &w("よろしければ詳しくお聞かせください。", "Anything you would like to add?"),
                        QuestionKind::Text,
                        false,
                    ),
                ],
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_ready_survey_passes_its_own_checks() {
        for lang in ["ja", "en"] {
            for (code, s) in super::ready_surveys(lang) {
                assert!(s.validate().is_ok(), "{lang} {code}: {:?}", s.validate().err());
            }
        }
    }
}
