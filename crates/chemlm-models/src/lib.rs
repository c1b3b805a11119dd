//! Model architectures for chemlm on candle: BERT (MolBERT) and RoBERTa (ChemBERTa) on one BERT
//! implementation, ALBERT-style cross-layer sharing (DeLiCaTe), MoLFormer (rotary + linear
//! attention), GPT-Neo (ChemGPT) and T5 (encoder-decoder), on shared blocks, with Hugging
//! Face-compatible configs and tensor names, presets, parameter/FLOP counts and save/load of model
//! directories.
//!
//! Entry point: [`Model`] (`Model::new`, `Model::from_preset`, `Model::load`, `Model::save`),
//! which implements [`LanguageModel`] for the trainer.

pub mod albert;
pub mod alloc;
pub mod bert;
pub mod blocks;
pub mod config;
pub mod device;
pub mod embedder;
pub mod encode;
pub mod error;
pub mod generate;
pub mod gpt_neo;
pub mod grad_mode;
pub mod gradcheck;
pub mod init;
pub mod io;
pub mod model;
pub mod molformer;
pub mod ops;
pub mod params;
pub mod parity;
pub mod precision;
pub mod presets;
pub mod seq2seq;
pub mod t5;
pub mod threads;
pub mod traits;

pub use config::ModelConfig;
pub use device::{device_name, DeviceSpec};
pub use error::{ModelError, ModelResult};
pub use gpt_neo::KvCache;
pub use model::{Model, Network};
pub use params::{count_parameters, flops_per_token, ParamCount};
pub use precision::{autocast, Precision};
pub use t5::{T5Cache, T5DecodeState, TensorDecoding, T5};
pub use traits::{LanguageModel, LmKind, ModelOutput, OutputRequest};
