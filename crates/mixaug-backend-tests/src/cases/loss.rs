use burn::prelude::*;
use mixaug_loss::{pair_cross_entropy, pair_cross_entropy_per_sample, soft_target_cross_entropy};
use mixaug_masks::MixedTarget;

use crate::{assert_close, floats};

/// Logits `ln(1, 2, 3)`: softmax `(1/6, 2/6, 3/6)`.
fn logits_123(device: &Device) -> Tensor<2> {
    Tensor::<2>::from_floats([[0.0, 2f32.ln(), 3f32.ln()]], device)
}

fn pair(device: &Device, y_a: [i64; 1], y_b: [i64; 1], w_a: f32, w_b: f32) -> MixedTarget {
    MixedTarget::pair(
        Tensor::from_ints(y_a, device),
        Tensor::from_ints(y_b, device),
        Tensor::from_floats([w_a], device),
        Tensor::from_floats([w_b], device),
    )
    .unwrap()
}

/// `to_dense` with ε = 0.3 over C = 3: smooth(e(k)) = 0.8 on k, 0.1 elsewhere; classes
/// (0, 2) weighted (0.75, 0.25) give (0.625, 0.1, 0.275).
pub fn dense_target_with_smoothing(device: &Device) {
    let target = pair(device, [0], [2], 0.75, 0.25);
    assert_close(
        &floats(target.to_dense(3, 0.3).unwrap()),
        &[0.625, 0.1, 0.275],
        1e-6,
    );
    assert_close(
        &floats(target.to_dense(3, 0.0).unwrap()),
        &[0.75, 0.0, 0.25],
        0.0,
    );
}

/// Hand computation with softmax (1/6, 2/6, 3/6), classes (0, 2) weighted (0.5, 0.5):
/// CE = 0.5·ln 6 + 0.5·ln 2 = 1.2424533; with ε = 0.3 the targets are (0.45, 0.1, 0.45)
/// and CE = 0.45·ln 6 + 0.1·ln 3 + 0.45·ln 2 = 1.2281372.
pub fn cross_entropy_hand_case(device: &Device) {
    let target = pair(device, [0], [2], 0.5, 0.5);
    let plain = 0.5 * 6f64.ln() + 0.5 * 2f64.ln();
    let smoothed = 0.45 * 6f64.ln() + 0.1 * 3f64.ln() + 0.45 * 2f64.ln();
    for (eps, expected) in [(0.0, plain), (0.3, smoothed)] {
        let soft: f32 = soft_target_cross_entropy(logits_123(device), &target, eps)
            .unwrap()
            .into_scalar();
        let pair: f32 = pair_cross_entropy(logits_123(device), &target, eps)
            .unwrap()
            .into_scalar();
        assert!(
            (soft as f64 - expected).abs() < 1e-5,
            "soft {soft} vs {expected}"
        );
        assert!(
            (pair as f64 - expected).abs() < 1e-5,
            "pair {pair} vs {expected}"
        );
    }
}

/// On random logits and pair targets whose weights sum to 1, soft-target CE and pair CE
/// agree, with and without smoothing.
pub fn soft_equals_pair_cross_entropy(device: &Device) {
    let (n, classes) = (5, 7);
    let logits = Tensor::<2>::from_data(
        TensorData::new(
            (0..n * classes)
                .map(|k| ((k * 37 % 23) as f32 - 11.0) / 4.0)
                .collect::<Vec<_>>(),
            [n, classes],
        ),
        device,
    );
    let target = MixedTarget::pair(
        Tensor::from_ints([0, 3, 6, 2, 2], device),
        Tensor::from_ints([1, 3, 0, 5, 4], device),
        Tensor::from_floats([0.9, 0.5, 0.25, 0.0, 0.6], device),
        Tensor::from_floats([0.1, 0.5, 0.75, 1.0, 0.4], device),
    )
    .unwrap();
    for eps in [0.0, 0.1] {
        let soft: f32 = soft_target_cross_entropy(logits.clone(), &target, eps)
            .unwrap()
            .into_scalar();
        let pair: f32 = pair_cross_entropy(logits.clone(), &target, eps)
            .unwrap()
            .into_scalar();
        assert!((soft - pair).abs() < 1e-5, "ε = {eps}: {soft} vs {pair}");
    }
}

/// SnapMix-style weights (0.3, 0.9) that do not sum to 1: the per-sample loss is
/// 0.3·ln 6 + 0.9·ln 2 = 1.1613325.
pub fn pair_cross_entropy_unnormalised_weights(device: &Device) {
    let target = pair(device, [0], [2], 0.3, 0.9);
    let got = floats(pair_cross_entropy_per_sample(logits_123(device), &target, 0.0).unwrap());
    let expected = 0.3 * 6f64.ln() + 0.9 * 2f64.ln();
    assert_close(&got, &[expected as f32], 1e-5);
}
