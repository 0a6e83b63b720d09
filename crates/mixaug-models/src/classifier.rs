//! [`Classifier`]: any network of the crate behind one type, with the capabilities the
//! mixing methods and losses ask of a network (pooled feature and classifier for SUMix,
//! CAM features for SnapMix and `mixaug cam`, the mid-level features of Baseline+).

use burn::module::ModuleVisitor;
use burn::prelude::*;
use mixaug_loss::PooledClassifier;
use mixaug_maps::{CamClassifier, CamModel};

use crate::spec::{Family, ModelError};
use crate::{Deit, PreActNet, ResNet, Swin};

/// One network of any family, as [`ModelSpec::init`](crate::ModelSpec::init) builds it.
#[derive(Module, Debug)]
pub enum Classifier {
    /// ResNet-18/34/50/101, ResNeXt-50 (CIFAR or ImageNet stem).
    ResNet(ResNet),
    /// PreAct-ResNet-18 or WideResNet-28-k.
    PreAct(PreActNet),
    /// DeiT (class-token ViT).
    Deit(Deit),
    /// Swin Transformer.
    Swin(Swin),
}

impl Classifier {
    /// The family of the network.
    pub fn family(&self) -> Family {
        match self {
            Self::ResNet(_) => Family::ResNet,
            Self::PreAct(_) => Family::PreAct,
            Self::Deit(_) => Family::Deit,
            Self::Swin(_) => Family::Swin,
        }
    }

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
            Self::Deit(m) => m.head.weight.dims(),
            Self::Swin(m) => m.head.fc.weight.dims(),
        }
    }

    /// Visits the parameters of the final classifier only (`fc` or `head`): the layer a
    /// pretrained backbone is given anew, stepped with its own learning rate.
    pub fn visit_classifier<V: ModuleVisitor>(&self, visitor: &mut V) {
        match self {
            Self::ResNet(m) => m.fc.visit(visitor),
            Self::PreAct(m) => m.fc.visit(visitor),
            Self::Deit(m) => m.head.visit(visitor),
            Self::Swin(m) => m.head.visit(visitor),
        }
    }

    /// Channels of the mid-level (`layer3`) features, for SnapMix's Baseline+ head.
    ///
    /// # Errors
    /// [`ModelError::Unsupported`] for a network that is not of the ResNet family.
    pub fn mid_channels(&self) -> Result<usize, ModelError> {
        match self {
            Self::ResNet(m) => Ok(m
                .layer3
                .last()
                .map_or(0, |b| b.bn3.as_ref().unwrap_or(&b.bn2).gamma.dims()[0])),
            other => Err(other.family().unsupported("the mid-level head (Baseline+)")),
        }
    }

    /// Logits and the mid-level (`layer3`) features.
    ///
    /// # Shapes
    /// - `images`: `[N, 3, H, W]`; output `([N, K], [N, C3, h, w])`
    ///
    /// # Errors
    /// [`ModelError::Unsupported`] for a network that is not of the ResNet family.
    pub fn forward_with_mid(
        &self,
        images: Tensor<4>,
    ) -> Result<(Tensor<2>, Tensor<4>), ModelError> {
        match self {
            Self::ResNet(m) => Ok(m.forward_with_mid(images)),
            other => Err(other.family().unsupported("the mid-level head (Baseline+)")),
        }
    }
}

impl Classifier {
    /// Logits and the last block's class-token attention over the patches (DeiT), what
    /// TransMix re-weights its target with.
    ///
    /// # Shapes
    /// - `images`: `[N, 3, S, S]`; output `([N, K], [N, heads, L])`, `L` the patches
    ///
    /// # Errors
    /// [`ModelError::Unsupported`] for a network without a class token.
    pub fn forward_with_attention(
        &self,
        images: Tensor<4>,
    ) -> Result<(Tensor<2>, Tensor<3>), ModelError> {
        match self {
            Self::Deit(m) => Ok(m.forward_with_attention(images)),
            other => Err(other
                .family()
                .unsupported("class-token attention (TransMix)")),
        }
    }
}

impl PooledClassifier for Classifier {
    fn pooled(&self, images: Tensor<4>) -> Tensor<2> {
        match self {
            Self::ResNet(m) => m.pooled(images),
            Self::PreAct(m) => m.pooled(images),
            Self::Deit(m) => m.pooled(images),
            Self::Swin(m) => m.pooled(images),
        }
    }

    fn classify(&self, pooled: Tensor<2>) -> Tensor<2> {
        match self {
            Self::ResNet(m) => m.classify(pooled),
            Self::PreAct(m) => m.classify(pooled),
            Self::Deit(m) => m.classify(pooled),
            Self::Swin(m) => m.classify(pooled),
        }
    }
}

/// CAM's identity (the classifier applied to the spatial mean of the features gives the
/// logits) holds for the convolutional families and Swin, whose last stage is averaged
/// before its linear head. DeiT classifies its class token, not a pooled map: there the
/// features are the final-norm patch tokens as a map and the classifier its head — a
/// token CAM, whose mean is not the logits. [`Family::has_cam`] tells the two apart; the
/// runner refuses CAM-guided methods (SnapMix) on networks without it.
impl CamModel for Classifier {
    fn cam_features(&self, images: Tensor<4>) -> Tensor<4> {
        match self {
            Self::ResNet(m) => m.cam_features(images),
            Self::PreAct(m) => m.cam_features(images),
            Self::Deit(m) => {
                let tokens = m.forward_features(images);
                let [n, l, d] = tokens.dims();
                let side = ((l - 1) as f64).sqrt().round() as usize;
                tokens
                    .slice([0..n, 1..l, 0..d])
                    .reshape([n, side, side, d])
                    .permute([0, 3, 1, 2])
            }
            Self::Swin(m) => m.forward_features(images).permute([0, 3, 1, 2]),
        }
    }

    fn cam_classifier(&self) -> CamClassifier {
        match self {
            Self::ResNet(m) => m.cam_classifier(),
            Self::PreAct(m) => m.cam_classifier(),
            Self::Deit(m) => CamClassifier::from_linear(&m.head),
            Self::Swin(m) => CamClassifier::from_linear(&m.head.fc),
        }
    }
}
