#!/usr/bin/env bash
# Screening throughput, chemlm vs RDKit, same library and actives, in one run: ECFP4 (Morgan r=2,
# 2048 bits) MAX Tanimoto to 10 hand-picked drugs, top 1000, over MOSES train (1.58 M SMILES).
#
#   benches/screen/run.sh [LIBRARY] [THREADS]        (from anywhere; paths relative to the repo root)
#
# Env: CHEMLM_DATA_DIR (default ../shared/data), CARGO_TARGET_DIR, LIMIT (first N molecules only:
# both tools read the same N-line subset). RDKit's Python loop is single-threaded; chemlm runs with
# THREADS (default 2) and, for a like-for-like figure, also with 1 thread.
set -euo pipefail
cd "$(dirname "$0")/../.."
DATA=$(realpath "${CHEMLM_DATA_DIR:-../shared/data}")
LIB=$(realpath "${1:-$DATA/moses/train.csv.gz}")
THREADS=${2:-2}
ACTIVES=$PWD/benches/screen/actives.smi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
if [[ -n "${LIMIT:-}" ]]; then
  { gzip -cdf "$LIB" | head -n $((LIMIT + 1)) || true; } > "$OUT/lib.smi"
  LIB=$OUT/lib.smi
fi

cargo bench -q -p chemlm-screen --bench screen --no-run >&2
rust() { cargo bench -q -p chemlm-screen --bench screen -- --library "$LIB" --actives "$ACTIVES" "$@"; }
echo "# library $LIB, $(nproc) cores" >&2
rust --threads "$THREADS" | tee "$OUT/rust.json"
rust --threads 1 | tee "$OUT/rust1.json"
python3 benches/screen/rdkit_screen.py --library "$LIB" --actives "$ACTIVES" | tee "$OUT/py.json"

python3 - "$OUT" <<'PY'
import json, os, sys
d = sys.argv[1]
load = lambda n: json.load(open(os.path.join(d, n)))
p = load("py.json")
print()
print(f"{'run':28} {'molecules':>10} {'mol/s':>10} {'vs RDKit':>9} {'VmHWM':>9}  top-1 score/line, k-th score")
for name in ["rust.json", "rust1.json", "py.json"]:
    r = load(name)
    label = ("chemlm" if name != "py.json" else "RDKit (Python)") + f", {r['threads']} thread(s)"
    print(f"{label:28} {r['molecules']:10,} {r['mol_per_s']:10,.0f} {r['mol_per_s'] / p['mol_per_s']:8.2f}x "
          f"{r['vmhwm_kib'] / 1024:6.0f} MiB  {r['top1_score']:.4f}/{r['top1_line']}, {r['topk_min_score']:.4f}")
PY
