//! [`Model`]: a config, its weights (`VarMap`) and the built network, behind one type that the
//! trainer, the CLI and the other crates use whatever the architecture.

use crate::albert::Albert;
use crate::bert::{Bert, BertFlavor};
use crate::blocks::dropout::ModelRng;
use crate::config::ModelConfig;
use crate::error::ModelResult;
use crate::gpt_neo::GptNeo;
use crate::init::SeededBackend;
use crate::molformer::Molformer;
use crate::t5::T5;
use crate::traits::{LanguageModel, LmKind, ModelOutput, OutputRequest};
use candle_core::{DType, Device, Result, Tensor};
use candle_nn::{VarBuilder, VarMap};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// The built network of one architecture.
#[derive(Debug, Clone)]
pub enum Network {
    /// BERT or RoBERTa (see [`BertFlavor`]).
    Bert(Bert),
    Albert(Albert),
    Molformer(Molformer),
    GptNeo(GptNeo),
    T5(T5),
}

impl Network {
    /// Build `config`'s network from `vb` (seeded init, a checkpoint, or a shape recorder).
    pub fn build(config: &ModelConfig, rng: ModelRng, vb: VarBuilder) -> Result<Self> {
        Ok(match config {
            ModelConfig::Bert(c) => Network::Bert(Bert::new(c, BertFlavor::Bert, rng, vb)?),
            ModelConfig::Roberta(c) => Network::Bert(Bert::new(c, BertFlavor::Roberta, rng, vb)?),
            ModelConfig::Albert(c) => Network::Albert(Albert::new(c, rng, vb)?),
            ModelConfig::Molformer(c) => Network::Molformer(Molformer::new(c, rng, vb)?),
            ModelConfig::GptNeo(c) => Network::GptNeo(GptNeo::new(c, rng, vb)?),
            ModelConfig::T5(c) => Network::T5(T5::new(c, rng, vb)?),
        })
    }

    fn as_lm(&self) -> &dyn LanguageModel {
        match self {
            Network::Bert(m) => m,
            Network::Albert(m) => m,
            Network::Molformer(m) => m,
            Network::GptNeo(m) => m,
            Network::T5(m) => m,
        }
    }
}

/// A model: config + trainable weights + network (+ non-trainable buffers inside the network).
#[derive(Clone)]
pub struct Model {
    config: ModelConfig,
    varmap: VarMap,
    network: Network,
    device: Device,
    /// False once weights came from a checkpoint without the LM head (see
    /// [`Model::lm_head_loaded`]). Shared by clones, as the weights are.
    lm_head_loaded: Arc<AtomicBool>,
}

impl std::fmt::Debug for Model {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Model")
            .field("config", &self.config)
            .field("tensors", &self.varmap.all_vars().len())
            .field("device", &self.device)
            .finish()
    }
}

impl Model {
    /// A freshly initialised model (N(0, initializer_range) weights, LayerNorm 1/0, zero biases;
    /// T5: Hugging Face's `initializer_factor` scheme, see [`crate::t5`]),
    /// bit-identical for the same config and seed.
    pub fn new(config: &ModelConfig, device: &Device, seed: u64) -> ModelResult<Self> {
        Self::new_prefilled(config, device, seed, None)
    }

    /// [`Model::new`] with the variables that `prefill` holds (same name and shape) starting as
    /// copies of it: what loading a checkpoint uses, so it does not first draw random weights
    /// it then overwrites.
    pub(crate) fn new_prefilled(
        config: &ModelConfig,
        device: &Device,
        seed: u64,
        prefill: Option<Arc<std::collections::HashMap<String, candle_core::Tensor>>>,
    ) -> ModelResult<Self> {
        config.validate("model config")?;
        let varmap = VarMap::new();
        let vb = SeededBackend::var_builder_prefilled(&varmap, seed, prefill, DType::F32, device);
        // The stochastic stream (dropout, feature redraws) is separate from the init stream.
        let rng = ModelRng::new(seed ^ 0x9E37_79B9_7F4A_7C15);
        let network = Network::build(config, rng, vb)?;
        Ok(Self {
            config: config.clone(),
            varmap,
            network,
            device: device.clone(),
            lm_head_loaded: Arc::new(AtomicBool::new(true)),
        })
    }

    /// A freshly initialised model from a shipped preset (see [`crate::presets`]).
    pub fn from_preset(name: &str, device: &Device, seed: u64) -> ModelResult<Self> {
        Self::new(&crate::presets::preset(name)?, device, seed)
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// All trainable weights (what optimizers and checkpoints see).
    pub fn varmap(&self) -> &VarMap {
        &self.varmap
    }

    pub fn network(&self) -> &Network {
        &self.network
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    /// Whether the LM head holds real weights: false when [`Model::assign`] (so
    /// [`Model::load`]) read a checkpoint without the head's tensors — an encoder saved by
    /// `AutoModel`, or DeepChem's ChemBERTa-77M-MTR (a regression model). Such a model is fine
    /// for embeddings and fine-tuning, but its logits come from a random head: `forward_logits`
    /// (and `forward_detailed` asking for logits) then fail instead of returning noise, and
    /// [`Model::save`] leaves the untrained head out.
    pub fn lm_head_loaded(&self) -> bool {
        self.lm_head_loaded.load(Ordering::Relaxed)
    }

    /// Declare the LM head trained (or untrained). Pretraining a model loaded without a head
    /// trains its fresh head, and must say so for the logits to be usable and the head saved.
    pub fn set_lm_head_loaded(&self, loaded: bool) {
        self.lm_head_loaded.store(loaded, Ordering::Relaxed);
    }

    /// Error for a logits request on a model whose head was never loaded or trained.
    fn check_head(&self) -> Result<()> {
        if self.lm_head_loaded() {
            return Ok(());
        }
        Err(candle_core::Error::Msg(format!(
            "this {} model was loaded without its LM head (`{}*` tensors): its logits would \
             come from random weights. Use it for embeddings or fine-tuning, or pretrain it \
             (masked LM) to train a head",
            self.config.architecture(),
            self.config.lm_head_prefix().unwrap_or_default()
        )))
    }

    /// The GPT-Neo network, for incremental generation with a KV cache.
    pub fn as_gpt_neo(&self) -> Option<&GptNeo> {
        match &self.network {
            Network::GptNeo(g) => Some(g),
            _ => None,
        }
    }

    /// The T5 network, for seq2seq training and decoding.
    pub fn as_t5(&self) -> Option<&T5> {
        match &self.network {
            Network::T5(t) => Some(t),
            _ => None,
        }
    }

    /// Non-trainable state saved with the weights (MoLFormer's random-feature projections).
    pub fn buffers(&self) -> Result<Vec<(String, Tensor)>> {
        match &self.network {
            Network::Molformer(m) => m.buffers(),
            _ => Ok(Vec::new()),
        }
    }

    /// Set a buffer by name; false if the model has no such buffer.
    pub fn set_buffer(&self, name: &str, t: &Tensor) -> Result<bool> {
        match &self.network {
            Network::Molformer(m) => m.set_buffer(name, t),
            _ => Ok(false),
        }
    }

    /// Parameter counts of this model's config (see [`crate::params`]).
    pub fn parameter_count(&self) -> ModelResult<crate::params::ParamCount> {
        crate::params::count_parameters(&self.config)
    }
}

impl LanguageModel for Model {
    fn kind(&self) -> LmKind {
        self.config.kind()
    }

    fn forward_logits(&self, ids: &Tensor, mask: &Tensor, train: bool) -> Result<Tensor> {
        self.check_head()?;
        self.network.as_lm().forward_logits(ids, mask, train)
    }

    fn forward_hidden(&self, ids: &Tensor, mask: &Tensor, train: bool) -> Result<Tensor> {
        self.network.as_lm().forward_hidden(ids, mask, train)
    }

    fn forward_detailed(
        &self,
        ids: &Tensor,
        mask: &Tensor,
        train: bool,
        request: OutputRequest,
    ) -> Result<ModelOutput> {
        if request.logits {
            self.check_head()?;
        }
        self.network
            .as_lm()
            .forward_detailed(ids, mask, train, request)
    }

    fn embed(&self, ids: &Tensor, mask: &Tensor) -> Result<Tensor> {
        self.network.as_lm().embed(ids, mask)
    }

    fn set_seed(&self, seed: u64) {
        self.network.as_lm().set_seed(seed)
    }
}
