//! Model speed on CPU, for the side-by-side comparison with PyTorch
//! (`benches/models/run.sh` runs this and `benches/models/torch_models.py` on the same shapes and
//! thread count and prints the ratios).
//!
//! Prints one JSON object per measurement:
//! * `embed_molformer_xl`: molecules/s embedding batches of 256 x 64 tokens with the molformer-xl
//!   shape (linear attention, 32 random features), eval mode, no gradient.
//! * `mlm_fwd_bwd_bert_small`: seconds per forward + backward of a 6-layer 256-wide BERT MLM
//!   (batch 32 x 64, loss = cross-entropy over all positions).
//!
//! each with the fused kernels and with the composed reference ops (embedding: composed only with
//! `BENCH_EMBED_COMPOSED=1`). Env: `BENCH_REPS` (default 5), `RAYON_NUM_THREADS` (threads for
//! candle and our kernels). An optional argument (`embed` or `mlm`) runs one benchmark.

use candle_core::{DType, Device, Tensor};
use chemlm_models::{LanguageModel, Model};
use rand::{Rng, SeedableRng};
use std::time::Instant;

fn random_batch(batch: usize, len: usize, vocab: usize, seed: u64) -> (Tensor, Tensor) {
    let mut r = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let ids: Vec<u32> = (0..batch * len)
        .map(|_| r.gen_range(5..vocab as u32))
        .collect();
    let ids = Tensor::from_vec(ids, (batch, len), &Device::Cpu).unwrap();
    let mask = Tensor::ones((batch, len), DType::U32, &Device::Cpu).unwrap();
    (ids, mask)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    // As the binary and the Python module run: without it the embedding bench measured the
    // kernel clearing fresh pages (35 % of samples) rather than the model.
    chemlm_models::alloc::tune_allocator();
    let reps: usize = std::env::var("BENCH_REPS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(5);
    let threads = candle_core::utils::get_num_threads();
    let only = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let want = |name: &str| only.as_deref().is_none_or(|o| name.contains(o));

    if want("embed") {
        let model = Model::from_preset("molformer-xl", &Device::Cpu, 0).unwrap();
        let (ids, mask) = random_batch(256, 64, 2362, 1);
        // matmuls dominate at this width, so the composed variant only on request.
        let variants: &[bool] = if std::env::var("BENCH_EMBED_COMPOSED").is_ok() {
            &[true, false]
        } else {
            &[true]
        };
        for &fused in variants {
            chemlm_models::ops::set_fused(fused);
            // Inference mode (as `chemlm embed` runs): per-layer detach bounds memory.
            let embed =
                || chemlm_models::grad_mode::inference(|| model.embed(&ids, &mask).unwrap());
            embed(); // warm-up
            let times: Vec<f64> = (0..reps)
                .map(|_| {
                    let t = Instant::now();
                    embed();
                    t.elapsed().as_secs_f64()
                })
                .collect();
            let s = median(times);
            println!(
                "{{\"bench\": \"embed_molformer_xl\", \"impl\": \"candle-{}\", \"threads\": {threads}, \"batch\": 256, \"seq\": 64, \"seconds\": {s:.4}, \"molecules_per_s\": {:.1}}}",
                if fused { "fused" } else { "composed" },
                256.0 / s
            );
        }
    }

    if want("mlm") {
        let model = Model::from_preset("bert-small", &Device::Cpu, 0).unwrap();
        let (ids, mask) = random_batch(32, 64, 42, 2);
        let targets = ids.flatten_all().unwrap();
        for fused in [true, false] {
            chemlm_models::ops::set_fused(fused);
            let step = || {
                let logits = model.forward_logits(&ids, &mask, true).unwrap();
                let loss = candle_nn::loss::cross_entropy(&logits.flatten_to(1).unwrap(), &targets)
                    .unwrap();
                loss.backward().unwrap();
            };
            step();
            let times: Vec<f64> = (0..reps)
                .map(|_| {
                    let t = Instant::now();
                    step();
                    t.elapsed().as_secs_f64()
                })
                .collect();
            let s = median(times);
            println!(
                "{{\"bench\": \"mlm_fwd_bwd_bert_small\", \"impl\": \"candle-{}\", \"threads\": {threads}, \"batch\": 32, \"seq\": 64, \"seconds\": {s:.4}, \"tokens_per_s\": {:.0}}}",
                if fused { "fused" } else { "composed" },
                32.0 * 64.0 / s
            );
        }
    }
}
