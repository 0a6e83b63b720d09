use burn::prelude::*;
use mixaug_masks::{
    BatchShape, CutBox, CutoutConfig, CutoutMode, CutoutParams, Guide, MixRng, Mixer,
};

use crate::{floats, ints, ramp_batch, ramp_values};

/// The ramp with `regions[i]` (or the single region) of sample `i` set to `fill`.
fn expected_erase(shape: [usize; 4], regions: &[CutBox], fill: f32) -> Vec<f32> {
    let [n, c, h, w] = shape;
    let mut out = ramp_values(n, c, h, w);
    for i in 0..n {
        let b = regions[i.min(regions.len() - 1)];
        for ch in 0..c {
            for y in b.y0..b.y1() {
                for x in b.x0..b.x1() {
                    out[((i * c + ch) * h + y) * w + x] = fill;
                }
            }
        }
    }
    out
}

/// Per-image boxes rows [1,3) × cols [0,2) and rows [0,4) × cols [4,6) filled with −1.5
/// on 2×3×4×6; labels untouched, π = identity.
pub fn cutout_per_image_hand_case(device: &Device) {
    let shape = [2, 3, 4, 6];
    let regions = vec![
        CutBox {
            y0: 1,
            x0: 0,
            h: 2,
            w: 2,
        },
        CutBox {
            y0: 0,
            x0: 4,
            h: 4,
            w: 2,
        },
    ];
    let [n, c, h, w] = shape;
    let mixed = CutoutConfig::new()
        .with_fill(-1.5)
        .init()
        .unwrap()
        .apply(
            &CutoutParams {
                regions: regions.clone(),
            },
            ramp_batch(n, c, h, w, device),
            Tensor::from_ints([4, 9], device),
            &Guide::None,
        )
        .unwrap();
    assert_eq!(floats(mixed.images), expected_erase(shape, &regions, -1.5));
    assert_eq!(ints(mixed.target.classes()), vec![4, 9]);
    assert_eq!(floats(mixed.target.weights()), vec![1.0, 1.0]);
    assert_eq!(ints(mixed.perm), vec![0, 1]);
}

/// Sampled boxes: per image, each box has sides ≤ L = 2 inside the image and the erased
/// pixels are exactly the box; per batch (λ = 0.75 on 4×6 → §0.3 sides 2·⌊2/2⌋ = 2 and
/// 2·⌊3/2⌋ = 2, clipped), one box shared by every sample.
pub fn cutout_sampled_boxes(device: &Device) {
    let shape = [3, 2, 4, 6];
    let [n, c, h, w] = shape;
    for seed in 0..5 {
        let per_image = CutoutConfig::new()
            .with_mode(CutoutMode::PerImage { side: 2 })
            .init()
            .unwrap();
        let params = per_image
            .sample(&mut MixRng::from_seed(seed), BatchShape::new(n, c, h, w))
            .unwrap();
        assert_eq!(params.regions.len(), n);
        for b in &params.regions {
            assert!(b.h <= 2 && b.w <= 2 && b.y1() <= h && b.x1() <= w, "{b:?}");
        }
        let mixed = per_image
            .apply(
                &params,
                ramp_batch(n, c, h, w, device),
                Tensor::from_ints([0, 1, 2], device),
                &Guide::None,
            )
            .unwrap();
        assert_eq!(
            floats(mixed.images),
            expected_erase(shape, &params.regions, 0.0)
        );

        let per_batch = CutoutConfig::new()
            .with_mode(CutoutMode::PerBatch { lam: 0.75 })
            .init()
            .unwrap();
        let params = per_batch
            .sample(&mut MixRng::from_seed(seed), BatchShape::new(n, c, h, w))
            .unwrap();
        assert_eq!(params.regions.len(), 1);
        assert!(params.regions[0].h <= 2 && params.regions[0].w <= 2);
        let mixed = per_batch
            .apply(
                &params,
                ramp_batch(n, c, h, w, device),
                Tensor::from_ints([0, 1, 2], device),
                &Guide::None,
            )
            .unwrap();
        assert_eq!(
            floats(mixed.images),
            expected_erase(shape, &params.regions, 0.0)
        );
    }
}
