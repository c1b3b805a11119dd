//! SMILES: no input panics; what parses canonicalises, and the canonical SMILES reads back to
//! itself.
#![no_main]
use chemlm_chem::Molecule;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(mol) = Molecule::from_smiles(text) else {
        return;
    };
    let Ok(canon) = mol.canonical_smiles() else {
        return;
    };
    let again = Molecule::from_smiles(&canon)
        .unwrap_or_else(|e| panic!("{text:?} -> {canon:?} does not parse: {e}"));
    let canon2 = again.canonical_smiles().expect("canonical of canonical");
    assert_eq!(canon, canon2, "canonical form of {text:?} is not stable");
});
