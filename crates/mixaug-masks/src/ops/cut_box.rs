//! The CutMix box (METHODS.md §0.3), shared by CutMix, SaliencyMix, SnapMix and Cutout.

use serde::{Deserialize, Serialize};

use crate::MixRng;

/// An axis-aligned box of pixels: rows `y0..y0+h`, columns `x0..x0+w` (half-open).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
pub struct CutBox {
    /// First row.
    pub y0: usize,
    /// First column.
    pub x0: usize,
    /// Number of rows.
    pub h: usize,
    /// Number of columns.
    pub w: usize,
}

impl CutBox {
    /// The §0.3 box for ratio `lam` centred at row `r`, column `c` of an `height × width`
    /// image: cut sides `⌊height·√(1−λ)⌋` and `⌊width·√(1−λ)⌋`, half-sides `⌊cut/2⌋` on
    /// each side of the centre (so the unclipped side is `2·⌊cut/2⌋`), clipped to the image.
    ///
    /// ```
    /// use mixaug_masks::CutBox;
    /// // METHODS.md §0.3: H = W = 32, λ = 0.7, centre (2, 20) → rows [0,10), cols [12,28).
    /// let b = CutBox::around(32, 32, 0.7, 2, 20);
    /// assert_eq!(b, CutBox { y0: 0, x0: 12, h: 10, w: 16 });
    /// assert_eq!(b.kept_fraction(32, 32), 0.84375);
    /// ```
    pub fn around(height: usize, width: usize, lam: f64, r: usize, c: usize) -> Self {
        Self::with_side_ratio(height, width, (1.0 - lam).max(0.0).sqrt(), r, c)
    }

    /// The §0.3 box whose cut sides are `⌊height·ρ⌋ × ⌊width·ρ⌋` for a side ratio `ρ`
    /// given directly (ResizeMix's τ), centred at row `r`, column `c`, clipped.
    pub fn with_side_ratio(height: usize, width: usize, ratio: f64, r: usize, c: usize) -> Self {
        let half_h = ((height as f64 * ratio).floor() as usize) / 2;
        let half_w = ((width as f64 * ratio).floor() as usize) / 2;
        Self::centred(height, width, half_h, half_w, r, c)
    }

    /// The §0.3 clipping rule: rows `[r − half_h, r + half_h)` and columns
    /// `[c − half_w, c + half_w)`, clipped to the `height × width` image (Cutout's per-image
    /// square uses it with `half = side/2`).
    ///
    /// ```
    /// use mixaug_masks::CutBox;
    /// // 6×10 image, half sides 2 × 3 around (1, 9): rows [0, 3), columns [6, 10).
    /// assert_eq!(CutBox::centred(6, 10, 2, 3, 1, 9), CutBox { y0: 0, x0: 6, h: 3, w: 4 });
    /// ```
    pub fn centred(
        height: usize,
        width: usize,
        half_h: usize,
        half_w: usize,
        r: usize,
        c: usize,
    ) -> Self {
        let (y0, y1) = (r.saturating_sub(half_h), (r + half_h).min(height));
        let (x0, x1) = (c.saturating_sub(half_w), (c + half_w).min(width));
        Self {
            y0,
            x0,
            h: y1.saturating_sub(y0),
            w: x1.saturating_sub(x0),
        }
    }

    /// The §0.3 box for ratio `lam` with a uniform random centre `U{0..H−1} × U{0..W−1}`.
    pub fn sample(rng: &mut MixRng, height: usize, width: usize, lam: f64) -> Self {
        let r = rng.below(height);
        let c = rng.below(width);
        Self::around(height, width, lam, r, c)
    }

    /// Number of pixels inside the box.
    pub fn area(&self) -> usize {
        self.h * self.w
    }

    /// Whether the box holds no pixel.
    pub fn is_empty(&self) -> bool {
        self.area() == 0
    }

    /// One past the last row.
    pub fn y1(&self) -> usize {
        self.y0 + self.h
    }

    /// One past the last column.
    pub fn x1(&self) -> usize {
        self.x0 + self.w
    }

    /// `1 − area/(H·W)`: the fraction of an `height × width` image outside the box — the
    /// recomputed ratio λ' every box method trains with.
    pub fn kept_fraction(&self, height: usize, width: usize) -> f64 {
        1.0 - self.area() as f64 / (height * width) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_example_unclipped() {
        // METHODS.md §0.3: H=W=32, λ=0.7 → cut 17, half 8, side 16 → λ' = 0.75.
        let b = CutBox::around(32, 32, 0.7, 16, 16);
        assert_eq!((b.h, b.w), (16, 16));
        assert_eq!(b.kept_fraction(32, 32), 0.75);
    }

    #[test]
    fn odd_cut_loses_a_pixel_and_non_square_uses_rows_for_h() {
        // H=5, W=9, λ=0.36: ρ=0.8, cut_h=⌊4.0⌋=4 → side 4; cut_w=⌊7.2⌋=7 → side 6.
        let b = CutBox::around(5, 9, 0.36, 2, 4);
        assert_eq!(
            b,
            CutBox {
                y0: 0,
                x0: 1,
                h: 4,
                w: 6
            }
        );
    }

    #[test]
    fn lambda_one_gives_an_empty_box() {
        let b = CutBox::around(32, 32, 1.0, 5, 5);
        assert!(b.is_empty());
        assert_eq!(b.kept_fraction(32, 32), 1.0);
    }

    #[test]
    fn lambda_zero_covers_the_image_from_the_centre() {
        let b = CutBox::around(4, 6, 0.0, 2, 3);
        assert_eq!(
            b,
            CutBox {
                y0: 0,
                x0: 0,
                h: 4,
                w: 6
            }
        );
        // From a corner only a quarter is covered.
        let c = CutBox::around(4, 6, 0.0, 0, 0);
        assert_eq!(
            c,
            CutBox {
                y0: 0,
                x0: 0,
                h: 2,
                w: 3
            }
        );
    }

    #[test]
    fn property_kept_fraction_is_one_minus_area() {
        let mut rng = MixRng::from_seed(11);
        for _ in 0..2000 {
            let (h, w) = (2 + rng.below(40), 2 + rng.below(40));
            let lam = rng.uniform();
            let b = CutBox::sample(&mut rng, h, w, lam);
            assert!(b.y1() <= h && b.x1() <= w);
            assert!(b.h <= 2 * ((h as f64 * (1.0 - lam).sqrt()) as usize / 2));
            let expected = 1.0 - (b.h * b.w) as f64 / (h * w) as f64;
            assert_eq!(b.kept_fraction(h, w), expected);
        }
    }
}
