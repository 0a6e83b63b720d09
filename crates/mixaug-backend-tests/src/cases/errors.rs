use burn::prelude::*;
use mixaug_loss::{LossError, pair_cross_entropy, soft_target_cross_entropy};
use mixaug_masks::{
    BatchShape, CutMixConfig, CutoutConfig, CutoutMode, FMixConfig, Guide, LamMode, MixConfig,
    MixError, MixRng, MixedExampleConfig, MixedExampleKind, MixedTarget, Mixer, MixupConfig, Needs,
    PairingSchedule, RatioDraw, ResizeMixConfig, RicapConfig, SamplePairingConfig, SmoothMixConfig,
};

use crate::{mix_self_guided, ramp_batch};

/// Every method that mixes a sample with a partner without a model (all but `none`,
/// Cutout and the model-guided ones, whose errors are tested with their guides).
fn methods() -> Vec<MixConfig> {
    MixConfig::all_defaults()
        .into_iter()
        .filter(|c| {
            matches!(c.needs(), Needs::Nothing | Needs::SaliencyPeaks)
                && !matches!(c, MixConfig::None | MixConfig::Cutout(_))
        })
        .collect()
}

/// A batch of one, labels that do not match the images, and parameters drawn for another
/// batch size are typed errors.
pub fn errors_bad_batches(device: &Device) {
    for config in methods() {
        let method = config.init().unwrap();
        let one = mix_self_guided(
            &method,
            &mut MixRng::from_seed(0),
            ramp_batch(1, 3, 4, 6, device),
            Tensor::from_ints([0], device),
        );
        assert!(
            matches!(one, Err(MixError::BatchTooSmall { n: 1 })),
            "{}: {one:?}",
            config.label()
        );
        let mismatched = mix_self_guided(
            &method,
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
            &Guide::None,
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

/// Probabilities outside [0, 1], non-finite α, RICAP's β ≤ 0, and the other
/// method-specific ranges are rejected by `validate()`.
pub fn errors_bad_hyper_parameters(_device: &Device) {
    let bad = [
        MixConfig::Mixup(MixupConfig::new().with_prob(1.5)),
        MixConfig::Mixup(MixupConfig::new().with_alpha(f64::NAN)),
        MixConfig::CutMix(CutMixConfig::new().with_prob(-0.1)),
        MixConfig::CutMix(CutMixConfig::new().with_alpha(f64::INFINITY)),
        MixConfig::SamplePairing(SamplePairingConfig {
            prob: 2.0,
            ..SamplePairingConfig::new()
        }),
        MixConfig::SamplePairing(SamplePairingConfig::new().with_schedule(PairingSchedule {
            start: 0,
            end: 10,
            on: 0,
            off: 2,
        })),
        MixConfig::Cutout(CutoutConfig::new().with_mode(CutoutMode::PerImage { side: 0 })),
        MixConfig::Cutout(CutoutConfig::new().with_mode(CutoutMode::PerBatch { lam: 1.5 })),
        MixConfig::Cutout(CutoutConfig::new().with_prob(-1.0)),
        MixConfig::FMix(FMixConfig::new().with_decay_power(0.0)),
        MixConfig::FMix(FMixConfig::new().with_max_soft(0.7)),
        MixConfig::FMix(FMixConfig::new().with_alpha(f64::NAN)),
        MixConfig::ResizeMix(ResizeMixConfig::new().with_scope([0.8, 0.1])),
        MixConfig::ResizeMix(ResizeMixConfig::new().with_scope([0.1, 1.2])),
        MixConfig::SmoothMix(SmoothMixConfig {
            prob: 1.01,
            ..SmoothMixConfig::new()
        }),
        MixConfig::Ricap(RicapConfig::new().with_beta(0.0)),
        MixConfig::Ricap(RicapConfig::new().with_beta(-0.3)),
        MixConfig::MixedExample(
            MixedExampleConfig::new(MixedExampleKind::RandomPixels)
                .with_ratio(RatioDraw::Beta { alpha: -1.0 }),
        ),
        MixConfig::MixedExample(MixedExampleConfig::new(MixedExampleKind::VhMixup).with_prob(3.0)),
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
    // α = 0 is valid and means no mixing, as in the references (α < 0 is an error).
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

/// Methods that split or resample the image refuse images with fewer than two rows or
/// columns (RICAP, FMix, SmoothMix and every concat / interval / mask variant).
pub fn errors_images_too_small(_device: &Device) {
    let splitting = MixConfig::all_defaults().into_iter().filter(|c| {
        matches!(
            c,
            MixConfig::Ricap(_)
                | MixConfig::FMix(_)
                | MixConfig::SmoothMix(_)
                | MixConfig::MixedExample(_)
        )
    });
    for config in splitting {
        let method = config.init().unwrap();
        for shape in [BatchShape::new(4, 3, 1, 6), BatchShape::new(4, 3, 5, 1)] {
            let result = method.sample(&mut MixRng::from_seed(0), shape);
            assert!(
                matches!(result, Err(MixError::ImageTooSmall { .. })),
                "{} on {shape:?}: {result:?}",
                config.label()
            );
        }
        assert!(
            method
                .sample(&mut MixRng::from_seed(0), BatchShape::new(4, 3, 2, 2))
                .is_ok(),
            "{} accepts 2×2",
            config.label()
        );
    }
}
