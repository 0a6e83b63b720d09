//! The shared numeric suite of mixaug: every case is a function of a [`Device`], written
//! once and instantiated as `#[test]`s for each backend compiled in (see
//! `tests/backends.rs` and the [`backend_suite!`] macro), the pattern of burn's own
//! `burn-backend-tests`.
//!
//! Expected values come from hand computation (stated beside each case) or from
//! METHODS.md's worked examples; tensors are non-square (`2×3×4×6`) wherever the shape
//! matters.

#![allow(clippy::missing_panics_doc)]

use burn::prelude::*;

pub mod cases;

/// A batch whose value at `(n, c, y, x)` is `1000n + 100c + 10y + x`: every pixel is
/// distinct and exactly representable, so a moved pixel is always detected.
///
/// # Shapes
/// - output: `[n, c, h, w]`
pub fn ramp_batch(n: usize, c: usize, h: usize, w: usize, device: &Device) -> Tensor<4> {
    Tensor::<4>::from_data(
        TensorData::new(ramp_values(n, c, h, w), [n, c, h, w]),
        device,
    )
}

/// The host copy of [`ramp_batch`], in row-major NCHW order.
pub fn ramp_values(n: usize, c: usize, h: usize, w: usize) -> Vec<f32> {
    let mut v = Vec::with_capacity(n * c * h * w);
    for i in 0..n {
        for ch in 0..c {
            for y in 0..h {
                for x in 0..w {
                    v.push((1000 * i + 100 * ch + 10 * y + x) as f32);
                }
            }
        }
    }
    v
}

/// What a two-image ramp batch (`[2, c, h, w]`) becomes when each image is blended with the
/// other (π = (1, 0)) with base weight `m(i, ch, y, x)`:
/// `m·x_i + (1 − m)·x_{1−i}` at every element, row-major.
pub fn swapped_pair_blend(
    [c, h, w]: [usize; 3],
    m: impl Fn(usize, usize, usize, usize) -> f32,
) -> Vec<f32> {
    let x = ramp_values(2, c, h, w);
    let at = |i: usize, ch: usize, y: usize, xx: usize| ((i * c + ch) * h + y) * w + xx;
    let mut out = x.clone();
    for i in 0..2 {
        for ch in 0..c {
            for y in 0..h {
                for xx in 0..w {
                    let k = m(i, ch, y, xx);
                    out[at(i, ch, y, xx)] =
                        k * x[at(i, ch, y, xx)] + (1.0 - k) * x[at(1 - i, ch, y, xx)];
                }
            }
        }
    }
    out
}

/// What a ramp batch of `shape` becomes when box `boxes[i]` of sample `i` (the last box
/// for every later sample) is replaced by the same pixels of its partner `perm[i]`.
pub fn pasted_ramp(shape: [usize; 4], boxes: &[mixaug_masks::CutBox], perm: &[usize]) -> Vec<f32> {
    let [n, c, h, w] = shape;
    let x = ramp_values(n, c, h, w);
    let mut out = x.clone();
    for i in 0..n {
        let b = boxes[i.min(boxes.len() - 1)];
        for ch in 0..c {
            for y in b.y0..b.y1() {
                for xx in b.x0..b.x1() {
                    let at = |s: usize| ((s * c + ch) * h + y) * w + xx;
                    out[at(i)] = x[at(perm[i])];
                }
            }
        }
    }
    out
}

/// A float tensor's values, row-major.
pub fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().expect("f32 data")
}

/// An integer tensor's values, row-major, whatever the backend's integer type.
pub fn ints<const D: usize>(t: Tensor<D, Int>) -> Vec<i64> {
    t.into_data().try_into_vec_as::<i64>().expect("i64 data")
}

/// Asserts that two float slices agree element-wise within `tol`.
pub fn assert_close(got: &[f32], expected: &[f32], tol: f32) {
    assert_eq!(got.len(), expected.len(), "lengths differ");
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (g - e).abs() <= tol,
            "element {i}: got {g}, expected {e} (tolerance {tol})"
        );
    }
}

/// Instantiates every case of the suite as a `#[test]` on the device expression given.
#[macro_export]
macro_rules! backend_suite {
    ($device:expr) => {
        $crate::backend_suite!(@cases $device;
            mixup_hand_case, mixup_per_sample_hand_case, mixup_identity_cases,
            cutmix_hand_case, cutmix_worked_example, cutmix_per_sample_hand_case,
            cutmix_identity_cases, cutmix_area_property, cutmix_uncorrected_lambda,
            same_seed_same_params, same_seed_same_mix_as_flex, probability_gate_off,
            dense_target_with_smoothing, soft_equals_pair_cross_entropy,
            cross_entropy_hand_case, pair_cross_entropy_unnormalised_weights,
            errors_bad_batches, errors_bad_labels, errors_bad_hyper_parameters,
            errors_images_too_small, none_method_is_identity, base_weight_is_pixel_fraction,
            sample_pairing_hand_case, sample_pairing_schedule_gates_epochs,
            cutout_per_image_hand_case, cutout_sampled_boxes,
            fmix_hand_case, fmix_top_k_mask_and_coin,
            gridmix_hand_case, gridmix_sampled_grids, gridmix_crop_past_the_image,
            transmix_hand_case, transmix_per_sample_boxes, transmix_with_deit,
            resizemix_hand_case, resizemix_sampled_paste,
            smoothmix_hand_case, smoothmix_sampled_and_identity,
            ricap_hand_case, ricap_zero_size_patches_and_sampling,
            mixed_example_concat_hand_cases, mixed_example_quadrant_hand_cases,
            mixed_example_vh_mixup_hand_case, mixed_example_interval_hand_cases,
            mixed_example_bits_hand_cases, mixed_example_sampled_sources,
            sumix_worked_example, sumix_ratio_properties, sumix_gradient_flow,
            sumix_with_mixers,
            cam_hand_case, percent_map_hand_case, semantic_percent_maps_statistics,
            attention_maps_hand_case, saliencymix_hand_case,
            saliencymix_peaks_follow_partner_saliency, snapmix_hand_case,
            snapmix_sampled_weights_in_range, attentivemix_hand_case, attentivemix_uneven_cells,
            snapmix_mid_level_head, models_forward_backward, vits_train_on_one_batch,
            attention_from_teacher
        );
    };
    (@cases $device:expr; $($case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::cases::$case(&$device);
            }
        )*
    };
}

/// [`Mixer::mix`](mixaug_masks::Mixer::mix) for every method that needs no model: the
/// parameters, then the guide SaliencyMix computes from the batch itself
/// ([`MixMethod::device_guide`](mixaug_masks::MixMethod::device_guide)), then `apply`.
///
/// # Shapes
/// - `images`: `[N, C, H, W]`; `labels`: `[N]`
pub fn mix_self_guided(
    method: &mixaug_masks::MixMethod,
    rng: &mut mixaug_masks::MixRng,
    images: Tensor<4>,
    labels: Tensor<1, Int>,
) -> Result<mixaug_masks::Mixed, mixaug_masks::MixError> {
    use mixaug_masks::Mixer;
    let batch = mixaug_masks::BatchShape::of_batch(&images, &labels)?;
    let params = method.sample(rng, batch)?;
    let guide = method.device_guide(&params, &images)?.unwrap_or_default();
    method.apply(&params, images, labels, &guide)
}
