use burn::prelude::*;
use mixaug_maps::{ImageU8, fine_grained_saliency, percent_maps};
use mixaug_masks::{
    AttentiveMixConfig, AttentiveMixParams, CellCount, CutBox, Guide, MixConfig, MixError,
    MixParams, MixRng, Mixer, Permutation, Pixel, SaliencyMixConfig, SaliencyMixParams,
    SaliencyPeaks, SnapMixConfig, SnapMixParams,
};

use crate::{assert_close, floats, ints, pasted_ramp, ramp_batch, ramp_values, swapped_pair_blend};

const SHAPE: [usize; 4] = [2, 3, 4, 6];

fn flip() -> Permutation {
    Permutation::new(vec![1, 0]).unwrap()
}

/// λ = 0.5 on 4×6 images: `ρ = √0.5`, cut sides ⌊2.83⌋ = 2 and ⌊4.24⌋ = 4, half-sides 1
/// and 2. Peak (1, 2) → rows [0, 2) × cols [0, 4); λ' = 1 − 8/24 = 2/3, for every sample
/// (one box). Per-sample peaks (1, 2) and (3, 5) → the second box is rows [2, 4) × cols
/// [3, 6) (clipped), λ' = 1 − 6/24 = 0.75.
pub fn saliencymix_hand_case(device: &Device) {
    let [n, c, h, w] = SHAPE;
    let mixer = SaliencyMixConfig::new().init().unwrap();
    let params = SaliencyMixParams {
        perm: flip(),
        sampled_lam: 0.5,
    };
    let run = |peaks: Vec<Pixel>| {
        mixer
            .apply(
                &params,
                ramp_batch(n, c, h, w, device),
                Tensor::from_ints([3, 7], device),
                &Guide::SaliencyPeaks(peaks),
            )
            .unwrap()
    };
    let first = CutBox {
        y0: 0,
        x0: 0,
        h: 2,
        w: 4,
    };
    let mixed = run(vec![Pixel { y: 1, x: 2 }]);
    assert_eq!(floats(mixed.images), pasted_ramp(SHAPE, &[first], &[1, 0]));
    assert_eq!(ints(mixed.target.classes()), vec![3, 7, 7, 3]);
    assert_close(
        &floats(mixed.target.weights()),
        &[2.0 / 3.0, 1.0 / 3.0, 2.0 / 3.0, 1.0 / 3.0],
        1e-6,
    );

    let second = CutBox {
        y0: 2,
        x0: 3,
        h: 2,
        w: 3,
    };
    let mixed = run(vec![Pixel { y: 1, x: 2 }, Pixel { y: 3, x: 5 }]);
    assert_eq!(
        floats(mixed.images),
        pasted_ramp(SHAPE, &[first, second], &[1, 0])
    );
    assert_close(
        &floats(mixed.target.weights()),
        &[2.0 / 3.0, 1.0 / 3.0, 0.75, 0.25],
        1e-6,
    );

    // A peak outside the image and a wrong number of peaks are typed errors.
    for peaks in [vec![Pixel { y: 4, x: 0 }], vec![Pixel { y: 0, x: 0 }; 3]] {
        assert!(matches!(
            mixer.apply(
                &params,
                ramp_batch(n, c, h, w, device),
                Tensor::from_ints([3, 7], device),
                &Guide::SaliencyPeaks(peaks),
            ),
            Err(MixError::ShapeMismatch { .. })
        ));
    }
    // Without its guide SaliencyMix is a typed error, unless nothing is mixed (λ = 1).
    assert!(matches!(
        mixer.apply(
            &params,
            ramp_batch(n, c, h, w, device),
            Tensor::from_ints([3, 7], device),
            &Guide::None,
        ),
        Err(MixError::GuideRequired {
            method: "saliencymix",
            ..
        })
    ));
    let unmixed = SaliencyMixParams {
        perm: flip(),
        sampled_lam: 1.0,
    };
    let mixed = mixer
        .apply(
            &unmixed,
            ramp_batch(n, c, h, w, device),
            Tensor::from_ints([3, 7], device),
            &Guide::None,
        )
        .unwrap();
    assert_eq!(floats(mixed.images), ramp_values(n, c, h, w));
}

/// Pseudo-random 8-bit pixels (a fixed integer hash), as floats `k/255`, so the saliency
/// routine sees exactly these bytes after de-normalisation.
fn byte_batch(n: usize, c: usize, h: usize, w: usize, device: &Device) -> (Vec<u8>, Tensor<4>) {
    let bytes: Vec<u8> = (0..n * c * h * w)
        .map(|i| ((i as u64 * 2654435761 + 12345) >> 7) as u8)
        .collect();
    let floats: Vec<f32> = bytes.iter().map(|&b| f32::from(b) / 255.0).collect();
    (
        bytes,
        Tensor::from_data(TensorData::new(floats, [n, c, h, w]), device),
    )
}

/// The peaks come from the saliency of the partners: of `x_π(0)` only (reference) or of
/// every `x_π(i)`, each the first row-major maximum of OpenCV's map of that image (read
/// as B, G, R from the RGB tensor); the sampled box is centred on it.
pub fn saliencymix_peaks_follow_partner_saliency(device: &Device) {
    let (n, c, h, w) = (3, 3, 10, 12);
    let (bytes, images) = byte_batch(n, c, h, w, device);
    let argmax = |i: usize| {
        let plane = h * w;
        let bgr: Vec<u8> = (0..plane)
            .flat_map(|k| [2, 1, 0].map(|ch| bytes[(i * c + ch) * plane + k]))
            .collect();
        let (y, x) = fine_grained_saliency(ImageU8::new(&bgr, h, w, 3).unwrap()).argmax();
        Pixel { y, x }
    };
    let perm = Permutation::new(vec![2, 0, 1]).unwrap();
    let reference = SaliencyMixConfig::new().init().unwrap();
    assert_eq!(reference.peaks(&images, &perm).unwrap(), vec![argmax(2)]);
    let per_sample = SaliencyMixConfig::new()
        .with_peaks(SaliencyPeaks::PerSample)
        .init()
        .unwrap();
    assert_eq!(
        per_sample.peaks(&images, &perm).unwrap(),
        vec![argmax(2), argmax(0), argmax(1)]
    );
    // Through `mix`: the box is the §0.3 box of the sampled λ around the partner's peak.
    let labels = Tensor::<1, Int>::from_ints([0, 1, 2], device);
    let params = reference
        .sample(
            &mut MixRng::from_seed(9),
            mixaug_masks::BatchShape::new(n, c, h, w),
        )
        .unwrap();
    let peak = argmax(params.perm.as_slice()[0]);
    let region = CutBox::around(h, w, params.sampled_lam, peak.y, peak.x);
    // The guide from the host batch (before upload) equals the one read back.
    let host: Vec<f32> = bytes.iter().map(|&b| f32::from(b) / 255.0).collect();
    let shape = mixaug_masks::BatchShape::new(n, c, h, w);
    let guide = reference.host_guide(&params, &host, shape).unwrap();
    match (&guide, reference.guide(&params, &images).unwrap()) {
        (Guide::SaliencyPeaks(host), Guide::SaliencyPeaks(read)) => {
            assert_eq!((host.clone(), read), (vec![peak], vec![peak]));
        }
        other => panic!("unexpected guides {other:?}"),
    }
    let mixed = reference.apply(&params, images, labels, &guide).unwrap();
    let expected = region.kept_fraction(h, w) as f32;
    let weights = floats(mixed.target.weights());
    assert_close(&[weights[0], weights[2], weights[4]], &[expected; 3], 1e-6);
    // Four channels cannot be mapped: a typed error, not a panic.
    let four = Tensor::<4>::zeros([2, 4, 5, 5], device);
    assert!(matches!(
        reference.peaks(&four, &flip()),
        Err(MixError::Guide { .. })
    ));
}

/// Boxes on 4×6 images, π = (1, 0): destination A = rows [0, 2) × cols [0, 2), source
/// B = rows [1, 3) × cols [2, 5). Resizing the 2×3 source to 2×2 with align_corners = true
/// takes source rows 0, 1 and columns 0, 2 (`src = dst·(in−1)/(out−1)`): exactly B's
/// columns 2 and 4, no interpolation.
///
/// Maps: sample 0 uniform (1/24), sample 1 all its mass at (1, 2) — inside B, outside A.
/// Sample 0 (partner 1): `w_a = 1 − 4/24`, `w_b = 1`. Sample 1 (partner 0): `w_a = 1`,
/// `w_b = 6/24`. (Up to the reference's `+1e-8` in the denominators.)
pub fn snapmix_hand_case(device: &Device) {
    let [n, c, h, w] = SHAPE;
    let params = SnapMixParams {
        perm: flip(),
        mixing: true,
        destination: CutBox {
            y0: 0,
            x0: 0,
            h: 2,
            w: 2,
        },
        source: CutBox {
            y0: 1,
            x0: 2,
            h: 2,
            w: 3,
        },
    };
    let mut peaked = vec![0.0f32; h * w];
    peaked[w + 2] = 1.0;
    let mut maps: Vec<f32> = vec![1.0 / 24.0; h * w];
    maps.extend(peaked);
    let maps = Tensor::<3>::from_data(TensorData::new(maps, [n, h, w]), device);
    let mixer = SnapMixConfig::new().init().unwrap();
    let mixed = mixer
        .apply(
            &params,
            ramp_batch(n, c, h, w, device),
            Tensor::from_ints([3, 7], device),
            &Guide::PercentMaps(maps.clone()),
        )
        .unwrap();
    let x = ramp_values(n, c, h, w);
    let mut expected = x.clone();
    for i in 0..n {
        for ch in 0..c {
            for y in 0..2 {
                for (xx, src_x) in [(0, 2), (1, 4)] {
                    expected[((i * c + ch) * h + y) * w + xx] =
                        x[(((1 - i) * c + ch) * h + y + 1) * w + src_x];
                }
            }
        }
    }
    assert_close(&floats(mixed.images), &expected, 1e-3);
    assert_eq!(ints(mixed.target.classes()), vec![3, 7, 7, 3]);
    assert_close(
        &floats(mixed.target.weights()),
        &[1.0 - 4.0 / 24.0, 1.0, 1.0, 6.0 / 24.0],
        1e-6,
    );

    // Same labels: both weights become w_a + w_b.
    let same = mixer
        .apply(
            &params,
            ramp_batch(n, c, h, w, device),
            Tensor::from_ints([5, 5], device),
            &Guide::PercentMaps(maps.clone()),
        )
        .unwrap();
    let s0 = 1.0 - 4.0 / 24.0 + 1.0;
    let s1 = 1.0 + 6.0 / 24.0;
    assert_close(&floats(same.target.weights()), &[s0, s0, s1, s1], 1e-6);

    // A constant CAM gives area ratios: w_a = 1 − |A|/HW, w_b = |B|/HW.
    let flat = percent_maps(Tensor::<3>::ones([n, 2, 3], device), h, w);
    let area = mixer
        .apply(
            &params,
            ramp_batch(n, c, h, w, device),
            Tensor::from_ints([3, 7], device),
            &Guide::PercentMaps(flat),
        )
        .unwrap();
    let (wa, wb) = (1.0 - 4.0 / 24.0, 6.0 / 24.0);
    assert_close(&floats(area.target.weights()), &[wa, wb, wa, wb], 1e-6);

    // NaN maps fall back on λ' = 1 − |A|/HW and 1 − λ'.
    let nan = Tensor::<3>::full([n, h, w], f32::NAN, device);
    let guarded = mixer
        .apply(
            &params,
            ramp_batch(n, c, h, w, device),
            Tensor::from_ints([3, 7], device),
            &Guide::PercentMaps(nan),
        )
        .unwrap();
    assert_close(
        &floats(guarded.target.weights()),
        &[wa, 1.0 - wa, wa, 1.0 - wa],
        1e-6,
    );

    // The gate closed: images unchanged, weights (1, 0), y_b still y[π].
    let off = SnapMixParams {
        mixing: false,
        ..params.clone()
    };
    let unmixed = mixer
        .apply(
            &off,
            ramp_batch(n, c, h, w, device),
            Tensor::from_ints([3, 7], device),
            &Guide::PercentMaps(maps.clone()),
        )
        .unwrap();
    assert_eq!(floats(unmixed.images), x);
    assert_eq!(ints(unmixed.target.classes()), vec![3, 7, 7, 3]);
    assert_eq!(floats(unmixed.target.weights()), vec![1.0, 0.0, 1.0, 0.0]);

    // Maps of the wrong shape are a typed error.
    assert!(matches!(
        mixer.apply(
            &params,
            ramp_batch(n, c, h, w, device),
            Tensor::from_ints([3, 7], device),
            &Guide::PercentMaps(Tensor::zeros([n, w, h], device))
        ),
        Err(MixError::ShapeMismatch { .. })
    ));
}

/// Sampled SnapMix: with distinct labels the weights lie in [0, 1] except for the fixed
/// points of π (a sample paired with itself has the same label: both weights merged and
/// equal); through `MixConfig` without maps a typed error.
pub fn snapmix_sampled_weights_in_range(device: &Device) {
    let (n, c, h, w) = (4, 3, 9, 7);
    let images = ramp_batch(n, c, h, w, device);
    let labels = Tensor::<1, Int>::from_ints([0, 1, 2, 3], device);
    let maps = percent_maps(
        ramp_batch(n, 1, 3, 2, device).reshape([n, 3, 2]).sin(),
        h,
        w,
    );
    let mixer = SnapMixConfig::new().init().unwrap();
    for seed in 0..8 {
        let params = mixer
            .sample(
                &mut MixRng::from_seed(seed),
                mixaug_masks::BatchShape::new(n, c, h, w),
            )
            .unwrap();
        let mixed = mixer
            .apply(
                &params,
                images.clone(),
                labels.clone(),
                &Guide::PercentMaps(maps.clone()),
            )
            .unwrap();
        let weights = floats(mixed.target.weights());
        for (i, &p) in params.perm.as_slice().iter().enumerate() {
            let (wa, wb) = (weights[2 * i], weights[2 * i + 1]);
            if p == i {
                assert_eq!(wa, wb, "seed {seed}, fixed point {i}");
            } else {
                assert!(
                    (0.0..=1.0).contains(&wa) && (0.0..=1.0).contains(&wb),
                    "seed {seed}: {wa} {wb}"
                );
            }
        }
    }
    let method = MixConfig::SnapMix(SnapMixConfig::new()).init().unwrap();
    let params = method
        .sample(
            &mut MixRng::from_seed(0),
            mixaug_masks::BatchShape::new(n, c, h, w),
        )
        .unwrap();
    assert!(matches!(
        method.apply(&params, images.clone(), labels.clone(), &Guide::None),
        Err(MixError::GuideRequired {
            method: "snapmix",
            ..
        })
    ));
    assert!(matches!(params, MixParams::SnapMix(_)));
    let with = method
        .apply(&params, images, labels, &Guide::PercentMaps(maps))
        .unwrap();
    assert_eq!(with.images.dims(), [n, c, h, w]);
}

/// Attention grid 2×3 on 4×6 images (cells of 2×2 pixels), π = (1, 0), k = 2.
/// Sample 0's attention `[[5, 1, 0], [2, 9, 3]]` keeps cells (1, 1) and (0, 0); sample 1's
/// `[[0, 8, 7], [1, 2, 3]]` keeps (0, 1) and (0, 2). The original variant weighs the base
/// label `k/cells = 2/6`.
pub fn attentivemix_hand_case(device: &Device) {
    let [n, c, h, w] = SHAPE;
    let attention = Tensor::<3>::from_floats(
        [
            [[5.0, 1.0, 0.0], [2.0, 9.0, 3.0]],
            [[0.0, 8.0, 7.0], [1.0, 2.0, 3.0]],
        ],
        device,
    );
    let kept = [[(1, 1), (0, 0)], [(0, 1), (0, 2)]];
    let mask = |i: usize, _ch: usize, y: usize, x: usize| {
        f32::from(u8::from(kept[i].contains(&(y / 2, x / 2))))
    };
    let params = AttentiveMixParams {
        perm: flip(),
        cells: CellCount::Fixed(2),
    };
    let mixed = AttentiveMixConfig::original()
        .with_top_k(Some(2))
        .init()
        .unwrap()
        .apply(
            &params,
            ramp_batch(n, c, h, w, device),
            Tensor::from_ints([3, 7], device),
            &Guide::Attention(attention.clone()),
        )
        .unwrap();
    assert_eq!(floats(mixed.images), swapped_pair_blend([c, h, w], mask));
    assert_close(
        &floats(mixed.target.weights()),
        &[2.0 / 6.0, 4.0 / 6.0, 2.0 / 6.0, 4.0 / 6.0],
        1e-6,
    );

    // AttentiveMix+: k = ⌊6·0.55⌋ = 3 → sample 0 also keeps (1, 2) (attention 3), sample 1
    // keeps (1, 2) too (3); the label is sample 0's kept fraction, 3/6, for both.
    let params = AttentiveMixParams {
        perm: flip(),
        cells: CellCount::Fraction(0.55),
    };
    let kept = [[(1, 1), (0, 0), (1, 2)], [(0, 1), (0, 2), (1, 2)]];
    let mixed = AttentiveMixConfig::new()
        .init()
        .unwrap()
        .apply(
            &params,
            ramp_batch(n, c, h, w, device),
            Tensor::from_ints([3, 7], device),
            &Guide::Attention(attention),
        )
        .unwrap();
    let mask = |i: usize, _ch: usize, y: usize, x: usize| {
        f32::from(u8::from(kept[i].contains(&(y / 2, x / 2))))
    };
    assert_eq!(floats(mixed.images), swapped_pair_blend([c, h, w], mask));
    assert_close(&floats(mixed.target.weights()), &[0.5; 4], 1e-6);
}

/// On 5×7 images a 2×3 grid upsamples unevenly (legacy nearest: rows 0,0,0,1,1; columns
/// 0,0,0,1,1,2,2): exactly k cells are kept per sample and AttentiveMix+'s label is
/// sample 0's upsampled kept fraction. Sample 0 keeps cell (0, 0) = 3×3 = 9 of 35 pixels.
pub fn attentivemix_uneven_cells(device: &Device) {
    let (c, h, w) = (1, 5, 7);
    let attention = Tensor::<3>::from_floats(
        [
            [[9.0, 1.0, 0.0], [2.0, 4.0, 3.0]],
            [[0.0, 1.0, 2.0], [3.0, 4.0, 9.0]],
        ],
        device,
    );
    let images = Tensor::<4>::cat(
        vec![
            Tensor::ones([1, c, h, w], device),
            Tensor::zeros([1, c, h, w], device),
        ],
        0,
    );
    let params = AttentiveMixParams {
        perm: flip(),
        cells: CellCount::Fixed(1),
    };
    let mixed = AttentiveMixConfig::new()
        .with_top_k(Some(1))
        .init()
        .unwrap()
        .apply(
            &params,
            images,
            Tensor::from_ints([0, 1], device),
            &Guide::Attention(attention),
        )
        .unwrap();
    let values = floats(mixed.images);
    // Sample 0 (ones) keeps its top-left 3×3 block; sample 1 (zeros) keeps cell (1, 2),
    // rows 3..5 × cols 5..7, and takes the ones elsewhere.
    let ones0: f32 = values[..35].iter().sum();
    let ones1: f32 = values[35..].iter().sum();
    assert_eq!(ones0, 9.0);
    assert_eq!(ones1, 35.0 - 4.0);
    assert_close(
        &floats(mixed.target.weights()),
        &[9.0 / 35.0, 26.0 / 35.0, 9.0 / 35.0, 26.0 / 35.0],
        1e-6,
    );
    // Grids larger than the image and zero cells are typed errors.
    let mixer = AttentiveMixConfig::new().init().unwrap();
    assert!(matches!(
        mixer.apply(
            &params,
            Tensor::zeros([2, 1, 2, 2], device),
            Tensor::from_ints([0, 1], device),
            &Guide::Attention(Tensor::zeros([2, 3, 3], device))
        ),
        Err(MixError::ShapeMismatch { .. })
    ));
    assert!(matches!(
        AttentiveMixConfig::new().with_top_k(Some(0)).init(),
        Err(MixError::InvalidHyperParameter {
            name: "attentivemix.top_k",
            ..
        })
    ));
}
