//! The networks a run trains: a [`Backbone`] (ResNet family or pre-activation nets) with
//! the optional extra heads of SUMix (uncertainty) and SnapMix's Baseline+ (mid-level).

use anyhow::{Result, bail};
use burn::module::{ModuleVisitor, Param};
use burn::optim::GradientsParams;
use burn::prelude::*;
use mixaug_loss::{
    MidLevelHead, MidLevelHeadConfig, PooledClassifier, UncertaintyHead, UncertaintyHeadConfig,
    baseline_plus_scores,
};
use mixaug_maps::{AttentionConfig, CamClassifier, CamModel};
use mixaug_models::{PreActNet, ResNet};

/// The classifier of a run.
#[derive(Module, Debug)]
pub enum Backbone {
    /// ResNet-18/34/50/101, ResNeXt-50 (CIFAR or ImageNet stem).
    ResNet(ResNet),
    /// PreAct-ResNet-18 or WideResNet-28-k.
    PreAct(PreActNet),
}

impl Backbone {
    /// Logits.
    ///
    /// # Shapes
    /// - `images`: `[N, 3, H, W]`; output `[N, K]`
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.classify(self.pooled(images))
    }

    /// `[D, K]`: pooled feature size and classes.
    pub fn classifier_dims(&self) -> [usize; 2] {
        match self {
            Self::ResNet(m) => m.fc.weight.dims(),
            Self::PreAct(m) => m.fc.weight.dims(),
        }
    }

    /// Channels of the mid-level (`layer3`) features, for SnapMix's Baseline+ head.
    pub fn mid_channels(&self) -> Result<usize> {
        match self {
            Self::ResNet(m) => Ok(m
                .layer3
                .last()
                .map_or(0, |b| b.bn3.as_ref().unwrap_or(&b.bn2).gamma.dims()[0])),
            Self::PreAct(_) => {
                bail!("the mid-level head (SnapMix Baseline+) needs a ResNet backbone")
            }
        }
    }

    /// Logits and the mid-level features (ResNet only).
    ///
    /// # Shapes
    /// - `images`: `[N, 3, H, W]`; output `([N, K], [N, C3, h, w])`
    pub fn forward_with_mid(&self, images: Tensor<4>) -> Result<(Tensor<2>, Tensor<4>)> {
        match self {
            Self::ResNet(m) => Ok(m.forward_with_mid(images)),
            Self::PreAct(_) => {
                bail!("the mid-level head (SnapMix Baseline+) needs a ResNet backbone")
            }
        }
    }
}

impl PooledClassifier for Backbone {
    fn pooled(&self, images: Tensor<4>) -> Tensor<2> {
        match self {
            Self::ResNet(m) => m.pooled(images),
            Self::PreAct(m) => m.pooled(images),
        }
    }

    fn classify(&self, pooled: Tensor<2>) -> Tensor<2> {
        match self {
            Self::ResNet(m) => m.classify(pooled),
            Self::PreAct(m) => m.classify(pooled),
        }
    }
}

impl CamModel for Backbone {
    fn cam_features(&self, images: Tensor<4>) -> Tensor<4> {
        match self {
            Self::ResNet(m) => m.cam_features(images),
            Self::PreAct(m) => m.cam_features(images),
        }
    }

    fn cam_classifier(&self) -> CamClassifier {
        match self {
            Self::ResNet(m) => m.cam_classifier(),
            Self::PreAct(m) => m.cam_classifier(),
        }
    }
}

/// AttentiveMix's frozen teacher: the network its attention grids come from.
#[derive(Debug, Clone)]
pub struct Teacher {
    /// The network; it is never trained (no gradient reaches it).
    pub network: Backbone,
    /// How its grids are computed (the mixer's `AttentiveMixConfig::attention`).
    pub attention: AttentionConfig,
}

/// The model a run trains: the classifier, SUMix's uncertainty head and SnapMix's
/// Baseline+ mid-level head when the run uses them.
#[derive(Module, Debug)]
pub struct Network {
    /// The classifier.
    pub model: Backbone,
    /// SUMix's second head.
    pub head: Option<UncertaintyHead>,
    /// SnapMix's Baseline+ branch on the mid-level features.
    pub mid: Option<MidLevelHead>,
}

impl Network {
    /// Wraps `model`, building SUMix's head when `uncertainty_head` and the mid-level head
    /// when `mid_level_head`. Every parameter is created here, in module order (burn
    /// creates them lazily on first use otherwise), so that a seed set just before the
    /// model was built decides all of them whatever runs next.
    pub fn new(
        model: Backbone,
        uncertainty_head: bool,
        mid_level_head: bool,
        device: &Device,
    ) -> Result<Self> {
        let [d, k] = model.classifier_dims();
        let head = uncertainty_head.then(|| UncertaintyHeadConfig::new(d, k).init(device));
        let mid = if mid_level_head {
            Some(MidLevelHeadConfig::new(model.mid_channels()?, k).init(device))
        } else {
            None
        };
        let network = Self { model, head, mid };
        materialize(&network);
        Ok(network)
    }

    /// Evaluation scores: the logits, plus the mid-level logits for Baseline+.
    ///
    /// # Shapes
    /// - `images`: `[N, 3, H, W]`; output `[N, K]`
    pub fn scores(&self, images: Tensor<4>, epoch: usize) -> Result<Tensor<2>> {
        match &self.mid {
            None => Ok(self.model.forward(images)),
            Some(mid) => {
                let (logits, features) = self.model.forward_with_mid(images)?;
                Ok(baseline_plus_scores(logits, mid.forward(features, epoch)))
            }
        }
    }

    /// Moves the gradients of the layers a pretrained backbone does not have (the
    /// classifier and the extra heads) out of `grads`, so that they can be stepped with
    /// their own learning rate.
    pub fn take_new_layer_grads(&self, grads: &mut GradientsParams) -> GradientsParams {
        let mut mover = GradMover {
            from: grads,
            to: GradientsParams::new(),
        };
        match &self.model {
            Backbone::ResNet(m) => m.fc.visit(&mut mover),
            Backbone::PreAct(m) => m.fc.visit(&mut mover),
        }
        self.head.visit(&mut mover);
        self.mid.visit(&mut mover);
        mover.to
    }
}

/// Creates every lazily initialised parameter of `module` now, in module order, so that
/// the generator state when the module was built decides them all.
pub fn materialize<M: Module>(module: &M) {
    module.visit(&mut Materialize);
}

/// Touches every float parameter, which creates the lazy ones.
struct Materialize;

impl ModuleVisitor for Materialize {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let _ = param.val();
    }
}

struct GradMover<'a> {
    from: &'a mut GradientsParams,
    to: GradientsParams,
}

impl ModuleVisitor for GradMover<'_> {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        if let Some(grad) = self.from.remove::<D>(param.id) {
            self.to.register(param.id, grad);
        }
    }
}
