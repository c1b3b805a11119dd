#!/usr/bin/env python3
"""PyTorch reference for `chemlm bench compress`: the same four DeLiCaTe shapes as Hugging Face
BertForMaskedLM / AlbertForMaskedLM, the same protocol (batch 32 x 128 tokens, one warm-up then
repeated forward passes under torch.no_grad() in eval mode; a training step = MLM forward +
backward on every 7th position), the same thread count. Prints one JSON object.

  python3 benches/compress/torch_compress.py [--threads 2] [--repeats 5] [--train-repeats 2]
"""
import argparse
import json
import time

import torch
from transformers import AlbertConfig, AlbertForMaskedLM, BertConfig, BertForMaskedLM

p = argparse.ArgumentParser()
p.add_argument("--threads", type=int, default=2)
p.add_argument("--repeats", type=int, default=5)
p.add_argument("--train-repeats", type=int, default=2)
p.add_argument("--batch", type=int, default=32)
p.add_argument("--seq-len", type=int, default=128)
p.add_argument("--models", default="teacher,clps,kd,delicate")
a = p.parse_args()
torch.set_num_threads(a.threads)
torch.manual_seed(0)

common = dict(vocab_size=42, hidden_size=768, num_attention_heads=12, intermediate_size=3072,
              hidden_act="gelu", max_position_embeddings=512, type_vocab_size=2)
shapes = {
    "teacher": lambda: BertForMaskedLM(BertConfig(num_hidden_layers=12, **common)),
    "clps": lambda: AlbertForMaskedLM(AlbertConfig(embedding_size=768, num_hidden_layers=12,
                                                   num_hidden_groups=1, **common)),
    "kd": lambda: BertForMaskedLM(BertConfig(num_hidden_layers=3, **common)),
    "delicate": lambda: AlbertForMaskedLM(AlbertConfig(embedding_size=768, num_hidden_layers=3,
                                                       num_hidden_groups=1, **common)),
}
ids = torch.randint(5, 42, (a.batch, a.seq_len))
mask = torch.ones_like(ids)
labels = torch.full_like(ids, -100)
flat = labels.view(-1)
sel = torch.arange(flat.numel()) % 7 == 3
flat[sel] = ids.view(-1)[sel]
rows = []
for name in a.models.split(","):
    m = shapes[name]()
    m.eval()
    with torch.no_grad():
        m(input_ids=ids, attention_mask=mask)
        inf = []
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            m(input_ids=ids, attention_mask=mask)
            inf.append(time.perf_counter() - t0)
    m.train()
    tr = []
    for _ in range(a.train_repeats):
        t0 = time.perf_counter()
        out = m(input_ids=ids, attention_mask=mask, labels=labels)
        out.loss.backward()
        m.zero_grad(set_to_none=True)
        tr.append(time.perf_counter() - t0)
    rows.append({"model": name, "parameters": sum(p.numel() for p in m.parameters()),
                 "inference_s_mean": sum(inf) / len(inf), "inference_s_min": min(inf),
                 "train_step_s_mean": sum(tr) / len(tr) if tr else None})
    print(json.dumps(rows[-1]), flush=True)
print(json.dumps({"torch": torch.__version__, "threads": a.threads, "rows": rows}))
