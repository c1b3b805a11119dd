#!/usr/bin/env bash
# Per-category CPU profile of one training step, chemlm and PyTorch side by side (issue 20 §1).
# chemlm: `perf record` over `chemlm bench train` (setup skipped with a delay), samples of all
# threads grouped by benches/train/perf_categories.py. PyTorch: torch.profiler over the same step
# (torch_train.py --profile), self CPU time grouped into the same categories.
# Usage: benches/train/profile.sh [PRESET=molformer-small] [THREADS=2] [STEPS=10]
# Env: BIN (chemlm binary, default the release build), OUT (directory, default target/profile).
set -euo pipefail
cd "$(dirname "$0")/../.."
PRESET=${1:-molformer-small}
THREADS=${2:-2}
STEPS=${3:-10}
BIN=${BIN:-${CARGO_TARGET_DIR:-target}/release/chemlm}
OUT=${OUT:-target/profile}
mkdir -p "$OUT"
export RAYON_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg); CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2)"
# Setup (model init, first step) takes ~2 s: skip it.
perf record -q -D 2500 -F 499 -g -o "$OUT/perf.data" \
  "$BIN" --quiet bench train --presets "$PRESET" --steps "$STEPS" --impl fused > "$OUT/chemlm.json" 2>/dev/null
STEP=$(python3 -c "import json,sys; print(json.loads(open(sys.argv[1]).readline())['seconds_per_step'])" "$OUT/chemlm.json")
perf report -i "$OUT/perf.data" --no-children --sort symbol,srcline --stdio 2>/dev/null > "$OUT/perf.txt"
echo "chemlm $PRESET, $THREADS threads: $STEP s/step"
python3 benches/train/perf_categories.py "$OUT/perf.txt" "$STEP" | tee "$OUT/chemlm-categories.json"
python3 benches/train/torch_train.py --threads "$THREADS" --steps "$STEPS" --presets "$PRESET" --profile \
  | tee "$OUT/torch-categories.json"
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
