#!/usr/bin/env bash
# NCCL data-parallel check for a machine with 2 GPUs (issue 19; unverified until one runs it).
#  1. Equivalence: `mpirun -np 2 chemlm --device cuda pretrain` (one GPU per rank, gradients summed
#     by NCCL) against one GPU on the same global batch: per-step losses and final weights to 1e-5
#     (20 steps, MoLFormer MLM and GPT-Neo CLM without dropout, as tests/mpi.rs does on the CPU).
#  2. Scaling: molformer-small tokens/s on 1 and 2 GPUs (median over steps after the first 5), and
#     the all-reduce share of step time.
# Build here with the CUDA toolkit (../shared/cuda/README.md) and carry the binary:
#   eval "$(../shared/cuda/toolkit.sh)"; cargo build --release -p chemlm --features cuda,nccl
#   benches/dist/nccl.sh target/release/chemlm [STEPS=40]
# Needs on the GPU machine: mpirun (Open MPI), libnccl.so.2 (PyTorch's nvidia-nccl wheel has it),
# python3, and a data dir: CHEMLM_DATA_DIR with moses/train.csv.gz.
set -euo pipefail
BIN=$(realpath "${1:?usage: benches/dist/nccl.sh CHEMLM_BINARY [STEPS]}")
STEPS=${2:-40}
cd "$(dirname "$0")/../.."
: "${CHEMLM_DATA_DIR:?set CHEMLM_DATA_DIR}"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
MPI=(mpirun --allow-run-as-root --oversubscribe -np 2)

# awk reads to the end: `head` would end the pipe early and fail it under pipefail.
zcat "$CHEMLM_DATA_DIR/moses/train.csv.gz" | awk -F, -v n=20000 'NR > 1 && NR <= n + 1 {print $1}' > "$WORK/train.smi"
"$BIN" --quiet data prepare --input "$WORK/train.smi" --kind smiles --valid-fraction 0.01 \
    --out "$WORK/data" 2>/dev/null

cat > "$WORK/mlm.toml" <<'EOF'
model_type = "molformer"
vocab_size = 2362
hidden_size = 64
num_hidden_layers = 2
num_attention_heads = 4
intermediate_size = 128
hidden_act = "gelu"
hidden_dropout_prob = 0.0
embedding_dropout_prob = 0.0
max_position_embeddings = 202
num_random_features = 16
pad_token_id = 2
attention_type = "linear"
feature_map = "generalized_random"
EOF
cat > "$WORK/clm.toml" <<'EOF'
model_type = "gpt_neo"
vocab_size = 591
hidden_size = 64
num_layers = 2
num_heads = 4
max_position_embeddings = 256
window_size = 16
attention_types = [[["global", "local"], 1]]
activation_function = "gelu_new"
embed_dropout = 0.0
attention_dropout = 0.0
resid_dropout = 0.0
EOF

compare() { # two run dirs
  python3 - "$1" "$2" <<'PY'
import json, struct, sys
def losses(d):
    return [(r["step"], r["loss"]) for r in map(json.loads, open(f"{d}/metrics.jsonl")) if r["kind"] == "train"]
def weights(d):
    b = open(f"{d}/model/model.safetensors", "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    head = json.loads(b[8:8 + n]); base = 8 + n
    out = {}
    for k, v in head.items():
        if k == "__metadata__": continue
        s, e = v["data_offsets"]
        out[k] = struct.unpack(f"<{(e - s) // 4}f", b[base + s:base + e])
    return out
a, b = losses(sys.argv[1]), losses(sys.argv[2])
dl = max(abs(x[1] - y[1]) / max(1.0, abs(x[1])) for x, y in zip(a, b))
wa, wb = weights(sys.argv[1]), weights(sys.argv[2])
dw = max(max(abs(p - q) for p, q in zip(wa[k], wb[k])) for k in wa)
ok = len(a) == len(b) and dl <= 1e-5 and dw <= 1e-5
print(f"  losses: max rel diff {dl:.2e}; weights: max abs diff {dw:.2e} -> {'OK' if ok else 'FAIL'}")
sys.exit(0 if ok else 1)
PY
}

common=(--quiet pretrain --data "$WORK/data" --batch-tokens 100000 --max-sequences 32 --lr 2e-3
        --warmup 2 --schedule cosine --seed 7 --eval-every 10 --checkpoint-every 10)
status=0
for m in mlm clm; do
  echo "== equivalence, $m: 2 GPUs (NCCL) vs 1 GPU, 20 steps"
  "$BIN" --device cuda "${common[@]}" --model-config "$WORK/$m.toml" --steps 20 --out "$WORK/$m-1" >/dev/null
  "${MPI[@]}" "$BIN" --device cuda "${common[@]}" --model-config "$WORK/$m.toml" --steps 20 \
      --out "$WORK/$m-2" >/dev/null
  compare "$WORK/$m-1" "$WORK/$m-2" || status=1
done

echo "== scaling: molformer-small, $STEPS steps, global batch 32768 tokens"
for launcher in "" "${MPI[*]}"; do
  rm -rf "$WORK/scale"
  $launcher "$BIN" --device cuda --quiet pretrain --preset molformer-small --data "$WORK/data" \
      --out "$WORK/scale" --steps "$STEPS" --batch-tokens 32768 --eval-every 0 --checkpoint-every 0 \
      >/dev/null
  python3 - "${launcher:+2 GPUs (NCCL)}" "$WORK/scale/metrics.jsonl" <<'PY'
import json, statistics, sys
name = sys.argv[1] or "1 GPU"
steps = [r for r in map(json.loads, open(sys.argv[2])) if r["kind"] == "train"][5:]
secs = sum(r["tokens"] / r["tokens_per_sec"] for r in steps)
comm = sum(r.get("allreduce_seconds", 0.0) for r in steps)
print(f"  {name:<14} {statistics.median(r['tokens_per_sec'] for r in steps):>10.0f} tokens/s, all-reduce {100 * comm / secs:.1f} % of step time")
PY
done
exit $status
