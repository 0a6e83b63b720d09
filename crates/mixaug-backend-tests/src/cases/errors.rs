use burn::prelude::*;
use mixaug_loss::{LossError, pair_cross_entropy, soft_target_cross_entropy};
use mixaug_masks::{
    BatchShape, CutMixConfig, LamMode, MixConfig, MixError, MixRng, MixedTarget, Mixer, MixupConfig,
};

use crate::ramp_batch;

fn methods() -> Vec<MixConfig> {
    vec![
        MixConfig::Mixup(MixupConfig::new()),
        MixConfig::CutMix(CutMixConfig::new()),
    ]
}

/// A batch of one, labels that do not match the images, and parameters drawn for another
/// batch size are typed errors.
pub fn errors_bad_batches(device: &Device) {
    for config in methods() {
        let method = config.init().unwrap();
        let one = method.mix(
            &mut MixRng::from_seed(0),
            ramp_batch(1, 3, 4, 6, device),
            Tensor::from_ints([0], device),
        );
        assert!(
            matches!(one, Err(MixError::BatchTooSmall { n: 1 })),
            "{one:?}"
        );
        let mismatched = method.mix(
            &mut MixRng::from_seed(0),
            ramp_batch(3, 3, 4, 6, device),
            Tensor::from_ints([0, 1], device),
        );
        assert!(
            matches!(
                mismatched,
                Err(MixError::LabelCountMismatch {
                    images: 3,
                    labels: 2
                })
            ),
            "{mismatched:?}"
        );
        let params = method
            .sample(&mut MixRng::from_seed(0), BatchShape::new(4, 3, 4, 6))
            .unwrap();
        let wrong = method.apply(
            &params,
            ramp_batch(2, 3, 4, 6, device),
            Tensor::from_ints([0, 1], device),
        );
        assert!(
            matches!(wrong, Err(MixError::ShapeMismatch { .. })),
            "{wrong:?}"
        );
    }
}

/// Labels ≥ num_classes (or negative) are typed errors in targets and losses, as are
/// logits that do not fit the target and a smoothing factor outside [0, 1).
pub fn errors_bad_labels(device: &Device) {
    let target = MixedTarget::single(Tensor::from_ints([0, 5], device));
    assert_eq!(
        target.to_dense(5, 0.0).unwrap_err(),
        MixError::LabelOutOfRange {
            label: 5,
            num_classes: 5
        }
    );
    let logits = Tensor::<2>::zeros([2, 5], device);
    for loss in [soft_target_cross_entropy, pair_cross_entropy] {
        assert_eq!(
            loss(logits.clone(), &target, 0.0).unwrap_err(),
            LossError::Target(MixError::LabelOutOfRange {
                label: 5,
                num_classes: 5
            })
        );
        assert!(matches!(
            loss(Tensor::zeros([3, 6], device), &target, 0.0),
            Err(LossError::LogitsShape { .. })
        ));
        assert!(matches!(
            loss(Tensor::zeros([2, 6], device), &target, 1.0),
            Err(LossError::Target(MixError::InvalidHyperParameter {
                name: "smoothing",
                ..
            }))
        ));
    }
    let negative = MixedTarget::single(Tensor::from_ints([-1, 0], device));
    assert!(matches!(
        negative.check_classes(3),
        Err(MixError::LabelOutOfRange { label: -1, .. })
    ));
}

/// Probabilities outside [0, 1] and non-finite α are rejected by `validate()`.
pub fn errors_bad_hyper_parameters(_device: &Device) {
    let bad = [
        MixConfig::Mixup(MixupConfig::new().with_prob(1.5)),
        MixConfig::Mixup(MixupConfig::new().with_alpha(f64::NAN)),
        MixConfig::CutMix(CutMixConfig::new().with_prob(-0.1)),
        MixConfig::CutMix(CutMixConfig::new().with_alpha(f64::INFINITY)),
    ];
    for config in bad {
        assert!(
            matches!(
                config.validate(),
                Err(MixError::InvalidHyperParameter { .. })
            ),
            "{config:?}"
        );
    }
    // α ≤ 0 is valid and means no mixing, as in the references.
    let off = MixConfig::CutMix(
        CutMixConfig::new()
            .with_alpha(0.0)
            .with_lam_mode(LamMode::PerSample),
    );
    let params = off
        .init()
        .unwrap()
        .sample(&mut MixRng::from_seed(1), BatchShape::new(3, 1, 4, 4))
        .unwrap();
    match params {
        mixaug_masks::MixParams::CutMix(p) => assert!(p.cuts.iter().all(|c| c.region.is_empty())),
        other => panic!("unexpected {other:?}"),
    }
}
