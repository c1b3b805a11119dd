//! The client against a mock Hub on 127.0.0.1 (never the network): download protocol, cache
//! layout, resume, verification, offline use and errors.

mod mock;

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chemlm_hub::{resolve_model_dir_with, CacheVerify, Hub, HubConfig, HubError, RepoRef};
use mock::{commit, dead_endpoint, sha256_hex, MockFile, MockHub, MockRepo, GOOD_TOKEN};

fn config(endpoint: &str, cache: &Path) -> HubConfig {
    let mut c = HubConfig::new(endpoint, cache);
    c.retry_pause = Duration::ZERO;
    c.etag_timeout = Duration::from_secs(5);
    c.download_timeout = Duration::from_secs(5);
    c
}

fn hub(endpoint: &str, cache: &Path) -> Hub {
    Hub::new(config(endpoint, cache))
}

fn weights(n: usize, seed: u32) -> Vec<u8> {
    (0..n as u32)
        .map(|i| (i.wrapping_mul(7).wrapping_add(seed) % 251) as u8)
        .collect()
}

const CONFIG: &[u8] = br#"{"model_type":"bert","hidden_size":8}"#;

fn model_repo() -> MockRepo {
    MockRepo::new(
        "org/model",
        vec![
            MockFile::new("config.json", CONFIG, false),
            MockFile::new("model.safetensors", &weights(100_000, 1), true),
            MockFile::new("pytorch_model.bin", &weights(5_000, 2), true),
            MockFile::new("tokenizer.json", br#"{"version":"1.0"}"#, false),
            MockFile::new("vocab.txt", b"[PAD]\n[UNK]\nC\n", false),
            MockFile::new("sub/dir/extra.txt", b"extra", false),
            MockFile::new("README.md", b"# model", false),
        ],
    )
}

fn repo(s: &str) -> RepoRef {
    RepoRef::parse(s).unwrap()
}

fn repo_dir(cache: &Path, id: &str) -> PathBuf {
    cache.join(format!("models--{}", id.replace('/', "--")))
}

/// Every file name under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    fn walk(base: &Path, d: &Path, out: &mut Vec<String>) {
        for e in fs::read_dir(d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() && !p.is_symlink() {
                walk(base, &p, out);
            } else {
                out.push(
                    p.strip_prefix(base)
                        .unwrap()
                        .to_string_lossy()
                        .replace('\\', "/"),
                );
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out);
    out.sort();
    out
}

#[test]
fn download_writes_huggingface_cache_layout() {
    let r = model_repo();
    let c = r.main_commit();
    let w = weights(100_000, 1);
    let hubd = MockHub::start(vec![r]);
    let cache = tempfile::tempdir().unwrap();
    let hub = Hub::new(config(&hubd.endpoint(), cache.path()).with_token(Some(GOOD_TOKEN)));

    let p = hub
        .file(&repo("hf:org/model"), "model.safetensors")
        .unwrap();
    let root = repo_dir(cache.path(), "org/model");
    let sha = sha256_hex(&w);
    assert_eq!(p, root.join("snapshots").join(&c).join("model.safetensors"));
    assert_eq!(
        fs::read_link(&p).unwrap(),
        PathBuf::from(format!("../../blobs/{sha}"))
    );
    assert_eq!(fs::read(root.join("blobs").join(&sha)).unwrap(), w);
    assert_eq!(fs::read_to_string(root.join("refs/main")).unwrap(), c);

    // A non-LFS file: blob named by its (weak) ETag without `W/` and quotes.
    let p = hub.file(&repo("hf:org/model"), "config.json").unwrap();
    let etag = MockFile::new("config.json", CONFIG, false).etag();
    assert_eq!(
        fs::read_link(&p).unwrap(),
        PathBuf::from(format!("../../blobs/{etag}"))
    );
    assert_eq!(fs::read(&p).unwrap(), CONFIG);

    // A file in a sub-folder: one more `../` per level.
    let p = hub
        .file(&repo("hf:org/model"), "sub/dir/extra.txt")
        .unwrap();
    let etag = MockFile::new("x", b"extra", false).etag();
    assert_eq!(
        fs::read_link(&p).unwrap(),
        PathBuf::from(format!("../../../../blobs/{etag}"))
    );
    assert_eq!(fs::read(&p).unwrap(), b"extra");

    // Nothing but finished entries.
    let files = tree(&root);
    assert!(
        files
            .iter()
            .all(|f| !f.ends_with(".incomplete") && !f.ends_with(".tmp")),
        "{files:?}"
    );

    // The protocol: HEAD with the token and identity encoding; the CDN (another host) gets no
    // token; the Hub's own host does.
    let reqs = hubd.requests();
    let head = reqs
        .iter()
        .find(|r| r.method == "HEAD" && r.path.ends_with("/model.safetensors"))
        .unwrap();
    assert_eq!(
        head.path,
        format!("/org/model/resolve/main/model.safetensors")
    );
    assert_eq!(head.auth.as_deref(), Some("Bearer good-token"));
    assert_eq!(head.accept_encoding.as_deref(), Some("identity"));
    let cdn = hubd.gets(&format!("/cdn/{sha}"));
    assert_eq!(cdn.len(), 1);
    assert_eq!(cdn[0].auth, None, "token leaked to the CDN host");
    assert!(cdn[0].host.as_deref().unwrap().starts_with("localhost:"));
    let cfg_get = hubd.gets("/resolve/main/config.json");
    assert_eq!(cfg_get.len(), 1);
    assert_eq!(cfg_get[0].auth.as_deref(), Some("Bearer good-token"));
}

#[test]
fn cached_file_is_not_downloaded_again_and_offline_makes_no_request() {
    let hubd = MockHub::start(vec![model_repo()]);
    let cache = tempfile::tempdir().unwrap();
    let r = repo("hf:org/model");
    let hub = hub(&hubd.endpoint(), cache.path());
    let first = hub.file(&r, "model.safetensors").unwrap();
    assert_eq!(hubd.gets("").len(), 1);

    hubd.clear_log();
    let second = hub.file(&r, "model.safetensors").unwrap();
    assert_eq!(first, second);
    let reqs = hubd.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    assert_eq!(reqs[0].method, "HEAD");

    hubd.clear_log();
    let offline = Hub::new(config(&hubd.endpoint(), cache.path()).with_offline(true));
    assert_eq!(offline.file(&r, "model.safetensors").unwrap(), first);
    assert!(hubd.requests().is_empty());
}

#[test]
fn revisions_by_branch_and_by_commit() {
    let dev_config = br#"{"model_type":"dev"}"#;
    let r = model_repo().with_branch("dev", vec![MockFile::new("config.json", dev_config, false)]);
    let main_c = r.main_commit();
    let dev_c = commit("org/model dev");
    let hubd = MockHub::start(vec![r]);
    let cache = tempfile::tempdir().unwrap();
    let hub = hub(&hubd.endpoint(), cache.path());
    let root = repo_dir(cache.path(), "org/model");

    let p = hub.file(&repo("hf:org/model@dev"), "config.json").unwrap();
    assert_eq!(fs::read(&p).unwrap(), dev_config);
    assert_eq!(p, root.join("snapshots").join(&dev_c).join("config.json"));
    assert_eq!(fs::read_to_string(root.join("refs/dev")).unwrap(), dev_c);

    // A commit hash is its own revision: no refs file for it.
    let p = hub
        .file(&repo(&format!("hf:org/model@{main_c}")), "config.json")
        .unwrap();
    assert_eq!(fs::read(&p).unwrap(), CONFIG);
    assert!(!root.join("refs").join(&main_c).exists());
    assert!(hubd
        .requests()
        .iter()
        .any(|q| q.path == format!("/org/model/resolve/{main_c}/config.json")));

    // A revision with `/` is percent-encoded in the URL and nested under refs/.
    let r2 = model_repo().with_branch(
        "refs/pr/1",
        vec![MockFile::new("config.json", b"{}", false)],
    );
    let hubd2 = MockHub::start(vec![r2]);
    let hub2 = crate::hub(&hubd2.endpoint(), cache.path());
    hub2.file(&repo("hf:org/model@refs/pr/1"), "config.json")
        .unwrap();
    assert!(hubd2
        .requests()
        .iter()
        .any(|q| q.path == "/org/model/resolve/refs%2Fpr%2F1/config.json"));
    assert_eq!(
        fs::read_to_string(root.join("refs/refs/pr/1")).unwrap(),
        commit("org/model refs/pr/1")
    );
}

#[test]
fn not_found_errors_are_distinct() {
    let hubd = MockHub::start(vec![model_repo()]);
    let cache = tempfile::tempdir().unwrap();
    let hub = hub(&hubd.endpoint(), cache.path());

    let e = hub.file(&repo("hf:org/nope"), "config.json").unwrap_err();
    assert!(
        matches!(e, HubError::RepoNotFound { ref repo, .. } if repo == "org/nope"),
        "{e:?}"
    );

    let e = hub
        .file(&repo("hf:org/model@v9"), "config.json")
        .unwrap_err();
    assert!(
        matches!(e, HubError::RevisionNotFound { ref revision, .. } if revision == "v9"),
        "{e:?}"
    );

    let e = hub.file(&repo("hf:org/model"), "merges.txt").unwrap_err();
    assert!(
        matches!(e, HubError::EntryNotFound { ref filename, .. } if filename == "merges.txt"),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "file merges.txt not found in org/model at revision main"
    );
    // Remembered as absent (huggingface_hub's .no_exist), so offline says "not found" too.
    let c = commit("org/model main");
    let root = repo_dir(cache.path(), "org/model");
    assert!(root.join(".no_exist").join(&c).join("merges.txt").is_file());
    let offline = Hub::new(config(&hubd.endpoint(), cache.path()).with_offline(true));
    assert!(matches!(
        offline.file(&repo("hf:org/model"), "merges.txt"),
        Err(HubError::EntryNotFound { .. })
    ));
}

#[test]
fn gated_repository_needs_a_good_token() {
    let mut r = MockRepo::new(
        "org/gated",
        vec![MockFile::new("config.json", CONFIG, false)],
    );
    r.gated = true;
    let hubd = MockHub::start(vec![r]);
    let cache = tempfile::tempdir().unwrap();
    let rr = repo("hf:org/gated");

    let e = hub(&hubd.endpoint(), cache.path())
        .file(&rr, "config.json")
        .unwrap_err();
    assert!(matches!(e, HubError::AuthRequired { .. }), "{e:?}");
    assert!(
        e.to_string().starts_with(
            "repository org/gated needs authentication (gated or private): set HF_TOKEN"
        ),
        "{e}"
    );

    let bad = Hub::new(config(&hubd.endpoint(), cache.path()).with_token(Some("bad-token")));
    let e = bad.file(&rr, "config.json").unwrap_err();
    assert!(matches!(e, HubError::TokenRejected { .. }), "{e:?}");
    assert!(
        e.to_string()
            .starts_with("the token was rejected for org/gated"),
        "{e}"
    );

    let good = Hub::new(config(&hubd.endpoint(), cache.path()).with_token(Some(GOOD_TOKEN)));
    let p = good.file(&rr, "config.json").unwrap();
    assert_eq!(fs::read(p).unwrap(), CONFIG);
}

#[test]
fn interrupted_download_is_resumed_with_range_on_the_next_call() {
    let w = weights(100_000, 1);
    let sha = sha256_hex(&w);
    let hubd = MockHub::start(vec![model_repo()]);
    hubd.interrupt("model.safetensors", 1);
    let cache = tempfile::tempdir().unwrap();
    let mut cfg = config(&hubd.endpoint(), cache.path());
    cfg.download_retries = 0;
    let hub = Hub::new(cfg);
    let r = repo("hf:org/model");

    let e = hub.file(&r, "model.safetensors").unwrap_err();
    assert!(matches!(e, HubError::Connection { .. }), "{e:?}");
    assert!(
        e.to_string()
            .contains("interrupted after 50000 of 100000 bytes"),
        "{e}"
    );
    let incomplete = repo_dir(cache.path(), "org/model")
        .join("blobs")
        .join(format!("{sha}.incomplete"));
    assert_eq!(fs::metadata(&incomplete).unwrap().len(), 50_000);

    let p = hub.file(&r, "model.safetensors").unwrap();
    assert_eq!(fs::read(&p).unwrap(), w);
    assert!(!incomplete.exists());
    let gets = hubd.gets(&format!("/cdn/{sha}"));
    assert_eq!(gets.len(), 2);
    assert_eq!(gets[0].range, None);
    assert_eq!(gets[1].range.as_deref(), Some("bytes=50000-"));
}

#[test]
fn interrupted_download_is_resumed_within_the_call() {
    let w = weights(100_000, 1);
    let hubd = MockHub::start(vec![model_repo()]);
    hubd.interrupt("model.safetensors", 2);
    let cache = tempfile::tempdir().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let s2 = seen.clone();
    let hub = hub(&hubd.endpoint(), cache.path()).with_progress(
        move |f: &str, done: u64, total: Option<u64>| {
            s2.lock().unwrap().push((f.to_string(), done, total));
        },
    );
    let p = hub
        .file(&repo("hf:org/model"), "model.safetensors")
        .unwrap();
    assert_eq!(fs::read(&p).unwrap(), w);
    let ranges: Vec<_> = hubd.gets("").into_iter().map(|r| r.range).collect();
    // 100000 → cut at 50000; resumed 50000.. → cut after 25000 more; resumed 75000...
    assert_eq!(
        ranges,
        [
            None,
            Some("bytes=50000-".into()),
            Some("bytes=75000-".into())
        ]
    );
    let seen = seen.lock().unwrap();
    let last = seen.last().unwrap();
    assert_eq!(last, &("model.safetensors".into(), 100_000, Some(100_000)));
    assert!(seen.windows(2).all(|w| w[0].1 <= w[1].1));
}

#[test]
fn corrupt_download_is_retried_once_then_reported() {
    let w = weights(100_000, 1);
    let sha = sha256_hex(&w);
    let hubd = MockHub::start(vec![model_repo()]);
    hubd.corrupt("model.safetensors");
    let cache = tempfile::tempdir().unwrap();
    let hub = hub(&hubd.endpoint(), cache.path());

    let e = hub
        .file(&repo("hf:org/model"), "model.safetensors")
        .unwrap_err();
    let mut bad = w.clone();
    bad[0] ^= 0xff;
    match &e {
        HubError::Checksum {
            filename,
            kind,
            expected,
            actual,
            ..
        } => {
            assert_eq!(filename, "model.safetensors");
            assert_eq!(*kind, "sha256");
            assert_eq!(expected, &sha);
            assert_eq!(actual, &sha256_hex(&bad));
        }
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().contains("model.safetensors"));
    assert_eq!(hubd.gets(&sha).len(), 2);
    let blobs = tree(&repo_dir(cache.path(), "org/model").join("blobs"));
    assert!(blobs.is_empty(), "bad bytes left behind: {blobs:?}");
}

#[test]
fn corrupt_or_truncated_cached_blob_is_fetched_again() {
    let w = weights(100_000, 1);
    let sha = sha256_hex(&w);
    let hubd = MockHub::start(vec![model_repo()]);
    let cache = tempfile::tempdir().unwrap();
    let r = repo("hf:org/model");
    hub(&hubd.endpoint(), cache.path())
        .file(&r, "model.safetensors")
        .unwrap();
    hub(&hubd.endpoint(), cache.path())
        .file(&r, "config.json")
        .unwrap();
    let blobs = repo_dir(cache.path(), "org/model").join("blobs");

    // Same size, different bytes: only the sha256 can tell.
    let mut bad = w.clone();
    bad[500] ^= 1;
    fs::write(blobs.join(&sha), &bad).unwrap();
    // A truncated non-LFS blob: the size tells.
    let cfg_etag = MockFile::new("config.json", CONFIG, false).etag();
    fs::write(blobs.join(&cfg_etag), &CONFIG[..5]).unwrap();

    hubd.clear_log();
    let fresh = hub(&hubd.endpoint(), cache.path());
    let p = fresh.file(&r, "model.safetensors").unwrap();
    assert_eq!(fs::read(&p).unwrap(), w);
    let p = fresh.file(&r, "config.json").unwrap();
    assert_eq!(fs::read(&p).unwrap(), CONFIG);
    assert_eq!(hubd.gets(&sha).len(), 1);
    assert_eq!(hubd.gets("/config.json").len(), 1);

    // Offline, a damaged LFS blob cannot be replaced: a clear error.
    fs::write(blobs.join(&sha), &bad).unwrap();
    let offline = Hub::new(config(&hubd.endpoint(), cache.path()).with_offline(true));
    let e = offline.file(&r, "model.safetensors").unwrap_err();
    assert!(matches!(e, HubError::CorruptCache { .. }), "{e:?}");
}

/// Builds what `huggingface_hub.snapshot_download` leaves behind, by hand.
fn python_cache(cache: &Path, id: &str, commit: &str, files: &[(&str, &[u8], bool)]) -> PathBuf {
    let root = repo_dir(cache, id);
    fs::create_dir_all(root.join("blobs")).unwrap();
    fs::create_dir_all(root.join("refs")).unwrap();
    fs::write(root.join("refs/main"), commit).unwrap();
    let snap = root.join("snapshots").join(commit);
    for (name, bytes, lfs) in files {
        let etag = MockFile::new(name, bytes, *lfs).etag();
        fs::write(root.join("blobs").join(&etag), bytes).unwrap();
        let link = snap.join(name);
        fs::create_dir_all(link.parent().unwrap()).unwrap();
        let depth = name.split('/').count() + 1;
        std::os::unix::fs::symlink(format!("{}blobs/{etag}", "../".repeat(depth)), &link).unwrap();
    }
    snap
}

#[test]
fn cache_written_by_python_is_used_offline() {
    let hubd = MockHub::start(vec![]);
    let cache = tempfile::tempdir().unwrap();
    let c = commit("python");
    let w = weights(10_000, 3);
    let snap = python_cache(
        cache.path(),
        "org/pymodel",
        &c,
        &[
            ("config.json", CONFIG, false),
            ("model.safetensors", &w, true),
            ("tokenizer.json", b"{}", false),
        ],
    );
    let offline = Hub::new(config(&hubd.endpoint(), cache.path()).with_offline(true));
    let r = repo("hf:org/pymodel");
    assert_eq!(offline.model_snapshot(&r).unwrap(), snap);
    assert_eq!(
        fs::read(offline.file(&r, "model.safetensors").unwrap()).unwrap(),
        w
    );
    let by_commit = repo(&format!("hf:org/pymodel@{c}"));
    assert_eq!(offline.model_snapshot(&by_commit).unwrap(), snap);
    assert!(hubd.requests().is_empty());

    // Also through resolve_model_dir with an unreachable Hub.
    let down = hub(&dead_endpoint(), cache.path());
    assert_eq!(
        resolve_model_dir_with(&down, "hf:org/pymodel").unwrap(),
        snap
    );
}

#[test]
fn offline_missing_file_says_so() {
    let cache = tempfile::tempdir().unwrap();
    python_cache(
        cache.path(),
        "org/pymodel",
        &commit("python"),
        &[("config.json", CONFIG, false)],
    );
    let offline = Hub::new(config(&dead_endpoint(), cache.path()).with_offline(true));
    let r = repo("hf:org/pymodel");
    let e = offline.file(&r, "vocab.txt").unwrap_err();
    assert!(matches!(e, HubError::NotCached { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.starts_with("file vocab.txt of org/pymodel at revision main is not in the cache")
            && msg.contains("offline (HF_HUB_OFFLINE is set)"),
        "{msg}"
    );
    // The snapshot lacks weights.
    let e = offline.model_snapshot(&r).unwrap_err().to_string();
    assert!(
        e.contains("the model snapshot (missing weights") && e.contains("HF_HUB_OFFLINE"),
        "{e}"
    );
    // An unknown repository offline.
    let e = offline.model_snapshot(&repo("hf:org/other")).unwrap_err();
    assert!(matches!(e, HubError::NotCached { .. }), "{e:?}");
}

#[test]
fn unreachable_hub_falls_back_to_the_cache() {
    let hubd = MockHub::start(vec![model_repo()]);
    let cache = tempfile::tempdir().unwrap();
    let r = repo("hf:org/model");
    let snap = hub(&hubd.endpoint(), cache.path())
        .model_snapshot(&r)
        .unwrap();

    let down = hub(&dead_endpoint(), cache.path());
    assert_eq!(
        down.file(&r, "config.json").unwrap(),
        snap.join("config.json")
    );
    assert_eq!(down.model_snapshot(&r).unwrap(), snap);
    let e = down.file(&r, "merges.txt").unwrap_err();
    assert!(matches!(e, HubError::NotCached { .. }), "{e:?}");
    assert!(e.to_string().contains("cannot be reached"), "{e}");
    // A revision the cache never saw.
    let e = down.model_snapshot(&repo("hf:org/model@dev")).unwrap_err();
    assert!(e.to_string().contains("cannot be reached"), "{e}");
}

#[test]
fn model_snapshot_picks_safetensors_and_aux_files() {
    let hubd = MockHub::start(vec![model_repo()]);
    let cache = tempfile::tempdir().unwrap();
    let r = repo("hf:org/model");
    let snap = hub(&hubd.endpoint(), cache.path())
        .model_snapshot(&r)
        .unwrap();
    assert_eq!(
        snap,
        repo_dir(cache.path(), "org/model")
            .join("snapshots")
            .join(commit("org/model main"))
    );
    assert_eq!(
        tree(&snap),
        [
            "config.json",
            "model.safetensors",
            "tokenizer.json",
            "vocab.txt"
        ]
    );
    assert!(hubd.gets("pytorch_model.bin").is_empty());
    assert_eq!(hubd.gets("/api/models/org/model/revision/main").len(), 1);
    // Files are fetched at the listed commit, not at the moving branch.
    let c = commit("org/model main");
    assert!(hubd
        .requests()
        .iter()
        .filter(|q| q.method == "HEAD")
        .all(|q| q.path.starts_with(&format!("/org/model/resolve/{c}/"))));
}

#[test]
fn model_snapshot_sharded_safetensors() {
    let s1 = weights(30_000, 4);
    let s2 = weights(20_000, 5);
    let index = br#"{"metadata":{"total_size":50000},"weight_map":{
        "a.weight":"model-00001-of-00002.safetensors",
        "b.weight":"model-00002-of-00002.safetensors",
        "c.weight":"model-00001-of-00002.safetensors"}}"#;
    let r = MockRepo::new(
        "org/sharded",
        vec![
            MockFile::new("config.json", CONFIG, false),
            MockFile::new("model.safetensors.index.json", index, false),
            MockFile::new("model-00001-of-00002.safetensors", &s1, true),
            MockFile::new("model-00002-of-00002.safetensors", &s2, true),
            MockFile::new("pytorch_model.bin.index.json", b"{}", false),
            MockFile::new("merges.txt", b"a b\n", false),
        ],
    );
    let hubd = MockHub::start(vec![r]);
    let cache = tempfile::tempdir().unwrap();
    let snap = hub(&hubd.endpoint(), cache.path())
        .model_snapshot(&repo("hf:org/sharded"))
        .unwrap();
    assert_eq!(
        tree(&snap),
        [
            "config.json",
            "merges.txt",
            "model-00001-of-00002.safetensors",
            "model-00002-of-00002.safetensors",
            "model.safetensors.index.json"
        ]
    );
    assert_eq!(
        fs::read(snap.join("model-00002-of-00002.safetensors")).unwrap(),
        s2
    );
    assert!(hubd.gets("pytorch_model.bin.index.json").is_empty());

    // Offline, the same snapshot is complete; without a shard it is not.
    let offline = Hub::new(config(&hubd.endpoint(), cache.path()).with_offline(true));
    assert_eq!(
        offline.model_snapshot(&repo("hf:org/sharded")).unwrap(),
        snap
    );
    fs::remove_file(snap.join("model-00002-of-00002.safetensors")).unwrap();
    let e = offline
        .model_snapshot(&repo("hf:org/sharded"))
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("missing model-00002-of-00002.safetensors"),
        "{e}"
    );
}

#[test]
fn model_snapshot_falls_back_to_pytorch_bin() {
    let bin = weights(8_000, 6);
    let r = MockRepo::new(
        "org/old",
        vec![
            MockFile::new("config.json", CONFIG, false),
            MockFile::new("pytorch_model.bin", &bin, true),
            MockFile::new("vocab.json", b"{}", false),
            MockFile::new("merges.txt", b"a b\n", false),
            MockFile::new("special_tokens_map.json", b"{}", false),
        ],
    );
    let hubd = MockHub::start(vec![r]);
    let cache = tempfile::tempdir().unwrap();
    let snap = hub(&hubd.endpoint(), cache.path())
        .model_snapshot(&repo("hf:org/old"))
        .unwrap();
    assert_eq!(
        tree(&snap),
        [
            "config.json",
            "merges.txt",
            "pytorch_model.bin",
            "special_tokens_map.json",
            "vocab.json"
        ]
    );
    assert_eq!(fs::read(snap.join("pytorch_model.bin")).unwrap(), bin);
}

#[test]
fn model_snapshot_rejects_repositories_without_config_or_weights() {
    let no_config = MockRepo::new(
        "org/noconfig",
        vec![MockFile::new("model.safetensors", b"x", true)],
    );
    let no_weights = MockRepo::new(
        "org/noweights",
        vec![MockFile::new("config.json", CONFIG, false)],
    );
    let hubd = MockHub::start(vec![no_config, no_weights]);
    let cache = tempfile::tempdir().unwrap();
    let hub = hub(&hubd.endpoint(), cache.path());
    let e = hub.model_snapshot(&repo("hf:org/noconfig")).unwrap_err();
    assert!(matches!(e, HubError::NotAModel { .. }), "{e:?}");
    assert!(e.to_string().contains("no config.json"), "{e}");
    let e = hub.model_snapshot(&repo("hf:org/noweights")).unwrap_err();
    assert!(e.to_string().contains("no weights"), "{e}");
    let e = hub.model_snapshot(&repo("hf:org/missing")).unwrap_err();
    assert!(matches!(e, HubError::RepoNotFound { .. }), "{e:?}");
}

#[test]
fn renamed_repository_relative_redirect_is_followed() {
    let hubd = MockHub::start(vec![model_repo()]);
    hubd.rename("old/name", "org/model");
    let cache = tempfile::tempdir().unwrap();
    let p = hub(&hubd.endpoint(), cache.path())
        .file(&repo("hf:old/name"), "model.safetensors")
        .unwrap();
    assert_eq!(fs::read(&p).unwrap(), weights(100_000, 1));
    assert!(p.starts_with(repo_dir(cache.path(), "old/name")));
    let heads: Vec<_> = hubd
        .requests()
        .into_iter()
        .filter(|q| q.method == "HEAD")
        .map(|q| q.path)
        .collect();
    assert_eq!(
        heads,
        [
            "/old/name/resolve/main/model.safetensors",
            "/org/model/resolve/main/model.safetensors"
        ]
    );
}

#[test]
fn cached_lfs_blob_is_hashed_once_per_hub_unless_asked_always() {
    let w = weights(100_000, 1);
    let sha = sha256_hex(&w);
    let hubd = MockHub::start(vec![model_repo()]);
    let cache = tempfile::tempdir().unwrap();
    let r = repo("hf:org/model");
    let once = hub(&hubd.endpoint(), cache.path());
    let p = once.file(&r, "model.safetensors").unwrap();
    let blob = repo_dir(cache.path(), "org/model").join("blobs").join(&sha);
    let mut bad = w.clone();
    bad[7] ^= 1;
    fs::write(&blob, &bad).unwrap();

    // Already verified by this client: same size, not hashed again, no GET.
    assert_eq!(once.file(&r, "model.safetensors").unwrap(), p);
    assert_eq!(hubd.gets(&sha).len(), 1);

    let mut cfg = config(&hubd.endpoint(), cache.path());
    cfg.verify_cached = CacheVerify::HashAlways;
    let always = Hub::new(cfg);
    assert_eq!(
        fs::read(always.file(&r, "model.safetensors").unwrap()).unwrap(),
        w
    );
    assert_eq!(hubd.gets(&sha).len(), 2);
    assert_eq!(
        fs::read(always.file(&r, "model.safetensors").unwrap()).unwrap(),
        w
    );
    assert_eq!(hubd.gets(&sha).len(), 2);
}

#[test]
fn file_names_cannot_leave_the_snapshot() {
    let hubd = MockHub::start(vec![model_repo()]);
    let cache = tempfile::tempdir().unwrap();
    let hub = hub(&hubd.endpoint(), cache.path());
    for bad in ["../config.json", "/etc/passwd", "a/../../b"] {
        let e = hub.file(&repo("hf:org/model"), bad).unwrap_err();
        assert!(
            matches!(e, HubError::InvalidFilename { .. }),
            "{bad}: {e:?}"
        );
    }
    assert!(hubd.requests().is_empty());
}
