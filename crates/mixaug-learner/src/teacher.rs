//! AttentiveMix's frozen teacher as an objective combinator.
//!
//! Walawalkar, Shen, Liu, Savvides, *Attentive CutMix*, ICASSP 2020: the attention grids
//! that decide which cells are pasted come from a pretrained network that is not trained.

use burn::module::ModuleDisplay;
use burn::prelude::*;
use mixaug_maps::CamModel;
use mixaug_masks::{Guide, MixMethod, Mixed, Mixer, Needs};

use crate::{MixStep, MixedLoss, Objective, StepError};

/// An objective `O` whose AttentiveMix guide comes from the frozen `teacher`: its attention
/// grids are computed as the mixer's configuration says
/// ([`AttentiveMixConfig::attention`](mixaug_masks::AttentiveMixConfig::attention): the
/// batch resized to 224, running statistics, channel mean or last channel). The teacher
/// is a module field with its parameters frozen (`no_grad`), so it moves with the model to
/// the training device and gets no gradient; the loss and the scores are `O`'s.
///
/// The attention grid (7×7 for a stride-32 teacher at the default 224) is upsampled to the
/// batch's images, so they must be at least as large in each side: a smaller batch is
/// AttentiveMix's [`MixError::ShapeMismatch`](mixaug_masks::MixError::ShapeMismatch),
/// which the step panics with (see [`Mixing`](crate::Mixing)'s `# Panics`).
///
/// ```
/// use burn::nn::conv::{Conv2d, Conv2dConfig};
/// use burn::nn::{Linear, LinearConfig};
/// use burn::{prelude::*, tensor::Distribution, train::TrainStep};
/// use mixaug_learner::{CrossEntropy, Mixing, StepError, TeacherGuided};
/// use mixaug_maps::{CamClassifier, CamModel};
/// use mixaug_masks::{AttentiveMixConfig, MixConfig};
///
/// /// A teacher whose last stage is a stride-32 convolution: 224×224 becomes 7×7.
/// #[derive(Module, Debug)]
/// struct Teacher { conv: Conv2d, fc: Linear }
/// impl CamModel for Teacher {
///     fn cam_features(&self, images: Tensor<4>) -> Tensor<4> { self.conv.forward(images) }
///     fn cam_classifier(&self) -> CamClassifier { CamClassifier::from_linear(&self.fc) }
/// }
/// # #[derive(Module, Debug)]
/// # struct Net { fc: Linear }
/// # impl Net {
/// #     fn forward(&self, images: Tensor<4>) -> Tensor<2> {
/// #         self.fc.forward(images.flatten(1, 3))
/// #     }
/// # }
/// let device = Device::flex().autodiff();
/// let conv = Conv2dConfig::new([3, 2], [32, 32]).with_stride([32, 32]).init(&device);
/// let teacher = Teacher { conv, fc: LinearConfig::new(2, 4).init(&device) };
/// // `Net` as in the crate's example: a linear layer on the flattened 3×8×10 image.
/// let net = || Net { fc: LinearConfig::new(3 * 8 * 10, 4).init(&device) };
/// let attentive = || MixConfig::AttentiveMix(AttentiveMixConfig::new()).init().unwrap();
/// // Alone, the cross-entropy has no attention to give AttentiveMix...
/// let alone = Mixing::new(net(), attentive(), CrossEntropy::soft_target(Net::forward));
/// assert!(matches!(alone, Err(StepError::GuideUnavailable { .. })));
/// // ... with the teacher it trains, and the frozen teacher gets no gradient.
/// let objective = TeacherGuided::new(CrossEntropy::soft_target(Net::forward), teacher);
/// let model = Mixing::new(net(), attentive(), objective)?;
/// // The 7×7 grid is upsampled to the images, which must be at least 7×7.
/// let images = Tensor::<4>::random([4, 3, 8, 10], Distribution::Default, &device);
/// let output = TrainStep::step(&model, (images, Tensor::from_ints([0, 1, 2, 3], &device)));
/// assert!(output.item.loss.into_scalar::<f32>().is_finite());
/// assert!(output.grads.get::<4>(model.objective.teacher.conv.weight.id).is_none());
/// # Ok::<(), StepError>(())
/// ```
#[derive(Module, Debug)]
pub struct TeacherGuided<O, T> {
    /// The objective trained.
    pub objective: O,
    /// The frozen teacher.
    pub teacher: T,
}

impl<O, T: Module> TeacherGuided<O, T> {
    /// `objective` with `teacher`'s attention for AttentiveMix; the teacher is frozen.
    pub fn new(objective: O, teacher: T) -> Self {
        Self {
            objective,
            teacher: teacher.no_grad(),
        }
    }
}

impl<M, O, T> Objective<M> for TeacherGuided<O, T>
where
    O: Objective<M>,
    T: CamModel + ModuleDisplay,
{
    fn name(&self) -> &'static str {
        self.objective.name()
    }

    fn check(&self, method: &MixMethod) -> Result<(), StepError> {
        match self.objective.check(method) {
            Err(StepError::GuideUnavailable {
                needs: Needs::Attention,
                ..
            }) => Ok(()),
            checked => checked,
        }
    }

    fn model_guide(
        &self,
        model: &M,
        method: &MixMethod,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
    ) -> Result<Guide, StepError> {
        match (method, method.needs()) {
            (MixMethod::AttentiveMix(attentive), Needs::Attention) => Ok(Guide::Attention(
                attentive
                    .config()
                    .attention()
                    .attention(&self.teacher, images)?
                    .inner(),
            )),
            _ => self.objective.model_guide(model, method, images, labels),
        }
    }

    fn loss(
        &self,
        model: &M,
        images: Tensor<4>,
        mixed: Mixed,
        step: &MixStep<'_>,
    ) -> Result<MixedLoss, StepError> {
        self.objective.loss(model, images, mixed, step)
    }

    fn scores(&self, model: &M, images: Tensor<4>) -> Tensor<2> {
        self.objective.scores(model, images)
    }
}
