//! Training and inference throughput of the papers' networks: ResNet-18 (CIFAR stem) at
//! batch 64 of 32×32 and ResNet-50 (ImageNet stem) at batch 16 of 224×224 (other batches
//! with `MIXAUG_BENCH_BATCHES=R18,R50`, e.g. `128,64` on a GPU); DeiT-Small and Swin-Tiny
//! (timm's `deit_small_patch16_224`, `swin_tiny_patch4_window7_224`, drop-path 0) at batch 8
//! of 224×224 with 100 classes (`MIXAUG_BENCH_VIT_BATCH=B`). `MIXAUG_BENCH_MODELS` picks the
//! networks by family, comma-separated (`resnet18_cifar`, `resnet50_imagenet`,
//! `deit_small`, `swin_tiny`, or `all`; default the two ResNets). Train step = forward +
//! cross-entropy + backward + optimiser step — SGD (momentum 0.9, dampening 0, as PyTorch)
//! for the ResNets, AdamW (β 0.9/0.999, ε 1e-8, weight decay 0.05) for the transformers;
//! inference = forward of the `valid()` model (running BatchNorm statistics, no drop-path).
//! Prints images per second, and with `MIXAUG_BENCH_CSV=PATH` writes them as CSV
//! (`case,batch,train_img_s,inference_img_s`); `benches/pytorch_models.py` measures PyTorch
//! and timm on the same shapes, `benches/models_vs_pytorch.py` alternates the two.

use std::hint::black_box;

use burn::module::Module;
use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamWConfig, GradientsParams, ModuleOptimizer, SgdConfig};
use burn::prelude::*;
use criterion::Criterion;
use mixaug_benches::{bench_device, criterion_dir, median_ns};
use mixaug_models::{DeitConfig, ResNetConfig, Stem, SwinConfig};

/// The networks, by the family names of `MIXAUG_BENCH_MODELS` and the CSV.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    ResNet18Cifar,
    ResNet50ImageNet,
    DeitSmall,
    SwinTiny,
}

impl Family {
    const ALL: [Family; 4] = [
        Family::ResNet18Cifar,
        Family::ResNet50ImageNet,
        Family::DeitSmall,
        Family::SwinTiny,
    ];

    fn name(self) -> &'static str {
        match self {
            Family::ResNet18Cifar => "resnet18_cifar",
            Family::ResNet50ImageNet => "resnet50_imagenet",
            Family::DeitSmall => "deit_small",
            Family::SwinTiny => "swin_tiny",
        }
    }
}

struct Case {
    family: Family,
    batch: usize,
    side: usize,
    classes: usize,
}

impl Case {
    fn name(&self) -> String {
        format!("{}_b{}", self.family.name(), self.batch)
    }
}

/// Times a train step and an inference pass of `model` on `case`'s shapes.
fn bench_network<M: Module>(
    c: &mut Criterion,
    device: &Device,
    case: &Case,
    model: M,
    forward: fn(&M, Tensor<4>) -> Tensor<2>,
    mut optimizer: ModuleOptimizer,
) {
    let images = Tensor::<4>::random(
        [case.batch, 3, case.side, case.side],
        burn::tensor::Distribution::Default,
        device,
    );
    let labels = Tensor::<1, Int>::arange(0..case.batch as i64, device)
        .remainder_scalar(case.classes as i64);
    let loss_fn = CrossEntropyLossConfig::new().init(device);
    let mut model = Some(model);
    let mut group = c.benchmark_group(case.name());
    group.sample_size(10);
    group.bench_function("train_step", |b| {
        b.iter(|| {
            let m = model.take().expect("model");
            let loss = loss_fn.forward(forward(&m, images.clone()), labels.clone());
            let grads = GradientsParams::from_grads(loss.backward(), &m);
            let m = optimizer.step(0.1, m, grads);
            // Wait for the update before the clock stops.
            device.sync().expect("device sync");
            model = Some(m);
        })
    });
    let eval = model.as_ref().expect("model").valid();
    let plain = images.clone().without_autodiff();
    group.bench_function("inference", |b| {
        b.iter(|| black_box(forward(&eval, plain.clone()).into_data()))
    });
    group.finish();
}

fn bench_case(c: &mut Criterion, device: &Device, case: &Case) {
    device.seed(0);
    let sgd = || {
        SgdConfig::new()
            .with_momentum(Some(MomentumConfig::new().with_dampening(0.0)))
            .init()
    };
    // PyTorch's AdamW defaults but the weight decay (timm's recipes use 0.05).
    let adamw = || {
        AdamWConfig::new()
            .with_epsilon(1e-8)
            .with_weight_decay(0.05)
            .init()
    };
    match case.family {
        Family::ResNet18Cifar => {
            let model = ResNetConfig::resnet18(case.classes)
                .with_stem(Stem::Cifar)
                .init(device);
            bench_network(c, device, case, model, |m, x| m.forward(x), sgd());
        }
        Family::ResNet50ImageNet => {
            let model = ResNetConfig::resnet50(case.classes).init(device);
            bench_network(c, device, case, model, |m, x| m.forward(x), sgd());
        }
        Family::DeitSmall => {
            let model = DeitConfig::deit_small(case.classes).init(device);
            bench_network(c, device, case, model, |m, x| m.forward(x), adamw());
        }
        Family::SwinTiny => {
            let model = SwinConfig::swin_tiny(case.classes).init(device);
            bench_network(c, device, case, model, |m, x| m.forward(x), adamw());
        }
    }
}

fn main() {
    let mut c = Criterion::default()
        .output_directory(&criterion_dir())
        .configure_from_args();
    let device = bench_device(true);
    let (b18, b50) = batches();
    let vit = vit_batch();
    let cases: Vec<Case> = families()
        .into_iter()
        .map(|family| match family {
            Family::ResNet18Cifar => Case {
                family,
                batch: b18,
                side: 32,
                classes: 10,
            },
            Family::ResNet50ImageNet => Case {
                family,
                batch: b50,
                side: 224,
                classes: 1000,
            },
            Family::DeitSmall | Family::SwinTiny => Case {
                family,
                batch: vit,
                side: 224,
                classes: 100,
            },
        })
        .collect();
    for case in &cases {
        bench_case(&mut c, &device, case);
    }
    c.final_summary();
    println!("\nthroughput (median):");
    let mut csv = String::from("case,batch,train_img_s,inference_img_s\n");
    for case in &cases {
        let name = case.name();
        let rate = |id: &str| median_ns(&name, id).map(|ns| case.batch as f64 / (ns / 1e9));
        if let (Some(train), Some(infer)) = (rate("train_step"), rate("inference")) {
            println!("  {name:<24} train {train:8.1} img/s   inference {infer:8.1} img/s");
            csv.push_str(&format!(
                "{},{},{train:.3},{infer:.3}\n",
                case.family.name(),
                case.batch
            ));
        }
    }
    if let Some(path) = std::env::var_os("MIXAUG_BENCH_CSV") {
        std::fs::write(&path, csv).expect("write MIXAUG_BENCH_CSV");
    }
}

/// The networks of `$MIXAUG_BENCH_MODELS`, else the two ResNets.
fn families() -> Vec<Family> {
    let Ok(text) = std::env::var("MIXAUG_BENCH_MODELS") else {
        return vec![Family::ResNet18Cifar, Family::ResNet50ImageNet];
    };
    if text.trim() == "all" {
        return Family::ALL.to_vec();
    }
    text.split(',')
        .map(|name| {
            let name = name.trim();
            Family::ALL
                .into_iter()
                .find(|f| f.name() == name)
                .unwrap_or_else(|| {
                    let known: Vec<&str> = Family::ALL.iter().map(|f| f.name()).collect();
                    panic!("MIXAUG_BENCH_MODELS: unknown network {name:?}; known: {known:?} or all")
                })
        })
        .collect()
}

/// The batch of DeiT-S and Swin-T: `$MIXAUG_BENCH_VIT_BATCH`, else 8.
fn vit_batch() -> usize {
    match std::env::var("MIXAUG_BENCH_VIT_BATCH") {
        Err(_) => 8,
        Ok(text) => text
            .trim()
            .parse()
            .ok()
            .filter(|&b| b > 0)
            .unwrap_or_else(|| panic!("MIXAUG_BENCH_VIT_BATCH={text}: expected a positive batch")),
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
