//! The Hub's HTTP protocol, as `huggingface_hub` speaks it:
//!
//! - metadata: `HEAD {endpoint}/{repo}/resolve/{revision}/{filename}` with `Accept-Encoding:
//!   identity` (so `Content-Length` is the file size), redirects not followed except relative
//!   ones (a renamed repository); the Hub's own answer carries `X-Repo-Commit`,
//!   `X-Linked-Etag`/`ETag` and `X-Linked-Size`/`Content-Length` even when it redirects an LFS
//!   file to a CDN;
//! - download: `GET` of the location from that answer, with `Range: bytes=N-` to resume, and no
//!   `Authorization` header once the URL leaves the endpoint's host (a presigned CDN URL must
//!   not receive the user's token);
//! - listing: `GET {endpoint}/api/models/{repo}/revision/{revision}` → `sha`, `siblings`.
//!
//! HTTP statuses become [`HubError`] variants by the Hub's `X-Error-Code` header.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::Path;
use std::time::Duration;

use sha2::{Digest, Sha256};
use ureq::http::Response;
use ureq::{Agent, Body};

use crate::cache::{hash_reader, is_safe_component};
use crate::config::HubConfig;
use crate::error::HubError;
use crate::progress::Progress;
use crate::repo::RepoRef;

/// Sent as `User-Agent`, so that Hub-side logs can tell this client apart.
const USER_AGENT: &str = concat!("chemlm-hub/", env!("CARGO_PKG_VERSION"));

/// Redirect hops followed by hand before giving up.
const MAX_REDIRECTS: usize = 10;

/// What the metadata call says about one file at one revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct FileMetadata {
    /// `X-Repo-Commit`: the commit the revision resolved to.
    pub commit: String,
    /// `X-Linked-Etag` else `ETag`, without `W/` and quotes: the blob's name in the cache (the
    /// sha256 of LFS files, the git blob id of others).
    pub etag: String,
    /// `X-Linked-Size` else `Content-Length`.
    pub size: Option<u64>,
    /// Where to GET the bytes: the redirect target (CDN) or the resolve URL itself.
    pub location: String,
}

/// A failed metadata call, with the commit the Hub reported even on a 404 (used to remember
/// that a file does not exist at that commit).
#[derive(Debug)]
pub(crate) struct HeadFailure {
    /// Boxed: keeps the `Result` small.
    pub error: Box<HubError>,
    pub commit: Option<String>,
}

/// The listing of a repository at one revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RepoInfo {
    /// The commit hash the revision resolved to.
    pub sha: String,
    /// Every file in the repository at that commit (`siblings[].rfilename`).
    pub files: Vec<String>,
}

#[derive(serde::Deserialize)]
struct RawRepoInfo {
    sha: String,
    #[serde(default)]
    siblings: Vec<RawSibling>,
}

#[derive(serde::Deserialize)]
struct RawSibling {
    rfilename: String,
}

/// One file download into `blobs/{etag}.incomplete`.
pub(crate) struct Download<'a> {
    pub repo: &'a RepoRef,
    pub filename: &'a str,
    pub url: &'a str,
    pub incomplete: &'a Path,
    pub expected_size: Option<u64>,
    pub progress: &'a dyn Progress,
}

/// The HTTP side of a [`crate::Hub`].
pub(crate) struct HubHttp {
    endpoint: String,
    token: Option<String>,
    /// HEAD and listing: short limits (`HF_HUB_ETAG_TIMEOUT`).
    meta: Agent,
    /// File bodies: a limit per read, none on the whole transfer (`HF_HUB_DOWNLOAD_TIMEOUT`).
    data: Agent,
    retries: u32,
    retry_pause: Duration,
}

impl HubHttp {
    pub fn new(cfg: &HubConfig) -> Self {
        let agent = |t: Duration| -> Agent {
            Agent::config_builder()
                .http_status_as_error(false)
                .max_redirects(0)
                .user_agent(USER_AGENT)
                .timeout_connect(Some(t))
                .timeout_recv_response(Some(t))
                .timeout_per_read(Some(t))
                .build()
                .into()
        };
        Self {
            endpoint: cfg.endpoint.clone(),
            token: cfg.token.clone(),
            meta: agent(cfg.etag_timeout),
            data: agent(cfg.download_timeout),
            retries: cfg.download_retries,
            retry_pause: cfg.retry_pause,
        }
    }

    /// `{endpoint}/{repo}/resolve/{revision}/{filename}` (huggingface_hub's `hf_hub_url`).
    pub fn resolve_url(&self, repo: &RepoRef, filename: &str) -> String {
        format!(
            "{}/{}/resolve/{}/{}",
            self.endpoint,
            repo.repo_id(),
            quote(repo.revision(), false),
            quote(filename, true)
        )
    }

    /// `HEAD` of a file: its commit, etag, size and download location.
    pub fn head_file(&self, repo: &RepoRef, filename: &str) -> Result<FileMetadata, HeadFailure> {
        let fail = |error| HeadFailure {
            error: Box::new(error),
            commit: None,
        };
        let mut url = self.resolve_url(repo, filename);
        let mut hops = 0;
        let resp = loop {
            let mut req = self.meta.head(&url).header("Accept-Encoding", "identity");
            if let Some(auth) = self.auth_for(&url) {
                req = req.header("Authorization", auth);
            }
            let mut resp = req.call().map_err(|e| fail(connection(&url, &e)))?;
            let status = resp.status().as_u16();
            if (300..400).contains(&status) {
                // Follow only relative redirects (a renamed repository); an absolute one is the
                // CDN location of an LFS file, whose headers are already in this answer.
                if let Some(loc) = header(&resp, "location").filter(|l| is_relative(l)) {
                    hops += 1;
                    if hops > MAX_REDIRECTS {
                        return Err(fail(HubError::BadResponse {
                            url,
                            reason: "too many redirects".into(),
                        }));
                    }
                    let path = loc.split(['?', '#']).next().unwrap_or(loc);
                    url = format!("{}{}", origin(&url), path);
                    continue;
                }
            } else if status >= 400 {
                let commit = header(&resp, "x-repo-commit").map(str::to_string);
                let error = self.status_error(&mut resp, &url, repo, Some(filename));
                return Err(HeadFailure {
                    error: Box::new(error),
                    commit,
                });
            }
            break resp;
        };

        let bad = |reason: &str| {
            fail(HubError::BadResponse {
                url: url.clone(),
                reason: reason.to_string(),
            })
        };
        let commit = header(&resp, "x-repo-commit")
            .ok_or_else(|| bad("no X-Repo-Commit header: is HF_ENDPOINT a Hugging Face Hub?"))?
            .to_string();
        if !is_safe_component(&commit) {
            return Err(bad("X-Repo-Commit is not a commit hash"));
        }
        let etag = header(&resp, "x-linked-etag")
            .or_else(|| header(&resp, "etag"))
            .map(normalize_etag)
            .ok_or_else(|| bad("no ETag header: cannot name the file in the cache"))?;
        if !is_safe_component(&etag) {
            return Err(bad("the ETag cannot be used as a file name"));
        }
        let size = match header(&resp, "x-linked-size").or_else(|| header(&resp, "content-length"))
        {
            Some(s) => Some(s.parse::<u64>().map_err(|_| bad("bad file size header"))?),
            None => None,
        };
        let location = match header(&resp, "location") {
            Some(loc) if is_relative(loc) => format!("{}{loc}", origin(&url)),
            Some(loc) => loc.to_string(),
            None => url.clone(),
        };
        Ok(FileMetadata {
            commit,
            etag,
            size,
            location,
        })
    }

    /// `GET {endpoint}/api/models/{repo}/revision/{revision}`.
    pub fn repo_info(&self, repo: &RepoRef) -> Result<RepoInfo, HubError> {
        let url = format!(
            "{}/api/models/{}/revision/{}",
            self.endpoint,
            repo.repo_id(),
            quote(repo.revision(), false)
        );
        let (mut resp, final_url) = self.get_following(&self.meta, &url, None)?;
        if resp.status().as_u16() != 200 {
            return Err(self.status_error(&mut resp, &final_url, repo, None));
        }
        let bytes = resp
            .body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_vec()
            .map_err(|e| connection(&final_url, &e))?;
        let raw: RawRepoInfo =
            serde_json::from_slice(&bytes).map_err(|e| HubError::BadResponse {
                url: final_url.clone(),
                reason: format!("not a model listing: {e}"),
            })?;
        Ok(RepoInfo {
            sha: raw.sha,
            files: raw.siblings.into_iter().map(|s| s.rfilename).collect(),
        })
    }

    /// Downloads into `d.incomplete`, resuming from what is already there, retrying a cut-off
    /// transfer `download_retries` times. Returns the sha256 of the whole file. The file is
    /// kept on a connection error, so that the next call resumes.
    pub fn download(&self, d: &Download<'_>) -> Result<String, HubError> {
        let mut attempt = 0;
        loop {
            match self.download_once(d) {
                Err(e @ HubError::Connection { .. }) if attempt < self.retries => {
                    attempt += 1;
                    tracing::warn!("{e}; resuming (retry {attempt} of {})", self.retries);
                    std::thread::sleep(self.retry_pause);
                }
                other => return other,
            }
        }
    }

    fn download_once(&self, d: &Download<'_>) -> Result<String, HubError> {
        let path = d.incomplete;
        let io_err = |e| HubError::io(path, e);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).map_err(|e| HubError::io(dir, e))?;
        }
        let mut have = fs::metadata(path).map(|m| m.len()).unwrap_or(0);
        if d.expected_size.is_some_and(|total| have > total) {
            have = 0;
        }
        let mut hasher = Sha256::new();
        if have > 0 {
            let mut f = File::open(path).map_err(io_err)?;
            let n = hash_reader(&mut (&mut f).take(have), &mut hasher).map_err(io_err)?;
            if n != have {
                have = 0;
                hasher = Sha256::new();
            }
        }
        if have > 0 && d.expected_size == Some(have) {
            return Ok(hex::encode(hasher.finalize()));
        }

        let (mut resp, url) = loop {
            let (resp, url) = self.get_following(&self.data, d.url, (have > 0).then_some(have))?;
            match resp.status().as_u16() {
                206 if have > 0 => {
                    let start = header(&resp, "content-range").and_then(range_start);
                    if start == Some(have) {
                        break (resp, url);
                    }
                    tracing::debug!("{url}: Content-Range does not start at {have}; restarting");
                }
                416 if have > 0 => {
                    tracing::debug!("{url}: range from {have} not satisfiable; restarting");
                }
                200 => {
                    have = 0;
                    hasher = Sha256::new();
                    break (resp, url);
                }
                _ => {
                    let mut resp = resp;
                    return Err(self.status_error(&mut resp, &url, d.repo, Some(d.filename)));
                }
            }
            // Start over from byte 0.
            have = 0;
            hasher = Sha256::new();
        };

        let mut file = OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(have == 0)
            .open(path)
            .map_err(io_err)?;
        if have > 0 {
            file.set_len(have).map_err(io_err)?;
            file = OpenOptions::new().append(true).open(path).map_err(io_err)?;
        }
        let total = d
            .expected_size
            .or_else(|| resp.body().content_length().map(|n| n + have));
        d.progress.start(d.filename, total, have);
        let mut reader = resp.body_mut().as_reader();
        let mut buf = vec![0u8; 1 << 16];
        let interrupted = |got: u64, why: &dyn std::fmt::Display| HubError::Connection {
            url: url.clone(),
            reason: format!(
                "download of {} interrupted after {got} of {} bytes ({why}); {} is kept and \
                 resumed on the next attempt",
                d.filename,
                total.map_or("?".to_string(), |t| t.to_string()),
                path.display()
            ),
        };
        loop {
            let n = match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    file.flush().map_err(io_err)?;
                    return Err(interrupted(have, &e));
                }
            };
            file.write_all(&buf[..n]).map_err(io_err)?;
            hasher.update(&buf[..n]);
            have += n as u64;
            d.progress.update(d.filename, have, total);
        }
        file.flush().map_err(io_err)?;
        if total.is_some_and(|t| have < t) {
            return Err(interrupted(have, &"connection closed early"));
        }
        d.progress.finish(d.filename);
        Ok(hex::encode(hasher.finalize()))
    }

    /// `GET`, following redirects by hand so that the token goes only to the endpoint's host.
    fn get_following(
        &self,
        agent: &Agent,
        url: &str,
        range_from: Option<u64>,
    ) -> Result<(Response<Body>, String), HubError> {
        let mut url = url.to_string();
        for _ in 0..=MAX_REDIRECTS {
            let mut req = agent.get(&url).header("Accept-Encoding", "identity");
            if let Some(auth) = self.auth_for(&url) {
                req = req.header("Authorization", auth);
            }
            if let Some(n) = range_from {
                req = req.header("Range", format!("bytes={n}-"));
            }
            let resp = req.call().map_err(|e| connection(&url, &e))?;
            let status = resp.status().as_u16();
            match header(&resp, "location") {
                Some(loc) if (300..400).contains(&status) => {
                    url = if is_relative(loc) {
                        format!("{}{loc}", origin(&url))
                    } else {
                        loc.to_string()
                    };
                }
                _ => return Ok((resp, url)),
            }
        }
        Err(HubError::BadResponse {
            url,
            reason: "too many redirects".into(),
        })
    }

    /// `Bearer TOKEN` for URLs on the endpoint's host; nothing for any other host.
    fn auth_for(&self, url: &str) -> Option<String> {
        let token = self.token.as_ref()?;
        (authority(url) == authority(&self.endpoint)).then(|| format!("Bearer {token}"))
    }

    /// An HTTP error status as the [`HubError`] the Hub's `X-Error-Code` says it is.
    fn status_error(
        &self,
        resp: &mut Response<Body>,
        url: &str,
        repo: &RepoRef,
        filename: Option<&str>,
    ) -> HubError {
        let status = resp.status().as_u16();
        let code = header(resp, "x-error-code").map(str::to_string);
        let repo_id = repo.repo_id().to_string();
        match (status, code.as_deref(), filename) {
            (401 | 403, _, _) if self.token.is_none() => HubError::AuthRequired { repo: repo_id },
            (401, _, _) => HubError::TokenRejected { repo: repo_id },
            (403, _, _) => HubError::AccessDenied { repo: repo_id },
            (404, Some("RepoNotFound"), _) => HubError::RepoNotFound {
                repo: repo_id,
                endpoint: self.endpoint.clone(),
            },
            (404, Some("RevisionNotFound"), _) => HubError::RevisionNotFound {
                repo: repo_id,
                revision: repo.revision().to_string(),
            },
            (404, _, Some(f)) => HubError::EntryNotFound {
                repo: repo_id,
                revision: repo.revision().to_string(),
                filename: f.to_string(),
            },
            (404, _, None) => HubError::RepoNotFound {
                repo: repo_id,
                endpoint: self.endpoint.clone(),
            },
            _ => HubError::Http {
                url: url.to_string(),
                status,
                message: error_message(resp),
            },
        }
    }
}

/// The Hub's explanation of an error: `X-Error-Message`, else the body's `error` field, else
/// the start of the body.
fn error_message(resp: &mut Response<Body>) -> String {
    if let Some(m) = header(resp, "x-error-message") {
        return m.to_string();
    }
    let reason = resp
        .status()
        .canonical_reason()
        .unwrap_or("error")
        .to_string();
    let body = resp
        .body_mut()
        .with_config()
        .limit(4096)
        .lossy_utf8(true)
        .read_to_string()
        .unwrap_or_default();
    let from_json = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|v| v.get("error").and_then(|e| e.as_str()).map(str::to_string));
    match from_json {
        Some(m) => m,
        None if body.trim().is_empty() => reason,
        None => body.trim().chars().take(300).collect(),
    }
}

fn connection(url: &str, e: &ureq::Error) -> HubError {
    HubError::Connection {
        url: url.to_string(),
        reason: e.to_string(),
    }
}

fn header<'a>(resp: &'a Response<Body>, name: &str) -> Option<&'a str> {
    resp.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// huggingface_hub's `_normalize_etag`: weak prefix and quotes removed.
pub(crate) fn normalize_etag(etag: &str) -> String {
    let e = etag.trim();
    let e = e.strip_prefix("W/").unwrap_or(e);
    e.trim_matches('"').to_string()
}

/// Start offset of `Content-Range: bytes START-END/TOTAL`.
fn range_start(v: &str) -> Option<u64> {
    v.strip_prefix("bytes ")?
        .split('-')
        .next()?
        .trim()
        .parse()
        .ok()
}

/// A `Location` with no scheme and host (`/org/new-name/resolve/…`).
fn is_relative(loc: &str) -> bool {
    loc.starts_with('/') && !loc.starts_with("//")
}

/// `scheme://host[:port]` of an absolute URL.
fn origin(url: &str) -> &str {
    match url.find("://") {
        Some(i) => {
            let rest = &url[i + 3..];
            let end = rest.find(['/', '?', '#']).map_or(url.len(), |j| i + 3 + j);
            &url[..end]
        }
        None => url,
    }
}

/// `host[:port]` of an absolute URL, lower-cased.
fn authority(url: &str) -> String {
    let o = origin(url);
    o.find("://")
        .map_or(o, |i| &o[i + 3..])
        .to_ascii_lowercase()
}

/// Python's `urllib.parse.quote`: everything but `A-Za-z0-9_.-~` (and `/` when `keep_slash`)
/// percent-encoded as UTF-8.
pub(crate) fn quote(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        let safe = b.is_ascii_alphanumeric()
            || matches!(b, b'_' | b'.' | b'-' | b'~')
            || (keep_slash && b == b'/');
        if safe {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(quote("refs/pr/1", false), "refs%2Fpr%2F1");
        assert_eq!(quote("sub dir/a+b.json", true), "sub%20dir/a%2Bb.json");
        assert_eq!(quote("é", true), "%C3%A9");
    }

    #[test]
    fn etags() {
        assert_eq!(normalize_etag("W/\"abc\""), "abc");
        assert_eq!(normalize_etag("\"abc\""), "abc");
        assert_eq!(normalize_etag("abc"), "abc");
    }

    #[test]
    fn urls() {
        assert_eq!(origin("http://127.0.0.1:8/a/b?c"), "http://127.0.0.1:8");
        assert_eq!(origin("https://h.co"), "https://h.co");
        assert_eq!(authority("http://LocalHost:8/x"), "localhost:8");
        assert!(is_relative("/a/b"));
        assert!(!is_relative("//cdn/a"));
        assert!(!is_relative("https://cdn/a"));
        assert_eq!(range_start("bytes 10-99/100"), Some(10));
        assert_eq!(range_start("items 1-2"), None);
    }
}
