//! Reading a SMILES string the way RDKit's `MolFromSmiles` accepts or rejects it.

use chemlm_chem::Molecule;

/// The molecule when RDKit's `MolFromSmiles` would return one: chemlm-chem's parse plus its
/// sanitization check, after rejecting three syntax errors RDKit refuses and chemlm-chem's
/// parser currently accepts: a dangling bond symbol (a bond followed by `(`, `)`, `.` or the end,
/// e.g. `CC(=)O`), an empty branch (`C()C`) and a chirality mark outside brackets (`C@C`).
/// Empty strings are rejected too.
pub(crate) fn parse_rdkit(smiles: &str) -> Option<Molecule> {
    let smiles = smiles.trim();
    if smiles.is_empty() || has_syntax_error(smiles) {
        return None;
    }
    let mol = Molecule::from_smiles(smiles).ok()?;
    mol.check_sanitizable().ok()?;
    Some(mol)
}

/// Outside brackets: a bond symbol not followed by an atom or a ring-closure digit, `()`, or `@`.
fn has_syntax_error(smiles: &str) -> bool {
    let mut in_bracket = false;
    let mut chars = smiles.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '[' => in_bracket = true,
            ']' => in_bracket = false,
            '(' if !in_bracket && chars.peek() == Some(&')') => return true,
            '@' if !in_bracket => return true,
            '-' | '=' | '#' | '$' | ':' | '/' | '\\' if !in_bracket => {
                // ClinTox's doubled backslash reads as one bond.
                if c == '\\' && chars.peek() == Some(&'\\') {
                    chars.next();
                }
                if matches!(chars.peek(), None | Some('(' | ')' | '.')) {
                    return true;
                }
            }
            _ => {}
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rdkit_acceptance_of_bonds() {
        // Expected values from RDKit 2026.09 `Chem.MolFromSmiles(s) is not None`.
        for (s, ok) in [
            ("CC=", false),
            ("CC(=)C", false),
            ("C=.C", false),
            ("C=(C)C", false),
            ("CC-", false),
            ("C/C=C/", false),
            ("C(-)C", false),
            ("CC(C=)C", false),
            ("[O-]C", true),
            ("C1CC=1", true),
            ("C=1CC1", true),
            ("C\\\\C", true),
            ("", false),
            ("C()=O", false),
            ("C@C#N", false),
            ("N[C@@H](C)C(=O)O", true),
        ] {
            assert_eq!(parse_rdkit(s).is_some(), ok, "{s:?}");
        }
    }
}
