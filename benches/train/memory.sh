#!/usr/bin/env bash
# Peak memory of one training step (issue 20 §2): chemlm `bench train` vs PyTorch eager
# (benches/train/torch_train.py) on the same model, batch and threads, each in a fresh process;
# peak = "Maximum resident set size" of /usr/bin/time -v. Also PyTorch's resident set after
# importing torch alone, so its training cost can be read apart from the interpreter.
#
#   PATH=<venv with torch + transformers>:$PATH ../shared/tools/quiet-run -- \
#     benches/train/memory.sh [PRESET=molbert] [BATCH=32] [SEQ=128] [THREADS=2] [ROUNDS=2]
set -euo pipefail
cd "$(dirname "$0")/../.."
PRESET=${1:-molbert}
BATCH=${2:-32}
SEQ=${3:-128}
THREADS=${4:-2}
ROUNDS=${5:-2}
BIN=${CHEMLM_BIN:-${CARGO_TARGET_DIR:-target}/release/chemlm}
OUT=${OUT:-$(mktemp -d)}
peak() { grep "Maximum resident set size" "$1" | awk '{print $NF}'; }
for r in $(seq 1 "$ROUNDS"); do
  RAYON_NUM_THREADS=$THREADS /usr/bin/time -v -o "$OUT/ours-$r.time" "$BIN" --quiet bench train \
    --presets "$PRESET" --batch "$BATCH" --seq "$SEQ" --steps 2 --warmup 1 --impl fused \
    > "$OUT/ours-$r.json"
  /usr/bin/time -v -o "$OUT/torch-$r.time" python3 benches/train/torch_train.py --presets "$PRESET" \
    --batch "$BATCH" --seq "$SEQ" --steps 2 --warmup 1 --threads "$THREADS" --optim default \
    > "$OUT/torch-$r.json"
  echo "round $r: chemlm $(peak "$OUT/ours-$r.time") KiB, PyTorch $(peak "$OUT/torch-$r.time") KiB"
done
/usr/bin/time -v -o "$OUT/import.time" python3 -c "import torch, transformers" 
echo "PyTorch + transformers import alone: $(peak "$OUT/import.time") KiB; raw in $OUT"
