use burn::prelude::*;
use mixaug_masks::{
    BatchShape, CutBox, CutDraw, CutMixConfig, CutMixParams, Guide, LamMode, MixRng, Mixer,
    Pairing, Permutation,
};

use crate::{assert_close, floats, ints, pasted_ramp, ramp_batch, ramp_values};

const SHAPE: [usize; 4] = [2, 3, 4, 6];

fn labels(device: &Device) -> Tensor<1, Int> {
    Tensor::from_ints([4, 9], device)
}

fn draw(region: CutBox) -> CutDraw {
    CutDraw {
        sampled_lam: 0.5,
        region,
    }
}

/// Box rows [1,3) × cols [2,5) on 4×6 images, π = (1, 0): six pixels per channel come
/// from the partner; λ' = 1 − 6/24 = 0.75.
pub fn cutmix_hand_case(device: &Device) {
    let [n, c, h, w] = SHAPE;
    let region = CutBox {
        y0: 1,
        x0: 2,
        h: 2,
        w: 3,
    };
    let params = CutMixParams {
        perm: Permutation::new(vec![1, 0]).unwrap(),
        cuts: vec![draw(region)],
    };
    let mixed = CutMixConfig::new()
        .init()
        .unwrap()
        .apply(
            &params,
            ramp_batch(n, c, h, w, device),
            labels(device),
            &Guide::None,
        )
        .unwrap();
    assert_eq!(floats(mixed.images), pasted_ramp(SHAPE, &[region], &[1, 0]));
    assert_eq!(ints(mixed.target.classes()), vec![4, 9, 9, 4]);
    assert_close(
        &floats(mixed.target.weights()),
        &[0.75, 0.25, 0.75, 0.25],
        1e-7,
    );
}

/// METHODS.md §0.3: H = W = 32, λ = 0.7, centre (2, 20) → rows [0,10), cols [12,28),
/// λ' = 0.84375; a centred box of the same λ gives λ' = 0.75.
pub fn cutmix_worked_example(device: &Device) {
    let cutmix = CutMixConfig::new().init().unwrap();
    let images = Tensor::<4>::cat(
        vec![
            Tensor::zeros([1, 1, 32, 32], device),
            Tensor::ones([1, 1, 32, 32], device),
        ],
        0,
    );
    for (centre, expected) in [((2, 20), 0.84375f32), ((16, 16), 0.75)] {
        let params = CutMixParams {
            perm: Permutation::new(vec![1, 0]).unwrap(),
            cuts: vec![CutDraw {
                sampled_lam: 0.7,
                region: CutBox::around(32, 32, 0.7, centre.0, centre.1),
            }],
        };
        let mixed = cutmix
            .apply(
                &params,
                images.clone(),
                Tensor::from_ints([0, 1], device),
                &Guide::None,
            )
            .unwrap();
        // Sample 0 is zeros with the partner's ones pasted: its mean is the box fraction.
        let pasted: f32 = mixed.images.slice(s![0..1]).sum().into_scalar();
        assert_eq!(pasted, (1.0 - expected) * 1024.0);
        let weights = floats(mixed.target.weights());
        assert_close(
            &weights,
            &[expected, 1.0 - expected, expected, 1.0 - expected],
            1e-7,
        );
    }
}

/// Per-sample boxes: sample 0 gets rows [0,2) × cols [0,6), sample 1 rows [2,4) × cols
/// [5,6) → λ' = (1 − 12/24, 1 − 2/24) = (0.5, 0.9166667).
pub fn cutmix_per_sample_hand_case(device: &Device) {
    let [n, c, h, w] = SHAPE;
    let boxes = [
        CutBox {
            y0: 0,
            x0: 0,
            h: 2,
            w: 6,
        },
        CutBox {
            y0: 2,
            x0: 5,
            h: 2,
            w: 1,
        },
    ];
    let params = CutMixParams {
        perm: Permutation::new(vec![1, 0]).unwrap(),
        cuts: boxes.iter().map(|&b| draw(b)).collect(),
    };
    let mixed = CutMixConfig::new()
        .with_lam_mode(LamMode::PerSample)
        .init()
        .unwrap()
        .apply(
            &params,
            ramp_batch(n, c, h, w, device),
            labels(device),
            &Guide::None,
        )
        .unwrap();
    assert_eq!(floats(mixed.images), pasted_ramp(SHAPE, &boxes, &[1, 0]));
    assert_close(
        &floats(mixed.target.weights()),
        &[0.5, 0.5, 1.0 - 2.0 / 24.0, 2.0 / 24.0],
        1e-7,
    );
}

/// An empty box or π = identity leaves the images unchanged; an empty box gives λ' = 1.
pub fn cutmix_identity_cases(device: &Device) {
    let [n, c, h, w] = SHAPE;
    let cutmix = CutMixConfig::new().init().unwrap();
    let original = ramp_values(n, c, h, w);
    let empty = CutMixParams {
        perm: Permutation::new(vec![1, 0]).unwrap(),
        cuts: vec![draw(CutBox::around(h, w, 1.0, 2, 3))],
    };
    let mixed = cutmix
        .apply(
            &empty,
            ramp_batch(n, c, h, w, device),
            labels(device),
            &Guide::None,
        )
        .unwrap();
    assert_eq!(floats(mixed.images), original);
    assert_close(&floats(mixed.target.weights()), &[1.0, 0.0, 1.0, 0.0], 0.0);
    let fixed = CutMixParams {
        perm: Permutation::identity(2),
        cuts: vec![draw(CutBox {
            y0: 0,
            x0: 1,
            h: 3,
            w: 4,
        })],
    };
    let mixed = cutmix
        .apply(
            &fixed,
            ramp_batch(n, c, h, w, device),
            labels(device),
            &Guide::None,
        )
        .unwrap();
    assert_eq!(floats(mixed.images), original);
}

/// Property over 40 seeded draws (both λ modes): the label weight of every sample is
/// `1 − pasted/(HW)`, where `pasted` counts the pixels that changed, and all channels
/// share the box.
pub fn cutmix_area_property(device: &Device) {
    let (n, c, h, w) = (4, 2, 7, 10);
    // Sample i is filled with the value i, so a pixel changed iff it came from π(i) ≠ i.
    let images = Tensor::<1, Int>::arange(0..n as i64, device)
        .float()
        .reshape([n, 1, 1, 1])
        .expand([n, c, h, w]);
    let labels = Tensor::<1, Int>::from_ints([0, 1, 2, 3], device);
    for (k, mode) in (0..40).map(|k| {
        (
            k,
            if k % 2 == 0 {
                LamMode::PerBatch
            } else {
                LamMode::PerSample
            },
        )
    }) {
        let cutmix = CutMixConfig::new()
            .with_lam_mode(mode)
            .with_pairing(Pairing::Roll { shift: 1 })
            .init()
            .unwrap();
        let mut rng = MixRng::from_seed(k);
        let params = cutmix
            .sample(&mut rng, BatchShape::new(n, c, h, w))
            .unwrap();
        let mixed = cutmix
            .apply(&params, images.clone(), labels.clone(), &Guide::None)
            .unwrap();
        let own = Tensor::<1, Int>::arange(0..n as i64, device)
            .float()
            .reshape([n, 1, 1, 1]);
        let changed = floats(
            mixed
                .images
                .not_equal(own.expand([n, c, h, w]))
                .float()
                .sum_dim(3)
                .sum_dim(2)
                .reshape([n, c]),
        );
        let weights = floats(mixed.target.weights());
        for i in 0..n {
            assert_eq!(changed[i * c], changed[i * c + 1], "channels share the box");
            let expected = 1.0 - changed[i * c] / (h * w) as f32;
            assert!(
                (weights[2 * i] - expected).abs() < 1e-6,
                "seed {k}, sample {i}"
            );
            let b = params.cuts[i.min(params.cuts.len() - 1)].region;
            assert_eq!(changed[i * c] as usize, b.area());
        }
    }
}

/// `correct_lam = false` trains with the sampled λ instead of the pasted-area ratio.
pub fn cutmix_uncorrected_lambda(device: &Device) {
    let [n, c, h, w] = SHAPE;
    let params = CutMixParams {
        perm: Permutation::new(vec![1, 0]).unwrap(),
        cuts: vec![CutDraw {
            sampled_lam: 0.7,
            region: CutBox {
                y0: 1,
                x0: 2,
                h: 2,
                w: 3,
            },
        }],
    };
    let mixed = CutMixConfig::new()
        .with_correct_lam(false)
        .init()
        .unwrap()
        .apply(
            &params,
            ramp_batch(n, c, h, w, device),
            labels(device),
            &Guide::None,
        )
        .unwrap();
    assert_close(&floats(mixed.target.weights()), &[0.7, 0.3, 0.7, 0.3], 1e-7);
}
