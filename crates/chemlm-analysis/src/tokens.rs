//! Which SMILES tokens are atoms.
//!
//! MoLFormer's regex tokenizer gives one token per atom (an organic-subset symbol such as `C`, `Cl`,
//! `c`, a bracket atom such as `[C@@H]` or `[NH3+]`, or `*`) and one per bond symbol, branch
//! parenthesis, ring-closure digit or `%nn`, and dot. The structure analysis keeps atom tokens only,
//! as the paper does; the k-th atom token is the k-th atom of the parsed molecule, because a SMILES
//! parser numbers atoms in the order they are written.

/// Whether `token` (one token of MoLFormer's SMILES regex) stands for an atom.
pub fn is_atom_token(token: &str) -> bool {
    if token.starts_with('[') {
        return token.ends_with(']') && token.len() > 2;
    }
    matches!(
        token,
        "B" | "Br"
            | "C"
            | "Cl"
            | "N"
            | "O"
            | "S"
            | "P"
            | "F"
            | "I"
            | "b"
            | "c"
            | "n"
            | "o"
            | "s"
            | "p"
            | "*"
    )
}

/// Indices (into `tokens`) of the atom tokens, in order.
pub fn atom_token_indices<S: AsRef<str>>(tokens: &[S]) -> Vec<usize> {
    tokens
        .iter()
        .enumerate()
        .filter(|(_, t)| is_atom_token(t.as_ref()))
        .map(|(i, _)| i)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn atoms_brackets_rings_and_bonds() {
        let toks = [
            "[C@@H]", "1", "(", "=", "O", ")", "c", "c", "%12", "[nH]", "/", "Cl", ".", "[Na+]",
            "#", "Br", "\\", "*",
        ];
        assert_eq!(
            atom_token_indices(&toks),
            vec![0, 4, 6, 7, 9, 11, 13, 15, 17]
        );
        assert!(!is_atom_token("[]"));
        assert!(!is_atom_token("9"));
        assert!(!is_atom_token(":"));
    }
}
