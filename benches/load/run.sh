#!/usr/bin/env bash
# Model load time and peak memory, chemlm vs transformers, on the same files: a model of
# MoLFormer-XL's shape from model.safetensors and from pytorch_model.bin, ROUNDS interleaved
# rounds, one fresh process per load, one thread each. Medians are summarised by summarise.py.
# Usage: benches/load/run.sh [ROUNDS]   (run under ../shared/tools/quiet-run)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROUNDS=${1:-5}
W=${LOAD_BENCH_DIR:-/tmp/chemlm-load-bench}
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-$HOME/.cache/chemlm-target}
cargo build --release -q -p chemlm-models --example load_model
BIN=$CARGO_TARGET_DIR/release/examples/load_model
[ -d "$W/bert-st" ] || python3 benches/load/make_models.py "$W" >&2
[ -d "$W/molformer-xl" ] || "$BIN" --write-molformer-xl "$W/molformer-xl"
export OMP_NUM_THREADS=1 RAYON_NUM_THREADS=1
for r in $(seq "$ROUNDS"); do
  for d in bert-st bert-bin; do
    "$BIN" "$W/$d"
    python3 benches/load/hf_load.py "$W/$d" 1 2>/dev/null
  done
  "$BIN" "$W/molformer-xl"
done
