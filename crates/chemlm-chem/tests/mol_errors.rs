//! Bad SMILES get an error that says where (byte position in the caller's string) and why.

use chemlm_chem::{ChemError, Molecule};

/// Parses `smiles`, expecting a parse error at `position` whose reason contains `why`.
fn expect_parse_error(smiles: &str, position: Option<usize>, why: &str) {
    match Molecule::from_smiles(smiles) {
        Err(ChemError::Parse {
            position: p,
            reason,
        }) => {
            assert_eq!(p, position, "{smiles:?}: position (reason: {reason})");
            assert!(
                reason.contains(why),
                "{smiles:?}: reason {reason:?} does not mention {why:?}"
            );
        }
        other => panic!("{smiles:?}: expected a parse error, got {other:?}"),
    }
}

#[test]
fn syntax_errors_name_position_and_reason() {
    expect_parse_error(
        "C1CC",
        Some(1),
        "ring bond 1 is opened here and never closed",
    );
    expect_parse_error("C%12CC", Some(1), "ring bond 12 is opened here");
    expect_parse_error(
        "CC(C",
        Some(2),
        "branch '(' is opened here and never closed",
    );
    expect_parse_error("CC)C", Some(2), "unexpected character ')'");
    expect_parse_error("CC?C", Some(2), "unexpected character '?'");
    expect_parse_error("C[NH", Some(4), "missing ']'");
    expect_parse_error("[Xx]", Some(1), "invalid bracket atom");
    expect_parse_error("C%1CC", Some(1), "'%' must be followed by a two-digit");
    expect_parse_error("[C@OH99]", Some(2), "chirality class '@OH99'");
    expect_parse_error("", None, "empty SMILES");
    expect_parse_error("   ", None, "empty SMILES");
}

/// O and F with too many bonds are refused where RDKit refuses them, in sanitization, naming the
/// atom; aromatic bonds on them count as RDKit counts them (`*:F[C:1]` is a molecule to RDKit).
#[test]
fn oxygen_and_fluorine_valence_is_judged_as_rdkit_does() {
    for (smiles, atom) in [("CO(C)C", "atom # 1 O, 3"), ("CCF(C)", "atom # 2 F, 2")] {
        let mol = Molecule::from_smiles(smiles).expect("syntax is fine");
        let err = mol.canonical_smiles().unwrap_err();
        assert!(
            matches!(&err, ChemError::Sanitize(m) if m.contains(atom) && m.contains("valence")),
            "{smiles}: {err:?}"
        );
    }
    for (smiles, canonical) in [
        ("*:F[C:1]", "*:F[C:1]"),
        (
            "CCc1nnc(COc2ccc3ccc(=O)=oc3c2)o1",
            "CCc1nnc(COc2ccc3ccc(=O)oc3c2)o1",
        ),
    ] {
        assert_eq!(
            chemlm_chem::canonicalize(smiles).unwrap(),
            canonical,
            "{smiles}"
        );
    }
}

#[test]
fn positions_refer_to_the_callers_string() {
    // Leading whitespace is skipped but counted.
    expect_parse_error("  CC(C  ", Some(4), "branch '(' is opened here");
    // Doubled backslashes are read as one, and the position still points into the input.
    expect_parse_error("F\\\\C=C\\\\F?", Some(9), "unexpected character '?'");
    // A name after the SMILES is not part of it.
    expect_parse_error("C1CC1 cyclopropane", Some(5), "unexpected character ' '");
}

#[test]
fn messages_show_the_place() {
    let err = Molecule::from_smiles("CC(=O)Oc1ccccc1C(=O)O)").unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid SMILES at position 21: unexpected character ')' (near '…ccccc1C(=O)O^)')"
    );
}

#[test]
fn chemistry_rdkit_rejects_is_a_sanitize_error_naming_the_atom() {
    let mol = Molecule::from_smiles("C(C)(C)(C)(C)C").expect("syntax is fine");
    let err = mol.canonical_smiles().unwrap_err();
    assert!(
        matches!(&err, ChemError::Sanitize(m) if m.contains("atom # 0") && m.contains("valence")),
        "{err:?}"
    );
    let mol = Molecule::from_smiles("c1cccc1").expect("syntax is fine");
    let err = mol.canonical_smiles().unwrap_err();
    assert!(
        matches!(&err, ChemError::Sanitize(m) if m.contains("kekulize") && m.contains("0 1 2 3 4")),
        "{err:?}"
    );
}

#[test]
fn unsupported_requests_are_refused_not_approximated() {
    let mol = Molecule::from_smiles("CCO").unwrap();
    assert!(matches!(
        mol.morgan(4, 2048),
        Err(ChemError::Unsupported(_))
    ));
    assert!(matches!(mol.morgan(2, 0), Err(ChemError::Unsupported(_))));
    assert!(matches!(
        mol.morgan_counts(5, 1024),
        Err(ChemError::Unsupported(_))
    ));
}

/// Issue 17: a molecule past `MAX_ATOMS` is refused at once with the reason, not canonicalized
/// for minutes (RDKit-exact ranking is quadratic on long chains); one at the limit is read.
#[test]
fn molecules_past_the_size_limit_are_refused_with_the_reason() {
    use chemlm_chem::{Molecule, MAX_ATOMS};
    let at_limit = "C".repeat(MAX_ATOMS);
    assert_eq!(
        Molecule::from_smiles(&at_limit).unwrap().num_atoms(),
        MAX_ATOMS
    );
    for n in [MAX_ATOMS + 1, 100_001, 1_000_000] {
        let e = Molecule::from_smiles(&"C".repeat(n))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("molecule too large") || e.contains("more than"),
            "{n}: {e}"
        );
        assert!(e.len() < 200, "{n}: message not cut: {} bytes", e.len());
    }
}

/// A ring bond written with two different symbols is read as RDKit 2026.09 reads it (its
/// canonical SMILES, from `Chem.MolToSmiles(Chem.MolFromSmiles(s))`), not refused.
#[test]
fn conflicting_ring_bond_symbols_follow_rdkit() {
    for (s, rdkit) in [
        ("C-1CCCCC=1", "C1CCCCC1"),
        ("C=1CCCCC-1", "C1=CCCCC1"),
        ("C/1CCCCC-1", "C1CCCCC1"),
        ("C/1CCCCC=1", "C1=CCCCC1"),
        ("C=1CCCCC/1", "C1=CCCCC1"),
        ("C=1CCCCC#1", "C1=CCCCC1"),
        ("C#1CCCCC=1", "C1#CCCCC1"),
        ("C/1CCCCC\\1", "C1CCCCC1"),
        ("C\\1C=CC#CC\\1=CC#CC", "CC#CC=C1C#CC=CC1"),
        ("c-1ccccc:1", "c1ccccc1"),
        ("c:1ccccc-1", "c1ccccc1"),
        (
            "CCOC(=O)c1[nH]nc/2c1CCOc1c(Cl)cccc1-2",
            "CCOC(=O)c1[nH]nc2c1CCOc1c(Cl)cccc1-2",
        ),
    ] {
        let got = chemlm_chem::canonicalize(s).unwrap_or_else(|e| panic!("{s}: {e}"));
        assert_eq!(got, rdkit, "{s}");
    }
}
