#!/usr/bin/env python3
"""Golden values of the Text+Chem T5 evaluation metrics for crates/chemlm-textmetrics/tests/.

Every value comes from the reference implementation itself, called the way MolT5 / GT4SD /
paragraph2actions call it:

* BLEU: nltk.translate.bleu_score.corpus_bleu / sentence_bleu (no smoothing);
* ROUGE: rouge_score.rouge_scorer.RougeScorer(['rouge1', 'rouge2', 'rougeL'], use_stemmer=...);
* METEOR: nltk.translate.meteor_score.meteor_score, WordNet read from Debian's `wordnet-base`
  files (/usr/share/wordnet, or $CHEMLM_WORDNET_DIR): the same files chemlm reads. nltk's reader
  needs a `lexnames` file that Debian does not ship (lexicographer file names; they do not affect
  lemma names), so the files are copied into a temporary directory beside a generated one;
* Porter stems: nltk.stem.porter.PorterStemmer() (NLTK_EXTENSIONS, as meteor and rouge-score use);
* molecules: RDKit (canonical SMILES, MACCSkeys.GenMACCSKeys, Chem.RDKFingerprint,
  AllChem.GetMorganFingerprint(m, 2) with DataStructs.TanimotoSimilarity), as MolT5's
  fingerprint_metrics.py / mol_translation_metrics.py;
* Levenshtein: the `Levenshtein` package (python-Levenshtein), as MolT5; normalised similarity
  1 - d / max(len) as textdistance's `levenshtein.normalized_similarity` in paragraph2actions.

Inputs are generated here from hand-written chemistry captions, SMILES and action sequences with
seeded random variations (word drops, swaps, synonyms, typos, SMILES edits, invalid SMILES).

Usage: python3 scripts/gen_textmetrics_golden.py
Writes crates/chemlm-textmetrics/tests/golden/{text,mol,reaction,actions}.json.
"""
import json
import os
import random
import shutil
import sys
import tempfile
import warnings

import Levenshtein
import nltk
from nltk.translate.bleu_score import corpus_bleu, sentence_bleu
from nltk.stem.porter import PorterStemmer
from rdkit import Chem, DataStructs, RDLogger
from rdkit.Chem import AllChem, MACCSkeys
from rouge_score import rouge_scorer
from tokenizers import normalizers, pre_tokenizers

RDLogger.DisableLog("rdApp.*")
warnings.filterwarnings("ignore")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "crates", "chemlm-textmetrics", "tests", "golden")
WN_DIR = os.environ.get("CHEMLM_WORDNET_DIR", "/usr/share/wordnet")

LEXNAMES = (
    "adj.all adj.pert adv.all noun.Tops noun.act noun.animal noun.artifact noun.attribute "
    "noun.body noun.cognition noun.communication noun.event noun.feeling noun.food noun.group "
    "noun.location noun.motive noun.object noun.person noun.phenomenon noun.plant "
    "noun.possession noun.process noun.quantity noun.relation noun.shape noun.state "
    "noun.substance noun.time verb.body verb.change verb.cognition verb.communication "
    "verb.competition verb.consumption verb.contact verb.creation verb.emotion verb.motion "
    "verb.perception verb.possession verb.social verb.stative verb.weather adj.ppl"
).split()


def load_wordnet():
    """nltk's WordNetCorpusReader on the Debian files (plus a generated lexnames file)."""
    from nltk.corpus.reader.wordnet import WordNetCorpusReader

    class DebianWordNet(WordNetCorpusReader):
        # map_wn maps other WordNet versions for the multilingual OMW data, which needs the
        # nltk_data "wordnet" package; English lookups never use it.
        def map_wn(self, version="wordnet"):
            return None

    tmp = tempfile.mkdtemp(prefix="chemlm-wn-")
    for pos in ("noun", "verb", "adj", "adv"):
        for kind in ("data", "index"):
            shutil.copy(os.path.join(WN_DIR, f"{kind}.{pos}"), tmp)
        shutil.copy(os.path.join(WN_DIR, f"{pos}.exc"), tmp)
    with open(os.path.join(tmp, "lexnames"), "w") as f:
        for i, name in enumerate(LEXNAMES):
            f.write(f"{i:02d}\t{name}\t{3 if name.startswith('adj') else 1}\n")
    nltk.data.path.insert(0, tmp)
    return DebianWordNet(tmp, None), tmp


# ---------------------------------------------------------------------------------------------
# Inputs

CAPTIONS = [
    "The molecule is a monocarboxylic acid that is acetic acid in which one of the methyl "
    "hydrogens is replaced by a phenyl group.",
    "The molecule is an aromatic ketone that is acetophenone substituted by a hydroxy group at "
    "position 4. It has a role as a plant metabolite.",
    "The molecule is a member of the class of benzoic acids that is benzoic acid substituted by "
    "an acetoxy group at position 2. It has a role as a non-steroidal anti-inflammatory drug.",
    "The molecule is a primary alcohol that is ethanol in which one hydrogen is replaced by an "
    "amino group. It is a conjugate base of an ethanolammonium.",
    "The molecule is a trihydroxyflavone that is flavone substituted by hydroxy groups at "
    "positions 5, 7 and 4'. It is a natural product found in many plants.",
    "The molecule is an L-alpha-amino acid zwitterion arising from transfer of a proton from "
    "the carboxy to the amino group of L-serine; major species at pH 7.3.",
    "The molecule is a steroid ester that is testosterone in which the hydroxy hydrogen has "
    "been replaced by a propionyl group. It has a role as an androgen.",
    "The molecule is a dicarboxylic acid anion that is the conjugate base of succinic acid. It "
    "is a conjugate base of a succinic acid.",
    "The molecule is a purine nucleoside in which adenine is attached to ribofuranose via a "
    "beta-N(9)-glycosidic bond. It has a role as an anti-arrhythmia drug and a vasodilator agent.",
    "The molecule is a long-chain fatty acid that is octadecanoic acid carrying a double bond at "
    "position 9. It derives from an oleic acid.",
    "The molecule is a organochlorine compound that is benzene substituted by two chloro groups "
    "at positions 1 and 4. It is used as an insecticide and moth repellent.",
    "The molecule is a tertiary amine that is trimethylamine in which one of the methyl groups "
    "is replaced by a 2-hydroxyethyl group. It is a precursor of choline.",
    "The molecule is a sesquiterpene lactone isolated from the leaves of plants. It has a role "
    "as an antineoplastic agent and an apoptosis inducer.",
    "The molecule is a glycosylated flavonoid which shows antioxidant activity; it was isolated "
    "from the roots of a medicinal herb.",
    "The molecule is an alkaloid found in coffee and tea that acts as a central nervous system "
    "stimulant. It is a purine alkaloid and a trimethylxanthine.",
    "The molecule is a cyclic ether that is tetrahydrofuran bearing a methyl substituent; it is "
    "used as a solvent for Grignard reactions.",
    "The molecule is a peptide composed of glycine, alanine and valine residues joined in "
    "sequence by peptide linkages.",
    "The molecule is a quaternary ammonium ion that is the conjugate acid of choline, with a "
    "positively charged nitrogen bearing three methyl groups.",
    "The molecule is a chlorinated phenol that inhibits bacterial growth and is running as the "
    "active ingredient in antiseptic soaps.",
    "The molecule is a polyunsaturated fatty acid having five double bonds; it is better "
    "absorbed than its ethyl ester and derives from fish oils.",
]

SYNONYMS = {
    "molecule": "particle", "acid": "acidic", "replaced": "substituted", "group": "radical",
    "role": "function", "found": "discovered", "plants": "flora", "used": "employed",
    "isolated": "separated", "shows": "displays", "acts": "behaves", "major": "main",
    "attached": "bound", "joined": "connected", "derives": "comes", "inhibits": "suppresses",
    "natural": "innate", "carrying": "bearing", "species": "form", "leaves": "foliage",
    "roots": "origins", "running": "operating", "better": "good", "agent": "factor",
}


def vary_caption(rng, text):
    words = text.split()
    ops = rng.sample(["drop", "swap", "syn", "case", "dup", "trunc", "punct", "none", "syn",
                      "stem"], k=rng.randint(1, 4))
    for op in ops:
        if op == "drop" and len(words) > 3:
            for _ in range(rng.randint(1, 4)):
                del words[rng.randrange(len(words))]
        elif op == "swap" and len(words) > 3:
            i = rng.randrange(len(words) - 1)
            words[i], words[i + 1] = words[i + 1], words[i]
        elif op == "syn":
            words = [SYNONYMS.get(w, w) if rng.random() < 0.6 else w for w in words]
        elif op == "case":
            words = [w.upper() if rng.random() < 0.15 else w for w in words]
        elif op == "dup" and words:
            i = rng.randrange(len(words))
            words.insert(i, words[i])
        elif op == "trunc" and len(words) > 6:
            words = words[: rng.randint(3, len(words) - 1)]
        elif op == "punct":
            words = [w.rstrip(".,;") for w in words]
        elif op == "stem":
            words = [w + "s" if rng.random() < 0.1 and w.isalpha() else w for w in words]
    return " ".join(words)


SMILES = [
    "OC(=O)Cc1ccccc1", "CC(=O)c1ccc(O)cc1", "CC(=O)Oc1ccccc1C(=O)O", "NCCO",
    "O=c1cc(-c2ccc(O)cc2)oc2cc(O)cc(O)c12", "N[C@@H](CO)C(=O)O",
    "CCC(=O)O[C@H]1CC[C@H]2[C@@H]3CCC4=CC(=O)CC[C@]4(C)[C@H]3CC[C@]12C",
    "O=C([O-])CCC(=O)[O-]", "Nc1ncnc2c1ncn2[C@@H]1O[C@H](CO)[C@@H](O)[C@H]1O",
    "CCCCCCCC/C=C\\CCCCCCCC(=O)O", "Clc1ccc(Cl)cc1", "C[N+](C)(C)CCO", "Cn1c(=O)c2c(ncn2C)n(C)c1=O",
    "CC1CCCO1", "CC(C)[C@H](NC(=O)[C@H](C)NC(=O)CN)C(=O)O", "Oc1ccc(Cl)cc1Cl", "c1ccc2ccccc2c1",
    "CCN(CC)CC", "O=C(O)c1ccccc1O", "C1CCNCC1", "CC(C)Cc1ccc(C(C)C(=O)O)cc1", "OCC(O)CO",
    "C=CC(=O)OC", "c1ccncc1", "CC(=O)Nc1ccc(O)cc1", "O=[N+]([O-])c1ccccc1", "CS(C)=O",
    "N#Cc1ccccc1", "FC(F)(F)c1ccccc1", "OC1=CC=CC=C1", "[Na+].[Cl-]", "CCO.O",
    "C[C@H](N)C(=O)O", "CC(C)(C)OC(=O)N1CCCC1", "Brc1ccc(I)cc1", "O=C1CCCCC1", "CC#N",
]


def random_smiles(rng, m):
    """A random SMILES of `m`, seeded from `rng` so the golden files are reproducible."""
    return Chem.MolToRandomSmilesVect(m, 1, randomSeed=rng.randrange(1, 2**31))[0]


def vary_smiles(rng, smi):
    kind = rng.choice(["same", "random", "edit", "edit", "other", "invalid", "nostereo", "frag"])
    m = Chem.MolFromSmiles(smi)
    if kind == "same":
        return smi
    if kind == "random" and m is not None:
        return random_smiles(rng, m)
    if kind == "nostereo":
        return smi.replace("@@", "@").replace("/", "").replace("\\", "")
    if kind == "other":
        return rng.choice(SMILES)
    if kind == "frag":
        return smi + "." + rng.choice(["O", "Cl", "[Na+]", "CCO"])
    if kind == "invalid":
        return rng.choice([smi + "(", smi.replace("c", "C", 1) + "1", "C1CC", "c1cccc1",
                           "C(C)(C)(C)(C)C", "", "Xx", smi + ")"])
    chars = list(smi)
    for _ in range(rng.randint(1, 3)):
        op = rng.choice(["del", "ins", "sub"])
        i = rng.randrange(len(chars)) if chars else 0
        if op == "del" and chars:
            del chars[i]
        elif op == "ins":
            chars.insert(i, rng.choice("CNOc()=1"))
        elif chars:
            chars[i] = rng.choice("CNOSc")
    return "".join(chars)


ACTIONS = [
    "ADD CH2Cl2 (50 ml); ADD triethylamine (2.0 ml, 14 mmol); STIR for 2 h at room temperature; "
    "WASH with water; DRYSOLUTION over Na2SO4; CONCENTRATE.",
    "MAKESOLUTION with 4-bromophenol (1.0 g) and DMF (10 ml); ADD SLN; SETTEMPERATURE 80 °C; "
    "STIR for overnight; QUENCH with water; EXTRACT with ethyl acetate; COLLECTLAYER organic.",
    "ADD NaH (60 mg); STIR for 30 min at 0 °C; ADD methyl iodide (0.2 ml) dropwise; STIR for 3 h; "
    "FILTER keep filtrate; PURIFY; YIELD product (120 mg, 85%).",
    "SETTEMPERATURE reflux; STIR for 4 h; CONCENTRATE; RECRYSTALLIZE from ethanol; YIELD title "
    "compound.",
    "ADD HCl (1 M, 5 ml); PH with NaHCO3 to pH 8; EXTRACT with CH2Cl2 3 x; DRYSOLUTION over "
    "MgSO4; FILTER keep filtrate; CONCENTRATE.",
    "NOACTION.",
    "ADD water (20 ml); FILTER keep precipitate; WASH with diethyl ether; DRYSOLID under vacuum.",
    "INVERTEDADD SLN to LiAlH4 (1.0 g) in THF (30 ml); REFLUX for 6 h; QUENCH with water; "
    "FILTER keep filtrate; CONCENTRATE; PURIFY.",
    "ADD Pd/C (10%, 50 mg); STIR for 12 h at room temperature under hydrogen; FILTER keep "
    "filtrate; CONCENTRATE; YIELD amine.",
    "PARTITION with water and ethyl acetate; COLLECTLAYER organic; WASH with brine; "
    "DRYSOLUTION over Na2SO4; CONCENTRATE.",
]


def vary_actions(rng, text):
    steps = [s.strip() for s in text.rstrip(".").split(";")]
    op = rng.choice(["same", "drop", "swap", "edit", "trunc", "tokens"])
    if op == "drop" and len(steps) > 1:
        del steps[rng.randrange(len(steps))]
    elif op == "swap" and len(steps) > 1:
        i = rng.randrange(len(steps) - 1)
        steps[i], steps[i + 1] = steps[i + 1], steps[i]
    elif op == "edit":
        i = rng.randrange(len(steps))
        steps[i] = steps[i].replace("ml", "mL").replace("h", "hours", 1)
    elif op == "trunc" and len(steps) > 1:
        steps = steps[: rng.randint(1, len(steps) - 1)]
    elif op == "tokens":
        return rng.choice(["ADD", "STIR", "", "NOACTION.", "ADD water."])
    return "; ".join(steps) + "."


# ---------------------------------------------------------------------------------------------
# References


def bleu_case(refs, hyps, weights_list):
    out = []
    for w in weights_list:
        try:
            out.append({"weights": list(w), "bleu": float(corpus_bleu(refs, hyps, weights=w))})
        except ZeroDivisionError:  # nltk on an empty corpus: Fraction(0, 0)
            out.append({"weights": list(w), "bleu": None})
    return out


def rouge_all(pairs):
    res = {}
    for stem in (False, True):
        scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=stem)
        rows = []
        for target, prediction in pairs:
            s = scorer.score(target, prediction)
            rows.append({k: [s[k].precision, s[k].recall, s[k].fmeasure]
                         for k in ("rouge1", "rouge2", "rougeL")})
        res["stem" if stem else "plain"] = rows
    return res


def canon(smi):
    m = Chem.MolFromSmiles(smi) if smi else None
    return None if m is None else Chem.MolToSmiles(m)


def canon_fragments(smi):
    """Canonical fragments sorted and joined by '.'; None when any fragment is invalid."""
    if not smi:
        return None
    frags = []
    for part in smi.split("."):
        c = canon(part)
        if c is None or part == "":
            return None
        frags.append(c)
    return ".".join(sorted(frags))


class BertPre:
    """BERT's normalizer + pre-tokenizer from HF `tokenizers` (what BertTokenizerFast, e.g.
    SciBERT's as MolT5 uses, does before WordPiece)."""

    def __init__(self, lowercase):
        self.norm = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True,
                                               strip_accents=False, lowercase=lowercase)
        self.pre = pre_tokenizers.BertPreTokenizer()

    def tokenize(self, text):
        return [t for t, _ in self.pre.pre_tokenize_str(self.norm.normalize_str(text))]


def text_golden(rng, wn):
    bt = BertPre(lowercase=True)
    bt_cased = BertPre(lowercase=False)
    pairs = []  # (reference caption(s), hypothesis)
    for i in range(240):
        base = CAPTIONS[i % len(CAPTIONS)]
        hyp = vary_caption(rng, base)
        if i % 37 == 5:
            hyp = ""
        if i % 41 == 7:
            hyp = rng.choice(CAPTIONS)  # unrelated caption
        refs = [base]
        if i % 6 == 0:
            refs.append(vary_caption(rng, base))
        if i % 15 == 0:
            refs.append(vary_caption(rng, rng.choice(CAPTIONS)))
        pairs.append((refs, hyp))
    items = []
    for k, (refs, hyp) in enumerate(pairs):
        item = {"refs": refs, "hyp": hyp, "refs_tokens": [bt.tokenize(r) for r in refs],
                "hyp_tokens": bt.tokenize(hyp)}
        if k < 60:
            item["hyp_tokens_cased"] = bt_cased.tokenize(hyp)
        items.append(item)
    refs_tok = [it["refs_tokens"] for it in items]
    hyps_tok = [it["hyp_tokens"] for it in items]
    weights = [(0.5, 0.5), (0.25, 0.25, 0.25, 0.25), (1.0,), (1 / 3, 1 / 3, 1 / 3)]
    corpus = bleu_case(refs_tok, hyps_tok, weights)
    # Small corpora that exercise the zero cases: no bigram match, nothing matched, empty.
    special = [
        {"refs": [[["a", "b", "c"]]], "hyps": [["c", "b", "a"]]},
        {"refs": [[["a", "b", "c"]]], "hyps": [["x", "y"]]},
        {"refs": [[["a", "b"]], [["c"]]], "hyps": [[], ["c"]]},
        {"refs": [[["a", "b", "c", "d"], ["a", "b"]]], "hyps": [["a", "b", "c"]]},
        {"refs": [[["a"] * 7, ["b"] * 3]], "hyps": [["a", "a", "b", "b", "a"]]},
        {"refs": [], "hyps": []},
        {"refs": [[["the", "cat"]]], "hyps": [["the", "cat", "the", "cat", "sat"]]},
    ]
    for case in special:
        case["results"] = bleu_case(case["refs"], case["hyps"], weights)
    sentence = [float(sentence_bleu(it["refs_tokens"], it["hyp_tokens"])) for it in items[:80]]

    # MolT5: meteor on its tokens with the first reference; ROUGE scorer.score(out, gt).
    meteor = []
    for it in items:
        meteor.append({
            "multi": float(nltk.translate.meteor_score.meteor_score(
                it["refs_tokens"], it["hyp_tokens"], wordnet=wn)),
            "single_raw": float(nltk.translate.meteor_score.meteor_score(
                [it["refs"][0].split()], it["hyp"].split(), wordnet=wn)),
        })
    rouge = rouge_all([(it["refs"][0], it["hyp"]) for it in items])
    vocab = sorted({w for it in items for t in it["refs_tokens"] + [it["hyp_tokens"]] for w in t}
                   | {w.lower() for it in items for w in it["hyp"].split()})
    extra = ["skies", "dying", "news", "generalization", "oscillators", "hopping", "hoped",
             "agreed", "feed", "conditional", "rational", "valency", "hesitancy", "digitizer",
             "conformabli", "radically", "differently", "vilely", "analogously", "vietnamization",
             "predication", "operator", "feudalism", "decisiveness", "hopefulness", "callousness",
             "formaliti", "sensitiviti", "sensibiliti", "triplicate", "formative", "formalize",
             "electriciti", "electrical", "hopeful", "goodness", "revival", "allowance",
             "inference", "airliner", "gyroscopic", "adjustable", "defensible", "irritant",
             "replacement", "adjustment", "dependent", "adoption", "homologou", "communism",
             "activate", "angulariti", "homologous", "effective", "bowdlerize", "probate",
             "rate", "cease", "controll", "roll", "ly", "y", "by", "say", "yyy", "fly", "sky",
             "happy", "sly", "ies", "ied", "tied", "cried", "a*d", "hop*ding", "caress",
             "ponies", "ties", "cats", "plastered", "bled", "motoring", "sing", "conflated",
             "troubled", "sized", "hissing", "fizzed", "failing", "filing", "happily",
             "fulli", "logi", "analogi", "anomali", "generously", "ééé", "naïvely", "α-helices"]
    porter = PorterStemmer()
    stems = {w: porter.stem(w) for w in vocab + extra}
    syn_words = sorted(set(vocab[:400]) | {"dogs", "ran", "better", "is", "was", "geese",
                                             "leaves", "aardwolves", "abaci", "churches",
                                             "hardrock", "best", "ate", "Einstein", "men",
                                             "boxes", "went", "ozone", "acids", "faster"})
    synonyms = {}
    for w in syn_words:
        names = []
        for s in wn.synsets(w):
            for lem in s.lemmas():
                names.append(lem.name())
        synonyms[w] = names
    molt5 = molt5_mol2text(items, wn)
    tricky = ["a\u00a0b\u3000c", "x\x0by\x0cz", "soft\u00adhyphen zero\u200bwidth", "\ufeffbom",
              "\u00abquoted\u00bb \u2014 dash\u2026", "line\u2028sep", "tab\tnew\nline\r",
              "Caf\u00e9 \u00c9TAT \u0130stanbul", "\u00bfqu\u00e9? \u00a1s\u00ed!", "a\u0085b"]
    tokenizer_extra = [{"text": t, "lower": bt.tokenize(t), "cased": bt_cased.tokenize(t)}
                       for t in tricky]
    return {
        "items": items, "corpus_bleu": corpus, "molt5_mol2text": molt5,
        "tokenizer_extra": tokenizer_extra, "bleu_special": special,
        "sentence_bleu4": sentence, "meteor": meteor, "rouge": rouge, "stems": stems,
        "synonyms": synonyms,
    }


def molt5_mol2text(items, wn):
    """MolT5's evaluation/text_translation_metrics.py `evaluate`, with our BERT pre-tokens in
    place of SciBERT's WordPiece tokens, on (first reference, hypothesis) pairs."""
    import numpy as np

    references, hypotheses, meteor_scores = [], [], []
    for it in items:
        gt_tokens, out_tokens = it["refs_tokens"][0], it["hyp_tokens"]
        references.append([gt_tokens])
        hypotheses.append(out_tokens)
        meteor_scores.append(nltk.translate.meteor_score.meteor_score([gt_tokens], out_tokens,
                                                                      wordnet=wn))
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"])
    rs = [scorer.score(it["hyp"], it["refs"][0]) for it in items]
    return {
        "bleu2": float(corpus_bleu(references, hypotheses, weights=(.5, .5))),
        "bleu4": float(corpus_bleu(references, hypotheses, weights=(.25, .25, .25, .25))),
        "meteor": float(np.mean(meteor_scores)),
        "rouge1": float(np.mean([r["rouge1"].fmeasure for r in rs])),
        "rouge2": float(np.mean([r["rouge2"].fmeasure for r in rs])),
        "rougeL": float(np.mean([r["rougeL"].fmeasure for r in rs])),
        "rougeL_precision": float(np.mean([r["rougeL"].precision for r in rs])),
    }


def tanimoto_counts(a, b):
    return DataStructs.TanimotoSimilarity(a, b)


def mol_golden(rng):
    rows = []
    for i in range(200):
        gt = SMILES[i % len(SMILES)]
        out = vary_smiles(rng, gt)
        rows.append((gt, out))
    items = []
    for gt, out in rows:
        gt_m = Chem.MolFromSmiles(gt)
        ot_m = Chem.MolFromSmiles(out) if out else None
        item = {"gt": gt, "out": out, "valid": ot_m is not None,
                "lev": Levenshtein.distance(out, gt),
                "canon_out": canon(out) if out else None, "canon_gt": canon(gt)}
        if ot_m is not None:
            item["maccs"] = DataStructs.FingerprintSimilarity(
                MACCSkeys.GenMACCSKeys(gt_m), MACCSkeys.GenMACCSKeys(ot_m),
                metric=DataStructs.TanimotoSimilarity)
            item["rdk"] = DataStructs.FingerprintSimilarity(
                Chem.RDKFingerprint(gt_m), Chem.RDKFingerprint(ot_m),
                metric=DataStructs.TanimotoSimilarity)
            item["morgan"] = tanimoto_counts(AllChem.GetMorganFingerprint(gt_m, 2),
                                             AllChem.GetMorganFingerprint(ot_m, 2))
        items.append(item)
    refs = [[list(gt)] for gt, _ in rows]
    hyps = [list(out) for _, out in rows]
    valid = [it for it in items if it["valid"]]
    n = len(items)
    report = {
        "n": n,
        "bleu": float(corpus_bleu(refs, hyps)),
        "exact_match": sum(1 for it in items if it["valid"] and it["canon_out"] == it["canon_gt"])
        / n,
        "string_match": sum(1 for it in items if it["out"] == it["gt"]) / n,
        "levenshtein": sum(it["lev"] for it in items) / n,
        "validity": len(valid) / n,
        "maccs": sum(it["maccs"] for it in valid) / len(valid),
        "rdk": sum(it["rdk"] for it in valid) / len(valid),
        "morgan": sum(it["morgan"] for it in valid) / len(valid),
    }
    # RDKit's acceptance of damaged SMILES (syntax and chemistry), for the validity check.
    fuzz = []
    alphabet = "CNOcnos()=#123[]+-@/\\.H%"
    for i in range(900):
        chars = list(SMILES[i % len(SMILES)])
        for _ in range(rng.randint(1, 2)):
            op = rng.choice(["del", "ins", "sub"])
            j = rng.randrange(len(chars)) if chars else 0
            if op == "del" and chars:
                del chars[j]
            elif op == "ins":
                chars.insert(j, rng.choice(alphabet))
            elif chars:
                chars[j] = rng.choice(alphabet)
        smi = "".join(chars)
        fuzz.append([smi, canon(smi) if smi else None])
    return {"items": items, "report": report, "validity_fuzz": fuzz}


def reaction_golden(rng):
    cases = []
    targets = SMILES[:30] + ["CC(=O)O.OCC", "[Na+].[Cl-]", "C1CC"]
    for i in range(120):
        tgt = targets[i % len(targets)]
        m = Chem.MolFromSmiles(tgt)
        preds = []
        for _ in range(5):
            r = rng.random()
            if r < 0.2 and m is not None:
                parts = tgt.split(".")
                rng.shuffle(parts)
                preds.append(".".join(random_smiles(rng, Chem.MolFromSmiles(p)) for p in parts))
            elif r < 0.35:
                preds.append(rng.choice(["C1CC", "", "c1cccc1", "CC((C", "CC..C"]))
            else:
                preds.append(vary_smiles(rng, rng.choice(targets)))
        rng.shuffle(preds)
        cases.append({"target": tgt, "preds": preds,
                      "canon_target": canon_fragments(tgt),
                      "canon_preds": [canon_fragments(p) for p in preds]})
    ks = [1, 2, 3, 5, 10]
    topk = {}
    for k in ks:
        hits = 0
        for c in cases:
            t = c["canon_target"]
            if t is not None and any(p is not None and p == t for p in c["canon_preds"][:k]):
                hits += 1
        topk[str(k)] = hits / len(cases)
    # Round trip: product, the retro model's ranked reactant sets, and the forward model's top-1
    # product for each of them (made up here; the harness supplies a real forward model's).
    rt = []
    for i in range(60):
        prod = targets[i % 30]
        fwd = []
        for _ in range(3):
            r = rng.random()
            if r < 0.35:
                fwd.append(random_smiles(rng, Chem.MolFromSmiles(prod)))
            elif r < 0.5:
                fwd.append("C1CC")
            else:
                fwd.append(vary_smiles(rng, rng.choice(targets[:30])))
        rt.append({"product": prod, "forward": fwd,
                   "canon_product": canon_fragments(prod),
                   "canon_forward": [canon_fragments(f) for f in fwd]})
    rt_report = {}
    for k in (1, 2, 3):
        any_hit = 0
        frac = 0.0
        for c in rt:
            ok = [f is not None and f == c["canon_product"] for f in c["canon_forward"][:k]]
            any_hit += any(ok)
            frac += sum(ok) / k
        rt_report[str(k)] = {"top_k": any_hit / len(rt), "mean_fraction": frac / len(rt)}
    return {"cases": cases, "topk": topk, "roundtrip": rt, "roundtrip_report": rt_report}


def actions_golden(rng):
    rows = []
    for i in range(150):
        gt = ACTIONS[i % len(ACTIONS)]
        rows.append((gt, vary_actions(rng, gt)))
    refs = [[gt.split()] for gt, _ in rows]
    hyps = [out.split() for _, out in rows]
    pad = lambda t: t + max(0, 4 - len(t)) * [""]  # noqa: E731  paragraph2actions' modified BLEU
    levs = [Levenshtein.distance(out, gt) for gt, out in rows]
    norm = [d / max(len(gt), len(out)) if max(len(gt), len(out)) else 0.0
            for d, (gt, out) in zip(levs, rows)]
    n = len(rows)
    return {
        "pairs": [{"gt": gt, "out": out, "lev": d} for (gt, out), d in zip(rows, levs)],
        "report": {
            "n": n,
            "bleu2": float(corpus_bleu(refs, hyps, weights=(0.5, 0.5))),
            "bleu4": float(corpus_bleu(refs, hyps)),
            "modified_bleu": float(corpus_bleu([[pad(r[0])] for r in refs],
                                               [pad(h) for h in hyps])),
            "exact_match": sum(1 for gt, out in rows if gt == out) / n,
            "levenshtein": sum(levs) / n,
            "normalized_levenshtein": sum(norm) / n,
            "levenshtein_similarity": sum(1 - x for x in norm) / n,
            # paragraph2actions' partial accuracy: textdistance normalized similarity >= t.
            "accuracy_90": sum(1 for x in norm if 1 - x >= 0.9) / n,
            "accuracy_75": sum(1 for x in norm if 1 - x >= 0.75) / n,
        },
    }


def main():
    if not os.path.exists(os.path.join(WN_DIR, "data.noun")):
        sys.exit(f"WordNet not found in {WN_DIR}: apt-get install wordnet-base")
    wn, tmp = load_wordnet()
    os.makedirs(OUT, exist_ok=True)
    try:
        parts = {
            "text": text_golden(random.Random(13), wn),
            "mol": mol_golden(random.Random(14)),
            "reaction": reaction_golden(random.Random(15)),
            "actions": actions_golden(random.Random(16)),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for name, value in parts.items():
        path = os.path.join(OUT, f"{name}.json")
        with open(path, "w") as f:
            json.dump(value, f, ensure_ascii=False, separators=(",", ":"))
        print(path, os.path.getsize(path))


if __name__ == "__main__":
    main()
