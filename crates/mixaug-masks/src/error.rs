//! The error type of every fallible operation in this crate.

use thiserror::Error;

/// Everything that can go wrong while configuring, sampling or applying a mixer.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum MixError {
    /// A hyper-parameter is outside its valid range.
    #[error("invalid hyper-parameter `{name}` = {value}: expected {expected}")]
    InvalidHyperParameter {
        /// Name of the configuration field.
        name: &'static str,
        /// The rejected value.
        value: f64,
        /// What the field accepts, in words.
        expected: &'static str,
    },
    /// Mixing needs at least two samples in the batch.
    #[error("a batch of {n} image(s) cannot be mixed: mixing needs at least 2")]
    BatchTooSmall {
        /// Batch size that was given.
        n: usize,
    },
    /// The images are too small for the method.
    #[error(
        "images of {h}×{w} pixels are too small for {method}: it needs at least {min_h}×{min_w}"
    )]
    ImageTooSmall {
        /// Method that refused the images.
        method: &'static str,
        /// Image height (rows).
        h: usize,
        /// Image width (columns).
        w: usize,
        /// Smallest height the method accepts.
        min_h: usize,
        /// Smallest width the method accepts.
        min_w: usize,
    },
    /// The number of labels differs from the number of images.
    #[error("{images} image(s) but {labels} label(s): every image needs exactly one label")]
    LabelCountMismatch {
        /// Batch size of the images.
        images: usize,
        /// Number of labels.
        labels: usize,
    },
    /// A class index is negative or not below the number of classes.
    #[error("label {label} is out of range for {num_classes} classes (valid: 0..{num_classes})")]
    LabelOutOfRange {
        /// The offending class index.
        label: i64,
        /// Number of classes of the task.
        num_classes: usize,
    },
    /// A tensor or a parameter set does not have the shape an operation expects.
    #[error("shape mismatch in {what}: expected {expected}, got {got}")]
    ShapeMismatch {
        /// The tensor or parameter set concerned.
        what: &'static str,
        /// The expected shape, in words.
        expected: String,
        /// The shape that was given.
        got: String,
    },
    /// A list meant as a permutation is not one.
    #[error("not a permutation of 0..{n}: {reason}")]
    InvalidPermutation {
        /// Length of the list.
        n: usize,
        /// What is wrong with it.
        reason: String,
    },
    /// A guided method's map could not be computed or does not fit the batch.
    #[error("the guide of {method} is unusable: {reason}")]
    Guide {
        /// The guided method.
        method: &'static str,
        /// What went wrong.
        reason: String,
    },
    /// A guided method was applied without the map it mixes by.
    #[error("{method} mixes by {needs}: apply it with that guide (see `MixMethod::needs`)")]
    GuideRequired {
        /// The guided method.
        method: &'static str,
        /// The guide it needs, in words.
        needs: &'static str,
    },
    /// Parameters sampled for one method were handed to another.
    #[error("parameters of {got} cannot be applied by {expected}")]
    ParamsMismatch {
        /// The method applying them.
        expected: &'static str,
        /// The method that sampled them.
        got: &'static str,
    },
}

/// Checks that a probability lies in `[0, 1]`.
pub(crate) fn check_probability(name: &'static str, p: f64) -> Result<(), MixError> {
    if (0.0..=1.0).contains(&p) {
        Ok(())
    } else {
        Err(MixError::InvalidHyperParameter {
            name,
            value: p,
            expected: "a probability in [0, 1]",
        })
    }
}

/// Checks that a Beta concentration is a finite number ≥ 0: α = 0 means λ = 1 (no
/// mixing); α < 0 is an error.
pub(crate) fn check_alpha(name: &'static str, alpha: f64) -> Result<(), MixError> {
    if alpha.is_finite() && alpha >= 0.0 {
        Ok(())
    } else {
        Err(MixError::InvalidHyperParameter {
            name,
            value: alpha,
            expected: "a finite number ≥ 0 (0 disables mixing: λ = 1)",
        })
    }
}
