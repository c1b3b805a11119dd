//! The process-wide constraints switch (Python's `set_semantic_constraints`), in its own test
//! binary because it changes what `encoder`/`decoder` do for every thread.

use chemlm_chem::selfies;

#[test]
fn set_semantic_constraints_switches_presets() {
    assert_eq!(selfies::get_semantic_constraints()["S"], 6);
    assert!(selfies::encoder("FS(F)(F)(F)(F)F").is_ok());
    selfies::set_semantic_constraints("octet_rule").unwrap();
    assert_eq!(selfies::get_semantic_constraints()["S"], 2);
    assert!(selfies::encoder("FS(F)(F)(F)(F)F").is_err());
    assert_eq!(selfies::decoder("[S][=S][=S]").unwrap(), "S=S");
    assert!(!selfies::get_semantic_robust_alphabet().contains("[#S]"));
    assert!(selfies::set_semantic_constraints("bogus").is_err());
    assert_eq!(
        selfies::get_semantic_constraints()["S"],
        2,
        "unchanged after an error"
    );
    selfies::set_semantic_constraints("default").unwrap();
    assert_eq!(selfies::decoder("[S][=S][=S]").unwrap(), "S=S=S");
}
