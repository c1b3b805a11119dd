//! Splitting SMILES and SELFIES strings into tokens.
//!
//! SMILES use MoLFormer's atom-level regex. MoLFormer writes it in Python as a *non-raw* string,
//! `"(\[[^\]]+]|Br?|…|\+|\\\\|\/|…)"`, so Python turns the `\\\\` into two backslash characters and
//! `re` reads those as one escaped backslash: a single `\` (a directional bond) is one token, and
//! ClinTox's doubled `\\` bonds become two `\` tokens. [`SMILES_PATTERN`] is that effective regex;
//! it is also what we write into `tokenizer.json` for Hugging Face `tokenizers`.
//!
//! The hot path does not run the regex: [`scan_smiles`] is a hand-written scanner with exactly the
//! regex's leftmost-first semantics (checked against the `regex` crate by a property test), ~10x
//! faster, which is what lets corpus preparation reach hundreds of thousands of molecules a second.
//! Unlike Python's `re.findall`, characters the pattern does not cover are an error, never skipped.

use crate::error::TokenizeError;
use crate::tokenizer::TokenizerKind;

/// MoLFormer's SMILES regex as Python's `re` compiles it (see the module docs for the backslash).
pub const SMILES_PATTERN: &str = r"(\[[^\]]+]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|\/|:|~|@|\?|>|\*|\$|\%[0-9]{2}|[0-9])";

/// MoLFormer's pattern exactly as written in its Python source (a non-raw string literal), kept
/// for reference and for the golden-file script.
pub const SMILES_PATTERN_PYTHON_SOURCE: &str = r#""(\[[^\]]+]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\\\|\/|:|~|@|\?|>|\*|\$|\%[0-9]{2}|[0-9])""#;

/// SELFIES tokens: a bracketed symbol, or `.` between fragments.
pub const SELFIES_PATTERN: &str = r"(\[[^\]]+]|\.)";

/// Length in bytes of the SMILES token starting at `bytes[i]`, or `None` when no alternative of
/// [`SMILES_PATTERN`] matches there.
#[inline]
fn smiles_token_len(bytes: &[u8], i: usize) -> Option<usize> {
    match bytes[i] {
        b'[' => bracket_len(bytes, i),
        b'B' => Some(if bytes.get(i + 1) == Some(&b'r') {
            2
        } else {
            1
        }),
        b'C' => Some(if bytes.get(i + 1) == Some(&b'l') {
            2
        } else {
            1
        }),
        b'N'
        | b'O'
        | b'S'
        | b'P'
        | b'F'
        | b'I'
        | b'b'
        | b'c'
        | b'n'
        | b'o'
        | b's'
        | b'p'
        | b'('
        | b')'
        | b'.'
        | b'='
        | b'#'
        | b'-'
        | b'+'
        | b'\\'
        | b'/'
        | b':'
        | b'~'
        | b'@'
        | b'?'
        | b'>'
        | b'*'
        | b'$'
        | b'0'..=b'9' => Some(1),
        b'%' => match (bytes.get(i + 1), bytes.get(i + 2)) {
            (Some(a), Some(b)) if a.is_ascii_digit() && b.is_ascii_digit() => Some(3),
            _ => None,
        },
        _ => None,
    }
}

/// `\[[^\]]+]`: a `[`, at least one non-`]` character, then `]`. `]` is ASCII, so a byte search
/// is exact on UTF-8 (continuation bytes are never 0x5D).
#[inline]
fn bracket_len(bytes: &[u8], i: usize) -> Option<usize> {
    let rest = &bytes[i + 1..];
    match rest.iter().position(|&b| b == b']') {
        Some(0) | None => None,
        Some(j) => Some(j + 2),
    }
}

fn uncovered(kind: TokenizerKind, text: &str, position: usize) -> TokenizeError {
    TokenizeError::Uncovered {
        kind,
        position,
        ch: text[position..].chars().next().unwrap_or('\u{fffd}'),
    }
}

/// Calls `f` with every SMILES token of `text`, in order. Fails at the first character that the
/// pattern does not cover (after `f` has seen the tokens before it).
#[inline]
pub fn scan_smiles<'t>(text: &'t str, mut f: impl FnMut(&'t str)) -> Result<(), TokenizeError> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match smiles_token_len(bytes, i) {
            Some(n) => {
                f(&text[i..i + n]);
                i += n;
            }
            None => return Err(uncovered(TokenizerKind::Smiles, text, i)),
        }
    }
    Ok(())
}

/// Calls `f` with every SELFIES token of `text` (`[...]` symbols and `.`), in order.
#[inline]
pub fn scan_selfies<'t>(text: &'t str, mut f: impl FnMut(&'t str)) -> Result<(), TokenizeError> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        let n = match bytes[i] {
            b'[' => bracket_len(bytes, i),
            b'.' => Some(1),
            _ => None,
        };
        match n {
            Some(n) => {
                f(&text[i..i + n]);
                i += n;
            }
            None => return Err(uncovered(TokenizerKind::Selfies, text, i)),
        }
    }
    Ok(())
}

/// The SMILES tokens of `text`; their concatenation is `text`.
pub fn split_smiles(text: &str) -> Result<Vec<&str>, TokenizeError> {
    let mut out = Vec::with_capacity(text.len());
    scan_smiles(text, |t| out.push(t))?;
    Ok(out)
}

/// The SELFIES tokens of `text`; their concatenation is `text`.
pub fn split_selfies(text: &str) -> Result<Vec<&str>, TokenizeError> {
    let mut out = Vec::with_capacity(text.len() / 3 + 1);
    scan_selfies(text, |t| out.push(t))?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use regex::Regex;

    /// What `re.findall` would give, plus whether the matches cover the whole string.
    fn regex_tokens<'t>(re: &Regex, text: &'t str) -> (Vec<&'t str>, bool) {
        let mut covered = 0;
        let toks: Vec<&str> = re
            .find_iter(text)
            .map(|m| {
                covered += m.len();
                m.as_str()
            })
            .collect();
        (toks, covered == text.len())
    }

    #[test]
    fn molformer_examples() {
        let toks = split_smiles("CC(=O)Oc1ccccc1C(=O)[O-].[Na+]").unwrap();
        assert_eq!(
            toks,
            [
                "C", "C", "(", "=", "O", ")", "O", "c", "1", "c", "c", "c", "c", "c", "1", "C",
                "(", "=", "O", ")", "[O-]", ".", "[Na+]"
            ]
        );
        assert_eq!(
            split_smiles("BrC%12CCl.Br%1").unwrap_err(),
            TokenizeError::Uncovered {
                kind: TokenizerKind::Smiles,
                position: 12,
                ch: '%'
            }
        );
        assert_eq!(
            split_smiles("BrC%12CCl").unwrap(),
            ["Br", "C", "%12", "C", "Cl"]
        );
        // ClinTox's doubled bond: two single-backslash tokens.
        assert_eq!(
            split_smiles(r"C\\C=C").unwrap(),
            ["C", "\\", "\\", "C", "=", "C"]
        );
        assert_eq!(split_smiles("[C@@H]").unwrap(), ["[C@@H]"]);
        assert_eq!(split_smiles("").unwrap(), Vec::<&str>::new());
    }

    #[test]
    fn uncovered_characters_are_reported() {
        for (s, pos, ch) in [
            ("CC X", 2, ' '),
            ("C[]C", 1, '['),
            ("C[CH", 1, '['),
            ("CHC", 1, 'H'),
            ("CKC", 1, 'K'),
            ("C<C", 1, '<'),
            ("Cé", 1, 'é'),
        ] {
            match split_smiles(s) {
                Err(TokenizeError::Uncovered {
                    position, ch: c, ..
                }) => {
                    assert_eq!((position, c), (pos, ch), "{s}")
                }
                other => panic!("{s}: {other:?}"),
            }
        }
    }

    #[test]
    fn selfies_split() {
        assert_eq!(
            split_selfies("[C][=C][Branch1][C][O].[Na+1]").unwrap(),
            ["[C]", "[=C]", "[Branch1]", "[C]", "[O]", ".", "[Na+1]"]
        );
        assert!(split_selfies("[C]C").is_err());
        assert!(split_selfies("[C][").is_err());
    }

    fn smiles_alphabet() -> impl Strategy<Value = String> {
        // Every character the pattern knows about, plus some it does not.
        let chars: Vec<char> = "[]BrClNOSPFIbcnosp().=#-+\\/:~@?>*$%0123456789HXK< é"
            .chars()
            .collect();
        proptest::collection::vec(proptest::sample::select(chars), 0..40)
            .prop_map(|v| v.into_iter().collect())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3000))]
        /// The scanner agrees with the regex wherever the regex covers the whole string, and
        /// fails exactly where it does not.
        #[test]
        fn scanner_equals_regex(s in smiles_alphabet()) {
            let re = Regex::new(SMILES_PATTERN).unwrap();
            let (toks, covered) = regex_tokens(&re, &s);
            match split_smiles(&s) {
                Ok(ours) => {
                    prop_assert!(covered);
                    prop_assert_eq!(&ours, &toks);
                    prop_assert_eq!(ours.concat(), s);
                }
                Err(TokenizeError::Uncovered { position, .. }) => {
                    prop_assert!(!covered);
                    // Everything before the failure is tokenized identically by the regex.
                    let (prefix, prefix_covered) = regex_tokens(&re, &s[..position]);
                    prop_assert!(prefix_covered);
                    prop_assert_eq!(prefix.concat(), &s[..position]);
                }
                Err(e) => prop_assert!(false, "{e}"),
            }
        }

        #[test]
        fn selfies_scanner_equals_regex(s in proptest::collection::vec(
            proptest::sample::select(vec!["[C]", "[=N]", "[Branch1]", ".", "[", "]", "x", "[]"]), 0..20)
            .prop_map(|v| v.concat()))
        {
            let re = Regex::new(SELFIES_PATTERN).unwrap();
            let (toks, covered) = regex_tokens(&re, &s);
            match split_selfies(&s) {
                Ok(ours) => { prop_assert!(covered); prop_assert_eq!(ours, toks); }
                Err(_) => prop_assert!(!covered),
            }
        }
    }
}
