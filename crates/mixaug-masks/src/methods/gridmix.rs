//! GridMix: the partner shows through a grid of holes laid over a crop of the base image.
//!
//! Baek, Bang, Shim, *GridMix: Strong regularization through local context mapping*,
//! Pattern Recognition 110, 2021. Reference code: openmixup
//! `openmixup/models/augments/gridmix.py` (after IlyaDobrynin/GridMixup). Spec:
//! docs/methods.md, "GridMix".
//!
//! Non-square images: rows always go with H and columns with W (the reference names them
//! the other way round and is only right for square images).

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{check_alpha, check_probability};
use crate::mixer::{Pairs, configured, open_pairs};
use crate::ops::{LineMask, Mask, Source, blend};
use crate::{BatchShape, CutBox, Guide, MixError, MixRng, Mixed, Mixer, Pairing, Permutation};

/// Configuration of [`GridMix`]. Each `[lo, hi]` range is drawn from once per batch
/// (uniformly; equal bounds fix the value), as openmixup's `to_2tuple` options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GridMixConfig {
    /// Concentration α of `λ ~ Beta(α, α)`, which sets the holes' share of each grid cell
    /// (`√(1 − λ)` of its sides). Default 1 (openmixup). `α = 0` means λ = 1: the smallest
    /// holes (one pixel), not none; `α < 0` is an error.
    pub alpha: f64,
    /// Probability that a batch is mixed. Default 1 (openmixup).
    pub prob: f64,
    /// Range of the number of grid cells across the crop, `U{lo..hi}`. Default `[2, 6]`
    /// (openmixup's CIFAR benchmark; its function default 20 needs crops ≥ 40 columns).
    /// Clipped to half the crop's columns, where the reference stops on an assertion.
    pub n_holes: [usize; 2],
    /// Range of a cell's rows per column, `U(lo, hi)`. Default `[1, 1]` (square cells).
    pub hole_aspect_ratio: [f64; 2],
    /// Range of the crop's share of the image area, `U(lo, hi)`. Default `[0.5, 1]`
    /// (openmixup's CIFAR benchmark).
    pub cut_area_ratio: [f64; 2],
    /// Range of the crop's rows per column, `U(lo, hi)`. Default `[0.5, 2]` (openmixup's
    /// CIFAR benchmark). The crop is clipped to the image.
    pub cut_aspect_ratio: [f64; 2],
    /// How partners are chosen. Default: a random permutation (reference).
    pub pairing: Pairing,
}

impl Default for GridMixConfig {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            prob: 1.0,
            n_holes: [2, 6],
            hole_aspect_ratio: [1.0, 1.0],
            cut_area_ratio: [0.5, 1.0],
            cut_aspect_ratio: [0.5, 2.0],
            pairing: Pairing::RandomPermutation,
        }
    }
}

impl GridMixConfig {
    /// The defaults: α = 1, prob = 1, 2–6 square cells across a crop of 50–100 % of the
    /// image with 0.5–2 rows per column, random permutation.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rejects invalid hyper-parameters.
    pub fn validate(&self) -> Result<(), MixError> {
        check_alpha("gridmix.alpha", self.alpha)?;
        check_probability("gridmix.prob", self.prob)?;
        let [lo, hi] = self.n_holes;
        if lo == 0 || lo > hi {
            return Err(MixError::InvalidHyperParameter {
                name: "gridmix.n_holes",
                value: lo as f64,
                expected: "a range [lo, hi] with 1 ≤ lo ≤ hi",
            });
        }
        for (name, [lo, hi], max) in [
            (
                "gridmix.hole_aspect_ratio",
                self.hole_aspect_ratio,
                f64::MAX,
            ),
            ("gridmix.cut_area_ratio", self.cut_area_ratio, 1.0),
            ("gridmix.cut_aspect_ratio", self.cut_aspect_ratio, f64::MAX),
        ] {
            if !(lo.is_finite() && hi.is_finite() && 0.0 < lo && lo <= hi && hi <= max) {
                return Err(MixError::InvalidHyperParameter {
                    name,
                    value: lo,
                    expected: "a range [lo, hi] with 0 < lo ≤ hi (≤ 1 for an area ratio)",
                });
            }
        }
        Ok(())
    }
}

configured! {
    GridMix(GridMixConfig) {
        with_alpha => alpha: f64,
        with_prob => prob: f64,
        with_n_holes => n_holes: [usize; 2],
        with_hole_aspect_ratio => hole_aspect_ratio: [f64; 2],
        with_cut_area_ratio => cut_area_ratio: [f64; 2],
        with_cut_aspect_ratio => cut_aspect_ratio: [f64; 2],
        with_pairing => pairing: Pairing,
    }
}

/// The grid of one batch: within `crop`, cells of `cell_rows × cell_cols` pixels from the
/// crop's top-left corner, each with a hole of `hole_rows × hole_cols` at its top-left,
/// clipped to the crop. Inside the holes the partner's pixels replace the base's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grid {
    /// The crop the grid covers.
    pub crop: CutBox,
    /// Rows of a cell.
    pub cell_rows: usize,
    /// Columns of a cell.
    pub cell_cols: usize,
    /// Rows of a hole (0: no hole).
    pub hole_rows: usize,
    /// Columns of a hole (0: no hole).
    pub hole_cols: usize,
}

impl Grid {
    /// The reference's grid for one set of draws on an `h × w` image: λ, the number of
    /// cells across, the cell and crop aspect ratios (rows per column), the crop's area
    /// ratio and its corner fractions `corner = (u_row, u_col)` in `[0, 1)`.
    /// (An aspect that makes cells of no row, where the reference divides by zero, gives
    /// cells of one row and no holes.)
    ///
    /// Crop: `⌊h·w·area⌋` pixels, `cols = ⌊√(pixels / aspect)⌋`, `rows = ⌊cols·aspect⌋`
    /// (each clipped to the image), corner `(⌊(h − rows)·u_row⌋, ⌊(w − cols)·u_col⌋)`.
    /// Cells: `cell_cols = ⌈cols / n⌉` (`n` clipped to `[1, cols / 2]`),
    /// `cell_rows = ⌊cell_cols·hole_aspect⌋`; holes `⌊cell·√(1 − λ)⌋` per side, clamped to
    /// `[1, cell − 1]`.
    #[allow(clippy::too_many_arguments)]
    pub fn draw(
        h: usize,
        w: usize,
        lam: f64,
        n_holes: usize,
        hole_aspect: f64,
        cut_area: f64,
        cut_aspect: f64,
        corner: (f64, f64),
    ) -> Self {
        let pixels = ((h * w) as f64 * cut_area) as usize;
        let cols = ((pixels as f64 / cut_aspect).sqrt() as usize).min(w);
        let rows = ((cols as f64 * cut_aspect) as usize).min(h);
        let crop = CutBox {
            y0: ((h - rows) as f64 * corner.0) as usize,
            x0: ((w - cols) as f64 * corner.1) as usize,
            h: rows,
            w: cols,
        };
        let n = n_holes.clamp(1, (cols / 2).max(1));
        let cell_cols = cols.div_ceil(n).max(1);
        let cell_rows = ((cell_cols as f64 * hole_aspect) as usize).max(1);
        let ratio = (1.0 - lam).max(0.0).sqrt();
        let hole = |cell: usize| ((cell as f64 * ratio) as usize).max(1).min(cell - 1);
        Self {
            crop,
            cell_rows,
            cell_cols,
            hole_rows: hole(cell_rows),
            hole_cols: hole(cell_cols),
        }
    }

    /// Whether line `k` of a crop side of `len` lies in a hole (cells of `cell`, holes of
    /// `hole` at their start).
    fn in_hole(k: usize, len: usize, cell: usize, hole: usize) -> bool {
        k < len && k % cell < hole
    }

    /// Whether image row `y` crosses the holes.
    pub fn hole_row(&self, y: usize) -> bool {
        let c = self.crop;
        (c.y0..c.y1()).contains(&y) && Self::in_hole(y - c.y0, c.h, self.cell_rows, self.hole_rows)
    }

    /// Whether image column `x` crosses the holes.
    pub fn hole_col(&self, x: usize) -> bool {
        let c = self.crop;
        (c.x0..c.x1()).contains(&x) && Self::in_hole(x - c.x0, c.w, self.cell_cols, self.hole_cols)
    }

    /// Pixels of an `h × w` image inside the holes: the holes are the product of the hole
    /// rows and the hole columns.
    pub fn area(&self, h: usize, w: usize) -> usize {
        (0..h).filter(|&y| self.hole_row(y)).count() * (0..w).filter(|&x| self.hole_col(x)).count()
    }
}

/// What GridMix draws for one batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GridMixParams {
    /// The partner of each sample.
    pub perm: Permutation,
    /// The λ drawn from `Beta(α, α)`, which sized the holes (1 when the gate did not fire).
    pub sampled_lam: f64,
    /// The grid shared by the batch; `None` when the gate did not fire (nothing is mixed).
    pub grid: Option<Grid>,
}

/// GridMix: `x̃_i = (1 − M) ⊙ x_i + M ⊙ x_π(i)` with `M` the holes of one [`Grid`] shared
/// by the batch; the base label keeps `λ' = 1 − |M|/(HW)`.
#[derive(Debug, Clone)]
pub struct GridMix {
    config: GridMixConfig,
}

impl Mixer for GridMix {
    type Params = GridMixParams;

    /// Draws the gate, λ, the number of cells, the three ratios, π and the crop's corner.
    fn sample(&self, rng: &mut MixRng, batch: BatchShape) -> Result<GridMixParams, MixError> {
        let c = &self.config;
        let range = |rng: &mut MixRng, [lo, hi]: [f64; 2]| lo + (hi - lo) * rng.uniform();
        let (draws, perm) = open_pairs(rng, batch, c.prob, c.pairing, |rng, mixing| {
            mixing.then(|| {
                let lam = rng.beta(c.alpha);
                let n_holes = c.n_holes[0] + rng.below(c.n_holes[1] - c.n_holes[0] + 1);
                let hole_aspect = range(rng, c.hole_aspect_ratio);
                let cut_area = range(rng, c.cut_area_ratio);
                let cut_aspect = range(rng, c.cut_aspect_ratio);
                (lam, n_holes, hole_aspect, cut_area, cut_aspect)
            })
        })?;
        let Some((lam, n_holes, hole_aspect, cut_area, cut_aspect)) = draws else {
            return Ok(GridMixParams {
                perm,
                sampled_lam: 1.0,
                grid: None,
            });
        };
        // The reference draws the column fraction first.
        let u_col = rng.uniform();
        let corner = (rng.uniform(), u_col);
        let grid = Grid::draw(
            batch.h,
            batch.w,
            lam,
            n_holes,
            hole_aspect,
            cut_area,
            cut_aspect,
            corner,
        );
        Ok(GridMixParams {
            perm,
            sampled_lam: lam,
            grid: Some(grid),
        })
    }

    fn apply(
        &self,
        params: &GridMixParams,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
        _guide: &Guide,
    ) -> Result<Mixed, MixError> {
        let (pairs, images) = Pairs::check("gridmix parameters", images, labels, &params.perm, 1)?;
        let b = pairs.batch;
        let Some(grid) = params.grid else {
            return pairs.mixed(images, &[1.0]);
        };
        let crop = grid.crop;
        if crop.y1() > b.h || crop.x1() > b.w || grid.cell_rows == 0 || grid.cell_cols == 0 {
            return Err(MixError::ShapeMismatch {
                what: "gridmix grid",
                expected: format!("a crop inside {}×{} with non-empty cells", b.h, b.w),
                got: format!("{grid:?}"),
            });
        }
        // Rows crossing the holes keep the base outside the hole columns; the others keep
        // it everywhere.
        let mut keep = LineMask::new(b.w);
        let whole = keep.constant(1.0);
        let holed = keep.pattern((0..b.w).map(|x| if grid.hole_col(x) { 0.0 } else { 1.0 }));
        for _ in 0..b.n {
            for y in 0..b.h {
                keep.lines(if grid.hole_row(y) { holed } else { whole }, 1);
            }
        }
        let images = blend(
            images,
            Source::Partner(pairs.partners()),
            &Mask::Lines(keep),
        );
        let kept = 1.0 - grid.area(b.h, b.w) as f64 / b.area() as f64;
        pairs.mixed(images, &[kept])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 6×10 (rows × columns), area ratio 0.8 → 48 pixels; aspect 0.75 → ⌊√64⌋ = 8 columns,
    /// ⌊8·0.75⌋ = 6 rows; corner (⌊0·0.3⌋, ⌊2·0.5⌋) = (0, 1). Two cells across: cells
    /// ⌈8/2⌉ = 4 columns and ⌊4·1⌋ = 4 rows; λ = 0.75 → holes ⌊4·0.5⌋ = 2 per side.
    /// Hole columns 1, 2, 5, 6 (crop columns 0, 1, 4, 5); hole rows 0, 1, 4, 5.
    #[test]
    fn worked_grid_on_a_non_square_image() {
        let grid = Grid::draw(6, 10, 0.75, 2, 1.0, 0.8, 0.75, (0.3, 0.5));
        assert_eq!(
            grid,
            Grid {
                crop: CutBox {
                    y0: 0,
                    x0: 1,
                    h: 6,
                    w: 8
                },
                cell_rows: 4,
                cell_cols: 4,
                hole_rows: 2,
                hole_cols: 2,
            }
        );
        let rows: Vec<usize> = (0..6).filter(|&y| grid.hole_row(y)).collect();
        let cols: Vec<usize> = (0..10).filter(|&x| grid.hole_col(x)).collect();
        assert_eq!((rows, cols), (vec![0, 1, 4, 5], vec![1, 2, 5, 6]));
        assert_eq!(grid.area(6, 10), 16);
        // Cells of one column or row have no hole (the reference's `cell − 1` cap), and
        // more cells than half the crop's columns are clipped (the reference asserts).
        let thin = Grid::draw(6, 10, 0.5, 50, 0.2, 1.0, 0.6, (0.0, 0.0));
        assert_eq!((thin.cell_cols, thin.cell_rows, thin.hole_rows), (2, 1, 0));
        assert_eq!(thin.area(6, 10), 0);
    }
}
