//! A block of whole lines of the file, parsed on its own: fields, dates and amounts read, and
//! the block's customers numbered within it (in order of first appearance), so several blocks
//! are parsed at once and only the block's distinct ids are left for the log's one numbering.

use std::hash::BuildHasher;

use super::fields::{parse_amount, parse_day};

/// Where the fields are in a row, and the amount's decimals.
#[derive(Debug, Clone, Copy)]
pub(super) struct RowLayout {
    pub columns: (usize, usize, usize),
    pub group: Option<usize>,
    pub scale: u32,
}

/// The hash of a customer id, the same in every block and in the log's table.
pub(super) fn hash_id(id: &[u8]) -> u64 {
    foldhash::fast::FixedState::default().hash_one(id)
}

/// Whether two ids are the same, without a call for the short ids most files have.
#[inline]
pub(super) fn same_id(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && if a.len() <= 16 { a.iter().zip(b).all(|(x, y)| x == y) } else { a == b }
}

/// Whole lines (each ending in a newline) and what was read from them.
#[derive(Debug, Default)]
pub(super) struct Block {
    pub bytes: Vec<u8>,
    /// Per row: the customer's number within the block, the day, the amount.
    pub customer: Vec<u32>,
    pub day: Vec<i32>,
    pub amount: Vec<i64>,
    /// The block's distinct customers in order of first appearance: the id as (start, length)
    /// in `bytes`, its hash, and with a group column the group value of its first row.
    pub ids: Vec<BlockId>,
    /// Lines in the block (its newlines).
    pub lines: u64,
    /// The first bad row: its line's index in the block (0 = the block's first line) and why.
    pub error: Option<(u64, String)>,
    table: hashbrown::HashTable<u32>,
}

#[derive(Debug, Clone, Copy)]
pub(super) struct BlockId {
    pub span: (u32, u32),
    pub hash: u64,
    pub group: (u32, u32),
}

impl Block {
    pub fn at(&self, (start, len): (u32, u32)) -> &[u8] {
        &self.bytes[start as usize..(start + len) as usize]
    }

    /// Reads every line; stops at the first bad row (recorded in `error`).
    pub fn parse(&mut self, layout: &RowLayout) {
        let Block { bytes, customer, day, amount, ids, lines, error, table } = self;
        customer.clear();
        day.clear();
        amount.clear();
        ids.clear();
        table.clear();
        *error = None;
        let guess = bytes.len() / 20;
        customer.reserve(guess);
        day.reserve(guess);
        amount.reserve(guess);
        let base = bytes.as_ptr() as usize;
        let span = |f: &[u8]| ((f.as_ptr() as usize - base) as u32, f.len() as u32);
        let fast = layout.columns == (0, 1, 2) && layout.group.is_none();
        let mut last: Option<(&[u8], u32)> = None;
        let mut line_index = 0u64;
        for raw in memchr::memchr_iter(b'\n', bytes).scan(0usize, |from, nl| {
            let line = &bytes[*from..nl];
            *from = nl + 1;
            Some(line)
        }) {
            let line = raw.strip_suffix(b"\r").unwrap_or(raw);
            line_index += 1;
            if line.is_empty() {
                continue;
            }
            let parsed = match fast.then(|| fast_row(line, layout.scale)).flatten() {
                Some(row) => Ok(row),
                None => parse_row(line, layout),
            };
            let row = match parsed {
                Ok(row) => row,
                Err(message) => {
                    *error = Some((line_index - 1, message));
                    break;
                }
            };
            let local = match last {
                Some((id, n)) if same_id(id, row.id) => n,
                _ => {
                    let hash = hash_id(row.id);
                    let found = table.find(hash, |&n| {
                        let (s, l) = ids[n as usize].span;
                        same_id(&bytes[s as usize..(s + l) as usize], row.id)
                    });
                    match found {
                        Some(&n) => n,
                        None => {
                            let n = ids.len() as u32;
                            ids.push(BlockId { span: span(row.id), hash, group: row.group.map_or((0, 0), span) });
                            table.insert_unique(hash, n, |&k| ids[k as usize].hash);
                            n
                        }
                    }
                }
            };
            last = Some((row.id, local));
            customer.push(local);
            day.push(row.day);
            amount.push(row.amount);
        }
        *lines = line_index;
    }
}

/// One parsed row, borrowing the id and group from the input.
struct Row<'a> {
    id: &'a [u8],
    day: i32,
    amount: i64,
    group: Option<&'a [u8]>,
}

/// The usual row, `id,YYYY-MM-DD,amount[,…]` without quotes, read in one pass; `None` sends
/// the line to [`parse_row`] (which also words any error).
#[inline]
fn fast_row(line: &[u8], scale: u32) -> Option<Row<'_>> {
    // Ids are short: a plain loop finds the comma sooner than a vectorised search would start.
    let comma = line.iter().position(|&c| c == b',')?;
    let (id, rest) = (&line[..comma], &line[comma + 1..]);
    if id.is_empty() || id[0] == b'"' || rest.len() < 11 || rest[10] != b',' {
        return None;
    }
    let day = parse_day(&rest[..10])?;
    let rest = &rest[11..];
    let amount = match rest.iter().position(|&c| c == b',') {
        Some(end) => &rest[..end],
        None => rest,
    };
    Some(Row { id, day, amount: fast_amount(amount, scale)?, group: None })
}

/// An unsigned decimal with at most `scale` decimals and at most 15 digits before the point
/// (so it cannot overflow), in minor units; anything else (a sign, rounding, quotes, a bad
/// character) is left to [`parse_amount`].
#[inline]
fn fast_amount(s: &[u8], scale: u32) -> Option<i64> {
    let mut v: i64 = 0;
    let mut i = 0;
    while i < s.len() && s[i].is_ascii_digit() {
        v = v * 10 + i64::from(s[i] - b'0');
        i += 1;
        if i > 15 {
            return None;
        }
    }
    if i == 0 {
        return None;
    }
    let mut decimals = 0;
    if i < s.len() {
        if s[i] != b'.' {
            return None;
        }
        for &c in &s[i + 1..] {
            if !c.is_ascii_digit() || decimals == scale {
                return None;
            }
            v = v * 10 + i64::from(c - b'0');
            decimals += 1;
        }
    }
    Some(v * 10_i64.pow(scale - decimals))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(text: &[u8], layout: RowLayout) -> Block {
        let mut b = Block { bytes: text.to_vec(), ..Default::default() };
        b.parse(&layout);
        b
    }

    const PLAIN: RowLayout = RowLayout { columns: (0, 1, 2), group: None, scale: 2 };

    #[test]
    fn the_fast_and_the_general_reading_agree_row_by_row() {
        // Quoted fields, extra columns, a timestamp, a CRLF and an empty line take the general
        // path; the rest the fast one. Both number the block's customers the same way.
        let b = parsed(
            b"a,2024-01-02,3.5\r\n\"b\",2024-01-03,1\n\nb,2024-01-04T09:00:00,2.25,x\na,2024-01-05,\"7\"\nc,2024-01-06,1.005,,\n",
            PLAIN,
        );
        assert_eq!(b.error, None);
        assert_eq!(b.lines, 6);
        assert_eq!(b.customer, [0, 1, 1, 0, 2]);
        assert_eq!(b.amount, [350, 100, 225, 700, 101]);
        let ids: Vec<&[u8]> = b.ids.iter().map(|i| b.at(i.span)).collect();
        assert_eq!(ids, [b"a".as_slice(), b"b", b"c"]);
        assert_eq!(b.day[1] - b.day[0], 1);
    }

    #[test]
    fn the_fast_amount_agrees_with_the_general_one_or_leaves_it_the_row() {
        for text in [
            "0",
            "7",
            "29.33",
            "29.3",
            "29.",
            "1200",
            "0.005",
            "-5.5",
            "1.2.3",
            "",
            ".5",
            "1e3",
            "12345678901234567",
            "999999999999999.99",
            " 1",
            "1 ",
        ] {
            let fast = fast_amount(text.as_bytes(), 2);
            if let Some(v) = fast {
                assert_eq!(Some(v), parse_amount(text.as_bytes(), 2), "{text:?}");
            }
        }
        assert_eq!(fast_amount(b"29.33", 2), Some(2933));
        assert_eq!(fast_amount(b"29.", 2), Some(2900));
        assert_eq!(fast_amount(b"1200", 0), Some(1200));
        assert_eq!(fast_amount(b"0.005", 2), None, "rounding is the general path's");
        assert_eq!(fast_amount(b"1234567890123456", 2), None, "sixteen digits could overflow");
    }

    #[test]
    fn a_bad_row_stops_the_block_with_its_line_and_the_same_words() {
        let b = parsed(b"a,2024-01-02,3.5\n\na,2024-02-30,1\nb,2024-01-01,1\n", PLAIN);
        assert_eq!(b.error, Some((2, "bad date \"2024-02-30\"".into())));
        let b = parsed(b"a,2024-01-02,3.5x\n", PLAIN);
        assert_eq!(b.error, Some((0, "bad amount \"3.5x\"".into())));
        let b = parsed(b",2024-01-02,3.5\n", PLAIN);
        assert_eq!(b.error, Some((0, "customer id missing".into())));
        let b = parsed(b"a,2024-01-02\n", PLAIN);
        assert_eq!(b.error, Some((0, "amount missing".into())));
    }

    #[test]
    fn other_column_orders_and_groups_take_the_general_path() {
        let layout = RowLayout { columns: (2, 0, 1), group: Some(3), scale: 0 };
        let b = parsed(b"2024-01-02,100,x,ad\n2024-01-03,200,y,\n2024-01-04,50,x,tv\n", layout);
        assert_eq!(b.customer, [0, 1, 0]);
        assert_eq!(b.amount, [100, 200, 50]);
        let groups: Vec<&[u8]> = b.ids.iter().map(|i| b.at(i.group)).collect();
        assert_eq!(groups, [b"ad".as_slice(), b""]);
    }
}
