//! The customer timeline's entries worded for the reader: an order's channel and status, its
//! items and the points paid with, a rank change's cause, 回数券 visits and membership events
//! in the reader's language instead of the stored codes and Japanese.

use joren_app::customers::{Facts, TimelineEntry};

use crate::i18n::Tr;

pub(crate) const WORDS: &[(&str, &str, &str)] = &[
    ("tl.more_items", "{0} ほか{1}点", "{0} and {1} more"),
    ("tl.points_used", "{0} pt 利用", "{0} pt used"),
    ("tl.ticket_visits", "{0} ({1}回)", "{0} ({1} visits)"),
    ("tl.ticket_use", "{0} {1}/{2}回目", "{0}: visit {1} of {2}"),
    ("tl.member.start", "{0} 加入", "{0}: joined"),
    ("tl.member.renew", "{0} 更新", "{0}: renewed"),
    ("tl.member.pause", "{0} 休止", "{0}: paused"),
    ("tl.member.resume", "{0} 再開", "{0}: resumed"),
    ("tl.member.cancel", "{0} 解約", "{0}: cancelled"),
    ("line.kind.sticker", "スタンプ", "Sticker"),
    ("line.kind.image", "画像", "Photo"),
    ("line.kind.video", "動画", "Video"),
    ("line.kind.audio", "音声メッセージ", "Voice message"),
    ("line.kind.file", "ファイル", "File"),
    ("line.kind.location", "位置情報", "Location"),
    ("line.kind.postback", "ボタンで回答", "Answered with a button"),
];

fn fill(t: Tr, key: &str, args: &[&str]) -> String {
    args.iter().enumerate().fold(t.t(key).to_string(), |s, (i, a)| s.replace(&format!("{{{i}}}"), a))
}

/// The entry's title and detail in the reader's language.
pub(super) fn worded(t: Tr, e: &TimelineEntry) -> (String, String) {
    let word = |prefix: &str, code: &str| t.maybe(&format!("{prefix}.{code}")).unwrap_or(code).to_string();
    match &e.facts {
        // A LINE message's subject is its kind (a sticker, a photo; empty for text).
        Facts::None if e.kind == "interaction:line" && !e.title.is_empty() => {
            (word("line.kind", &e.title), e.detail.clone())
        }
        Facts::None => (e.title.clone(), e.detail.clone()),
        Facts::Order { channel, status, first_item, more_items, note, points_used } => {
            let title = format!("{} · {}", word("channel", channel), word("order.status", status));
            let items = match first_item {
                Some(f) if *more_items > 0 => fill(t, "tl.more_items", &[f, &more_items.to_string()]),
                Some(f) => f.clone(),
                None => String::new(),
            };
            let used = (*points_used > 0).then(|| fill(t, "tl.points_used", &[&points_used.to_string()]));
            let detail = [Some(items), used, Some(note.clone())]
                .into_iter()
                .flatten()
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
                .join(" · ");
            (title, detail)
        }
        Facts::Rank { from, to, from_level, to_level, cause, reason } => {
            let arrow = match to_level.cmp(from_level) {
                std::cmp::Ordering::Greater => "▲",
                std::cmp::Ordering::Less => "▼",
                std::cmp::Ordering::Equal => "＝",
            };
            let detail = [t.t(super::points::cause_key(cause)), reason.as_str()].join(" ").trim().to_string();
            (format!("{from} → {to} {arrow}"), detail)
        }
        Facts::Ticket { name, visits } => (fill(t, "tl.ticket_visits", &[name, &visits.to_string()]), String::new()),
        Facts::TicketUse { name, n, visits, note } => {
            (fill(t, "tl.ticket_use", &[name, &n.to_string(), &visits.to_string()]), note.clone())
        }
        Facts::Membership { name, event, note } => {
            let key = match event.as_str() {
                "start" | "renew" | "pause" | "resume" => format!("tl.member.{event}"),
                _ => "tl.member.cancel".to_string(),
            };
            (fill(t, &key, &[name]), note.clone())
        }
    }
}
