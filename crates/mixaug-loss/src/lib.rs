//! # mixaug-loss
//!
//! Losses for training on mixed batches. Every loss takes the [`MixedTarget`] that every
//! `mixaug-masks` method returns.
//!
//! * [`soft_target_cross_entropy`]: `−(1/N) Σ_i Σ_c t_ic · log softmax(z_i)_c` against the
//!   dense target `t = Σ_k w_k · smooth(e(y_k))`.
//! * [`pair_cross_entropy`]: `(1/N) Σ_i Σ_k w_ik · CE_i(smooth(e(y_ik)))`, computed from the
//!   class indices without a dense target; the weights need not sum to 1 (SnapMix).
//! * [`snapmix_loss`] and the [`MidLevelHead`] of SnapMix's "Baseline+" (METHODS.md §14.3);
//!   SUMix ([`sumix_loss`], [`sumix_forward`], `docs/sumix.md`).
//!
//! Label smoothing `smooth(e) = (1 − ε)·e + ε/C` is applied to each one-hot **before**
//! weighting (METHODS.md §0.5). The two losses are the same function of the logits — the
//! first builds an `[N, C]` target, the second gathers `K` log-probabilities per sample.
//!
//! ```
//! use burn::prelude::*;
//! use mixaug_loss::{pair_cross_entropy, soft_target_cross_entropy};
//! use mixaug_masks::MixedTarget;
//!
//! let device = Device::flex();
//! let logits = Tensor::<2>::from_floats([[2.0, 0.0, -1.0], [0.5, 0.5, 0.5]], &device);
//! let target = MixedTarget::pair(
//!     Tensor::from_ints([0, 1], &device),
//!     Tensor::from_ints([2, 0], &device),
//!     Tensor::from_floats([0.7, 0.6], &device),
//!     Tensor::from_floats([0.3, 0.4], &device),
//! ).unwrap();
//! let soft: f32 = soft_target_cross_entropy(logits.clone(), &target, 0.1).unwrap().into_scalar();
//! let pair: f32 = pair_cross_entropy(logits, &target, 0.1).unwrap().into_scalar();
//! assert!((soft - pair).abs() < 1e-6);
//! ```

#![warn(missing_docs)]

/// The README's example, run as a doctest (`cargo test --doc`).
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

mod snapmix;
mod sumix;

pub use snapmix::{MidLevelHead, MidLevelHeadConfig, baseline_plus_scores, snapmix_loss};

pub use sumix::{
    CorrectedRatio, PooledClassifier, SumixConfig, SumixLoss, SumixReduction, SumixStep,
    UncertaintyHead, UncertaintyHeadConfig, corrected_ratio, corrected_ratio_scaled, sumix_forward,
    sumix_loss,
};

use burn::prelude::*;
use burn::tensor::activation::log_softmax;
use mixaug_masks::{MixError, MixedTarget, check_smoothing};
use thiserror::Error;

/// Why a loss could not be computed.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum LossError {
    /// The logits do not fit the target.
    #[error(
        "logits of shape {logits:?} do not fit a target for {batch} sample(s): expected [{batch}, num_classes]"
    )]
    LogitsShape {
        /// Shape of the logits.
        logits: [usize; 2],
        /// Batch size of the target.
        batch: usize,
    },
    /// The target is invalid for these logits (class index out of range, bad smoothing).
    #[error(transparent)]
    Target(#[from] MixError),
    /// The loss needs a different number of sources per sample.
    #[error("{loss} needs a pair target (K = 2), got K = {sources}")]
    UnsupportedTarget {
        /// The loss.
        loss: &'static str,
        /// The target's K.
        sources: usize,
    },
    /// A hyper-parameter is outside its valid range.
    #[error("invalid {name} = {value}: expected {expected}")]
    InvalidHyperParameter {
        /// The parameter.
        name: &'static str,
        /// The value given.
        value: f64,
        /// What is valid.
        expected: &'static str,
    },
}

fn check_logits(logits: &Tensor<2>, target: &MixedTarget) -> Result<usize, LossError> {
    let [n, classes] = logits.dims();
    if n != target.batch_size() || classes == 0 {
        return Err(LossError::LogitsShape {
            logits: [n, classes],
            batch: target.batch_size(),
        });
    }
    Ok(classes)
}

/// Soft-target cross-entropy against the dense mixed target, averaged over the batch.
///
/// # Shapes
/// - `logits`: `[N, C]`
/// - output: `[1]`
pub fn soft_target_cross_entropy(
    logits: Tensor<2>,
    target: &MixedTarget,
    smoothing: f32,
) -> Result<Tensor<1>, LossError> {
    let classes = check_logits(&logits, target)?;
    let dense = target.to_dense(classes, smoothing)?;
    Ok((dense * log_softmax(logits, 1)).sum_dim(1).mean().neg())
}

/// Per-sample pair cross-entropy `Σ_k w_ik · CE_i(smooth(e(y_ik)))`, one value per sample.
///
/// # Shapes
/// - `logits`: `[N, C]`
/// - output: `[N]`
pub fn pair_cross_entropy_per_sample(
    logits: Tensor<2>,
    target: &MixedTarget,
    smoothing: f32,
) -> Result<Tensor<1>, LossError> {
    let classes = check_logits(&logits, target)?;
    check_smoothing(smoothing)?;
    target.check_classes(classes)?;
    let n = target.batch_size();
    let log_p = log_softmax(logits, 1);
    // CE against (1−ε)·e(y) + ε/C is (1−ε)·(−log p_y) + ε·(−mean_c log p_c).
    let picked = log_p.clone().gather(1, target.classes());
    let uniform = log_p.mean_dim(1);
    let per_source = (picked.mul_scalar(1.0 - smoothing) + uniform.mul_scalar(smoothing)).neg();
    Ok((per_source * target.weights()).sum_dim(1).reshape([n]))
}

/// Per-sample pair cross-entropy averaged over the batch (SnapMix's and timm's
/// per-sample two-CE; with per-batch weights it is the classic
/// `λ·CE(y_a) + (1 − λ)·CE(y_b)`).
///
/// # Shapes
/// - `logits`: `[N, C]`
/// - output: `[1]`
pub fn pair_cross_entropy(
    logits: Tensor<2>,
    target: &MixedTarget,
    smoothing: f32,
) -> Result<Tensor<1>, LossError> {
    Ok(pair_cross_entropy_per_sample(logits, target, smoothing)?.mean())
}
