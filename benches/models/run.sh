#!/usr/bin/env bash
# Side-by-side model speed: chemlm (candle, fused and composed ops) vs PyTorch eager, same shapes,
# same thread count, one run. Usage: benches/models/run.sh [THREADS=2] [REPS=5]
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS=${1:-2}
REPS=${2:-5}
OUT=$(mktemp)
export RAYON_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS BENCH_REPS=$REPS
cargo bench -p chemlm-models --bench models 2>/dev/null | grep '^{' | tee "$OUT"
python3 benches/models/torch_models.py --threads "$THREADS" --reps "$REPS" | tee -a "$OUT"
python3 - "$OUT" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
for bench, key, higher in (("embed_molformer_xl", "molecules_per_s", True),
                           ("mlm_fwd_bwd_bert_small", "seconds", False)):
    r = {x["impl"]: x for x in rows if x["bench"] == bench}
    torch_ = next((v for k, v in r.items() if k.startswith("torch")), None)
    if torch_ is None:
        continue
    for impl in ("candle-fused", "candle-composed"):
        if impl in r:
            ratio = r[impl][key] / torch_[key] if higher else torch_[key] / r[impl][key]
            print(f"{bench:<24} {impl:<16} {key}={r[impl][key]:<10} torch={torch_[key]:<10} speed ratio vs PyTorch: {ratio:.2f}x")
PY
rm -f "$OUT"
