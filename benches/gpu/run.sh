#!/usr/bin/env bash
# GPU test-and-bench for chemlm (issue 23), run on a machine with an NVIDIA GPU from the repository
# root, with a prebuilt CUDA binary (the GPU machine needs no Rust toolchain):
#
#   # here:  eval "$(../shared/cuda/toolkit.sh)"; cargo build --release --features cuda
#   # there: benches/gpu/run.sh path/to/chemlm
#
# 1. parity: the golden models' reference outputs on the GPU, f32 (abs 1e-4) and bf16 (5 % of
#    the reference range, the tolerance the CPU golden tests hold bf16 to);
# 2. devices: one masked-LM pretraining run moved GPU -> CPU -> GPU through its checkpoints;
# 3. speed: training tokens/s and MFU of one full MLM step (`chemlm bench train`) at the
#    molformer-small and molformer-xl shapes, f32 and bf16, beside PyTorch eager on the same GPU
#    (benches/train/torch_train.py, bf16 = torch.autocast), in interleaved rounds.
#
# Environment: DEVICE (cuda; `cpu` dry-runs the logic without a GPU), OUT (benches/gpu/out),
# ROUNDS (3), BATCH (128), SEQ (128), STEPS (10),
# PEAK_BF16 / PEAK_TF32 in TFLOP/s (default: H100/H200 SXM dense 989 / 495; A100 312 / 156).
# Results: $OUT/*.jsonl and a summary on stdout (paste it into docs/benchmarks.md).
set -euo pipefail
BIN=$(realpath "${1:-target/release/chemlm}")
OUT=${OUT:-benches/gpu/out}
ROUNDS=${ROUNDS:-3}
BATCH=${BATCH:-128}
SEQ=${SEQ:-128}
STEPS=${STEPS:-10}
DEVICE=${DEVICE:-cuda}
mkdir -p "$OUT"
# candle links the CUDA 13 runtime dynamically; on a machine with PyTorch's CUDA wheels they live
# under site-packages/nvidia/*/lib.
NV=$(python3 -c 'import nvidia,glob,os; print(":".join(glob.glob(os.path.join(list(nvidia.__path__)[0],"*","lib"))))' 2>/dev/null || true)
export LD_LIBRARY_PATH="${NV}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
if ldd "$BIN" | grep -q "not found"; then
    echo "missing libraries:"; ldd "$BIN" | grep "not found"; exit 1
fi
if [ "$DEVICE" = cpu ]; then GPU="none (dry run on $(nproc) CPU cores)"; else
GPU=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | head -1); fi
echo "GPU: $GPU"
case "$GPU" in
    *H100*|*H200*|*GH200*) PEAK_BF16=${PEAK_BF16:-989}; PEAK_TF32=${PEAK_TF32:-495} ;;
    *A100*) PEAK_BF16=${PEAK_BF16:-312}; PEAK_TF32=${PEAK_TF32:-156} ;;
    *) PEAK_BF16=${PEAK_BF16:-0}; PEAK_TF32=${PEAK_TF32:-0} ;;
esac
echo "{\"gpu\": \"$GPU\", \"peak_bf16_tflops\": $PEAK_BF16, \"peak_tf32_tflops\": $PEAK_TF32}" > "$OUT/machine.json"

echo "== 1. parity of the golden models on the GPU"
fail=0
"$BIN" --device "$DEVICE" bench parity crates/chemlm-models/tests/golden > "$OUT/parity-f32.jsonl" || fail=1
"$BIN" --device "$DEVICE" --precision bf16 bench parity crates/chemlm-models/tests/golden > "$OUT/parity-bf16.jsonl" || fail=1
python3 - "$OUT" <<'PY'
import json, sys
for p in ("f32", "bf16"):
    rows = [json.loads(l) for l in open(f"{sys.argv[1]}/parity-{p}.jsonl")]
    worst = max(rows, key=lambda r: r["relative"])
    print(f"  {p}: {sum(r['pass'] for r in rows)}/{len(rows)} outputs within tolerance; worst "
          f"{worst['model'].split('/')[-1]} {worst['output']}: abs {worst['max_abs_diff']:.2e}, rel {worst['relative']:.2e}")
PY

echo "== 2. pretraining moved across devices (GPU 10 steps -> CPU 10 -> GPU 10)"
W=$(mktemp -d)
"$BIN" --quiet data prepare --input fixtures/moses-mini.smi --kind smiles --valid-fraction 0.1 --out "$W/data" 2>/dev/null
common=(pretrain --preset molformer-small --data "$W/data" --warmup 2 --lr 1e-3 --batch-tokens 4096 --eval-every 10 --checkpoint-every 10 --out "$W/run")
"$BIN" --quiet --device "$DEVICE" --precision bf16 "${common[@]}" --steps 10 > "$OUT/devices.jsonl"
"$BIN" --quiet --device cpu "${common[@]}" --steps 20 --resume >> "$OUT/devices.jsonl"
"$BIN" --quiet --device "$DEVICE" --precision bf16 "${common[@]}" --steps 30 --resume >> "$OUT/devices.jsonl"
cp "$W/run/metrics.jsonl" "$OUT/devices-metrics.jsonl"
python3 - "$OUT" <<'PY'
import json, math, sys
rows = [json.loads(l) for l in open(f"{sys.argv[1]}/devices-metrics.jsonl")]
train = [r for r in rows if r["kind"] == "train"]
valid = [r for r in rows if r["kind"] == "valid"]
steps = [r["step"] for r in train]
ok = steps == list(range(1, 31)) and all(math.isfinite(r["loss"]) for r in train)
print(f"  steps 1..30 contiguous and finite: {ok}; valid loss by step: "
      + ", ".join(f"{r['step']}: {r['loss']:.3f}" for r in valid))
sys.exit(0 if ok else 1)
PY
rm -rf "$W"

echo "== 3. training step speed beside PyTorch ($ROUNDS interleaved rounds, batch $BATCH x $SEQ)"
: > "$OUT/train.jsonl"
for r in $(seq "$ROUNDS"); do
    for preset in molformer-small molformer-xl; do
        for prec in f32 bf16; do
            peak=$([ "$prec" = bf16 ] && echo "$PEAK_BF16" || echo "$PEAK_TF32")
            "$BIN" --quiet --device "$DEVICE" --precision "$prec" bench train --presets "$preset" \
                --impl composed --batch "$BATCH" --seq "$SEQ" --steps "$STEPS" --warmup 3 \
                --peak-tflops "$peak" | sed "s/^{/{\"round\":$r,/" >> "$OUT/train.jsonl"
            python3 benches/train/torch_train.py --device "$DEVICE" --precision "$prec" --presets "$preset" \
                --batch "$BATCH" --seq "$SEQ" --steps "$STEPS" --warmup 3 --optim default,fused \
                | sed "s/^{/{\"round\": $r, /" >> "$OUT/train.jsonl"
        done
    done
done
python3 - "$OUT" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(f"{sys.argv[1]}/train.jsonl")]
m = json.load(open(f"{sys.argv[1]}/machine.json"))
flops = {r["model"]: r["train_flops_per_token"] for r in rows if "train_flops_per_token" in r}
print("  model            prec  implementation                 tokens/s   MFU    vs torch eager")
for model in ("molformer-small", "molformer-xl"):
    for prec in ("f32", "bf16"):
        peak = m["peak_bf16_tflops"] if prec == "bf16" else m["peak_tf32_tflops"]
        sel = [r for r in rows if r["model"] == model and r["precision"] == prec]
        impls = sorted({r["impl"] for r in sel})
        med = {i: statistics.median(r["tokens_per_s"] for r in sel if r["impl"] == i) for i in impls}
        torch_eager = next((v for i, v in med.items() if i.startswith("torch") and "fused" not in i), None)
        for i in impls:
            mfu = med[i] * flops[model] / 1e12 / peak if peak else float("nan")
            ratio = med[i] / torch_eager if torch_eager else float("nan")
            print(f"  {model:16} {prec:5} {i:30} {med[i]:10.0f} {mfu:6.1%} {ratio:8.2f}x")
PY
echo "parity ok: $([ $fail = 0 ] && echo yes || echo NO)"
exit $fail
