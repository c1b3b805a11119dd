//! `chemlm bench …`: reproducible benchmark protocols that print tables beside published figures.

use clap::Subcommand;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Virtual screening on DUD-E: ROC-AUC, BEDROC(20), EF 1 %, EF 5 % per target and averaged.
    Screen(super::bench_screen::BenchScreenArgs),
    /// One masked-LM training step (forward, loss, backward, clip, AdamW/LAMB): s and tokens/s.
    Train(super::bench_train::BenchTrainArgs),
    /// Reference parity of model directories (golden `io.safetensors`) on this device/precision.
    Parity(super::bench_parity::BenchParityArgs),
    /// SMILES validity verdicts against RDKit's (scripts/gen_validity_fuzz.py).
    Validity(super::bench_validity::BenchValidityArgs),
    /// DeLiCaTe shapes: parameters, inference (32 x 128 tokens) and training-step time vs the teacher.
    Compress(super::bench_compress::BenchCompressArgs),
    /// MOSES generation metrics of a model's samples beside MOSES's CharRNN / VAE figures.
    Generate(super::bench_generate::BenchGenerateArgs),
    /// MoleculeNet (scaffold, seeds) or DeLiCaTe (k-fold R²) fine-tuning beside published numbers and ECFP baselines.
    Moleculenet(Box<super::bench_moleculenet::BenchMoleculenetArgs>),
    /// T5 training step and beam-search decoding speed (the transformers side is benches/t5).
    Seq2seq(super::bench_seq2seq::BenchSeq2SeqArgs),
    /// Text+Chem T5 evaluation: reactions (top-k, round trip), text↔molecule (MolT5's metrics),
    /// paragraph→actions, beside the published figures.
    TextChem(super::bench_text_chem::BenchTextChemArgs),
    /// `/embed` of `chemlm serve` under 1–64 concurrent clients: molecules/s, p50/p99 latency,
    /// beside the same model embedding in batch.
    Serve(super::bench_serve::BenchServeArgs),
}

pub fn run(c: &BenchCommand, quiet: bool) -> anyhow::Result<()> {
    match c {
        BenchCommand::Screen(a) => super::bench_screen::run(a, quiet),
        BenchCommand::Train(a) => super::bench_train::run(a, quiet),
        BenchCommand::Parity(a) => super::bench_parity::run(a, quiet),
        BenchCommand::Validity(a) => super::bench_validity::run(a, quiet),
        BenchCommand::Compress(a) => super::bench_compress::run(a, quiet),
        BenchCommand::Generate(a) => super::bench_generate::run(a, quiet),
        BenchCommand::Moleculenet(a) => super::bench_moleculenet::run(a, quiet),
        BenchCommand::Seq2seq(a) => super::bench_seq2seq::run(a, quiet),
        BenchCommand::TextChem(a) => super::bench_text_chem::run(a, quiet),
        BenchCommand::Serve(a) => super::bench_serve::run(a, quiet),
    }
}
