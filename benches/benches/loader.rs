//! Loader throughput in images per second: CIFAR-shaped 32×32 images with pad-4 crop and
//! flip, and 224×224 training images decoded from JPEG (ImageNet-like 500×375 files) with
//! RandomResizedCrop and flip. The workers are the machine's cores.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, Throughput};
use mixaug_benches::{criterion_dir, median_ns};
use mixaug_data::{
    FolderDataset, ImageU8, InMemoryDataset, Loader, LoaderConfig, Normalize, Pipeline,
};
use rand::{Rng, SeedableRng};

const CIFAR_IMAGES: usize = 4096;
const JPEG_IMAGES: usize = 256;
const BATCH: usize = 128;

fn cifar_like() -> InMemoryDataset {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0);
    let images = (0..CIFAR_IMAGES)
        .map(|_| {
            let pixels = (0..32 * 32 * 3).map(|_| rng.random::<u8>()).collect();
            ImageU8::new(32, 32, 3, pixels).expect("valid image")
        })
        .collect();
    let labels = (0..CIFAR_IMAGES).map(|i| i % 10).collect();
    InMemoryDataset::new(images, labels, 10).expect("valid data set")
}

/// Smooth 500×375 photos-like JPEGs (quality 90) in class folders.
fn jpeg_folder(dir: &std::path::Path) -> FolderDataset {
    for i in 0..JPEG_IMAGES {
        let class = dir.join(format!("class{}", i % 8));
        std::fs::create_dir_all(&class).expect("folder");
        let image = image::RgbImage::from_fn(500, 375, |x, y| {
            let v = ((x * 7 + y * 3 + i as u32 * 13) % 256) as u8;
            image::Rgb([v, v.wrapping_mul(3), 255 - v])
        });
        let mut bytes = Vec::new();
        image::codecs::jpeg::JpegEncoder::new_with_quality(&mut bytes, 90)
            .encode_image(&image)
            .expect("encode");
        std::fs::write(class.join(format!("{i:04}.jpg")), bytes).expect("write");
    }
    FolderDataset::class_folders(dir).expect("folder data set")
}

fn epoch(loader: &Loader) -> usize {
    loader
        .epoch(0)
        .map(|b| black_box(b.expect("batch")).labels.len())
        .sum()
}

fn main() {
    let mut c = Criterion::default()
        .output_directory(&criterion_dir())
        .configure_from_args();
    let mut group = c.benchmark_group("loader");
    group.sample_size(10);

    let cifar = Loader::new(
        Arc::new(cifar_like()),
        Pipeline::cifar_train(),
        Normalize::CIFAR10,
        LoaderConfig::new(BATCH),
    )
    .expect("loader");
    group.throughput(Throughput::Elements(
        cifar.num_batches() as u64 * BATCH as u64,
    ));
    group.bench_function("cifar_32_crop_flip", |b| b.iter(|| epoch(&cifar)));

    let dir = tempfile::tempdir().expect("temp dir");
    let jpeg = Loader::new(
        Arc::new(jpeg_folder(dir.path())),
        Pipeline::imagenet_train(224),
        Normalize::IMAGENET,
        LoaderConfig::new(64),
    )
    .expect("loader");
    group.throughput(Throughput::Elements(jpeg.num_batches() as u64 * 64));
    group.bench_function("jpeg_224_rrc_flip", |b| b.iter(|| epoch(&jpeg)));
    group.finish();
    c.final_summary();

    for (id, n) in [
        ("cifar_32_crop_flip", CIFAR_IMAGES / BATCH * BATCH),
        ("jpeg_224_rrc_flip", JPEG_IMAGES),
    ] {
        if let Some(ns) = median_ns("loader", id) {
            println!("{id}: {:.0} images/s (median)", n as f64 / (ns / 1e9));
        }
    }
}
