#!/usr/bin/env python3
"""Golden files for chemlm's T5 (crates/chemlm-models/src/t5.rs), made with transformers.

Writes under crates/chemlm-models/tests/golden/:
  t5-tiny-v1_0/      T5 v1.0 (ReLU FFN, head tied to `shared`, d_kv = d_model / heads),
                     save_pretrained (safetensors) + io.safetensors
  t5-tiny-v1_0-bin/  the same model as pytorch_model.bin only (torch.save of the state dict, as
                     transformers 4's safe_serialization=False: embed_tokens/lm_head duplicates
                     of `shared` included), to test the PyTorch pickle path, + io.safetensors
  t5-tiny-v1_1/      T5 v1.1 (gated-GELU, untied lm_head, d_kv != d_model / heads, 3 decoder
                     layers for 2 encoder layers) + io.safetensors
  t5-buckets.json    `T5Attention._relative_position_bucket` for rel = -300..300 and four
                     (bidirectional, buckets, max_distance) settings
  t5-params.json     transformers' `num_parameters()` for the t5-small / t5-base shapes (and a
                     v1.1 variant)
Both tiny models use 8 buckets and max distance 20 and a source of 25 tokens, so exact,
log-spaced and clamped buckets all occur. Every weight is randomised (norm weights around 1,
relative bias tables with std 1) so scaling and norm mistakes show. io.safetensors holds a
RIGHT-PADDED batch: input_ids, attention_mask, decoder_input_ids (decoder start token first),
decoder_attention_mask and the logits of T5ForConditionalGeneration (eval mode).

Usage:
  python3 scripts/gen_t5_golden.py
      regenerate the golden files (needs torch, transformers >= 4.40, safetensors)
  python3 scripts/gen_t5_golden.py --verify DIR GOLDEN
      check that a directory written by chemlm's `Model::save` loads in transformers'
      T5ForConditionalGeneration.from_pretrained and reproduces GOLDEN's logits (1e-4); make DIR
      with `cargo test -p chemlm-models --test t5 export_for_transformers -- --ignored --nocapture`
"""
import json
import os
import sys

import torch
from safetensors.torch import load_file, save_file
from transformers import T5Config, T5ForConditionalGeneration

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "chemlm-models",
                   "tests", "golden")
VOCAB = 50
COMMON = dict(vocab_size=VOCAB, num_heads=4, relative_attention_num_buckets=8,
              relative_attention_max_distance=20, dropout_rate=0.0, layer_norm_epsilon=1e-6,
              pad_token_id=0, eos_token_id=1, decoder_start_token_id=0)


def randomise(model, std=0.3):
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("layer_norm.weight"):
                p.copy_(1.0 + std * torch.randn_like(p))
            elif name.endswith("relative_attention_bias.weight"):
                p.copy_(torch.randn_like(p))
            else:
                p.copy_(std * torch.randn_like(p))


def batch():
    """Right-padded sources (one longer than max_distance) and decoder inputs."""
    src_len, tgt_len = [12, 5, 25], [6, 3, 23]
    s, t = max(src_len), max(tgt_len)
    ids = torch.zeros(3, s, dtype=torch.long)
    mask = torch.zeros(3, s, dtype=torch.long)
    dec = torch.zeros(3, t, dtype=torch.long)
    dmask = torch.zeros(3, t, dtype=torch.long)
    for i, (n, m) in enumerate(zip(src_len, tgt_len)):
        ids[i, :n] = torch.randint(2, VOCAB, (n,))
        ids[i, n - 1] = 1  # </s>
        mask[i, :n] = 1
        dec[i, 1:m] = torch.randint(2, VOCAB, (m - 1,))
        dec[i, 0] = 0  # decoder start
        dmask[i, :m] = 1
    return ids, mask, dec, dmask


def logits_of(model, ids, mask, dec, dmask):
    with torch.no_grad():
        return model(input_ids=ids, attention_mask=mask, decoder_input_ids=dec,
                     decoder_attention_mask=dmask).logits


def write_io(d, ids, mask, dec, dmask, logits):
    save_file({"input_ids": ids.contiguous(), "attention_mask": mask.contiguous(),
               "decoder_input_ids": dec.contiguous(), "decoder_attention_mask": dmask.contiguous(),
               "logits": logits.float().contiguous()}, os.path.join(d, "io.safetensors"))


def save(model, d, safe=True):
    os.makedirs(d, exist_ok=True)
    for f in ("model.safetensors", "pytorch_model.bin", "generation_config.json"):
        if os.path.exists(os.path.join(d, f)):
            os.remove(os.path.join(d, f))
    model.save_pretrained(d)
    gen = os.path.join(d, "generation_config.json")
    if os.path.exists(gen):
        os.remove(gen)
    if not safe:
        # transformers 5 always writes safetensors; a transformers 4 `safe_serialization=False`
        # checkpoint (the GT4SD layout) is the pickled state dict, tied tensors included and
        # sharing one storage, which is what torch.save of the state dict gives.
        os.remove(os.path.join(d, "model.safetensors"))
        torch.save(model.state_dict(), os.path.join(d, "pytorch_model.bin"))


def v1_0():
    cfg = T5Config(d_model=24, d_kv=6, d_ff=40, num_layers=2, num_decoder_layers=2,
                   feed_forward_proj="relu", tie_word_embeddings=True, **COMMON)
    m = T5ForConditionalGeneration(cfg).eval()
    randomise(m)
    io = batch()
    logits = logits_of(m, *io)
    d = os.path.join(OUT, "t5-tiny-v1_0")
    save(m, d)
    write_io(d, *io, logits)
    db = os.path.join(OUT, "t5-tiny-v1_0-bin")
    save(m, db, safe=False)
    assert os.path.exists(os.path.join(db, "pytorch_model.bin")), os.listdir(db)
    write_io(db, *io, logits)
    # Reload check: what we wrote is what transformers reads back.
    again = T5ForConditionalGeneration.from_pretrained(db).eval()
    assert (logits_of(again, *io) - logits).abs().max() < 1e-6


def v1_1():
    cfg = T5Config(d_model=16, d_kv=8, d_ff=24, num_layers=2, num_decoder_layers=3,
                   feed_forward_proj="gated-gelu", tie_word_embeddings=False, **COMMON)
    m = T5ForConditionalGeneration(cfg).eval()
    # transformers 5 builds the head tied to `shared` even for tie_word_embeddings=False (it
    # unties on load when the checkpoint's tensors differ): untie it explicitly.
    m.lm_head.weight = torch.nn.Parameter(m.lm_head.weight.detach().clone())
    randomise(m)
    assert not torch.equal(m.lm_head.weight, m.shared.weight)
    io = batch()
    logits = logits_of(m, *io)
    d = os.path.join(OUT, "t5-tiny-v1_1")
    save(m, d)
    assert "lm_head.weight" in load_file(os.path.join(d, "model.safetensors"))
    write_io(d, *io, logits)
    again = T5ForConditionalGeneration.from_pretrained(d).eval()
    assert (logits_of(again, *io) - logits).abs().max() < 1e-6


def buckets():
    from transformers.models.t5.modeling_t5 import T5Attention
    rel = torch.arange(-300, 301)
    out = []
    for bidi, nb, md in [(True, 32, 128), (False, 32, 128), (True, 8, 20), (False, 8, 20)]:
        b = T5Attention._relative_position_bucket(rel, bidirectional=bidi, num_buckets=nb,
                                                  max_distance=md)
        out.append({"bidirectional": bidi, "num_buckets": nb, "max_distance": md,
                    "rel_start": -300, "buckets": b.tolist()})
    with open(os.path.join(OUT, "t5-buckets.json"), "w") as f:
        json.dump(out, f)


def params():
    shapes = {
        "t5-small": dict(d_model=512, d_kv=64, d_ff=2048, num_layers=6, num_heads=8),
        "t5-base": dict(d_model=768, d_kv=64, d_ff=3072, num_layers=12, num_heads=12),
    }
    out = {}
    for name, kw in shapes.items():
        m = T5ForConditionalGeneration(T5Config(vocab_size=32128, feed_forward_proj="relu", **kw))
        out[name] = m.num_parameters()
    # v1.1 small shape: gated FFN and a separate head (untied explicitly, see v1_1()).
    m = T5ForConditionalGeneration(T5Config(vocab_size=32128, d_model=512, d_kv=64, d_ff=1024,
                                            num_layers=8, num_heads=6,
                                            feed_forward_proj="gated-gelu",
                                            tie_word_embeddings=False))
    m.lm_head.weight = torch.nn.Parameter(m.lm_head.weight.detach().clone())
    out["t5-v1_1-small-shape"] = {
        "config": dict(vocab_size=32128, d_model=512, d_kv=64, d_ff=1024, num_layers=8,
                       num_heads=6, feed_forward_proj="gated-gelu", tie_word_embeddings=False),
        "num_parameters": m.num_parameters(),
    }
    with open(os.path.join(OUT, "t5-params.json"), "w") as f:
        json.dump(out, f, indent=2)
    print("parameters:", json.dumps(out))


def verify(d, golden):
    io = load_file(os.path.join(OUT, golden, "io.safetensors"))
    m = T5ForConditionalGeneration.from_pretrained(d).eval()
    got = logits_of(m, io["input_ids"], io["attention_mask"], io["decoder_input_ids"],
                    io["decoder_attention_mask"])
    dmask = io["decoder_attention_mask"].bool()
    diff = (got - io["logits"]).abs()[dmask].max().item()
    print(f"{d}: transformers {__import__('transformers').__version__} loads it; "
          f"max |logit diff| vs {golden} = {diff:.2e}")
    if diff > 1e-4:
        sys.exit(1)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "--verify":
        verify(sys.argv[2], sys.argv[3])
        return
    torch.manual_seed(13)
    os.makedirs(OUT, exist_ok=True)
    v1_0()
    v1_1()
    buckets()
    params()


if __name__ == "__main__":
    main()
