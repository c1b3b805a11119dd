#!/usr/bin/env bash
# Screening throughput and peak memory of `chemlm screen` with model embeddings (cosine to the
# actives) for several model directories, plus ECFP4 for reference, on the same library slice,
# in one run:
#
#   benches/screen/models.sh LIMIT THREADS MODEL_DIR...
#
# LIMIT molecules from MOSES train ($CHEMLM_DATA_DIR/moses/train.csv.gz), the 10 actives of
# benches/screen/actives.smi, top 1000. Uses the release `chemlm` binary (built first). Prints
# one line per scorer: molecules/s and peak resident memory (GNU time's %M). Env BIN: a prebuilt
# chemlm binary to use instead of building one.
set -euo pipefail
cd "$(dirname "$0")/../.."
LIMIT=${1:?LIMIT}
THREADS=${2:?THREADS}
shift 2
DATA=${CHEMLM_DATA_DIR:-../shared/data}
OUT=${OUT:-$(mktemp -d)}
mkdir -p "$OUT"
export RAYON_NUM_THREADS=$THREADS
if [[ -z "${BIN:-}" ]]; then
  cargo build -q --release -p chemlm --bin chemlm >&2
  BIN=${CARGO_TARGET_DIR:-target}/release/chemlm
fi
{ gzip -cdf "$DATA/moses/train.csv.gz" | head -n $((LIMIT + 1)) || true; } > "$OUT/lib.smi"
echo "# $(nproc) cores, $THREADS threads, $LIMIT MOSES train molecules, raw output in $OUT" >&2
run() {
  local name=$1
  shift
  /usr/bin/time -f "%M" -o "$OUT/$name.mem" "$BIN" screen --quiet --library "$OUT/lib.smi" \
    --actives benches/screen/actives.smi --top 1000 --threads "$THREADS" \
    --out "$OUT/$name.csv" "$@" 2> "$OUT/$name.log"
  local rate
  rate=$(grep -o '([0-9]* molecules/s)' "$OUT/$name.log" | tr -dc '0-9')
  printf '%-40s %10s mol/s %8d MiB peak\n' "$name" "$rate" $(( $(tail -n 1 "$OUT/$name.mem") / 1024 ))
}
run ecfp4
for m in "$@"; do
  run "$(basename "$(dirname "$m")")-$(basename "$m")" --model "$m"
done
