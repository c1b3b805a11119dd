//! One module per command family. Each exposes clap argument types and `run` functions.

pub mod baseline;
pub mod bench;
pub mod bench_compress;
pub mod bench_generate;
pub mod bench_moleculenet;
pub mod bench_screen;
pub mod bench_seq2seq;
pub mod bench_text_chem;
pub mod bench_train;
pub mod chem;
pub mod data;
pub mod dataset_args;
pub mod distill;
pub mod embed;
pub mod finetune;
pub mod generate;
pub mod model;
pub mod predict;
pub mod pretrain;
pub mod pretrain_seq2seq;
pub mod quickstart;
pub mod scale;
pub mod screen;
pub mod seq2seq;
pub mod tpe;
pub mod train_common;
