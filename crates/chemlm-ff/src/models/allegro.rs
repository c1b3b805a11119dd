//! Allegro (Musaelian et al., Nat. Commun. 2023), computed as nequip-allegro 0.8.3's
//! `AllegroModel` (nequip 0.19, e3nn 0.6 conventions), so that its state dict loads under its own
//! names ([`Allegro::from_nequip`]) and gives the same energies and forces.
//!
//! Strictly local and pair-based: every ordered pair (i, j) within `r_max` carries
//! - scalar latents: a Bessel basis of r/r_max times the polynomial cutoff (p = 6), projected and
//!   multiplied by an embedding of the (centre type, neighbour type) pair, then an MLP;
//! - tensor features `[E, u, (l_max+1)²…]`: the edge's spherical harmonics weighted per channel
//!   (and per irrep) by a linear map of the latents.
//!
//! Each layer builds centre i's environment Σ_k w_ik(latents) Y(r̂_ik) / √⟨N⟩, couples each pair's
//! tensor features with it in a strided tensor product ([`StridedTensorProduct`]), and feeds the
//! product's scalars and all previous latents (densely connected) to the next latent MLP, which
//! also emits the next layer's environment weights. The last layer keeps only scalars. A readout
//! MLP gives one energy per pair; pair energies are summed onto their centre atoms, divided by
//! √⟨N⟩·√2, scaled per atom type, and shifted per element by the [`EnergyScale`].
//!
//! Not implemented from nequip-allegro: per-edge-type cutoffs, per-type ⟨N⟩, spline scalar
//! embeddings, non-SiLU nonlinearities, trainable per-type scales, pair potentials (ZBL). The
//! config rejects them.

use crate::error::{FfError, FfResult};
use crate::input::AtomsInput;
use crate::io;
use crate::o3::{path_exists, spherical_harmonics, Irrep, Irreps, StridedTensorProduct};
use crate::potential::Potential;
use crate::scale::EnergyScale;
use candle_core::{DType, Device, Tensor};
use candle_nn::{Init, VarBuilder, VarMap};
use chemlm_models::init::SeededBackend;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The `model_type` of Allegro in `config.json`.
pub const MODEL_TYPE: &str = "allegro";

/// The preset, `configs/ff-allegro.toml`.
pub const PRESET_TOML: &str = include_str!("../../../../configs/ff-allegro.toml");

/// Sizes and options, named as nequip-allegro's `AllegroModel` arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AllegroConfig {
    /// Always "allegro".
    #[serde(default = "default_model_type")]
    pub model_type: String,
    /// Chemical symbols of the atom types, in the order of the type embeddings.
    pub type_names: Vec<String>,
    /// Cutoff radius in Å.
    pub r_max: f64,
    /// Highest degree of the spherical harmonics (1..=3).
    pub l_max: usize,
    /// Whether odd-parity copies of each degree are kept in the tensor track.
    #[serde(default = "yes")]
    pub parity: bool,
    /// Bessel functions of the radial basis.
    #[serde(default = "default_bessels")]
    pub num_bessels: usize,
    /// Whether the Bessel roots n·π are trained.
    #[serde(default)]
    pub bessel_trainable: bool,
    /// Exponent p of the polynomial cutoff envelope.
    #[serde(default = "default_p")]
    pub polynomial_cutoff_p: usize,
    /// Width of the radial–chemical embedding (default: `num_scalar_features`).
    #[serde(default)]
    pub radial_chemical_embed_dim: Option<usize>,
    /// Hidden layers of the scalar embedding MLP.
    #[serde(default = "one")]
    pub scalar_embed_mlp_hidden_layers_depth: usize,
    /// Their width.
    #[serde(default = "default_64")]
    pub scalar_embed_mlp_hidden_layers_width: usize,
    /// Allegro layers.
    pub num_layers: usize,
    /// Width of the scalar latents.
    pub num_scalar_features: usize,
    /// Channels of the tensor track.
    pub num_tensor_features: usize,
    /// Hidden layers of the latent MLPs.
    #[serde(default = "one")]
    pub allegro_mlp_hidden_layers_depth: usize,
    /// Their width.
    #[serde(default = "default_64")]
    pub allegro_mlp_hidden_layers_width: usize,
    /// Per-channel path weights in the tensor products.
    #[serde(default = "yes")]
    pub tp_path_channel_coupling: bool,
    /// Hidden layers of the edge-energy readout.
    #[serde(default = "one")]
    pub readout_mlp_hidden_layers_depth: usize,
    /// Their width.
    #[serde(default = "default_32")]
    pub readout_mlp_hidden_layers_width: usize,
    /// ⟨N⟩, the mean number of neighbours, normalising environment and energy sums.
    pub avg_num_neighbors: f64,
    /// Per-type scales of the atomic energies (default all one); the per-type shifts live in
    /// the energy reference.
    #[serde(default)]
    pub per_type_energy_scales: Option<Vec<f64>>,
    /// Weight initialisation that preserves forward activations (nequip's default).
    #[serde(default = "yes")]
    pub forward_normalize: bool,
    /// One environment weight per irrep and channel (true) or per channel.
    #[serde(default = "yes")]
    pub weight_individual_irreps: bool,
    /// Nonlinearity of all MLPs: "silu" (the only one supported).
    #[serde(default = "default_nonlinearity")]
    pub nonlinearity: String,
}

fn default_model_type() -> String {
    MODEL_TYPE.to_string()
}
fn yes() -> bool {
    true
}
fn one() -> usize {
    1
}
fn default_bessels() -> usize {
    8
}
fn default_p() -> usize {
    6
}
fn default_64() -> usize {
    64
}
fn default_32() -> usize {
    32
}
fn default_nonlinearity() -> String {
    "silu".into()
}

impl AllegroConfig {
    /// The preset of `configs/ff-allegro.toml`.
    pub fn preset() -> Self {
        // Compiled in and covered by a test, so it always parses.
        Self::from_toml_str(PRESET_TOML, "configs/ff-allegro.toml")
            .unwrap_or_else(|e| panic!("built-in Allegro preset: {e}"))
    }

    /// Parses and validates a TOML config (`origin` names it in errors).
    pub fn from_toml_str(text: &str, origin: &str) -> FfResult<Self> {
        let cfg: AllegroConfig = io::config_from_toml(text, origin)?;
        cfg.validate(origin)?;
        Ok(cfg)
    }

    /// Parses and validates the `config.json` of a saved model.
    pub fn from_json(value: &serde_json::Value, origin: &str) -> FfResult<Self> {
        let cfg: AllegroConfig = io::config_from_json(value, origin)?;
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
        if self.type_names.is_empty() {
            return bad("type_names is empty".into());
        }
        for (k, s) in self.type_names.iter().enumerate() {
            if chemlm_atoms::elements::number(s).is_none() {
                return bad(format!("type_names[{k}] = {s:?} is not a chemical symbol"));
            }
            if self.type_names[..k].contains(s) {
                return bad(format!("type_names lists {s:?} twice"));
            }
        }
        if !(self.r_max.is_finite() && self.r_max > 0.0) {
            return bad(format!("r_max must be positive, got {}", self.r_max));
        }
        if !(1..=3).contains(&self.l_max) {
            return bad(format!("l_max must be 1, 2 or 3, got {}", self.l_max));
        }
        if self.num_bessels == 0 || self.polynomial_cutoff_p < 2 {
            return bad("num_bessels must be positive and polynomial_cutoff_p at least 2".into());
        }
        if self.num_layers == 0 || self.num_scalar_features == 0 || self.num_tensor_features == 0 {
            return bad(
                "num_layers, num_scalar_features and num_tensor_features must be positive".into(),
            );
        }
        let embed = self.embed_dim();
        if embed == 0 || !embed.is_multiple_of(2) {
            return bad(format!(
                "radial_chemical_embed_dim must be even and positive, got {embed}"
            ));
        }
        for (name, depth, width) in [
            (
                "scalar_embed_mlp",
                self.scalar_embed_mlp_hidden_layers_depth,
                self.scalar_embed_mlp_hidden_layers_width,
            ),
            (
                "allegro_mlp",
                self.allegro_mlp_hidden_layers_depth,
                self.allegro_mlp_hidden_layers_width,
            ),
            (
                "readout_mlp",
                self.readout_mlp_hidden_layers_depth,
                self.readout_mlp_hidden_layers_width,
            ),
        ] {
            if depth > 0 && width == 0 {
                return bad(format!("{name}_hidden_layers_width must be positive"));
            }
        }
        if !(self.avg_num_neighbors.is_finite() && self.avg_num_neighbors > 0.0) {
            return bad(format!(
                "avg_num_neighbors must be positive, got {}",
                self.avg_num_neighbors
            ));
        }
        if let Some(s) = &self.per_type_energy_scales {
            if s.len() != self.type_names.len() || s.iter().any(|v| !v.is_finite()) {
                return bad(format!(
                    "per_type_energy_scales needs {} finite values, got {s:?}",
                    self.type_names.len()
                ));
            }
        }
        if self.nonlinearity != "silu" {
            return bad(format!(
                "nonlinearity {:?} is not supported (only \"silu\", nequip-allegro's default)",
                self.nonlinearity
            ));
        }
        Ok(())
    }

    /// Width of the radial–chemical embedding.
    pub fn embed_dim(&self) -> usize {
        self.radial_chemical_embed_dim
            .unwrap_or(self.num_scalar_features)
    }

    /// The config as stored in `config.json`, with the energy scale.
    pub fn to_json(&self, scale: &EnergyScale) -> FfResult<serde_json::Value> {
        io::config_json_with_scale(self, scale)
    }

    /// Irreps of the tensor track: (inputs, outputs) of each layer's tensor product, pruned as
    /// nequip-allegro prunes them (forward: only what a path can reach; backward: only what
    /// leads to the last layer's scalars).
    pub fn tensor_product_irreps(&self) -> Vec<(Irreps, Irreps)> {
        let env = Irreps::spherical_harmonics(self.l_max);
        let allowed = if self.parity {
            Irreps(
                (0..=self.l_max)
                    .flat_map(|l| [Irrep::new(l, 1), Irrep::new(l, -1)])
                    .collect(),
            )
        } else {
            env.clone()
        };
        let mut track = vec![env.clone()];
        for layer in 0..self.num_layers {
            let candidates = if layer + 1 == self.num_layers {
                Irreps(vec![Irrep::new(0, 1)])
            } else {
                allowed.clone()
            };
            let arg = track.last().cloned().unwrap_or_default();
            track.push(Irreps(
                candidates
                    .0
                    .into_iter()
                    .filter(|&ir| path_exists(&arg, &env, ir))
                    .collect(),
            ));
        }
        let mut pruned = vec![track[track.len() - 1].clone()];
        for arg in track[..track.len() - 1].iter().rev() {
            let out = pruned.last().cloned().unwrap_or_default();
            let kept = arg
                .0
                .iter()
                .copied()
                .filter(|&a| {
                    env.0
                        .iter()
                        .any(|&b| out.0.iter().any(|&o| o.in_product(a, b)))
                })
                .collect();
            pruned.push(Irreps(kept));
        }
        pruned.reverse();
        pruned
            .windows(2)
            .map(|w| (w[0].clone(), w[1].clone()))
            .collect()
    }
}

/// The data-derived settings of nequip: the elements present (symbols ordered by Z) and the
/// mean number of neighbours within `r_max` per atom, over at most the first 2,000 structures.
pub fn data_defaults(
    structures: &[chemlm_atoms::Structure],
    r_max: f64,
) -> FfResult<(Vec<String>, f64)> {
    let mut present = [false; 256];
    for s in structures {
        for &z in &s.numbers {
            present[z as usize] = true;
        }
    }
    let types = (0..256)
        .filter(|&z| present[z])
        .map(|z| chemlm_atoms::elements::symbol(z as u8).to_string())
        .collect();
    let (mut edges, mut atoms) = (0usize, 0usize);
    for (k, s) in structures.iter().take(2000).enumerate() {
        let g = chemlm_atoms::neighbor_list(s, r_max)
            .map_err(|e| FfError::Invalid(format!("structure {k}: neighbour list: {e}")))?;
        edges += g.idx_i.len();
        atoms += s.len();
    }
    let avg = if edges == 0 {
        1.0
    } else {
        edges as f64 / atoms.max(1) as f64
    };
    Ok((types, avg))
}

/// nequip's `ScalarMLPFunction` without bias: linear layers y = x (α W), W `[in, out]` with
/// α = gain/√fan, SiLU between. Weight names `mlp.{k}.weight` count the nonlinearity modules
/// (0, 2, 4, …) as torch's `Sequential` does.
#[derive(Debug, Clone)]
struct ScalarMlp {
    weights: Vec<Tensor>,
    alphas: Vec<f64>,
}

impl ScalarMlp {
    fn new(dims: &[usize], nonlinear: bool, forward_init: bool, vb: &VarBuilder) -> FfResult<Self> {
        let n = dims.len() - 1;
        let bound = 3f64.sqrt();
        let mut weights = Vec::with_capacity(n);
        let mut alphas = Vec::with_capacity(n);
        let nonlinear = nonlinear && n > 1;
        for k in 0..n {
            let (h_in, h_out) = (dims[k], dims[k + 1]);
            let (fan, gain) = if forward_init {
                (
                    h_in,
                    if !nonlinear || k == 0 {
                        1.0
                    } else {
                        2f64.sqrt()
                    },
                )
            } else {
                (
                    h_out,
                    if !nonlinear || k == n - 1 {
                        1.0
                    } else {
                        2f64.sqrt()
                    },
                )
            };
            let idx = if nonlinear { 2 * k } else { k };
            let name = if !nonlinear && n > 1 {
                format!("mlp.weights.{k}")
            } else {
                format!("mlp.{idx}.weight")
            };
            weights.push(vb.get_with_hints(
                (h_in, h_out),
                &name,
                Init::Uniform {
                    lo: -bound,
                    up: bound,
                },
            )?);
            alphas.push(gain / (fan as f64).sqrt());
        }
        Ok(ScalarMlp { weights, alphas })
    }

    fn forward(&self, x: &Tensor) -> FfResult<Tensor> {
        let n = self.weights.len();
        let mut h = x.clone();
        for (k, (w, &a)) in self.weights.iter().zip(&self.alphas).enumerate() {
            h = h.matmul(&(w * a)?)?;
            if k + 1 < n {
                h = h.silu()?;
            }
        }
        Ok(h)
    }
}

/// Spherical harmonics weighted per channel (and per irrep): nequip-allegro's
/// `MakeWeightedChannels`.
#[derive(Debug, Clone)]
struct WeightedChannels {
    mul: usize,
    n_irreps: usize,
    dim: usize,
    /// `[n_irreps, dim]`: 1 where a component belongs to the irrep (only per-irrep weights).
    irrep_to_component: Option<Tensor>,
}

impl WeightedChannels {
    fn new(
        sh: &Irreps,
        mul: usize,
        individual: bool,
        dtype: DType,
        dev: &Device,
    ) -> FfResult<Self> {
        let irrep_to_component = if individual {
            let mut m = vec![0.0f64; sh.len() * sh.dim()];
            for (i, (ir, off)) in sh.0.iter().zip(sh.offsets()).enumerate() {
                for c in 0..ir.dim() {
                    m[i * sh.dim() + off + c] = 1.0;
                }
            }
            Some(Tensor::from_vec(m, (sh.len(), sh.dim()), dev)?.to_dtype(dtype)?)
        } else {
            None
        };
        Ok(WeightedChannels {
            mul,
            n_irreps: sh.len(),
            dim: sh.dim(),
            irrep_to_component,
        })
    }

    fn weight_numel(&self) -> usize {
        match self.irrep_to_component {
            Some(_) => self.mul * self.n_irreps,
            None => self.mul,
        }
    }

    /// `sh` `[E, dim]`, `weights` `[E, weight_numel]` → `[E, mul, dim]`.
    fn forward(&self, sh: &Tensor, weights: &Tensor) -> FfResult<Tensor> {
        let e = sh.dim(0)?;
        let per_component = match &self.irrep_to_component {
            Some(m) => weights
                .reshape((e * self.mul, self.n_irreps))?
                .matmul(m)?
                .reshape((e, self.mul, self.dim))?,
            None => weights
                .unsqueeze(2)?
                .broadcast_as((e, self.mul, self.dim))?,
        };
        Ok(per_component.broadcast_mul(&sh.unsqueeze(1)?)?)
    }
}

/// One Allegro layer: the tensor product and the latent MLP after it.
#[derive(Debug, Clone)]
struct Layer {
    tp: StridedTensorProduct,
    latent: ScalarMlp,
}

/// An Allegro potential.
pub struct Allegro {
    cfg: AllegroConfig,
    varmap: VarMap,
    scale: EnergyScale,
    /// Atom type of each atomic number (index into `type_names`).
    type_of_z: Vec<Option<u32>>,
    bessel_weights: Tensor,
    center_embed: Tensor,
    neighbor_embed: Tensor,
    basis_linear: ScalarMlp,
    scalar_embed_mlp: ScalarMlp,
    env_embed_linear: ScalarMlp,
    first_projection: ScalarMlp,
    weighter: WeightedChannels,
    layers: Vec<Layer>,
    readout: ScalarMlp,
    per_type_scale: Tensor,
}

impl Allegro {
    /// A fresh model with weights drawn from `seed` with nequip-allegro's initialisation
    /// (uniform ±√3 weights scaled by α, N(0, 1) type embeddings), under nequip-allegro's
    /// state-dict names without the `model.func.` prefix. Existing variables of `varmap` with
    /// those names are reused, which is how files are loaded.
    pub fn new(
        cfg: &AllegroConfig,
        varmap: &VarMap,
        dtype: DType,
        device: &Device,
        seed: u64,
    ) -> FfResult<Self> {
        cfg.validate("Allegro::new")?;
        let vb = SeededBackend::var_builder(varmap, seed, dtype, device);
        let (s, u) = (cfg.num_scalar_features, cfg.num_tensor_features);
        let embed = cfg.embed_dim();
        let fwd = cfg.forward_normalize;
        let mut type_of_z = vec![None; 256];
        for (k, sym) in cfg.type_names.iter().enumerate() {
            if let Some(z) = chemlm_atoms::elements::number(sym) {
                type_of_z[z as usize] = Some(k as u32);
            }
        }
        let n_types = cfg.type_names.len();
        let rce = vb.pp("radial_chemical_embed");
        let roots: Vec<f64> = (1..=cfg.num_bessels).map(|n| n as f64).collect();
        let roots = Tensor::from_vec(roots, (1, cfg.num_bessels), device)?.to_dtype(dtype)?;
        let bessel_weights = if cfg.bessel_trainable {
            // Trainable roots start at 1..n; a loaded file's values win.
            let name = "radial_chemical_embed.bessel_encode.bessel_weights";
            let existed = varmap
                .data()
                .lock()
                .map_err(|_| FfError::Invalid("weight map lock poisoned".into()))?
                .contains_key(name);
            let t = rce.pp("bessel_encode").get_with_hints(
                (1, cfg.num_bessels),
                "bessel_weights",
                Init::Const(1.0),
            )?;
            if !existed {
                if let Some(v) = varmap
                    .data()
                    .lock()
                    .map_err(|_| FfError::Invalid("weight map lock poisoned".into()))?
                    .get(name)
                {
                    v.set(&roots)?;
                }
            }
            t
        } else {
            roots
        };
        let te = rce.pp("type_embed");
        let randn = Init::Randn {
            mean: 0.0,
            stdev: 1.0,
        };
        let center_embed =
            te.pp("center_embed")
                .get_with_hints((n_types, embed / 2), "weight", randn)?;
        let neighbor_embed =
            te.pp("neighbor_embed")
                .get_with_hints((n_types, embed / 2), "weight", randn)?;
        let basis_linear = ScalarMlp::new(
            &[cfg.num_bessels, embed],
            false,
            fwd,
            &te.pp("basis_linear"),
        )?;
        let mut dims = vec![embed];
        dims.extend(std::iter::repeat_n(
            cfg.scalar_embed_mlp_hidden_layers_width,
            cfg.scalar_embed_mlp_hidden_layers_depth,
        ));
        dims.push(s);
        let scalar_embed_mlp = ScalarMlp::new(
            &dims,
            true,
            fwd,
            &vb.pp("scalar_embed_mlp").pp("mlp_module"),
        )?;
        let sh = Irreps::spherical_harmonics(cfg.l_max);
        let weighter = WeightedChannels::new(&sh, u, cfg.weight_individual_irreps, dtype, device)?;
        let env_embed_linear = ScalarMlp::new(
            &[s, weighter.weight_numel()],
            false,
            fwd,
            &vb.pp("tensor_embed").pp("env_embed_linear"),
        )?;
        let al = vb.pp("allegro");
        let first_projection = ScalarMlp::new(
            &[s, s + weighter.weight_numel()],
            false,
            fwd,
            &al.pp("first_layer_env_embed_projection"),
        )?;
        let tp_irreps = cfg.tensor_product_irreps();
        if tp_irreps.first().map(|(a, _)| a) != Some(&sh) {
            return Err(FfError::Invalid(format!(
                "Allegro: the first tensor product's inputs {:?} are not the spherical harmonics {sh}",
                tp_irreps.first().map(|(a, _)| a.to_string())
            )));
        }
        let mut layers = Vec::with_capacity(cfg.num_layers);
        for (k, (arg, out)) in tp_irreps.into_iter().enumerate() {
            if out.0.first() != Some(&Irrep::new(0, 1)) {
                return Err(FfError::Invalid(format!(
                    "Allegro layer {k}: the tensor product's outputs {out} do not start with 0e"
                )));
            }
            let tp = StridedTensorProduct::new(
                arg,
                sh.clone(),
                out,
                u,
                cfg.tp_path_channel_coupling,
                &al.pp("tps").pp(k),
            )?;
            let last = k + 1 == cfg.num_layers;
            let mut dims = vec![s * (k + 1) + u];
            dims.extend(std::iter::repeat_n(
                cfg.allegro_mlp_hidden_layers_width,
                cfg.allegro_mlp_hidden_layers_depth,
            ));
            dims.push(s + if last { 0 } else { weighter.weight_numel() });
            let latent = ScalarMlp::new(&dims, true, fwd, &al.pp("latents").pp(k))?;
            layers.push(Layer { tp, latent });
        }
        let mut dims = vec![s * (cfg.num_layers + 1)];
        dims.extend(std::iter::repeat_n(
            cfg.readout_mlp_hidden_layers_width,
            cfg.readout_mlp_hidden_layers_depth,
        ));
        dims.push(1);
        let readout = ScalarMlp::new(&dims, true, fwd, &vb.pp("edge_readout").pp("mlp_module"))?;
        let scales = cfg
            .per_type_energy_scales
            .clone()
            .unwrap_or_else(|| vec![1.0; n_types]);
        let per_type_scale = Tensor::from_vec(scales, n_types, device)?.to_dtype(dtype)?;
        Ok(Allegro {
            cfg: cfg.clone(),
            varmap: varmap.clone(),
            scale: EnergyScale::default(),
            type_of_z,
            bessel_weights,
            center_embed,
            neighbor_embed,
            basis_linear,
            scalar_embed_mlp,
            env_embed_linear,
            first_projection,
            weighter,
            layers,
            readout,
            per_type_scale,
        })
    }

    /// Loads a model saved by [`Potential::save`].
    pub fn load(dir: &Path, dtype: DType, device: &Device) -> FfResult<Self> {
        let value = io::read_config(dir)?;
        let origin = dir.join(io::CONFIG_FILE).display().to_string();
        let cfg = AllegroConfig::from_json(&value, &origin)?;
        let scale = io::energy_scale_from_config(&value)?;
        let varmap = VarMap::new();
        let mut model = Allegro::new(&cfg, &varmap, dtype, device, 0)?;
        io::load_weights(dir, &varmap, device)?;
        model.scale = scale;
        Ok(model)
    }

    /// Builds `cfg`'s model from a nequip-allegro state dict saved as safetensors (names as
    /// `GraphModel.state_dict()` gives them, e.g. `model.func.allegro.tps.0.weights`; any prefix
    /// up to `func.` is dropped). Buffers are checked against the config and `scale`, not
    /// loaded: `per_type_energy_scale_shift.scales` must equal `per_type_energy_scales`,
    /// `.shifts` must equal e_ref[Z] + μ of `scale` for each type, fixed Bessel roots must be
    /// 1..n. The 3j buffers (`tps.k.w3j`) are recomputed and may be absent.
    pub fn from_nequip(
        cfg: &AllegroConfig,
        scale: &EnergyScale,
        path: &Path,
        dtype: DType,
        device: &Device,
    ) -> FfResult<Self> {
        let varmap = VarMap::new();
        let mut model = Allegro::new(cfg, &varmap, dtype, device, 0)?;
        model.scale = scale.clone();
        let file = candle_core::safetensors::load(path, device)?;
        let werr = |reason: String| FfError::Weights {
            path: path.to_path_buf(),
            reason,
        };
        let mut seen = std::collections::HashSet::new();
        {
            let data = varmap
                .data()
                .lock()
                .map_err(|_| FfError::Invalid("weight map lock poisoned".into()))?;
            for (raw, t) in &file {
                let name = match raw.find("func.") {
                    Some(p) => &raw[p + "func.".len()..],
                    None => raw.as_str(),
                };
                let values = || -> FfResult<Vec<f64>> {
                    Ok(t.to_dtype(DType::F64)?.flatten_all()?.to_vec1()?)
                };
                let close = |a: &[f64], b: &[f64]| {
                    a.len() == b.len()
                        && a.iter()
                            .zip(b)
                            .all(|(x, y)| (x - y).abs() <= 1e-9 * y.abs().max(1.0))
                };
                if name.ends_with(".w3j") || name == "edge_norm._rmax_recip" || name == "_empty" {
                    continue;
                }
                if name == "per_type_energy_scale_shift.scales" {
                    let want = cfg
                        .per_type_energy_scales
                        .clone()
                        .unwrap_or_else(|| vec![1.0; cfg.type_names.len()]);
                    let got = values()?;
                    let got = if got.len() == 1 {
                        vec![got[0]; want.len()]
                    } else {
                        got
                    };
                    if !close(&got, &want) {
                        return Err(werr(format!(
                            "per-type scales {got:?} differ from the config's {want:?}"
                        )));
                    }
                    continue;
                }
                if name == "per_type_energy_scale_shift.shifts" {
                    let want: Vec<f64> = cfg
                        .type_names
                        .iter()
                        .map(|s| {
                            let z = chemlm_atoms::elements::number(s).unwrap_or(0) as usize;
                            scale.atomref.get(z).copied().unwrap_or(0.0) + scale.mean
                        })
                        .collect();
                    let got = values()?;
                    let got = if got.len() == 1 {
                        vec![got[0]; want.len()]
                    } else {
                        got
                    };
                    if !close(&got, &want) {
                        return Err(werr(format!(
                            "per-type shifts {got:?} differ from the energy reference's {want:?}"
                        )));
                    }
                    continue;
                }
                if name == "radial_chemical_embed.bessel_encode.bessel_weights"
                    && !cfg.bessel_trainable
                {
                    let want: Vec<f64> = (1..=cfg.num_bessels).map(|n| n as f64).collect();
                    if !close(&values()?, &want) {
                        return Err(werr(
                            "fixed Bessel roots differ from 1..n: set bessel_trainable".into(),
                        ));
                    }
                    continue;
                }
                let var = data
                    .get(name)
                    .ok_or_else(|| werr(format!("unexpected tensor `{raw}` for this config")))?;
                if t.dims() != var.dims() {
                    return Err(werr(format!(
                        "tensor `{raw}` has shape {:?}, the config implies {:?}",
                        t.dims(),
                        var.dims()
                    )));
                }
                var.set(&t.to_dtype(dtype)?)?;
                seen.insert(name.to_string());
            }
            if let Some(missing) = data.keys().find(|k| !seen.contains(*k)) {
                return Err(werr(format!("tensor `{missing}` is missing")));
            }
        }
        Ok(model)
    }

    /// Atom type of every atom `[n_atoms]` u32, or an error naming an element the model has no
    /// type for.
    fn atom_types(&self, input: &AtomsInput) -> FfResult<Tensor> {
        let types = input
            .numbers_host
            .iter()
            .map(|&z| {
                self.type_of_z[z as usize].ok_or_else(|| {
                    FfError::Invalid(format!(
                        "element {} (Z = {z}) is not among this Allegro model's type_names {:?}",
                        chemlm_atoms::elements::symbol(z),
                        self.cfg.type_names
                    ))
                })
            })
            .collect::<FfResult<Vec<u32>>>()?;
        Ok(Tensor::from_vec(
            types,
            input.n_atoms(),
            input.positions.device(),
        )?)
    }

    /// Per-atom energies before the energy reference `[n_atoms]`. With `train` the tensor
    /// products are composed tensor ops (gradients to the weights, and through the forces);
    /// without, they are the fused inference kernel (forces only: MD, prediction, evaluation).
    pub fn atomic_outputs(&self, input: &AtomsInput, train: bool) -> FfResult<Tensor> {
        let cfg = &self.cfg;
        let dtype = input.dtype();
        let n_atoms = input.n_atoms();
        let (s, u) = (cfg.num_scalar_features, cfg.num_tensor_features);
        let vectors = input.edge_vectors()?;
        let e = vectors.dim(0)?;
        let types = self.atom_types(input)?;
        let atom_type = |t: &Tensor| types.index_select(t, 0);
        if e == 0 {
            return Ok(Tensor::zeros(n_atoms, dtype, input.positions.device())?);
        }
        // Radial basis: sin(π n x)/(π x) (nequip's sinc(n x)·n) times the polynomial envelope.
        let r = vectors.sqr()?.sum_keepdim(1)?.sqrt()?;
        let x = (&r * (1.0 / cfg.r_max))?;
        let pi = std::f64::consts::PI;
        let bessel = (x.broadcast_mul(&self.bessel_weights)? * pi)?
            .sin()?
            .broadcast_div(&(&x * pi)?)?;
        let cutoff = polynomial_cutoff(&x, cfg.polynomial_cutoff_p as f64)?;
        let basis = bessel.broadcast_mul(&cutoff)?;
        // Radial–chemical embedding: [centre type | neighbour type] ⊙ linear(basis).
        let type_embed = Tensor::cat(
            &[
                self.center_embed
                    .index_select(&atom_type(&input.idx_i)?, 0)?,
                self.neighbor_embed
                    .index_select(&atom_type(&input.idx_j)?, 0)?,
            ],
            1,
        )?;
        let scalar = (type_embed * self.basis_linear.forward(&basis)?)?;
        let scalar = self.scalar_embed_mlp.forward(&scalar)?;
        // Two-body tensor embedding.
        let sh = spherical_harmonics(cfg.l_max, &vectors)?;
        let mut tensor = self
            .weighter
            .forward(&sh, &self.env_embed_linear.forward(&scalar)?)?;
        let projection = self.first_projection.forward(&scalar)?;
        let wn = self.weighter.weight_numel();
        let mut latents = vec![projection.narrow(1, 0, s)?];
        let mut env_w = projection.narrow(1, s, wn)?;
        let norm = 1.0 / cfg.avg_num_neighbors.sqrt();
        let dsh = sh.dim(1)?;
        for (k, layer) in self.layers.iter().enumerate() {
            let env_edges = self.weighter.forward(&sh, &env_w)?;
            let env_nodes = Tensor::zeros((n_atoms, u, dsh), dtype, env_edges.device())?
                .index_add(&input.idx_i, &env_edges, 0)?;
            let env_nodes = (env_nodes * norm)?;
            tensor = if train {
                layer.tp.forward(&tensor, &env_nodes, &input.idx_i)?
            } else {
                layer
                    .tp
                    .forward_inference(&tensor, &env_nodes, &input.idx_i)?
            };
            let scalars = tensor.narrow(2, 0, 1)?.reshape((e, u))?;
            let mut cat: Vec<&Tensor> = latents.iter().collect();
            cat.push(&scalars);
            let out = layer.latent.forward(&Tensor::cat(&cat, 1)?)?;
            latents.push(out.narrow(1, 0, s)?);
            if k + 1 < self.layers.len() {
                env_w = out.narrow(1, s, wn)?;
            }
        }
        let features = Tensor::cat(&latents, 1)?;
        let edge_energy = self.readout.forward(&features)?;
        let atom_energy = input.sum_to_centres(&edge_energy)?.squeeze(1)?;
        let atom_energy = (atom_energy * (norm / 2f64.sqrt()))?;
        let scales = self.per_type_scale.index_select(&types, 0)?;
        Ok((atom_energy * scales)?)
    }

    /// The configuration.
    pub fn config(&self) -> &AllegroConfig {
        &self.cfg
    }
}

/// nequip's `PolynomialCutoff`: 1 − (p+1)(p+2)/2 xᵖ + p(p+2) xᵖ⁺¹ − p(p+1)/2 xᵖ⁺², zero for
/// x ≥ 1 (the mask is a constant, as in the reference).
fn polynomial_cutoff(x: &Tensor, p: f64) -> FfResult<Tensor> {
    let xp = x.powf(p)?;
    let xp1 = (&xp * x)?;
    let xp2 = (&xp1 * x)?;
    let env = ((((xp * (-(p + 1.0) * (p + 2.0) / 2.0))? + 1.0)? + (xp1 * (p * (p + 2.0)))?)?
        - (xp2 * (p * (p + 1.0) / 2.0))?)?;
    let mask = x.lt(1.0)?.to_dtype(x.dtype())?;
    Ok((env * mask)?)
}

impl std::fmt::Debug for Allegro {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Allegro")
            .field("config", &self.cfg)
            .field("energy_scale", &self.scale)
            .finish_non_exhaustive()
    }
}

impl Potential for Allegro {
    fn model_type(&self) -> &'static str {
        MODEL_TYPE
    }

    fn cutoff(&self) -> f64 {
        self.cfg.r_max
    }

    fn energies(&self, input: &AtomsInput, train: bool) -> FfResult<Tensor> {
        let y = self.atomic_outputs(input, train)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn irreps_are_pruned_as_in_nequip_allegro() {
        let mut cfg = AllegroConfig::preset();
        cfg.l_max = 2;
        cfg.num_layers = 2;
        let tps = cfg.tensor_product_irreps();
        assert_eq!(tps[0].0.to_string(), "1x0e+1x1o+1x2e");
        assert_eq!(tps[0].1.to_string(), "1x0e+1x1o+1x2e");
        assert_eq!(tps[1].1.to_string(), "1x0e");
        cfg.num_layers = 3;
        let tps = cfg.tensor_product_irreps();
        // As nequip-allegro builds it: 0o cannot arise from spherical harmonics at layer 0.
        assert_eq!(tps[1].0.to_string(), "1x0e+1x1e+1x1o+1x2e+1x2o");
        assert_eq!(tps[1].1.to_string(), "1x0e+1x1o+1x2e");
    }

    #[test]
    fn data_defaults_are_elements_and_mean_neighbours() {
        let s = chemlm_atoms::Structure::new(
            vec![8, 1, 1],
            vec![[0.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 0.0, 2.5]],
        )
        .unwrap();
        // Within 2 Å: O–H1 (1.0) and H1–H2 (1.5), both directions; O–H2 (2.5) is out.
        let (types, avg) = data_defaults(std::slice::from_ref(&s), 2.0).unwrap();
        assert_eq!(types, vec!["H".to_string(), "O".to_string()]);
        assert!((avg - 4.0 / 3.0).abs() < 1e-12, "{avg}");
        let mut table: toml::Table = toml::from_str(PRESET_TOML).unwrap();
        crate::models::Arch::Allegro
            .fill_from_data(&mut table, &[s])
            .unwrap();
        let text = toml::to_string(&table).unwrap();
        let cfg = AllegroConfig::from_toml_str(&text, "t").unwrap();
        assert_eq!(cfg.type_names, vec!["H", "O"]);
    }

    #[test]
    fn bad_configs_are_named() {
        let mut cfg = AllegroConfig::preset();
        cfg.type_names.push("Xx".into());
        assert!(cfg.validate("t").unwrap_err().to_string().contains("Xx"));
        let mut cfg = AllegroConfig::preset();
        cfg.nonlinearity = "mish".into();
        assert!(cfg.validate("t").unwrap_err().to_string().contains("mish"));
        let mut cfg = AllegroConfig::preset();
        cfg.l_max = 4;
        assert!(cfg.validate("t").is_err());
    }
}
