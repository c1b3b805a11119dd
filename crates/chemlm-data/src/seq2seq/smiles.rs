//! SMILES handling for the reaction tasks: canonicalisation of multi-molecule strings and GT4SD's
//! way of writing salts.
//!
//! GT4SD's multi-task data (`dataset-sample/*.jsonl` in GT4SD/multitask_text_and_chemistry_t5)
//! separates the molecules of a reaction side by `.` and joins the ions of ONE compound by `~`
//! (rxn4chemistry's fragment bond): `CO.COC(=O)c1ccc2cc(C(=O)OC)ccc2c1.[Na+]~[OH-]` →
//! `O=C([O-])c1ccc2cc(C(=O)[O-])ccc2c1~[Na+]~[Na+]`. Their source (Pistachio) records which ions form
//! a compound; USPTO-50K and USPTO-MIT do not, so [`group_salts`] rebuilds the grouping from charges:
//! charged components are taken in order and joined while their running charge is not zero; a group
//! closes when it is neutral and is written where its first ion was. Neutral molecules (zwitterions and
//! nitro groups included) are never grouped, and ions that cannot be balanced stay `.`-separated.
//!
//! One thing of GT4SD's sample we do not copy: its ChEBI SMILES carry every `\` twice
//! (`C/C=C\\C`, a JSON double-escaping slip), which is not valid SMILES; we write the molecule as
//! it is, and the tokenizer keeps the single `\` (see [`crate::tokenizer::escape`]).

/// Net formal charge of one SMILES component (no `.`), from its bracket atoms.
pub fn net_charge(component: &str) -> i64 {
    let b = component.as_bytes();
    let mut total = 0i64;
    let mut i = 0;
    while i < b.len() {
        if b[i] != b'[' {
            i += 1;
            continue;
        }
        let end = match b[i..].iter().position(|&c| c == b']') {
            Some(p) => i + p,
            None => break,
        };
        let atom = &b[i + 1..end];
        if let Some(p) = atom.iter().position(|&c| c == b'+' || c == b'-') {
            let sign = if atom[p] == b'+' { 1 } else { -1 };
            let rest = &atom[p + 1..];
            let repeats = rest.iter().take_while(|&&c| c == atom[p]).count();
            let digits: String = rest
                .iter()
                .take_while(|c| c.is_ascii_digit())
                .map(|&c| c as char)
                .collect();
            let n = if repeats > 0 {
                1 + repeats as i64
            } else {
                digits.parse::<i64>().unwrap_or(1)
            };
            total += sign * n;
        }
        i = end + 1;
    }
    total
}

/// Joins the ions of each salt with `~` (see the module docs); `.` stays between molecules.
pub fn group_salts(smiles: &str) -> String {
    if smiles.contains('~') || !smiles.contains('.') {
        return smiles.to_string();
    }
    let comps: Vec<&str> = smiles.split('.').collect();
    // group[i] = index of the group component i belongs to (None: stands alone).
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut open: Vec<usize> = Vec::new();
    let mut running = 0i64;
    for (i, c) in comps.iter().enumerate() {
        let q = net_charge(c);
        if q == 0 {
            continue;
        }
        open.push(i);
        running += q;
        if running == 0 {
            groups.push(std::mem::take(&mut open));
        }
    }
    let mut leader: Vec<Option<usize>> = vec![None; comps.len()];
    let mut member = vec![false; comps.len()];
    for (g, members) in groups.iter().enumerate() {
        if members.len() < 2 {
            continue;
        }
        leader[members[0]] = Some(g);
        for &m in members {
            member[m] = true;
        }
    }
    let mut parts: Vec<String> = Vec::with_capacity(comps.len());
    for (i, c) in comps.iter().enumerate() {
        if let Some(g) = leader[i] {
            let joined: Vec<&str> = groups[g].iter().map(|&m| comps[m]).collect();
            parts.push(joined.join("~"));
        } else if !member[i] {
            parts.push((*c).to_string());
        }
    }
    parts.join(".")
}

/// Canonical SMILES (RDKit-compatible) of a molecule or a `.`-separated set of molecules.
pub fn canonical_molecules(smiles: &str) -> Result<String, String> {
    crate::convert::canonical_smiles(smiles).map_err(|e| format!("invalid SMILES {smiles:?}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charges() {
        assert_eq!(net_charge("[Na+]"), 1);
        assert_eq!(net_charge("[OH-]"), -1);
        assert_eq!(net_charge("[Fe+3]"), 3);
        assert_eq!(net_charge("[Ca++]"), 2);
        assert_eq!(net_charge("O=[N+]([O-])c1ccccc1"), 0);
        assert_eq!(net_charge("O=C([O-])c1ccc2cc(C(=O)[O-])ccc2c1"), -2);
        assert_eq!(net_charge("C-C"), 0);
        assert_eq!(net_charge("[2H]C"), 0);
    }

    #[test]
    fn gt4sd_salts() {
        assert_eq!(
            group_salts("CO.COC(=O)c1ccc2cc(C(=O)OC)ccc2c1.[Na+].[OH-]"),
            "CO.COC(=O)c1ccc2cc(C(=O)OC)ccc2c1.[Na+]~[OH-]"
        );
        assert_eq!(
            group_salts("O=C([O-])c1ccc2cc(C(=O)[O-])ccc2c1.[Na+].[Na+]"),
            "O=C([O-])c1ccc2cc(C(=O)[O-])ccc2c1~[Na+]~[Na+]"
        );
        assert_eq!(
            group_salts("CCOC(=O)c1cc2sc(C)cc2[nH]1.CI.CN(C)C=O.[H-].[Na+]"),
            "CCOC(=O)c1cc2sc(C)cc2[nH]1.CI.CN(C)C=O.[H-]~[Na+]"
        );
        // Two salts, neutral molecules in between, an unbalanced ion left alone.
        assert_eq!(
            group_salts("[K+].C.[Cl-].[Na+].[OH-]"),
            "[K+]~[Cl-].C.[Na+]~[OH-]"
        );
        assert_eq!(group_salts("[Na+].CCO"), "[Na+].CCO");
        assert_eq!(
            group_salts("O=[N+]([O-])c1ccccc1.CCO"),
            "O=[N+]([O-])c1ccccc1.CCO"
        );
        assert_eq!(group_salts("CCO"), "CCO");
    }
}
