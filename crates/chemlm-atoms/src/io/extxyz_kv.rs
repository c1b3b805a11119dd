//! The comment line of extended XYZ: ASE's `key=value` syntax, parsed and printed.

use crate::structure::Value;

/// Comment-line keys ASE never converts to numbers.
const UNPROCESSED_KEYS: [&str; 1] = ["uid"];
/// Comment-line keys that must hold nine numbers (a 3x3 matrix in Fortran order).
const SPECIAL_3X3_KEYS: [&str; 3] = ["Lattice", "virial", "stress"];

/// Splits a comment line into `(key, value)` pairs following ASE's `key_val_str_to_dict`
/// character by character: `None` is a bare key (ASE's `T`).
pub(crate) fn split_key_values(line: &str) -> Vec<(String, Option<String>)> {
    // Each entry is a key followed by the parts of its value (several parts when the value
    // itself contained '=', which ASE joins back with '=').
    let mut pairs: Vec<Vec<String>> = vec![vec![String::new()]];
    let mut closing: Option<char> = None;
    let mut escaped = false;
    for c in line.trim().chars() {
        let last_part_empty = pairs
            .last()
            .and_then(|p| p.last())
            .is_none_or(|s| s.is_empty());
        if escaped {
            push_char(&mut pairs, c);
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if let Some(close) = closing {
            if c == close {
                closing = None;
            } else {
                push_char(&mut pairs, c);
            }
        } else if let Some(close) = match c {
            '"' => Some('"'),
            '\'' => Some('\''),
            '{' => Some('}'),
            '[' => Some(']'),
            _ => None,
        } {
            closing = Some(close);
        } else if c.is_whitespace() {
            let at_start = pairs.len() == 1 && pairs[0].len() == 1 && pairs[0][0].is_empty();
            if at_start || last_part_empty {
                continue;
            }
            pairs.push(vec![String::new()]);
        } else if c == '=' {
            if pairs
                .last()
                .is_some_and(|p| p.len() == 1 && p[0].is_empty())
                && pairs.len() > 1
            {
                pairs.pop();
            }
            if let Some(p) = pairs.last_mut() {
                p.push(String::new());
            }
        } else {
            push_char(&mut pairs, c);
        }
    }
    let mut out = Vec::new();
    for mut pair in pairs {
        match pair.len() {
            0 => {}
            _ if pair[0].is_empty() => {}
            1 => out.push((pair.remove(0), None)),
            _ => {
                let key = pair.remove(0);
                out.push((key, Some(pair.join("="))));
            }
        }
    }
    out
}

fn push_char(pairs: &mut [Vec<String>], c: char) {
    if let Some(part) = pairs.last_mut().and_then(|p| p.last_mut()) {
        part.push(c);
    }
}

/// Types a comment-line value as ASE does: ints, then floats, then booleans, else a string.
/// Errors only for the special 3x3 keys, which must hold nine numbers.
pub(crate) fn parse_value(key: &str, raw: Option<&str>) -> std::result::Result<Value, String> {
    let Some(raw) = raw else {
        return Ok(Value::Bool(true));
    };
    if UNPROCESSED_KEYS.contains(&key.to_ascii_lowercase().as_str()) {
        return Ok(Value::Str(raw.to_string()));
    }
    let tokens: Vec<&str> = raw
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .collect();
    let special = SPECIAL_3X3_KEYS.contains(&key);
    if !tokens.is_empty() {
        if let Some(ints) = tokens
            .iter()
            .map(|t| t.parse::<i64>().ok())
            .collect::<Option<Vec<_>>>()
        {
            return Ok(if special {
                check_nine(key, ints.iter().map(|&i| i as f64).collect())?
            } else if ints.len() == 1 {
                Value::Int(ints[0])
            } else {
                Value::Ints(ints)
            });
        }
        if let Some(floats) = tokens
            .iter()
            .map(|t| t.parse::<f64>().ok())
            .collect::<Option<Vec<_>>>()
        {
            return Ok(if special {
                check_nine(key, floats)?
            } else if floats.len() == 1 {
                Value::Float(floats[0])
            } else {
                Value::Floats(floats)
            });
        }
    }
    if special {
        return Err(format!("{key} must be nine numbers, got {:?}", clip(raw)));
    }
    if !tokens.is_empty() {
        if let Some(bools) = tokens
            .iter()
            .map(|t| parse_bool(t))
            .collect::<Option<Vec<_>>>()
        {
            return Ok(if bools.len() == 1 {
                Value::Bool(bools[0])
            } else {
                Value::Bools(bools)
            });
        }
    }
    Ok(Value::Str(raw.to_string()))
}

fn check_nine(key: &str, v: Vec<f64>) -> std::result::Result<Value, String> {
    if v.len() == 9 {
        Ok(Value::Floats(v))
    } else {
        Err(format!("{key} must be nine numbers, got {}", v.len()))
    }
}

fn parse_bool(t: &str) -> Option<bool> {
    match t {
        "T" | "true" | "True" | "TRUE" => Some(true),
        "F" | "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// Shortest representation that parses back to the same `f64`, always with a `.` or an
/// exponent so that ASE types it as a float (`{:?}` prints `-10.0`, `1e-7`).
pub(crate) fn fmt_f64(x: f64) -> String {
    format!("{x:?}")
}

pub(crate) fn format_value(v: &Value) -> String {
    let tf = |b: &bool| if *b { "T" } else { "F" };
    match v {
        Value::Int(i) => i.to_string(),
        Value::Float(x) => fmt_f64(*x),
        Value::Bool(b) => tf(b).to_string(),
        Value::Str(s) => escape(s),
        Value::Floats(x) => quote_list(x.iter().map(|x| fmt_f64(*x))),
        Value::Ints(x) => quote_list(x.iter().map(|i| i.to_string())),
        Value::Bools(x) => quote_list(x.iter().map(|b| tf(b).to_string())),
    }
}

fn quote_list(items: impl Iterator<Item = String>) -> String {
    format!("\"{}\"", items.collect::<Vec<_>>().join(" "))
}

/// Quotes a key or string value when ASE's parser would otherwise split or strip it; quotes and
/// backslashes inside are backslash-escaped (ASE's parser un-escapes both).
pub(crate) fn escape(s: &str) -> String {
    let needs_quotes = s.is_empty()
        || s.chars()
            .any(|c| c.is_whitespace() || matches!(c, '"' | '\'' | '{' | '}' | '[' | ']' | '='));
    let mut body = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if c == '"' || c == '\\' {
            body.push('\\');
        }
        body.push(c);
    }
    if needs_quotes {
        format!("\"{body}\"")
    } else {
        body
    }
}

/// The first 60 characters of `s`, for error messages.
pub(crate) fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(60).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kv(line: &str) -> Vec<(String, Option<String>)> {
        split_key_values(line)
    }

    #[test]
    fn splits_like_ase() {
        let got = kv(r#"a=1 b = 2 c="x y" d={1 2} e flag f=[3,4] g="q\"uote" h=a=b"#);
        let want: Vec<(String, Option<String>)> = vec![
            ("a".into(), Some("1".into())),
            ("b".into(), Some("2".into())),
            ("c".into(), Some("x y".into())),
            ("d".into(), Some("1 2".into())),
            ("e".into(), None),
            ("flag".into(), None),
            ("f".into(), Some("3,4".into())),
            ("g".into(), Some("q\"uote".into())),
            ("h".into(), Some("a=b".into())),
        ];
        assert_eq!(got, want);
        assert!(kv("   ").is_empty());
    }

    #[test]
    fn types_like_ase() {
        let p = |k: &str, v: &str| parse_value(k, Some(v)).unwrap();
        assert_eq!(p("n", "3"), Value::Int(3));
        assert_eq!(p("x", "3.5"), Value::Float(3.5));
        assert_eq!(p("x", "1e-3"), Value::Float(1e-3));
        assert_eq!(p("v", "1 2 3"), Value::Ints(vec![1, 2, 3]));
        assert_eq!(p("v", "1 2.5"), Value::Floats(vec![1.0, 2.5]));
        assert_eq!(p("b", "T"), Value::Bool(true));
        assert_eq!(p("b", "False"), Value::Bool(false));
        assert_eq!(p("b", "T T F"), Value::Bools(vec![true, true, false]));
        assert_eq!(p("s", "hello world"), Value::Str("hello world".into()));
        assert_eq!(p("uid", "123"), Value::Str("123".into()));
        assert_eq!(
            p("stress", "1 2 3 4 5 6 7 8 9"),
            Value::Floats((1..=9).map(f64::from).collect())
        );
        assert!(parse_value("Lattice", Some("1 2 3")).is_err());
        assert_eq!(parse_value("bare", None).unwrap(), Value::Bool(true));
    }

    #[test]
    fn escapes_round_trip_through_the_splitter() {
        for s in [
            "plain",
            "two words",
            "quo\"te",
            "back\\slash",
            "a=b",
            "{br}",
            "",
        ] {
            let line = format!("k={}", escape(s));
            let got = kv(&line);
            assert_eq!(got, vec![("k".to_string(), Some(s.to_string()))], "{line}");
        }
    }

    #[test]
    fn float_format_is_float_for_ase() {
        assert_eq!(fmt_f64(-10.0), "-10.0");
        assert_eq!(fmt_f64(1e-7), "1e-7");
        assert_eq!(fmt_f64(0.1).parse::<f64>().unwrap(), 0.1);
    }
}
