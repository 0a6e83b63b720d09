//! SnapMix's loss and its optional mid-level ("Baseline+") head.
//!
//! Huang, Wang, Tao, *SnapMix: Semantically Proportional Mixing for Augmenting
//! Fine-grained Data*, AAAI 2021. Reference code: Shaoli-Huang/SnapMix
//! `networks/resnet_ft.py` (`--midlevel`), `trainer/comm_train.py`. Spec: METHODS.md §14.3.

use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;
use mixaug_masks::MixedTarget;

use crate::{LossError, pair_cross_entropy};

/// Configuration of the [`MidLevelHead`].
#[derive(Config, Debug)]
pub struct MidLevelHeadConfig {
    /// Channels of the mid-level feature map (ResNet `layer3`: 256 for ResNet-18/34,
    /// 1024 for ResNet-50/101).
    pub channels: usize,
    /// Number of classes.
    pub num_classes: usize,
    /// The branch sees the backbone's features detached (no gradient into the backbone)
    /// before this epoch. Default: always detached (the reference's `detach_epoch` is
    /// never reached by its recipes).
    #[config(default = "None")]
    pub detach_until_epoch: Option<usize>,
}

impl MidLevelHeadConfig {
    /// A head with burn's default initialisation of its 1×1 convolution and classifier.
    pub fn init(&self, device: &Device) -> MidLevelHead {
        MidLevelHead {
            conv: Conv2dConfig::new([self.channels, self.channels], [1, 1]).init(device),
            fc: LinearConfig::new(self.channels, self.num_classes).init(device),
            detach_until_epoch: self.detach_until_epoch,
        }
    }
}

/// SnapMix's "Baseline+" branch on a mid-level feature map: 1×1 convolution (same
/// channels) + ReLU, global **max** pooling, linear classifier. Its loss (same targets
/// and weights) is added to the main one, and at evaluation its logits are added to the
/// main logits ([`baseline_plus_scores`]).
#[derive(Module, Debug)]
pub struct MidLevelHead {
    /// The 1×1 convolution.
    pub conv: Conv2d,
    /// The classifier on the max-pooled features.
    pub fc: Linear,
    detach_until_epoch: Option<usize>,
}

impl MidLevelHead {
    /// The branch's logits at training epoch `epoch` (which decides whether the features
    /// are detached).
    ///
    /// # Shapes
    /// - `features`: `[N, channels, h, w]`
    /// - output: `[N, num_classes]`
    pub fn forward(&self, features: Tensor<4>, epoch: usize) -> Tensor<2> {
        let detached = self.detach_until_epoch.is_none_or(|until| epoch < until);
        let features = if detached {
            features.detach()
        } else {
            features
        };
        let x = relu(self.conv.forward(features));
        let [n, c, _, _] = x.dims();
        self.fc.forward(x.max_dim(3).max_dim(2).reshape([n, c]))
    }
}

/// SnapMix's training loss: the per-sample pair cross-entropy of the main logits, plus the
/// same loss of the mid-level logits when the Baseline+ branch is used (METHODS.md §14.3).
///
/// # Shapes
/// - `logits`, `mid_logits`: `[N, K]`
/// - output: `[1]`
///
/// # Errors
/// As [`pair_cross_entropy`].
///
/// # Example
/// ```
/// use burn::prelude::*;
/// use mixaug_loss::snapmix_loss;
/// use mixaug_masks::MixedTarget;
/// let device = Device::flex();
/// // SnapMix's semantic weights need not sum to 1: (0.6, 0.2) and (0.5, 0.5).
/// let target = MixedTarget::pair(
///     Tensor::from_ints([0, 1], &device),
///     Tensor::from_ints([3, 2], &device),
///     Tensor::from_floats([0.6, 0.5], &device),
///     Tensor::from_floats([0.2, 0.5], &device),
/// ).unwrap();
/// // Uniform logits over 4 classes: every cross-entropy is ln 4 (smoothed or not), so the
/// // loss is mean(0.8, 1.0)·ln 4 = 0.9·ln 4, and Baseline+'s branch adds as much again.
/// let zeros = || Tensor::<2>::zeros([2, 4], &device);
/// let main: f32 = snapmix_loss(zeros(), None, &target, 0.1)?.into_scalar();
/// assert!((main - 0.9 * 4f32.ln()).abs() < 1e-6);
/// let plus: f32 = snapmix_loss(zeros(), Some(zeros()), &target, 0.1)?.into_scalar();
/// assert!((plus - 1.8 * 4f32.ln()).abs() < 1e-6);
/// # Ok::<(), mixaug_loss::LossError>(())
/// ```
pub fn snapmix_loss(
    logits: Tensor<2>,
    mid_logits: Option<Tensor<2>>,
    target: &MixedTarget,
    smoothing: f32,
) -> Result<Tensor<1>, LossError> {
    let main = pair_cross_entropy(logits, target, smoothing)?;
    match mid_logits {
        Some(mid) => Ok(main + pair_cross_entropy(mid, target, smoothing)?),
        None => Ok(main),
    }
}

/// Baseline+'s evaluation score: the main logits plus the mid-level logits.
///
/// # Shapes
/// - `logits`, `mid_logits`: `[N, K]`; output `[N, K]`
pub fn baseline_plus_scores(logits: Tensor<2>, mid_logits: Tensor<2>) -> Tensor<2> {
    logits + mid_logits
}
