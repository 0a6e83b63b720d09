//! What a family of networks is ([`ClassifierFamily`]) and how the families become one type
//! (the `families!` macro, invoked once in `lib.rs`).
//!
//! A family is a network type and its configuration (`ResNet` and `ResNetConfig`, …). Its
//! file says everything about it in one `impl ClassifierFamily`: its name, whether
//! class activation maps are defined, its named architectures, the [`ModelSpec`] options it
//! takes and how, how it is built, its classifier layer, and the optional capabilities it has
//! (the mid-level features of Baseline+, class-token attention, checkpoint import).
//!
//! The `families!` list then generates what has one variant per family — [`Family`],
//! [`ArchConfig`], [`Classifier`] (burn's `#[derive(Module)]` needs a concrete enum) — every
//! match that delegates to the family, and the [`ARCHITECTURES`] table (the families' tables,
//! in list order). So adding a family is its file plus two lines of `lib.rs`: its `mod` line
//! and its `families!` line (`docs/architecture.md` shows them). The family's file never
//! names its [`Family`] variant: the optional capabilities answer `None` when absent, and the
//! delegating code, which knows the variant, turns that into [`ModelError::Unsupported`].
//!
//! [`Family`]: crate::Family
//! [`ArchConfig`]: crate::ArchConfig
//! [`Classifier`]: crate::Classifier
//! [`ARCHITECTURES`]: crate::ARCHITECTURES

use std::fmt::Debug;
use std::path::Path;

use burn::nn::Linear;
use burn::prelude::*;
use mixaug_loss::PooledClassifier;
use mixaug_maps::CamModel;

use crate::{
    Architecture, ImageShapeError, ImportError, ImportOptions, ImportReport, ModelError, ModelSpec,
    SpecOption,
};

/// A family of networks: what [`Classifier`](crate::Classifier) asks of each of its variants.
///
/// Logits, the pooled feature and the classifier (SUMix) come from [`PooledClassifier`];
/// CAM features and the classifier's columns (SnapMix, `mixaug cam`) from [`CamModel`].
pub trait ClassifierFamily: Module + PooledClassifier + CamModel + Sized {
    /// The family's configuration (what its [`ARCHITECTURES`](Self::ARCHITECTURES) give).
    type Config: Debug;

    /// The family in messages ("model.dropout is not available for the `NAME`").
    const NAME: &'static str;

    /// Whether the classifier is a linear layer on the spatial mean of the
    /// [`CamModel::cam_features`], so that class activation maps (CAM, SnapMix's percent
    /// maps) are what they claim to be.
    const HAS_CAM: bool;

    /// The family's named architectures: one line each, `arch("name", |k| config(k).into())`.
    const ARCHITECTURES: &'static [Architecture];

    /// The [`ModelSpec`] options the family takes; [`ModelSpec::config`] refuses the others
    /// when they are set, before [`apply_spec`](Self::apply_spec) runs.
    const SPEC_OPTIONS: &'static [SpecOption];

    /// `config` with the options of `spec` the family takes applied, checked.
    ///
    /// # Errors
    /// A value the family cannot use.
    fn apply_spec(config: Self::Config, spec: &ModelSpec) -> Result<Self::Config, ModelError>;

    /// The network, randomly initialised.
    ///
    /// # Errors
    /// An invalid configuration.
    fn from_config(config: &Self::Config, device: &Device) -> Result<Self, ModelError>;

    /// The final linear classifier (burn's `[in, out]` weight layout): the layer a pretrained
    /// backbone is given anew.
    fn classifier(&self) -> &Linear;

    /// Checks, on the host shape only, that the network takes `images`; every forward of a
    /// network that refuses some shapes makes this check and panics with the error's
    /// message, [`Classifier`](crate::Classifier)'s fallible forwards return it.
    ///
    /// # Errors
    /// [`ImageShapeError`] for an empty batch, or one of another channel count (every
    /// network) or image size (the vision transformers) than the network was configured
    /// for.
    fn check_images(&self, images: &Tensor<4>) -> Result<(), ImageShapeError>;

    /// Channels of the mid-level features of [`forward_with_mid`](Self::forward_with_mid);
    /// `None` without them.
    fn mid_channels(&self) -> Option<usize> {
        None
    }

    /// Whether [`forward_with_mid`](Self::forward_with_mid) gives mid-level features, so
    /// that experiments can check Baseline+ before building the network.
    const HAS_MID_LEVEL: bool = false;

    /// Whether [`forward_with_attention`](Self::forward_with_attention) gives a class
    /// token's attention (TransMix), checked likewise.
    const HAS_CLASS_ATTENTION: bool = false;

    /// Logits and the mid-level features (SnapMix's Baseline+ head); `None` without them.
    ///
    /// # Shapes
    /// - `images`: `[N, 3, H, W]`; output `([N, K], [N, C, h, w])`
    fn forward_with_mid(&self, images: Tensor<4>) -> Option<(Tensor<2>, Tensor<4>)> {
        let _ = images;
        None
    }

    /// Logits and the last block's class-token attention over the patches (TransMix);
    /// `None` without a class token.
    ///
    /// # Shapes
    /// - `images`: `[N, 3, S, S]`; output `([N, K], [N, heads, L])`, `L` the patches
    fn forward_with_attention(&self, images: Tensor<4>) -> Option<(Tensor<2>, Tensor<3>)> {
        let _ = images;
        None
    }

    /// Loads a PyTorch checkpoint into the network (with [`load_pytorch`](crate::load_pytorch)
    /// and the family's [`PytorchLayout`](crate::PytorchLayout)); `None` for a family without
    /// an importer.
    fn load_checkpoint(
        &mut self,
        checkpoint: &Path,
        options: &ImportOptions,
    ) -> Option<Result<ImportReport, ImportError>> {
        let _ = (checkpoint, options);
        None
    }
}

/// Declares the families from one list of `Variant = module::Network(Config),` lines: it
/// re-exports each module's items and generates, in a private `registry` module re-exported
/// at the crate root, [`Family`](crate::Family), [`ArchConfig`](crate::ArchConfig),
/// [`Classifier`](crate::Classifier) and [`ARCHITECTURES`](crate::ARCHITECTURES), every
/// match over them delegating to the family's [`ClassifierFamily`] implementation.
macro_rules! families {
    ($($variant:ident = $module:ident :: $net:ident ($config:ident),)+) => {
        $(pub use $module::*;)+
        pub use registry::{ARCHITECTURES, ArchConfig, Classifier, Family};

        /// What has one variant per family.
        mod registry {
            use std::fmt;
            use std::path::Path;

            use burn::module::ModuleVisitor;
            use burn::prelude::*;
            use mixaug_loss::PooledClassifier;
            use mixaug_maps::{CamClassifier, CamModel};

            use $crate::family::{CHECKPOINT_IMPORT, CLASS_ATTENTION, MID_LEVEL};
            use $crate::spec::concat_architectures;
            use $crate::{
                Architecture, ClassifierFamily, ImportOptions, ImportReport, ModelError,
                ModelSpec,
            };
            $(use super::{$config, $net};)+

            /// The families of networks (one per [`ClassifierFamily`] implementation).
            #[derive(Debug, Clone, Copy, PartialEq, Eq)]
            pub enum Family {
                $(
                    #[doc = concat!(
                        "[`", stringify!($net), "`] (`", stringify!($module), ".rs`)."
                    )]
                    $variant,
                )+
            }

            impl Family {
                /// Whether the network's classifier is a linear layer on the spatial mean of
                /// a feature map, so that class activation maps (CAM, SnapMix's percent maps)
                /// are defined ([`ClassifierFamily::HAS_CAM`]).
                pub fn has_cam(self) -> bool {
                    match self {
                        $(Self::$variant => $net::HAS_CAM,)+
                    }
                }

                /// Whether the networks give mid-level features (SnapMix's Baseline+,
                /// [`ClassifierFamily::HAS_MID_LEVEL`]).
                pub fn has_mid_level(self) -> bool {
                    match self {
                        $(Self::$variant => $net::HAS_MID_LEVEL,)+
                    }
                }

                /// Whether the networks give a class token's attention (TransMix,
                /// [`ClassifierFamily::HAS_CLASS_ATTENTION`]).
                pub fn has_class_attention(self) -> bool {
                    match self {
                        $(Self::$variant => $net::HAS_CLASS_ATTENTION,)+
                    }
                }

                pub(crate) fn unsupported(self, what: &'static str) -> ModelError {
                    ModelError::Unsupported { what, family: self }
                }
            }

            impl fmt::Display for Family {
                fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                    f.write_str(match self {
                        $(Self::$variant => $net::NAME,)+
                    })
                }
            }

            /// A family's configuration, before the [`ModelSpec`]'s options are applied.
            #[derive(Debug)]
            pub enum ArchConfig {
                $(
                    #[doc = concat!("[`", stringify!($net), "`].")]
                    $variant($config),
                )+
            }

            $(
                impl From<$config> for ArchConfig {
                    fn from(config: $config) -> Self {
                        Self::$variant(config)
                    }
                }
            )+

            impl ArchConfig {
                /// The family.
                pub fn family(&self) -> Family {
                    match self {
                        $(Self::$variant(_) => Family::$variant,)+
                    }
                }

                /// The configuration with the options of `spec` applied, after refusing
                /// those the family does not take.
                pub(crate) fn apply_spec(self, spec: &ModelSpec) -> Result<Self, ModelError> {
                    match self {
                        $(Self::$variant(config) => {
                            spec.refuse_options(Family::$variant, $net::SPEC_OPTIONS)?;
                            Ok(Self::$variant($net::apply_spec(config, spec)?))
                        })+
                    }
                }

                /// The network, randomly initialised.
                ///
                /// # Errors
                /// An invalid configuration.
                pub fn init(&self, device: &Device) -> Result<Classifier, ModelError> {
                    Ok(match self {
                        $(Self::$variant(config) => {
                            Classifier::$variant($net::from_config(config, device)?)
                        })+
                    })
                }
            }

            /// Every architecture name the workspace knows: each family's
            /// [`ClassifierFamily::ARCHITECTURES`], in the order of the families.
            pub const ARCHITECTURES: &[Architecture] =
                &concat_architectures::<{ 0 $(+ $net::ARCHITECTURES.len())+ }>(&[
                    $($net::ARCHITECTURES,)+
                ]);

            /// One network of any family, as [`ModelSpec::init`] builds it.
            #[derive(Module, Debug)]
            pub enum Classifier {
                $(
                    #[doc = concat!("A [`", stringify!($net), "`].")]
                    $variant($net),
                )+
            }

            impl Classifier {
                /// The family of the network.
                pub fn family(&self) -> Family {
                    match self {
                        $(Self::$variant(_) => Family::$variant,)+
                    }
                }

                /// Checks, on the host shape only, that the network takes `images`
                /// ([`ClassifierFamily::check_images`]: every network takes its stem's
                /// channels, a vision transformer also its configured image size).
                ///
                /// # Errors
                /// [`ModelError::ImageShape`].
                pub fn check_images(&self, images: &Tensor<4>) -> Result<(), ModelError> {
                    match self {
                        $(Self::$variant(m) => ClassifierFamily::check_images(m, images)?,)+
                    }
                    Ok(())
                }

                /// Logits.
                ///
                /// # Panics
                /// On images the network does not take ([`Self::check_images`]), with the
                /// error's message, before burn sees them; [`Self::try_forward`] returns
                /// the error instead.
                ///
                /// # Shapes
                /// - `images`: `[N, 3, H, W]`; output `[N, K]`
                pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
                    self.classify(self.pooled(images))
                }

                /// Logits, after [`Self::check_images`].
                ///
                /// # Errors
                /// [`ModelError::ImageShape`] on images the network does not take.
                ///
                /// # Shapes
                /// - `images`: `[N, 3, H, W]`; output `[N, K]`
                pub fn try_forward(&self, images: Tensor<4>) -> Result<Tensor<2>, ModelError> {
                    self.check_images(&images)?;
                    Ok(self.forward(images))
                }

                /// `[D, K]`: pooled feature size and classes.
                pub fn classifier_dims(&self) -> [usize; 2] {
                    match self {
                        $(Self::$variant(m) => m.classifier().weight.dims(),)+
                    }
                }

                /// Visits the parameters of the final classifier only (`fc`, `head`, `head.fc`):
                /// the layer a pretrained backbone is given anew, stepped with its own
                /// learning rate.
                pub fn visit_classifier<V: ModuleVisitor>(&self, visitor: &mut V) {
                    match self {
                        $(Self::$variant(m) => m.classifier().visit(visitor),)+
                    }
                }

                /// Channels of the mid-level (`layer3`) features, for SnapMix's Baseline+
                /// head.
                ///
                /// # Errors
                /// [`ModelError::Unsupported`] for a family without mid-level features.
                pub fn mid_channels(&self) -> Result<usize, ModelError> {
                    match self {
                        $(Self::$variant(m) => ClassifierFamily::mid_channels(m)
                            .ok_or_else(|| Family::$variant.unsupported(MID_LEVEL)),)+
                    }
                }

                /// Logits and the mid-level (`layer3`) features.
                ///
                /// # Shapes
                /// - `images`: `[N, 3, H, W]`; output `([N, K], [N, C3, h, w])`
                ///
                /// # Errors
                /// [`ModelError::Unsupported`] for a family without mid-level features,
                /// [`ModelError::ImageShape`] on images the network does not take.
                pub fn forward_with_mid(
                    &self,
                    images: Tensor<4>,
                ) -> Result<(Tensor<2>, Tensor<4>), ModelError> {
                    self.check_images(&images)?;
                    match self {
                        $(Self::$variant(m) => ClassifierFamily::forward_with_mid(m, images)
                            .ok_or_else(|| Family::$variant.unsupported(MID_LEVEL)),)+
                    }
                }

                /// Logits and the last block's class-token attention over the patches
                /// (DeiT), what TransMix re-weights its target with.
                ///
                /// # Shapes
                /// - `images`: `[N, 3, S, S]`; output `([N, K], [N, heads, L])`, `L` the
                ///   patches
                ///
                /// # Errors
                /// [`ModelError::Unsupported`] for a network without a class token,
                /// [`ModelError::ImageShape`] on images the network does not take.
                pub fn forward_with_attention(
                    &self,
                    images: Tensor<4>,
                ) -> Result<(Tensor<2>, Tensor<3>), ModelError> {
                    self.check_images(&images)?;
                    match self {
                        $(Self::$variant(m) => ClassifierFamily::forward_with_attention(m, images)
                            .ok_or_else(|| Family::$variant.unsupported(CLASS_ATTENTION)),)+
                    }
                }

                /// Loads a PyTorch checkpoint into the network.
                ///
                /// # Errors
                /// [`ModelError::Unsupported`] for a family without an importer, or the
                /// importer's error.
                pub(crate) fn load_checkpoint(
                    &mut self,
                    checkpoint: &Path,
                    options: &ImportOptions,
                ) -> Result<ImportReport, ModelError> {
                    let loaded = match self {
                        $(Self::$variant(m) => m
                            .load_checkpoint(checkpoint, options)
                            .ok_or_else(|| Family::$variant.unsupported(CHECKPOINT_IMPORT))?,)+
                    };
                    Ok(loaded?)
                }
            }

            impl PooledClassifier for Classifier {
                fn pooled(&self, images: Tensor<4>) -> Tensor<2> {
                    match self {
                        $(Self::$variant(m) => m.pooled(images),)+
                    }
                }

                fn classify(&self, pooled: Tensor<2>) -> Tensor<2> {
                    match self {
                        $(Self::$variant(m) => m.classify(pooled),)+
                    }
                }
            }

            /// The family's [`CamModel`]. Where [`Family::has_cam`] is false (DeiT) the maps
            /// exist but the classifier applied to their spatial mean is not the logits; the
            /// runner refuses CAM-guided methods (SnapMix) on such networks.
            impl CamModel for Classifier {
                fn cam_features(&self, images: Tensor<4>) -> Tensor<4> {
                    match self {
                        $(Self::$variant(m) => m.cam_features(images),)+
                    }
                }

                fn cam_classifier(&self) -> CamClassifier {
                    match self {
                        $(Self::$variant(m) => m.cam_classifier(),)+
                    }
                }
            }
        }
    };
}

/// What [`ModelError::Unsupported`] names for each optional capability.
pub(crate) const MID_LEVEL: &str = "the mid-level head (Baseline+)";
pub(crate) const CLASS_ATTENTION: &str = "class-token attention (TransMix)";
pub(crate) const CHECKPOINT_IMPORT: &str = "checkpoint import";
