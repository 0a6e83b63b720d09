use burn::prelude::*;
use mixaug_masks::{
    BatchShape, FMixConfig, FMixParams, Guide, MixRng, Mixer, Pairing, Permutation,
};

use crate::{assert_close, floats, ints, ramp_batch, swapped_pair_blend};

/// A hand-written 4×6 mask with ones, zeros and a soft 0.25 applied with π = (1, 0):
/// `x̃ = M·x + (1 − M)·x_π` on every channel; the label weight is the stored λ = 0.4.
pub fn fmix_hand_case(device: &Device) {
    let (n, c, h, w) = (2, 3, 4, 6);
    let mask: Vec<f32> = (0..h * w)
        .map(|p| match p % 3 {
            0 => 1.0,
            1 => 0.0,
            _ => 0.25,
        })
        .collect();
    let params = FMixParams {
        perm: Permutation::new(vec![1, 0]).unwrap(),
        lam: 0.4,
        ones: 8,
        grey: vec![0.0; h * w],
        mask: mask.clone(),
    };
    let mixed = FMixConfig::new()
        .init()
        .unwrap()
        .apply(
            &params,
            ramp_batch(n, c, h, w, device),
            Tensor::from_ints([4, 9], device),
            &Guide::None,
        )
        .unwrap();
    let expected = swapped_pair_blend([c, h, w], |_, _, y, x| mask[y * w + x]);
    assert_close(&floats(mixed.images), &expected, 1e-3);
    assert_eq!(ints(mixed.target.classes()), vec![4, 9, 9, 4]);
    assert_close(&floats(mixed.target.weights()), &[0.4, 0.6, 0.4, 0.6], 1e-7);
}

/// Sampled masks on 5×7: the mask is exactly the indicator of the top-k of its grey image
/// with k = ⌊λHW⌋ or ⌈λHW⌉, both branches occur over seeds 0..40, and the device result
/// holds exactly k base pixels (base = ones, partner = zeros, π = flip).
pub fn fmix_top_k_mask_and_coin(device: &Device) {
    let (n, c, h, w) = (2, 2, 5, 7);
    let fmix = FMixConfig::new()
        .with_pairing(Pairing::Flip)
        .init()
        .unwrap();
    let images = Tensor::<4>::cat(
        vec![
            Tensor::ones([1, c, h, w], device),
            Tensor::zeros([1, c, h, w], device),
        ],
        0,
    );
    let (mut ceil, mut floor) = (0, 0);
    for seed in 0..40 {
        let p = fmix
            .sample(&mut MixRng::from_seed(seed), BatchShape::new(n, c, h, w))
            .unwrap();
        let exact = p.lam * (h * w) as f64;
        assert!(p.ones == exact.floor() as usize || p.ones == exact.ceil() as usize);
        if exact.fract() > 0.0 {
            if p.ones == exact.ceil() as usize {
                ceil += 1;
            } else {
                floor += 1;
            }
        }
        let mut ranked: Vec<(f32, f32)> = p.grey.iter().copied().zip(p.mask.clone()).collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        let ones_first: Vec<f32> = ranked.iter().map(|r| r.1).collect();
        let mut expected = vec![0.0f32; h * w];
        expected[..p.ones].fill(1.0);
        // Ties in the grey image are broken consistently by the binarisation; compare the
        // multiset of mask values below and above the k-th grey value instead of the order.
        assert_eq!(p.mask.iter().filter(|m| **m == 1.0).count(), p.ones);
        assert!(p.mask.iter().all(|m| *m == 0.0 || *m == 1.0));
        if p.ones > 0 && p.ones < h * w && ranked[p.ones - 1].0 > ranked[p.ones].0 {
            assert_eq!(ones_first, expected, "seed {seed}");
        }
        let mixed = fmix
            .apply(
                &p,
                images.clone(),
                Tensor::from_ints([0, 1], device),
                &Guide::None,
            )
            .unwrap();
        let kept: f32 = mixed.images.slice(s![0..1, 0..1]).sum().into_scalar();
        assert_eq!(kept, p.ones as f32, "seed {seed}");
    }
    assert!(ceil > 0 && floor > 0, "ceil {ceil}, floor {floor}");
}
