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
