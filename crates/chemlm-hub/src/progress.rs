//! Download progress callbacks. The CLI draws a bar from them; this crate does not depend on
//! any terminal library.

/// Receives progress of each file download. Only `update` is required; a closure
/// `Fn(&str, u64, Option<u64>)` is a `Progress` too.
pub trait Progress: Send + Sync {
    /// A download of `filename` starts (or resumes at `resumed_from` bytes); `total` is its
    /// size when the Hub said so.
    fn start(&self, filename: &str, total: Option<u64>, resumed_from: u64) {
        let _ = (filename, total, resumed_from);
    }

    /// `bytes_done` of `total` bytes of `filename` are on disk (including resumed bytes).
    fn update(&self, filename: &str, bytes_done: u64, total: Option<u64>);

    /// `filename` is completely transferred (it is verified after this).
    fn finish(&self, filename: &str) {
        let _ = filename;
    }
}

impl<F: Fn(&str, u64, Option<u64>) + Send + Sync> Progress for F {
    fn update(&self, filename: &str, bytes_done: u64, total: Option<u64>) {
        self(filename, bytes_done, total)
    }
}

/// Reports nothing (the default).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoProgress;

impl Progress for NoProgress {
    fn update(&self, _filename: &str, _bytes_done: u64, _total: Option<u64>) {}
}
