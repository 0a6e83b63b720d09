use burn::prelude::*;
use mixaug_loss::soft_target_cross_entropy;
use mixaug_masks::{
    BatchShape, CutBox, CutDraw, Guide, MixConfig, MixRng, Mixer, Needs, Permutation,
    TransMixConfig, TransMixParams,
};
use mixaug_models::DeitConfig;

use crate::{assert_close, floats, ints, pasted_ramp, ramp_batch};

/// docs/methods.md's worked box (TransMix): rows [1, 5) × columns [3, 8) of an 8×12
/// image, whose 2-pixel patches form a 4×6 grid.
const WORKED_BOX: CutBox = CutBox {
    y0: 1,
    x0: 3,
    h: 4,
    w: 5,
};

/// The docs' two heads over the 4×6 grid (TransMix's worked example): head 0 puts 0.03 on
/// every patch; head 1 puts 0.30 on patch (1, 2), 0.10 on (2, 3) and 0.02 on the others.
fn worked_heads() -> Vec<f32> {
    let head1 = (0..24).map(|l| match l {
        8 => 0.30,
        15 => 0.10,
        _ => 0.02,
    });
    std::iter::repeat_n(0.03, 24).chain(head1).collect()
}

fn params(perm: Vec<usize>, boxes: &[CutBox]) -> TransMixParams {
    TransMixParams {
        perm: Permutation::new(perm).unwrap(),
        cuts: boxes
            .iter()
            .map(|&region| CutDraw {
                sampled_lam: 0.8,
                region,
            })
            .collect(),
    }
}

/// docs/methods.md's worked example (TransMix) on two 2×8×12 ramp images, π = (1, 0):
/// the images are CutMix's, pixel-exact (the worked box of the partner pasted); before the
/// forward the target is the area's, `19/24`; re-weighted, sample 0 (the worked heads)
/// gets `(19/24 + 25/39)/2 = 149/208` and sample 1 (both heads 0.0375 on every patch)
/// `(19/24 + 5/6)/2 = 13/16`.
pub fn transmix_hand_case(device: &Device) {
    let (n, c, h, w) = (2, 2, 8, 12);
    let params = params(vec![1, 0], &[WORKED_BOX]);
    let mixer = TransMixConfig::new().with_patch_size(2).init().unwrap();
    let mixed = mixer
        .apply(
            &params,
            ramp_batch(n, c, h, w, device),
            Tensor::from_ints([3, 7], device),
            &Guide::None,
        )
        .unwrap();
    assert_eq!(
        floats(mixed.images.clone()),
        pasted_ramp([n, c, h, w], &[WORKED_BOX], &[1, 0])
    );
    let area = 19.0 / 24.0;
    assert_close(
        &floats(mixed.target.weights()),
        &[area, 1.0 - area, area, 1.0 - area],
        1e-6,
    );
    let attention = Tensor::<3>::from_data(
        TensorData::new([worked_heads(), vec![0.0375; 48]].concat(), [2, 2, 24]),
        device,
    );
    let target = mixer.retarget(&params, &mixed, attention).unwrap();
    assert_eq!(ints(target.classes()), vec![3, 7, 7, 3]);
    let (a, b) = (149.0 / 208.0, 13.0 / 16.0);
    assert_close(&floats(target.weights()), &[a, 1.0 - a, b, 1.0 - b], 1e-6);
}

/// One box per sample on three 1×8×12 images, π = (1, 2, 0), the worked heads for every
/// sample: sample 0 has the worked box (149/208); sample 1 an empty box (weight 1, nothing
/// pasted); sample 2 the single pixel (1, 1), which holds no patch's top-left pixel
/// (anchors are even), so `λ_attn = 1` and `λ = (95/96 + 1)/2 = 191/192`.
pub fn transmix_per_sample_boxes(device: &Device) {
    let (n, c, h, w) = (3, 1, 8, 12);
    let dot = CutBox {
        y0: 1,
        x0: 1,
        h: 1,
        w: 1,
    };
    let boxes = [WORKED_BOX, CutBox::default(), dot];
    let params = params(vec![1, 2, 0], &boxes);
    let mixer = TransMixConfig::new().with_patch_size(2).init().unwrap();
    let mixed = mixer
        .apply(
            &params,
            ramp_batch(n, c, h, w, device),
            Tensor::from_ints([0, 1, 2], device),
            &Guide::None,
        )
        .unwrap();
    assert_eq!(
        floats(mixed.images.clone()),
        pasted_ramp([n, c, h, w], &boxes, &[1, 2, 0])
    );
    let attention = Tensor::<3>::from_data(
        TensorData::new(worked_heads().repeat(3), [3, 2, 24]),
        device,
    );
    let target = mixer.retarget(&params, &mixed, attention).unwrap();
    let (a, d) = (149.0 / 208.0, 191.0 / 192.0);
    assert_close(
        &floats(target.weights()),
        &[a, 1.0 - a, 1.0, 0.0, d, 1.0 - d],
        1e-6,
    );
}

/// TransMix with a real DeiT (16×16 images, 4-pixel patches: a 4×4 grid; width 8, two
/// blocks, two heads, three classes; untrained): mix on the plain device, lift, forward
/// with attention on the autodiff device, re-weight, soft-target cross-entropy, backward.
/// The attention has one row per head and patch, the loss and the gradient of the class
/// token are finite, and every re-weighted base weight equals the rule recomputed on the
/// host from the returned attention and the drawn box (`(λ_area + λ_attn)/2`, top-left
/// pixel of each patch), within 1e-5, and differs from the area ratio for some sample.
/// Three seeds (boxes differ, none empty).
pub fn transmix_with_deit(device: &Device) {
    let train = device.clone().autodiff();
    let plain = train.clone().inner();
    let model = DeitConfig::new(3)
        .with_image_size(16)
        .with_patch_size(4)
        .with_embed_dim(8)
        .with_depth(2)
        .with_num_heads(2)
        .with_mlp_ratio(2)
        .init(&train);
    let method = MixConfig::TransMix(TransMixConfig::new().with_patch_size(4))
        .init()
        .unwrap();
    assert_eq!(method.needs(), Needs::ClassAttention);
    let (n, c, h, w) = (4, 3, 16, 16);
    let images = ramp_batch(n, c, h, w, &plain).div_scalar(4000.0);
    let labels = Tensor::<1, Int>::from_ints([0, 1, 2, 1], &plain);
    let mut reweighted = 0;
    for seed in 0..3 {
        let params = method
            .sample(&mut MixRng::from_seed(seed), BatchShape::new(n, c, h, w))
            .unwrap();
        let mixed = method
            .apply(&params, images.clone(), labels.clone(), &Guide::None)
            .unwrap()
            .autodiff();
        let (logits, attention) = model.forward_with_attention(mixed.images.clone());
        assert_eq!(attention.dims(), [n, 2, 16]);
        let target = method.retarget(&params, &mixed, attention.clone()).unwrap();
        let loss = soft_target_cross_entropy(logits, &target, 0.0).unwrap();
        let value = loss.clone().into_scalar::<f32>();
        assert!(value.is_finite(), "seed {seed}: loss {value}");
        let grads = loss.backward();
        let grad = model
            .cls_token
            .val()
            .grad(&grads)
            .expect("class token grad");
        assert!(floats(grad).iter().all(|g| g.is_finite()), "seed {seed}");

        let mixaug_masks::MixParams::TransMix(p) = &params else {
            panic!("TransMix parameters expected, got {params:?}");
        };
        let region = p.cuts[0].region;
        assert!(
            !region.is_empty(),
            "seed {seed}: the gate is open and α = 1"
        );
        let attn = floats(attention.inner());
        let weights = floats(target.weights());
        for i in 0..n {
            let mean = |l: usize| (attn[(i * 2) * 16 + l] + attn[(i * 2 + 1) * 16 + l]) / 2.0;
            let total: f32 = (0..16).map(mean).sum();
            let inside: f32 = (0..16)
                .filter(|l| {
                    let (y, x) = (4 * (l / 4), 4 * (l % 4));
                    (region.y0..region.y1()).contains(&y) && (region.x0..region.x1()).contains(&x)
                })
                .map(mean)
                .sum();
            let expected = (region.kept_fraction(h, w) as f32 + 1.0 - inside / total) / 2.0;
            assert!(total > 0.0 && total < 1.0, "seed {seed}: total {total}");
            assert_close(
                &weights[2 * i..2 * i + 2],
                &[expected, 1.0 - expected],
                1e-5,
            );
            let area = region.kept_fraction(h, w) as f32;
            reweighted += usize::from((weights[2 * i] - area).abs() > 1e-4);
        }
    }
    // The attention moved the label away from the area ratio somewhere.
    assert!(reweighted > 0);
}
