//! RICAP: four random crops from four images, tiled into one.
//!
//! Takahashi, Matsubara, Uehara, *RICAP: Random Image Cropping and Patching Data
//! Augmentation for Deep CNNs*, ACML 2018. Reference code: jackryo/ricap `trainers.py`.
//! Spec: METHODS.md §12.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::check_probability;
use crate::mixer::{Pairs, configured, host_target};
use crate::{BatchShape, CutBox, Guide, MixError, MixRng, Mixed, Mixer, Pairing, Permutation};

/// Configuration of [`Ricap`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RicapConfig {
    /// β of the boundary draws `Beta(β, β)`; must be positive. Default 0.3 (paper).
    pub beta: f64,
    /// Probability that a batch is mixed (otherwise it is returned unchanged with weights
    /// (1, 0, 0, 0)). Default 1 (the reference always mixes).
    pub prob: f64,
}

impl Default for RicapConfig {
    fn default() -> Self {
        Self {
            beta: 0.3,
            prob: 1.0,
        }
    }
}

impl RicapConfig {
    /// The defaults (see the fields).
    pub fn new() -> Self {
        Self::default()
    }
    /// Rejects invalid hyper-parameters.
    pub fn validate(&self) -> Result<(), MixError> {
        check_probability("ricap.prob", self.prob)?;
        if !(self.beta.is_finite() && self.beta > 0.0) {
            return Err(MixError::InvalidHyperParameter {
                name: "ricap.beta",
                value: self.beta,
                expected: "a positive β",
            });
        }
        Ok(())
    }
}

configured! {
    Ricap(RicapConfig) {
        with_beta => beta: f64,
    }
}

/// One of RICAP's four patches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RicapPatch {
    /// Whose image it is cut from: sample `i` takes the patch of image `perm[i]`.
    pub perm: Permutation,
    /// The crop in the source image.
    pub crop: CutBox,
    /// Where it goes in the output: top-left, bottom-left, top-right, bottom-right.
    pub place: CutBox,
}

/// What RICAP draws for one batch: four patches (k = 0 top-left, 1 bottom-left,
/// 2 top-right, 3 bottom-right).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RicapParams {
    /// Split row `w` (rows of the top patches).
    pub split_row: usize,
    /// Split column `h` (columns of the left patches).
    pub split_col: usize,
    /// The four patches.
    pub patches: [RicapPatch; 4],
}

/// RICAP: the output is tiled from four crops; the target has K = 4 sources weighted by
/// their areas `W_k = rows_k·cols_k/(HW)`. The returned π is the first patch's permutation.
#[derive(Debug, Clone)]
pub struct Ricap {
    config: RicapConfig,
}

impl Ricap {
    /// The parameters for given split point, crop origins and permutations.
    pub fn params(
        batch: BatchShape,
        split_row: usize,
        split_col: usize,
        origins: [(usize, usize); 4],
        perms: [Permutation; 4],
    ) -> RicapParams {
        let (h, w) = (batch.h, batch.w);
        let sizes = [
            (split_row, split_col),
            (h - split_row, split_col),
            (split_row, w - split_col),
            (h - split_row, w - split_col),
        ];
        let places = [
            (0, 0),
            (split_row, 0),
            (0, split_col),
            (split_row, split_col),
        ];
        let patches = std::array::from_fn(|k| RicapPatch {
            perm: perms[k].clone(),
            crop: CutBox {
                y0: origins[k].0,
                x0: origins[k].1,
                h: sizes[k].0,
                w: sizes[k].1,
            },
            place: CutBox {
                y0: places[k].0,
                x0: places[k].1,
                h: sizes[k].0,
                w: sizes[k].1,
            },
        });
        RicapParams {
            split_row,
            split_col,
            patches,
        }
    }
}

impl Mixer for Ricap {
    type Params = RicapParams;

    fn sample(&self, rng: &mut MixRng, batch: BatchShape) -> Result<Self::Params, MixError> {
        batch.require_mixable()?;
        batch.require_size("ricap", 2, 2)?;
        let (h, w) = (batch.h, batch.w);
        if !rng.gate(self.config.prob) {
            // Not mixing: the top-left "patch" is every image itself.
            let identity = std::array::from_fn(|_| Permutation::identity(batch.n));
            return Ok(Self::params(batch, h, w, [(0, 0); 4], identity));
        }
        // numpy's round: half to even.
        let split_row = (h as f64 * rng.beta(self.config.beta)).round_ties_even() as usize;
        let split_col = (w as f64 * rng.beta(self.config.beta)).round_ties_even() as usize;
        let sizes = [
            (split_row, split_col),
            (h - split_row, split_col),
            (split_row, w - split_col),
            (h - split_row, w - split_col),
        ];
        let mut origins = [(0, 0); 4];
        let mut perms: [Permutation; 4] = std::array::from_fn(|_| Permutation::identity(batch.n));
        for k in 0..4 {
            perms[k] = Pairing::RandomPermutation.draw(rng, batch.n);
            origins[k] = (rng.below(h - sizes[k].0 + 1), rng.below(w - sizes[k].1 + 1));
        }
        Ok(Self::params(batch, split_row, split_col, origins, perms))
    }

    fn apply(
        &self,
        params: &Self::Params,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
        _guide: &Guide,
    ) -> Result<Mixed, MixError> {
        let [first, ..] = &params.patches;
        let (pairs, images) = Pairs::check("ricap parameters", images, labels, &first.perm, 1)?;
        let batch = pairs.batch;
        // The four places must tile this image (parameters drawn for other sides would
        // leave part of it black and the weights short of 1).
        let (row, col) = (params.split_row, params.split_col);
        let tiles = (row <= batch.h && col <= batch.w).then(|| {
            Self::params(
                batch,
                row,
                col,
                [(0, 0); 4],
                std::array::from_fn(|_| Permutation::identity(0)),
            )
        });
        let tiled = tiles.is_some_and(|t| {
            t.patches
                .iter()
                .zip(&params.patches)
                .all(|(t, p)| p.place == t.place && (p.crop.h, p.crop.w) == (t.place.h, t.place.w))
        });
        if !tiled {
            return Err(MixError::ShapeMismatch {
                what: "ricap patches",
                expected: format!(
                    "four patches tiling a {}×{} image at its split",
                    batch.h, batch.w
                ),
                got: format!("split ({row}, {col}), patches {:?}", params.patches),
            });
        }
        for p in &params.patches {
            if p.perm.len() != batch.n
                || p.crop.y1() > batch.h
                || p.crop.x1() > batch.w
                || p.place.y1() > batch.h
                || p.place.x1() > batch.w
            {
                return Err(MixError::ShapeMismatch {
                    what: "ricap patch",
                    expected: format!(
                        "inside {}×{}, a permutation of {}",
                        batch.h, batch.w, batch.n
                    ),
                    got: format!(
                        "crop {:?}, place {:?}, a permutation of {}",
                        p.crop,
                        p.place,
                        p.perm.len()
                    ),
                });
            }
        }
        // The four placed patches tile the image.
        let device = pairs.device();
        let mut out = Tensor::<4>::zeros(images.dims(), &device);
        for p in params.patches.iter().filter(|p| !p.crop.is_empty()) {
            let (c, d) = (p.crop, p.place);
            let patch = images
                .clone()
                .slice(s![.., .., c.y0..c.y1(), c.x0..c.x1()])
                .select(0, p.perm.to_tensor(&device));
            out = out.slice_assign(s![.., .., d.y0..d.y1(), d.x0..d.x1()], patch);
        }
        // Patch k of sample i shows sample π_k(i), weighted by the patch's area.
        let area = batch.area() as f64;
        let target = host_target(pairs.labels(), params.patches.len(), |i, k| {
            let p = &params.patches[k];
            (p.perm.as_slice()[i], (p.crop.area() as f64 / area) as f32)
        })?;
        pairs.finish(out, target)
    }
}
