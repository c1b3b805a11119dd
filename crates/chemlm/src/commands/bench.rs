//! `chemlm bench …`: reproducible benchmark protocols that print tables beside published figures.

use clap::Subcommand;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Virtual screening on DUD-E: ROC-AUC, BEDROC(20), EF 1 %, EF 5 % per target and averaged.
    Screen(super::bench_screen::BenchScreenArgs),
}

pub fn run(c: &BenchCommand, quiet: bool) -> anyhow::Result<()> {
    match c {
        BenchCommand::Screen(a) => super::bench_screen::run(a, quiet),
    }
}
