//! Sequence-to-sequence training (Text+Chem T5): paired batches and the teacher-forced loss.
//!
//! The trainer is the same one that pretrains encoders and decoders: a [`PairSource`] yields
//! [`Batch`](crate::Batch)es whose `ids` are the sources and whose `targets` are the target
//! sequences, and a [`Seq2SeqObjective`] turns them into a padding-aware cross-entropy.

pub mod bench;
pub mod objective;
pub mod source;
pub mod translate;

pub use objective::Seq2SeqObjective;
pub use source::PairSource;
pub use translate::{Candidate, DecodeOptions, Prompt, TranslateConfig, Translator};
