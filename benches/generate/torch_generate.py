#!/usr/bin/env python3
"""transformers' side of benches/generate/run.sh: sample NUM sequences from a GPT-Neo model
directory (chemlm's, loaded by GPTNeoForCausalLM) with the KV cache, in batches of BATCH, plain
sampling (temperature 1, no top-k/top-p) of at most MAXLEN new tokens after <bos>; prints one JSON
line: seconds (sampling only, load excluded) and generated tokens (each sequence up to and
including its end-of-sequence token)."""
import argparse
import json
import time

import torch
from transformers import GPTNeoForCausalLM


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--num", type=int, default=1024)
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--max-len", type=int, default=128)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    model = GPTNeoForCausalLM.from_pretrained(a.model).eval()
    cfg = model.config
    bos, eos = cfg.bos_token_id, cfg.eos_token_id
    pad = cfg.pad_token_id if cfg.pad_token_id is not None else eos
    tokens = 0
    t0 = time.perf_counter()
    with torch.inference_mode():
        done = 0
        while done < a.num:
            b = min(a.batch, a.num - done)
            ids = torch.full((b, 1), bos, dtype=torch.long)
            out = model.generate(
                input_ids=ids,
                attention_mask=torch.ones_like(ids),
                do_sample=True,
                top_k=0,
                top_p=1.0,
                temperature=1.0,
                max_new_tokens=a.max_len,
                eos_token_id=eos,
                pad_token_id=pad,
                use_cache=True,
            )
            for row in out[:, 1:].tolist():
                n = len(row)
                if eos in row:
                    n = row.index(eos) + 1
                tokens += n
            done += b
    secs = time.perf_counter() - t0
    print(json.dumps({"seconds": secs, "tokens": tokens, "sequences": a.num}))


if __name__ == "__main__":
    main()
