use burn::prelude::*;
use mixaug_masks::{
    BatchShape, CutBox, Guide, MixRng, Mixer, Permutation, ResizeMixConfig, ResizeMixParams,
    nearest_indices,
};

use crate::{assert_close, floats, ints, ramp_batch, ramp_values};

/// The ramp with the whole partner, nearest-resized, pasted into `region`.
fn expected_resize_paste(shape: [usize; 4], region: CutBox, perm: &[usize]) -> Vec<f32> {
    let [n, c, h, w] = shape;
    let x = ramp_values(n, c, h, w);
    let mut out = x.clone();
    let rows = nearest_indices(h, region.h);
    let cols = nearest_indices(w, region.w);
    for i in 0..n {
        for ch in 0..c {
            for (a, &sy) in rows.iter().enumerate() {
                for (b, &sx) in cols.iter().enumerate() {
                    out[((i * c + ch) * h + region.y0 + a) * w + region.x0 + b] =
                        x[((perm[i] * c + ch) * h + sy as usize) * w + sx as usize];
                }
            }
        }
    }
    out
}

/// Box rows [1,3) × cols [2,5) on 4×6 with π = (1, 0): by hand the shrunk partner reads
/// rows (0, 2) and columns (0, 2, 4) (PyTorch legacy nearest, scales 2 and 2); λ = 1 −
/// 6/24 = 0.75. An empty box leaves the batch unchanged with λ = 1.
pub fn resizemix_hand_case(device: &Device) {
    let shape = [2, 3, 4, 6];
    let [n, c, h, w] = shape;
    assert_eq!(nearest_indices(4, 2), vec![0, 2]);
    assert_eq!(nearest_indices(6, 3), vec![0, 2, 4]);
    let mixer = ResizeMixConfig::new().init().unwrap();
    let region = CutBox {
        y0: 1,
        x0: 2,
        h: 2,
        w: 3,
    };
    let params = ResizeMixParams {
        perm: Permutation::new(vec![1, 0]).unwrap(),
        tau: 0.5,
        region,
    };
    let mixed = mixer
        .apply(
            &params,
            ramp_batch(n, c, h, w, device),
            Tensor::from_ints([4, 9], device),
            &Guide::None,
        )
        .unwrap();
    assert_eq!(
        floats(mixed.images),
        expected_resize_paste(shape, region, &[1, 0])
    );
    assert_eq!(ints(mixed.target.classes()), vec![4, 9, 9, 4]);
    assert_close(
        &floats(mixed.target.weights()),
        &[0.75, 0.25, 0.75, 0.25],
        1e-7,
    );

    let empty = ResizeMixParams {
        region: CutBox::default(),
        ..params
    };
    let mixed = mixer
        .apply(
            &empty,
            ramp_batch(n, c, h, w, device),
            Tensor::from_ints([4, 9], device),
            &Guide::None,
        )
        .unwrap();
    assert_eq!(floats(mixed.images), ramp_values(n, c, h, w));
    assert_eq!(floats(mixed.target.weights()), vec![1.0, 0.0, 1.0, 0.0]);
}

/// Sampled on 5×7 (non-square): the box has ⌊5τ⌋-ish rows and ⌊7τ⌋-ish columns before
/// clipping, lies inside the image, and the pasted region is the nearest resize of the
/// whole partner.
pub fn resizemix_sampled_paste(device: &Device) {
    let shape = [3, 2, 5, 7];
    let [n, c, h, w] = shape;
    let mixer = ResizeMixConfig::new().init().unwrap();
    for seed in 0..8 {
        let p = mixer
            .sample(&mut MixRng::from_seed(seed), BatchShape::new(n, c, h, w))
            .unwrap();
        let b = p.region;
        assert!((0.1..=0.8).contains(&p.tau));
        assert!(b.h <= (h as f64 * p.tau) as usize && b.w <= (w as f64 * p.tau) as usize);
        assert!(b.y1() <= h && b.x1() <= w, "{b:?}");
        let mixed = mixer
            .apply(
                &p,
                ramp_batch(n, c, h, w, device),
                Tensor::from_ints([0, 1, 2], device),
                &Guide::None,
            )
            .unwrap();
        assert_eq!(
            floats(mixed.images),
            expected_resize_paste(shape, b, p.perm.as_slice())
        );
    }
}
