//! The "mixed-example" family of Summers & Dinneen: concatenations, random quadrants,
//! strips, rows, columns, pixels and elements of two images.
//!
//! Summers, Dinneen, *Improved Mixed-Example Data Augmentation*, WACV 2019. Reference code:
//! ceciliaresearch/MixedExample `mixed_example.py` (TensorFlow). Spec: METHODS.md §13.
//!
//! The reference pairs consecutive examples of a shuffled stream and makes one mixed
//! example per pair. Here every sample `i` of a batch is mixed with its partner `π(i)`
//! (a random permutation by default), with **independent draws per sample**, so one batch
//! holds `N` mixed examples whose draws follow the reference's per-pair distributions.
//!
//! Every variant reduces to one of three device operations:
//! - a **quadrant mask**: a row split and a column split cut the image into four cells,
//!   each with its own weight of the base image (vertical, horizontal and mixed concat,
//!   random 2×2, VH-mixup);
//! - a **strip transplant**: a strip of the partner taken from another position
//!   (random row/column interval), done with one `gather`;
//! - a **bit mask** drawn on the host (random rows, columns, pixels, elements).
//!
//! The base label weight `λ` is the exact fraction of the base image in the result,
//! computed from the draws (for mixed concat on non-square images this differs from the
//! reference formula, available as [`MixedExampleConfig::reference_lam`]).

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::check_probability;
use crate::mixer::{Pairs, configured, open_pairs};
use crate::ops::{LineMask, Mask, Source, blend};
use crate::{BatchShape, Guide, MixError, MixRng, Mixed, Mixer, Pairing};

mod lines;
mod params;
#[cfg(test)]
mod tests;

use lines::{check_quadrants, check_strips, select_lines};
pub use params::{Axis, Interval, MixedExampleDraws, MixedExampleParams, Quadrants};

/// Which member of the family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MixedExampleKind {
    /// Rows `[0, d)` from the base, the rest from the partner; `d ~ U{0..H−1}`.
    #[default]
    VerticalConcat,
    /// Columns `[0, d)` from the base, the rest from the partner; `d ~ U{0..W−1}`.
    HorizontalConcat,
    /// The base in the top-left and bottom-right cells of a random row/column split
    /// (row split `a ~ U{0..W−1}` clipped to `H`, column split `b ~ U{0..H−1}` clipped to
    /// `W`: the reference swaps the roles).
    MixedConcat,
    /// A split inside the central half (`round(H/4) ≤ r < H − round(H/4)`, same for
    /// columns); each of the four cells comes from the base with probability `q ~ U(0,1)`.
    #[serde(rename = "random_2x2")]
    Random2x2,
    /// Columns `[i1, i2)` of the base are replaced by `i2 − i1` columns of the partner
    /// starting at `i3` (`i1 ~ U{0..W−1}`, `i2 ~ U{i1..W−1}`, `i3 ~ U{0..W−len−1}`).
    RandomColumnInterval,
    /// The same on rows.
    RandomRowInterval,
    /// Each column comes from the base with probability `q ~ U(0,1)`.
    RandomColumns,
    /// Each row comes from the base with probability `q`.
    RandomRows,
    /// Each pixel (all channels together) comes from the base with probability `q`.
    RandomPixels,
    /// Each element (pixel and channel) comes from the base with probability `q`.
    RandomElements,
    /// Mixup with `μ ~ U(0,1)` of a vertical and a horizontal concat of the same pair.
    VhMixup,
}

impl MixedExampleKind {
    /// Every member, in the order of the paper's tables.
    pub const ALL: [MixedExampleKind; 11] = [
        Self::VerticalConcat,
        Self::HorizontalConcat,
        Self::MixedConcat,
        Self::Random2x2,
        Self::RandomColumnInterval,
        Self::RandomRowInterval,
        Self::RandomColumns,
        Self::RandomRows,
        Self::RandomPixels,
        Self::RandomElements,
        Self::VhMixup,
    ];

    /// The name used in configuration files.
    pub fn name(&self) -> &'static str {
        match self {
            Self::VerticalConcat => "vertical_concat",
            Self::HorizontalConcat => "horizontal_concat",
            Self::MixedConcat => "mixed_concat",
            Self::Random2x2 => "random_2x2",
            Self::RandomColumnInterval => "random_column_interval",
            Self::RandomRowInterval => "random_row_interval",
            Self::RandomColumns => "random_columns",
            Self::RandomRows => "random_rows",
            Self::RandomPixels => "random_pixels",
            Self::RandomElements => "random_elements",
            Self::VhMixup => "vh_mixup",
        }
    }
}

/// How the family's random fractions are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "draw", rename_all = "snake_case")]
pub enum RatioDraw {
    /// As the reference: `q, μ ~ U(0, 1)` and split positions `d ~ U{lo..hi−1}`.
    #[default]
    Uniform,
    /// `q, μ ~ Beta(α, α)` and split positions `d = lo + min(⌊t·(hi−lo)⌋, hi−lo−1)` with
    /// `t ~ Beta(α, α)` (`α > 0`). Interval positions stay uniform.
    Beta {
        /// The concentration α.
        alpha: f64,
    },
}

impl RatioDraw {
    fn fraction(&self, rng: &mut MixRng) -> f64 {
        match *self {
            RatioDraw::Uniform => rng.uniform(),
            RatioDraw::Beta { alpha } => rng.beta(alpha),
        }
    }

    /// A position in `lo..hi` (`hi > lo`).
    fn position(&self, rng: &mut MixRng, lo: usize, hi: usize) -> usize {
        let span = hi - lo;
        match *self {
            RatioDraw::Uniform => lo + rng.below(span),
            RatioDraw::Beta { alpha } => {
                lo + ((rng.beta(alpha) * span as f64).floor() as usize).min(span - 1)
            }
        }
    }
}

/// Configuration of [`MixedExample`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MixedExampleConfig {
    /// Which member of the family. Default: vertical concat (the paper's best on CIFAR-10
    /// among the non-Mixup ones is VH-mixup; any of [`MixedExampleKind::ALL`] may be used).
    pub kind: MixedExampleKind,
    /// Distribution of the random fractions. Default: uniform (reference).
    pub ratio: RatioDraw,
    /// Probability that a batch is mixed. Default 1 (the reference always mixes).
    pub prob: f64,
    /// How partners are chosen. Default: a random permutation.
    pub pairing: Pairing,
    /// Mixed concat only: use the reference label `(a/W)(b/H) + (1 − a/W)(1 − b/H)`
    /// instead of the exact pixel fraction (they agree on square images). Default false.
    pub reference_lam: bool,
}

impl Default for MixedExampleConfig {
    fn default() -> Self {
        Self {
            kind: MixedExampleKind::VerticalConcat,
            ratio: RatioDraw::Uniform,
            prob: 1.0,
            pairing: Pairing::RandomPermutation,
            reference_lam: false,
        }
    }
}

impl MixedExampleConfig {
    /// The defaults for one member of the family.
    pub fn new(kind: MixedExampleKind) -> Self {
        Self {
            kind,
            ..Self::default()
        }
    }

    /// Rejects invalid hyper-parameters.
    pub fn validate(&self) -> Result<(), MixError> {
        check_probability("mixed_example.prob", self.prob)?;
        if let RatioDraw::Beta { alpha } = self.ratio
            && !(alpha.is_finite() && alpha > 0.0)
        {
            return Err(MixError::InvalidHyperParameter {
                name: "mixed_example.ratio.alpha",
                value: alpha,
                expected: "a positive α",
            });
        }
        Ok(())
    }
}

configured! {
    MixedExample(MixedExampleConfig) {
        with_ratio => ratio: RatioDraw,
        with_prob => prob: f64,
        with_pairing => pairing: Pairing,
        with_reference_lam => reference_lam: bool,
    }
}

/// One member of the Summers & Dinneen family: `x̃_i` is built from `x_i` (base) and
/// `x_π(i)` with per-sample draws; the base label weight is the base's share of the
/// result's pixels.
///
/// ```
/// use burn::prelude::*;
/// use mixaug_masks::{MixedExampleConfig, MixedExampleKind, Mixer, MixRng};
/// let device = Device::flex();
/// let images = Tensor::<4>::ones([4, 3, 8, 12], &device);
/// let labels = Tensor::<1, Int>::from_ints([0, 1, 2, 3], &device);
/// let vh = MixedExampleConfig::new(MixedExampleKind::VhMixup).init().unwrap();
/// let mixed = vh.mix(&mut MixRng::from_seed(3), images, labels).unwrap();
/// assert_eq!(mixed.images.dims(), [4, 3, 8, 12]);
/// ```
#[derive(Debug, Clone)]
pub struct MixedExample {
    config: MixedExampleConfig,
}

impl MixedExample {
    /// The base label weight of every sample, from the draws.
    pub fn base_fractions(
        &self,
        params: &MixedExampleParams,
        batch: BatchShape,
    ) -> Result<Vec<f64>, MixError> {
        let (n, h, w) = (batch.n, batch.h, batch.w);
        let name = self.config.kind.name();
        Ok(match &params.draws {
            MixedExampleDraws::Quadrants { masks } => {
                check_quadrants(name, masks, h, w)?;
                masks
                    .iter()
                    .map(|q| {
                        // A batch left unmixed (all four cells the base) has weight 1 either
                        // way.
                        if self.config.reference_lam
                            && self.config.kind == MixedExampleKind::MixedConcat
                            && q.weights != [1.0; 4]
                        {
                            // The reference divides the row split by W and the column split
                            // by H (a drawn row split is below W, a column split below H).
                            if q.row > w || q.col > h {
                                return Err(MixError::ShapeMismatch {
                                    what: name,
                                    expected: format!("mixed-concat splits drawn for {h}×{w}"),
                                    got: format!("{q:?}"),
                                });
                            }
                            let (la, lb) = (q.row as f64 / w as f64, q.col as f64 / h as f64);
                            Ok(la * lb + (1.0 - la) * (1.0 - lb))
                        } else {
                            Ok(q.base_fraction(h, w))
                        }
                    })
                    .collect::<Result<_, _>>()?
            }
            MixedExampleDraws::Interval { axis, strips } => {
                let len = check_strips(name, *axis, strips, h, w)?;
                strips
                    .iter()
                    .map(|s| (len - s.len) as f64 / len as f64)
                    .collect()
            }
            MixedExampleDraws::Bits { dims, bits } => {
                let per = dims.iter().product::<usize>();
                if per == 0 || bits.len() != n * per {
                    return Err(MixError::ShapeMismatch {
                        what: "mixed-example bit mask",
                        expected: format!("{n} masks of {dims:?}"),
                        got: format!("{} bits", bits.len()),
                    });
                }
                // Counted as byte sums over blocks of 255 (vectorises; a `filter().count()`
                // over the bits of random elements cost more than the mix itself).
                let ones = |m: &[bool]| -> usize {
                    m.chunks(255)
                        .map(|block| usize::from(block.iter().fold(0u8, |s, &b| s + u8::from(b))))
                        .sum()
                };
                bits.chunks(per)
                    .map(|m| ones(m) as f64 / per as f64)
                    .collect()
            }
        })
    }

    fn draw_quadrants(&self, rng: &mut MixRng, h: usize, w: usize) -> Quadrants {
        let ratio = self.config.ratio;
        match self.config.kind {
            MixedExampleKind::VerticalConcat => Quadrants {
                row: ratio.position(rng, 0, h),
                col: w,
                weights: [1.0, 1.0, 0.0, 0.0],
            },
            MixedExampleKind::HorizontalConcat => Quadrants {
                row: h,
                col: ratio.position(rng, 0, w),
                weights: [1.0, 0.0, 1.0, 0.0],
            },
            MixedExampleKind::MixedConcat => {
                let a = ratio.position(rng, 0, w);
                let b = ratio.position(rng, 0, h);
                Quadrants {
                    row: a.min(h),
                    col: b.min(w),
                    weights: [1.0, 0.0, 0.0, 1.0],
                }
            }
            MixedExampleKind::Random2x2 => {
                // Python 3's round: half to even.
                let h_buf = (0.25 * h as f64).round_ties_even() as usize;
                let w_buf = (0.25 * w as f64).round_ties_even() as usize;
                let row = ratio.position(rng, h_buf, h - h_buf);
                let col = ratio.position(rng, w_buf, w - w_buf);
                let q = ratio.fraction(rng);
                let weights = std::array::from_fn(|_| f64::from(u8::from(rng.uniform() < q)));
                Quadrants { row, col, weights }
            }
            MixedExampleKind::VhMixup => {
                let row = ratio.position(rng, 0, h);
                let col = ratio.position(rng, 0, w);
                let mu = ratio.fraction(rng);
                Quadrants {
                    row,
                    col,
                    weights: [1.0, mu, 1.0 - mu, 0.0],
                }
            }
            _ => unreachable!("only quadrant kinds reach draw_quadrants"),
        }
    }
}

/// One strip of the reference's nested draws over a line of `len` positions.
fn draw_interval(rng: &mut MixRng, len: usize) -> Interval {
    let start = rng.below(len);
    let end = start + rng.below(len - start);
    let strip = end - start;
    Interval {
        start,
        len: strip,
        source: rng.below(len - strip),
    }
}

impl Mixer for MixedExample {
    type Params = MixedExampleParams;

    fn sample(&self, rng: &mut MixRng, batch: BatchShape) -> Result<Self::Params, MixError> {
        batch.require_size(self.config.kind.name(), 2, 2)?;
        let (n, c, h, w) = (batch.n, batch.c, batch.h, batch.w);
        let (prob, pairing) = (self.config.prob, self.config.pairing);
        let (mixing, perm) = open_pairs(rng, batch, prob, pairing, |_, mixing| mixing)?;
        let draws = match self.config.kind {
            MixedExampleKind::VerticalConcat
            | MixedExampleKind::HorizontalConcat
            | MixedExampleKind::MixedConcat
            | MixedExampleKind::Random2x2
            | MixedExampleKind::VhMixup => MixedExampleDraws::Quadrants {
                masks: (0..n)
                    .map(|_| {
                        if mixing {
                            self.draw_quadrants(rng, h, w)
                        } else {
                            Quadrants {
                                row: h,
                                col: w,
                                weights: [1.0; 4],
                            }
                        }
                    })
                    .collect(),
            },
            kind @ (MixedExampleKind::RandomColumnInterval
            | MixedExampleKind::RandomRowInterval) => {
                let (axis, len) = if kind == MixedExampleKind::RandomRowInterval {
                    (Axis::Rows, h)
                } else {
                    (Axis::Columns, w)
                };
                let strips = (0..n)
                    .map(|_| {
                        if mixing {
                            draw_interval(rng, len)
                        } else {
                            Interval {
                                start: 0,
                                len: 0,
                                source: 0,
                            }
                        }
                    })
                    .collect();
                MixedExampleDraws::Interval { axis, strips }
            }
            kind @ (MixedExampleKind::RandomColumns
            | MixedExampleKind::RandomRows
            | MixedExampleKind::RandomPixels
            | MixedExampleKind::RandomElements) => {
                let dims = match kind {
                    MixedExampleKind::RandomColumns => [1, 1, w],
                    MixedExampleKind::RandomRows => [1, h, 1],
                    MixedExampleKind::RandomPixels => [1, h, w],
                    _ => [c, h, w],
                };
                let per: usize = dims.iter().product();
                let mut bits = Vec::with_capacity(n * per);
                for _ in 0..n {
                    if mixing {
                        let q = self.config.ratio.fraction(rng);
                        bits.extend((0..per).map(|_| rng.uniform() < q));
                    } else {
                        bits.extend(std::iter::repeat_n(true, per));
                    }
                }
                MixedExampleDraws::Bits { dims, bits }
            }
        };
        Ok(MixedExampleParams { perm, draws })
    }

    fn apply(
        &self,
        params: &Self::Params,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
        _guide: &Guide,
    ) -> Result<Mixed, MixError> {
        let name = self.config.kind.name();
        let (pairs, images) = Pairs::check(name, images, labels, &params.perm, 1)?;
        let batch = pairs.batch;
        let (n, c, h, w) = (batch.n, batch.c, batch.h, batch.w);
        let draws_len = match &params.draws {
            MixedExampleDraws::Quadrants { masks } => masks.len(),
            MixedExampleDraws::Interval { strips, .. } => strips.len(),
            MixedExampleDraws::Bits { .. } => n,
        };
        if draws_len != n {
            return Err(MixError::ShapeMismatch {
                what: name,
                expected: format!("one draw per sample ({n})"),
                got: format!("{draws_len} draws"),
            });
        }
        // `base_fractions` checks that the splits and strips lie inside the images.
        let lam = self.base_fractions(params, batch)?;
        let device = pairs.device();
        let pi = pairs.partners();
        let mixed = match &params.draws {
            MixedExampleDraws::Quadrants { masks } => {
                // Two patterns per sample: the rows above the split and those below.
                let mut keep = LineMask::new(w);
                for q in masks {
                    let cell = |k: usize| q.weights[k] as f32;
                    let upper = keep.span(0..q.col, cell(0), cell(1));
                    let lower = keep.span(0..q.col, cell(2), cell(3));
                    keep.lines(upper, q.row);
                    keep.lines(lower, h - q.row);
                }
                blend(images, Source::Partner(pi), &Mask::Lines(keep))
            }
            MixedExampleDraws::Interval { axis, strips } => {
                let len = axis.len(h, w);
                // Line j of sample i reads the partner's line `source + j − start` inside
                // the strip and its own line j elsewhere.
                let sources = (0..n).flat_map(|i| {
                    let s = strips[i];
                    (0..len).map(move |j| {
                        if (s.start..s.start + s.len).contains(&j) {
                            pi[i] * len + s.source + j - s.start
                        } else {
                            i * len + j
                        }
                    })
                });
                select_lines(images, *axis, sources.collect())
            }
            MixedExampleDraws::Bits { dims, bits } => {
                let [mc, mh, mw] = *dims;
                if !((mc == 1 || mc == c) && (mh == 1 || mh == h) && (mw == 1 || mw == w)) {
                    return Err(MixError::ShapeMismatch {
                        what: name,
                        expected: format!("a mask broadcastable to [{c}, {h}, {w}]"),
                        got: format!("{dims:?}"),
                    });
                }
                let keep = if mh == h && mw == w && w > 1 {
                    // A bit per pixel (and channel): the drawn bits are the mask.
                    Mask::Keep(Tensor::from_data(
                        TensorData::new(bits.clone(), [n, mc, h, w]),
                        &device,
                    ))
                } else {
                    // Whole rows or columns: a constant pattern per row bit, or one pattern
                    // per sample of column bits.
                    let mut keep = LineMask::new(w);
                    let (one, zero) = (keep.constant(1.0), keep.constant(0.0));
                    let ids: Vec<u32> = if mw == 1 {
                        bits.iter().map(|&b| if b { one } else { zero }).collect()
                    } else {
                        bits.chunks_exact(mw)
                            .map(|row| keep.pattern(row.iter().map(|&b| f32::from(u8::from(b)))))
                            .collect()
                    };
                    let planes = if mc == 1 { 1 } else { c };
                    for i in 0..n {
                        for ch in 0..planes {
                            let first = (i * mc + ch) * mh;
                            if mh == 1 {
                                keep.lines(ids[first], h);
                            } else {
                                (0..h).for_each(|y| keep.lines(ids[first + y], 1));
                            }
                        }
                    }
                    Mask::Lines(if planes == 1 {
                        keep
                    } else {
                        keep.per_channel()
                    })
                };
                blend(images, Source::Partner(pi), &keep)
            }
        };
        pairs.mixed(mixed, &lam)
    }
}
