//! Every input-only mixer beside a plain device copy of the same batch (the memory-bound
//! floor).
//!
//! `apply` times the device half only (parameters sampled once); `mix` adds the host-side
//! sampling. The ratio table printed at the end divides each median by the copy's median
//! of the same shape. FMix's host-side spectrum (`sample` alone) is timed on its own at
//! 224×224 (`fmix_spectrum`).

use std::hint::black_box;

use burn::prelude::*;
use criterion::{BenchmarkId, Criterion};
use mixaug_benches::{bench_device, criterion_dir, median_ns};
use mixaug_masks::{BatchShape, FMixConfig, MixConfig, MixRng, Mixer, Needs, PairingSchedule};

const SHAPES: [[usize; 4]; 2] = [[128, 3, 32, 32], [64, 3, 224, 224]];

fn shape_id(s: [usize; 4]) -> String {
    format!("{}x{}x{}x{}", s[0], s[1], s[2], s[3])
}

/// Every input-only method with its defaults (the model-guided SnapMix and AttentiveMix
/// are measured with their maps in the `maps` bench); SamplePairing with its schedule on
/// (the paper's schedule is off at epoch 0, where the bench draws).
fn methods() -> Vec<MixConfig> {
    MixConfig::all_defaults()
        .into_iter()
        .filter(|c| *c != MixConfig::None && c.needs() == Needs::Nothing)
        .map(|c| match c {
            MixConfig::SamplePairing(c) => {
                MixConfig::SamplePairing(c.with_schedule(PairingSchedule::always()))
            }
            other => other,
        })
        .collect()
}

fn bench(c: &mut Criterion, device: &Device) {
    for shape in SHAPES {
        let [n, ch, h, w] = shape;
        let mut group = c.benchmark_group(format!("mix/{}", shape_id(shape)));
        group.sample_size(20);
        device.seed(0);
        let images = Tensor::<4>::random(shape, burn::tensor::Distribution::Default, device);
        let labels = Tensor::<1, Int>::arange(0..n as i64, device);
        let sync = || device.sync().expect("device sync");
        group.bench_function("copy", |b| {
            b.iter(|| {
                black_box(images.clone().mul_scalar(1.0));
                sync();
            })
        });
        for config in methods() {
            let method = config.init().expect("valid config");
            let params = method
                .sample(&mut MixRng::from_seed(1), BatchShape::new(n, ch, h, w))
                .expect("sample");
            group.bench_function(BenchmarkId::new("apply", config.label()), |b| {
                b.iter(|| {
                    black_box(
                        method
                            .apply(&params, images.clone(), labels.clone())
                            .unwrap(),
                    );
                    sync();
                })
            });
            let mut rng = MixRng::from_seed(2);
            group.bench_function(BenchmarkId::new("mix", config.label()), |b| {
                b.iter(|| {
                    black_box(
                        method
                            .mix(&mut rng, images.clone(), labels.clone())
                            .unwrap(),
                    );
                    sync();
                })
            });
        }
        group.finish();
    }
    let fmix = FMixConfig::new().init().expect("valid config");
    let mut rng = MixRng::from_seed(3);
    let mut group = c.benchmark_group("fmix_spectrum");
    group.sample_size(20);
    group.bench_function("64x3x224x224", |b| {
        b.iter(|| {
            black_box(
                fmix.sample(&mut rng, BatchShape::new(64, 3, 224, 224))
                    .unwrap(),
            )
        })
    });
    group.finish();
}

fn print_ratios() {
    println!("\nratio to a device copy of the same batch (medians, this run):");
    println!(
        "{:<20} {:<24} {:>10} {:>10} {:>8}",
        "shape", "method", "apply", "mix", "copy µs"
    );
    for shape in SHAPES {
        let group = format!("mix/{}", shape_id(shape));
        let Some(copy) = median_ns(&group, "copy") else {
            continue;
        };
        for config in methods() {
            let ratio = |kind: &str| {
                median_ns(&group, &format!("{kind}/{}", config.label()))
                    .map_or("-".to_string(), |t| format!("{:.2}×", t / copy))
            };
            println!(
                "{:<20} {:<24} {:>10} {:>10} {:>8.1}",
                shape_id(shape),
                config.label(),
                ratio("apply"),
                ratio("mix"),
                copy / 1e3
            );
        }
    }
}

fn print_spectrum() {
    if let Some(t) = median_ns("fmix_spectrum", "64x3x224x224") {
        println!(
            "\nFMix host spectrum + binarisation at 224×224: {:.2} ms per batch",
            t / 1e6
        );
    }
}

fn main() {
    let mut c = Criterion::default()
        .output_directory(&criterion_dir())
        .configure_from_args();
    bench(&mut c, &bench_device(false));
    c.final_summary();
    print_ratios();
    print_spectrum();
}
