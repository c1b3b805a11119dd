#!/usr/bin/env bash
# Fine-tuning speed, side by side in one run: chemlm's frozen-regime head training vs PyTorch
# training the same head on the same embeddings (written by the chemlm driver), same threads.
# Usage: benches/finetune/run.sh MODEL_DIR [DATASET=bbbp] [EPOCHS=20] [THREADS=2]
# Needs CHEMLM_DATA_DIR (absolute) and python3 with torch + numpy.
set -euo pipefail
cd "$(dirname "$0")/../.."
MODEL=${1:?model directory}
DATASET=${2:-bbbp}
EPOCHS=${3:-20}
THREADS=${4:-2}
OUT=$(mktemp -d)
export RAYON_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS
cargo run --release -q -p chemlm-train --example finetune_speed -- "$MODEL" "$DATASET" "$EPOCHS" "$OUT" | tee "$OUT/rows.jsonl"
python3 benches/finetune/torch_head.py "$OUT" --threads "$THREADS" | tee -a "$OUT/rows.jsonl"
python3 - "$OUT/rows.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
c = next(r for r in rows if r["impl"] == "chemlm")
t = next(r for r in rows if r["impl"].startswith("torch"))
print(f"{c['dataset']}: chemlm {c['molecules_per_s']:.0f} molecules/s, {t['impl']} {t['molecules_per_s']:.0f} "
      f"molecules/s -> ratio {c['molecules_per_s'] / t['molecules_per_s']:.2f}x "
      f"({c['molecules']} molecules x {c['epochs']} epochs, head {c['hidden']} hidden)")
PY
rm -rf "$OUT"
