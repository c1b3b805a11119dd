#!/usr/bin/env python3
"""Golden files for chemlm's seq2seq decoding (crates/chemlm-models/src/seq2seq/), made with
transformers' `generate` on tiny random T5 models.

Reads the tiny models written by scripts/gen_t5_golden.py (crates/chemlm-models/tests/golden/
t5-tiny-v1_0 and t5-tiny-v1_1) and writes under crates/chemlm-models/tests/golden/t5-generate/:
  model-v1_0/, model-v1_1/   copies of those models (save_pretrained, safetensors) whose eos
                             output row is replaced so that eos is likely: random tiny models
                             almost never emit eos, and beam search must be tested on hypotheses
                             that finish (eos) as well as ones cut at max_length
  v1_0.json, v1_1.json       a right-padded batch of 3 random sources and, per decoding case
                             (greedy; num_beams 4 and 10; num_return_sequences 1, 3, 4, 10;
                             length_penalty 0.6, 1.0, 2.0; early_stopping True, False, "never";
                             max_length 12-20 or max_new_tokens; one min_length case), the
                             generated ids of every returned sequence (decoder start removed, cut
                             before the first eos), whether it ended with eos, and its score
                             (beam search: transformers' sequences_scores; greedy: the sum of the
                             log-softmax of the raw logits of the chosen tokens, eos included)

The eos row: w_eos = c * m / |m|^2, m the mean lm_head input over teacher-forced random decoder
sequences, so that eos's logit is about c; c is set so that eos is the most likely token at about
12 % of those positions. The script checks that, over the beam-search cases, many returned
hypotheses finish before max_length and some do not, and prints the counts.

transformers 5.x cannot run generate() with its cache on a T5 whose decoder has more layers than
its encoder (v1_1 has 3 and 2): that model decodes with use_cache=False (same result, slower).

Usage: python3 scripts/gen_t5_generate_golden.py [--models DIR]   (DIR holds t5-tiny-v1_*)
"""
import json
import os
import sys

import torch
import transformers
from transformers import T5ForConditionalGeneration

GOLDEN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "chemlm-models",
                      "tests", "golden")
OUT = os.path.join(GOLDEN, "t5-generate")
EOS = 1
PAD = 0
EOS_TOP_FRACTION = 0.35

# (name, generate kwargs). Greedy and beam search only: sampling cannot match torch's RNG.
CASES = [
    ("greedy", dict(num_beams=1, max_length=16)),
    ("beam4_ret1_lp1_false", dict(num_beams=4, num_return_sequences=1, length_penalty=1.0,
                                  early_stopping=False, max_length=16)),
    ("beam4_ret3_lp0.6_true", dict(num_beams=4, num_return_sequences=3, length_penalty=0.6,
                                   early_stopping=True, max_length=14)),
    ("beam4_ret3_lp0.6_false", dict(num_beams=4, num_return_sequences=3, length_penalty=0.6,
                                    early_stopping=False, max_length=14)),
    ("beam4_ret3_lp2_false", dict(num_beams=4, num_return_sequences=3, length_penalty=2.0,
                                  early_stopping=False, max_length=20)),
    ("beam4_ret3_lp2_true", dict(num_beams=4, num_return_sequences=3, length_penalty=2.0,
                                 early_stopping=True, max_length=20)),
    ("beam4_ret3_lp1_never", dict(num_beams=4, num_return_sequences=3, length_penalty=1.0,
                                  early_stopping="never", max_length=12)),
    ("beam4_ret4_lp0.6_never_new15", dict(num_beams=4, num_return_sequences=4, length_penalty=0.6,
                                          early_stopping="never", max_new_tokens=15)),
    ("beam4_ret3_lp1_false_min6", dict(num_beams=4, num_return_sequences=3, length_penalty=1.0,
                                       early_stopping=False, max_length=16, min_length=6)),
    ("beam10_ret10_lp1_false", dict(num_beams=10, num_return_sequences=10, length_penalty=1.0,
                                    early_stopping=False, max_length=18)),
]


def sources(gen, vocab):
    """Three right-padded random sources ending in eos, as a T5 tokenizer writes them."""
    lengths = [8, 3, 12]
    s = max(lengths)
    ids = torch.full((3, s), PAD, dtype=torch.long)
    mask = torch.zeros((3, s), dtype=torch.long)
    for i, n in enumerate(lengths):
        ids[i, :n - 1] = torch.randint(2, vocab, (n - 1,), generator=gen)
        ids[i, n - 1] = EOS
        mask[i, :n] = 1
    return ids, mask


def lm_head_inputs(model, gen, vocab):
    """Inputs of lm_head over teacher-forced random decoder sequences."""
    seen = []
    hook = model.lm_head.register_forward_hook(lambda mod, inp, out: seen.append(inp[0].detach()))
    ids = torch.randint(2, vocab, (16, 10), generator=gen)
    dec = torch.randint(2, vocab, (16, 12), generator=gen)
    dec[:, 0] = model.config.decoder_start_token_id
    with torch.no_grad():
        model(input_ids=ids, attention_mask=torch.ones_like(ids), decoder_input_ids=dec,
              use_cache=False)
    hook.remove()
    return seen[0].reshape(-1, seen[0].shape[-1])


def make_eos_likely(model, gen):
    """Replaces lm_head's eos row (see the module doc); returns the chosen c."""
    vocab = model.config.vocab_size
    h = lm_head_inputs(model, gen, vocab)
    w = model.lm_head.weight.detach()
    m = h.mean(0)
    direction = m / m.dot(m)
    others = h @ w.T
    others[:, EOS] = -float("inf")
    best_other = others.max(1).values
    eos_at_c = h @ direction  # eos logit per unit of c
    lo, hi = -100.0, 100.0
    for _ in range(60):
        c = (lo + hi) / 2
        frac = (c * eos_at_c > best_other).float().mean().item()
        if frac > EOS_TOP_FRACTION:
            hi = c
        else:
            lo = c
    with torch.no_grad():
        model.lm_head.weight[EOS] = c * direction
    return c


def parse(seq):
    """Generated ids without the decoder start, cut before the first eos; and whether it ended."""
    toks = seq[1:].tolist()
    if EOS in toks:
        return toks[:toks.index(EOS)], True
    return toks, False


def run_case(model, ids, mask, kwargs, use_cache):
    with torch.no_grad():
        out = model.generate(input_ids=ids, attention_mask=mask, do_sample=False,
                             return_dict_in_generate=True, output_scores=True, output_logits=True,
                             use_cache=use_cache, **kwargs)
    seqs = [parse(s) for s in out.sequences]
    if kwargs.get("num_beams", 1) > 1:
        scores = out.sequences_scores.tolist()
    else:
        # Greedy: sum of log-softmax of the raw logits of the chosen tokens, eos included.
        scores = []
        for r, (toks, fin) in enumerate(seqs):
            chosen = toks + ([EOS] if fin else [])
            s = 0.0
            for t, tok in enumerate(chosen):
                s += torch.log_softmax(out.logits[t][r].float(), -1)[tok].item()
            scores.append(s)
    return seqs, scores


def one_model(src_dir, tag, seed):
    gen = torch.Generator().manual_seed(seed)
    model = T5ForConditionalGeneration.from_pretrained(src_dir).eval()
    if not model.config.tie_word_embeddings or model.lm_head.weight is not model.shared.weight:
        model.lm_head.weight = torch.nn.Parameter(model.lm_head.weight.detach().clone())
    c = make_eos_likely(model, gen)
    d = os.path.join(OUT, f"model-{tag}")
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.remove(os.path.join(d, f))
    model.save_pretrained(d, safe_serialization=True)
    if os.path.exists(os.path.join(d, "generation_config.json")):
        os.remove(os.path.join(d, "generation_config.json"))
    expected = model.lm_head.weight.detach().clone()
    model = T5ForConditionalGeneration.from_pretrained(d).eval()
    assert torch.equal(model.lm_head.weight, expected), "the saved lm_head differs"
    use_cache = model.config.num_decoder_layers == model.config.num_layers
    ids, mask = sources(gen, model.config.vocab_size)
    cases = []
    finished = total = 0
    for name, kwargs in CASES:
        seqs, scores = run_case(model, ids, mask, kwargs, use_cache)
        beam = kwargs.get("num_beams", 1) > 1
        if beam:
            finished += sum(f for _, f in seqs)
            total += len(seqs)
        case = {
            "name": name,
            "num_beams": kwargs.get("num_beams", 1),
            "num_return_sequences": kwargs.get("num_return_sequences", 1),
            "length_penalty": kwargs.get("length_penalty", 1.0),
            "early_stopping": kwargs.get("early_stopping", False),
            "max_length": kwargs.get("max_length"),
            "max_new_tokens": kwargs.get("max_new_tokens"),
            "min_length": kwargs.get("min_length", 0),
            "sequences": [s for s, _ in seqs],
            "finished": [f for _, f in seqs],
            "scores": scores,
        }
        cases.append(case)
        print(f"{tag} {name}: lengths {[len(s) for s, _ in seqs]} finished "
              f"{sum(f for _, f in seqs)}/{len(seqs)}")
    print(f"{tag}: eos c = {c:.3f}; beam hypotheses finished with eos: {finished}/{total}")
    if not (finished >= total // 5 and finished < total):
        sys.exit(f"{tag}: {finished}/{total} beam hypotheses finished: a weak test, retune")
    doc = {
        "transformers_version": transformers.__version__,
        "model": f"model-{tag}",
        "input_ids": ids.tolist(),
        "attention_mask": mask.tolist(),
        "cases": cases,
    }
    with open(os.path.join(OUT, f"{tag}.json"), "w") as f:
        json.dump(doc, f, indent=1)


def main():
    models = GOLDEN
    if len(sys.argv) == 3 and sys.argv[1] == "--models":
        models = sys.argv[2]
    elif len(sys.argv) != 1:
        sys.exit(__doc__)
    torch.manual_seed(0)
    os.makedirs(OUT, exist_ok=True)
    one_model(os.path.join(models, "t5-tiny-v1_0"), "v1_0", 101)
    one_model(os.path.join(models, "t5-tiny-v1_1"), "v1_1", 202)


if __name__ == "__main__":
    main()
