//! Gradient clipping by the global norm, as PyTorch's `clip_grad_norm_` (mmcv's
//! `grad_clip = dict(max_norm=…)`, openmixup's ViT recipe) computes it.
//!
//! burn-optim's `GradientClipping::Norm` clips every parameter's gradient by its own norm;
//! the reference rescales all gradients together by one factor, `max_norm / (‖g‖ + 1e-6)`
//! capped at 1, with `‖g‖` the L2 norm of every gradient concatenated. The two differ
//! whenever more than one tensor has a gradient, so this is ours. The factor stays on the
//! device (no read-back).

use burn::module::{Module, ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;

/// Rescales `grads` (of `module`'s parameters) so that their global L2 norm is at most
/// `max_norm`; returns the norm before clipping, `[1]`.
pub fn clip_global_norm<M: Module>(
    module: &M,
    grads: &mut GradientsParams,
    max_norm: f64,
) -> Option<Tensor<1>> {
    let mut squares = SquaredNorm { grads, sum: None };
    module.visit(&mut squares);
    let norm = squares.sum?.sqrt();
    let factor = (norm.clone().add_scalar(1e-6).recip() * max_norm).clamp_max(1.0);
    module.visit(&mut Rescale { grads, factor });
    Some(norm)
}

struct SquaredNorm<'a> {
    grads: &'a GradientsParams,
    sum: Option<Tensor<1>>,
}

impl ModuleVisitor for SquaredNorm<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.get::<D>(param.id) {
            let square = grad.square().sum();
            self.sum = Some(match self.sum.take() {
                Some(sum) => sum + square,
                None => square,
            });
        }
    }
}

struct Rescale<'a> {
    grads: &'a mut GradientsParams,
    factor: Tensor<1>,
}

impl ModuleVisitor for Rescale<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.grads.remove::<D>(param.id) {
            let factor = self.factor.clone().reshape([1; D]);
            self.grads.register(param.id, grad * factor);
        }
    }
}

#[cfg(test)]
mod tests {
    use burn::nn::{Linear, LinearConfig};

    use super::*;

    #[test]
    fn one_factor_for_every_gradient_by_hand() {
        let device = Device::flex();
        let layer: Linear = LinearConfig::new(2, 1).init(&device);
        let mut grads = GradientsParams::new();
        // Weight gradient [[3], [0]] and bias gradient [4]: global norm 5.
        grads.register(
            layer.weight.id,
            Tensor::<2>::from_floats([[3.0], [0.0]], &device),
        );
        let bias = layer.bias.as_ref().unwrap();
        grads.register(bias.id, Tensor::<1>::from_floats([4.0], &device));
        let norm = clip_global_norm(&layer, &mut grads, 2.5).unwrap();
        assert!((norm.into_scalar::<f32>() - 5.0).abs() < 1e-6);
        // Factor 2.5 / (5 + 1e-6): [[1.5], [0]] and [2.0] — not each tensor to norm 2.5
        // (burn-optim's per-tensor rule would leave the weight at 2.5 and the bias at 2.5).
        let w: Vec<f32> = grads
            .get::<2>(layer.weight.id)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        let b: Vec<f32> = grads
            .get::<1>(bias.id)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert!((w[0] - 1.5).abs() < 1e-5 && w[1] == 0.0, "{w:?}");
        assert!((b[0] - 2.0).abs() < 1e-5, "{b:?}");
        // Below the threshold nothing changes (factor capped at 1).
        clip_global_norm(&layer, &mut grads, 10.0).unwrap();
        let b: Vec<f32> = grads
            .get::<1>(bias.id)
            .unwrap()
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert!((b[0] - 2.0).abs() < 1e-5, "{b:?}");
    }
}
