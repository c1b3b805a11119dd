#!/usr/bin/env python3
"""Golden files for the GT4SD checkpoint path of `chemlm seq2seq` / `bench text-chem`.

A released `GT4SD/multitask-text-and-chemistry-t5-*` directory is what transformers 4 wrote:
config.json, pytorch_model.bin (a pickled state dict), tokenizer.json in T5's layout and a few
tokenizer side files. This script writes a tiny random T5 v1.0 in exactly that layout, with the
T5-layout SentencePiece tokenizer of chemlm-data's golden files (so its vocabulary lacks `\\` and
other characters, like the stock T5 one), to crates/chemlm/tests/golden/gt4sd-layout/, and the
outputs transformers gives for a few prompted inputs (greedy, max_length 12, decoded with
skip_special_tokens) to expected.json. The Rust test runs `chemlm seq2seq` on the directory as it
is and must print the same texts.

Usage: python3 scripts/gen_gt4sd_layout_golden.py   (needs torch, transformers, tokenizers)
"""
import json
import os
import shutil

import torch
from tokenizers import Tokenizer
from transformers import T5Config, T5ForConditionalGeneration

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
TOK = os.path.join(ROOT, "crates", "chemlm-data", "tests", "golden", "t5-tokenizer", "tokenizer.json")
OUT = os.path.join(ROOT, "crates", "chemlm", "tests", "golden", "gt4sd-layout")
PROMPT = "Predict the product of the following reaction: "
INPUTS = ["CCO.CC(=O)Cl", "c1ccccc1Br.OB(O)c1ccccc1", "C/C=C\\C.O", "Nc1ccccc1"]


def main():
    torch.manual_seed(7)
    tok = Tokenizer.from_file(TOK)
    vocab = tok.get_vocab_size()
    cfg = T5Config(vocab_size=vocab, d_model=32, d_kv=8, d_ff=48, num_layers=2,
                   num_decoder_layers=2, num_heads=4, relative_attention_num_buckets=8,
                   relative_attention_max_distance=20, dropout_rate=0.1,
                   feed_forward_proj="relu", tie_word_embeddings=True, pad_token_id=0,
                   eos_token_id=1, decoder_start_token_id=0)
    m = T5ForConditionalGeneration(cfg).eval()
    with torch.no_grad():
        for name, p in m.named_parameters():
            if name.endswith("layer_norm.weight"):
                p.copy_(1.0 + 0.3 * torch.randn_like(p))
            else:
                p.copy_(0.3 * torch.randn_like(p))
        # A small eos embedding keeps a random model from stopping at once.
        m.shared.weight[1].mul_(0.05)
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        os.remove(os.path.join(OUT, f))
    m.config.to_json_file(os.path.join(OUT, "config.json"))
    torch.save(m.state_dict(), os.path.join(OUT, "pytorch_model.bin"))
    shutil.copy(TOK, os.path.join(OUT, "tokenizer.json"))
    # Side files a released checkpoint ships and chemlm does not need.
    with open(os.path.join(OUT, "special_tokens_map.json"), "w") as f:
        json.dump({"eos_token": "</s>", "pad_token": "<pad>", "unk_token": "<unk>"}, f)
    expected = []
    for text in INPUTS:
        ids = tok.encode(PROMPT + text).ids
        with torch.no_grad():
            out = m.generate(input_ids=torch.tensor([ids]), max_length=12, num_beams=1,
                             do_sample=False)[0].tolist()
        gen = out[1:]
        expected.append({"input": text, "ids": gen,
                         "text": tok.decode(gen, skip_special_tokens=True)})
    assert any(len(e["text"]) > 0 for e in expected), expected
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
    print(f"wrote {OUT}: vocab {vocab}, {sum(p.numel() for p in m.parameters())} parameters")
    for e in expected:
        print(e)


if __name__ == "__main__":
    main()
