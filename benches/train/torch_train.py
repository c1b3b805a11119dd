#!/usr/bin/env python3
"""PyTorch side of `chemlm bench train` (crates/chemlm/src/commands/bench_train.rs): one full
masked-LM training step on the same model shapes, batch, threads and recipe, timed the same way.

Step = BERT masking (15 % of tokens; 80 % <mask>, 10 % random non-special token, 10 % kept),
forward in train mode (dropout 0.1), cross-entropy on the masked positions only (summed, then
divided by their count), backward, clip_grad_norm_(1.0), AdamW (lr 1e-4, betas 0.9/0.999,
eps 1e-8, weight decay 0.01 on matrices only: not on biases, LayerNorms or embeddings).

Models:
* molformer-small: MoLFormer design restated with torch.nn modules (the Hugging Face port needs
  trust_remote_code): word embeddings (vocab 2362) + dropout, 6 post-LN layers of width 256 with
  8 heads, rotary embeddings (base 10000, rotate-half) on Q and K, linear attention with a
  32-feature relu random map (orthogonal projection redrawn at every training forward, as
  fast-transformers does), eps 1e-6, FFN 256 (erf GELU), final LayerNorm, LM head
  Linear -> GELU -> LayerNorm -> Linear(no bias).
* bert-small: transformers BertForMaskedLM, 6 x 256, 4 heads, FFN 1024, vocab 42, eager attention.

Usage: python3 benches/train/torch_train.py [--threads 2] [--steps 5] [--warmup 1]
       [--batch 32] [--seq 64] [--presets molformer-small,molformer-xl,bert-small,molbert]
       [--optim default|foreach|fused] [--device cpu|cuda] [--precision f32|bf16]
Prints one JSON object per model.
"""
import argparse
import contextlib
import json
import statistics
import time

import torch
from torch import nn
import torch.nn.functional as F


def orthogonal_random_weights(dim, m):
    blocks = []
    for _ in range((m + dim - 1) // dim):
        g = torch.randn(dim, dim)
        q, _ = torch.linalg.qr(g)
        blocks.append(q * torch.linalg.norm(g, dim=1))
    return torch.cat(blocks, dim=1)[:, :m]


def rotate_half(x):
    a, b = x.chunk(2, dim=-1)
    return torch.cat((-b, a), dim=-1)


class MolformerLayer(nn.Module):
    def __init__(self, h, heads, ffn, m, max_pos, p):
        super().__init__()
        self.h, self.heads, self.dh, self.m = h, heads, h // heads, m
        self.query, self.key, self.value, self.out = (nn.Linear(h, h) for _ in range(4))
        self.attn_ln, self.out_ln = nn.LayerNorm(h, eps=1e-12), nn.LayerNorm(h, eps=1e-12)
        self.ffn_in, self.ffn_out = nn.Linear(h, ffn), nn.Linear(ffn, h)
        self.drop = nn.Dropout(p)
        self.register_buffer("feature_w", orthogonal_random_weights(self.dh, m))
        inv = 1.0 / (10000 ** (torch.arange(0, self.dh, 2).float() / self.dh))
        emb = torch.cat([torch.outer(torch.arange(max_pos).float(), inv)] * 2, dim=-1)
        self.register_buffer("cos", emb.cos())
        self.register_buffer("sin", emb.sin())

    def forward(self, x, mask):
        B, S, _ = x.shape
        if self.training:
            self.feature_w = orthogonal_random_weights(self.dh, self.m).to(x.device)
        sp = lambda t: t.view(B, S, self.heads, self.dh).transpose(1, 2)
        q, k, v = sp(self.query(x)), sp(self.key(x)), sp(self.value(x))
        c, s = self.cos[:S], self.sin[:S]
        q = q * c + rotate_half(q) * s
        k = k * c + rotate_half(k) * s
        q, k = torch.relu(q @ self.feature_w), torch.relu(k @ self.feature_w)
        k = k * mask[:, None, :, None]
        kv = k.transpose(-1, -2) @ v
        z = q @ k.sum(dim=-2).unsqueeze(-1) + 1e-6
        ctx = ((q @ kv) / z).transpose(1, 2).reshape(B, S, self.h)
        a = self.attn_ln(self.drop(self.out(ctx)) + x)
        return self.out_ln(self.drop(self.ffn_out(F.gelu(self.ffn_in(a)))) + a)


class MolformerMLM(nn.Module):
    def __init__(self, vocab=2362, h=256, layers=6, heads=8, ffn=256, m=32, max_pos=202, p=0.1):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, h)
        self.emb_drop = nn.Dropout(p)
        self.layers = nn.ModuleList(MolformerLayer(h, heads, ffn, m, max_pos, p) for _ in range(layers))
        self.LayerNorm = nn.LayerNorm(h, eps=1e-12)
        self.head_dense = nn.Linear(h, h)
        self.head_ln = nn.LayerNorm(h, eps=1e-12)
        self.decoder = nn.Linear(h, vocab, bias=False)
        for mod in self.modules():
            if isinstance(mod, (nn.Linear, nn.Embedding)):
                nn.init.normal_(mod.weight, std=0.02)
                if getattr(mod, "bias", None) is not None:
                    nn.init.zeros_(mod.bias)

    def forward(self, ids, mask):
        x = self.emb_drop(self.word_embeddings(ids))
        m = mask.to(x.dtype)
        for layer in self.layers:
            x = layer(x, m)
        x = self.LayerNorm(x)
        return self.decoder(self.head_ln(F.gelu(self.head_dense(x))))


def build(preset):
    if preset == "molformer-small":
        return MolformerMLM(), 2362
    if preset == "molformer-xl":
        # configs/molformer-xl.toml: 12 x 768, 12 heads, FFN 768, 32 features, embedding dropout 0.2.
        return MolformerMLM(h=768, layers=12, heads=12, ffn=768, m=32), 2362
    if preset in ("bert-small", "molbert"):
        from transformers import BertConfig, BertForMaskedLM
        if preset == "bert-small":
            shape = dict(hidden_size=256, num_hidden_layers=6, num_attention_heads=4,
                         intermediate_size=1024, max_position_embeddings=128)
        else:
            # chemlm's molbert preset (MolBERT's shape): 12 x 768, 12 heads, FFN 3072, 86 M parameters.
            shape = dict(hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                         intermediate_size=3072, max_position_embeddings=512)
        cfg = BertConfig(vocab_size=42, hidden_act="gelu", layer_norm_eps=1e-12,
                         attn_implementation="eager", **shape)
        model = BertForMaskedLM(cfg)

        class Wrap(nn.Module):
            def __init__(self, m):
                super().__init__()
                self.m = m

            def forward(self, ids, mask):
                return self.m(input_ids=ids, attention_mask=mask).logits

        return Wrap(model), 42
    raise SystemExit(f"unknown preset {preset}")


def param_groups(model):
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        low = name.lower()
        if p.ndim <= 1 or "norm" in low or "embed" in low or name.endswith("bias"):
            no_decay.append(p)
        else:
            decay.append(p)
    return [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}]


def mask_tokens(ids, vocab, gen):
    """BERT corruption of non-special tokens (ids >= 5): returns inputs, flat positions, targets."""
    chosen = (torch.rand(ids.shape, generator=gen) < 0.15) & (ids >= 5)
    r = torch.rand(ids.shape, generator=gen)
    inputs = ids.clone()
    inputs[chosen & (r < 0.8)] = 3
    rand_tok = torch.randint(5, vocab, ids.shape, generator=gen)
    swap = chosen & (r >= 0.8) & (r < 0.9)
    inputs[swap] = rand_tok[swap]
    pos = chosen.flatten().nonzero().squeeze(1)
    return inputs, pos, ids.flatten()[pos]


def bench(preset, a, optim_kind):
    torch.manual_seed(a.seed)
    model, vocab = build(preset)
    dev = torch.device(a.device)
    model.to(dev)
    model.train()
    cuda = dev.type == "cuda"
    sync = torch.cuda.synchronize if cuda else (lambda: None)
    amp = a.precision == "bf16"
    if amp and cuda:
        kw_amp = dict(device_type="cuda", dtype=torch.bfloat16)
    elif amp:
        kw_amp = dict(device_type="cpu", dtype=torch.bfloat16)
    else:
        kw_amp = None
    kw = {}
    if optim_kind == "foreach":
        kw["foreach"] = True
    elif optim_kind == "fused":
        kw["fused"] = True
    opt = torch.optim.AdamW(param_groups(model), lr=1e-4, betas=(0.9, 0.999), eps=1e-8, **kw)
    gen = torch.Generator().manual_seed(a.seed + 1)
    ids = torch.randint(5, vocab, (a.batch, a.seq), generator=gen)
    attn = torch.ones(a.batch, a.seq, dtype=torch.long, device=dev)
    nparams = sum(p.numel() for p in model.parameters())

    def step():
        sync()
        t0 = time.perf_counter()
        inputs, pos, targets = mask_tokens(ids, vocab, gen)
        inputs, pos, targets = inputs.to(dev), pos.to(dev), targets.to(dev)
        with (torch.autocast(**kw_amp) if kw_amp else contextlib.nullcontext()):
            logits = model(inputs, attn)
            loss = F.cross_entropy(logits.reshape(-1, vocab)[pos].float(), targets, reduction="sum") / max(len(pos), 1)
        sync()
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        sync()
        t2 = time.perf_counter()
        with torch.profiler.record_function("chemlm-bench-optimizer"):
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
        sync()
        t3 = time.perf_counter()
        return t1 - t0, t2 - t1, t3 - t2, loss.item()

    for _ in range(a.warmup):
        step()
    if a.profile:
        return profile_steps(step, a, preset)
    times = [step() for _ in range(a.steps)]
    total = statistics.median(f + b + o for f, b, o, _ in times)
    tag = f"torch-{torch.__version__.split('+')[0]}-eager" + ("" if optim_kind == "default" else f"-{optim_kind}-adamw")
    return {"bench": "train_step", "model": preset, "impl": tag, "optimizer": "adamw", "threads": a.threads,
            "device": str(dev), "precision": a.precision,
            "batch": a.batch, "seq": a.seq, "steps": a.steps, "parameters": nparams,
            "seconds_per_step": round(total, 4), "tokens_per_s": round(a.batch * a.seq / total),
            "forward_s": round(statistics.median(t[0] for t in times), 4),
            "backward_s": round(statistics.median(t[1] for t in times), 4),
            "optimizer_s": round(statistics.median(t[2] for t in times), 4),
            "last_loss": round(times[-1][3], 4)}


# Same categories as benches/train/perf_categories.py (first match wins, on the aten op name).
CATEGORIES = [
    ("gemm", r"aten::(mm|addmm|bmm|baddbmm|addbmm|matmul|linear|_mkl|mkldnn)"),
    ("norms, activations, attention, loss", r"layer_norm|gelu|softmax|cross_entropy|nll_loss|log_softmax|embedding"),
    ("reductions", r"aten::(sum|mean|norm|linalg_vector_norm|max|min|amax|cumsum)"),
    ("element-wise", r"aten::(add|sub|mul|div|neg|where|masked|fill|relu|threshold|sqrt|rsqrt|pow|exp|cos|sin|abs|clamp|lerp|addcmul|addcdiv|native_dropout|bernoulli|_foreach)"),
    ("copies and allocation", r"aten::(copy_|empty|zeros|ones|clone|contiguous|cat|to|_to_copy|resize|new_|index|gather|scatter|stack|narrow|slice|select|expand|view|reshape|transpose|permute|t$|unsqueeze|squeeze|as_strided|split|chunk|detach|alias|flatten|randint|randperm)"),
    ("random numbers", r"aten::(rand|normal|uniform)"),
]


def profile_steps(step, a, preset):
    """Self CPU time per step of every aten op, grouped into the categories of
    perf_categories.py; the optimizer (clipping + AdamW) is its own category."""
    import re
    from torch.profiler import profile, ProfilerActivity
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        times = [step() for _ in range(a.steps)]
    cats = {name: 0.0 for name, _ in CATEGORIES}
    cats.update({"optimizer": 0.0, "other": 0.0})
    for ev in prof.events():
        if ev.name.startswith("chemlm-bench") or ev.name.startswith("Optimizer") or ev.name.startswith("autograd::") or ev.name.startswith("ProfilerStep"):
            continue
        self_us = ev.self_cpu_time_total
        par, in_opt = ev.cpu_parent, False
        while par is not None:
            if par.name == "chemlm-bench-optimizer":
                in_opt = True
                break
            par = par.cpu_parent
        name = "optimizer" if in_opt else next((n for n, pat in CATEGORIES if re.search(pat, ev.name)), "other")
        cats[name] += self_us
    total = sum(cats.values()) or 1.0
    step_s = statistics.median(f + b + o for f, b, o, _ in times)
    rows = [{"category": n, "share_of_op_time": round(v / total, 4), "seconds_per_step": round(v / 1e6 / a.steps, 4)}
            for n, v in sorted(cats.items(), key=lambda kv: -kv[1])]
    return {"bench": "train_step_profile", "model": preset, "impl": f"torch-{torch.__version__.split('+')[0]}-eager",
            "threads": a.threads, "seconds_per_step": round(step_s, 4), "categories": rows}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--seq", type=int, default=64)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--presets", default="molformer-small,bert-small")
    ap.add_argument("--optim", default="default", help="comma list of default, foreach, fused")
    ap.add_argument("--device", default="cpu", help="cpu or cuda")
    ap.add_argument("--precision", default="f32", choices=["f32", "bf16"],
                    help="bf16 = torch.autocast (f32 weights and optimizer state), as chemlm --precision bf16")
    ap.add_argument("--profile", action="store_true",
                    help="torch.profiler over the timed steps: self CPU time per op category (benches/train/profile.sh)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    for preset in a.presets.split(","):
        for kind in a.optim.split(","):
            print(json.dumps(bench(preset, a, kind)), flush=True)


if __name__ == "__main__":
    main()
