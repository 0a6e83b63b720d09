//! # mixaug-maps
//!
//! Where an image's meaning is: the maps that guided mixing methods consume.
//!
//! This crate will hold the fine-grained static saliency of Montabone & Soto (bit-exact
//! with OpenCV's `StaticSaliencyFineGrained`, used by SaliencyMix), class activation maps
//! and SnapMix's semantic percent maps for any model exposing its last-stage features and
//! classifier, and the attention maps of AttentiveMix (METHODS.md §9, §11, §14.1).
//! None of them is implemented yet; the crate exists so the workspace's layering
//! (`masks → maps`) is in place.
