use burn::prelude::*;
use mixaug_masks::{
    BatchShape, Guide, MixRng, Mixer, Permutation, SmoothMix, SmoothMixConfig, SmoothMixLabel,
    SmoothMixParams,
};

use crate::{assert_close, floats, ints, ramp_batch, ramp_values, swapped_pair_blend};

/// σ = 2, centre (1, 2) on 4×6 with π = (1, 0): by hand `G = exp(−((y−1)² + (x−2)²)/8)`,
/// `x̃ = (1 − G)·x + G·x_π` (G = 1 at the peak: the partner's pixel exactly), base weight
/// `1 − mean(G)` (Paper) or `mean(G)` (openmixup).
pub fn smoothmix_hand_case(device: &Device) {
    let (n, c, h, w) = (2, 3, 4, 6);
    let params = SmoothMixParams {
        perm: Permutation::new(vec![1, 0]).unwrap(),
        sigma: 2.0,
        row: 1.0,
        col: 2.0,
    };
    let g: Vec<f64> = (0..h * w)
        .map(|p| {
            let (y, x) = ((p / w) as f64, (p % w) as f64);
            (-((y - 1.0).powi(2) + (x - 2.0).powi(2)) / 8.0).exp()
        })
        .collect();
    let mean_g = g.iter().sum::<f64>() / (h * w) as f64;
    let mask = floats(SmoothMix::mask(&params, h, w, device));
    assert_close(
        &mask,
        &g.iter().map(|v| *v as f32).collect::<Vec<_>>(),
        1e-6,
    );
    assert_eq!(mask[w + 2], 1.0, "the peak is at (1, 2)");
    assert!(mask.iter().all(|m| *m > 0.0 && *m <= 1.0));
    let x = ramp_values(n, c, h, w);
    let plane = c * h * w;
    let expected = swapped_pair_blend([c, h, w], |_, _, y, xx| 1.0 - g[y * w + xx] as f32);
    for (label, w_a) in [
        (SmoothMixLabel::Paper, 1.0 - mean_g),
        (SmoothMixLabel::OpenmixupCompat, mean_g),
    ] {
        let mixed = SmoothMixConfig::new()
            .with_label(label)
            .init()
            .unwrap()
            .apply(
                &params,
                ramp_batch(n, c, h, w, device),
                Tensor::from_ints([4, 9], device),
                &Guide::None,
            )
            .unwrap();
        let images = floats(mixed.images);
        assert_close(&images, &expected, 2e-3);
        // At the peak sample 0 shows its partner's pixel.
        assert_close(&[images[w + 2]], &[x[plane + w + 2]], 1e-3);
        assert_eq!(ints(mixed.target.classes()), vec![4, 9, 9, 4]);
        let w_a = w_a as f32;
        assert_close(
            &floats(mixed.target.weights()),
            &[w_a, 1.0 - w_a, w_a, 1.0 - w_a],
            1e-6,
        );
    }
}

/// Sampled draws follow §10: σ ∈ [0.25H, 0.5H) and the centre offsets are integers in
/// `trunc(U{0..H−1} − H/2)` (same for columns with W); σ = 0 (gate off) is the identity.
pub fn smoothmix_sampled_and_identity(device: &Device) {
    let (n, c, h, w) = (2, 1, 6, 9);
    let mixer = SmoothMixConfig::new().init().unwrap();
    for seed in 0..20 {
        let p = mixer
            .sample(&mut MixRng::from_seed(seed), BatchShape::new(n, c, h, w))
            .unwrap();
        assert!((1.5..3.0).contains(&p.sigma), "{p:?}");
        let d_r = p.row - 2.5;
        let d_c = p.col - 4.0;
        assert!(d_r.fract() == 0.0 && (-3.0..=2.0).contains(&d_r), "{p:?}");
        assert!(d_c.fract() == 0.0 && (-4.0..=4.0).contains(&d_c), "{p:?}");
    }
    let off = SmoothMixConfig {
        prob: 0.0,
        ..SmoothMixConfig::new()
    }
    .init()
    .unwrap();
    let mixed = off
        .mix(
            &mut MixRng::from_seed(0),
            ramp_batch(n, c, h, w, device),
            Tensor::from_ints([0, 1], device),
        )
        .unwrap();
    assert_eq!(floats(mixed.images), ramp_values(n, c, h, w));
    assert_eq!(floats(mixed.target.weights()), vec![1.0, 0.0, 1.0, 0.0]);
}
