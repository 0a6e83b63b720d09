//! [`MixConfig`]: the one place where a configuration becomes a method.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    BatchShape, CutMix, CutMixConfig, CutMixParams, MixError, MixRng, Mixed, MixedTarget, Mixer,
    Mixup, MixupConfig, MixupParams, Pairing, Permutation,
};

/// Any mixing method with its hyper-parameters, as written in an experiment file.
///
/// ```
/// use mixaug_masks::MixConfig;
/// let config: MixConfig = toml::from_str("method = \"cutmix\"\nalpha = 0.2").unwrap();
/// config.validate().unwrap();
/// assert_eq!(config.name(), "cutmix");
/// ```
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum MixConfig {
    /// No mixing (the "vanilla" baseline): images unchanged, target = the labels.
    None,
    /// Mixup (METHODS.md §2).
    Mixup(MixupConfig),
    /// CutMix (METHODS.md §4).
    #[serde(rename = "cutmix")]
    CutMix(CutMixConfig),
}

impl MixConfig {
    /// Every method with its default hyper-parameters, in the order of the docs.
    pub fn all_defaults() -> Vec<MixConfig> {
        vec![
            MixConfig::None,
            MixConfig::Mixup(MixupConfig::default()),
            MixConfig::CutMix(CutMixConfig::default()),
        ]
    }

    /// The method called `name` (as written in configuration files) with its defaults.
    pub fn from_name(name: &str) -> Option<MixConfig> {
        Self::all_defaults().into_iter().find(|c| c.name() == name)
    }

    /// The method's name as written in configuration files.
    pub fn name(&self) -> &'static str {
        match self {
            MixConfig::None => "none",
            MixConfig::Mixup(_) => "mixup",
            MixConfig::CutMix(_) => "cutmix",
        }
    }

    /// Replaces the partner rule of the method (no effect on `none`).
    pub fn set_pairing(&mut self, pairing: Pairing) {
        match self {
            MixConfig::None => {}
            MixConfig::Mixup(c) => c.pairing = pairing,
            MixConfig::CutMix(c) => c.pairing = pairing,
        }
    }

    /// Rejects invalid hyper-parameters before any training starts.
    pub fn validate(&self) -> Result<(), MixError> {
        self.init().map(|_| ())
    }

    /// The validated method.
    pub fn init(&self) -> Result<MixMethod, MixError> {
        Ok(match self {
            MixConfig::None => MixMethod::None,
            MixConfig::Mixup(c) => MixMethod::Mixup(c.init()?),
            MixConfig::CutMix(c) => MixMethod::CutMix(c.init()?),
        })
    }
}

/// A configured method of any kind; it is itself a [`Mixer`] whose parameters are
/// [`MixParams`].
#[derive(Debug, Clone)]
pub enum MixMethod {
    /// No mixing.
    None,
    /// See [`Mixup`].
    Mixup(Mixup),
    /// See [`CutMix`].
    CutMix(CutMix),
}

impl MixMethod {
    /// The method's name as written in configuration files.
    pub fn name(&self) -> &'static str {
        match self {
            MixMethod::None => "none",
            MixMethod::Mixup(_) => "mixup",
            MixMethod::CutMix(_) => "cutmix",
        }
    }
}

/// The parameters of any method.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "method", rename_all = "snake_case")]
pub enum MixParams {
    /// No mixing: π is the identity.
    None {
        /// The identity permutation of the batch.
        perm: Permutation,
    },
    /// See [`MixupParams`].
    Mixup(MixupParams),
    /// See [`CutMixParams`].
    #[serde(rename = "cutmix")]
    CutMix(CutMixParams),
}

impl MixParams {
    fn method_name(&self) -> &'static str {
        match self {
            MixParams::None { .. } => "none",
            MixParams::Mixup(_) => "mixup",
            MixParams::CutMix(_) => "cutmix",
        }
    }
}

impl Mixer for MixMethod {
    type Params = MixParams;

    fn sample(&self, rng: &mut MixRng, batch: BatchShape) -> Result<MixParams, MixError> {
        Ok(match self {
            MixMethod::None => {
                batch.require_mixable()?;
                MixParams::None {
                    perm: Permutation::identity(batch.n),
                }
            }
            MixMethod::Mixup(m) => MixParams::Mixup(m.sample(rng, batch)?),
            MixMethod::CutMix(m) => MixParams::CutMix(m.sample(rng, batch)?),
        })
    }

    fn apply(
        &self,
        params: &MixParams,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
    ) -> Result<Mixed, MixError> {
        match (self, params) {
            (MixMethod::None, MixParams::None { perm }) => {
                BatchShape::of_batch(&images, &labels)?;
                Ok(Mixed {
                    perm: perm.to_tensor(&images.device()),
                    target: MixedTarget::single(labels),
                    images,
                })
            }
            (MixMethod::Mixup(m), MixParams::Mixup(p)) => m.apply(p, images, labels),
            (MixMethod::CutMix(m), MixParams::CutMix(p)) => m.apply(p, images, labels),
            (method, params) => Err(MixError::ParamsMismatch {
                expected: method.name(),
                got: params.method_name(),
            }),
        }
    }
}
