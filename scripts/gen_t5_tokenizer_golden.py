#!/usr/bin/env python3
"""Golden files for chemlm-data's T5 (SentencePiece Unigram) tokenizer test.

Run from the repository root with CHEMLM_DATA_DIR pointing at the shared data (default ../shared/data):

    pip install tokenizers==0.23.3 transformers==5.25.0 sentencepiece==0.2.3 protobuf
    python3 scripts/gen_t5_tokenizer_golden.py

The stock t5-small vocabulary cannot be downloaded here, so we make a T5 tokenizer the way Google made
t5-small's: a SentencePiece Unigram model (`nmt_nfkc` normalisation, character coverage 0.9995,
`<pad>`=0 `</s>`=1 `<unk>`=2, no `<s>`), converted by transformers' `T5Converter` (the code behind
`T5TokenizerFast`) with 100 `<extra_id_*>` tokens appended in T5's reversed order. The training corpus is
hand-written chemistry text plus MOSES and QM9 SMILES (PyPI-shipped sets), which hold no `\\`, `{`, `}`,
`~` or `<`: like the stock vocabulary, ours turns those into `<unk>`.

It writes under crates/chemlm-data/tests/golden/t5-tokenizer/:

- spiece.model: the SentencePiece model itself, as a slow `T5Tokenizer` checkpoint ships it (MolT5-era
  repositories may hold only this file); chemlm must build the tokenizer.json below from it;
- tokenizer.json: the tokenizer in the layout that t5-small and the GT4SD checkpoints ship (transformers
  4.x: a lone `Precompiled` normaliser, `WhitespaceSplit` + `Metaspace(add_prefix_space)` pre-tokenizer,
  `Metaspace` decoder, the extra ids as added special tokens);
- lines.txt: the test strings, one per line (JSON-escaped, since some hold tabs or leading spaces);
- expected.jsonl: per line, the ids Hugging Face `tokenizers` gives for that file (`</s>` appended) and
  its decodes with and without special tokens; and the same for the layout transformers 5.x writes
  (`modern`: `Precompiled` + space-collapsing `Replace` normalisers), whose differing parts are stored in
  modern_parts.json so the test builds that file from tokenizer.json.
"""

import gzip
import io
import json
import os
import random
from pathlib import Path

import sentencepiece as spm
import tokenizers
from transformers.convert_slow_tokenizer import T5Converter

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "crates/chemlm-data/tests/golden/t5-tokenizer"
DATA = Path(os.environ.get("CHEMLM_DATA_DIR", ROOT.parent / "shared/data"))
EXTRA_IDS = 100

TEXT = [
    "The molecule is a member of the class of benzenes carrying a hydroxy substituent at position 4.",
    "It has a role as a plant metabolite and an antioxidant.",
    "It is a conjugate acid of a carboxylate anion and a tautomer of an enol.",
    "It derives from an acetic acid and is a functional parent of ethanol.",
    "The molecule is a monocarboxylic acid that is propanoic acid substituted by an amino group.",
    "It is an alpha-amino acid, a primary amine and a polar amino acid.",
    "The reaction mixture was stirred at room temperature for 2 hours.",
    "The solution was cooled to 0 degrees and quenched with water.",
    "The organic layer was washed with brine, dried over sodium sulfate and concentrated.",
    "The residue was purified by column chromatography to give the title compound.",
    "Ethyl acetate was added and the mixture was filtered.",
    "The mixture was heated to reflux overnight and then cooled.",
    "ADD ethyl acetate; WASH with water; DRYSOLUTION over sodium sulfate; CONCENTRATE.",
    "STIR for 2 hours at room temperature; FILTER keep filtrate.",
    "Predict the product of the following reaction: ",
    "Predict the reaction that produces the following product: ",
    "Write in SMILES the described molecule: ",
    "Caption the following SMILES: ",
    "Which actions are described in the following paragraph: ",
    "The stereocentre is written as C[C@@H](N)C(=O)O and the ring as c1ccccc1.",
    "A solution of the amine (1.2 g, 5 mmol) in THF/water was added dropwise.",
]

EDGE = [
    "",
    " ",
    "   leading and trailing   ",
    "two  spaces and\ta tab",
    "line\nbreak",
    "C/C=C\\C",
    "F/C=C/F",
    "C\\\\C=C\\\\C",
    "C[C@@H](N)C(=O)O",
    "C[C@H]1CC[C@@H](O)CC1",
    "[NH4+].[Cl-]",
    "[Na+]~[OH-]",
    "O=C([O-])c1ccc2cc(C(=O)[O-])ccc2c1~[Na+]~[Na+]",
    "CCO.CC(=O)O>>CCOC(C)=O",
    "CC(=O)Oc1ccccc1C(=O)O",
    "{R1}C(=O)N{R2}",
    "a <b> tag and </s> inside",
    "<extra_id_0> masked <extra_id_1> spans",
    "Stir at 25 °C for 2 h.",
    "10 µL of 1 M HCl",
    "α-D-glucopyranose and β-lactam",
    "naïve café résumé",
    "ﬁnal ligature ＦＵＬＬ width ２",
    "x² + y³ ≥ 0",
    "中文 日本語 한국어",
    "emoji 🧪 flask",
    "tilde ~ caret ^ pipe | backslash \\ braces {} brackets []",
    "C1CCC%10CCCC%10C1",
    "[2H]C([2H])([2H])O",
    "[13CH4]",
    "[Fe+3].[Cl-].[Cl-].[Cl-]",
    "Cl[Pd](Cl)([P](c1ccccc1)(c1ccccc1)c1ccccc1)[P](c1ccccc1)(c1ccccc1)c1ccccc1",
    "N#Cc1ccccc1",
    "O=[N+]([O-])c1ccccc1",
    "CC(C)(C)OC(=O)N1CCC[C@H]1C(=O)O",
    "C/C=C/C=C\\C=C/C",
    "OC[C@H]1O[C@@H](O)[C@H](O)[C@@H](O)[C@@H]1O",
    "c1ccc2[nH]ccc2c1",
    "* wildcard and $ dollar and ? question",
    "THE UPPER CASE SENTENCE.",
    "MiXeD cAsE",
    "1,2-dichloroethane (DCE)",
    "(S)-2-aminopropanoic acid",
    "(2E,4Z)-hexa-2,4-dienoic acid",
    "pH 7.3; 37 °C; 5% CO2",
    "100 mL × 3",
    "a—b–c-d",
    "“quoted” ‘text’ «guillemets»",
    "trailing space ",
    " leading space",
]


def moses_and_qm9(n_moses, n_qm9, seed):
    rng = random.Random(seed)
    with gzip.open(DATA / "moses/test.csv.gz", "rt") as f:
        moses = [line.strip() for line in f][1:]
    with gzip.open(DATA / "molnet/qm9.csv.gz", "rt") as f:
        qm9 = [line.split(",")[0] for line in f][1:]
    return rng.sample(moses, n_moses), rng.sample(qm9, n_qm9)


def train_spm(corpus):
    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(corpus),
        model_writer=model,
        vocab_size=600,
        model_type="unigram",
        pad_id=0,
        eos_id=1,
        unk_id=2,
        bos_id=-1,
        character_coverage=0.9995,
        normalization_rule_name="nmt_nfkc",
        hard_vocab_limit=False,
        num_threads=1,
        minloglevel=2,
    )
    path = OUT / "spiece.model"
    path.write_bytes(model.getvalue())
    return path


class SlowShim:
    """The few attributes of a slow T5Tokenizer that T5Converter reads."""

    def __init__(self, vocab_file):
        self.vocab_file = str(vocab_file)
        self._extra_ids = EXTRA_IDS
        self.legacy = True
        self.add_prefix_space = None

    def convert_tokens_to_ids(self, token):
        return {"<pad>": 0, "</s>": 1, "<unk>": 2}[token]


def legacy_layout(modern):
    """The tokenizer.json layout of t5-small / GT4SD (transformers 4.x)."""
    j = json.loads(json.dumps(modern))
    norms = j["normalizer"]["normalizers"]
    precompiled = [n for n in norms if n["type"] == "Precompiled"]
    assert len(precompiled) == 1
    j["normalizer"] = precompiled[0]
    meta = {"type": "Metaspace", "replacement": "\u2581", "add_prefix_space": True}
    j["pre_tokenizer"] = {"type": "Sequence", "pretokenizers": [{"type": "WhitespaceSplit"}, meta]}
    j["decoder"] = dict(meta)
    vocab = j["model"]["vocab"]
    added = []
    for i, (piece, _) in enumerate(vocab):
        if piece in ("<pad>", "</s>", "<unk>") or piece.startswith("<extra_id_"):
            added.append(
                {
                    "id": i,
                    "content": piece,
                    "single_word": False,
                    "lstrip": False,
                    "rstrip": False,
                    "normalized": False,
                    "special": True,
                }
            )
    j["added_tokens"] = added
    return j


def expected(tok, lines):
    out = []
    for s in lines:
        ids = tok.encode(s).ids
        out.append(
            {
                "ids": ids,
                "decode_skip": tok.decode(ids, skip_special_tokens=True),
                "decode_all": tok.decode(ids, skip_special_tokens=False),
            }
        )
    return out


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    moses, qm9 = moses_and_qm9(1500, 1500, 0)
    corpus = TEXT * 20 + moses[:1400] + qm9[:1400]
    model_path = train_spm(corpus)
    modern_tok = T5Converter(SlowShim(model_path)).converted()
    modern = json.loads(modern_tok.to_str())
    legacy = legacy_layout(modern)
    # The modern layout as transformers 5 writes it, with the extra ids as added tokens too.
    modern["added_tokens"] = legacy["added_tokens"]
    legacy_text = json.dumps(legacy, ensure_ascii=False)
    (OUT / "tokenizer.json").write_text(legacy_text + "\n", encoding="utf-8")
    modern_parts = json.loads(
        json.dumps({k: modern[k] for k in ("normalizer", "pre_tokenizer", "decoder")})
    )
    for n in modern_parts["normalizer"]["normalizers"]:
        if n["type"] == "Precompiled":
            n["precompiled_charsmap"] = "FROM_TOKENIZER_JSON"
    (OUT / "modern_parts.json").write_text(
        json.dumps(modern_parts, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )

    rng = random.Random(1)
    words = " ".join(TEXT).split()
    made_up = [" ".join(rng.sample(words, rng.randint(3, 12))) for _ in range(40)]
    lines = EDGE + TEXT + moses[1400:1460] + qm9[1400:1430] + made_up
    with open(OUT / "lines.txt", "w", encoding="utf-8") as f:
        for s in lines:
            f.write(json.dumps(s, ensure_ascii=False) + "\n")

    legacy_tok = tokenizers.Tokenizer.from_str(legacy_text)
    modern_tok = tokenizers.Tokenizer.from_str(json.dumps(modern))
    with open(OUT / "expected.jsonl", "w", encoding="utf-8") as f:
        for a, b in zip(expected(legacy_tok, lines), expected(modern_tok, lines)):
            f.write(json.dumps({"legacy": a, "modern": b}, ensure_ascii=False) + "\n")
    unk = sum(r["ids"].count(2) for r in expected(legacy_tok, lines))
    print(f"{len(lines)} lines, vocab {legacy_tok.get_vocab_size()}, {unk} <unk> ids; wrote {OUT}")


if __name__ == "__main__":
    main()
