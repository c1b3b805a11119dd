//! SELFIES 1.0 symbol names, as used by ChemGPT's vocabulary, translated to and from 2.x.
//!
//! ChemGPT (Frey et al., 2022) was trained on strings from `selfies` 1.0.x. The two versions
//! share the grammar's index alphabet position for position, and differ only in how symbols are
//! spelled:
//!
//! | 1.0 (ChemGPT)        | 2.x                   | rule                                            |
//! |----------------------|-----------------------|-------------------------------------------------|
//! | `[Branch1_1]`        | `[Branch1]`           | `_1` single, `_2` double, `_3` triple bond      |
//! | `[Branch2_2]`        | `[=Branch2]`          |                                                 |
//! | `[Ring1]`            | `[Ring1]`             | unchanged                                       |
//! | `[Expl=Ring1]`       | `[=Ring1]`            | `Expl` + bond character                          |
//! | `[Expl#Ring2]`       | `[#Ring2]`            |                                                 |
//! | `[Expl/Ring1]`       | `[//Ring1]`           | 1.0 kept one stereo mark; 2.x keeps both ends'   |
//! | `[Expl\Ring1]`       | `[\\Ring1]`           |                                                 |
//! | `[C]`, `[=N]`, `[/C]`| same                  | bare organic-subset atoms are unchanged          |
//! | `[O-expl]`           | `[O-1]`               | bracket atoms: SMILES bracket text + `expl`;     |
//! | `[NHexpl]`, `[=N+expl]` | `[NH1]`, `[=N+1]`  | 2.x writes H counts and charges with digits     |
//! | `[C@@Hexpl]`         | `[C@@H1]`             |                                                 |
//! | `[Cexpl]`, `[Hexpl]` | `[CH0]`, `[H]`        | a bracket atom with no H is `H0` in 2.x if it is |
//! | `[Fe+2expl]`         | `[Fe+2]`              | organic-subset                                   |
//!
//! `from_selfies1_tokens` is exactly `selfies` 2.x's own `decoder(..., compatible=True)`
//! translation (`compatibility.modernize_symbol` on the symbols of each `.` fragment). `to_selfies1_tokens` writes bracket atoms the
//! way 1.0 received them from RDKit SMILES (`H` for one hydrogen, `+`/`-` for unit charges). It
//! is lossless except for 2.x ring symbols with different stereo marks on the two ends
//! (`[-/Ring1]`, `[/\Ring1]`): 1.0 kept the left mark if any, else the right one, and so does
//! the translation.

use super::atom::{push_atom, push_u32, Atom, Chirality};
use super::error::SelfiesError;
use super::smiles_parser::smiles_to_atom;
use super::symbols::split_selfies_iter;
use crate::ChemError;

/// Translates a SELFIES 1.0 string (ChemGPT tokens) to SELFIES 2.x symbols, like `selfies`
/// 2.x's `decoder(s, compatible=True)` does before decoding. Symbols that are already 2.x pass
/// through unchanged.
pub fn from_selfies1_tokens(selfies1: &str) -> Result<String, ChemError> {
    let mut out = String::with_capacity(selfies1.len());
    // Fragment by fragment, as `decoder(compatible=True)` reads them.
    for (k, fragment) in selfies1.split('.').enumerate() {
        if k > 0 {
            out.push('.');
        }
        for symbol in split_selfies_iter(fragment) {
            modernize_symbol(symbol?, &mut out);
        }
    }
    Ok(out)
}

/// Translates a SELFIES 2.x string to the SELFIES 1.0 symbol names ChemGPT's vocabulary uses.
/// Fails on symbols that are not valid SELFIES 2.x symbols (they have no 1.0 spelling).
pub fn to_selfies1_tokens(selfies: &str) -> Result<String, ChemError> {
    let mut out = String::with_capacity(selfies.len() + selfies.len() / 4);
    let mut index = 0;
    // Fragment by fragment, as the decoder reads them, so that `.` (also `..`) is kept as is.
    for (k, fragment) in selfies.split('.').enumerate() {
        if k > 0 {
            out.push('.');
        }
        for symbol in split_selfies_iter(fragment) {
            let symbol = symbol?;
            legacy_symbol(symbol, &mut out).map_err(|reason| SelfiesError::Legacy {
                symbol: symbol.to_string(),
                index,
                reason,
            })?;
            index += 1;
        }
    }
    Ok(out)
}

/// `compatibility.modernize_symbol`.
fn modernize_symbol(symbol: &str, out: &mut String) {
    if let Some(new) = update_table(symbol) {
        out.push_str(&new);
        return;
    }
    if let Some(body) = symbol.strip_suffix("expl]") {
        // Python: if symbol[1] in "=#/\\": bond = symbol[1]; atom = symbol[2:-5]
        //         else: atom = symbol[1:-5]   (character indices, whatever symbol[0] is)
        let mut chars = symbol.char_indices().skip(1);
        let (bond, skip) = match chars.next() {
            Some((i, c @ ('=' | '#' | '/' | '\\'))) => (&symbol[i..i + c.len_utf8()], 2),
            _ => ("", 1),
        };
        let start = symbol
            .char_indices()
            .nth(skip)
            .map_or(symbol.len(), |(i, _)| i)
            .min(body.len());
        let atom_text = &body[start..];
        let bracketed = format!("[{atom_text}]");
        if let Some(atom) = smiles_to_atom(bracketed.as_bytes()).filter(|a| !a.aromatic) {
            out.push('[');
            out.push_str(bond);
            push_atom(out, &atom, false);
            out.push(']');
            return;
        }
    }
    out.push_str(symbol);
}

/// `compatibility._build_update_table`.
fn update_table(symbol: &str) -> Option<String> {
    let inner = symbol.strip_prefix('[')?.strip_suffix(']')?;
    if let Some(rest) = inner.strip_prefix("Branch") {
        // BranchL_X
        let b = rest.as_bytes();
        if let [l @ b'1'..=b'3', b'_', x @ b'1'..=b'3'] = *b {
            let bond = ["", "=", "#"][(x - b'1') as usize];
            return Some(format!("[{bond}Branch{}]", l as char));
        }
        return None;
    }
    if let Some(rest) = inner.strip_prefix("Expl") {
        let b = rest.as_bytes();
        if let [c @ (b'=' | b'#' | b'/' | b'\\'), b'R', b'i', b'n', b'g', l @ b'1'..=b'3'] = *b {
            let prefix = match c {
                b'=' => "=",
                b'#' => "#",
                b'/' => "//",
                _ => "\\\\",
            };
            return Some(format!("[{prefix}Ring{}]", l as char));
        }
    }
    None
}

/// One 2.x symbol in its 1.0 spelling.
fn legacy_symbol(symbol: &str, out: &mut String) -> Result<(), &'static str> {
    if symbol == "[nop]" || symbol == "[epsilon]" {
        out.push_str(symbol);
        return Ok(());
    }
    let inner = symbol
        .strip_prefix('[')
        .and_then(|s| s.strip_suffix(']'))
        .ok_or("not a bracketed symbol")?;
    let b = inner.as_bytes();
    // branches
    let (bond_x, rest) = match b.first() {
        Some(b'=') => (2, &inner[1..]),
        Some(b'#') => (3, &inner[1..]),
        _ => (1, inner),
    };
    if let [b'B', b'r', b'a', b'n', b'c', b'h', l @ b'1'..=b'3'] = *rest.as_bytes() {
        out.push_str("[Branch");
        out.push(l as char);
        out.push('_');
        push_u32(out, bond_x);
        out.push(']');
        return Ok(());
    }
    // rings
    if let Some(prefix) = inner
        .strip_suffix(|c: char| ('1'..='3').contains(&c))
        .and_then(|s| s.strip_suffix("Ring"))
    {
        let l = &inner[inner.len() - 1..];
        let expl = match prefix {
            "" => {
                out.push_str(symbol);
                return Ok(());
            }
            "=" | "#" => prefix.as_bytes()[0],
            _ => {
                let p = prefix.as_bytes();
                let ok = |c: u8| matches!(c, b'-' | b'/' | b'\\');
                if p.len() != 2 || !ok(p[0]) || !ok(p[1]) || p == b"--" {
                    return Err("unknown ring symbol");
                }
                // 1.0 kept the left mark if there was one, else the right one.
                if p[0] != b'-' {
                    p[0]
                } else {
                    p[1]
                }
            }
        };
        out.push_str("[Expl");
        out.push(expl as char);
        out.push_str("Ring");
        out.push_str(l);
        out.push(']');
        return Ok(());
    }
    // atoms
    let (bond, body) = match b.first() {
        Some(&c @ (b'=' | b'#' | b'/' | b'\\')) => (Some(c as char), &inner[1..]),
        _ => (None, inner),
    };
    if matches!(
        body,
        "B" | "C" | "N" | "O" | "S" | "P" | "F" | "Cl" | "Br" | "I"
    ) {
        out.push_str(symbol);
        return Ok(());
    }
    let atom = selfies2_bracket_atom(body).ok_or("not a SELFIES 2.x symbol")?;
    out.push('[');
    if let Some(c) = bond {
        out.push(c);
    }
    if let Some(iso) = atom.isotope {
        push_u32(out, iso);
    }
    out.push_str(atom.element.symbol());
    out.push_str(match atom.chirality {
        Chirality::None => "",
        Chirality::Ccw => "@",
        Chirality::Cw => "@@",
    });
    match atom.h_count.unwrap_or(0) {
        0 => {}
        1 => out.push('H'),
        h => {
            out.push('H');
            push_u32(out, h as u32);
        }
    }
    match atom.charge {
        0 => {}
        1 => out.push('+'),
        -1 => out.push('-'),
        c => {
            out.push(if c > 0 { '+' } else { '-' });
            push_u32(out, c.unsigned_abs());
        }
    }
    out.push_str("expl]");
    Ok(())
}

/// A 2.x bracket-atom body (`13CH3`, `N+1`, `C@@H1`). Read as a SMILES bracket atom rather
/// than with the decoder's stricter symbol rules, so that every symbol the encoder writes
/// translates, including charges such as `+10` that the decoder itself rejects.
fn selfies2_bracket_atom(body: &str) -> Option<Atom> {
    let symbol = format!("[{body}]");
    smiles_to_atom(symbol.as_bytes()).filter(|a| !a.aromatic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chemgpt_names_round_trip() {
        let pairs = [
            ("[Branch1_1]", "[Branch1]"),
            ("[Branch2_2]", "[=Branch2]"),
            ("[Branch3_3]", "[#Branch3]"),
            ("[Ring2]", "[Ring2]"),
            ("[Expl=Ring1]", "[=Ring1]"),
            ("[Expl#Ring3]", "[#Ring3]"),
            ("[Expl/Ring1]", "[//Ring1]"),
            ("[Expl\\Ring2]", "[\\\\Ring2]"),
            ("[O-expl]", "[O-1]"),
            ("[NHexpl]", "[NH1]"),
            ("[=N+expl]", "[=N+1]"),
            ("[C@@Hexpl]", "[C@@H1]"),
            ("[Cexpl]", "[CH0]"),
            ("[Hexpl]", "[H]"),
            ("[Na+expl]", "[Na+1]"),
            ("[Fe+2expl]", "[Fe+2]"),
            ("[13CH3expl]", "[13CH3]"),
            ("[/C@Hexpl]", "[/C@H1]"),
            ("[=C]", "[=C]"),
            ("[Cl]", "[Cl]"),
            ("[epsilon]", "[epsilon]"),
            ("[C].[O-expl]", "[C].[O-1]"),
        ];
        for (old, new) in pairs {
            assert_eq!(from_selfies1_tokens(old).unwrap(), new, "{old}");
            assert_eq!(to_selfies1_tokens(new).unwrap(), old, "{new}");
        }
        assert_eq!(to_selfies1_tokens("[-/Ring1]").unwrap(), "[Expl/Ring1]");
        assert_eq!(to_selfies1_tokens("[\\/Ring1]").unwrap(), "[Expl\\Ring1]");
        assert!(to_selfies1_tokens("[Xx]").is_err());
        assert!(to_selfies1_tokens("[Branch4]").is_err());
        // aromatic or unreadable 1.0 atoms pass through, as in Python
        assert_eq!(from_selfies1_tokens("[cexpl]").unwrap(), "[cexpl]");
    }
}
