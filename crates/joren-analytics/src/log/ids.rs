//! The customers' ids as written in the input, kept end to end in one string: a million ids
//! cost their bytes and four bytes each, not a string allocation each.

/// The ids of a log's customers, by customer number (`ids[c]`); at most 4 GiB of id text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CustomerIds {
    text: String,
    /// Where each id ends in `text` (it starts where the previous one ends).
    ends: Vec<u32>,
}

impl CustomerIds {
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Adds the next customer's id.
    pub fn push(&mut self, id: &str) {
        self.text.push_str(id);
        self.ends.push(u32::try_from(self.text.len()).expect("customer ids exceed 4 GiB of text"));
    }

    /// Customer `c`'s id.
    #[inline]
    pub fn get(&self, c: usize) -> Option<&str> {
        let end = *self.ends.get(c)? as usize;
        let start = if c == 0 { 0 } else { self.ends[c - 1] as usize };
        Some(&self.text[start..end])
    }

    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &str> + ExactSizeIterator + '_ {
        (0..self.len()).map(|c| &self[c])
    }

    pub fn reserve(&mut self, ids: usize, bytes: usize) {
        self.ends.reserve(ids);
        self.text.reserve(bytes);
    }
}

impl std::ops::Index<usize> for CustomerIds {
    type Output = str;

    #[inline]
    fn index(&self, c: usize) -> &str {
        self.get(c).unwrap_or_else(|| panic!("customer {c} of {}", self.len()))
    }
}

impl<const N: usize> PartialEq<[&str; N]> for CustomerIds {
    fn eq(&self, other: &[&str; N]) -> bool {
        self.len() == N && self.iter().zip(other).all(|(a, b)| a == *b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_kept_in_order_and_read_back_whole() {
        let mut ids = CustomerIds::default();
        for id in ["1", "", "顧客-3", "44"] {
            ids.push(id);
        }
        assert_eq!(ids.len(), 4);
        assert_eq!(ids, ["1", "", "顧客-3", "44"]);
        assert_eq!((&ids[2], ids.get(4)), ("顧客-3", None));
        assert_eq!(ids.iter().next_back(), Some("44"));
    }
}
