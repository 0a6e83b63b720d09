//! [`ModelSpec`]: a network described by name in a configuration file, and
//! [`ARCHITECTURES`], the one table of the names the workspace knows (the runner's
//! experiments and tables, `mixaug cam` and the benches all read it).
//!
//! Adding a network of an existing family is one line of [`ARCHITECTURES`]; a new family
//! is its own file plus a variant of [`ArchConfig`] and [`Classifier`] (whose exhaustive
//! matches then say what else it must answer).

use std::fmt;
use std::path::{Path, PathBuf};

use burn::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{
    Classifier, DeitConfig, DeitConfigError, ImportError, ImportOptions, PreActNetConfig,
    ResNetConfig, Stem, SwinConfig, SwinConfigError, load_pytorch,
};

/// The families of networks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// ResNet-18/34/50/101 and ResNeXt-50 ([`crate::ResNet`]).
    ResNet,
    /// PreAct-ResNet-18 and WideResNet-28-k ([`crate::PreActNet`]).
    PreAct,
    /// DeiT ([`crate::Deit`]).
    Deit,
    /// Swin Transformer ([`crate::Swin`]).
    Swin,
}

impl Family {
    /// Whether the network's classifier is a linear layer on the spatial mean of a feature
    /// map, so that class activation maps (CAM, SnapMix's percent maps) are defined.
    pub fn has_cam(self) -> bool {
        match self {
            Self::ResNet | Self::PreAct | Self::Swin => true,
            Self::Deit => false,
        }
    }

    /// Whether the network is a vision transformer (fixed input size, no stem).
    pub fn is_transformer(self) -> bool {
        match self {
            Self::Deit | Self::Swin => true,
            Self::ResNet | Self::PreAct => false,
        }
    }

    pub(crate) fn unsupported(self, what: &'static str) -> ModelError {
        ModelError::Unsupported { what, family: self }
    }
}

impl fmt::Display for Family {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::ResNet => "ResNet family",
            Self::PreAct => "pre-activation ResNet family",
            Self::Deit => "DeiT",
            Self::Swin => "Swin",
        })
    }
}

/// A family's configuration, before the [`ModelSpec`]'s options are applied.
#[derive(Debug)]
pub enum ArchConfig {
    /// [`crate::ResNet`].
    ResNet(ResNetConfig),
    /// [`crate::PreActNet`].
    PreAct(PreActNetConfig),
    /// [`crate::Deit`].
    Deit(DeitConfig),
    /// [`crate::Swin`].
    Swin(SwinConfig),
}

impl ArchConfig {
    /// The family.
    pub fn family(&self) -> Family {
        match self {
            Self::ResNet(_) => Family::ResNet,
            Self::PreAct(_) => Family::PreAct,
            Self::Deit(_) => Family::Deit,
            Self::Swin(_) => Family::Swin,
        }
    }
}

/// One named architecture.
#[derive(Debug, Clone, Copy)]
pub struct Architecture {
    /// The name configuration files use (timm's or torchvision's where they have one).
    pub name: &'static str,
    /// Its configuration for a number of classes.
    pub config: fn(usize) -> ArchConfig,
}

/// Every architecture name the workspace knows.
pub const ARCHITECTURES: &[Architecture] = &[
    arch("resnet18", |k| {
        ArchConfig::ResNet(ResNetConfig::resnet18(k))
    }),
    arch("resnet34", |k| {
        ArchConfig::ResNet(ResNetConfig::resnet34(k))
    }),
    arch("resnet50", |k| {
        ArchConfig::ResNet(ResNetConfig::resnet50(k))
    }),
    arch("resnet101", |k| {
        ArchConfig::ResNet(ResNetConfig::resnet101(k))
    }),
    arch("resnext50_32x4d", |k| {
        ArchConfig::ResNet(ResNetConfig::resnext50_32x4d(k))
    }),
    arch("preact_resnet18", |k| {
        ArchConfig::PreAct(PreActNetConfig::preact_resnet18(k))
    }),
    arch("wrn28_8", |k| {
        ArchConfig::PreAct(PreActNetConfig::wide_resnet28(8, k))
    }),
    arch("wrn28_10", |k| {
        ArchConfig::PreAct(PreActNetConfig::wide_resnet28(10, k))
    }),
    arch("deit_small_patch16_224", |k| {
        ArchConfig::Deit(DeitConfig::deit_small(k))
    }),
    arch("swin_tiny_patch4_window7_224", |k| {
        ArchConfig::Swin(SwinConfig::swin_tiny(k))
    }),
];

const fn arch(name: &'static str, config: fn(usize) -> ArchConfig) -> Architecture {
    Architecture { name, config }
}

/// The names of [`ARCHITECTURES`], comma-separated (for messages and help).
pub fn architecture_names() -> String {
    ARCHITECTURES
        .iter()
        .map(|a| a.name)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Why a [`ModelSpec`] cannot give a network.
#[derive(Debug, Error)]
pub enum ModelError {
    /// The architecture name is not in [`ARCHITECTURES`].
    #[error("model.arch: unknown architecture `{name}` (known: {known})")]
    UnknownArch {
        /// The name asked for.
        name: String,
        /// The known names.
        known: String,
    },
    /// An option has a value the network cannot take.
    #[error("model.{field}: {reason}")]
    InvalidOption {
        /// The option.
        field: &'static str,
        /// Why.
        reason: String,
    },
    /// An option or capability the family does not have.
    #[error("{what} is not available for the {family}")]
    Unsupported {
        /// What was asked.
        what: &'static str,
        /// The network's family.
        family: Family,
    },
    /// DeiT's configuration is invalid.
    #[error(transparent)]
    Deit(#[from] DeitConfigError),
    /// Swin's configuration is invalid.
    #[error(transparent)]
    Swin(#[from] SwinConfigError),
    /// The pretrained checkpoint could not be loaded.
    #[error("model.pretrained: {0}")]
    Import(#[from] ImportError),
}

/// A network by name, as experiment files write it:
///
/// ```toml
/// [model]
/// arch = "resnet18"        # a name of ARCHITECTURES
/// stem = "cifar"
/// num_classes = 100
/// ```
///
/// ```
/// use burn::prelude::*;
/// use mixaug_models::{Family, ModelSpec};
/// let spec = ModelSpec::named("resnet18", 10).with_base_width(8);
/// let model = spec.init(&Device::flex(), true).unwrap();
/// assert_eq!(model.family(), Family::ResNet);
/// let logits = model.forward(Tensor::<4>::zeros([2, 3, 16, 12], &Device::flex()));
/// assert_eq!(logits.dims(), [2, 10]);
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSpec {
    /// A name of [`ARCHITECTURES`].
    pub arch: String,
    /// Stem of the ResNet family. Default: CIFAR (3×3 stride 1, no max-pool).
    #[serde(default = "cifar_stem")]
    pub stem: Stem,
    /// Stem channels of the ResNet family. Default 64 (torchvision).
    #[serde(default = "default_width")]
    pub base_width: usize,
    /// Zero-initialise the last BatchNorm of each residual block (ResNet family; the
    /// openmixup CIFAR recipes). Default false.
    #[serde(default)]
    pub zero_init_residual: bool,
    /// Dropout inside the blocks of the pre-activation nets (WRN recipes: 0.3). Default 0.
    #[serde(default)]
    pub dropout: f64,
    /// Classes.
    pub num_classes: usize,
    /// A checkpoint (`.pth`, `.safetensors`; torchvision's layout for the ResNet family,
    /// timm's for DeiT and Swin) to start from, its classifier replaced by a new one for `num_classes`. Default:
    /// random initialisation.
    #[serde(default)]
    pub pretrained: Option<PathBuf>,
    /// Side of the square input of a vision transformer. Default: the architecture's
    /// (224).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_size: Option<usize>,
    /// Blocks per stage of the ResNet family, overriding the architecture's (narrow test
    /// networks). Default: the architecture's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub layers: Option<[usize; 4]>,
    /// Stochastic depth of a vision transformer's last block (timm's `drop_path_rate`,
    /// linear over the blocks). Default 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub drop_path: f64,
}

fn is_zero(value: &f64) -> bool {
    *value == 0.0
}

fn cifar_stem() -> Stem {
    Stem::Cifar
}

fn default_width() -> usize {
    64
}

impl ModelSpec {
    /// `arch` with `num_classes` classes and every other option at its default.
    pub fn named(arch: impl Into<String>, num_classes: usize) -> Self {
        Self {
            arch: arch.into(),
            stem: cifar_stem(),
            base_width: default_width(),
            zero_init_residual: false,
            dropout: 0.0,
            num_classes,
            pretrained: None,
            image_size: None,
            layers: None,
            drop_path: 0.0,
        }
    }

    /// With another stem (ResNet family).
    pub fn with_stem(mut self, stem: Stem) -> Self {
        self.stem = stem;
        self
    }

    /// With another stem width (ResNet family).
    pub fn with_base_width(mut self, base_width: usize) -> Self {
        self.base_width = base_width;
        self
    }

    /// Starting from a checkpoint.
    pub fn with_pretrained(mut self, path: impl Into<PathBuf>) -> Self {
        self.pretrained = Some(path.into());
        self
    }

    /// The family of the named architecture.
    ///
    /// # Errors
    /// [`ModelError::UnknownArch`].
    pub fn family(&self) -> Result<Family, ModelError> {
        Ok(self.architecture()?.family())
    }

    fn architecture(&self) -> Result<ArchConfig, ModelError> {
        ARCHITECTURES
            .iter()
            .find(|a| a.name == self.arch)
            .map(|a| (a.config)(self.num_classes))
            .ok_or_else(|| ModelError::UnknownArch {
                name: self.arch.clone(),
                known: architecture_names(),
            })
    }

    /// The family configuration with every option of the spec applied, checked.
    ///
    /// # Errors
    /// An unknown name, an option the family does not take, or a value it cannot use.
    pub fn config(&self) -> Result<ArchConfig, ModelError> {
        let invalid = |field, reason: String| ModelError::InvalidOption { field, reason };
        if self.num_classes == 0 {
            return Err(invalid("num_classes", "must be positive".into()));
        }
        if self.base_width == 0 {
            return Err(invalid("base_width", "must be positive".into()));
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return Err(invalid(
                "dropout",
                format!("must be in [0, 1), got {}", self.dropout),
            ));
        }
        let config = self.architecture()?;
        let family = config.family();
        let refuse = |set: bool, what| {
            if set {
                Err(family.unsupported(what))
            } else {
                Ok(())
            }
        };
        refuse(
            self.dropout != 0.0 && family != Family::PreAct,
            "model.dropout",
        )?;
        refuse(
            self.zero_init_residual && family != Family::ResNet,
            "model.zero_init_residual",
        )?;
        refuse(
            self.layers.is_some() && family != Family::ResNet,
            "model.layers",
        )?;
        refuse(
            self.image_size.is_some() && !family.is_transformer(),
            "model.image_size (convolutional networks take any size)",
        )?;
        refuse(
            self.drop_path != 0.0 && !family.is_transformer(),
            "model.drop_path",
        )?;
        let config = match config {
            ArchConfig::ResNet(c) => {
                let mut c = c
                    .with_stem(self.stem)
                    .with_base_width(self.base_width)
                    .with_zero_init_residual(self.zero_init_residual);
                if let Some(layers) = self.layers {
                    c.layers = layers;
                }
                ArchConfig::ResNet(c)
            }
            ArchConfig::PreAct(c) => ArchConfig::PreAct(c.with_dropout(self.dropout)),
            ArchConfig::Deit(c) => {
                let c = match self.image_size {
                    Some(size) => c.with_image_size(size),
                    None => c,
                }
                .with_drop_path_rate(self.drop_path);
                c.validate()?;
                ArchConfig::Deit(c)
            }
            ArchConfig::Swin(c) => {
                let c = match self.image_size {
                    Some(size) => c.with_image_size(size),
                    None => c,
                }
                .with_drop_path_rate(self.drop_path);
                c.validate()?;
                ArchConfig::Swin(c)
            }
        };
        Ok(config)
    }

    /// Builds the network on `device`, loading [`Self::pretrained`] with a new classifier
    /// unless `skip_pretrained` (smoke runs without the checkpoint).
    ///
    /// # Errors
    /// What [`Self::config`] refuses, or a checkpoint that does not load.
    pub fn init(&self, device: &Device, skip_pretrained: bool) -> Result<Classifier, ModelError> {
        match (&self.pretrained, skip_pretrained) {
            (Some(path), false) => {
                let options = ImportOptions {
                    replace_classifier: true,
                    ..ImportOptions::default()
                };
                self.load(path, &options, device)
            }
            _ => self.build(device),
        }
    }

    /// Builds the network on `device` and loads `checkpoint` into it with `options` (e.g.
    /// strictly, classifier included, for a trained network's class activation maps).
    ///
    /// # Errors
    /// What [`Self::config`] refuses, a family without checkpoint import, or a checkpoint
    /// that does not load.
    pub fn load(
        &self,
        checkpoint: &Path,
        options: &ImportOptions,
        device: &Device,
    ) -> Result<Classifier, ModelError> {
        let mut model = self.build(device)?;
        match &mut model {
            Classifier::ResNet(m) => {
                load_pytorch(m, checkpoint, options)?;
            }
            Classifier::Deit(m) => {
                load_pytorch(m, checkpoint, options)?;
            }
            Classifier::Swin(m) => {
                load_pytorch(m, checkpoint, options)?;
            }
            Classifier::PreAct(_) => {
                return Err(model.family().unsupported("checkpoint import"));
            }
        }
        Ok(model)
    }

    /// The network with random initialisation.
    fn build(&self, device: &Device) -> Result<Classifier, ModelError> {
        Ok(match self.config()? {
            ArchConfig::ResNet(c) => Classifier::ResNet(c.init(device)),
            ArchConfig::PreAct(c) => Classifier::PreAct(c.init(device)),
            ArchConfig::Deit(c) => Classifier::Deit(c.try_init(device)?),
            ArchConfig::Swin(c) => Classifier::Swin(c.try_init(device)?),
        })
    }
}
