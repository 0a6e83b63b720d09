//! The error type of the mixed training step.

use mixaug_loss::LossError;
use mixaug_maps::MapError;
use mixaug_masks::{MixError, Needs};
use thiserror::Error;

/// Why a mixed step cannot be built or run.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum StepError {
    /// Mixing failed (a batch of one image, labels that do not fit the images, …).
    #[error(transparent)]
    Mix(#[from] MixError),
    /// The loss could not be computed (a label out of range, a target it cannot take).
    #[error(transparent)]
    Loss(#[from] LossError),
    /// A model guide could not be computed.
    #[error(transparent)]
    Map(#[from] MapError),
    /// The mixer needs a guide that this objective does not compute.
    #[error(
        "{method} needs {needs:?}, which the {objective} objective does not compute \
         (SnapMix's percent maps come with the SnapMix objective, AttentiveMix's attention with `TeacherGuided`)"
    )]
    GuideUnavailable {
        /// The mixer's name.
        method: &'static str,
        /// The guide it needs.
        needs: Needs,
        /// The objective's name.
        objective: &'static str,
    },
    /// The loss of a step is NaN or infinite.
    #[error(
        "the mixed loss diverged ({value}) at epoch {epoch}, step {step} of the mixing stream: lower the learning rate"
    )]
    Diverged {
        /// The loss value.
        value: f32,
        /// The mixing stream's epoch.
        epoch: u64,
        /// The mixing stream's step.
        step: u64,
    },
}
