//! The networks a run trains: a [`Classifier`] (any network of `mixaug_models`) with
//! the optional extra heads of SUMix (uncertainty) and SnapMix's Baseline+ (mid-level).

use anyhow::Result;
use burn::module::{ModuleVisitor, Param, ParamGroup, ParamId};
use burn::prelude::*;
use mixaug_loss::{
    MidLevelHead, MidLevelHeadConfig, UncertaintyHead, UncertaintyHeadConfig, baseline_plus_scores,
};
use mixaug_maps::AttentionConfig;
use mixaug_models::Classifier;

/// AttentiveMix's frozen teacher: the network its attention grids come from.
#[derive(Debug, Clone)]
pub struct Teacher {
    /// The network; it is never trained (no gradient reaches it).
    pub network: Classifier,
    /// How its grids are computed (the mixer's `AttentiveMixConfig::attention`).
    pub attention: AttentionConfig,
}

/// The model a run trains: the classifier, SUMix's uncertainty head and SnapMix's
/// Baseline+ mid-level head when the run uses them.
#[derive(Module, Debug)]
pub struct Network {
    /// The classifier.
    pub model: Classifier,
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
        model: Classifier,
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
            None => Ok(self.model.try_forward(images)?),
            Some(mid) => {
                let (logits, features) = self.model.forward_with_mid(images)?;
                Ok(baseline_plus_scores(logits, mid.forward(features, epoch)))
            }
        }
    }

    /// The parameters a pretrained backbone does not have (the classifier and the extra
    /// heads), as a burn parameter group: they take [`crate::train::TrainOptions::new_layers_lr`].
    pub fn new_layers(&self) -> ParamGroup {
        let mut ids = ParamIds(Vec::new());
        self.model.visit_classifier(&mut ids);
        self.head.visit(&mut ids);
        self.mid.visit(&mut ids);
        ParamGroup::from_ids(ids.0)
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

/// Collects the ids of the float parameters it visits.
struct ParamIds(Vec<ParamId>);

impl ModuleVisitor for ParamIds {
    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        self.0.push(param.id);
    }
}
