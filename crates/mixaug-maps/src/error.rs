//! The error type of every fallible operation in this crate.

use thiserror::Error;

/// Everything that can go wrong while computing a map.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum MapError {
    /// The images have a number of channels the map does not support.
    #[error("{what} needs {expected} channel(s), got {got}")]
    Channels {
        /// The map concerned.
        what: &'static str,
        /// The supported channel counts, in words.
        expected: &'static str,
        /// The number of channels given.
        got: usize,
    },
    /// The images are too small.
    #[error("{what} needs images of at least {min}×{min} pixels, got {h}×{w}")]
    ImageTooSmall {
        /// The map concerned.
        what: &'static str,
        /// Rows given.
        h: usize,
        /// Columns given.
        w: usize,
        /// Smallest side accepted.
        min: usize,
    },
    /// A tensor or buffer does not have the shape an operation expects.
    #[error("shape mismatch in {what}: expected {expected}, got {got}")]
    ShapeMismatch {
        /// The tensor or buffer concerned.
        what: &'static str,
        /// The expected shape, in words.
        expected: String,
        /// The shape that was given.
        got: String,
    },
    /// A class index is negative or not below the number of classes.
    #[error("label {label} is out of range for a classifier with {num_classes} classes")]
    LabelOutOfRange {
        /// The offending class index.
        label: i64,
        /// Number of classes of the classifier.
        num_classes: usize,
    },
    /// A parameter is outside its valid range.
    #[error("invalid parameter `{name}` = {value}: expected {expected}")]
    InvalidParameter {
        /// Name of the parameter.
        name: &'static str,
        /// The rejected value, printed.
        value: String,
        /// What the parameter accepts, in words.
        expected: &'static str,
    },
    /// Batch statistics were asked for on a device that cannot compute them.
    #[error(
        "batch-statistics BatchNorm needs the model and images on an autodiff device \
         (`device.autodiff()`); got a plain device. Use `CamStatistics::Running` there."
    )]
    BatchStatisticsNeedAutodiff,
}
