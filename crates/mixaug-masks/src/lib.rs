//! # mixaug-masks
//!
//! Mixing data augmentation for image classification, on any burn [`Device`](burn::prelude::Device).
//!
//! Every method is split into a host-side **sample** (all random draws from a seeded
//! [`MixRng`], into a plain, comparable `Params` value) and a device-side **apply** (pure
//! tensor work batched over `N`). Every method returns the mixed images, a
//! [`MixedTarget`] (class indices and weights, `[N, K]`) and the permutation π.
//!
//! Methods: [`Mixup`] (Zhang et al., ICLR 2018), [`SamplePairing`] (Inoue 2018),
//! [`CutMix`] (Yun et al., ICCV 2019), [`Cutout`] (DeVries & Taylor 2017), [`FMix`]
//! (Harris et al. 2020), [`GridMix`] (Baek et al., Pattern Recognition 2021),
//! [`ResizeMix`] (Qin et al. 2020), [`SmoothMix`] (Lee et al., CVPRW 2020), [`Ricap`]
//! (Takahashi et al., ACML 2018) and the eleven [`MixedExample`] variants of Summers &
//! Dinneen (WACV 2019); the guided [`SaliencyMix`] (Uddin et al., ICLR 2021), [`SnapMix`]
//! (Huang et al., AAAI 2021) and [`AttentiveMix`] (Walawalkar et al., ICASSP 2020), which
//! mix by a [`Guide`] — the partners' saliency peaks computed on the host, or the maps of
//! `mixaug-maps` — that [`Mixer::needs`] names and [`Mixer::apply`] receives; and
//! [`TransMix`] (Chen et al., CVPR 2022), CutMix whose target is re-weighted after the
//! forward pass by the trained Vision Transformer's class-token attention
//! ([`TransMix::retarget`]). [`MixConfig`] names them for configuration files.
//!
//! Everything on tensors is burn operations: the crate compiles no backend and runs on
//! whatever device the images are on.
//!
//! **Training with burn-train's `Learner`:** the `mixaug-learner` crate wraps any classifier
//! and method into the `Learner`'s train and validation steps; `examples/learner/` in the
//! repository is an ordinary `Learner` program and the same with CutMix (6 lines changed)
//! and with SUMix (9), ready to copy.
//!
//! ```
//! use burn::prelude::*;
//! use mixaug_masks::{MixConfig, MixupConfig, Mixer, MixRng, StreamKey};
//!
//! let device = Device::flex();
//! // Two 1×2×3 images (N×C×H×W = 2×1×2×3): all zeros and all ones.
//! let images = Tensor::<4>::cat(vec![
//!     Tensor::zeros([1, 1, 2, 3], &device),
//!     Tensor::ones([1, 1, 2, 3], &device),
//! ], 0);
//! let labels = Tensor::<1, Int>::from_ints([0, 1], &device);
//! let mixup = MixConfig::Mixup(MixupConfig::new().with_alpha(1.0)).init().unwrap();
//! let mut rng = MixRng::new(StreamKey { seed: 0, epoch: 0, step: 0, rank: 0 });
//! let mixed = mixup.mix(&mut rng, images, labels).unwrap();
//! // The soft targets of a pair method sum to one.
//! let dense = mixed.target.to_dense(2, 0.0).unwrap();
//! let sums: Vec<f32> = dense.sum_dim(1).into_data().try_into_vec_as::<f32>().unwrap();
//! assert!(sums.iter().all(|s| (s - 1.0).abs() < 1e-6));
//! ```

#![warn(missing_docs)]

/// The README's example, run as a doctest (`cargo test --doc`).
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

mod batch;
mod config;
mod error;
mod methods;
mod mixer;
mod ops;
mod pairing;
mod rng;
mod target;

pub use batch::BatchShape;
pub use config::{MixConfig, MixMethod, MixParams};
pub use error::MixError;
pub use methods::attentivemix::{
    AttentiveMix, AttentiveMixConfig, AttentiveMixParams, AttentiveVariant, CellCount,
};
pub use methods::cutmix::{CutDraw, CutMix, CutMixConfig, CutMixParams};
pub use methods::cutout::{Cutout, CutoutConfig, CutoutMode, CutoutParams};
pub use methods::fmix::{FMix, FMixConfig, FMixParams, binarise, fourier_grey};
pub use methods::gridmix::{Grid, GridMix, GridMixConfig, GridMixParams};
pub use methods::mixed_example::{
    Axis, Interval, MixedExample, MixedExampleConfig, MixedExampleDraws, MixedExampleKind,
    MixedExampleParams, Quadrants, RatioDraw,
};
pub use methods::mixup::{Mixup, MixupConfig, MixupParams};
pub use methods::resizemix::{ResizeMix, ResizeMixConfig, ResizeMixParams};
pub use methods::ricap::{Ricap, RicapConfig, RicapParams, RicapPatch};
pub use methods::saliencymix::{
    Pixel, SaliencyMix, SaliencyMixConfig, SaliencyMixParams, SaliencyPeaks,
};
pub use methods::sample_pairing::{
    PairingSchedule, SamplePairing, SamplePairingConfig, SamplePairingParams,
};
pub use methods::smoothmix::{SmoothMix, SmoothMixConfig, SmoothMixLabel, SmoothMixParams};
pub use methods::snapmix::{SnapMix, SnapMixConfig, SnapMixParams};
pub use methods::transmix::{TransMix, TransMixConfig, TransMixParams};
pub use mixer::{Guide, LamMode, Mixed, Mixer, Needs};
pub use ops::{CutBox, nearest_indices};
pub use pairing::{Pairing, Permutation};
pub use rng::{MixRng, StreamKey};
pub use target::{MixedTarget, check_smoothing};
