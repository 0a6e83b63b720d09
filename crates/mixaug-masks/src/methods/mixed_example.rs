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
use crate::mixer::{Pairs, open_pairs};
use crate::ops::{LineMask, Mask, Source, blend};
use crate::{BatchShape, Guide, MixError, MixRng, Mixed, Mixer, Pairing, Permutation};

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
    /// Sets [`ratio`](Self::ratio).
    pub fn with_ratio(mut self, ratio: RatioDraw) -> Self {
        self.ratio = ratio;
        self
    }
    /// Sets [`prob`](Self::prob).
    pub fn with_prob(mut self, prob: f64) -> Self {
        self.prob = prob;
        self
    }
    /// Sets [`pairing`](Self::pairing).
    pub fn with_pairing(mut self, pairing: Pairing) -> Self {
        self.pairing = pairing;
        self
    }
    /// Sets [`reference_lam`](Self::reference_lam).
    pub fn with_reference_lam(mut self, reference_lam: bool) -> Self {
        self.reference_lam = reference_lam;
        self
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

    /// A validated [`MixedExample`].
    pub fn init(&self) -> Result<MixedExample, MixError> {
        self.validate()?;
        Ok(MixedExample {
            config: self.clone(),
        })
    }
}

/// A quadrant mask: rows `< row` and columns `< col` split the image into four cells with
/// base weights `[top-left, top-right, bottom-left, bottom-right]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quadrants {
    /// Row split (`0..=H`).
    pub row: usize,
    /// Column split (`0..=W`).
    pub col: usize,
    /// Weight of the base image in each cell, `[TL, TR, BL, BR]`.
    pub weights: [f64; 4],
}

impl Quadrants {
    /// The exact fraction of the base image in an `h × w` result.
    pub fn base_fraction(&self, h: usize, w: usize) -> f64 {
        let (r, c) = (self.row as f64, self.col as f64);
        let (hb, wr) = (h as f64 - r, w as f64 - c);
        let [tl, tr, bl, br] = self.weights;
        (r * c * tl + r * wr * tr + hb * c * bl + hb * wr * br) / (h * w) as f64
    }
}

/// A strip transplant along one axis: positions `[start, start + len)` of the base are
/// replaced by positions `[source, source + len)` of the partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    /// First replaced position (`i1`).
    pub start: usize,
    /// Strip length (`i2 − i1`).
    pub len: usize,
    /// First partner position copied (`i3`).
    pub source: usize,
}

/// The axis of a strip or of a line mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Axis {
    /// Rows (tensor dim 2).
    Rows,
    /// Columns (tensor dim 3).
    Columns,
}

/// The per-sample draws of a batch, by kind of device operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum MixedExampleDraws {
    /// One quadrant mask per sample.
    Quadrants {
        /// `[N]` masks.
        masks: Vec<Quadrants>,
    },
    /// One strip per sample.
    Interval {
        /// The axis of the strips.
        axis: Axis,
        /// `[N]` strips.
        strips: Vec<Interval>,
    },
    /// A host-drawn 0/1 mask per sample, `true` where the base image is kept.
    Bits {
        /// Shape of one sample's mask `[C', H', W']`, broadcast to `[C, H, W]`
        /// (`[1, 1, W]` columns, `[1, H, 1]` rows, `[1, H, W]` pixels, `[C, H, W]` elements).
        dims: [usize; 3],
        /// `N·C'·H'·W'` bits, sample-major.
        bits: Vec<bool>,
    },
}

/// What the family draws for one batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MixedExampleParams {
    /// The partner of each sample.
    pub perm: Permutation,
    /// One draw per sample.
    pub draws: MixedExampleDraws,
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
    /// The configuration this mixer was built from.
    pub fn config(&self) -> &MixedExampleConfig {
        &self.config
    }

    /// The base label weight of every sample, from the draws.
    pub fn base_fractions(
        &self,
        params: &MixedExampleParams,
        batch: BatchShape,
    ) -> Result<Vec<f64>, MixError> {
        let (n, h, w) = (batch.n, batch.h, batch.w);
        Ok(match &params.draws {
            MixedExampleDraws::Quadrants { masks } => masks
                .iter()
                .map(|q| {
                    if self.config.reference_lam
                        && self.config.kind == MixedExampleKind::MixedConcat
                    {
                        // The reference divides the row split by W and the column split by H.
                        let (la, lb) = (q.row as f64 / w as f64, q.col as f64 / h as f64);
                        la * lb + (1.0 - la) * (1.0 - lb)
                    } else {
                        q.base_fraction(h, w)
                    }
                })
                .collect(),
            MixedExampleDraws::Interval { axis, strips } => {
                let len = match axis {
                    Axis::Rows => h,
                    Axis::Columns => w,
                };
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
        let lam = self.base_fractions(params, batch)?;
        let device = pairs.device();
        let pi = pairs.partners();
        let mixed = match &params.draws {
            MixedExampleDraws::Quadrants { masks } => {
                check_quadrants(name, masks, h, w)?;
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
                let len = match axis {
                    Axis::Rows => h,
                    Axis::Columns => w,
                };
                if let Some(s) = strips
                    .iter()
                    .find(|s| s.start + s.len > len || s.source + s.len > len)
                {
                    return Err(MixError::ShapeMismatch {
                        what: name,
                        expected: format!("strips inside 0..{len}"),
                        got: format!("{s:?}"),
                    });
                }
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

fn check_quadrants(
    name: &'static str,
    masks: &[Quadrants],
    h: usize,
    w: usize,
) -> Result<(), MixError> {
    match masks.iter().find(|q| q.row > h || q.col > w) {
        Some(q) => Err(MixError::ShapeMismatch {
            what: name,
            expected: format!("splits inside {h}×{w}"),
            got: format!("{q:?}"),
        }),
        None => Ok(()),
    }
}

/// The base weight of every pixel, `[N, 1, H, W]`, from per-sample row/column splits and
/// cell weights.
///
/// # Shapes
/// - output: `[masks.len(), 1, H, W]`
pub fn quadrant_mask(masks: &[Quadrants], h: usize, w: usize, device: &Device) -> Tensor<4> {
    let n = masks.len();
    let column = |f: &dyn Fn(&Quadrants) -> f64| {
        let v: Vec<f32> = masks.iter().map(|q| f(q) as f32).collect();
        Tensor::<1>::from_data(TensorData::new(v, [n]), device)
    };
    let before = |len: usize, split: Tensor<1>| {
        Tensor::<1, Int>::arange(0..len as i64, device)
            .float()
            .reshape([1, len])
            .expand([n, len])
            .lower(split.reshape([n, 1]).expand([n, len]))
            .float()
    };
    let top = before(h, column(&|q| q.row as f64)).reshape([n, 1, h, 1]);
    let left = before(w, column(&|q| q.col as f64)).reshape([n, 1, 1, w]);
    let weight = |k: usize| column(&|q| q.weights[k]).reshape([n, 1, 1, 1]);
    let right = left.clone().neg().add_scalar(1.0);
    let upper = left.clone() * weight(0) + right.clone() * weight(1);
    let lower = left * weight(2) + right * weight(3);
    let bottom = top.clone().neg().add_scalar(1.0);
    top * upper + bottom * lower
}

/// Rebuilds a batch line by line: output line `k = i·L + j` (row or column `j` of sample
/// `i`, `L` lines per image) is input line `sources[k]`, for all channels at once. Rows:
/// one row gather on the `[N·C·H, W]` view; columns: one on a `[N·W, C·H]` transposed copy.
///
/// # Shapes
/// - `images`: `[N, C, H, W]`; `sources`: `N·H` (rows) or `N·W` (columns) entries
fn select_lines(images: Tensor<4>, axis: Axis, sources: Vec<usize>) -> Tensor<4> {
    let [n, c, h, w] = images.dims();
    let device = images.device();
    let index = |v: Vec<i64>| {
        let len = v.len();
        Tensor::<1, Int>::from_data(TensorData::new(v, [len]), &device)
    };
    match axis {
        Axis::Rows => {
            let sources = &sources;
            let rows = (0..n).flat_map(|i| {
                (0..c).flat_map(move |ch| {
                    (0..h).map(move |y| {
                        let k = sources[i * h + y];
                        ((k / h * c + ch) * h + k % h) as i64
                    })
                })
            });
            images
                .reshape([n * c * h, w])
                .select(0, index(rows.collect()))
                .reshape([n, c, h, w])
        }
        Axis::Columns => images
            .permute([0, 3, 1, 2])
            .reshape([n * w, c * h])
            .select(0, index(sources.iter().map(|&v| v as i64).collect()))
            .reshape([n, w, c, h])
            .permute([0, 2, 3, 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn draws_for(kind: MixedExampleKind, seed: u64) -> MixedExampleParams {
        MixedExampleConfig::new(kind)
            .init()
            .unwrap()
            .sample(&mut MixRng::from_seed(seed), BatchShape::new(6, 3, 5, 7))
            .unwrap()
    }

    #[test]
    fn draws_stay_in_the_reference_ranges() {
        for seed in 0..30 {
            if let MixedExampleDraws::Quadrants { masks } =
                draws_for(MixedExampleKind::Random2x2, seed).draws
            {
                // H = 5: buffer round(1.25) = 1 → rows 1..=3; W = 7: round(1.75) = 2 → 2..=4.
                for q in masks {
                    assert!(
                        (1..=3).contains(&q.row) && (2..=4).contains(&q.col),
                        "{q:?}"
                    );
                    assert!(q.weights.iter().all(|v| *v == 0.0 || *v == 1.0));
                }
            } else {
                panic!("random 2×2 draws quadrants");
            }
            if let MixedExampleDraws::Interval { strips, axis } =
                draws_for(MixedExampleKind::RandomColumnInterval, seed).draws
            {
                assert_eq!(axis, Axis::Columns);
                for s in strips {
                    assert!(s.start + s.len < 7 || s.len == 0, "{s:?}");
                    assert!(s.source + s.len <= 7);
                }
            } else {
                panic!("column interval draws strips");
            }
        }
    }

    #[test]
    fn bits_have_the_documented_shapes() {
        let shapes = [
            (MixedExampleKind::RandomColumns, [1, 1, 7]),
            (MixedExampleKind::RandomRows, [1, 5, 1]),
            (MixedExampleKind::RandomPixels, [1, 5, 7]),
            (MixedExampleKind::RandomElements, [3, 5, 7]),
        ];
        for (kind, expected) in shapes {
            match draws_for(kind, 1).draws {
                MixedExampleDraws::Bits { dims, bits } => {
                    assert_eq!(dims, expected);
                    assert_eq!(bits.len(), 6 * expected.iter().product::<usize>());
                }
                other => panic!("{kind:?} gave {other:?}"),
            }
        }
    }

    #[test]
    fn configuration_names_are_the_kind_names() {
        for kind in MixedExampleKind::ALL {
            let text = format!("method = \"mixed_example\"\nkind = \"{}\"", kind.name());
            let config: crate::MixConfig = toml::from_str(&text).unwrap();
            assert_eq!(config.label(), kind.name());
            assert_eq!(crate::MixConfig::from_name(kind.name()), Some(config));
        }
    }

    #[test]
    fn quadrant_fraction_by_hand() {
        // 4×6, split after row 1 and column 4: cells 4, 2, 12, 6 pixels.
        let q = Quadrants {
            row: 1,
            col: 4,
            weights: [1.0, 0.25, 0.5, 0.0],
        };
        assert_eq!(q.base_fraction(4, 6), (4.0 + 0.5 + 6.0) / 24.0);
    }

    #[test]
    fn beta_option_and_errors() {
        let bad = MixedExampleConfig::new(MixedExampleKind::RandomPixels)
            .with_ratio(RatioDraw::Beta { alpha: 0.0 });
        assert!(matches!(
            bad.validate(),
            Err(MixError::InvalidHyperParameter { .. })
        ));
        let small = MixedExampleConfig::new(MixedExampleKind::VerticalConcat)
            .init()
            .unwrap()
            .sample(&mut MixRng::from_seed(0), BatchShape::new(2, 3, 1, 6));
        assert!(matches!(small, Err(MixError::ImageTooSmall { .. })));
        let beta = MixedExampleConfig::new(MixedExampleKind::VhMixup)
            .with_ratio(RatioDraw::Beta { alpha: 0.5 })
            .init()
            .unwrap();
        let p = beta
            .sample(&mut MixRng::from_seed(4), BatchShape::new(8, 1, 4, 6))
            .unwrap();
        let lam = beta
            .base_fractions(&p, BatchShape::new(8, 1, 4, 6))
            .unwrap();
        assert!(lam.iter().all(|l| (0.0..=1.0).contains(l)));
    }
}
