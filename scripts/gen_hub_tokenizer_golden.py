#!/usr/bin/env python3
"""Golden files for the tokenizers of published checkpoints (chemlm-data `Tokenizer::load_dir`).

Builds, from hand-written molecules only, tiny tokenizers in the layouts the Hub checkpoints ship,
and records what Python gives for each test string:

  roberta-fast/   ChemBERTa-style byte-level BPE as transformers' RobertaConverter builds it
                  (tokenizer.json + special_tokens_map.json)
  roberta-slow/   the same vocabulary as a slow-only repo ships it (vocab.json + merges.txt +
                  tokenizer_config.json, no tokenizer.json)
  selfies-word/   ChemGPT-style SELFIES word-level vocabulary with [CLS]/[SEP]/[PAD]/[UNK]/[MASK],
                  a bracket Split pre-tokenizer and no decoder (PreTrainedTokenizerFast)
  molformer-vocab/ MoLFormer-XL's layout: vocab.json only, <bos> <eos> <pad> <mask> and no <unk>
                  (its tokenizer maps unknown tokens to <pad>); reference ids from MoLFormer's own
                  Python regex applied with re.findall

cases.json: {dir: [{"text", "ids", "ids_plain", "decoded"}]} where ids are with special tokens,
ids_plain without, decoded = tokenizer.decode(ids, skip_special_tokens=True) (for selfies-word the
tokens joined, chemlm's rule for a tokenizer without a decoder; transformers would join with spaces).

Usage: python3 scripts/gen_hub_tokenizer_golden.py   (needs tokenizers, transformers, selfies)
"""
import json
import os
import re
import shutil

import selfies as sf
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers, processors, trainers
from transformers import PreTrainedTokenizerFast

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "crates", "chemlm-data",
                   "tests", "golden", "hub-tokenizers")

# Hand-written molecules (no data set copied).
TRAIN = [
    "CCO", "CC(=O)O", "c1ccccc1", "c1ccccc1O", "CC(C)Cc1ccc(cc1)C(C)C(=O)O", "CN1CCC[C@H]1c2cccnc2",
    "O=C(O)c1ccccc1OC(C)=O", "C[N+](C)(C)C", "[Na+].[Cl-]", "F/C=C/F", r"F/C=C\Br", "ClCCl",
    "BrCCBr", "C1CCCCC1", "N#Cc1ccccc1", "CS(=O)(=O)N", "OC[C@@H](O)[C@H](O)CO", "c1ccncc1",
    "C=CC=C", "CC#N", "O=S(=O)(O)O", "[NH4+]", "c1ccc2ccccc2c1", "CCN(CC)CC",
]
TEST = ["CCO", "CC(=O)Nc1ccc(O)cc1", r"F/C=C\Cl", "[C@@H](N)(C)C(=O)O", "C1=CC=CC=C1[Se]C",
        "CCCCCCCCBr", "[Na+].[Cl-]"]

MOLFORMER_PATTERN = r"(\[[^\]]+]|Br?|Cl?|N|O|S|P|F|I|b|c|n|o|s|p|\(|\)|\.|=|#|-|\+|\\|\/|:|~|@|\?|>|\*|\$|\%[0-9]{2}|[0-9])"


def fresh(name):
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    return d


def roberta():
    """Byte-level BPE as transformers' RobertaConverter builds it from vocab.json + merges.txt."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    specials = ["<s>", "<pad>", "</s>", "<unk>", "<mask>"]
    tr = trainers.BpeTrainer(vocab_size=120, special_tokens=specials,
                             initial_alphabet=pre_tokenizers.ByteLevel.alphabet(), min_frequency=2)
    tok.train_from_iterator(TRAIN, tr)
    d_slow = fresh("roberta-slow")
    tok.model.save(d_slow)
    config = {"tokenizer_class": "RobertaTokenizer", "bos_token": "<s>", "eos_token": "</s>",
              "sep_token": "</s>", "cls_token": "<s>", "unk_token": "<unk>", "pad_token": "<pad>",
              "mask_token": "<mask>", "model_max_length": 512}
    with open(os.path.join(d_slow, "tokenizer_config.json"), "w") as f:
        json.dump(config, f, indent=2)
    fast = Tokenizer(models.BPE.from_file(os.path.join(d_slow, "vocab.json"),
                                          os.path.join(d_slow, "merges.txt")))
    fast.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    fast.decoder = decoders.ByteLevel()
    fast.post_processor = processors.RobertaProcessing(("</s>", fast.token_to_id("</s>")),
                                                       ("<s>", fast.token_to_id("<s>")),
                                                       add_prefix_space=False, trim_offsets=True)
    fast.add_special_tokens(specials)
    d_fast = fresh("roberta-fast")
    fast.save(os.path.join(d_fast, "tokenizer.json"))
    config["tokenizer_class"] = "RobertaTokenizerFast"
    with open(os.path.join(d_fast, "special_tokens_map.json"), "w") as f:
        # transformers 4 writes an AddedToken as an object; the reader must take both forms.
        specials_map = {k: v for k, v in config.items() if k.endswith("_token")}
        specials_map["mask_token"] = {"content": "<mask>", "lstrip": True, "normalized": False,
                                      "rstrip": False, "single_word": False}
        json.dump(specials_map, f, indent=2)
    cases = []
    for t in TEST:
        ids = fast.encode(t).ids
        cases.append({"text": t, "ids": ids, "ids_plain": fast.encode(t, add_special_tokens=False).ids,
                      "decoded": fast.decode(ids, skip_special_tokens=True)})
        assert cases[-1]["decoded"] == t, cases[-1]
    return {"roberta-fast": cases, "roberta-slow": cases}


def selfies_word():
    corpus = [sf.encoder(s) for s in TRAIN]
    tok = Tokenizer(models.WordLevel(unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex(r"\[[^\]]*\]|\."), behavior="isolated")
    tr = trainers.WordLevelTrainer(special_tokens=["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"])
    tok.train_from_iterator(corpus, tr)
    cls, sep = tok.token_to_id("[CLS]"), tok.token_to_id("[SEP]")
    tok.post_processor = processors.TemplateProcessing(single="[CLS] $A [SEP]",
                                                       special_tokens=[("[CLS]", cls), ("[SEP]", sep)])
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, bos_token="[CLS]", eos_token="[SEP]",
                                   pad_token="[PAD]", unk_token="[UNK]", mask_token="[MASK]")
    d = fresh("selfies-word")
    fast.save_pretrained(d)
    cases = []
    for s in TEST:
        t = sf.encoder(s)
        ids = fast(t)["input_ids"]
        toks = fast.convert_ids_to_tokens(ids, skip_special_tokens=True)
        cases.append({"text": t, "ids": ids, "ids_plain": fast(t, add_special_tokens=False)["input_ids"],
                      "decoded": "".join(toks)})
    return {"selfies-word": cases}


def molformer_vocab():
    toks = ["<bos>", "<eos>", "<pad>", "<mask>"]
    for s in TRAIN:
        for t in re.findall(MOLFORMER_PATTERN, s):
            if t not in toks:
                toks.append(t)
    vocab = {t: i for i, t in enumerate(toks)}
    d = fresh("molformer-vocab")
    with open(os.path.join(d, "vocab.json"), "w") as f:
        json.dump(vocab, f, indent=2)
    with open(os.path.join(d, "special_tokens_map.json"), "w") as f:
        json.dump({"bos_token": "<bos>", "eos_token": "<eos>", "pad_token": "<pad>",
                   "unk_token": "<pad>", "mask_token": "<mask>"}, f, indent=2)
    cases = []
    for s in TEST:
        plain = [vocab.get(t, vocab["<pad>"]) for t in re.findall(MOLFORMER_PATTERN, s)]
        ids = [vocab["<bos>"]] + plain + [vocab["<eos>"]]
        decoded = "".join(toks[i] for i in plain if i >= 4)
        cases.append({"text": s, "ids": ids, "ids_plain": plain, "decoded": decoded})
    return {"molformer-vocab": cases}


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    cases = {}
    cases.update(roberta())
    cases.update(selfies_word())
    cases.update(molformer_vocab())
    # Cross-check: transformers' AutoTokenizer on each saved directory gives the recorded ids.
    from transformers import AutoTokenizer
    for name in ("roberta-fast", "roberta-slow", "selfies-word"):
        auto = AutoTokenizer.from_pretrained(os.path.join(OUT, name))
        for c in cases[name]:
            assert auto(c["text"])["input_ids"] == c["ids"], (name, c["text"])
    with open(os.path.join(OUT, "cases.json"), "w") as f:
        json.dump(cases, f, indent=1)
    print("wrote", os.path.normpath(OUT))
