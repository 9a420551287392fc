//! Text encodings of shop CSV files: UTF-8 (with or without BOM) or Shift_JIS/CP932 from Excel.

use std::io::Read;

use encoding_rs::{Encoding, SHIFT_JIS, UTF_8};
use encoding_rs_io::DecodeReaderBytesBuilder;

/// Guesses the encoding from the first bytes of a file: a UTF-8 BOM or valid UTF-8 means
/// UTF-8; anything else is read as Shift_JIS (WHATWG's Shift_JIS is Microsoft's CP932, the
/// superset Excel writes, with NEC/IBM extensions such as ①).
pub fn detect_encoding(head: &[u8]) -> &'static Encoding {
    if head.starts_with(b"\xEF\xBB\xBF") {
        return UTF_8;
    }
    match std::str::from_utf8(head) {
        Ok(_) => UTF_8,
        // A multi-byte character cut off at the end of the sample is still UTF-8.
        Err(e) if e.error_len().is_none() => UTF_8,
        Err(_) => SHIFT_JIS,
    }
}

/// Wraps a reader so it yields UTF-8 text with `\n` line ends, stripping a BOM and
/// transcoding from `encoding`. Invalid byte sequences become U+FFFD (and are then caught by
/// field validation). Excel's `\r\n` (and a lone `\r`) become `\n`, so the CSV reader's line
/// numbers are the ones a user sees in an editor.
pub fn utf8_reader<R: Read>(inner: R, encoding: &'static Encoding) -> impl Read {
    let decoded = DecodeReaderBytesBuilder::new().encoding(Some(encoding)).bom_override(true).build(inner);
    LineEnds { inner: decoded, after_cr: false }
}

/// Turns `\r\n` and `\r` into `\n` while streaming.
struct LineEnds<R> {
    inner: R,
    after_cr: bool,
}

impl<R: Read> Read for LineEnds<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        loop {
            let n = self.inner.read(buf)?;
            if n == 0 {
                return Ok(0);
            }
            let mut out = 0;
            for i in 0..n {
                let b = buf[i];
                match b {
                    b'\r' => {
                        buf[out] = b'\n';
                        out += 1;
                        self.after_cr = true;
                    }
                    b'\n' if self.after_cr => self.after_cr = false,
                    _ => {
                        buf[out] = b;
                        out += 1;
                        self.after_cr = false;
                    }
                }
            }
            if out > 0 {
                return Ok(out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detects_utf8_bom_and_shift_jis() {
        assert_eq!(detect_encoding("姓,名\n".as_bytes()), UTF_8);
        assert_eq!(detect_encoding(b"\xEF\xBB\xBFa,b"), UTF_8);
        let (sjis, _, _) = SHIFT_JIS.encode("姓,名\n山田,太郎\n");
        assert_eq!(detect_encoding(&sjis), SHIFT_JIS);
        let mut s = String::new();
        utf8_reader(&sjis[..], SHIFT_JIS).read_to_string(&mut s).unwrap();
        assert_eq!(s, "姓,名\n山田,太郎\n");
    }

    #[test]
    fn line_ends_are_normalised_across_reads() {
        let mut s = String::new();
        utf8_reader(&b"a,b\r\nc,d\re\n\r\n"[..], UTF_8).read_to_string(&mut s).unwrap();
        assert_eq!(s, "a,b\nc,d\ne\n\n");
        // One byte at a time: a \r\n split across reads is still one line end.
        let mut r = utf8_reader(&b"x\r\ny"[..], UTF_8);
        let mut out = Vec::new();
        let mut byte = [0u8; 1];
        while r.read(&mut byte).unwrap() == 1 {
            out.push(byte[0]);
        }
        assert_eq!(out, b"x\ny");
    }

    #[test]
    fn truncated_utf8_sample_is_still_utf8() {
        let text = "山田".as_bytes();
        assert_eq!(detect_encoding(&text[..4]), UTF_8);
    }
}
