//! Downloads with SHA-256 checks, from `file://` URLs and from a tiny HTTP server on 127.0.0.1
//! (never the internet), and the registry resolver fetching into a cache through a mirror.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::Path;
use std::thread;

use chemlm_data::download::{fetch, sha256_bytes, sha256_file};
use chemlm_data::registry::{find, Location, Resolver};
use chemlm_data::DataError;

/// Serves `body` (with `status`) to every connection until `max` requests were answered.
fn serve(
    body: Vec<u8>,
    status: &'static str,
    max: usize,
) -> (String, thread::JoinHandle<Vec<String>>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let h = thread::spawn(move || {
        let mut paths = Vec::new();
        for stream in listener.incoming().take(max) {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut request_line = String::new();
            reader.read_line(&mut request_line).unwrap();
            paths.push(
                request_line
                    .split_whitespace()
                    .nth(1)
                    .unwrap_or("")
                    .to_string(),
            );
            loop {
                let mut l = String::new();
                if reader.read_line(&mut l).unwrap() == 0 || l == "\r\n" {
                    break;
                }
            }
            write!(
                stream,
                "HTTP/1.1 {status}\r\nContent-Length: {}\r\nContent-Type: text/csv\r\nConnection: close\r\n\r\n",
                body.len()
            )
            .unwrap();
            stream.write_all(&body).unwrap();
            stream.flush().unwrap();
        }
        paths
    });
    (format!("http://{addr}"), h)
}

const BODY: &[u8] = b"smiles,y\nCCO,1\nc1ccccc1,0\n";

#[test]
fn http_download_with_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let good = sha256_bytes(BODY);
    let (base, server) = serve(BODY.to_vec(), "200 OK", 2);
    let dest = dir.path().join("cache/molnet/x.csv");
    let got = fetch(&format!("{base}/data/x.csv"), &dest, Some(&good)).unwrap();
    assert_eq!(got, good);
    assert_eq!(std::fs::read(&dest).unwrap(), BODY);
    // Mismatch: an error that names both hashes, and nothing written.
    let dest2 = dir.path().join("cache/molnet/y.csv");
    let wrong = "0".repeat(64);
    let err = fetch(&format!("{base}/data/y.csv"), &dest2, Some(&wrong)).unwrap_err();
    match &err {
        DataError::Checksum {
            expected,
            actual,
            what,
        } => {
            assert_eq!(
                (expected.as_str(), actual.as_str()),
                (wrong.as_str(), good.as_str())
            );
            assert!(what.ends_with("/data/y.csv"));
        }
        e => panic!("{e}"),
    }
    assert!(!dest2.exists());
    assert_eq!(
        std::fs::read_dir(dest2.parent().unwrap()).unwrap().count(),
        1,
        "temp file left"
    );
    assert_eq!(server.join().unwrap(), ["/data/x.csv", "/data/y.csv"]);
}

#[test]
fn http_errors_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let (base, server) = serve(b"not here".to_vec(), "404 Not Found", 1);
    let err = fetch(
        &format!("{base}/missing.csv"),
        &dir.path().join("m.csv"),
        None,
    )
    .unwrap_err();
    assert!(matches!(err, DataError::Download { .. }), "{err}");
    assert!(err.to_string().contains("404"), "{err}");
    server.join().unwrap();
    let err = fetch("ftp://example.org/x", &dir.path().join("f"), None).unwrap_err();
    assert!(err.to_string().contains("only http"), "{err}");
}

#[test]
fn file_url_download_with_checksum() {
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("src.csv");
    std::fs::write(&src, BODY).unwrap();
    let url = format!("file://{}", src.display());
    let dest = dir.path().join("out/copy.csv");
    fetch(&url, &dest, Some(&sha256_bytes(BODY))).unwrap();
    assert_eq!(sha256_file(&dest).unwrap(), sha256_bytes(BODY));
    let err = fetch(
        &url,
        &dir.path().join("out/bad.csv"),
        Some(&"ab".repeat(32)),
    )
    .unwrap_err();
    assert!(err.to_string().contains("checksum mismatch"), "{err}");
    assert!(fetch("file:///no/such/file", &dir.path().join("n"), None).is_err());
}

/// The resolver downloads a registered data set into the cache through a `file://` mirror laid
/// out like `CHEMLM_DATA_DIR`, checks the registry's SHA-256, then finds it in the cache.
#[test]
fn resolver_downloads_into_cache() {
    let Some(data) = std::env::var_os("CHEMLM_DATA_DIR") else {
        eprintln!("skipped: CHEMLM_DATA_DIR is not set");
        return;
    };
    let info = find("freesolv").unwrap();
    if !Path::new(&data).join(info.file).is_file() {
        eprintln!("skipped: {} not found", info.file);
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let r = Resolver {
        data_dir: None,
        cache_dir: Some(cache.path().to_path_buf()),
        mirror: Some(format!("file://{}", Path::new(&data).display())),
        allow_download: true,
    };
    assert!(r.locate(info).is_none());
    let p = r.resolve(info).unwrap();
    assert_eq!(p, cache.path().join(info.file));
    assert_eq!(sha256_file(&p).unwrap(), info.sha256);
    assert!(matches!(r.locate(info), Some(Location::Cache(_))));
    // A mirror with different bytes under the same name is refused.
    let fake = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(fake.path().join("molnet")).unwrap();
    std::fs::write(fake.path().join(info.file), b"smiles,freesolv\nC,1\n").unwrap();
    let r2 = Resolver {
        cache_dir: Some(fake.path().join("cache")),
        mirror: Some(format!("file://{}", fake.path().display())),
        ..r
    };
    let err = r2.resolve(info).unwrap_err().to_string();
    assert!(err.contains("checksum mismatch"), "{err}");
}
