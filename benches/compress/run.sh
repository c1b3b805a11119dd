#!/usr/bin/env bash
# DeLiCaTe compression benchmark, chemlm vs PyTorch (Hugging Face) in one run, same shapes, batch
# (32 x 128 tokens), repeats and threads:
#
#   benches/compress/run.sh [THREADS] [REPEATS] [TRAIN_REPEATS]
#
# Prints chemlm's table (ratios to the teacher), PyTorch's rows, and chemlm/PyTorch time ratios.
# Env: CARGO_TARGET_DIR, BIN (a prebuilt chemlm binary instead of building one). Raw JSON stays in
# $OUT (default: a temp dir, printed).
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS=${1:-2}
REPEATS=${2:-5}
TRAIN=${3:-2}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
export RAYON_NUM_THREADS=$THREADS
if [[ -z "${BIN:-}" ]]; then
  cargo build -q --release -p chemlm --bin chemlm >&2
  BIN=${CARGO_TARGET_DIR:-target}/release/chemlm
fi
echo "# $(nproc) cores, $THREADS threads, raw results in $OUT" >&2
"$BIN" bench compress --threads "$THREADS" --repeats "$REPEATS" --train-repeats "$TRAIN" \
  --out "$OUT/chemlm.json" | tee "$OUT/chemlm.md"
python3 benches/compress/torch_compress.py --threads "$THREADS" --repeats "$REPEATS" \
  --train-repeats "$TRAIN" | tail -n 1 > "$OUT/torch.json"
python3 - "$OUT" <<'PY'
import json, os, sys
d = sys.argv[1]
c = {r["model"]: r for r in json.load(open(os.path.join(d, "chemlm.json")))["rows"]}
t = {r["model"]: r for r in json.load(open(os.path.join(d, "torch.json")))["rows"]}
print()
print(f"{'model':10} {'params chemlm':>14} {'params torch':>13} {'fwd chemlm':>11} {'fwd torch':>10} {'torch/chemlm':>12} {'train chemlm':>13} {'train torch':>12} {'torch/chemlm':>12}")
for m in c:
    if m not in t:
        continue
    a, b = c[m], t[m]
    tr = lambda r: r["train_step_s_mean"] or float("nan")
    print(f"{m:10} {a['parameters']:14,} {b['parameters']:13,} {a['inference_s_mean']:11.3f} {b['inference_s_mean']:10.3f} "
          f"{b['inference_s_mean'] / a['inference_s_mean']:12.2f} {tr(a):13.3f} {tr(b):12.3f} {tr(b) / tr(a):12.2f}")
PY
