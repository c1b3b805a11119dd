//! The molecule commands of the CLI contract: canon, selfies, tokenize, scaffold, fingerprint,
//! similarity. Each maps input lines to output lines through [`crate::io::map_lines`].

use crate::io::{map_lines, IoArgs};
use anyhow::{bail, Context, Result};
use chemlm_chem::{selfies, Molecule};
use clap::{Args, Subcommand, ValueEnum};

#[derive(Args)]
pub struct CanonArgs {
    #[command(flatten)]
    pub io: IoArgs,
    /// Keep only the largest fragment (strip salts and solvents) before writing.
    #[arg(long)]
    pub largest_fragment: bool,
}

#[derive(Subcommand)]
pub enum SelfiesCommand {
    /// SMILES → SELFIES.
    Encode(IoArgs),
    /// SELFIES → SMILES.
    Decode(IoArgs),
}

#[derive(Clone, Copy, ValueEnum)]
pub enum TokenKind {
    Smiles,
    Selfies,
}

#[derive(Args)]
pub struct TokenizeArgs {
    #[command(flatten)]
    pub io: IoArgs,
    /// Which tokenizer: MoLFormer's SMILES regex or SELFIES brackets.
    #[arg(long, value_enum, default_value = "smiles")]
    pub kind: TokenKind,
}

#[derive(Args)]
pub struct ScaffoldArgs {
    #[command(flatten)]
    pub io: IoArgs,
    /// Generic (framework) scaffold: all atoms carbon, all bonds single.
    #[arg(long)]
    pub generic: bool,
}

#[derive(Args, Clone, Copy)]
pub struct MorganArgs {
    /// Morgan radius (2 = ECFP4).
    #[arg(long, default_value_t = 2)]
    pub radius: u32,
    /// Fingerprint length in bits.
    #[arg(long, default_value_t = 2048)]
    pub bits: usize,
}

#[derive(Args)]
pub struct FingerprintArgs {
    #[command(flatten)]
    pub io: IoArgs,
    #[command(flatten)]
    pub morgan: MorganArgs,
    /// Write `bit:count` pairs (hashed count fingerprint) instead of on-bit indices.
    #[arg(long)]
    pub counts: bool,
}

#[derive(Args)]
pub struct SimilarityArgs {
    #[command(flatten)]
    pub io: IoArgs,
    /// The query molecule (SMILES).
    #[arg(long)]
    pub query: String,
    #[command(flatten)]
    pub morgan: MorganArgs,
}

fn parse(s: &str) -> Result<Molecule, String> {
    Molecule::from_smiles(s).map_err(|e| e.to_string())
}

pub fn canon(a: &CanonArgs, quiet: bool) -> Result<()> {
    let largest = a.largest_fragment;
    map_lines("canon", &a.io, quiet, |s| {
        let m = parse(s)?;
        let m = if largest {
            m.largest_fragment().map_err(|e| e.to_string())?
        } else {
            m
        };
        m.canonical_smiles().map_err(|e| e.to_string())
    })?;
    Ok(())
}

pub fn selfies(c: &SelfiesCommand, quiet: bool) -> Result<()> {
    match c {
        SelfiesCommand::Encode(io) => map_lines("selfies encode", io, quiet, |s| {
            selfies::encoder(s).map_err(|e| e.to_string())
        })?,
        SelfiesCommand::Decode(io) => map_lines("selfies decode", io, quiet, |s| {
            selfies::decoder(s).map_err(|e| e.to_string())
        })?,
    };
    Ok(())
}

pub fn tokenize(a: &TokenizeArgs, quiet: bool) -> Result<()> {
    let tokenize: fn(&str) -> Result<Vec<&str>, String> = match a.kind {
        TokenKind::Smiles => |s| chemlm_data::tokenize::smiles_tokens(s).map_err(|e| e.to_string()),
        TokenKind::Selfies => {
            |s| chemlm_data::tokenize::selfies_tokens(s).map_err(|e| e.to_string())
        }
    };
    map_lines("tokenize", &a.io, quiet, |s| {
        tokenize(s).map(|t| t.join(" "))
    })?;
    Ok(())
}

pub fn scaffold(a: &ScaffoldArgs, quiet: bool) -> Result<()> {
    let generic = a.generic;
    map_lines("scaffold", &a.io, quiet, |s| {
        parse(s)?
            .murcko_scaffold(generic)
            .map_err(|e| e.to_string())
    })?;
    Ok(())
}

pub fn fingerprint(a: &FingerprintArgs, quiet: bool) -> Result<()> {
    check_morgan(a.morgan)?;
    let MorganArgs { radius, bits } = a.morgan;
    if a.counts {
        map_lines("fingerprint", &a.io, quiet, |s| {
            let counts = parse(s)?
                .morgan_counts(radius, bits)
                .map_err(|e| e.to_string())?;
            Ok(counts
                .iter()
                .map(|(b, c)| format!("{b}:{c}"))
                .collect::<Vec<_>>()
                .join(" "))
        })?;
    } else {
        map_lines("fingerprint", &a.io, quiet, |s| {
            let fp = parse(s)?.morgan(radius, bits).map_err(|e| e.to_string())?;
            Ok(fp
                .on_bits()
                .iter()
                .map(|b| b.to_string())
                .collect::<Vec<_>>()
                .join(" "))
        })?;
    }
    Ok(())
}

pub fn similarity(a: &SimilarityArgs, quiet: bool) -> Result<()> {
    check_morgan(a.morgan)?;
    let MorganArgs { radius, bits } = a.morgan;
    let query = Molecule::from_smiles(&a.query)
        .and_then(|m| m.morgan(radius, bits))
        .with_context(|| format!("--query {:?}", a.query))?;
    map_lines("similarity", &a.io, quiet, |s| {
        let fp = parse(s)?.morgan(radius, bits).map_err(|e| e.to_string())?;
        Ok(format!("{:.6}", query.tanimoto(&fp)))
    })?;
    Ok(())
}

fn check_morgan(m: MorganArgs) -> Result<()> {
    if m.bits == 0 {
        bail!("--bits must be at least 1");
    }
    if m.radius > 10 {
        bail!("--radius {} is out of range (0..=10)", m.radius);
    }
    Ok(())
}
