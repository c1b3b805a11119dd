//! PaiNN, the polarizable atom interaction neural network (Schütt, Unke, Gastegger, ICML 2021),
//! computed exactly as schnetpack 2.1.1's `representation.PaiNN` followed by its `Atomwise`
//! energy head, so that a schnetpack state dict loads under its own names
//! ([`PaiNN::from_schnetpack`]) and gives the same energies and forces.
//!
//! Every atom carries scalar features q `[n_atoms, F]` (from an embedding of Z) and vector
//! features μ `[n_atoms, 3, F]` (zero at the start). Each of `n_interactions` rounds is
//! - a message block: a filter W_ij (a linear map of the Gaussian expansion of |r_ij|, times the
//!   cosine cutoff) gates φ(q_j) (a two-layer SiLU net with 3F outputs); the product splits into
//!   Δq (summed onto i), a radial vector message along r̂_ij and a message scaling μ_j;
//! - an update block: V, W = split(μ W_mix) (no bias; schnetpack's mu_V, mu_W),
//!   ‖V‖ = √(Σ_xyz V² + ε), a two-layer net on [q, ‖V‖] gives a_ss, a_vv, a_sv (in that split
//!   order); μ += a_vv·W, q += a_ss + a_sv·⟨V, W⟩.
//!
//! Internally μ is held as its three Cartesian components (`[n_atoms, F]` each): the same
//! numbers, but cheaper backward passes on candle (no reductions over a middle axis).
//! [`PaiNN::representation`] returns it stacked as schnetpack's `[n_atoms, 3, F]`.
//!
//! The ε under the square root is schnetpack's (1e-8 by default): √(Σ V²) has no derivative
//! at V = 0 (0/0 in autograd), which happens for an atom without neighbours or one whose
//! neighbours cancel by symmetry; √(Σ V² + ε) keeps forces and their weight gradients finite.
//!
//! Energies are Σ_atoms (σ·y + μ_E + atomref[Z]) with y the Atomwise head's output
//! ([`EnergyScale`]).

use crate::blocks::{cosine_cutoff, norms, Activation, Dense, GaussianRbf};
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

/// The `model_type` of PaiNN in `config.json`.
pub const MODEL_TYPE: &str = "painn";

/// The MD17 preset, `configs/ff-painn.toml` (schnetpack 2.1.1's defaults).
const PRESET_TOML: &str = include_str!("../../../../configs/ff-painn.toml");

/// schnetpack's state-dict prefix of the representation.
const REP: &str = "representation";
/// schnetpack's state-dict prefix of the energy head (first output module).
const HEAD: &str = "output_modules.0.outnet";

/// Sizes and options of a PaiNN model (serialised into `config.json`, next to `energy_scale`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaiNNConfig {
    /// Always "painn".
    #[serde(default = "default_model_type")]
    pub model_type: String,
    /// Feature width F of q and μ.
    pub n_atom_basis: usize,
    /// Number of message + update rounds.
    pub n_interactions: usize,
    /// Number of Gaussians on [0, cutoff].
    pub n_rbf: usize,
    /// Cutoff radius in Å (cosine cutoff and neighbour lists).
    pub cutoff: f64,
    /// Rows of the embedding: atomic numbers 0..max_z (schnetpack: 100).
    #[serde(default = "default_max_z")]
    pub max_z: usize,
    /// One message and one update block used in every round.
    #[serde(default)]
    pub shared_interactions: bool,
    /// One filter (3F wide) for every round instead of n_interactions filters.
    #[serde(default)]
    pub shared_filters: bool,
    /// Added to Σ V² under the square root of the vector norms.
    #[serde(default = "default_epsilon")]
    pub epsilon: f64,
    /// Layers of the Atomwise head (pyramidal: F → F/2 → … → 1, SiLU between).
    #[serde(default = "default_out_layers")]
    pub n_out_layers: usize,
}

fn default_model_type() -> String {
    MODEL_TYPE.to_string()
}
fn default_max_z() -> usize {
    100
}
fn default_epsilon() -> f64 {
    1e-8
}
fn default_out_layers() -> usize {
    2
}

impl PaiNNConfig {
    /// The MD17 preset of `configs/ff-painn.toml`: 128 features, 3 interactions, 20 Gaussians,
    /// cutoff 5 Å (schnetpack 2.1.1's `painn.yaml` + `md17.yaml`).
    pub fn md17() -> Self {
        // The preset is compiled in and covered by a test, so it always parses.
        Self::from_toml_str(PRESET_TOML, "configs/ff-painn.toml")
            .unwrap_or_else(|e| panic!("built-in PaiNN preset: {e}"))
    }

    /// Parses and validates a TOML config (`origin` names it in errors).
    pub fn from_toml_str(text: &str, origin: &str) -> FfResult<Self> {
        let cfg: PaiNNConfig = io::config_from_toml(text, origin)?;
        cfg.validate(origin)?;
        Ok(cfg)
    }

    /// Parses and validates a JSON config (the `config.json` of a saved model).
    pub fn from_json(value: &serde_json::Value, origin: &str) -> FfResult<Self> {
        let cfg: PaiNNConfig = io::config_from_json(value, origin)?;
        cfg.validate(origin)?;
        Ok(cfg)
    }

    /// Checks sizes and options.
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
        if self.n_atom_basis == 0 || self.n_interactions == 0 || self.n_out_layers == 0 {
            return bad("n_atom_basis, n_interactions and n_out_layers must be positive".into());
        }
        if self.n_rbf < 2 {
            return bad(format!(
                "n_rbf must be at least 2 (the Gaussian width is the spacing), got {}",
                self.n_rbf
            ));
        }
        if !(self.cutoff.is_finite() && self.cutoff > 0.0) {
            return bad(format!("cutoff must be positive, got {}", self.cutoff));
        }
        if !(2..=256).contains(&self.max_z) {
            return bad(format!("max_z must be in 2..=256, got {}", self.max_z));
        }
        if !(self.epsilon.is_finite() && self.epsilon >= 0.0) {
            return bad(format!("epsilon must be >= 0, got {}", self.epsilon));
        }
        Ok(())
    }

    /// Width of the filter network's output: 3F per round, or 3F once when shared.
    fn filter_width(&self) -> usize {
        let per_round = 3 * self.n_atom_basis;
        if self.shared_filters {
            per_round
        } else {
            per_round * self.n_interactions
        }
    }

    /// Neuron counts of the Atomwise head, schnetpack's `build_mlp` with `n_hidden=None`:
    /// halve the width after each layer, never below the output width 1.
    fn head_widths(&self) -> Vec<usize> {
        let mut widths = Vec::with_capacity(self.n_out_layers + 1);
        let mut c = self.n_atom_basis;
        for _ in 0..self.n_out_layers {
            widths.push(c);
            c = (c / 2).max(1);
        }
        widths.push(1);
        widths
    }

    /// The config as stored in `config.json`, with the energy scale.
    pub fn to_json(&self, scale: &EnergyScale) -> FfResult<serde_json::Value> {
        io::config_json_with_scale(self, scale)
    }
}

/// Message block of one round (schnetpack's `PaiNNInteraction`).
#[derive(Debug, Clone)]
struct Interaction {
    /// `interatomic_context_net.0` (SiLU) and `.1` (linear, 3F outputs).
    context: [Dense; 2],
}

/// Update block of one round (schnetpack's `PaiNNMixing`).
#[derive(Debug, Clone)]
struct Mixing {
    /// `intraatomic_context_net.0` (2F → F, SiLU) and `.1` (F → 3F).
    context: [Dense; 2],
    /// `mu_channel_mix.weight` `[2F, F]`, no bias (a bias would break equivariance).
    mu_mix: Tensor,
}

/// A PaiNN potential.
pub struct PaiNN {
    cfg: PaiNNConfig,
    varmap: VarMap,
    scale: EnergyScale,
    embedding: Tensor,
    rbf: GaussianRbf,
    /// `filter_net.weight` `[width, n_rbf]` and `.bias` `[width]`, width = 3F per filter.
    filter_w: Tensor,
    filter_b: Tensor,
    interactions: Vec<Interaction>,
    mixings: Vec<Mixing>,
    head: Vec<Dense>,
}

impl PaiNN {
    /// A fresh model with weights drawn from `seed` (schnetpack's initialisation: N(0, 1)
    /// embedding, Xavier-uniform weights, zero biases), registered in `varmap` under
    /// schnetpack's state-dict names. Existing variables of `varmap` with those names are
    /// reused, which is how [`PaiNN::load`] fills a model from a file.
    pub fn new(
        cfg: &PaiNNConfig,
        varmap: &VarMap,
        dtype: DType,
        device: &Device,
        seed: u64,
    ) -> FfResult<Self> {
        cfg.validate("PaiNN::new")?;
        let vb = SeededBackend::var_builder(varmap, seed, dtype, device);
        let f = cfg.n_atom_basis;
        let rep = vb.pp(REP);
        let embedding = rep.pp("embedding").get_with_hints(
            (cfg.max_z, f),
            "weight",
            Init::Randn {
                mean: 0.0,
                stdev: 1.0,
            },
        )?;
        let rbf = GaussianRbf::new(cfg.n_rbf, 0.0, cfg.cutoff, dtype, device)?;
        let fb = rep.pp("filter_net");
        let filter_w = dense_weight(cfg.n_rbf, cfg.filter_width(), &fb)?;
        let filter_b = fb.get_with_hints(cfg.filter_width(), "bias", Init::Const(0.0))?;
        let n_blocks = if cfg.shared_interactions {
            1
        } else {
            cfg.n_interactions
        };
        let mut interactions = Vec::with_capacity(cfg.n_interactions);
        let mut mixings = Vec::with_capacity(cfg.n_interactions);
        for k in 0..n_blocks {
            let ib = rep.pp("interactions").pp(k).pp("interatomic_context_net");
            interactions.push(Interaction {
                context: [
                    Dense::new(f, f, true, Activation::Silu, ib.pp(0))?,
                    Dense::new(f, 3 * f, true, Activation::Identity, ib.pp(1))?,
                ],
            });
            let mb = rep.pp("mixing").pp(k);
            let cb = mb.pp("intraatomic_context_net");
            let context = [
                Dense::new(2 * f, f, true, Activation::Silu, cb.pp(0))?,
                Dense::new(f, 3 * f, true, Activation::Identity, cb.pp(1))?,
            ];
            let mu_mix = dense_weight(f, 2 * f, &mb.pp("mu_channel_mix"))?;
            mixings.push(Mixing { context, mu_mix });
        }
        // Shared blocks: the same weights in every round, as schnetpack's replicate_module.
        while interactions.len() < cfg.n_interactions {
            interactions.push(interactions[0].clone());
            mixings.push(mixings[0].clone());
        }
        let widths = cfg.head_widths();
        let hb = vb.pp(HEAD);
        let head = (0..cfg.n_out_layers)
            .map(|l| {
                let act = if l + 1 < cfg.n_out_layers {
                    Activation::Silu
                } else {
                    Activation::Identity
                };
                Dense::new(widths[l], widths[l + 1], true, act, hb.pp(l))
            })
            .collect::<FfResult<Vec<_>>>()?;
        Ok(PaiNN {
            cfg: cfg.clone(),
            varmap: varmap.clone(),
            scale: EnergyScale::default(),
            embedding,
            rbf,
            filter_w,
            filter_b,
            interactions,
            mixings,
            head,
        })
    }

    /// Loads a model saved by [`Potential::save`] (`config.json` + `model.safetensors`).
    pub fn load(dir: &Path, dtype: DType, device: &Device) -> FfResult<Self> {
        let value = io::read_config(dir)?;
        let origin = dir.join(io::CONFIG_FILE).display().to_string();
        let cfg = PaiNNConfig::from_json(&value, &origin)?;
        let scale = io::energy_scale_from_config(&value)?;
        let varmap = VarMap::new();
        let mut model = PaiNN::new(&cfg, &varmap, dtype, device, 0)?;
        io::load_weights(dir, &varmap, device)?;
        model.scale = scale;
        Ok(model)
    }

    /// Builds `cfg`'s model from a schnetpack `NeuralNetworkPotential` state dict saved as
    /// safetensors (names as is, e.g. `representation.mixing.0.mu_channel_mix.weight`).
    /// schnetpack's buffers (`representation.radial_basis.offsets` / `.widths`,
    /// `representation.cutoff_fn.cutoff`) are checked against the config and not loaded; with
    /// shared interactions the copies under indices ≥ 1 must equal index 0. The energy scale is
    /// left at identity (schnetpack keeps mean/atomrefs in its postprocessors).
    pub fn from_schnetpack(
        cfg: &PaiNNConfig,
        path: &Path,
        dtype: DType,
        device: &Device,
    ) -> FfResult<Self> {
        let varmap = VarMap::new();
        let model = PaiNN::new(cfg, &varmap, dtype, device, 0)?;
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
            if let Some(expected) = model.buffer_values(name) {
                let got: Vec<f64> = t.to_dtype(DType::F64)?.flatten_all()?.to_vec1()?;
                let close = got.len() == expected.len()
                    && got
                        .iter()
                        .zip(&expected)
                        .all(|(a, b)| (a - b).abs() <= 1e-6 * b.abs().max(1.0));
                if !close {
                    return Err(werr(format!(
                        "buffer `{name}` = {got:?} disagrees with the config ({expected:?})"
                    )));
                }
                continue;
            }
            let canonical = model.canonical_name(name);
            let var = data
                .get(&canonical)
                .ok_or_else(|| werr(format!("unexpected tensor `{name}` for this config")))?;
            if t.dims() != var.dims() {
                return Err(werr(format!(
                    "tensor `{name}` has shape {:?}, the config implies {:?}",
                    t.dims(),
                    var.dims()
                )));
            }
            let t = t.to_dtype(dtype)?;
            if canonical != *name {
                // A shared block's alias: must repeat the canonical tensor.
                let canon = file
                    .get(&canonical)
                    .ok_or_else(|| werr(format!("`{name}` present but `{canonical}` missing")))?
                    .to_dtype(dtype)?;
                let diff = (&t - &canon)?.abs()?.max_all()?.to_dtype(DType::F64)?;
                if diff.to_scalar::<f64>()? != 0.0 {
                    return Err(werr(format!(
                        "shared_interactions is set but `{name}` differs from `{canonical}`"
                    )));
                }
                continue;
            }
            var.set(&t)?;
            loaded.insert(canonical);
        }
        if let Some(missing) = data.keys().find(|k| !loaded.contains(*k)) {
            return Err(werr(format!("tensor `{missing}` is missing")));
        }
        drop(data);
        Ok(model)
    }

    /// Values schnetpack stores as buffers for `name`, computed from the config (None when
    /// `name` is not a buffer).
    fn buffer_values(&self, name: &str) -> Option<Vec<f64>> {
        let n = self.cfg.n_rbf;
        let step = self.cfg.cutoff / (n - 1) as f64;
        match name.strip_prefix("representation.")? {
            "radial_basis.offsets" => Some((0..n).map(|k| step * k as f64).collect()),
            "radial_basis.widths" => Some(vec![step; n]),
            "cutoff_fn.cutoff" => Some(vec![self.cfg.cutoff]),
            _ => None,
        }
    }

    /// With shared interactions, schnetpack names the one block under every index; ours
    /// lives under index 0.
    fn canonical_name(&self, name: &str) -> String {
        if !self.cfg.shared_interactions {
            return name.to_string();
        }
        for block in ["interactions", "mixing"] {
            let prefix = format!("{REP}.{block}.");
            if let Some(rest) = name.strip_prefix(&prefix) {
                if let Some((idx, tail)) = rest.split_once('.') {
                    if idx.parse::<usize>().is_ok() {
                        return format!("{prefix}0.{tail}");
                    }
                }
            }
        }
        name.to_string()
    }

    /// The config.
    pub fn config(&self) -> &PaiNNConfig {
        &self.cfg
    }

    /// Scalar and vector features after the last round: q `[n_atoms, F]`, μ `[n_atoms, 3, F]`.
    pub fn representation(&self, input: &AtomsInput) -> FfResult<(Tensor, Tensor)> {
        let cfg = &self.cfg;
        if let Some(&z) = input
            .numbers_host
            .iter()
            .find(|&&z| z as usize >= cfg.max_z)
        {
            return Err(FfError::Invalid(format!(
                "atomic number {z} is out of this PaiNN's embedding (max_z = {})",
                cfg.max_z
            )));
        }
        let f = cfg.n_atom_basis;
        let n_atoms = input.n_atoms();
        let r_ij = input.edge_vectors()?;
        let d_ij = norms(&r_ij)?;
        let dir_ij = r_ij.broadcast_div(&d_ij.unsqueeze(1)?)?;
        let phi = self.rbf.forward(&d_ij)?;
        let fcut = cosine_cutoff(&d_ij, cfg.cutoff)?;
        // Filters (φ Wᵀ + b)·f_cut, computed as ([φ, 1]·f_cut) [W | b]ᵀ: the same numbers, but
        // the cutoff and the bias act on [n_edges, n_rbf + 1] instead of [n_edges, 3F] per
        // round, and each F-wide block gets its own matmul, so no backward pass pads a slice
        // of an [n_edges, 3F·n_interactions] tensor with zeros (what dominated the run time).
        let n_edges = d_ij.dim(0)?;
        let ones = Tensor::ones((n_edges, 1), d_ij.dtype(), d_ij.device())?;
        let phi_cut =
            crate::fused::scale_rows(&Tensor::cat(&[&phi, &ones], 1)?, &fcut.unsqueeze(1)?)?;
        let w_aug = Tensor::cat(&[&self.filter_w, &self.filter_b.unsqueeze(1)?], 1)?;
        let filter = |block: usize| -> FfResult<Tensor> {
            Ok(phi_cut.matmul(&w_aug.narrow(0, block * f, f)?.t()?)?)
        };
        // μ is kept as its three Cartesian components, each [n_atoms, F]: the same numbers as
        // schnetpack's [n_atoms, 3, F], but every product is a plain or column-broadcast
        // elementwise op, so backward passes need no reductions over a middle axis.
        let dir: Vec<Tensor> = (0..3)
            .map(|k| Ok(dir_ij.narrow(1, k, 1)?.contiguous()?))
            .collect::<FfResult<_>>()?;

        let mut q = self.embedding.index_select(&input.numbers, 0)?;
        let mut mu: Option<Vec<Tensor>> = None; // zero until the first message
        for (round, (inter, mix)) in self.interactions.iter().zip(&self.mixings).enumerate() {
            let first_block = if cfg.shared_filters { 0 } else { 3 * round };
            // Message block: part p of φ(q) from the neighbours, gated by filter p (p = 0: Δq,
            // 1: along r̂_ij, 2: scaling μ_j; schnetpack's split order), each sum over
            // neighbours one fused convolution: Σ_j φ_p(q_j) ⊙ W_p,ij, and for μ
            // Σ_j (μ_j ⊙ φ_2(q_j)) ⊙ W_2,ij (μ_j and φ_2(q_j) share the neighbour index).
            let x = inter.context[1].forward(&inter.context[0].forward(&q)?)?;
            let part = |p: usize| -> FfResult<Tensor> { Ok(x.narrow(1, p * f, f)?.contiguous()?) };
            q = (&q + input.conv(&part(0)?, &filter(first_block)?)?)?;
            let (x_r, w_r) = (part(1)?, filter(first_block + 1)?);
            let scaling = match mu {
                Some(_) => Some((part(2)?, filter(first_block + 2)?)),
                None => None,
            };
            let mut mu_new = Vec::with_capacity(3);
            for (k, dir_k) in dir.iter().enumerate() {
                let mut dmu = input.conv(&x_r, &crate::fused::scale_rows(&w_r, dir_k)?)?;
                if let (Some(mu), Some((x_mu, w_mu))) = (&mu, &scaling) {
                    dmu = (dmu + input.conv(&(&mu[k] * x_mu)?, w_mu)?)?;
                }
                mu_new.push(match &mu {
                    Some(mu) => (&mu[k] + dmu)?,
                    None => dmu,
                });
            }
            // Update block: V, W = split(μ W_mixᵀ) (schnetpack's mu_V, mu_W), per component;
            // ‖V‖ feeds the context net, a_vv scales W, a_sv scales ⟨V, W⟩.
            let w_mix = mix.mu_mix.t()?;
            let mut v = Vec::with_capacity(3);
            let mut w = Vec::with_capacity(3);
            for mu_k in &mu_new {
                let mixed = mu_k.matmul(&w_mix)?;
                v.push(mixed.narrow(1, 0, f)?);
                w.push(mixed.narrow(1, f, f)?);
            }
            let v_sq = ((v[0].sqr()? + v[1].sqr()?)? + v[2].sqr()?)?;
            let v_norm = (v_sq + cfg.epsilon)?.sqrt()?;
            let vw = (((&v[0] * &w[0])? + (&v[1] * &w[1])?)? + (&v[2] * &w[2])?)?;
            let ctx = Tensor::cat(&[&q, &v_norm], D::Minus1)?;
            let a = mix.context[1].forward(&mix.context[0].forward(&ctx)?)?;
            let a_ss = a.narrow(1, 0, f)?;
            let a_vv = a.narrow(1, f, f)?;
            let a_sv = a.narrow(1, 2 * f, f)?;
            q = ((q + a_ss)? + (a_sv * vw)?)?;
            mu = Some(
                mu_new
                    .iter()
                    .zip(&w)
                    .map(|(m, w_k)| Ok((m + (w_k * &a_vv)?)?))
                    .collect::<FfResult<_>>()?,
            );
        }
        let mu = match mu {
            Some(mu) => Tensor::stack(&mu, 1)?,
            None => Tensor::zeros((n_atoms, 3, f), q.dtype(), q.device())?,
        };
        Ok((q, mu))
    }

    /// Atomic outputs y `[n_atoms]` of the Atomwise head (before the energy scale).
    pub fn atomic_outputs(&self, input: &AtomsInput) -> FfResult<Tensor> {
        let (mut y, _) = self.representation(input)?;
        for layer in &self.head {
            y = layer.forward(&y)?;
        }
        Ok(y.squeeze(1)?)
    }
}

impl std::fmt::Debug for PaiNN {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PaiNN")
            .field("config", &self.cfg)
            .field("energy_scale", &self.scale)
            .finish_non_exhaustive()
    }
}

/// A bias-free linear map's weight `[out, in]`, Xavier-uniform like [`Dense`].
fn dense_weight(in_dim: usize, out_dim: usize, vb: &VarBuilder) -> FfResult<Tensor> {
    let bound = (6.0 / (in_dim + out_dim) as f64).sqrt();
    Ok(vb.get_with_hints(
        (out_dim, in_dim),
        "weight",
        Init::Uniform {
            lo: -bound,
            up: bound,
        },
    )?)
}

impl Potential for PaiNN {
    fn model_type(&self) -> &'static str {
        MODEL_TYPE
    }

    fn cutoff(&self) -> f64 {
        self.cfg.cutoff
    }

    fn energies(&self, input: &AtomsInput, _train: bool) -> FfResult<Tensor> {
        let y = self.atomic_outputs(input)?;
        self.scale.energies(&y, input)
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
