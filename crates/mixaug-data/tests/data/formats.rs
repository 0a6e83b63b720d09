//! Real-format fixtures written by the tests: CIFAR binary batches, IDX pairs (raw and
//! gzipped), image folders with the split files of CUB, Aircraft, Cars and Tiny-ImageNet.

use std::io::Write;
use std::path::Path;

use mixaug_data::{
    Cifar, DataError, DatasetId, FolderDataset, ImageDataset, ImageU8, Mnist, Split, cifar_record,
    idx_bytes, read_idx_pair,
};

/// A 32×32 RGB image whose pixel (y, x) is (y, x, y + x) + `offset`.
fn cifar_image(offset: u8) -> ImageU8 {
    let mut pixels = Vec::new();
    for y in 0..32u8 {
        for x in 0..32u8 {
            pixels.extend([y + offset, x + offset, y + x + offset]);
        }
    }
    ImageU8::new(32, 32, 3, pixels).unwrap()
}

fn write(path: &Path, bytes: &[u8]) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

#[test]
fn cifar10_two_records_round_trip() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("cifar-10-batches-bin");
    let (a, b) = (cifar_image(0), cifar_image(100));
    let mut batch = cifar_record(&[3], &a);
    batch.extend(cifar_record(&[9], &b));
    assert_eq!(batch.len(), 2 * 3073);
    // Planar layout by hand: byte 1 is red (0,0) = 0, byte 1 + 1024 green (0,0) = 0,
    // byte 1 + 1024 + 33 is green at (1, 1) = 1.
    assert_eq!((batch[1 + 1024 + 33], batch[1 + 2048 + 33]), (1, 2));
    for i in 1..=5 {
        write(&root.join(format!("data_batch_{i}.bin")), &batch);
    }
    write(&root.join("test_batch.bin"), &batch);
    let train = Cifar::Ten.load(dir.path(), Split::Train).unwrap();
    assert_eq!(train.len(), 10);
    assert_eq!(train.class_counts()[3], 5);
    let test = Cifar::Ten.load(&root, Split::Test).unwrap();
    assert_eq!(test.get(0).unwrap().image, a);
    assert_eq!(test.get(1).unwrap().label, 9);
    assert_eq!(test.get(1).unwrap().image.at(5, 7, 2), 112);
}

#[test]
fn cifar100_fine_and_coarse_labels() {
    let dir = tempfile::tempdir().unwrap();
    let mut batch = cifar_record(&[19, 99], &cifar_image(1));
    batch.extend(cifar_record(&[0, 42], &cifar_image(2)));
    write(&dir.path().join("cifar-100-binary/train.bin"), &batch);
    let fine = Cifar::HundredFine.load(dir.path(), Split::Train).unwrap();
    assert_eq!(fine.labels(), &[99, 42]);
    let coarse = Cifar::HundredCoarse.load(dir.path(), Split::Train).unwrap();
    assert_eq!(coarse.labels(), &[19, 0]);
}

#[test]
fn cifar_errors_name_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("test_batch.bin");
    let mut batch = cifar_record(&[1], &cifar_image(0));
    batch.extend(&cifar_record(&[2], &cifar_image(0))[..1000]);
    write(&path, &batch);
    match Cifar::Ten.load(dir.path(), Split::Test) {
        Err(DataError::Truncated {
            path: p,
            expected,
            found,
        }) => {
            assert_eq!(p, path);
            assert_eq!((expected, found), (2 * 3073, 3073 + 1000));
        }
        other => panic!("{other:?}"),
    }
    write(&path, &cifar_record(&[10], &cifar_image(0)));
    assert!(matches!(
        Cifar::Ten.load(dir.path(), Split::Test),
        Err(DataError::LabelOutOfRange {
            label: 10,
            num_classes: 10,
            index: 0,
            ..
        })
    ));
    // A copy check on a folder without the data set is an error, never a panic; a batch of
    // the wrong size is caught by its exact length (30,730,000 bytes for CIFAR-10).
    assert!(matches!(
        DatasetId::FashionMnist.verify(dir.path()),
        Err(DataError::NotFound { .. })
    ));
    for i in 1..=5 {
        write(&dir.path().join(format!("data_batch_{i}.bin")), &[0; 3073]);
    }
    match DatasetId::Cifar10.verify(dir.path()) {
        Err(DataError::Truncated {
            expected, found, ..
        }) => {
            assert_eq!((expected, found), (30_730_000, 3073))
        }
        other => panic!("{other:?}"),
    }
    for i in 1..=5 {
        std::fs::remove_file(dir.path().join(format!("data_batch_{i}.bin"))).unwrap();
    }
    let missing = Cifar::Ten.load(dir.path(), Split::Train).unwrap_err();
    let message = missing.to_string();
    assert!(message.contains("data_batch_1.bin") && message.contains("cifar-10-batches-bin"));
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[test]
fn idx_pairs_raw_and_gzipped() {
    let dir = tempfile::tempdir().unwrap();
    // Three 2×3 images valued 10·i + p and labels 7, 0, 9.
    let pixels: Vec<u8> = (0..3)
        .flat_map(|i| (0..6).map(move |p| 10 * i + p))
        .collect();
    let images = idx_bytes(&[3, 2, 3], &pixels);
    let labels = idx_bytes(&[3], &[7, 0, 9]);
    write(&dir.path().join("t10k-images-idx3-ubyte"), &images);
    write(
        &dir.path().join("t10k-labels-idx1-ubyte.gz"),
        &gzip(&labels),
    );
    let data = Mnist::Fashion
        .load(
            &[dir.path().join("absent"), dir.path().to_path_buf()],
            Split::Test,
        )
        .unwrap();
    assert_eq!(data.labels(), &[7, 0, 9]);
    let s = data.get(2).unwrap();
    assert_eq!((s.image.height, s.image.width, s.image.channels), (2, 3, 1));
    assert_eq!(s.image.pixels, vec![20, 21, 22, 23, 24, 25]);
    let rgb = s.image.to_rgb();
    assert_eq!(&rgb.pixels[..6], &[20, 20, 20, 21, 21, 21]);
    let missing = Mnist::Fashion
        .load(&[dir.path().to_path_buf()], Split::Train)
        .unwrap_err();
    assert!(missing.to_string().contains("dataset-fashion-mnist"));
}

#[test]
fn idx_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (im, lb) = (dir.path().join("im"), dir.path().join("lb"));
    // The header says 4 images of 2×3 but holds 3.
    write(&im, &idx_bytes(&[4, 2, 3], &[0; 18]));
    write(&lb, &idx_bytes(&[4], &[0; 4]));
    match read_idx_pair(&im, &lb, 10) {
        Err(DataError::Truncated {
            expected, found, ..
        }) => assert_eq!((expected, found), (16 + 24, 16 + 18)),
        other => panic!("{other:?}"),
    }
    write(&im, &idx_bytes(&[2, 2, 3], &[0; 12]));
    write(&lb, &idx_bytes(&[3], &[0; 3]));
    assert!(matches!(
        read_idx_pair(&im, &lb, 10),
        Err(DataError::Corrupt { .. })
    ));
    write(&lb, &idx_bytes(&[2], &[1, 10]));
    assert!(matches!(
        read_idx_pair(&im, &lb, 10),
        Err(DataError::LabelOutOfRange {
            index: 1,
            label: 10,
            ..
        })
    ));
    write(&lb, &[0x1f, 0x8b, 1, 2, 3]);
    assert!(matches!(
        read_idx_pair(&im, &lb, 10),
        Err(DataError::Corrupt { .. })
    ));
    write(&lb, &[0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0]);
    let err = read_idx_pair(&im, &lb, 10).unwrap_err();
    assert!(err.to_string().contains("0x0d"), "{err}");
}

/// Writes a `h × w` PNG whose pixels are all `value` (grey when `rgb` is false).
fn png(path: &Path, h: u32, w: u32, value: u8, rgb: bool) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    if rgb {
        image::RgbImage::from_pixel(w, h, image::Rgb([value, value / 2, 255 - value]))
            .save(path)
            .unwrap();
    } else {
        image::GrayImage::from_pixel(w, h, image::Luma([value]))
            .save(path)
            .unwrap();
    }
}

/// Saves as JPEG bytes under a `.jpg` name (the folders expect JPEGs).
fn jpg(path: &Path, value: u8) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    image::RgbImage::from_pixel(5, 4, image::Rgb([value, value, value]))
        .save_with_format(path, image::ImageFormat::Jpeg)
        .unwrap();
}

#[test]
fn cub_three_images() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(
        &root.join("images.txt"),
        b"1 001.A/a.jpg\n2 002.B/b.jpg\n3 002.B/c.jpg\n",
    );
    write(&root.join("image_class_labels.txt"), b"1 1\n2 2\n3 2\n");
    write(&root.join("train_test_split.txt"), b"1 1\n2 0\n3 1\n");
    write(&root.join("classes.txt"), b"1 001.A\n2 002.B\n");
    for (f, v) in [
        ("001.A/a.jpg", 10),
        ("002.B/b.jpg", 120),
        ("002.B/c.jpg", 240),
    ] {
        jpg(&root.join("images").join(f), v);
    }
    let train = FolderDataset::cub(root, Split::Train).unwrap();
    assert_eq!(train.classes(), &["001.A".to_string(), "002.B".to_string()]);
    assert_eq!(train.len(), 2);
    assert_eq!((train.label(0).unwrap(), train.label(1).unwrap()), (0, 1));
    let s = train.get(1).unwrap();
    assert_eq!((s.image.height, s.image.width, s.image.channels), (4, 5, 3));
    // JPEG of a flat grey block: within a couple of levels of 240.
    assert!(s.image.pixels.iter().all(|v| v.abs_diff(240) <= 2));
    let test = FolderDataset::cub(root, Split::Test).unwrap();
    assert_eq!(test.len(), 1);

    // A split file naming a missing image, and a broken JPEG.
    write(
        &root.join("images.txt"),
        b"1 001.A/a.jpg\n2 002.B/gone.jpg\n3 002.B/c.jpg\n",
    );
    match FolderDataset::cub(root, Split::Test) {
        Err(DataError::MissingImage { list, image }) => {
            assert!(list.ends_with("train_test_split.txt"));
            assert!(image.ends_with("002.B/gone.jpg"));
        }
        other => panic!("{other:?}"),
    }
    write(
        &root.join("images/002.B/c.jpg"),
        &[0xff, 0xd8, 0xff, 0xe0, 1, 2, 3],
    );
    write(
        &root.join("images.txt"),
        b"1 001.A/a.jpg\n2 002.B/b.jpg\n3 002.B/c.jpg\n",
    );
    let train = FolderDataset::cub(root, Split::Train).unwrap();
    assert!(matches!(train.get(1), Err(DataError::Decode { .. })));
    write(&root.join("image_class_labels.txt"), b"1 1\n2 2\n3 201\n");
    assert!(matches!(
        FolderDataset::cub(root, Split::Train),
        Err(DataError::LabelOutOfRange { label: 200, .. })
    ));
}

#[test]
fn aircraft_cars_and_class_folders() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("fgvc-aircraft-2013b/data");
    write(&data.join("variants.txt"), b"707-320\nA300B4\nF-16A/B\n");
    write(
        &data.join("images_variant_trainval.txt"),
        b"0034309 F-16A/B\n0034958 707-320\n",
    );
    write(&data.join("images_variant_test.txt"), b"1514522 A300B4\n");
    for id in ["0034309", "0034958", "1514522"] {
        jpg(&data.join(format!("images/{id}.jpg")), 50);
    }
    let air =
        FolderDataset::aircraft(&dir.path().join("fgvc-aircraft-2013b"), Split::Train).unwrap();
    assert_eq!(air.num_classes(), 3);
    assert_eq!((air.label(0).unwrap(), air.label(1).unwrap()), (2, 0));
    let air_test = FolderDataset::aircraft(&data, Split::Test).unwrap();
    assert_eq!(air_test.label(0).unwrap(), 1);

    let cars = dir.path().join("cars");
    write(
        &cars.join("train.csv"),
        b"path,class\ncars_train/00001.jpg,14\ncars_train/00002.jpg,196\n",
    );
    jpg(&cars.join("cars_train/00001.jpg"), 9);
    jpg(&cars.join("cars_train/00002.jpg"), 9);
    let c = FolderDataset::stanford_cars(&cars, Split::Train).unwrap();
    assert_eq!(
        (c.num_classes(), c.label(0).unwrap(), c.label(1).unwrap()),
        (196, 13, 195)
    );
    write(&cars.join("train.csv"), b"cars_train/00001.jpg,0\n");
    assert!(matches!(
        FolderDataset::stanford_cars(&cars, Split::Train),
        Err(DataError::Corrupt { .. })
    ));

    let folders = dir.path().join("generic");
    png(&folders.join("cat/1.png"), 3, 4, 7, false);
    png(&folders.join("cat/2.png"), 3, 4, 8, true);
    png(&folders.join("dog/1.png"), 3, 4, 9, false);
    std::fs::write(folders.join("dog/notes.txt"), "not an image").unwrap();
    let g = FolderDataset::class_folders(&folders).unwrap();
    assert_eq!(g.classes(), &["cat".to_string(), "dog".to_string()]);
    assert_eq!(g.len(), 3);
    let grey = g.get(0).unwrap().image;
    assert_eq!((grey.channels, grey.pixels[0]), (1, 7));
    let colour = g.get(1).unwrap().image;
    assert_eq!(
        (colour.channels, &colour.pixels[..3]),
        (3, &[8, 4, 247][..])
    );
}

#[test]
fn tiny_imagenet_layout() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    write(&root.join("wnids.txt"), b"n01443537\nn01629819\n");
    for (wnid, k) in [("n01443537", 2), ("n01629819", 1)] {
        for i in 0..k {
            png(
                &root.join(format!("train/{wnid}/images/{wnid}_{i}.JPEG")),
                4,
                4,
                30,
                true,
            );
        }
        write(&root.join(format!("train/{wnid}/{wnid}_boxes.txt")), b"");
    }
    write(
        &root.join("val/val_annotations.txt"),
        b"val_0.JPEG\tn01629819\t0\t0\t10\t10\nval_1.JPEG\tn01443537\t1\t2\t3\t4\n",
    );
    png(&root.join("val/images/val_0.JPEG"), 4, 4, 1, true);
    png(&root.join("val/images/val_1.JPEG"), 4, 4, 2, true);
    let train = FolderDataset::tiny_imagenet(root, Split::Train).unwrap();
    assert_eq!(train.len(), 3);
    assert_eq!(
        (0..3).map(|i| train.label(i).unwrap()).collect::<Vec<_>>(),
        vec![0, 0, 1]
    );
    let val = FolderDataset::tiny_imagenet(root, Split::Test).unwrap();
    assert_eq!((val.label(0).unwrap(), val.label(1).unwrap()), (1, 0));
    write(
        &root.join("val/val_annotations.txt"),
        b"val_0.JPEG\tn99999999\t0\t0\t1\t1\n",
    );
    assert!(matches!(
        FolderDataset::tiny_imagenet(root, Split::Test),
        Err(DataError::Corrupt { .. })
    ));
}

#[test]
fn generated_copies_read_back_in_every_format() {
    use mixaug_data::{SyntheticSpec, write_synthetic, write_synthetic_folders};
    let root = tempfile::tempdir().unwrap();
    let spec = SyntheticSpec {
        classes: 3,
        train_per_class: 2,
        test_per_class: 1,
        size: [20, 28],
    };
    for id in DatasetId::ALL {
        let dir = write_synthetic(id, root.path(), &spec).unwrap();
        assert_eq!(
            id.locate(&[root.path().to_path_buf()]).unwrap(),
            dir,
            "{id:?}"
        );
        let load = |split: Split| -> Box<dyn ImageDataset> {
            let dirs = std::slice::from_ref(&dir);
            match id {
                DatasetId::FashionMnist | DatasetId::Mnist => {
                    Box::new(Mnist::Fashion.load(dirs, split).unwrap())
                }
                DatasetId::Cifar10 => Box::new(Cifar::Ten.load(&dir, split).unwrap()),
                DatasetId::Cifar100 => Box::new(Cifar::HundredFine.load(&dir, split).unwrap()),
                DatasetId::Cub200 => Box::new(FolderDataset::cub(&dir, split).unwrap()),
                DatasetId::Aircraft => Box::new(FolderDataset::aircraft(&dir, split).unwrap()),
                DatasetId::StanfordCars => {
                    Box::new(FolderDataset::stanford_cars(&dir, split).unwrap())
                }
                DatasetId::TinyImagenet => {
                    Box::new(FolderDataset::tiny_imagenet(&dir, split).unwrap())
                }
            }
        };
        let (train, test) = (load(Split::Train), load(Split::Test));
        let folder_format = !matches!(
            id,
            DatasetId::FashionMnist | DatasetId::Mnist | DatasetId::Cifar10 | DatasetId::Cifar100
        );
        if folder_format {
            // The folder formats also pass the catalog's full check.
            let summary = id.verify(root.path()).unwrap();
            assert_eq!((summary.train, summary.test), (6, 3), "{id:?}");
        }
        // CIFAR-10's training split is five files, each holding the records.
        let copies = if id == DatasetId::Cifar10 { 5 } else { 1 };
        assert_eq!(train.len(), 6 * copies, "{id:?}");
        assert_eq!(test.len(), 3, "{id:?}");
        let labels: Vec<usize> = (0..test.len()).map(|i| test.label(i).unwrap()).collect();
        assert_eq!(labels, [0, 1, 2], "{id:?}");
        let first = train.get(0).unwrap().image;
        let expected = match id {
            DatasetId::FashionMnist | DatasetId::Mnist => (28, 28),
            DatasetId::Cifar10 | DatasetId::Cifar100 => (32, 32),
            _ => (20, 28),
        };
        assert_eq!((first.height, first.width), expected, "{id:?}");
    }
    let folders = write_synthetic_folders(&root.path().join("imagenet"), &spec).unwrap();
    let train = FolderDataset::class_folders(&folders.join("train")).unwrap();
    assert_eq!((train.len(), train.num_classes()), (6, 3));
    // Impossible specs are typed errors.
    let err = write_synthetic(
        DatasetId::Cifar10,
        root.path(),
        &SyntheticSpec {
            classes: 11,
            ..spec
        },
    )
    .unwrap_err();
    assert!(matches!(err, DataError::InvalidOption { .. }), "{err}");
}
