//! The transaction log in columns: customer index, day number, amount in minor units. Parsed
//! from CSV bytes (`customer_id,date,amount`, extra columns ignored) without per-row
//! allocation; fed in chunks, so a caller can stream a file of any size.

use std::collections::HashMap;

use crate::AnalyticsError;

/// The group column's values, looked up once per new customer (foldhash, not SipHash).
type IdMap = HashMap<Box<[u8]>, u32, foldhash::fast::RandomState>;

mod block;
mod fields;
mod ids;
use block::{Block, RowLayout, hash_id, same_id};
pub use fields::{civil_from_days, days_from_civil, format_day, parse_amount, parse_day};
pub use ids::CustomerIds;

/// Columns of a transaction log. Customers are numbered 0.. in order of first appearance;
/// `customer_ids[i]` is the id as written in the input.
#[derive(Debug, Clone, Default)]
pub struct TransactionLog {
    pub customer_ids: CustomerIds,
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

    /// The customers' ids, the rows dropped: for the steps after the rows have been summed
    /// up, so that a million customers' forecasts are not made beside ten million rows.
    pub fn into_customer_ids(self) -> CustomerIds {
        self.customer_ids
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

/// Streams CSV bytes into a [`TransactionLog`]. The lines are cut into blocks of whole lines,
/// a batch of blocks at a time; the blocks of a batch are parsed on all cores at once (fields,
/// dates, amounts, and each block's customers numbered within it), while the batch before is
/// numbered into the log (only each block's distinct ids are looked up in the log's table;
/// customers in order of first appearance). The result does not depend on how the file was
/// chunked; the first bad row is reported with its line number.
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
    /// Blocks filled and waiting for their batch to be parsed; the batch parsed last, numbered
    /// into the log while the next one is parsed (or by `finish`); numbered blocks kept for
    /// their buffers.
    filling: Vec<Block>,
    parsed: Vec<Block>,
    spare: Vec<Block>,
    /// Each block's customer numbers in the log, reused block after block.
    remap: Vec<u32>,
}

/// The size of a block: big enough that handing it to another thread costs nothing, small
/// enough to stay in cache.
const BLOCK: usize = if cfg!(test) { 1 << 12 } else { 1 << 20 };
/// Blocks parsed at once: a few per core, so a core that finishes early takes another.
const BATCH: usize = 4;

/// The log being built and the ids numbered so far: a table of customer indices hashed by
/// their ids, the ids themselves kept once, in the log.
#[derive(Debug, Default)]
struct Numbering {
    log: TransactionLog,
    index: hashbrown::HashTable<u32>,
    group_index: IdMap,
    grouped: bool,
}

impl Numbering {
    /// The log's number of the customer `id` (whose hash is `hash`); whether it is new.
    #[inline]
    fn number_id(&mut self, id: &[u8], hash: u64) -> (u32, bool) {
        let ids = &mut self.log.customer_ids;
        match self.index.find(hash, |&i| same_id(ids[i as usize].as_bytes(), id)) {
            Some(&i) => (i, false),
            None => {
                let next = ids.len() as u32;
                ids.push(&String::from_utf8_lossy(id));
                self.index.insert_unique(hash, next, |&i| hash_id(ids[i as usize].as_bytes()));
                (next, true)
            }
        }
    }

    /// Adds a row; returns whether its customer is new.
    fn push(&mut self, id: &[u8], day: i32, amount: i64) -> bool {
        let ids = &self.log.customer_ids;
        // Rows grouped by customer repeat the previous row's id: no hash lookup then.
        let (idx, new) = match self.log.customer.last() {
            Some(&last) if same_id(ids[last as usize].as_bytes(), id) => (last, false),
            _ => self.number_id(id, hash_id(id)),
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
    /// first row. `remap` is scratch space.
    fn number(&mut self, block: &Block, remap: &mut Vec<u32>) {
        remap.clear();
        for id in &block.ids {
            let (n, new) = self.number_id(block.at(id.span), id.hash);
            if new && self.grouped {
                self.push_group(block.at(id.group).trim_ascii());
            }
            remap.push(n);
        }
        let log = &mut self.log;
        log.customer.extend(block.customer.iter().map(|&c| remap[c as usize]));
        log.day.extend_from_slice(&block.day);
        log.amount.extend_from_slice(&block.amount);
    }
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
        let m = &mut self.map;
        m.log.customer.reserve(rows);
        m.log.day.reserve(rows);
        m.log.amount.reserve(rows);
        // Room for a customer every eight rows or so, so the id table rarely grows (each
        // growth rehashes every id so far).
        m.log.customer_ids.reserve(rows / 8, rows / 2);
        let ids = &m.log.customer_ids;
        m.index.reserve(rows / 8, |&i| hash_id(ids[i as usize].as_bytes()));
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
            filling: Vec::new(),
            parsed: Vec::new(),
            spare: Vec::new(),
            remap: Vec::new(),
        }
    }

    fn push(&mut self, id: &[u8], day: i32, amount: i64) -> bool {
        self.map.push(id, day, amount)
    }

    /// Feeds the next chunk of the file (chunks may split lines anywhere).
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), AnalyticsError> {
        let mut data = chunk;
        while !self.header_done {
            let Some(nl) = memchr::memchr(b'\n', data) else {
                self.pending.extend_from_slice(data);
                return Ok(());
            };
            let mut line = std::mem::take(&mut self.pending);
            line.extend_from_slice(&data[..nl]);
            self.header(&line)?;
            data = &data[nl + 1..];
        }
        let complete = memchr::memrchr(b'\n', data).map_or(0, |i| i + 1);
        let (mut lines, rest) = data.split_at(complete);
        while !lines.is_empty() {
            // Blocks of whole lines, the line a chunk split in two joined first.
            let room = BLOCK.saturating_sub(self.pending.len()).max(1);
            let cut = if lines.len() <= room {
                lines.len()
            } else {
                room + memchr::memchr(b'\n', &lines[room..]).map_or(lines.len() - room, |i| i + 1)
            };
            let mut block = self.spare.pop().unwrap_or_default();
            block.bytes.clear();
            block.bytes.append(&mut self.pending);
            block.bytes.extend_from_slice(&lines[..cut]);
            self.filling.push(block);
            if self.filling.len() == BATCH {
                self.parse_batch()?;
            }
            lines = &lines[cut..];
        }
        self.pending.extend_from_slice(rest);
        Ok(())
    }

    /// Parses the filled blocks on all cores while the batch before them is numbered into the
    /// log; reports the batch's first bad row.
    fn parse_batch(&mut self) -> Result<(), AnalyticsError> {
        use rayon::prelude::*;
        let layout = RowLayout { columns: self.columns, group: self.group_column, scale: self.map.log.scale };
        let mut batch = std::mem::take(&mut self.filling);
        let previous = std::mem::take(&mut self.parsed);
        let (map, remap) = (&mut self.map, &mut self.remap);
        rayon::join(
            || batch.par_iter_mut().for_each(|b| b.parse(&layout)),
            || {
                for b in &previous {
                    map.number(b, remap);
                }
            },
        );
        self.spare.extend(previous);
        for b in &batch {
            if let Some((index, message)) = &b.error {
                return Err(AnalyticsError::Parse { line: self.line + 1 + index, message: message.clone() });
            }
            self.line += b.lines;
        }
        self.parsed = batch;
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
            let mut block = self.spare.pop().unwrap_or_default();
            block.bytes.clear();
            block.bytes.append(&mut self.pending);
            block.bytes.push(b'\n');
            self.filling.push(block);
        }
        if !self.filling.is_empty() {
            self.parse_batch()?;
        }
        for b in std::mem::take(&mut self.parsed) {
            self.map.number(&b, &mut self.remap);
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A whole file fed at once: a bad row is reported by `feed` or by `finish`, whichever
    /// parses its block.
    fn read(csv: &[u8]) -> Result<TransactionLog, AnalyticsError> {
        let mut b = TransactionLogBuilder::new(2);
        b.feed(csv)?;
        b.finish()
    }

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
        let e = read(b"customer_id,date,amount\n1,1997-01-01,1\n2,1997-13-01,1\n").unwrap_err();
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
        // Later bad rows, in the next block of the same batch and in a later batch, do not
        // hide the first.
        lines[bad_at + 300] = "c1,2024-01-01,x\r\n";
        lines[bad_at + 5_000] = ",2024-01-01,1\r\n";
        let e = read(lines.concat().as_bytes()).unwrap_err();
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
        assert_eq!((ad.customer_ids.iter().collect::<Vec<_>>(), ad.amount.clone()), (vec!["A"], vec![100, 300]));
        let mut missing = TransactionLogBuilder::new(0).group_column("campaign");
        assert!(matches!(missing.feed(b"customer_id,date,amount\n"), Err(AnalyticsError::Parse { line: 1, .. })));
    }
}
