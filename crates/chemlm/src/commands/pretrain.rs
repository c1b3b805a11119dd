//! `chemlm pretrain` (being implemented).

use clap::Args;

#[derive(Args)]
pub struct PretrainArgs {}

pub fn run(_a: &PretrainArgs, _quiet: bool) -> anyhow::Result<()> {
    anyhow::bail!("chemlm pretrain: not implemented yet")
}
