//! What a customer wrote in a mail reply, without the mail they answered: mail programs put
//! the earlier mail under an attribution line (「…に書きました:」, "On … wrote:") and quote it
//! with `>`, or under a "-----Original Message-----" rule. Only the new words are kept for the
//! timeline and the inbox.

/// The new part of reply `text` (trimmed). A text that is nothing but a quote is kept whole.
pub fn new_part(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    let lines: Vec<&str> = text.lines().collect();
    let mut end = lines.len();
    for (i, line) in lines.iter().enumerate() {
        let t = line.trim();
        let rule = t.starts_with("-----") && (t.contains("Original Message") || t.contains("元のメッセージ"));
        if t.starts_with('>') || rule {
            end = i;
            break;
        }
    }
    // The attribution line (and blank lines) just above the quote belong to it.
    while end > 0 {
        let t = lines[end - 1].trim();
        // "On … wrote:", 「… <shop@example.jp>:」 (Gmail in Japanese), 「…は書きました:」.
        let attribution = t.ends_with("wrote:")
            || t.ends_with(">:")
            || t.ends_with(">：")
            || t.ends_with("書きました:")
            || t.ends_with("書きました：")
            || t.ends_with("のメッセージ:")
            || t.ends_with("のメッセージ：");
        if t.is_empty() || attribution {
            end -= 1;
        } else {
            break;
        }
    }
    let new = lines[..end].join("\n").trim().to_string();
    if new.is_empty() { text.trim().to_string() } else { new }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_quote_and_its_attribution_are_left_out() {
        let reply = "ありがとうございます。\r\n土曜に伺います。\r\n\r\n2026年12月6日(日) 10:00 Joren のお店 <shop@example.jp>:\r\n> 週末セールのお知らせ\r\n> です\r\n";
        assert_eq!(new_part(reply), "ありがとうございます。\n土曜に伺います。");
        let gmail = "Thanks!\n\nOn Sun, Dec 6, 2026 at 10:00 Shop <shop@example.jp> wrote:\n> Sale\n";
        assert_eq!(new_part(gmail), "Thanks!");
        let outlook = "承知しました\n\n-----Original Message-----\nFrom: shop\n本文";
        assert_eq!(new_part(outlook), "承知しました");
        let jp = "了解です\n山田花子 さんは書きました:\n> 本文";
        assert_eq!(new_part(jp), "了解です");
        assert_eq!(new_part("> only a quote"), "> only a quote", "nothing new: kept whole");
        assert_eq!(new_part("  plain  "), "plain");
    }
}
