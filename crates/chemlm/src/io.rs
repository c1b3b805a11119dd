//! Line-oriented batch I/O shared by the molecule commands (input via `chemlm_data::open_input`).
//!
//! The contract (issue 2 §6): read `--input` (default stdin, gzip detected by magic bytes), write
//! `--output` (default stdout) with exactly one output line per input line, in order. A line whose
//! molecule is bad yields an empty output line and a warning naming the file, line and reason; the
//! run ends with a summary. `--strict` turns the first bad line into a non-zero exit instead.
//! Lines are processed in parallel chunks (rayon) and written in input order; a file output is
//! written to a temporary file and renamed into place, so a killed run never leaves half a file.

use crate::output::Output;
use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

/// `--input`/`--output`/`--strict`, shared by every line-mapping command.
#[derive(Args, Debug, Clone)]
pub struct IoArgs {
    /// Input file (plain or gzip); standard input when omitted. The first whitespace-separated
    /// field of each line is the molecule.
    #[arg(long, short)]
    pub input: Option<PathBuf>,
    /// Output file; standard output when omitted. Written atomically.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Exit non-zero at the first invalid line instead of writing an empty line.
    #[arg(long)]
    pub strict: bool,
    /// Skip the first input line (a header); it produces no output line.
    #[arg(long)]
    pub skip_header: bool,
    #[command(flatten)]
    pub shard: ShardArg,
}

/// `--shard I/N`, shared by the commands that split their input for parallel jobs.
#[derive(Args, Debug, Clone, Default)]
pub struct ShardArg {
    /// Work on shard I of N (1-based, e.g. 3/8 or ${SLURM_ARRAY_TASK_ID}/8) of the input file:
    /// a contiguous block of its lines, counted in a first pass (for a model, as in predict, a
    /// block of whole windows of 16 batches, so batches hold the same molecules as in one run).
    /// The shards' outputs concatenated in shard order (`cat out.1 out.2 …`) are byte for byte
    /// one run's output; warnings name the line in the whole file.
    #[arg(long, value_name = "I/N")]
    pub shard: Option<chemlm_data::ShardSpec>,
}

/// Opens the input of a line command: the whole file (or standard input), or the block of
/// lines of `shard`, cut on whole units of `unit` lines (the command's processing window, so
/// batches are composed as in one run).
pub fn open_lines(
    input: Option<&Path>,
    shard: Option<chemlm_data::ShardSpec>,
    unit: u64,
) -> Result<chemlm_data::ShardInput> {
    let s = chemlm_data::open_input_shard(input, shard, unit).context("--shard")?;
    if let Some(spec) = shard {
        tracing::debug!(
            "shard {spec}: lines {}..{} of {}",
            s.first_line + 1,
            s.first_line + s.lines,
            s.total_lines
        );
    }
    Ok(s)
}

/// A sink that is either stdout or an [`Output`] (temporary file renamed onto the target on
/// [`Sink::finish`]; removed on error or interruption; devices written through; `.gz` compressed).
pub struct Sink {
    writer: Box<dyn Write + Send>,
    output: Option<Output>,
}

impl Sink {
    /// Checks the destination (before any work is done) and opens it.
    pub fn create(path: Option<&Path>) -> Result<Self> {
        match path {
            None => Ok(Self {
                writer: Box::new(BufWriter::with_capacity(1 << 20, io::stdout())),
                output: None,
            }),
            Some(p) => {
                let mut out = Output::create(p)?;
                Ok(Self {
                    writer: crate::output::writer(&mut out)?,
                    output: Some(out),
                })
            }
        }
    }

    pub fn write_line(&mut self, line: &str) -> Result<()> {
        self.writer.write_all(line.as_bytes())?;
        self.writer.write_all(b"\n")?;
        Ok(())
    }

    /// Gives up the output: the temporary file is removed and nothing is moved into place (a
    /// `--strict` run that stops at a bad line leaves no partial file behind).
    pub fn discard(&mut self) {
        self.output = None;
    }

    /// Flushes and moves the temporary file into place.
    pub fn finish(mut self) -> Result<()> {
        self.writer.flush()?;
        // Ends a gzip stream (its trailer) before the file is moved.
        drop(std::mem::replace(&mut self.writer, Box::new(io::sink())));
        if let Some(out) = self.output.take() {
            out.commit()?;
        }
        Ok(())
    }
}

/// Counts of one batch run, printed at the end.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Summary {
    pub lines: u64,
    pub invalid: u64,
}

const CHUNK: usize = 8192;

/// Maps each input line's first field through `f`, writing one output line per input line.
///
/// `what` names the command in warnings and the summary.
pub fn map_lines<F>(what: &str, io: &IoArgs, quiet: bool, f: F) -> Result<Summary>
where
    F: Fn(&str) -> std::result::Result<String, String> + Sync,
{
    let source = io
        .input
        .as_deref()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "<stdin>".into());
    let mut sink = Sink::create(io.output.as_deref())?;
    // Every line is mapped on its own: the shard's block can start at any line.
    let input = open_lines(io.input.as_deref(), io.shard.shard, 1)?;
    let mut reader = input.reader;
    let bar = progress(quiet, what);
    let mut summary = Summary::default();
    // Line numbers in messages are those of the whole file.
    let mut line_no: u64 = input.first_line;
    let mut chunk: Vec<std::result::Result<String, String>> = Vec::with_capacity(CHUNK);
    let mut buf = Vec::new();
    if io.skip_header && input.first_line == 0 {
        chemlm_data::read_text_line(&mut *reader, &mut buf)?;
        line_no += 1;
    }
    loop {
        chunk.clear();
        for _ in 0..CHUNK {
            // A line that is not UTF-8 is one bad line, not the end of the file.
            match chemlm_data::read_text_line(&mut *reader, &mut buf).with_context(|| {
                format!(
                    "{source}: read error after line {}",
                    line_no + chunk.len() as u64
                )
            })? {
                Some(l) => chunk.push(l),
                None => break,
            }
        }
        if chunk.is_empty() {
            break;
        }
        let results: Vec<std::result::Result<String, String>> = chunk
            .par_iter()
            .map(|l| match l {
                Ok(l) => match l.split_whitespace().next() {
                    Some(mol) => f(mol),
                    None => Err("empty line".to_string()),
                },
                Err(reason) => Err(reason.clone()),
            })
            .collect();
        for r in results {
            line_no += 1;
            summary.lines += 1;
            match r {
                Ok(out) => sink.write_line(&out)?,
                Err(reason) => {
                    summary.invalid += 1;
                    if io.strict {
                        bar.finish_and_clear();
                        bail!("{source}:{line_no}: {reason}");
                    }
                    bar.suspend(|| eprintln!("warning: {source}:{line_no}: {reason}"));
                    sink.write_line("")?;
                }
            }
        }
        bar.inc(chunk.len() as u64);
    }
    sink.finish()?;
    bar.finish_and_clear();
    eprintln!(
        "{what}: {} lines, {} ok, {} invalid",
        summary.lines,
        summary.lines - summary.invalid,
        summary.invalid
    );
    Ok(summary)
}

/// A bad input line of a batch command: with `strict`, the output is discarded and the run stops
/// with `source:line: reason`; otherwise a warning is printed and the line's output is empty.
pub fn reject_line(
    bar: &ProgressBar,
    sink: &mut Sink,
    strict: bool,
    source: &str,
    line_no: u64,
    reason: &str,
) -> Result<()> {
    if strict {
        bar.finish_and_clear();
        sink.discard();
        bail!("{source}:{line_no}: {reason}");
    }
    bar.suspend(|| eprintln!("warning: {source}:{line_no}: {reason}"));
    sink.write_line("")
}

/// A spinner with count and rate; hidden when `quiet` or stderr is not a terminal.
pub fn progress(quiet: bool, what: &str) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new_spinner();
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} {prefix}: {human_pos} lines [{elapsed_precise}, {per_sec}]",
        )
        .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_prefix(what.to_string());
    bar
}
