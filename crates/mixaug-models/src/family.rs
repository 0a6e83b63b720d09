//! What a family of networks is ([`ClassifierFamily`]) and how the families become one type
//! (the `families!` macro, invoked once in `lib.rs`).
//!
//! A family is a network type and its configuration (ResNet and [`ResNetConfig`](crate::ResNetConfig),
//! …). Its file says everything about it in one `impl ClassifierFamily`: its name, whether
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
    Architecture, ImportError, ImportOptions, ImportReport, ModelError, ModelSpec, SpecOption,
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

    /// Channels of the mid-level features of [`forward_with_mid`](Self::forward_with_mid);
    /// `None` without them.
    fn mid_channels(&self) -> Option<usize> {
        None
    }

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

/// Declares the families from one list of `Variant = module::Network(Config),` lines (the
/// module's items re-exported): [`Family`](crate::Family), [`ArchConfig`](crate::ArchConfig),
/// [`Classifier`](crate::Classifier), [`ARCHITECTURES`](crate::ARCHITECTURES) and every match
/// over them, each arm delegating to the family's [`ClassifierFamily`] implementation.
macro_rules! families {
    ($($variant:ident = $module:ident :: $net:ident ($config:ident),)+) => {
        $(pub use $module::*;)+

        /// The families of networks (one per [`ClassifierFamily`] implementation).
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Family {
            $(
                #[doc = concat!("[`", stringify!($net), "`] (`", stringify!($module), ".rs`).")]
                $variant,
            )+
        }

        impl Family {
            /// Whether the network's classifier is a linear layer on the spatial mean of a
            /// feature map, so that class activation maps (CAM, SnapMix's percent maps) are
            /// defined ([`ClassifierFamily::HAS_CAM`]).
            pub fn has_cam(self) -> bool {
                match self {
                    $(Self::$variant => <$net as $crate::ClassifierFamily>::HAS_CAM,)+
                }
            }

            pub(crate) fn unsupported(self, what: &'static str) -> $crate::ModelError {
                $crate::ModelError::Unsupported { what, family: self }
            }
        }

        impl ::std::fmt::Display for Family {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(match self {
                    $(Self::$variant => <$net as $crate::ClassifierFamily>::NAME,)+
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

            /// The configuration with the options of `spec` applied, after refusing those
            /// the family does not take.
            pub(crate) fn apply_spec(self, spec: &$crate::ModelSpec) -> Result<Self, $crate::ModelError> {
                match self {
                    $(Self::$variant(config) => {
                        spec.refuse_options(
                            Family::$variant,
                            <$net as $crate::ClassifierFamily>::SPEC_OPTIONS,
                        )?;
                        Ok(Self::$variant(<$net as $crate::ClassifierFamily>::apply_spec(config, spec)?))
                    })+
                }
            }

            /// The network, randomly initialised.
            ///
            /// # Errors
            /// An invalid configuration.
            pub fn init(&self, device: &::burn::prelude::Device) -> Result<Classifier, $crate::ModelError> {
                Ok(match self {
                    $(Self::$variant(config) => Classifier::$variant(
                        <$net as $crate::ClassifierFamily>::from_config(config, device)?,
                    ),)+
                })
            }
        }

        /// Every architecture name the workspace knows: each family's
        /// [`ClassifierFamily::ARCHITECTURES`], in the order of the families.
        pub const ARCHITECTURES: &[$crate::Architecture] = &$crate::spec::concat_architectures::<
            { 0 $(+ <$net as $crate::ClassifierFamily>::ARCHITECTURES.len())+ },
        >(&[$(<$net as $crate::ClassifierFamily>::ARCHITECTURES),+]);

        /// One network of any family, as [`ModelSpec::init`] builds it.
        #[derive(::burn::module::Module, Debug)]
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

            /// Logits.
            ///
            /// # Shapes
            /// - `images`: `[N, 3, H, W]`; output `[N, K]`
            pub fn forward(&self, images: ::burn::prelude::Tensor<4>) -> ::burn::prelude::Tensor<2> {
                use ::mixaug_loss::PooledClassifier;
                self.classify(self.pooled(images))
            }

            /// `[D, K]`: pooled feature size and classes.
            pub fn classifier_dims(&self) -> [usize; 2] {
                match self {
                    $(Self::$variant(m) => <$net as $crate::ClassifierFamily>::classifier(m).weight.dims(),)+
                }
            }

            /// Visits the parameters of the final classifier only (`fc` or `head`): the layer
            /// a pretrained backbone is given anew, stepped with its own learning rate.
            pub fn visit_classifier<V: ::burn::module::ModuleVisitor>(&self, visitor: &mut V) {
                match self {
                    $(Self::$variant(m) => ::burn::module::Module::visit(
                        <$net as $crate::ClassifierFamily>::classifier(m),
                        visitor,
                    ),)+
                }
            }

            /// Channels of the mid-level (`layer3`) features, for SnapMix's Baseline+ head.
            ///
            /// # Errors
            /// [`ModelError::Unsupported`] for a family without mid-level features.
            pub fn mid_channels(&self) -> Result<usize, $crate::ModelError> {
                match self {
                    $(Self::$variant(m) => <$net as $crate::ClassifierFamily>::mid_channels(m)
                        .ok_or_else(|| Family::$variant.unsupported($crate::family::MID_LEVEL)),)+
                }
            }

            /// Logits and the mid-level (`layer3`) features.
            ///
            /// # Shapes
            /// - `images`: `[N, 3, H, W]`; output `([N, K], [N, C3, h, w])`
            ///
            /// # Errors
            /// [`ModelError::Unsupported`] for a family without mid-level features.
            pub fn forward_with_mid(
                &self,
                images: ::burn::prelude::Tensor<4>,
            ) -> Result<(::burn::prelude::Tensor<2>, ::burn::prelude::Tensor<4>), $crate::ModelError> {
                match self {
                    $(Self::$variant(m) => <$net as $crate::ClassifierFamily>::forward_with_mid(m, images)
                        .ok_or_else(|| Family::$variant.unsupported($crate::family::MID_LEVEL)),)+
                }
            }

            /// Logits and the last block's class-token attention over the patches (DeiT),
            /// what TransMix re-weights its target with.
            ///
            /// # Shapes
            /// - `images`: `[N, 3, S, S]`; output `([N, K], [N, heads, L])`, `L` the patches
            ///
            /// # Errors
            /// [`ModelError::Unsupported`] for a network without a class token.
            pub fn forward_with_attention(
                &self,
                images: ::burn::prelude::Tensor<4>,
            ) -> Result<(::burn::prelude::Tensor<2>, ::burn::prelude::Tensor<3>), $crate::ModelError> {
                match self {
                    $(Self::$variant(m) => <$net as $crate::ClassifierFamily>::forward_with_attention(m, images)
                        .ok_or_else(|| Family::$variant.unsupported($crate::family::CLASS_ATTENTION)),)+
                }
            }

            /// Loads a PyTorch checkpoint into the network.
            ///
            /// # Errors
            /// [`ModelError::Unsupported`] for a family without an importer, or the
            /// importer's error.
            pub(crate) fn load_checkpoint(
                &mut self,
                checkpoint: &::std::path::Path,
                options: &$crate::ImportOptions,
            ) -> Result<$crate::ImportReport, $crate::ModelError> {
                let loaded = match self {
                    $(Self::$variant(m) => <$net as $crate::ClassifierFamily>::load_checkpoint(m, checkpoint, options)
                        .ok_or_else(|| Family::$variant.unsupported($crate::family::CHECKPOINT_IMPORT))?,)+
                };
                Ok(loaded?)
            }
        }

        impl ::mixaug_loss::PooledClassifier for Classifier {
            fn pooled(&self, images: ::burn::prelude::Tensor<4>) -> ::burn::prelude::Tensor<2> {
                match self {
                    $(Self::$variant(m) => ::mixaug_loss::PooledClassifier::pooled(m, images),)+
                }
            }

            fn classify(&self, pooled: ::burn::prelude::Tensor<2>) -> ::burn::prelude::Tensor<2> {
                match self {
                    $(Self::$variant(m) => ::mixaug_loss::PooledClassifier::classify(m, pooled),)+
                }
            }
        }

        /// The family's [`CamModel`](::mixaug_maps::CamModel). Where
        /// [`Family::has_cam`] is false (DeiT) the maps exist but the classifier applied to
        /// their spatial mean is not the logits; the runner refuses CAM-guided methods
        /// (SnapMix) on such networks.
        impl ::mixaug_maps::CamModel for Classifier {
            fn cam_features(&self, images: ::burn::prelude::Tensor<4>) -> ::burn::prelude::Tensor<4> {
                match self {
                    $(Self::$variant(m) => ::mixaug_maps::CamModel::cam_features(m, images),)+
                }
            }

            fn cam_classifier(&self) -> ::mixaug_maps::CamClassifier {
                match self {
                    $(Self::$variant(m) => ::mixaug_maps::CamModel::cam_classifier(m),)+
                }
            }
        }
    };
}

/// What [`ModelError::Unsupported`] names for each optional capability.
pub(crate) const MID_LEVEL: &str = "the mid-level head (Baseline+)";
pub(crate) const CLASS_ATTENTION: &str = "class-token attention (TransMix)";
pub(crate) const CHECKPOINT_IMPORT: &str = "checkpoint import";
