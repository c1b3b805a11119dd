#!/usr/bin/env bash
# Data-parallel pretraining throughput (issue 19): `chemlm pretrain` of molformer-small (6 x 256,
# MLM) on MOSES, one process with one thread against `mpirun -np 2` with one thread per rank,
# and one process with two threads for context, the same global batch. Runs alternate ROUNDS
# times in one window; each run's tokens/s is its median over the steps after the first WARM, and
# the all-reduce share is the summed all-reduce seconds over the summed step seconds.
# Usage: benches/dist/run.sh [STEPS=40] [ROUNDS=3]     (under ../shared/tools/quiet-run -- …)
# Env: MOLECULES (training molecules, default 20000), BATCH_TOKENS (global, default 8192),
#      PRESET (default molformer-small), OUT (raw JSON lines, default target/bench-dist.jsonl).
set -euo pipefail
cd "$(dirname "$0")/../.."
STEPS=${1:-40}
ROUNDS=${2:-3}
WARM=5
MOLECULES=${MOLECULES:-20000}
BATCH_TOKENS=${BATCH_TOKENS:-8192}
PRESET=${PRESET:-molformer-small}
OUT=${OUT:-target/bench-dist.jsonl}
: "${CHEMLM_DATA_DIR:?set CHEMLM_DATA_DIR (the shared data sets)}"
command -v mpirun >/dev/null || { echo "needs mpirun (apt-get install openmpi-bin libopenmpi-dev)" >&2; exit 1; }
cargo build --release -p chemlm --features mpi 2>&1 | tail -1
BIN=${CARGO_TARGET_DIR:-target}/release/chemlm
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$(dirname "$OUT")"
: > "$OUT"
# awk reads to the end: `head` would end the pipe early and fail it under pipefail.
zcat "$CHEMLM_DATA_DIR/moses/train.csv.gz" | awk -F, -v n="$MOLECULES" 'NR > 1 && NR <= n + 1 {print $1}' > "$WORK/train.smi"
"$BIN" --quiet data prepare --input "$WORK/train.smi" --kind smiles --valid-fraction 0.01 \
    --out "$WORK/data" 2>/dev/null
run() { # name, then the launcher words (possibly none)
  local name=$1; shift
  rm -rf "$WORK/run"
  "$@" "$BIN" --quiet pretrain --preset "$PRESET" --data "$WORK/data" --out "$WORK/run" \
      --steps "$STEPS" --batch-tokens "$BATCH_TOKENS" --eval-every 0 --checkpoint-every 0 \
      --seed 0 >/dev/null 2>"$WORK/err" || { cat "$WORK/err" >&2; exit 1; }
  python3 - "$name" "$WORK/run/metrics.jsonl" "$WARM" <<'PY' | tee -a "$OUT"
import json, statistics, sys
name, path, warm = sys.argv[1], sys.argv[2], int(sys.argv[3])
steps = [r for r in map(json.loads, open(path)) if r["kind"] == "train"][warm:]
secs = [r["tokens"] / r["tokens_per_sec"] for r in steps]
comm = sum(r.get("allreduce_seconds", 0.0) for r in steps)
print(json.dumps({"run": name, "steps": len(steps),
                  "tokens_per_sec": statistics.median(r["tokens_per_sec"] for r in steps),
                  "allreduce_share": comm / sum(secs)}))
PY
}
for r in $(seq "$ROUNDS"); do
  RAYON_NUM_THREADS=1 run "1 process x 1 thread"
  RAYON_NUM_THREADS=1 run "2 MPI ranks x 1 thread" mpirun --allow-run-as-root --oversubscribe -np 2
  RAYON_NUM_THREADS=2 run "1 process x 2 threads"
done
python3 - "$OUT" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows:
    by.setdefault(r["run"], []).append(r)
base = statistics.median(r["tokens_per_sec"] for r in by["1 process x 1 thread"])
print(f"\n{'run':<26} {'tokens/s':>9} {'vs 1x1':>7} {'all-reduce share':>17}")
for name, v in by.items():
    tps = statistics.median(r["tokens_per_sec"] for r in v)
    share = statistics.median(r["allreduce_share"] for r in v)
    print(f"{name:<26} {tps:>9.0f} {tps / base:>6.2f}x {100 * share:>16.1f}%")
PY
