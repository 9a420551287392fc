//! The transaction log in columns: customer index, day number, amount in minor units. Parsed
//! from CSV bytes (`customer_id,date,amount`, extra columns ignored) without per-row
//! allocation; fed in chunks, so a caller can stream a file of any size.

use std::collections::HashMap;

use crate::AnalyticsError;

/// The group column's values, looked up once per new customer (foldhash, not SipHash).
type IdMap = HashMap<Box<[u8]>, u32, foldhash::fast::RandomState>;

mod fields;
pub use fields::{civil_from_days, days_from_civil, format_day, parse_amount, parse_day};

/// Columns of a transaction log. Customers are numbered 0.. in order of first appearance;
/// `customer_ids[i]` is the id as written in the input.
#[derive(Debug, Clone, Default)]
pub struct TransactionLog {
    pub customer_ids: Vec<String>,
    pub customer: Vec<u32>,
    pub day: Vec<i32>,
    pub amount: Vec<i64>,
    /// Decimal places of `amount` (2 for cents, 0 for yen).
    pub scale: u32,
    /// With a group column: each customer's group (index into `group_names`), taken from the
    /// customer's first row (e.g. the acquisition source or campaign).
    pub customer_group: Vec<u32>,
    pub group_names: Vec<String>,
}

impl TransactionLog {
    pub fn len(&self) -> usize {
        self.day.len()
    }

    pub fn is_empty(&self) -> bool {
        self.day.is_empty()
    }

    pub fn customers(&self) -> usize {
        self.customer_ids.len()
    }

    /// The rows of the customers for whom `keep(customer index)` holds, as a log of its own
    /// (customers renumbered in order of first appearance; groups dropped).
    pub fn subset(&self, keep: impl Fn(usize) -> bool) -> TransactionLog {
        let mut b = TransactionLogBuilder::with_columns(0, 1, 2, self.scale);
        for i in 0..self.len() {
            let c = self.customer[i] as usize;
            if keep(c) {
                b.push(self.customer_ids[c].as_bytes(), self.day[i], self.amount[i]);
            }
        }
        b.map.log
    }

    /// One log per group of the group column, in order of the groups' names.
    pub fn split_by_group(&self) -> Vec<(String, TransactionLog)> {
        let mut order: Vec<usize> = (0..self.group_names.len()).collect();
        order.sort_by(|&a, &b| self.group_names[a].cmp(&self.group_names[b]));
        order
            .into_iter()
            .map(|g| (self.group_names[g].clone(), self.subset(|c| self.customer_group[c] as usize == g)))
            .collect()
    }

    /// A log built row by row (e.g. while streaming rows from the database), customers
    /// numbered in order of first appearance.
    pub fn rows(scale: u32) -> RowLogBuilder {
        RowLogBuilder { inner: TransactionLogBuilder::with_columns(0, 1, 2, scale), id: String::new() }
    }

    /// Builds a log from (customer id, day, amount) rows, e.g. read from the database.
    pub fn from_rows<'a>(rows: impl IntoIterator<Item = (&'a str, i32, i64)>, scale: u32) -> Self {
        let mut b = Self::rows(scale);
        for (id, day, amount) in rows {
            b.push(id, day, amount);
        }
        b.finish()
    }
}

/// See [`TransactionLog::rows`].
pub struct RowLogBuilder {
    inner: TransactionLogBuilder,
    /// The text of an integer id, reused row after row.
    id: String,
}

impl RowLogBuilder {
    pub fn push(&mut self, customer: &str, day: i32, amount: i64) {
        self.inner.push(customer.as_bytes(), day, amount);
    }

    /// A row of a customer known by an integer id (kept as its decimal text).
    pub fn push_id(&mut self, customer: i64, day: i32, amount: i64) {
        use std::fmt::Write;
        self.id.clear();
        write!(self.id, "{customer}").expect("writing to a String");
        self.inner.push(self.id.as_bytes(), day, amount);
    }

    pub fn finish(self) -> TransactionLog {
        self.inner.map.log
    }
}

/// Streams CSV bytes into a [`TransactionLog`]: each block of whole lines is parsed (fields,
/// dates, amounts) on one thread while the block before it is numbered into the log on the
/// other (customers in order of first appearance), so reading costs about the larger of the two
/// rather than their sum. The result does not depend on how the file was chunked.
#[derive(Debug)]
pub struct TransactionLogBuilder {
    map: Numbering,
    columns: (usize, usize, usize),
    header_done: bool,
    pending: Vec<u8>,
    line: u64,
    names: (String, String, String),
    /// Optional group column: its header name, then its position once the header is read.
    group_name: Option<String>,
    group_column: Option<usize>,
    /// The block parsed last, numbered into the log while the next one is parsed (or by
    /// `finish`); and a numbered block's buffers, kept for the next.
    parsed: Option<Block>,
    spare: Option<Block>,
}

/// The largest block parsed at once: big enough that handing it to the other thread costs
/// nothing, small enough to stay in cache and to let the two threads overlap.
const BLOCK: usize = 2 << 20;

/// The log being built and the ids numbered so far: a table of customer indices hashed by
/// their ids, the ids themselves kept once, in the log.
#[derive(Debug, Default)]
struct Numbering {
    log: TransactionLog,
    index: hashbrown::HashTable<u32>,
    hasher: foldhash::fast::FixedState,
    group_index: IdMap,
    grouped: bool,
}

/// Whether two ids are the same, without a call for the short ids most files have.
#[inline]
fn same_id(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && if a.len() <= 16 { a.iter().zip(b).all(|(x, y)| x == y) } else { a == b }
}

impl Numbering {
    /// Adds a row; returns whether its customer is new.
    fn push(&mut self, id: &[u8], day: i32, amount: i64) -> bool {
        use std::hash::BuildHasher;
        let ids = &mut self.log.customer_ids;
        // Files grouped by customer repeat the previous row's id: no hash lookup then.
        let idx = match self.log.customer.last() {
            Some(&last) if same_id(ids[last as usize].as_bytes(), id) => Some(last),
            _ => None,
        };
        let (idx, new) = match idx {
            Some(i) => (i, false),
            None => {
                let hasher = &self.hasher;
                let hash = hasher.hash_one(id);
                match self.index.find(hash, |&i| same_id(ids[i as usize].as_bytes(), id)) {
                    Some(&i) => (i, false),
                    None => {
                        let next = ids.len() as u32;
                        ids.push(String::from_utf8_lossy(id).into_owned());
                        self.index.insert_unique(hash, next, |&i| hasher.hash_one(ids[i as usize].as_bytes()));
                        (next, true)
                    }
                }
            }
        };
        self.log.customer.push(idx);
        self.log.day.push(day);
        self.log.amount.push(amount);
        new
    }

    fn push_group(&mut self, value: &[u8]) {
        let value = if value.is_empty() { b"(none)".as_slice() } else { value };
        let next = self.log.group_names.len() as u32;
        let g = *self.group_index.entry(value.into()).or_insert_with(|| {
            self.log.group_names.push(String::from_utf8_lossy(value).into_owned());
            next
        });
        self.log.customer_group.push(g);
    }

    /// Numbers a parsed block's rows into the log; a new customer's group comes from their
    /// first row.
    fn number(&mut self, block: &Block) {
        let at = |(start, len): (u32, u32)| &block.bytes[start as usize..(start + len) as usize];
        for r in &block.rows {
            if self.push(at(r.id), r.day, r.amount) && self.grouped {
                self.push_group(r.group.map(at).unwrap_or_default().trim_ascii());
            }
        }
    }
}

/// Whole lines of the file and their rows, the ids and groups as (start, length) in the bytes.
#[derive(Debug, Default)]
struct Block {
    bytes: Vec<u8>,
    rows: Vec<BlockRow>,
}

#[derive(Debug)]
struct BlockRow {
    id: (u32, u32),
    day: i32,
    amount: i64,
    group: Option<(u32, u32)>,
}

impl TransactionLogBuilder {
    /// A builder that finds the columns by name in the header row (`customer_id`, `date`,
    /// `amount` by default; see [`TransactionLogBuilder::column_names`]). `scale` is the number
    /// of decimals kept from amounts (2 for cents).
    pub fn new(scale: u32) -> Self {
        let mut b = Self::with_columns(0, 1, 2, scale);
        b.header_done = false;
        b
    }

    /// Overrides the header names of the three columns.
    pub fn column_names(mut self, customer: &str, date: &str, amount: &str) -> Self {
        self.names = (customer.into(), date.into(), amount.into());
        self
    }

    /// Reserves room for about `rows` transactions (e.g. estimated from the file size), so
    /// the columns are not copied as they grow.
    pub fn reserve(&mut self, rows: usize) {
        use std::hash::BuildHasher;
        let m = &mut self.map;
        m.log.customer.reserve(rows);
        m.log.day.reserve(rows);
        m.log.amount.reserve(rows);
        // Room for a customer every eight rows or so, so the id table rarely grows (each
        // growth rehashes every id so far).
        let (ids, hasher) = (&m.log.customer_ids, &m.hasher);
        m.index.reserve(rows / 8, |&i| hasher.hash_one(ids[i as usize].as_bytes()));
    }

    /// Also reads a group column (one value per customer; the first row of a customer counts).
    /// Rows with an empty group value belong to the group `(none)`.
    pub fn group_column(mut self, name: &str) -> Self {
        self.group_name = Some(name.into());
        self
    }

    fn with_columns(customer: usize, date: usize, amount: usize, scale: u32) -> Self {
        Self {
            map: Numbering { log: TransactionLog { scale, ..Default::default() }, ..Default::default() },
            columns: (customer, date, amount),
            header_done: true,
            pending: Vec::new(),
            line: 0,
            names: ("customer_id".into(), "date".into(), "amount".into()),
            group_name: None,
            group_column: None,
            parsed: None,
            spare: None,
        }
    }

    fn push(&mut self, id: &[u8], day: i32, amount: i64) -> bool {
        self.map.push(id, day, amount)
    }

    /// Feeds the next chunk of the file (chunks may split lines anywhere).
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), AnalyticsError> {
        let mut data = chunk;
        while !self.header_done {
            let Some(nl) = memchr_newline(data) else {
                self.pending.extend_from_slice(data);
                return Ok(());
            };
            let mut line = std::mem::take(&mut self.pending);
            line.extend_from_slice(&data[..nl]);
            self.header(&line)?;
            data = &data[nl + 1..];
        }
        let complete = data.iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1);
        let (mut lines, rest) = data.split_at(complete);
        while !lines.is_empty() {
            // Blocks of whole lines, the line a chunk split in two joined first.
            let cut = if lines.len() <= BLOCK {
                lines.len()
            } else {
                BLOCK + memchr_newline(&lines[BLOCK..]).map_or(lines.len() - BLOCK, |i| i + 1)
            };
            let mut block = self.spare.take().unwrap_or_default();
            block.bytes.clear();
            block.bytes.append(&mut self.pending);
            block.bytes.extend_from_slice(&lines[..cut]);
            self.parse_next(block)?;
            lines = &lines[cut..];
        }
        self.pending.extend_from_slice(rest);
        Ok(())
    }

    /// Parses `block` while the block before it is numbered into the log.
    fn parse_next(&mut self, mut block: Block) -> Result<(), AnalyticsError> {
        let layout = RowLayout { columns: self.columns, group: self.group_column, scale: self.map.log.scale };
        let first_line = self.line + 1;
        let previous = self.parsed.take();
        let map = &mut self.map;
        let (parsed, ()) = rayon::join(
            || parse_lines(&mut block, first_line, &layout),
            || {
                if let Some(p) = &previous {
                    map.number(p);
                }
            },
        );
        self.spare = previous;
        self.line += parsed?;
        self.parsed = Some(block);
        Ok(())
    }

    /// Ends the input and returns the log.
    pub fn finish(mut self) -> Result<TransactionLog, AnalyticsError> {
        if !self.header_done && !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.header(&line)?;
        }
        if !self.header_done {
            return Err(AnalyticsError::Parse { line: 1, message: "empty file: no header row".into() });
        }
        if !self.pending.is_empty() {
            let mut block = self.spare.take().unwrap_or_default();
            block.bytes.clear();
            block.bytes.append(&mut self.pending);
            block.bytes.push(b'\n');
            self.parse_next(block)?;
        }
        if let Some(last) = self.parsed.take() {
            self.map.number(&last);
        }
        Ok(self.map.log)
    }

    /// A line before the data: empty lines are skipped; the first other is the header, whose
    /// names give the columns' places.
    fn header(&mut self, raw: &[u8]) -> Result<(), AnalyticsError> {
        self.line += 1;
        let mut line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if self.line == 1 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.is_empty() {
            return Ok(());
        }
        let header: Vec<String> = line
            .split(|&c| c == b',')
            .map(|h| String::from_utf8_lossy(h).trim().trim_matches('"').to_string())
            .collect();
        let find = |name: &str| {
            header.iter().position(|h| h == name).ok_or_else(|| AnalyticsError::Parse {
                line: self.line,
                message: format!("column {name} not found in header {header:?}"),
            })
        };
        self.columns = (find(&self.names.0)?, find(&self.names.1)?, find(&self.names.2)?);
        if let Some(g) = &self.group_name {
            self.group_column = Some(find(g)?);
        }
        self.map.grouped = self.group_column.is_some();
        self.header_done = true;
        Ok(())
    }
}

/// Where the fields are in a row, and the amount's decimals.
struct RowLayout {
    columns: (usize, usize, usize),
    group: Option<usize>,
    scale: u32,
}

/// One parsed row, borrowing the id and group from the input.
struct Row<'a> {
    id: &'a [u8],
    day: i32,
    amount: i64,
    group: Option<&'a [u8]>,
}

fn memchr_newline(b: &[u8]) -> Option<usize> {
    b.iter().position(|&c| c == b'\n')
}

/// Parses the fields of one data row (without its line ending).
fn parse_row<'a>(line: &'a [u8], layout: &RowLayout) -> Result<Row<'a>, String> {
    let (ci, di, ai) = layout.columns;
    let gi = layout.group.unwrap_or(usize::MAX);
    let (mut id, mut date, mut amount, mut group) = (None, None, None, None);
    for (i, field) in line.split(|&c| c == b',').enumerate() {
        let f = field.strip_prefix(b"\"").and_then(|f| f.strip_suffix(b"\"")).unwrap_or(field);
        if i == ci {
            id = Some(f);
        }
        if i == di {
            date = Some(f);
        }
        if i == ai {
            amount = Some(f);
        }
        if i == gi {
            group = Some(f);
        }
    }
    let id = id.filter(|v| !v.is_empty()).ok_or("customer id missing")?;
    let date = date.ok_or("date missing")?;
    let day = parse_day(date).ok_or_else(|| format!("bad date {:?}", String::from_utf8_lossy(date)))?;
    let amount_raw = amount.ok_or("amount missing")?;
    let amount = parse_amount(amount_raw, layout.scale)
        .ok_or_else(|| format!("bad amount {:?}", String::from_utf8_lossy(amount_raw)))?;
    Ok(Row { id, day, amount, group })
}

/// Parses a block's lines (each ending in a newline), the first being line `first_line` of
/// the file, into its rows; empty lines are skipped; the first bad row is reported with its
/// line number. Answers the number of lines.
fn parse_lines(block: &mut Block, first_line: u64, layout: &RowLayout) -> Result<u64, AnalyticsError> {
    let Block { bytes, rows } = block;
    rows.clear();
    rows.reserve(bytes.len() / 24);
    let base = bytes.as_ptr() as usize;
    // Where a field parsed from the block starts in it, and its length.
    let span = |f: &[u8]| ((f.as_ptr() as usize - base) as u32, f.len() as u32);
    let mut lines = 0;
    for (line_no, raw) in (first_line..).zip(bytes.split(|&c| c == b'\n')) {
        lines = line_no - first_line;
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if !line.is_empty() {
            let r = parse_row(line, layout).map_err(|message| AnalyticsError::Parse { line: line_no, message })?;
            rows.push(BlockRow { id: span(r.id), day: r.day, amount: r.amount, group: r.group.map(span) });
        }
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_split_anywhere_and_errors_name_the_line() {
        let csv = b"\xEF\xBB\xBFcustomer_id,date,quantity,amount\r\n1,1997-01-01,2,29.33\r\n2,1997-01-02,1,11.77\n1,1997-01-18,2,29.73\n";
        for split in 0..csv.len() {
            let mut b = TransactionLogBuilder::new(2);
            b.feed(&csv[..split]).unwrap();
            b.feed(&csv[split..]).unwrap();
            let log = b.finish().unwrap();
            assert_eq!(log.customer_ids, ["1", "2"]);
            assert_eq!(log.customer, [0, 1, 0]);
            assert_eq!(log.amount, [2933, 1177, 2973]);
        }
        let mut b = TransactionLogBuilder::new(2);
        let e = b.feed(b"customer_id,date,amount\n1,1997-01-01,1\n2,1997-13-01,1\n").unwrap_err();
        assert_eq!(e, AnalyticsError::Parse { line: 3, message: "bad date \"1997-13-01\"".into() });
        let mut b = TransactionLogBuilder::new(2);
        assert!(matches!(b.feed(b"id,when\n"), Err(AnalyticsError::Parse { line: 1, .. })));
    }

    #[test]
    fn large_chunks_parsed_in_parallel_equal_small_chunks_and_name_the_line() {
        let mut csv = b"customer_id,date,amount\n".to_vec();
        for i in 0..120_000u32 {
            csv.extend_from_slice(
                format!("c{},2024-{:02}-{:02},{}.{:02}\r\n", i % 7919, 1 + i % 12, 1 + i % 28, i % 500, i % 100)
                    .as_bytes(),
            );
        }
        assert!(csv.len() > 2 << 20);
        let mut whole = TransactionLogBuilder::new(2);
        whole.feed(&csv).unwrap();
        let whole = whole.finish().unwrap();
        let mut small = TransactionLogBuilder::new(2);
        for piece in csv.chunks(4093) {
            small.feed(piece).unwrap();
        }
        let small = small.finish().unwrap();
        assert_eq!(whole.len(), 120_000);
        assert_eq!(
            (&whole.customer_ids, &whole.customer, &whole.day, &whole.amount),
            (&small.customer_ids, &small.customer, &small.day, &small.amount)
        );
        // A bad row late in the file (second half of the chunk) is reported by its line.
        let bad_at = 100_000;
        let text = String::from_utf8(csv).unwrap();
        let mut lines: Vec<&str> = text.split_inclusive('\n').collect();
        lines[bad_at] = "c1,2024-02-30,1.00\r\n";
        let mut b = TransactionLogBuilder::new(2);
        let e = b.feed(lines.concat().as_bytes()).unwrap_err();
        assert_eq!(e, AnalyticsError::Parse { line: bad_at as u64 + 1, message: "bad date \"2024-02-30\"".into() });
    }

    #[test]
    fn group_column_splits_customers_by_their_first_row() {
        let mut b = TransactionLogBuilder::new(0).group_column("source");
        b.feed(b"customer_id,date,amount,source\nA,2024-01-01,100,ad\nB,2024-01-02,200,referral\nA,2024-02-01,300,referral\nC,2024-03-01,50,\n")
            .unwrap();
        let log = b.finish().unwrap();
        assert_eq!(log.group_names, ["ad", "referral", "(none)"]);
        assert_eq!(log.customer_group, [0, 1, 2], "A stays in `ad`, where it came from");
        let groups = log.split_by_group();
        let names: Vec<&str> = groups.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["(none)", "ad", "referral"]);
        let ad = &groups[1].1;
        assert_eq!((ad.customer_ids.clone(), ad.amount.clone()), (vec!["A".to_string()], vec![100, 300]));
        let mut missing = TransactionLogBuilder::new(0).group_column("campaign");
        assert!(matches!(missing.feed(b"customer_id,date,amount\n"), Err(AnalyticsError::Parse { line: 1, .. })));
    }
}
