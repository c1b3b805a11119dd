//! SpookyNet (Unke, Chmiela, Gastegger, Schütt, Sauceda, Müller, Nat. Commun. 12, 7273 (2021)),
//! computed as the reference implementation OUnke/SpookyNet (commit d57b1fc) computes it, so
//! that a reference state dict loads under its own names ([`SpookyNet::from_reference`]) and
//! gives the same energies and forces (to ~1e-14 in f64 against
//! `scripts/gen_spookynet_golden.py`, with and without the nonlocal interaction).
//!
//! Implemented, each as in the reference:
//! - nuclear embedding: a free [87, F] table plus a linear map of the reference's electron
//!   configuration table (ground-state occupations, normalised per column), for Z = 1..=86;
//! - electronic embeddings of the total charge Q and total magnetic moment S of each structure
//!   (`charge_embedding`, `magmom_embedding`: softplus attention of per-atom queries on keys
//!   and values of Q or |S|, then a bias-free residual MLP). chemlm's batches carry no charge
//!   or spin, so [`Potential::energies`] uses the config's `total_charge` and `total_magmom`
//!   (default 0, neutral singlet) for every structure; [`SpookyNet::energies_with_state`]
//!   takes them per structure. With Q = S = 0 both embeddings are exactly zero;
//! - exponential Bernstein radial basis (trainable α, optional exp(−αr) weighting) times the
//!   reference's smooth cutoff exp(−r²/((r_c − r)(r_c + r)));
//! - s, p and d interaction features (p: the unit vector; d: the five real l = 2 functions, or
//!   the six reducible Cartesian products when `use_irreps = false`), local interaction
//!   with projections of p and d onto scalars, residual stacks and residual MLPs with Swish or
//!   shifted-softplus activations with trainable per-feature α and β;
//! - the nonlocal interaction (`use_nonlocal_interaction`, on in the preset): Performer
//!   attention with F positive random features among the atoms of each structure (one
//!   deliberate difference in an edge case, see the comment of `SpookyNet::nonlocal`);
//! - interaction modules whose outputs are summed into the atomic descriptor, the linear output
//!   (atomic energy and raw partial charge) plus the per-element biases `element_bias[Z]`;
//! - partial charges corrected to each structure's total charge, and their point-charge
//!   electrostatics (`use_electrostatics`, needs `lr_cutoff`; off in the preset, since chemlm
//!   trains on energies and forces only and has no dipole labels to fit the charges): the
//!   reference's `ElectrostaticEnergy` for molecules, i.e. without its optional Ewald summation
//!   for periodic cells;
//! - the ZBL-like nuclear repulsion with its ten trainable parameters (Å, eV: the reference's
//!   default a0 and Coulomb constant).
//!
//! Not implemented (the config rejects them with an error): D4 dispersion, Ewald summation,
//! electrostatics without a long-range cutoff, the nonlinear electronic embedding variant,
//! module dropout (`module_keep_prob` < 1), radial bases other than exponential Bernstein.
//! Dipole moments are not computed. The local model (`use_nonlocal_interaction = false`) equals
//! the reference with its nonlocal block's output set to zero.
//!
//! Energy of a structure: Σ_a (σ·y_a + μ + e_ref[Z_a]) + E_ZBL + E_elec, with y_a the
//! reference's atomic energy (output row 0 plus `element_bias[Z_a, 0]`) and (σ, μ, e_ref) the
//! [`EnergyScale`]; the identity scale gives the reference's energy exactly. Repulsion and
//! electrostatics are physical energies in eV and are not scaled.
//!
//! Weights are named as in the reference's `state_dict()` (e.g.
//! `module.0.local_interaction.radial_p.weight`, `zbl_repulsion_energy._a1`), so a reference
//! state dict loads as is; the reference's buffers (electron configurations, Bernstein
//! coefficients, `keep_prob`) are computed here and only checked on loading, except the
//! attention's random features `module.<t>.nonlocal_interaction.attention.omega`, which are
//! drawn once per model and therefore stored with the weights (never trained). Fresh weights
//! follow the reference's initialisation (orthogonal or zero matrices, zero nuclear embedding,
//! Swish α = 1, β = 1.702, ZBL at its literature values).
//!
//! Every operation is a composition of candle ops with differentiable backward passes, so
//! forces can be trained (gradients of gradients).

use crate::blocks::{norms, softplus};
use crate::error::{FfError, FfResult};
use crate::input::AtomsInput;
use crate::io;
use crate::potential::Potential;
use crate::scale::EnergyScale;
use candle_core::{DType, Device, Tensor, D};
use candle_nn::{Init, VarBuilder, VarMap};
use chemlm_models::init::SeededBackend;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The `model_type` of SpookyNet in `config.json`.
pub const MODEL_TYPE: &str = "spookynet";

/// The preset, `configs/ff-spookynet.toml` (the paper's sizes).
pub(crate) const PRESET_TOML: &str = include_str!("../../../../configs/ff-spookynet.toml");

/// Rows of the element tables (the reference's `Zmax`): Z = 0..=86, elements up to Rn.
pub const ZMAX: usize = 87;

/// Columns of the electron configuration table.
const N_CONFIG: usize = 20;

/// Bohr radius in Å and Coulomb constant in eV·Å/e², the reference's ZBL defaults.
const A0: f64 = 0.529_177_210_563_841_1;
const KE: f64 = 14.399_645_351_950_548;

/// Initial α of the Bernstein basis: 0.5 / Bohr in 1/Å.
const INI_ALPHA: f64 = 0.944_863_062_918_464;

/// Added to the attention normaliser of the electronic embeddings (the reference's eps).
const ATTENTION_EPS: f64 = 1e-8;

/// Activation of SpookyNet's residual blocks; both have trainable per-feature α and β.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SpookyActivation {
    /// α·x·σ(β·x), β starting at 1.702 (≈ GELU).
    Swish,
    /// α·(softplus(β·x) − ln 2)/β (α·x/2 where β = 0).
    Ssp,
}

/// Sizes and options of a SpookyNet model (serialised into `config.json`, next to
/// `energy_scale`). Names follow the reference's constructor arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpookyNetConfig {
    /// Always "spookynet".
    #[serde(default = "default_model_type")]
    pub model_type: String,
    /// Activation of every residual block.
    #[serde(default = "default_activation")]
    pub activation: SpookyActivation,
    /// Feature width F.
    pub num_features: usize,
    /// Number K of radial basis functions.
    pub num_basis_functions: usize,
    /// Number of interaction modules.
    pub num_modules: usize,
    /// Residual blocks of the electronic embeddings' MLPs.
    #[serde(default = "one")]
    pub num_residual_electron: usize,
    /// Residual blocks applied to x at the start of each module.
    #[serde(default = "one")]
    pub num_residual_pre: usize,
    /// Residual blocks of the local interaction's x branch.
    #[serde(default = "one")]
    pub num_residual_local_x: usize,
    /// Residual blocks of the local interaction's s branch.
    #[serde(default = "one")]
    pub num_residual_local_s: usize,
    /// Residual blocks of the local interaction's p branch.
    #[serde(default = "one")]
    pub num_residual_local_p: usize,
    /// Residual blocks of the local interaction's d branch.
    #[serde(default = "one")]
    pub num_residual_local_d: usize,
    /// Residual blocks of the local interaction's output MLP.
    #[serde(default = "one")]
    pub num_residual_local: usize,
    /// Residual blocks applied after the interaction in each module.
    #[serde(default = "one")]
    pub num_residual_post: usize,
    /// Residual blocks of each module's output MLP.
    #[serde(default = "one")]
    pub num_residual_output: usize,
    /// Radial basis; only "exp-bernstein" (the reference's default) is implemented.
    #[serde(default = "default_basis")]
    pub basis_functions: String,
    /// Multiply the basis by exp(−α r) (the reference's default: true).
    #[serde(default = "yes")]
    pub exp_weighting: bool,
    /// Cutoff radius in Å (the reference's default: 10 Bohr).
    #[serde(default = "default_cutoff")]
    pub cutoff: f64,
    /// Add the ZBL-like nuclear repulsion.
    #[serde(default = "yes")]
    pub use_zbl_repulsion: bool,
    /// d features as the five real l = 2 functions (true) or six Cartesian products (false).
    #[serde(default = "yes")]
    pub use_irreps: bool,
    /// Nonlocal (Performer) attention among all atoms of a structure in every module, as in
    /// the reference, which always has it. Off when absent from a config (a local model).
    #[serde(default)]
    pub use_nonlocal_interaction: bool,
    /// Residual blocks of the nonlocal queries' MLP.
    #[serde(default = "one")]
    pub num_residual_nonlocal_q: usize,
    /// Residual blocks of the nonlocal keys' MLP.
    #[serde(default = "one")]
    pub num_residual_nonlocal_k: usize,
    /// Residual blocks of the nonlocal values' MLP.
    #[serde(default = "one")]
    pub num_residual_nonlocal_v: usize,
    /// Point-charge electrostatics of the predicted partial charges (molecules: no Ewald sum).
    /// Needs `lr_cutoff`.
    #[serde(default)]
    pub use_electrostatics: bool,
    /// Long-range cutoff in Å of the electrostatics (the reference's shifted Coulomb law). The
    /// reference also allows none (all pairs of a structure), but chemlm's neighbour lists are
    /// finite, so with electrostatics it must be set; neighbour lists are then built with it
    /// ([`Potential::cutoff`]) and the local part ignores pairs beyond `cutoff`.
    #[serde(default)]
    pub lr_cutoff: Option<f64>,
    /// D4 dispersion: not implemented, must be false.
    #[serde(default)]
    pub use_d4_dispersion: bool,
    /// Nonlinear electronic embedding variant: not implemented, must be false.
    #[serde(default)]
    pub use_nonlinear_embedding: bool,
    /// Module dropout while training: not implemented, must be 1.
    #[serde(default = "one_f64")]
    pub module_keep_prob: f64,
    /// Total charge (e) of every structure when none is given per structure.
    #[serde(default)]
    pub total_charge: f64,
    /// Total magnetic moment (number of unpaired electrons) of every structure when none is
    /// given per structure.
    #[serde(default)]
    pub total_magmom: f64,
}

fn default_model_type() -> String {
    MODEL_TYPE.to_string()
}
fn default_activation() -> SpookyActivation {
    SpookyActivation::Swish
}
fn one() -> usize {
    1
}
fn one_f64() -> f64 {
    1.0
}
fn yes() -> bool {
    true
}
fn default_basis() -> String {
    "exp-bernstein".to_string()
}
fn default_cutoff() -> f64 {
    10.0 * A0
}

impl SpookyNetConfig {
    /// The preset of `configs/ff-spookynet.toml`: F = 128, K = 64, 6 modules, cutoff 10 Bohr,
    /// nonlocal attention on.
    pub fn paper() -> Self {
        // The preset is compiled in and covered by a test, so it always parses.
        Self::from_toml_str(PRESET_TOML, "configs/ff-spookynet.toml")
            .unwrap_or_else(|e| panic!("built-in SpookyNet preset: {e}"))
    }

    /// Parses and validates a TOML config (`origin` names it in errors).
    pub fn from_toml_str(text: &str, origin: &str) -> FfResult<Self> {
        let cfg: SpookyNetConfig = io::config_from_toml(text, origin)?;
        cfg.validate(origin)?;
        Ok(cfg)
    }

    /// Parses and validates a JSON config (the `config.json` of a saved model).
    pub fn from_json(value: &serde_json::Value, origin: &str) -> FfResult<Self> {
        let cfg: SpookyNetConfig = io::config_from_json(value, origin)?;
        cfg.validate(origin)?;
        Ok(cfg)
    }

    /// Checks sizes and options; the parts of SpookyNet chemlm lacks are errors, not ignored.
    pub fn validate(&self, origin: &str) -> FfResult<()> {
        let bad = |reason: String| {
            Err(FfError::Config {
                origin: origin.to_string(),
                reason,
            })
        };
        if self.model_type != MODEL_TYPE {
            return bad(format!(
                "model_type is {:?}, expected {MODEL_TYPE:?}",
                self.model_type
            ));
        }
        if self.num_features == 0 || self.num_modules == 0 {
            return bad("num_features and num_modules must be positive".into());
        }
        if self.num_basis_functions < 2 {
            return bad(format!(
                "num_basis_functions must be at least 2, got {}",
                self.num_basis_functions
            ));
        }
        if !(self.cutoff.is_finite() && self.cutoff > 0.0) {
            return bad(format!("cutoff must be positive, got {}", self.cutoff));
        }
        if self.basis_functions != "exp-bernstein" {
            return bad(format!(
                "basis_functions {:?} is not implemented (only \"exp-bernstein\")",
                self.basis_functions
            ));
        }
        let missing = [
            (self.use_d4_dispersion, "use_d4_dispersion"),
            (self.use_nonlinear_embedding, "use_nonlinear_embedding"),
        ];
        if let Some((_, name)) = missing.iter().find(|(on, _)| *on) {
            return bad(format!(
                "{name} = true is not implemented in chemlm's SpookyNet (embeddings, local and \
                 nonlocal interactions, ZBL repulsion); set it to false"
            ));
        }
        if self.use_electrostatics {
            match self.lr_cutoff {
                None => {
                    return bad(
                        "use_electrostatics needs lr_cutoff (Å): chemlm's neighbour lists \
                                are finite, so \"no long-range cutoff\" is not available"
                            .into(),
                    )
                }
                Some(c) if !(c.is_finite() && c > 0.0) => {
                    return bad(format!("lr_cutoff must be positive, got {c}"))
                }
                Some(_) => {}
            }
        }
        if self.module_keep_prob != 1.0 {
            return bad(format!(
                "module_keep_prob = {} (module dropout) is not implemented; use 1.0",
                self.module_keep_prob
            ));
        }
        if !(self.total_charge.is_finite() && self.total_magmom.is_finite()) {
            return bad("total_charge and total_magmom must be finite".into());
        }
        Ok(())
    }

    /// The config as stored in `config.json`, with the energy scale.
    pub fn to_json(&self, scale: &EnergyScale) -> FfResult<serde_json::Value> {
        io::config_json_with_scale(self, scale)
    }
}

/// Ground-state electron configurations of Z = 0..=86 as in the reference's table: Z, then the
/// occupations of 1s 2s 2p 3s 3p 4s 3d 4p 5s 4d 5p 6s 4f 5d 6p, then the valence s, p, d, f
/// electrons. Normalised per column by its maximum before use ([`electron_config`]).
#[rustfmt::skip]
const ELECTRON_CONFIG: [[u8; N_CONFIG]; ZMAX] = [
    [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0], // n
    [1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0], // H
    [2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0], // He
    [3, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0], // Li
    [4, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0], // Be
    [5, 2, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0], // B
    [6, 2, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0], // C
    [7, 2, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 0, 0], // N
    [8, 2, 2, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 4, 0, 0], // O
    [9, 2, 2, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 5, 0, 0], // F
    [10, 2, 2, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 6, 0, 0], // Ne
    [11, 2, 2, 6, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0], // Na
    [12, 2, 2, 6, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0], // Mg
    [13, 2, 2, 6, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1, 0, 0], // Al
    [14, 2, 2, 6, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 2, 0, 0], // Si
    [15, 2, 2, 6, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 3, 0, 0], // P
    [16, 2, 2, 6, 2, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 4, 0, 0], // S
    [17, 2, 2, 6, 2, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 5, 0, 0], // Cl
    [18, 2, 2, 6, 2, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 6, 0, 0], // Ar
    [19, 2, 2, 6, 2, 6, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0], // K
    [20, 2, 2, 6, 2, 6, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0], // Ca
    [21, 2, 2, 6, 2, 6, 2, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1, 0], // Sc
    [22, 2, 2, 6, 2, 6, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 2, 0], // Ti
    [23, 2, 2, 6, 2, 6, 2, 3, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0], // V
    [24, 2, 2, 6, 2, 6, 1, 5, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 5, 0], // Cr
    [25, 2, 2, 6, 2, 6, 2, 5, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 5, 0], // Mn
    [26, 2, 2, 6, 2, 6, 2, 6, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 6, 0], // Fe
    [27, 2, 2, 6, 2, 6, 2, 7, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 7, 0], // Co
    [28, 2, 2, 6, 2, 6, 2, 8, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 8, 0], // Ni
    [29, 2, 2, 6, 2, 6, 1, 10, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 10, 0], // Cu
    [30, 2, 2, 6, 2, 6, 2, 10, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 10, 0], // Zn
    [31, 2, 2, 6, 2, 6, 2, 10, 1, 0, 0, 0, 0, 0, 0, 0, 2, 1, 10, 0], // Ga
    [32, 2, 2, 6, 2, 6, 2, 10, 2, 0, 0, 0, 0, 0, 0, 0, 2, 2, 10, 0], // Ge
    [33, 2, 2, 6, 2, 6, 2, 10, 3, 0, 0, 0, 0, 0, 0, 0, 2, 3, 10, 0], // As
    [34, 2, 2, 6, 2, 6, 2, 10, 4, 0, 0, 0, 0, 0, 0, 0, 2, 4, 10, 0], // Se
    [35, 2, 2, 6, 2, 6, 2, 10, 5, 0, 0, 0, 0, 0, 0, 0, 2, 5, 10, 0], // Br
    [36, 2, 2, 6, 2, 6, 2, 10, 6, 0, 0, 0, 0, 0, 0, 0, 2, 6, 10, 0], // Kr
    [37, 2, 2, 6, 2, 6, 2, 10, 6, 1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0], // Rb
    [38, 2, 2, 6, 2, 6, 2, 10, 6, 2, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0], // Sr
    [39, 2, 2, 6, 2, 6, 2, 10, 6, 2, 1, 0, 0, 0, 0, 0, 2, 0, 1, 0], // Y
    [40, 2, 2, 6, 2, 6, 2, 10, 6, 2, 2, 0, 0, 0, 0, 0, 2, 0, 2, 0], // Zr
    [41, 2, 2, 6, 2, 6, 2, 10, 6, 1, 4, 0, 0, 0, 0, 0, 1, 0, 4, 0], // Nb
    [42, 2, 2, 6, 2, 6, 2, 10, 6, 1, 5, 0, 0, 0, 0, 0, 1, 0, 5, 0], // Mo
    [43, 2, 2, 6, 2, 6, 2, 10, 6, 2, 5, 0, 0, 0, 0, 0, 2, 0, 5, 0], // Tc
    [44, 2, 2, 6, 2, 6, 2, 10, 6, 1, 7, 0, 0, 0, 0, 0, 1, 0, 7, 0], // Ru
    [45, 2, 2, 6, 2, 6, 2, 10, 6, 1, 8, 0, 0, 0, 0, 0, 1, 0, 8, 0], // Rh
    [46, 2, 2, 6, 2, 6, 2, 10, 6, 0, 10, 0, 0, 0, 0, 0, 0, 0, 10, 0], // Pd
    [47, 2, 2, 6, 2, 6, 2, 10, 6, 1, 10, 0, 0, 0, 0, 0, 1, 0, 10, 0], // Ag
    [48, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 0, 0, 0, 0, 0, 2, 0, 10, 0], // Cd
    [49, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 1, 0, 0, 0, 0, 2, 1, 10, 0], // In
    [50, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 2, 0, 0, 0, 0, 2, 2, 10, 0], // Sn
    [51, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 3, 0, 0, 0, 0, 2, 3, 10, 0], // Sb
    [52, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 4, 0, 0, 0, 0, 2, 4, 10, 0], // Te
    [53, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 5, 0, 0, 0, 0, 2, 5, 10, 0], // I
    [54, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 0, 0, 0, 0, 2, 6, 10, 0], // Xe
    [55, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 1, 0, 0, 0, 1, 0, 0, 0], // Cs
    [56, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 0, 0, 0, 2, 0, 0, 0], // Ba
    [57, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 0, 1, 0, 2, 0, 1, 0], // La
    [58, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 1, 1, 0, 2, 0, 1, 1], // Ce
    [59, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 3, 0, 0, 2, 0, 0, 3], // Pr
    [60, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 4, 0, 0, 2, 0, 0, 4], // Nd
    [61, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 5, 0, 0, 2, 0, 0, 5], // Pm
    [62, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 6, 0, 0, 2, 0, 0, 6], // Sm
    [63, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 7, 0, 0, 2, 0, 0, 7], // Eu
    [64, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 7, 1, 0, 2, 0, 1, 7], // Gd
    [65, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 9, 0, 0, 2, 0, 0, 9], // Tb
    [66, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 10, 0, 0, 2, 0, 0, 10], // Dy
    [67, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 11, 0, 0, 2, 0, 0, 11], // Ho
    [68, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 12, 0, 0, 2, 0, 0, 12], // Er
    [69, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 13, 0, 0, 2, 0, 0, 13], // Tm
    [70, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 14, 0, 0, 2, 0, 0, 14], // Yb
    [71, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 14, 1, 0, 2, 0, 1, 14], // Lu
    [72, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 14, 2, 0, 2, 0, 2, 14], // Hf
    [73, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 14, 3, 0, 2, 0, 3, 14], // Ta
    [74, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 14, 4, 0, 2, 0, 4, 14], // W
    [75, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 14, 5, 0, 2, 0, 5, 14], // Re
    [76, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 14, 6, 0, 2, 0, 6, 14], // Os
    [77, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 14, 7, 0, 2, 0, 7, 14], // Ir
    [78, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 1, 14, 9, 0, 1, 0, 9, 14], // Pt
    [79, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 1, 14, 10, 0, 1, 0, 10, 14], // Au
    [80, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 14, 10, 0, 2, 0, 10, 14], // Hg
    [81, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 14, 10, 1, 2, 1, 10, 14], // Tl
    [82, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 14, 10, 2, 2, 2, 10, 14], // Pb
    [83, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 14, 10, 3, 2, 3, 10, 14], // Bi
    [84, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 14, 10, 4, 2, 4, 10, 14], // Po
    [85, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 14, 10, 5, 2, 5, 10, 14], // At
    [86, 2, 2, 6, 2, 6, 2, 10, 6, 2, 10, 6, 2, 14, 10, 6, 2, 6, 10, 14], // Rn
];

/// The reference's electron-configuration buffer: [`ELECTRON_CONFIG`] divided by its column
/// maxima, row-major `[ZMAX, 20]`.
pub fn electron_config() -> Vec<f64> {
    let mut max = [0u8; N_CONFIG];
    for row in &ELECTRON_CONFIG {
        for (m, &v) in max.iter_mut().zip(row) {
            *m = (*m).max(v);
        }
    }
    ELECTRON_CONFIG
        .iter()
        .flat_map(|row| {
            row.iter()
                .zip(max)
                .map(|(&v, m)| f64::from(v) / f64::from(m.max(1)))
        })
        .collect()
}

/// x with softplus(x) = y (for initialising parameters that pass through softplus).
fn softplus_inverse(y: f64) -> f64 {
    y + (-(-y).exp_m1()).ln()
}

/// The reference's Bernstein buffers (log binomial coefficients, powers n and v).
fn bernstein_buffers(k: usize) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let mut logfact = vec![0.0f64; k];
    for i in 2..k {
        logfact[i] = logfact[i - 1] + (i as f64).ln();
    }
    let v: Vec<f64> = (0..k).map(|i| i as f64).collect();
    let n: Vec<f64> = (0..k).map(|i| (k - 1 - i) as f64).collect();
    let logc = (0..k)
        .map(|i| logfact[k - 1] - logfact[i] - logfact[k - 1 - i])
        .collect();
    (logc, n, v)
}

/// How a fresh weight matrix starts (the reference's `reset_parameters`).
#[derive(Clone, Copy)]
enum MatInit {
    /// torch's `orthogonal_`.
    Orthogonal,
    Zero,
}

/// Builds variables and remembers which fresh matrices must be made orthogonal: candle's
/// initialisers have no orthogonal option, so they are drawn N(0, 1) (seeded) and
/// orthonormalised once the model is built.
struct Maker {
    orthogonal: Vec<String>,
}

impl Maker {
    fn matrix(
        &mut self,
        vb: &VarBuilder,
        name: &str,
        shape: (usize, usize),
        init: MatInit,
    ) -> FfResult<Tensor> {
        let fresh = !vb.contains_tensor(name);
        let hint = match init {
            MatInit::Orthogonal => Init::Randn {
                mean: 0.0,
                stdev: 1.0,
            },
            MatInit::Zero => Init::Const(0.0),
        };
        let t = vb.get_with_hints(shape, name, hint)?;
        if fresh && matches!(init, MatInit::Orthogonal) {
            let prefix = vb.prefix();
            self.orthogonal.push(if prefix.is_empty() {
                name.to_string()
            } else {
                format!("{prefix}.{name}")
            });
        }
        Ok(t)
    }

    fn constant<S: Into<candle_core::Shape>>(
        &mut self,
        vb: &VarBuilder,
        name: &str,
        shape: S,
        value: f64,
    ) -> FfResult<Tensor> {
        Ok(vb.get_with_hints(shape, name, Init::Const(value))?)
    }

    fn linear(
        &mut self,
        vb: VarBuilder,
        in_dim: usize,
        out_dim: usize,
        bias: bool,
        init: MatInit,
    ) -> FfResult<Linear> {
        let weight = self.matrix(&vb, "weight", (out_dim, in_dim), init)?;
        let bias = if bias {
            Some(self.constant(&vb, "bias", out_dim, 0.0)?)
        } else {
            None
        };
        Ok(Linear { weight, bias })
    }

    fn act(&mut self, vb: VarBuilder, f: usize, kind: SpookyActivation) -> FfResult<Act> {
        let beta0 = match kind {
            SpookyActivation::Swish => 1.702,
            SpookyActivation::Ssp => 1.0,
        };
        Ok(Act {
            kind,
            alpha: self.constant(&vb, "alpha", f, 1.0)?,
            beta: self.constant(&vb, "beta", f, beta0)?,
        })
    }

    /// The reference's `ResidualStack`: blocks whose second linear layer starts at zero.
    fn stack(
        &mut self,
        vb: VarBuilder,
        f: usize,
        n: usize,
        kind: SpookyActivation,
        bias: bool,
    ) -> FfResult<Vec<Residual>> {
        (0..n)
            .map(|k| {
                let b = vb.pp("stack").pp(k);
                Ok(Residual {
                    act1: self.act(b.pp("activation1"), f, kind)?,
                    lin1: self.linear(b.pp("linear1"), f, f, bias, MatInit::Orthogonal)?,
                    act2: self.act(b.pp("activation2"), f, kind)?,
                    lin2: self.linear(b.pp("linear2"), f, f, bias, MatInit::Zero)?,
                })
            })
            .collect()
    }

    /// The reference's `ResidualMLP`; `zero_init` zeroes its final linear layer.
    fn mlp(
        &mut self,
        vb: VarBuilder,
        f: usize,
        n: usize,
        kind: SpookyActivation,
        bias: bool,
        zero_init: bool,
    ) -> FfResult<ResidualMlp> {
        let init = if zero_init {
            MatInit::Zero
        } else {
            MatInit::Orthogonal
        };
        Ok(ResidualMlp {
            stack: self.stack(vb.pp("residual"), f, n, kind, bias)?,
            act: self.act(vb.pp("activation"), f, kind)?,
            linear: self.linear(vb.pp("linear"), f, f, bias, init)?,
        })
    }
}

/// Makes the named `[rows, cols]` variables orthogonal as torch's `orthogonal_` does: QR of the
/// (transposed, if wide) Gaussian draw with R's diagonal made positive, here by modified
/// Gram–Schmidt on the columns of the tall matrix.
fn orthogonalise(varmap: &VarMap, names: &[String]) -> FfResult<()> {
    let data = varmap
        .data()
        .lock()
        .map_err(|_| FfError::Invalid("weight map lock poisoned".into()))?;
    for name in names {
        let var = data
            .get(name)
            .ok_or_else(|| FfError::Invalid(format!("variable {name} vanished")))?;
        let (rows, cols) = var.as_tensor().dims2()?;
        let m: Vec<f64> = var
            .as_tensor()
            .to_dtype(DType::F64)?
            .flatten_all()?
            .to_vec1()?;
        // Tall matrix a[t][c] of shape [tall, short], columns orthonormalised.
        let (tall, short, transposed) = if rows < cols {
            (cols, rows, true)
        } else {
            (rows, cols, false)
        };
        let at = |r: usize, c: usize| -> f64 {
            if transposed {
                m[c * cols + r]
            } else {
                m[r * cols + c]
            }
        };
        let mut q: Vec<Vec<f64>> = (0..short)
            .map(|c| (0..tall).map(|r| at(r, c)).collect())
            .collect();
        for c in 0..short {
            for prev in 0..c {
                let dot: f64 = q[c].iter().zip(&q[prev]).map(|(a, b)| a * b).sum();
                let (head, tail) = q.split_at_mut(c);
                for (x, p) in tail[0].iter_mut().zip(&head[prev]) {
                    *x -= dot * p;
                }
            }
            let norm = q[c].iter().map(|x| x * x).sum::<f64>().sqrt();
            if norm > 0.0 {
                q[c].iter_mut().for_each(|x| *x /= norm);
            }
        }
        let mut out = vec![0.0f64; rows * cols];
        for (c, col) in q.iter().enumerate() {
            for (r, &x) in col.iter().enumerate() {
                if transposed {
                    out[c * cols + r] = x;
                } else {
                    out[r * cols + c] = x;
                }
            }
        }
        let t = Tensor::from_vec(out, (rows, cols), var.device())?.to_dtype(var.dtype())?;
        var.set(&t)?;
    }
    Ok(())
}

/// Maximum of `u` `[n, m]` per row (`per_row`, `[n, 1]`) or over all elements (`[1, 1]`),
/// whose gradient is shared evenly among tied maxima: the mean of the elements equal to the
/// max, with the selection computed on detached values. candle's max gives every tied element
/// the full gradient, which double-counts the key maximum of a molecule with two
/// symmetry-equivalent atoms; an even share is torch's rule for a full reduction (the
/// reference's single-structure path), equals the symmetric finite difference and keeps
/// forces equivariant under permutations of equivalent atoms.
///
/// Ties are values within 64 units of rounding of the max, not bit-equal ones: symmetry-equivalent
/// atoms give equal values only up to rounding, and which of them came out bit-equal changed
/// with the GEMM kernels (AVX2 vs AVX-512), moving forces by 5e-5 under a rotation.
fn shared_max(u: &Tensor, per_row: bool) -> FfResult<Tensor> {
    let fixed = u.detach();
    let max = if per_row {
        fixed.max_keepdim(1)?
    } else {
        fixed.max_keepdim(1)?.max_keepdim(0)?
    };
    let eps = match u.dtype() {
        DType::F64 => f64::EPSILON,
        DType::F32 => f64::from(f32::EPSILON),
        DType::F16 => 1.0 / 1024.0,
        _ => 1.0 / 128.0,
    };
    let tol = (max.abs()?.maximum(1.0)? * (64.0 * eps))?;
    let gap = max.broadcast_sub(&fixed)?;
    let mask = gap.broadcast_le(&tol)?.to_dtype(u.dtype())?;
    let (picked, count) = if per_row {
        ((u * &mask)?.sum_keepdim(1)?, mask.sum_keepdim(1)?)
    } else {
        (
            (u * &mask)?.sum_keepdim(1)?.sum_keepdim(0)?,
            mask.sum_keepdim(1)?.sum_keepdim(0)?,
        )
    };
    Ok((picked / count)?)
}

/// Sets the named variables to host values (fixed buffers drawn at construction).
fn set_values(varmap: &VarMap, values: &[(String, Vec<f64>)]) -> FfResult<()> {
    let data = varmap
        .data()
        .lock()
        .map_err(|_| FfError::Invalid("weight map lock poisoned".into()))?;
    for (name, v) in values {
        let var = data
            .get(name)
            .ok_or_else(|| FfError::Invalid(format!("variable {name} vanished")))?;
        let t = Tensor::from_vec(v.clone(), var.dims(), var.device())?.to_dtype(var.dtype())?;
        var.set(&t)?;
    }
    Ok(())
}

/// The reference's random feature matrix ω `[f, f]` (row-major): the transpose of a random
/// orthogonal matrix whose rows are rescaled to the lengths of independent N(0, 1) vectors, so
/// that each column of ω is distributed as a Gaussian vector while the columns stay orthogonal.
fn random_features(f: usize, seed: u64) -> Vec<f64> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut normal = || -> f64 {
        let u1: f64 = rng.gen::<f64>().max(f64::MIN_POSITIVE);
        let u2: f64 = rng.gen::<f64>();
        (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
    };
    // Orthonormal rows by Gram–Schmidt of Gaussian rows.
    let mut rows: Vec<Vec<f64>> = (0..f).map(|_| (0..f).map(|_| normal()).collect()).collect();
    for r in 0..f {
        for prev in 0..r {
            let (head, tail) = rows.split_at_mut(r);
            let dot: f64 = tail[0].iter().zip(&head[prev]).map(|(a, b)| a * b).sum();
            for (x, p) in tail[0].iter_mut().zip(&head[prev]) {
                *x -= dot * p;
            }
        }
        let norm = rows[r].iter().map(|x| x * x).sum::<f64>().sqrt();
        rows[r]
            .iter_mut()
            .for_each(|x| *x /= norm.max(f64::MIN_POSITIVE));
    }
    let lengths: Vec<f64> = (0..f)
        .map(|_| (0..f).map(|_| normal().powi(2)).sum::<f64>().sqrt())
        .collect();
    // ω = (diag(lengths) · rows)ᵀ: ω[i][r] = lengths[r] · rows[r][i].
    let mut omega = vec![0.0; f * f];
    for (r, row) in rows.iter().enumerate() {
        for (i, &x) in row.iter().enumerate() {
            omega[i * f + r] = lengths[r] * x;
        }
    }
    omega
}

/// y = x Wᵀ (+ b).
#[derive(Debug, Clone)]
struct Linear {
    weight: Tensor,
    bias: Option<Tensor>,
}

impl Linear {
    fn forward(&self, x: &Tensor) -> FfResult<Tensor> {
        let y = x.matmul(&self.weight.t()?)?;
        Ok(match &self.bias {
            Some(b) => y.broadcast_add(b)?,
            None => y,
        })
    }
}

/// Swish or shifted softplus with trainable per-feature α and β.
#[derive(Debug, Clone)]
struct Act {
    kind: SpookyActivation,
    alpha: Tensor,
    beta: Tensor,
}

impl Act {
    fn forward(&self, x: &Tensor) -> FfResult<Tensor> {
        let bx = x.broadcast_mul(&self.beta)?;
        let y = match self.kind {
            SpookyActivation::Swish => (x * candle_nn::ops::sigmoid(&bx)?)?,
            SpookyActivation::Ssp => {
                // The reference switches to x/2 where β = 0 (the β → 0 limit); a 0/1 mask and a
                // safe β keep both branches finite, so no NaN leaks into gradients.
                let zero = self.beta.eq(0.0)?.to_dtype(x.dtype())?;
                let safe_beta = (&self.beta + &zero)?;
                let sp = (softplus(&x.broadcast_mul(&safe_beta)?)? - std::f64::consts::LN_2)?
                    .broadcast_div(&safe_beta)?;
                let keep = zero.affine(-1.0, 1.0)?;
                (sp.broadcast_mul(&keep)? + (x * 0.5)?.broadcast_mul(&zero)?)?
            }
        };
        Ok(y.broadcast_mul(&self.alpha)?)
    }
}

/// Pre-activation residual block x + W₂ act(W₁ act(x)).
#[derive(Debug, Clone)]
struct Residual {
    act1: Act,
    lin1: Linear,
    act2: Act,
    lin2: Linear,
}

impl Residual {
    fn forward(&self, x: &Tensor) -> FfResult<Tensor> {
        let y = self.lin1.forward(&self.act1.forward(x)?)?;
        let y = self.lin2.forward(&self.act2.forward(&y)?)?;
        Ok((x + y)?)
    }
}

fn run_stack(stack: &[Residual], x: &Tensor) -> FfResult<Tensor> {
    let mut x = x.clone();
    for r in stack {
        x = r.forward(&x)?;
    }
    Ok(x)
}

/// Residual stack, activation, linear layer (the reference's `ResidualMLP`).
#[derive(Debug, Clone)]
struct ResidualMlp {
    stack: Vec<Residual>,
    act: Act,
    linear: Linear,
}

impl ResidualMlp {
    fn forward(&self, x: &Tensor) -> FfResult<Tensor> {
        self.linear
            .forward(&self.act.forward(&run_stack(&self.stack, x)?)?)
    }
}

/// Embedding of a per-structure total charge or magnetic moment.
#[derive(Debug, Clone)]
struct ElectronicEmbedding {
    is_charge: bool,
    linear_q: Linear,
    linear_k: Linear,
    linear_v: Linear,
    resblock: ResidualMlp,
}

/// The local interaction of one module.
#[derive(Debug, Clone)]
struct LocalInteraction {
    radial_s: Linear,
    radial_p: Linear,
    radial_d: Linear,
    resblock_x: ResidualMlp,
    resblock_s: ResidualMlp,
    resblock_p: ResidualMlp,
    resblock_d: ResidualMlp,
    projection_p: Linear,
    projection_d: Linear,
    resblock: ResidualMlp,
}

/// The nonlocal interaction of one module: Performer attention (FAVOR+ positive random
/// features) of queries, keys and values made by three residual MLPs.
#[derive(Debug, Clone)]
struct NonlocalInteraction {
    resblock_q: ResidualMlp,
    resblock_k: ResidualMlp,
    resblock_v: ResidualMlp,
    /// `attention.omega` `[F, F]`: the random feature matrix, a fixed buffer in the reference.
    /// It lives in the weight map so that it is saved and loaded with the model, but it is
    /// used detached: it never receives a gradient, so optimisers leave it unchanged.
    omega: Tensor,
}

/// One interaction module.
#[derive(Debug, Clone)]
struct InteractionModule {
    local: LocalInteraction,
    nonlocal: Option<NonlocalInteraction>,
    residual_pre: Vec<Residual>,
    residual_post: Vec<Residual>,
    resblock: ResidualMlp,
}

/// The ZBL-like repulsion's raw parameters (each `[1]`, used through softplus).
#[derive(Debug, Clone)]
struct Zbl {
    adiv: Tensor,
    apow: Tensor,
    c: [Tensor; 4],
    a: [Tensor; 4],
}

/// Per-atom results of a forward pass.
#[derive(Debug, Clone)]
pub struct AtomicTerms {
    /// Atomic energies y `[n_atoms]` before the energy scale: the reference's `ea` (output row 0
    /// plus `element_bias[Z, 0]`).
    pub energy: Tensor,
    /// Partial charges `[n_atoms]` (e), conserving each structure's total charge.
    pub charges: Tensor,
    /// ZBL repulsion per atom `[n_atoms]` in eV (None without it).
    pub repulsion: Option<Tensor>,
    /// Electrostatic energy per atom `[n_atoms]` in eV (None without it).
    pub electrostatic: Option<Tensor>,
}

/// Per-pair quantities shared by every module.
struct Pairs {
    /// Distances `[P]`.
    d: Tensor,
    /// Cutoff function `[P]` (zero beyond the cutoff).
    fcut: Tensor,
    /// Radial basis `[P, K]`, cutoff included.
    rbf: Tensor,
    /// p functions (the unit vector's components), each `[P, 1]`.
    p: Vec<Tensor>,
    /// d functions, each `[P, 1]`.
    d_fn: Vec<Tensor>,
}

/// A SpookyNet potential (local model, see the module documentation).
pub struct SpookyNet {
    cfg: SpookyNetConfig,
    varmap: VarMap,
    scale: EnergyScale,
    /// `element_bias` `[ZMAX, 2]`: column 0 energy, column 1 charge (unused here).
    element_bias: Tensor,
    element_embedding: Tensor,
    config_linear: Linear,
    /// Normalised electron configurations `[ZMAX, 20]` (a constant).
    electron_config: Tensor,
    charge_embedding: ElectronicEmbedding,
    magmom_embedding: ElectronicEmbedding,
    /// `radial_basis_functions._alpha` (0-dimensional, through softplus).
    rbf_alpha: Tensor,
    /// Bernstein constants `[1, K]`.
    logc: Tensor,
    pow_n: Tensor,
    pow_v: Tensor,
    modules: Vec<InteractionModule>,
    /// `output.weight` `[2, F]`: row 0 atomic energy, row 1 partial charge (unused here).
    output: Tensor,
    zbl: Option<Zbl>,
}

impl SpookyNet {
    /// A fresh model with weights drawn from `seed` following the reference's initialisation,
    /// registered in `varmap` under the reference's state-dict names. Existing variables of
    /// `varmap` with those names are reused, which is how [`SpookyNet::load`] fills a model.
    pub fn new(
        cfg: &SpookyNetConfig,
        varmap: &VarMap,
        dtype: DType,
        device: &Device,
        seed: u64,
    ) -> FfResult<Self> {
        cfg.validate("SpookyNet::new")?;
        let vb = SeededBackend::var_builder(varmap, seed, dtype, device);
        let mut mk = Maker {
            orthogonal: Vec::new(),
        };
        let f = cfg.num_features;
        let k = cfg.num_basis_functions;
        let act = cfg.activation;
        let element_bias = mk.constant(&vb, "element_bias", (ZMAX, 2), 0.0)?;
        let ne = vb.pp("nuclear_embedding");
        let element_embedding = mk.matrix(&ne, "element_embedding", (ZMAX, f), MatInit::Zero)?;
        let config_linear = mk.linear(ne.pp("config_linear"), N_CONFIG, f, false, MatInit::Zero)?;
        let electron_config =
            Tensor::from_vec(electron_config(), (ZMAX, N_CONFIG), device)?.to_dtype(dtype)?;
        let mut electronic = |name: &str, is_charge: bool| -> FfResult<ElectronicEmbedding> {
            let b = vb.pp(name);
            let c = if is_charge { 2 } else { 1 };
            Ok(ElectronicEmbedding {
                is_charge,
                linear_q: mk.linear(b.pp("linear_q"), f, f, true, MatInit::Orthogonal)?,
                linear_k: mk.linear(b.pp("linear_k"), c, f, false, MatInit::Orthogonal)?,
                linear_v: mk.linear(b.pp("linear_v"), c, f, false, MatInit::Orthogonal)?,
                resblock: mk.mlp(
                    b.pp("resblock"),
                    f,
                    cfg.num_residual_electron,
                    act,
                    false,
                    true,
                )?,
            })
        };
        let charge_embedding = electronic("charge_embedding", true)?;
        let magmom_embedding = electronic("magmom_embedding", false)?;
        let rbf_alpha = vb.pp("radial_basis_functions").get_with_hints(
            (),
            "_alpha",
            Init::Const(softplus_inverse(INI_ALPHA)),
        )?;
        let (logc, pow_n, pow_v) = bernstein_buffers(k);
        let row = |v: Vec<f64>| -> FfResult<Tensor> {
            Ok(Tensor::from_vec(v, (1, k), device)?.to_dtype(dtype)?)
        };
        let (logc, pow_n, pow_v) = (row(logc)?, row(pow_n)?, row(pow_v)?);
        let mut modules = Vec::with_capacity(cfg.num_modules);
        let mut fixed: Vec<(String, Vec<f64>)> = Vec::new();
        for t in 0..cfg.num_modules {
            let b = vb.pp("module").pp(t);
            let l = b.pp("local_interaction");
            let ortho = MatInit::Orthogonal;
            let local = LocalInteraction {
                radial_s: mk.linear(l.pp("radial_s"), k, f, false, ortho)?,
                radial_p: mk.linear(l.pp("radial_p"), k, f, false, ortho)?,
                radial_d: mk.linear(l.pp("radial_d"), k, f, false, ortho)?,
                resblock_x: mk.mlp(
                    l.pp("resblock_x"),
                    f,
                    cfg.num_residual_local_x,
                    act,
                    true,
                    false,
                )?,
                resblock_s: mk.mlp(
                    l.pp("resblock_s"),
                    f,
                    cfg.num_residual_local_s,
                    act,
                    true,
                    false,
                )?,
                resblock_p: mk.mlp(
                    l.pp("resblock_p"),
                    f,
                    cfg.num_residual_local_p,
                    act,
                    true,
                    false,
                )?,
                resblock_d: mk.mlp(
                    l.pp("resblock_d"),
                    f,
                    cfg.num_residual_local_d,
                    act,
                    true,
                    false,
                )?,
                projection_p: mk.linear(l.pp("projection_p"), f, 2 * f, false, ortho)?,
                projection_d: mk.linear(l.pp("projection_d"), f, 2 * f, false, ortho)?,
                resblock: mk.mlp(l.pp("resblock"), f, cfg.num_residual_local, act, true, true)?,
            };
            let nonlocal = if cfg.use_nonlocal_interaction {
                let n = b.pp("nonlocal_interaction");
                let mut mlp =
                    |name: &str, depth: usize| mk.mlp(n.pp(name), f, depth, act, true, true);
                let (resblock_q, resblock_k, resblock_v) = (
                    mlp("resblock_q", cfg.num_residual_nonlocal_q)?,
                    mlp("resblock_k", cfg.num_residual_nonlocal_k)?,
                    mlp("resblock_v", cfg.num_residual_nonlocal_v)?,
                );
                let a = n.pp("attention");
                let fresh = !a.contains_tensor("omega");
                let omega = a.get_with_hints((f, f), "omega", Init::Const(0.0))?;
                if fresh {
                    // A different stream per module, all determined by the model's seed.
                    let values = random_features(f, seed ^ (0x9e37_79b9_7f4a_7c15 ^ t as u64));
                    fixed.push((format!("{}.omega", a.prefix()), values));
                }
                Some(NonlocalInteraction {
                    resblock_q,
                    resblock_k,
                    resblock_v,
                    omega,
                })
            } else {
                None
            };
            modules.push(InteractionModule {
                local,
                nonlocal,
                residual_pre: mk.stack(b.pp("residual_pre"), f, cfg.num_residual_pre, act, true)?,
                residual_post: mk.stack(
                    b.pp("residual_post"),
                    f,
                    cfg.num_residual_post,
                    act,
                    true,
                )?,
                resblock: mk.mlp(
                    b.pp("resblock"),
                    f,
                    cfg.num_residual_output,
                    act,
                    true,
                    false,
                )?,
            });
        }
        let output = mk.matrix(&vb.pp("output"), "weight", (2, f), MatInit::Orthogonal)?;
        let zbl = if cfg.use_zbl_repulsion {
            let z = vb.pp("zbl_repulsion_energy");
            let mut p = |name: &str, value: f64| mk.constant(&z, name, 1, softplus_inverse(value));
            Some(Zbl {
                adiv: p("_adiv", 1.0 / (0.8854 * A0))?,
                apow: p("_apow", 0.23)?,
                c: [
                    p("_c1", 0.18180)?,
                    p("_c2", 0.50990)?,
                    p("_c3", 0.28020)?,
                    p("_c4", 0.02817)?,
                ],
                a: [
                    p("_a1", 3.20000)?,
                    p("_a2", 0.94230)?,
                    p("_a3", 0.40280)?,
                    p("_a4", 0.20160)?,
                ],
            })
        } else {
            None
        };
        orthogonalise(varmap, &mk.orthogonal)?;
        set_values(varmap, &fixed)?;
        Ok(SpookyNet {
            cfg: cfg.clone(),
            varmap: varmap.clone(),
            scale: EnergyScale::default(),
            element_bias,
            element_embedding,
            config_linear,
            electron_config,
            charge_embedding,
            magmom_embedding,
            rbf_alpha,
            logc,
            pow_n,
            pow_v,
            modules,
            output,
            zbl,
        })
    }

    /// Loads a model saved by [`Potential::save`] (`config.json` + `model.safetensors`).
    pub fn load(dir: &Path, dtype: DType, device: &Device) -> FfResult<Self> {
        let value = io::read_config(dir)?;
        let origin = dir.join(io::CONFIG_FILE).display().to_string();
        let cfg = SpookyNetConfig::from_json(&value, &origin)?;
        let scale = io::energy_scale_from_config(&value)?;
        let varmap = VarMap::new();
        let mut model = SpookyNet::new(&cfg, &varmap, dtype, device, 0)?;
        io::load_weights(dir, &varmap, device)?;
        model.scale = scale;
        Ok(model)
    }

    /// Builds `cfg`'s model from a reference `state_dict()` saved as safetensors (names as is).
    /// The reference's buffers (`nuclear_embedding.electron_config`,
    /// `radial_basis_functions.logc`/`n`/`v`, `keep_prob`) are checked against ours and not
    /// loaded; the nonlocal blocks' random features (`attention.omega`) load as weights. With
    /// `use_nonlocal_interaction = false`, nonlocal tensors are an error: dropping them
    /// silently would change the model. The energy scale stays at identity (the
    /// reference's own per-element energy offsets are `element_bias`, which loads as a weight).
    pub fn from_reference(
        cfg: &SpookyNetConfig,
        path: &Path,
        dtype: DType,
        device: &Device,
    ) -> FfResult<Self> {
        let varmap = VarMap::new();
        let model = SpookyNet::new(cfg, &varmap, dtype, device, 0)?;
        let file = candle_core::safetensors::load(path, device)?;
        let werr = |reason: String| FfError::Weights {
            path: path.to_path_buf(),
            reason,
        };
        let data = varmap
            .data()
            .lock()
            .map_err(|_| FfError::Invalid("weight map lock poisoned".into()))?;
        let mut loaded = std::collections::HashSet::new();
        let mut names: Vec<&String> = file.keys().collect();
        names.sort();
        for name in names {
            let t = &file[name];
            if !cfg.use_nonlocal_interaction && name.contains("nonlocal_interaction.") {
                return Err(werr(format!(
                    "`{name}` belongs to the nonlocal interaction, which this config turns \
                     off (use_nonlocal_interaction = false)"
                )));
            }
            if let Some(expected) = model.buffer_values(name) {
                let got: Vec<f64> = t.to_dtype(DType::F64)?.flatten_all()?.to_vec1()?;
                let close = got.len() == expected.len()
                    && got
                        .iter()
                        .zip(&expected)
                        .all(|(a, b)| (a - b).abs() <= 1e-9 * b.abs().max(1.0));
                if !close {
                    return Err(werr(format!(
                        "buffer `{name}` disagrees with this config / chemlm's tables"
                    )));
                }
                continue;
            }
            let var = data
                .get(name)
                .ok_or_else(|| werr(format!("unexpected tensor `{name}` for this config")))?;
            if t.dims() != var.dims() {
                return Err(werr(format!(
                    "tensor `{name}` has shape {:?}, the config implies {:?}",
                    t.dims(),
                    var.dims()
                )));
            }
            var.set(&t.to_dtype(dtype)?)?;
            loaded.insert(name.clone());
        }
        if let Some(missing) = data.keys().find(|k| !loaded.contains(*k)) {
            return Err(werr(format!("tensor `{missing}` is missing")));
        }
        drop(data);
        Ok(model)
    }

    /// Values the reference stores as buffers for `name` (None when `name` is not a buffer).
    fn buffer_values(&self, name: &str) -> Option<Vec<f64>> {
        let (logc, n, v) = bernstein_buffers(self.cfg.num_basis_functions);
        match name {
            // module_keep_prob ** (1 / (num_modules - 1)) with module_keep_prob = 1.
            "keep_prob" => Some(vec![1.0]),
            "nuclear_embedding.electron_config" => Some(electron_config()),
            "radial_basis_functions.logc" => Some(logc),
            "radial_basis_functions.n" => Some(n),
            "radial_basis_functions.v" => Some(v),
            _ => None,
        }
    }

    /// The config.
    pub fn config(&self) -> &SpookyNetConfig {
        &self.cfg
    }

    fn pairs(&self, input: &AtomsInput) -> FfResult<Pairs> {
        let c = self.cfg.cutoff;
        let r = input.edge_vectors()?;
        let d = norms(&r)?;
        // Pairs at or beyond the cutoff stay in the list but get exactly zero weight: the
        // cutoff's argument is set to 0 there (the reference's guard against 0/0 in autograd).
        let inside = d.lt(c)?.to_dtype(d.dtype())?;
        let d_in = (&d * &inside)?;
        let denom = (d_in.affine(-1.0, c)? * (&d_in + c)?)?;
        let fcut = ((d_in.sqr()?.neg()? / denom)?.exp()? * &inside)?;
        let alpha = softplus(&self.rbf_alpha)?.reshape((1, 1))?;
        let alphar = d.unsqueeze(1)?.broadcast_mul(&alpha)?.neg()?;
        let log1m = alphar.exp()?.affine(-1.0, 1.0)?.log()?;
        let x = self
            .logc
            .broadcast_add(&alphar.broadcast_mul(&self.pow_n)?)?
            .broadcast_add(&log1m.broadcast_mul(&self.pow_v)?)?;
        let mut rbf = x.exp()?.broadcast_mul(&fcut.unsqueeze(1)?)?;
        if self.cfg.exp_weighting {
            rbf = rbf.broadcast_mul(&alphar.exp()?)?;
        }
        let unit = r.broadcast_div(&d.unsqueeze(1)?)?;
        let p: Vec<Tensor> = (0..3)
            .map(|k| Ok(unit.narrow(1, k, 1)?.contiguous()?))
            .collect::<FfResult<_>>()?;
        let (x_, y_, z_) = (&p[0], &p[1], &p[2]);
        let d_fn = if self.cfg.use_irreps {
            let s3 = 3f64.sqrt();
            vec![
                ((x_ * y_)? * s3)?,
                ((x_ * z_)? * s3)?,
                ((y_ * z_)? * s3)?,
                z_.sqr()?.affine(1.5, -0.5)?,
                ((x_.sqr()? - y_.sqr()?)? * (0.5 * s3))?,
            ]
        } else {
            let s2 = 2f64.sqrt();
            vec![
                x_.sqr()?,
                y_.sqr()?,
                z_.sqr()?,
                ((x_ * y_)? * s2)?,
                ((x_ * z_)? * s2)?,
                ((y_ * z_)? * s2)?,
            ]
        };
        Ok(Pairs {
            d,
            fcut,
            rbf,
            p,
            d_fn,
        })
    }

    /// Embedding of one per-structure quantity (charge or magnetic moment); None when it is
    /// zero for every structure, where the reference's embedding is exactly zero too (its
    /// values v vanish and its residual MLP has no biases).
    fn electronic(
        &self,
        emb: &ElectronicEmbedding,
        z: &Tensor,
        values: &[f64],
        input: &AtomsInput,
    ) -> FfResult<Option<Tensor>> {
        if values.iter().all(|&v| v == 0.0) {
            return Ok(None);
        }
        let c = if emb.is_charge { 2 } else { 1 };
        let mut e = Vec::with_capacity(values.len() * c);
        for &v in values {
            if emb.is_charge {
                // Separate weights for positive and negative charge.
                e.extend([v.max(0.0), (-v).max(0.0)]);
            } else {
                // Spin up and down are the same.
                e.push(v.abs());
            }
        }
        let e_norm: Vec<f64> = e.iter().map(|&x| x / x.max(1.0)).collect();
        let (dtype, device) = (z.dtype(), z.device());
        let b = values.len();
        let e = Tensor::from_vec(e, (b, c), device)?.to_dtype(dtype)?;
        let e_norm = Tensor::from_vec(e_norm, (b, c), device)?.to_dtype(dtype)?;
        let keys = emb
            .linear_k
            .forward(&e_norm)?
            .index_select(&input.structure_of, 0)?;
        let vals = emb
            .linear_v
            .forward(&e)?
            .index_select(&input.structure_of, 0)?;
        let q = emb.linear_q.forward(z)?;
        let f = z.dim(1)? as f64;
        let dot = ((keys * q)?.sum(D::Minus1)? / f.sqrt())?;
        let a = softplus(&dot)?;
        let norm = input
            .sum_per_structure(&a)?
            .index_select(&input.structure_of, 0)?;
        let w = (a / (norm + ATTENTION_EPS)?)?;
        Ok(Some(
            emb.resblock
                .forward(&vals.broadcast_mul(&w.unsqueeze(1)?)?)?,
        ))
    }

    /// Performer attention within each structure, as the reference's `Attention` with F random
    /// features: φ(X) = (exp(X ω / F^¼ − |X|²/(2√F) − max) + 10⁻⁴)/√F, then
    /// out_a = φ(q_a)·Σ_b φ(k_b) v_bᵀ / (φ(q_a)·Σ_b φ(k_b) + 10⁻⁸) over the atoms b of a's
    /// structure. The max (subtracted against overflow; it matters only through the 10⁻⁴, but
    /// it is differentiated, as in the reference) is per query row, and for keys over all of a
    /// structure's rows and features: the reference's rule for a batch of one structure. For
    /// batches of several structures the reference takes max(that, 0) instead (its masked
    /// maximum also sees the zeros of the other structures); the two agree unless all of a
    /// structure's key projections are negative, and ours keeps energies independent of how
    /// structures are batched. Ties (symmetry-equivalent atoms have equal keys) share the
    /// max's gradient evenly, see [`shared_max`].
    fn nonlocal(
        &self,
        nl: &NonlocalInteraction,
        x: &Tensor,
        input: &AtomsInput,
    ) -> FfResult<Tensor> {
        const FEATURE_EPS: f64 = 1e-4;
        const NORM_EPS: f64 = 1e-8;
        let q = nl.resblock_q.forward(x)?;
        let k = nl.resblock_k.forward(x)?;
        let v = nl.resblock_v.forward(x)?;
        let omega = nl.omega.detach();
        let d = x.dim(1)? as f64;
        let m = omega.dim(1)? as f64;
        let project = |t: &Tensor| -> FfResult<(Tensor, Tensor)> {
            let u = (t / d.powf(0.25))?.matmul(&omega)?;
            let h = (t.sqr()?.sum_keepdim(1)? / (2.0 * d.sqrt()))?;
            Ok((u, h))
        };
        let features = |u: &Tensor, h: &Tensor, max: &Tensor| -> FfResult<Tensor> {
            let e = u.broadcast_sub(h)?.broadcast_sub(max)?.exp()?;
            Ok(((e + FEATURE_EPS)? / m.sqrt())?)
        };
        let (uq, hq) = project(&q)?;
        let phi_q = features(&uq, &hq, &shared_max(&uq, true)?)?;
        let (uk, hk) = project(&k)?;
        let mut out = Vec::with_capacity(input.n_structures);
        let mut start = 0usize;
        for &n in &input.atoms_per_structure {
            let n = n as usize;
            if n == 0 {
                continue;
            }
            let uk_b = uk.narrow(0, start, n)?;
            let max_b = shared_max(&uk_b, false)?;
            let phi_k = features(&uk_b, &hk.narrow(0, start, n)?, &max_b)?;
            let phi_q_b = phi_q.narrow(0, start, n)?;
            let kv = phi_k.t()?.matmul(&v.narrow(0, start, n)?)?;
            let k_sum = phi_k.sum_keepdim(0)?.t()?;
            let norm = (phi_q_b.matmul(&k_sum)? + NORM_EPS)?;
            out.push(phi_q_b.matmul(&kv)?.broadcast_div(&norm)?);
            start += n;
        }
        Ok(Tensor::cat(&out, 0)?)
    }

    fn local(
        &self,
        li: &LocalInteraction,
        x: &Tensor,
        pairs: &Pairs,
        input: &AtomsInput,
    ) -> FfResult<Tensor> {
        let f = self.cfg.num_features;
        let j = &input.idx_j;
        let gs = li.radial_s.forward(&pairs.rbf)?;
        let gp = li.radial_p.forward(&pairs.rbf)?;
        let gd = li.radial_d.forward(&pairs.rbf)?;
        let xx = li.resblock_x.forward(x)?;
        let xs = li.resblock_s.forward(x)?.index_select(j, 0)?;
        let xp = li.resblock_p.forward(x)?.index_select(j, 0)?;
        let xd = li.resblock_d.forward(x)?.index_select(j, 0)?;
        let mut acc = (xx + input.sum_to_centres(&(gs * xs)?)?)?;
        // p and d features component by component ([N, F] each): Σ_c a_c ⊙ b_c with
        // [a_c, b_c] the projection of component c, the same numbers as the reference's
        // [N, 3|5, F] tensors without reductions over a middle axis.
        for (radial, comps, proj) in [
            ((gp * xp)?, &pairs.p, &li.projection_p),
            ((gd * xd)?, &pairs.d_fn, &li.projection_d),
        ] {
            for comp in comps {
                let summed = input.sum_to_centres(&radial.broadcast_mul(comp)?)?;
                let ab = proj.forward(&summed)?;
                acc = (acc + (ab.narrow(1, 0, f)? * ab.narrow(1, f, f)?)?)?;
            }
        }
        li.resblock.forward(&acc)
    }

    /// Per-atom ZBL repulsion `[n_atoms]` in eV (half of each pair energy on either atom).
    fn zbl_energy(&self, zbl: &Zbl, input: &AtomsInput, pairs: &Pairs) -> FfResult<Tensor> {
        let dtype = pairs.d.dtype();
        let zf = input.numbers.to_dtype(dtype)?;
        let (i, j) = (&input.idx_i, &input.idx_j);
        let zp = zf.log()?.broadcast_mul(&softplus(&zbl.apow)?)?.exp()?;
        let a = (zp.index_select(i, 0)? + zp.index_select(j, 0)?)?
            .broadcast_mul(&softplus(&zbl.adiv)?)?;
        let cs: Vec<Tensor> = zbl.c.iter().map(softplus).collect::<FfResult<_>>()?;
        let csum = (((&cs[0] + &cs[1])? + &cs[2])? + &cs[3])?;
        let mut screen: Option<Tensor> = None;
        for (c, a_k) in cs.iter().zip(&zbl.a) {
            let expo = a
                .broadcast_mul(&softplus(a_k)?)?
                .neg()?
                .mul(&pairs.d)?
                .exp()?;
            let term = expo.broadcast_mul(&c.div(&csum)?)?;
            screen = Some(match screen {
                Some(s) => (s + term)?,
                None => term,
            });
        }
        let screen = match screen {
            Some(s) => s,
            None => return Err(FfError::Invalid("ZBL without terms".into())),
        };
        let zz = (zf.index_select(i, 0)? * zf.index_select(j, 0)?)?;
        let pair = ((((screen * &pairs.fcut)? * zz)? / &pairs.d)? * (0.5 * KE))?;
        input.sum_to_centres(&pair)
    }

    /// Per-atom terms for structures of total charge `charge[s]` and magnetic moment
    /// `magmom[s]`.
    pub fn atomic_energies(
        &self,
        input: &AtomsInput,
        charge: &[f64],
        magmom: &[f64],
    ) -> FfResult<AtomicTerms> {
        if let Some(&z) = input
            .numbers_host
            .iter()
            .find(|&&z| z == 0 || z as usize >= ZMAX)
        {
            return Err(FfError::Invalid(format!(
                "atomic number {z} is outside SpookyNet's elements (1..={})",
                ZMAX - 1
            )));
        }
        if charge.len() != input.n_structures || magmom.len() != input.n_structures {
            return Err(FfError::Invalid(format!(
                "{} structures but {} charges and {} magnetic moments",
                input.n_structures,
                charge.len(),
                magmom.len()
            )));
        }
        let pairs = self.pairs(input)?;
        let table =
            (&self.element_embedding + self.config_linear.forward(&self.electron_config)?)?;
        let z = table.index_select(&input.numbers, 0)?;
        let mut x = z.clone();
        for (emb, values) in [
            (&self.charge_embedding, charge),
            (&self.magmom_embedding, magmom),
        ] {
            if let Some(e) = self.electronic(emb, &z, values, input)? {
                x = (x + e)?;
            }
        }
        let mut features: Option<Tensor> = None;
        for m in &self.modules {
            let h = run_stack(&m.residual_pre, &x)?;
            let mut sum = (&h + self.local(&m.local, &h, &pairs, input)?)?;
            if let Some(nl) = &m.nonlocal {
                sum = (sum + self.nonlocal(nl, &h, input)?)?;
            }
            x = run_stack(&m.residual_post, &sum)?;
            let y = m.resblock.forward(&x)?;
            features = Some(match features {
                Some(f) => (f + y)?,
                None => y,
            });
        }
        let features = features.ok_or_else(|| FfError::Invalid("no modules".into()))?;
        // Row / column 0: atomic energy, 1: partial charge.
        let out = features
            .matmul(&self.output.t()?)?
            .add(&self.element_bias.index_select(&input.numbers, 0)?)?;
        let energy = out.narrow(1, 0, 1)?.squeeze(1)?.contiguous()?;
        let raw_q = out.narrow(1, 1, 1)?.squeeze(1)?.contiguous()?;
        // Charge conservation: what the raw charges miss of the total is spread evenly.
        let (dtype, device) = (raw_q.dtype(), raw_q.device());
        let total =
            Tensor::from_vec(charge.to_vec(), input.n_structures, device)?.to_dtype(dtype)?;
        let counts: Vec<f64> = input
            .atoms_per_structure
            .iter()
            .map(|&n| f64::from(n.max(1)))
            .collect();
        let counts = Tensor::from_vec(counts, input.n_structures, device)?.to_dtype(dtype)?;
        let leftover = ((total - input.sum_per_structure(&raw_q)?)? / counts)?;
        let charges = (raw_q + leftover.index_select(&input.structure_of, 0)?)?;
        let repulsion = match &self.zbl {
            Some(zbl) => Some(self.zbl_energy(zbl, input, &pairs)?),
            None => None,
        };
        let electrostatic = match (self.cfg.use_electrostatics, self.cfg.lr_cutoff) {
            (true, Some(lr)) => Some(self.electrostatic_energy(&charges, lr, input, &pairs)?),
            _ => None,
        };
        Ok(AtomicTerms {
            energy,
            charges,
            repulsion,
            electrostatic,
        })
    }

    /// Per-atom electrostatic energy `[n_atoms]` in eV, the reference's `ElectrostaticEnergy`
    /// without Ewald summation: ke/2 · q_i q_j · (f·damped + (1 − f)·coulomb) summed over the
    /// pairs of each atom, f switching smoothly from the damped 1/√(r² + 1) (below a quarter
    /// of `cutoff`) to the Coulomb law (beyond three quarters of it), both shifted to vanish
    /// with their first derivative at `lr_cutoff`.
    fn electrostatic_energy(
        &self,
        charges: &Tensor,
        lr: f64,
        input: &AtomsInput,
        pairs: &Pairs,
    ) -> FfResult<Tensor> {
        let r = &pairs.d;
        let (cuton, cutoff) = (0.25 * self.cfg.cutoff, 0.75 * self.cfg.cutoff);
        let x = r.affine(1.0 / (cutoff - cuton), -cuton / (cutoff - cuton))?;
        // Switch fm/(fp + fm) with fp = exp(−1/x) for x > 0 (else 0), fm the same at 1 − x:
        // equal to 1 for x ≤ 0 and 0 for x ≥ 1 without branches; the masked argument keeps
        // the unused exp(−1/x) away from 1/0 in gradients (the reference's "where" guard).
        let component = |x: &Tensor| -> FfResult<Tensor> {
            let pos = x.gt(0.0)?.to_dtype(x.dtype())?;
            let safe = ((x * &pos)? + pos.affine(-1.0, 1.0)?)?;
            Ok((safe.recip()?.neg()?.exp()? * pos)?)
        };
        let fp = component(&x)?;
        let fm = component(&x.affine(-1.0, 1.0)?)?;
        let f = (&fm / (&fp + &fm)?)?;
        let inside = r.lt(lr)?.to_dtype(r.dtype())?;
        let coulomb = ((r.recip()? + (r / (lr * lr))?)? - 2.0 / lr)?;
        let rcut = lr / (lr * lr + 1.0).powf(1.5);
        let cut = (2.0 * lr * lr + 1.0) / (lr * lr + 1.0).powf(1.5);
        let damped = (((r.sqr()? + 1.0)?.sqrt()?.recip()? + (r * rcut)?)? - cut)?;
        let law = ((&f * damped)? + (f.affine(-1.0, 1.0)? * coulomb)?)?;
        let qq =
            (charges.index_select(&input.idx_i, 0)? * charges.index_select(&input.idx_j, 0)?)?;
        let pair = ((qq * (law * inside)?)? * (0.5 * KE))?;
        input.sum_to_centres(&pair)
    }

    /// Energies `[n_structures]` (f64, eV) with a total charge and magnetic moment per
    /// structure.
    pub fn energies_with_state(
        &self,
        input: &AtomsInput,
        charge: &[f64],
        magmom: &[f64],
    ) -> FfResult<Tensor> {
        let terms = self.atomic_energies(input, charge, magmom)?;
        let mut e = self.scale.energies(&terms.energy, input)?;
        for extra in [terms.repulsion, terms.electrostatic].into_iter().flatten() {
            e = (e + input.sum_per_structure(&extra)?.to_dtype(DType::F64)?)?;
        }
        Ok(e)
    }
}

impl std::fmt::Debug for SpookyNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SpookyNet")
            .field("config", &self.cfg)
            .field("energy_scale", &self.scale)
            .finish_non_exhaustive()
    }
}

impl Potential for SpookyNet {
    fn model_type(&self) -> &'static str {
        MODEL_TYPE
    }

    fn cutoff(&self) -> f64 {
        match (self.cfg.use_electrostatics, self.cfg.lr_cutoff) {
            (true, Some(lr)) => self.cfg.cutoff.max(lr),
            _ => self.cfg.cutoff,
        }
    }

    fn energies(&self, input: &AtomsInput, _train: bool) -> FfResult<Tensor> {
        let charge = vec![self.cfg.total_charge; input.n_structures];
        let magmom = vec![self.cfg.total_magmom; input.n_structures];
        self.energies_with_state(input, &charge, &magmom)
    }

    fn varmap(&self) -> &VarMap {
        &self.varmap
    }

    fn energy_scale(&self) -> &EnergyScale {
        &self.scale
    }

    fn set_energy_scale(&mut self, scale: EnergyScale) {
        self.scale = scale;
    }

    fn save(&self, dir: &Path) -> FfResult<()> {
        io::save_model(dir, &self.cfg.to_json(&self.scale)?, &self.varmap)
    }
}
