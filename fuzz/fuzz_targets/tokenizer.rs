//! Tokenizers: `tokenizer.json` text is read or refused; a read tokenizer encodes and decodes
//! anything without panicking; the SMILES pre-tokenizer is lossless.
#![no_main]
use chemlm_data::{Tokenizer, TokenizerKind, VocabConfig};
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;

fn smiles_tokenizer() -> &'static Tokenizer {
    static T: OnceLock<Tokenizer> = OnceLock::new();
    T.get_or_init(|| {
        let corpus = include_str!("../../fixtures/moses-mini.smi");
        Tokenizer::build(
            TokenizerKind::Smiles,
            corpus.lines().filter_map(|l| l.split_whitespace().next()),
            &VocabConfig::default(),
        )
        .expect("fixture vocabulary")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let tok = smiles_tokenizer();
    if let Ok(tokens) = tok.tokenize(text) {
        assert_eq!(tokens.concat(), text, "tokenization lost characters");
        let ids = tok.encode(text, true).expect("encode after tokenize");
        tok.decode(&ids, true).expect("decode own ids");
    }
    if let Ok(t) = Tokenizer::from_hf_json(text, Path::new("tokenizer.json")) {
        let _ = t.encode("CC(=O)Oc1ccccc1C(=O)O", true);
        let _ = t.decode(&[0, 1, 2, 3, u32::MAX], false);
    }
});
