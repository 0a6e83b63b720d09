use burn::prelude::*;
use mixaug_masks::{
    BatchShape, CutMixConfig, LamMode, MixConfig, MixParams, MixRng, Mixer, MixupConfig, StreamKey,
};

use crate::{assert_close, floats, ints, ramp_batch, ramp_values};

fn configs() -> Vec<MixConfig> {
    vec![
        MixConfig::Mixup(MixupConfig::new().with_alpha(0.4)),
        MixConfig::Mixup(MixupConfig::new().with_lam_mode(LamMode::PerSample)),
        MixConfig::CutMix(CutMixConfig::new()),
        MixConfig::CutMix(CutMixConfig::new().with_lam_mode(LamMode::PerSample)),
    ]
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
        assert_eq!(a, b, "{}", config.name());
        assert_ne!(a, c, "{}", config.name());
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
        let mixed = config
            .init()
            .unwrap()
            .mix(&mut MixRng::new(KEY), images, labels)
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

/// A gate that never fires leaves the batch unchanged, with target weights (1, 0).
pub fn probability_gate_off(device: &Device) {
    let (n, c, h, w) = (3, 2, 4, 6);
    for config in [
        MixConfig::Mixup(MixupConfig::new().with_prob(0.0)),
        MixConfig::CutMix(
            CutMixConfig::new()
                .with_prob(0.0)
                .with_lam_mode(LamMode::PerSample),
        ),
    ] {
        let mixed = config
            .init()
            .unwrap()
            .mix(
                &mut MixRng::from_seed(5),
                ramp_batch(n, c, h, w, device),
                Tensor::from_ints([0, 1, 2], device),
            )
            .unwrap();
        assert_eq!(floats(mixed.images), ramp_values(n, c, h, w));
        assert_eq!(
            floats(mixed.target.weights()),
            vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0]
        );
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
                Tensor::from_ints([7, 3], device)
            )
            .is_err()
    );
}
