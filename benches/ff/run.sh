#!/usr/bin/env bash
# chemlm ff vs schnetpack 2.x, interleaved rounds with the same threads (issue 14):
#   one training epoch on N_TRAIN aspirin frames (batch 8, the NFF recipe, paper-size presets;
#   training pass only, validation excluded on both sides) and MD_STEPS velocity-Verlet steps.
# Usage: CHEMLM_DATA_DIR=… ../shared/tools/quiet-run -- benches/ff/run.sh ARCH THREADS ROUNDS [N_TRAIN] [MD_STEPS]
set -euo pipefail
arch=$1; threads=$2; rounds=$3; ntrain=${4:-200}; md=${5:-200}
bin=${CHEMLM_BIN:-${CARGO_TARGET_DIR:-target}/release/chemlm}
data=${CHEMLM_DATA_DIR:?set CHEMLM_DATA_DIR}/forcefield
out=${OUT:-runs/bench-ff}/$arch-t$threads
case $arch in schnet) nint=6 ;; painn) nint=3 ;; *) echo "arch: schnet|painn" >&2; exit 2 ;; esac
mkdir -p "$out"
for r in $(seq 1 "$rounds"); do
  rm -rf "$out/ours-$r"
  RAYON_NUM_THREADS=$threads "$bin" --quiet ff train --arch "$arch" --data "$data/aspirin_ccsd-train.npz" \
    --split "$ntrain,16,16" --epochs 1 --out "$out/ours-$r" > /dev/null 2>&1
  RAYON_NUM_THREADS=$threads "$bin" --quiet ff md --model "$out/ours-$r/best" \
    -i "$data/aspirin_ccsd-train.extxyz.gz" --steps "$md" --dt 0.5 --json "$out/ours-$r/md.json" > /dev/null
  python3 "$(dirname "$0")/schnetpack_side.py" --npz "$data/aspirin_ccsd-train.npz" \
    --split "$out/ours-$r/split.json" --arch "$arch" --n-interactions "$nint" --epochs 1 \
    --threads "$threads" --md-steps "$md" --batch 8 --out "$out/sp-$r.json" > /dev/null 2>&1
done
python3 - "$out" "$rounds" "$ntrain" <<'PY'
import json, statistics, sys
out, rounds, ntrain = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ours_ep, ours_md, sp_ep, sp_md = [], [], [], []
for r in range(1, rounds + 1):
    rec = [json.loads(l) for l in open(f"{out}/ours-{r}/metrics.jsonl")][-1]
    ours_ep.append(rec["train_time_s"])
    ours_md.append(json.load(open(f"{out}/ours-{r}/md.json"))["s_per_step"])
    sp = json.load(open(f"{out}/sp-{r}.json"))
    sp_ep.append(sp["epochs"][-1]["train_s"])
    sp_md.append(sp["md_step_s"])
m = statistics.median
print(json.dumps({"dir": out, "rounds": rounds, "train_frames": ntrain,
                  "chemlm_epoch_s": m(ours_ep), "schnetpack_epoch_s": m(sp_ep),
                  "epoch_ratio": m(sp_ep) / m(ours_ep),
                  "chemlm_md_step_ms": 1e3 * m(ours_md), "schnetpack_md_step_ms": 1e3 * m(sp_md),
                  "md_ratio": m(sp_md) / m(ours_md),
                  "chemlm_epoch_all": ours_ep, "schnetpack_epoch_all": sp_ep}))
PY
