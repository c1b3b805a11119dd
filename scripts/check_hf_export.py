#!/usr/bin/env python3
"""Do chemlm's saved model directories load in transformers and tokenizers unchanged?

Builds tiny chemlm models with `cargo run -p chemlm-models --example export_for_hf -- DIR`
(BERT, ALBERT with and without the factorised embedding, GPT-Neo, RoBERTa, T5 v1.0 and v1.1, each
saved by `Model::save` with its tokenizer and with every weight randomised), then for each
directory, with nothing but its own files:
  * `AutoTokenizer.from_pretrained(dir)` gives the ids chemlm's tokenizer gave each text, pads a
    batch exactly as chemlm did (pad id, attention mask), and its bos/eos/pad ids equal
    `config.json`'s;
  * `AutoModelFor{MaskedLM,CausalLM,Seq2SeqLM}.from_pretrained(dir, output_loading_info=True)`
    reports no missing, unexpected or mismatched tensors;
  * on chemlm's batch, transformers' logits and last hidden states (T5: the encoder's) equal
    chemlm's to 1e-4 on every real position.
Prints a table; exits 1 if any check fails.

Usage: python3 scripts/check_hf_export.py [--dir DIR] [--skip-build]
       (needs torch, transformers, safetensors; a dev check, not part of `cargo test`)
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

import torch
from safetensors.torch import load_file
from transformers import (AutoConfig, AutoModelForCausalLM, AutoModelForMaskedLM,
                          AutoModelForSeq2SeqLM, AutoTokenizer)
from transformers.utils import logging as hf_logging

TOL = 1e-4
ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
AUTO = {
    "AutoModelForMaskedLM": AutoModelForMaskedLM,
    "AutoModelForCausalLM": AutoModelForCausalLM,
    "AutoModelForSeq2SeqLM": AutoModelForSeq2SeqLM,
}


def build(out):
    cmd = ["cargo", "run", "-q", "-p", "chemlm-models", "--example", "export_for_hf", "--", out]
    print("$", " ".join(cmd), file=sys.stderr)
    subprocess.run(cmd, cwd=ROOT, check=True)


def masked_max_diff(a, b, mask):
    """Largest |a - b| over positions where mask is 1 (a, b: [batch, seq, ...])."""
    m = mask.bool()
    return (a[m] - b[m]).abs().max().item()


def check_tokenizer(d, entry, io, config):
    tok = AutoTokenizer.from_pretrained(d)
    problems = []
    for text, ours in zip(entry["texts"], entry["token_ids"]):
        theirs = tok(text)["input_ids"]
        if theirs != ours:
            problems.append(f"{text!r}: transformers {theirs} != chemlm {ours}")
    batch = tok(entry["texts"], padding=True, return_tensors="pt")
    if not torch.equal(batch["input_ids"], io["input_ids"]):
        problems.append("padded batch ids differ")
    if not torch.equal(batch["attention_mask"], io["attention_mask"]):
        problems.append("padded batch attention mask differs")
    for role in ("bos", "eos", "pad"):
        want = getattr(config, f"{role}_token_id", None)
        got = getattr(tok, f"{role}_token_id")
        if want is None and got is None:
            continue
        if want != got:
            problems.append(f"config {role}_token_id {want} != tokenizer's {got}")
    if tok.model_max_length > 10**6:
        problems.append("no model_max_length")
    return type(tok).__name__, problems


def check_loading(info):
    problems = []
    for key in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs"):
        if info.get(key):
            problems.append(f"{key}: {sorted(map(str, info[key]))}")
    return problems


def run_model(model, auto_class, io):
    with torch.no_grad():
        if auto_class == "AutoModelForSeq2SeqLM":
            out = model(input_ids=io["input_ids"], attention_mask=io["attention_mask"],
                        decoder_input_ids=io["decoder_input_ids"],
                        decoder_attention_mask=io["decoder_attention_mask"])
            return out.logits, out.encoder_last_hidden_state, io["decoder_attention_mask"]
        out = model(input_ids=io["input_ids"], attention_mask=io["attention_mask"],
                    output_hidden_states=True)
        return out.logits, out.hidden_states[-1], io["attention_mask"]


def check_entry(out, entry):
    """One table row: (name, model class, tokenizer class, dlogits, dhidden, result, problems)."""
    d = os.path.join(out, entry["dir"])
    io = load_file(os.path.join(d, "io.safetensors"))
    io = {k: (v.long() if k.endswith("ids") or k.endswith("mask") else v) for k, v in io.items()}
    problems = []
    config = AutoConfig.from_pretrained(d)
    tok_class, tok_problems = check_tokenizer(d, entry, io, config)
    problems += tok_problems
    model, info = AUTO[entry["auto_class"]].from_pretrained(d, output_loading_info=True)
    model.eval()
    problems += check_loading(info)
    logits, hidden, logit_mask = run_model(model, entry["auto_class"], io)
    d_logits = masked_max_diff(logits, io["logits"], logit_mask)
    d_hidden = masked_max_diff(hidden, io["last_hidden_state"], io["attention_mask"])
    scale = io["logits"].abs().max().item()
    if scale < 0.1:
        problems.append(f"degenerate logits (max |logit| {scale:.3g})")
    if not d_logits < TOL:
        problems.append(f"logits differ by {d_logits:.3g}")
    if not d_hidden < TOL:
        problems.append(f"hidden states differ by {d_hidden:.3g}")
    return (entry["name"], type(model).__name__, tok_class, f"{d_logits:.2e}",
            f"{d_hidden:.2e}", "ok" if not problems else "FAIL", problems)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", help="export directory (default: a temporary one)")
    ap.add_argument("--skip-build", action="store_true",
                    help="use the models already in --dir")
    args = ap.parse_args()
    hf_logging.set_verbosity_error()
    tmp = None
    out = args.dir
    if out is None:
        tmp = tempfile.TemporaryDirectory(prefix="chemlm-hf-export-")
        out = tmp.name
    if not args.skip_build:
        build(out)
    with open(os.path.join(out, "manifest.json")) as f:
        manifest = json.load(f)

    rows = []
    for entry in manifest:
        try:
            rows.append(check_entry(out, entry))
        except Exception as e:  # a directory transformers cannot load at all is a failure too
            rows.append((entry["name"], "-", "-", "-", "-", "FAIL",
                         [f"{type(e).__name__}: {e}"]))
    failed = any(r[5] != "ok" for r in rows)

    header = ("model", "transformers class", "tokenizer class", "max|dlogits|", "max|dhidden|",
              "result")
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    line = lambda r: "  ".join(str(c).ljust(w) for c, w in zip(r, widths))
    print(line(header))
    print(line(["-" * w for w in widths]))
    for r in rows:
        print(line(r[:6]))
        for p in r[6]:
            print(f"    - {p}")
    print(f"\n{sum(r[5] == 'ok' for r in rows)} passed, {sum(r[5] != 'ok' for r in rows)} failed"
          f" (tolerance {TOL:g}; transformers {__import__('transformers').__version__},"
          f" torch {torch.__version__})")
    if tmp is not None:
        tmp.cleanup()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
