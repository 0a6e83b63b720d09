//! Exact pixel results of the transforms on small images.

use mixaug_data::{
    DataError, DataRng, ImageU8, Interpolation, Normalize, Padding, Pipeline, Transform, pad,
    resize, resized_crop_box,
};

/// A 3×4 grey image valued 1..=12 row-major.
fn ramp() -> ImageU8 {
    ImageU8::new(3, 4, 1, (1..=12).collect()).unwrap()
}

fn rng() -> DataRng {
    DataRng::for_sample(7, 1, 3)
}

#[test]
fn zero_and_reflect_padding_by_hand() {
    let zero = pad(&ramp(), 1, Padding::Zero).unwrap();
    assert_eq!((zero.height, zero.width), (5, 6));
    #[rustfmt::skip]
    let expected = vec![
        0, 0, 0, 0, 0, 0,
        0, 1, 2, 3, 4, 0,
        0, 5, 6, 7, 8, 0,
        0, 9, 10, 11, 12, 0,
        0, 0, 0, 0, 0, 0,
    ];
    assert_eq!(zero.pixels, expected);
    // Reflect (no edge repeat), as numpy's/torch's "reflect".
    let reflect = pad(&ramp(), 2, Padding::Reflect).unwrap();
    assert_eq!(&reflect.pixels[..8], &[11, 10, 9, 10, 11, 12, 11, 10]);
    assert_eq!(&reflect.pixels[2 * 8..3 * 8], &[3, 2, 1, 2, 3, 4, 3, 2]);
    assert!(matches!(
        pad(&ramp(), 3, Padding::Reflect),
        Err(DataError::InvalidOption { .. })
    ));
}

#[test]
fn random_crop_is_a_window_of_the_padded_image() {
    let t = Transform::RandomCrop {
        size: [3, 4],
        padding: 1,
        fill: Padding::Zero,
    };
    let padded = pad(&ramp(), 1, Padding::Zero).unwrap();
    let mut seen = std::collections::HashSet::new();
    for index in 0..200 {
        let out = t
            .apply(ramp(), &mut DataRng::for_sample(0, 0, index))
            .unwrap();
        let found = (0..3)
            .flat_map(|top| (0..3).map(move |left| (top, left)))
            .find(|&(top, left)| {
                (0..3).all(|y| {
                    (0..4).all(|x| out.pixels[y * 4 + x] == padded.pixels[(top + y) * 6 + left + x])
                })
            });
        seen.insert(found.expect("the crop is a window of the padded image"));
    }
    assert_eq!(seen.len(), 9, "all 3×3 offsets occur: {seen:?}");
    // Same key, same crop.
    assert_eq!(
        t.apply(ramp(), &mut rng()).unwrap(),
        t.apply(ramp(), &mut rng()).unwrap()
    );
}

#[test]
fn flip_center_crop_and_warp() {
    let flipped = Transform::HorizontalFlip { prob: 1.0 }
        .apply(ramp(), &mut rng())
        .unwrap();
    assert_eq!(flipped.pixels, vec![4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9]);
    let kept = Transform::HorizontalFlip { prob: 0.0 }
        .apply(ramp(), &mut rng())
        .unwrap();
    assert_eq!(kept, ramp());
    // 3×4 → 1×2 centred: top round(1.0) = 1, left round(1.0) = 1.
    let c = Transform::CenterCrop { size: [1, 2] }
        .apply(ramp(), &mut rng())
        .unwrap();
    assert_eq!(c.pixels, vec![6, 7]);
    assert!(matches!(
        Transform::CenterCrop { size: [4, 4] }.apply(ramp(), &mut rng()),
        Err(DataError::InvalidOption { .. })
    ));
    // A flat image stays flat under any resize; an RGB 2×2 up to 4×6 keeps its shape.
    let flat = ImageU8::new(2, 2, 3, vec![77; 12]).unwrap();
    for interpolation in [Interpolation::Bilinear, Interpolation::Bicubic] {
        let up = resize(flat.clone(), [4, 6], interpolation).unwrap();
        assert_eq!((up.height, up.width, up.channels), (4, 6, 3));
        assert!(up.pixels.iter().all(|v| *v == 77));
    }
    // Antialiased bilinear (PIL's rule) shrinking 8 columns to 2, halves 0 | 200: output
    // column 0 is centred at 2.0 with a triangle of radius 4 over input centres j + 0.5,
    // weights 0.625, 0.875, 0.875, 0.625 | 0.375, 0.125 (sum 3.5), so by hand
    // 200·0.5/3.5 = 28.57 → 29, and symmetrically 200 − 28.57 → 171.
    let halves = ImageU8::new(2, 8, 1, [[0u8; 4], [200; 4]].concat().repeat(2)).unwrap();
    let half = resize(halves, [1, 2], Interpolation::Bilinear).unwrap();
    assert_eq!(half.pixels, vec![29, 171]);
    // Shorter side to 6 on a 3×4 image: 6×8.
    let s = Transform::ResizeShorter {
        size: 6,
        interpolation: Interpolation::Bilinear,
    }
    .apply(ramp(), &mut rng())
    .unwrap();
    assert_eq!((s.height, s.width), (6, 8));
}

#[test]
fn random_resized_crop_box_follows_torchvision() {
    for index in 0..300 {
        let mut r = DataRng::for_sample(1, 2, index);
        let (top, left, h, w) = resized_crop_box(30, 40, [0.08, 1.0], [0.75, 4.0 / 3.0], &mut r);
        assert!(top + h <= 30 && left + w <= 40 && h > 0 && w > 0);
        let area = (h * w) as f64 / 1200.0;
        // Rounding of the sides moves the area a little beyond the range at small sizes.
        assert!((0.05..=1.0).contains(&area), "{area}");
    }
    // A scale range no crop can satisfy falls back to the centred whole image clipped to
    // the ratio range: 10×40 (ratio 4) with ratios ≤ 4/3 → 10×13, left (40−13)/2 = 13.
    let mut r = rng();
    assert_eq!(
        resized_crop_box(10, 40, [1.0, 1.0], [0.75, 4.0 / 3.0], &mut r),
        (0, 13, 10, 13)
    );
    let t = Transform::RandomResizedCrop {
        size: [5, 7],
        scale: [0.5, 1.0],
        ratio: [0.75, 1.5],
        interpolation: Interpolation::Bicubic,
    };
    let out = t.apply(ramp(), &mut rng()).unwrap();
    assert_eq!((out.height, out.width), (5, 7));
    let bad = Transform::RandomResizedCrop {
        size: [5, 7],
        scale: [0.0, 1.0],
        ratio: [0.75, 1.5],
        interpolation: Interpolation::Bilinear,
    };
    assert!(bad.validate().is_err());
}

#[test]
fn normalisation_to_chw() {
    // 1×2 RGB pixels (255, 0, 51) and (0, 255, 102); mean 0.5, std 0.25 → by hand
    // (v/255 − 0.5)/0.25 = 4v/255 − 2.
    let image = ImageU8::new(1, 2, 3, vec![255, 0, 51, 0, 255, 102]).unwrap();
    let norm = Normalize {
        mean: [0.5; 3],
        std: [0.25; 3],
    };
    let mut out = Vec::new();
    norm.to_chw(&image, &mut out);
    let expected = [2.0, -2.0, -2.0, 2.0, 0.8 - 2.0, 1.6 - 2.0];
    for (g, e) in out.iter().zip(expected) {
        assert!((g - e).abs() < 1e-6, "{out:?}");
    }
    assert!(
        Normalize {
            mean: [0.0; 3],
            std: [0.0, 1.0, 1.0]
        }
        .validate()
        .is_err()
    );
    let cifar = Pipeline::cifar_train();
    assert_eq!(cifar.steps.len(), 2);
    let text = "steps = [{ op = \"random_crop\", size = [32, 32], padding = 4, fill = \"reflect\" }, { op = \"horizontal_flip\", prob = 0.5 }]";
    let parsed: Pipeline = toml::from_str(text).unwrap();
    assert_eq!(
        parsed.steps[0],
        Transform::RandomCrop {
            size: [32, 32],
            padding: 4,
            fill: Padding::Reflect
        }
    );
}
