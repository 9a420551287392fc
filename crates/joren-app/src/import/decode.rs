//! Text encodings of shop CSV files: UTF-8 (with or without BOM) or Shift_JIS/CP932 from Excel,
//! decoded line by line so that a line in the other encoding (a row pasted from another file)
//! or with invalid bytes is found and named instead of silently turned into mojibake; and a
//! watch on the CSV quoting, so a quote left open is reported instead of swallowing the rest of
//! the file into one cell.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::sync::{Arc, Mutex};

use encoding_rs::{Encoding, SHIFT_JIS, UTF_8};
use joren_core::{Code, FieldError};

/// Guesses the encoding from the first bytes of a file: a UTF-8 BOM means UTF-8; otherwise
/// each line with non-ASCII bytes votes — valid UTF-8 for UTF-8, anything else for Shift_JIS
/// (WHATWG's Shift_JIS is Microsoft's CP932, the superset Excel writes, with NEC/IBM
/// extensions such as ①) — and the majority wins (UTF-8 on a tie).
pub fn detect_encoding(head: &[u8]) -> &'static Encoding {
    if head.starts_with(b"\xEF\xBB\xBF") {
        return UTF_8;
    }
    let (mut utf8, mut sjis) = (0usize, 0usize);
    let mut lines = head.split(|b| *b == b'\n').peekable();
    while let Some(line) = lines.next() {
        if line.is_ascii() {
            continue;
        }
        match std::str::from_utf8(line) {
            Ok(_) => utf8 += 1,
            // A multi-byte character cut off at the end of the sample is still UTF-8.
            Err(e) if e.error_len().is_none() && lines.peek().is_none() => utf8 += 1,
            Err(_) => sjis += 1,
        }
    }
    if sjis > utf8 { SHIFT_JIS } else { UTF_8 }
}

/// What the decoder found while reading, shared with the importer (which reads records a
/// little behind the decoder: the CSV reader buffers ahead).
#[derive(Debug, Default)]
pub struct Findings {
    /// Line (1-based, as the CSV reader counts) → why its bytes are not text of the file's
    /// encoding.
    pub bad_lines: BTreeMap<u64, Code>,
    /// Some lines were in the other encoding.
    pub mixed_encoding: bool,
    /// The line where a quoted cell opened and never closed (it runs to the end of the file).
    pub unclosed_quote: Option<u64>,
}

impl Findings {
    /// Why the record on lines `first..=last` cannot be trusted, if it cannot.
    pub fn problem(&self, first: u64, last: u64) -> Option<FieldError> {
        if let Some(open) = self.unclosed_quote
            && (first..=last).contains(&open)
        {
            return Some(FieldError::new("", Code::UnclosedQuote).arg(open));
        }
        self.bad_lines.range(first..=last).next().map(|(line, why)| FieldError::new("", *why).arg(line))
    }
}

pub type SharedFindings = Arc<Mutex<Findings>>;

/// Wraps a reader so it yields UTF-8 text with `\n` line ends: a BOM stripped, each line
/// decoded from `encoding` — or, when it is not text of that encoding, from the other one, and
/// noted in `findings` —, and Excel's `\r\n` (and a lone `\r`) turned into `\n`, so the CSV
/// reader's line numbers are the ones a user sees in an editor.
pub fn utf8_reader<R: Read>(inner: R, encoding: &'static Encoding, findings: SharedFindings) -> impl Read {
    LineDecoder {
        inner: BufReader::with_capacity(64 * 1024, inner),
        encoding,
        findings,
        raw: Vec::new(),
        out: Vec::new(),
        pos: 0,
        line: 1,
        first: true,
        after_cr: false,
        quotes: QuoteWatch::default(),
        done: false,
    }
}

struct LineDecoder<R> {
    inner: BufReader<R>,
    encoding: &'static Encoding,
    findings: SharedFindings,
    raw: Vec<u8>,
    out: Vec<u8>,
    pos: usize,
    /// Line number of the next output byte.
    line: u64,
    first: bool,
    after_cr: bool,
    quotes: QuoteWatch,
    done: bool,
}

impl<R: Read> LineDecoder<R> {
    /// Decodes the next raw line into `out`; false at the end of input.
    fn fill(&mut self) -> std::io::Result<bool> {
        self.raw.clear();
        self.out.clear();
        self.pos = 0;
        if self.inner.read_until(b'\n', &mut self.raw)? == 0 {
            return Ok(false);
        }
        let raw = std::mem::take(&mut self.raw);
        let mut bytes = &raw[..];
        if std::mem::take(&mut self.first) {
            bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
        }
        let start_line = self.line;
        let (text, problem) = decode_line(bytes, self.encoding);
        for &b in text.as_bytes() {
            match b {
                b'\r' => {
                    self.push(b'\n');
                    self.after_cr = true;
                }
                b'\n' if self.after_cr => self.after_cr = false,
                _ => {
                    self.push(b);
                    self.after_cr = false;
                }
            }
        }
        if let Some((why, mixed)) = problem {
            let end_line = if self.out.last() == Some(&b'\n') { self.line - 1 } else { self.line };
            let mut f = self.findings.lock().expect("findings lock");
            f.mixed_encoding |= mixed;
            for l in start_line..=end_line.max(start_line) {
                f.bad_lines.entry(l).or_insert(why);
            }
        }
        self.raw = raw;
        Ok(true)
    }

    fn push(&mut self, b: u8) {
        self.quotes.feed(b, self.line);
        if b == b'\n' {
            self.line += 1;
        }
        self.out.push(b);
    }
}

/// A line as text, and why it is not text of the file's encoding (with whether it is the
/// other encoding).
fn decode_line<'a>(bytes: &'a [u8], encoding: &'static Encoding) -> (std::borrow::Cow<'a, str>, Option<(Code, bool)>) {
    if let Ok(s) = std::str::from_utf8(bytes) {
        let problem = (encoding != UTF_8 && !bytes.is_ascii()).then_some((Code::Utf8InShiftJis, true));
        return (s.into(), problem);
    }
    let (sjis, had_errors) = SHIFT_JIS.decode_without_bom_handling(bytes);
    match (encoding == UTF_8, had_errors) {
        (true, false) => (sjis, Some((Code::ShiftJisInUtf8, true))),
        (false, false) => (sjis, None),
        (_, true) => {
            let text = if encoding == UTF_8 { String::from_utf8_lossy(bytes) } else { sjis };
            (text, Some((Code::Undecodable, false)))
        }
    }
}

impl<R: Read> Read for LineDecoder<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.pos >= self.out.len() {
            if self.done || !self.fill()? {
                if !std::mem::replace(&mut self.done, true)
                    && let Some(open) = self.quotes.open_at()
                {
                    self.findings.lock().expect("findings lock").unclosed_quote = Some(open);
                }
                return Ok(0);
            }
        }
        let n = buf.len().min(self.out.len() - self.pos);
        buf[..n].copy_from_slice(&self.out[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

/// Follows RFC 4180 quoting as the CSV reader does: a quote at the start of a cell opens a
/// quoted cell, `""` inside it is a quote, a lone quote closes it.
#[derive(Default)]
struct QuoteWatch {
    /// Inside a quoted cell opened on this line.
    open: Option<u64>,
    /// Just saw a quote inside a quoted cell (it closes the cell unless another follows).
    pending_close: bool,
    /// The next byte starts a cell.
    mid_cell: bool,
}

impl QuoteWatch {
    fn feed(&mut self, b: u8, line: u64) {
        if self.open.is_some() {
            if self.pending_close {
                self.pending_close = false;
                if b == b'"' {
                    return; // an escaped quote
                }
                self.open = None; // closed; this byte follows the cell
            } else {
                if b == b'"' {
                    self.pending_close = true;
                }
                return;
            }
        }
        match b {
            b',' | b'\n' => self.mid_cell = false,
            b'"' if !self.mid_cell => {
                self.open = Some(line);
                self.mid_cell = true;
            }
            _ => self.mid_cell = true,
        }
    }

    fn open_at(&self) -> Option<u64> {
        self.open.filter(|_| !self.pending_close)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> (String, Findings) {
        let findings = SharedFindings::default();
        let mut s = String::new();
        utf8_reader(bytes, detect_encoding(bytes), findings.clone()).read_to_string(&mut s).unwrap();
        let f = std::mem::take(&mut *findings.lock().unwrap());
        (s, f)
    }

    #[test]
    fn detects_utf8_bom_and_shift_jis() {
        assert_eq!(detect_encoding("姓,名\n".as_bytes()), UTF_8);
        assert_eq!(detect_encoding(b"\xEF\xBB\xBFa,b"), UTF_8);
        let (sjis, _, _) = SHIFT_JIS.encode("姓,名\n山田,太郎\n");
        assert_eq!(detect_encoding(&sjis), SHIFT_JIS);
        let (s, f) = decode(&sjis);
        assert_eq!(s, "姓,名\n山田,太郎\n");
        assert!(f.bad_lines.is_empty() && !f.mixed_encoding);
    }

    #[test]
    fn a_line_in_the_other_encoding_is_named_and_still_readable() {
        let (sjis_row, _, _) = SHIFT_JIS.encode("佐藤,花子\n");
        let mut file = "姓,名\n山田,太郎\n".as_bytes().to_vec();
        file.extend_from_slice(&sjis_row);
        file.extend_from_slice("鈴木,一郎\n".as_bytes());
        let (s, f) = decode(&file);
        assert_eq!(s, "姓,名\n山田,太郎\n佐藤,花子\n鈴木,一郎\n", "the odd row is shown readable in the rejects");
        assert_eq!(f.bad_lines.keys().copied().collect::<Vec<_>>(), [3]);
        assert!(f.mixed_encoding);
        // A UTF-8 row in a Shift_JIS file.
        let (mut file, _, _) = SHIFT_JIS.encode("姓,名\n山田,太郎\n佐藤,花子\n");
        let mut file = file.to_mut().clone();
        file.extend_from_slice("鈴木,一郎\n".as_bytes());
        let (s, f) = decode(&file);
        assert!(s.ends_with("鈴木,一郎\n"));
        assert_eq!(f.bad_lines.keys().copied().collect::<Vec<_>>(), [4]);
    }

    #[test]
    fn line_ends_are_normalised_and_counted() {
        let (s, f) = decode(b"a,b\r\nc,d\re\n\r\n");
        assert_eq!(s, "a,b\nc,d\ne\n\n");
        assert!(f.unclosed_quote.is_none());
    }

    #[test]
    fn an_unclosed_quote_is_found_with_its_line() {
        let (_, f) = decode(b"a,b\n1,\"ok \"\"x\"\" \nstill\"\n2,\"open\n3,x\n4,y\n");
        assert_eq!(f.unclosed_quote, Some(4));
        let (_, f) = decode(b"a,b\n1,\"closed\"\n2,5\" inch\n");
        assert_eq!(f.unclosed_quote, None, "a quote inside an unquoted cell is a character");
        assert_eq!(f.problem(4, 6), None);
    }

    #[test]
    fn truncated_utf8_sample_is_still_utf8() {
        let text = "山田".as_bytes();
        assert_eq!(detect_encoding(&text[..4]), UTF_8);
    }
}
