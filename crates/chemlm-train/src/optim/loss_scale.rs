//! Dynamic loss scaling for f16 training (Micikevicius et al. 2018, as PyTorch's `GradScaler`).
//!
//! f16 flushes values below ~6e-8 to zero, where many gradients live; multiplying the loss by a
//! large factor before `backward` keeps them representable, and dividing the (f32) gradients by it
//! afterwards restores their size. The factor starts high, halves whenever a step's gradients
//! overflow (that step is skipped), and doubles after a run of clean steps. bf16 has f32's range
//! and needs none of this.

/// The scaler's state: current factor and clean steps since the last change.
#[derive(Debug, Clone, PartialEq)]
pub struct LossScaler {
    scale: f64,
    clean_steps: u32,
    growth_interval: u32,
}

impl Default for LossScaler {
    /// PyTorch's defaults: 2^16, doubling after 2000 clean steps, halving on overflow.
    fn default() -> Self {
        Self::new(65536.0, 2000)
    }
}

impl LossScaler {
    /// Lowest factor before a run is declared diverged (the gradients overflow even unscaled).
    pub const MIN_SCALE: f64 = 1.0;

    pub fn new(initial: f64, growth_interval: u32) -> Self {
        Self {
            scale: initial,
            clean_steps: 0,
            growth_interval: growth_interval.max(1),
        }
    }

    /// The factor to multiply the loss by before `backward`.
    pub fn scale(&self) -> f64 {
        self.scale
    }

    /// Record a step whose unscaled gradient norm was `grad_norm`. Returns whether the optimizer
    /// should apply the step (false: it overflowed, the factor was halved, skip it), or `None`
    /// when even the lowest factor overflows, i.e. the run diverged.
    pub fn update(&mut self, grad_norm: f64) -> Option<bool> {
        if grad_norm.is_finite() {
            self.clean_steps += 1;
            if self.clean_steps >= self.growth_interval {
                self.scale *= 2.0;
                self.clean_steps = 0;
            }
            return Some(true);
        }
        if self.scale <= Self::MIN_SCALE {
            return None;
        }
        self.scale = (self.scale * 0.5).max(Self::MIN_SCALE);
        self.clean_steps = 0;
        Some(false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn halves_on_overflow_and_grows_after_clean_steps() {
        let mut s = LossScaler::new(1024.0, 3);
        assert_eq!(s.update(f64::INFINITY), Some(false));
        assert_eq!(s.scale(), 512.0);
        assert_eq!(s.update(f64::NAN), Some(false));
        assert_eq!(s.scale(), 256.0);
        for _ in 0..2 {
            assert_eq!(s.update(1.0), Some(true));
            assert_eq!(s.scale(), 256.0);
        }
        assert_eq!(s.update(1.0), Some(true));
        assert_eq!(s.scale(), 512.0);
    }

    #[test]
    fn gives_up_below_the_lowest_factor() {
        let mut s = LossScaler::new(2.0, 10);
        assert_eq!(s.update(f64::INFINITY), Some(false));
        assert_eq!(s.scale(), 1.0);
        assert_eq!(s.update(f64::INFINITY), None);
    }
}
