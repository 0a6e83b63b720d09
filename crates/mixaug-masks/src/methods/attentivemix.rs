//! Attentive CutMix and AttentiveMix+: keep the cells a frozen teacher attends to.
//!
//! Walawalkar, Shen, Liu, Savvides, *Attentive CutMix: An Enhanced Data Augmentation
//! Approach for Deep Learning Based Image Classification*, ICASSP 2020. Reference code:
//! xden2331/attentive_cutmix `attentive_transform.py` (original) and openmixup
//! `openmixup/models/augments/attentivemix.py` (AttentiveMix+). Spec: METHODS.md §11.

use burn::prelude::*;
use burn::tensor::IndexingUpdateOp;
use mixaug_maps::{AttentionChannel, AttentionConfig, CamStatistics};
use serde::{Deserialize, Serialize};

use crate::error::check_alpha;
use crate::mixer::{Pairs, configured, open_pairs, pair_target_device};
use crate::ops::{Mask, Source, blend, nearest_resize};
use crate::{BatchShape, Guide, MixError, MixRng, Mixed, Mixer, Needs, Pairing, Permutation};

/// Which published form of the method.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttentiveVariant {
    /// The original Attentive CutMix: a fixed number of cells (6 of 7×7), attention = the
    /// teacher's last channel, base label weight `k / cells`.
    Original,
    /// openmixup's AttentiveMix+: `k = clamp(⌊cells·λ⌋, 1, cells)` with
    /// `λ ~ Beta(α, α)`, attention = the channel mean, base weight = the kept fraction of
    /// sample 0's upsampled mask, for the whole batch.
    #[default]
    Plus,
}

/// Configuration of [`AttentiveMix`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AttentiveMixConfig {
    /// The form of the method. Default: AttentiveMix+ (the benchmarks' form).
    pub variant: AttentiveVariant,
    /// Number of attended cells kept. Default: 6 for the original; none (drawn from λ)
    /// for AttentiveMix+.
    pub top_k: Option<usize>,
    /// Concentration α of `λ ~ Beta(α, α)` (AttentiveMix+ without `top_k`). Default 1.
    pub alpha: f64,
    /// How partners are chosen. Default: a random permutation (openmixup; the original
    /// draws a random dataset image, with replacement).
    pub pairing: Pairing,
}

impl Default for AttentiveMixConfig {
    fn default() -> Self {
        Self {
            variant: AttentiveVariant::Plus,
            top_k: None,
            alpha: 1.0,
            pairing: Pairing::RandomPermutation,
        }
    }
}

impl AttentiveMixConfig {
    /// The defaults: AttentiveMix+, k from `λ ~ Beta(1, 1)`, random permutation.
    pub fn new() -> Self {
        Self::default()
    }
    /// The original method: 6 cells, last channel, weight `k / cells`.
    pub fn original() -> Self {
        Self {
            variant: AttentiveVariant::Original,
            top_k: Some(6),
            ..Self::default()
        }
    }

    /// How the frozen teacher's attention is computed for this variant: last channel
    /// (original) or channel mean (AttentiveMix+), the batch resized to 224, running
    /// BatchNorm statistics (the original left its teacher in train mode on single
    /// images; here a frozen teacher is a frozen teacher).
    pub fn attention(&self) -> AttentionConfig {
        AttentionConfig {
            channel: match self.variant {
                AttentiveVariant::Original => AttentionChannel::Last,
                AttentiveVariant::Plus => AttentionChannel::Mean,
            },
            input_size: Some(224),
            statistics: CamStatistics::Running,
        }
    }

    /// Rejects invalid hyper-parameters.
    pub fn validate(&self) -> Result<(), MixError> {
        check_alpha("attentivemix.alpha", self.alpha)?;
        if self.top_k == Some(0) {
            return Err(MixError::InvalidHyperParameter {
                name: "attentivemix.top_k",
                value: 0.0,
                expected: "at least one cell (or none: drawn from λ)",
            });
        }
        if self.variant == AttentiveVariant::Original && self.top_k.is_none() {
            return Err(MixError::InvalidHyperParameter {
                name: "attentivemix.top_k",
                value: f64::NAN,
                expected: "a number of cells for the original variant (6 in the paper)",
            });
        }
        Ok(())
    }
}

configured! {
    AttentiveMix(AttentiveMixConfig) {
        with_top_k => top_k: Option<usize>,
        with_alpha => alpha: f64,
        with_pairing => pairing: Pairing,
    }
}

/// What AttentiveMix draws for one batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttentiveMixParams {
    /// The partner of each sample.
    pub perm: Permutation,
    /// The configured `top_k`, or λ from `Beta(α, α)` to turn into a number of cells once
    /// the grid is known (AttentiveMix+).
    pub cells: CellCount,
}

/// How many attention cells a batch keeps.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CellCount {
    /// Exactly this many (clamped to the grid).
    Fixed(usize),
    /// `clamp(⌊cells·λ⌋, 1, cells)`.
    Fraction(f64),
}

impl CellCount {
    /// The number of cells kept on a grid of `cells` cells.
    pub fn resolve(&self, cells: usize) -> usize {
        match *self {
            CellCount::Fixed(k) => k.clamp(1, cells),
            CellCount::Fraction(lam) => ((cells as f64 * lam).floor() as usize).clamp(1, cells),
        }
    }
}

/// AttentiveMix: in each base image, the `k` cells of the teacher's attention grid with
/// the highest attention are kept and the rest comes from the partner,
/// `x̃_i = M_i ⊙ x_i + (1 − M_i) ⊙ x_π(i)`, with `M_i` the top-k cells of sample `i`
/// upsampled (PyTorch's legacy nearest) to the image.
///
/// The attention grids come from [`AttentionConfig::attention`] with a frozen teacher
/// (see [`AttentiveMixConfig::attention`]).
#[derive(Debug, Clone)]
pub struct AttentiveMix {
    config: AttentiveMixConfig,
}

impl Mixer for AttentiveMix {
    type Params = AttentiveMixParams;
    const NEEDS: Needs = Needs::Attention;

    /// Draws π and, for AttentiveMix+ without `top_k`, λ (no gate: every batch is mixed).
    fn sample(&self, rng: &mut MixRng, batch: BatchShape) -> Result<AttentiveMixParams, MixError> {
        let c = &self.config;
        let (cells, perm) = open_pairs(rng, batch, 1.0, c.pairing, |rng, _| match c.top_k {
            Some(k) => CellCount::Fixed(k),
            None => CellCount::Fraction(rng.beta(c.alpha)),
        })?;
        Ok(AttentiveMixParams { perm, cells })
    }

    /// Mixes with the teacher's attention grids of [`Guide::Attention`], `[N, h, w]` with
    /// `h ≤ H`, `w ≤ W`.
    fn apply(
        &self,
        params: &AttentiveMixParams,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
        guide: &Guide,
    ) -> Result<Mixed, MixError> {
        let attention = guide.attention("attentivemix")?.clone();
        let (pairs, images) =
            Pairs::check("attentivemix parameters", images, labels, &params.perm, 1)?;
        let batch = pairs.batch;
        let [an, gh, gw] = attention.dims();
        if an != batch.n || gh == 0 || gw == 0 || gh > batch.h || gw > batch.w {
            return Err(MixError::ShapeMismatch {
                what: "attentivemix attention grids",
                expected: format!(
                    "[{}, h, w] with 1 ≤ h ≤ {}, 1 ≤ w ≤ {}",
                    batch.n, batch.h, batch.w
                ),
                got: format!("{:?}", attention.dims()),
            });
        }
        let cells = gh * gw;
        let k = params.cells.resolve(cells);
        let device = pairs.device();
        let attention = attention.to_device(&device).reshape([batch.n, cells]);
        let (_, top) = attention.topk_with_indices(k, 1);
        let grid = Tensor::<2>::zeros([batch.n, cells], &device).scatter(
            1,
            top,
            Tensor::ones([batch.n, k], &device),
            IndexingUpdateOp::Add,
        );
        let mask = nearest_resize(grid.reshape([batch.n, 1, gh, gw]), batch.h, batch.w);
        let w_a = match self.config.variant {
            AttentiveVariant::Original => {
                Tensor::<1>::full([batch.n], k as f64 / cells as f64, &device)
            }
            AttentiveVariant::Plus => mask
                .clone()
                .slice(s![0..1])
                .mean()
                .reshape([1])
                .expand([batch.n]),
        };
        let keep = Mask::Tensor {
            weights: mask,
            hard: true,
        };
        let images = blend(images, Source::Partner(pairs.partners()), &keep);
        pairs.mixed_with(images, |labels, perm| pair_target_device(labels, perm, w_a))
    }
}
