//! The [`Mixer`] contract — a host-side `sample` and a device-side `apply` that receives
//! the guide the method asked for — and the preamble every method shares: the batch's
//! checks, the probability gate and the pairing (sampling), the parameters' fit and the
//! mixed target (applying).

use std::fmt::Debug;

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{BatchShape, MixError, MixRng, MixedTarget, Pairing, Permutation, Pixel};

/// A mixing method, split in two halves (kornia's sampling apart from its application).
///
/// 1. [`sample`](Mixer::sample) draws everything random (λ, π, boxes, …) on the host from
///    a [`MixRng`] into a plain `Params` value that can be printed, stored, compared
///    exactly across backends and replayed.
/// 2. [`apply`](Mixer::apply) is pure tensor work on the images' device: it builds the
///    masks batched over `N` and returns the mixed images, the [`MixedTarget`] and π.
///    Guided methods say in [`needs`](Mixer::needs) which [`Guide`] they mix by; the
///    caller computes it (with `mixaug-maps`, from the host batch or a model) and hands
///    it to `apply`. Input-only methods take [`Guide::None`].
///
/// ```
/// use burn::prelude::*;
/// use mixaug_masks::{BatchShape, CutMixConfig, Guide, Mixer, MixRng, Needs};
/// let device = Device::flex();
/// let images = Tensor::<4>::ones([4, 3, 8, 12], &device);
/// let labels = Tensor::<1, Int>::from_ints([0, 1, 2, 3], &device);
/// let cutmix = CutMixConfig::new().with_alpha(1.0).init().unwrap();
/// assert_eq!(cutmix.needs(), Needs::Nothing);
/// let params = cutmix.sample(&mut MixRng::from_seed(0), BatchShape::new(4, 3, 8, 12)).unwrap();
/// let mixed = cutmix.apply(&params, images, labels, &Guide::None).unwrap();
/// assert_eq!(mixed.images.dims(), [4, 3, 8, 12]);
/// assert_eq!(mixed.target.num_sources(), 2);
/// ```
pub trait Mixer {
    /// Everything the method draws at random for one batch.
    type Params: Clone + Debug + PartialEq;

    /// What the method mixes by besides the images. Default: nothing.
    const NEEDS: Needs = Needs::Nothing;

    /// What this method mixes by besides the images ([`Mixer::NEEDS`] of its type).
    fn needs(&self) -> Needs {
        Self::NEEDS
    }

    /// Draws the parameters for a batch of this shape.
    fn sample(&self, rng: &mut MixRng, batch: BatchShape) -> Result<Self::Params, MixError>;

    /// Mixes a batch with given parameters and the guide of [`needs`](Mixer::needs)
    /// ([`Guide::None`] for input-only methods; a guided method without its guide is
    /// [`MixError::GuideRequired`]).
    ///
    /// # Shapes
    /// - `images`: `[N, C, H, W]`
    /// - `labels`: `[N]`
    /// - the guide's maps: `[N, H, W]` (percent maps) or `[N, h, w]` (attention)
    fn apply(
        &self,
        params: &Self::Params,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
        guide: &Guide,
    ) -> Result<Mixed, MixError>;

    /// [`sample`](Mixer::sample) then [`apply`](Mixer::apply) without a guide: the one
    /// call an input-only method needs.
    ///
    /// # Shapes
    /// - `images`: `[N, C, H, W]`
    /// - `labels`: `[N]`
    fn mix(
        &self,
        rng: &mut MixRng,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
    ) -> Result<Mixed, MixError> {
        let batch = BatchShape::of_batch(&images, &labels)?;
        let params = self.sample(rng, batch)?;
        self.apply(&params, images, labels, &Guide::None)
    }
}

/// A method built from its configuration: `Config::init` (validate, then keep a copy),
/// `Method::config`, and the configuration's builder setters `with_field(value)` for the
/// listed fields, each documented by the field it sets.
macro_rules! configured {
    ($method:ident($config:ident) { $($setter:ident => $field:ident: $ty:ty),* $(,)? }) => {
        impl $config {
            $(
                #[doc = concat!("Sets [`", stringify!($field), "`](Self::", stringify!($field), ").")]
                pub fn $setter(mut self, $field: $ty) -> Self {
                    self.$field = $field;
                    self
                }
            )*

            #[doc = concat!("A validated [`", stringify!($method), "`].")]
            pub fn init(&self) -> Result<$method, $crate::MixError> {
                self.validate()?;
                Ok($method {
                    config: self.clone(),
                })
            }
        }

        impl $method {
            /// The configuration this mixer was built from.
            pub fn config(&self) -> &$config {
                &self.config
            }
        }
    };
}
pub(crate) use configured;

/// What a method mixes by besides the images.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// Nothing: an input-only method.
    Nothing,
    /// SaliencyMix: the saliency peaks of the partners, computed on the host from the
    /// batch before it is uploaded (`SaliencyMix::host_guide`).
    SaliencyPeaks,
    /// SnapMix: the semantic percent maps of the un-mixed batch under the trained model
    /// (`mixaug_maps::semantic_percent_maps`).
    PercentMaps,
    /// AttentiveMix: a frozen teacher's attention grids (`mixaug_maps::AttentionConfig`).
    Attention,
    /// TransMix: the class-token attention of the network being trained, from its forward
    /// pass on the **mixed** images. `apply` takes [`Guide::None`]; the attention re-weights
    /// the target after the forward (`TransMix::retarget`, `MixMethod::retarget`).
    ClassAttention,
}

impl Needs {
    /// The guide, in words (for errors).
    pub fn describe(&self) -> &'static str {
        match self {
            Needs::Nothing => "nothing",
            Needs::SaliencyPeaks => "the partners' saliency peaks (`Guide::SaliencyPeaks`)",
            Needs::PercentMaps => "semantic percent maps (`Guide::PercentMaps`)",
            Needs::Attention => "a teacher's attention grids (`Guide::Attention`)",
            Needs::ClassAttention => {
                "the trained network's class-token attention on the mixed images, after the \
                 forward (`MixMethod::retarget`)"
            }
        }
    }
}

/// What a guided method mixes by, handed to [`Mixer::apply`].
#[derive(Debug, Clone, Default)]
pub enum Guide {
    /// No guide (input-only methods).
    #[default]
    None,
    /// Box centres: one for the batch, or one per sample.
    SaliencyPeaks(Vec<Pixel>),
    /// Semantic percent maps, `[N, H, W]`.
    PercentMaps(Tensor<3>),
    /// Attention grids, `[N, h, w]`.
    Attention(Tensor<3>),
}

impl Guide {
    /// The peaks, or [`MixError::GuideRequired`] naming `method`.
    pub(crate) fn saliency_peaks(&self, method: &'static str) -> Result<&[Pixel], MixError> {
        match self {
            Guide::SaliencyPeaks(peaks) => Ok(peaks),
            _ => Err(required(method, Needs::SaliencyPeaks)),
        }
    }

    /// The percent maps, or [`MixError::GuideRequired`] naming `method`.
    pub(crate) fn percent_maps(&self, method: &'static str) -> Result<&Tensor<3>, MixError> {
        match self {
            Guide::PercentMaps(maps) => Ok(maps),
            _ => Err(required(method, Needs::PercentMaps)),
        }
    }

    /// The attention grids, or [`MixError::GuideRequired`] naming `method`.
    pub(crate) fn attention(&self, method: &'static str) -> Result<&Tensor<3>, MixError> {
        match self {
            Guide::Attention(maps) => Ok(maps),
            _ => Err(required(method, Needs::Attention)),
        }
    }
}

fn required(method: &'static str, needs: Needs) -> MixError {
    MixError::GuideRequired {
        method,
        needs: needs.describe(),
    }
}

/// The output of a mixer.
#[derive(Debug, Clone)]
pub struct Mixed {
    /// The mixed images, `[N, C, H, W]`.
    pub images: Tensor<4>,
    /// What each mixed image should be classified as.
    pub target: MixedTarget,
    /// The permutation π, `[N]`: the partner of sample `i` is `perm[i]` (SUMix needs it).
    pub perm: Tensor<1, Int>,
}

impl Mixed {
    /// The mixed batch on the autodiff device over its tensors' device
    /// ([`Tensor::autodiff`]; no copy). Mixing needs no gradient: a training step mixes the
    /// batch where it was uploaded, on the plain device (where the `flex` feature's fused
    /// loops apply), and lifts the result for the forward pass.
    pub fn autodiff(self) -> Self {
        Self {
            images: self.images.autodiff(),
            target: self.target.autodiff(),
            perm: self.perm.autodiff(),
        }
    }
}

/// Whether a method draws one λ for the batch (the references) or one per sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LamMode {
    /// One λ (and one box) shared by the whole batch, as every reference does.
    #[default]
    PerBatch,
    /// An independent λ (and box) for every sample.
    PerSample,
}

impl LamMode {
    /// How many draws a batch of `n` needs.
    pub fn draws(&self, n: usize) -> usize {
        match self {
            LamMode::PerBatch => 1,
            LamMode::PerSample => n,
        }
    }

    /// The λs of a batch of `n`: [`draws`](Self::draws) values of `Beta(α, α)` when
    /// `mixing`, else as many 1s.
    pub(crate) fn lams(&self, rng: &mut MixRng, alpha: f64, n: usize, mixing: bool) -> Vec<f64> {
        (0..self.draws(n))
            .map(|_| if mixing { rng.beta(alpha) } else { 1.0 })
            .collect()
    }
}

/// The start of every pairing method's draws: the batch must hold two images, then the
/// probability gate (one draw), the method's first draws (`first(rng, mixing)`) and the
/// partners, in this order.
pub(crate) fn open_pairs<T>(
    rng: &mut MixRng,
    batch: BatchShape,
    prob: f64,
    pairing: Pairing,
    first: impl FnOnce(&mut MixRng, bool) -> T,
) -> Result<(T, Permutation), MixError> {
    batch.require_mixable()?;
    let mixing = rng.gate(prob);
    let first = first(rng, mixing);
    let perm = pairing.draw(rng, batch.n);
    Ok((first, perm))
}

/// A batch checked for applying a pairing method's parameters: one label per image, at
/// least two images, a permutation of `N` and one or `N` draws. Each method mixes the
/// images it hands back, then finishes with the target ([`mixed`](Self::mixed) or
/// [`mixed_with`](Self::mixed_with)).
pub(crate) struct Pairs<'a> {
    pub batch: BatchShape,
    labels: Tensor<1, Int>,
    perm: &'a Permutation,
}

impl<'a> Pairs<'a> {
    /// Checks `images` and `labels` against parameters of `method` with partners `perm`
    /// and `draws` per-batch or per-sample values.
    ///
    /// # Shapes
    /// - `images`: `[N, C, H, W]`; `labels`: `[N]`
    pub fn check(
        method: &'static str,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
        perm: &'a Permutation,
        draws: usize,
    ) -> Result<(Self, Tensor<4>), MixError> {
        BatchShape::of_batch(&images, &labels)?;
        Self::check_labelled(method, images, labels, perm, draws)
    }

    /// [`check`](Self::check) without the two-image minimum (Cutout erases single images).
    ///
    /// # Shapes
    /// - `images`: `[N, C, H, W]`; `labels`: `[N]`
    pub fn check_labelled(
        method: &'static str,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
        perm: &'a Permutation,
        draws: usize,
    ) -> Result<(Self, Tensor<4>), MixError> {
        let batch = BatchShape::of_labelled(&images, &labels)?;
        if perm.len() != batch.n || (draws != 1 && draws != batch.n) {
            return Err(MixError::ShapeMismatch {
                what: method,
                expected: format!("parameters for a batch of {}", batch.n),
                got: format!("a permutation of {} with {draws} draw(s)", perm.len()),
            });
        }
        let pairs = Self {
            batch,
            labels,
            perm,
        };
        Ok((pairs, images))
    }

    /// The partner of each sample.
    pub fn partners(&self) -> &'a [usize] {
        self.perm.as_slice()
    }

    /// The labels.
    pub fn labels(&self) -> Tensor<1, Int> {
        self.labels.clone()
    }

    /// The images' device.
    pub fn device(&self) -> Device {
        self.labels.device()
    }

    /// The mixed batch with the pair target `(y, y[π])` from host values: base weights
    /// `w_a` (one for the batch or one per sample), partner weights `1 − w_a`.
    pub fn mixed(self, images: Tensor<4>, w_a: &[f64]) -> Result<Mixed, MixError> {
        let partners = self.partners();
        let target = host_target(self.labels.clone(), 2, |i, k| {
            let w = w_a[i.min(w_a.len() - 1)] as f32;
            if k == 0 {
                (i, w)
            } else {
                (partners[i], 1.0 - w)
            }
        })?;
        self.finish(images, target)
    }

    /// The mixed batch with the target `target(y, π)` builds on the device.
    pub fn mixed_with(
        self,
        images: Tensor<4>,
        target: impl FnOnce(Tensor<1, Int>, &Tensor<1, Int>) -> Result<MixedTarget, MixError>,
    ) -> Result<Mixed, MixError> {
        let perm = self.perm.to_tensor(&self.device());
        let target = target(self.labels, &perm)?;
        Ok(Mixed {
            images,
            target,
            perm,
        })
    }

    /// The batch with its labels as the target (weight 1 each).
    pub fn unmixed_target(self, images: Tensor<4>) -> Result<Mixed, MixError> {
        self.mixed_with(images, |labels, _| Ok(MixedTarget::single(labels)))
    }

    /// The mixed batch with a finished target.
    pub fn finish(self, images: Tensor<4>, target: MixedTarget) -> Result<Mixed, MixError> {
        self.mixed_with(images, |_, _| Ok(target))
    }
}

/// The pair target `(y, y[π])` with base weights `w_a` (device values) and partner
/// weights `1 − w_a`.
///
/// # Shapes
/// - `labels`, `perm`, `w_a`: `[N]`
pub(crate) fn pair_target_device(
    labels: Tensor<1, Int>,
    perm: &Tensor<1, Int>,
    w_a: Tensor<1>,
) -> Result<MixedTarget, MixError> {
    let y_b = labels.clone().select(0, perm.clone());
    let w_b = w_a.clone().neg().add_scalar(1.0);
    MixedTarget::pair(labels, y_b, w_a, w_b)
}

/// A target of `k` sources per sample from host values: `source(i, j)` gives the index
/// into `labels` of sample `i`'s `j`-th class and its weight. Two uploads and one gather
/// (a handful of separate tensor operations cost several times more at small batches).
///
/// # Shapes
/// - `labels`: `[N]`; output `[N, k]`
pub(crate) fn host_target(
    labels: Tensor<1, Int>,
    k: usize,
    source: impl Fn(usize, usize) -> (usize, f32),
) -> Result<MixedTarget, MixError> {
    let [n] = labels.dims();
    let (index, weights): (Vec<i64>, Vec<f32>) = (0..n)
        .flat_map(|i| (0..k).map(move |j| (i, j)))
        .map(|(i, j)| {
            let (class, weight) = source(i, j);
            (class as i64, weight)
        })
        .unzip();
    if let Some(&bad) = index.iter().find(|&&c| c as usize >= n) {
        return Err(MixError::ShapeMismatch {
            what: "mixed target",
            expected: format!("source samples in 0..{n}"),
            got: format!("sample {bad}"),
        });
    }
    let device = labels.device();
    let index = Tensor::<1, Int>::from_data(TensorData::new(index, [n * k]), &device);
    let weights = Tensor::<2>::from_data(TensorData::new(weights, [n, k]), &device);
    MixedTarget::new(labels.select(0, index).reshape([n, k]), weights)
}
