#!/usr/bin/env python3
"""PyTorch side of the chemlm-models speed comparison (same shapes as
crates/chemlm-models/benches/models.rs):

* embed_molformer_xl: MoLFormer-XL shape (12 x 768, 12 heads, FFN 768, rotary, linear attention
  with 32 relu random features, final LayerNorm), batch 256 x 64 tokens, masked mean pooling,
  eval mode under torch.inference_mode() -> molecules/s. The forward restates the Hugging Face
  MoLFormer port (which needs trust_remote_code) with torch.nn modules.
* mlm_fwd_bwd_bert_small: transformers BertForMaskedLM, 6 x 256, 4 heads, FFN 1024, vocab 42,
  batch 32 x 64, cross-entropy over all positions, forward + backward -> seconds.

Usage: python3 benches/models/torch_models.py [--threads 2] [--reps 5]
Prints one JSON object per line.
"""
import argparse
import json
import math
import statistics
import time

import torch
from torch import nn


class LinearAttentionLayer(nn.Module):
    def __init__(self, h, heads, ffn, m, max_pos=202, eps=1e-6):
        super().__init__()
        self.h, self.heads, self.dh, self.m, self.eps = h, heads, h // heads, m, eps
        self.q, self.k, self.v, self.o = (nn.Linear(h, h) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(h, eps=1e-12), nn.LayerNorm(h, eps=1e-12)
        self.f1, self.f2 = nn.Linear(h, ffn), nn.Linear(ffn, h)
        self.register_buffer("w", torch.randn(self.dh, m))
        inv = 1.0 / (10000 ** (torch.arange(0, self.dh, 2).float() / self.dh))
        emb = torch.cat([torch.outer(torch.arange(max_pos).float(), inv)] * 2, dim=-1)
        self.register_buffer("cos", emb.cos())
        self.register_buffer("sin", emb.sin())

    @staticmethod
    def rot(x):
        a, b = x.chunk(2, dim=-1)
        return torch.cat((-b, a), dim=-1)

    def forward(self, x, mask):
        B, S, _ = x.shape
        sp = lambda t: t.view(B, S, self.heads, self.dh).transpose(1, 2)
        q, k, v = sp(self.q(x)), sp(self.k(x)), sp(self.v(x))
        c, s = self.cos[:S], self.sin[:S]
        q = q * c + self.rot(q) * s
        k = k * c + self.rot(k) * s
        q, k = torch.relu(q @ self.w), torch.relu(k @ self.w)
        k = k * mask[:, None, :, None]
        kv = k.transpose(-1, -2) @ v
        z = q @ k.sum(dim=-2).unsqueeze(-1) + self.eps
        ctx = ((q @ kv) / z).transpose(1, 2).reshape(B, S, self.h)
        a = self.ln1(self.o(ctx) + x)
        return self.ln2(self.f2(nn.functional.gelu(self.f1(a))) + a)


class MolformerShape(nn.Module):
    def __init__(self, vocab=2362, h=768, layers=12, heads=12, ffn=768, m=32):
        super().__init__()
        self.emb = nn.Embedding(vocab, h)
        self.layers = nn.ModuleList(LinearAttentionLayer(h, heads, ffn, m) for _ in range(layers))
        self.ln = nn.LayerNorm(h, eps=1e-12)

    def embed(self, ids, mask):
        x = self.emb(ids)
        m = mask.float()
        for l in self.layers:
            x = l(x, m)
        x = self.ln(x)
        return (x * m[..., None]).sum(1) / m.sum(1, keepdim=True).clamp(min=1e-9)


def timed(fn, reps):
    fn()
    ts = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t)
    return statistics.median(ts)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("only", nargs="?", default="")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    tag = f"torch-{torch.__version__.split('+')[0]}-eager"

    if "embed" in a.only or not a.only:
        model = MolformerShape().eval()
        ids = torch.randint(5, 2362, (256, 64))
        mask = torch.ones(256, 64, dtype=torch.long)
        with torch.inference_mode():
            s = timed(lambda: model.embed(ids, mask), a.reps)
        print(json.dumps({"bench": "embed_molformer_xl", "impl": tag, "threads": a.threads, "batch": 256,
                          "seq": 64, "seconds": round(s, 4), "molecules_per_s": round(256 / s, 1)}))

    if "mlm" in a.only or not a.only:
        from transformers import BertConfig, BertForMaskedLM
        cfg = BertConfig(vocab_size=42, hidden_size=256, num_hidden_layers=6, num_attention_heads=4,
                         intermediate_size=1024, max_position_embeddings=128, hidden_act="gelu",
                         attn_implementation="eager")
        model = BertForMaskedLM(cfg).train()
        ids = torch.randint(5, 42, (32, 64))
        mask = torch.ones(32, 64, dtype=torch.long)

        def step():
            logits = model(input_ids=ids, attention_mask=mask).logits
            loss = nn.functional.cross_entropy(logits.reshape(-1, 42), ids.reshape(-1))
            loss.backward()

        s = timed(step, a.reps)
        print(json.dumps({"bench": "mlm_fwd_bwd_bert_small", "impl": tag, "threads": a.threads, "batch": 32,
                          "seq": 64, "seconds": round(s, 4), "tokens_per_s": round(32 * 64 / s)}))


if __name__ == "__main__":
    main()
