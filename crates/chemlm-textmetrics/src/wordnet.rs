//! A reader for the WordNet 3.0 database files (`data.*`, `index.*`, `*.exc`, as Debian's
//! `wordnet-base` installs them under `/usr/share/wordnet`) that gives what nltk's
//! `WordNetCorpusReader.synsets(word)` gives, which is all nltk's METEOR needs: the lemma names of
//! every synset of a word, over nouns, verbs, adjectives and adverbs in that order, after nltk's
//! morphy (exception lists, else one round of detachment rules; the word itself and its
//! candidate base forms kept when the index lists them for that part of speech).
//!
//! The directory comes from `CHEMLM_WORDNET_DIR`, else `/usr/share/wordnet`; a missing database
//! is an error naming the directory and the package to install, never a silent fallback.

use crate::error::MetricsError;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Environment variable naming the WordNet directory.
pub const WORDNET_DIR_ENV: &str = "CHEMLM_WORDNET_DIR";
/// Where Debian's `wordnet-base` puts the database.
pub const DEFAULT_WORDNET_DIR: &str = "/usr/share/wordnet";

/// A WordNet part of speech (nltk's `n`, `v`, `a`, `r`; satellites `s` live in `data.adj`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Pos {
    Noun,
    Verb,
    Adj,
    Adv,
}

impl Pos {
    /// nltk's `POS_LIST` order, the order `synsets` walks.
    pub const ALL: [Pos; 4] = [Pos::Noun, Pos::Verb, Pos::Adj, Pos::Adv];

    fn file_suffix(self) -> &'static str {
        match self {
            Pos::Noun => "noun",
            Pos::Verb => "verb",
            Pos::Adj => "adj",
            Pos::Adv => "adv",
        }
    }

    fn from_tag(tag: &str) -> Option<Pos> {
        Some(match tag {
            "n" => Pos::Noun,
            "v" => Pos::Verb,
            "a" => Pos::Adj,
            "r" => Pos::Adv,
            _ => return None,
        })
    }

    fn idx(self) -> usize {
        self as usize
    }

    /// nltk's `MORPHOLOGICAL_SUBSTITUTIONS`: (suffix, replacement), tried in order.
    fn substitutions(self) -> &'static [(&'static str, &'static str)] {
        match self {
            Pos::Noun => &[
                ("s", ""),
                ("ses", "s"),
                ("ves", "f"),
                ("xes", "x"),
                ("zes", "z"),
                ("ches", "ch"),
                ("shes", "sh"),
                ("men", "man"),
                ("ies", "y"),
            ],
            Pos::Verb => &[
                ("s", ""),
                ("ies", "y"),
                ("es", "e"),
                ("es", ""),
                ("ed", "e"),
                ("ed", ""),
                ("ing", "e"),
                ("ing", ""),
            ],
            Pos::Adj => &[("er", ""), ("est", ""), ("er", "e"), ("est", "e")],
            Pos::Adv => &[],
        }
    }
}

/// The loaded database: the lemma index and exception lists in memory, the data files as bytes
/// (synsets are parsed on demand at their byte offsets, as nltk seeks to them).
pub struct WordNet {
    dir: PathBuf,
    /// lemma → synset offsets per part of speech (indexed by [`Pos::idx`]).
    index: HashMap<String, [Option<Vec<u32>>; 4]>,
    exceptions: [HashMap<String, Vec<String>>; 4],
    data: [Vec<u8>; 4],
}

impl std::fmt::Debug for WordNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WordNet")
            .field("dir", &self.dir)
            .field("lemmas", &self.index.len())
            .finish()
    }
}

impl WordNet {
    /// Opens the database in `$CHEMLM_WORDNET_DIR`, else `/usr/share/wordnet`.
    pub fn from_env() -> Result<Self, MetricsError> {
        let dir = std::env::var_os(WORDNET_DIR_ENV)
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(DEFAULT_WORDNET_DIR));
        Self::open(&dir)
    }

    /// Opens the database in `dir` (needs `data.{noun,verb,adj,adv}`, `index.*` and `*.exc`).
    pub fn open(dir: &Path) -> Result<Self, MetricsError> {
        let read = |name: String| {
            let path = dir.join(&name);
            std::fs::read(&path).map_err(|e| MetricsError::WordNet {
                path: dir.to_path_buf(),
                reason: format!("cannot read {name}: {e}"),
            })
        };
        let mut index: HashMap<String, [Option<Vec<u32>>; 4]> = HashMap::new();
        let mut exceptions: [HashMap<String, Vec<String>>; 4] = Default::default();
        let mut data: [Vec<u8>; 4] = Default::default();
        for pos in Pos::ALL {
            let suffix = pos.file_suffix();
            let bytes = read(format!("index.{suffix}"))?;
            parse_index(&String::from_utf8_lossy(&bytes), &mut index).map_err(|reason| {
                MetricsError::WordNet {
                    path: dir.to_path_buf(),
                    reason: format!("index.{suffix}: {reason}"),
                }
            })?;
            let exc = read(format!("{suffix}.exc"))?;
            for line in String::from_utf8_lossy(&exc).lines() {
                let mut terms = line.split_whitespace();
                if let Some(head) = terms.next() {
                    // A later line for the same form replaces an earlier one, as in nltk.
                    exceptions[pos.idx()]
                        .insert(head.to_string(), terms.map(str::to_string).collect());
                }
            }
            data[pos.idx()] = read(format!("data.{suffix}"))?;
        }
        Ok(Self {
            dir: dir.to_path_buf(),
            index,
            exceptions,
            data,
        })
    }

    /// The directory the database was read from.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn offsets(&self, form: &str, pos: Pos) -> Option<&[u32]> {
        self.index.get(form)?[pos.idx()].as_deref()
    }

    /// nltk's `_morphy(form, pos)`: the exception list's base forms if `form` has one, else the
    /// detachment rules applied once; of `form` and those candidates, the ones the index lists
    /// for `pos`, in order, without repeats.
    pub fn morphy(&self, form: &str, pos: Pos) -> Vec<String> {
        let candidates: Vec<String> = match self.exceptions[pos.idx()].get(form) {
            Some(bases) => bases.clone(),
            None => pos
                .substitutions()
                .iter()
                .filter_map(|(old, new)| form.strip_suffix(old).map(|stem| format!("{stem}{new}")))
                .collect(),
        };
        let mut out: Vec<String> = Vec::new();
        for c in std::iter::once(form.to_string()).chain(candidates) {
            if self.offsets(&c, pos).is_some() && !out.contains(&c) {
                out.push(c);
            }
        }
        out
    }

    /// nltk's `[s.lemma_names() for s in wn.synsets(word)]`: per synset, its lemma names as the
    /// data file spells them (case kept, `_` for spaces, adjective markers like `(a)` removed).
    pub fn synsets(&self, word: &str) -> Vec<Vec<String>> {
        let lemma = word.to_lowercase();
        let mut out = Vec::new();
        for pos in Pos::ALL {
            for form in self.morphy(&lemma, pos) {
                for &offset in self.offsets(&form, pos).unwrap_or(&[]) {
                    if let Some(names) = self.lemma_names_at(pos, offset) {
                        out.push(names);
                    }
                }
            }
        }
        out
    }

    /// Lemma names of the synset at byte `offset` of `data.<pos>`; None when no synset line
    /// starts there (nltk warns and yields no synset).
    fn lemma_names_at(&self, pos: Pos, offset: u32) -> Option<Vec<String>> {
        let data = &self.data[pos.idx()];
        let start = offset as usize;
        let rest = data.get(start..)?;
        let end = rest.iter().position(|&b| b == b'\n').unwrap_or(rest.len());
        let line = std::str::from_utf8(&rest[..end]).ok()?;
        if line.get(..8)? != format!("{offset:08}") {
            return None;
        }
        let columns = line.trim().split('|').next()?;
        let mut tokens = columns.split_whitespace();
        let _offset = tokens.next()?;
        let _lexfile = tokens.next()?;
        let _ss_type = tokens.next()?;
        let n = usize::from_str_radix(tokens.next()?, 16).ok()?;
        let mut names = Vec::with_capacity(n);
        for _ in 0..n {
            names.push(strip_marker(tokens.next()?).to_string());
            tokens.next()?; // lex_id
        }
        Some(names)
    }
}

/// Removes a trailing syntactic marker such as `(a)`, `(p)`, `(ip)` (nltk's
/// `(.*?)(\([^()]*\))?$`).
fn strip_marker(name: &str) -> &str {
    if let Some(body) = name.strip_suffix(')') {
        if let Some(open) = body.rfind('(') {
            if !body[open + 1..].contains(')') {
                return &name[..open];
            }
        }
    }
    name
}

/// Parses one `index.<pos>` file into `index` (license lines start with a space). A later line
/// for the same lemma and part of speech replaces an earlier one, as in nltk.
fn parse_index(
    text: &str,
    index: &mut HashMap<String, [Option<Vec<u32>>; 4]>,
) -> Result<(), String> {
    for (i, line) in text.lines().enumerate() {
        if line.starts_with(' ') || line.trim().is_empty() {
            continue;
        }
        let bad = |what: &str| format!("line {}: {what}", i + 1);
        let mut t = line.split_whitespace();
        let lemma = t.next().ok_or_else(|| bad("no lemma"))?;
        let pos_tag = t.next().ok_or_else(|| bad("no part of speech"))?;
        let num = |t: &mut std::str::SplitWhitespace<'_>, what: &str| -> Result<usize, String> {
            t.next()
                .and_then(|s| s.parse().ok())
                .ok_or_else(|| bad(what))
        };
        let n_synsets = num(&mut t, "synset count")?;
        let n_pointers = num(&mut t, "pointer count")?;
        for _ in 0..n_pointers {
            t.next().ok_or_else(|| bad("pointer symbol"))?;
        }
        let n_senses = num(&mut t, "sense count")?;
        if n_senses != n_synsets || n_synsets == 0 {
            return Err(bad("sense count differs from synset count"));
        }
        t.next().ok_or_else(|| bad("tagged sense count"))?;
        let offsets = (0..n_synsets)
            .map(|_| {
                t.next()
                    .and_then(|s| s.parse::<u32>().ok())
                    .ok_or_else(|| bad("synset offset"))
            })
            .collect::<Result<Vec<u32>, String>>()?;
        if let Some(pos) = Pos::from_tag(pos_tag) {
            index.entry(lemma.to_string()).or_default()[pos.idx()] = Some(offsets);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::strip_marker;

    #[test]
    fn markers() {
        assert_eq!(strip_marker("galore(ip)"), "galore");
        assert_eq!(strip_marker("x(a)(b)"), "x(a)");
        assert_eq!(strip_marker("plain"), "plain");
        assert_eq!(strip_marker("a(b)c"), "a(b)c");
    }
}
