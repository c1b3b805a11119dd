//! SELFIES: no input panics; whatever decodes is a SMILES that parses; a parsed SMILES encodes.
#![no_main]
use chemlm_chem::{selfies, Molecule};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(smiles) = selfies::decoder(text) {
        if !smiles.is_empty() {
            Molecule::from_smiles(&smiles)
                .unwrap_or_else(|e| panic!("{text:?} decodes to {smiles:?}, which fails: {e}"));
        }
    }
    let _ = selfies::encoder(text);
});
