//! What a mixed step minimises: the [`Objective`] trait and its implementations.
//!
//! An objective names the model functions it needs as plain function pointers (a method
//! such as `Net::forward` coerces to one), so a user's model implements no trait for the
//! input-only objectives; SnapMix's maps need the model's last stage and classifier
//! ([`CamModel`]).

use std::fmt;

use burn::module::ModuleDisplay;
use burn::prelude::*;
use mixaug_loss::{
    MidLevelHead, PooledClassifier, SumixConfig, UncertaintyHead, baseline_plus_scores,
    pair_cross_entropy, snapmix_loss, soft_target_cross_entropy, sumix_forward,
};
use mixaug_maps::{CamModel, CamStatistics, semantic_percent_maps};
use mixaug_masks::{Guide, MixMethod, MixParams, Mixed, Mixer, Needs, StreamKey, check_smoothing};

use crate::StepError;

/// A model's logits: `fn(&model, images [N, C, H, W]) -> [N, K]` (e.g. `Net::forward`).
pub type Forward<Model> = fn(&Model, Tensor<4>) -> Tensor<2>;

/// A model's globally pooled feature: `fn(&model, images [N, C, H, W]) -> [N, D]`.
pub type Pooled<Model> = fn(&Model, Tensor<4>) -> Tensor<2>;

/// A model's classifier on its pooled feature: `fn(&model, pooled [N, D]) -> [N, K]`.
pub type Classify<Model> = fn(&Model, Tensor<2>) -> Tensor<2>;

/// A model's logits and its last block's class-token attention over the patches, for
/// TransMix: `fn(&model, images [N, C, H, W]) -> ([N, K], [N, heads, L])` (e.g.
/// `mixaug_models::Deit::forward_with_attention`).
pub type ForwardWithAttention<Model> = fn(&Model, Tensor<4>) -> (Tensor<2>, Tensor<3>);

/// One mixed step as an objective sees it: the mixing key, the method and the parameters
/// it drew (TransMix re-weights its target with them after the forward).
#[derive(Debug, Clone, Copy)]
pub struct MixStep<'a> {
    /// The key of the step's draws (its epoch decides Baseline+'s detaching).
    pub key: StreamKey,
    /// The mixing method.
    pub method: &'a MixMethod,
    /// What the method drew for this batch.
    pub params: &'a MixParams,
}

/// A model's logits and mid-level feature map, for SnapMix's Baseline+:
/// `fn(&model, images [N, C, H, W]) -> ([N, K], [N, C3, h, w])`.
pub type ForwardWithMid<Model> = fn(&Model, Tensor<4>) -> (Tensor<2>, Tensor<4>);

/// The loss of a mixed batch and the logits it was computed from.
#[derive(Debug, Clone)]
pub struct MixedLoss {
    /// The loss to back-propagate, `[1]`.
    pub loss: Tensor<1>,
    /// The model's logits on the mixed images, `[N, K]` (the training accuracy metrics
    /// compare them with each mixed image's base label).
    pub logits: Tensor<2>,
}

/// What a [`Mixing`](crate::Mixing) step minimises on a mixed batch of model `Model`, and
/// how `Model` scores clean images. Its trainable parts (SUMix's uncertainty head, SnapMix's
/// mid-level head) are module fields, trained and checkpointed with the model.
pub trait Objective<Model>: Module + ModuleDisplay {
    /// The objective's name, for messages.
    fn name(&self) -> &'static str;

    /// Errors unless the objective's settings are valid and it can train with `method`
    /// (by default: any method whose guide needs no model).
    ///
    /// # Errors
    /// [`StepError::GuideUnavailable`] for a model-guided method.
    fn check(&self, method: &MixMethod) -> Result<(), StepError> {
        input_only(self.name(), method)
    }

    /// The model guide a method needs ([`Needs::PercentMaps`], [`Needs::Attention`]),
    /// computed from the clean batch on the training device; by default none.
    ///
    /// # Shapes
    /// - `images`: `[N, C, H, W]`; `labels`: `[N]`
    ///
    /// # Errors
    /// [`StepError::GuideUnavailable`] where the objective computes no such guide.
    fn model_guide(
        &self,
        model: &Model,
        method: &MixMethod,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
    ) -> Result<Guide, StepError> {
        let _ = (model, images, labels);
        Err(StepError::GuideUnavailable {
            method: method.name(),
            needs: method.needs(),
            objective: self.name(),
        })
    }

    /// The loss of the mixed batch of `step` (its key, method and drawn parameters).
    ///
    /// # Shapes
    /// - `images`: `[N, C, H, W]`, the clean batch (SUMix's first pass)
    /// - `mixed.images`: `[N, C, H, W]`, on the autodiff device
    ///
    /// # Errors
    /// As the loss it computes.
    fn loss(
        &self,
        model: &Model,
        images: Tensor<4>,
        mixed: Mixed,
        step: &MixStep<'_>,
    ) -> Result<MixedLoss, StepError>;

    /// The scores of clean images at validation (the logits; Baseline+ adds its
    /// mid-level logits).
    ///
    /// # Shapes
    /// - `images`: `[N, C, H, W]`; output `[N, K]`
    fn scores(&self, model: &Model, images: Tensor<4>) -> Tensor<2>;
}

/// Which cross-entropy a [`CrossEntropy`] objective takes of the mixed target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeKind {
    /// Soft-target cross-entropy against the dense mixed target (every pair method;
    /// timm's `SoftTargetCrossEntropy`), label smoothing applied to each one-hot.
    SoftTarget,
    /// Per-sample pair cross-entropy `Σ_k w_ik · CE(z_i, y_ik)` (weights need not sum to
    /// 1, as SnapMix's).
    Pair,
}

/// The mixed target's cross-entropy of the model's logits, for any input-only method.
#[derive(Module)]
pub struct CrossEntropy<Model> {
    #[module(skip)]
    forward: Forward<Model>,
    #[module(skip)]
    kind: CeKind,
    #[module(skip)]
    smoothing: f32,
}

impl<Model> CrossEntropy<Model> {
    /// Soft-target cross-entropy of `forward`'s logits, without smoothing.
    pub fn soft_target(forward: Forward<Model>) -> Self {
        Self::new(forward, CeKind::SoftTarget)
    }

    /// Pair cross-entropy of `forward`'s logits, without smoothing.
    pub fn pair(forward: Forward<Model>) -> Self {
        Self::new(forward, CeKind::Pair)
    }

    /// The `kind` cross-entropy of `forward`'s logits, without smoothing.
    pub fn new(forward: Forward<Model>, kind: CeKind) -> Self {
        Self {
            forward,
            kind,
            smoothing: 0.0,
        }
    }

    /// Label smoothing ε in `[0, 1)` (default 0; checked by [`Mixing::new`](crate::Mixing::new)).
    pub fn with_smoothing(self, smoothing: f32) -> Self {
        Self { smoothing, ..self }
    }
}

impl<Model: Module> Objective<Model> for CrossEntropy<Model> {
    fn name(&self) -> &'static str {
        match self.kind {
            CeKind::SoftTarget => "soft-target cross-entropy",
            CeKind::Pair => "pair cross-entropy",
        }
    }

    fn check(&self, method: &MixMethod) -> Result<(), StepError> {
        check_smoothing(self.smoothing)?;
        input_only(self.name(), method)
    }

    fn loss(
        &self,
        model: &Model,
        _: Tensor<4>,
        mixed: Mixed,
        _: &MixStep<'_>,
    ) -> Result<MixedLoss, StepError> {
        let logits = (self.forward)(model, mixed.images);
        let loss = match self.kind {
            CeKind::SoftTarget => {
                soft_target_cross_entropy(logits.clone(), &mixed.target, self.smoothing)?
            }
            CeKind::Pair => pair_cross_entropy(logits.clone(), &mixed.target, self.smoothing)?,
        };
        Ok(MixedLoss { loss, logits })
    }

    fn scores(&self, model: &Model, images: Tensor<4>) -> Tensor<2> {
        (self.forward)(model, images)
    }
}

/// TransMix's objective (Chen et al., CVPR 2022; docs/methods.md): soft-target
/// cross-entropy against the target re-weighted, after the forward, by the class-token
/// attention of that same forward ([`MixMethod::retarget`]); for any other input-only
/// method, the plain mixed target. Needs a class-token network (DeiT).
#[derive(Module)]
pub struct TransMixCe<Model> {
    #[module(skip)]
    forward: ForwardWithAttention<Model>,
    #[module(skip)]
    smoothing: f32,
}

impl<Model> TransMixCe<Model> {
    /// The loss of `forward`'s logits, re-weighted by its attention, without smoothing.
    pub fn new(forward: ForwardWithAttention<Model>) -> Self {
        Self {
            forward,
            smoothing: 0.0,
        }
    }

    /// Label smoothing ε in `[0, 1)` (default 0; checked by [`Mixing::new`](crate::Mixing::new)).
    pub fn with_smoothing(self, smoothing: f32) -> Self {
        Self { smoothing, ..self }
    }
}

impl<Model: Module> Objective<Model> for TransMixCe<Model> {
    fn name(&self) -> &'static str {
        "TransMix cross-entropy"
    }

    fn check(&self, method: &MixMethod) -> Result<(), StepError> {
        check_smoothing(self.smoothing)?;
        match method.needs() {
            Needs::Nothing | Needs::SaliencyPeaks | Needs::ClassAttention => Ok(()),
            needs @ (Needs::PercentMaps | Needs::Attention) => Err(StepError::GuideUnavailable {
                method: method.name(),
                needs,
                objective: self.name(),
            }),
        }
    }

    fn loss(
        &self,
        model: &Model,
        _: Tensor<4>,
        mixed: Mixed,
        step: &MixStep<'_>,
    ) -> Result<MixedLoss, StepError> {
        let (logits, attention) = (self.forward)(model, mixed.images.clone());
        let target = match step.method.needs() {
            Needs::ClassAttention => step.method.retarget(step.params, &mixed, attention)?,
            Needs::Nothing | Needs::SaliencyPeaks | Needs::PercentMaps | Needs::Attention => {
                mixed.target
            }
        };
        let loss = soft_target_cross_entropy(logits.clone(), &target, self.smoothing)?;
        Ok(MixedLoss { loss, logits })
    }

    fn scores(&self, model: &Model, images: Tensor<4>) -> Tensor<2> {
        (self.forward)(model, images).0
    }
}

/// The default [`Objective::check`] for objectives that compute no model guide.
fn input_only(objective: &'static str, method: &MixMethod) -> Result<(), StepError> {
    match method.needs() {
        Needs::Nothing | Needs::SaliencyPeaks => Ok(()),
        needs @ (Needs::PercentMaps | Needs::Attention | Needs::ClassAttention) => {
            Err(StepError::GuideUnavailable {
                method: method.name(),
                needs,
                objective,
            })
        }
    }
}

/// SnapMix's objective (Huang et al., AAAI 2021; METHODS.md §14): the model's semantic
/// percent maps as the SnapMix mixer's guide, the pair cross-entropy of its semantic
/// weights, and optionally the "Baseline+" mid-level branch, trained with the same loss
/// and added to the logits at validation.
#[derive(Module)]
pub struct SnapMixLoss<Model> {
    /// Baseline+'s mid-level branch, if used.
    pub mid: Option<MidLevelHead>,
    #[module(skip)]
    forward: Forward<Model>,
    #[module(skip)]
    forward_with_mid: Option<ForwardWithMid<Model>>,
    #[module(skip)]
    smoothing: f32,
    #[module(skip)]
    statistics: CamStatistics,
}

impl<Model> SnapMixLoss<Model> {
    /// SnapMix's loss of `forward`'s logits, maps with batch statistics (the reference's),
    /// no smoothing, no Baseline+.
    pub fn new(forward: Forward<Model>) -> Self {
        Self {
            mid: None,
            forward,
            forward_with_mid: None,
            smoothing: 0.0,
            statistics: CamStatistics::Batch,
        }
    }

    /// Baseline+: `forward_with_mid` gives the logits and the mid-level map that `head`
    /// classifies.
    pub fn with_baseline_plus(
        self,
        forward_with_mid: ForwardWithMid<Model>,
        head: MidLevelHead,
    ) -> Self {
        Self {
            mid: Some(head),
            forward_with_mid: Some(forward_with_mid),
            ..self
        }
    }

    /// Label smoothing ε in `[0, 1)` (default 0; checked by [`Mixing::new`](crate::Mixing::new)).
    pub fn with_smoothing(self, smoothing: f32) -> Self {
        Self { smoothing, ..self }
    }

    /// Which BatchNorm statistics the maps' forward uses (default: the batch's).
    pub fn with_statistics(self, statistics: CamStatistics) -> Self {
        Self { statistics, ..self }
    }

    /// The logits and Baseline+'s mid-level logits (at training epoch `epoch`, from 1).
    fn logits(
        &self,
        model: &Model,
        images: Tensor<4>,
        epoch: usize,
    ) -> (Tensor<2>, Option<Tensor<2>>) {
        match (&self.mid, self.forward_with_mid) {
            (Some(mid), Some(forward_with_mid)) => {
                let (logits, features) = forward_with_mid(model, images);
                (logits, Some(mid.forward(features, epoch)))
            }
            _ => ((self.forward)(model, images), None),
        }
    }
}

impl<Model: CamModel> Objective<Model> for SnapMixLoss<Model> {
    fn name(&self) -> &'static str {
        "SnapMix"
    }

    fn check(&self, method: &MixMethod) -> Result<(), StepError> {
        check_smoothing(self.smoothing)?;
        match method.needs() {
            Needs::Nothing | Needs::SaliencyPeaks | Needs::PercentMaps => Ok(()),
            needs @ (Needs::Attention | Needs::ClassAttention) => {
                Err(StepError::GuideUnavailable {
                    method: method.name(),
                    needs,
                    objective: self.name(),
                })
            }
        }
    }

    fn model_guide(
        &self,
        model: &Model,
        method: &MixMethod,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
    ) -> Result<Guide, StepError> {
        match method.needs() {
            Needs::PercentMaps => Ok(Guide::PercentMaps(
                semantic_percent_maps(model, images, labels, self.statistics)?.inner(),
            )),
            needs @ (Needs::Nothing
            | Needs::SaliencyPeaks
            | Needs::Attention
            | Needs::ClassAttention) => Err(StepError::GuideUnavailable {
                method: method.name(),
                needs,
                objective: self.name(),
            }),
        }
    }

    fn loss(
        &self,
        model: &Model,
        _: Tensor<4>,
        mixed: Mixed,
        step: &MixStep<'_>,
    ) -> Result<MixedLoss, StepError> {
        let (logits, mid) = self.logits(model, mixed.images, step.key.epoch as usize + 1);
        let loss = snapmix_loss(logits.clone(), mid, &mixed.target, self.smoothing)?;
        Ok(MixedLoss { loss, logits })
    }

    fn scores(&self, model: &Model, images: Tensor<4>) -> Tensor<2> {
        // The epoch only decides whether the head detaches its input: no effect on values.
        match self.logits(model, images, usize::MAX) {
            (logits, Some(mid)) => baseline_plus_scores(logits, mid),
            (logits, None) => logits,
        }
    }
}

/// SUMix (Qin et al., ECCV 2024; `docs/sumix.md`): a second forward of the clean batch,
/// the corrected mixing ratio and the uncertainty regulariser, on top of any input-only
/// mixer with a pair target. The model is split into its pooled feature and classifier;
/// the uncertainty head (or, without one, the logits) reads the pooled feature.
///
/// ```
/// use burn::nn::{Linear, LinearConfig};
/// use burn::{prelude::*, tensor::Distribution, train::TrainStep};
/// use mixaug_learner::{Mixing, Sumix};
/// use mixaug_loss::{SumixConfig, UncertaintyHeadConfig};
/// use mixaug_masks::{CutMixConfig, MixConfig};
///
/// #[derive(Module, Debug)]
/// struct Net { fc: Linear }
/// impl Net {
///     /// The feature: the image's channel means, `[N, 3]`.
///     fn pooled(&self, images: Tensor<4>) -> Tensor<2> {
///         images.mean_dim(3).mean_dim(2).flatten(1, 3)
///     }
///     fn classify(&self, pooled: Tensor<2>) -> Tensor<2> { self.fc.forward(pooled) }
/// }
/// let device = Device::flex().autodiff();
/// let net = Net { fc: LinearConfig::new(3, 4).init(&device) };
/// let head = UncertaintyHeadConfig::new(3, 4).init(&device);
/// let objective = Sumix::new(Net::pooled, Net::classify, SumixConfig::new(), Some(head));
/// let cutmix = MixConfig::CutMix(CutMixConfig::new()).init()?;
/// let model = Mixing::new(net, cutmix, objective)?;
/// let images = Tensor::<4>::random([4, 3, 6, 10], Distribution::Default, &device);
/// let output = TrainStep::step(&model, (images, Tensor::from_ints([0, 1, 2, 3], &device)));
/// assert!(output.item.loss.into_scalar::<f32>().is_finite());
/// // The head is a module field, trained with the model: the regulariser R reaches it.
/// let head_weight = model.objective.head.as_ref().unwrap().linear.weight.id;
/// let grad = output.grads.get::<2>(head_weight).unwrap();
/// assert!(grad.abs().sum().into_scalar::<f32>() > 0.0);
/// # Ok::<(), mixaug_learner::StepError>(())
/// ```
#[derive(Module)]
pub struct Sumix<Model> {
    /// The uncertainty head, if used.
    pub head: Option<UncertaintyHead>,
    #[module(skip)]
    pooled: Pooled<Model>,
    #[module(skip)]
    classify: Classify<Model>,
    #[module(skip)]
    config: SumixConfig,
}

impl<Model> Sumix<Model> {
    /// SUMix over the model's `pooled` feature and `classify`, with `config` and the
    /// uncertainty `head` (`None`: the logits stand in for it, the ImageNet template).
    pub fn new(
        pooled: Pooled<Model>,
        classify: Classify<Model>,
        config: SumixConfig,
        head: Option<UncertaintyHead>,
    ) -> Self {
        Self {
            head,
            pooled,
            classify,
            config,
        }
    }
}

impl<Model: PooledClassifier> Sumix<Model> {
    /// SUMix over a model that implements [`PooledClassifier`].
    pub fn of_pooled_classifier(config: SumixConfig, head: Option<UncertaintyHead>) -> Self {
        Self::new(Model::pooled, Model::classify, config, head)
    }
}

/// A model seen through two of its functions, as `sumix_forward` takes it.
struct Split<'a, Model> {
    model: &'a Model,
    pooled: Pooled<Model>,
    classify: Classify<Model>,
}

impl<Model> PooledClassifier for Split<'_, Model> {
    fn pooled(&self, images: Tensor<4>) -> Tensor<2> {
        (self.pooled)(self.model, images)
    }

    fn classify(&self, pooled: Tensor<2>) -> Tensor<2> {
        (self.classify)(self.model, pooled)
    }
}

impl<Model: Module> Objective<Model> for Sumix<Model> {
    fn name(&self) -> &'static str {
        "SUMix"
    }

    fn check(&self, method: &MixMethod) -> Result<(), StepError> {
        self.config.validate()?;
        input_only(self.name(), method)
    }

    fn loss(
        &self,
        model: &Model,
        images: Tensor<4>,
        mixed: Mixed,
        _: &MixStep<'_>,
    ) -> Result<MixedLoss, StepError> {
        let split = Split {
            model,
            pooled: self.pooled,
            classify: self.classify,
        };
        let step = sumix_forward(&split, self.head.as_ref(), &self.config, images, mixed)?;
        Ok(MixedLoss {
            loss: step.loss.total,
            logits: step.mixed_logits,
        })
    }

    fn scores(&self, model: &Model, images: Tensor<4>) -> Tensor<2> {
        (self.classify)(model, (self.pooled)(model, images))
    }
}

// By hand: a derived `Debug` would ask `Model: Debug` of the function pointers' argument.
impl<Model> fmt::Debug for CrossEntropy<Model> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CrossEntropy")
            .field("kind", &self.kind)
            .field("smoothing", &self.smoothing)
            .finish_non_exhaustive()
    }
}

impl<Model> fmt::Debug for TransMixCe<Model> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TransMixCe")
            .field("smoothing", &self.smoothing)
            .finish_non_exhaustive()
    }
}

impl<Model> fmt::Debug for SnapMixLoss<Model> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SnapMixLoss")
            .field("mid", &self.mid)
            .field("smoothing", &self.smoothing)
            .field("statistics", &self.statistics)
            .finish_non_exhaustive()
    }
}

impl<Model> fmt::Debug for Sumix<Model> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sumix")
            .field("head", &self.head)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
