//! Seeded Gaussian noise for Maxwell–Boltzmann starts and the Langevin thermostat.
//!
//! ChaCha20 with an explicit stream number: the same user seed drives the velocity start
//! (stream 0) and the thermostat (stream 1) without the two sequences overlapping, and the
//! generator's position can be saved and restored exactly ([`RngState`]), so a resumed run
//! draws the same noise as an uninterrupted one.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use serde::{Deserialize, Serialize};

/// Stream of the Maxwell–Boltzmann velocity start.
pub const STREAM_VELOCITIES: u64 = 0;
/// Stream of the Langevin thermostat noise.
pub const STREAM_THERMOSTAT: u64 = 1;

/// Standard normal deviates (Box–Muller on ChaCha20 uniforms), with a saveable state.
#[derive(Debug, Clone)]
pub struct GaussianRng {
    seed: u64,
    rng: ChaCha20Rng,
    /// Second deviate of the last Box–Muller pair, not yet handed out.
    spare: Option<f64>,
}

/// Everything needed to continue a [`GaussianRng`] exactly where it stopped.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RngState {
    /// The user seed the generator was created from.
    pub seed: u64,
    /// ChaCha stream number.
    pub stream: u64,
    /// Position in the stream in 32-bit words, split in high and low halves so that JSON
    /// readers without 128-bit integers keep it exact.
    pub word_pos_hi: u64,
    /// Low 64 bits of the word position.
    pub word_pos_lo: u64,
    /// Pending second Box–Muller deviate (a string in JSON, for a bit-exact round trip).
    #[serde(with = "super::exact::optional")]
    pub spare: Option<f64>,
}

impl GaussianRng {
    /// A generator for `seed` on `stream`.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        rng.set_stream(stream);
        GaussianRng {
            seed,
            rng,
            spare: None,
        }
    }

    /// One standard normal deviate.
    pub fn normal(&mut self) -> f64 {
        if let Some(z) = self.spare.take() {
            return z;
        }
        // u1 in (0, 1] so that ln(u1) is finite.
        let u1 = 1.0 - self.rng.gen::<f64>();
        let u2 = self.rng.gen::<f64>();
        let radius = (-2.0 * u1.ln()).sqrt();
        let angle = std::f64::consts::TAU * u2;
        self.spare = Some(radius * angle.sin());
        radius * angle.cos()
    }

    /// The state to save in a checkpoint.
    pub fn state(&self) -> RngState {
        let pos = self.rng.get_word_pos();
        RngState {
            seed: self.seed,
            stream: self.rng.get_stream(),
            word_pos_hi: (pos >> 64) as u64,
            word_pos_lo: pos as u64,
            spare: self.spare,
        }
    }

    /// A generator continuing exactly from a saved state.
    pub fn from_state(state: &RngState) -> Self {
        let mut g = GaussianRng::new(state.seed, state.stream);
        g.rng
            .set_word_pos((u128::from(state.word_pos_hi) << 64) | u128::from(state.word_pos_lo));
        g.spare = state.spare;
        g
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn moments_are_standard_normal() {
        let mut g = GaussianRng::new(7, STREAM_THERMOSTAT);
        let n = 200_000;
        let xs: Vec<f64> = (0..n).map(|_| g.normal()).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        let kurt = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n as f64 / (var * var);
        // Standard errors: 1/sqrt(n) = 0.0022 for the mean, sqrt(2/n) = 0.0032 for the variance.
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.015, "variance {var}");
        assert!((kurt - 3.0).abs() < 0.05, "kurtosis {kurt}");
    }

    #[test]
    fn state_round_trip_continues_the_sequence() {
        let mut a = GaussianRng::new(42, STREAM_THERMOSTAT);
        for _ in 0..7 {
            a.normal(); // odd count: a spare is pending
        }
        let saved = serde_json::to_string(&a.state()).unwrap();
        let mut b = GaussianRng::from_state(&serde_json::from_str(&saved).unwrap());
        for _ in 0..9 {
            assert_eq!(a.normal().to_bits(), b.normal().to_bits());
        }
    }

    #[test]
    fn streams_differ() {
        let mut a = GaussianRng::new(1, STREAM_VELOCITIES);
        let mut b = GaussianRng::new(1, STREAM_THERMOSTAT);
        assert_ne!(a.normal(), b.normal());
    }
}
