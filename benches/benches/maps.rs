//! Maps: fine-grained saliency per image (224×224 and 32×32) and batched over cores, and
//! CAM + semantic percent maps for a batch of 64 beside one forward pass of the network
//! that produced the features (ResNet-18 CIFAR stem at 32×32, ResNet-50 at 224×224).
//! Prints the ratios.

use std::hint::black_box;

use burn::prelude::*;
use criterion::Criterion;
use mixaug_benches::{criterion_dir, median_ns};
use mixaug_maps::{
    CamModel, ImageU8, PixelNormalization, class_activation_maps, fine_grained_saliency,
    percent_maps, saliency_maps,
};
use mixaug_models::{ResNet, ResNetConfig, Stem};

fn device() -> Device {
    #[cfg(feature = "flex")]
    return Device::flex();
    #[cfg(all(not(feature = "flex"), feature = "tch"))]
    #[allow(deprecated)]
    return Device::libtorch();
    #[cfg(all(not(feature = "flex"), not(feature = "tch"), feature = "wgpu"))]
    return Device::wgpu(burn::tensor::DeviceKind::DefaultDevice);
    #[cfg(not(any(feature = "flex", feature = "tch", feature = "wgpu")))]
    compile_error!("enable one of the features flex, tch or wgpu for the benches");
}

/// Pseudo-random 8-bit pixels (a fixed integer hash).
fn bytes(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| ((i as u64 * 2654435761 + 12345) >> 7) as u8)
        .collect()
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
    let device = device();
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
    for id in ["one_224", "batch64_224", "one_32", "batch128_32"] {
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
