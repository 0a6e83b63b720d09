use burn::prelude::*;
use mixaug_masks::{Guide, MixConfig, Mixer, MixupConfig, MixupParams, Permutation};

use crate::{assert_close, floats, ints, ramp_batch, ramp_values};

const SHAPE: [usize; 4] = [2, 3, 4, 6];

fn labels(device: &Device) -> Tensor<1, Int> {
    Tensor::from_ints([4, 9], device)
}

/// `λ·x_i + (1 − λ)·x_π(i)` computed on the host, in the device's f32 order.
fn expected_mix(lams: &[f32], perm: &[usize]) -> Vec<f32> {
    let [n, c, h, w] = SHAPE;
    let x = ramp_values(n, c, h, w);
    let plane = c * h * w;
    (0..n * plane)
        .map(|k| {
            let (i, off) = (k / plane, k % plane);
            let lam = lams[i.min(lams.len() - 1)];
            lam * x[k] + (1.0 - lam) * x[perm[i] * plane + off]
        })
        .collect()
}

/// Mixup with λ = 0.3 and π = (1, 0) on a 2×3×4×6 ramp: every pixel is the affine
/// combination, the target is ((4, 9), (9, 4)) with weights (0.3, 0.7).
pub fn mixup_hand_case(device: &Device) {
    let [n, c, h, w] = SHAPE;
    let mixup = MixupConfig::new().init().unwrap();
    let params = MixupParams {
        perm: Permutation::new(vec![1, 0]).unwrap(),
        lam: vec![0.3],
    };
    let mixed = mixup
        .apply(
            &params,
            ramp_batch(n, c, h, w, device),
            labels(device),
            &Guide::None,
        )
        .unwrap();
    assert_eq!(mixed.images.dims(), SHAPE);
    // 0.3·x + 0.7·x' of integers below 2000: a rounding error of a few ulps at most.
    assert_close(&floats(mixed.images), &expected_mix(&[0.3], &[1, 0]), 1e-3);
    assert_eq!(ints(mixed.target.classes()), vec![4, 9, 9, 4]);
    assert_close(&floats(mixed.target.weights()), &[0.3, 0.7, 0.3, 0.7], 1e-7);
    assert_eq!(ints(mixed.perm), vec![1, 0]);
}

/// Per-sample λ = (0.25, 0.8): each sample uses its own weight.
pub fn mixup_per_sample_hand_case(device: &Device) {
    let [n, c, h, w] = SHAPE;
    let mixup = MixupConfig::new().init().unwrap();
    let params = MixupParams {
        perm: Permutation::new(vec![1, 0]).unwrap(),
        lam: vec![0.25, 0.8],
    };
    let mixed = mixup
        .apply(
            &params,
            ramp_batch(n, c, h, w, device),
            labels(device),
            &Guide::None,
        )
        .unwrap();
    assert_close(
        &floats(mixed.images),
        &expected_mix(&[0.25, 0.8], &[1, 0]),
        1e-3,
    );
    assert_close(
        &floats(mixed.target.weights()),
        &[0.25, 0.75, 0.8, 0.2],
        1e-7,
    );
}

/// λ = 1 and π = identity leave the images exactly unchanged.
pub fn mixup_identity_cases(device: &Device) {
    let [n, c, h, w] = SHAPE;
    let mixup = MixConfig::Mixup(MixupConfig::new()).init().unwrap();
    let original = ramp_values(n, c, h, w);
    for params in [
        MixupParams {
            perm: Permutation::new(vec![1, 0]).unwrap(),
            lam: vec![1.0],
        },
        MixupParams {
            perm: Permutation::identity(2),
            lam: vec![0.37],
        },
    ] {
        let mixed = mixup
            .apply(
                &mixaug_masks::MixParams::Mixup(params),
                ramp_batch(n, c, h, w, device),
                labels(device),
                &Guide::None,
            )
            .unwrap();
        assert_close(&floats(mixed.images), &original, 1e-3);
    }
}
