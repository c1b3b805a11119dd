//! Layers shared by the architectures: projections, dropout, attention variants, feed-forward,
//! masks and pooling. Architectures differ mostly in how they wire and name these.

pub mod attention;
pub mod dropout;
pub mod embeddings;
pub mod encoder_layer;
pub mod feature_map;
pub mod linear;
pub mod mask;
pub mod pooling;

pub use attention::{linear_attention, softmax_attention, AttentionOutput};
pub use dropout::Dropout;
pub use feature_map::{FeatureMap, FeatureMapKind};
pub use linear::Linear;
pub use pooling::masked_mean;
