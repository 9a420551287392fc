//! SMS text rules: how many segments a text costs (GSM-7 when every character is in the GSM
//! alphabet, else UCS-2 — any Japanese makes it UCS-2), the longest text a step or a staff
//! member may send, the cost of a broadcast in yen, and the replies that stop or restart
//! SMS (停止 / STOP, 再開 / START), as carriers and gateways read them.

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use crate::{Code, FieldError, FieldErrors};

/// A concatenated text's most segments (Japanese carriers join up to 670 UCS-2 characters:
/// 10 segments of 67).
pub const MAX_SEGMENTS: u32 = 10;
/// The most a segment may be priced at (yen), so an estimate can never overflow.
pub const MAX_SEGMENT_YEN: i64 = 1_000;

/// The GSM 03.38 basic alphabet (one septet each).
const GSM_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
/// The extension table (an escape and the character: two septets each).
const GSM_EXTENDED: &str = "\u{c}^{}\\[~]|€";

/// How a text is encoded on the air.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// 160 characters in one segment, 153 in each of several.
    Gsm7,
    /// 70 UTF-16 units in one segment, 67 in each of several.
    Ucs2,
}

/// What a text costs to send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Segments {
    pub encoding: Encoding,
    /// Septets (GSM-7) or UTF-16 units (UCS-2) the text takes.
    pub units: u32,
    pub segments: u32,
    /// Units one more segment would still hold at this count (how much can still be typed
    /// before the next segment).
    pub per_segment: u32,
}

/// The segments of `text` as sent.
pub fn segments(text: &str) -> Segments {
    let mut septets = 0u32;
    let mut gsm = true;
    for c in text.chars() {
        if GSM_BASIC.contains(c) {
            septets += 1;
        } else if GSM_EXTENDED.contains(c) {
            septets += 2;
        } else {
            gsm = false;
            break;
        }
    }
    let (encoding, units, single, multi) = if gsm {
        (Encoding::Gsm7, septets, 160, 153)
    } else {
        (Encoding::Ucs2, text.encode_utf16().count() as u32, 70, 67)
    };
    let segments = match units {
        0 => 0,
        u if u <= single => 1,
        u => u.div_ceil(multi),
    };
    Segments { encoding, units, segments, per_segment: if segments <= 1 { single } else { multi } }
}

/// Checks an SMS text under field `field`: present, and at most [`MAX_SEGMENTS`] segments.
pub fn check(field: &str, text: &str) -> FieldErrors {
    let mut e = FieldErrors::default();
    if text.trim().is_empty() {
        e.push(field, Code::Required);
        return e;
    }
    let s = segments(text);
    if s.segments > MAX_SEGMENTS {
        let most = match s.encoding {
            Encoding::Gsm7 => 153 * MAX_SEGMENTS,
            Encoding::Ucs2 => 67 * MAX_SEGMENTS,
        };
        e.push(field, Code::SmsTooLong).with(most).with(s.segments);
    }
    e
}

/// The cost of sending a text of `segments` segments to `recipients` people at `yen_per_segment`
/// (bounded by [`MAX_SEGMENT_YEN`]; the product fits easily in an i64).
pub fn cost_yen(segments: u32, recipients: u64, yen_per_segment: i64) -> i64 {
    let price = yen_per_segment.clamp(0, MAX_SEGMENT_YEN);
    i64::from(segments).saturating_mul(recipients.min(i64::MAX as u64) as i64).saturating_mul(price)
}

/// What a reply says about SMS consent: `Some(false)` when it asks to stop (停止, ストップ,
/// 配信停止, STOP and the words gateways treat alike), `Some(true)` when it asks to start
/// again (再開, START), `None` for anything else. The whole message must be the word, as typed
/// (full-width, any case, spaces and a final 。 or ! around it).
pub fn consent_reply(text: &str) -> Option<bool> {
    let folded: String =
        text.nfkc().collect::<String>().trim().trim_end_matches(['。', '.', '!', '！']).trim().to_uppercase();
    const STOP: [&str; 11] =
        ["停止", "ストップ", "配信停止", "STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "OPTOUT", "REVOKE"];
    const START: [&str; 5] = ["再開", "配信再開", "START", "UNSTOP", "OPTIN"];
    if STOP.contains(&folded.as_str()) {
        Some(false)
    } else if START.contains(&folded.as_str()) {
        Some(true)
    } else {
        None
    }
}

/// A field error for a customer SMS cannot reach (no mobile number, or they replied STOP).
pub fn no_phone(field: &str) -> FieldError {
    FieldError::new(field, Code::NoSmsPhone)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ascii_is_gsm7_and_japanese_is_ucs2() {
        let s = segments(&"a".repeat(160));
        assert_eq!((s.encoding, s.units, s.segments), (Encoding::Gsm7, 160, 1));
        assert_eq!(segments(&"a".repeat(161)).segments, 2, "161 septets: two segments of 153");
        assert_eq!(segments(&"a".repeat(306)).segments, 2);
        assert_eq!(segments(&"a".repeat(307)).segments, 3);
        // The extension table costs two septets: 80 euro signs fill one segment.
        assert_eq!(segments(&"€".repeat(80)).segments, 1);
        assert_eq!(segments(&"€".repeat(81)).segments, 2);
        let j = segments(&"あ".repeat(70));
        assert_eq!((j.encoding, j.units, j.segments), (Encoding::Ucs2, 70, 1));
        assert_eq!(segments(&"あ".repeat(71)).segments, 2, "71 characters: two segments of 67");
        assert_eq!(segments(&"あ".repeat(134)).segments, 2);
        assert_eq!(segments(&"あ".repeat(135)).segments, 3);
        // One Japanese character turns the whole text into UCS-2.
        assert_eq!(segments(&format!("{}あ", "a".repeat(69))).segments, 1);
        assert_eq!(segments(&format!("{}あ", "a".repeat(70))).segments, 2);
        // An emoji is two UTF-16 units.
        assert_eq!(segments("😀").units, 2);
        assert_eq!(segments("").segments, 0);
    }

    #[test]
    fn too_long_and_empty_texts_are_named() {
        assert!(check("text", &"あ".repeat(670)).is_empty());
        let e = check("text", &"あ".repeat(671));
        assert_eq!((e.0[0].field.as_str(), e.0[0].code), ("text", Code::SmsTooLong));
        assert_eq!(e.0[0].args, ["670", "11"]);
        assert_eq!(check("steps[0].text", "  ").0[0].code, Code::Required);
    }

    #[test]
    fn costs_are_segments_times_people_times_price() {
        assert_eq!(cost_yen(2, 1_000, 8), 16_000);
        assert_eq!(cost_yen(3, 5, 5_000), 3 * 5 * MAX_SEGMENT_YEN, "a price is bounded");
        assert_eq!(cost_yen(1, 10, -3), 0);
    }

    #[test]
    fn stop_and_start_replies_are_read_as_typed() {
        for stop in ["停止", " 停止。", "ＳＴＯＰ", "stop", "Stop!", "配信停止", "ストップ"] {
            assert_eq!(consent_reply(stop), Some(false), "{stop}");
        }
        for start in ["再開", "START", "ｓｔａｒｔ"] {
            assert_eq!(consent_reply(start), Some(true), "{start}");
        }
        for other in ["停止してほしいのは来週です", "ありがとう", "don't stop", ""] {
            assert_eq!(consent_reply(other), None, "{other}");
        }
    }
}
