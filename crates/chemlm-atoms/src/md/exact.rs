//! Bit-exact serde for the floats of a checkpoint.
//!
//! serde_json (without its `float_roundtrip` feature, which would change the float parser for
//! the whole workspace) may read a float back one ulp off, and a resumed trajectory would then
//! leave the uninterrupted one after a few hundred steps. Checkpoint floats are therefore
//! written as strings of Rust's shortest round-trip decimal form and parsed with the standard
//! library's correctly rounded parser.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

fn parse<E: serde::de::Error>(s: &str) -> Result<f64, E> {
    s.parse::<f64>()
        .map_err(|e| E::custom(format!("not a float: {s:?} ({e})")))
}

/// `f64` as a string.
pub(crate) mod scalar {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(x: &f64, s: S) -> Result<S::Ok, S::Error> {
        x.to_string().serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        parse(&String::deserialize(d)?)
    }
}

/// `Option<f64>` as an optional string.
pub(crate) mod optional {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(x: &Option<f64>, s: S) -> Result<S::Ok, S::Error> {
        x.map(|x| x.to_string()).serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
        Option::<String>::deserialize(d)?
            .map(|s| parse(&s))
            .transpose()
    }
}

/// `Vec<[f64; 3]>` as rows of three strings.
pub(crate) mod vec3s {
    use super::*;

    pub(crate) fn serialize<S: Serializer>(v: &[[f64; 3]], s: S) -> Result<S::Ok, S::Error> {
        v.iter()
            .map(|r| [r[0].to_string(), r[1].to_string(), r[2].to_string()])
            .collect::<Vec<_>>()
            .serialize(s)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<[f64; 3]>, D::Error> {
        Vec::<[String; 3]>::deserialize(d)?
            .iter()
            .map(|r| Ok([parse(&r[0])?, parse(&r[1])?, parse(&r[2])?]))
            .collect::<Result<Vec<_>, D::Error>>()
            .map_err(D::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize, PartialEq, Debug)]
    struct T {
        #[serde(with = "super::scalar")]
        a: f64,
        #[serde(with = "super::optional")]
        b: Option<f64>,
        #[serde(with = "super::optional")]
        c: Option<f64>,
        #[serde(with = "super::vec3s")]
        v: Vec<[f64; 3]>,
    }

    #[test]
    fn round_trip_is_bit_exact() {
        // Values whose shortest decimal form serde_json's default parser may misread.
        let t = T {
            a: 0.057_830_566_524_423_53,
            b: Some(-2.155_448_240_510_872e-300),
            c: None,
            v: vec![
                [1.0 / 3.0, -2.0f64.sqrt(), 3.256_290_657_930_903],
                [f64::MIN_POSITIVE, 1e308, -0.0],
            ],
        };
        let json = serde_json::to_string(&t).unwrap();
        let back: T = serde_json::from_str(&json).unwrap();
        assert_eq!(back.a.to_bits(), t.a.to_bits());
        assert_eq!(back.b.map(f64::to_bits), t.b.map(f64::to_bits));
        assert_eq!(back.c, None);
        for (x, y) in back.v.iter().flatten().zip(t.v.iter().flatten()) {
            assert_eq!(x.to_bits(), y.to_bits());
        }
        assert!(serde_json::from_str::<T>(r#"{"a":"x","b":null,"c":null,"v":[]}"#).is_err());
    }
}
