//! One SUMix training step (raw forward + mixed forward + SUMix loss + backward) beside one
//! plain Mixup step (mixed forward + soft-target cross-entropy + backward), ResNet-18 with
//! the CIFAR stem, batch 64 of 32×32, on the autodiff device. Prints the ratio.

use std::hint::black_box;

use burn::prelude::*;
use criterion::Criterion;
use mixaug_benches::{bench_device, criterion_dir, median_ns};
use mixaug_loss::{
    PooledClassifier, SumixConfig, UncertaintyHeadConfig, soft_target_cross_entropy, sumix_forward,
};
use mixaug_masks::{CutMixConfig, MixRng, Mixer, MixupConfig};
use mixaug_models::{ResNetConfig, Stem};

fn main() {
    let mut c = Criterion::default()
        .output_directory(&criterion_dir())
        .configure_from_args();
    let device = bench_device(true);
    device.seed(0);
    let model = ResNetConfig::resnet18(100)
        .with_stem(Stem::Cifar)
        .init(&device);
    let head = UncertaintyHeadConfig::new(512, 100).init(&device);
    let images = Tensor::<4>::random(
        [64, 3, 32, 32],
        burn::tensor::Distribution::Default,
        &device,
    );
    let labels = Tensor::<1, Int>::arange(0..64, &device).remainder_scalar(100);
    let mixup = MixupConfig::new().init().expect("valid");
    let cutmix = CutMixConfig::new().with_alpha(0.2).init().expect("valid");
    let config = SumixConfig::new();

    let mut group = c.benchmark_group("train_step");
    group.sample_size(10);
    group.bench_function("mixup", |b| {
        let mut rng = MixRng::from_seed(1);
        b.iter(|| {
            let mixed = mixup.mix(&mut rng, images.clone(), labels.clone()).unwrap();
            let logits = model.classify(model.pooled(mixed.images));
            let loss = soft_target_cross_entropy(logits, &mixed.target, 0.0).unwrap();
            black_box(loss.backward());
        })
    });
    group.bench_function("cutmix_sumix", |b| {
        let mut rng = MixRng::from_seed(1);
        b.iter(|| {
            let mixed = cutmix
                .mix(&mut rng, images.clone(), labels.clone())
                .unwrap();
            let step = sumix_forward(&model, Some(&head), &config, images.clone(), mixed).unwrap();
            black_box(step.loss.total.backward());
        })
    });
    group.finish();
    c.final_summary();
    if let (Some(plain), Some(sumix)) = (
        median_ns("train_step", "mixup"),
        median_ns("train_step", "cutmix_sumix"),
    ) {
        println!(
            "\nResNet-18 CIFAR, batch 64: mixup step {:.2} s, CutMix+SUMix step {:.2} s, ratio {:.2}×",
            plain / 1e9,
            sumix / 1e9,
            sumix / plain
        );
    }
}
