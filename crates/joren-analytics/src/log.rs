//! The transaction log in columns: customer index, day number, amount in minor units. Parsed
//! from CSV bytes (`customer_id,date,amount`, extra columns ignored) without per-row
//! allocation; fed in chunks, so a caller can stream a file of any size.

use std::collections::HashMap;

/// Customer ids are hashed millions of times while reading: foldhash, not SipHash.
type IdMap = HashMap<Box<[u8]>, u32, foldhash::fast::RandomState>;

use crate::AnalyticsError;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(y: i32, m: u32, d: u32) -> i32 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe as u32 * 365 + yoe as u32 / 4 - yoe as u32 / 100 + doy;
    era * 146_097 + doe as i32 - 719_468
}

/// The inverse of [`days_from_civil`].
pub fn civil_from_days(z: i32) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (yoe + era * 400 + i32::from(m <= 2), m, d)
}

/// Parses `YYYY-MM-DD` (an RFC 3339 timestamp's date part is taken as is) into a day number.
/// A day (days since 1970-01-01) as `YYYY-MM-DD`.
pub fn format_day(day: i32) -> String {
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

pub fn parse_day(s: &[u8]) -> Option<i32> {
    if s.len() < 10 || s[4] != b'-' || s[7] != b'-' {
        return None;
    }
    let n = |r: std::ops::Range<usize>| -> Option<u32> {
        s[r].iter().try_fold(0u32, |a, c| c.is_ascii_digit().then(|| a * 10 + u32::from(c - b'0')))
    };
    let (y, m, d) = (n(0..4)?, n(5..7)?, n(8..10)?);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y as i32, m) {
        return None;
    }
    if s.len() > 10 && !matches!(s[10], b'T' | b't' | b' ') {
        return None;
    }
    Some(days_from_civil(y as i32, m, d))
}

fn days_in_month(y: i32, m: u32) -> u32 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Parses a decimal amount (`29.33`, `-5`, `1200`) into minor units with `scale` decimals,
/// rounding half away from zero beyond them.
pub fn parse_amount(s: &[u8], scale: u32) -> Option<i64> {
    let (neg, s) = match s.first() {
        Some(b'-') => (true, &s[1..]),
        _ => (false, s),
    };
    if s.is_empty() {
        return None;
    }
    let mut int: i64 = 0;
    let mut frac: i64 = 0;
    let mut frac_digits = 0u32;
    let mut round_up = false;
    let mut seen_dot = false;
    for &c in s {
        match c {
            b'0'..=b'9' if !seen_dot => int = int.checked_mul(10)?.checked_add(i64::from(c - b'0'))?,
            b'0'..=b'9' if frac_digits < scale => {
                frac = frac * 10 + i64::from(c - b'0');
                frac_digits += 1;
            }
            b'0'..=b'9' => {
                if frac_digits == scale {
                    round_up = c >= b'5';
                    frac_digits += 1;
                }
            }
            b'.' if !seen_dot => seen_dot = true,
            _ => return None,
        }
    }
    let kept = frac_digits.min(scale);
    let v = int.checked_mul(10_i64.pow(scale))? + frac * 10_i64.pow(scale - kept) + i64::from(round_up);
    Some(if neg { -v } else { v })
}

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
        b.log
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

    /// Builds a log from (customer id, day, amount) rows, e.g. read from the database.
    pub fn from_rows<'a>(rows: impl IntoIterator<Item = (&'a str, i32, i64)>, scale: u32) -> Self {
        let mut b = TransactionLogBuilder::with_columns(0, 1, 2, scale);
        for (id, day, amount) in rows {
            b.push(id.as_bytes(), day, amount);
        }
        b.log
    }
}

/// Streams CSV bytes into a [`TransactionLog`].
#[derive(Debug)]
pub struct TransactionLogBuilder {
    log: TransactionLog,
    index: IdMap,
    columns: (usize, usize, usize),
    header_done: bool,
    pending: Vec<u8>,
    line: u64,
    names: (String, String, String),
    /// Optional group column: its header name, then its position once the header is read.
    group_name: Option<String>,
    group_column: Option<usize>,
    group_index: IdMap,
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
        self.log.customer.reserve(rows);
        self.log.day.reserve(rows);
        self.log.amount.reserve(rows);
    }

    /// Also reads a group column (one value per customer; the first row of a customer counts).
    /// Rows with an empty group value belong to the group `(none)`.
    pub fn group_column(mut self, name: &str) -> Self {
        self.group_name = Some(name.into());
        self
    }

    fn with_columns(customer: usize, date: usize, amount: usize, scale: u32) -> Self {
        Self {
            log: TransactionLog { scale, ..Default::default() },
            index: IdMap::default(),
            columns: (customer, date, amount),
            header_done: true,
            pending: Vec::new(),
            line: 0,
            names: ("customer_id".into(), "date".into(), "amount".into()),
            group_name: None,
            group_column: None,
            group_index: IdMap::default(),
        }
    }

    /// Adds a row; returns whether its customer is new.
    fn push(&mut self, id: &[u8], day: i32, amount: i64) -> bool {
        // Files grouped by customer repeat the previous row's id: no hash lookup then.
        if let Some(&last) = self.log.customer.last()
            && self.log.customer_ids[last as usize].as_bytes() == id
        {
            self.log.customer.push(last);
            self.log.day.push(day);
            self.log.amount.push(amount);
            return false;
        }
        let next = self.log.customer_ids.len() as u32;
        let (idx, new) = match self.index.get(id) {
            Some(i) => (*i, false),
            None => {
                self.index.insert(id.into(), next);
                self.log.customer_ids.push(String::from_utf8_lossy(id).into_owned());
                (next, true)
            }
        };
        self.log.customer.push(idx);
        self.log.day.push(day);
        self.log.amount.push(amount);
        new
    }

    /// Adds a parsed row; a new customer's group comes from this, their first row.
    fn push_row(&mut self, r: &Row<'_>) {
        if self.push(r.id, r.day, r.amount) && self.group_column.is_some() {
            self.push_group(r.group.unwrap_or_default().trim_ascii());
        }
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

    /// Feeds the next chunk of the file (chunks may split lines anywhere). Large chunks are
    /// parsed on two threads (fields, dates, amounts); customers are then numbered in file
    /// order on this one, so the result does not depend on how the file was chunked.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), AnalyticsError> {
        let mut data = chunk;
        if !self.pending.is_empty() {
            match memchr_newline(chunk) {
                None => {
                    self.pending.extend_from_slice(chunk);
                    return Ok(());
                }
                Some(nl) => {
                    let mut line = std::mem::take(&mut self.pending);
                    line.extend_from_slice(&chunk[..nl]);
                    self.line(&line)?;
                    data = &chunk[nl + 1..];
                }
            }
        }
        let complete = data.iter().rposition(|&c| c == b'\n').map_or(0, |i| i + 1);
        let (mut lines, rest) = data.split_at(complete);
        while !self.header_done && !lines.is_empty() {
            let nl = memchr_newline(lines).expect("complete lines end with a newline");
            self.line(&lines[..nl])?;
            lines = &lines[nl + 1..];
        }
        self.parse_block(lines)?;
        self.pending.extend_from_slice(rest);
        Ok(())
    }

    /// Parses whole lines (each ending in a newline) after the header.
    fn parse_block(&mut self, block: &[u8]) -> Result<(), AnalyticsError> {
        const PARALLEL_FROM: usize = 1 << 20;
        let layout = RowLayout { columns: self.columns, group: self.group_column, scale: self.log.scale };
        let halves = if block.len() >= PARALLEL_FROM {
            let mid = block.len() / 2;
            let cut = mid + memchr_newline(&block[mid..]).map_or(block.len() - mid, |i| i + 1);
            let (a, b) = block.split_at(cut);
            let first_b = self.line + 1 + a.iter().filter(|&&c| c == b'\n').count() as u64;
            let (ra, rb) = rayon::join(|| parse_lines(a, self.line + 1, &layout), || parse_lines(b, first_b, &layout));
            vec![ra, rb]
        } else {
            vec![parse_lines(block, self.line + 1, &layout)]
        };
        for half in halves {
            for r in &half? {
                self.push_row(r);
            }
        }
        self.line += block.iter().filter(|&&c| c == b'\n').count() as u64;
        Ok(())
    }

    /// Ends the input and returns the log.
    pub fn finish(mut self) -> Result<TransactionLog, AnalyticsError> {
        if !self.pending.is_empty() {
            let line = std::mem::take(&mut self.pending);
            self.line(&line)?;
        }
        if !self.header_done {
            return Err(AnalyticsError::Parse { line: 1, message: "empty file: no header row".into() });
        }
        Ok(self.log)
    }

    fn line(&mut self, raw: &[u8]) -> Result<(), AnalyticsError> {
        self.line += 1;
        let mut line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if self.line == 1 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        if line.is_empty() {
            return Ok(());
        }
        if !self.header_done {
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
            self.header_done = true;
            return Ok(());
        }
        let layout = RowLayout { columns: self.columns, group: self.group_column, scale: self.log.scale };
        let r = parse_row(line, &layout).map_err(|message| AnalyticsError::Parse { line: self.line, message })?;
        self.push_row(&r);
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

/// Parses whole lines (each ending in a newline), the first being line `first_line` of the
/// file; empty lines are skipped; the first bad row is reported with its line number.
fn parse_lines<'a>(block: &'a [u8], first_line: u64, layout: &RowLayout) -> Result<Vec<Row<'a>>, AnalyticsError> {
    let mut rows = Vec::with_capacity(block.len() / 24);
    for (line_no, raw) in (first_line..).zip(block.split(|&c| c == b'\n')) {
        let line = raw.strip_suffix(b"\r").unwrap_or(raw);
        if !line.is_empty() {
            rows.push(parse_row(line, layout).map_err(|message| AnalyticsError::Parse { line: line_no, message })?);
        }
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(1997, 9, 30) - days_from_civil(1997, 1, 1), 272);
        for z in [-1000, 0, 10_000, 20_089, 30_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
        assert_eq!(parse_day(b"2024-02-29"), Some(days_from_civil(2024, 2, 29)));
        assert_eq!(parse_day(b"2023-02-29"), None);
        assert_eq!(parse_day(b"2024-01-01T09:00:00+09:00"), Some(days_from_civil(2024, 1, 1)));
        assert_eq!(parse_day(b"2024/01/01"), None);
    }

    #[test]
    fn amounts_parse_exactly() {
        assert_eq!(parse_amount(b"29.33", 2), Some(2933));
        assert_eq!(parse_amount(b"29.3", 2), Some(2930));
        assert_eq!(parse_amount(b"1200", 0), Some(1200));
        assert_eq!(parse_amount(b"0.005", 2), Some(1));
        assert_eq!(parse_amount(b"-5.5", 2), Some(-550));
        assert_eq!(parse_amount(b"abc", 2), None);
        assert_eq!(parse_amount(b"", 2), None);
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
