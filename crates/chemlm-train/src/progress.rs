//! The terminal progress bar: steps, ETA, loss and tokens/s. Hidden when quiet.

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar over optimizer steps.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar for `total` steps starting at `start` (non-zero after a resume); hidden if `quiet`.
    pub fn new(total: u64, start: u64, quiet: bool) -> Self {
        let bar = if quiet {
            ProgressBar::hidden()
        } else {
            ProgressBar::new(total)
        };
        let style = ProgressStyle::with_template(
            "{spinner} [{elapsed_precise} < {eta_precise}] {bar:30} {pos}/{len} steps {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        bar.set_position(start);
        bar.reset_eta();
        Progress { bar }
    }

    /// Moves to `step` and shows the latest loss and throughput.
    pub fn update(&self, step: u64, loss: f64, tokens_per_sec: f64) {
        self.bar.set_position(step);
        self.bar
            .set_message(format!("loss {loss:.4} | {:.0} tok/s", tokens_per_sec));
    }

    /// Prints a line above the bar (validation results) without breaking it.
    pub fn println(&self, line: &str) {
        if !self.bar.is_hidden() {
            self.bar.println(line);
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
