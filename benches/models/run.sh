#!/usr/bin/env bash
# Side-by-side model speed: chemlm (candle, fused and composed ops) vs PyTorch eager, same shapes,
# same thread count, ROUNDS interleaved rounds (chemlm, then PyTorch), medians.
# Usage: benches/models/run.sh [THREADS=2] [REPS=5] [ROUNDS=1] [ONLY=embed|mlm|(both)]
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS=${1:-2}
REPS=${2:-5}
ROUNDS=${3:-1}
ONLY=${4:-}
OUT=$(mktemp)
export RAYON_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS BENCH_REPS=$REPS
# Build first, so no round includes compiling.
cargo bench -p chemlm-models --bench models --no-run 2>/dev/null
for r in $(seq 1 "$ROUNDS"); do
  cargo bench -q -p chemlm-models --bench models -- $ONLY 2>/dev/null | grep '^{' | tee -a "$OUT"
  python3 benches/models/torch_models.py --threads "$THREADS" --reps "$REPS" $ONLY | tee -a "$OUT"
done
python3 - "$OUT" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
for bench, key, higher in (("embed_molformer_xl", "molecules_per_s", True),
                           ("mlm_fwd_bwd_bert_small", "seconds", False)):
    by = {}
    for x in rows:
        if x["bench"] == bench:
            by.setdefault(x["impl"], []).append(x[key])
    torch_ = next((statistics.median(v) for k, v in by.items() if k.startswith("torch")), None)
    if torch_ is None:
        continue
    for impl in ("candle-fused", "candle-composed"):
        if impl in by:
            ours = statistics.median(by[impl])
            ratio = ours / torch_ if higher else torch_ / ours
            print(f"{bench:<24} {impl:<16} {key}={ours:<10.4g} torch={torch_:<10.4g} speed ratio vs PyTorch: {ratio:.2f}x "
                  f"(medians of {len(by[impl])} rounds: {by[impl]} / torch)")
PY
rm -f "$OUT"
