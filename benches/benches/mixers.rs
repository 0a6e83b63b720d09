//! Every input-only mixer beside a plain device copy of the same batch (the memory-bound
//! floor).
//!
//! `apply` times the device half only (parameters sampled and SaliencyMix's guide computed
//! once); `mix` adds the host-side sampling and guide. The ratio table printed at the end
//! is measured side by side: rounds of a few copies then a few applications, alternating, so that the drift
//! of a shared 2-core machine hits both; each ratio is the median over the rounds. FMix's
//! host-side spectrum (`sample` alone) is timed on its own at 224×224 (`fmix_spectrum`).

use std::hint::black_box;
use std::time::Instant;

use burn::prelude::*;
use criterion::{BenchmarkId, Criterion};
use mixaug_benches::{bench_device, criterion_dir, median_ns};
use mixaug_masks::{
    BatchShape, FMixConfig, Guide, MixConfig, MixMethod, MixParams, MixRng, Mixer, Needs,
    PairingSchedule,
};

const SHAPES: [[usize; 4]; 2] = [[128, 3, 32, 32], [64, 3, 224, 224]];

fn shape_id(s: [usize; 4]) -> String {
    format!("{}x{}x{}x{}", s[0], s[1], s[2], s[3])
}

/// Every method that needs no model, with its defaults (the model-guided SnapMix and
/// AttentiveMix are measured with their maps in the `maps` bench); SamplePairing with its
/// schedule on (the paper's schedule is off at epoch 0, where the bench draws).
fn methods() -> Vec<MixConfig> {
    MixConfig::all_defaults()
        .into_iter()
        .filter(|c| {
            *c != MixConfig::None && matches!(c.needs(), Needs::Nothing | Needs::SaliencyPeaks)
        })
        .map(|c| match c {
            MixConfig::SamplePairing(c) => {
                MixConfig::SamplePairing(c.with_schedule(PairingSchedule::always()))
            }
            other => other,
        })
        .collect()
}

/// A copy of the batch on the device: the floor every mixer is compared with.
fn copy(images: &Tensor<4>) -> Tensor<4> {
    images.clone().mul_scalar(1.0)
}

/// A seeded random batch of `shape` with its labels.
fn batch(shape: [usize; 4], device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
    device.seed(0);
    let images = Tensor::<4>::random(shape, burn::tensor::Distribution::Default, device);
    (images, Tensor::arange(0..shape[0] as i64, device))
}

/// The guide of a method that needs no model: SaliencyMix's peaks (read back from the
/// device batch), nothing for the others.
fn guide(method: &MixMethod, params: &MixParams, images: &Tensor<4>) -> Guide {
    (method.device_guide(params, images))
        .expect("saliency guide")
        .unwrap_or_default()
}

/// Every benched method with the parameters it draws once for `images` and their guide.
fn prepared(images: &Tensor<4>) -> Vec<(MixConfig, MixMethod, MixParams, Guide)> {
    let [n, ch, h, w] = images.dims();
    methods()
        .into_iter()
        .map(|config| {
            let method = config.init().expect("valid config");
            let params = method
                .sample(&mut MixRng::from_seed(1), BatchShape::new(n, ch, h, w))
                .expect("sample");
            let guide = guide(&method, &params, images);
            (config, method, params, guide)
        })
        .collect()
}

/// One `apply` of the prepared parameters, waited for.
fn apply(
    method: &MixMethod,
    params: &MixParams,
    guide: &Guide,
    images: &Tensor<4>,
    labels: &Tensor<1, Int>,
) {
    let mixed = method.apply(params, images.clone(), labels.clone(), guide);
    black_box(mixed.expect("apply"));
    images.device().sync().expect("device sync");
}

fn bench(c: &mut Criterion, device: &Device) {
    for shape in SHAPES {
        let mut group = c.benchmark_group(format!("mix/{}", shape_id(shape)));
        group
            .sample_size(20)
            .warm_up_time(std::time::Duration::from_secs(1))
            .measurement_time(std::time::Duration::from_secs(2));
        let (images, labels) = batch(shape, device);
        let [n, ch, h, w] = shape;
        let sync = || device.sync().expect("device sync");
        group.bench_function("copy", |b| {
            b.iter(|| {
                black_box(copy(&images));
                sync();
            })
        });
        for (config, method, params, prepared_guide) in prepared(&images) {
            let apply = || apply(&method, &params, &prepared_guide, &images, &labels);
            group.bench_function(BenchmarkId::new("apply", config.label()), |b| b.iter(apply));
            let mut rng = MixRng::from_seed(2);
            group.bench_function(BenchmarkId::new("mix", config.label()), |b| {
                b.iter(|| {
                    let params = method
                        .sample(&mut rng, BatchShape::new(n, ch, h, w))
                        .unwrap();
                    let guide = guide(&method, &params, &images);
                    black_box(
                        method
                            .apply(&params, images.clone(), labels.clone(), &guide)
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

/// The median over `rounds` of (time of `reps` runs of `f`) / (time of `reps` copies),
/// the two measured back to back in every round.
fn side_by_side(rounds: usize, reps: usize, mut copy: impl FnMut(), mut f: impl FnMut()) -> f64 {
    let timed = |g: &mut dyn FnMut()| {
        let start = Instant::now();
        (0..reps).for_each(|_| g());
        start.elapsed().as_secs_f64()
    };
    timed(&mut copy);
    timed(&mut f);
    let mut ratios: Vec<f64> = (0..rounds)
        .map(|_| {
            let base = timed(&mut copy);
            timed(&mut f) / base
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios[rounds / 2]
}

fn print_ratios(device: &Device) {
    println!("\nratio to a device copy of the same batch (side by side, median of rounds):");
    println!(
        "{:<20} {:<24} {:>10} {:>8}",
        "shape", "method", "apply", "copy µs"
    );
    for shape in SHAPES {
        let [_, _, h, w] = shape;
        let (rounds, reps) = if h * w > 64 * 64 { (9, 3) } else { (41, 10) };
        let (images, labels) = batch(shape, device);
        let copy = || {
            black_box(copy(&images));
            images.device().sync().expect("device sync");
        };
        let copy_us =
            median_ns(&format!("mix/{}", shape_id(shape)), "copy").unwrap_or(f64::NAN) / 1e3;
        for (config, method, params, guide) in prepared(&images) {
            let apply = || apply(&method, &params, &guide, &images, &labels);
            println!(
                "{:<20} {:<24} {:>9.2}× {:>8.1}",
                shape_id(shape),
                config.label(),
                side_by_side(rounds, reps, copy, apply),
                copy_us
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
    let device = bench_device(false);
    bench(&mut c, &device);
    c.final_summary();
    print_ratios(&device);
    print_spectrum();
}
