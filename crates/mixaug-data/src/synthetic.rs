//! Small generated copies of the data sets in their real on-disk formats, for smoke runs
//! of experiment configurations (and tests) where the real data is not installed.
//!
//! The pixels are deterministic patterns (a per-class colour plus a ramp), so that a copy
//! is the same on every machine; the files are what the loaders read: IDX, CIFAR binary
//! batches, the CUB/Aircraft/Cars/Tiny-ImageNet lists with JPEG images, and the
//! class-per-folder layout.

use std::path::{Path, PathBuf};

use image::{ImageFormat, RgbImage};

use crate::{Cifar, DataError, DatasetId, ImageU8, Mnist, Split, cifar_record, idx_bytes};

/// What a generated copy holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SyntheticSpec {
    /// Classes that receive images (labels `0..classes`).
    pub classes: usize,
    /// Training images per class.
    pub train_per_class: usize,
    /// Test images per class.
    pub test_per_class: usize,
    /// `[height, width]` of the photos of the folder data sets (the IDX and CIFAR formats
    /// fix their own: 28×28 and 32×32).
    pub size: [usize; 2],
}

impl Default for SyntheticSpec {
    /// 2 classes, 2 training and 1 test image each, 40×56 photos.
    fn default() -> Self {
        Self {
            classes: 2,
            train_per_class: 2,
            test_per_class: 1,
            size: [40, 56],
        }
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> DataError + '_ {
    move |source| DataError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), DataError> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io(parent))?;
    }
    std::fs::write(path, bytes).map_err(io(path))
}

/// The generated image of class `label`, number `index`: an RGB ramp tinted by the class.
fn pattern(label: usize, index: usize, [h, w]: [usize; 2]) -> ImageU8 {
    let tint = [
        (label * 67) % 256,
        (label * 131 + 40) % 256,
        (label * 29 + 90) % 256,
    ];
    let mut pixels = Vec::with_capacity(h * w * 3);
    for y in 0..h {
        for x in 0..w {
            for t in tint {
                pixels.push(((t + (x * 255) / w.max(1) + y * 3 + index * 17) % 256) as u8);
            }
        }
    }
    ImageU8 {
        height: h,
        width: w,
        channels: 3,
        pixels,
    }
}

fn write_jpeg(path: &Path, image: &ImageU8) -> Result<(), DataError> {
    let buffer = RgbImage::from_raw(
        image.width as u32,
        image.height as u32,
        image.pixels.clone(),
    )
    .expect("the pattern has h·w·3 bytes");
    let mut bytes = std::io::Cursor::new(Vec::new());
    buffer
        .write_to(&mut bytes, ImageFormat::Jpeg)
        .map_err(|e| DataError::Decode {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })?;
    write(path, bytes.get_ref())
}

/// `(split, label, index)` of every image of a copy, training first.
fn samples(spec: &SyntheticSpec) -> Vec<(Split, usize, usize)> {
    let mut out = Vec::new();
    for (split, per_class) in [
        (Split::Train, spec.train_per_class),
        (Split::Test, spec.test_per_class),
    ] {
        for label in 0..spec.classes {
            for index in 0..per_class {
                out.push((split, label, index));
            }
        }
    }
    out
}

/// Writes a generated copy of `id` under `root` (in the folder [`DatasetId::folder`]
/// names, where [`DatasetId::locate`] finds it) and returns that folder.
///
/// ```
/// use mixaug_data::{DatasetId, FolderDataset, ImageDataset, Split, SyntheticSpec, write_synthetic};
/// let root = std::env::temp_dir().join(format!("mixaug-doc-synthetic-{}", std::process::id()));
/// let dir = write_synthetic(DatasetId::Cub200, &root, &SyntheticSpec::default()).unwrap();
/// let train = FolderDataset::cub(&dir, Split::Train).unwrap();
/// assert_eq!(train.len(), 4);
/// assert_eq!(train.get(0).unwrap().image.width, 56);
/// # std::fs::remove_dir_all(root).unwrap();
/// ```
///
/// # Errors
/// [`DataError::InvalidOption`] for an empty spec or more classes than the format holds,
/// [`DataError::Io`] when a file cannot be written.
pub fn write_synthetic(
    id: DatasetId,
    root: &Path,
    spec: &SyntheticSpec,
) -> Result<PathBuf, DataError> {
    let max_classes = match id {
        DatasetId::FashionMnist | DatasetId::Mnist | DatasetId::Cifar10 => 10,
        DatasetId::Cifar100 => 100,
        _ => usize::MAX,
    };
    if spec.classes == 0
        || spec.classes > max_classes
        || spec.train_per_class == 0
        || spec.test_per_class == 0
    {
        return Err(DataError::InvalidOption {
            name: "synthetic spec",
            reason: format!(
                "{spec:?}: need 1..={max_classes} classes and at least one image per class and split"
            ),
        });
    }
    if spec.size[0] == 0 || spec.size[1] == 0 {
        return Err(DataError::InvalidOption {
            name: "synthetic spec",
            reason: format!("size {:?} must be positive", spec.size),
        });
    }
    let dir = root.join(id.folder());
    let all = samples(spec);
    let of_split = |split: Split| all.iter().filter(move |s| s.0 == split);
    match id {
        DatasetId::FashionMnist | DatasetId::Mnist => {
            for split in [Split::Train, Split::Test] {
                let items: Vec<_> = of_split(split).collect();
                let mut pixels = Vec::new();
                for &&(_, label, index) in &items {
                    let rgb = pattern(label, index, [28, 28]);
                    pixels.extend(rgb.pixels.chunks(3).map(|p| p[0]));
                }
                let labels: Vec<u8> = items.iter().map(|s| s.1 as u8).collect();
                let [images_stem, labels_stem] = Mnist::stems(split);
                write(
                    &dir.join(images_stem),
                    &idx_bytes(&[items.len(), 28, 28], &pixels),
                )?;
                write(&dir.join(labels_stem), &idx_bytes(&[items.len()], &labels))?;
            }
        }
        DatasetId::Cifar10 | DatasetId::Cifar100 => {
            let kind = if id == DatasetId::Cifar10 {
                Cifar::Ten
            } else {
                Cifar::HundredFine
            };
            for split in [Split::Train, Split::Test] {
                let mut bytes = Vec::new();
                for &(_, label, index) in of_split(split) {
                    let labels = if id == DatasetId::Cifar10 {
                        vec![label as u8]
                    } else {
                        vec![(label / 5) as u8, label as u8]
                    };
                    bytes.extend(cifar_record(&labels, &pattern(label, index, [32, 32])));
                }
                let files = kind.files(split);
                // CIFAR-10's training set is five files: each holds the same records, so the
                // training split has five copies of them.
                for file in files {
                    write(&dir.join(file), &bytes)?;
                }
            }
        }
        DatasetId::Cub200 => {
            let (mut images, mut labels, mut split_txt) =
                (String::new(), String::new(), String::new());
            for (i, &(split, label, index)) in all.iter().enumerate() {
                let file = format!("{:03}.class/img_{index}_{i}.jpg", label + 1);
                write_jpeg(
                    &dir.join("images").join(&file),
                    &pattern(label, index, spec.size),
                )?;
                images.push_str(&format!("{} {file}\n", i + 1));
                labels.push_str(&format!("{} {}\n", i + 1, label + 1));
                let flag = if split == Split::Train { 1 } else { 0 };
                split_txt.push_str(&format!("{} {flag}\n", i + 1));
            }
            let classes: String = (0..spec.classes)
                .map(|c| format!("{} {:03}.class\n", c + 1, c + 1))
                .collect();
            write(&dir.join("images.txt"), images.as_bytes())?;
            write(&dir.join("image_class_labels.txt"), labels.as_bytes())?;
            write(&dir.join("train_test_split.txt"), split_txt.as_bytes())?;
            write(&dir.join("classes.txt"), classes.as_bytes())?;
        }
        DatasetId::Aircraft => {
            let data = dir.join("data");
            let variant = |label: usize| format!("Variant {label}");
            let (mut trainval, mut test) = (String::new(), String::new());
            for (i, &(split, label, index)) in all.iter().enumerate() {
                let id = format!("{:07}", i + 1);
                write_jpeg(
                    &data.join("images").join(format!("{id}.jpg")),
                    &pattern(label, index, spec.size),
                )?;
                let list = if split == Split::Train {
                    &mut trainval
                } else {
                    &mut test
                };
                list.push_str(&format!("{id} {}\n", variant(label)));
            }
            let variants: String = (0..spec.classes).map(|c| variant(c) + "\n").collect();
            write(&data.join("variants.txt"), variants.as_bytes())?;
            write(
                &data.join("images_variant_trainval.txt"),
                trainval.as_bytes(),
            )?;
            write(&data.join("images_variant_test.txt"), test.as_bytes())?;
        }
        DatasetId::StanfordCars => {
            let (mut train, mut test) =
                (String::from("path,class\n"), String::from("path,class\n"));
            for (i, &(split, label, index)) in all.iter().enumerate() {
                let file = format!("images/{:05}.jpg", i + 1);
                write_jpeg(&dir.join(&file), &pattern(label, index, spec.size))?;
                let list = if split == Split::Train {
                    &mut train
                } else {
                    &mut test
                };
                list.push_str(&format!("{file},{}\n", label + 1));
            }
            write(&dir.join("train.csv"), train.as_bytes())?;
            write(&dir.join("test.csv"), test.as_bytes())?;
        }
        DatasetId::TinyImagenet => {
            let wnid = |label: usize| format!("n{:08}", label + 1);
            let mut annotations = String::new();
            for (i, &(split, label, index)) in all.iter().enumerate() {
                let image = pattern(label, index, spec.size);
                if split == Split::Train {
                    let file = format!("{}_{index}.JPEG", wnid(label));
                    write_jpeg(
                        &dir.join("train")
                            .join(wnid(label))
                            .join("images")
                            .join(file),
                        &image,
                    )?;
                } else {
                    let file = format!("val_{i}.JPEG");
                    write_jpeg(&dir.join("val").join("images").join(&file), &image)?;
                    annotations.push_str(&format!("{file}\t{}\t0\t0\t1\t1\n", wnid(label)));
                }
            }
            let wnids: String = (0..spec.classes).map(|c| wnid(c) + "\n").collect();
            write(&dir.join("wnids.txt"), wnids.as_bytes())?;
            write(
                &dir.join("val").join("val_annotations.txt"),
                annotations.as_bytes(),
            )?;
        }
    }
    Ok(dir)
}

/// Writes a generated class-per-folder copy (`root/train/<class>/…`, `root/val/<class>/…`,
/// ImageNet's layout) and returns `root`.
///
/// # Errors
/// As [`write_synthetic`].
pub fn write_synthetic_folders(root: &Path, spec: &SyntheticSpec) -> Result<PathBuf, DataError> {
    if spec.classes == 0
        || spec.train_per_class == 0
        || spec.test_per_class == 0
        || spec.size.contains(&0)
    {
        return Err(DataError::InvalidOption {
            name: "synthetic spec",
            reason: format!("{spec:?}: every count and side must be positive"),
        });
    }
    for (i, &(split, label, index)) in samples(spec).iter().enumerate() {
        let sub = if split == Split::Train {
            "train"
        } else {
            "val"
        };
        let path = root
            .join(sub)
            .join(format!("class{label:04}"))
            .join(format!("{i}.jpg"));
        write_jpeg(&path, &pattern(label, index, spec.size))?;
    }
    Ok(root.to_path_buf())
}
