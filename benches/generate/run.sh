#!/usr/bin/env bash
# ChemGPT sampling speed (issue 20 §3): chemlm `generate` vs transformers' `generate` with the KV
# cache, on the same random ChemGPT-4.7M-shape model (24 x 128, GPT-Neo, SELFIES vocabulary),
# same threads, batch and length budget, interleaved rounds, medians of tokens/s (sampling only;
# model loading excluded on both sides):
#
#   PATH=<venv with torch + transformers>:$PATH ../shared/tools/quiet-run -- \
#     benches/generate/run.sh [THREADS] [ROUNDS] [NUM] [MAX_LEN] [PRESET]
#
# Tokens are counted per sequence up to and including its end-of-sequence token (or the budget):
# chemlm's by re-tokenizing the raw SELFIES it wrote (+1 for <eos> when the string ended before the
# budget), transformers' from the returned ids.
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS=${1:-2}
ROUNDS=${2:-3}
NUM=${3:-1024}
MAXLEN=${4:-64}
PRESET=${5:-chemgpt-4.7m}
BATCH=${BATCH:-256}
BIN=${CHEMLM_BIN:-${CARGO_TARGET_DIR:-target}/release/chemlm}
OUT=${OUT:-$(mktemp -d)}
TOK=crates/chemlm-data/tests/golden/tok_selfies.tokenizer.json
rm -rf "$OUT/model"
"$BIN" --quiet model init --preset "$PRESET" --tokenizer "$TOK" --seed 0 --out "$OUT/model" 2>/dev/null
echo "# $PRESET, $THREADS threads, $NUM sequences x <= $MAXLEN tokens, batch $BATCH; raw in $OUT" >&2
for r in $(seq 1 "$ROUNDS"); do
  RAYON_NUM_THREADS=$THREADS "$BIN" --quiet generate --model "$OUT/model" --num "$NUM" \
    --batch "$BATCH" --max-len "$MAXLEN" --seed "$r" --out "$OUT/ours-$r.smi" \
    --selfies-out "$OUT/ours-$r.sf" 2> "$OUT/ours-$r.log"
  python3 benches/generate/torch_generate.py --model "$OUT/model" --num "$NUM" --batch "$BATCH" \
    --max-len "$MAXLEN" --threads "$THREADS" --seed "$r" > "$OUT/torch-$r.json"
done
python3 - "$OUT" "$ROUNDS" "$MAXLEN" <<'PY'
import json, re, statistics, sys
from tokenizers import Tokenizer
out, rounds, maxlen = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
tok = Tokenizer.from_file(f"{out}/model/tokenizer.json")
ours, theirs = [], []
for r in range(1, rounds + 1):
    log = open(f"{out}/ours-{r}.log").read()
    secs = float(re.search(r"molecules in ([0-9.]+) s", log).group(1))
    n = 0
    for line in open(f"{out}/ours-{r}.sf", encoding="utf-8"):
        k = len(tok.encode(line.rstrip("\n"), add_special_tokens=False).ids)
        n += min(k + 1, maxlen)
    ours.append(n / secs)
    t = json.load(open(f"{out}/torch-{r}.json"))
    theirs.append(t["tokens"] / t["seconds"])
m = statistics.median
print(json.dumps({"chemlm_tokens_per_s": m(ours), "transformers_tokens_per_s": m(theirs),
                  "ratio": m(ours) / m(theirs), "chemlm_all": ours, "transformers_all": theirs}))
PY
