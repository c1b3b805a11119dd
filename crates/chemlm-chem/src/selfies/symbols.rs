//! SELFIES symbol utilities: splitting, counting, alphabets and the index alphabet that encodes
//! ring and branch lengths (`selfies/utils/selfies_utils.py`, `grammar_rules.py`).

use super::error::SelfiesError;
use crate::ChemError;
use std::collections::BTreeSet;

/// The 16 symbols that double as hexadecimal digits after a `[Ring…]` or `[Branch…]` symbol.
pub const INDEX_ALPHABET: [&str; 16] = [
    "[C]",
    "[Ring1]",
    "[Ring2]",
    "[Branch1]",
    "[=Branch1]",
    "[#Branch1]",
    "[Branch2]",
    "[=Branch2]",
    "[#Branch2]",
    "[O]",
    "[N]",
    "[=N]",
    "[=C]",
    "[#C]",
    "[S]",
    "[P]",
];

/// The digit an index symbol stands for; any other symbol counts as 0, as in Python.
#[inline]
pub(crate) fn index_code(symbol: &str) -> usize {
    match symbol {
        "[Ring1]" => 1,
        "[Ring2]" => 2,
        "[Branch1]" => 3,
        "[=Branch1]" => 4,
        "[#Branch1]" => 5,
        "[Branch2]" => 6,
        "[=Branch2]" => 7,
        "[#Branch2]" => 8,
        "[O]" => 9,
        "[N]" => 10,
        "[=N]" => 11,
        "[=C]" => 12,
        "[#C]" => 13,
        "[S]" => 14,
        "[P]" => 15,
        _ => 0,
    }
}

/// Number of index symbols `get_selfies_from_index(index)` produces (at least one).
#[inline]
pub(crate) fn index_len(mut index: usize) -> usize {
    let mut n = 1;
    while index >= 16 {
        index >>= 4;
        n += 1;
    }
    n
}

/// Appends the index symbols of `index`, most significant digit first.
pub(crate) fn push_index_symbols(out: &mut String, index: usize) {
    let n = index_len(index);
    for k in (0..n).rev() {
        out.push_str(INDEX_ALPHABET[(index >> (4 * k)) & 15]);
    }
}

/// Iterator over the symbols of a SELFIES string, exactly as Python's `split_selfies`: each symbol
/// runs from just after the previous `]` (or from the first `[`) to the next `]`, and a `.`
/// directly after a `]` is its own symbol. Text between symbols is therefore glued to the next
/// symbol (`"[C]x[C]"` gives `[C]`, `x[C]`), which the decoder then rejects.
#[derive(Clone, Debug)]
pub struct SplitSelfies<'a> {
    s: &'a str,
    /// Byte offset of the next symbol, or `usize::MAX` when done.
    left: usize,
    /// A `.` to yield before the next symbol.
    pending_dot: bool,
}

impl<'a> SplitSelfies<'a> {
    pub(crate) fn new(s: &'a str) -> Self {
        let left = s.find('[').unwrap_or(usize::MAX);
        Self {
            s,
            left,
            pending_dot: false,
        }
    }
}

impl<'a> Iterator for SplitSelfies<'a> {
    type Item = Result<&'a str, SelfiesError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        if self.pending_dot {
            self.pending_dot = false;
            return Some(Ok("."));
        }
        if self.left >= self.s.len() {
            return None;
        }
        let bytes = self.s.as_bytes();
        let from = self.left;
        // The closing bracket is searched from one byte after the symbol start (Python:
        // `find("]", left_idx + 1)`).
        let Some(rel) = memchr_byte(b']', &bytes[from + 1..]) else {
            self.left = usize::MAX;
            return Some(Err(SelfiesError::HangingBracket {
                selfies: self.s.to_string(),
                position: from,
            }));
        };
        let right = from + 1 + rel;
        let symbol = &self.s[from..=right];
        self.left = right + 1;
        if bytes.get(self.left) == Some(&b'.') {
            self.pending_dot = true;
            self.left += 1;
        }
        Some(Ok(symbol))
    }
}

#[inline]
fn memchr_byte(needle: u8, hay: &[u8]) -> Option<usize> {
    hay.iter().position(|&b| b == needle)
}

/// The symbols of a SELFIES string, `.` included (Python's `list(split_selfies(s))`).
pub fn split_selfies(selfies: &str) -> Result<Vec<&str>, ChemError> {
    split_selfies_iter(selfies)
        .collect::<Result<Vec<_>, _>>()
        .map_err(Into::into)
}

/// Lazy form of [`split_selfies`].
pub fn split_selfies_iter(selfies: &str) -> SplitSelfies<'_> {
    SplitSelfies::new(selfies)
}

/// Number of symbols, `.` included: Python's `len_selfies` (`count("[") + count(".")`).
pub fn len_selfies(selfies: &str) -> usize {
    selfies.bytes().filter(|&b| b == b'[' || b == b'.').count()
}

/// All symbols used by some SELFIES strings, `.` excluded (Python's `get_alphabet_from_selfies`).
pub fn get_alphabet_from_selfies<'a, I>(selfies: I) -> Result<BTreeSet<String>, ChemError>
where
    I: IntoIterator<Item = &'a str>,
{
    let mut out = BTreeSet::new();
    for s in selfies {
        for symbol in split_selfies_iter(s) {
            let symbol = symbol?;
            if symbol != "." && !out.contains(symbol) {
                out.insert(symbol.to_string());
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_symbols_round_trip() {
        for index in [0usize, 1, 15, 16, 17, 255, 256, 4095, 4096, 70000] {
            let mut s = String::new();
            push_index_symbols(&mut s, index);
            let syms = split_selfies(&s).unwrap();
            assert_eq!(syms.len(), index_len(index));
            let back = syms.iter().fold(0, |acc, s| acc * 16 + index_code(s));
            assert_eq!(back, index);
        }
    }

    #[test]
    fn split_like_python() {
        assert_eq!(
            split_selfies("[C][=C][F].[C]").unwrap(),
            ["[C]", "[=C]", "[F]", ".", "[C]"]
        );
        assert_eq!(split_selfies("x[C]y[O]").unwrap(), ["[C]", "y[O]"]);
        assert_eq!(split_selfies("").unwrap(), Vec::<&str>::new());
        assert_eq!(split_selfies("abc").unwrap(), Vec::<&str>::new());
        assert_eq!(split_selfies("[C].").unwrap(), ["[C]", "."]);
        assert!(split_selfies("[]]").is_err());
        assert_eq!(split_selfies("[C]..[C]").unwrap(), ["[C]", ".", ".[C]"]);
        assert_eq!(split_selfies(".[C]").unwrap(), ["[C]"]);
        assert!(split_selfies("[C][O").is_err());
        assert_eq!(len_selfies("[C][=C][F].[C]"), 5);
    }
}
