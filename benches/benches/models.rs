//! Training and inference throughput of the papers' networks: ResNet-18 (CIFAR stem) at
//! batch 64 of 32×32 and ResNet-50 (ImageNet stem) at batch 16 of 224×224 (other batches
//! with `MIXAUG_BENCH_BATCHES=R18,R50`, e.g. `128,64` on a GPU). Train step = forward +
//! cross-entropy + backward + SGD (momentum 0.9, dampening 0, as PyTorch); inference =
//! forward with running BatchNorm statistics. Prints images per second, and with
//! `MIXAUG_BENCH_CSV=PATH` writes them as CSV (`case,batch,train_img_s,inference_img_s`);
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
    name: String,
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
    let mut group = c.benchmark_group(&case.name);
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
    let (b18, b50) = batches();
    let cases = [
        Case {
            name: format!("resnet18_cifar_b{b18}"),
            config: ResNetConfig::resnet18(10).with_stem(Stem::Cifar),
            batch: b18,
            side: 32,
        },
        Case {
            name: format!("resnet50_imagenet_b{b50}"),
            config: ResNetConfig::resnet50(1000),
            batch: b50,
            side: 224,
        },
    ];
    for case in &cases {
        bench_case(&mut c, &device, case);
    }
    c.final_summary();
    println!("\nthroughput (median):");
    let mut csv = String::from("case,batch,train_img_s,inference_img_s\n");
    for case in &cases {
        let rate = |id: &str| median_ns(&case.name, id).map(|ns| case.batch as f64 / (ns / 1e9));
        if let (Some(train), Some(infer)) = (rate("train_step"), rate("inference")) {
            println!(
                "  {:<24} train {train:8.1} img/s   inference {infer:8.1} img/s",
                case.name
            );
            let family = case.name.split("_b").next().unwrap_or(&case.name);
            csv.push_str(&format!("{family},{},{train:.3},{infer:.3}\n", case.batch));
        }
    }
    if let Some(path) = std::env::var_os("MIXAUG_BENCH_CSV") {
        std::fs::write(&path, csv).expect("write MIXAUG_BENCH_CSV");
    }
}

/// The batches of ResNet-18 and ResNet-50: `$MIXAUG_BENCH_BATCHES` (`R18,R50`), else the
/// CPU defaults 64 and 16.
fn batches() -> (usize, usize) {
    let Ok(text) = std::env::var("MIXAUG_BENCH_BATCHES") else {
        return (64, 16);
    };
    let parsed: Vec<usize> = text
        .split(',')
        .map(|b| b.trim().parse().ok().filter(|&b| b > 0))
        .collect::<Option<_>>()
        .unwrap_or_default();
    match parsed[..] {
        [b18, b50] => (b18, b50),
        _ => panic!("MIXAUG_BENCH_BATCHES={text}: expected two positive batch sizes, `R18,R50`"),
    }
}
