//! Loading PyTorch checkpoints (`.pth`/`.pt` state dicts and `.safetensors`) of
//! torchvision's ResNets and timm's DeiT and Swin into the networks of this crate.
//!
//! The networks' module paths already are the state-dict keys (`conv1.weight`,
//! `layer1.0.bn1.running_mean`, `fc.bias`; `blocks.0.attn.qkv.weight`, `cls_token`,
//! `layers.1.downsample.reduction.weight`, `head.fc.bias`). What differs per network is a
//! [`PytorchLayout`]: keys to remap (torchvision stores a ResNet's downsample branch as a
//! `Sequential`, `downsample.0` = convolution, `downsample.1` = BatchNorm, which burn names
//! `downsample.conv` / `downsample.bn`), the classifier's prefix, and buffers with no burn
//! counterpart (BatchNorm's `num_batches_tracked`; Swin's `relative_position_index` and
//! `attn_mask`, which are computed from the window size and which the original Swin
//! release's checkpoints contain). burn-store's PyTorch adapter transposes linear weights
//! (`[out, in]` → `[in, out]`) and renames the norm parameters (`weight`/`bias` →
//! `gamma`/`beta`).

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
        /// Model parameters the checkpoint has no tensor for (burn's paths: a norm's
        /// `weight`/`bias` are `gamma`/`beta`).
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
    /// must be used (the layout's ignored buffers aside). Default true.
    pub strict: bool,
    /// Leave the classifier (`fc`, `head`, `head.fc`: the layout's
    /// [`CLASSIFIER_PREFIX`](PytorchLayout::CLASSIFIER_PREFIX)) as initialised, for a new
    /// number of classes (the fine-grained recipes start from ImageNet weights and a new
    /// head). Default false.
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
    /// Checkpoint tensors not used (ignored buffers and a replaced head excluded).
    pub unused: Vec<String>,
}

/// How a network's PyTorch state dict maps onto its burn module paths (implemented in the
/// network's own file).
pub trait PytorchLayout {
    /// Checkpoint-key rewrites, `(regex, replacement)`, applied before matching.
    const KEY_REMAPPING: &'static [(&'static str, &'static str)];
    /// The prefix of the classifier's keys, left out by
    /// [`ImportOptions::replace_classifier`].
    const CLASSIFIER_PREFIX: &'static str;
    /// Last key components of checkpoint buffers that have no burn counterpart: never
    /// loaded and never reported as unused.
    const IGNORED_BUFFERS: &'static [&'static str];
}

fn is_ignored_buffer<M: PytorchLayout>(key: &str) -> bool {
    let last = key.rsplit('.').next().unwrap_or(key);
    M::IGNORED_BUFFERS.contains(&last)
}

/// Loads a PyTorch checkpoint of torchvision's or timm's layout into `model` (in place),
/// strictly by default: every parameter of the model must come from the checkpoint and
/// every checkpoint tensor must be used, the [`PytorchLayout::IGNORED_BUFFERS`] aside.
///
/// ```no_run
/// use burn::prelude::*;
/// use mixaug_models::{ImportOptions, ResNetConfig, SwinConfig, load_pytorch};
/// let device = Device::flex();
/// // ImageNet ResNet-18 weights, a new 200-class head for CUB.
/// let mut model = ResNetConfig::resnet18(200).init(&device);
/// let options = ImportOptions { replace_classifier: true, ..ImportOptions::default() };
/// let report = load_pytorch(&mut model, "resnet18-f37072fd.pth", &options).unwrap();
/// assert!(report.missing.iter().all(|k| k.starts_with("fc.")));
/// // timm's ImageNet Swin-T (`swin_tiny_patch4_window7_224.ms_in1k`), a 100-class head.
/// let mut swin = SwinConfig::swin_tiny(100).init(&device);
/// load_pytorch(&mut swin, "model.safetensors", &options).unwrap();
/// ```
///
/// # Errors
/// [`ImportError::UnknownFormat`], [`ImportError::Read`], [`ImportError::KeyMismatch`]
/// (strict) and [`ImportError::Incompatible`] (a tensor of the wrong shape, named).
pub fn load_pytorch<M: Module + ModuleSnapshot + PytorchLayout>(
    model: &mut M,
    path: impl AsRef<Path>,
    options: &ImportOptions,
) -> Result<ImportReport, ImportError> {
    let path = path.as_ref().to_path_buf();
    let read = |reason: String| ImportError::Read {
        path: path.clone(),
        reason,
    };
    let keeps_classifier: fn(&str, &str) -> bool =
        |path, _container| !path.starts_with(M::CLASSIFIER_PREFIX);
    let extension = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase);
    let result = match extension.as_deref() {
        Some("pth" | "pt") => {
            let mut store = PytorchStore::from_file(&path)
                .map_indices_contiguous(false)
                .allow_partial(true)
                .validate(false);
            for (from, to) in M::KEY_REMAPPING {
                store = store.with_key_remapping(*from, *to);
            }
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
                .map_indices_contiguous(false)
                .allow_partial(true)
                .validate(false);
            for (from, to) in M::KEY_REMAPPING {
                store = store.with_key_remapping(*from, *to);
            }
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
            errors: result.errors.iter().map(ToString::to_string).collect(),
        });
    }
    let is_head = |k: &str| options.replace_classifier && k.starts_with(M::CLASSIFIER_PREFIX);
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
        .filter(|k| !is_ignored_buffer::<M>(k) && !is_head(k))
        .cloned()
        .collect();
    let strict_missing: Vec<String> = missing.iter().filter(|k| !is_head(k)).cloned().collect();
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
