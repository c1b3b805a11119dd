//! `chemlm bench text-chem`: the Text+Chem T5 evaluation on the test split of a `chemlm data
//! seq2seq` directory, every metric from `chemlm-textmetrics` (each equal to its reference
//! implementation on golden files), beside the published figures.
//!
//! Per task (MolT5's protocol for text↔molecule; top-k and round trip for reactions;
//! paragraph2actions' metrics for actions):
//! * `forward`: top-k accuracy of the ranked products (canonical fragments; invalid = wrong);
//! * `retro`: top-k accuracy of the ranked reactant sets, and round-trip accuracy when a forward
//!   model is given (each predicted reactant set is translated forward, top-1, and compared with
//!   the product);
//! * `text2mol`: character BLEU, exact match, Levenshtein, validity, MACCS / RDK / Morgan
//!   Tanimoto;
//! * `mol2text`: BLEU-2/4 on BERT-basic lower-cased tokens (MolT5 uses SciBERT's tokenizer, whose
//!   pre-tokenizer this is), ROUGE-1/2/L, METEOR with WordNet;
//! * `actions`: BLEU-2 (whitespace tokens), exact sequence match, Levenshtein.

use super::translate::{Candidate, TranslateConfig, Translator};
use crate::error::{Result, TrainError};
use chemlm_data::seq2seq::{Example, Task};
use chemlm_data::tokenizer::sentencepiece::Seq2SeqTokenizer;
use chemlm_models::t5::T5;
use chemlm_textmetrics::meteor::Meteor;
use chemlm_textmetrics::wordnet::WordNet;
use chemlm_textmetrics::{actions, mol, reaction, tokenize};
use serde::Serialize;
use std::path::Path;
use std::time::Instant;

/// The k of the top-k accuracies reported (those up to the number of returned candidates, and
/// that number itself).
pub const TOP_K: [usize; 4] = [1, 3, 5, 10];

/// Reads `split.jsonl` of a seq2seq data directory; bad lines are errors naming file and line.
pub fn read_examples(path: &Path) -> Result<Vec<Example>> {
    crate::jsonl::read_jsonl(path)
}

/// A translating model: the T5 and its tokenizer.
pub struct Engine<'a> {
    pub model: &'a T5,
    pub tokenizer: &'a Seq2SeqTokenizer,
}

/// Scores of one task.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum TaskMetrics {
    TopK {
        report: reaction::TopKReport,
        round_trip: Option<Vec<reaction::RoundTrip>>,
    },
    Text2Mol(mol::Text2MolReport),
    Mol2Text(mol::Mol2TextReport),
    Actions(actions::ActionsReport),
}

/// One task's result.
#[derive(Debug, Clone, Serialize)]
pub struct TaskResult {
    pub task: Task,
    /// Test examples evaluated.
    pub n: usize,
    /// Teacher-forced cross-entropy per target token (nats) and arg-max token accuracy on the
    /// same examples: a measure that moves long before exact-match metrics do.
    pub token_loss: f64,
    pub token_accuracy: f64,
    /// Examples the model could not translate (too long, untokenizable): scored as empty output.
    pub failed: usize,
    pub metrics: TaskMetrics,
    pub seconds: f64,
    /// Up to 5 (source, reference, prediction) examples, for the report.
    pub samples: Vec<(String, String, String)>,
}

/// Settings of the harness.
pub struct TextChemConfig {
    pub tasks: Vec<Task>,
    /// At most this many test examples per task (the first ones in file order).
    pub limit: Option<usize>,
    pub translate: TranslateConfig,
    /// Decode `<unk>` as this text (see [`Translator::with_unk_as`]).
    pub unk_as: Option<String>,
}

fn strip_prompt(task: Task, source: &str) -> &str {
    source.strip_prefix(task.prompt()).unwrap_or(source)
}

/// Translates `sources` and returns ranked texts per source (empty on failure) and the failures.
fn translate_all(
    engine: &Engine<'_>,
    cfg: TranslateConfig,
    unk_as: Option<&str>,
    sources: &[String],
    progress: &mut dyn FnMut(usize),
) -> Result<(Vec<Vec<String>>, usize)> {
    let tr = Translator::new(engine.model, engine.tokenizer, cfg)?
        .with_unk_as(unk_as.map(str::to_string));
    let out = tr.translate(sources, progress)?;
    let mut failed = 0;
    let ranked = out
        .into_iter()
        .map(|r| match r {
            Ok(c) => c.into_iter().map(|c: Candidate| c.text).collect(),
            Err(_) => {
                failed += 1;
                Vec::new()
            }
        })
        .collect();
    Ok((ranked, failed))
}

/// Runs the harness on `examples` (a test split). `forward` is the model that runs the
/// round trip of retrosynthesis predictions (none: no round trip). `wordnet` is needed for
/// mol2text's METEOR.
pub fn evaluate(
    engine: &Engine<'_>,
    forward: Option<&Engine<'_>>,
    examples: &[Example],
    cfg: &TextChemConfig,
    wordnet: Option<&WordNet>,
    progress: &mut dyn FnMut(usize),
) -> Result<Vec<TaskResult>> {
    let mut results = Vec::new();
    for &task in &cfg.tasks {
        let mut exs: Vec<&Example> = examples.iter().filter(|e| e.task == task).collect();
        if let Some(n) = cfg.limit {
            exs.truncate(n);
        }
        if exs.is_empty() {
            continue;
        }
        let t0 = Instant::now();
        let (token_loss, token_accuracy) = teacher_forced(engine, &exs)?;
        let sources: Vec<String> = exs.iter().map(|e| e.source.clone()).collect();
        let refs: Vec<String> = exs.iter().map(|e| e.target.clone()).collect();
        let (ranked, failed) = translate_all(
            engine,
            cfg.translate,
            cfg.unk_as.as_deref(),
            &sources,
            progress,
        )?;
        let top1: Vec<String> = ranked
            .iter()
            .map(|r| r.first().cloned().unwrap_or_default())
            .collect();
        let err = |e: chemlm_textmetrics::error::MetricsError| TrainError::Data(e.to_string());
        let metrics = match task {
            Task::Forward | Task::Retro => {
                let returned = cfg.translate.decode.num_return();
                let mut ks: Vec<usize> = TOP_K.iter().copied().filter(|&k| k <= returned).collect();
                if !ks.contains(&returned) {
                    ks.push(returned);
                }
                let report = reaction::topk_accuracy(&ranked, &refs, &ks).map_err(err)?;
                let round_trip = match (task, forward) {
                    (Task::Retro, Some(fwd)) => {
                        let products: Vec<&str> =
                            exs.iter().map(|e| strip_prompt(task, &e.source)).collect();
                        let queries: Vec<String> = ranked
                            .iter()
                            .flatten()
                            .map(|r| format!("{}{r}", Task::Forward.prompt()))
                            .collect();
                        let mut fcfg = cfg.translate;
                        fcfg.decode.strategy = chemlm_models::seq2seq::Strategy::Greedy;
                        let (fwd_out, _) =
                            translate_all(fwd, fcfg, cfg.unk_as.as_deref(), &queries, progress)?;
                        let mut it = fwd_out.into_iter();
                        let per: Vec<Vec<String>> = ranked
                            .iter()
                            .map(|r| {
                                r.iter()
                                    .map(|_| {
                                        it.next()
                                            .and_then(|v| v.into_iter().next())
                                            .unwrap_or_default()
                                    })
                                    .collect()
                            })
                            .collect();
                        let prods: Vec<String> = products.iter().map(|s| s.to_string()).collect();
                        Some(reaction::roundtrip_accuracy(&prods, &per, &ks).map_err(err)?)
                    }
                    _ => None,
                };
                TaskMetrics::TopK { report, round_trip }
            }
            Task::Text2Mol => {
                TaskMetrics::Text2Mol(mol::text2mol_metrics(&top1, &refs).map_err(err)?)
            }
            Task::Mol2Text => {
                let wn = wordnet
                    .ok_or_else(|| TrainError::Config("mol2text's METEOR needs WordNet".into()))?;
                let meteor = Meteor::new(wn);
                let tok = |s: &str| tokenize::bert_basic(s, true);
                TaskMetrics::Mol2Text(
                    mol::mol2text_metrics(&top1, &refs, &tok, &meteor, false).map_err(err)?,
                )
            }
            Task::Actions => {
                TaskMetrics::Actions(actions::actions_metrics(&top1, &refs).map_err(err)?)
            }
        };
        let samples = exs
            .iter()
            .zip(&top1)
            .take(5)
            .map(|(e, p)| {
                (
                    strip_prompt(task, &e.source).to_string(),
                    e.target.clone(),
                    p.clone(),
                )
            })
            .collect();
        results.push(TaskResult {
            task,
            n: exs.len(),
            token_loss,
            token_accuracy,
            failed,
            metrics,
            seconds: t0.elapsed().as_secs_f64(),
            samples,
        });
    }
    Ok(results)
}

/// Mean teacher-forced loss per target token and token accuracy of `engine` on `exs` (pairs that
/// cannot be tokenized are skipped).
fn teacher_forced(engine: &Engine<'_>, exs: &[&Example]) -> Result<(f64, f64)> {
    use crate::data::{BatchSource, BatchingConfig};
    use crate::objectives::Objective;
    let tok = engine.tokenizer;
    let pairs: Vec<(Vec<u32>, Vec<u32>)> = exs
        .iter()
        .filter_map(|e| Some((tok.encode(&e.source).ok()?, tok.encode(&e.target).ok()?)))
        .collect();
    let longest = pairs
        .iter()
        .map(|(s, t)| s.len() + t.len())
        .max()
        .unwrap_or(1);
    let cfg = BatchingConfig {
        max_tokens: longest.max(4096),
        max_sequences: 16,
        bucket_window: 1,
        shuffle: false,
        epochs: Some(1),
        seed: 0,
    };
    let mut src = super::PairSource::new(pairs, tok.pad_id(), cfg)?;
    let objective = super::Seq2SeqObjective::new(engine.model, engine.model.device().clone());
    let mut rng = crate::rng::derived_rng(0, 0);
    let (mut loss, mut weight, mut correct) = (0f64, 0f64, 0usize);
    while let Some(b) = src.next_batch()? {
        let out = chemlm_models::grad_mode::inference(|| objective.compute(&b, &mut rng, false))?;
        loss += out.loss_sum.to_scalar::<f32>()? as f64;
        weight += out.weight;
        correct += out.correct.unwrap_or(0);
    }
    let w = weight.max(1.0);
    Ok((loss / w, correct as f64 / w))
}

/// A published figure to print beside ours.
pub struct Published {
    pub model: &'static str,
    pub task: Task,
    pub metric: &'static str,
    pub value: f64,
}

const fn pub_fig(model: &'static str, task: Task, metric: &'static str, value: f64) -> Published {
    Published {
        model,
        task,
        metric,
        value,
    }
}

/// Published test-set figures (ChEBI-20 test): Text+Chem T5 augm-base from Christofidellis et
/// al. 2023 as quoted in issue 13 (text→molecule exact match: 0.322 claimed, 0.196 when users
/// re-ran the released weights), MolT5-base/large from Edwards et al. 2022 (molecule→text
/// for both; text→molecule for MolT5-large, the figures we could check).
pub const PUBLISHED: &[Published] = &[
    pub_fig("Text+Chem T5 augm-base", Task::Mol2Text, "bleu2", 0.625),
    pub_fig("Text+Chem T5 augm-base", Task::Mol2Text, "bleu4", 0.542),
    pub_fig("Text+Chem T5 augm-base", Task::Mol2Text, "rouge1", 0.682),
    pub_fig("Text+Chem T5 augm-base", Task::Mol2Text, "rouge2", 0.543),
    pub_fig("Text+Chem T5 augm-base", Task::Mol2Text, "rougeL", 0.622),
    pub_fig("Text+Chem T5 augm-base", Task::Mol2Text, "meteor", 0.648),
    pub_fig("Text+Chem T5 augm-base", Task::Text2Mol, "exact", 0.322),
    pub_fig(
        "Text+Chem T5 augm-base (users' re-run)",
        Task::Text2Mol,
        "exact",
        0.196,
    ),
    pub_fig("MolT5-base", Task::Mol2Text, "bleu2", 0.540),
    pub_fig("MolT5-base", Task::Mol2Text, "bleu4", 0.457),
    pub_fig("MolT5-base", Task::Mol2Text, "rouge1", 0.634),
    pub_fig("MolT5-base", Task::Mol2Text, "rouge2", 0.485),
    pub_fig("MolT5-base", Task::Mol2Text, "rougeL", 0.578),
    pub_fig("MolT5-base", Task::Mol2Text, "meteor", 0.569),
    pub_fig("MolT5-large", Task::Mol2Text, "bleu2", 0.594),
    pub_fig("MolT5-large", Task::Mol2Text, "bleu4", 0.508),
    pub_fig("MolT5-large", Task::Mol2Text, "rouge1", 0.654),
    pub_fig("MolT5-large", Task::Mol2Text, "rouge2", 0.510),
    pub_fig("MolT5-large", Task::Mol2Text, "rougeL", 0.594),
    pub_fig("MolT5-large", Task::Mol2Text, "meteor", 0.614),
    pub_fig("MolT5-large", Task::Text2Mol, "bleu", 0.854),
    pub_fig("MolT5-large", Task::Text2Mol, "exact", 0.311),
    pub_fig("MolT5-large", Task::Text2Mol, "levenshtein", 16.071),
    pub_fig("MolT5-large", Task::Text2Mol, "maccs", 0.834),
    pub_fig("MolT5-large", Task::Text2Mol, "rdk", 0.746),
    pub_fig("MolT5-large", Task::Text2Mol, "morgan", 0.684),
    pub_fig("MolT5-large", Task::Text2Mol, "validity", 0.905),
];

/// `(metric, value)` rows of a result, named as in [`PUBLISHED`].
pub fn metric_rows(r: &TaskResult) -> Vec<(String, f64)> {
    let mut rows = vec![
        ("token_loss".to_string(), r.token_loss),
        ("token_accuracy".to_string(), r.token_accuracy),
    ];
    rows.extend(task_rows(r));
    rows
}

fn task_rows(r: &TaskResult) -> Vec<(String, f64)> {
    match &r.metrics {
        TaskMetrics::TopK { report, round_trip } => {
            let mut v: Vec<(String, f64)> = report
                .accuracy
                .iter()
                .map(|(k, a)| (format!("top{k}"), *a))
                .collect();
            for rt in round_trip.iter().flatten() {
                v.push((format!("roundtrip_top{}", rt.k), rt.top_k));
            }
            v
        }
        TaskMetrics::Text2Mol(m) => {
            let mut v = vec![
                ("bleu".into(), m.bleu),
                ("exact".into(), m.exact_match),
                ("levenshtein".into(), m.levenshtein),
                ("validity".into(), m.validity),
            ];
            for (n, x) in [
                ("maccs", m.maccs_fts),
                ("rdk", m.rdk_fts),
                ("morgan", m.morgan_fts),
            ] {
                if let Some(x) = x {
                    v.push((n.into(), x));
                }
            }
            v
        }
        TaskMetrics::Mol2Text(m) => vec![
            ("bleu2".into(), m.bleu2),
            ("bleu4".into(), m.bleu4),
            ("rouge1".into(), m.rouge.rouge1.fmeasure),
            ("rouge2".into(), m.rouge.rouge2.fmeasure),
            ("rougeL".into(), m.rouge.rouge_l.fmeasure),
            ("meteor".into(), m.meteor),
        ],
        TaskMetrics::Actions(m) => vec![
            ("bleu2".into(), m.bleu2),
            ("exact".into(), m.exact_match),
            ("levenshtein".into(), m.levenshtein),
            ("levenshtein_similarity".into(), m.levenshtein_similarity),
        ],
    }
}

/// Markdown table: task, metric, ours, then each published model that reports that metric.
pub fn markdown(results: &[TaskResult], model_name: &str, split_name: &str) -> String {
    let mut s = format!(
        "Test split: {split_name}. Ours = {model_name}; published figures are on the full \
         ChEBI-20 / USPTO test sets with models trained on the full training sets.\n\n\
         | task | n | metric | ours | published |\n|---|---|---|---|---|\n"
    );
    for r in results {
        for (metric, value) in metric_rows(r) {
            let published: Vec<String> = PUBLISHED
                .iter()
                .filter(|p| p.task == r.task && p.metric == metric)
                .map(|p| format!("{} {:.3}", p.model, p.value))
                .collect();
            s.push_str(&format!(
                "| {} | {} | {} | {:.3} | {} |\n",
                r.task.name(),
                r.n,
                metric,
                value,
                if published.is_empty() {
                    "—".to_string()
                } else {
                    published.join("; ")
                }
            ));
        }
    }
    s
}
