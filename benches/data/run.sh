#!/usr/bin/env bash
# Corpus preparation benchmark, Rust vs Python, same input and thread count, in one run:
# tokenization + shard writing on MOSES train (1.58 M SMILES), then the same with canonicalization.
#
#   benches/data/run.sh [INPUT] [THREADS]        (from the repository root)
#
# Env: CHEMLM_DATA_DIR (default ../shared/data), CARGO_TARGET_DIR, LIMIT (first N molecules only),
# SKIP_CANON=1 to skip the (slow) canonicalization pair.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=${CHEMLM_DATA_DIR:-../shared/data}
INPUT=${1:-$DATA/moses/train.csv.gz}
THREADS=${2:-2}
LIMIT_ARGS=()
if [[ -n "${LIMIT:-}" ]]; then LIMIT_ARGS=(--limit "$LIMIT"); fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT

cargo bench -q -p chemlm-data --bench shards --no-run >&2
rust() { cargo bench -q -p chemlm-data --bench shards -- --input "$INPUT" --threads "$THREADS" "${LIMIT_ARGS[@]}" "$@"; }
py() { python3 benches/data/prepare_ref.py --input "$INPUT" --procs "$THREADS" "${LIMIT_ARGS[@]}" "$@"; }

echo "# input $INPUT, $THREADS threads, $(nproc) cores" >&2
rust | tee "$OUT/rust.json"
py | tee "$OUT/py.json"
if [[ -z "${SKIP_CANON:-}" ]]; then
  rust --canonicalize | tee "$OUT/rust_canon.json"
  py --canonicalize | tee "$OUT/py_canon.json"
fi

python3 - "$OUT" <<'PY'
import json, os, sys
d = sys.argv[1]
def load(n):
    p = os.path.join(d, n)
    return json.load(open(p)) if os.path.exists(p) else None
print()
print(f"{'task':32} {'rust mol/s':>12} {'python mol/s':>13} {'ratio':>7} {'rust VmHWM':>11} {'py VmHWM':>10}  same tokens/vocab")
for r, p in [("rust.json", "py.json"), ("rust_canon.json", "py_canon.json")]:
    r, p = load(r), load(p)
    if not r or not p:
        continue
    pm = max(p["vmhwm_kib"], p.get("vmhwm_children_kib", 0))
    print(f"{r['task']:32} {r['mol_per_s']:12,.0f} {p['mol_per_s']:13,.0f} {r['mol_per_s'] / p['mol_per_s']:6.1f}x "
          f"{r['vmhwm_kib'] / 1024:9.0f} MiB {pm / 1024:7.0f} MiB  "
          f"{'yes' if (r['tokens'], r['vocab_size']) == (p['tokens'], p['vocab_size']) else 'NO'}"
          f" ({r['tokens']:,} / {r['vocab_size']})")
PY
