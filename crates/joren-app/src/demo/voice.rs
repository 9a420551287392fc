//! The demo shop's voice of the customer: the ready NPS, satisfaction (CSAT) and exit surveys,
//! sent to customers over the last six months and about two thirds answered — promoters,
//! passives and detractors in believable shares, with words to search — so the survey pages
//! have months, targets and breakdowns to show; and the referral programme with a few
//! referrals in each state.

use joren_core::survey::{Answer, answers_from_form, check_response, free_text, scores};
use joren_store::{NewInvitation, ResponseWrite};
use rand::Rng;

use crate::{Actor, App, Result};

const NPS_WHY: [&str; 6] = [
    "豆の香りが良く、店員さんが親切です",
    "いつも同じ味で安心できる",
    "駐車場が狭くて停めにくい",
    "待ち時間が長いことがある",
    "季節のブレンドが楽しみです",
    "値段が少し高いと感じる",
];

const COMPLAINTS: [&str; 3] = ["箱が潰れて届きました", "注文と違う豆が入っていました", "届くのが遅かった"];

impl App {
    /// Writes the demo's surveys and answers; answers how many answers it wrote.
    pub(super) async fn demo_surveys(&self, rng: &mut impl Rng, ids: &[i64]) -> Result<usize> {
        let system = Actor::system("demo");
        let now = self.config.clock.now_ms();
        let mut answered = 0;
        for code in ["nps", "csat", "exit"] {
            let survey = self.create_ready_survey(&system, code, "ja").await?;
            let sends = if code == "exit" { 12 } else { 60 };
            for n in 0..sends {
                let customer = ids[rng.random_range(0..ids.len())];
                let sent = now - rng.random_range(0..180) * 86_400_000 - rng.random_range(0..36_000_000);
                let v = NewInvitation {
                    survey_id: survey.survey.id,
                    customer_id: customer,
                    token: crate::auth::random_token()[..32].to_string(),
                    channel: if n % 3 == 0 { "line".into() } else { "email".into() },
                    source: "staff".into(),
                    source_key: format!("demo:{code}:{n}"),
                    scenario_id: None,
                    order_id: None,
                    created_by: None,
                    sent_at_ms: sent,
                    expires_at_ms: sent + survey.survey.valid_days * 86_400_000,
                };
                let (inv, _) = self.store.invite(&v, None).await?;
                if rng.random_range(0..3) == 0 {
                    continue;
                }
                let form: Vec<(String, String)> = match code {
                    "nps" => {
                        // About half promoters, a quarter passives, a quarter detractors.
                        let score = match rng.random_range(0..100) {
                            0..50 => rng.random_range(9..=10),
                            50..75 => rng.random_range(7..=8),
                            _ => rng.random_range(2..=6),
                        };
                        let mut f = vec![("nps".to_string(), score.to_string())];
                        if rng.random_range(0..2) == 0 {
                            f.push(("why".into(), NPS_WHY[rng.random_range(0..NPS_WHY.len())].into()));
                        }
                        if score <= 6 {
                            f.push(("better".into(), "駐車場の案内があると助かります".into()));
                        }
                        f
                    }
                    "csat" => {
                        let score = [5, 5, 4, 4, 4, 3, 2][rng.random_range(0..7)];
                        let mut f = vec![("csat".to_string(), score.to_string()), ("best".into(), "品質".into())];
                        if score <= 3 {
                            f.push(("complaint".into(), COMPLAINTS[rng.random_range(0..COMPLAINTS.len())].into()));
                        }
                        f
                    }
                    _ => {
                        let reasons = crate::surveys::ready::EXIT_REASONS;
                        let pick = reasons[rng.random_range(0..reasons.len())].1;
                        vec![
                            ("reason".to_string(), pick.to_string()),
                            ("detail".into(), "近所に新しいお店ができたため".into()),
                        ]
                    }
                };
                let given = answers_from_form(&survey.questions, &form);
                let answers = check_response(&survey.questions, &given, false)?;
                let s = scores(&survey.questions, &answers);
                let w = ResponseWrite {
                    answers: serde_json::to_value::<&std::collections::BTreeMap<String, Answer>>(&answers)
                        .unwrap_or_default(),
                    nps: s.nps,
                    csat: s.csat,
                    ces: s.ces,
                    free_text: free_text(&survey.questions, &answers),
                    complete: true,
                };
                let at = (sent + rng.random_range(600_000..172_800_000)).min(now);
                self.store.answer_survey(&inv, &w, at).await?;
                answered += 1;
            }
        }
        Ok(answered)
    }
}

/// One made-up complaint: how long ago it came, the steps taken (hours after it came).
struct DemoCase {
    customer: usize,
    title: &'static str,
    category: &'static str,
    hours_ago: i64,
    steps: &'static [(&'static str, i64, &'static str)],
}

const CASES: [DemoCase; 4] = [
    DemoCase {
        customer: 5,
        title: "ギフト用の豆が違う種類で届いた",
        category: "delivery",
        hours_ago: 240,
        steps: &[
            ("first_response", 2, "お電話でお詫びし、すぐに正しい豆を送ると伝えた"),
            ("listened", 3, "贈り物で恥ずかしい思いをされたとのこと"),
            ("facts", 20, "出荷時にラベルを取り違えていた"),
            ("proposed", 22, "正しい豆を速達で、お詫びに次回10%引き"),
            ("carried_out", 30, "速達で発送"),
            ("followed_up", 72, "無事届き、ご満足いただけた"),
            ("prevented", 96, "出荷前にラベルを二人で確認する手順にした"),
        ],
    },
    DemoCase {
        customer: 8,
        title: "レジで長く待たされた",
        category: "service",
        hours_ago: 50,
        steps: &[
            ("first_response", 1, "店頭でお詫び"),
            ("listened", 1, "昼休みで急いでいたとのこと"),
            ("facts", 5, "12時台のレジが1台だった"),
            ("proposed", 6, "次回のご来店時にドリンク1杯サービス"),
        ],
    },
    DemoCase {
        customer: 13, title: "ポイントが付いていない", category: "billing", hours_ago: 100, steps: &[]
    },
    DemoCase {
        customer: 21, title: "焙煎が浅すぎると感じた", category: "product", hours_ago: 1, steps: &[]
    },
];

impl App {
    /// Writes the demo's complaint cases: one closed with its prevention, one at the proposed
    /// solution, one past its first-response deadline, one just received.
    pub(super) async fn demo_cases(&self, ids: &[i64], staff: (i64, &str)) -> Result<usize> {
        let now = self.now();
        for (n, k) in CASES.iter().enumerate() {
            let opened = now - chrono::Duration::hours(k.hours_ago);
            let (due, escalate) = self.case_deadlines(opened).await?;
            let new = joren_store::NewCase {
                customer_id: ids.get(k.customer).copied(),
                conversation_id: None,
                response_id: None,
                source: "staff".into(),
                source_key: format!("demo:case:{n}"),
                title: k.title.into(),
                category: k.category.into(),
                assignee_id: Some(staff.0),
                opened_at_ms: opened.timestamp_millis(),
                due_at_ms: due,
                escalate_at_ms: escalate,
                created_by: Some(staff.0),
                created_by_name: staff.1.into(),
                note: String::new(),
            };
            let (case, _) = self.store.open_case(&new).await?;
            let mut from = "received".to_string();
            for (stage, after, note) in k.steps {
                let at = (opened + chrono::Duration::hours(*after)).min(now).timestamp_millis();
                let w = joren_store::CaseStepWrite {
                    from: from.clone(),
                    stage: (*stage).into(),
                    note: (*note).into(),
                    by_user_id: Some(staff.0),
                    by_name: staff.1.into(),
                    at_ms: at,
                    promised_on: (*stage == "proposed").then(|| {
                        (joren_core::time::local_date(now, self.tz()) + chrono::Duration::days(2)).to_string()
                    }),
                    root_cause: if *stage == "prevented" { k.category.into() } else { String::new() },
                    prevention: if *stage == "prevented" { (*note).into() } else { String::new() },
                };
                self.store.record_case_step(case.id, &w).await?;
                from = (*stage).into();
            }
        }
        Ok(CASES.len())
    }
}

/// New customers the demo's regulars referred: (family name, given name, phone, what happens).
const REFERRED: [(&str, &str, &str, Referred); 5] = [
    ("青木", "美咲", "090-5500-0101", Referred::Bought),
    ("石田", "健", "090-5500-0102", Referred::Bought),
    ("上野", "由美", "090-5500-0103", Referred::Bought),
    ("岡本", "翔太", "090-5500-0104", Referred::Cancelled),
    ("片山", "彩", "090-5500-0105", Referred::Waiting),
];

#[derive(Clone, Copy, PartialEq)]
enum Referred {
    Bought,
    Cancelled,
    Waiting,
}

impl App {
    /// The demo's referral programme: switched on (500 points each side, five a month), and
    /// five new customers referred by three regulars — three bought (both sides rewarded by the
    /// engine), one whose first order was cancelled (the reward taken back), one still to buy.
    /// Answers how many referrals it recorded.
    pub(super) async fn demo_referrals(&self, ids: &[i64]) -> Result<usize> {
        let system = Actor::system("demo");
        let settings = joren_core::referral::ReferralSettings { enabled: true, ..Default::default() };
        self.save_referral_settings(&system, &settings).await?;
        let mut referrers = Vec::new();
        for id in ids.iter().take(3) {
            referrers.push(self.referral_code(*id).await?);
        }
        let mut recorded = 0;
        let mut cancel = Vec::new();
        for (i, (family, given, phone, what)) in REFERRED.iter().enumerate() {
            let profile = joren_core::customer::CustomerInput {
                family_name: Some((*family).into()),
                given_name: Some((*given).into()),
                phone: Some((*phone).into()),
                acquisition_source: Some("referral".into()),
                ..Default::default()
            };
            let new = crate::customers::NewCustomer { profile, ..Default::default() };
            let customer = self.create_customer(&system, new).await?;
            self.record_referral(&system, &referrers[i % referrers.len()], customer.id, "staff").await?;
            recorded += 1;
            if *what == Referred::Waiting {
                continue;
            }
            let input = joren_core::order::OrderInput {
                customer_id: customer.id,
                channel: Some("store".into()),
                items: vec![joren_core::order::LineItemInput {
                    sku: "CF-200".into(),
                    name: "季節のブレンド 200g".into(),
                    category: "珈琲豆".into(),
                    quantity: 1,
                    unit_price: 1_480,
                    tax_rate: 8,
                }],
                ..Default::default()
            };
            let order = self.create_order(&system, input, None).await?;
            if *what == Referred::Cancelled {
                cancel.push(order.order.id);
            }
        }
        // The orders' events reward the referrals; then the cancellation's takes one back.
        for _ in 0..20 {
            if self.automate_once().await?.events == 0 {
                break;
            }
        }
        for id in cancel {
            self.cancel_order(&system, id, "お客様都合").await?;
        }
        for _ in 0..20 {
            if self.automate_once().await?.events == 0 {
                break;
            }
        }
        Ok(recorded)
    }
}
