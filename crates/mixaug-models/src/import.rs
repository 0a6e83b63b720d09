//! Loading torchvision-format checkpoints (PyTorch `.pth`/`.pt` state dicts and
//! `.safetensors`) into a [`ResNet`](crate::ResNet).
//!
//! The networks' module paths already are torchvision's state-dict keys (`conv1.weight`,
//! `layer1.0.bn1.running_mean`, `fc.bias`), except the downsample branch, which torchvision
//! stores as a `Sequential` (`downsample.0` = convolution, `downsample.1` = BatchNorm) and
//! burn names `downsample.conv` / `downsample.bn`: the keys are remapped. burn-store's
//! PyTorch adapter transposes linear weights (`[out, in]` → `[in, out]`) and renames the
//! BatchNorm affine parameters; `num_batches_tracked` has no burn counterpart and is
//! ignored.

use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::store::{ModuleSnapshot, PyTorchToBurnAdapter, PytorchStore, SafetensorsStore};
use thiserror::Error;

/// Why a checkpoint could not be loaded.
#[derive(Debug, Error)]
pub enum ImportError {
    /// The file's extension names no known format.
    #[error("cannot tell the format of {path}: expected .pth, .pt or .safetensors")]
    UnknownFormat {
        /// The checkpoint.
        path: PathBuf,
    },
    /// The file could not be read or parsed.
    #[error("cannot read checkpoint {path}: {reason}")]
    Read {
        /// The checkpoint.
        path: PathBuf,
        /// The reader's message.
        reason: String,
    },
    /// Strict loading found keys the model lacks or parameters the checkpoint lacks.
    #[error(
        "checkpoint {path} does not match the model:\n  missing from the checkpoint: {missing:?}\n  \
         not in the model: {unexpected:?}\n(set `strict = false` to load what matches, or \
         `replace_classifier` to start a new head)"
    )]
    KeyMismatch {
        /// The checkpoint.
        path: PathBuf,
        /// Model parameters the checkpoint has no tensor for.
        missing: Vec<String>,
        /// Checkpoint tensors the model has no parameter for.
        unexpected: Vec<String>,
    },
    /// A tensor has the wrong shape or type for its parameter.
    #[error("checkpoint {path} has tensors that do not fit the model: {errors:?}")]
    Incompatible {
        /// The checkpoint.
        path: PathBuf,
        /// One message per tensor.
        errors: Vec<String>,
    },
}

/// How a checkpoint is loaded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportOptions {
    /// Every model parameter must come from the checkpoint and every checkpoint tensor
    /// must be used (`num_batches_tracked` aside). Default true.
    pub strict: bool,
    /// Leave the classifier (`fc`) as initialised, for a new number of classes (the
    /// fine-grained recipes start from ImageNet weights and a new head). Default false.
    pub replace_classifier: bool,
    /// A key holding the state dict inside a larger checkpoint (`"state_dict"`,
    /// `"model"`). Default: the file is the state dict.
    pub top_level_key: Option<String>,
}

impl Default for ImportOptions {
    fn default() -> Self {
        Self {
            strict: true,
            replace_classifier: false,
            top_level_key: None,
        }
    }
}

/// What a load did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Parameters loaded from the checkpoint.
    pub loaded: usize,
    /// Model parameters left as initialised (only when not strict, or the new head).
    pub missing: Vec<String>,
    /// Checkpoint tensors not used (`num_batches_tracked` and a replaced head excluded).
    pub unused: Vec<String>,
}

fn keeps_classifier(path: &str, _container: &str) -> bool {
    !path.starts_with("fc.")
}

/// Loads a torchvision-format checkpoint into `model` (in place), remapping
/// `downsample.0/1` to `downsample.conv/bn`.
///
/// ```no_run
/// use burn::prelude::*;
/// use mixaug_models::{ImportOptions, ResNetConfig, load_torchvision};
/// let device = Device::flex();
/// // ImageNet ResNet-18 weights, a new 200-class head for CUB.
/// let mut model = ResNetConfig::resnet18(200).init(&device);
/// let options = ImportOptions { replace_classifier: true, ..ImportOptions::default() };
/// let report = load_torchvision(&mut model, "resnet18-f37072fd.pth", &options).unwrap();
/// assert!(report.missing.iter().all(|k| k.starts_with("fc.")));
/// ```
///
/// # Errors
/// [`ImportError::UnknownFormat`], [`ImportError::Read`], [`ImportError::KeyMismatch`]
/// (strict) and [`ImportError::Incompatible`] (a tensor of the wrong shape).
pub fn load_torchvision<M: Module + ModuleSnapshot>(
    model: &mut M,
    path: impl AsRef<Path>,
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let path = path.as_ref().to_path_buf();
    let read = |reason: String| ImportError::Read {
        path: path.clone(),
        reason,
    };
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let result = match extension.as_deref() {
        Some("pth" | "pt") => {
            let mut store = PytorchStore::from_file(&path)
                .with_key_remapping(r"\.downsample\.0\.", ".downsample.conv.")
                .with_key_remapping(r"\.downsample\.1\.", ".downsample.bn.")
                .map_indices_contiguous(false)
                .allow_partial(true)
                .validate(false);
            if let Some(key) = &options.top_level_key {
                store = store.with_top_level_key(key.clone());
            }
            if options.replace_classifier {
                store = store.with_predicate(keeps_classifier);
            }
            model
                .load_from(&mut store)
                .map_err(|e| read(e.to_string()))?
        }
        Some("safetensors") => {
            let mut store = SafetensorsStore::from_file(&path)
                .with_from_adapter(PyTorchToBurnAdapter)
                .with_key_remapping(r"\.downsample\.0\.", ".downsample.conv.")
                .with_key_remapping(r"\.downsample\.1\.", ".downsample.bn.")
                .map_indices_contiguous(false)
                .allow_partial(true)
                .validate(false);
            if options.replace_classifier {
                store = store.with_predicate(keeps_classifier);
            }
            model
                .load_from(&mut store)
                .map_err(|e| read(e.to_string()))?
        }
        _ => return Err(ImportError::UnknownFormat { path }),
    };
    if !result.errors.is_empty() {
        return Err(ImportError::Incompatible {
            path,
            errors: result.errors.iter().map(|e| format!("{e:?}")).collect(),
        });
    }
    // Parameters the filter kept from loading (a replaced head) count as left initialised.
    let missing: Vec<String> = result
        .missing
        .iter()
        .map(|(p, _)| p.clone())
        .chain(result.skipped.iter().cloned())
        .collect();
    let unused: Vec<String> = result
        .unused
        .iter()
        .filter(|k| !k.ends_with("num_batches_tracked"))
        .filter(|k| !(options.replace_classifier && k.starts_with("fc.")))
        .cloned()
        .collect();
    let strict_missing: Vec<String> = missing
        .iter()
        .filter(|k| !(options.replace_classifier && k.starts_with("fc.")))
        .cloned()
        .collect();
    if options.strict && (!strict_missing.is_empty() || !unused.is_empty()) {
        return Err(ImportError::KeyMismatch {
            path,
            missing: strict_missing,
            unexpected: unused,
        });
    }
    Ok(ImportReport {
        loaded: result.applied.len(),
        missing,
        unused,
    })
}
