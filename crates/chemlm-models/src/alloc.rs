//! Process-wide allocator settings for tensor workloads.
//!
//! candle allocates a fresh buffer for every op result. With glibc's defaults, buffers above the
//! (dynamic) mmap threshold are unmapped on free and the top of the heap is trimmed, so the next
//! op of the same size faults in new zeroed pages: profiling `chemlm ff train` showed 55 % of the
//! time in the kernel's `clear_page`, and a MoLFormer-XL-shape embedding batch (256 x 64 tokens,
//! 50 MB activations) 35 %. No trimming and a 64 MiB top pad make those buffers come from the
//! heap again, and no `mmap` at all keeps the ones above glibc's largest threshold (32 MiB:
//! t5-small's embedding gradient and AdamW moments are 63 MiB each) there too. Peak memory is
//! unchanged: what the process frees stays mapped for its next step instead of going back to
//! the kernel.
//!
//! This lives in the library, not the CLI, so that every front door gets it: the `chemlm`
//! binary, the Python module, `chemlm serve` and the benches (which otherwise measured the
//! kernel's page clearing instead of the model).

use std::sync::Once;

static TUNED: Once = Once::new();

/// Environment variable that keeps glibc's defaults: `CHEMLM_ALLOCATOR=system`, for a host
/// process (a Python session, say) that must hand freed memory back to the kernel.
pub const ALLOCATOR_ENV: &str = "CHEMLM_ALLOCATOR";

/// Applies the settings once per process; later calls do nothing. A no-op off glibc and when
/// [`ALLOCATOR_ENV`] is `system`.
///
/// Call it early (before large allocations); calling it later is safe, it only affects
/// allocations made afterwards.
pub fn tune_allocator() {
    TUNED.call_once(|| {
        if wanted(std::env::var(ALLOCATOR_ENV).ok().as_deref()) {
            apply()
        }
    });
}

/// Whether to tune, given the value of [`ALLOCATOR_ENV`].
fn wanted(value: Option<&str>) -> bool {
    !value.is_some_and(|v| v.trim().eq_ignore_ascii_case("system"))
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn apply() {
    // SAFETY: mallopt only sets allocator parameters (glibc takes its arena lock) and takes
    // plain integers.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        // -1: never trim. i32::MAX (2 GiB) still trimmed after a force call on ~10,000 atoms,
        // whose 3 GiB of intermediates were then faulted in again on every call (per-atom
        // time x1.5 at 10,752 atoms, `chemlm ff bench`).
        libc::mallopt(libc::M_TRIM_THRESHOLD, -1);
        libc::mallopt(libc::M_TOP_PAD, 64 << 20);
        libc::mallopt(libc::M_MMAP_MAX, 0);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn apply() {}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn large_buffers_come_from_the_heap_after_tuning() {
        tune_allocator();
        tune_allocator(); // idempotent
                          // 48 MiB is above the largest mmap threshold glibc ever picks by itself (32 MiB), so
                          // untuned this buffer is always its own mapping and counted in `hblkhd`.
                          // SAFETY: mallinfo2 only reads allocator statistics.
        let mapped = || unsafe { libc::mallinfo2() }.hblkhd;
        let before = mapped();
        let a = std::hint::black_box(vec![1.0f32; 12 << 20]);
        let during = mapped();
        drop(a);
        if wanted(std::env::var(ALLOCATOR_ENV).ok().as_deref()) {
            assert_eq!(during, before, "a 48 MiB tensor buffer was mmapped");
        } else {
            assert!(
                during > before,
                "{ALLOCATOR_ENV}=system did not keep glibc's defaults"
            );
        }
    }

    #[test]
    fn the_environment_opts_out() {
        assert!(wanted(None));
        assert!(wanted(Some("tuned")));
        assert!(!wanted(Some("system")));
        assert!(!wanted(Some(" SYSTEM\n")));
    }
}
