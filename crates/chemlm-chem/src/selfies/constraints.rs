//! Semantic constraints: how many bonds each atom may make (`selfies/bond_constraints.py`).
//!
//! The decoder never exceeds these capacities, which is what makes every SELFIES string decode to
//! a valid molecule; the strict encoder refuses molecules that exceed them. Python keeps one
//! process-wide setting; here a [`Constraints`] value can be passed explicitly
//! ([`super::encoder_with`], [`super::decoder_with`]) so that threads never interfere, and the
//! process-wide setting is limited to the three presets (an atomic switch, no lock on the hot path).

use super::elements::{Element, N_ELEMENTS};
use super::error::SelfiesError;
use super::symbols::INDEX_ALPHABET;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::OnceLock;

/// The `default` preset of `selfies` 2.x.
const DEFAULT: &[(&str, u32)] = &[
    ("H", 1),
    ("F", 1),
    ("Cl", 1),
    ("Br", 1),
    ("I", 1),
    ("B", 3),
    ("B+1", 2),
    ("B-1", 4),
    ("O", 2),
    ("O+1", 3),
    ("O-1", 1),
    ("N", 3),
    ("N+1", 4),
    ("N-1", 2),
    ("C", 4),
    ("C+1", 3),
    ("C-1", 3),
    ("P", 5),
    ("P+1", 4),
    ("P-1", 6),
    ("S", 6),
    ("S+1", 5),
    ("S-1", 5),
    ("?", 8),
];

/// Changes of the `octet_rule` preset relative to `default`.
const OCTET_RULE: &[(&str, u32)] = &[
    ("S", 2),
    ("S+1", 3),
    ("S-1", 1),
    ("P", 3),
    ("P+1", 4),
    ("P-1", 2),
];

/// Changes of the `hypervalent` preset relative to `default`.
const HYPERVALENT: &[(&str, u32)] = &[("Cl", 7), ("Br", 7), ("I", 7), ("N", 5)];

/// Names of the presets, in the order of the process-wide switch.
pub const PRESETS: [&str; 3] = ["default", "octet_rule", "hypervalent"];

/// Charges stored in the dense capacity table; others go to a short list.
const DENSE_MIN_CHARGE: i32 = -8;
const DENSE_CHARGES: usize = 17;

/// Bonding capacities of atoms, keyed like Python: `"C"`, `"N+1"`, `"O-1"`, and `"?"` for every
/// atom not listed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Constraints {
    map: BTreeMap<String, u32>,
    default_cap: u32,
    /// `[element][charge - DENSE_MIN_CHARGE]` -> capacity, for fast lookups.
    dense: Vec<u32>,
    /// Entries with charges outside the dense range.
    sparse: Vec<(Element, i32, u32)>,
}

impl Constraints {
    /// A preset: `"default"`, `"octet_rule"` or `"hypervalent"` (Python's
    /// `get_preset_constraints`).
    pub fn preset(name: &str) -> Result<Self, SelfiesError> {
        let mut map: BTreeMap<String, u32> =
            DEFAULT.iter().map(|&(k, v)| (k.to_string(), v)).collect();
        let changes = match name {
            "default" => &[][..],
            "octet_rule" => OCTET_RULE,
            "hypervalent" => HYPERVALENT,
            other => {
                return Err(SelfiesError::Constraint(format!(
                    "unrecognized preset name '{other}' (expected one of {PRESETS:?})"
                )))
            }
        };
        for &(k, v) in changes {
            map.insert(k.to_string(), v);
        }
        Self::from_map(map)
    }

    /// Custom constraints, validated as Python's `set_semantic_constraints` does: the `"?"` key is
    /// required; other keys are an element (`"Fe"`) or an element with a signed charge
    /// (`"Fe+2"`). A key whose charge is not written the way `selfies` formats charges (`"C+01"`,
    /// `"C+0"`) is accepted but, as in Python, never matches any atom.
    pub fn from_map(map: BTreeMap<String, u32>) -> Result<Self, SelfiesError> {
        let Some(&default_cap) = map.get("?") else {
            return Err(SelfiesError::Constraint(
                "bond_constraints missing '?' as a key".into(),
            ));
        };
        let mut dense = vec![default_cap; N_ELEMENTS * DENSE_CHARGES];
        let mut sparse = Vec::new();
        for (key, &cap) in &map {
            if key == "?" {
                continue;
            }
            let Some((element, charge)) = parse_key(key)? else {
                continue; // valid but never looked up
            };
            if (DENSE_MIN_CHARGE..DENSE_MIN_CHARGE + DENSE_CHARGES as i32).contains(&charge) {
                dense[element.index() * DENSE_CHARGES + (charge - DENSE_MIN_CHARGE) as usize] = cap;
            } else {
                sparse.push((element, charge, cap));
            }
        }
        Ok(Self {
            map,
            default_cap,
            dense,
            sparse,
        })
    }

    /// The constraints as Python's dictionary (`get_semantic_constraints`).
    pub fn as_map(&self) -> &BTreeMap<String, u32> {
        &self.map
    }

    /// Bonding capacity of an atom of `element` with `charge`, before subtracting explicit
    /// hydrogens (`get_bonding_capacity`).
    #[inline]
    pub(crate) fn capacity(&self, element: Element, charge: i64) -> u32 {
        let shifted = charge - DENSE_MIN_CHARGE as i64;
        if (0..DENSE_CHARGES as i64).contains(&shifted) {
            return self.dense[element.index() * DENSE_CHARGES + shifted as usize];
        }
        self.sparse
            .iter()
            .find(|&&(e, c, _)| e == element && c as i64 == charge)
            .map_or(self.default_cap, |&(_, _, cap)| cap)
    }

    /// The symbols whose meaning these constraints fix (`get_semantic_robust_alphabet`): every
    /// listed atom with each bond prefix it has room for, ring and branch symbols, and the index
    /// alphabet. Random strings over this alphabet always decode to valid molecules.
    pub fn robust_alphabet(&self) -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        for (atom, &cap) in &self.map {
            if atom == "?" {
                continue;
            }
            for (bond, order) in [("", 1), ("=", 2), ("#", 3)] {
                if order <= cap {
                    out.insert(format!("[{bond}{atom}]"));
                }
            }
        }
        for i in 1..4 {
            out.insert(format!("[Ring{i}]"));
            out.insert(format!("[=Ring{i}]"));
            out.insert(format!("[Branch{i}]"));
            out.insert(format!("[=Branch{i}]"));
            out.insert(format!("[#Branch{i}]"));
        }
        out.extend(INDEX_ALPHABET.iter().map(|s| s.to_string()));
        out
    }

    /// The `default` preset (shared, built once).
    pub fn default_ref() -> &'static Constraints {
        preset_ref(0)
    }
}

impl Default for Constraints {
    fn default() -> Self {
        Self::default_ref().clone()
    }
}

/// Parses a constraint key into `(element, charge)`; `Ok(None)` for a valid key that can never
/// match (non-canonical charge spelling).
fn parse_key(key: &str) -> Result<Option<(Element, i32)>, SelfiesError> {
    let bad = || SelfiesError::Constraint(format!("invalid key '{key}' in bond_constraints"));
    // Python: j = max(key.find("+"), key.find("-"))
    let j = match (key.find('+'), key.find('-')) {
        (None, None) => None,
        (a, b) => a.max(b),
    };
    let Some(j) = j else {
        return Element::from_symbol(key.as_bytes())
            .map(|e| Some((e, 0)))
            .ok_or_else(bad);
    };
    let element = Element::from_symbol(&key.as_bytes()[..j]).ok_or_else(bad)?;
    let digits = &key[j + 1..];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    if digits.starts_with('0') {
        return Ok(None); // "C+0", "C+01": Python formats charges without leading zeros
    }
    let Ok(magnitude) = digits.parse::<i32>() else {
        return Ok(None); // beyond any charge an atom can be given here
    };
    let sign = if key.as_bytes()[j] == b'-' { -1 } else { 1 };
    Ok(Some((element, sign * magnitude)))
}

fn preset_ref(i: usize) -> &'static Constraints {
    static PRESET_VALUES: OnceLock<[Constraints; 3]> = OnceLock::new();
    &PRESET_VALUES.get_or_init(|| {
        PRESETS.map(|name| match Constraints::preset(name) {
            Ok(c) => c,
            Err(e) => unreachable!("built-in preset {name} is valid: {e}"),
        })
    })[i]
}

/// Index into [`PRESETS`] of the process-wide constraints.
static CURRENT: AtomicU8 = AtomicU8::new(0);

/// The process-wide constraints used by [`super::encoder`] and [`super::decoder`].
pub(crate) fn current() -> &'static Constraints {
    preset_ref(CURRENT.load(Ordering::Relaxed) as usize)
}

/// Python's `get_semantic_constraints()`: the process-wide constraints as a dictionary.
pub fn get_semantic_constraints() -> BTreeMap<String, u32> {
    current().as_map().clone()
}

/// Python's `get_preset_constraints(name)`.
pub fn get_preset_constraints(name: &str) -> Result<BTreeMap<String, u32>, crate::ChemError> {
    Ok(Constraints::preset(name)?.as_map().clone())
}

/// Python's `set_semantic_constraints(preset)`: switches the process-wide constraints used by
/// [`super::encoder`], [`super::decoder`] and [`get_semantic_robust_alphabet`] to a preset.
///
/// This affects every thread. Prefer passing a [`Constraints`] value to
/// [`super::encoder_with`] / [`super::decoder_with`]; custom (non-preset) constraints are only
/// available that way.
pub fn set_semantic_constraints(preset: &str) -> Result<(), crate::ChemError> {
    let i = PRESETS.iter().position(|&p| p == preset).ok_or_else(|| {
        SelfiesError::Constraint(format!(
            "unrecognized preset name '{preset}' (expected one of {PRESETS:?})"
        ))
    })?;
    CURRENT.store(i as u8, Ordering::Relaxed);
    Ok(())
}

/// Python's `get_semantic_robust_alphabet()` under the process-wide constraints.
pub fn get_semantic_robust_alphabet() -> BTreeSet<String> {
    current().robust_alphabet()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::selfies::elements;

    #[test]
    fn capacities_follow_the_presets() {
        let d = Constraints::preset("default").unwrap();
        assert_eq!(d.capacity(elements::C, 0), 4);
        assert_eq!(d.capacity(elements::C, 1), 3);
        assert_eq!(d.capacity(elements::N, 1), 4);
        assert_eq!(d.capacity(elements::S, 0), 6);
        assert_eq!(d.capacity(Element::from_symbol(b"Fe").unwrap(), 2), 8);
        assert_eq!(d.capacity(elements::C, 100), 8);
        let o = Constraints::preset("octet_rule").unwrap();
        assert_eq!(o.capacity(elements::S, 0), 2);
        let h = Constraints::preset("hypervalent").unwrap();
        assert_eq!(h.capacity(elements::CL, 0), 7);
        assert_eq!(h.capacity(elements::N, 0), 5);
        assert!(Constraints::preset("nope").is_err());
    }

    #[test]
    fn custom_keys_are_validated_like_python() {
        let mut m = BTreeMap::new();
        m.insert("C".to_string(), 2);
        assert!(Constraints::from_map(m.clone()).is_err(), "'?' is required");
        m.insert("?".to_string(), 3);
        m.insert("Fe+12".to_string(), 1);
        m.insert("C+01".to_string(), 9);
        let c = Constraints::from_map(m.clone()).unwrap();
        let fe = Element::from_symbol(b"Fe").unwrap();
        assert_eq!(c.capacity(fe, 12), 1);
        assert_eq!(
            c.capacity(elements::C, 1),
            3,
            "non-canonical key never matches"
        );
        assert_eq!(c.capacity(elements::C, 0), 2);
        m.insert("Xx".to_string(), 1);
        assert!(Constraints::from_map(m.clone()).is_err());
        m.remove("Xx");
        m.insert("C+a".to_string(), 1);
        assert!(Constraints::from_map(m).is_err());
    }
}
