//! SMILES input clean-up and parse errors that point into the string the user gave.
//!
//! chematic reports byte offsets into the string it parsed. We parse a trimmed string, sometimes with
//! ClinTox's doubled backslashes collapsed, so positions are mapped back to the caller's input before
//! they reach an error message; otherwise a user looking at column 17 of their file would be misled.

use crate::error::ChemError;
use chematic::smiles::SmilesError;
use std::borrow::Cow;

/// The string handed to the parser, and how to map its byte offsets back to the caller's input.
pub(crate) struct Prepared<'a> {
    pub(crate) text: Cow<'a, str>,
    /// Byte offset of `text[0]` in the caller's input (leading whitespace skipped).
    lead: usize,
    /// For a collapsed string: offset in the trimmed input of every byte of `text`.
    map: Option<Vec<usize>>,
}

impl Prepared<'_> {
    /// Byte offset in the caller's input of byte `pos` of the parsed text (`pos == len` allowed).
    pub(crate) fn original_position(&self, pos: usize) -> usize {
        let inner = match &self.map {
            None => pos,
            Some(map) => match map.get(pos) {
                Some(&p) => p,
                // One past the end: the end of the trimmed input.
                None => map.last().map_or(0, |&p| p + 1) + (pos - map.len()),
            },
        };
        self.lead + inner
    }
}

/// Trims whitespace and collapses each doubled backslash (`\\`, as ClinTox writes directional bonds)
/// into one, which is how RDKit reads it.
pub(crate) fn prepare(smiles: &str) -> Prepared<'_> {
    let trimmed = smiles.trim();
    let lead = trimmed.as_ptr() as usize - smiles.as_ptr() as usize;
    if !trimmed.contains("\\\\") {
        return Prepared {
            text: Cow::Borrowed(trimmed),
            lead,
            map: None,
        };
    }
    let bytes = trimmed.as_bytes();
    let mut text = String::with_capacity(trimmed.len());
    let mut map = Vec::with_capacity(trimmed.len());
    let mut i = 0;
    while i < bytes.len() {
        // Copy one char (multi-byte chars are copied whole so `text` stays valid UTF-8).
        let ch_len = trimmed[i..].chars().next().map_or(1, char::len_utf8);
        text.push_str(&trimmed[i..i + ch_len]);
        map.extend(i..i + ch_len);
        let doubled = bytes[i] == b'\\' && bytes.get(i + 1) == Some(&b'\\');
        i += ch_len + usize::from(doubled);
    }
    Prepared {
        text: Cow::Owned(text),
        lead,
        map: Some(map),
    }
}

/// A syntax error found before parsing (see `syntax`), positioned in the caller's input.
pub(crate) fn syntax_error(
    prepared: &Prepared<'_>,
    input: &str,
    pos: usize,
    reason: String,
) -> ChemError {
    let p = prepared.original_position(pos);
    ChemError::Parse {
        position: Some(p),
        reason: format!("{reason} (near {})", excerpt(input, p)),
    }
}

/// A parse error naming the byte position in the caller's input and the reason, plus a short
/// excerpt around the position so the message stands on its own in a log line.
pub(crate) fn parse_error(e: &SmilesError, prepared: &Prepared<'_>, input: &str) -> ChemError {
    use SmilesError as E;
    let (pos, reason) = match e {
        E::UnexpectedEnd { pos } => match bad_percent(&prepared.text, *pos) {
            Some(at) => (
                Some(at),
                "'%' must be followed by a two-digit ring-bond number".to_string(),
            ),
            None => (Some(*pos), "unexpected end of SMILES".to_string()),
        },
        E::UnknownElement { symbol, pos } => (Some(*pos), format!("unknown element '{symbol}'")),
        E::UnmatchedRingClosure { ring_num, pos } => {
            unmatched_ring(&prepared.text, u32::from(*ring_num), *pos)
        }
        E::UnmatchedExtendedRingClosure { ring_num, pos } => {
            unmatched_ring(&prepared.text, *ring_num, *pos)
        }
        E::MismatchedParentheses { pos } => match unclosed_branch(&prepared.text) {
            Some(open) => (
                Some(open),
                "branch '(' is opened here and never closed".to_string(),
            ),
            None => (Some(*pos), "unbalanced parenthesis".to_string()),
        },
        // chematic reports its atom-count limit as a bracket-atom error.
        E::InvalidBracketAtom { detail, .. } if detail.contains("maximum atom count") => (
            None,
            format!(
                "molecule has more than {} atoms, the most chemlm reads",
                crate::mol::MAX_ATOMS
            ),
        ),
        E::InvalidBracketAtom { detail, pos } => {
            (Some(*pos), format!("invalid bracket atom: {detail}"))
        }
        E::ConflictingRingBond { ring_num, pos } => (
            Some(*pos),
            format!("ring bond {ring_num} has different bond types at its two ends"),
        ),
        E::ConflictingExtendedRingBond { ring_num, pos } => (
            Some(*pos),
            format!("ring bond {ring_num} has different bond types at its two ends"),
        ),
        E::NestingTooDeep { pos } => (Some(*pos), "branches nested too deeply".to_string()),
        E::UnexpectedCharacter { pos } => {
            let what = prepared
                .text
                .get(*pos..)
                .and_then(|s| s.chars().next())
                .map_or_else(|| "character".to_string(), |c| format!("character {c:?}"));
            (Some(*pos), format!("unexpected {what}"))
        }
        E::UnsupportedChiralityClass { class, pos } => {
            (Some(*pos), format!("invalid chirality class '@{class}'"))
        }
        E::EmptyInput => (None, "empty SMILES".to_string()),
        E::ResourceLimit {
            resource,
            actual,
            limit,
        } => (
            None,
            format!("too many {resource}: {actual} (limit {limit})"),
        ),
        E::InvalidValence {
            element,
            atom,
            valence,
            max,
        } => (
            atom_position(&prepared.text, *atom),
            format!("{element} atom has valence {valence}, more than the {max} allowed"),
        ),
    };
    let position = pos.map(|p| prepared.original_position(p));
    let reason = match position {
        Some(p) => format!("{reason} (near {})", excerpt(input, p)),
        None => reason,
    };
    ChemError::Parse { position, reason }
}

/// Ring-bond labels outside bracket atoms, as `(label, byte position)`.
fn ring_labels(text: &str) -> Vec<(u32, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'[' => {
                while i < b.len() && b[i] != b']' {
                    i += 1;
                }
            }
            d @ b'0'..=b'9' => out.push((u32::from(d - b'0'), i)),
            b'%' if b.get(i + 1) == Some(&b'(') => {
                let start = i;
                let mut label = 0u32;
                i += 2;
                while i < b.len() && b[i].is_ascii_digit() {
                    label = label
                        .saturating_mul(10)
                        .saturating_add(u32::from(b[i] - b'0'));
                    i += 1;
                }
                out.push((label, start));
            }
            b'%' if b.len() > i + 2 && b[i + 1].is_ascii_digit() && b[i + 2].is_ascii_digit() => {
                out.push((u32::from((b[i + 1] - b'0') * 10 + (b[i + 2] - b'0')), i));
                i += 2;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Points an unclosed ring bond at the place it was opened (the parser notices only at the end).
fn unmatched_ring(text: &str, label: u32, pos: usize) -> (Option<usize>, String) {
    let uses: Vec<usize> = ring_labels(text)
        .into_iter()
        .filter(|&(l, _)| l == label)
        .map(|(_, p)| p)
        .collect();
    if uses.len() % 2 == 1 {
        if let Some(&opened) = uses.last() {
            return (
                Some(opened),
                format!("ring bond {label} is opened here and never closed"),
            );
        }
    }
    (Some(pos), format!("ring bond {label} is never closed"))
}

/// Position of the first `(` outside bracket atoms that has no matching `)`.
fn unclosed_branch(text: &str) -> Option<usize> {
    let mut open = Vec::new();
    let mut in_bracket = false;
    for (i, c) in text.bytes().enumerate() {
        match c {
            b'[' => in_bracket = true,
            b']' => in_bracket = false,
            b'(' if !in_bracket => open.push(i),
            b')' if !in_bracket => {
                open.pop()?;
            }
            _ => {}
        }
    }
    open.first().copied()
}

/// Position of a `%` not followed by two digits, at or just before `pos`.
fn bad_percent(text: &str, pos: usize) -> Option<usize> {
    let b = text.as_bytes();
    (pos.saturating_sub(3)..=pos.min(b.len().saturating_sub(1)))
        .rev()
        .find(|&i| b.get(i) == Some(&b'%'))
        .filter(|&i| !(b.len() > i + 2 && b[i + 1].is_ascii_digit() && b[i + 2].is_ascii_digit()))
}

/// Byte position of atom `index` (0-based, input order) in syntactically valid SMILES.
fn atom_position(text: &str, index: usize) -> Option<usize> {
    let b = text.as_bytes();
    let mut seen = 0usize;
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let is_atom = match b[i] {
            b'[' => {
                while i < b.len() && b[i] != b']' {
                    i += 1;
                }
                true
            }
            b'B' | b'C' => {
                if matches!(
                    (b[i], b.get(i + 1)),
                    (b'B', Some(b'r')) | (b'C', Some(b'l'))
                ) {
                    i += 1;
                }
                true
            }
            b'N' | b'O' | b'P' | b'S' | b'F' | b'I' | b'b' | b'c' | b'n' | b'o' | b's' | b'p'
            | b'*' => true,
            b'%' => {
                i += 2;
                false
            }
            _ => false,
        };
        if is_atom {
            if seen == index {
                return Some(start);
            }
            seen += 1;
        }
        i += 1;
    }
    None
}

/// Up to 12 bytes either side of `pos`, with `^` marking the position: `CC(C^`.
fn excerpt(input: &str, pos: usize) -> String {
    let floor = |mut i: usize| {
        while i > 0 && !input.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    let pos = floor(pos.min(input.len()));
    let start = floor(pos.saturating_sub(12));
    let end = floor((pos + 12).min(input.len())).max(pos);
    format!(
        "'{}{}^{}{}'",
        if start > 0 { "…" } else { "" },
        &input[start..pos],
        &input[pos..end],
        if end < input.len() { "…" } else { "" }
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doubled_backslashes_collapse_and_positions_map_back() {
        let p = prepare("  F\\\\C=C\\\\F?");
        assert_eq!(p.text, "F\\C=C\\F?");
        // '?' is byte 7 of the collapsed text, byte 11 of the input (2 spaces + 2 extra '\').
        assert_eq!(p.original_position(7), 11);
        assert_eq!(p.original_position(8), 12);
        assert_eq!(p.original_position(0), 2);
    }

    #[test]
    fn plain_input_is_borrowed() {
        let p = prepare(" CCO\n");
        assert!(matches!(p.text, Cow::Borrowed("CCO")));
        assert_eq!(p.original_position(3), 4);
    }

    #[test]
    fn excerpt_marks_the_position() {
        assert_eq!(excerpt("CC(C", 4), "'CC(C^'");
        assert_eq!(
            excerpt("CCCCCCCCCCCCCCCCCCCCCCCCC?C", 25),
            "'…CCCCCCCCCCCC^?C'"
        );
    }
}
