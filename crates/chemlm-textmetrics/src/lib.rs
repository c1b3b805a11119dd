//! Evaluation metrics of the Text+Chem T5 harness (`chemlm bench text-chem`), each equal to the
//! implementation the published numbers were computed with:
//!
//! | module | metric | reference |
//! |---|---|---|
//! | [`bleu`] | corpus/sentence BLEU, no smoothing | nltk `corpus_bleu` / `sentence_bleu` |
//! | [`rouge`] | ROUGE-1/2/L precision, recall, F | Google `rouge-score` `RougeScorer` |
//! | [`meteor`] | METEOR (exact, Porter stem, WordNet synonym stages) | nltk `meteor_score` |
//! | [`wordnet`] | `synsets(word)` lemma names with morphy | nltk `WordNetCorpusReader` |
//! | [`porter`] | Porter stemmer, NLTK extensions | nltk `PorterStemmer()` |
//! | [`mol`] | molecule→text and text→molecule reports | MolT5's evaluation scripts |
//! | [`reaction`] | top-k and round-trip accuracy | canonical-SMILES comparison |
//! | [`actions`] | paragraph→actions BLEU, exact match, Levenshtein | paragraph2actions / GT4SD |
//!
//! Golden files made by `scripts/gen_textmetrics_golden.py` with the reference packages check
//! every metric (`tests/golden.rs`).
//!
//! ```
//! use chemlm_textmetrics::{bleu, reaction, rouge::RougeScorer};
//!
//! let refs = vec![vec!["the cat sat on the mat".split(' ').collect::<Vec<_>>()]];
//! let hyps = vec!["the cat sat on a mat".split(' ').collect::<Vec<_>>()];
//! let b2 = bleu::corpus_bleu(&refs, &hyps, &bleu::BLEU2).unwrap();
//! assert!(b2 > 0.6 && b2 < 0.8);
//!
//! let r = RougeScorer::new(false).score("The cat sat.", "the cat");
//! assert!((r.rouge1.recall - 2.0 / 3.0).abs() < 1e-12);
//!
//! let preds = vec![vec!["OCC".to_string(), "CC(=O)O.OCC".to_string()]];
//! let target = vec!["CCO.CC(O)=O".to_string()];
//! let top = reaction::topk_accuracy(&preds, &target, &[1, 2]).unwrap();
//! assert_eq!(top.accuracy, vec![(1, 0.0), (2, 1.0)]);
//! ```

pub mod actions;
pub mod bleu;
pub mod error;
pub mod levenshtein;
pub mod meteor;
pub mod mol;
pub mod porter;
pub mod reaction;
pub mod rouge;
mod smiles;
pub mod tokenize;
pub mod wordnet;

pub use error::MetricsError;
