#!/usr/bin/env python3
"""Golden files for chemlm-models: tiny Hugging Face models with a fixed seed.

Builds BertForMaskedLM, AlbertForMaskedLM and GPTNeoForCausalLM (transformers) plus a PyTorch
re-statement of the Hugging Face MoLFormer port (ibm/MoLFormer-XL-both-10pct's
modeling_molformer.py needs trust_remote_code, so its forward is written out here), randomises
every weight (so LayerNorm/bias/scaling mistakes show), and writes under
crates/chemlm-models/tests/golden/<name>/:
  config.json, model.safetensors   (save_pretrained layout)
  io.safetensors                    input_ids, attention_mask (right-padded batch), logits
The Rust test loads each directory with Model::load and must reproduce the logits to 1e-4.

Usage: python3 scripts/gen_model_golden.py   (needs torch, transformers, safetensors)
"""
import json
import math
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import (AlbertConfig, AlbertForMaskedLM, BertConfig, BertForMaskedLM,
                          GPTNeoConfig, GPTNeoForCausalLM)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "chemlm-models",
                   "tests", "golden")
VOCAB = 24


def randomise(model, std=0.3):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("LayerNorm.weight") or ".ln_" in name or name.endswith("layer_norm.weight"):
                p.copy_(1.0 + std * torch.randn_like(p))
            else:
                p.copy_(std * torch.randn_like(p))


def inputs():
    lengths = [7, 4, 10]
    ids = torch.zeros(3, 10, dtype=torch.long)
    mask = torch.zeros(3, 10, dtype=torch.long)
    for i, n in enumerate(lengths):
        ids[i, :n] = torch.randint(3, VOCAB, (n,))
        ids[i, 0] = 1
        mask[i, :n] = 1
    return ids, mask


def write(name, model, ids, mask, logits, extra_config=None):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    if hasattr(model, "save_pretrained"):
        model.save_pretrained(d, safe_serialization=True)
        gen = os.path.join(d, "generation_config.json")
        if os.path.exists(gen):
            os.remove(gen)
    if extra_config is not None:
        with open(os.path.join(d, "config.json"), "w") as f:
            json.dump(extra_config, f, indent=2)
    save_file({"input_ids": ids.contiguous(), "attention_mask": mask.contiguous(),
               "logits": logits.detach().float().contiguous()}, os.path.join(d, "io.safetensors"))


def bert():
    cfg = BertConfig(vocab_size=VOCAB, hidden_size=16, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=32, max_position_embeddings=16, hidden_act="gelu",
                     pad_token_id=0, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    m = BertForMaskedLM(cfg).eval()
    randomise(m)
    m.tie_weights()
    ids, mask = inputs()
    with torch.no_grad():
        logits = m(input_ids=ids, attention_mask=mask).logits
    write("bert", m, ids, mask, logits)


def albert():
    cfg = AlbertConfig(vocab_size=VOCAB, embedding_size=8, hidden_size=16, num_hidden_layers=4,
                       num_hidden_groups=2, num_attention_heads=4, intermediate_size=32,
                       max_position_embeddings=16, hidden_act="gelu_new", pad_token_id=0,
                       hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0,
                       classifier_dropout_prob=0.0)
    m = AlbertForMaskedLM(cfg).eval()
    randomise(m)
    m.tie_weights()
    ids, mask = inputs()
    with torch.no_grad():
        logits = m(input_ids=ids, attention_mask=mask).logits
    write("albert", m, ids, mask, logits)


def gpt_neo():
    cfg = GPTNeoConfig(vocab_size=VOCAB, hidden_size=16, num_layers=4, num_heads=4,
                       max_position_embeddings=16, window_size=3,
                       attention_types=[[["global", "local"], 2]], activation_function="gelu_new",
                       embed_dropout=0.0, attention_dropout=0.0, resid_dropout=0.0,
                       bos_token_id=1, eos_token_id=2, pad_token_id=0)
    m = GPTNeoForCausalLM(cfg).eval()
    randomise(m, std=0.5)
    m.tie_weights()
    ids, mask = inputs()
    with torch.no_grad():
        logits = m(input_ids=ids, attention_mask=mask).logits
    write("gpt_neo", m, ids, mask, logits)


# ---- MoLFormer: the HF port's forward, restated (eval mode, fixed feature projections) ----

def rotate_half(x):
    x1, x2 = x.chunk(2, dim=-1)
    return torch.cat((-x2, x1), dim=-1)


def layer_norm(x, w, b, eps):
    return torch.nn.functional.layer_norm(x, (x.shape[-1],), w, b, eps)


def molformer():
    torch.manual_seed(3)
    H, L, NH, F, M, P = 16, 2, 4, 16, 6, 16
    dh = H // NH
    eps_ln, eps_att = 1e-12, 1e-6
    sd = {}

    def lin(name, i, o, bias=True):
        sd[name + ".weight"] = 0.3 * torch.randn(o, i)
        if bias:
            sd[name + ".bias"] = 0.3 * torch.randn(o)

    def ln(name, n):
        sd[name + ".weight"] = 1.0 + 0.3 * torch.randn(n)
        sd[name + ".bias"] = 0.3 * torch.randn(n)

    sd["molformer.embeddings.word_embeddings.weight"] = 0.5 * torch.randn(VOCAB, H)
    for i in range(L):
        p = f"molformer.encoder.layer.{i}."
        for n in ("query", "key", "value"):
            lin(p + "attention.self." + n, H, H)
        sd[p + "attention.self.feature_map.weight"] = torch.randn(dh, M)
        lin(p + "attention.output.dense", H, H)
        ln(p + "attention.output.LayerNorm", H)
        lin(p + "intermediate.dense", H, F)
        lin(p + "output.dense", F, H)
        ln(p + "output.LayerNorm", H)
    ln("molformer.LayerNorm", H)
    lin("lm_head.transform.dense", H, H)
    ln("lm_head.transform.LayerNorm", H)
    lin("lm_head.decoder", H, VOCAB, bias=False)

    inv_freq = 1.0 / (10000 ** (torch.arange(0, dh, 2).float() / dh))
    t = torch.arange(P).float()
    emb = torch.cat([torch.outer(t, inv_freq)] * 2, dim=-1)
    cos, sin = emb.cos(), emb.sin()
    gelu = torch.nn.functional.gelu

    def fwd(ids, mask):
        B, S = ids.shape
        x = sd["molformer.embeddings.word_embeddings.weight"][ids]
        m = mask.float()
        for i in range(L):
            p = f"molformer.encoder.layer.{i}."
            lw = lambda n, v: v @ sd[p + n + ".weight"].T + sd[p + n + ".bias"]
            def heads(v):
                return v.view(B, S, NH, dh).permute(0, 2, 1, 3)
            q = heads(lw("attention.self.query", x))
            k = heads(lw("attention.self.key", x))
            v = heads(lw("attention.self.value", x))
            q = q * cos[:S] + rotate_half(q) * sin[:S]
            k = k * cos[:S] + rotate_half(k) * sin[:S]
            W = sd[p + "attention.self.feature_map.weight"]
            q = torch.relu(q @ W)
            k = torch.relu(k @ W)
            k = k * m[:, None, :, None]
            kv = k.transpose(-1, -2) @ v
            z = q @ k.sum(dim=-2).unsqueeze(-1) + eps_att  # fast-transformers: + eps
            ctx = (q @ kv) / z
            ctx = ctx.permute(0, 2, 1, 3).reshape(B, S, H)
            a = layer_norm(lw("attention.output.dense", ctx) + x,
                           sd[p + "attention.output.LayerNorm.weight"],
                           sd[p + "attention.output.LayerNorm.bias"], eps_ln)
            f = lw("output.dense", gelu(lw("intermediate.dense", a)))
            x = layer_norm(f + a, sd[p + "output.LayerNorm.weight"], sd[p + "output.LayerNorm.bias"], eps_ln)
        x = layer_norm(x, sd["molformer.LayerNorm.weight"], sd["molformer.LayerNorm.bias"], eps_ln)
        h = gelu(x @ sd["lm_head.transform.dense.weight"].T + sd["lm_head.transform.dense.bias"])
        h = layer_norm(h, sd["lm_head.transform.LayerNorm.weight"], sd["lm_head.transform.LayerNorm.bias"], eps_ln)
        return h @ sd["lm_head.decoder.weight"].T

    ids, mask = inputs()
    with torch.no_grad():
        logits = fwd(ids, mask)
    config = {"model_type": "molformer", "architectures": ["MolformerForMaskedLM"],
              "vocab_size": VOCAB, "hidden_size": H, "num_hidden_layers": L,
              "num_attention_heads": NH, "intermediate_size": F, "hidden_act": "gelu",
              "hidden_dropout_prob": 0.0, "embedding_dropout_prob": 0.0,
              "max_position_embeddings": P, "layer_norm_eps": eps_ln,
              "linear_attention_eps": eps_att, "num_random_features": M,
              "feature_map_kernel": "relu", "deterministic_eval": True, "pad_token_id": 0}
    d = os.path.join(OUT, "molformer")
    os.makedirs(d, exist_ok=True)
    save_file({k: v.contiguous() for k, v in sd.items()}, os.path.join(d, "model.safetensors"))
    write("molformer", None, ids, mask, logits, extra_config=config)


if __name__ == "__main__":
    torch.manual_seed(0)
    bert()
    albert()
    gpt_neo()
    molformer()
    total = 0
    for root, _, files in os.walk(OUT):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    print(f"golden files written to {os.path.normpath(OUT)} ({total / 1024:.0f} KiB)", file=sys.stderr)
