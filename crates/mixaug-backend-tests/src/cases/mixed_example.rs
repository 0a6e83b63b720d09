use burn::prelude::*;
use mixaug_masks::{
    Axis, BatchShape, Guide, Interval, MixRng, MixedExampleConfig, MixedExampleDraws,
    MixedExampleKind, MixedExampleParams, Mixer, Permutation, Quadrants,
};

use crate::{assert_close, floats, ints, ramp_batch, ramp_values, swapped_pair_blend};

const SHAPE: [usize; 4] = [2, 3, 4, 6];

/// Applies `kind` with fixed draws and π = (1, 0) to the 2×3×4×6 ramp.
fn apply(
    kind: MixedExampleKind,
    reference_lam: bool,
    draws: MixedExampleDraws,
    device: &Device,
) -> (Vec<f32>, Vec<i64>, Vec<f32>) {
    let [n, c, h, w] = SHAPE;
    let params = MixedExampleParams {
        perm: Permutation::new(vec![1, 0]).unwrap(),
        draws,
    };
    let mixed = MixedExampleConfig::new(kind)
        .with_reference_lam(reference_lam)
        .init()
        .unwrap()
        .apply(
            &params,
            ramp_batch(n, c, h, w, device),
            Tensor::from_ints([4, 9], device),
            &Guide::None,
        )
        .unwrap();
    (
        floats(mixed.images),
        ints(mixed.target.classes()),
        floats(mixed.target.weights()),
    )
}

/// The ramp blended with its partner (π = (1, 0)) by a base weight `m(i, ch, y, x)`.
fn expected_blend(m: impl Fn(usize, usize, usize, usize) -> f32) -> Vec<f32> {
    let [_, c, h, w] = SHAPE;
    swapped_pair_blend([c, h, w], m)
}

fn pair_weights(lam: [f32; 2]) -> Vec<f32> {
    vec![lam[0], 1.0 - lam[0], lam[1], 1.0 - lam[1]]
}

/// Vertical concat with splits d = 1 and 3 (rows [0,d) from the base): λ = d/H = 1/4, 3/4.
/// Horizontal concat with d = 0 and 5 (columns): λ = d/W = 0, 5/6.
pub fn mixed_example_concat_hand_cases(device: &Device) {
    let v = |row| Quadrants {
        row,
        col: 6,
        weights: [1.0, 1.0, 0.0, 0.0],
    };
    let (images, classes, weights) = apply(
        MixedExampleKind::VerticalConcat,
        false,
        MixedExampleDraws::Quadrants {
            masks: vec![v(1), v(3)],
        },
        device,
    );
    let split = [1, 3];
    assert_eq!(
        images,
        expected_blend(|i, _, y, _| f32::from(u8::from(y < split[i])))
    );
    assert_eq!(classes, vec![4, 9, 9, 4]);
    assert_close(&weights, &pair_weights([0.25, 0.75]), 1e-7);

    let hz = |col| Quadrants {
        row: 4,
        col,
        weights: [1.0, 0.0, 1.0, 0.0],
    };
    let (images, _, weights) = apply(
        MixedExampleKind::HorizontalConcat,
        false,
        MixedExampleDraws::Quadrants {
            masks: vec![hz(0), hz(5)],
        },
        device,
    );
    let split = [0, 5];
    assert_eq!(
        images,
        expected_blend(|i, _, _, x| f32::from(u8::from(x < split[i])))
    );
    assert_close(&weights, &pair_weights([0.0, 5.0 / 6.0]), 1e-7);
}

/// Mixed concat, row split 3 and column split 2 on 4×6: the base holds the top-left 3×2
/// and bottom-right 1×4 cells, λ = 10/24 exactly; the reference formula with a = 3 over W
/// and b = 2 over H gives 0.5·0.5 + 0.5·0.5 = 0.5 instead. Random 2×2 with cells
/// (0, 1, 1, 0) at split (2, 3): λ = (0·6 + 1·6 + 1·6 + 0·6)/24 = 0.5.
pub fn mixed_example_quadrant_hand_cases(device: &Device) {
    let q = Quadrants {
        row: 3,
        col: 2,
        weights: [1.0, 0.0, 0.0, 1.0],
    };
    let draws = MixedExampleDraws::Quadrants { masks: vec![q, q] };
    let (images, _, weights) = apply(MixedExampleKind::MixedConcat, false, draws.clone(), device);
    assert_eq!(
        images,
        expected_blend(|_, _, y, x| f32::from(u8::from((y < 3) == (x < 2))))
    );
    assert_close(&weights, &pair_weights([10.0 / 24.0; 2]), 1e-7);
    let (_, _, weights) = apply(MixedExampleKind::MixedConcat, true, draws, device);
    assert_close(&weights, &pair_weights([0.5; 2]), 1e-7);

    let cells = Quadrants {
        row: 2,
        col: 3,
        weights: [0.0, 1.0, 1.0, 0.0],
    };
    let (images, _, weights) = apply(
        MixedExampleKind::Random2x2,
        false,
        MixedExampleDraws::Quadrants {
            masks: vec![cells, cells],
        },
        device,
    );
    assert_eq!(
        images,
        expected_blend(|_, _, y, x| f32::from(u8::from((y < 2) != (x < 3))))
    );
    assert_close(&weights, &pair_weights([0.5; 2]), 1e-7);
}

/// VH-mixup with vertical split 2, horizontal split 3 and μ = 0.25: base weight 1 in the
/// top-left cell, μ top-right, 1 − μ bottom-left, 0 bottom-right; by hand
/// λ = (6·1 + 6·0.25 + 6·0.75 + 0)/24 = 0.5 = μ·(2/4) + (1 − μ)·(3/6).
pub fn mixed_example_vh_mixup_hand_case(device: &Device) {
    let q = Quadrants {
        row: 2,
        col: 3,
        weights: [1.0, 0.25, 0.75, 0.0],
    };
    let (images, _, weights) = apply(
        MixedExampleKind::VhMixup,
        false,
        MixedExampleDraws::Quadrants { masks: vec![q, q] },
        device,
    );
    let expected = expected_blend(|_, _, y, x| match (y < 2, x < 3) {
        (true, true) => 1.0,
        (true, false) => 0.25,
        (false, true) => 0.75,
        (false, false) => 0.0,
    });
    assert_close(&images, &expected, 1e-3);
    assert_close(&weights, &pair_weights([0.5; 2]), 1e-7);
}

/// Column interval: columns [1,3) of sample 0 are the partner's columns [3,5), λ = 4/6;
/// sample 1 has an empty strip (len 0): unmixed, λ = 1. Row interval: rows [0,3) of
/// sample 0 are the partner's rows [1,4), λ = 1/4.
pub fn mixed_example_interval_hand_cases(device: &Device) {
    let [n, c, h, w] = SHAPE;
    let x = ramp_values(n, c, h, w);
    let at = |i: usize, ch: usize, y: usize, xx: usize| ((i * c + ch) * h + y) * w + xx;
    let strips = vec![
        Interval {
            start: 1,
            len: 2,
            source: 3,
        },
        Interval {
            start: 4,
            len: 0,
            source: 2,
        },
    ];
    let (images, _, weights) = apply(
        MixedExampleKind::RandomColumnInterval,
        false,
        MixedExampleDraws::Interval {
            axis: Axis::Columns,
            strips,
        },
        device,
    );
    let mut expected = x.clone();
    for ch in 0..c {
        for y in 0..h {
            for xx in 1..3 {
                expected[at(0, ch, y, xx)] = x[at(1, ch, y, xx + 2)];
            }
        }
    }
    assert_eq!(images, expected);
    assert_close(&weights, &pair_weights([4.0 / 6.0, 1.0]), 1e-7);

    let strips = vec![
        Interval {
            start: 0,
            len: 3,
            source: 1,
        };
        2
    ];
    let (images, _, weights) = apply(
        MixedExampleKind::RandomRowInterval,
        false,
        MixedExampleDraws::Interval {
            axis: Axis::Rows,
            strips,
        },
        device,
    );
    let mut expected = x.clone();
    for i in 0..n {
        for ch in 0..c {
            for y in 0..3 {
                for xx in 0..w {
                    expected[at(i, ch, y, xx)] = x[at(1 - i, ch, y + 1, xx)];
                }
            }
        }
    }
    assert_eq!(images, expected);
    assert_close(&weights, &pair_weights([0.25; 2]), 1e-7);
}

/// Bit masks: random columns (1,0,1,1,0,0) for sample 0 and all zeros for sample 1 give
/// λ = 3/6 and 0; random elements with bit (ch + y + x) mod 2 differ across channels and
/// give λ = 36/72 = 0.5.
pub fn mixed_example_bits_hand_cases(device: &Device) {
    let cols = [true, false, true, true, false, false];
    let bits: Vec<bool> = cols.iter().copied().chain([false; 6]).collect();
    let (images, _, weights) = apply(
        MixedExampleKind::RandomColumns,
        false,
        MixedExampleDraws::Bits {
            dims: [1, 1, 6],
            bits,
        },
        device,
    );
    assert_eq!(
        images,
        expected_blend(|i, _, _, x| f32::from(u8::from(i == 0 && cols[x])))
    );
    assert_close(&weights, &pair_weights([0.5, 0.0]), 1e-7);

    let [n, c, h, w] = SHAPE;
    let mut bits = Vec::new();
    for _ in 0..n {
        for ch in 0..c {
            for y in 0..h {
                for x in 0..w {
                    bits.push((ch + y + x) % 2 == 0);
                }
            }
        }
    }
    let (images, _, weights) = apply(
        MixedExampleKind::RandomElements,
        false,
        MixedExampleDraws::Bits {
            dims: [c, h, w],
            bits,
        },
        device,
    );
    assert_eq!(
        images,
        expected_blend(|_, ch, y, x| f32::from(u8::from((ch + y + x) % 2 == 0)))
    );
    assert_close(&weights, &pair_weights([0.5; 2]), 1e-7);
}

/// Sampled draws on 4×3×5×7 for every hard-mask variant: every output element is either
/// the base's or the partner's element at the same place (or, for intervals, a partner
/// element of the same channel), the fraction of base pixels equals the base label
/// weight exactly, and the choice is shared by the three channels except for random
/// elements.
pub fn mixed_example_sampled_sources(device: &Device) {
    let (n, c, h, w) = (4, 3, 5, 7);
    let x = ramp_values(n, c, h, w);
    let at = |i: usize, ch: usize, y: usize, xx: usize| ((i * c + ch) * h + y) * w + xx;
    let mut elements_differ = false;
    for kind in MixedExampleKind::ALL {
        if kind == MixedExampleKind::VhMixup {
            continue; // soft mask: covered by the hand case and the fraction property
        }
        let mixer = MixedExampleConfig::new(kind).init().unwrap();
        for seed in 0..4 {
            let params = mixer
                .sample(&mut MixRng::from_seed(seed), BatchShape::new(n, c, h, w))
                .unwrap();
            let mixed = mixer
                .apply(
                    &params,
                    ramp_batch(n, c, h, w, device),
                    Tensor::from_ints([0, 1, 2, 3], device),
                    &Guide::None,
                )
                .unwrap();
            let got = floats(mixed.images);
            let weights = floats(mixed.target.weights());
            let perm = params.perm.as_slice();
            for i in 0..n {
                let mut base = 0usize;
                for y in 0..h {
                    for xx in 0..w {
                        let from_base: Vec<bool> = (0..c)
                            .map(|ch| got[at(i, ch, y, xx)] == x[at(i, ch, y, xx)])
                            .collect();
                        for ch in 0..c {
                            // Ramp values encode (sample, channel): 1000·n + 100·c + …
                            let v = got[at(i, ch, y, xx)] as usize;
                            assert!(
                                from_base[ch] || (v / 1000 == perm[i] && (v / 100) % 10 == ch),
                                "{kind:?} seed {seed}: element ({i},{ch},{y},{xx}) = {v}"
                            );
                        }
                        if kind == MixedExampleKind::RandomElements {
                            elements_differ |= from_base.iter().any(|b| *b != from_base[0]);
                        } else if perm[i] != i {
                            assert!(
                                from_base.iter().all(|b| *b == from_base[0]),
                                "{kind:?}: channels disagree at ({i},{y},{xx})"
                            );
                        }
                        base += from_base.iter().filter(|b| **b).count();
                    }
                }
                if perm[i] != i {
                    let fraction = base as f32 / (c * h * w) as f32;
                    assert_close(&[weights[2 * i]], &[fraction], 1e-6);
                }
            }
        }
    }
    assert!(
        elements_differ,
        "random elements never split a pixel's channels"
    );
}
