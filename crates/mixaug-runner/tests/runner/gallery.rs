//! The gallery end to end on the bundled photos, and its errors.

use std::path::PathBuf;

use burn::prelude::*;
use mixaug_masks::MixConfig;
use mixaug_runner::device::parse_device;
use mixaug_runner::gallery::{GalleryOptions, render_gallery};
use mixaug_runner::render::{Normalization, save_png};

fn asset(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../assets")
        .join(name)
}

fn options(images: Vec<PathBuf>) -> GalleryOptions {
    GalleryOptions {
        images,
        methods: vec![
            MixConfig::from_name("mixup").unwrap(),
            MixConfig::from_name("cutmix").unwrap(),
        ],
        seed: 0,
        size: (30, 40),
        normalization: Normalization::IMAGENET,
    }
}

#[test]
fn renders_a_grid_and_writes_it_atomically() {
    let device = Device::flex();
    let picture = render_gallery(
        &options(vec![
            asset("astronaut.png"),
            asset("rocket.jpg"),
            asset("coffee.png"),
        ]),
        &device,
    )
    .unwrap();
    // 3 photos → 6 columns of 40 px with 4 px gaps; 1 source row + 2 method rows of
    // 20 (title) + 30 (image) + 12 (caption) + 4 (gap) px.
    assert_eq!(picture.dimensions(), (6 * 44 + 4, 3 * 66 + 4));
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("nested/gallery.png");
    save_png(&picture, &out).unwrap();
    let back = image::open(&out).unwrap().to_rgb8();
    assert_eq!(back, picture);
    assert!(!out.with_extension("png.partial").exists());
}

#[test]
fn the_mask_of_a_cutmix_row_is_black_and_white() {
    // With cutmix the mask tile holds only 0 and 255.
    let device = Device::flex();
    let mut opts = options(vec![asset("astronaut.png"), asset("chelsea.png")]);
    opts.methods = vec![MixConfig::from_name("cutmix").unwrap()];
    let picture = render_gallery(&opts, &device).unwrap();
    let (x0, y0) = (4 + 44, 4 + 66 + 20);
    for y in y0..y0 + 30 {
        for x in x0..x0 + 40 {
            let p = picture.get_pixel(x, y);
            assert!(p[0] == 0 || p[0] == 255, "({x}, {y}) = {p:?}");
        }
    }
}

#[test]
fn bad_inputs_are_errors() {
    let device = Device::flex();
    let one = render_gallery(&options(vec![asset("astronaut.png")]), &device);
    assert!(one.unwrap_err().to_string().contains("at least two images"));
    let missing = render_gallery(
        &options(vec![asset("astronaut.png"), asset("no-such-photo.png")]),
        &device,
    );
    assert!(
        missing
            .unwrap_err()
            .to_string()
            .contains("no-such-photo.png")
    );
    let mut bad_std = options(vec![asset("astronaut.png"), asset("chelsea.png")]);
    bad_std.normalization.std = [0.2, 0.0, 0.2];
    assert!(render_gallery(&bad_std, &device).is_err());
}

#[test]
fn device_names() {
    assert!(parse_device("flex").is_ok());
    let unknown = parse_device("tpu").unwrap_err().to_string();
    assert!(unknown.contains("unknown device"), "{unknown}");
    assert!(parse_device("flex:1").is_err());
    #[cfg(not(feature = "cuda"))]
    {
        let missing = parse_device("cuda:0").unwrap_err().to_string();
        assert!(missing.contains("--features cuda"), "{missing}");
    }
}

#[test]
fn guided_methods_get_a_saliency_row_and_their_stand_in_guides() {
    let device = Device::flex();
    let mut opts = options(vec![asset("astronaut.png"), asset("chelsea.png")]);
    // TransMix's 16-pixel patches do not divide 30×40 photos: the gallery uses 10.
    opts.methods = ["saliencymix", "snapmix", "attentivemix", "transmix"]
        .iter()
        .map(|m| MixConfig::from_name(m).unwrap())
        .collect();
    let picture = render_gallery(&opts, &device).unwrap();
    // Sources, the saliency row, then four method rows of 66 px.
    assert_eq!(picture.dimensions(), (4 * 44 + 4, 6 * 66 + 4));
}

#[test]
fn saliency_picture_peaks_at_the_maps_argmax() {
    use mixaug_runner::saliency::{saliency_of_photo, saliency_picture};
    let photo = image::open(asset("coffee.png")).unwrap().to_rgb8();
    let photo = image::imageops::resize(&photo, 48, 32, image::imageops::FilterType::Triangle);
    let picture = saliency_picture(&photo).unwrap();
    let map = saliency_of_photo(&photo).unwrap();
    assert_eq!(picture.peak, map.argmax());
    assert_eq!(picture.map.dimensions(), (48, 32));
    let (y, x) = picture.peak;
    assert_eq!(picture.map.get_pixel(x as u32, y as u32)[0], map.get(y, x));
    // The peak of the map is its maximum, 255 unless the photo is flat.
    assert_eq!(map.get(y, x), *map.values().iter().max().unwrap());
    let tiny = image::RgbImage::new(1, 5);
    assert!(saliency_picture(&tiny).is_err());
}
