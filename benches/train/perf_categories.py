#!/usr/bin/env python3
"""Groups a `perf report --no-children --sort symbol,srcline --stdio` listing of a chemlm run into
the categories of a training-step profile (GEMM, fused kernels, candle element-wise ops,
reductions, memory, thread hand-over and spinning, optimizer, RNG, other): shares of the CPU
samples of all threads. Used by benches/train/profile.sh.

Usage: perf_categories.py PERF_REPORT.txt SECONDS_PER_STEP
"""
import json
import re
import sys

# First match wins; patterns apply to "dso symbol".
CATEGORIES = [
    ("gemm", r"gemm_|gemm_common|gemm::"),
    ("optimizer", r"chemlm_train::optim"),
    ("norms, activations, attention, loss", r"chemlm_models|chemlm_train::objectives|linear_attention"),
    ("reductions", r"reduce_op|ReduceIndex|ReduceSum|sum_impl"),
    ("element-wise", r"binary_map|unary_map|affine|cmp|where_cond|Map1|Map2|to_dtype|index_select|gather|scatter|index_add"),
    ("copies and allocation", r"memset|memmove|memcpy|copy_strided|copy2d|clear_page|page_fault|_int_malloc|_int_free|malloc|free|calloc|realloc|mmap|munmap|alloc_pages|do_anonymous_page|__handle_mm_fault"),
    ("thread hand-over and spinning", r"rayon|crossbeam|__rust_begin_short_backtrace|BarrierGuard|BarrierPool|call_trampoline|sched_yield|futex|__schedule|finish_task_switch|_raw_spin|do_syscall|syscall|pthread|park"),
    ("random numbers", r"rand_chacha|rand::"),
]


def main():
    path, step_s = sys.argv[1], float(sys.argv[2])
    share = {name: 0.0 for name, _ in CATEGORIES}
    share["other"] = 0.0
    examples = {}
    for line in open(path, encoding="utf-8", errors="replace"):
        # "  12.98%  [.] symbol   crate.hash-cgu.N:0  -  -": without debug info the source column
        # still names the crate's codegen unit, which tells chemlm's closures from candle's.
        m = re.match(r"\s+([0-9.]+)%\s+\[[.k]\]\s+(.*?)\s*$", line)
        if not m:
            continue
        pct, key = float(m.group(1)), m.group(2)
        sym = key
        for name, pat in CATEGORIES:
            if re.search(pat, key):
                break
        else:
            name = "other"
        share[name] += pct
        examples.setdefault(name, []).append((pct, sym[:90]))
    total = sum(share.values()) or 1.0
    rows = []
    for name, pct in sorted(share.items(), key=lambda kv: -kv[1]):
        frac = pct / total
        rows.append({"category": name, "share_of_cpu_samples": round(frac, 4),
                     "top": [s for _, s in sorted(examples.get(name, []), reverse=True)[:3]]})
    print(json.dumps({"seconds_per_step": step_s, "categories": rows}, indent=1))


if __name__ == "__main__":
    main()
