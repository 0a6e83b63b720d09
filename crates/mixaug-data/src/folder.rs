//! Image folders with split files: CUB-200-2011, FGVC-Aircraft, Stanford Cars,
//! Tiny-ImageNet, and a generic class-per-folder layout. Images are decoded lazily (PNG or
//! JPEG) when a sample is read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use crate::{DataError, ImageDataset, ImageU8, Sample, Split};

/// Labelled image files, decoded on demand.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FolderDataset {
    items: Vec<(PathBuf, usize)>,
    classes: Vec<String>,
}

fn read_text(path: &Path) -> Result<String, DataError> {
    std::fs::read_to_string(path).map_err(|source| DataError::Io {
        path: path.to_path_buf(),
        source,
    })
}

fn corrupt(path: &Path, line: usize, reason: impl std::fmt::Display) -> DataError {
    DataError::Corrupt {
        path: path.to_path_buf(),
        reason: format!("line {}: {reason}", line + 1),
    }
}

/// The non-empty lines of a list file with their indices.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    text.lines()
        .enumerate()
        .map(|(i, l)| (i, l.trim()))
        .filter(|(_, l)| !l.is_empty())
}

/// `<id> <value>` lines as a map.
fn id_map(path: &Path) -> Result<HashMap<String, String>, DataError> {
    let text = read_text(path)?;
    lines(&text)
        .map(|(i, l)| {
            l.split_once(char::is_whitespace)
                .map(|(a, b)| (a.to_string(), b.trim().to_string()))
                .ok_or_else(|| corrupt(path, i, format!("expected `<id> <value>`, got {l:?}")))
        })
        .collect()
}

fn is_image(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e.to_ascii_lowercase().as_str(), "jpg" | "jpeg" | "png"))
}

fn sorted_entries(dir: &Path) -> Result<Vec<PathBuf>, DataError> {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|source| DataError::Io {
            path: dir.to_path_buf(),
            source,
        })?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    entries.sort();
    Ok(entries)
}

impl FolderDataset {
    /// A data set from explicit `(file, label)` pairs and class names; every file must exist
    /// (`list` is named in the error) and every label be below `classes.len()`.
    pub fn new(
        items: Vec<(PathBuf, usize)>,
        classes: Vec<String>,
        list: &Path,
    ) -> Result<Self, DataError> {
        for (index, (path, label)) in items.iter().enumerate() {
            if *label >= classes.len() {
                return Err(DataError::LabelOutOfRange {
                    path: list.to_path_buf(),
                    index,
                    label: *label as i64,
                    num_classes: classes.len(),
                });
            }
            if !path.is_file() {
                return Err(DataError::MissingImage {
                    list: list.to_path_buf(),
                    image: path.clone(),
                });
            }
        }
        Ok(Self { items, classes })
    }

    /// The class names, in label order.
    pub fn classes(&self) -> &[String] {
        &self.classes
    }

    /// The image files with their labels.
    pub fn items(&self) -> &[(PathBuf, usize)] {
        &self.items
    }

    /// `root/<class>/<image>`: classes are the sub-folders in sorted order, images the
    /// PNG/JPEG files in each, sorted.
    pub fn class_folders(root: &Path) -> Result<Self, DataError> {
        let mut classes = Vec::new();
        let mut items = Vec::new();
        for dir in sorted_entries(root)?.into_iter().filter(|p| p.is_dir()) {
            let label = classes.len();
            classes.push(
                dir.file_name()
                    .unwrap_or_default()
                    .to_string_lossy()
                    .into_owned(),
            );
            for f in sorted_entries(&dir)?.into_iter().filter(|p| is_image(p)) {
                items.push((f, label));
            }
        }
        if classes.is_empty() {
            return Err(DataError::NotFound {
                dataset: "class-per-folder data set".into(),
                looked_for: "sub-folders, one per class".into(),
                places: root.display().to_string(),
                hint: "Lay the images out as ROOT/<class>/<image>.jpg.".into(),
            });
        }
        Self::new(items, classes, root)
    }

    /// CUB-200-2011 (`root` holds `images.txt`, `image_class_labels.txt`,
    /// `train_test_split.txt`, `classes.txt` and `images/`). Labels 1..200 become 0..199.
    pub fn cub(root: &Path, split: Split) -> Result<Self, DataError> {
        let images_txt = root.join("images.txt");
        let images = id_map(&images_txt)?;
        let labels_txt = root.join("image_class_labels.txt");
        let labels = id_map(&labels_txt)?;
        let split_txt = root.join("train_test_split.txt");
        let text = read_text(&split_txt)?;
        let classes_txt = root.join("classes.txt");
        let classes: Vec<String> = match std::fs::read_to_string(&classes_txt) {
            Ok(t) => lines(&t)
                .map(|(_, l)| l.split_once(' ').map_or(l, |(_, n)| n).to_string())
                .collect(),
            Err(_) => (1..=200).map(|c| c.to_string()).collect(),
        };
        let want = match split {
            Split::Train => "1",
            Split::Test => "0",
        };
        let mut items = Vec::new();
        for (i, l) in lines(&text) {
            let (id, flag) = l.split_once(char::is_whitespace).ok_or_else(|| {
                corrupt(&split_txt, i, format!("expected `<id> <0|1>`, got {l:?}"))
            })?;
            if flag.trim() != want {
                continue;
            }
            let file = images.get(id).ok_or_else(|| {
                corrupt(&split_txt, i, format!("image id {id} is not in images.txt"))
            })?;
            let label: usize = labels
                .get(id)
                .and_then(|v| v.parse().ok())
                .filter(|v| *v >= 1)
                .ok_or_else(|| {
                    corrupt(
                        &labels_txt,
                        0,
                        format!("no valid 1-based label for image id {id}"),
                    )
                })?;
            items.push((root.join("images").join(file), label - 1));
        }
        Self::new(items, classes, &split_txt)
    }

    /// FGVC-Aircraft at the variant level (`root/data` holds `variants.txt`,
    /// `images_variant_{trainval,test}.txt` and `images/<id>.jpg`; `root` may also be the
    /// `data` folder itself).
    pub fn aircraft(root: &Path, split: Split) -> Result<Self, DataError> {
        let data = if root.join("variants.txt").is_file() {
            root.to_path_buf()
        } else {
            root.join("data")
        };
        let variants_txt = data.join("variants.txt");
        let text = read_text(&variants_txt)?;
        let classes: Vec<String> = lines(&text).map(|(_, l)| l.to_string()).collect();
        let index: HashMap<&str, usize> = classes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i))
            .collect();
        let list = data.join(match split {
            Split::Train => "images_variant_trainval.txt",
            Split::Test => "images_variant_test.txt",
        });
        let text = read_text(&list)?;
        let mut items = Vec::new();
        for (i, l) in lines(&text) {
            let (id, variant) = l.split_once(' ').ok_or_else(|| {
                corrupt(&list, i, format!("expected `<id> <variant>`, got {l:?}"))
            })?;
            let label = *index.get(variant.trim()).ok_or_else(|| {
                corrupt(
                    &list,
                    i,
                    format!("variant {variant:?} is not in variants.txt"),
                )
            })?;
            items.push((data.join("images").join(format!("{id}.jpg")), label));
        }
        Self::new(items, classes, &list)
    }

    /// Stanford Cars from a text split, since the official one is a MATLAB `.mat`:
    /// `root/{train,test}.csv` with lines `<path relative to root>,<class 1..196>` (the
    /// devkit's `class` field; an optional header line starting with `path` is skipped) and
    /// optionally `root/classes.txt` with the 196 names in order.
    pub fn stanford_cars(root: &Path, split: Split) -> Result<Self, DataError> {
        let list = root.join(match split {
            Split::Train => "train.csv",
            Split::Test => "test.csv",
        });
        let text = read_text(&list)?;
        let classes: Vec<String> = match std::fs::read_to_string(root.join("classes.txt")) {
            Ok(t) => lines(&t).map(|(_, l)| l.to_string()).collect(),
            Err(_) => (1..=196).map(|c| c.to_string()).collect(),
        };
        let mut items = Vec::new();
        for (i, l) in lines(&text) {
            if i == 0 && l.starts_with("path") {
                continue;
            }
            let (file, class) = l.rsplit_once(',').ok_or_else(|| {
                corrupt(&list, i, format!("expected `<path>,<class>`, got {l:?}"))
            })?;
            let class: usize = class
                .trim()
                .parse()
                .ok()
                .filter(|c| *c >= 1)
                .ok_or_else(|| corrupt(&list, i, format!("class {class:?} is not in 1..")))?;
            items.push((root.join(file.trim()), class - 1));
        }
        Self::new(items, classes, &list)
    }

    /// Tiny-ImageNet-200 (`root` holds `wnids.txt`, `train/<wnid>/images/*.JPEG` and
    /// `val/images` with `val/val_annotations.txt`); the validation set is the test split.
    pub fn tiny_imagenet(root: &Path, split: Split) -> Result<Self, DataError> {
        let wnids_txt = root.join("wnids.txt");
        let text = read_text(&wnids_txt)?;
        let classes: Vec<String> = lines(&text).map(|(_, l)| l.to_string()).collect();
        let index: HashMap<&str, usize> = classes
            .iter()
            .enumerate()
            .map(|(i, c)| (c.as_str(), i))
            .collect();
        let mut items = Vec::new();
        let list = match split {
            Split::Train => {
                for (label, wnid) in classes.iter().enumerate() {
                    let dir = root.join("train").join(wnid).join("images");
                    for f in sorted_entries(&dir)?.into_iter().filter(|p| is_image(p)) {
                        items.push((f, label));
                    }
                }
                wnids_txt
            }
            Split::Test => {
                let ann = root.join("val").join("val_annotations.txt");
                let text = read_text(&ann)?;
                for (i, l) in lines(&text) {
                    let mut fields = l.split('\t');
                    let (Some(file), Some(wnid)) = (fields.next(), fields.next()) else {
                        return Err(corrupt(
                            &ann,
                            i,
                            format!("expected `<file>\\t<wnid>…`, got {l:?}"),
                        ));
                    };
                    let label = *index
                        .get(wnid)
                        .ok_or_else(|| corrupt(&ann, i, format!("{wnid} is not in wnids.txt")))?;
                    items.push((root.join("val").join("images").join(file), label));
                }
                ann
            }
        };
        Self::new(items, classes, &list)
    }
}

/// Decodes an image file to 8-bit grey (1 channel) or RGB (3 channels).
pub fn decode_image(path: &Path) -> Result<ImageU8, DataError> {
    let bytes = crate::error::read_file(path)?;
    let decoded = image::load_from_memory(&bytes).map_err(|e| DataError::Decode {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })?;
    let (w, h) = (decoded.width() as usize, decoded.height() as usize);
    Ok(if decoded.color().channel_count() <= 2 {
        ImageU8 {
            height: h,
            width: w,
            channels: 1,
            pixels: decoded.to_luma8().into_raw(),
        }
    } else {
        ImageU8 {
            height: h,
            width: w,
            channels: 3,
            pixels: decoded.to_rgb8().into_raw(),
        }
    })
}

impl ImageDataset for FolderDataset {
    fn len(&self) -> usize {
        self.items.len()
    }
    fn num_classes(&self) -> usize {
        self.classes.len()
    }
    fn get(&self, index: usize) -> Result<Sample, DataError> {
        let (path, label) = self.items.get(index).ok_or(DataError::IndexOutOfRange {
            index,
            len: self.items.len(),
        })?;
        Ok(Sample {
            image: decode_image(path)?,
            label: *label,
        })
    }
    fn label(&self, index: usize) -> Result<usize, DataError> {
        self.items
            .get(index)
            .map(|(_, l)| *l)
            .ok_or(DataError::IndexOutOfRange {
                index,
                len: self.items.len(),
            })
    }
}
