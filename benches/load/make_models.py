#!/usr/bin/env python3
"""Writes the models benches/load/run.sh loads: a BertForMaskedLM of MoLFormer-XL's shape
(hidden 768, 12 layers, 12 heads, FFN 768, vocabulary 2362, 202 positions; 46.9 M parameters)
saved by transformers as model.safetensors (bert-st/) and as pytorch_model.bin (bert-bin/).
Usage: python3 benches/load/make_models.py OUTDIR"""
import os
import sys

import torch
from transformers import BertConfig, BertForMaskedLM

out = sys.argv[1]
torch.manual_seed(0)
cfg = BertConfig(vocab_size=2362, hidden_size=768, num_hidden_layers=12, num_attention_heads=12,
                 intermediate_size=768, max_position_embeddings=202, pad_token_id=2)
m = BertForMaskedLM(cfg)
m.save_pretrained(os.path.join(out, "bert-st"), safe_serialization=True)
sd = {k: v.contiguous() for k, v in m.state_dict().items()}
os.makedirs(os.path.join(out, "bert-bin"), exist_ok=True)
torch.save(sd, os.path.join(out, "bert-bin", "pytorch_model.bin"))
m.config.save_pretrained(os.path.join(out, "bert-bin"))
print(sum(p.numel() for p in m.parameters()), "parameters")
