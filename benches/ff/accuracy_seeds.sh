#!/usr/bin/env bash
# SchNet on MD17 aspirin (CCSD), chemlm vs schnetpack 2.1.1, three seeds on the same split
# (issue 14 §4; docs/benchmarks.md "Three seeds"). One thread each; resumable (finished runs are
# skipped). Accuracy, not speed: it need not run on a quiet machine.
#   CHEMLM_DATA_DIR=… OUT=runs/acc-seeds benches/ff/accuracy_seeds.sh
# (python3 on PATH must have schnetpack 2.1.1; see benches/ff/schnetpack_side.py).
set -euo pipefail
bin=${CHEMLM_BIN:-${CARGO_TARGET_DIR:-target}/release/chemlm}
data=${CHEMLM_DATA_DIR:?set CHEMLM_DATA_DIR}/forcefield/aspirin_ccsd-train.npz
out=${OUT:-runs/acc-seeds}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
for s in ${SEEDS:-0 1 2}; do
  run=$out/chemlm-s$s
  if [ ! -f "$run/test_metrics.json" ]; then
    rm -rf "$run"
    RAYON_NUM_THREADS=1 "$bin" --quiet ff train --arch schnet --data "$data" --split 800,100,100 \
      --epochs 25 --init-seed "$s" --out "$run" > "$out/chemlm-s$s.log" 2>&1
  fi
  # The same frames for every run: the split of the first chemlm run.
  first=${SEEDS:-0 1 2}; first=${first%% *}
  if [ ! -f "$out/sp-s$s.json" ]; then
    python3 "$here/schnetpack_side.py" --npz "$data" --split "$out/chemlm-s$first/split.json" \
      --arch schnet --n-interactions 6 --epochs 25 --threads 1 --md-steps 0 --seed "$s" \
      --out "$out/sp-s$s.json" > "$out/sp-s$s.log" 2>&1
  fi
done
python3 - "$out" ${SEEDS:-0 1 2} <<'PY'
import json, statistics, sys
out, seeds = sys.argv[1], sys.argv[2:]
rows = []
for s in seeds:
    c = json.load(open(f"{out}/chemlm-s{s}/test_metrics.json"))
    p = json.load(open(f"{out}/sp-s{s}.json"))
    rows.append((c["energy"]["mae_mev"], c["forces"]["mae_mev_a"],
                 p["test_energy_mae_mev"], p["test_force_mae_mev_per_a"]))
    print(json.dumps({"seed": int(s), "chemlm_e_mev": rows[-1][0], "chemlm_f_mev_a": rows[-1][1],
                      "schnetpack_e_mev": rows[-1][2], "schnetpack_f_mev_a": rows[-1][3]}))
m = [statistics.mean(c) for c in zip(*rows)]
print(json.dumps({"mean": {"chemlm_e_mev": m[0], "chemlm_f_mev_a": m[1], "schnetpack_e_mev": m[2],
                           "schnetpack_f_mev_a": m[3]}, "force_ratio": m[1] / m[3]}))
PY
