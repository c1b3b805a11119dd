//! Every preset parses, and the published models' parameter counts match.

use chemlm_models::{count_parameters, flops_per_token, presets};

fn count(name: &str) -> chemlm_models::ParamCount {
    count_parameters(&presets::preset(name).unwrap()).unwrap()
}

#[test]
fn molformer_xl_is_46_8_m_with_lm_head() {
    let c = count("molformer-xl");
    assert_eq!(c.total, 46_781_184);
    assert_eq!((c.total as f64 / 1e6 * 10.0).round() / 10.0, 46.8);
}

#[test]
fn molbert_is_86_1_m() {
    let c = count("molbert");
    assert_eq!(c.total, 86_073_600); // embeddings 428,544 + 12 x 7,087,872 + pooler 590,592
    assert_eq!((c.total as f64 / 1e5).round() / 10.0, 86.1);
    assert!(c.all > c.total, "MLM head is counted in `all` only");
}

#[test]
fn delicate_is_8_1_m() {
    let c = count("delicate");
    assert_eq!(c.total, 8_107_008); // embeddings + one shared layer + pooler
    assert_eq!((c.total as f64 / 1e5).round() / 10.0, 8.1);
}

#[test]
fn chemgpt_non_embedding_counts() {
    let small = count("chemgpt-4.7m");
    assert_eq!(small.non_embedding, 4_749_568);
    assert_eq!((small.non_embedding as f64 / 1e5).round() / 10.0, 4.7);
    let big = count("chemgpt-19m");
    assert_eq!(big.non_embedding, 18_936_320);
    assert_eq!((big.non_embedding as f64 / 1e6).round(), 19.0);
}

#[test]
fn all_presets_parse_and_have_flops() {
    for name in presets::preset_names() {
        let cfg = presets::preset(name).unwrap();
        let c = count_parameters(&cfg).unwrap();
        let f = flops_per_token(&cfg).unwrap();
        assert!(
            c.non_embedding < c.total && f as usize > 6 * c.non_embedding,
            "{name}"
        );
    }
    assert!(presets::preset("nope")
        .unwrap_err()
        .to_string()
        .contains("molformer-xl"));
}

#[test]
fn kaplan_flops_formula() {
    let cfg = presets::preset("molbert").unwrap();
    let n = count_parameters(&cfg).unwrap().non_embedding as u64;
    assert_eq!(flops_per_token(&cfg).unwrap(), 6 * n + 6 * 12 * 512 * 768);
}
