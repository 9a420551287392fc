//! The words of a customer search and how each backend's index is asked for them.
//!
//! The search text is every name, kana, company, email and phone folded and joined by spaces;
//! the index sees it with one more space in front (migration 0041). A word of three or more
//! characters matches anywhere in it; a word of one or two characters matches where a part
//! starts (a space and the word), so 「田中」 finds 田中 太郎 without reading every customer
//! whose text holds 中 somewhere. SQLite asks its trigram index (FTS5, no positions) for the
//! word's trigrams and checks the candidates exactly with `instr`; PostgreSQL's `LIKE` uses
//! the pg_trgm index and is exact itself.

/// One word as the store looks for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Word {
    /// The text to find in `' ' || search_text`: the word, or a space and the word when short.
    pub needle: String,
}

/// Words shorter than this match where a part of the search text starts.
const ANYWHERE_FROM: usize = 3;

/// At most this many of a long word's trigrams are asked of the index (spread over the word,
/// its last always among them); the exact check does the rest.
const MAX_TRIGRAMS: usize = 5;

/// The words of a query already folded for search (`fold_for_search`): split at whitespace; a
/// word of digits and phone punctuation (`-`, `(`, `)`, `+`) is its digits and pluses.
pub(super) fn words(folded: &str) -> Vec<Word> {
    folded
        .split_whitespace()
        .map(|w| {
            let digits: String = w.chars().filter(|c| !matches!(c, '-' | '(' | ')')).collect();
            let word = if !digits.is_empty() && digits.chars().all(|c| c.is_ascii_digit() || c == '+') {
                digits
            } else {
                w.into()
            };
            let needle = if word.chars().count() < ANYWHERE_FROM { format!(" {word}") } else { word };
            Word { needle }
        })
        .collect()
}

/// The FTS5 query (trigrams ANDed, each quoted) that every customer matching all `words` also
/// matches, or None when no word is long enough to ask the index (a lone one-character word).
pub(super) fn fts_query(words: &[Word]) -> Option<String> {
    let mut grams: Vec<String> = Vec::new();
    for w in words {
        let chars: Vec<char> = w.needle.chars().collect();
        if chars.len() < 3 {
            continue;
        }
        let last = chars.len() - 3;
        let mut starts: Vec<usize> = (0..=last).step_by(3).take(MAX_TRIGRAMS - 1).collect();
        if starts.last() != Some(&last) {
            starts.push(last);
        }
        for s in starts {
            let gram: String = chars[s..s + 3].iter().collect();
            let quoted = format!("\"{}\"", gram.replace('"', "\"\""));
            if !grams.contains(&quoted) {
                grams.push(quoted);
            }
        }
    }
    (!grams.is_empty()).then(|| grams.join(" AND "))
}

/// The `LIKE` pattern of a word (PostgreSQL; `\` escapes).
pub(super) fn like_pattern(w: &Word) -> String {
    let mut p = String::with_capacity(w.needle.len() + 2);
    p.push('%');
    for c in w.needle.chars() {
        if matches!(c, '\\' | '%' | '_') {
            p.push('\\');
        }
        p.push(c);
    }
    p.push('%');
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needles(q: &str) -> Vec<String> {
        words(q).into_iter().map(|w| w.needle).collect()
    }

    #[test]
    fn short_words_match_where_a_part_starts() {
        assert_eq!(needles("田中 タナカ 田"), [" 田中", "タナカ", " 田"]);
        assert_eq!(needles("090-1234-5678 (03)1234"), ["09012345678", "031234"]);
        assert_eq!(needles("+81-90"), ["+8190"]);
        assert_eq!(needles("a-b"), ["a-b"], "not digits: kept as typed");
    }

    #[test]
    fn fts_query_spreads_trigrams_over_long_words() {
        assert_eq!(fts_query(&words("田中")).as_deref(), Some("\" 田中\""));
        assert_eq!(fts_query(&words("タナカ")).as_deref(), Some("\"タナカ\""));
        assert_eq!(fts_query(&words("abcd")).as_deref(), Some("\"abc\" AND \"bcd\""));
        // 09012345678: trigrams at 0, 3, 6 and the last (8); at most five per word.
        assert_eq!(fts_query(&words("09012345678")).as_deref(), Some("\"090\" AND \"123\" AND \"456\" AND \"678\""));
        let long = fts_query(&words("abcdefghijklmnopqrstu")).unwrap();
        assert_eq!(long, "\"abc\" AND \"def\" AND \"ghi\" AND \"jkl\" AND \"stu\"");
        assert_eq!(fts_query(&words("a\"bc")).as_deref(), Some("\"a\"\"b\" AND \"\"\"bc\""), "quotes doubled");
        assert_eq!(fts_query(&words("田")), None, "a space and one character is no trigram");
        assert_eq!(fts_query(&words("田 タナカ")).as_deref(), Some("\"タナカ\""));
        assert_eq!(fts_query(&words("aaaa")).as_deref(), Some("\"aaa\""), "a trigram asked once");
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_pattern(&words("田中")[0]), "% 田中%");
        assert_eq!(like_pattern(&words("100%_x\\")[0]), "%100\\%\\_x\\\\%");
    }
}
