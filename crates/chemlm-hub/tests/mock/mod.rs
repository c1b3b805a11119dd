//! A mock Hugging Face Hub on 127.0.0.1: just enough HTTP/1.1 (HEAD/GET, `Range: bytes=N-`,
//! `Connection: close`) to speak the protocol huggingface_hub uses, with switches to fail in the
//! ways the real one does. Every request is logged so tests can assert what the client sent.

#![allow(dead_code)]

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use sha2::{Digest, Sha256};

/// The token the mock accepts for gated repositories.
pub const GOOD_TOKEN: &str = "good-token";

pub fn sha256_hex(b: &[u8]) -> String {
    hex::encode(Sha256::digest(b))
}

/// A 40-hex commit id derived from a label.
pub fn commit(label: &str) -> String {
    sha256_hex(label.as_bytes())[..40].to_string()
}

#[derive(Clone, Debug)]
pub struct MockFile {
    pub name: String,
    pub bytes: Vec<u8>,
    /// LFS files are redirected to the CDN path and carry `X-Linked-Etag` = sha256.
    pub lfs: bool,
}

impl MockFile {
    pub fn new(name: &str, bytes: &[u8], lfs: bool) -> Self {
        Self {
            name: name.into(),
            bytes: bytes.to_vec(),
            lfs,
        }
    }

    /// What the cache names the blob: sha256 for LFS, a git-like 40-hex id otherwise.
    pub fn etag(&self) -> String {
        if self.lfs {
            sha256_hex(&self.bytes)
        } else {
            sha256_hex(&[b"blob ".as_slice(), &self.bytes].concat())[..40].to_string()
        }
    }
}

#[derive(Clone, Debug, Default)]
pub struct MockRepo {
    pub id: String,
    pub gated: bool,
    /// branch or tag → commit
    pub branches: HashMap<String, String>,
    /// commit → files
    pub commits: HashMap<String, Vec<MockFile>>,
}

impl MockRepo {
    /// A repository whose `main` points at commit `commit("ID main")` with `files`.
    pub fn new(id: &str, files: Vec<MockFile>) -> Self {
        let c = commit(&format!("{id} main"));
        let mut r = Self {
            id: id.into(),
            ..Default::default()
        };
        r.branches.insert("main".into(), c.clone());
        r.commits.insert(c, files);
        r
    }

    pub fn main_commit(&self) -> String {
        self.branches["main"].clone()
    }

    /// Adds branch `name` at a new commit with `files`; returns the commit.
    pub fn with_branch(mut self, name: &str, files: Vec<MockFile>) -> Self {
        let c = commit(&format!("{} {name}", self.id));
        self.branches.insert(name.into(), c.clone());
        self.commits.insert(c, files);
        self
    }
}

/// One request as the mock received it.
#[derive(Clone, Debug)]
pub struct Req {
    pub method: String,
    pub path: String,
    pub host: Option<String>,
    pub auth: Option<String>,
    pub range: Option<String>,
    pub accept_encoding: Option<String>,
}

#[derive(Default)]
struct State {
    repos: Vec<MockRepo>,
    /// old repo id → new repo id (answered with a relative 307).
    renamed: HashMap<String, String>,
    log: Vec<Req>,
    /// file name → how many more data responses are cut off after half the body.
    interrupt: HashMap<String, u32>,
    /// file names whose bytes are served with the first byte flipped.
    corrupt: HashSet<String>,
}

pub struct MockHub {
    pub port: u16,
    state: Arc<Mutex<State>>,
}

impl MockHub {
    pub fn start(repos: Vec<MockRepo>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind mock hub");
        let port = listener.local_addr().unwrap().port();
        let state = Arc::new(Mutex::new(State {
            repos,
            ..Default::default()
        }));
        let st = state.clone();
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let st = st.clone();
                thread::spawn(move || handle(stream, port, &st));
            }
        });
        Self { port, state }
    }

    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    pub fn rename(&self, old: &str, new: &str) {
        self.lock().renamed.insert(old.into(), new.into());
    }

    pub fn interrupt(&self, file: &str, times: u32) {
        self.lock().interrupt.insert(file.into(), times);
    }

    pub fn corrupt(&self, file: &str) {
        self.lock().corrupt.insert(file.into());
    }

    pub fn requests(&self) -> Vec<Req> {
        self.lock().log.clone()
    }

    pub fn clear_log(&self) {
        self.lock().log.clear();
    }

    /// GET requests whose path ends with `suffix`.
    pub fn gets(&self, suffix: &str) -> Vec<Req> {
        self.requests()
            .into_iter()
            .filter(|r| r.method == "GET" && r.path.ends_with(suffix))
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap()
    }
}

/// A port on which nothing listens: connections are refused at once.
pub fn dead_endpoint() -> String {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    format!("http://127.0.0.1:{port}")
}

struct Resp {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
    /// Close after this many body bytes despite the announced Content-Length.
    cut_at: Option<usize>,
}

impl Resp {
    fn new(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
            cut_at: None,
        }
    }

    fn h(mut self, k: &str, v: impl Into<String>) -> Self {
        self.headers.push((k.into(), v.into()));
        self
    }

    fn error(status: u16, code: Option<&str>, message: &str) -> Self {
        let mut r = Self::new(status).h("X-Error-Message", message);
        if let Some(c) = code {
            r = r.h("X-Error-Code", c);
        }
        r.body = format!("{{\"error\":\"{message}\"}}").into_bytes();
        r
    }
}

fn handle(stream: TcpStream, port: u16, state: &Mutex<State>) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(5)));
    let mut reader = BufReader::new(match stream.try_clone() {
        Ok(s) => s,
        Err(_) => return,
    });
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    let mut parts = line.split_whitespace();
    let (Some(method), Some(path)) = (parts.next(), parts.next()) else {
        return;
    };
    let mut headers = HashMap::new();
    loop {
        let mut h = String::new();
        match reader.read_line(&mut h) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
        let h = h.trim_end();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_string());
        }
    }
    let req = Req {
        method: method.to_string(),
        path: path.to_string(),
        host: headers.get("host").cloned(),
        auth: headers.get("authorization").cloned(),
        range: headers.get("range").cloned(),
        accept_encoding: headers.get("accept-encoding").cloned(),
    };
    let resp = {
        let mut st = state.lock().unwrap();
        st.log.push(req.clone());
        route(&mut st, &req, port)
    };
    write_response(stream, &req, resp);
}

fn write_response(mut stream: TcpStream, req: &Req, resp: Resp) {
    let mut head = format!("HTTP/1.1 {} X\r\n", resp.status);
    let has_len = resp
        .headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("content-length"));
    for (k, v) in &resp.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    if !has_len {
        head.push_str(&format!("Content-Length: {}\r\n", resp.body.len()));
    }
    head.push_str("Connection: close\r\n\r\n");
    let _ = stream.write_all(head.as_bytes());
    if req.method != "HEAD" {
        let n = resp.cut_at.unwrap_or(resp.body.len()).min(resp.body.len());
        let _ = stream.write_all(&resp.body[..n]);
    }
    let _ = stream.flush();
    let _ = stream.shutdown(Shutdown::Both);
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
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

fn route(st: &mut State, req: &Req, port: u16) -> Resp {
    let path = req.path.split('?').next().unwrap_or("");
    if let Some(rest) = path.strip_prefix("/api/models/") {
        return api(st, req, rest);
    }
    if let Some(sha) = path.strip_prefix("/cdn/") {
        let found = st
            .repos
            .iter()
            .flat_map(|r| r.commits.values().flatten())
            .find(|f| f.lfs && sha256_hex(&f.bytes) == sha)
            .cloned();
        return match found {
            Some(f) => serve_bytes(st, req, &f),
            None => Resp::error(404, None, "no such blob"),
        };
    }
    if let Some(i) = path.find("/resolve/") {
        return resolve(st, req, &path[1..i], &path[i + "/resolve/".len()..], port);
    }
    Resp::error(404, None, "unknown route")
}

fn auth_error(repo: &MockRepo, req: &Req) -> Option<Resp> {
    if !repo.gated {
        return None;
    }
    match req.auth.as_deref() {
        Some(a) if a == format!("Bearer {GOOD_TOKEN}") => None,
        Some(_) => Some(Resp::error(
            401,
            None,
            "Invalid credentials in Authorization header",
        )),
        None => Some(Resp::error(
            401,
            Some("GatedRepo"),
            "Access to this model is restricted",
        )),
    }
}

fn resolve(st: &mut State, req: &Req, repo_id: &str, rest: &str, port: u16) -> Resp {
    if let Some(new) = st.renamed.get(repo_id) {
        return Resp::new(307).h("Location", format!("/{new}/resolve/{rest}"));
    }
    let Some(repo) = st.repos.iter().find(|r| r.id == repo_id).cloned() else {
        return Resp::error(404, Some("RepoNotFound"), "Repository not found");
    };
    if let Some(r) = auth_error(&repo, req) {
        return r;
    }
    let (rev, file) = rest.split_once('/').unwrap_or((rest, ""));
    let rev = percent_decode(rev);
    let file = percent_decode(file);
    let commit = repo.branches.get(&rev).cloned().unwrap_or(rev.clone());
    let Some(files) = repo.commits.get(&commit) else {
        return Resp::error(404, Some("RevisionNotFound"), "Invalid rev id");
    };
    let Some(f) = files.iter().find(|f| f.name == file).cloned() else {
        return Resp::error(404, Some("EntryNotFound"), "Entry not found")
            .h("X-Repo-Commit", &commit);
    };
    if f.lfs {
        let sha = sha256_hex(&f.bytes);
        // The CDN is "another host": localhost instead of 127.0.0.1.
        return Resp::new(302)
            .h("Location", format!("http://localhost:{port}/cdn/{sha}"))
            .h("X-Repo-Commit", &commit)
            .h("X-Linked-Etag", format!("\"{sha}\""))
            .h("X-Linked-Size", f.bytes.len().to_string())
            .h("ETag", "\"pointer-file-etag\"");
    }
    let r = serve_bytes(st, req, &f);
    r.h("X-Repo-Commit", &commit)
        .h("ETag", format!("W/\"{}\"", f.etag()))
}

fn serve_bytes(st: &mut State, req: &Req, f: &MockFile) -> Resp {
    let mut bytes = f.bytes.clone();
    if req.method == "GET" && st.corrupt.contains(&f.name) {
        bytes[0] ^= 0xff;
    }
    let len = bytes.len();
    let mut resp = match req.range.as_deref().and_then(|r| r.strip_prefix("bytes=")) {
        Some(r) if req.method == "GET" => {
            let start: usize = r.trim_end_matches('-').parse().unwrap_or(0);
            if start >= len {
                return Resp::new(416).h("Content-Range", format!("bytes */{len}"));
            }
            let mut resp =
                Resp::new(206).h("Content-Range", format!("bytes {start}-{}/{len}", len - 1));
            resp.body = bytes[start..].to_vec();
            resp
        }
        _ => {
            let mut resp = Resp::new(200);
            resp.body = bytes;
            resp
        }
    };
    if req.method == "HEAD" {
        resp = resp.h("Content-Length", len.to_string());
    }
    if req.method == "GET" {
        if let Some(n) = st.interrupt.get_mut(&f.name).filter(|n| **n > 0) {
            *n -= 1;
            resp.cut_at = Some(resp.body.len() / 2);
        }
    }
    resp
}

fn api(st: &mut State, req: &Req, rest: &str) -> Resp {
    let Some(i) = rest.find("/revision/") else {
        return Resp::error(404, None, "unknown route");
    };
    let repo_id = &rest[..i];
    let rev = percent_decode(&rest[i + "/revision/".len()..]);
    let Some(repo) = st.repos.iter().find(|r| r.id == repo_id).cloned() else {
        return Resp::error(404, Some("RepoNotFound"), "Repository not found");
    };
    // Like the Hub: metadata of a gated repository is public, its files are not.
    let _ = req;
    let commit = repo.branches.get(&rev).cloned().unwrap_or(rev.clone());
    let Some(files) = repo.commits.get(&commit) else {
        return Resp::error(404, Some("RevisionNotFound"), "Invalid rev id");
    };
    let siblings: Vec<String> = files
        .iter()
        .map(|f| format!("{{\"rfilename\":\"{}\"}}", f.name))
        .collect();
    let mut r = Resp::new(200).h("Content-Type", "application/json");
    r.body = format!(
        "{{\"id\":\"{repo_id}\",\"sha\":\"{commit}\",\"siblings\":[{}]}}",
        siblings.join(",")
    )
    .into_bytes();
    r
}
