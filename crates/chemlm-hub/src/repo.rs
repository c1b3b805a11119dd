//! `hf:ORG/NAME[@REVISION]`: parsing and the validity rules the Hub applies to repository ids
//! (huggingface_hub's `validate_repo_id`), so that a typo fails here with a clear message
//! instead of as a 404 after a network round trip.

use std::fmt;

use crate::error::HubError;

/// The prefix that marks a model source as a Hub repository rather than a local path.
pub const HUB_PREFIX: &str = "hf:";

/// The revision used when none is given.
pub const DEFAULT_REVISION: &str = "main";

/// Whether `source` names a Hub repository (`hf:…`) rather than a local directory.
pub fn is_hub_source(source: &str) -> bool {
    source.starts_with(HUB_PREFIX)
}

/// A model repository on the Hub at one revision (branch, tag or commit hash).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RepoRef {
    repo_id: String,
    revision: String,
}

impl RepoRef {
    /// Parses `hf:ORG/NAME[@REVISION]` (or `hf:NAME[@REVISION]`, e.g. `hf:gpt2`). The `hf:`
    /// prefix is required: without it a string is a local path.
    pub fn parse(source: &str) -> Result<Self, HubError> {
        match source.strip_prefix(HUB_PREFIX) {
            Some(rest) => Self::parse_id_at(rest, source),
            None => Err(invalid(
                source,
                "a Hub model source starts with `hf:` (hf:ORG/NAME[@REVISION])",
            )),
        }
    }

    /// Parses `ORG/NAME[@REVISION]` with or without the `hf:` prefix, for callers where the
    /// string cannot be a local path (e.g. a `--hub-model` option).
    pub fn parse_id(id: &str) -> Result<Self, HubError> {
        Self::parse_id_at(id.strip_prefix(HUB_PREFIX).unwrap_or(id), id)
    }

    /// A repository at `revision` (validated like [`RepoRef::parse`]).
    pub fn new(repo_id: &str, revision: &str) -> Result<Self, HubError> {
        validate_repo_id(repo_id).map_err(|r| invalid(repo_id, &r))?;
        validate_revision(revision).map_err(|r| invalid(revision, &r))?;
        Ok(Self {
            repo_id: repo_id.to_string(),
            revision: revision.to_string(),
        })
    }

    fn parse_id_at(spec: &str, input: &str) -> Result<Self, HubError> {
        let (id, revision) = match spec.split_once('@') {
            Some((id, rev)) => {
                if rev.is_empty() {
                    return Err(invalid(input, "empty revision after `@`"));
                }
                (id, rev)
            }
            None => (spec, DEFAULT_REVISION),
        };
        validate_repo_id(id).map_err(|r| invalid(input, &r))?;
        validate_revision(revision).map_err(|r| invalid(input, &r))?;
        Ok(Self {
            repo_id: id.to_string(),
            revision: revision.to_string(),
        })
    }

    /// `ORG/NAME` (or `NAME`).
    pub fn repo_id(&self) -> &str {
        &self.repo_id
    }

    /// Branch, tag or commit hash.
    pub fn revision(&self) -> &str {
        &self.revision
    }

    /// The same repository at another revision.
    pub fn at(&self, revision: &str) -> Result<Self, HubError> {
        Self::new(&self.repo_id, revision)
    }

    /// The cache folder name: `models--ORG--NAME` (huggingface_hub's `repo_folder_name`).
    pub fn cache_folder_name(&self) -> String {
        format!("models--{}", self.repo_id.replace('/', "--"))
    }
}

impl fmt::Display for RepoRef {
    /// `hf:ORG/NAME@REVISION`, which [`RepoRef::parse`] reads back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{HUB_PREFIX}{}@{}", self.repo_id, self.revision)
    }
}

fn invalid(input: &str, reason: &str) -> HubError {
    HubError::InvalidRepoId {
        input: input.to_string(),
        reason: reason.to_string(),
    }
}

/// huggingface_hub's `validate_repo_id`: `^(\b[\w\-.]+\b/)?\b[\w\-.]{1,96}\b$`, no `--` or
/// `..`, no trailing `.git` (ASCII word characters).
fn validate_repo_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("empty repository id (expected ORG/NAME)".into());
    }
    let parts: Vec<&str> = id.split('/').collect();
    if parts.len() > 2 {
        return Err("a repository id is ORG/NAME or NAME, with at most one `/`".into());
    }
    for part in &parts {
        if part.is_empty() {
            return Err("empty organisation or name around `/`".into());
        }
        if let Some(c) = part
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
        {
            return Err(format!(
                "character {c:?} not allowed (letters, digits, `-`, `_`, `.`)"
            ));
        }
        let word = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_');
        if !word(part.chars().next()) || !word(part.chars().last()) {
            return Err("`-` and `.` cannot start or end the organisation or the name".into());
        }
    }
    if parts.last().is_some_and(|name| name.len() > 96) {
        return Err("the name is longer than 96 characters".into());
    }
    if id.contains("--") || id.contains("..") {
        return Err("`--` and `..` are not allowed".into());
    }
    if id.ends_with(".git") {
        return Err("a repository id cannot end with `.git`".into());
    }
    Ok(())
}

/// Revisions are Git ref names (`main`, `v1.0`, `refs/pr/1`) or commit hashes; the cache keeps
/// them as file paths under `refs/`, so anything that would leave that folder is refused.
fn validate_revision(rev: &str) -> Result<(), String> {
    if rev.is_empty() {
        return Err("empty revision".into());
    }
    if rev
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\\')
    {
        return Err(format!(
            "revision {rev:?} has whitespace or control characters"
        ));
    }
    if rev
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(format!(
            "revision {rev:?} has an empty, `.` or `..` path component"
        ));
    }
    Ok(())
}

/// A full Git commit hash as the Hub writes it (huggingface_hub's `REGEX_COMMIT_HASH`).
pub fn is_commit_hash(s: &str) -> bool {
    s.len() == 40 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

/// Checks that a file name from the caller or from the Hub (an index's `weight_map`) is a plain
/// relative path inside the repository, so that it cannot address anything outside the
/// snapshot folder.
pub(crate) fn validate_filename(repo: &RepoRef, filename: &str) -> Result<(), HubError> {
    let bad = |reason: &str| HubError::InvalidFilename {
        repo: repo.repo_id().to_string(),
        filename: filename.to_string(),
        reason: reason.to_string(),
    };
    if filename.is_empty() {
        return Err(bad("empty file name"));
    }
    if filename.starts_with('/') || filename.contains('\\') || filename.contains('\0') {
        return Err(bad("must be a relative path with `/` separators"));
    }
    if filename
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(bad("has an empty, `.` or `..` path component"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sources() {
        let r = RepoRef::parse("hf:org/name").unwrap();
        assert_eq!((r.repo_id(), r.revision()), ("org/name", "main"));
        let r = RepoRef::parse("hf:org/name@v1.0").unwrap();
        assert_eq!((r.repo_id(), r.revision()), ("org/name", "v1.0"));
        let r = RepoRef::parse("hf:gpt2").unwrap();
        assert_eq!((r.repo_id(), r.revision()), ("gpt2", "main"));
        let r = RepoRef::parse("hf:org/name@refs/pr/1").unwrap();
        assert_eq!(r.revision(), "refs/pr/1");
        assert_eq!(r.to_string(), "hf:org/name@refs/pr/1");
        assert_eq!(r.cache_folder_name(), "models--org--name");
        assert_eq!(RepoRef::parse(&r.to_string()).unwrap(), r);
        let r = RepoRef::parse_id("ibm/MoLFormer-XL_both-10pct").unwrap();
        assert_eq!(r.repo_id(), "ibm/MoLFormer-XL_both-10pct");
        assert_eq!(RepoRef::parse_id("hf:a/b").unwrap().repo_id(), "a/b");
    }

    #[test]
    fn rejects_malformed() {
        for s in [
            "org/name",
            "hf:",
            "hf:/name",
            "hf:org/",
            "hf:a/b/c",
            "hf:org/na me",
            "hf:org/name@",
            "hf:org/-name",
            "hf:org/name.",
            "hf:org/na--me",
            "hf:org/na..me",
            "hf:org/name.git",
            "hf:org/name@../x",
            "hf:org/name@a b",
        ] {
            let e = RepoRef::parse(s).unwrap_err();
            assert!(matches!(e, HubError::InvalidRepoId { .. }), "{s}: {e:?}");
        }
        let long = format!("hf:o/{}", "n".repeat(97));
        assert!(RepoRef::parse(&long).is_err());
        let e = RepoRef::parse("org/name").unwrap_err().to_string();
        assert!(e.contains("starts with `hf:`"), "{e}");
    }

    #[test]
    fn hub_source() {
        assert!(is_hub_source("hf:org/name"));
        assert!(!is_hub_source("./hf:org"));
        assert!(!is_hub_source("/models/x"));
    }

    #[test]
    fn commit_hashes() {
        assert!(is_commit_hash("0123456789abcdef0123456789abcdef01234567"));
        assert!(!is_commit_hash("0123456789ABCDEF0123456789abcdef01234567"));
        assert!(!is_commit_hash("main"));
    }

    #[test]
    fn filenames() {
        let r = RepoRef::parse("hf:a/b").unwrap();
        assert!(validate_filename(&r, "config.json").is_ok());
        assert!(validate_filename(&r, "sub/dir/x.bin").is_ok());
        for f in [
            "",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "a//b",
            "a\\b",
            "./a",
        ] {
            assert!(validate_filename(&r, f).is_err(), "{f}");
        }
    }
}
