//! Builds a tokenizer from a corpus (one string per line) and writes its `tokenizer.json`.
//! Used by `scripts/gen_data_golden.py`.
//!
//! `cargo run -p chemlm-data --example build_tokenizer -- smiles|selfies MIN_FREQ CORPUS OUT.json`

use std::path::Path;

use chemlm_data::tokenizer::{Tokenizer, TokenizerKind, VocabConfig};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [kind, min_freq, corpus, out] = args.as_slice() else {
        return Err("usage: build_tokenizer smiles|selfies MIN_FREQ CORPUS OUT.json".into());
    };
    let kind: TokenizerKind = kind.parse()?;
    let text = std::fs::read_to_string(corpus)?;
    let config = VocabConfig {
        min_freq: min_freq.parse()?,
        max_size: None,
    };
    let tok = Tokenizer::build(kind, text.lines().filter(|l| !l.is_empty()), &config)?;
    tok.save(Path::new(out))?;
    Ok(())
}
