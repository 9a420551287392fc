//! LINE Messaging API message objects, built from what a scenario step or a staff member
//! wrote: a text, optionally a card (an image with a title and one button) and quick-reply
//! buttons (one tap answers with the button's words). The bounds are LINE's own, checked
//! before anything is queued so a push is never refused for its shape.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::{Code, FieldError, FieldErrors};

/// A text message's longest text (LINE: 5,000 characters).
pub const MAX_TEXT: usize = 5000;
/// Quick-reply buttons on one message (LINE: 13).
pub const MAX_QUICK_REPLIES: usize = 13;
/// A quick-reply or card button's label (LINE: 20 characters).
pub const MAX_LABEL: usize = 20;
/// A card's title (a buttons template's text with an image: 60 characters).
pub const MAX_CARD_TITLE: usize = 60;
/// A card's addresses (LINE: 2,000 characters for an image, 1,000 for a link).
const MAX_URL: usize = 1000;

/// A card: an image, a line of text under it and one button that opens a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Card {
    pub image_url: String,
    pub title: String,
    pub button_label: String,
    pub button_url: String,
}

/// Checks a message's text, card and quick replies, naming fields under `prefix`
/// (`steps[2].` → `steps[2].card.image_url`).
pub fn check(prefix: &str, text: &str, card: Option<&Card>, quick_replies: &[String]) -> FieldErrors {
    let mut e = FieldErrors::default();
    let f = |name: &str| format!("{prefix}{name}");
    if text.trim().is_empty() {
        e.push(&f("text"), Code::Required);
    }
    e.take(crate::text::check_text(&f("text"), text, MAX_TEXT));
    if let Some(c) = card {
        if !c.image_url.trim().starts_with("https://") || c.image_url.len() > MAX_URL {
            e.push(&f("card.image_url"), Code::BadUrl).with(c.image_url.trim());
        }
        let url = c.button_url.trim();
        if !(url.starts_with("https://") || url.starts_with("http://")) || url.len() > MAX_URL {
            e.push(&f("card.button_url"), Code::BadUrl).with(url);
        }
        if c.title.trim().is_empty() {
            e.push(&f("card.title"), Code::Required);
        }
        e.take(crate::text::check_text(&f("card.title"), &c.title, MAX_CARD_TITLE));
        if c.button_label.trim().is_empty() {
            e.push(&f("card.button_label"), Code::Required);
        }
        e.take(crate::text::check_text(&f("card.button_label"), &c.button_label, MAX_LABEL));
    }
    if quick_replies.len() > MAX_QUICK_REPLIES {
        e.push(&f("quick_replies"), Code::TooMany).with(MAX_QUICK_REPLIES);
    }
    for q in quick_replies {
        if q.trim().is_empty() {
            e.push(&f("quick_replies"), Code::Required);
        }
        e.take(crate::text::check_text(&f("quick_replies"), q, MAX_LABEL));
    }
    e
}

/// Quick-reply buttons as typed in one box: separated by 、 , ， or new lines.
pub fn split_quick_replies(typed: &str) -> Vec<String> {
    typed.split(['、', ',', '，', '\n']).map(|q| q.trim().to_string()).filter(|q| !q.is_empty()).collect()
}

/// The message objects of one push: the text, then the card if any; the quick replies ride
/// on the last one (LINE shows them under the newest message).
pub fn messages(text: &str, card: Option<&Card>, quick_replies: &[String]) -> Value {
    let mut out = vec![json!({"type": "text", "text": text})];
    if let Some(c) = card {
        out.push(json!({
            "type": "template",
            "altText": c.title.trim(),
            "template": {
                "type": "buttons",
                "thumbnailImageUrl": c.image_url.trim(),
                "text": c.title.trim(),
                "actions": [{"type": "uri", "label": c.button_label.trim(), "uri": c.button_url.trim()}],
            },
        }));
    }
    let items: Vec<Value> = quick_replies
        .iter()
        .map(|q| q.trim())
        .filter(|q| !q.is_empty())
        .map(|q| json!({"type": "action", "action": {"type": "message", "label": q, "text": q}}))
        .collect();
    if !items.is_empty()
        && let Some(last) = out.last_mut()
    {
        last["quickReply"] = json!({ "items": items });
    }
    Value::Array(out)
}

/// A survey's invitation on LINE: the text with the link, and the first question's scores as
/// quick-reply buttons (at most 13: LINE's limit) that answer it with a postback
/// (`survey=<token>&<key>=<score>`), shown as the score the customer tapped.
pub fn survey_messages(
    text: &str,
    question: &str,
    token: &str,
    key: &str,
    scores: std::ops::RangeInclusive<i64>,
) -> Value {
    let items: Vec<Value> = scores
        .take(MAX_QUICK_REPLIES)
        .map(|n| {
            json!({"type": "action", "action": {
                "type": "postback", "label": n.to_string(), "displayText": n.to_string(),
                "data": format!("survey={token}&{key}={n}"),
            }})
        })
        .collect();
    json!([
        {"type": "text", "text": text},
        {"type": "text", "text": question, "quickReply": {"items": items}},
    ])
}

/// The survey answer a postback carries: (token, question key, score).
pub fn survey_postback(data: &str) -> Option<(String, String, i64)> {
    let mut token = None;
    let mut answer = None;
    for pair in data.split('&') {
        let (k, v) = pair.split_once('=')?;
        if k == "survey" {
            token = Some(v.to_string());
        } else {
            answer = Some((k.to_string(), v.parse().ok()?));
        }
    }
    let (key, score) = answer?;
    Some((token?, key, score))
}

/// A field error for a customer LINE cannot reach.
pub fn no_user(field: &str) -> FieldError {
    FieldError::new(field, Code::NoLineUser)
}

#[cfg(test)]
mod survey_tests {
    use super::*;

    #[test]
    fn a_survey_goes_with_score_buttons_that_answer_by_postback() {
        let m = survey_messages("ご感想を", "おすすめ度は?", "ab12", "nps", 0..=10);
        let items = m[1]["quickReply"]["items"].as_array().unwrap();
        assert_eq!(items.len(), 11);
        assert_eq!(items[9]["action"]["data"], "survey=ab12&nps=9");
        assert_eq!(items[9]["action"]["displayText"], "9");
        assert_eq!(survey_postback("survey=ab12&nps=9"), Some(("ab12".into(), "nps".into(), 9)));
        assert_eq!(survey_postback("survey=ab12"), None);
        assert_eq!(survey_postback("menu=1"), None);
        assert_eq!(survey_postback("survey=ab12&nps=x"), None);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card() -> Card {
        Card {
            image_url: "https://shop.example.jp/a.jpg".into(),
            title: "春の新作".into(),
            button_label: "見る".into(),
            button_url: "https://shop.example.jp/new".into(),
        }
    }

    #[test]
    fn a_text_with_a_card_and_quick_replies() {
        let m = messages("こんにちは", Some(&card()), &["はい".into(), " いいえ ".into()]);
        assert_eq!(m[0], json!({"type": "text", "text": "こんにちは"}));
        assert_eq!(m[1]["template"]["thumbnailImageUrl"], "https://shop.example.jp/a.jpg");
        assert_eq!(m[1]["template"]["actions"][0]["uri"], "https://shop.example.jp/new");
        assert!(m[0].get("quickReply").is_none(), "quick replies ride on the last message");
        let items = m[1]["quickReply"]["items"].as_array().unwrap();
        assert_eq!(items[1]["action"], json!({"type": "message", "label": "いいえ", "text": "いいえ"}));
    }

    #[test]
    fn line_bounds_are_named_by_field() {
        let mut c = card();
        c.image_url = "http://insecure.example/a.jpg".into();
        c.button_label = "あ".repeat(21);
        let qr: Vec<String> = (0..14).map(|i| i.to_string()).collect();
        let e = check("steps[1].", "", Some(&c), &qr);
        let fields: Vec<(&str, Code)> = e.0.iter().map(|x| (x.field.as_str(), x.code)).collect();
        assert!(fields.contains(&("steps[1].text", Code::Required)));
        assert!(fields.contains(&("steps[1].card.image_url", Code::BadUrl)));
        assert!(fields.contains(&("steps[1].card.button_label", Code::TooLong)));
        assert!(fields.contains(&("steps[1].quick_replies", Code::TooMany)));
        assert!(check("", "ok", Some(&card()), &["はい".into()]).is_empty());
        assert_eq!(split_quick_replies("はい、いいえ, また今度\n"), ["はい", "いいえ", "また今度"]);
    }
}
