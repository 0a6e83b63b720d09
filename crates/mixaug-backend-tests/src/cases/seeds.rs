use burn::prelude::*;
use mixaug_masks::{
    BatchShape, CutMixConfig, CutoutConfig, CutoutMode, FMixConfig, Guide, LamMode, MixConfig,
    MixParams, MixRng, MixedExampleConfig, MixedExampleKind, Mixer, MixupConfig, Needs, Pairing,
    PairingSchedule, RatioDraw, ResizeMixConfig, RicapConfig, SaliencyMixConfig, SaliencyPeaks,
    SamplePairingConfig, SmoothMixConfig, SmoothMixLabel, StreamKey,
};

use crate::{assert_close, floats, ints, mix_self_guided, ramp_batch, ramp_values};

/// Every method whose `apply` needs no model (TransMix's network enters after it), with
/// its defaults (Cutout's side scaled from 16 to 3 for these 5×7 images), plus the
/// per-sample and always-on variants.
fn configs() -> Vec<MixConfig> {
    let mut configs: Vec<MixConfig> = MixConfig::all_defaults()
        .into_iter()
        .filter(|c| {
            *c != MixConfig::None
                && matches!(
                    c.needs(),
                    Needs::Nothing | Needs::SaliencyPeaks | Needs::ClassAttention
                )
        })
        .map(|c| match c {
            MixConfig::Cutout(c) => {
                MixConfig::Cutout(c.with_mode(CutoutMode::PerImage { side: 3 }))
            }
            other => other,
        })
        .collect();
    configs.extend([
        MixConfig::Mixup(MixupConfig::new().with_alpha(0.4)),
        MixConfig::Mixup(MixupConfig::new().with_lam_mode(LamMode::PerSample)),
        MixConfig::CutMix(CutMixConfig::new().with_lam_mode(LamMode::PerSample)),
        MixConfig::SamplePairing(
            SamplePairingConfig::new().with_schedule(PairingSchedule::always()),
        ),
        MixConfig::Cutout(CutoutConfig::new().with_mode(CutoutMode::PerBatch { lam: 0.75 })),
        MixConfig::FMix(FMixConfig::new().with_max_soft(0.2)),
        MixConfig::SmoothMix(SmoothMixConfig::new().with_label(SmoothMixLabel::OpenmixupCompat)),
        MixConfig::SaliencyMix(SaliencyMixConfig::new().with_peaks(SaliencyPeaks::PerSample)),
        MixConfig::MixedExample(
            MixedExampleConfig::new(MixedExampleKind::VhMixup)
                .with_ratio(RatioDraw::Beta { alpha: 0.4 }),
        ),
    ]);
    configs
}

const KEY: StreamKey = StreamKey {
    seed: 42,
    epoch: 3,
    step: 17,
    rank: 0,
};

/// The same stream key gives identical parameters; another step gives different ones.
pub fn same_seed_same_params(_device: &Device) {
    let batch = BatchShape::new(8, 3, 5, 7);
    for config in configs() {
        let method = config.init().unwrap();
        let a = method.sample(&mut MixRng::new(KEY), batch).unwrap();
        let b = method.sample(&mut MixRng::new(KEY), batch).unwrap();
        let c = method
            .sample(&mut MixRng::new(StreamKey { step: 18, ..KEY }), batch)
            .unwrap();
        assert_eq!(a, b, "{}", config.label());
        assert_ne!(a, c, "{}", config.label());
    }
}

/// The same seed gives, within 1e-6, the same mixed tensors and targets on this device as
/// on flex (the CPU reference backend).
pub fn same_seed_same_mix_as_flex(device: &Device) {
    let (n, c, h, w) = (6, 3, 5, 7);
    // Values in [0, 1) so that 1e-6 is a meaningful absolute tolerance for f32.
    let scale = 1.0 / (1000.0 * n as f32);
    let labels: Vec<i64> = vec![0, 1, 2, 3, 4, 5];
    let run = |dev: &Device, config: &MixConfig| {
        let images = ramp_batch(n, c, h, w, dev).mul_scalar(scale);
        let labels = Tensor::<1, Int>::from_data(TensorData::new(labels.clone(), [n]), dev);
        let mixed = mix_self_guided(
            &config.init().unwrap(),
            &mut MixRng::new(KEY),
            images,
            labels,
        )
        .unwrap();
        (
            floats(mixed.images),
            ints(mixed.target.classes()),
            floats(mixed.target.weights()),
            ints(mixed.perm),
        )
    };
    for config in configs() {
        let here = run(device, &config);
        let reference = run(&Device::flex(), &config);
        assert_close(&here.0, &reference.0, 1e-6);
        assert_eq!(here.1, reference.1);
        assert_close(&here.2, &reference.2, 1e-6);
        assert_eq!(here.3, reference.3);
    }
}

/// `config` with its probability gate closed (`prob = 0`).
fn gate_closed(config: MixConfig) -> MixConfig {
    match config {
        MixConfig::None => MixConfig::None,
        MixConfig::Mixup(c) => MixConfig::Mixup(c.with_prob(0.0)),
        MixConfig::SamplePairing(c) => MixConfig::SamplePairing(SamplePairingConfig {
            prob: 0.0,
            schedule: PairingSchedule::always(),
            ..c
        }),
        MixConfig::CutMix(c) => MixConfig::CutMix(c.with_prob(0.0)),
        MixConfig::Cutout(c) => MixConfig::Cutout(c.with_prob(0.0)),
        MixConfig::FMix(c) => MixConfig::FMix(FMixConfig { prob: 0.0, ..c }),
        MixConfig::GridMix(c) => MixConfig::GridMix(c.with_prob(0.0)),
        MixConfig::ResizeMix(c) => MixConfig::ResizeMix(ResizeMixConfig { prob: 0.0, ..c }),
        MixConfig::SmoothMix(c) => MixConfig::SmoothMix(SmoothMixConfig { prob: 0.0, ..c }),
        MixConfig::Ricap(c) => MixConfig::Ricap(RicapConfig { prob: 0.0, ..c }),
        MixConfig::MixedExample(c) => MixConfig::MixedExample(c.with_prob(0.0)),
        MixConfig::SaliencyMix(c) => MixConfig::SaliencyMix(c.with_prob(0.0)),
        MixConfig::SnapMix(c) => MixConfig::SnapMix(c.with_prob(0.0)),
        // AttentiveMix always mixes: it has no gate.
        MixConfig::AttentiveMix(c) => MixConfig::AttentiveMix(c),
        MixConfig::TransMix(c) => MixConfig::TransMix(c.with_prob(0.0)),
    }
}

/// A gate that never fires leaves the batch unchanged, with all the weight on the base
/// label (weights (1, 0), (1, 0, 0, 0) for RICAP, (1) for Cutout), for every method.
pub fn probability_gate_off(device: &Device) {
    let (n, c, h, w) = (3, 2, 4, 6);
    for config in configs().into_iter().map(gate_closed) {
        let mixed = mix_self_guided(
            &config.init().unwrap(),
            &mut MixRng::from_seed(5),
            ramp_batch(n, c, h, w, device),
            Tensor::from_ints([0, 1, 2], device),
        )
        .unwrap();
        assert_eq!(
            floats(mixed.images),
            ramp_values(n, c, h, w),
            "{}",
            config.label()
        );
        assert_eq!(
            ints(mixed.target.classes().slice(s![.., 0..1])),
            vec![0, 1, 2]
        );
        let k = mixed.target.num_sources();
        let weights = floats(mixed.target.weights());
        for (j, weight) in weights.iter().enumerate() {
            let expected = if j % k == 0 { 1.0 } else { 0.0 };
            assert_eq!(*weight, expected, "{}: {weights:?}", config.label());
        }
    }
}

/// For every pair method, the base label weight is the fraction of the base image in the
/// result: with base = ones and partner = zeros (π = flip on a batch of two, 5×7 images),
/// sample 0's mean is `w_a`. Exact for the pixel-counting methods; FMix's label is the
/// sampled λ, within one pixel (1/35) of its mask's mean.
pub fn base_weight_is_pixel_fraction(device: &Device) {
    let (c, h, w) = (3, 5, 7);
    let images = Tensor::<4>::cat(
        vec![
            Tensor::ones([1, c, h, w], device),
            Tensor::zeros([1, c, h, w], device),
        ],
        0,
    );
    let mut methods: Vec<MixConfig> = MixConfig::all_defaults()
        .into_iter()
        .filter(|m| {
            matches!(m.needs(), Needs::Nothing | Needs::SaliencyPeaks)
                && !matches!(
                    m,
                    MixConfig::None
                        | MixConfig::Cutout(_)
                        | MixConfig::SamplePairing(_)
                        | MixConfig::Ricap(_)
                )
        })
        .collect();
    methods.push(MixConfig::CutMix(
        CutMixConfig::new().with_lam_mode(LamMode::PerSample),
    ));
    methods.push(MixConfig::Mixup(
        MixupConfig::new().with_lam_mode(LamMode::PerSample),
    ));
    for mut config in methods {
        config.set_pairing(Pairing::Flip);
        let tolerance = match config {
            MixConfig::FMix(_) => 1.0 / (h * w) as f32 + 1e-6,
            _ => 1e-5,
        };
        let method = config.init().unwrap();
        for seed in 0..6 {
            let mixed = mix_self_guided(
                &method,
                &mut MixRng::from_seed(seed),
                images.clone(),
                Tensor::from_ints([0, 1], device),
            )
            .unwrap();
            let means = floats(
                mixed
                    .images
                    .mean_dim(1)
                    .mean_dim(2)
                    .mean_dim(3)
                    .reshape([2]),
            );
            let weights = floats(mixed.target.weights());
            // Sample 1's base is the zeros image: its mean is the partner's share.
            assert_close(
                &[means[0], 1.0 - means[1]],
                &[weights[0], weights[2]],
                tolerance,
            );
        }
    }
}

/// The `none` method returns the batch unchanged, the labels as a one-source target and
/// the identity permutation; it refuses another method's parameters.
pub fn none_method_is_identity(device: &Device) {
    let (n, c, h, w) = (2, 3, 4, 6);
    let method = MixConfig::None.init().unwrap();
    let mixed = method
        .mix(
            &mut MixRng::from_seed(0),
            ramp_batch(n, c, h, w, device),
            Tensor::from_ints([7, 3], device),
        )
        .unwrap();
    assert_eq!(floats(mixed.images), ramp_values(n, c, h, w));
    assert_eq!(ints(mixed.target.classes()), vec![7, 3]);
    assert_eq!(floats(mixed.target.weights()), vec![1.0, 1.0]);
    assert_eq!(ints(mixed.perm), vec![0, 1]);
    let cutmix_params = MixConfig::CutMix(CutMixConfig::new())
        .init()
        .unwrap()
        .sample(&mut MixRng::from_seed(0), BatchShape::new(n, c, h, w))
        .unwrap();
    assert!(matches!(cutmix_params, MixParams::CutMix(_)));
    assert!(
        method
            .apply(
                &cutmix_params,
                ramp_batch(n, c, h, w, device),
                Tensor::from_ints([7, 3], device),
                &Guide::None
            )
            .is_err()
    );
}
