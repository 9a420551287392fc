//! The demo shop's voice of the customer: the ready NPS, satisfaction (CSAT) and exit surveys,
//! sent to customers over the last six months and about two thirds answered — promoters,
//! passives and detractors in believable shares, with words to search — so the survey pages
//! have months, targets and breakdowns to show.

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
                        let pick = reasons[rng.random_range(0..reasons.len())].0;
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
