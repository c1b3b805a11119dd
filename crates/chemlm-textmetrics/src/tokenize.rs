//! Word tokenizers for text metrics.
//!
//! MolT5 tokenizes captions with SciBERT's `BertTokenizerFast` (WordPiece) before BLEU and
//! METEOR; GT4SD reports the same numbers. A WordPiece vocabulary is not part of this crate, so
//! the harness passes the tokens it wants (`mol::Mol2TextInput` takes token lists), and
//! [`bert_basic`] is the documented default: BERT's normalizer and pre-tokenizer (what
//! `BertTokenizerFast` does before WordPiece): control characters dropped, whitespace split,
//! every punctuation character its own token, optional lower-casing, no accent stripping.
//! It equals Hugging Face `tokenizers`' `BertNormalizer(strip_accents=False)` +
//! `BertPreTokenizer` on text whose punctuation is ASCII or in the General Punctuation block;
//! other Unicode punctuation and CJK ideographs (which BERT isolates) are kept inside words.

/// BERT-style pre-tokenization (see the module doc): `"A beta-N(9) bond."` →
/// `["a", "beta", "-", "n", "(", "9", ")", "bond", "."]` with `lowercase`.
pub fn bert_basic(text: &str, lowercase: bool) -> Vec<String> {
    let text = if lowercase {
        text.to_lowercase()
    } else {
        text.to_string()
    };
    let mut tokens = Vec::new();
    let mut current = String::new();
    for c in text.chars() {
        if is_bert_whitespace(c) {
            flush(&mut current, &mut tokens);
        } else if c == '\0' || c == '\u{fffd}' || is_bert_control(c) {
            continue;
        } else if is_punctuation(c) {
            flush(&mut current, &mut tokens);
            tokens.push(c.to_string());
        } else {
            current.push(c);
        }
    }
    flush(&mut current, &mut tokens);
    tokens
}

/// BERT's whitespace (after control characters are gone): Unicode white space other than the
/// control characters among it (U+000B, U+000C, U+0085), which BERT deletes instead.
fn is_bert_whitespace(c: char) -> bool {
    c.is_whitespace() && !matches!(c, '\u{0b}' | '\u{0c}' | '\u{85}')
}

/// BERT's control characters (deleted): Cc other than tab/newline/return, the common format
/// characters (Cf: soft hyphen, zero-width and directional marks, BOM) and private-use code
/// points (Co). Unassigned code points (Cn), which BERT also deletes, are kept here.
fn is_bert_control(c: char) -> bool {
    (c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
        || matches!(
            c,
            '\u{ad}'
                | '\u{600}'..='\u{605}'
                | '\u{200b}'..='\u{200f}'
                | '\u{202a}'..='\u{202e}'
                | '\u{2060}'..='\u{2064}'
                | '\u{2066}'..='\u{206f}'
                | '\u{feff}'
                | '\u{fff9}'..='\u{fffb}'
                | '\u{e000}'..='\u{f8ff}'
                | '\u{f0000}'..='\u{10ffff}'
        )
}

fn flush(current: &mut String, tokens: &mut Vec<String>) {
    if !current.is_empty() {
        tokens.push(std::mem::take(current));
    }
}

/// BERT's punctuation: all ASCII non-alphanumeric printable symbols, plus Unicode punctuation
/// (here: Latin-1 and the General Punctuation block).
fn is_punctuation(c: char) -> bool {
    c.is_ascii_punctuation()
        || matches!(c, '¡' | '§' | '«' | '¶' | '·' | '»' | '¿')
        || ('\u{2010}'..='\u{2027}').contains(&c)
        || ('\u{2030}'..='\u{2043}').contains(&c)
        || ('\u{2045}'..='\u{2051}').contains(&c)
        || ('\u{2053}'..='\u{205e}').contains(&c)
}

/// Whitespace tokens (Python's `str.split()`), as paragraph2actions and GT4SD tokenize action
/// sequences for BLEU.
pub fn whitespace(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

/// Characters (Python's `list(smiles)`), as MolT5 tokenizes SMILES for BLEU.
pub fn characters(text: &str) -> Vec<char> {
    text.chars().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_punctuation() {
        assert_eq!(
            bert_basic("A beta-N(9) bond.", true),
            ["a", "beta", "-", "n", "(", "9", ")", "bond", "."]
        );
        assert_eq!(bert_basic("  4'  ", false), ["4", "'"]);
    }
}
