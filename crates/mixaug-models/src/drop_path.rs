//! Stochastic depth (Huang et al., "Deep Networks with Stochastic Depth", ECCV 2016) as
//! timm applies it to residual branches (`timm/layers/drop.py`, `drop_path`): during
//! training each sample's branch output is dropped with probability `p` and kept ones are
//! scaled by `1 / (1 − p)`; at inference it is the identity.

use burn::module::{Flag, Param};
use burn::prelude::*;
use burn::tensor::Distribution;

/// Drops a residual branch per sample during training.
///
/// Training means what it means for burn's `Dropout`: the input lives on an autodiff
/// device and the module's `training` flag is set (cleared by `freeze`); `valid()` models
/// and plain devices see the identity. The keep mask is one Bernoulli(1 − p) draw per
/// sample from the backend's random generator (`Tensor::random`, as burn's `Dropout`
/// draws), so it is reproducible through `device.seed(..)` on the same backend.
#[derive(Module, Debug)]
pub struct DropPath {
    /// Probability of dropping a sample's branch, in `[0, 1)`.
    pub prob: f64,
    /// Whether to behave as during training (see the type's documentation).
    pub training: Param<Flag>,
}

impl DropPath {
    /// A drop-path of probability `prob` (checked by the network configurations: finite,
    /// in `[0, 1)`).
    pub fn new(prob: f64) -> Self {
        Self {
            prob,
            training: Param::from_bool(true),
        }
    }

    /// The branch, each sample kept (and scaled by `1 / (1 − p)`) or zeroed.
    ///
    /// # Shapes
    /// - `branch`: `[N, …]`; output `[N, …]`, one draw per index of the first axis
    pub fn forward<const D: usize>(&self, branch: Tensor<D>) -> Tensor<D> {
        if !self.training.is_enabled() || !branch.device().is_autodiff() || self.prob == 0.0 {
            return branch;
        }
        let keep = 1.0 - self.prob;
        let mut shape = [1; D];
        shape[0] = branch.dims()[0];
        let mask = Tensor::<D>::random(shape, Distribution::Bernoulli(keep), &branch.device());
        branch * mask.div_scalar(keep)
    }
}

/// timm's per-block rates: `rate · i / (blocks − 1)` for block `i` (`torch.linspace(0,
/// rate, blocks)`), so the first block never drops and the last drops with `rate`.
pub(crate) fn drop_path_rates(rate: f64, blocks: usize) -> Vec<f64> {
    match blocks {
        0 => Vec::new(),
        1 => vec![0.0],
        _ => (0..blocks)
            .map(|i| rate * i as f64 / (blocks - 1) as f64)
            .collect(),
    }
}

/// Whether `rate` is a usable drop-path rate: finite, in `[0, 1)`.
pub(crate) fn valid_rate(rate: f64) -> bool {
    rate.is_finite() && (0.0..1.0).contains(&rate)
}
