//! Behaviour of the `Molecule` API beyond the RDKit golden file: invariances, limits, and the
//! RDKit docstring examples.

use chemlm_chem::mol::MACCS_BITS;
use chemlm_chem::{canonicalize, Fingerprint, Molecule};

fn mol(smiles: &str) -> Molecule {
    Molecule::from_smiles(smiles).unwrap_or_else(|e| panic!("{smiles}: {e}"))
}

#[test]
fn doubled_backslash_reads_as_a_single_one() {
    let clintox = "CC(=O)N/C(=C\\\\NC(=O)N)/C(=O)O";
    let single = "CC(=O)N/C(=C\\NC(=O)N)/C(=O)O";
    assert_eq!(
        canonicalize(clintox).unwrap(),
        canonicalize(single).unwrap()
    );
    assert_eq!(
        canonicalize(single).unwrap(),
        "CC(=O)N/C(=C\\NC(N)=O)C(=O)O"
    );
}

#[test]
fn canonical_form_ignores_atom_order_and_keeps_stereo() {
    let forms = [
        "N[C@@H](C)C(=O)O",
        "C[C@H](N)C(=O)O",
        "OC(=O)[C@H](C)N",
        "[C@H](N)(C)C(O)=O",
    ];
    for f in forms {
        assert_eq!(canonicalize(f).unwrap(), "C[C@H](N)C(=O)O", "{f}");
    }
    assert_ne!(
        canonicalize("N[C@H](C)C(=O)O").unwrap(),
        canonicalize("N[C@@H](C)C(=O)O").unwrap()
    );
    assert_eq!(
        canonicalize("F/C=C\\F").unwrap(),
        canonicalize("F\\C=C/F").unwrap()
    );
    assert_ne!(
        canonicalize("F/C=C/F").unwrap(),
        canonicalize("F/C=C\\F").unwrap()
    );
}

#[test]
fn random_smiles_are_reproducible_and_canonicalize_back() {
    let m = mol("CN1CCC[C@H]1c1cccnc1");
    let a = m.random_smiles(20, 7).unwrap();
    assert_eq!(a, m.random_smiles(20, 7).unwrap());
    assert_ne!(a, m.random_smiles(20, 8).unwrap());
    // Seed 0 is RDKit's default seed 42, not "whatever the generator holds".
    assert_eq!(
        m.random_smiles(5, 0).unwrap(),
        m.random_smiles(5, 42).unwrap()
    );
    let canon = m.canonical_smiles().unwrap();
    let distinct: std::collections::HashSet<_> = a.iter().collect();
    assert!(
        distinct.len() > 5,
        "only {} distinct strings",
        distinct.len()
    );
    for s in &a {
        assert_eq!(canonicalize(s).unwrap(), canon, "{s}");
    }
}

#[test]
fn kekule_smiles_have_no_aromatic_atoms() {
    assert_eq!(mol("c1ccccc1O").kekulized_smiles().unwrap(), "OC1=CC=CC=C1");
    let k = mol("Cn1cnc2c1c(=O)n(C)c(=O)n2C")
        .kekulized_smiles()
        .unwrap();
    assert!(!k.chars().any(|c| "cnos".contains(c)), "{k}");
    assert_eq!(
        canonicalize(&k).unwrap(),
        canonicalize("Cn1cnc2c1c(=O)n(C)c(=O)n2C").unwrap()
    );
}

#[test]
fn generic_scaffolds_follow_rdkit_docstring_examples() {
    // MurckoScaffold.MakeScaffoldGeneric's doctests, applied to GetScaffoldForMol's output.
    for (smiles, generic) in [
        ("c1ccccc1", "C1CCCCC1"),
        ("c1ncccc1", "C1CCCCC1"),
        ("c1[nH]ccc1", "C1CCCC1"),
        ("C1[NH2+]C1", "C1CC1"),
    ] {
        assert_eq!(
            mol(smiles).murcko_scaffold(true).unwrap(),
            generic,
            "{smiles}"
        );
    }
    let m = mol("Cc1cc(Oc2nccc(CCC)c2)ccc1");
    assert_eq!(m.murcko_scaffold(false).unwrap(), "c1ccc(Oc2ccccn2)cc1");
    assert_eq!(m.murcko_scaffold(true).unwrap(), "C1CCC(CC2CCCCC2)CC1");
    assert_eq!(mol("CCCO").murcko_scaffold(true).unwrap(), "");
}

#[test]
fn largest_fragment_strips_salts_and_solvents() {
    let cases = [
        ("CC(=O)[O-].[Na+]", "CC(=O)[O-]"),
        ("Cl.CN1CCCC1c1cccnc1", "CN1CCCC1c1cccnc1"),
        ("O.O.OC(=O)c1ccccc1O", "O=C(O)c1ccccc1O"),
        ("[Na+].[Na+].[O-]S(=O)(=O)[O-]", "O=S(=O)([O-])[O-]"),
        // Equal size and weight proxy: the alphabetically first SMILES wins, as in RDKit.
        ("C=CC.C1CC1", "C1CC1"),
        ("CCO", "CCO"),
    ];
    for (smiles, expected) in cases {
        let frag = mol(smiles).largest_fragment().unwrap();
        assert_eq!(frag.canonical_smiles().unwrap(), expected, "{smiles}");
    }
}

#[test]
fn fingerprints_have_the_requested_shape() {
    let aspirin = mol("CC(=O)Oc1ccccc1C(=O)O");
    for n_bits in [64, 128, 1000, 1024, 2048, 4096] {
        for radius in 0..=3 {
            let fp = aspirin.morgan(radius, n_bits).unwrap();
            assert_eq!(fp.len(), n_bits);
            // Folding: the count fingerprint's bits are exactly the bit fingerprint's.
            let counts = aspirin.morgan_counts(radius, n_bits).unwrap();
            let count_bits: Vec<usize> = counts.iter().map(|&(b, _)| b as usize).collect();
            assert_eq!(count_bits, fp.on_bits(), "r={radius} n={n_bits}");
        }
    }
    // Radius 0 counts atom environments only: aspirin has 13 heavy atoms.
    let total: u32 = aspirin
        .morgan_counts(0, 2048)
        .unwrap()
        .iter()
        .map(|&(_, c)| c)
        .sum();
    assert_eq!(total, 13);
    let maccs = aspirin.maccs();
    assert_eq!(maccs.len(), MACCS_BITS);
    assert!(!maccs.get(0), "bit 0 is unused in RDKit's MACCS");
}

#[test]
fn tanimoto_is_one_for_identical_and_symmetric() {
    let a = mol("c1ccccc1O").morgan(2, 2048).unwrap();
    let b = mol("Oc1ccccc1").morgan(2, 2048).unwrap();
    let c = mol("c1ccccc1N").morgan(2, 2048).unwrap();
    assert_eq!(a, b);
    assert_eq!(a.tanimoto(&b), 1.0);
    let ac = a.tanimoto(&c);
    assert!(ac > 0.0 && ac < 1.0, "{ac}");
    assert_eq!(ac, c.tanimoto(&a));
    assert_eq!(
        Fingerprint::zeros(16).tanimoto(&Fingerprint::zeros(16)),
        0.0
    );
    let f = Fingerprint::from_bits(10, [1, 3, 9]);
    assert_eq!(f.on_bits(), vec![1, 3, 9]);
    assert!(f.get(9) && !f.get(2) && !f.get(10));
}

#[test]
fn simple_descriptors() {
    let m = mol("[2H]C([2H])([2H])c1ccccc1");
    assert_eq!(m.num_heavy_atoms(), 7);
    assert_eq!(m.num_atoms(), 10);
    assert_eq!(m.num_rings(), 1);
    assert_eq!(mol("C12C3C4C1C5C2C3C45").num_rings(), 6);
    assert!((mol("O").molecular_weight() - 18.015).abs() < 1e-9);
}
