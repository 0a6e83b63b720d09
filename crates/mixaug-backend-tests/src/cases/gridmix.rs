use burn::prelude::*;
use mixaug_masks::{
    BatchShape, CutBox, Grid, GridMixConfig, GridMixParams, Guide, MixRng, Mixer, Permutation,
};

use crate::{assert_close, floats, ints, ramp_batch, ramp_values, swapped_pair_blend};

/// The worked grid of docs/methods.md (GridMix) on 6×10 images (rows × columns): crop
/// rows [0, 6) × columns [1, 9), 4×4 cells with 2×2 holes at their top-left, so the
/// partner shows at rows {0, 1, 4, 5} × columns {1, 2, 5, 6} (16 pixels, every channel);
/// π = (1, 0); base weight `λ' = 1 − 16/60 = 11/15`.
pub fn gridmix_hand_case(device: &Device) {
    let (h, w) = (6, 10);
    let grid = Grid::draw(h, w, 0.75, 2, 1.0, 0.8, 0.75, (0.3, 0.5));
    assert_eq!(
        grid.crop,
        CutBox {
            y0: 0,
            x0: 1,
            h: 6,
            w: 8
        }
    );
    assert_grid_mix(
        device,
        [h, w],
        grid,
        [&[0, 1, 4, 5], &[1, 2, 5, 6]],
        11.0 / 15.0,
    );
}

/// Crops larger than the image (docs/methods.md, GridMix): the grid is laid on the drawn
/// crop, holes are cut at the bottom/right edges and a hole starting above/left of the
/// image is dropped. π = (1, 0); the partner shows at the hole rows × hole columns.
/// - 6×12: crop of 9 rows from row −1 (3×3 cells, 2×2 holes): hole rows {2, 3, 5} (the
///   hole at rows −1–0 dropped, the one at 5–6 cut), columns {3, 4, 6, 7}; λ' = 5/6.
/// - 7×5: crop of 11 columns from column −4 (4×4 cells, 2×2 holes): hole rows {2, 3},
///   columns {0, 1, 4} (the hole at −4 to −3 dropped, the one at 4–5 cut); λ' = 29/35.
pub fn gridmix_crop_past_the_image(device: &Device) {
    let grid = Grid::draw(6, 12, 0.5, 2, 1.0, 0.75, 1.5, (0.5, 0.5));
    assert_grid_mix(
        device,
        [6, 12],
        grid,
        [&[2, 3, 5], &[3, 4, 6, 7]],
        5.0 / 6.0,
    );
    let grid = Grid::draw(7, 5, 0.75, 3, 1.0, 1.0, 0.25, (0.5, 0.75));
    assert_grid_mix(device, [7, 5], grid, [&[2, 3], &[0, 1, 4]], 29.0 / 35.0);
}

/// Mixes a swapped ramp pair of `[h, w]` images with `grid` and checks that the partner
/// shows exactly at `holes = [rows, cols]` (every channel), that the base keeps weight
/// `kept` and that π = (1, 0). The weights come from the mask, not the drawn λ.
fn assert_grid_mix(
    device: &Device,
    [h, w]: [usize; 2],
    grid: Grid,
    holes: [&[usize]; 2],
    kept: f32,
) {
    let c = 2;
    let params = GridMixParams {
        perm: Permutation::new(vec![1, 0]).unwrap(),
        sampled_lam: 0.5,
        grid: Some(grid),
    };
    let mixed = GridMixConfig::new()
        .init()
        .unwrap()
        .apply(
            &params,
            ramp_batch(2, c, h, w, device),
            Tensor::from_ints([3, 7], device),
            &Guide::None,
        )
        .unwrap();
    let [rows, cols] = holes;
    let expected = swapped_pair_blend([c, h, w], |_, _, y, x| {
        if rows.contains(&y) && cols.contains(&x) {
            0.0
        } else {
            1.0
        }
    });
    assert_eq!(floats(mixed.images), expected, "{h}×{w}: {grid:?}");
    assert_eq!(ints(mixed.target.classes()), vec![3, 7, 7, 3]);
    let (a, b) = (kept, 1.0 - kept);
    assert_close(&floats(mixed.target.weights()), &[a, b, a, b], 1e-6);
    assert_eq!(ints(mixed.perm), vec![1, 0]);
}

/// Sampled grids on 9×14 images: the crop lies inside the image, every pixel of sample
/// `i` is its partner's inside the holes (hole rows × hole columns of the one grid) and its
/// own elsewhere, and the base weight is `1 − holes/(HW)`. With the gate closed nothing
/// is mixed (weights 1, 0).
pub fn gridmix_sampled_grids(device: &Device) {
    let (n, c, h, w) = (4, 3, 9, 14);
    let mixer = GridMixConfig::new().init().unwrap();
    let labels = Tensor::<1, Int>::from_ints([0, 1, 2, 3], device);
    let x = ramp_values(n, c, h, w);
    for seed in 0..6 {
        let params = mixer
            .sample(&mut MixRng::from_seed(seed), BatchShape::new(n, c, h, w))
            .unwrap();
        let grid = params.grid.expect("prob 1 always mixes");
        assert!(grid.crop.y1() <= h && grid.crop.x1() <= w, "{grid:?}");
        assert!((0.0..=1.0).contains(&params.sampled_lam));
        let mixed = mixer
            .apply(
                &params,
                ramp_batch(n, c, h, w, device),
                labels.clone(),
                &Guide::None,
            )
            .unwrap();
        let pi = params.perm.as_slice();
        let at = |i: usize, ch: usize, y: usize, xx: usize| ((i * c + ch) * h + y) * w + xx;
        let mut expected = x.clone();
        for (i, &p) in pi.iter().enumerate() {
            for ch in 0..c {
                for y in (0..h).filter(|&y| grid.hole_row(y)) {
                    for xx in (0..w).filter(|&xx| grid.hole_col(xx)) {
                        expected[at(i, ch, y, xx)] = x[at(p, ch, y, xx)];
                    }
                }
            }
        }
        assert_eq!(floats(mixed.images), expected, "seed {seed}: {grid:?}");
        let kept = 1.0 - grid.area(h, w) as f32 / (h * w) as f32;
        let weights = floats(mixed.target.weights());
        for i in 0..n {
            assert_close(&weights[2 * i..2 * i + 2], &[kept, 1.0 - kept], 1e-6);
        }
    }
    let closed = GridMixConfig::new().with_prob(0.0).init().unwrap();
    let params = closed
        .sample(&mut MixRng::from_seed(1), BatchShape::new(n, c, h, w))
        .unwrap();
    assert_eq!((params.grid, params.sampled_lam), (None, 1.0));
}
