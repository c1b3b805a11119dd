//! Bit-vector fingerprints and Tanimoto similarity.

/// A fixed-length bit fingerprint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fingerprint {
    words: Vec<u64>,
    n_bits: usize,
}

impl Fingerprint {
    /// An all-zero fingerprint of `n_bits` bits.
    pub fn zeros(n_bits: usize) -> Self {
        Self {
            words: vec![0; n_bits.div_ceil(64)],
            n_bits,
        }
    }

    /// A fingerprint of `n_bits` bits with the bits in `on` set (each must be `< n_bits`).
    pub fn from_bits(n_bits: usize, on: impl IntoIterator<Item = usize>) -> Self {
        let mut fp = Self::zeros(n_bits);
        for i in on {
            fp.set(i);
        }
        fp
    }

    /// Whether bit `i` is set (false when out of range).
    pub fn get(&self, i: usize) -> bool {
        i < self.n_bits && self.words[i / 64] & (1 << (i % 64)) != 0
    }

    /// Sets bit `i` (panics if out of range: a programming error, never user data).
    pub fn set(&mut self, i: usize) {
        assert!(i < self.n_bits, "bit {i} out of range {}", self.n_bits);
        self.words[i / 64] |= 1 << (i % 64);
    }

    /// Number of bits.
    pub fn len(&self) -> usize {
        self.n_bits
    }

    /// True when the fingerprint has zero length.
    pub fn is_empty(&self) -> bool {
        self.n_bits == 0
    }

    /// Number of set bits.
    pub fn count_ones(&self) -> u32 {
        self.words.iter().map(|w| w.count_ones()).sum()
    }

    /// Indices of set bits, ascending.
    pub fn on_bits(&self) -> Vec<usize> {
        let mut out = Vec::new();
        for (wi, &w) in self.words.iter().enumerate() {
            let mut w = w;
            while w != 0 {
                let b = w.trailing_zeros() as usize;
                out.push(wi * 64 + b);
                w &= w - 1;
            }
        }
        out
    }

    /// Tanimoto similarity |A∩B| / |A∪B|; two empty fingerprints have similarity 0 (as RDKit).
    /// Fingerprints of different lengths are compared over the shorter one's words (a caller bug;
    /// compare like with like).
    pub fn tanimoto(&self, other: &Fingerprint) -> f64 {
        let (mut inter, mut union) = (0u32, 0u32);
        for (a, b) in self.words.iter().zip(&other.words) {
            inter += (a & b).count_ones();
            union += (a | b).count_ones();
        }
        if union == 0 {
            0.0
        } else {
            f64::from(inter) / f64::from(union)
        }
    }
}
