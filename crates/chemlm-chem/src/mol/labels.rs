//! Isotope and atom-map numbers beyond chematic's 16 bits, read as RDKit reads them.
//!
//! RDKit reads both numbers up to `syntax::MAX_LABEL` (2,147,483,639); chematic stores 16 bits and
//! would clamp the rest to 65535. So, after the syntax check and before chematic parses:
//! - an isotope above 65535 becomes the number RDKit stores, the value modulo 65536 (RDKit keeps
//!   its isotopes in 16 bits: `[70000C]` is `[4464C]` in RDKit and `[65536C]` plain `[C]`); an
//!   isotope that large is no nuclide, so RDKit's result is the only one to agree with;
//! - atom maps are kept exactly: when any map number is above 65535, every positive map number in
//!   the string is replaced by its rank among the distinct ones (1, 2, …; a molecule has at most
//!   `MAX_ATOMS` atoms, so ranks fit), and [`MapTable::restore`] writes the original numbers back
//!   into every SMILES the molecule produces. Ranks keep the numbers' order, and RDKit's canonical
//!   ranking only compares map numbers, so the canonical atom order is the one RDKit finds.

/// Ranked atom-map number → original number (`numbers[rank - 1]`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MapTable {
    numbers: Vec<u32>,
}

/// Chematic's largest isotope or atom-map number.
const STORED_MAX: u64 = 65535;

/// One bracket atom's label digits: byte ranges of the isotope and of the atom-map number.
struct Labels {
    isotope: Option<(usize, usize)>,
    map: Option<(usize, usize)>,
}

/// The isotope and map digit ranges of every bracket atom in `text` (brackets do not nest in
/// SMILES; an unclosed one ends the scan and is left for the parser to report).
fn bracket_labels(text: &str) -> Vec<Labels> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'[' {
            i += 1;
            continue;
        }
        let Some(len) = text[i..].find(']') else {
            break;
        };
        let (open, close) = (i, i + len);
        let iso_len = b[open + 1..close]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let isotope = (iso_len > 0).then_some((open + 1, open + 1 + iso_len));
        // The map is the digits after the last `:` and right before `]`.
        let map_len = b[open + 1..close]
            .iter()
            .rev()
            .take_while(|c| c.is_ascii_digit())
            .count();
        let map = (map_len > 0 && close - map_len > open + 1 && b[close - map_len - 1] == b':')
            .then_some((close - map_len, close));
        out.push(Labels { isotope, map });
        i = close + 1;
    }
    out
}

/// Whether `text` holds `n` or more ASCII digits in a row.
fn has_digit_run(text: &str, n: usize) -> bool {
    let mut run = 0;
    text.bytes().any(|b| {
        run = if b.is_ascii_digit() { run + 1 } else { 0 };
        run >= n
    })
}

/// Number of a digit range (the syntax check has bounded it to [`super::syntax::MAX_LABEL`]).
fn number(text: &str, (start, end): (usize, usize)) -> u64 {
    text[start..end].parse().unwrap_or(u64::MAX)
}

/// `text` with isotopes and atom maps above 65535 rewritten as described in the module docs, and
/// the table that restores the maps; `None` when every number fits (nearly always).
pub(crate) fn widen(text: &str) -> Option<(String, Option<MapTable>)> {
    // Every molecule passes here: a number above 65535 needs five digits in a row, so strings
    // without such a run (nearly all) skip the bracket scan and its allocation.
    if !text.contains('[') || !has_digit_run(text, 5) {
        return None;
    }
    let labels = bracket_labels(text);
    let big_isotope = labels
        .iter()
        .filter_map(|l| l.isotope)
        .any(|r| number(text, r) > STORED_MAX);
    let big_map = labels
        .iter()
        .filter_map(|l| l.map)
        .any(|r| number(text, r) > STORED_MAX);
    if !big_isotope && !big_map {
        return None;
    }
    let table = big_map.then(|| {
        let mut numbers: Vec<u32> = labels
            .iter()
            .filter_map(|l| l.map)
            .map(|r| u32::try_from(number(text, r)).unwrap_or(u32::MAX))
            .filter(|&n| n > 0)
            .collect();
        numbers.sort_unstable();
        numbers.dedup();
        MapTable { numbers }
    });
    // Replacements in text order: (range, new digits).
    let mut edits: Vec<((usize, usize), String)> = Vec::new();
    for l in &labels {
        if let Some(r) = l.isotope {
            let n = number(text, r);
            if n > STORED_MAX {
                let stored = n % (STORED_MAX + 1);
                // Isotope 0 is no isotope, as `[0C]` is `[C]`.
                edits.push((
                    r,
                    if stored == 0 {
                        String::new()
                    } else {
                        stored.to_string()
                    },
                ));
            }
        }
        if let (Some(r), Some(t)) = (l.map, &table) {
            let n = u32::try_from(number(text, r)).unwrap_or(u32::MAX);
            if let Ok(rank) = t.numbers.binary_search(&n) {
                edits.push((r, (rank + 1).to_string()));
            }
        }
    }
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for ((start, end), digits) in edits {
        out.push_str(&text[at..start]);
        out.push_str(&digits);
        at = end;
    }
    out.push_str(&text[at..]);
    Some((out, table))
}

impl MapTable {
    /// `smiles` (written from the ranked molecule) with each atom-map rank replaced by the number
    /// the input gave.
    pub(crate) fn restore(&self, smiles: &str) -> String {
        let labels = bracket_labels(smiles);
        let mut out = String::with_capacity(smiles.len() + 8 * self.numbers.len());
        let mut at = 0;
        for r in labels.iter().filter_map(|l| l.map) {
            let rank = number(smiles, r);
            let Some(&original) = usize::try_from(rank)
                .ok()
                .and_then(|k| k.checked_sub(1))
                .and_then(|k| self.numbers.get(k))
            else {
                continue;
            };
            out.push_str(&smiles[at..r.0]);
            out.push_str(&original.to_string());
            at = r.1;
        }
        out.push_str(&smiles[at..]);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_numbers_are_left_alone() {
        for s in [
            "CCO",
            "[13CH3:7]C",
            "[C:65535]",
            "[65535C]",
            "[C@@H:12](F)Cl",
            "[C:0]",
        ] {
            assert_eq!(widen(s), None, "{s}");
        }
    }

    #[test]
    fn isotopes_wrap_as_rdkit_stores_them() {
        assert_eq!(widen("[70000C]CC").unwrap().0, "[4464C]CC");
        assert_eq!(widen("[65536C]").unwrap().0, "[C]");
        assert_eq!(
            widen("[1000000CH3:5]C").unwrap(),
            ("[16960CH3:5]C".into(), None)
        );
    }

    #[test]
    fn maps_are_ranked_and_restored() {
        let (text, table) = widen("[CH3:70000]C[13CH2:9]O[C:70000].[C:0][OH:65535]").unwrap();
        assert_eq!(text, "[CH3:3]C[13CH2:1]O[C:3].[C:0][OH:2]");
        let table = table.unwrap();
        assert_eq!(table.numbers, vec![9, 65535, 70000]);
        assert_eq!(
            table.restore("[CH3:3]C[13CH2:1]O[C:3].[C:0][OH:2]"),
            "[CH3:70000]C[13CH2:9]O[C:70000].[C:0][OH:65535]"
        );
        // A number outside the table (none is written, but be safe) stays as it is.
        assert_eq!(table.restore("[C:7]"), "[C:7]");
    }
}
