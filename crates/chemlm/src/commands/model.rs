//! `chemlm model …` (being implemented).

use clap::Subcommand;

#[derive(Subcommand)]
pub enum ModelCommand {
    /// Placeholder until the model commands land.
    Todo,
}

pub fn run(_c: &ModelCommand, _quiet: bool) -> anyhow::Result<()> {
    anyhow::bail!("chemlm model: not implemented yet")
}
