//! What happens to a SMILES token the vocabulary does not hold.
//!
//! Why this exists: a vocabulary built from a pretraining corpus covers only what that corpus
//! writes. MOSES, for one, has no stereo, no charges, no phosphorus or iodine: with its 28-token
//! vocabulary, 23–82 % of the molecules of each MoleculeNet set carry at least one `<unk>`
//! (`[C@@H]`, `[NH2+]`, `[O-]`, `/`), and every such atom looks the same to the encoder. The
//! [`OovPolicy::Nearest`] policy keeps what the encoder did learn (the element, aromaticity,
//! attached hydrogens) and drops only what it never saw (stereo, isotope, charge): `[C@@H]` → `C`,
//! `[nH+]` → `[nH]`, `[O-]` → `O`, and the double-bond direction marks `/` `\` are left out, which
//! writes the same molecule without its E/Z label. The token count never grows, so positions and
//! truncation are unaffected; an atom with no in-vocabulary element (`[Na+]`, `P` for MOSES)
//! still becomes `<unk>`.

use serde::{Deserialize, Serialize};

use super::vocab::Vocab;

/// How out-of-vocabulary tokens are encoded.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OovPolicy {
    /// Every unknown token becomes `<unk>` (Hugging Face WordLevel behaviour).
    #[default]
    Unk,
    /// SMILES bracket atoms fall back to the nearest in-vocabulary form of the same atom, bond
    /// direction marks are dropped, anything else becomes `<unk>`. SELFIES tokens are left to
    /// `<unk>`: their symbols carry bond orders as well, so a stripped form is not the same atom.
    Nearest,
}

impl OovPolicy {
    /// Parses `unk` / `nearest`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "unk" => Some(OovPolicy::Unk),
            "nearest" => Some(OovPolicy::Nearest),
            _ => None,
        }
    }
}

/// What an out-of-vocabulary SMILES token turns into under [`OovPolicy::Nearest`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fallback {
    /// This in-vocabulary id.
    Id(u32),
    /// Nothing: the token carries only stereo information (`/`, `\`).
    Drop,
    /// `<unk>`.
    Unk,
}

/// The parts of a SMILES bracket atom `[isotope? symbol chirality? hcount? charge? class?]`.
#[derive(Debug, PartialEq, Eq)]
struct BracketAtom<'t> {
    symbol: &'t str,
    /// `H`, `H2`, … or empty.
    hydrogens: &'t str,
    /// `+`, `-2`, `++`, … or empty.
    charge: &'t str,
}

/// Splits a bracket atom; `None` when `token` is not one or does not follow the grammar.
fn parse_bracket(token: &str) -> Option<BracketAtom<'_>> {
    let inner = token.strip_prefix('[')?.strip_suffix(']')?;
    let b = inner.as_bytes();
    let mut i = 0;
    while i < b.len() && b[i].is_ascii_digit() {
        i += 1; // isotope
    }
    let sym_start = i;
    match b.get(i) {
        Some(c) if c.is_ascii_uppercase() => {
            i += 1;
            if b.get(i).is_some_and(|c| c.is_ascii_lowercase()) {
                i += 1;
            }
        }
        Some(c) if c.is_ascii_lowercase() => {
            // Aromatic: two-letter `se`, `as`, `te`, otherwise one letter.
            let two = inner.get(i..i + 2);
            i += if matches!(two, Some("se" | "as" | "te")) {
                2
            } else {
                1
            };
        }
        Some(b'*') => i += 1,
        _ => return None,
    }
    let symbol = &inner[sym_start..i];
    if b.get(i) == Some(&b'@') {
        i += 1;
        if b.get(i) == Some(&b'@') {
            i += 1;
        } else if b
            .get(i..i + 2)
            .is_some_and(|s| s.iter().all(u8::is_ascii_uppercase))
        {
            i += 2; // @TH1, @SP2, @OH15, …
            while i < b.len() && b[i].is_ascii_digit() {
                i += 1;
            }
        }
    }
    let h_start = i;
    if b.get(i) == Some(&b'H') {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    let hydrogens = &inner[h_start..i];
    let c_start = i;
    if matches!(b.get(i), Some(b'+' | b'-')) {
        let sign = b[i];
        i += 1;
        while i < b.len() && (b[i].is_ascii_digit() || b[i] == sign) {
            i += 1;
        }
    }
    let charge = &inner[c_start..i];
    if b.get(i) == Some(&b':') {
        i += 1;
        while i < b.len() && b[i].is_ascii_digit() {
            i += 1;
        }
    }
    (i == b.len()).then_some(BracketAtom {
        symbol,
        hydrogens,
        charge,
    })
}

/// The nearest in-vocabulary form of the SMILES token `token` (assumed not in `vocab`), tried
/// in order: without isotope, stereo and atom class; then also without charge; then the bare
/// element symbol (aromatic stays lowercase). Direction marks are dropped.
pub fn nearest_smiles(token: &str, vocab: &Vocab) -> Fallback {
    if token == "/" || token == "\\" {
        return Fallback::Drop;
    }
    let Some(atom) = parse_bracket(token) else {
        return Fallback::Unk;
    };
    let candidates = [
        format!("[{}{}{}]", atom.symbol, atom.hydrogens, atom.charge),
        format!("[{}{}]", atom.symbol, atom.hydrogens),
        atom.symbol.to_string(),
    ];
    candidates
        .iter()
        .filter(|c| c.as_str() != token)
        .find_map(|c| vocab.id(c))
        .map_or(Fallback::Unk, Fallback::Id)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vocab() -> Vocab {
        let toks = [
            "c", "C", "N", "n", "O", "[nH]", "[NH3+]", "Cl", "(", ")", "1", "=",
        ];
        let mut all: Vec<String> = super::super::SPECIAL_TOKENS
            .iter()
            .map(|s| s.to_string())
            .collect();
        all.extend(toks.iter().map(|s| s.to_string()));
        Vocab::from_tokens(all).unwrap()
    }

    fn id(v: &Vocab, t: &str) -> Fallback {
        Fallback::Id(v.id(t).unwrap())
    }

    #[test]
    fn parses_bracket_atoms() {
        let a = parse_bracket("[13C@@H2+:7]").unwrap();
        assert_eq!((a.symbol, a.hydrogens, a.charge), ("C", "H2", "+"));
        let a = parse_bracket("[Co@OH12-3]").unwrap();
        assert_eq!((a.symbol, a.hydrogens, a.charge), ("Co", "", "-3"));
        let a = parse_bracket("[se]").unwrap();
        assert_eq!(a.symbol, "se");
        let a = parse_bracket("[nH+]").unwrap();
        assert_eq!((a.symbol, a.hydrogens, a.charge), ("n", "H", "+"));
        assert_eq!(parse_bracket("[O--]").unwrap().charge, "--");
        assert!(parse_bracket("C").is_none());
        assert!(parse_bracket("[]").is_none());
        assert!(parse_bracket("[C@@H]x").is_none());
        assert!(parse_bracket("[CH+q]").is_none());
    }

    #[test]
    fn falls_back_to_the_same_atom() {
        let v = vocab();
        // Stereo dropped, element kept.
        assert_eq!(nearest_smiles("[C@@H]", &v), id(&v, "C"));
        assert_eq!(nearest_smiles("[C@]", &v), id(&v, "C"));
        // Charge dropped, hydrogens and aromaticity kept.
        assert_eq!(nearest_smiles("[nH+]", &v), id(&v, "[nH]"));
        assert_eq!(nearest_smiles("[n+]", &v), id(&v, "n"));
        assert_eq!(nearest_smiles("[O-]", &v), id(&v, "O"));
        // Isotope and stereo stripped first, keeping a known charged form.
        assert_eq!(nearest_smiles("[15NH3+]", &v), id(&v, "[NH3+]"));
        assert_eq!(nearest_smiles("[Cl-]", &v), id(&v, "Cl"));
        // Direction marks carry only E/Z.
        assert_eq!(nearest_smiles("/", &v), Fallback::Drop);
        assert_eq!(nearest_smiles("\\", &v), Fallback::Drop);
        // Nothing of the atom is known.
        assert_eq!(nearest_smiles("[Na+]", &v), Fallback::Unk);
        assert_eq!(nearest_smiles("P", &v), Fallback::Unk);
        assert_eq!(nearest_smiles("%12", &v), Fallback::Unk);
        assert_eq!(nearest_smiles(".", &v), Fallback::Unk);
    }
}
