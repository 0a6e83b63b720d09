use burn::nn::{Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use mixaug_loss::{
    LossError, PooledClassifier, SumixConfig, SumixReduction, UncertaintyHead,
    UncertaintyHeadConfig, corrected_ratio, corrected_ratio_scaled, sumix_forward, sumix_loss,
};
use mixaug_masks::{CutMixConfig, MixRng, MixedTarget, Mixer, MixupConfig};

use crate::{assert_close, floats};

fn rows(values: [[f64; 5]; 4], device: &Device) -> Tensor<2> {
    Tensor::from_data(
        TensorData::new(
            values
                .iter()
                .flatten()
                .map(|v| *v as f32)
                .collect::<Vec<_>>(),
            [4, 5],
        ),
        device,
    )
}

/// `L2normalise(softmax(x))`, the uncertainty head's output for pre-softmax logits `x`.
fn unit_softmax(x: Tensor<2>) -> Tensor<2> {
    let p = softmax(x, 1);
    let norm = p.clone().powi_scalar(2).sum_dim(1).sqrt();
    p / norm
}

struct Example {
    raw: Tensor<2>,
    mixed: Tensor<2>,
    u_raw: Tensor<2>,
    u_mix: Tensor<2>,
    target: MixedTarget,
    perm: Tensor<1, Int>,
}

/// METHODS.md §15.5: N = 4, K = 5, y_a = (0,1,2,3), π = (2,3,0,1), λ = 0.7.
fn example(device: &Device) -> Example {
    let raw = rows(
        [
            [2.0, 0.5, -1.0, 0.0, 0.3],
            [0.1, 1.5, 0.2, -0.5, 0.0],
            [-0.3, 0.2, 1.8, 0.4, 0.1],
            [0.0, -0.2, 0.3, 1.2, 0.9],
        ],
        device,
    );
    let mixed = rows(
        [
            [1.2, 0.3, 0.9, 0.0, 0.1],
            [0.2, 0.8, 0.1, 0.7, 0.0],
            [0.9, 0.1, 1.0, 0.2, -0.1],
            [0.1, 0.6, 0.2, 0.9, 0.3],
        ],
        device,
    );
    let u_raw = unit_softmax(rows(
        [
            [0.1, 0.2, 0.0, -0.1, 0.3],
            [0.0, 0.5, 0.1, 0.1, -0.2],
            [0.2, 0.0, 0.4, 0.1, 0.0],
            [-0.1, 0.1, 0.0, 0.6, 0.2],
        ],
        device,
    ));
    let u_mix = unit_softmax(rows(
        [
            [0.3, 0.0, 0.2, 0.1, 0.0],
            [0.1, 0.2, 0.0, 0.4, 0.1],
            [0.2, 0.1, 0.3, 0.0, 0.0],
            [0.0, 0.3, 0.1, 0.2, 0.1],
        ],
        device,
    ));
    let target = MixedTarget::pair(
        Tensor::from_ints([0, 1, 2, 3], device),
        Tensor::from_ints([2, 3, 0, 1], device),
        Tensor::full([4], 0.7, device),
        Tensor::full([4], 0.3, device),
    )
    .unwrap();
    Example {
        raw,
        mixed,
        u_raw,
        u_mix,
        target,
        perm: Tensor::from_ints([2, 3, 0, 1], device),
    }
}

/// §15.5's worked example to 1e-5: α at the labels, λ̃_a, the main term, R·γ, the total
/// 1.9998424 and the PerSample main term 1.2047403 (numbers recomputed independently with
/// PyTorch in float64 when this test was written).
pub fn sumix_worked_example(device: &Device) {
    let e = example(device);
    let pick = |x: Tensor<2>, y: [i64; 4]| {
        floats(
            x.gather(1, Tensor::<1, Int>::from_ints(y, device).reshape([4, 1]))
                .reshape([4]),
        )
    };
    let loss = sumix_loss(
        &SumixConfig::new(),
        e.raw.clone(),
        e.mixed.clone(),
        e.u_raw.clone(),
        e.u_mix.clone(),
        &e.target,
        e.perm.clone(),
    )
    .unwrap();
    assert_close(
        &pick(loss.ratio.alpha_a.clone(), [0, 1, 2, 3]),
        &[1.320614, 1.354335, 1.337878, 1.627662],
        1e-5,
    );
    assert_close(
        &pick(loss.ratio.alpha_b.clone(), [2, 3, 0, 1]),
        &[1.244013, 1.541637, 1.217062, 1.2545],
        1e-5,
    );
    assert_close(
        &floats(loss.ratio.lam_a.clone()),
        &[0.683672, 0.737807, 0.674033, 0.616362],
        1e-5,
    );
    assert_close(&floats(loss.main.clone()), &[1.2019452], 1e-5);
    assert_close(
        &floats(loss.regulariser.clone().mul_scalar(0.5)),
        &[0.7978972],
        1e-5,
    );
    assert_close(&floats(loss.total), &[1.9998424], 1e-5);
    let per_sample = sumix_loss(
        &SumixConfig::new().with_reduction(SumixReduction::PerSample),
        e.raw,
        e.mixed,
        e.u_raw,
        e.u_mix,
        &e.target,
        e.perm,
    )
    .unwrap();
    assert_close(&floats(per_sample.main), &[1.2047403], 1e-5);
}

/// λ̃ ∈ (0, 1); λ̃ = λ when the two α entries are equal (identical raw and mixed rows with
/// symmetric labels); λ ∈ {0, 1} is kept; the sigmoid form equals the ratio form; α
/// scales linearly with N when the batch is duplicated; K ≠ 2 and γ < 0 are typed errors.
pub fn sumix_ratio_properties(device: &Device) {
    let e = example(device);
    let y_a = Tensor::<1, Int>::from_ints([0, 1, 2, 3], device);
    let y_b = Tensor::<1, Int>::from_ints([2, 3, 0, 1], device);
    let lam = Tensor::<1>::from_floats([0.7, 0.2, 0.0, 1.0], device);
    let r = corrected_ratio(
        e.raw.clone(),
        e.mixed.clone(),
        y_a.clone(),
        y_b.clone(),
        e.perm.clone(),
        lam,
    );
    let lam_a = floats(r.lam_a.clone());
    assert!(lam_a[0] > 0.0 && lam_a[0] < 1.0 && lam_a[1] > 0.0 && lam_a[1] < 1.0);
    assert_eq!((lam_a[2], lam_a[3]), (0.0, 1.0));
    // The ratio form λ e^{−a} / (λ e^{−a} + (1−λ) e^{−b}) for samples 0 and 1.
    let pick =
        |x: Tensor<2>, y: Tensor<1, Int>| floats(x.gather(1, y.reshape([4, 1])).reshape([4]));
    let (a, b) = (
        pick(r.alpha_a.clone(), y_a.clone()),
        pick(r.alpha_b.clone(), y_b.clone()),
    );
    for (i, l) in [(0, 0.7f32), (1, 0.2)] {
        let num = l * (-a[i]).exp();
        let ratio = num / (num + (1.0 - l) * (-b[i]).exp());
        assert_close(&[lam_a[i]], &[ratio], 1e-6);
    }

    // Two samples that are each other's partner, with identical raw and mixed rows whose
    // two label classes have equal logits: Q − P_a = (0, q, ·) and Q − P_b = (q, 0, ·), so
    // α_a[y_a] = α_b[y_b] and λ̃ = λ.
    let same = Tensor::<2>::from_floats([[0.3, 0.3, -0.1], [0.3, 0.3, -0.1]], device);
    let r = corrected_ratio(
        same.clone(),
        same,
        Tensor::from_ints([0, 1], device),
        Tensor::from_ints([1, 0], device),
        Tensor::from_ints([1, 0], device),
        Tensor::from_floats([0.35, 0.35], device),
    );
    let a = floats(r.alpha_a.clone());
    let b = floats(r.alpha_b.clone());
    assert_close(&[a[0], a[4]], &[b[1], b[3]], 1e-6);
    assert_close(&floats(r.lam_a), &[0.35, 0.35], 1e-6);

    // Duplicating the batch doubles α (N = 8 instead of 4).
    let twice = |x: Tensor<2>| Tensor::cat(vec![x.clone(), x], 0);
    let ints8 = |v: [i64; 8]| Tensor::<1, Int>::from_ints(v, device);
    let r8 = corrected_ratio(
        twice(e.raw.clone()),
        twice(e.mixed.clone()),
        ints8([0, 1, 2, 3, 0, 1, 2, 3]),
        ints8([2, 3, 0, 1, 2, 3, 0, 1]),
        ints8([2, 3, 0, 1, 6, 7, 4, 5]),
        Tensor::full([8], 0.7, device),
    );
    let r4 = corrected_ratio(
        e.raw.clone(),
        e.mixed.clone(),
        y_a,
        y_b,
        e.perm.clone(),
        Tensor::full([4], 0.7, device),
    );
    // A factor of 8 on the 4-sample batch gives the duplicated batch's α (avg_factor).
    let scaled = corrected_ratio_scaled(
        e.raw.clone(),
        e.mixed.clone(),
        Tensor::from_ints([0, 1, 2, 3], device),
        Tensor::from_ints([2, 3, 0, 1], device),
        e.perm.clone(),
        Tensor::full([4], 0.7, device),
        8.0,
    );
    assert_close(
        &floats(scaled.alpha_a),
        &floats(r8.alpha_a.clone().slice(s![0..4])),
        1e-6,
    );
    let half: Vec<f32> = floats(r8.alpha_a.slice(s![0..4]))
        .iter()
        .map(|v| v / 2.0)
        .collect();
    assert_close(&half, &floats(r4.alpha_a), 1e-6);

    let ricap_like = MixedTarget::new(
        Tensor::from_ints([[0, 1, 2, 3]; 4], device),
        Tensor::full([4, 4], 0.25, device),
    )
    .unwrap();
    let err = sumix_loss(
        &SumixConfig::new(),
        e.raw.clone(),
        e.mixed.clone(),
        e.u_raw.clone(),
        e.u_mix.clone(),
        &ricap_like,
        e.perm.clone(),
    )
    .unwrap_err();
    assert_eq!(
        err,
        LossError::UnsupportedTarget {
            loss: "sumix",
            sources: 4
        }
    );
    let bad = sumix_loss(
        &SumixConfig::new().with_gamma(-1.0),
        e.raw,
        e.mixed,
        e.u_raw,
        e.u_mix,
        &e.target,
        e.perm,
    );
    assert!(matches!(bad, Err(LossError::InvalidHyperParameter { .. })));
    for factor in [0.0, -4.0, f64::NAN] {
        assert!(matches!(
            SumixConfig::new().with_avg_factor(factor).validate(),
            Err(LossError::InvalidHyperParameter {
                name: "sumix.avg_factor",
                ..
            })
        ));
    }
}

/// A two-layer network: channel means → `feat` (the "backbone") → `fc` (the classifier).
#[derive(Module, Debug)]
struct TinyNet {
    feat: Linear,
    fc: Linear,
}

impl PooledClassifier for TinyNet {
    fn pooled(&self, images: Tensor<4>) -> Tensor<2> {
        let [n, c, _, _] = images.dims();
        self.feat
            .forward(images.mean_dim(3).mean_dim(2).reshape([n, c]))
    }
    fn classify(&self, pooled: Tensor<2>) -> Tensor<2> {
        self.fc.forward(pooled)
    }
}

fn tiny(device: &Device) -> (TinyNet, UncertaintyHead) {
    device.seed(3);
    let net = TinyNet {
        feat: LinearConfig::new(3, 6).init(device),
        fc: LinearConfig::new(6, 4).init(device),
    };
    (
        net,
        UncertaintyHeadConfig::new(6, 4)
            .with_init_std(0.5)
            .init(device),
    )
}

fn batch(device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
    let values: Vec<f32> = (0..4 * 3 * 4 * 6)
        .map(|v| ((v * 37 % 101) as f32) / 101.0)
        .collect();
    (
        Tensor::from_data(TensorData::new(values, [4, 3, 4, 6]), device),
        Tensor::from_ints([0, 1, 2, 3], device),
    )
}

fn is_zero_or_absent(grad: Option<Tensor<2>>) -> bool {
    grad.is_none_or(|g| floats(g).iter().all(|v| *v == 0.0))
}

fn is_nonzero(grad: Option<Tensor<2>>) -> bool {
    grad.is_some_and(|g| floats(g).iter().any(|v| *v != 0.0))
}

/// Gradient flow with autodiff: R reaches the uncertainty head and the backbone but never
/// the classifier; the main term reaches the classifier but not the head; with γ = 0 the
/// backbone's gradient equals that of the main term on the mixed pass alone (the raw pass
/// contributes only through the uncertainty output).
pub fn sumix_gradient_flow(device: &Device) {
    let ad = device.clone().autodiff();
    let (net, head) = tiny(&ad);
    let cutmix = CutMixConfig::new().init().unwrap();
    let step = |config: &SumixConfig| {
        let (images, labels) = batch(&ad);
        let mixed = cutmix
            .mix(&mut MixRng::from_seed(11), images.clone(), labels)
            .unwrap();
        sumix_forward(&net, Some(&head), config, images, mixed).unwrap()
    };
    let config = SumixConfig::new();

    let grads = step(&config).loss.regulariser.backward();
    assert!(
        is_zero_or_absent(net.fc.weight.grad(&grads)),
        "R reached the classifier"
    );
    assert!(
        is_nonzero(head.linear.weight.grad(&grads)),
        "R did not reach the head"
    );
    assert!(
        is_nonzero(net.feat.weight.grad(&grads)),
        "R did not reach the backbone"
    );

    let grads = step(&config).loss.main.backward();
    assert!(is_nonzero(net.fc.weight.grad(&grads)));
    assert!(
        is_zero_or_absent(head.linear.weight.grad(&grads)),
        "main reached the head"
    );

    let only_main = step(&config.with_gamma(0.0));
    let lam_a = only_main.loss.ratio.lam_a.clone().mean();
    let grads = only_main.loss.total.backward();
    let feat_grad = floats(net.feat.weight.grad(&grads).expect("backbone gradient"));
    // The same main term from a fresh forward of the mixed batch only.
    let mixed = only_main.mixed;
    let logits = net.classify(net.pooled(mixed.images.detach()));
    let y = mixed.target.classes();
    let ce = |col: usize| {
        let y = y.clone().slice(s![.., col..col + 1]);
        burn::tensor::activation::log_softmax(logits.clone(), 1)
            .gather(1, y)
            .neg()
            .mean()
    };
    let lam_a = lam_a.detach();
    let main = ce(0) * lam_a.clone() + ce(1) * lam_a.neg().add_scalar(1.0);
    let grads = main.backward();
    let expected = floats(net.feat.weight.grad(&grads).expect("backbone gradient"));
    assert_close(&feat_grad, &expected, 1e-6);
}

/// The two-pass step works with every pair mixer the issue names (here Mixup and CutMix on
/// the plain device) and returns λ̃ within (0, 1].
pub fn sumix_with_mixers(device: &Device) {
    let (net, head) = tiny(device);
    let mixup = MixupConfig::new().init().unwrap();
    let cutmix = CutMixConfig::new().init().unwrap();
    let run = |mixer: &dyn Fn(&mut MixRng, Tensor<4>, Tensor<1, Int>) -> mixaug_loss::SumixStep| {
        let (images, labels) = batch(device);
        mixer(&mut MixRng::from_seed(2), images, labels)
    };
    for step in [
        run(&|rng, x, y| {
            let mixed = mixup.mix(rng, x.clone(), y).unwrap();
            sumix_forward(&net, Some(&head), &SumixConfig::new(), x, mixed).unwrap()
        }),
        run(&|rng, x, y| {
            let mixed = cutmix.mix(rng, x.clone(), y).unwrap();
            sumix_forward(&net, None, &SumixConfig::new(), x, mixed).unwrap()
        }),
    ] {
        let lam = floats(step.loss.ratio.lam_a.clone());
        assert!(lam.iter().all(|l| *l > 0.0 && *l <= 1.0), "{lam:?}");
        let total = floats(step.loss.total.clone())[0];
        assert!(total.is_finite() && total > 0.0);
        assert_eq!(step.mixed_logits.dims(), [4, 4]);
    }
}
