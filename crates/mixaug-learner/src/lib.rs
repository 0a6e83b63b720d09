//! # mixaug-learner
//!
//! Mixing data augmentation inside burn-train's [`Learner`](burn::train::Learner): wrap a
//! classifier in [`Mixing`] with any [`MixMethod`] and an [`Objective`], and hand the
//! wrapper to `Learner::new`.
//!
//! - Its [`TrainStep`] samples the mix on the host from a seeded [`MixRng`], computes the
//!   method's guide (SaliencyMix's peaks; SnapMix's semantic percent maps from the model;
//!   AttentiveMix's attention from a frozen teacher, [`TeacherGuided`]), mixes on the plain
//!   device, lifts the mixed batch to the autodiff device and computes the objective's
//!   loss: [`CrossEntropy`] (soft-target or pair), [`SnapMixLoss`] (with or without Baseline+) or
//!   [`Sumix`] (its second pass and uncertainty head).
//! - Its [`InferenceStep`] scores clean images.
//! - Both produce burn-train's [`ClassificationOutput`], so the usual metrics apply:
//!   `LossMetric` (the mixed loss in training, the clean cross-entropy in validation),
//!   `AccuracyMetric` and `TopKAccuracyMetric` (clean top-1/top-5 in validation; in
//!   training, the mixed images against their base labels), `LearningRateMetric`,
//!   `IterationSpeedMetric`; checkpointers, schedulers and strategies are the `Learner`'s.
//!
//! Batches are `(images [N, C, H, W], labels [N])`. The user's model implements no trait
//! for the input-only objectives: they take its functions (`Net::forward`); SnapMix needs
//! [`CamModel`](mixaug_maps::CamModel), and so does AttentiveMix's teacher.
//!
//! ```
//! use burn::nn::{Linear, LinearConfig};
//! use burn::prelude::*;
//! use burn::train::TrainStep;
//! use mixaug_learner::{CrossEntropy, Mixing};
//! use mixaug_masks::{CutMixConfig, MixConfig};
//!
//! #[derive(Module, Debug)]
//! struct Net {
//!     fc: Linear,
//! }
//!
//! impl Net {
//!     fn forward(&self, images: Tensor<4>) -> Tensor<2> {
//!         self.fc.forward(images.flatten(1, 3))
//!     }
//! }
//!
//! let device = Device::flex().autodiff();
//! let net = Net { fc: LinearConfig::new(2 * 3 * 5, 4).init(&device) };
//! let cutmix = MixConfig::CutMix(CutMixConfig::new()).init().unwrap();
//! let model = Mixing::new(net, cutmix, CrossEntropy::soft_target(Net::forward)).unwrap();
//! // A batch of four 2×3×5 images: what the `Learner` hands the step.
//! let images = Tensor::<4>::random([4, 2, 3, 5], burn::tensor::Distribution::Default, &device);
//! let labels = Tensor::<1, Int>::from_ints([0, 1, 2, 3], &device);
//! let output = TrainStep::step(&model, (images, labels));
//! let loss: f32 = output.item.loss.into_scalar();
//! assert!(loss.is_finite() && loss > 0.0);
//! assert_eq!(model.next_key().step, 1);
//! ```
//!
//! `examples/learner/` in the repository is a whole program: a user's model and an
//! ordinary `Learner`, and the same with CutMix and with SUMix a few lines apart.

#![warn(missing_docs)]

/// The README's example, run as a doctest (`cargo test --doc`).
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

mod error;
mod objective;
mod teacher;

pub use error::StepError;
pub use objective::{
    CeKind, Classify, CrossEntropy, Forward, ForwardWithAttention, ForwardWithMid, MixStep,
    MixedLoss, Objective, Pooled, SnapMixLoss, Sumix, TransMixCe,
};
pub use teacher::TeacherGuided;

use std::num::NonZeroU64;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use burn::module::ModuleDisplay;
use burn::prelude::*;
use burn::train::{ClassificationOutput, InferenceStep, TrainOutput, TrainStep};
use mixaug_loss::soft_target_cross_entropy;
use mixaug_masks::{BatchShape, Guide, MixMethod, MixRng, MixedTarget, Mixer, Needs, StreamKey};

/// Where the mixing draws come from: the seed and the step counter shared by every copy
/// of the wrapper (the `Learner` clones its model at each step).
#[derive(Debug, Clone)]
struct MixStream {
    seed: u64,
    steps_per_epoch: Option<NonZeroU64>,
    steps: Arc<AtomicU64>,
}

impl MixStream {
    fn key(&self, count: u64) -> StreamKey {
        let (epoch, step) = match self.steps_per_epoch {
            Some(per) => (count / per.get(), count % per.get()),
            None => (0, count),
        };
        StreamKey {
            seed: self.seed,
            epoch,
            step,
            rank: 0,
        }
    }
}

/// A classifier `M` trained on mixed batches: the model burn-train's `Learner` is given.
///
/// Each training step draws its mix from the [`MixRng`] keyed by `(seed, epoch, step, 0)`,
/// where the step counts the training steps this wrapper (and its clones) ran, split into
/// epochs by [`with_steps_per_epoch`](Self::with_steps_per_epoch) (else epoch 0). The
/// `Learner` tells a step neither its epoch nor its index, so the count lives in the
/// wrapper and is not part of a checkpoint: a resumed run continues the stream with
/// [`starting_at_step`](Self::starting_at_step) (the steps already done), else it draws
/// the first steps' mixes again. Under a multi-device strategy the devices share the
/// counter, so which device gets which key depends on timing: every step still gets its
/// own key, but runs are not repeatable.
///
/// # Panics
/// `TrainStep::step` cannot return an error: a batch that cannot be mixed (one image,
/// labels out of range) or a NaN/infinite loss panics with the [`StepError`]'s message.
/// [`Mixing::new`] checks everything that can be checked before training.
#[derive(Module, Debug)]
pub struct Mixing<M, O> {
    /// The classifier.
    pub model: M,
    /// The objective and the heads it trains.
    pub objective: O,
    #[module(skip)]
    method: MixMethod,
    #[module(skip)]
    stream: MixStream,
}

impl<M: Module + ModuleDisplay, O: Objective<M>> Mixing<M, O> {
    /// `model` trained with `method` and `objective`, mixing seed 0, from step 0.
    ///
    /// # Errors
    /// As [`Objective::check`]: invalid objective settings, or a method whose guide the
    /// objective does not compute.
    pub fn new(model: M, method: MixMethod, objective: O) -> Result<Self, StepError> {
        objective.check(&method)?;
        Ok(Self {
            model,
            objective,
            method,
            stream: MixStream {
                seed: 0,
                steps_per_epoch: None,
                steps: Arc::new(AtomicU64::new(0)),
            },
        })
    }

    /// The seed of the mixing draws (default 0).
    pub fn with_seed(mut self, seed: u64) -> Self {
        self.stream.seed = seed;
        self
    }

    /// Training steps per epoch: the mixing keys then carry the epoch (SamplePairing's
    /// schedule reads it) and the step within it. Default: every step in epoch 0.
    pub fn with_steps_per_epoch(mut self, steps: NonZeroU64) -> Self {
        self.stream.steps_per_epoch = Some(steps);
        self
    }

    /// Continues the mixing stream after `done` training steps (a resumed run). The
    /// counter is shared by every clone of this wrapper.
    pub fn starting_at_step(self, done: u64) -> Self {
        self.stream.steps.store(done, Ordering::SeqCst);
        self
    }

    /// The mixing method.
    pub fn method(&self) -> &MixMethod {
        &self.method
    }

    /// The key of the next training step's mixing draws.
    pub fn next_key(&self) -> StreamKey {
        self.stream.key(self.stream.steps.load(Ordering::SeqCst))
    }

    /// One mixed step on a batch of the autodiff device: the loss, the logits on the
    /// mixed images and the labels.
    fn mixed_step(
        &self,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
    ) -> Result<(Tensor<1>, Tensor<2>, Tensor<1, Int>), StepError> {
        let key = self
            .stream
            .key(self.stream.steps.fetch_add(1, Ordering::SeqCst));
        let shape = BatchShape::of_batch(&images, &labels)?;
        let params = self.method.sample(&mut MixRng::new(key), shape)?;
        let (plain_images, plain_labels) = (images.clone().inner(), labels.clone().inner());
        let guide = match self.method.device_guide(&params, &plain_images)? {
            Some(guide) => guide,
            None => match self.method.needs() {
                // TransMix's attention comes from the objective's own forward.
                Needs::Nothing | Needs::SaliencyPeaks | Needs::ClassAttention => Guide::None,
                Needs::PercentMaps | Needs::Attention => self.objective.model_guide(
                    &self.model,
                    &self.method,
                    images.clone(),
                    labels.clone(),
                )?,
            },
        };
        let mixed = self
            .method
            .apply(&params, plain_images, plain_labels, &guide)?
            .autodiff();
        let step = MixStep {
            key,
            method: &self.method,
            params: &params,
        };
        let out = self.objective.loss(&self.model, images, mixed, &step)?;
        let value = out.loss.clone().into_scalar::<f32>();
        if !value.is_finite() {
            return Err(StepError::Diverged {
                value,
                epoch: key.epoch,
                step: key.step,
            });
        }
        Ok((out.loss, out.logits, labels))
    }
}

impl<M: Module + ModuleDisplay, O: Objective<M>> TrainStep for Mixing<M, O> {
    type Input = (Tensor<4>, Tensor<1, Int>);
    type Output = ClassificationOutput;

    fn step(&self, (images, labels): Self::Input) -> TrainOutput<ClassificationOutput> {
        let (loss, logits, labels) = self
            .mixed_step(images, labels)
            .unwrap_or_else(|e| panic!("mixaug-learner training step: {e}"));
        TrainOutput::new(
            self,
            loss.backward(),
            ClassificationOutput::new(loss, logits, labels),
        )
    }
}

impl<M: Module + ModuleDisplay, O: Objective<M>> InferenceStep for Mixing<M, O> {
    type Input = (Tensor<4>, Tensor<1, Int>);
    type Output = ClassificationOutput;

    /// Clean scores and their cross-entropy.
    ///
    /// # Panics
    /// On a label out of range (a [`StepError::Loss`]).
    fn step(&self, (images, labels): Self::Input) -> ClassificationOutput {
        let scores = self.objective.scores(&self.model, images);
        let loss =
            soft_target_cross_entropy(scores.clone(), &MixedTarget::single(labels.clone()), 0.0)
                .unwrap_or_else(|e| {
                    panic!("mixaug-learner validation step: {}", StepError::from(e))
                });
        ClassificationOutput::new(loss, scores, labels)
    }
}
