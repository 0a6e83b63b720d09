//! Maps: fine-grained saliency per image (224×224 and 32×32) and batched over cores, and
//! CAM + semantic percent maps for a batch of 64 beside one forward pass of the network
//! that produced the features (ResNet-18 CIFAR stem at 32×32, ResNet-50 at 224×224).
//! Prints the ratios.

use std::hint::black_box;

use burn::prelude::*;
use criterion::Criterion;
use mixaug_benches::{bench_device, criterion_dir, median_ns};
use mixaug_maps::{
    CamModel, ImageU8, PixelNormalization, class_activation_maps, fine_grained_saliency,
    percent_maps, saliency_maps,
};
use mixaug_models::{ResNet, ResNetConfig, Stem};

/// Pseudo-random 8-bit pixels (a fixed integer hash).
fn bytes(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i as u64 * 2654435761 + 12345) >> 7) as u8)
        .collect()
}

/// The saliency of §9.1 written with device tensor ops, kept here only to measure the
/// alternative the library did not take. Input: 8-bit grey values as floats, `[N, 1, H, W]`.
///
/// Every step is integer arithmetic that f32 holds exactly up to 256×256 except the
/// surround mean `(S − c)/(A − 1)` (a true division: correctly rounded on CPUs, approximate
/// in GPU shaders) and `255·(s/max)`, which OpenCV evaluates in double: on a GPU this
/// cannot be bit-exact, which is one of the two reasons the library maps on the host.
fn device_saliency(grey: Tensor<4>) -> Tensor<4> {
    let [n, _, h, w] = grey.dims();
    let device = grey.device();
    let index = |v: Vec<i64>| {
        let len = v.len();
        Tensor::<1, Int>::from_data(TensorData::new(v, [len]), &device)
    };
    let reflect = |len: usize| {
        index(
            std::iter::once(1)
                .chain(0..len as i64)
                .chain(std::iter::once(len as i64 - 2))
                .collect(),
        )
    };
    let (rows, cols) = (reflect(h), reflect(w));
    let blur = |g: Tensor<4>| {
        let p = g.select(2, rows.clone()).select(3, cols.clone());
        let v = p.clone().slice(s![.., .., 0..h])
            + p.clone().slice(s![.., .., 1..h + 1]).mul_scalar(2.0)
            + p.slice(s![.., .., 2..h + 2]);
        let s = v.clone().slice(s![.., .., .., 0..w])
            + v.clone().slice(s![.., .., .., 1..w + 1]).mul_scalar(2.0)
            + v.slice(s![.., .., .., 2..w + 2]);
        s.add_scalar(8.0).div_scalar(16.0).floor()
    };
    let g = blur(blur(grey));
    let integral = g.clone().cumsum(3).cumsum(2);
    let integral = Tensor::cat(vec![Tensor::zeros([n, 1, h, 1], &device), integral], 3);
    let integral = Tensor::cat(vec![Tensor::zeros([n, 1, 1, w + 1], &device), integral], 2);
    let mut on = Tensor::<4>::zeros([n, 1, h, w], &device);
    let mut off = Tensor::<4>::zeros([n, 1, h, w], &device);
    for scale in mixaug_maps::SALIENCY_SCALES {
        let bounds = |len: usize| {
            let lo: Vec<i64> = (0..len as i64)
                .map(|i| (i - scale as i64 + 1).clamp(0, len as i64))
                .collect();
            let hi: Vec<i64> = (0..len as i64)
                .map(|i| (i + scale as i64 + 1).clamp(0, len as i64))
                .collect();
            (lo, hi)
        };
        let ((y1, y2), (x1, x2)) = (bounds(h), bounds(w));
        let area: Vec<f32> = (0..h)
            .flat_map(|y| (0..w).map(move |x| (x, y)))
            .map(|(x, y)| ((x2[x] - x1[x]) * (y2[y] - y1[y]) - 1) as f32)
            .collect();
        let area = Tensor::<4>::from_data(TensorData::new(area, [1, 1, h, w]), &device);
        let corner = |ys: &Vec<i64>, xs: &Vec<i64>| {
            integral
                .clone()
                .select(2, index(ys.clone()))
                .select(3, index(xs.clone()))
        };
        let sum = corner(&y2, &x2) + corner(&y1, &x1) - corner(&y2, &x1) - corner(&y1, &x2);
        let mean = (sum - g.clone()) / area;
        on = on + (g.clone() - mean.clone()).clamp_min(0.0).floor();
        off = off + (mean - g.clone()).clamp_min(0.0).floor();
    }
    let stretch = |t: Tensor<4>| {
        let max = t.clone().max_dim(3).max_dim(2).clamp_min(1.0);
        (t / max).mul_scalar(255.0).floor()
    };
    let (on, off) = (stretch(on), stretch(off));
    let top = on
        .clone()
        .max_dim(3)
        .max_dim(2)
        .max_pair(off.clone().max_dim(3).max_dim(2))
        .clamp_min(1.0);
    let out = (on + off).mul_scalar(255.0).div(top).floor();
    out.clone() - out.div_scalar(256.0).floor().mul_scalar(256.0)
}

fn saliency(c: &mut Criterion, device: &Device) {
    let mut group = c.benchmark_group("saliency");
    group.sample_size(10);
    for (side, batch) in [(224usize, 64usize), (32, 128)] {
        let one = bytes(side * side * 3);
        group.bench_function(format!("one_{side}"), |b| {
            b.iter(|| {
                black_box(fine_grained_saliency(
                    ImageU8::new(&one, side, side, 3).unwrap(),
                ))
            })
        });
        let values: Vec<f32> = bytes(batch * 3 * side * side)
            .into_iter()
            .map(|v| f32::from(v) / 255.0)
            .collect();
        let images =
            Tensor::<4>::from_data(TensorData::new(values, [batch, 3, side, side]), device);
        group.bench_function(format!("batch{batch}_{side}"), |b| {
            b.iter(|| black_box(saliency_maps(images.clone(), &PixelNormalization::UNIT).unwrap()))
        });
        // The device alternative, from the same 8-bit grey images (the host path's grey
        // conversion is left out of its time, in its favour).
        let host = saliency_maps(images.clone(), &PixelNormalization::UNIT).unwrap();
        let grey = images.clone().mul_scalar(255.0).round();
        let grey = (grey.clone().slice(s![.., 2..3]).mul_scalar(3735.0)
            + grey.clone().slice(s![.., 1..2]).mul_scalar(19235.0)
            + grey.slice(s![.., 0..1]).mul_scalar(9798.0))
        .add_scalar(16384.0)
        .div_scalar(32768.0)
        .floor();
        let on_device: Vec<f32> = device_saliency(grey.clone())
            .into_data()
            .try_into_vec_as::<f32>()
            .unwrap();
        let differ = host
            .iter()
            .flat_map(|m| m.values().iter().copied())
            .zip(on_device)
            .filter(|&(a, b)| f32::from(a) != b)
            .count();
        println!("device saliency {batch}×{side}²: {differ} pixel(s) differ from the host's");
        group.bench_function(format!("device_batch{batch}_{side}"), |b| {
            b.iter(|| black_box(device_saliency(grey.clone()).into_data()))
        });
    }
    group.finish();
}

fn cam_vs_forward(c: &mut Criterion, device: &Device, name: &str, model: &ResNet, side: usize) {
    let mut group = c.benchmark_group(format!("cam_{name}"));
    group.sample_size(10);
    let images = Tensor::<4>::random(
        [64, 3, side, side],
        burn::tensor::Distribution::Default,
        device,
    );
    let labels = Tensor::<1, Int>::arange(0..64, device).remainder_scalar(10);
    let features = model.cam_features(images.clone());
    let classifier = model.cam_classifier();
    group.bench_function("forward", |b| {
        b.iter(|| black_box(model.forward(images.clone()).into_data()))
    });
    group.bench_function("cam_spm", |b| {
        b.iter(|| {
            let cams =
                class_activation_maps(features.clone(), &classifier, labels.clone()).unwrap();
            black_box(percent_maps(cams, side, side).into_data())
        })
    });
    group.finish();
}

fn main() {
    let mut c = Criterion::default()
        .output_directory(&criterion_dir())
        .configure_from_args();
    let device = bench_device(false);
    device.seed(0);
    saliency(&mut c, &device);
    let r18 = ResNetConfig::resnet18(10)
        .with_stem(Stem::Cifar)
        .init(&device);
    cam_vs_forward(&mut c, &device, "resnet18_cifar_32", &r18, 32);
    let r50 = ResNetConfig::resnet50(10).init(&device);
    cam_vs_forward(&mut c, &device, "resnet50_224", &r50, 224);
    c.final_summary();

    println!("\nsaliency (median per call):");
    for id in [
        "one_224",
        "batch64_224",
        "device_batch64_224",
        "one_32",
        "batch128_32",
        "device_batch128_32",
    ] {
        if let Some(ns) = median_ns("saliency", id) {
            println!("  {id:<12} {:>10.3} ms", ns / 1e6);
        }
    }
    println!("\nCAM + SPM (batch 64) vs one forward of the network:");
    for name in ["resnet18_cifar_32", "resnet50_224"] {
        let group = format!("cam_{name}");
        if let (Some(fwd), Some(cam)) = (median_ns(&group, "forward"), median_ns(&group, "cam_spm"))
        {
            println!(
                "  {name:<20} forward {:>9.2} ms   cam+spm {:>8.2} ms   ratio {:.2}%",
                fwd / 1e6,
                cam / 1e6,
                100.0 * cam / fwd
            );
        }
    }
}
