//! `run_sweep` end to end on a synthetic token corpus with tiny GPT-Neo cells: the grid and its
//! ids, compute-budget cells that stop where their FLOPs reach the budget, and a second call that
//! skips finished cells and restarts a cell killed mid-run.

use chemlm_train::scaling::{run_sweep, Corpus, SweepConfig};

/// A learnable toy language: repeating arithmetic sequences over ids 5..vocab.
fn corpus() -> Corpus {
    let vocab = 16u32;
    let seq = |start: u32, step: u32, len: usize| -> Vec<u32> {
        let mut v = vec![0u32];
        v.extend((0..len as u32).map(|i| 5 + (start + i * step) % (vocab - 5)));
        v.push(1);
        v
    };
    Corpus {
        train: (0..64)
            .map(|i| seq(i % 11, 1 + i % 3, 12 + (i % 5) as usize))
            .collect(),
        valid: (0..16)
            .map(|i| seq(i % 7, 1 + i % 2, 12 + (i % 4) as usize))
            .collect(),
        pad_id: 2,
        vocab_size: vocab as usize,
    }
}

fn config(out: &std::path::Path, budgets: &[f64]) -> SweepConfig {
    let budgets = budgets
        .iter()
        .map(|b| format!("{b:e}"))
        .collect::<Vec<_>>()
        .join(", ");
    let text = format!(
        r#"
data = "unused-by-the-library"
out = "{}"
valid_molecules = 16
data_sizes = [32, 64]
budgets = [{budgets}]

[[models]]
name = "w16"
preset = "gpt-small"
hidden_size = 16
num_layers = 2
num_heads = 2

[train]
steps = 12
lr = 3e-3
warmup_steps = 2
schedule = "linear"
seed = 0
log_every = 0
eval_every = 0
checkpoint_every = 0

[batch]
max_tokens = 128
max_sequences = 16
bucket_window = 1
shuffle = true
seed = 0
"#,
        out.display()
    );
    SweepConfig::from_toml(&text, std::path::Path::new("sweep-test.toml")).unwrap()
}

#[test]
fn budget_cells_stop_at_their_flops_and_reruns_skip_finished_cells() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = corpus();

    // Forward FLOPs per token of the cell's model with the corpus vocabulary, as the sweep
    // computes them: a budget of k full batches must stop the cell after k updates.
    let probe = config(dir.path(), &[]);
    let mut m = probe.models[0].config().unwrap();
    m.set_vocab_size(corpus.vocab_size);
    let fpt = chemlm_models::flops_per_token(&m).unwrap() as f64;
    let per_step = fpt * 128.0;
    let small = 3.0 * per_step; // 3 updates
    let large = 100.0 * per_step; // more than train.steps: capped at 12

    let cfg = config(dir.path(), &[small, large]);
    let cells = cfg.cells();
    let ids: Vec<&str> = cells.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(
        ids,
        vec![
            format!("w16/n32/f{small:.3e}"),
            format!("w16/n32/f{large:.3e}"),
            format!("w16/n64/f{small:.3e}"),
            format!("w16/n64/f{large:.3e}"),
        ]
    );

    let mut ran = Vec::new();
    let rows = run_sweep(
        &cfg,
        &corpus,
        &candle_core::Device::Cpu,
        |_, _, cell, row| ran.push((cell.id.clone(), row.is_some())),
    )
    .unwrap();
    assert_eq!(rows.len(), 4);
    assert!(ran.iter().all(|(_, fresh)| *fresh), "{ran:?}");
    for r in &rows {
        let budget = r.budget.expect("every cell has a budget");
        if budget == small {
            assert_eq!(r.result.steps, 3, "{}", r.cell);
            // Real batches hold at most max_tokens tokens, so the spend stays under the budget.
            assert!(
                r.result.flops <= budget * 1.000001,
                "{}: {}",
                r.cell,
                r.result.flops
            );
        } else {
            assert_eq!(r.result.steps, 12, "{}", r.cell);
        }
        assert!(r.result.valid_loss.is_finite());
        assert_eq!(
            r.result.train_molecules,
            if r.cell.contains("/n32/") { 32 } else { 64 }
        );
    }
    // More compute on the same cell lowers the validation loss of this learnable corpus.
    for n in ["n32", "n64"] {
        let loss = |b: f64| {
            rows.iter()
                .find(|r| r.cell.contains(n) && r.budget == Some(b))
                .unwrap()
                .result
                .valid_loss
        };
        assert!(
            loss(large) < loss(small),
            "{n}: {} vs {}",
            loss(large),
            loss(small)
        );
    }

    // Rerun: finished cells are skipped, a half-written cell directory of a new cell is replaced.
    let cfg2 = config(dir.path(), &[small, large, 6.0 * per_step]);
    let killed = cfg2.out.join("runs").join(
        cfg2.cells()
            .iter()
            .find(|c| c.budget == Some(6.0 * per_step))
            .unwrap()
            .id
            .replace('/', "_"),
    );
    std::fs::create_dir_all(&killed).unwrap();
    std::fs::write(killed.join("metrics.jsonl"), "{\"half\": \"written\"}\n").unwrap();
    let mut fresh = Vec::new();
    let rows2 = run_sweep(
        &cfg2,
        &corpus,
        &candle_core::Device::Cpu,
        |_, _, cell, row| {
            if row.is_some() {
                fresh.push(cell.id.clone());
            }
        },
    )
    .unwrap();
    assert_eq!(rows2.len(), 6);
    assert_eq!(fresh.len(), 2, "only the two new cells run: {fresh:?}");
    assert!(fresh
        .iter()
        .all(|id| id.ends_with(&format!("f{:.3e}", 6.0 * per_step))));
    for r in rows2.iter().filter(|r| r.budget == Some(6.0 * per_step)) {
        assert_eq!(r.result.steps, 6);
    }
    // The first four rows are untouched.
    assert_eq!(&rows2[..4], &rows[..]);
    let metrics = std::fs::read_to_string(killed.join("metrics.jsonl")).unwrap();
    assert!(!metrics.contains("half"), "the killed cell was restarted");
}
