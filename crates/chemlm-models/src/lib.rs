//! Model architectures for chemlm on candle.

pub mod traits;

pub use traits::{LanguageModel, LmKind};
