//! [`MixConfig`]: the one place where a configuration becomes a method.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{
    AttentiveMix, AttentiveMixConfig, AttentiveMixParams, BatchShape, CutMix, CutMixConfig,
    CutMixParams, Cutout, CutoutConfig, CutoutParams, FMix, FMixConfig, FMixParams, GridMix,
    GridMixConfig, GridMixParams, Guide, MixError, MixRng, Mixed, MixedExample, MixedExampleConfig,
    MixedExampleKind, MixedExampleParams, MixedTarget, Mixer, Mixup, MixupConfig, MixupParams,
    Needs, Pairing, Permutation, ResizeMix, ResizeMixConfig, ResizeMixParams, Ricap, RicapConfig,
    RicapParams, SaliencyMix, SaliencyMixConfig, SaliencyMixParams, SamplePairing,
    SamplePairingConfig, SamplePairingParams, SmoothMix, SmoothMixConfig, SmoothMixParams, SnapMix,
    SnapMixConfig, SnapMixParams, TransMix, TransMixConfig, TransMixParams,
};

/// Declares the three parallel enums (configuration, method, parameters) from one list of
/// `Variant(config name) = ConfigType => MethodType, ParamsType`, so that adding a method is
/// one line here and every `match` below stays exhaustive.
macro_rules! methods {
    ($($variant:ident($name:literal) = $config:ident => $method:ident, $params:ident;)*) => {
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
            $(
                #[doc = concat!("`method = \"", $name, "\"`: see [`", stringify!($method), "`].")]
                #[serde(rename = $name)]
                $variant($config),
            )*
        }

        /// A configured method of any kind; it is itself a [`Mixer`] whose parameters are
        /// [`MixParams`].
        #[derive(Debug, Clone)]
        pub enum MixMethod {
            /// No mixing.
            None,
            $(
                #[doc = concat!("See [`", stringify!($method), "`].")]
                $variant($method),
            )*
        }

        /// The parameters of any method.
        // One value per batch, moved a handful of times per step: the size spread (RICAP's
        // four patches) costs nothing worth a `Box`.
        #[allow(clippy::large_enum_variant)]
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(tag = "method", rename_all = "snake_case")]
        pub enum MixParams {
            /// No mixing: π is the identity.
            None {
                /// The identity permutation of the batch.
                perm: Permutation,
            },
            $(
                #[doc = concat!("See [`", stringify!($params), "`].")]
                #[serde(rename = $name)]
                $variant($params),
            )*
        }

        impl MixConfig {
            /// One default configuration per variant of this enum.
            fn variant_defaults() -> Vec<MixConfig> {
                vec![MixConfig::None $(, MixConfig::$variant($config::default()))*]
            }

            /// The method's name as written in configuration files.
            pub fn name(&self) -> &'static str {
                match self {
                    MixConfig::None => "none",
                    $(MixConfig::$variant(_) => $name,)*
                }
            }

            /// The validated method.
            pub fn init(&self) -> Result<MixMethod, MixError> {
                Ok(match self {
                    MixConfig::None => MixMethod::None,
                    $(MixConfig::$variant(c) => MixMethod::$variant(c.init()?),)*
                })
            }
        }

        impl MixMethod {
            /// The method's name as written in configuration files.
            pub fn name(&self) -> &'static str {
                match self {
                    MixMethod::None => "none",
                    $(MixMethod::$variant(_) => $name,)*
                }
            }
        }

        impl MixParams {
            fn method_name(&self) -> &'static str {
                match self {
                    MixParams::None { .. } => "none",
                    $(MixParams::$variant(_) => $name,)*
                }
            }
        }

        impl MixConfig {
            /// What the method mixes by besides the images (see [`Mixer::needs`]).
            pub fn needs(&self) -> Needs {
                match self {
                    MixConfig::None => Needs::Nothing,
                    $(MixConfig::$variant(_) => <$method as Mixer>::NEEDS,)*
                }
            }
        }

        impl Mixer for MixMethod {
            type Params = MixParams;

            fn needs(&self) -> Needs {
                match self {
                    MixMethod::None => Needs::Nothing,
                    $(MixMethod::$variant(m) => m.needs(),)*
                }
            }

            fn sample(&self, rng: &mut MixRng, batch: BatchShape) -> Result<MixParams, MixError> {
                Ok(match self {
                    MixMethod::None => {
                        batch.require_mixable()?;
                        MixParams::None {
                            perm: Permutation::identity(batch.n),
                        }
                    }
                    $(MixMethod::$variant(m) => MixParams::$variant(m.sample(rng, batch)?),)*
                })
            }

            fn apply(
                &self,
                params: &MixParams,
                images: Tensor<4>,
                labels: Tensor<1, Int>,
                guide: &Guide,
            ) -> Result<Mixed, MixError> {
                match (self, params) {
                    (MixMethod::None, MixParams::None { perm }) => {
                        let (pairs, images) =
                            $crate::mixer::Pairs::check("none parameters", images, labels, perm, 1)?;
                        pairs.unmixed_target(images)
                    }
                    $((MixMethod::$variant(m), MixParams::$variant(p)) => {
                        m.apply(p, images, labels, guide)
                    })*
                    (method, params) => Err(MixError::ParamsMismatch {
                        expected: method.name(),
                        got: params.method_name(),
                    }),
                }
            }
        }
    };
}

methods! {
    Mixup("mixup") = MixupConfig => Mixup, MixupParams;
    SamplePairing("sample_pairing") = SamplePairingConfig => SamplePairing, SamplePairingParams;
    CutMix("cutmix") = CutMixConfig => CutMix, CutMixParams;
    Cutout("cutout") = CutoutConfig => Cutout, CutoutParams;
    FMix("fmix") = FMixConfig => FMix, FMixParams;
    GridMix("gridmix") = GridMixConfig => GridMix, GridMixParams;
    ResizeMix("resizemix") = ResizeMixConfig => ResizeMix, ResizeMixParams;
    SmoothMix("smoothmix") = SmoothMixConfig => SmoothMix, SmoothMixParams;
    Ricap("ricap") = RicapConfig => Ricap, RicapParams;
    MixedExample("mixed_example") = MixedExampleConfig => MixedExample, MixedExampleParams;
    SaliencyMix("saliencymix") = SaliencyMixConfig => SaliencyMix, SaliencyMixParams;
    SnapMix("snapmix") = SnapMixConfig => SnapMix, SnapMixParams;
    AttentiveMix("attentivemix") = AttentiveMixConfig => AttentiveMix, AttentiveMixParams;
    TransMix("transmix") = TransMixConfig => TransMix, TransMixParams;
}

impl MixMethod {
    /// The guide a method that [`needs`](Mixer::needs) one computed from the host batch
    /// ([`Needs::SaliencyPeaks`]): computed from `images` (the batch's NCHW values, before
    /// upload) for the drawn `params`; `None` for every other method.
    ///
    /// # Shapes
    /// - `images`: `N·C·H·W` values of a batch of shape `batch`
    pub fn host_guide(
        &self,
        params: &MixParams,
        images: &[f32],
        batch: BatchShape,
    ) -> Result<Option<Guide>, MixError> {
        match (self, params) {
            (MixMethod::SaliencyMix(m), MixParams::SaliencyMix(p)) => {
                m.host_guide(p, images, batch).map(Some)
            }
            _ => Ok(None),
        }
    }

    /// [`host_guide`](Self::host_guide) of a batch already on its device: SaliencyMix's
    /// chosen images are read back (outside `apply`); `None` for every other method.
    ///
    /// # Shapes
    /// - `images`: `[N, C, H, W]`
    pub fn device_guide(
        &self,
        params: &MixParams,
        images: &Tensor<4>,
    ) -> Result<Option<Guide>, MixError> {
        match (self, params) {
            (MixMethod::SaliencyMix(m), MixParams::SaliencyMix(p)) => m.guide(p, images).map(Some),
            _ => Ok(None),
        }
    }
}

impl MixMethod {
    /// The target of a method that [`needs`](Mixer::needs) [`Needs::ClassAttention`]
    /// re-weighted by the attention of the forward pass on `mixed.images` (see
    /// [`TransMix::retarget`]).
    ///
    /// # Errors
    /// [`MixError::Guide`] for a method that does not re-weight its target,
    /// [`MixError::ParamsMismatch`] for another method's parameters, and those of
    /// [`TransMix::retarget`].
    ///
    /// # Shapes
    /// - `attention`: `[N, heads, L]`; output `[N, 2]`
    pub fn retarget(
        &self,
        params: &MixParams,
        mixed: &Mixed,
        attention: Tensor<3>,
    ) -> Result<MixedTarget, MixError> {
        match (self, params) {
            (MixMethod::TransMix(m), MixParams::TransMix(p)) => m.retarget(p, mixed, attention),
            (MixMethod::TransMix(_), params) => Err(MixError::ParamsMismatch {
                expected: "transmix",
                got: params.method_name(),
            }),
            (method, _) => Err(MixError::Guide {
                method: method.name(),
                reason: "its target does not depend on attention: only a method that needs \
                         `Needs::ClassAttention` is re-weighted after the forward"
                    .into(),
            }),
        }
    }
}

impl MixConfig {
    /// Every method with its default hyper-parameters, in the order of the docs; the
    /// Summers & Dinneen family contributes one entry per [`MixedExampleKind`].
    pub fn all_defaults() -> Vec<MixConfig> {
        Self::variant_defaults()
            .into_iter()
            .flat_map(|c| match c {
                MixConfig::MixedExample(_) => MixedExampleKind::ALL
                    .iter()
                    .map(|k| MixConfig::MixedExample(MixedExampleConfig::new(*k)))
                    .collect(),
                other => vec![other],
            })
            .collect()
    }

    /// The most specific name of the method: [`name`](Self::name), except for the
    /// Summers & Dinneen family where it is the variant (`vh_mixup`, …).
    pub fn label(&self) -> &'static str {
        match self {
            MixConfig::MixedExample(c) => c.kind.name(),
            other => other.name(),
        }
    }

    /// The method called `name` with its defaults; `name` is a [`label`](Self::label)
    /// (`cutmix`, `vh_mixup`, …) or `mixed_example` (its default variant).
    pub fn from_name(name: &str) -> Option<MixConfig> {
        Self::all_defaults()
            .into_iter()
            .find(|c| c.label() == name)
            .or_else(|| {
                Self::variant_defaults()
                    .into_iter()
                    .find(|c| c.name() == name)
            })
    }

    /// Replaces the partner rule of the method (no effect on methods whose partners are
    /// not a single permutation: `none`, `cutout`, `ricap`).
    pub fn set_pairing(&mut self, pairing: Pairing) {
        match self {
            MixConfig::None | MixConfig::Cutout(_) | MixConfig::Ricap(_) => {}
            MixConfig::MixedExample(c) => c.pairing = pairing,
            MixConfig::Mixup(c) => c.pairing = pairing,
            MixConfig::SamplePairing(c) => c.pairing = pairing,
            MixConfig::CutMix(c) => c.pairing = pairing,
            MixConfig::FMix(c) => c.pairing = pairing,
            MixConfig::GridMix(c) => c.pairing = pairing,
            MixConfig::ResizeMix(c) => c.pairing = pairing,
            MixConfig::SmoothMix(c) => c.pairing = pairing,
            MixConfig::SaliencyMix(c) => c.pairing = pairing,
            MixConfig::SnapMix(c) => c.pairing = pairing,
            MixConfig::AttentiveMix(c) => c.pairing = pairing,
            MixConfig::TransMix(c) => c.pairing = pairing,
        }
    }

    /// Rejects invalid hyper-parameters before any training starts.
    pub fn validate(&self) -> Result<(), MixError> {
        self.init().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AttentiveMixConfig, RatioDraw};

    /// `config` with its concentration (`alpha` or `beta`) set to `value`, through the
    /// experiment-file form.
    fn with_concentration(config: &MixConfig, key: &str, value: f64) -> MixConfig {
        let mut table = toml::Table::try_from(config).unwrap();
        assert!(table.contains_key(key), "{config:?} has no `{key}`");
        table.insert(key.into(), toml::Value::Float(value));
        table.try_into().unwrap()
    }

    /// The concentration of every method (found in its serialized form, so a new method's
    /// is covered too): negative is a typed error naming the field, 0 means λ = 1 and is
    /// accepted (RICAP's β, a boundary draw, must be positive).
    #[test]
    fn negative_concentrations_are_rejected_and_zero_is_accepted() {
        let mut checked = Vec::new();
        for config in MixConfig::variant_defaults() {
            let table = toml::Table::try_from(&config).unwrap();
            for key in ["alpha", "beta"] {
                if !table.contains_key(key) {
                    continue;
                }
                let field = format!("{}.{key}", config.name());
                match with_concentration(&config, key, -0.5).validate() {
                    Err(MixError::InvalidHyperParameter { name, value, .. }) => {
                        assert_eq!((name, value), (field.as_str(), -0.5));
                    }
                    other => panic!("{field} = -0.5 gave {other:?}"),
                }
                let zero = with_concentration(&config, key, 0.0).validate();
                if config.name() == "ricap" {
                    assert!(
                        matches!(
                            zero,
                            Err(MixError::InvalidHyperParameter {
                                name: "ricap.beta",
                                ..
                            })
                        ),
                        "{zero:?}"
                    );
                } else {
                    assert_eq!(zero, Ok(()), "{field} = 0");
                }
                checked.push(field);
            }
        }
        checked.sort();
        assert_eq!(
            checked,
            [
                "attentivemix.alpha",
                "cutmix.alpha",
                "fmix.alpha",
                "gridmix.alpha",
                "mixup.alpha",
                "resizemix.alpha",
                "ricap.beta",
                "saliencymix.beta",
                "snapmix.beta",
                "transmix.alpha",
            ]
        );
        // The typed builders say the same.
        assert!(matches!(
            MixupConfig::new().with_alpha(-1.0).validate(),
            Err(MixError::InvalidHyperParameter {
                name: "mixup.alpha",
                ..
            })
        ));
        assert!(matches!(
            AttentiveMixConfig::new().with_alpha(-1e-9).validate(),
            Err(MixError::InvalidHyperParameter {
                name: "attentivemix.alpha",
                ..
            })
        ));
        assert_eq!(CutMixConfig::new().with_alpha(0.0).validate(), Ok(()));
        // Mixed-example's optional Beta ratio draw (split positions too) must be positive.
        for alpha in [-0.5, 0.0] {
            let config = MixConfig::MixedExample(
                MixedExampleConfig::new(MixedExampleKind::VhMixup)
                    .with_ratio(RatioDraw::Beta { alpha }),
            );
            assert!(
                matches!(
                    config.validate(),
                    Err(MixError::InvalidHyperParameter { name: "mixed_example.ratio.alpha", value, .. }) if value == alpha
                ),
                "{config:?}"
            );
        }
    }

    /// α = 0 really means no mixing: λ = 1.
    #[test]
    fn zero_alpha_draws_lambda_one() {
        let method = MixConfig::Mixup(MixupConfig::new().with_alpha(0.0))
            .init()
            .unwrap();
        match Mixer::sample(
            &method,
            &mut MixRng::from_seed(3),
            BatchShape::new(4, 1, 2, 2),
        ) {
            Ok(MixParams::Mixup(p)) => assert!(p.lam.iter().all(|&l| l == 1.0), "{p:?}"),
            other => panic!("unexpected {other:?}"),
        }
    }
}
