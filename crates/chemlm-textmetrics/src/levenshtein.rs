//! Levenshtein (edit) distance on Unicode scalar values, as python-Levenshtein's
//! `Levenshtein.distance(a, b)` on Python strings (unit costs for insert, delete, substitute).

/// Edit distance between `a` and `b` counted in characters (code points), not bytes.
pub fn distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    distance_slices(&a, &b)
}

/// Edit distance between two sequences of comparable items (characters, tokens, actions).
pub fn distance_slices<T: PartialEq>(a: &[T], b: &[T]) -> usize {
    if a.is_empty() {
        return b.len();
    }
    // One row of the DP table, over the shorter side (the distance is symmetric).
    let (long, short) = if a.len() >= b.len() { (a, b) } else { (b, a) };
    let mut row: Vec<usize> = (0..=short.len()).collect();
    for (i, x) in long.iter().enumerate() {
        let mut diag = row[0];
        row[0] = i + 1;
        for (j, y) in short.iter().enumerate() {
            let sub = diag + usize::from(x != y);
            diag = row[j + 1];
            row[j + 1] = sub.min(row[j] + 1).min(row[j + 1] + 1);
        }
    }
    row[short.len()]
}

/// Distance divided by the longer string's length in characters (0 for two empty strings): 0 for
/// equal strings, 1 for strings with nothing in common position-wise.
pub fn normalized(a: &str, b: &str) -> f64 {
    let longest = a.chars().count().max(b.chars().count());
    if longest == 0 {
        0.0
    } else {
        distance(a, b) as f64 / longest as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classic_cases() {
        assert_eq!(distance("kitten", "sitting"), 3);
        assert_eq!(distance("", "abc"), 3);
        assert_eq!(distance("abc", ""), 3);
        assert_eq!(distance("flaw", "lawn"), 2);
        assert_eq!(distance("ééa", "éa"), 1);
        assert_eq!(normalized("", ""), 0.0);
        assert!((normalized("abcd", "abce") - 0.25).abs() < 1e-15);
    }
}
