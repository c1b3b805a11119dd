#!/usr/bin/env python3
"""PyTorch/transformers side of `chemlm bench seq2seq`: the same T5 model directory, batch,
threads and recipe, timed the same way.

* train: one teacher-forced step of T5ForConditionalGeneration (train mode, dropout as in the
  config) on `--batch` random (source, target) pairs of `--src-len` / `--tgt-len` tokens:
  forward with labels (mean cross-entropy), backward, clip_grad_norm_(1.0), AdamW (lr 6e-4,
  weight decay 0). Medians over `--steps` after `--warmup`.
* decode: `generate(num_beams=--beams, max_length=--max-length, min_length=--max-length,
  early_stopping=True)` (full-length decoding whatever the weights) on
  `--decode-batch` sources in eval mode under torch.inference_mode(); also greedy. The output
  token ids are printed (hash) so the chemlm run can be checked to produce the same ones.
* peak memory: ru_maxrss of the process after each phase (the phases run in separate processes
  when --phase is given, which is how run.sh calls it, so each peak is that phase's own).

Usage: python3 benches/t5/torch_t5.py --model DIR [--threads 2] [--phase train|decode]
Prints one JSON object per phase.
"""
import argparse
import hashlib
import json
import resource
import statistics
import time

import torch
from transformers import T5ForConditionalGeneration


def batch(vocab, b, n, seed):
    """The same deterministic batch as `chemlm bench seq2seq` (bench_seq2seq.rs::synthetic):
    ids 3.. avoid pad (0), eos (1) and unk (2); the last token is eos, as a tokenizer adds it."""
    ids = [[3 + (i * 131 + j * 17 + seed * 7919) % (vocab - 3) for j in range(n)] for i in range(b)]
    for row in ids:
        row[-1] = 1
    return torch.tensor(ids, dtype=torch.long)


def strip(seqs, eos=1):
    """Generated ids without the decoder start token, cut after the first eos (transformers pads
    finished sequences), the form `chemlm bench seq2seq` hashes."""
    out = []
    for s in seqs:
        s = s[1:]
        if eos in s:
            s = s[: s.index(eos) + 1]
        out.append(s)
    return out


def peak_mib():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def train_phase(model, a):
    vocab = model.config.vocab_size
    src = batch(vocab, a.batch, a.src_len, 0)
    tgt = batch(vocab, a.batch, a.tgt_len, 1)
    mask = torch.ones_like(src)
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=6e-4, weight_decay=0.0)
    times = []
    for i in range(a.warmup + a.steps):
        t0 = time.perf_counter()
        out = model(input_ids=src, attention_mask=mask, labels=tgt)
        out.loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        dt = time.perf_counter() - t0
        if i >= a.warmup:
            times.append(dt)
    return {"phase": "train", "seconds_per_step": statistics.median(times),
            "batch": a.batch, "src_len": a.src_len, "tgt_len": a.tgt_len,
            "peak_rss_mib": peak_mib()}


def decode_phase(model, a):
    vocab = model.config.vocab_size
    src = batch(vocab, a.decode_batch, a.src_len, 2)
    mask = torch.ones_like(src)
    model.eval()
    res = {"phase": "decode", "beams": a.beams, "max_length": a.max_length,
           "decode_batch": a.decode_batch, "src_len": a.src_len}
    with torch.inference_mode():
        for name, kw in (("beam", dict(num_beams=a.beams, early_stopping=True)),
                         ("greedy", dict(num_beams=1, do_sample=False))):
            times = []
            for i in range(a.warmup + a.rounds):
                t0 = time.perf_counter()
                # min_length = max_length: eos is forbidden until the limit, so a random model
                # decodes full length and both sides do the same, known amount of work.
                out = model.generate(input_ids=src, attention_mask=mask,
                                     max_length=a.max_length, min_length=a.max_length, **kw)
                dt = time.perf_counter() - t0
                if i >= a.warmup:
                    times.append(dt)
            toks = strip(out.tolist())
            res[f"{name}_seconds"] = statistics.median(times)
            res[f"{name}_tokens"] = sum(len(t) for t in toks)
            res[f"{name}_sha256"] = hashlib.sha256(json.dumps(toks, separators=(",", ":")).encode()).hexdigest()
    res["peak_rss_mib"] = peak_mib()
    return res


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--model", required=True)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--phase", default="train,decode")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--src-len", type=int, default=64)
    p.add_argument("--tgt-len", type=int, default=64)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=1)
    p.add_argument("--decode-batch", type=int, default=4)
    p.add_argument("--beams", type=int, default=10)
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--rounds", type=int, default=3)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = T5ForConditionalGeneration.from_pretrained(a.model, attn_implementation="eager")
    for ph in a.phase.split(","):
        r = train_phase(model, a) if ph == "train" else decode_phase(model, a)
        r.update({"impl": "torch", "threads": a.threads, "torch": torch.__version__})
        print(json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
