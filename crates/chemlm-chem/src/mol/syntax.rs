//! SMILES syntax as RDKit judges it, checked before chematic parses.
//!
//! chematic accepts some strings RDKit rejects and silently reads them as a different molecule
//! (`CS(=)(=O)C`, a sulfone with a dangling `=`, became a sulfoxide), and rejects one form RDKit
//! accepts: a `.` inside a branch (`C(C.c1ccccc1)O`: the part after the dot is a separate
//! fragment; the branch's `)` returns to the atom before its `(`). This pass walks the tokens
//! outside bracket atoms and
//! - rejects a bond not followed by an atom or ring-bond number, a ring-bond number, branch or
//!   `.` with no atom before it, an empty branch, a `.` at either end or doubled, `@` outside
//!   brackets, and isotope or atom-map numbers RDKit's lexer does not read (above 2,147,483,639,
//!   or with a leading zero: `[01C]`, `[C:00]`); the ones above chematic's 16 bits are read as RDKit
//!   reads them by `labels`;
//! - rewrites a branch dot into RDKit's meaning: the fragment after it is moved to the end as a
//!   top-level `.` fragment, with ring-bond numbers renumbered uniquely first so that pairs still
//!   close across the move (`C(C.C1)CC1` is one chain in RDKit);
//! - resolves a ring bond written with different bond symbols at its two ends as RDKit does
//!   (chematic refuses it): the opening end's symbol wins, unless it is directional (`/`, `\`) and
//!   the closing one is not — `C=1CCCCC#1` is cyclohexene, `C/1CCCCC=1` too.
//!
//! Everything it cannot classify (an unknown character, unbalanced parentheses, an unclosed
//! bracket) is left for chematic to report.

/// A syntax error: byte offset into the checked text and the reason.
pub(crate) type SyntaxError = (usize, String);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Atom,
    Ring(u32),
    Bond,
    Open,
    Close,
    Dot,
}

#[derive(Clone, Copy, Debug)]
struct Token {
    kind: Kind,
    start: usize,
    end: usize,
}

/// Most dummy atoms (`*`) accepted in a SMILES with aromatic atoms. Kekulization lets a dummy
/// atom take either role in an aromatic system and backtracks over the choices, exponentially in
/// their number (RDKit's too: 30 dummies in one string ran for over two minutes in both); no real
/// molecule, polymer repeat unit or attachment-point SMILES comes near this.
pub(crate) const MAX_AROMATIC_DUMMIES: usize = 8;

/// Largest isotope or atom-map number RDKit's SMILES lexer reads (measured: 2,147,483,640 is
/// "number too large"; RDKit 2026.09).
pub(crate) const MAX_LABEL: u64 = 2_147_483_639;

/// Element symbols (bracket atoms may hold any of them).
const ELEMENTS: &str = "H He Li Be B C N O F Ne Na Mg Al Si P S Cl Ar K Ca Sc Ti V Cr Mn Fe Co Ni \
    Cu Zn Ga Ge As Se Br Kr Rb Sr Y Zr Nb Mo Tc Ru Rh Pd Ag Cd In Sn Sb Te I Xe Cs Ba La Ce Pr Nd Pm \
    Sm Eu Gd Tb Dy Ho Er Tm Yb Lu Hf Ta W Re Os Ir Pt Au Hg Tl Pb Bi Po At Rn Fr Ra Ac Th Pa U Np Pu \
    Am Cm Bk Cf Es Fm Md No Lr Rf Db Sg Bh Hs Mt Ds Rg Cn Nh Fl Mc Lv Ts Og";

/// Aromatic symbols allowed inside brackets.
const AROMATIC: [&str; 9] = ["b", "c", "n", "o", "p", "s", "se", "as", "te"];

/// The grammar of a bracket atom after its isotope: symbol, chirality, H count, charge, map.
/// Returns the byte offset (within `body`) of the first character that does not fit.
fn bracket_grammar(body: &str) -> Result<(), usize> {
    let b = body.as_bytes();
    let mut i;
    // Symbol: `*`, an element (upper + lower letters), or an aromatic symbol.
    if b.first() == Some(&b'*') {
        i = 1;
    } else if b.first().is_some_and(u8::is_ascii_uppercase) {
        let mut j = 1;
        while j < b.len() && b[j].is_ascii_lowercase() {
            j += 1;
        }
        // The longest prefix that is an element (`Cn` vs `C` followed by nothing else valid).
        let sym = (1..=j)
            .rev()
            .find(|&k| ELEMENTS.split_whitespace().any(|e| e == &body[..k]));
        i = sym.ok_or(0usize)?;
    } else {
        i = AROMATIC
            .iter()
            .filter(|a| body.starts_with(**a))
            .map(|a| a.len())
            .max()
            .ok_or(0usize)?;
    }
    // Chirality.
    if b.get(i) == Some(&b'@') {
        i += 1;
        if b.get(i) == Some(&b'@') {
            i += 1;
        } else {
            for class in ["TH", "AL", "SP", "TB", "OH"] {
                if body[i..].starts_with(class) {
                    i += 2;
                    let d = body[i..].bytes().take_while(u8::is_ascii_digit).count();
                    // RDKit also reads a class without its number (`[C@OH]`).
                    if d > 2 {
                        return Err(i);
                    }
                    i += d;
                    break;
                }
            }
        }
    }
    // Hydrogens.
    if b.get(i) == Some(&b'H') {
        i += 1;
        i += body[i..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count()
            .min(1);
    }
    // Charge: `+`, `++`, `+2`, `-`, ...
    if let Some(&sign) = b.get(i).filter(|c| matches!(c, b'+' | b'-')) {
        i += 1;
        let digits = body[i..].bytes().take_while(u8::is_ascii_digit).count();
        if digits > 0 {
            i += digits;
        } else {
            while b.get(i) == Some(&sign) {
                i += 1;
            }
        }
    }
    // Atom map: `:` and at least one digit.
    if b.get(i) == Some(&b':') {
        i += 1;
        let d = body[i..].bytes().take_while(u8::is_ascii_digit).count();
        if d == 0 {
            return Err(i);
        }
        i += d;
    }
    if i == b.len() {
        Ok(())
    } else {
        Err(i)
    }
}

fn bracket_labels(text: &str, start: usize, end: usize) -> Result<(), SyntaxError> {
    // `[` isotope? symbol ... (`:` map)? `]`
    let inner = &text[start + 1..];
    let iso_len = inner.bytes().take_while(u8::is_ascii_digit).count();
    if let Err(at) = bracket_grammar(&text[start + 1 + iso_len..end]) {
        return Err((
            start + 1 + iso_len + at,
            format!("invalid bracket atom '{}'", &text[start..=end]),
        ));
    }
    let digits: String = inner.chars().take_while(char::is_ascii_digit).collect();
    label_number(&digits, "isotope").map_err(|reason| (start + 1, reason))?;
    if let Some(colon) = inner.find(':') {
        let map: String = inner[colon + 1..]
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        label_number(&map, "atom-map number").map_err(|reason| (start + 1 + colon + 1, reason))?;
    }
    Ok(())
}

/// RDKit's lexer on an isotope or atom-map number: no leading zero on a number of two or more
/// digits, and at most [`MAX_LABEL`].
fn label_number(digits: &str, what: &str) -> Result<(), String> {
    if digits.len() > 1 && digits.starts_with('0') {
        return Err(format!("{what} {digits} has a leading zero"));
    }
    if !digits.is_empty() && digits.parse::<u64>().map_or(true, |v| v > MAX_LABEL) {
        return Err(format!(
            "{what} {digits} is above {MAX_LABEL}, the largest RDKit reads"
        ));
    }
    Ok(())
}

/// Tokens outside brackets; `None` when something is left for chematic to judge.
fn tokenize(text: &str) -> Result<Option<Vec<Token>>, SyntaxError> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let start = i;
        let kind = match b[i] {
            b'[' => {
                let Some(close) = text[i..].find(']') else {
                    return Ok(None);
                };
                bracket_labels(text, i, i + close)?;
                i += close + 1;
                Kind::Atom
            }
            b'%' => {
                if b.get(i + 1) == Some(&b'(') {
                    let Some(close) = text[i..].find(')') else {
                        return Ok(None);
                    };
                    let Ok(n) = text[i + 2..i + close].parse::<u32>() else {
                        return Ok(None);
                    };
                    i += close + 1;
                    Kind::Ring(n)
                } else {
                    let Some(n) = text
                        .get(i + 1..i + 3)
                        .filter(|d| d.bytes().all(|c| c.is_ascii_digit()))
                        .and_then(|d| d.parse::<u32>().ok())
                    else {
                        return Ok(None);
                    };
                    i += 3;
                    Kind::Ring(n)
                }
            }
            c if c.is_ascii_digit() => {
                i += 1;
                Kind::Ring(u32::from(c - b'0'))
            }
            c if c.is_ascii_alphabetic() || c == b'*' => {
                i += 1;
                Kind::Atom
            }
            b'-' | b'=' | b'#' | b'$' | b':' | b'/' | b'\\' => {
                i += 1;
                Kind::Bond
            }
            b'(' => {
                i += 1;
                Kind::Open
            }
            b')' => {
                i += 1;
                Kind::Close
            }
            b'.' => {
                i += 1;
                Kind::Dot
            }
            b'@' => return Err((i, "'@' outside a bracket atom".to_string())),
            _ => return Ok(None),
        };
        out.push(Token {
            kind,
            start,
            end: i,
        });
    }
    Ok(Some(out))
}

fn has_atom_before(prev: Option<Kind>) -> bool {
    matches!(prev, Some(Kind::Atom | Kind::Ring(_) | Kind::Close))
}

/// Checks `text`; returns a rewritten string when branch dots need RDKit's reading, `None` when
/// the text can go to chematic as it is.
pub(crate) fn check(text: &str) -> Result<Option<String>, SyntaxError> {
    let Some(tokens) = tokenize(text)? else {
        return Ok(None);
    };
    let mut prev: Option<Kind> = None;
    let mut depth = 0usize;
    let mut branch_dot = false;
    // The bond graph so far, to refuse what RDKit refuses: a ring bond from an atom to itself, or
    // a second bond between the same two atoms (`C1C1`, `C12CC12`).
    let mut atoms = 0usize;
    let mut cur: Option<usize> = None;
    let mut stack: Vec<Option<usize>> = Vec::new();
    // Open ring bonds: number → (atom, index of the bond token written before the number).
    let mut open_rings: std::collections::HashMap<u32, (usize, Option<usize>)> = Default::default();
    // Bond tokens that lose a ring-bond conflict and are left out of the rewritten text.
    let mut dropped = vec![false; tokens.len()];
    let mut bonds: std::collections::HashSet<(usize, usize)> = Default::default();
    let key = |a: usize, b: usize| (a.min(b), a.max(b));
    for (ti, t) in tokens.iter().enumerate() {
        let sym = &text[t.start..t.end];
        if prev == Some(Kind::Bond) && !matches!(t.kind, Kind::Atom | Kind::Ring(_)) {
            return Err((
                t.start,
                "a bond symbol must be followed by an atom or a ring-bond number".into(),
            ));
        }
        match t.kind {
            Kind::Atom => {
                if let Some(c) = cur {
                    bonds.insert(key(c, atoms));
                }
                cur = Some(atoms);
                atoms += 1;
            }
            Kind::Ring(n) => {
                if !has_atom_before(prev) && prev != Some(Kind::Bond) {
                    return Err((t.start, format!("ring-bond number '{sym}' without an atom")));
                }
                let Some(c) = cur else {
                    return Ok(None);
                };
                let bond = (prev == Some(Kind::Bond)).then(|| ti - 1);
                match open_rings.remove(&n) {
                    None => {
                        open_rings.insert(n, (c, bond));
                    }
                    Some((o, _)) if o == c => {
                        return Err((t.start, format!("ring bond {n} closes on its own atom")))
                    }
                    Some((o, open_bond)) => {
                        if !bonds.insert(key(o, c)) {
                            return Err((
                                t.start,
                                format!("ring bond {n} joins two atoms already bonded"),
                            ));
                        }
                        if let (Some(a), Some(b)) = (open_bond, bond) {
                            let sym_of = |i: usize| &text[tokens[i].start..tokens[i].end];
                            let directional = |i: usize| matches!(sym_of(i), "/" | "\\");
                            // Two directional marks conflict even when equal (`C\1…C\1` asks for
                            // opposite directions); RDKit keeps a plain single bond.
                            if sym_of(a) != sym_of(b) || (directional(a) && directional(b)) {
                                let loser = if directional(a) && !directional(b) {
                                    a
                                } else {
                                    b
                                };
                                dropped[loser] = true;
                            }
                        }
                    }
                }
            }
            Kind::Bond => {
                if !has_atom_before(prev) && prev != Some(Kind::Open) {
                    return Err((t.start, format!("bond '{sym}' without an atom before it")));
                }
            }
            Kind::Open => {
                if !has_atom_before(prev) {
                    let reason = if prev == Some(Kind::Open) {
                        "a branch cannot open another branch directly"
                    } else {
                        "a branch needs an atom before it"
                    };
                    return Err((t.start, reason.into()));
                }
                depth += 1;
                stack.push(cur);
            }
            Kind::Close => {
                if prev == Some(Kind::Open) {
                    return Err((t.start, "empty branch '()'".into()));
                }
                if prev == Some(Kind::Dot) {
                    return Err((t.start, "'.' must be followed by an atom".into()));
                }
                if depth == 0 {
                    return Ok(None); // unbalanced: chematic's message
                }
                depth -= 1;
                cur = stack.pop().flatten();
            }
            Kind::Dot => {
                if prev.is_none() {
                    return Err((t.start, "SMILES cannot start with '.'".into()));
                }
                if !has_atom_before(prev) {
                    return Err((t.start, "'.' must follow an atom".into()));
                }
                branch_dot |= depth > 0;
                cur = None;
            }
        }
        prev = Some(t.kind);
    }
    match prev {
        Some(Kind::Bond) => {
            return Err((
                text.len(),
                "a bond symbol must be followed by an atom or a ring-bond number".into(),
            ))
        }
        Some(Kind::Dot) => return Err((text.len(), "SMILES cannot end with '.'".into())),
        _ => {}
    }
    // Aromatic systems with many dummy atoms: refused before kekulization can run away. Only
    // dummies with two or more bonds count: a terminal one (an attachment point, `[16*]c1ccccc1`,
    // as BRICS writes them) is never in a ring, so kekulization never chooses for it.
    let sym_of = |t: &Token| {
        text[t.start..t.end]
            .trim_start_matches('[')
            .trim_start_matches(|c: char| c.is_ascii_digit())
    };
    let aromatic = tokens.iter().any(|t| {
        (t.kind == Kind::Atom && sym_of(t).starts_with(|c: char| c.is_ascii_lowercase()))
            || (t.kind == Kind::Bond && sym_of(t) == ":")
    });
    if aromatic {
        let mut degree = vec![0usize; atoms];
        for &(a, b) in &bonds {
            degree[a] += 1;
            degree[b] += 1;
        }
        let mut inner_dummies = tokens
            .iter()
            .filter(|t| t.kind == Kind::Atom)
            .zip(&degree)
            .filter(|(t, &d)| d >= 2 && sym_of(t).starts_with('*'))
            .map(|(t, _)| t);
        if let Some(t) = inner_dummies.nth(MAX_AROMATIC_DUMMIES) {
            return Err((
                t.start,
                format!(
                    "more than {MAX_AROMATIC_DUMMIES} dummy atoms ('*') inside chains or rings \
                     with aromatic atoms: kekulizing them takes time exponential in their number"
                ),
            ));
        }
    }
    let conflicts = dropped.iter().any(|&d| d);
    if depth != 0 || !(branch_dot || conflicts) {
        return Ok(None);
    }
    Ok(Some(rewrite(text, &tokens, &dropped)))
}

/// Ring-bond numbers made unique per pair (in order of appearance), so fragments can move.
fn unique_rings(tokens: &[Token]) -> Vec<Option<u32>> {
    let mut open: std::collections::HashMap<u32, u32> = Default::default();
    let mut next = 0u32;
    tokens
        .iter()
        .map(|t| match t.kind {
            Kind::Ring(n) => Some(match open.remove(&n) {
                Some(id) => id,
                None => {
                    next += 1;
                    open.insert(n, next);
                    next
                }
            }),
            _ => None,
        })
        .collect()
}

fn ring_label(id: u32) -> String {
    match id {
        0..=9 => id.to_string(),
        10..=99 => format!("%{id}"),
        _ => format!("%({id})"),
    }
}

/// Emits tokens `lo..hi` (a balanced range); fragments after branch dots go to `extra`.
fn emit(
    text: &str,
    tokens: &[Token],
    (rings, dropped): (&[Option<u32>], &[bool]),
    lo: usize,
    hi: usize,
    extra: &mut Vec<String>,
) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    let mut i = lo;
    while i < hi {
        let t = tokens[i];
        match t.kind {
            Kind::Open => depth += 1,
            Kind::Close => depth = depth.saturating_sub(1),
            Kind::Dot if depth > 0 => {
                // The fragment runs to the `)` that closes this branch.
                let mut d = 0usize;
                let mut j = i + 1;
                while j < hi {
                    match tokens[j].kind {
                        Kind::Open => d += 1,
                        Kind::Close if d == 0 => break,
                        Kind::Close => d -= 1,
                        _ => {}
                    }
                    j += 1;
                }
                let frag = emit(text, tokens, (rings, dropped), i + 1, j, extra);
                extra.push(frag);
                i = j;
                continue;
            }
            _ => {}
        }
        match rings[i] {
            _ if dropped[i] => {}
            Some(id) => out.push_str(&ring_label(id)),
            None => out.push_str(&text[t.start..t.end]),
        }
        i += 1;
    }
    out
}

fn rewrite(text: &str, tokens: &[Token], dropped: &[bool]) -> String {
    let rings = unique_rings(tokens);
    let mut extra = Vec::new();
    let mut out = emit(text, tokens, (&rings, dropped), 0, tokens.len(), &mut extra);
    for f in extra {
        out.push('.');
        out.push_str(&f);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rejects_what_rdkit_rejects() {
        for s in [
            "CC(=)N",
            "CS(=)(=O)C",
            "NC()C",
            "Cc1cc@cnc1",
            "CCO.",
            ".CCO",
            "C..C",
            "N-(C)",
            "(C)C",
            "C=(C)C",
            "CC=",
            "C#",
            "C/(C)=C",
            "C(.C)C",
            "C.(C)",
            "C(C.)C",
            "C((C))C",
            "C=.C",
            "C1(.C1)",
            "[C:99999999999]",
            "[2147483640C]",
            "[C:2147483640]",
            "[C:99999999999999999999999]",
            "[01C]",
            "[00C]",
            "[C:01]",
            "[C:00]",
            "[cnH]",
            "[npH]",
            "[no]",
            "[nH:]",
            "[C:]",
            "[C@@@H]",
            "[C+-]",
            "[Xx]",
            "[C H]",
            "C55",
            "C11",
            "C1C1",
            "C(C1)1",
            "C1(C1)",
            "C12C.C12",
            "C12CCC12",
            "c1cc(CN*****)********\\**********nnncnnnsnnnnnnnCnnn(OC)*c1",
            "c1ccccc1**********",
            "c1ccccc1[*][*][*][*][*][*][*][*][2*][*]",
        ] {
            assert!(check(s).is_err(), "{s} accepted");
        }
    }

    #[test]
    fn leaves_valid_forms_alone_and_rewrites_branch_dots() {
        for s in [
            "C(C)(C)",
            "C(=C)",
            "C1CC=1",
            "C=1CC1",
            "C(C)1CC1",
            "C1.C1",
            "C=1.C1",
            "[C:65535]",
            "[C:65536]",
            "[70000C]",
            "[2147483639C]",
            "[C:2147483639]",
            "[0C]",
            "[C@TH1H]",
            "[Fe++]",
            "[2H+]",
            "[Se]",
            "[se]",
            "[C-:3]",
            "[CH-2:3]",
            "[C:0]",
            "[*:1]",
            "[HH]",
            "[C@@H2]",
            "[C@TB12]",
            "[C@OH]",
            "[C--]",
            "[C+10]",
            "CC1.C1C",
            "C1C.C1",
            "[nH]1cccc1",
            "[13CH3:7]C",
            "c1ccccc1*********",
            "C*********************C",
            "[1*]c1ccccc1.[2*]C.[3*]C.[4*]C.[5*]C.[6*]C.[7*]C.[8*]C.[9*]C.[10*]C",
        ] {
            assert_eq!(check(s).unwrap(), None, "{s}");
        }
        assert_eq!(
            check("Cc1cc(C)nc(C(=O).c2ccccc2Cl)n1").unwrap().as_deref(),
            Some("Cc1cc(C)nc(C(=O))n1.c2ccccc2Cl")
        );
        assert_eq!(check("C(C.C1)CC1").unwrap().as_deref(), Some("C(C)CC1.C1"));
        assert_eq!(check("C(C.C.C)C").unwrap().as_deref(), Some("C(C)C.C.C"));
        // Ring bonds with two different symbols: RDKit's winner stays.
        for (s, want) in [
            ("C=1CCCCC#1", "C=1CCCCC1"),
            ("C-1CCCCC=1", "C-1CCCCC1"),
            ("C/1CCCCC=1", "C1CCCCC=1"),
            ("C:1CCCCC/1", "C:1CCCCC1"),
            ("C/1CCCCC\\1", "C/1CCCCC1"),
            ("C\\1CCCCC\\1", "C\\1CCCCC1"),
        ] {
            assert_eq!(check(s).unwrap().as_deref(), Some(want), "{s}");
        }
    }
}
