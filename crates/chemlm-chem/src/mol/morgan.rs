//! Morgan (ECFP-like) fingerprints, bit and count forms, and MACCS keys, bit-exact with RDKit.

use crate::error::ChemError;
use crate::mol::fingerprint::Fingerprint;
use crate::mol::molecule::Molecule;
use chematic::fp::{
    rdkit_morgan_bitvec, rdkit_morgan_fingerprint, RdkitMorganConfig, RdkitMorganError,
    RdkitMorganFpSize, RdkitMorganRadius,
};

/// Number of bits of RDKit's MACCS fingerprint: keys 1..=166, bit 0 unused.
pub const MACCS_BITS: usize = 167;

impl Molecule {
    /// Morgan bit fingerprint: RDKit's `GetMorganGenerator(radius, fpSize=n_bits).GetFingerprint(m)`
    /// (= the legacy `GetMorganFingerprintAsBitVect(m, radius, nBits)`; no chirality, bond types
    /// used). `morgan(2, 2048)` is the usual ECFP4.
    ///
    /// `radius` must be 0..=3 (what the backend verified against RDKit); `n_bits` any positive
    /// width (bits are folded as RDKit does, raw identifier modulo `n_bits`).
    pub fn morgan(&self, radius: u32, n_bits: usize) -> Result<Fingerprint, ChemError> {
        let config = config(radius, n_bits)?;
        self.check_sanitizable()?;
        if let Some(size) = native_size(n_bits) {
            let config = RdkitMorganConfig {
                fp_size: size,
                ..config
            };
            let bits = rdkit_morgan_bitvec(self.inner(), &config).map_err(morgan_error)?;
            return Ok(Fingerprint::from_bits(
                n_bits,
                (0..n_bits).filter(|&i| bits.get(i)),
            ));
        }
        let fp = rdkit_morgan_fingerprint(self.inner(), &config).map_err(morgan_error)?;
        Ok(Fingerprint::from_bits(
            n_bits,
            fp.sparse_counts.keys().map(|&raw| raw as usize % n_bits),
        ))
    }

    /// Morgan count fingerprint as `(bit, count)` pairs sorted by bit, zero counts left out:
    /// RDKit's `GetMorganGenerator(radius, fpSize=n_bits).GetCountFingerprint(m)`
    /// (= the legacy `GetHashedMorganFingerprint(m, radius, nBits)`). Same limits as
    /// [`Molecule::morgan`].
    pub fn morgan_counts(&self, radius: u32, n_bits: usize) -> Result<Vec<(u32, u32)>, ChemError> {
        let config = config(radius, n_bits)?;
        self.check_sanitizable()?;
        let fp = rdkit_morgan_fingerprint(self.inner(), &config).map_err(morgan_error)?;
        let mut folded: Vec<(u32, u32)> = Vec::with_capacity(fp.sparse_counts.len());
        for (&raw, &count) in &fp.sparse_counts {
            folded.push(((raw as usize % n_bits) as u32, count));
        }
        folded.sort_unstable();
        // Identifiers that fold onto one bit add up, as in RDKit.
        folded.dedup_by(|next, kept| {
            if next.0 == kept.0 {
                kept.1 += next.1;
                true
            } else {
                false
            }
        });
        Ok(folded)
    }

    /// Fails as RDKit's `MolFromSmiles` does for molecules it cannot sanitize (valence, rings that
    /// cannot be kekulized): a fingerprint of such a graph would score a molecule RDKit rejects.
    pub fn check_sanitizable(&self) -> Result<(), ChemError> {
        chematic::smiles::rdkit_sanitized_model(self.inner())
            .map(|_| ())
            .map_err(|e| ChemError::Sanitize(e.to_string()))
    }

    /// RDKit's MACCS keys (`MACCSkeys.GenMACCSKeys`): 167 bits, bit `k` is key `k`, bit 0 unused
    /// as in RDKit. Computed on RDKit's aromaticity model, so Kekulé and aromatic spellings agree.
    pub fn maccs(&self) -> Fingerprint {
        let keys = chematic::fp::maccs(self.inner());
        Fingerprint::from_bits(
            MACCS_BITS,
            (0..MACCS_BITS - 1).filter(|&i| keys.get(i)).map(|i| i + 1),
        )
    }
}

/// The backend configuration for `radius`, with the fold width the sparse counts are made at.
fn config(radius: u32, n_bits: usize) -> Result<RdkitMorganConfig, ChemError> {
    if n_bits == 0 {
        return Err(ChemError::Unsupported(
            "a fingerprint needs at least one bit".into(),
        ));
    }
    if n_bits > u32::MAX as usize {
        return Err(ChemError::Unsupported(format!(
            "{n_bits} fingerprint bits (at most {})",
            u32::MAX
        )));
    }
    let radius = match radius {
        0 => RdkitMorganRadius::R0,
        1 => RdkitMorganRadius::R1,
        2 => RdkitMorganRadius::R2,
        3 => RdkitMorganRadius::R3,
        _ => {
            return Err(ChemError::Unsupported(format!(
                "Morgan radius {radius}: the RDKit-exact backend supports radius 0 to 3"
            )))
        }
    };
    Ok(RdkitMorganConfig {
        radius,
        fp_size: RdkitMorganFpSize::B2048,
        include_chirality: false,
    })
}

/// The backend's own fold widths, for which its faster bit-only path applies.
fn native_size(n_bits: usize) -> Option<RdkitMorganFpSize> {
    Some(match n_bits {
        128 => RdkitMorganFpSize::B128,
        256 => RdkitMorganFpSize::B256,
        512 => RdkitMorganFpSize::B512,
        1024 => RdkitMorganFpSize::B1024,
        2048 => RdkitMorganFpSize::B2048,
        _ => return None,
    })
}

fn morgan_error(e: RdkitMorganError) -> ChemError {
    match e {
        RdkitMorganError::UnsupportedBondOrder { .. }
        | RdkitMorganError::UnsupportedCoordinationSanitization { .. } => {
            ChemError::Unsupported(e.to_string())
        }
        _ => ChemError::Sanitize(e.to_string()),
    }
}
