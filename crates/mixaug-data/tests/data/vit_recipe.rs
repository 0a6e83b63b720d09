//! The CIFAR ViT recipe's transforms, exactly: hand computations on tiny non-square
//! images, and the outputs of the reference functions (Pillow, mmcv/OpenCV, openmixup's
//! own ops) on a 5×7 RGB pattern, printed by the hand-run `vit_recipe_reference.py` into
//! `vit_recipe_expected.rs`.

use mixaug_data::ops::{self, Axis};
use mixaug_data::{
    AugmentOp, DataError, DataRng, ErasingFill, ImageU8, Interpolation, Pipeline, Policy,
    RandAugment, RandomErasing, Transform, crop, resize, resized_crop_box,
};

use super::vit_recipe_expected as expected;

const FILL: [u8; 3] = [114, 123, 125];

/// The reference script's pattern: `(71y + 29x + 113c + 17((xy) mod 7)) mod 256`.
fn pattern(h: usize, w: usize) -> ImageU8 {
    let mut pixels = Vec::with_capacity(h * w * 3);
    for y in 0..h {
        for x in 0..w {
            for c in 0..3 {
                pixels.push(((71 * y + 29 * x + 113 * c + 17 * ((x * y) % 7)) % 256) as u8);
            }
        }
    }
    ImageU8::new(h, w, 3, pixels).unwrap()
}

/// A 2×3 RGB image whose channels have value ranges 240, 192 and 160 (so that auto
/// contrast's scale 255/range is exact in binary).
#[rustfmt::skip]
fn tiny() -> ImageU8 {
    ImageU8::new(2, 3, 3, vec![
        10, 200, 30,   60, 100, 90,   250, 20, 120,
        10, 50, 190,   100, 150, 30,  40, 212, 60,
    ]).unwrap()
}

fn rng(index: u64) -> DataRng {
    DataRng::for_sample(11, 3, index)
}

#[test]
fn the_pattern_is_the_scripts() {
    assert_eq!(pattern(5, 7).pixels, expected::PATTERN);
}

#[test]
fn pillow_resize_by_hand_and_against_pillow() {
    // Bicubic (a = −0.5) 1×2 [0, 255] → 1×4: output centres 0.25, 0.75, 1.25, 1.75 (scale
    // 1/2, kernel not widened). At 0.75 the taps are k(0.75) = 0.2265625 (pixel 0) and
    // k(0.25) = 0.8671875 (pixel 1), normalised: 255·0.8671875/1.09375 = 202.18 → 202;
    // at 0.25 the weights are 1.0882 and −0.0882: 255·(−0.0882) < 0 → 0. Symmetrically
    // 53 and 255.
    let pair = ImageU8::new(1, 2, 1, vec![0, 255]).unwrap();
    let up = resize(pair, [1, 4], Interpolation::Bicubic).unwrap();
    assert_eq!(up.pixels, vec![0, 53, 202, 255]);
    // Pillow on the 5×7 pattern: enlarging one side while shrinking the other, both
    // filters.
    let image = pattern(5, 7);
    let cases = [
        (
            [9, 4],
            Interpolation::Bicubic,
            &expected::PIL_BICUBIC_9X4[..],
        ),
        (
            [3, 12],
            Interpolation::Bicubic,
            &expected::PIL_BICUBIC_3X12[..],
        ),
        (
            [8, 3],
            Interpolation::Bilinear,
            &expected::PIL_BILINEAR_8X3[..],
        ),
    ];
    for (size, interpolation, want) in cases {
        let got = resize(image.clone(), size, interpolation).unwrap();
        assert_eq!(got.pixels, want, "{size:?} {interpolation:?}");
    }
    // RandomResizedCrop's resize: the crop at top 1, left 2, 3×5, bicubic to 6×10.
    let cropped = crop(&image, 1, 2, 3, 5);
    let got = resize(cropped, [6, 10], Interpolation::Bicubic).unwrap();
    assert_eq!(got.pixels, expected::PIL_BICUBIC_CROP_6X10);
}

#[test]
fn random_resized_crop_of_the_recipe() {
    // torchvision's box rule on 32×32 with scale (0.8, 1), ratio (3/4, 4/3), then Pillow's
    // bicubic to 224×224, from the same stream.
    let image = pattern(32, 32);
    let t = Pipeline::deit_cifar_train().steps[0].clone();
    for index in 0..40 {
        let (top, left, h, w) =
            resized_crop_box(32, 32, [0.8, 1.0], [0.75, 4.0 / 3.0], &mut rng(index));
        // Sides at most 32; area at least 0.8·1024 − ½(w + h) + ¼ ≥ 787.45 after rounding
        // each side; aspect within the range up to the rounding of a side (±½ of ≥ 24).
        assert!(top + h <= 32 && left + w <= 32);
        assert!(h * w >= 788, "{h}×{w}");
        let aspect = w as f64 / h as f64;
        assert!(
            (0.75 * 23.5 / 24.5..=4.0 / 3.0 * 24.5 / 23.5).contains(&aspect),
            "{h}×{w}"
        );
        let by_hand = resize(
            crop(&image, top, left, h, w),
            [224, 224],
            Interpolation::Bicubic,
        )
        .unwrap();
        assert_eq!(t.apply(image.clone(), &mut rng(index)).unwrap(), by_hand);
    }
}

#[test]
fn solarize_and_posterize_by_hand() {
    // Values ≥ 100.8 become 255 − v: R 250 → 5 (100 stays); G 200 → 55, 150 → 105,
    // 212 → 43; B 120 → 135, 190 → 65.
    #[rustfmt::skip]
    let solarized = vec![
        10, 55, 30,   60, 100, 90,   5, 20, 135,
        10, 50, 65,   100, 105, 30,  40, 43, 60,
    ];
    assert_eq!(ops::solarize(&tiny(), 100.8).pixels, solarized);
    // 5 bits: v & 0b1111_1000.
    #[rustfmt::skip]
    let posterized = vec![
        8, 200, 24,   56, 96, 88,    248, 16, 120,
        8, 48, 184,   96, 144, 24,   40, 208, 56,
    ];
    assert_eq!(ops::posterize(&tiny(), 5).pixels, posterized);
    assert!(ops::posterize(&tiny(), 0).pixels.iter().all(|&v| v == 0));
    assert_eq!(ops::posterize(&tiny(), 8), tiny());
    let image = pattern(5, 7);
    assert_eq!(ops::solarize(&image, 100.8).pixels, expected::SOLARIZE);
    assert_eq!(ops::posterize(&image, 5).pixels, expected::POSTERIZE);
}

#[test]
fn auto_contrast_and_equalize_by_hand() {
    // R: lo 10, hi 250, scale 255/240 = 1.0625, v·1.0625 − 10.625 truncated:
    //   60 → 53.125, 100 → 95.625, 40 → 31.875.
    // G: lo 20, hi 212, scale 1.328125, offset −26.5625: 200 → 239.0625, 100 → 106.25,
    //   50 → 39.84375, 150 → 172.65625.
    // B: lo 30, hi 190, scale 1.59375, offset −47.8125: 90 → 95.625, 120 → 143.4375,
    //   60 → 47.8125.
    #[rustfmt::skip]
    let stretched = vec![
        0, 239, 0,    53, 106, 95,   255, 0, 143,
        0, 39, 255,   95, 172, 0,    31, 255, 47,
    ];
    assert_eq!(ops::auto_contrast(&tiny()).pixels, stretched);
    // A channel of one value is left alone.
    let flat = ImageU8::new(1, 2, 3, vec![9, 10, 11, 9, 20, 11]).unwrap();
    assert_eq!(ops::auto_contrast(&flat).pixels, vec![9, 0, 11, 9, 255, 11]);

    // Equalize on 765 grey pixels: 300 zeros, 300 fifties, 165 × 255. Step =
    // (765 − 165) // 255 = 2; v maps to (count below v + 1) // 2: 0 → 0, 50 → 150,
    // 255 → 300 → capped at 255.
    let mut values = vec![0u8; 300];
    values.extend([50u8; 300]);
    values.extend([255u8; 165]);
    let grey = ImageU8::new(5, 153, 1, values).unwrap();
    let eq = ops::equalize(&grey);
    assert_eq!(&eq.pixels[..300], &[0u8; 300][..]);
    assert_eq!(&eq.pixels[300..600], &[150u8; 300][..]);
    assert_eq!(&eq.pixels[600..], &[255u8; 165][..]);
    // Six pixels give step (6 − 1) // 255 = 0: unchanged.
    assert_eq!(ops::equalize(&tiny()), tiny());
    let image = pattern(5, 7);
    assert_eq!(ops::auto_contrast(&image).pixels, expected::AUTO_CONTRAST);
    assert_eq!(ops::equalize(&image).pixels, expected::EQUALIZE);
}

#[test]
fn brightness_contrast_and_color_by_hand() {
    // Brightness 1.37: v·1.37 truncated, clipped: 10 → 13, 60 → 82, 250 → 255, 100 → 137.
    let bright = ops::adjust_brightness(&tiny(), 1.37);
    assert_eq!(
        &bright.pixels[..9],
        &[13, 255, 41, 82, 137, 123, 255, 27, 164]
    );

    // mmcv's grey of each pixel (OpenCV BGR2GRAY on the RGB array:
    // (3735·R + 19235·G + 9798·B + 2¹⁴) >> 15): 128, 92, 76, 87, 108, 147; mean
    // 638/6 = 106.33 → 106. Contrast 0.63: 0.63·v + 0.37·106 = 0.63·v + 39.22, truncated.
    #[rustfmt::skip]
    let contrast = vec![
        45, 165, 58,   77, 102, 95,   196, 51, 114,
        45, 70, 158,   102, 133, 58,  64, 172, 77,
    ];
    assert_eq!(ops::adjust_contrast(&tiny(), 0.63).pixels, contrast);

    // Colour 1.42: round(1.42·v − 0.42·grey), saturated. Pixel 1 (grey 92): 85.2 − 38.64
    // = 46.56 → 47, 142 − 38.64 = 103.36 → 103, 127.8 − 38.64 = 89.16 → 89; pixel 4
    // (grey 108): 96.64 → 97, 167.64 → 168, −2.76 → 0.
    #[rustfmt::skip]
    let color = vec![
        0, 230, 0,     47, 103, 89,   255, 0, 138,
        0, 34, 233,    97, 168, 0,    0, 239, 23,
    ];
    assert_eq!(ops::adjust_color(&tiny(), 1.42).pixels, color);

    let image = pattern(5, 7);
    assert_eq!(
        ops::adjust_brightness(&image, 1.37).pixels,
        expected::BRIGHTNESS_UP
    );
    assert_eq!(
        ops::adjust_contrast(&image, 1.55).pixels,
        expected::CONTRAST_UP
    );
    assert_eq!(
        ops::adjust_contrast(&image, 0.63).pixels,
        expected::CONTRAST_DOWN
    );
    assert_eq!(ops::adjust_color(&image, 1.42).pixels, expected::COLOR_UP);
    assert_eq!(ops::adjust_color(&image, 0.3).pixels, expected::COLOR_DOWN);
}

#[test]
fn sharpness_by_hand_and_against_openmixup() {
    // One 130 at (1, 1) of a 3×4 grey image. The SMOOTH kernel (centre 5/13, others
    // 1/13) with a reflected border sees it 4× at the corners (0|2, 0), 2× at (0|2, 1),
    // (0|2, 2), (1, 0), 1× (centre weight) at (1, 1) and once at (1, 2):
    //   smooth = [[40, 20, 20, 0], [20, 50, 10, 0], [40, 20, 20, 0]].
    // Factor 0.5: 0.5·v + 0.5·smooth.
    let mut values = vec![0u8; 12];
    values[5] = 130;
    let spot = ImageU8::new(3, 4, 1, values).unwrap();
    assert_eq!(
        ops::adjust_sharpness(&spot, 0.5).pixels,
        vec![20, 10, 10, 0, 10, 90, 5, 0, 20, 10, 10, 0]
    );
    // Factor 2: 2·v − smooth, clipped: only the spot survives, 260 − 50 = 210.
    assert_eq!(
        ops::adjust_sharpness(&spot, 2.0).pixels,
        vec![0, 0, 0, 0, 0, 210, 0, 0, 0, 0, 0, 0]
    );
    let image = pattern(5, 7);
    assert_eq!(
        ops::adjust_sharpness(&image, 1.8).pixels,
        expected::SHARPNESS_UP
    );
    assert_eq!(
        ops::adjust_sharpness(&image, 0.2).pixels,
        expected::SHARPNESS_DOWN
    );
}

#[test]
fn warps_by_hand_and_against_opencv() {
    // A 3×4 grey ramp 1..=12.
    let ramp = ImageU8::new(3, 4, 1, (1..=12).collect()).unwrap();
    // Integer offsets land on the bicubic table's zero fraction, weights (0, 1, 0, 0): a
    // plain shift with the fill (channel 0: 114) coming in.
    let right = ops::translate(&ramp, 2.0, Axis::Horizontal, FILL);
    assert_eq!(
        right.pixels,
        vec![114, 114, 1, 2, 114, 114, 5, 6, 114, 114, 9, 10]
    );
    let up = ops::translate(&ramp, -1.0, Axis::Vertical, FILL);
    assert_eq!(
        up.pixels,
        vec![5, 6, 7, 8, 9, 10, 11, 12, 114, 114, 114, 114]
    );
    // Shear 1 horizontal: source x = x − y, row y moves right by y.
    let sheared = ops::shear(&ramp, 1.0, Axis::Horizontal, FILL);
    assert_eq!(
        sheared.pixels,
        vec![1, 2, 3, 4, 114, 5, 6, 7, 114, 114, 9, 10]
    );
    // 180° about ((4 − 1)/2, (3 − 1)/2) maps (x, y) to (3 − x, 2 − y): both flips (sin π
    // ≈ 1e-16 vanishes on the 1/32-pixel grid).
    let turned = ops::rotate(&ramp, 180.0, FILL);
    assert_eq!(turned.pixels, (1..=12).rev().collect::<Vec<u8>>());

    // Fractional positions against mmcv/OpenCV on the 5×7 RGB pattern.
    let image = pattern(5, 7);
    let cases: [(ImageU8, &[u8]); 6] = [
        (
            ops::shear(&image, 0.17, Axis::Horizontal, FILL),
            &expected::SHEAR_X,
        ),
        (
            ops::shear(&image, -0.23, Axis::Vertical, FILL),
            &expected::SHEAR_Y,
        ),
        (
            ops::translate(&image, 0.21 * 7.0, Axis::Horizontal, FILL),
            &expected::TRANSLATE_X,
        ),
        (
            ops::translate(&image, -0.13 * 5.0, Axis::Vertical, FILL),
            &expected::TRANSLATE_Y,
        ),
        (ops::rotate(&image, 13.7, FILL), &expected::ROTATE_POS),
        (ops::rotate(&image, -27.1, FILL), &expected::ROTATE_NEG),
    ];
    for (i, (got, want)) in cases.iter().enumerate() {
        assert_eq!(got.pixels, *want, "case {i}");
    }
    // The RandAugment op computes the translation from the side: 0.21 of the width 7.
    let op = AugmentOp::Translate {
        axis: Axis::Horizontal,
        fraction: 0.21,
    };
    assert_eq!(op.apply(&image, FILL).pixels, expected::TRANSLATE_X);
}

#[test]
fn rand_augment_levels_signs_and_probabilities() {
    // Level fixed at 5 of 10: every range's midpoint, exactly.
    let half = RandAugment {
        magnitude: 5.0,
        magnitude_std: 0.0,
        prob: 1.0,
        ..RandAugment::default()
    };
    let mut kinds = std::collections::HashSet::new();
    let (mut positive, mut negative) = (0, 0);
    for index in 0..400 {
        let ops = half.sample(&mut rng(index));
        assert!(ops.len() <= 2);
        for op in ops {
            let signed = match op {
                AugmentOp::Brightness { factor }
                | AugmentOp::Color { factor }
                | AugmentOp::Contrast { factor }
                | AugmentOp::Sharpness { factor } => {
                    assert!(factor == 1.5 || factor == 0.5, "{op:?}");
                    Some(factor > 1.0)
                }
                AugmentOp::Posterize { bits } => {
                    assert_eq!(bits, 6); // int(5/10·4 + 4)
                    None
                }
                AugmentOp::Solarize { threshold } => {
                    assert_eq!(threshold, 128.0); // 5/10·(0 − 256) + 256
                    None
                }
                AugmentOp::Rotate { degrees } => {
                    assert_eq!(degrees.abs(), 15.0);
                    Some(degrees > 0.0)
                }
                AugmentOp::Shear { magnitude, .. } => {
                    assert_eq!(magnitude.abs(), 0.15);
                    Some(magnitude > 0.0)
                }
                AugmentOp::Translate { fraction, .. } => {
                    assert_eq!(fraction.abs(), 0.15);
                    Some(fraction > 0.0)
                }
                AugmentOp::AutoContrast | AugmentOp::Equalize => None,
                AugmentOp::Identity => panic!("Identity is never returned"),
            };
            match signed {
                Some(true) => positive += 1,
                Some(false) => negative += 1,
                None => {}
            }
            kinds.insert(std::mem::discriminant(&op));
        }
    }
    // 11 distinct op kinds besides Identity (the shears and translations share a kind).
    assert_eq!(kinds.len(), 11, "{kinds:?}");
    assert!(positive > 100 && negative > 100, "{positive} vs {negative}");
    // Probability 0: nothing is ever applied.
    let never = RandAugment {
        prob: 0.0,
        ..RandAugment::default()
    };
    assert!((0..100).all(|i| never.sample(&mut rng(i)).is_empty()));
    // Level 10 ± 0.5 is clipped at 10 half the time: the range's far end exactly, never
    // beyond (Solarize's threshold ≥ 0, |1 − factor| ≤ 0.95).
    let top = RandAugment {
        magnitude: 10.0,
        prob: 1.0,
        ..RandAugment::default()
    };
    let mut at_end = 0;
    for index in 0..400 {
        for op in top.sample(&mut rng(index)) {
            if let AugmentOp::Brightness { factor } = op {
                let m = (factor - 1.0).abs();
                assert!(m <= 0.95 + 1e-12, "{m}");
                at_end += usize::from(m == 0.95);
            }
            if let AugmentOp::Solarize { threshold } = op {
                assert!((0.0..=256.0).contains(&threshold));
            }
        }
    }
    assert!(at_end > 5, "{at_end}");
    // The policy table: 14 entries, Solarize's range reversed, 9 signed.
    assert_eq!(Policy::ALL.len(), 14);
    assert_eq!(Policy::Solarize.range(), Some((256.0, 0.0)));
    assert_eq!(Policy::ALL.iter().filter(|p| p.signed()).count(), 9);
}

#[test]
fn rand_augment_applies_what_it_samples() {
    let image = pattern(5, 7);
    let r = RandAugment {
        prob: 1.0,
        ..RandAugment::default()
    };
    for index in 0..30 {
        let ops = r.sample(&mut rng(index));
        let by_hand = ops
            .iter()
            .fold(image.clone(), |img, op| op.apply(&img, FILL));
        assert_eq!(r.apply(image.clone(), &mut rng(index)).unwrap(), by_hand);
    }
    let grey = ImageU8::new(2, 3, 1, vec![0; 6]).unwrap();
    assert!(matches!(
        r.apply(grey, &mut rng(0)),
        Err(DataError::InvalidOption { .. })
    ));
    let bad = RandAugment {
        magnitude: 11.0,
        ..RandAugment::default()
    };
    assert!(bad.validate().is_err());
}

#[test]
fn random_erasing_box_rule_by_hand() {
    // Area fixed at 1/4 of 8×12 = 24, aspect 1: h = w = round(√24 = 4.90) = 5. The top
    // is numpy's randint(0, 8 − 5): 0, 1 or 2, never 3; the left 0..=6.
    let square = RandomErasing {
        prob: 1.0,
        area: [0.25, 0.25],
        aspect: [1.0, 1.0],
        fill: ErasingFill::Constant { color: [0, 0, 0] },
    };
    let mut tops = std::collections::BTreeSet::new();
    let mut lefts = std::collections::BTreeSet::new();
    for index in 0..300 {
        let b = square.sample_box(8, 12, &mut rng(index)).unwrap();
        assert_eq!((b.h, b.w), (5, 5));
        tops.insert(b.y0);
        lefts.insert(b.x0);
    }
    assert_eq!(tops.into_iter().collect::<Vec<_>>(), vec![0, 1, 2]);
    assert_eq!(
        lefts.into_iter().collect::<Vec<_>>(),
        (0..7).collect::<Vec<_>>()
    );
    // Aspect 4: h = round(√(24·4) = 9.80) = 10, capped at 8 rows (top 0); w = round(√6 =
    // 2.45) = 2.
    let tall = RandomErasing {
        aspect: [4.0, 4.0],
        ..square.clone()
    };
    let b = tall.sample_box(8, 12, &mut rng(0)).unwrap();
    assert_eq!((b.y0, b.h, b.w), (0, 8, 2));
    // Probability 0.25: `rand() > 0.25` keeps the image.
    let default = RandomErasing::default();
    let erased = (0..2000)
        .filter(|&i| default.sample_box(224, 224, &mut rng(i)).is_some())
        .count();
    assert!((400..600).contains(&erased), "{erased} of 2000");
}

#[test]
fn random_erasing_fills() {
    // Constant: the image with exactly the sampled box set to the colour.
    let constant = RandomErasing {
        prob: 1.0,
        fill: ErasingFill::Constant { color: [1, 2, 3] },
        ..RandomErasing::default()
    };
    let image = pattern(9, 14);
    let b = constant.sample_box(9, 14, &mut rng(5)).unwrap();
    let out = constant.apply(image.clone(), &mut rng(5));
    for y in 0..9 {
        for x in 0..14 {
            let inside = (b.y0..b.y0 + b.h).contains(&y) && (b.x0..b.x0 + b.w).contains(&x);
            for c in 0..3 {
                let want = if inside {
                    [1, 2, 3][c]
                } else {
                    image.at(y, x, c)
                };
                assert_eq!(out.at(y, x, c), want, "({y}, {x}, {c}) in {b:?}");
            }
        }
    }
    // Gaussian with std 0: the mean truncated toward zero, then clipped:
    // 114.7 → 114, −3.2 → −3 → 0, 300 → 255.
    let gaussian = RandomErasing {
        prob: 1.0,
        area: [1.0, 1.0],
        aspect: [1.0, 1.0],
        fill: ErasingFill::Gaussian {
            mean: [114.7, -3.2, 300.0],
            std: [0.0; 3],
        },
    };
    let out = gaussian.apply(pattern(3, 3), &mut rng(0));
    assert_eq!(out.pixels, [114, 0, 255].repeat(9));
    let bad = RandomErasing {
        area: [0.5, 0.2],
        ..RandomErasing::default()
    };
    assert!(bad.validate().is_err());
}

#[test]
fn deit_and_swin_pipelines() {
    let image = pattern(32, 32);
    let deit = Pipeline::deit_cifar_train();
    deit.validate().unwrap();
    let a = deit.apply(image.clone(), &mut rng(1)).unwrap();
    assert_eq!((a.height, a.width, a.channels), (224, 224, 3));
    assert_eq!(a, deit.apply(image.clone(), &mut rng(1)).unwrap());
    assert_ne!(a, deit.apply(image.clone(), &mut rng(2)).unwrap());
    let swin = Pipeline::swin_cifar_train();
    assert!(matches!(&swin.steps[2], Transform::RandAugment(r) if r.magnitude == 7.0));
    assert_eq!(swin.steps.len(), 3);
    let eval = Pipeline::vit_cifar_eval()
        .apply(image.clone(), &mut rng(0))
        .unwrap();
    assert_eq!((eval.height, eval.width), (224, 224));
    // Selectable from an experiment's TOML: the preset spelled out, defaults filling in.
    let text = r#"steps = [
        { op = "random_resized_crop", size = [224, 224], scale = [0.8, 1.0], ratio = [0.75, 1.3333333333333333], interpolation = "bicubic" },
        { op = "horizontal_flip", prob = 0.5 },
        { op = "rand_augment" },
        { op = "random_erasing" },
    ]"#;
    let parsed: Pipeline = toml::from_str(text).unwrap();
    assert_eq!(parsed, deit);
    let swin_text = r#"steps = [{ op = "rand_augment", magnitude = 7.0, fill = [0, 0, 0] },
        { op = "random_erasing", prob = 0.5, fill = { mode = "constant", color = [1, 2, 3] } }]"#;
    let parsed: Pipeline = toml::from_str(swin_text).unwrap();
    assert_eq!(
        parsed.steps[1],
        Transform::RandomErasing(RandomErasing {
            prob: 0.5,
            fill: ErasingFill::Constant { color: [1, 2, 3] },
            ..RandomErasing::default()
        })
    );
    assert!(toml::from_str::<Pipeline>(r#"steps = [{ op = "rand_augment", level = 3 }]"#).is_err());
}
