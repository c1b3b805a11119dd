//! Property tests of the SELFIES port: SELFIES' promise that every string of valid symbols is a
//! molecule, checked by reading each decoded SMILES with chemlm's (RDKit-compatible) parser and
//! writing its canonical form; and losslessness of the SELFIES 1.0 symbol translation.

use chemlm_chem::selfies::{self, legacy, Constraints};
use chemlm_chem::Molecule;
use proptest::prelude::*;

fn alphabet(preset: &str) -> Vec<String> {
    Constraints::preset(preset)
        .unwrap()
        .robust_alphabet()
        .into_iter()
        .collect()
}

/// Random strings over a preset's robust alphabet, sometimes with `.` between fragments.
fn strings(preset: &'static str) -> impl Strategy<Value = String> {
    let symbols = alphabet(preset);
    let n = symbols.len();
    prop::collection::vec((0..n + 1, any::<bool>()), 0..60).prop_map(move |picks| {
        let mut s = String::new();
        for (i, dot) in picks {
            if i == n {
                if dot {
                    s.push('.');
                }
            } else {
                s.push_str(&symbols[i]);
            }
        }
        s
    })
}

fn assert_valid(selfies_str: &str, smiles: &str) -> Result<(), TestCaseError> {
    if smiles.is_empty() {
        return Ok(());
    }
    let mol = Molecule::from_smiles(smiles)
        .map_err(|e| TestCaseError::fail(format!("{selfies_str} -> {smiles}: {e}")))?;
    mol.canonical_smiles()
        .map_err(|e| TestCaseError::fail(format!("{selfies_str} -> {smiles}: {e}")))?;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 400,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_robust_string_decodes_to_a_valid_molecule(s in strings("default")) {
        let smiles = selfies::decoder_with(&s, Constraints::default_ref())
            .map_err(|e| TestCaseError::fail(format!("{s}: {e}")))?;
        assert_valid(&s, &smiles)?;
        // and re-encodes (the decoded molecule obeys the constraints)
        if !smiles.is_empty() && !smiles.contains('.') {
            selfies::encoder(&smiles).map_err(|e| TestCaseError::fail(format!("{s} -> {smiles}: {e}")))?;
        }
    }

    #[test]
    fn octet_rule_strings_decode_to_valid_molecules(s in strings("octet_rule")) {
        let c = Constraints::preset("octet_rule").unwrap();
        let smiles = selfies::decoder_with(&s, &c)
            .map_err(|e| TestCaseError::fail(format!("{s}: {e}")))?;
        assert_valid(&s, &smiles)?;
    }

    #[test]
    fn selfies1_translation_round_trips(s in strings("default")) {
        let old = legacy::to_selfies1_tokens(&s).map_err(|e| TestCaseError::fail(e.to_string()))?;
        prop_assert_eq!(legacy::from_selfies1_tokens(&old).unwrap(), s);
    }
}
