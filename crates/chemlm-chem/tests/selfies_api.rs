//! The SELFIES API beyond parity: error messages that name the position and reason, symbol
//! utilities, alphabets, explicit constraints, buffer-reusing entry points and threads.

use chemlm_chem::selfies::{self, Constraints};
use chemlm_chem::ChemError;
use std::collections::BTreeMap;

fn message(e: ChemError) -> String {
    match e {
        ChemError::Selfies(m) => m,
        other => panic!("expected a SELFIES error, got {other:?}"),
    }
}

#[test]
fn encoder_errors_say_where_and_why() {
    let m = message(selfies::encoder("CC(C").unwrap_err());
    assert!(
        m.contains("position 2") && m.contains("hanging '(' bracket"),
        "{m}"
    );
    let m = message(selfies::encoder("C[Xx]C").unwrap_err());
    assert!(
        m.contains("position 1") && m.contains("invalid atom symbol '[Xx]'"),
        "{m}"
    );
    let m = message(selfies::encoder("CC*").unwrap_err());
    assert!(
        m.contains("position 2") && m.contains("unrecognized symbol '*'"),
        "{m}"
    );
    let m = message(selfies::encoder("c1cccc1").unwrap_err());
    assert!(m.contains("kekulization failed"), "{m}");
    let m = message(selfies::encoder("C(C)(C)(C)(C)C").unwrap_err());
    assert!(
        m.contains("semantic constraints") && m.contains("atom 0 (C) has 5 bond(s), a max. of 4"),
        "{m}"
    );
    let m = message(selfies::encoder("").unwrap_err());
    assert!(m.contains("empty SMILES"), "{m}");
}

#[test]
fn decoder_errors_name_the_symbol() {
    let m = message(selfies::decoder("[C][O][Xyz][C]").unwrap_err());
    assert!(
        m.contains("\"[Xyz]\"") && m.contains("symbol 2 of fragment 0"),
        "{m}"
    );
    let m = message(selfies::decoder("[C].[C][Branch4]").unwrap_err());
    assert!(
        m.contains("\"[Branch4]\"") && m.contains("symbol 1 of fragment 1"),
        "{m}"
    );
    let m = message(selfies::decoder("[C][CH9]").unwrap_err());
    assert!(m.contains("more hydrogens"), "{m}");
    let m = message(selfies::decoder("[C].[C][O").unwrap_err());
    assert!(m.contains("hanging '[' bracket at byte 7"), "{m}");
    // symbols after the end of the derivation are not read, as in Python
    assert_eq!(selfies::decoder("[F][F][Xyz]").unwrap(), "FF");
}

#[test]
fn symbol_utilities() {
    assert_eq!(
        selfies::split_selfies("[C][=C][F].[C]").unwrap(),
        ["[C]", "[=C]", "[F]", ".", "[C]"]
    );
    assert_eq!(selfies::len_selfies("[C][=C][F].[C]"), 5);
    let alphabet = selfies::get_alphabet_from_selfies(["[C][F][O]", "[C].[O]", "[F][F]"]).unwrap();
    assert_eq!(
        alphabet.into_iter().collect::<Vec<_>>(),
        ["[C]", "[F]", "[O]"]
    );
    assert!(selfies::get_alphabet_from_selfies(["[C][O"]).is_err());
    let robust = selfies::get_semantic_robust_alphabet();
    assert!(robust.contains("[#N+1]") && robust.contains("[Branch3]") && !robust.contains("[#F]"));
}

#[test]
fn custom_constraints_change_both_directions() {
    let mut map: BTreeMap<String, u32> = Constraints::default_ref().as_map().clone();
    map.insert("C".into(), 2);
    let c = Constraints::from_map(map).unwrap();
    assert!(selfies::encoder_with("CC(C)C", &c).is_err());
    assert_eq!(selfies::encoder_with("CCC", &c).unwrap(), "[C][C][C]");
    assert_eq!(
        selfies::decoder_with("[C][C][Branch1][C][C][C]", &c).unwrap(),
        "CCCCC"
    );
    assert_eq!(
        selfies::decoder("[C][C][Branch1][C][C][C]").unwrap(),
        "CC(C)C"
    );
    assert!(selfies::get_preset_constraints("nope").is_err());
    assert_eq!(
        selfies::get_preset_constraints("octet_rule").unwrap()["S"],
        2
    );
}

#[test]
fn into_variants_append_and_leave_output_alone_on_error() {
    let c = Constraints::default_ref();
    let mut out = String::from("x:");
    selfies::encode_into("CO", c, true, &mut out).unwrap();
    assert_eq!(out, "x:[C][O]");
    assert!(selfies::encode_into("C(", c, true, &mut out).is_err());
    assert_eq!(out, "x:[C][O]");
    out.clear();
    selfies::decode_into("[C][O]", c, &mut out).unwrap();
    assert_eq!(out, "CO");
    // non-strict encoding keeps over-valent atoms
    out.clear();
    selfies::encode_into("C(C)(C)(C)(C)C", c, false, &mut out).unwrap();
    assert_eq!(
        out,
        "[C][Branch1][C][C][Branch1][C][C][Branch1][C][C][Branch1][C][C][C]"
    );
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    // 20,000 nested branches: Python hits its recursion limit; the port is iterative.
    let depth = 20_000;
    let smiles = format!("{}C{}", "C(".repeat(depth), ")".repeat(depth));
    let encoded = selfies::encoder(&smiles).unwrap();
    let decoded = selfies::decoder(&encoded).unwrap();
    assert_eq!(decoded.matches('C').count(), depth + 1);
    let nested = "[C][#Branch1][C]".repeat(depth) + "[C]";
    assert!(selfies::decoder(&nested).is_ok());
}

#[test]
fn threads_share_nothing() {
    let inputs = [
        "c1ccccc1O",
        "CC(=O)[O-].[Na+]",
        "N[C@@H](C)C(=O)O",
        "C1CC2CC1C2",
    ];
    let expected: Vec<String> = inputs
        .iter()
        .map(|s| selfies::encoder(s).unwrap())
        .collect();
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                for _ in 0..200 {
                    for (s, want) in inputs.iter().zip(&expected) {
                        assert_eq!(&selfies::encoder(s).unwrap(), want);
                        assert!(selfies::decoder(want).is_ok());
                    }
                }
            });
        }
    });
}
