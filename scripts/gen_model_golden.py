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

RoBERTa (ChemBERTa) and checkpoint layouts, each seeded on its own so they leave the files
above unchanged (regenerate only them with `--only roberta roberta-bin ...`):
  roberta/           RobertaForMaskedLM, pad id 1, a right-padded batch padded with id 1;
                     io also holds last_hidden_state
  roberta-bin/       the same model as pytorch_model.bin only (torch.save of the state dict, as
                     transformers 4's safe_serialization=False: tied lm_head.decoder.* included)
  roberta-model/     RobertaModel saved by AutoModel's save_pretrained: no `roberta.` prefix, a
                     pooler, no LM head; io holds last_hidden_state only
  roberta-mtr/       DeepChem's ChemBERTa-77M-MTR layout: `roberta.*` encoder, a regression head
                     (`regression.dense/out_proj`, `norm_mean`, `norm_std`), no LM head
  roberta-sharded/   RobertaForMaskedLM saved with a small max_shard_size: model.safetensors.index.json
                     + several model-0000x-of-0000n.safetensors
  bert-sharded-bin/  BertForMaskedLM as sharded pytorch_model.bin (transformers 4 layout:
                     pytorch_model.bin.index.json + pytorch_model-0000x-of-0000n.bin)

Usage: python3 scripts/gen_model_golden.py [--only NAME ...]
       (needs torch, transformers, safetensors)
"""
import argparse
import json
import math
import os
import sys

import torch
from safetensors.torch import save_file
from transformers import (AlbertConfig, AlbertForMaskedLM, BertConfig, BertForMaskedLM,
                          GPTNeoConfig, GPTNeoForCausalLM, RobertaConfig, RobertaForMaskedLM,
                          RobertaModel)

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


def write(name, model, ids, mask, logits, extra_config=None, hidden=None):
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
    io = {"input_ids": ids.contiguous(), "attention_mask": mask.contiguous()}
    if logits is not None:
        io["logits"] = logits.detach().float().contiguous()
    if hidden is not None:
        io["last_hidden_state"] = hidden.detach().float().contiguous()
    save_file(io, os.path.join(d, "io.safetensors"))


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


# ---- RoBERTa (ChemBERTa) and checkpoint layouts; each seeds itself ----

ROBERTA_PAD = 1


def roberta_config(**kw):
    # hidden_act gelu_new in the layers: RobertaLMHead always uses erf GELU, and the golden
    # logits only match if the Rust head ignores hidden_act as transformers does.
    base = dict(vocab_size=VOCAB, hidden_size=16, num_hidden_layers=2, num_attention_heads=4,
                intermediate_size=32, max_position_embeddings=10 + ROBERTA_PAD + 1 + 2,
                type_vocab_size=1, hidden_act="gelu_new", layer_norm_eps=1e-5,
                pad_token_id=ROBERTA_PAD, bos_token_id=0, eos_token_id=2,
                hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    base.update(kw)
    return RobertaConfig(**base)


def roberta_inputs():
    """Right-padded with the pad id 1 (RoBERTa's positions skip it): <s>=0 ... </s>=2."""
    lengths = [7, 4, 10]
    ids = torch.full((3, 10), ROBERTA_PAD, dtype=torch.long)
    mask = torch.zeros(3, 10, dtype=torch.long)
    for i, n in enumerate(lengths):
        ids[i, :n] = torch.randint(3, VOCAB, (n,))
        ids[i, 0] = 0
        ids[i, n - 1] = 2
        mask[i, :n] = 1
    return ids, mask


def mlm_outputs(m, ids, mask):
    with torch.no_grad():
        out = m(input_ids=ids, attention_mask=mask, output_hidden_states=True)
    return out.logits, out.hidden_states[-1]


def clean_dir(d):
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))


def roberta_mlm():
    torch.manual_seed(100)
    m = RobertaForMaskedLM(roberta_config()).eval()
    randomise(m)
    m.tie_weights()
    ids, mask = roberta_inputs()
    logits, hidden = mlm_outputs(m, ids, mask)
    for name in ("roberta", "roberta-bin"):
        clean_dir(os.path.join(OUT, name))
    write("roberta", m, ids, mask, logits, hidden=hidden)
    # transformers 5 writes only safetensors; transformers 4's safe_serialization=False was
    # torch.save of the state dict, tied duplicates sharing one storage.
    d = os.path.join(OUT, "roberta-bin")
    m.config.save_pretrained(d)
    sd = m.state_dict()
    assert "lm_head.decoder.weight" in sd and "lm_head.decoder.bias" in sd, sorted(sd)
    torch.save(sd, os.path.join(d, "pytorch_model.bin"))
    write("roberta-bin", None, ids, mask, logits, hidden=hidden)


def roberta_bare():
    """AutoModel layout: RobertaModel with its pooler, names without `roberta.`."""
    torch.manual_seed(101)
    m = RobertaModel(roberta_config()).eval()
    randomise(m)
    ids, mask = roberta_inputs()
    with torch.no_grad():
        hidden = m(input_ids=ids, attention_mask=mask).last_hidden_state
    d = os.path.join(OUT, "roberta-model")
    clean_dir(d)
    write("roberta-model", m, ids, mask, None, hidden=hidden)
    keys = safe_keys(os.path.join(d, "model.safetensors"))
    assert any(k.startswith("pooler.") for k in keys), keys
    assert not any(k.startswith("roberta.") for k in keys), keys


def safe_keys(path):
    from safetensors import safe_open
    with safe_open(path, "pt") as f:
        return list(f.keys())


def roberta_mtr():
    """DeepChem's RobertaForRegression checkpoint (ChemBERTa-77M-MTR): encoder under `roberta.`,
    a two-layer regression head and label normalisation, no LM head. DeepChem's class needs
    deepchem, so its state dict is assembled here from a RobertaModel."""
    torch.manual_seed(102)
    cfg = roberta_config()
    enc = RobertaModel(cfg, add_pooling_layer=False).eval()
    randomise(enc)
    ids, mask = roberta_inputs()
    with torch.no_grad():
        hidden = enc(input_ids=ids, attention_mask=mask).last_hidden_state
    n_tasks = 3
    sd = {"roberta." + k: v.contiguous() for k, v in enc.state_dict().items()}
    sd["regression.dense.weight"] = 0.3 * torch.randn(16, 16)
    sd["regression.dense.bias"] = 0.3 * torch.randn(16)
    sd["regression.out_proj.weight"] = 0.3 * torch.randn(n_tasks, 16)
    sd["regression.out_proj.bias"] = 0.3 * torch.randn(n_tasks)
    sd["norm_mean"] = torch.randn(n_tasks)
    sd["norm_std"] = torch.rand(n_tasks) + 0.5
    d = os.path.join(OUT, "roberta-mtr")
    clean_dir(d)
    config = cfg.to_dict()
    config.update({"architectures": ["RobertaForRegression"], "num_labels": n_tasks,
                   "norm_mean": sd["norm_mean"].tolist(), "norm_std": sd["norm_std"].tolist()})
    config.pop("transformers_version", None)
    with open(os.path.join(d, "config.json"), "w") as f:
        json.dump(config, f, indent=2, sort_keys=True)
    save_file(sd, os.path.join(d, "model.safetensors"), metadata={"format": "pt"})
    write("roberta-mtr", None, ids, mask, None, hidden=hidden)


def roberta_sharded():
    torch.manual_seed(103)
    m = RobertaForMaskedLM(roberta_config()).eval()
    randomise(m)
    m.tie_weights()
    ids, mask = roberta_inputs()
    logits, hidden = mlm_outputs(m, ids, mask)
    d = os.path.join(OUT, "roberta-sharded")
    clean_dir(d)
    m.save_pretrained(d, max_shard_size="16KB")
    shards = [f for f in os.listdir(d) if f.endswith(".safetensors")]
    assert os.path.exists(os.path.join(d, "model.safetensors.index.json")), os.listdir(d)
    assert len(shards) >= 2, shards
    write("roberta-sharded", None, ids, mask, logits, hidden=hidden)


def bert_sharded_bin():
    """Sharded pytorch_model.bin as transformers 4 wrote it (transformers 5 writes safetensors
    only): shards of the state dict in order, and an index with `weight_map`."""
    torch.manual_seed(104)
    cfg = BertConfig(vocab_size=VOCAB, hidden_size=16, num_hidden_layers=2, num_attention_heads=4,
                     intermediate_size=32, max_position_embeddings=16, hidden_act="gelu",
                     pad_token_id=0, hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    m = BertForMaskedLM(cfg).eval()
    randomise(m)
    m.tie_weights()
    ids, mask = inputs()
    logits, hidden = mlm_outputs(m, ids, mask)
    d = os.path.join(OUT, "bert-sharded-bin")
    clean_dir(d)
    m.config.save_pretrained(d)
    # transformers 4 saved tied weights once: drop the decoder copies.
    sd = {k: v for k, v in m.state_dict().items() if not k.startswith("cls.predictions.decoder.")}
    names = list(sd)
    parts = [names[: len(names) // 2], names[len(names) // 2:]]
    weight_map = {}
    total = 0
    for i, part in enumerate(parts):
        fname = f"pytorch_model-{i + 1:05d}-of-{len(parts):05d}.bin"
        torch.save({k: sd[k].clone() for k in part}, os.path.join(d, fname))
        for k in part:
            weight_map[k] = fname
            total += sd[k].numel() * sd[k].element_size()
    with open(os.path.join(d, "pytorch_model.bin.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2,
                  sort_keys=True)
    write("bert-sharded-bin", None, ids, mask, logits, hidden=hidden)


ORIGINAL = ["bert", "albert", "gpt_neo", "molformer"]
SELF_SEEDED = {
    "roberta": roberta_mlm,  # also writes roberta-bin
    "roberta-model": roberta_bare,
    "roberta-mtr": roberta_mtr,
    "roberta-sharded": roberta_sharded,
    "bert-sharded-bin": bert_sharded_bin,
}


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", nargs="+", choices=ORIGINAL + list(SELF_SEEDED) + ["roberta-bin"],
                    help="regenerate only these directories (the original four share one "
                         "random stream, so any of them regenerates all four)")
    args = ap.parse_args()
    only = set(args.only or ORIGINAL + list(SELF_SEEDED))
    if "roberta-bin" in only:
        only.add("roberta")
    if only & set(ORIGINAL):
        torch.manual_seed(0)
        bert()
        albert()
        gpt_neo()
        molformer()
    for name, fn in SELF_SEEDED.items():
        if name in only:
            fn()
    total = 0
    for root, _, files in os.walk(OUT):
        for f in files:
            total += os.path.getsize(os.path.join(root, f))
    print(f"golden files written to {os.path.normpath(OUT)} ({total / 1024:.0f} KiB)", file=sys.stderr)
