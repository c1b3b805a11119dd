//! Which characters a loaded tokenizer loses, and a reversible escape that makes the round trip
//! exact.
//!
//! The stock T5 vocabulary has no `\`, `{`, `}`, `~`, `<` and more, so `C/C=C\C` decodes as
//! `C/C=CC` (`\` became `<unk>`); its NFKC normaliser rewrites `µ`, `²` and ligatures, and it
//! collapses runs of spaces. GT4SD's demo patches the output by replacing `<unk>` with `\`, which
//! only works when `\` is the only lost character. We escape instead, on input, into characters
//! the vocabulary has, and undo it on output:
//!
//! - an escape character `E` is chosen among [`ESCAPE_CANDIDATES`]: of those that survive the round
//!   trip, the rarest in the corpus;
//! - `E` itself is written `EE`;
//! - a lost character `c` is written `E` + its code point in base 16 + `E`, with the digits
//!   `0-9a-f` (`\` → `^5c^` with `E = ^`) or, when the vocabulary lacks some of them, the first 16
//!   surviving characters of `0-9a-zA-Z` (stored with the escape);
//! - when the tokenizer does not keep whitespace exactly (T5 does not), every whitespace character
//!   except a single space between two non-space characters is escaped the same way (a leading
//!   space → `^20^`, a tab → `^9^`).
//!
//! Unescaping reads `EE` as `E` and `E<hex>E` as the character; anything else (a malformed escape a
//! model might generate) is kept as it is. The scheme is injective, so
//! `unescape(escape(x)) == x` for every `x`; [`CharEscape::for_tokenizer`] then checks
//! `unescape(decode(encode(escape(x)))) == x` on the corpus and reports what still fails.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::sentencepiece::Seq2SeqTokenizer;
use crate::error::TokenizeError;

/// Escape characters tried in order.
pub const ESCAPE_CANDIDATES: [char; 19] = [
    '^', '|', '`', '$', '&', '!', '?', ';', '_', '§', '¤', '%', '*', '#', '@', ':', '=', '-', '+',
];

/// Base-16 digits used when all of them survive.
pub const HEX_DIGITS: &str = "0123456789abcdef";

fn default_digits() -> String {
    HEX_DIGITS.to_string()
}

/// A reversible character escape (see the module docs). Saved as `escape.json` next to the
/// tokenizer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CharEscape {
    /// The escape character.
    pub escape: char,
    /// The 16 characters used as base-16 digits of escaped code points.
    #[serde(default = "default_digits")]
    pub digits: String,
    /// Characters written as `E<hex>E`.
    pub chars: BTreeSet<char>,
    /// Whether whitespace other than single inner spaces is escaped.
    pub whitespace: bool,
}

/// Characters (and whitespace) a tokenizer does not give back, over a corpus.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CoverageReport {
    /// Texts examined.
    pub texts: u64,
    /// Texts that do not come back unchanged.
    pub failing_texts: u64,
    /// Lost character → number of occurrences in the corpus.
    pub lost_chars: BTreeMap<char, u64>,
    /// Whether runs of spaces, leading/trailing spaces, tabs or newlines are altered.
    pub whitespace_altered: bool,
}

impl CoverageReport {
    /// The lost characters as a string, in code point order.
    pub fn lost_string(&self) -> String {
        self.lost_chars.keys().collect()
    }
}

fn survives(tok: &Seq2SeqTokenizer, text: &str) -> Result<bool, TokenizeError> {
    let ids = tok.encode(text)?;
    Ok(tok.decode(&ids, true)? == text)
}

/// Whether `tok` (as it is, without escape) alters whitespace: runs, leading or trailing spaces,
/// tabs or newlines.
pub fn alters_whitespace(tok: &Seq2SeqTokenizer) -> Result<bool, TokenizeError> {
    for probe in ["a  a", " a", "a ", "a\ta", "a\na", "a\r\na"] {
        if !survives(tok, probe)? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether `c` survives the round trip between two letters.
fn char_survives(tok: &Seq2SeqTokenizer, c: char) -> Result<bool, TokenizeError> {
    survives(tok, &format!("a{c}a"))
}

/// The characters of `texts` that `tok` loses, their counts, and whether whitespace is altered.
pub fn coverage<S: AsRef<str> + Sync>(
    tok: &Seq2SeqTokenizer,
    texts: &[S],
) -> Result<CoverageReport, TokenizeError> {
    let mut counts: BTreeMap<char, u64> = BTreeMap::new();
    for t in texts {
        for c in t.as_ref().chars() {
            *counts.entry(c).or_insert(0) += 1;
        }
    }
    let mut report = CoverageReport {
        texts: texts.len() as u64,
        failing_texts: tok.round_trip_failures(texts)?.len() as u64,
        whitespace_altered: alters_whitespace(tok)?,
        ..Default::default()
    };
    for (&c, &n) in &counts {
        if !c.is_whitespace() && !char_survives(tok, c)? {
            report.lost_chars.insert(c, n);
        }
    }
    Ok(report)
}

impl CharEscape {
    /// The escape that repairs `tok` on `texts`, or `None` when nothing is lost. Fails when no
    /// candidate escape character survives the tokenizer.
    pub fn for_tokenizer<S: AsRef<str> + Sync>(
        tok: &Seq2SeqTokenizer,
        texts: &[S],
    ) -> Result<Option<Self>, TokenizeError> {
        let report = coverage(tok, texts)?;
        if report.lost_chars.is_empty() && !report.whitespace_altered {
            return Ok(None);
        }
        let mut digits = String::new();
        if survives(tok, HEX_DIGITS)? {
            digits.push_str(HEX_DIGITS);
        } else {
            for c in ('0'..='9').chain('a'..='z').chain('A'..='Z') {
                if digits.chars().count() < 16 && char_survives(tok, c)? {
                    digits.push(c);
                }
            }
        }
        if digits.chars().count() < 16 {
            return Err(TokenizeError::External(
                "fewer than 16 letters or digits survive this tokenizer; cannot escape".into(),
            ));
        }
        let mut best: Option<(u64, char)> = None;
        for &e in &ESCAPE_CANDIDATES {
            if digits.contains(e) || !char_survives(tok, e)? {
                continue;
            }
            let probe = Self {
                escape: e,
                digits: digits.clone(),
                chars: BTreeSet::new(),
                whitespace: false,
            };
            let sample = format!("a{e}{e}{}{e}a", probe.code(0x5c));
            if !survives(tok, &sample)? {
                continue;
            }
            let n: u64 = texts
                .iter()
                .map(|t| t.as_ref().chars().filter(|&c| c == e).count() as u64)
                .sum();
            if best.is_none_or(|(m, _)| n < m) {
                best = Some((n, e));
            }
        }
        let Some((_, escape)) = best else {
            return Err(TokenizeError::External(format!(
                "no escape character among {ESCAPE_CANDIDATES:?} survives this tokenizer"
            )));
        };
        Ok(Some(Self {
            escape,
            digits,
            chars: report.lost_chars.keys().copied().collect(),
            whitespace: report.whitespace_altered,
        }))
    }

    /// `n` in base 16 with [`CharEscape::digits`].
    fn code(&self, mut n: u32) -> String {
        let d: Vec<char> = self.digits.chars().collect();
        let mut rev = Vec::new();
        loop {
            rev.push(d[(n % 16) as usize]);
            n /= 16;
            if n == 0 {
                break;
            }
        }
        rev.iter().rev().collect()
    }

    fn push_code(&self, out: &mut String, c: char) {
        out.push(self.escape);
        out.push_str(&self.code(c as u32));
        out.push(self.escape);
    }

    /// `text` with lost characters, the escape character and (when set) irregular whitespace
    /// escaped.
    pub fn escape(&self, text: &str) -> String {
        let chars: Vec<char> = text.chars().collect();
        let mut out = String::with_capacity(text.len() + 8);
        for (i, &c) in chars.iter().enumerate() {
            if c == self.escape {
                out.push(c);
                out.push(c);
            } else if self.chars.contains(&c) {
                self.push_code(&mut out, c);
            } else if self.whitespace && c.is_whitespace() {
                let inner = c == ' '
                    && i > 0
                    && !chars[i - 1].is_whitespace()
                    && chars.get(i + 1).is_some_and(|n| !n.is_whitespace());
                if inner {
                    out.push(c);
                } else {
                    self.push_code(&mut out, c);
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    /// Undoes [`CharEscape::escape`]; malformed escapes are kept as written.
    pub fn unescape(&self, text: &str) -> String {
        let e = self.escape;
        let digits: Vec<char> = self.digits.chars().collect();
        let chars: Vec<char> = text.chars().collect();
        let mut out = String::with_capacity(text.len());
        let mut i = 0;
        while i < chars.len() {
            if chars[i] != e {
                out.push(chars[i]);
                i += 1;
                continue;
            }
            if chars.get(i + 1) == Some(&e) {
                out.push(e);
                i += 2;
                continue;
            }
            let mut j = i + 1;
            let mut value = 0u32;
            while j < chars.len() && j - i <= 6 {
                match digits.iter().position(|&d| d == chars[j]) {
                    Some(v) => value = value * 16 + v as u32,
                    None => break,
                }
                j += 1;
            }
            let decoded = (j > i + 1 && chars.get(j) == Some(&e))
                .then(|| char::from_u32(value))
                .flatten();
            match decoded {
                Some(c) => {
                    out.push(c);
                    i = j + 1;
                }
                None => {
                    out.push(e);
                    i += 1;
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn esc() -> CharEscape {
        CharEscape {
            escape: '^',
            digits: HEX_DIGITS.into(),
            chars: ['\\', '{', '}', '~'].into_iter().collect(),
            whitespace: true,
        }
    }

    #[test]
    fn escape_is_reversible() {
        let e = esc();
        assert_eq!(e.escape("C/C=C\\C"), "C/C=C^5c^C");
        assert_eq!(e.escape(" a  b\t^"), "^20^a^20^^20^b^9^^^");
        assert_eq!(e.escape("a b"), "a b");
        for s in [
            "",
            "^",
            "^^5c^",
            "C/C=C\\C",
            "  x  ",
            "a\tb\nc",
            "{R}~[Na+]",
            "^5c^",
            "emoji 🧪 ^",
        ] {
            assert_eq!(e.unescape(&e.escape(s)), s, "{s:?}");
        }
    }

    #[test]
    fn malformed_escapes_are_kept() {
        let e = esc();
        assert_eq!(e.unescape("a^b"), "a^b");
        assert_eq!(e.unescape("^5c"), "^5c");
        assert_eq!(e.unescape("^zz^"), "^zz^");
        assert_eq!(e.unescape("^d800^"), "^d800^");
    }

    #[test]
    fn other_digit_alphabets_round_trip() {
        let e = CharEscape {
            escape: ';',
            digits: "012345abcdefghij".into(),
            chars: ['\\', '9'].into_iter().collect(),
            whitespace: false,
        };
        assert_eq!(e.escape("C\\C9"), "C;5g;C;3d;");
        for s in ["C\\C9", ";;", "a;5c;", "99\\"] {
            assert_eq!(e.unescape(&e.escape(s)), s, "{s:?}");
        }
    }
}
