//! # mixaug-maps
//!
//! Where an image's meaning is: the maps that guided mixing methods consume.
//!
//! - [`fine_grained_saliency`]: Montabone & Soto's fine-grained static saliency,
//!   bit-exact with OpenCV's `StaticSaliencyFineGrained` (SaliencyMix), and
//!   [`saliency_maps`] for a normalised batch.
//! - [`class_activation_maps`] and [`semantic_percent_maps`]: CAMs and SnapMix's semantic
//!   percent maps for any [`CamModel`].
//! - [`attention_maps`]: AttentiveMix's grid of attention from a frozen network's last
//!   stage.
//!
//! Spec: METHODS.md §9, §11, §14.1.
//!
//! ```
//! use mixaug_maps::{ImageU8, fine_grained_saliency};
//! // A 3-channel 16×20 image (B, G, R bytes): grey, with a red 4×4 square.
//! let (h, w) = (16, 20);
//! let mut pixels = vec![90u8; h * w * 3];
//! for y in 6..10 {
//!     for x in 12..16 {
//!         pixels[(y * w + x) * 3..][..3].copy_from_slice(&[0, 0, 255]);
//!     }
//! }
//! let map = fine_grained_saliency(ImageU8::new(&pixels, h, w, 3).unwrap());
//! assert_eq!((map.height(), map.width()), (16, 20));
//! assert!(map.get(7, 13) > map.get(2, 2));
//! ```

#![warn(missing_docs)]

/// The README's example, run as a doctest (`cargo test --doc`).
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

mod attention;
mod cam;
mod error;
mod saliency;

pub use attention::{AttentionChannel, AttentionConfig, attention_maps};
pub use cam::{
    CamClassifier, CamModel, CamStatistics, class_activation_maps, last_stage_features,
    percent_maps, semantic_percent_maps,
};
pub use error::MapError;
pub use saliency::{
    ImageU8, PixelNormalization, SALIENCY_SCALES, SaliencyMap, fine_grained_saliency,
    host_saliency_maps, saliency_maps,
};
