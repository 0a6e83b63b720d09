//! [`ModelSpec`]: a network described by name in a configuration file, looked up in
//! [`ARCHITECTURES`], the one table of the names the workspace knows (the runner's
//! experiments and tables, `mixaug cam` and the benches all read it), and given the options
//! its family takes ([`SpecOption`]).
//!
//! The names live with their family: a new network of an existing family is one line of the
//! family's [`ARCHITECTURES`](crate::ClassifierFamily::ARCHITECTURES); a new family is its
//! own file plus two lines of `lib.rs` (see [`ClassifierFamily`](crate::ClassifierFamily)).

use std::path::{Path, PathBuf};

use burn::prelude::*;
use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::{
    ARCHITECTURES, ArchConfig, Classifier, DeitConfigError, Family, ImageShapeError, ImportError,
    ImportOptions, Stem, SwinConfigError,
};

/// One named architecture.
#[derive(Debug, Clone, Copy)]
pub struct Architecture {
    /// The name configuration files use (timm's or torchvision's where they have one).
    pub name: &'static str,
    /// Its configuration for a number of classes.
    pub config: fn(usize) -> ArchConfig,
}

impl Architecture {
    /// `name` with its configuration for a number of classes.
    pub const fn new(name: &'static str, config: fn(usize) -> ArchConfig) -> Self {
        Self { name, config }
    }
}

/// The families' tables of architectures, one after the other: what makes the crate's
/// [`ARCHITECTURES`] (`N`, their total length, is computed by the `families!` macro).
pub(crate) const fn concat_architectures<const N: usize>(
    tables: &[&[Architecture]],
) -> [Architecture; N] {
    let mut all = [tables[0][0]; N];
    let (mut t, mut i) = (0, 0);
    while t < tables.len() {
        let mut j = 0;
        while j < tables[t].len() {
            all[i] = tables[t][j];
            (i, j) = (i + 1, j + 1);
        }
        t += 1;
    }
    assert!(i == N, "N is the total length of the tables");
    all
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
    /// A batch of images the network does not take: empty, of another channel count than
    /// its stem, or of another size than a vision transformer was configured for.
    #[error(transparent)]
    ImageShape(#[from] ImageShapeError),
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
        self.architecture()?.apply_spec(self)
    }

    /// Refuses the options set in the spec that `family` does not take (`taken`), in the
    /// order of [`SpecOption::ALL`].
    pub(crate) fn refuse_options(
        &self,
        family: Family,
        taken: &[SpecOption],
    ) -> Result<(), ModelError> {
        match SpecOption::ALL
            .into_iter()
            .find(|option| option.is_set(self) && !taken.contains(option))
        {
            Some(option) => Err(family.unsupported(option.refusal())),
            None => Ok(()),
        }
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
            _ => self.config()?.init(device),
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
        let mut model = self.config()?.init(device)?;
        model.load_checkpoint(checkpoint, options)?;
        Ok(model)
    }
}

/// An option of [`ModelSpec`] that only some families take. A family lists those it takes
/// ([`SPEC_OPTIONS`](crate::ClassifierFamily::SPEC_OPTIONS)); [`ModelSpec::config`] refuses
/// the others when they are set, so a family never ignores one silently. (`stem` and
/// `base_width` always have a value: the ResNet family reads them, the others leave them.)
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpecOption {
    /// [`ModelSpec::dropout`] other than 0.
    Dropout,
    /// [`ModelSpec::zero_init_residual`] true.
    ZeroInitResidual,
    /// [`ModelSpec::layers`] given.
    Layers,
    /// [`ModelSpec::image_size`] given.
    ImageSize,
    /// [`ModelSpec::drop_path`] other than 0.
    DropPath,
}

impl SpecOption {
    /// Every option, in the order they are checked.
    pub const ALL: [Self; 5] = [
        Self::Dropout,
        Self::ZeroInitResidual,
        Self::Layers,
        Self::ImageSize,
        Self::DropPath,
    ];

    /// Whether `spec` sets the option.
    pub fn is_set(self, spec: &ModelSpec) -> bool {
        match self {
            Self::Dropout => spec.dropout != 0.0,
            Self::ZeroInitResidual => spec.zero_init_residual,
            Self::Layers => spec.layers.is_some(),
            Self::ImageSize => spec.image_size.is_some(),
            Self::DropPath => spec.drop_path != 0.0,
        }
    }

    /// What [`ModelError::Unsupported`] names when a family does not take the option.
    fn refusal(self) -> &'static str {
        match self {
            Self::Dropout => "model.dropout",
            Self::ZeroInitResidual => "model.zero_init_residual",
            Self::Layers => "model.layers",
            Self::ImageSize => "model.image_size (the network takes images of any size)",
            Self::DropPath => "model.drop_path",
        }
    }
}
