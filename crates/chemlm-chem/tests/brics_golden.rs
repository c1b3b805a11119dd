//! `Molecule::brics_fragments` against RDKit 2026.09.1's
//! `Chem.MolToSmiles(AllChem.FragmentOnBRICSBonds(mol)).split('.')` (what MOSES's Frag metric
//! counts), through the golden file `scripts/gen_brics_golden.py` writes: hand-written cases for
//! every BRICS rule and the tricky parts (stereo, charges, isotopes, explicit hydrogens, label
//! orientation) plus every 500th MOSES test molecule.
//!
//! Each molecule's pieces must equal RDKit's as a multiset, dummy labels included. The test prints
//! the parity count and lists every molecule that differs.

use chemlm_chem::Molecule;
use serde_json::Value;

const GOLDEN: &str = include_str!("golden/brics.json");

#[test]
fn brics_pieces_equal_rdkit_on_every_golden_molecule() {
    let doc: Value = serde_json::from_str(GOLDEN).expect("golden/brics.json is valid JSON");
    let molecules = doc["molecules"].as_array().expect("molecules array");
    assert!(molecules.len() >= 300, "golden set too small");
    let mut failures = Vec::new();
    for m in molecules {
        let smiles = m["smiles"].as_str().expect("smiles");
        let mut want: Vec<String> = m["fragments"]
            .as_array()
            .expect("fragments array")
            .iter()
            .map(|f| f.as_str().expect("fragment string").to_owned())
            .collect();
        want.sort();
        let got = Molecule::from_smiles(smiles).and_then(|mol| mol.brics_fragments());
        match got {
            Ok(mut got) => {
                got.sort();
                if got != want {
                    failures.push(format!("{smiles}\n    ours  {got:?}\n    RDKit {want:?}"));
                }
            }
            Err(e) => failures.push(format!("{smiles}: error {e}")),
        }
    }
    let same = molecules.len() - failures.len();
    println!(
        "BRICS parity with RDKit: {same}/{} molecules ({:.1} %)",
        molecules.len(),
        100.0 * same as f64 / molecules.len() as f64
    );
    assert!(
        failures.is_empty(),
        "{} molecules differ from RDKit:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn pieces_are_labelled_like_rdkit_and_read_back() {
    // Nexavar, the example of RDKit's BRICS docstring (FragmentOnBRICSBonds keeps every piece).
    let mol =
        Molecule::from_smiles("CNC(=O)C1=NC=CC(OC2=CC=C(NC(=O)NC3=CC(=C(Cl)C=C3)C(F)(F)F)C=C2)=C1")
            .unwrap();
    let mut pieces = mol.brics_fragments().unwrap();
    pieces.sort();
    // RDKit 2026.09.1, sorted.
    let rdkit = [
        "[1*]C([1*])=O",
        "[1*]C([6*])=O",
        "[14*]c1cc([16*])ccn1",
        "[16*]c1ccc(Cl)c([16*])c1",
        "[16*]c1ccc([16*])cc1",
        "[3*]O[3*]",
        "[5*]NC",
        "[5*]N[5*]",
        "[5*]N[5*]",
        "[8*]C(F)(F)F",
    ];
    assert_eq!(pieces, rdkit);
    for p in &pieces {
        // Every piece is itself a valid molecule whose canonical form it already is.
        let again = Molecule::from_smiles(p)
            .unwrap()
            .canonical_smiles()
            .unwrap();
        assert_eq!(&again, p);
    }
}

#[test]
fn molecules_rdkit_cannot_sanitize_are_refused() {
    use chemlm_chem::ChemError;
    // Parses (syntax is fine) but cannot be kekulized, so RDKit's MolFromSmiles gives None.
    let mol = Molecule::from_smiles("c1cccc1CCOC").unwrap();
    assert!(matches!(mol.brics_fragments(), Err(ChemError::Sanitize(_))));
}
