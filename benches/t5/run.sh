#!/usr/bin/env bash
# Side-by-side T5: chemlm (`chemlm bench seq2seq`) vs transformers (benches/t5/torch_t5.py) on the
# SAME model directory, batch and threads; each phase in its own process (peak memory per phase),
# chemlm and PyTorch alternating ROUNDS times; medians of the per-round figures. Run it under
# ../shared/tools/quiet-run so the load is recorded.
# Usage: benches/t5/run.sh [THREADS=2] [ROUNDS=2]
# Env: MODEL (default: a fresh t5-small written by `chemlm model init`), BIN (prebuilt chemlm),
# OUT (raw JSON lines, default target/bench-t5.jsonl), TRAIN_ARGS / DECODE_ARGS (extra flags for
# both sides, e.g. "--batch 8 --src-len 64 --tgt-len 64").
set -euo pipefail
cd "$(dirname "$0")/../.."
THREADS=${1:-2}
ROUNDS=${2:-2}
OUT=${OUT:-target/bench-t5.jsonl}
mkdir -p "$(dirname "$OUT")"
: > "$OUT"
export RAYON_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS
if [[ -z "${BIN:-}" ]]; then
  cargo build --release -p chemlm 2>&1 | tail -1
  BIN=${CARGO_TARGET_DIR:-target}/release/chemlm
fi
MODEL=${MODEL:-target/bench-t5-small}
[[ -e "$MODEL/config.json" ]] || "$BIN" model init --preset t5-small --out "$MODEL" >&2
TRAIN_ARGS=${TRAIN_ARGS:---batch 8 --src-len 64 --tgt-len 64 --steps 3 --warmup 1}
DECODE_ARGS=${DECODE_ARGS:---decode-batch 4 --src-len 64 --beams 10 --max-length 64 --rounds 2 --warmup 1}
for r in $(seq "$ROUNDS"); do
  # shellcheck disable=SC2086
  "$BIN" --quiet bench seq2seq --model "$MODEL" --phase train $TRAIN_ARGS | tee -a "$OUT"
  python3 benches/t5/torch_t5.py --model "$MODEL" --threads "$THREADS" --phase train $TRAIN_ARGS | tee -a "$OUT"
  "$BIN" --quiet bench seq2seq --model "$MODEL" --phase decode $DECODE_ARGS | tee -a "$OUT"
  python3 benches/t5/torch_t5.py --model "$MODEL" --threads "$THREADS" --phase decode $DECODE_ARGS | tee -a "$OUT"
done
python3 - "$OUT" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.startswith("{")]
def med(impl, phase, key):
    v = [r[key] for r in rows if r["impl"] == impl and r["phase"] == phase and r.get(key) is not None]
    return statistics.median(v) if v else float("nan")
print(f"\n{'measure':<28} {'chemlm':>10} {'torch':>10}  chemlm speed-up")
for phase, key in (("train", "seconds_per_step"), ("decode", "beam_seconds"), ("decode", "greedy_seconds")):
    c, t = med("chemlm", phase, key), med("torch", phase, key)
    print(f"{phase + ' ' + key:<28} {c:>10.3f} {t:>10.3f}  {t / c:.2f}x")
for phase in ("train", "decode"):
    print(f"{'peak RSS MiB (' + phase + ')':<28} {med('chemlm', phase, 'peak_rss_mib'):>10.0f} {med('torch', phase, 'peak_rss_mib'):>10.0f}")
def hashes(impl):
    return {(r.get("beam_sha256"), r.get("greedy_sha256")) for r in rows if r["impl"] == impl and r["phase"] == "decode"}
print("decoded tokens identical to transformers:", hashes("chemlm") == hashes("torch"), sorted(hashes("chemlm")))
PY
