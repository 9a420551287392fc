//! Reading millions of rows of numbers in blocks. Through the `Any` driver each row costs a
//! few microseconds on SQLite (the row is copied twice and crosses a channel): ten million
//! orders took 34 s to read where SQLite scans them in 1.2 s. On SQLite the rows of a range of
//! ids come instead as one text (`group_concat`), parsed here, all blocks in one transaction
//! (one consistent picture of the table); on PostgreSQL as the text of one `COPY (…) TO
//! STDOUT` on the native connection.

use sqlx::AnyConnection;
use sqlx::Row;

use crate::{Result, Store, StoreError};

fn unreadable(what: String) -> StoreError {
    StoreError::Db(sqlx::Error::Protocol(what))
}

/// Ids per block by default: about 6 MB of text for the order log, 16 MB for its lines.
pub(crate) const BLOCK: i64 = 200_000;

impl Store {
    /// Sets the ids per block of [`Store::for_each_int_row`] and the other block reads (tests
    /// cross block boundaries with a few rows).
    pub fn set_read_block(&self, ids: i64) {
        self.read_block.store(ids.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    pub(crate) fn read_block(&self) -> i64 {
        self.read_block.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Calls `row` with the values of `columns` (integer SQL expressions, never NULL) of every
    /// row of `table` matching `filter`, in no particular order; `id` is the table's integer
    /// key. Returns the number of rows.
    pub(crate) async fn for_each_int_row<const N: usize>(
        &self,
        table: &str,
        id: &str,
        filter: &str,
        columns: [&str; N],
        mut row: impl FnMut([i64; N]),
    ) -> Result<u64> {
        match self.backend() {
            crate::Backend::Postgres => {
                // One statement: one consistent picture. COPY's text out of the native
                // connection instead of rows through the `Any` driver.
                let mut copy = self.copy_tx().await?;
                let sql = format!("COPY (SELECT {} FROM {table} WHERE {filter}) TO STDOUT", columns.join(", "));
                let n = copy_out_ints(&mut copy, &sql, &mut row).await?;
                copy.rollback().await?;
                Ok(n)
            }
            crate::Backend::Sqlite => {
                let joined = columns.map(|c| format!("({c})")).join(" || ',' || ");
                let record = format!("{joined} || ';'");
                let bounds = format!("SELECT MIN({id}) AS a, MAX({id}) AS b FROM {table}");
                let block = self.read_block();
                let mut tx = self.pool.begin().await?;
                let n = for_each_block(&mut tx, block, &bounds, table, id, filter, &record, |text| {
                    parse_block(text, &mut row)
                })
                .await?;
                tx.rollback().await?;
                Ok(n)
            }
        }
    }
}

/// SQLite: reads the rows of `from` matching `filter` as blocks of text, `block` ids each:
/// each row's `record` (an SQL text expression that delimits itself) concatenated, over ranges
/// of `id` between the bounds `bounds` gives (a query of the smallest and largest id as `a`
/// and `b`). `parse` returns the rows it read from a block, checked against the rows SQLite
/// counted. Returns the number of rows.
#[allow(clippy::too_many_arguments)]
pub(crate) async fn for_each_block(
    conn: &mut AnyConnection,
    block: i64,
    bounds: &str,
    from: &str,
    id: &str,
    filter: &str,
    record: &str,
    mut parse: impl FnMut(&str) -> Result<u64>,
) -> Result<u64> {
    let r = sqlx::query(sqlx::AssertSqlSafe(bounds)).fetch_one(&mut *conn).await?;
    let (first, last): (Option<i64>, Option<i64>) = (r.try_get("a")?, r.try_get("b")?);
    let sql = format!(
        "SELECT COUNT(*) AS n, group_concat({record}, '') AS block FROM {from} \
         WHERE {id} > $1 AND {id} <= $2 AND {filter}"
    );
    let mut n = 0u64;
    // Blocks (from, to]: the first starts just below the smallest id.
    let (mut start, last) = (first.unwrap_or(0).saturating_sub(1), last.unwrap_or(0));
    while start < last {
        let end = start.saturating_add(block);
        let r = sqlx::query(sqlx::AssertSqlSafe(sql.as_str())).bind(start).bind(end).fetch_one(&mut *conn).await?;
        let count: i64 = r.try_get("n")?;
        let block: Option<String> = r.try_get("block")?;
        let parsed = parse(block.as_deref().unwrap_or(""))?;
        if parsed != count as u64 {
            return Err(unreadable(format!("{from}: {count} rows in a block, {parsed} read")));
        }
        n += parsed;
        start = end;
    }
    Ok(n)
}

/// An SQL text expression of `text` that says where it ends: its length in bytes, ',', itself.
pub(crate) fn counted(text: &str) -> String {
    format!("length(CAST({text} AS BLOB)) || ',' || {text}")
}

/// Reads a number ending in ',' from the front of `text`.
pub(crate) fn take_int(text: &mut &str) -> Result<i64> {
    let comma = text.find(',').ok_or_else(|| unreadable("a number without its ','".into()))?;
    let v = text[..comma].parse().map_err(|_| unreadable(format!("not a number: {:?}", &text[..comma])))?;
    *text = &text[comma + 1..];
    Ok(v)
}

/// Reads a text written by [`counted`] from the front of `text`.
pub(crate) fn take_counted<'a>(text: &mut &'a str) -> Result<&'a str> {
    let len = usize::try_from(take_int(text)?).map_err(|_| unreadable("a negative length".into()))?;
    let value = text.get(..len).ok_or_else(|| unreadable("a text cut short".into()))?;
    *text = &text[len..];
    Ok(value)
}

/// PostgreSQL: the rows of a `COPY (…) TO STDOUT` of integer columns (tab-separated lines).
async fn copy_out_ints<const N: usize>(
    conn: &mut sqlx::PgConnection,
    sql: &str,
    row: &mut impl FnMut([i64; N]),
) -> Result<u64> {
    copy_out(conn, sql, |line| {
        let values = ints(line, '\t').ok_or_else(|| unreadable(format!("unreadable COPY row {line:?}")))?;
        row(values);
        Ok(())
    })
    .await
}

/// PostgreSQL: calls `line` with each line (without its newline) of a `COPY (…) TO STDOUT` in
/// text format: fields separated by tabs, escaped as [`copy_field`] reads them. Returns the
/// number of lines.
pub(crate) async fn copy_out(
    conn: &mut sqlx::PgConnection,
    sql: &str,
    mut line: impl FnMut(&str) -> Result<()>,
) -> Result<u64> {
    use futures_util::TryStreamExt;
    let mut stream = conn.copy_out_raw(sql).await?;
    let (mut pending, mut n) = (Vec::<u8>::new(), 0u64);
    while let Some(chunk) = stream.try_next().await? {
        pending.extend_from_slice(&chunk);
        let Some(end) = pending.iter().rposition(|&b| b == b'\n') else { continue };
        n += each_line(&pending[..end], &mut line)?;
        pending.drain(..=end);
    }
    if !pending.is_empty() {
        return Err(unreadable("COPY ended inside a row".into()));
    }
    Ok(n)
}

/// The lines of whole lines of COPY text (the last newline cut off).
fn each_line(bytes: &[u8], line: &mut impl FnMut(&str) -> Result<()>) -> Result<u64> {
    let text = std::str::from_utf8(bytes).map_err(|_| unreadable("COPY sent text that is not UTF-8".into()))?;
    let mut n = 0;
    for l in text.split('\n') {
        line(l)?;
        n += 1;
    }
    Ok(n)
}

/// A text field of COPY's text format as it was stored: `\\`, `\t`, `\n`, `\r`, `\b`, `\f`
/// and `\v` are what `COPY TO` writes for a backslash and those control characters.
pub(crate) fn copy_field(field: &str) -> Result<std::borrow::Cow<'_, str>> {
    if !field.contains('\\') {
        return Ok(field.into());
    }
    let mut out = String::with_capacity(field.len());
    let mut chars = field.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next() {
            Some('\\') => '\\',
            Some('t') => '\t',
            Some('n') => '\n',
            Some('r') => '\r',
            Some('b') => '\u{8}',
            Some('f') => '\u{c}',
            Some('v') => '\u{b}',
            other => return Err(unreadable(format!("unexpected COPY escape {other:?} in {field:?}"))),
        });
    }
    Ok(out.into())
}

/// Rows `a,b,c;a,b,c;…` of integers.
fn parse_block<const N: usize>(text: &str, row: &mut impl FnMut([i64; N])) -> Result<u64> {
    let bad = || unreadable(format!("unreadable block of rows near {:?}", text.chars().take(40).collect::<String>()));
    let mut n = 0;
    for line in text.split(';').filter(|l| !l.is_empty()) {
        row(ints(line, ',').ok_or_else(bad)?);
        n += 1;
    }
    Ok(n)
}

/// Exactly N integers separated by `separator`, or None.
fn ints<const N: usize>(line: &str, separator: char) -> Option<[i64; N]> {
    let mut values = [0i64; N];
    let mut fields = line.split(separator);
    for v in values.iter_mut() {
        *v = fields.next()?.parse().ok()?;
    }
    fields.next().is_none().then_some(values)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integer_fields_are_exactly_n_numbers() {
        assert_eq!(ints::<3>("1\t-2\t3", '\t'), Some([1, -2, 3]));
        assert_eq!(ints::<3>("1\t\\N\t3", '\t'), None, "COPY's NULL is not a number");
        assert_eq!(ints::<3>("1,2", ','), None);
        assert_eq!(ints::<2>("1,2,3", ','), None);
    }

    #[test]
    fn copy_lines_and_fields_read_back_as_written() {
        let mut lines = Vec::new();
        let n = each_line(b"1\t-2\t3\n4\t5\t6", &mut |l| {
            lines.push(l.to_string());
            Ok(())
        })
        .unwrap();
        assert_eq!((n, lines.as_slice()), (2, ["1\t-2\t3".to_string(), "4\t5\t6".to_string()].as_slice()));
        assert_eq!(copy_field("珈琲豆").unwrap(), "珈琲豆");
        assert_eq!(copy_field(r"a\\b\tc\nd\re").unwrap(), "a\\b\tc\nd\re");
        assert!(copy_field(r"\N").is_err(), "NULL is not a text");
        assert!(copy_field("a\\").is_err(), "a lone backslash at the end");
    }

    #[test]
    fn counted_texts_read_back_whatever_they_hold() {
        let mut text = "12,5,a,b;c3,,,x";
        assert_eq!(take_int(&mut text).unwrap(), 12);
        assert_eq!(take_counted(&mut text).unwrap(), "a,b;c");
        assert_eq!(take_counted(&mut text).unwrap(), ",,x");
        assert_eq!(text, "");
        let mut short = "9,abc";
        assert!(take_counted(&mut short).is_err());
        let mut no_comma = "12";
        assert!(take_int(&mut no_comma).is_err());
        // A length that ends inside a multi-byte character is refused, not a panic.
        let mut split = "1,山";
        assert!(take_counted(&mut split).is_err());
    }

    #[test]
    fn blocks_parse_back_to_their_rows_and_damage_is_refused() {
        let mut rows = Vec::new();
        assert_eq!(parse_block("1,-2,3;4,5,6", &mut |r: [i64; 3]| rows.push(r)).unwrap(), 2);
        assert_eq!(rows, [[1, -2, 3], [4, 5, 6]]);
        assert_eq!(parse_block("", &mut |_: [i64; 3]| ()).unwrap(), 0);
        assert!(parse_block("1,2", &mut |_: [i64; 3]| ()).is_err());
        assert!(parse_block("1,2,3,4", &mut |_: [i64; 3]| ()).is_err());
        assert!(parse_block("1,x,3", &mut |_: [i64; 3]| ()).is_err());
    }
}
