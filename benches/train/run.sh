#!/usr/bin/env bash
# Side-by-side training step: chemlm (`chemlm bench train`, fused and composed) vs PyTorch eager,
# same models, batch, threads and recipe. Rust and PyTorch runs alternate ROUNDS times in one
# window so that load on a shared machine hits both alike; medians of the per-round medians.
# Usage: benches/train/run.sh [THREADS=2] [STEPS=5] [ROUNDS=2]
# Env: FEATURES (cargo features, default chemlm-models/avx512), PRESETS (default
# molformer-small,bert-small), OUT (raw JSON lines, default target/bench-train.jsonl).
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS=${1:-2}
STEPS=${2:-5}
ROUNDS=${3:-2}
FEATURES=${FEATURES-chemlm-models/avx512}
PRESETS=${PRESETS:-molformer-small,bert-small}
OUT=${OUT:-target/bench-train.jsonl}
mkdir -p "$(dirname "$OUT")"
: > "$OUT"
export RAYON_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS
cargo build --release -p chemlm ${FEATURES:+--features "$FEATURES"} 2>&1 | tail -1
BIN=${CARGO_TARGET_DIR:-target}/release/chemlm
for r in $(seq "$ROUNDS"); do
  "$BIN" --quiet bench train --presets "$PRESETS" --steps "$STEPS" --impl fused,composed | tee -a "$OUT"
  python3 benches/train/torch_train.py --threads "$THREADS" --steps "$STEPS" --presets "$PRESETS" \
    --optim default,fused | tee -a "$OUT"
done
python3 - "$OUT" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
by = {}
for r in rows:
    by.setdefault((r["model"], r["impl"]), []).append(r)
models = sorted({m for m, _ in by})
print(f"\n{'model':<16} {'impl':<34} {'s/step':>8} {'tokens/s':>9} {'fwd':>7} {'bwd':>7} {'opt':>7}  vs torch eager")
for m in models:
    med = {i: {k: statistics.median(x[k] for x in v) for k in ("seconds_per_step", "forward_s", "backward_s", "optimizer_s")}
           for (mm, i), v in by.items() if mm == m}
    ref = next((v for i, v in med.items() if i.startswith("torch") and i.endswith("eager")), None)
    for i, v in sorted(med.items()):
        ratio = f"{ref['seconds_per_step'] / v['seconds_per_step']:.2f}x" if ref else "-"
        tps = by[(m, i)][0]["batch"] * by[(m, i)][0]["seq"] / v["seconds_per_step"]
        print(f"{m:<16} {i:<34} {v['seconds_per_step']:>8.3f} {tps:>9.0f} {v['forward_s']:>7.3f} {v['backward_s']:>7.3f} {v['optimizer_s']:>7.3f}  {ratio}")
PY
