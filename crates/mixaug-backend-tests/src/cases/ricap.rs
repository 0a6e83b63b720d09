use burn::prelude::*;
use mixaug_masks::{
    BatchShape, Guide, MixRng, Mixer, Permutation, Ricap, RicapConfig, RicapParams,
};

use crate::{assert_close, floats, ints, ramp_batch, ramp_values};

/// The image RICAP must produce, assembled pixel by pixel on the host.
fn expected_tiles(shape: [usize; 4], params: &RicapParams) -> Vec<f32> {
    let [n, c, h, w] = shape;
    let x = ramp_values(n, c, h, w);
    let mut out = vec![f32::NAN; x.len()];
    for p in &params.patches {
        for i in 0..n {
            let src = p.perm.as_slice()[i];
            for ch in 0..c {
                for a in 0..p.crop.h {
                    for b in 0..p.crop.w {
                        out[((i * c + ch) * h + p.place.y0 + a) * w + p.place.x0 + b] =
                            x[((src * c + ch) * h + p.crop.y0 + a) * w + p.crop.x0 + b];
                    }
                }
            }
        }
    }
    out
}

/// Split after row 1 and column 4 of 4×6: patches 1×4 (TL), 3×4 (BL), 1×2 (TR), 3×2
/// (BR) from origins (2,1), (1,0), (3,4), (0,3) with π_k = id, flip, flip, id; by hand the
/// weights are 4/24, 12/24, 2/24, 6/24 (sum 1) and sample 0's classes (4, 9, 9, 4).
pub fn ricap_hand_case(device: &Device) {
    let shape = [2, 3, 4, 6];
    let [n, c, h, w] = shape;
    let id = Permutation::identity(2);
    let flip = Permutation::new(vec![1, 0]).unwrap();
    let params = Ricap::params(
        BatchShape::new(n, c, h, w),
        1,
        4,
        [(2, 1), (1, 0), (3, 4), (0, 3)],
        [id.clone(), flip.clone(), flip, id],
    );
    let mixed = RicapConfig::new()
        .init()
        .unwrap()
        .apply(
            &params,
            ramp_batch(n, c, h, w, device),
            Tensor::from_ints([4, 9], device),
            &Guide::None,
        )
        .unwrap();
    let expected = expected_tiles(shape, &params);
    assert!(
        expected.iter().all(|v| v.is_finite()),
        "the tiles cover the image"
    );
    assert_eq!(floats(mixed.images), expected);
    assert_eq!(ints(mixed.target.classes()), vec![4, 9, 9, 4, 9, 4, 4, 9]);
    let k = [4.0 / 24.0, 12.0 / 24.0, 2.0 / 24.0, 6.0 / 24.0];
    assert_close(&floats(mixed.target.weights()), &[k, k].concat(), 1e-7);
    assert_eq!(ints(mixed.perm), vec![0, 1]);
}

/// A split at row 0 (w = 0) makes the two top patches empty: weight 0, the image tiled
/// from the bottom patches only; sampled parameters always give weights summing to 1 and
/// tiles covering the image; the gate off is the identity.
pub fn ricap_zero_size_patches_and_sampling(device: &Device) {
    let shape = [3, 2, 5, 7];
    let [n, c, h, w] = shape;
    let labels = || Tensor::<1, Int>::from_ints([0, 1, 2], device);
    let id = Permutation::identity(n);
    let roll = Permutation::new(vec![2, 0, 1]).unwrap();
    let params = Ricap::params(
        BatchShape::new(n, c, h, w),
        0,
        3,
        [(0, 0), (0, 2), (0, 0), (0, 0)],
        [id.clone(), roll.clone(), id.clone(), roll],
    );
    let mixed = RicapConfig::new()
        .init()
        .unwrap()
        .apply(
            &params,
            ramp_batch(n, c, h, w, device),
            labels(),
            &Guide::None,
        )
        .unwrap();
    assert_eq!(floats(mixed.images), expected_tiles(shape, &params));
    let weights = floats(mixed.target.weights());
    assert_close(&weights[..4], &[0.0, 3.0 / 7.0, 0.0, 4.0 / 7.0], 1e-7);

    let ricap = RicapConfig::new().init().unwrap();
    for seed in 0..10 {
        let p = ricap
            .sample(&mut MixRng::from_seed(seed), BatchShape::new(n, c, h, w))
            .unwrap();
        let mixed = ricap
            .apply(&p, ramp_batch(n, c, h, w, device), labels(), &Guide::None)
            .unwrap();
        let expected = expected_tiles(shape, &p);
        assert!(expected.iter().all(|v| v.is_finite()));
        assert_eq!(floats(mixed.images), expected);
        let sums = floats(mixed.target.weights().sum_dim(1));
        assert_close(&sums, &[1.0; 3], 1e-6);
    }

    let off = RicapConfig {
        prob: 0.0,
        ..RicapConfig::new()
    }
    .init()
    .unwrap();
    let mixed = off
        .mix(
            &mut MixRng::from_seed(1),
            ramp_batch(n, c, h, w, device),
            labels(),
        )
        .unwrap();
    assert_eq!(floats(mixed.images), ramp_values(n, c, h, w));
    assert_eq!(
        floats(mixed.target.weights()),
        [[1.0, 0.0, 0.0, 0.0]; 3].concat()
    );
}
