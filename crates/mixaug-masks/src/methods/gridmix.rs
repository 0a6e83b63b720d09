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
    /// CIFAR benchmark). The grid is laid on the unclipped crop, which may be larger than
    /// the image; its holes are then clipped to the image ([`Grid`]).
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

/// The grid of one batch, laid from the corner of the drawn crop in cells of
/// `cell_rows × cell_cols` pixels, each with a hole of `hole_rows × hole_cols` at its
/// top-left, clipped to the crop. Inside the holes the partner's pixels replace the base's.
///
/// The drawn crop may be larger than the image (the reference does not clip it): `crop` is
/// its part inside the image and `overhang` how far it starts above and to the left of the
/// image. Holes are cut at the image's bottom and right edges; a hole that starts above the
/// top edge or left of the left edge is dropped (docs/methods.md, "GridMix").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grid {
    /// The part of the drawn crop inside the image (all of it when it fits).
    pub crop: CutBox,
    /// Rows above the image's top edge and columns left of its left edge of the drawn
    /// crop, whose corner is `(crop.y0 − overhang.0, crop.x0 − overhang.1)`; `(0, 0)`
    /// when the crop starts inside the image.
    #[serde(default)]
    pub overhang: (usize, usize),
    /// Rows of a cell.
    pub cell_rows: usize,
    /// Columns of a cell.
    pub cell_cols: usize,
    /// Rows of a hole (0: no hole).
    pub hole_rows: usize,
    /// Columns of a hole (0: no hole).
    pub hole_cols: usize,
}

/// One side of the drawn crop on an image side of `len` pixels: the crop's `span` pixels
/// start at `int((len − span)·u)`, rounded toward zero (Python's `int`, as the reference),
/// negative when the crop is longer than the image. Returns the part inside the image
/// (start, length) and how far the crop starts before it.
fn place(len: usize, span: usize, u: f64) -> (usize, usize, usize) {
    // Saturating casts: the bounds stay ordered for any span (properties try 1e300).
    let start = ((len as f64 - span as f64) * u) as i128;
    let end = start.saturating_add(span as i128);
    let (lo, hi) = (start.clamp(0, len as i128), end.clamp(0, len as i128));
    let overhang = usize::try_from(lo - start).unwrap_or(usize::MAX);
    (lo as usize, (hi - lo) as usize, overhang)
}

impl Grid {
    /// The reference's grid for one set of draws on an `h × w` image: λ, the number of
    /// cells across, the cell and crop aspect ratios (rows per column), the crop's area
    /// ratio and its corner fractions `corner = (u_row, u_col)` in `[0, 1)`.
    /// (An aspect that makes cells of no row, where the reference divides by zero, gives
    /// cells of one row and no holes.)
    ///
    /// Crop: `⌊h·w·area⌋` pixels, `cols = ⌊√(pixels / aspect)⌋`, `rows = ⌊cols·aspect⌋`
    /// (from the unclipped `cols`; neither is clipped to the image), corner
    /// `(int((h − rows)·u_row), int((w − cols)·u_col))` with `int` rounding toward zero
    /// (negative when the crop is longer than the image on that side).
    /// Cells, from the unclipped crop: `cell_cols = ⌈cols / n⌉` (`n` clipped to
    /// `[1, cols / 2]`), `cell_rows = ⌊cell_cols·hole_aspect⌋`; holes `⌊cell·√(1 − λ)⌋`
    /// per side, clamped to `[1, cell − 1]`. Only then is the crop clipped to the image.
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
        let cols = (pixels as f64 / cut_aspect).sqrt() as usize;
        let rows = (cols as f64 * cut_aspect) as usize;
        let (y0, crop_h, over_rows) = place(h, rows, corner.0);
        let (x0, crop_w, over_cols) = place(w, cols, corner.1);
        let crop = CutBox {
            y0,
            x0,
            h: crop_h,
            w: crop_w,
        };
        let n = n_holes.clamp(1, (cols / 2).max(1));
        let cell_cols = cols.div_ceil(n).max(1);
        let cell_rows = ((cell_cols as f64 * hole_aspect) as usize).max(1);
        let ratio = (1.0 - lam).max(0.0).sqrt();
        let hole = |cell: usize| ((cell as f64 * ratio) as usize).max(1).min(cell - 1);
        Self {
            crop,
            overhang: (over_rows, over_cols),
            cell_rows,
            cell_cols,
            hole_rows: hole(cell_rows),
            hole_cols: hole(cell_cols),
        }
    }

    /// Whether image line `at` lies in a hole, on a side where the crop's part in the
    /// image is `[start, end)` and the crop starts `overhang` lines before `start` (cells
    /// of `cell`, holes of `hole` at their start). Holes end at the crop's end (the image's
    /// when the crop is longer). A hole starting before the image (`at − (k mod cell) < 0`,
    /// `k` the crop line) is dropped: the reference's negative slice start makes such a hole
    /// empty when it reaches into the image and wraps it round to the far side when it lies
    /// wholly before; we drop both.
    fn in_hole(
        at: usize,
        start: usize,
        end: usize,
        overhang: usize,
        cell: usize,
        hole: usize,
    ) -> bool {
        if !(start..end).contains(&at) {
            return false;
        }
        // In u128: the overhang of a crop drawn with an absurd aspect nears usize::MAX.
        let phase = ((overhang as u128 + (at - start) as u128) % cell as u128) as usize;
        phase < hole && phase <= at
    }

    /// Whether image row `y` crosses the holes.
    pub fn hole_row(&self, y: usize) -> bool {
        let c = self.crop;
        Self::in_hole(
            y,
            c.y0,
            c.y1(),
            self.overhang.0,
            self.cell_rows,
            self.hole_rows,
        )
    }

    /// Whether image column `x` crosses the holes.
    pub fn hole_col(&self, x: usize) -> bool {
        let c = self.crop;
        Self::in_hole(
            x,
            c.x0,
            c.x1(),
            self.overhang.1,
            self.cell_cols,
            self.hole_cols,
        )
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
                overhang: (0, 0),
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

    fn holes(grid: &Grid, h: usize, w: usize) -> (Vec<usize>, Vec<usize>) {
        let rows = (0..h).filter(|&y| grid.hole_row(y)).collect();
        let cols = (0..w).filter(|&x| grid.hole_col(x)).collect();
        (rows, cols)
    }

    /// A crop taller than a 6×12 image (rows × columns), its corner above the top edge.
    /// Area ratio 0.75 → 54 pixels; aspect 1.5 → ⌊√36⌋ = 6 columns, ⌊6·1.5⌋ = 9 rows
    /// (> 6, not clipped); corner (int(−3·0.5), ⌊6·0.5⌋) = (−1, 3). Two cells across:
    /// cells ⌈6/2⌉ = 3 columns and 3 rows; λ = 0.5 → holes ⌊3·0.707⌋ = 2 per side.
    /// Crop rows 0–8 hold holes at 0–1, 3–4, 6–7, i.e. image rows −1–0 (starts above the
    /// top edge: dropped, as the reference, whose slice `-1:1` is empty), 2–3, and 5–6 (cut
    /// at the bottom edge to row 5). Columns 3–8: holes at 3–4 and 6–7. 3 × 4 = 12 pixels,
    /// λ' = 1 − 12/72 = 5/6. (Clipping the crop first, as before, gave rows {0, 1, 3, 4}.)
    #[test]
    fn crop_past_the_top_and_bottom_edges() {
        let grid = Grid::draw(6, 12, 0.5, 2, 1.0, 0.75, 1.5, (0.5, 0.5));
        assert_eq!(
            grid,
            Grid {
                crop: CutBox {
                    y0: 0,
                    x0: 3,
                    h: 6,
                    w: 6
                },
                overhang: (1, 0),
                cell_rows: 3,
                cell_cols: 3,
                hole_rows: 2,
                hole_cols: 2,
            }
        );
        assert_eq!(holes(&grid, 6, 12), (vec![2, 3, 5], vec![3, 4, 6, 7]));
        assert_eq!(grid.area(6, 12), 12);
    }

    /// A crop wider than a 7×5 image, its corner left of the left edge. Area ratio 1 → 35
    /// pixels; aspect 0.25 → ⌊√140⌋ = 11 columns (> 5), ⌊11·0.25⌋ = 2 rows; corner
    /// (⌊5·0.5⌋, int(−6·0.75)) = (2, −4) (rounded toward zero, as Python's `int`, not
    /// down). Three cells across: cells ⌈11/3⌉ = 4 columns, 4 rows; λ = 0.75 → holes 2 per
    /// side. Crop columns 0–10 hold holes at 0–1, 4–5, 8–9, i.e. image columns −4 to −3
    /// (wholly before the image: dropped, where the reference's slice `-4:-2` wraps it
    /// round to columns 1–2), 0–1, and 4–5 (cut at the right edge to column 4). Rows: the
    /// crop's rows 2–3 are both hole rows. 2 × 3 = 6 pixels, λ' = 1 − 6/35 = 29/35.
    #[test]
    fn crop_past_the_left_and_right_edges() {
        let grid = Grid::draw(7, 5, 0.75, 3, 1.0, 1.0, 0.25, (0.5, 0.75));
        assert_eq!(
            grid,
            Grid {
                crop: CutBox {
                    y0: 2,
                    x0: 0,
                    h: 2,
                    w: 5
                },
                overhang: (0, 4),
                cell_rows: 4,
                cell_cols: 4,
                hole_rows: 2,
                hole_cols: 2,
            }
        );
        assert_eq!(holes(&grid, 7, 5), (vec![2, 3], vec![0, 1, 4]));
        assert_eq!(grid.area(7, 5), 6);
        // The same crop from column 0: past the right edge only. The cells still come from
        // the 11 drawn columns (4 wide; clipping first gave 5 columns, 2 cells of 3 and
        // 1-pixel holes at rows {3}, columns {0, 3}).
        let right = Grid::draw(7, 5, 0.75, 3, 1.0, 1.0, 0.25, (0.5, 0.0));
        assert_eq!((right.overhang, right.cell_cols), ((0, 0), 4));
        assert_eq!(holes(&right, 7, 5), (vec![2, 3], vec![0, 1, 4]));
    }

    /// The corner rounds toward zero and the crop's part in the image is what lies inside.
    #[test]
    fn placing_a_crop_side() {
        assert_eq!(place(10, 8, 0.5), (1, 8, 0));
        assert_eq!(place(5, 11, 0.75), (0, 5, 4));
        assert_eq!(place(5, 11, 0.0), (0, 5, 0));
        assert_eq!(place(6, 9, 0.9), (0, 6, 2));
        assert_eq!(place(6, usize::MAX, 0.5), (0, 6, usize::MAX / 2 + 1));
    }
}
