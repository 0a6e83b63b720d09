//! The loader: deterministic order and augmentation, drop-last, grey to RGB, errors.

use std::sync::Arc;

use mixaug_data::{
    DataError, ImageDataset, ImageU8, InMemoryDataset, Loader, LoaderConfig, Normalize, Padding,
    Pipeline, Transform,
};

/// Ten 4×4 grey images; image i is flat with value 10·i; label i mod 3.
fn data() -> Arc<InMemoryDataset> {
    let images = (0..10u8)
        .map(|i| ImageU8::new(4, 4, 1, vec![10 * i; 16]).unwrap())
        .collect();
    Arc::new(InMemoryDataset::new(images, (0..10).map(|i| i % 3).collect(), 3).unwrap())
}

const IDENTITY: Normalize = Normalize {
    mean: [0.0; 3],
    std: [1.0; 3],
};

fn augment() -> Pipeline {
    Pipeline {
        steps: vec![
            Transform::RandomCrop {
                size: [4, 4],
                padding: 1,
                fill: Padding::Zero,
            },
            Transform::HorizontalFlip { prob: 0.5 },
        ],
    }
}

#[test]
fn same_seed_same_batches_whatever_the_threads() {
    let run = |workers| {
        let config = LoaderConfig::new(4).with_seed(5).with_workers(workers);
        let loader = Loader::new(data(), augment(), IDENTITY, config).unwrap();
        loader.epoch(2).collect::<Result<Vec<_>, _>>().unwrap()
    };
    let (one, two) = (run(1), run(2));
    assert_eq!(one, two);
    assert_eq!(one.len(), 2, "10 images, batches of 4, drop_last");
    // Every sample of an epoch is distinct and its label matches its index.
    let mut seen: Vec<usize> = one.iter().flat_map(|b| b.indices.clone()).collect();
    for b in &one {
        for (i, l) in b.indices.iter().zip(&b.labels) {
            assert_eq!(*l as usize, i % 3);
        }
        assert_eq!(b.shape, [4, 1, 4, 4]);
    }
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 8);
    // Another epoch shuffles differently.
    let config = LoaderConfig::new(4).with_seed(5);
    let loader = Loader::new(data(), augment(), IDENTITY, config).unwrap();
    assert_ne!(loader.order(2), loader.order(3));
    assert_eq!(loader.order(2), loader.order(2));
}

#[test]
fn keep_last_no_shuffle_and_rgb() {
    let config = LoaderConfig::new(4)
        .with_shuffle(false)
        .with_drop_last(false)
        .with_to_rgb(true);
    let loader = Loader::new(data(), Pipeline::default(), IDENTITY, config).unwrap();
    assert_eq!(loader.num_batches(), 3);
    // 10 images: 4 + 4 + 2 kept, 4 + 4 with drop-last.
    assert_eq!(loader.num_images(), 10);
    let dropping =
        Loader::new(data(), Pipeline::default(), IDENTITY, LoaderConfig::new(4)).unwrap();
    assert_eq!(dropping.num_images(), 8);
    let batches: Vec<_> = loader.epoch(0).collect::<Result<_, _>>().unwrap();
    assert_eq!(batches[2].shape, [2, 3, 4, 4]);
    assert_eq!(batches[2].indices, vec![8, 9]);
    // Image 9 is flat 90: every value of its three channels is 90/255.
    let last = &batches[2].images[48..];
    assert!(last.iter().all(|v| (v - 90.0 / 255.0).abs() < 1e-7));
}

/// A data set whose sample 3 cannot be read.
struct Broken;

impl ImageDataset for Broken {
    fn len(&self) -> usize {
        6
    }
    fn num_classes(&self) -> usize {
        2
    }
    fn get(&self, index: usize) -> Result<mixaug_data::Sample, DataError> {
        if index == 3 {
            return Err(DataError::Decode {
                path: "broken.jpg".into(),
                reason: "truncated".into(),
            });
        }
        Ok(mixaug_data::Sample {
            image: ImageU8::new(2, 2, 1, vec![0; 4]).unwrap(),
            label: 0,
        })
    }
    fn label(&self, _index: usize) -> Result<usize, DataError> {
        Ok(0)
    }
}

#[test]
fn errors_surface_and_end_the_epoch() {
    let config = LoaderConfig::new(2).with_shuffle(false);
    let loader = Loader::new(Arc::new(Broken), Pipeline::default(), IDENTITY, config).unwrap();
    let results: Vec<_> = loader.epoch(0).collect();
    assert_eq!(results.len(), 2);
    assert!(results[0].is_ok());
    assert!(
        matches!(&results[1], Err(DataError::Decode { path, .. }) if path.ends_with("broken.jpg"))
    );
    assert!(Loader::new(data(), Pipeline::default(), IDENTITY, LoaderConfig::new(0)).is_err());
    assert!(matches!(
        loader.load(0, &[]),
        Err(DataError::InvalidOption {
            name: "loader.load",
            ..
        })
    ));
    // Mixed sizes without a fixed-size final step are a clear error.
    let mixed = InMemoryDataset::new(
        vec![
            ImageU8::new(2, 2, 1, vec![0; 4]).unwrap(),
            ImageU8::new(3, 2, 1, vec![0; 6]).unwrap(),
        ],
        vec![0, 1],
        2,
    )
    .unwrap();
    let loader = Loader::new(
        Arc::new(mixed),
        Pipeline::default(),
        IDENTITY,
        LoaderConfig::new(2).with_shuffle(false),
    )
    .unwrap();
    let err = loader.epoch(0).next().unwrap().unwrap_err();
    assert!(err.to_string().contains("fixed-size"), "{err}");
}
