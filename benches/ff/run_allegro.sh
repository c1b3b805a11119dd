#!/usr/bin/env bash
# chemlm vs nequip-allegro 0.8.3 (issue 15): force calls per second in velocity-Verlet MD on MD17
# aspirin (21 atoms), both with configs/ff-allegro.toml's sizes (51,264 parameters), float32, one
# neighbour list + energy and forces + integrator per step; interleaved rounds, same threads;
# peak RSS from /usr/bin/time. Medians of the per-round step times.
# Usage: CHEMLM_DATA_DIR=… ../shared/tools/quiet-run -- benches/ff/run_allegro.sh THREADS ROUNDS [STEPS]
set -euo pipefail
threads=$1; rounds=$2; steps=${3:-200}
bin=${CHEMLM_BIN:-${CARGO_TARGET_DIR:-target}/release/chemlm}
data=${CHEMLM_DATA_DIR:?set CHEMLM_DATA_DIR}/forcefield
out=${OUT:-runs/bench-allegro}/t$threads
mkdir -p "$out"
[ -d "$out/model" ] || "$bin" --quiet ff init --arch allegro --out "$out/model" > /dev/null
for r in $(seq 1 "$rounds"); do
  RAYON_NUM_THREADS=$threads /usr/bin/time -f "%M" -o "$out/ours-$r.rss" "$bin" --quiet ff md \
    --model "$out/model" -i "$data/aspirin_ccsd-train.extxyz.gz" --steps "$steps" --dt 0.5 \
    --json "$out/ours-$r.json" -o "$out/ours-$r.extxyz" > /dev/null
  /usr/bin/time -f "%M" -o "$out/ref-$r.rss" python3 "$(dirname "$0")/allegro_side.py" \
    --npz "$data/aspirin_ccsd-train.npz" --threads "$threads" --steps "$steps" > "$out/ref-$r.json"
done
python3 - "$out" "$rounds" "$threads" <<'PY'
import json, statistics, sys
out, rounds, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
ours = [json.load(open(f"{out}/ours-{r}.json"))["s_per_step"] for r in range(1, rounds + 1)]
ref = [json.load(open(f"{out}/ref-{r}.json"))["s_per_step"] for r in range(1, rounds + 1)]
rss = lambda who: max(int(open(f"{out}/{who}-{r}.rss").read().split()[-1]) for r in range(1, rounds + 1)) / 1024
m = statistics.median
print(json.dumps({"threads": threads, "rounds": rounds,
                  "chemlm_ms_per_step": 1e3 * m(ours), "nequip_allegro_ms_per_step": 1e3 * m(ref),
                  "chemlm_calls_per_s": 1 / m(ours), "nequip_allegro_calls_per_s": 1 / m(ref),
                  "ratio": m(ref) / m(ours),
                  "chemlm_peak_rss_mib": rss("ours"), "nequip_allegro_peak_rss_mib": rss("ref"),
                  "chemlm_all_ms": [1e3 * x for x in ours], "nequip_allegro_all_ms": [1e3 * x for x in ref]}))
PY
