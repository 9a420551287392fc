//! Surveys (the voice of the customer, issue #20): the questions a survey asks — the three
//! standard measures (CSAT 1–5, NPS 0–10, CES 1–7) and the shop's own (one choice, several,
//! a scale, free text), each possibly shown only after a given answer — the check of an
//! answer against its question, and the exact scores:
//!
//! - NPS = % promoters (9–10) − % detractors (0–6), from −100 to 100;
//! - CSAT = the mean (1–5) and the share satisfied (4–5);
//! - CES = the mean (1–7; lower is easier);
//! - the response rate = responses ÷ invitations sent.
//!
//! No answers, no score (`None`), never a made-up zero.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::{Code, FieldError, FieldErrors};

/// The most questions a survey asks.
pub const MAX_QUESTIONS: usize = 20;
/// The most choices a question offers.
pub const MAX_CHOICES: usize = 20;
/// The longest free-text answer (characters).
pub const MAX_TEXT_ANSWER: usize = 2_000;

/// What a question asks for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum QuestionKind {
    /// Customer satisfaction, 1 (very dissatisfied) to 5 (very satisfied).
    Csat,
    /// Net Promoter: how likely to recommend, 0 to 10.
    Nps,
    /// Customer effort, 1 (very easy) to 7 (very hard).
    Ces,
    /// One of the choices.
    Single { choices: Vec<String> },
    /// Any of the choices (at least one when required).
    Multiple { choices: Vec<String> },
    /// A number from `min` to `max` (a scale the shop labels itself).
    Scale { min: i64, max: i64 },
    /// Words.
    Text,
}

impl QuestionKind {
    /// The range of a scored question.
    pub fn range(&self) -> Option<(i64, i64)> {
        match self {
            Self::Csat => Some((1, 5)),
            Self::Nps => Some((0, 10)),
            Self::Ces => Some((1, 7)),
            Self::Scale { min, max } => Some((*min, *max)),
            _ => None,
        }
    }
}

/// Shown only when an earlier scored question's answer lies in `at_least..=at_most` (either
/// bound may be left open): "what could we do better?" after a low score.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShowIf {
    pub question: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_least: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub at_most: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    /// A short key the answers are stored under (`q1`, `reason`), unique in the survey.
    pub key: String,
    pub text: String,
    #[serde(flatten)]
    pub kind: QuestionKind,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub show_if: Option<ShowIf>,
}

/// One answer as given.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Answer {
    Score(i64),
    Choices(Vec<String>),
    Text(String),
}

/// Checks a survey's questions, naming each problem `questions[2].choices`.
pub fn check_questions(questions: &[Question]) -> FieldErrors {
    let mut e = FieldErrors::default();
    if questions.is_empty() {
        e.push("questions", Code::Required);
    }
    if questions.len() > MAX_QUESTIONS {
        e.push("questions", Code::TooMany).with(MAX_QUESTIONS);
    }
    for (i, q) in questions.iter().enumerate() {
        let f = |name: &str| format!("questions[{i}].{name}");
        let key_ok =
            !q.key.is_empty() && q.key.len() <= 40 && q.key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if !key_ok {
            e.push(&f("key"), Code::BadKey).with(&q.key);
        } else if questions[..i].iter().any(|p| p.key == q.key) {
            e.push(&f("key"), Code::Duplicate).with(&q.key);
        }
        if q.text.trim().is_empty() {
            e.push(&f("text"), Code::Required);
        }
        e.take(crate::text::check_text(&f("text"), &q.text, 500));
        match &q.kind {
            QuestionKind::Single { choices } | QuestionKind::Multiple { choices } => {
                if choices.len() < 2 || choices.len() > MAX_CHOICES {
                    e.push(&f("choices"), Code::Range).with(2).with(MAX_CHOICES);
                }
                for (j, c) in choices.iter().enumerate() {
                    if c.trim().is_empty() {
                        e.push(&f("choices"), Code::Required);
                    } else if choices[..j].iter().any(|d| d.trim() == c.trim()) {
                        e.push(&f("choices"), Code::Duplicate).with(c.trim());
                    }
                    e.take(crate::text::check_text(&f("choices"), c, 100));
                }
            }
            QuestionKind::Scale { min, max } if min >= max || max - min > 100 => {
                e.push(&f("max"), Code::Range).with(min + 1).with(min + 100);
            }
            _ => {}
        }
        if let Some(s) = &q.show_if {
            // Only after an earlier question with a score.
            let earlier = questions[..i].iter().find(|p| p.key == s.question);
            if earlier.is_none_or(|p| p.kind.range().is_none()) {
                e.push(&f("show_if.question"), Code::Choose).with(&s.question);
            }
            if s.at_least.is_none() && s.at_most.is_none() {
                e.push(&f("show_if"), Code::Required);
            }
        }
    }
    e
}

/// Whether question `q` is asked, given the answers so far.
pub fn shown(q: &Question, answers: &BTreeMap<String, Answer>) -> bool {
    let Some(s) = &q.show_if else { return true };
    match answers.get(&s.question) {
        Some(Answer::Score(v)) => s.at_least.is_none_or(|a| *v >= a) && s.at_most.is_none_or(|b| *v <= b),
        _ => false,
    }
}

/// Checks one answer against its question (`None`: not answered); answers it as stored
/// (choices and text trimmed). The field is the question's key.
pub fn check_answer(q: &Question, given: Option<&Answer>) -> Result<Option<Answer>, FieldError> {
    let missing = || if q.required { Err(FieldError::new(&q.key, Code::Required)) } else { Ok(None) };
    let Some(given) = given else { return missing() };
    match (&q.kind, given) {
        (kind, Answer::Score(v)) if kind.range().is_some() => {
            let (lo, hi) = kind.range().expect("scored");
            if (lo..=hi).contains(v) {
                Ok(Some(Answer::Score(*v)))
            } else {
                Err(FieldError::new(&q.key, Code::Range).arg(lo).arg(hi))
            }
        }
        (QuestionKind::Single { choices }, Answer::Choices(picked)) => match picked.as_slice() {
            [] => missing(),
            [one] if choices.iter().any(|c| c.trim() == one.trim()) => {
                Ok(Some(Answer::Choices(vec![one.trim().into()])))
            }
            _ => Err(FieldError::new(&q.key, Code::Choose)),
        },
        (QuestionKind::Multiple { choices }, Answer::Choices(picked)) => {
            if picked.is_empty() {
                return missing();
            }
            let mut out: Vec<String> = Vec::new();
            for p in picked {
                if !choices.iter().any(|c| c.trim() == p.trim()) {
                    return Err(FieldError::new(&q.key, Code::Choose));
                }
                if !out.iter().any(|o| o == p.trim()) {
                    out.push(p.trim().into());
                }
            }
            Ok(Some(Answer::Choices(out)))
        }
        (QuestionKind::Text, Answer::Text(t)) => {
            let t = t.trim();
            if t.is_empty() {
                return missing();
            }
            crate::text::check_text(&q.key, t, MAX_TEXT_ANSWER)?;
            Ok(Some(Answer::Text(t.into())))
        }
        _ => Err(FieldError::new(&q.key, Code::Choose)),
    }
}

/// The answers a survey's page form sent (`key=value` pairs; a multiple choice repeats its
/// key), read by each question's kind: a score as a number (full-width digits too), choices
/// as given, text as typed. Keys no question has are dropped; an unreadable score is kept as
/// text so the check names it.
pub fn answers_from_form(questions: &[Question], pairs: &[(String, String)]) -> BTreeMap<String, Answer> {
    let mut out = BTreeMap::new();
    for q in questions {
        let given: Vec<&str> = pairs.iter().filter(|(k, _)| *k == q.key).map(|(_, v)| v.as_str()).collect();
        if given.iter().all(|v| v.trim().is_empty()) {
            continue;
        }
        let answer = match &q.kind {
            k if k.range().is_some() => {
                let v = given.iter().find(|v| !v.trim().is_empty()).copied().unwrap_or_default();
                match crate::text::parse_int(v) {
                    Some(n) => Answer::Score(n),
                    None => Answer::Text(v.into()),
                }
            }
            QuestionKind::Single { .. } | QuestionKind::Multiple { .. } => {
                Answer::Choices(given.iter().filter(|v| !v.trim().is_empty()).map(|v| v.to_string()).collect())
            }
            _ => Answer::Text(given.join("\n")),
        };
        out.insert(q.key.clone(), answer);
    }
    out
}

/// A whole response checked: each question shown (given the answers before it) checked
/// against its answer, the answers to questions not shown dropped. Every problem at once,
/// each named by its question's key. With `partial`, missing required answers are allowed
/// (the channel's first answer, the rest to follow on the page).
pub fn check_response(
    questions: &[Question],
    given: &BTreeMap<String, Answer>,
    partial: bool,
) -> Result<BTreeMap<String, Answer>, FieldErrors> {
    let mut out = BTreeMap::new();
    let mut e = FieldErrors::default();
    for q in questions {
        if !shown(q, &out) {
            continue;
        }
        match check_answer(q, given.get(&q.key)) {
            Ok(Some(a)) => {
                out.insert(q.key.clone(), a);
            }
            Ok(None) => {}
            Err(err) if partial && err.code == Code::Required => {}
            Err(err) => e.0.push(err),
        }
    }
    if out.is_empty() && e.is_empty() {
        e.push(questions.first().map_or("answers", |q| q.key.as_str()), Code::Required);
    }
    if e.is_empty() { Ok(out) } else { Err(e) }
}

/// The standard scores a response holds, for reporting: the first NPS, CSAT and CES answer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Scores {
    pub nps: Option<i64>,
    pub csat: Option<i64>,
    pub ces: Option<i64>,
}

pub fn scores(questions: &[Question], answers: &BTreeMap<String, Answer>) -> Scores {
    let mut s = Scores::default();
    for q in questions {
        let Some(Answer::Score(v)) = answers.get(&q.key) else { continue };
        let slot = match q.kind {
            QuestionKind::Nps => &mut s.nps,
            QuestionKind::Csat => &mut s.csat,
            QuestionKind::Ces => &mut s.ces,
            _ => continue,
        };
        slot.get_or_insert(*v);
    }
    s
}

/// The free-text answers joined (searched by staff).
pub fn free_text(questions: &[Question], answers: &BTreeMap<String, Answer>) -> String {
    let texts = questions.iter().filter(|q| q.kind == QuestionKind::Text).filter_map(|q| match answers.get(&q.key) {
        Some(Answer::Text(t)) => Some(t.as_str()),
        _ => None,
    });
    texts.collect::<Vec<_>>().join("\n")
}

/// Whether an answer is a detractor's (NPS 0–6) or an unhappy customer's (CSAT 1–2): the
/// answers that open a complaint case.
pub fn is_unhappy(s: Scores) -> bool {
    s.nps.is_some_and(|n| n <= 6) || s.csat.is_some_and(|c| c <= 2)
}

/// NPS over 0–10 answers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Nps {
    pub promoters: u64,
    pub passives: u64,
    pub detractors: u64,
    pub responses: u64,
    /// % promoters − % detractors (−100 … 100); None without answers.
    pub score: Option<f64>,
}

/// The NPS group of a 0–10 answer: `promoter` (9–10), `passive` (7–8), `detractor` (0–6).
pub fn nps_group(score: i64) -> Option<&'static str> {
    match score {
        9..=10 => Some("promoter"),
        7..=8 => Some("passive"),
        0..=6 => Some("detractor"),
        _ => None,
    }
}

pub fn nps(scores: impl IntoIterator<Item = i64>) -> Nps {
    let (mut p, mut m, mut d) = (0u64, 0u64, 0u64);
    for s in scores {
        match nps_group(s) {
            Some("promoter") => p += 1,
            Some("passive") => m += 1,
            Some(_) => d += 1,
            None => {}
        }
    }
    let n = p + m + d;
    let score = (n > 0).then(|| (p as f64 - d as f64) * 100.0 / n as f64);
    Nps { promoters: p, passives: m, detractors: d, responses: n, score }
}

/// The mean of answers and the share of good ones.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Mean {
    pub responses: u64,
    pub mean: Option<f64>,
    /// Share of good answers (0–1): satisfied for CSAT, easy for CES; None without answers.
    pub good_share: Option<f64>,
}

/// The mean of the answers in `lo..=hi` and the share that `good` says are good.
fn mean_of(scores: impl IntoIterator<Item = i64>, (lo, hi): (i64, i64), good: impl Fn(i64) -> bool) -> Mean {
    let (mut n, mut sum, mut good_n) = (0u64, 0i64, 0u64);
    for s in scores.into_iter().filter(|s| (lo..=hi).contains(s)) {
        n += 1;
        sum += s;
        good_n += u64::from(good(s));
    }
    Mean {
        responses: n,
        mean: (n > 0).then(|| sum as f64 / n as f64),
        good_share: (n > 0).then(|| good_n as f64 / n as f64),
    }
}

/// CSAT: the mean of 1–5 answers and the share satisfied (4–5).
pub fn csat(scores: impl IntoIterator<Item = i64>) -> Mean {
    mean_of(scores, (1, 5), |s| s >= 4)
}

/// CES: the mean of 1–7 answers (lower is easier) and the share finding it easy (1–2).
pub fn ces(scores: impl IntoIterator<Item = i64>) -> Mean {
    mean_of(scores, (1, 7), |s| s <= 2)
}

/// Responses ÷ invitations sent (None when none were sent).
pub fn response_rate(responses: u64, sent: u64) -> Option<f64> {
    (sent > 0).then(|| responses.min(sent) as f64 / sent as f64)
}

/// The targets retention literature gives, and whether a score meets them.
pub mod targets {
    pub const CSAT_MEAN: f64 = 4.0;
    pub const NPS: f64 = 50.0;
    pub const CES_MEAN: f64 = 2.0;

    pub fn csat_met(mean: f64) -> bool {
        mean >= CSAT_MEAN
    }
    pub fn nps_met(score: f64) -> bool {
        score >= NPS
    }
    pub fn ces_met(mean: f64) -> bool {
        mean <= CES_MEAN
    }
    /// Monthly churn, in per cent.
    pub const MONTHLY_CHURN: f64 = 5.0;
    pub fn churn_met(monthly_churn: f64) -> bool {
        monthly_churn <= MONTHLY_CHURN
    }
    /// A repeat rate (per cent) meets the shop's industry when it reaches the low end of the
    /// industry's typical range.
    pub fn repeat_met(repeat_rate: f64, industry_low: f64) -> bool {
        repeat_rate >= industry_low
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn optional(key: &str, kind: QuestionKind) -> Question {
        Question { required: false, ..q(key, kind) }
    }

    #[test]
    fn a_form_is_read_by_question_and_checked_as_a_whole() {
        let mut why = q("why", QuestionKind::Text);
        why.show_if = Some(ShowIf { question: "nps".into(), at_least: None, at_most: Some(6) });
        let qs = vec![
            q("nps", QuestionKind::Nps),
            why,
            optional("liked", QuestionKind::Multiple { choices: vec!["味".into(), "接客".into()] }),
            optional("csat", QuestionKind::Csat),
        ];
        let pairs = |v: &[(&str, &str)]| v.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<Vec<_>>();
        // Full-width digits are read; a multiple choice repeats its key; unknown keys go.
        let form = answers_from_form(&qs, &pairs(&[("nps", "９"), ("liked", "味"), ("liked", "接客"), ("x", "1")]));
        assert_eq!(form.get("nps"), Some(&Answer::Score(9)));
        assert_eq!(form.get("liked"), Some(&Answer::Choices(vec!["味".into(), "接客".into()])));
        assert!(!form.contains_key("x"));
        // A promoter is not asked why: the required follow-up is not missing.
        let ok = check_response(&qs, &form, false).unwrap();
        assert_eq!(ok.len(), 2);
        // A detractor must say why; a hidden question's answer is dropped.
        let low = answers_from_form(&qs, &pairs(&[("nps", "3"), ("csat", "6")]));
        let e = check_response(&qs, &low, false).unwrap_err();
        let got: Vec<(&str, Code)> = e.0.iter().map(|f| (f.field.as_str(), f.code)).collect();
        assert_eq!(got, [("why", Code::Required), ("csat", Code::Range)]);
        // The channel's first answer alone is a partial response.
        let first = answers_from_form(&qs, &pairs(&[("nps", "3")]));
        assert_eq!(check_response(&qs, &first, true).unwrap().len(), 1);
        assert!(check_response(&qs, &BTreeMap::new(), true).is_err(), "nothing answered is no response");
        let s = scores(
            &qs,
            &check_response(&qs, &answers_from_form(&qs, &pairs(&[("nps", "3"), ("why", " 遅い ")])), false).unwrap(),
        );
        assert_eq!(s, Scores { nps: Some(3), csat: None, ces: None });
        assert!(is_unhappy(s));
        assert!(!is_unhappy(Scores { nps: Some(7), csat: Some(3), ces: None }));
        assert!(is_unhappy(Scores { nps: None, csat: Some(2), ces: None }));
        let a =
            check_response(&qs, &answers_from_form(&qs, &pairs(&[("nps", "3"), ("why", " 遅い ")])), false).unwrap();
        assert_eq!(free_text(&qs, &a), "遅い");
        assert_eq!(answers_from_form(&qs, &pairs(&[("nps", "九")])).get("nps"), Some(&Answer::Text("九".into())));
    }

    #[test]
    fn nps_is_promoters_minus_detractors_in_percent() {
        // 5 promoters, 3 passives, 2 detractors of 10: 50 % − 20 % = 30.
        let n = nps([10, 9, 9, 10, 9, 8, 7, 7, 6, 0]);
        assert_eq!((n.promoters, n.passives, n.detractors, n.responses), (5, 3, 2, 10));
        assert_eq!(n.score, Some(30.0));
        assert_eq!(nps([9, 10, 9]).score, Some(100.0), "no detractors");
        assert_eq!(nps([7, 8, 8, 7]).score, Some(0.0), "all passives: zero, not missing");
        assert_eq!(nps([0, 6]).score, Some(-100.0));
        assert_eq!(nps([]).score, None, "no answers, no score");
        assert_eq!(nps([11, -1]).responses, 0, "out of range answers are not counted");
        // 1 promoter, 2 detractors of 3: −33.3…
        assert!((nps([10, 3, 5]).score.unwrap() + 100.0 / 3.0).abs() < 1e-9);
    }

    #[test]
    fn csat_and_ces_are_means_with_their_good_shares() {
        let c = csat([5, 4, 3, 2, 5]);
        assert_eq!((c.responses, c.mean, c.good_share), (5, Some(3.8), Some(0.6)));
        assert!(!targets::csat_met(c.mean.unwrap()));
        assert_eq!(csat([]).mean, None);
        let e = ces([1, 2, 3, 2]);
        assert_eq!((e.mean, e.good_share), (Some(2.0), Some(0.75)));
        assert!(targets::ces_met(2.0) && !targets::ces_met(2.01));
        assert_eq!(response_rate(3, 12), Some(0.25));
        assert_eq!(response_rate(0, 0), None);
    }

    fn q(key: &str, kind: QuestionKind) -> Question {
        Question { key: key.into(), text: "質問".into(), kind, required: true, show_if: None }
    }

    #[test]
    fn questions_are_checked_by_field() {
        let mut follow = q("why", QuestionKind::Text);
        follow.show_if = Some(ShowIf { question: "score".into(), at_least: None, at_most: Some(6) });
        let good = [q("score", QuestionKind::Nps), follow.clone()];
        assert!(check_questions(&good).is_empty());
        let single = QuestionKind::Single { choices: vec!["はい".into(), "はい".into()] };
        let mut orphan = follow.clone();
        orphan.show_if = Some(ShowIf { question: "later".into(), at_least: Some(1), at_most: None });
        let bad =
            [q("a b", QuestionKind::Csat), q("x", single), q("x", QuestionKind::Scale { min: 5, max: 5 }), orphan];
        let e = check_questions(&bad);
        let fields: Vec<(&str, Code)> = e.0.iter().map(|x| (x.field.as_str(), x.code)).collect();
        assert!(fields.contains(&("questions[0].key", Code::BadKey)), "{fields:?}");
        assert!(fields.contains(&("questions[1].choices", Code::Duplicate)), "{fields:?}");
        assert!(fields.contains(&("questions[2].key", Code::Duplicate)), "{fields:?}");
        assert!(fields.contains(&("questions[2].max", Code::Range)), "{fields:?}");
        assert!(fields.contains(&("questions[3].show_if.question", Code::Choose)), "{fields:?}");
        assert_eq!(check_questions(&[]).0[0].code, Code::Required);
    }

    #[test]
    fn answers_are_checked_against_their_questions() {
        let nps_q = q("score", QuestionKind::Nps);
        assert_eq!(check_answer(&nps_q, Some(&Answer::Score(10))).unwrap(), Some(Answer::Score(10)));
        let e = check_answer(&nps_q, Some(&Answer::Score(11))).unwrap_err();
        assert_eq!((e.field.as_str(), e.code, e.args.clone()), ("score", Code::Range, vec!["0".into(), "10".into()]));
        assert_eq!(check_answer(&nps_q, None).unwrap_err().code, Code::Required);
        assert_eq!(check_answer(&nps_q, Some(&Answer::Text("10".into()))).unwrap_err().code, Code::Choose);
        let multi = q("what", QuestionKind::Multiple { choices: vec!["味".into(), "接客".into(), "価格".into()] });
        let picked = Answer::Choices(vec![" 味".into(), "価格".into(), "味".into()]);
        assert_eq!(
            check_answer(&multi, Some(&picked)).unwrap(),
            Some(Answer::Choices(vec!["味".into(), "価格".into()]))
        );
        assert!(check_answer(&multi, Some(&Answer::Choices(vec!["量".into()]))).is_err());
        let mut free = q("note", QuestionKind::Text);
        free.required = false;
        assert_eq!(check_answer(&free, Some(&Answer::Text("  ".into()))).unwrap(), None, "blank is not answered");
    }

    #[test]
    fn a_follow_up_is_asked_only_after_its_answer() {
        let mut follow = q("why", QuestionKind::Text);
        follow.show_if = Some(ShowIf { question: "score".into(), at_least: None, at_most: Some(6) });
        let mut answers = BTreeMap::new();
        assert!(!shown(&follow, &answers), "not before the score");
        answers.insert("score".to_string(), Answer::Score(5));
        assert!(shown(&follow, &answers), "a detractor is asked why");
        answers.insert("score".to_string(), Answer::Score(9));
        assert!(!shown(&follow, &answers));
    }
}
