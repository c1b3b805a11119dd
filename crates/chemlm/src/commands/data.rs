//! `chemlm data …` (being implemented).

use clap::Subcommand;

#[derive(Subcommand)]
pub enum DataCommand {
    /// Placeholder until the data commands land.
    Todo,
}

pub fn run(_c: &DataCommand, _quiet: bool) -> anyhow::Result<()> {
    anyhow::bail!("chemlm data: not implemented yet")
}
