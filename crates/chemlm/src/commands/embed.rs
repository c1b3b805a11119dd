//! `chemlm embed` (being implemented).

use clap::Args;

#[derive(Args)]
pub struct EmbedArgs {}

pub fn run(_a: &EmbedArgs, _quiet: bool) -> anyhow::Result<()> {
    anyhow::bail!("chemlm embed: not implemented yet")
}
