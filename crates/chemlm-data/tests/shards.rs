//! Token shards: write → memory-map round trip, corruption detection, and the batching API the
//! trainer uses (determinism, resumption, token budgets, bucketing).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use chemlm_data::shards::{
    write_manifest, BatchConfig, BatchState, Batcher, Batching, ShardFiles, ShardManifest,
    ShardSet, ShardWriter, TokenDataset, TokenDtype, SHARD_FORMAT,
};
use chemlm_data::tokenizer::{Tokenizer, TokenizerKind, VocabConfig};
use rand::{Rng, SeedableRng};

fn random_seqs(n: usize, max_id: u32, seed: u64) -> Vec<Vec<u32>> {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    (0..n)
        .map(|_| {
            let len = rng.gen_range(0..60);
            (0..len).map(|_| rng.gen_range(0..=max_id)).collect()
        })
        .collect()
}

fn write(dir: &Path, seqs: &[Vec<u32>], dtype: TokenDtype, shard: Option<u64>) -> Vec<ShardFiles> {
    let mut w = ShardWriter::new(dir, "train", dtype);
    if let Some(s) = shard {
        w = w.with_shard_size(s);
    }
    // Mix single pushes and block pushes.
    let (a, b) = seqs.split_at(seqs.len() / 2);
    for s in a {
        w.push(s).unwrap();
    }
    let flat: Vec<u32> = b.iter().flatten().copied().collect();
    let lens: Vec<u32> = b.iter().map(|s| s.len() as u32).collect();
    w.push_many(&flat, &lens).unwrap();
    w.finish().unwrap()
}

fn manifest(dir: &Path, dtype: TokenDtype, files: Vec<ShardFiles>) -> ShardSet {
    let tok = Tokenizer::build(TokenizerKind::Smiles, ["CCO"], &VocabConfig::default()).unwrap();
    tok.save(&dir.join("tokenizer.json")).unwrap();
    let m = ShardManifest {
        format: SHARD_FORMAT.into(),
        kind: TokenizerKind::Smiles,
        dtype,
        byte_order: "little".into(),
        vocab_size: tok.vocab_size(),
        special_ids: tok.special_ids(),
        with_bos_eos: true,
        tokenizer: "tokenizer.json".into(),
        tokenizer_sha256: chemlm_data::download::sha256_file(&dir.join("tokenizer.json")).unwrap(),
        splits: BTreeMap::from([("train".to_string(), files)]),
        prepare: serde_json::Value::Null,
        created_by: "test".into(),
    };
    write_manifest(dir, &m).unwrap();
    ShardSet::open(dir).unwrap()
}

#[test]
fn round_trip_u16_u32_and_multi_shard() {
    for (dtype, max_id, shard) in [
        (TokenDtype::U16, 65_535, None),
        (TokenDtype::U32, 4_000_000_000, None),
        (TokenDtype::U16, 300, Some(7)),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let seqs = random_seqs(101, max_id, 1);
        let files = write(dir.path(), &seqs, dtype, shard);
        assert_eq!(files.len(), if shard.is_some() { 15 } else { 1 });
        let set = manifest(dir.path(), dtype, files);
        set.verify().unwrap();
        assert_eq!(set.tokenizer().unwrap().vocab_size(), 7);
        let ds = set.split("train").unwrap();
        assert_eq!(ds.len(), seqs.len());
        assert_eq!(
            ds.total_tokens(),
            seqs.iter().map(|s| s.len() as u64).sum::<u64>()
        );
        for (i, s) in seqs.iter().enumerate() {
            assert_eq!(&ds.get(i), s);
            assert_eq!(ds.seq_len(i), s.len());
        }
        assert_eq!(
            ds.lengths(),
            seqs.iter().map(|s| s.len() as u32).collect::<Vec<_>>()
        );
        assert!(set.split("valid").is_err());
        // Files are plain little-endian arrays: the bytes are what numpy would read.
        if shard.is_none() {
            let raw = std::fs::read(dir.path().join("train-00000.tokens")).unwrap();
            assert_eq!(raw.len(), ds.total_tokens() as usize * dtype.size());
            let first = seqs.iter().find(|s| !s.is_empty()).unwrap()[0];
            let got = match dtype {
                TokenDtype::U16 => u16::from_le_bytes([raw[0], raw[1]]) as u32,
                TokenDtype::U32 => u32::from_le_bytes([raw[0], raw[1], raw[2], raw[3]]),
            };
            assert_eq!(got, first);
        }
        // No temporary files left behind.
        let leftovers = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .ends_with(".tmp")
            })
            .count();
        assert_eq!(leftovers, 0);
    }
}

#[test]
fn ids_that_do_not_fit_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let mut w = ShardWriter::new(dir.path(), "train", TokenDtype::U16);
    assert!(w.push(&[1, 70_000]).is_err());
    assert!(w.push_many(&[1, 2], &[3]).is_err());
}

#[test]
fn corruption_is_detected() {
    let dir = tempfile::tempdir().unwrap();
    let seqs = random_seqs(50, 1000, 2);
    let files = write(dir.path(), &seqs, TokenDtype::U16, None);
    let set = manifest(dir.path(), TokenDtype::U16, files.clone());
    // Flip one byte: sizes still match, the hash does not.
    let p = dir.path().join(&files[0].tokens);
    let mut raw = std::fs::read(&p).unwrap();
    raw[3] ^= 0xff;
    std::fs::write(&p, &raw).unwrap();
    assert!(set
        .verify()
        .unwrap_err()
        .to_string()
        .contains("checksum mismatch"));
    // Truncate: opening fails with the file name.
    raw.truncate(raw.len() - 2);
    std::fs::write(&p, &raw).unwrap();
    let err = set.split("train").unwrap_err().to_string();
    assert!(err.contains("train-00000.tokens"), "{err}");
    // Decreasing offsets.
    std::fs::write(&p, vec![0u8; (raw.len() + 2) as usize]).unwrap();
    let op = dir.path().join(&files[0].offsets);
    let mut off = std::fs::read(&op).unwrap();
    off[8..16].copy_from_slice(&u64::MAX.to_le_bytes());
    std::fs::write(&op, &off).unwrap();
    assert!(set.split("train").is_err());
}

fn dataset(n: usize, seed: u64) -> (tempfile::TempDir, Arc<TokenDataset>) {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let seqs: Vec<Vec<u32>> = (0..n)
        .map(|i| {
            let len = rng.gen_range(3..80);
            (0..len).map(|j| (i * 7 + j) as u32 % 500 + 5).collect()
        })
        .collect();
    let files = write(dir.path(), &seqs, TokenDtype::U16, None);
    let set = manifest(dir.path(), TokenDtype::U16, files);
    let ds = Arc::new(set.split("train").unwrap());
    (dir, ds)
}

fn epoch_indices(b: &mut Batcher) -> Vec<u64> {
    let n = b.batches_in_epoch();
    let mut all: Vec<u64> = (0..n).flat_map(|_| b.next_batch().indices).collect();
    all.sort_unstable();
    all
}

#[test]
fn every_sequence_once_per_epoch_with_valid_padding() {
    let (_d, ds) = dataset(1000, 3);
    for cfg in [
        BatchConfig {
            window: 100,
            ..BatchConfig::sequences(16)
        },
        BatchConfig::tokens(1024),
        BatchConfig {
            pad_to_multiple_of: 8,
            max_len: Some(40),
            ..BatchConfig::tokens(512)
        },
        BatchConfig {
            shuffle: false,
            window: 0,
            ..BatchConfig::sequences(10)
        },
    ] {
        let mut b = Batcher::new(ds.clone(), cfg.clone(), 2).unwrap();
        let n = b.batches_in_epoch();
        let mut seen = Vec::new();
        for _ in 0..n {
            let batch = b.next_batch();
            assert_eq!(batch.ids.len(), batch.batch_size * batch.seq_len);
            assert_eq!(batch.attention_mask.len(), batch.ids.len());
            assert_eq!(batch.seq_len % cfg.pad_to_multiple_of, 0);
            match cfg.batching {
                Batching::Tokens { max_tokens, .. } => assert!(batch.padded_tokens() <= max_tokens),
                Batching::Sequences { batch_size } => assert!(batch.batch_size <= batch_size),
            }
            for r in 0..batch.batch_size {
                let i = batch.indices[r] as usize;
                let mut want = ds.get(i);
                if let Some(m) = cfg.max_len {
                    want.truncate(m);
                }
                let l = batch.lengths[r] as usize;
                assert_eq!(l, want.len());
                assert_eq!(&batch.row(r)[..l], &want[..]);
                assert!(batch.row(r)[l..].iter().all(|&t| t == 2));
                let mask = &batch.attention_mask[r * batch.seq_len..(r + 1) * batch.seq_len];
                assert!(mask[..l].iter().all(|&m| m == 1) && mask[l..].iter().all(|&m| m == 0));
            }
            seen.extend(batch.indices);
        }
        seen.sort_unstable();
        assert_eq!(seen, (0..1000).collect::<Vec<u64>>());
        assert_eq!(b.state().epoch, 1);
        assert_eq!(b.state().batch, 0);
    }
}

#[test]
fn deterministic_seeded_and_resumable() {
    let (_d, ds) = dataset(500, 4);
    let cfg = BatchConfig {
        window: 64,
        seed: 11,
        ..BatchConfig::tokens(600)
    };
    let a: Vec<_> = Batcher::new(ds.clone(), cfg.clone(), 2)
        .unwrap()
        .take(120)
        .collect();
    let b: Vec<_> = Batcher::new(ds.clone(), cfg.clone(), 2)
        .unwrap()
        .take(120)
        .collect();
    assert_eq!(a, b);
    assert!(
        a.iter().any(|x| x.epoch > 0),
        "the run should cross an epoch boundary"
    );
    let other: Vec<_> = Batcher::new(
        ds.clone(),
        BatchConfig {
            seed: 12,
            ..cfg.clone()
        },
        2,
    )
    .unwrap()
    .take(5)
    .collect();
    assert_ne!(a[..5], other[..]);
    // Epochs differ from each other.
    let mut one = Batcher::new(ds.clone(), cfg.clone(), 2).unwrap();
    assert_ne!(one.epoch_plan(0), one.epoch_plan(1));
    // Stop at step k, serialize the state, resume: the same batches follow.
    for k in [0, 1, 37, a.iter().position(|x| x.epoch == 1).unwrap()] {
        let mut first = Batcher::new(ds.clone(), cfg.clone(), 2).unwrap();
        for _ in 0..k {
            first.next_batch();
        }
        let saved = serde_json::to_string(&first.state()).unwrap();
        let state: BatchState = serde_json::from_str(&saved).unwrap();
        let resumed: Vec<_> = Batcher::resume(ds.clone(), cfg.clone(), 2, state)
            .unwrap()
            .take(120 - k)
            .collect();
        assert_eq!(resumed[..], a[k..], "resume at {k}");
    }
    let _ = epoch_indices(&mut one);
    // A state from other data is refused.
    let bad = BatchState {
        sequences: 7,
        ..Default::default()
    };
    assert!(Batcher::resume(ds.clone(), cfg.clone(), 2, bad).is_err());
    // A budget below the longest sequence is refused.
    assert!(Batcher::new(ds.clone(), BatchConfig::tokens(10), 2).is_err());
}

#[test]
fn bucketing_cuts_padding() {
    let (_d, ds) = dataset(2000, 5);
    let padding = |window: usize| {
        let cfg = BatchConfig {
            window,
            ..BatchConfig::sequences(32)
        };
        let mut b = Batcher::new(ds.clone(), cfg, 2).unwrap();
        let n = b.batches_in_epoch();
        let (mut real, mut padded) = (0, 0);
        for _ in 0..n {
            let x = b.next_batch();
            real += x.real_tokens();
            padded += x.padded_tokens();
        }
        1.0 - real as f64 / padded as f64
    };
    let (none, bucketed) = (padding(1), padding(1000));
    assert!(
        bucketed < none / 4.0,
        "padding fraction {none:.3} without, {bucketed:.3} with bucketing"
    );
}
