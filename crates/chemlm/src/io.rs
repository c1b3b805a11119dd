//! Line-oriented batch I/O shared by the molecule commands (input via `chemlm_data::open_input`).
//!
//! The contract (issue 2 §6): read `--input` (default stdin, gzip detected by magic bytes), write
//! `--output` (default stdout) with exactly one output line per input line, in order. A line whose
//! molecule is bad yields an empty output line and a warning naming the file, line and reason; the
//! run ends with a summary. `--strict` turns the first bad line into a non-zero exit instead.
//! Lines are processed in parallel chunks (rayon) and written in input order; a file output is
//! written to a temporary file and renamed into place, so a killed run never leaves half a file.

use anyhow::{bail, Context, Result};
use clap::Args;
use indicatif::{ProgressBar, ProgressStyle};
use rayon::prelude::*;
use std::fs::File;
use std::io::{self, BufRead, BufWriter, Write};
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
}

/// A sink that is either stdout or a temp file renamed onto the target on [`Sink::finish`].
pub struct Sink {
    writer: BufWriter<Box<dyn Write + Send>>,
    rename: Option<(PathBuf, PathBuf)>,
}

impl Sink {
    pub fn create(path: Option<&Path>) -> Result<Self> {
        match path {
            None => Ok(Self {
                writer: BufWriter::with_capacity(1 << 20, Box::new(io::stdout())),
                rename: None,
            }),
            Some(p) => {
                let tmp = temp_path(p);
                let f = File::create(&tmp)
                    .with_context(|| format!("cannot create {}", tmp.display()))?;
                Ok(Self {
                    writer: BufWriter::with_capacity(1 << 20, Box::new(f)),
                    rename: Some((tmp, p.to_path_buf())),
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
        if let Some((tmp, _)) = self.rename.take() {
            let _ = std::fs::remove_file(tmp);
        }
    }

    /// Flushes and moves the temporary file into place.
    pub fn finish(mut self) -> Result<()> {
        self.writer.flush()?;
        if let Some((tmp, dst)) = self.rename.take() {
            drop(self.writer);
            std::fs::rename(&tmp, &dst)
                .with_context(|| format!("cannot move {} to {}", tmp.display(), dst.display()))?;
        }
        Ok(())
    }
}

/// `dir/.name.tmp-PID` next to `path`, so the rename stays on one file system.
pub fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    path.with_file_name(format!(".{name}.tmp-{}", std::process::id()))
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
    let mut reader = chemlm_data::open_input(io.input.as_deref())?;
    let mut sink = Sink::create(io.output.as_deref())?;
    let bar = progress(quiet, what);
    let mut summary = Summary::default();
    let mut line_no: u64 = 0;
    let mut chunk: Vec<String> = Vec::with_capacity(CHUNK);
    if io.skip_header {
        let mut header = String::new();
        reader.read_line(&mut header)?;
        line_no += 1;
    }
    loop {
        chunk.clear();
        for _ in 0..CHUNK {
            let mut s = String::new();
            if reader
                .read_line(&mut s)
                .with_context(|| format!("{source}: read error after line {line_no}"))?
                == 0
            {
                break;
            }
            chunk.push(s);
        }
        if chunk.is_empty() {
            break;
        }
        let results: Vec<std::result::Result<String, String>> = chunk
            .par_iter()
            .map(|l| match l.split_whitespace().next() {
                Some(mol) => f(mol),
                None => Err("empty line".to_string()),
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
