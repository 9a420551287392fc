//! PostgreSQL's `COPY … FROM STDIN` for the bulk paths (order import): rows streamed in COPY's
//! text format on a connection of its own, about three times faster than multi-row `INSERT`s
//! with bound parameters (which the `Any` driver cannot stream). The `Any` connection cannot
//! start a COPY, so the store keeps a small PostgreSQL pool beside it for this (see
//! [`crate::Store::copy_tx`]).

use sqlx::Postgres;
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};

use crate::bulk::Val;
use crate::{Result, Store, StoreError};

/// Bytes gathered before they are handed to the connection.
const CHUNK: usize = 1 << 20;

/// The lazily connected pool the COPY paths use (two connections: one import writes at a
/// time, and its next batch may begin while the previous one commits).
pub(crate) fn copy_pool(url: &str) -> Result<PgPool> {
    use std::str::FromStr;
    let options = sqlx::postgres::PgConnectOptions::from_str(url)?;
    Ok(PgPoolOptions::new().max_connections(2).connect_lazy_with(options))
}

impl Store {
    /// A transaction on the PostgreSQL connection that can `COPY` (PostgreSQL only).
    pub(crate) async fn copy_tx(&self) -> Result<sqlx::Transaction<'static, Postgres>> {
        let pool = self
            .pg
            .as_ref()
            .ok_or_else(|| StoreError::Conflict(joren_core::Problem::other("COPY needs a PostgreSQL database")))?;
        Ok(pool.begin().await?)
    }
}

/// Streams `rows` (one value per column) into `table` with `COPY table (columns) FROM STDIN`
/// inside the caller's transaction. Returns the number of rows PostgreSQL took.
pub(crate) async fn copy_in(
    conn: &mut PgConnection,
    table: &str,
    columns: &[&str],
    rows: impl IntoIterator<Item = Vec<Val>>,
) -> Result<u64> {
    let statement = format!("COPY {table} ({}) FROM STDIN", columns.join(", "));
    let mut copy = conn.copy_in_raw(&statement).await?;
    let mut buf = Vec::with_capacity(CHUNK + 4096);
    for row in rows {
        debug_assert_eq!(row.len(), columns.len());
        encode_row(&mut buf, &row);
        if buf.len() >= CHUNK {
            copy.send(buf.as_slice()).await?;
            buf.clear();
        }
    }
    if !buf.is_empty() {
        copy.send(buf.as_slice()).await?;
    }
    Ok(copy.finish().await?)
}

/// One row in COPY's text format: values separated by tabs, `\N` for NULL, a newline at the end.
fn encode_row(buf: &mut Vec<u8>, row: &[Val]) {
    for (i, v) in row.iter().enumerate() {
        if i > 0 {
            buf.push(b'\t');
        }
        match v {
            Val::Int(n) => push_int(buf, *n),
            Val::OptInt(Some(n)) => push_int(buf, *n),
            Val::Text(s) | Val::OptText(Some(s)) => push_text(buf, s),
            Val::OptReal(Some(r)) => push_real(buf, *r),
            Val::Bytes(b) => push_bytes(buf, b),
            Val::OptInt(None) | Val::OptText(None) | Val::OptReal(None) => buf.extend_from_slice(b"\\N"),
        }
    }
    buf.push(b'\n');
}

fn push_int(buf: &mut Vec<u8>, n: i64) {
    use std::io::Write;
    let _ = write!(buf, "{n}"); // writing to a Vec cannot fail
}

fn push_real(buf: &mut Vec<u8>, r: f64) {
    if r.is_finite() {
        // Rust prints the shortest text that reads back as the same f64.
        buf.extend_from_slice(r.to_string().as_bytes());
    } else if r.is_nan() {
        buf.extend_from_slice(b"NaN");
    } else if r > 0.0 {
        buf.extend_from_slice(b"Infinity");
    } else {
        buf.extend_from_slice(b"-Infinity");
    }
}

/// `bytea` in its hex form (`\x0aff…`), the backslash doubled for COPY.
fn push_bytes(buf: &mut Vec<u8>, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    buf.extend_from_slice(b"\\\\x");
    for b in bytes {
        buf.push(HEX[(b >> 4) as usize]);
        buf.push(HEX[(b & 15) as usize]);
    }
}

/// Text with COPY's escapes: a backslash, tab, newline and carriage return would otherwise
/// end the value or the row (or, as `\N`, read as NULL).
fn push_text(buf: &mut Vec<u8>, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'\\' => b"\\\\",
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            _ => continue,
        };
        buf.extend_from_slice(&bytes[start..i]);
        buf.extend_from_slice(escaped);
        start = i + 1;
    }
    buf.extend_from_slice(&bytes[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(row: Vec<Val>) -> String {
        let mut buf = Vec::new();
        encode_row(&mut buf, &row);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn values_are_written_in_copy_text_format() {
        let row = vec![
            Val::Int(-42),
            Val::OptInt(None),
            Val::Text("タブ\tと改行\nと\\N".into()),
            Val::OptText(Some("\r".into())),
            Val::OptText(None),
            Val::OptReal(Some(0.1)),
            Val::OptReal(None),
            Val::Bytes(vec![0, 0xab, 0x10]),
        ];
        assert_eq!(encoded(row), "-42\t\\N\tタブ\\tと改行\\nと\\\\N\t\\r\t\\N\t0.1\t\\N\t\\\\x00ab10\n");
    }

    #[test]
    fn reals_read_back_as_the_same_number() {
        for r in [1.0 / 3.0, 1e-300, 123456789.125, -0.0] {
            let text = encoded(vec![Val::OptReal(Some(r))]);
            assert_eq!(text.trim_end().parse::<f64>().unwrap().to_bits(), r.to_bits(), "{text}");
        }
        assert_eq!(encoded(vec![Val::OptReal(Some(f64::NAN))]), "NaN\n");
    }
}
