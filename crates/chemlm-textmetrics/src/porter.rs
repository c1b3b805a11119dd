//! The Porter stemmer in nltk's default mode (`PorterStemmer()`, `NLTK_EXTENSIONS`), which both
//! nltk's METEOR and Google's `rouge-score` (with `use_stemmer=True`) use.
//!
//! Differences from Porter's 1980 paper that nltk's mode adds (and we keep): an irregular-forms
//! table (`skies`→`sky`, `dying`→`die`, ...), words of at most two characters left alone, `ies`/
//! `ied` of four-letter words → `ie`, step 1c only after a consonant, `bli`→`ble`, `fulli`,
//! `logi`, a recursive `alli` rule, and a two-letter vowel-consonant word counting as CVC.
//! Words are handled as sequences of Unicode scalar values (Python string indexing); any
//! character that is not `a e i o u` (or a `y` read as a vowel) is a consonant.

/// Stems `word` (lower-cased first, as nltk's `stem(word)` with `to_lowercase=True`).
pub fn stem(word: &str) -> String {
    let lower = word.to_lowercase();
    if let Some(irregular) = irregular(&lower) {
        return irregular.to_string();
    }
    if word.chars().count() <= 2 {
        return lower;
    }
    let mut w: Vec<char> = lower.chars().collect();
    w = step1a(w);
    w = step1b(w);
    w = step1c(w);
    w = step2(w);
    w = step3(w);
    w = step4(w);
    w = step5a(w);
    w = step5b(w);
    w.into_iter().collect()
}

fn irregular(word: &str) -> Option<&'static str> {
    Some(match word {
        "sky" | "skies" => "sky",
        "dying" => "die",
        "lying" => "lie",
        "tying" => "tie",
        "news" => "news",
        "innings" | "inning" => "inning",
        "outings" | "outing" => "outing",
        "cannings" | "canning" => "canning",
        "howe" => "howe",
        "proceed" => "proceed",
        "exceed" => "exceed",
        "succeed" => "succeed",
        _ => return None,
    })
}

fn is_vowel(c: char) -> bool {
    matches!(c, 'a' | 'e' | 'i' | 'o' | 'u')
}

/// Consonant flags of every position: `y` is a consonant at the start or after a vowel.
fn consonant_flags(w: &[char]) -> Vec<bool> {
    let mut flags: Vec<bool> = Vec::with_capacity(w.len());
    for (i, &c) in w.iter().enumerate() {
        let cons = if is_vowel(c) {
            false
        } else if c == 'y' {
            i == 0 || !flags[i - 1]
        } else {
            true
        };
        flags.push(cons);
    }
    flags
}

fn is_consonant(w: &[char], i: usize) -> bool {
    consonant_flags(&w[..=i])[i]
}

/// Porter's m: the number of vowel-consonant sequences.
fn measure(stem: &[char]) -> usize {
    let flags = consonant_flags(stem);
    flags.windows(2).filter(|p| !p[0] && p[1]).count()
}

fn contains_vowel(stem: &[char]) -> bool {
    consonant_flags(stem).iter().any(|&c| !c)
}

fn ends_double_consonant(w: &[char]) -> bool {
    let n = w.len();
    n >= 2 && w[n - 1] == w[n - 2] && is_consonant(w, n - 1)
}

fn ends_cvc(w: &[char]) -> bool {
    let n = w.len();
    (n >= 3
        && is_consonant(w, n - 3)
        && !is_consonant(w, n - 2)
        && is_consonant(w, n - 1)
        && !matches!(w[n - 1], 'w' | 'x' | 'y'))
        || (n == 2 && !is_consonant(w, 0) && is_consonant(w, 1))
}

fn ends_with(w: &[char], suffix: &str) -> bool {
    let s: Vec<char> = suffix.chars().collect();
    w.len() >= s.len() && w[w.len() - s.len()..] == s[..]
}

fn strip(w: &[char], suffix: &str) -> Vec<char> {
    w[..w.len() - suffix.chars().count()].to_vec()
}

fn join(mut stem: Vec<char>, add: &str) -> Vec<char> {
    stem.extend(add.chars());
    stem
}

/// A rule's condition on the stem left after removing the suffix.
type Cond<'a> = &'a dyn Fn(&[char]) -> bool;

/// nltk's `_apply_rule_list`: the first rule whose suffix matches decides; when its condition
/// fails the word is returned unchanged (later rules are not tried).
fn apply_rules(w: Vec<char>, rules: &[(&str, &str, Option<Cond<'_>>)]) -> Vec<char> {
    for (suffix, replacement, cond) in rules {
        if ends_with(&w, suffix) {
            let stem = strip(&w, suffix);
            return if cond.is_none_or(|c| c(&stem)) {
                join(stem, replacement)
            } else {
                w
            };
        }
    }
    w
}

fn positive_measure(stem: &[char]) -> bool {
    measure(stem) > 0
}

fn step1a(w: Vec<char>) -> Vec<char> {
    if ends_with(&w, "ies") && w.len() == 4 {
        return join(strip(&w, "ies"), "ie");
    }
    apply_rules(
        w,
        &[
            ("sses", "ss", None),
            ("ies", "i", None),
            ("ss", "ss", None),
            ("s", "", None),
        ],
    )
}

fn step1b(w: Vec<char>) -> Vec<char> {
    if ends_with(&w, "ied") {
        let stem = strip(&w, "ied");
        return join(stem, if w.len() == 4 { "ie" } else { "i" });
    }
    if ends_with(&w, "eed") {
        let stem = strip(&w, "eed");
        return if measure(&stem) > 0 {
            join(stem, "ee")
        } else {
            w
        };
    }
    let mut intermediate = None;
    for suffix in ["ed", "ing"] {
        if ends_with(&w, suffix) {
            let stem = strip(&w, suffix);
            if contains_vowel(&stem) {
                intermediate = Some(stem);
                break;
            }
        }
    }
    let Some(stem) = intermediate else {
        return w;
    };
    for (suffix, replacement) in [("at", "ate"), ("bl", "ble"), ("iz", "ize")] {
        if ends_with(&stem, suffix) {
            return join(strip(&stem, suffix), replacement);
        }
    }
    // nltk's "*d" rule: a double consonant other than l, s, z is undoubled. Its rule list also
    // matches a literal "*d" suffix (when there is no double consonant); the replacement is the
    // stem's last character either way.
    let last = stem[stem.len() - 1];
    let keep_last = !matches!(last, 'l' | 's' | 'z');
    if ends_double_consonant(&stem) || ends_with(&stem, "*d") {
        let cut = stem[..stem.len() - 2].to_vec();
        return if keep_last {
            let mut out = cut;
            out.push(last);
            out
        } else {
            stem
        };
    }
    if measure(&stem) == 1 && ends_cvc(&stem) {
        join(stem, "e")
    } else {
        stem
    }
}

fn step1c(w: Vec<char>) -> Vec<char> {
    let cond = |stem: &[char]| stem.len() > 1 && is_consonant(stem, stem.len() - 1);
    apply_rules(w, &[("y", "i", Some(&cond))])
}

fn step2(w: Vec<char>) -> Vec<char> {
    if ends_with(&w, "alli") && positive_measure(&strip(&w, "alli")) {
        return step2(join(strip(&w, "alli"), "al"));
    }
    let pm: Cond<'_> = &positive_measure;
    let word = w.clone();
    let logi = move |_: &[char]| positive_measure(&word[..word.len() - 3]);
    let rules: [(&str, &str, Option<Cond<'_>>); 22] = [
        ("ational", "ate", Some(pm)),
        ("tional", "tion", Some(pm)),
        ("enci", "ence", Some(pm)),
        ("anci", "ance", Some(pm)),
        ("izer", "ize", Some(pm)),
        ("bli", "ble", Some(pm)),
        ("alli", "al", Some(pm)),
        ("entli", "ent", Some(pm)),
        ("eli", "e", Some(pm)),
        ("ousli", "ous", Some(pm)),
        ("ization", "ize", Some(pm)),
        ("ation", "ate", Some(pm)),
        ("ator", "ate", Some(pm)),
        ("alism", "al", Some(pm)),
        ("iveness", "ive", Some(pm)),
        ("fulness", "ful", Some(pm)),
        ("ousness", "ous", Some(pm)),
        ("aliti", "al", Some(pm)),
        ("iviti", "ive", Some(pm)),
        ("biliti", "ble", Some(pm)),
        ("fulli", "ful", Some(pm)),
        ("logi", "log", Some(&logi)),
    ];
    apply_rules(w, &rules)
}

fn step3(w: Vec<char>) -> Vec<char> {
    let pm: Cond<'_> = &positive_measure;
    apply_rules(
        w,
        &[
            ("icate", "ic", Some(pm)),
            ("ative", "", Some(pm)),
            ("alize", "al", Some(pm)),
            ("iciti", "ic", Some(pm)),
            ("ical", "ic", Some(pm)),
            ("ful", "", Some(pm)),
            ("ness", "", Some(pm)),
        ],
    )
}

fn step4(w: Vec<char>) -> Vec<char> {
    let gt1 = |stem: &[char]| measure(stem) > 1;
    let m: Cond<'_> = &gt1;
    let ion = |stem: &[char]| measure(stem) > 1 && matches!(stem.last(), Some('s' | 't'));
    apply_rules(
        w,
        &[
            ("al", "", Some(m)),
            ("ance", "", Some(m)),
            ("ence", "", Some(m)),
            ("er", "", Some(m)),
            ("ic", "", Some(m)),
            ("able", "", Some(m)),
            ("ible", "", Some(m)),
            ("ant", "", Some(m)),
            ("ement", "", Some(m)),
            ("ment", "", Some(m)),
            ("ent", "", Some(m)),
            ("ion", "", Some(&ion)),
            ("ou", "", Some(m)),
            ("ism", "", Some(m)),
            ("ate", "", Some(m)),
            ("iti", "", Some(m)),
            ("ous", "", Some(m)),
            ("ive", "", Some(m)),
            ("ize", "", Some(m)),
        ],
    )
}

fn step5a(w: Vec<char>) -> Vec<char> {
    if ends_with(&w, "e") {
        let stem = strip(&w, "e");
        let m = measure(&stem);
        if m > 1 || (m == 1 && !ends_cvc(&stem)) {
            return stem;
        }
    }
    w
}

fn step5b(w: Vec<char>) -> Vec<char> {
    if ends_with(&w, "ll") && measure(&w[..w.len() - 1]) > 1 {
        return w[..w.len() - 1].to_vec();
    }
    w
}

#[cfg(test)]
mod tests {
    use super::stem;

    #[test]
    fn textbook_examples() {
        for (w, s) in [
            ("caresses", "caress"),
            ("ponies", "poni"),
            ("ties", "tie"),
            ("cats", "cat"),
            ("plastered", "plaster"),
            ("motoring", "motor"),
            ("hopping", "hop"),
            ("hissing", "hiss"),
            ("filing", "file"),
            ("happy", "happi"),
            ("relational", "relat"),
            ("generalization", "gener"),
            ("skies", "sky"),
            ("by", "by"),
        ] {
            assert_eq!(stem(w), s, "{w}");
        }
    }
}
