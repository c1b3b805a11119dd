//! The post-LN transformer layer of BERT, ALBERT and MoLFormer:
//! `h = LN(x + Dropout(O(Attn(Q x, K x, V x))))`, `out = LN(h + Dropout(W2 act(W1 h)))`.
//! Attention is softmax (BERT, ALBERT, MoLFormer "full") or linear with a feature map
//! (MoLFormer), optionally with rotary embeddings on Q and K (MoLFormer).

use super::attention::{
    linear_attention, merge_heads, softmax_attention, softmax_attention_merged, split_heads,
};
use super::{Dropout, FeatureMap, Linear};
use crate::ops::layer_norm::LayerNorm;
use crate::ops::{Activation, Rotary};
use candle_core::{Result, Tensor};
use candle_nn::VarBuilder;

/// Tensor-name prefixes inside one layer (they differ between BERT-family checkpoints).
#[derive(Debug, Clone, Copy)]
pub struct LayerNames {
    pub query: &'static str,
    pub key: &'static str,
    pub value: &'static str,
    pub attn_out: &'static str,
    pub attn_ln: &'static str,
    pub ffn_in: &'static str,
    pub ffn_out: &'static str,
    pub out_ln: &'static str,
}

/// `BertLayer` / `MolformerLayer` names.
pub const BERT_NAMES: LayerNames = LayerNames {
    query: "attention.self.query",
    key: "attention.self.key",
    value: "attention.self.value",
    attn_out: "attention.output.dense",
    attn_ln: "attention.output.LayerNorm",
    ffn_in: "intermediate.dense",
    ffn_out: "output.dense",
    out_ln: "output.LayerNorm",
};

/// `AlbertLayer` names.
pub const ALBERT_NAMES: LayerNames = LayerNames {
    query: "attention.query",
    key: "attention.key",
    value: "attention.value",
    attn_out: "attention.dense",
    attn_ln: "attention.LayerNorm",
    ffn_in: "ffn",
    ffn_out: "ffn_output",
    out_ln: "full_layer_layer_norm",
};

/// Attention flavour of a layer.
#[derive(Debug, Clone)]
pub enum AttentionKind {
    /// Scaled dot-product softmax attention.
    Softmax,
    /// Linear attention with this feature map and denominator epsilon.
    Linear { feature_map: FeatureMap, eps: f64 },
}

/// Sizes and options of one layer.
#[derive(Debug, Clone, Copy)]
pub struct LayerShape {
    pub hidden: usize,
    pub heads: usize,
    pub ffn: usize,
    pub act: Activation,
    pub ln_eps: f64,
    pub init_std: f64,
}

/// One post-LN encoder layer.
#[derive(Debug, Clone)]
pub struct PostLnLayer {
    query: Linear,
    key: Linear,
    value: Linear,
    attn_out: Linear,
    attn_ln: LayerNorm,
    ffn_in: Linear,
    ffn_out: Linear,
    out_ln: LayerNorm,
    shape: LayerShape,
    attention: AttentionKind,
    hidden_dropout: Dropout,
    attn_dropout: Dropout,
}

/// Masks a layer needs, built once per forward.
pub struct LayerMasks<'a> {
    /// `[b, 1, 1, s]` additive key-padding bias (softmax attention).
    pub bias: &'a Tensor,
    /// `[b, s]` 1/0 mask (linear attention).
    pub keys: &'a Tensor,
}

impl PostLnLayer {
    pub fn new(
        shape: LayerShape,
        names: &LayerNames,
        attention: AttentionKind,
        hidden_dropout: Dropout,
        attn_dropout: Dropout,
        vb: VarBuilder,
    ) -> Result<Self> {
        let (h, f, s) = (shape.hidden, shape.ffn, shape.init_std);
        Ok(Self {
            query: Linear::new(h, h, true, s, vb.pp(names.query))?,
            key: Linear::new(h, h, true, s, vb.pp(names.key))?,
            value: Linear::new(h, h, true, s, vb.pp(names.value))?,
            attn_out: Linear::new(h, h, true, s, vb.pp(names.attn_out))?,
            attn_ln: LayerNorm::new(h, shape.ln_eps, vb.pp(names.attn_ln))?,
            ffn_in: Linear::new(h, f, true, s, vb.pp(names.ffn_in))?,
            ffn_out: Linear::new(f, h, true, s, vb.pp(names.ffn_out))?,
            out_ln: LayerNorm::new(h, shape.ln_eps, vb.pp(names.out_ln))?,
            shape,
            attention,
            hidden_dropout,
            attn_dropout,
        })
    }

    /// The attention flavour (to save random-feature buffers).
    pub fn attention(&self) -> &AttentionKind {
        &self.attention
    }

    /// `x` `[b, s, h]` → (output `[b, s, h]`, attention map if `want_probs`).
    pub fn forward(
        &self,
        x: &Tensor,
        masks: &LayerMasks,
        rotary: Option<&Rotary>,
        train: bool,
        want_probs: bool,
    ) -> Result<(Tensor, Option<Tensor>)> {
        let (ctx, probs) = self.attend(x, masks, rotary, train, want_probs)?;
        let a = self
            .hidden_dropout
            .forward(&self.attn_out.forward(&ctx)?, train)?;
        let h = self.attn_ln.forward(&(a + x)?)?;
        let f = self.shape.act.apply(&self.ffn_in.forward(&h)?)?;
        let f = self
            .hidden_dropout
            .forward(&self.ffn_out.forward(&f)?, train)?;
        let out = self.out_ln.forward(&(f + h)?)?;
        Ok((out, probs))
    }

    /// Attention context `[b, s, h]` (heads merged) and, if `want_probs`, the map. Softmax
    /// attention without rotary goes through [`softmax_attention_merged`] (fused on the CPU);
    /// rotary and linear attention split heads around [`softmax_attention`] /
    /// [`linear_attention`].
    fn attend(
        &self,
        x: &Tensor,
        masks: &LayerMasks,
        rotary: Option<&Rotary>,
        train: bool,
        want_probs: bool,
    ) -> Result<(Tensor, Option<Tensor>)> {
        let heads = self.shape.heads;
        let head_dim = self.shape.hidden / heads;
        let scale = 1.0 / (head_dim as f64).sqrt();
        let (q, k, v) = (
            self.query.forward(x)?,
            self.key.forward(x)?,
            self.value.forward(x)?,
        );
        if matches!(self.attention, AttentionKind::Softmax) && rotary.is_none() {
            return softmax_attention_merged(
                &q,
                &k,
                &v,
                masks.bias,
                heads,
                scale,
                (&self.attn_dropout, train),
                want_probs,
            );
        }
        let (mut q, mut k, v) = (
            split_heads(&q, heads)?,
            split_heads(&k, heads)?,
            split_heads(&v, heads)?,
        );
        if let Some(r) = rotary {
            q = r.apply(&q, 0)?;
            k = r.apply(&k, 0)?;
        }
        let att = match &self.attention {
            AttentionKind::Softmax => softmax_attention(
                &q,
                &k,
                &v,
                Some(masks.bias),
                scale,
                Some((&self.attn_dropout, train)),
                want_probs,
            )?,
            AttentionKind::Linear { feature_map, eps } => {
                let (pq, pk) = feature_map.apply(&q, &k, train)?;
                linear_attention(&pq, &pk, &v, Some(masks.keys), *eps, want_probs)?
            }
        };
        Ok((merge_heads(&att.context)?, att.probs))
    }
}
