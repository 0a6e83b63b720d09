//! The real Fashion-MNIST, from Debian's `dataset-fashion-mnist` package.
//!
//! CI installs the package and sets `MIXAUG_REQUIRE_FASHION_MNIST=1`, which turns a missing
//! copy into a failure; elsewhere the test reports that it was skipped.

use std::path::PathBuf;

use mixaug_data::{DEBIAN_FASHION_MNIST, ImageDataset, Mnist, Split};

#[test]
fn reads_all_70000_records_with_balanced_classes() {
    let dir = PathBuf::from(DEBIAN_FASHION_MNIST);
    if !dir.join("train-images-idx3-ubyte.gz").is_file() {
        assert!(
            std::env::var_os("MIXAUG_REQUIRE_FASHION_MNIST").is_none(),
            "Fashion-MNIST is required but {DEBIAN_FASHION_MNIST} is missing \
             (apt-get install dataset-fashion-mnist)"
        );
        eprintln!("skipped: {DEBIAN_FASHION_MNIST} is not installed");
        return;
    }
    let train = Mnist::Fashion
        .load(std::slice::from_ref(&dir), Split::Train)
        .unwrap();
    let test = Mnist::Fashion.load(&[dir], Split::Test).unwrap();
    assert_eq!((train.len(), test.len()), (60_000, 10_000));
    assert_eq!(train.class_counts(), vec![6_000; 10]);
    assert_eq!(test.class_counts(), vec![1_000; 10]);
    let first = train.get(0).unwrap().image;
    assert_eq!((first.height, first.width, first.channels), (28, 28, 1));
    // The first training image is an ankle boot (class 9), as in every Fashion-MNIST copy.
    assert_eq!(train.label(0).unwrap(), 9);
}
