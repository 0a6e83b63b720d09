//! Training and inference throughput of the papers' networks: ResNet-18 (CIFAR stem) at
//! batch 64 of 32×32 and ResNet-50 (ImageNet stem) at batch 16 of 224×224. Train step =
//! forward + cross-entropy + backward + SGD (momentum 0.9, dampening 0, as PyTorch);
//! inference = forward with running BatchNorm statistics. Prints images per second;
//! `benches/pytorch_models.py` measures PyTorch on the same shapes.

use std::hint::black_box;

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, SgdConfig};
use burn::prelude::*;
use criterion::Criterion;
use mixaug_benches::{bench_device, criterion_dir, median_ns};
use mixaug_models::{ResNet, ResNetConfig, Stem};

struct Case {
    name: &'static str,
    config: ResNetConfig,
    batch: usize,
    side: usize,
}

fn bench_case(c: &mut Criterion, device: &Device, case: &Case) {
    device.seed(0);
    let mut model = Some(case.config.init(device));
    let images = Tensor::<4>::random(
        [case.batch, 3, case.side, case.side],
        burn::tensor::Distribution::Default,
        device,
    );
    let labels = Tensor::<1, Int>::arange(0..case.batch as i64, device)
        .remainder_scalar(case.config.num_classes as i64);
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let mut optimizer = SgdConfig::new()
        .with_momentum(Some(MomentumConfig::new().with_dampening(0.0)))
        .init();
    let mut group = c.benchmark_group(case.name);
    group.sample_size(10);
    group.bench_function("train_step", |b| {
        b.iter(|| {
            let m: ResNet = model.take().expect("model");
            let loss = loss_fn.forward(m.forward(images.clone()), labels.clone());
            let grads = GradientsParams::from_grads(loss.backward(), &m);
            let m = optimizer.step(0.1, m, grads);
            // Wait for the update before the clock stops.
            black_box(m.fc.bias.as_ref().map(|b| b.val().into_data()));
            model = Some(m);
        })
    });
    let eval = model.as_ref().expect("model").valid();
    let plain = images.clone().without_autodiff();
    group.bench_function("inference", |b| {
        b.iter(|| black_box(eval.forward(plain.clone()).into_data()))
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default()
        .output_directory(&criterion_dir())
        .configure_from_args();
    let device = bench_device(true);
    let cases = [
        Case {
            name: "resnet18_cifar_b64",
            config: ResNetConfig::resnet18(10).with_stem(Stem::Cifar),
            batch: 64,
            side: 32,
        },
        Case {
            name: "resnet50_imagenet_b16",
            config: ResNetConfig::resnet50(1000),
            batch: 16,
            side: 224,
        },
    ];
    for case in &cases {
        bench_case(&mut c, &device, case);
    }
    c.final_summary();
    println!("\nthroughput (median):");
    for case in &cases {
        let rate = |id: &str| median_ns(case.name, id).map(|ns| case.batch as f64 / (ns / 1e9));
        if let (Some(train), Some(infer)) = (rate("train_step"), rate("inference")) {
            println!(
                "  {:<24} train {train:8.1} img/s   inference {infer:8.1} img/s",
                case.name
            );
        }
    }
}
