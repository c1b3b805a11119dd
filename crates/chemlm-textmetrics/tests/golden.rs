//! Every metric against the reference implementations, on golden files written by
//! `scripts/gen_textmetrics_golden.py` (nltk, rouge-score, RDKit, python-Levenshtein).
//!
//! The METEOR and WordNet tests need WordNet 3.0 (`apt-get install wordnet-base`, or
//! `CHEMLM_WORDNET_DIR`); without it they fail, on purpose, rather than skip.

use chemlm_textmetrics::bleu::{corpus_bleu, corpus_bleu_multi, sentence_bleu, BLEU4};
use chemlm_textmetrics::meteor::Meteor;
use chemlm_textmetrics::rouge::{RougeScorer, Score};
use chemlm_textmetrics::wordnet::WordNet;
use chemlm_textmetrics::{actions, levenshtein, mol, porter, reaction, tokenize};
use serde_json::Value;
use std::path::PathBuf;

fn golden(name: &str) -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(format!("{name}.json"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).expect("golden JSON")
}

fn wordnet() -> WordNet {
    WordNet::from_env().unwrap_or_else(|e| {
        panic!("{e}\nThe METEOR golden test needs WordNet: apt-get install -y wordnet-base")
    })
}

#[track_caller]
fn close(got: f64, want: f64, rel: f64, what: &str) {
    let scale = got.abs().max(want.abs());
    assert!(
        (got - want).abs() <= rel * scale,
        "{what}: got {got:e}, want {want:e}"
    );
}

fn strings(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|s| s.as_str().expect("string").to_string())
        .collect()
}

fn f(v: &Value) -> f64 {
    v.as_f64().expect("number")
}

fn weights(v: &Value) -> Vec<f64> {
    v.as_array().expect("weights").iter().map(f).collect()
}

#[test]
fn bert_basic_tokens_equal_hf_bert_pretokenizer() {
    let g = golden("text");
    for it in g["items"].as_array().unwrap() {
        let refs = strings(&it["refs"]);
        for (r, toks) in refs.iter().zip(it["refs_tokens"].as_array().unwrap()) {
            assert_eq!(tokenize::bert_basic(r, true), strings(toks), "{r}");
        }
        let hyp = it["hyp"].as_str().unwrap();
        assert_eq!(tokenize::bert_basic(hyp, true), strings(&it["hyp_tokens"]));
        if let Some(cased) = it.get("hyp_tokens_cased") {
            assert_eq!(tokenize::bert_basic(hyp, false), strings(cased));
        }
    }
}

#[test]
fn bert_basic_handles_unicode_spaces_and_controls_like_hf() {
    let g = golden("text");
    for case in g["tokenizer_extra"].as_array().unwrap() {
        let text = case["text"].as_str().unwrap();
        assert_eq!(
            tokenize::bert_basic(text, true),
            strings(&case["lower"]),
            "{text:?}"
        );
        assert_eq!(
            tokenize::bert_basic(text, false),
            strings(&case["cased"]),
            "{text:?}"
        );
    }
}

fn text_corpus(g: &Value) -> (Vec<Vec<Vec<String>>>, Vec<Vec<String>>) {
    let items = g["items"].as_array().unwrap();
    let refs = items
        .iter()
        .map(|it| {
            it["refs_tokens"]
                .as_array()
                .unwrap()
                .iter()
                .map(strings)
                .collect()
        })
        .collect();
    let hyps = items.iter().map(|it| strings(&it["hyp_tokens"])).collect();
    (refs, hyps)
}

#[test]
fn corpus_and_sentence_bleu_equal_nltk() {
    let g = golden("text");
    let (refs, hyps) = text_corpus(&g);
    for case in g["corpus_bleu"].as_array().unwrap() {
        let w = weights(&case["weights"]);
        close(
            corpus_bleu(&refs, &hyps, &w).unwrap(),
            f(&case["bleu"]),
            1e-9,
            "corpus",
        );
    }
    let all: Vec<Vec<f64>> = g["corpus_bleu"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| weights(&c["weights"]))
        .collect();
    let refs_w: Vec<&[f64]> = all.iter().map(Vec::as_slice).collect();
    let multi = corpus_bleu_multi(&refs, &hyps, &refs_w).unwrap();
    for (m, case) in multi.iter().zip(g["corpus_bleu"].as_array().unwrap()) {
        close(*m, f(&case["bleu"]), 1e-9, "multi");
    }
    let sent = g["sentence_bleu4"].as_array().unwrap();
    for (i, want) in sent.iter().enumerate() {
        let got = sentence_bleu(&refs[i], &hyps[i], &BLEU4).unwrap();
        close(got, f(want), 1e-9, &format!("sentence {i}"));
    }
    for (c, case) in g["bleu_special"].as_array().unwrap().iter().enumerate() {
        let r: Vec<Vec<Vec<String>>> = case["refs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x.as_array().unwrap().iter().map(strings).collect())
            .collect();
        let h: Vec<Vec<String>> = case["hyps"]
            .as_array()
            .unwrap()
            .iter()
            .map(strings)
            .collect();
        for res in case["results"].as_array().unwrap() {
            let got = corpus_bleu(&r, &h, &weights(&res["weights"]));
            match res["bleu"].as_f64() {
                Some(want) => close(got.unwrap(), want, 1e-9, &format!("special {c}")),
                None => assert!(
                    got.is_err(),
                    "special {c}: nltk raised, we returned {got:?}"
                ),
            }
        }
    }
}

#[test]
fn porter_stems_equal_nltk() {
    let g = golden("text");
    let mut bad = Vec::new();
    for (w, s) in g["stems"].as_object().unwrap() {
        let got = porter::stem(w);
        if got != s.as_str().unwrap() {
            bad.push(format!("{w}: {got} != {s}"));
        }
    }
    assert!(bad.is_empty(), "{} stems differ: {:?}", bad.len(), bad);
}

#[test]
fn rouge_equals_rouge_score() {
    let g = golden("text");
    let items = g["items"].as_array().unwrap();
    for (key, stem) in [("plain", false), ("stem", true)] {
        let scorer = RougeScorer::new(stem);
        for (i, (it, want)) in items
            .iter()
            .zip(g["rouge"][key].as_array().unwrap())
            .enumerate()
        {
            let target = it["refs"][0].as_str().unwrap();
            let s = scorer.score(target, it["hyp"].as_str().unwrap());
            for (name, got) in [
                ("rouge1", s.rouge1),
                ("rouge2", s.rouge2),
                ("rougeL", s.rouge_l),
            ] {
                let w = want[name].as_array().unwrap();
                let what = format!("{key} {i} {name}");
                let Score {
                    precision,
                    recall,
                    fmeasure,
                } = got;
                close(precision, f(&w[0]), 1e-9, &what);
                close(recall, f(&w[1]), 1e-9, &what);
                close(fmeasure, f(&w[2]), 1e-9, &what);
            }
        }
    }
}

#[test]
fn wordnet_synsets_equal_nltk_on_debian_files() {
    let g = golden("text");
    let wn = wordnet();
    let mut bad = Vec::new();
    for (w, names) in g["synonyms"].as_object().unwrap() {
        let got: Vec<String> = wn.synsets(w).into_iter().flatten().collect();
        if got != strings(names) {
            bad.push(format!("{w}: {got:?} != {names}"));
        }
    }
    assert!(bad.is_empty(), "{} words differ: {:?}", bad.len(), bad);
}

#[test]
fn meteor_equals_nltk() {
    let g = golden("text");
    let wn = wordnet();
    let meteor = Meteor::new(&wn);
    let (refs, hyps) = text_corpus(&g);
    let items = g["items"].as_array().unwrap();
    for (i, want) in g["meteor"].as_array().unwrap().iter().enumerate() {
        let got = meteor.score(&refs[i], &hyps[i]).unwrap();
        close(got, f(&want["multi"]), 1e-6, &format!("meteor multi {i}"));
        let r0: Vec<&str> = items[i]["refs"][0]
            .as_str()
            .unwrap()
            .split_whitespace()
            .collect();
        let h: Vec<&str> = items[i]["hyp"]
            .as_str()
            .unwrap()
            .split_whitespace()
            .collect();
        let got = meteor.score(&[r0], &h).unwrap();
        close(
            got,
            f(&want["single_raw"]),
            1e-6,
            &format!("meteor raw {i}"),
        );
    }
}

#[test]
fn mol2text_report_follows_molt5() {
    let g = golden("text");
    let wn = wordnet();
    let meteor = Meteor::new(&wn);
    let items = g["items"].as_array().unwrap();
    let preds: Vec<&str> = items.iter().map(|it| it["hyp"].as_str().unwrap()).collect();
    let refs: Vec<&str> = items
        .iter()
        .map(|it| it["refs"][0].as_str().unwrap())
        .collect();
    let tok = |s: &str| tokenize::bert_basic(s, true);
    let report = mol::mol2text_metrics(&preds, &refs, &tok, &meteor, false).unwrap();
    let want = &g["molt5_mol2text"];
    assert_eq!(report.n, items.len());
    close(report.bleu2, f(&want["bleu2"]), 1e-9, "bleu2");
    close(report.bleu4, f(&want["bleu4"]), 1e-9, "bleu4");
    close(report.meteor, f(&want["meteor"]), 1e-6, "meteor");
    close(
        report.rouge.rouge1.fmeasure,
        f(&want["rouge1"]),
        1e-9,
        "rouge1",
    );
    close(
        report.rouge.rouge2.fmeasure,
        f(&want["rouge2"]),
        1e-9,
        "rouge2",
    );
    close(
        report.rouge.rouge_l.fmeasure,
        f(&want["rougeL"]),
        1e-9,
        "rougeL",
    );
    // MolT5 calls score(output, gt): its "precision" is over the ground truth.
    close(
        report.rouge.rouge_l.precision,
        f(&want["rougeL_precision"]),
        1e-9,
        "rougeL precision",
    );
}

#[test]
fn text2mol_equals_molt5_protocol_with_rdkit() {
    let g = golden("mol");
    let items = g["items"].as_array().unwrap();
    let mut bad = Vec::new();
    for (i, it) in items.iter().enumerate() {
        let (gt, out) = (it["gt"].as_str().unwrap(), it["out"].as_str().unwrap());
        let got = mol::text2mol_item(out, gt);
        if got.valid != it["valid"].as_bool().unwrap() {
            bad.push(format!("{i} validity of {out:?}: {}", got.valid));
            continue;
        }
        assert_eq!(
            got.levenshtein as u64,
            it["lev"].as_u64().unwrap(),
            "{i} lev"
        );
        let exact = it["valid"].as_bool().unwrap() && it["canon_out"] == it["canon_gt"];
        assert_eq!(got.exact, exact, "{i} exact {out:?} vs {gt:?}");
        for (name, v) in [
            ("maccs", got.maccs),
            ("rdk", got.rdk),
            ("morgan", got.morgan),
        ] {
            match (v, it.get(name).and_then(Value::as_f64)) {
                (Some(a), Some(b)) if (a - b).abs() <= 1e-12 => {}
                (None, None) => {}
                (a, b) => bad.push(format!("{i} {name} {out:?} vs {gt:?}: {a:?} != {b:?}")),
            }
        }
    }
    assert!(bad.is_empty(), "{} differences: {:#?}", bad.len(), bad);
    let preds: Vec<&str> = items.iter().map(|it| it["out"].as_str().unwrap()).collect();
    let refs: Vec<&str> = items.iter().map(|it| it["gt"].as_str().unwrap()).collect();
    let rep = mol::text2mol_metrics(&preds, &refs).unwrap();
    let want = &g["report"];
    assert_eq!(rep.n as u64, want["n"].as_u64().unwrap());
    close(rep.bleu, f(&want["bleu"]), 1e-9, "bleu");
    close(rep.exact_match, f(&want["exact_match"]), 1e-12, "exact");
    close(rep.string_match, f(&want["string_match"]), 1e-12, "string");
    close(rep.levenshtein, f(&want["levenshtein"]), 1e-12, "lev");
    close(rep.validity, f(&want["validity"]), 1e-12, "validity");
    close(rep.maccs_fts.unwrap(), f(&want["maccs"]), 1e-9, "maccs");
    close(rep.rdk_fts.unwrap(), f(&want["rdk"]), 1e-9, "rdk");
    close(rep.morgan_fts.unwrap(), f(&want["morgan"]), 1e-9, "morgan");
    assert_eq!(rep.invalid_references, 0);
}

#[test]
fn validity_and_canonical_smiles_equal_rdkit_on_damaged_smiles() {
    let g = golden("mol");
    let mut bad = Vec::new();
    for case in g["validity_fuzz"].as_array().unwrap() {
        let smi = case[0].as_str().unwrap();
        let want = case[1].as_str().map(str::to_string);
        // A single fragment's canonical form is the molecule's; multi-fragment strings compare
        // through the sorted-fragment form, so check validity only for those.
        let got = reaction::canonical_fragments(smi);
        let same = if smi.contains('.') {
            got.is_some() == want.is_some()
        } else {
            got == want
        };
        if !same {
            bad.push(format!("{smi:?}: {got:?} != {want:?}"));
        }
    }
    assert!(
        bad.is_empty(),
        "{} differ from RDKit: {:#?}",
        bad.len(),
        bad
    );
}

#[test]
fn reaction_topk_and_roundtrip_equal_rdkit_canonical_comparison() {
    let g = golden("reaction");
    let cases = g["cases"].as_array().unwrap();
    for c in cases {
        let want = c["canon_target"].as_str().map(str::to_string);
        assert_eq!(
            reaction::canonical_fragments(c["target"].as_str().unwrap()),
            want
        );
        for (p, w) in strings(&c["preds"])
            .iter()
            .zip(c["canon_preds"].as_array().unwrap())
        {
            let w = w.as_str().map(str::to_string);
            assert_eq!(reaction::canonical_fragments(p), w, "prediction {p:?}");
        }
    }
    let preds: Vec<Vec<String>> = cases.iter().map(|c| strings(&c["preds"])).collect();
    let targets: Vec<String> = cases
        .iter()
        .map(|c| c["target"].as_str().unwrap().to_string())
        .collect();
    let ks = [1, 2, 3, 5, 10];
    let rep = reaction::topk_accuracy(&preds, &targets, &ks).unwrap();
    for (k, acc) in &rep.accuracy {
        close(
            *acc,
            f(&g["topk"][k.to_string()]),
            1e-12,
            &format!("top-{k}"),
        );
    }
    let invalid = cases.iter().filter(|c| c["canon_target"].is_null()).count();
    assert_eq!(rep.invalid_targets, invalid);
    let rt = g["roundtrip"].as_array().unwrap();
    let products: Vec<String> = rt
        .iter()
        .map(|c| c["product"].as_str().unwrap().to_string())
        .collect();
    let forward: Vec<Vec<String>> = rt.iter().map(|c| strings(&c["forward"])).collect();
    for r in reaction::roundtrip_accuracy(&products, &forward, &[1, 2, 3]).unwrap() {
        let w = &g["roundtrip_report"][r.k.to_string()];
        close(r.top_k, f(&w["top_k"]), 1e-12, "round trip top-k");
        close(
            r.mean_fraction,
            f(&w["mean_fraction"]),
            1e-12,
            "round trip fraction",
        );
    }
}

#[test]
fn actions_equal_nltk_and_levenshtein() {
    let g = golden("actions");
    let pairs = g["pairs"].as_array().unwrap();
    for p in pairs {
        let (gt, out) = (p["gt"].as_str().unwrap(), p["out"].as_str().unwrap());
        assert_eq!(
            levenshtein::distance(out, gt) as u64,
            p["lev"].as_u64().unwrap()
        );
    }
    let preds: Vec<&str> = pairs.iter().map(|p| p["out"].as_str().unwrap()).collect();
    let refs: Vec<&str> = pairs.iter().map(|p| p["gt"].as_str().unwrap()).collect();
    let rep = actions::actions_metrics(&preds, &refs).unwrap();
    let w = &g["report"];
    close(rep.bleu2, f(&w["bleu2"]), 1e-9, "bleu2");
    close(rep.bleu4, f(&w["bleu4"]), 1e-9, "bleu4");
    close(
        rep.modified_bleu,
        f(&w["modified_bleu"]),
        1e-9,
        "modified bleu",
    );
    close(rep.exact_match, f(&w["exact_match"]), 1e-12, "exact");
    close(rep.levenshtein, f(&w["levenshtein"]), 1e-12, "lev");
    close(
        rep.normalized_levenshtein,
        f(&w["normalized_levenshtein"]),
        1e-9,
        "norm lev",
    );
    close(
        rep.levenshtein_similarity,
        f(&w["levenshtein_similarity"]),
        1e-9,
        "lev sim",
    );
}
