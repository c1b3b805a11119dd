//! SchNet (Schütt et al. 2018), the same function as schnetpack 2.1.1's
//! `NeuralNetworkPotential(representation=SchNet, output_modules=[Atomwise])`, so that a
//! schnetpack state dict runs here unchanged (see [`SchNet::load_state_dict`]).
//!
//! Per edge i←j: distance d_ij, Gaussian expansion f_ij (`n_rbf` on [0, cutoff]), cosine
//! cutoff c_ij. Atoms start from an embedding of Z. Each interaction block computes
//! v_i = f2out( Σ_j in2f(x)_j ⊙ W(f_ij) · c_ij ) with the filter network
//! W = Dense(n_filters) ∘ ssp ∘ Dense(n_rbf → n_filters), and updates x ← x + v. The atomwise
//! head (schnetpack's `build_mlp`: widths halve each layer) maps x_i to one number y_i, and
//! [`EnergyScale`] turns those into energies E = Σ_i σ·y_i + μ + e_ref[Z_i].
//!
//! Weight names are schnetpack's state-dict names:
//!
//! | tensor | shape |
//! |---|---|
//! | `representation.embedding.weight` | `[max_z, n_atom_basis]` |
//! | `representation.interactions.{k}.in2f.weight` | `[n_filters, n_atom_basis]` (no bias) |
//! | `representation.interactions.{k}.filter_network.0.{weight,bias}` | `[n_filters, n_rbf]`, `[n_filters]` |
//! | `representation.interactions.{k}.filter_network.1.{weight,bias}` | `[n_filters, n_filters]`, `[n_filters]` |
//! | `representation.interactions.{k}.f2out.0.{weight,bias}` | `[n_atom_basis, n_filters]`, `[n_atom_basis]` |
//! | `representation.interactions.{k}.f2out.1.{weight,bias}` | `[n_atom_basis, n_atom_basis]`, `[n_atom_basis]` |
//! | `output_modules.0.outnet.{l}.{weight,bias}` | `[n_{l+1}, n_l]`, `[n_{l+1}]` |
//!
//! With `shared_interactions` only block 0 exists here; schnetpack's state dict repeats it
//! under every k, which loading accepts when the copies are identical. schnetpack's buffers
//! `representation.radial_basis.{offsets,widths}` and `representation.cutoff_fn.cutoff` are
//! not weights here (they follow from the config) and are checked against it on load.

use crate::blocks::{cosine_cutoff, norms, Activation, Dense, GaussianRbf};
use crate::error::{FfError, FfResult};
use crate::input::AtomsInput;
use crate::io;
use crate::potential::Potential;
use crate::scale::EnergyScale;
use candle_core::{DType, Device, Tensor};
use candle_nn::{Init, VarBuilder, VarMap};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::Path;

/// The shipped preset (`configs/ff-schnet.toml`): schnetpack's MD17 SchNet.
pub const PRESET_TOML: &str = include_str!("../../../../configs/ff-schnet.toml");

const MODEL_TYPE: &str = "schnet";
const REP: &str = "representation";
const HEAD: &str = "output_modules.0.outnet";

/// Activation of the hidden layers of the atomwise head.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum OutputActivation {
    /// x·σ(x): schnetpack 2.x `Atomwise`'s default.
    #[default]
    Silu,
    /// ln(0.5eˣ + 0.5): the original SchNet paper's head.
    ShiftedSoftplus,
}

impl From<OutputActivation> for Activation {
    fn from(a: OutputActivation) -> Self {
        match a {
            OutputActivation::Silu => Activation::Silu,
            OutputActivation::ShiftedSoftplus => Activation::ShiftedSoftplus,
        }
    }
}

fn default_model_type() -> String {
    MODEL_TYPE.to_string()
}
fn default_max_z() -> usize {
    100
}
fn default_out_layers() -> usize {
    2
}

/// Sizes of a SchNet, stored in `config.json` (with `model_type: "schnet"` and the
/// `energy_scale` next to these fields).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SchNetConfig {
    /// Always "schnet".
    #[serde(default = "default_model_type")]
    pub model_type: String,
    /// Width of the atom features (schnetpack `n_atom_basis`).
    pub n_atom_basis: usize,
    /// Number of interaction blocks.
    pub n_interactions: usize,
    /// Width of the continuous filters (schnetpack defaults it to `n_atom_basis`).
    pub n_filters: usize,
    /// Number of Gaussians on [0, cutoff].
    pub n_rbf: usize,
    /// Cutoff radius in Å.
    pub cutoff: f64,
    /// Rows of the embedding; atomic numbers must be below it (schnetpack: 100).
    #[serde(default = "default_max_z")]
    pub max_z: usize,
    /// One interaction block applied `n_interactions` times (schnetpack `shared_interactions`).
    #[serde(default)]
    pub shared_interactions: bool,
    /// Layers of the atomwise head (schnetpack `Atomwise(n_layers=2)`).
    #[serde(default = "default_out_layers")]
    pub n_out_layers: usize,
    /// Hidden activation of the atomwise head.
    #[serde(default)]
    pub output_activation: OutputActivation,
}

impl SchNetConfig {
    /// schnetpack's MD17 SchNet (`configs/ff-schnet.toml`).
    pub fn preset() -> FfResult<Self> {
        Self::from_toml(PRESET_TOML, "configs/ff-schnet.toml")
    }

    /// Parses and validates a TOML config; `origin` names it in errors.
    pub fn from_toml(text: &str, origin: &str) -> FfResult<Self> {
        let cfg: SchNetConfig = io::config_from_toml(text, origin)?;
        cfg.validate(origin)?;
        Ok(cfg)
    }

    /// Reads the SchNet fields of a `config.json` value (other keys, such as `energy_scale`,
    /// are ignored) and validates them.
    pub fn from_json(value: &serde_json::Value, origin: &str) -> FfResult<Self> {
        let cfg: SchNetConfig = io::config_from_json(value, origin)?;
        cfg.validate(origin)?;
        Ok(cfg)
    }

    /// Checks sizes and ranges.
    pub fn validate(&self, origin: &str) -> FfResult<()> {
        let bad = |reason: String| {
            Err(FfError::Config {
                origin: origin.to_string(),
                reason,
            })
        };
        if self.model_type != MODEL_TYPE {
            return bad(format!(
                "model_type is `{}`, expected `{MODEL_TYPE}`",
                self.model_type
            ));
        }
        for (name, v, min) in [
            ("n_atom_basis", self.n_atom_basis, 1),
            ("n_interactions", self.n_interactions, 1),
            ("n_filters", self.n_filters, 1),
            ("n_rbf", self.n_rbf, 2),
            ("max_z", self.max_z, 2),
            ("n_out_layers", self.n_out_layers, 1),
        ] {
            if v < min {
                return bad(format!("{name} must be at least {min}, got {v}"));
            }
        }
        if !(self.cutoff.is_finite() && self.cutoff > 0.0) {
            return bad(format!(
                "cutoff must be a positive length, got {}",
                self.cutoff
            ));
        }
        Ok(())
    }

    /// Layer widths of the atomwise head, schnetpack's `build_mlp(n_hidden=None)`: start at
    /// `n_atom_basis`, halve per layer (never below 1), end at 1.
    pub fn head_widths(&self) -> Vec<usize> {
        let mut widths = Vec::with_capacity(self.n_out_layers + 1);
        let mut c = self.n_atom_basis;
        for _ in 0..self.n_out_layers {
            widths.push(c);
            c = (c / 2).max(1);
        }
        widths.push(1);
        widths
    }

    /// Number of trainable parameters.
    pub fn n_params(&self) -> usize {
        let (f, nf, r) = (self.n_atom_basis, self.n_filters, self.n_rbf);
        let block = nf * f + (r * nf + nf) + (nf * nf + nf) + (nf * f + f) + (f * f + f);
        let blocks = if self.shared_interactions {
            1
        } else {
            self.n_interactions
        };
        let w = self.head_widths();
        let head: usize = w.windows(2).map(|p| p[0] * p[1] + p[1]).sum();
        self.max_z * f + blocks * block + head
    }
}

/// One continuous-filter interaction block.
#[derive(Debug, Clone)]
struct Interaction {
    in2f: Dense,
    filter0: Dense,
    filter1: Dense,
    f2out0: Dense,
    f2out1: Dense,
}

impl Interaction {
    fn new(cfg: &SchNetConfig, vb: VarBuilder) -> FfResult<Self> {
        let (f, nf, r) = (cfg.n_atom_basis, cfg.n_filters, cfg.n_rbf);
        let ssp = Activation::ShiftedSoftplus;
        let id = Activation::Identity;
        Ok(Interaction {
            in2f: Dense::new(f, nf, false, id, vb.pp("in2f"))?,
            filter0: Dense::new(r, nf, true, ssp, vb.pp("filter_network.0"))?,
            filter1: Dense::new(nf, nf, true, id, vb.pp("filter_network.1"))?,
            f2out0: Dense::new(nf, f, true, ssp, vb.pp("f2out.0"))?,
            f2out1: Dense::new(f, f, true, id, vb.pp("f2out.1"))?,
        })
    }

    /// The update v of features `x` `[n_atoms, F]` given the edge expansions `f_ij`
    /// `[n_edges, n_rbf]` and cutoff values `[n_edges, 1]`. `frozen`: weights as constants.
    fn forward(
        &self,
        x: &Tensor,
        f_ij: &Tensor,
        rcut: &Tensor,
        input: &AtomsInput,
        frozen: bool,
    ) -> FfResult<Tensor> {
        let dense = |d: &Dense, x: &Tensor| {
            if frozen {
                d.forward_frozen(x)
            } else {
                d.forward(x)
            }
        };
        let h = dense(&self.in2f, x)?;
        let w = dense(&self.filter1, &dense(&self.filter0, f_ij)?)?;
        let w = crate::fused::scale_rows(&w, rcut)?;
        let pooled = input.conv(&h, &w)?;
        dense(&self.f2out1, &dense(&self.f2out0, &pooled)?)
    }
}

/// A SchNet potential. Build it with [`SchNet::new`] (fresh, seeded weights) or
/// [`SchNet::load`] (a saved model or a schnetpack state dict).
pub struct SchNet {
    config: SchNetConfig,
    varmap: VarMap,
    embedding: Tensor,
    /// One entry per application; with shared interactions all entries are the same block.
    interactions: Vec<Interaction>,
    rbf: GaussianRbf,
    head: Vec<Dense>,
    scale: EnergyScale,
}

impl SchNet {
    /// A SchNet with fresh weights registered in `varmap`, drawn deterministically from
    /// `seed` with schnetpack's initialisation (N(0, 1) embedding as torch's `nn.Embedding`,
    /// Xavier-uniform weights, zero biases). Variables already in `varmap` under the same
    /// names are reused. The energy scale starts as the identity (σ = 1, μ = 0, no reference).
    pub fn new(
        config: SchNetConfig,
        varmap: &VarMap,
        dtype: DType,
        device: &Device,
        seed: u64,
    ) -> FfResult<Self> {
        config.validate("SchNet config")?;
        let vb = chemlm_models::init::SeededBackend::var_builder(varmap, seed, dtype, device);
        let rep = vb.pp(REP);
        let embedding = rep.get_with_hints(
            (config.max_z, config.n_atom_basis),
            "embedding.weight",
            Init::Randn {
                mean: 0.0,
                stdev: 1.0,
            },
        )?;
        let n_blocks = if config.shared_interactions {
            1
        } else {
            config.n_interactions
        };
        let blocks = (0..n_blocks)
            .map(|k| Interaction::new(&config, rep.pp(format!("interactions.{k}"))))
            .collect::<FfResult<Vec<_>>>()?;
        let interactions = (0..config.n_interactions)
            .map(|k| blocks[k % n_blocks].clone())
            .collect();
        let widths = config.head_widths();
        let act: Activation = config.output_activation.into();
        let n_layers = widths.len() - 1;
        let head = (0..n_layers)
            .map(|l| {
                let a = if l + 1 == n_layers {
                    Activation::Identity
                } else {
                    act
                };
                Dense::new(
                    widths[l],
                    widths[l + 1],
                    true,
                    a,
                    vb.pp(format!("{HEAD}.{l}")),
                )
            })
            .collect::<FfResult<Vec<_>>>()?;
        let rbf = GaussianRbf::new(config.n_rbf, 0.0, config.cutoff, dtype, device)?;
        Ok(SchNet {
            config,
            varmap: varmap.clone(),
            embedding,
            interactions,
            rbf,
            head,
            scale: EnergyScale::default(),
        })
    }

    /// Loads a model directory: `config.json` (SchNet fields + `energy_scale`) and
    /// `model.safetensors`, which may be ours or a schnetpack state dict saved as safetensors
    /// (see [`SchNet::load_state_dict`]).
    pub fn load(dir: &Path, dtype: DType, device: &Device) -> FfResult<Self> {
        let value = io::read_config(dir)?;
        let origin = dir.join(io::CONFIG_FILE).display().to_string();
        let config = SchNetConfig::from_json(&value, &origin)?;
        let scale = io::energy_scale_from_config(&value)?;
        let mut model = SchNet::new(config, &VarMap::new(), dtype, device, 0)?;
        model.load_state_dict(&dir.join(io::WEIGHTS_FILE))?;
        model.set_energy_scale(scale);
        Ok(model)
    }

    /// Overwrites the weights with those of a safetensors file under schnetpack's state-dict
    /// names (any float dtype, converted). Every weight must be present with its shape. Besides
    /// the weights, the file may hold what `NeuralNetworkPotential.state_dict()` adds: the RBF
    /// and cutoff buffers (must agree with the config to f32 precision) and, for shared
    /// interactions, the repeated blocks 1.. (must equal block 0). Anything else is an error.
    pub fn load_state_dict(&self, path: &Path) -> FfResult<()> {
        let device = self.embedding.device();
        let file = candle_core::safetensors::load(path, device)?;
        let err = |reason: String| FfError::Weights {
            path: path.to_path_buf(),
            reason,
        };
        let data = self
            .varmap
            .data()
            .lock()
            .map_err(|_| FfError::Invalid("weight map lock poisoned".into()))?;
        for (name, var) in data.iter() {
            let t = file
                .get(name)
                .ok_or_else(|| err(format!("tensor `{name}` is missing")))?;
            if t.dims() != var.dims() {
                return Err(err(format!(
                    "tensor `{name}` has shape {:?}, the config implies {:?}",
                    t.dims(),
                    var.dims()
                )));
            }
            var.set(&t.to_dtype(var.dtype())?)?;
        }
        for (name, t) in file.iter().filter(|(n, _)| !data.contains_key(*n)) {
            self.check_extra(name, t, &file).map_err(err)?;
        }
        Ok(())
    }

    /// Accepts a schnetpack-only entry of a state dict if it is consistent with the config.
    fn check_extra(
        &self,
        name: &str,
        t: &Tensor,
        file: &HashMap<String, Tensor>,
    ) -> Result<(), String> {
        let values = |t: &Tensor| -> Result<Vec<f64>, String> {
            t.to_dtype(DType::F64)
                .and_then(|t| t.flatten_all())
                .and_then(|t| t.to_vec1::<f64>())
                .map_err(|e| e.to_string())
        };
        let c = &self.config;
        let step = c.cutoff / (c.n_rbf - 1) as f64;
        // Buffers are float32 in schnetpack: compare at that precision.
        let close = |got: &[f64], want: &[f64]| {
            got.len() == want.len()
                && got
                    .iter()
                    .zip(want)
                    .all(|(g, w)| (g - w).abs() <= 1e-6 * w.abs().max(1.0))
        };
        let expected: Option<Vec<f64>> = match name.strip_prefix("representation.") {
            Some("radial_basis.offsets") => Some((0..c.n_rbf).map(|k| step * k as f64).collect()),
            Some("radial_basis.widths") => Some(vec![step; c.n_rbf]),
            Some("cutoff_fn.cutoff") => Some(vec![c.cutoff]),
            _ => None,
        };
        if let Some(want) = expected {
            let got = values(t)?;
            return if close(&got, &want) {
                Ok(())
            } else {
                Err(format!(
                    "buffer `{name}` = {got:?} disagrees with the config ({want:?})"
                ))
            };
        }
        if c.shared_interactions {
            if let Some(rest) = name.strip_prefix("representation.interactions.") {
                if let Some((k, field)) = rest.split_once('.') {
                    let k_ok = k.parse::<usize>().is_ok_and(|k| k < c.n_interactions);
                    let first = format!("representation.interactions.0.{field}");
                    if let (true, Some(t0)) = (k_ok, file.get(&first)) {
                        return if values(t)? == values(t0)? {
                            Ok(())
                        } else {
                            Err(format!(
                                "`{name}` differs from `{first}` but the config shares interactions"
                            ))
                        };
                    }
                }
            }
        }
        Err(format!(
            "unexpected tensor `{name}` (config and weights disagree)"
        ))
    }

    /// The config.
    pub fn config(&self) -> &SchNetConfig {
        &self.config
    }

    /// The full `config.json` value: SchNet fields plus `energy_scale`.
    pub fn config_json(&self) -> FfResult<serde_json::Value> {
        io::config_json_with_scale(&self.config, &self.scale)
    }

    /// Atom features after the interaction blocks, `[n_atoms, n_atom_basis]` (schnetpack's
    /// `scalar_representation`), differentiable in positions and weights.
    pub fn representation(&self, input: &AtomsInput) -> FfResult<Tensor> {
        self.features(input, false)
    }

    /// [`SchNet::representation`]; with `frozen` the dense layers' weights enter as constants
    /// (gradients reach positions and the embedding only), which makes force calls cheaper.
    fn features(&self, input: &AtomsInput, frozen: bool) -> FfResult<Tensor> {
        if let Some(&z) = input
            .numbers_host
            .iter()
            .find(|&&z| z as usize >= self.config.max_z)
        {
            return Err(FfError::Invalid(format!(
                "atomic number {z} outside the model's embedding (max_z = {})",
                self.config.max_z
            )));
        }
        let mut x = self.embedding.index_select(&input.numbers, 0)?;
        if input.n_edges()? == 0 {
            return Ok(x);
        }
        let d = norms(&input.edge_vectors()?)?;
        let f_ij = self.rbf.forward(&d)?;
        let rcut = cosine_cutoff(&d, self.config.cutoff)?.unsqueeze(1)?;
        for block in &self.interactions {
            let v = block.forward(&x, &f_ij, &rcut, input, frozen)?;
            x = (x + v)?;
        }
        Ok(x)
    }

    /// Unscaled atomwise outputs y_i, `[n_atoms]` (schnetpack's per-atom `Atomwise` output),
    /// differentiable in positions and weights.
    pub fn atomic_outputs(&self, input: &AtomsInput) -> FfResult<Tensor> {
        self.outputs(input, false)
    }

    fn outputs(&self, input: &AtomsInput, frozen: bool) -> FfResult<Tensor> {
        let mut y = self.features(input, frozen)?;
        for layer in &self.head {
            y = if frozen {
                layer.forward_frozen(&y)?
            } else {
                layer.forward(&y)?
            };
        }
        Ok(y.squeeze(1)?)
    }
}

impl std::fmt::Debug for SchNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchNet")
            .field("config", &self.config)
            .field("energy_scale", &self.scale)
            .finish_non_exhaustive()
    }
}

impl Potential for SchNet {
    fn model_type(&self) -> &'static str {
        MODEL_TYPE
    }

    fn cutoff(&self) -> f64 {
        self.config.cutoff
    }

    /// With `train == false` the dense layers' weights are constants (no weight gradients,
    /// about a third less work for forces in MD and prediction); training passes `true`.
    fn energies(&self, input: &AtomsInput, train: bool) -> FfResult<Tensor> {
        let y = self.outputs(input, !train)?;
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
        io::save_model(dir, &self.config_json()?, &self.varmap)
    }
}
