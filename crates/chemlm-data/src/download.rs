//! Fetching files over `http(s)://` (with `ureq`) or from `file://` URLs, verified by SHA-256
//! before they are put in place.

use std::fs::File;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use sha2::{Digest, Sha256};

use crate::atomic::AtomicFile;
use crate::error::DataError;

/// Lower-case hex SHA-256 of a file's bytes.
pub fn sha256_file(path: &Path) -> Result<String, DataError> {
    let mut f = File::open(path).map_err(|e| DataError::io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| DataError::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex::encode(h.finalize()))
}

/// Lower-case hex SHA-256 of bytes.
pub fn sha256_bytes(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The local path of a `file://` URL (`file:///abs/path` or `file://localhost/abs/path`).
fn file_url_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("file://")?;
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    rest.starts_with('/')
        .then(|| PathBuf::from(percent_decode(rest)))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            if let Ok(v) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Downloads `url` to `dest` atomically. With `sha256`, the bytes must hash to it, otherwise
/// nothing is written and a [`DataError::Checksum`] names the URL and both hashes. Returns the
/// SHA-256 of what was written.
pub fn fetch(url: &str, dest: &Path, sha256: Option<&str>) -> Result<String, DataError> {
    let fail = |reason: String| DataError::Download {
        url: url.to_string(),
        reason,
    };
    let mut reader: Box<dyn Read> = if let Some(p) = file_url_path(url) {
        Box::new(File::open(&p).map_err(|e| fail(format!("{}: {e}", p.display())))?)
    } else if url.starts_with("http://") || url.starts_with("https://") {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_connect(Some(Duration::from_secs(30)))
            .timeout_recv_body(Some(Duration::from_secs(120)))
            .build()
            .into();
        let resp = agent.get(url).call().map_err(|e| fail(e.to_string()))?;
        Box::new(resp.into_body().into_reader())
    } else {
        return Err(fail(
            "only http://, https:// and file:// URLs are supported".into(),
        ));
    };
    let mut out = AtomicFile::create(dest)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(fail(e.to_string())),
        };
        h.update(&buf[..n]);
        out.write_all(&buf[..n])?;
    }
    let actual = hex::encode(h.finalize());
    if let Some(expected) = sha256 {
        if !actual.eq_ignore_ascii_case(expected) {
            // `out` is dropped uncommitted: the temporary file is removed.
            return Err(DataError::Checksum {
                what: url.to_string(),
                expected: expected.to_ascii_lowercase(),
                actual,
            });
        }
    }
    out.commit()?;
    Ok(actual)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_urls() {
        assert_eq!(
            file_url_path("file:///a/b%20c.csv"),
            Some(PathBuf::from("/a/b c.csv"))
        );
        assert_eq!(
            file_url_path("file://localhost/x"),
            Some(PathBuf::from("/x"))
        );
        assert_eq!(file_url_path("file://relative"), None);
        assert_eq!(file_url_path("http://x"), None);
        assert_eq!(percent_decode("100%"), "100%");
    }

    #[test]
    fn known_digest() {
        assert_eq!(
            sha256_bytes(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
