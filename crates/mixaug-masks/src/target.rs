//! [`MixedTarget`]: the one label type every mixer returns and every loss takes.

use burn::prelude::*;

use crate::MixError;

/// The label of a mixed batch: for each sample, `K` class indices with their weights.
///
/// `K = 1` for an unmixed batch, `2` for pair methods (base class first, partner second),
/// `4` for RICAP. Weights usually sum to 1 per row; SnapMix's need not.
///
/// ```
/// use burn::prelude::*;
/// use mixaug_masks::MixedTarget;
/// let device = Device::flex();
/// let y_a = Tensor::<1, Int>::from_ints([0, 2], &device);
/// let y_b = Tensor::<1, Int>::from_ints([1, 0], &device);
/// let w_a = Tensor::<1>::from_floats([0.75, 0.5], &device);
/// let target = MixedTarget::pair(y_a, y_b, w_a.clone(), w_a.neg().add_scalar(1.0)).unwrap();
/// let dense = target.to_dense(3, 0.0).unwrap();
/// let expected = TensorData::from([[0.75f32, 0.25, 0.0], [0.5, 0.0, 0.5]]);
/// dense.into_data().assert_approx_eq::<f32>(&expected, Default::default());
/// ```
#[derive(Debug, Clone)]
pub struct MixedTarget {
    classes: Tensor<2, Int>,
    weights: Tensor<2>,
}

impl MixedTarget {
    /// A target from class indices and their weights.
    ///
    /// # Shapes
    /// - `classes`: `[N, K]`
    /// - `weights`: `[N, K]`
    pub fn new(classes: Tensor<2, Int>, weights: Tensor<2>) -> Result<Self, MixError> {
        if classes.dims() != weights.dims() {
            return Err(MixError::ShapeMismatch {
                what: "mixed target",
                expected: format!("weights of the classes' shape {:?}", classes.dims()),
                got: format!("{:?}", weights.dims()),
            });
        }
        Ok(Self { classes, weights })
    }

    /// The same target on the autodiff device over its tensors' device
    /// ([`Tensor::autodiff`]; no copy): for a batch mixed without autodiff and trained on.
    pub fn autodiff(self) -> Self {
        Self {
            classes: self.classes.autodiff(),
            weights: self.weights.autodiff(),
        }
    }

    /// The target of an unmixed batch: each label with weight 1.
    ///
    /// # Shapes
    /// - `labels`: `[N]`
    pub fn single(labels: Tensor<1, Int>) -> Self {
        let [n] = labels.dims();
        let device = labels.device();
        Self {
            classes: labels.reshape([n, 1]),
            weights: Tensor::ones([n, 1], &device),
        }
    }

    /// The target of a pair method: base class `y_a` with weight `w_a`, partner class
    /// `y_b` with weight `w_b`.
    ///
    /// # Shapes
    /// - `y_a`, `y_b`, `w_a`, `w_b`: `[N]`
    pub fn pair(
        y_a: Tensor<1, Int>,
        y_b: Tensor<1, Int>,
        w_a: Tensor<1>,
        w_b: Tensor<1>,
    ) -> Result<Self, MixError> {
        let n = y_a.dims()[0];
        for (what, len) in [
            ("partner classes", y_b.dims()[0]),
            ("base weights", w_a.dims()[0]),
            ("partner weights", w_b.dims()[0]),
        ] {
            if len != n {
                return Err(MixError::ShapeMismatch {
                    what,
                    expected: format!("[{n}]"),
                    got: format!("[{len}]"),
                });
            }
        }
        Self::new(
            Tensor::stack(vec![y_a, y_b], 1),
            Tensor::stack(vec![w_a, w_b], 1),
        )
    }

    /// Class indices.
    ///
    /// # Shapes
    /// - output: `[N, K]`
    pub fn classes(&self) -> Tensor<2, Int> {
        self.classes.clone()
    }

    /// Weights of the classes.
    ///
    /// # Shapes
    /// - output: `[N, K]`
    pub fn weights(&self) -> Tensor<2> {
        self.weights.clone()
    }

    /// Batch size `N`.
    pub fn batch_size(&self) -> usize {
        self.classes.dims()[0]
    }

    /// Number of sources per sample, `K`.
    pub fn num_sources(&self) -> usize {
        self.classes.dims()[1]
    }

    /// Errors unless every class index lies in `0..num_classes` (reads two scalars back
    /// from the device).
    pub fn check_classes(&self, num_classes: usize) -> Result<(), MixError> {
        let max = self.classes.clone().max().into_scalar::<i64>();
        let min = self.classes.clone().min().into_scalar::<i64>();
        for label in [min, max] {
            if label < 0 || label >= num_classes as i64 {
                return Err(MixError::LabelOutOfRange { label, num_classes });
            }
        }
        Ok(())
    }

    /// The dense soft target `Σ_k w_k · smooth(e(y_k))`, where label smoothing
    /// `smooth(e) = (1 − ε)·e + ε/C` is applied to each one-hot **before** weighting.
    ///
    /// # Shapes
    /// - output: `[N, num_classes]`
    pub fn to_dense(&self, num_classes: usize, smoothing: f32) -> Result<Tensor<2>, MixError> {
        check_smoothing(smoothing)?;
        self.check_classes(num_classes)?;
        let [n, k] = self.classes.dims();
        let smoothed: Tensor<3> = self
            .classes
            .clone()
            .one_hot::<3>(num_classes)
            .float()
            .mul_scalar(1.0 - smoothing)
            .add_scalar(smoothing / num_classes as f32);
        let weighted = smoothed * self.weights.clone().reshape([n, k, 1]);
        Ok(weighted.sum_dim(1).reshape([n, num_classes]))
    }
}

/// Errors unless the label-smoothing factor lies in `[0, 1)`.
pub fn check_smoothing(smoothing: f32) -> Result<(), MixError> {
    if (0.0..1.0).contains(&smoothing) {
        Ok(())
    } else {
        Err(MixError::InvalidHyperParameter {
            name: "smoothing",
            value: smoothing as f64,
            expected: "a label-smoothing factor in [0, 1)",
        })
    }
}
