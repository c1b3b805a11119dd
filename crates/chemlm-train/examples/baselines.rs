//! `chemlm baseline` without the rest of the CLI: compiles the CLI's own command file, so the
//! baseline numbers can be reproduced (and the command checked) from this crate alone:
//! `cargo run --release -p chemlm-train --example baselines -- --dataset bbbp --out runs/bbbp`.

#[path = "../../chemlm/src/commands/baseline.rs"]
mod baseline;

use clap::Parser;

#[derive(Parser)]
#[command(about = "ECFP4 baselines (same arguments as `chemlm baseline`)")]
struct Cli {
    #[command(flatten)]
    args: baseline::BaselineArgs,
    /// Print only the table.
    #[arg(long)]
    quiet: bool,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    baseline::run(&cli.args, cli.quiet)
}
