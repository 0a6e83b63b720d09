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
//! `gamma`/`beta`); [`ImportError::Mismatch`] undoes both (and the layout's remapping), so
//! that its keys and shapes are those of the file.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use burn::module::Module;
use burn::store::{
    ApplyError, ApplyResult, BurnToPyTorchAdapter, KeyRemapper, ModuleSnapshot, ModuleStore,
    PyTorchToBurnAdapter, PytorchStore, SafetensorsStore,
};
use burn::tensor::DType;
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
    /// The checkpoint does not fit the model: every problem at once, named by the
    /// checkpoint's own keys (PyTorch's `norm.weight`, not burn's `norm.gamma`; the layout's
    /// [`KEY_REMAPPING`](PytorchLayout::KEY_REMAPPING) undone) with shapes in its own layout
    /// (a linear weight `(out, in)`). Missing and unexpected keys are errors only when
    /// loading strictly (else they are empty here and in the [`ImportReport`]); a tensor that
    /// does not fit its parameter always is.
    #[error(
        "checkpoint {path} does not fit the model (keys and shapes as the checkpoint writes \
         them):{}",
        MismatchLines { missing, unexpected, incompatible }
    )]
    Mismatch {
        /// The checkpoint.
        path: PathBuf,
        /// Checkpoint keys the model needs and the checkpoint lacks (strict loading only).
        missing: Vec<String>,
        /// Checkpoint keys the model has no parameter for (strict loading only).
        unexpected: Vec<String>,
        /// Checkpoint tensors that do not fit their parameter.
        incompatible: Vec<IncompatibleTensor>,
    },
}

/// A checkpoint tensor that does not fit the model's parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncompatibleTensor {
    /// The checkpoint's key (PyTorch's name).
    pub key: String,
    /// What does not fit.
    pub problem: TensorProblem,
}

impl fmt::Display for IncompatibleTensor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.key, self.problem)
    }
}

/// Why a checkpoint tensor does not fit its parameter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TensorProblem {
    /// Another shape. Both shapes are in the checkpoint's layout: a linear weight is
    /// PyTorch's `[out, in]` (burn stores it `[in, out]`).
    Shape {
        /// The parameter's shape, in the checkpoint's layout.
        expected: Vec<usize>,
        /// The checkpoint tensor's shape, as the file writes it.
        found: Vec<usize>,
    },
    /// An element type of another kind (integers for a float parameter, …).
    DType {
        /// What the parameter takes.
        expected: DType,
        /// What the checkpoint holds.
        found: DType,
    },
    /// The tensor could not be read or converted.
    Unreadable {
        /// burn-store's message.
        reason: String,
    },
}

impl fmt::Display for TensorProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Shape { expected, found } => write!(
                f,
                "shape {} in the checkpoint, the model expects {}",
                PyShape(found),
                PyShape(expected)
            ),
            Self::DType { expected, found } => write!(
                f,
                "element type {found:?} in the checkpoint, the model expects {expected:?}"
            ),
            Self::Unreadable { reason } => write!(f, "cannot be read: {reason}"),
        }
    }
}

/// A shape as Python writes a tuple: `(1536, 384)`, `(10,)`, `()`.
struct PyShape<'a>(&'a [usize]);

impl fmt::Display for PyShape<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            [one] => write!(f, "({one},)"),
            dims => {
                let dims: Vec<String> = dims.iter().map(ToString::to_string).collect();
                write!(f, "({})", dims.join(", "))
            }
        }
    }
}

/// The body of [`ImportError::Mismatch`]'s message: one line per kind of problem found.
struct MismatchLines<'a> {
    missing: &'a [String],
    unexpected: &'a [String],
    incompatible: &'a [IncompatibleTensor],
}

impl fmt::Display for MismatchLines<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if !self.missing.is_empty() {
            let n = self.missing.len();
            write!(
                f,
                "\n  missing from the checkpoint ({n}): {}",
                self.missing.join(", ")
            )?;
        }
        if !self.unexpected.is_empty() {
            let n = self.unexpected.len();
            write!(
                f,
                "\n  not in the model ({n}): {}",
                self.unexpected.join(", ")
            )?;
        }
        if !self.incompatible.is_empty() {
            write!(
                f,
                "\n  not fitting the model ({}):",
                self.incompatible.len()
            )?;
            for tensor in self.incompatible {
                write!(f, "\n    {tensor}")?;
            }
        }
        if !self.missing.is_empty() || !self.unexpected.is_empty() {
            write!(
                f,
                "\n(set `strict = false` to load what matches, or `replace_classifier` to start a \
                 new head)"
            )
        } else {
            write!(f, "\n(set `replace_classifier` to start a new head)")
        }
    }
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
    /// The inverse of [`KEY_REMAPPING`](Self::KEY_REMAPPING), `(regex, replacement)` from
    /// burn's module paths back to checkpoint keys: how [`ImportError::Mismatch`] names the
    /// keys (a missing key has no checkpoint name to look up). No default, so that a layout
    /// that remaps keys says how to name them back (a test round-trips every layout).
    const INVERSE_KEY_REMAPPING: &'static [(&'static str, &'static str)];
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
/// [`ImportError::UnknownFormat`], [`ImportError::Read`] and [`ImportError::Mismatch`]: every
/// missing and unexpected key (strict) and every tensor that does not fit (always), in one
/// error. On an error the model is left partly loaded.
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
    // burn-store's PyTorch reader leaves enum variants out of module paths, its safetensors
    // reader keeps them (their defaults); the error's names follow the reader.
    let (loaded, skip_enum_variants) = match extension.as_deref() {
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
            let loaded = load_from_store(model, &mut store).map_err(|e| read(e.to_string()))?;
            (loaded, true)
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
            let loaded = load_from_store(model, &mut store).map_err(|e| read(e.to_string()))?;
            (loaded, false)
        }
        _ => return Err(ImportError::UnknownFormat { path }),
    };
    let (result, checkpoint_shapes) = loaded;
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
    let key_mismatch = options.strict && (!strict_missing.is_empty() || !unused.is_empty());
    if key_mismatch || !result.errors.is_empty() {
        let names = CheckpointNames::new::<M>(model, skip_enum_variants);
        let (missing, unexpected) = if options.strict {
            let mut missing: Vec<String> = strict_missing
                .iter()
                .map(|p| names.of_parameter(p))
                .collect();
            missing.sort();
            let unexpected = unused.iter().map(|k| names.of_key(k)).collect();
            (missing, unexpected)
        } else {
            (Vec::new(), Vec::new())
        };
        let incompatible = result
            .errors
            .iter()
            .map(|e| names.incompatible(e, &checkpoint_shapes))
            .collect();
        return Err(ImportError::Mismatch {
            path,
            missing,
            unexpected,
            incompatible,
        });
    }
    Ok(ImportReport {
        loaded: result.applied.len(),
        missing,
        unused,
    })
}

/// The shapes of a checkpoint's tensors as the file writes them, by key (after the layout's
/// remapping).
type CheckpointShapes = HashMap<String, Vec<usize>>;

/// Loads `store` into `model`. When some tensor did not fit, also the checkpoint's tensor
/// shapes as the file writes them (keys after the layout's remapping), for the error; only
/// the file's metadata is read for them.
fn load_from_store<M: ModuleSnapshot, S: ModuleStore>(
    model: &mut M,
    store: &mut S,
) -> Result<(ApplyResult, CheckpointShapes), S::Error> {
    let result = model.load_from(store)?;
    let shapes = if result.errors.is_empty() {
        HashMap::new()
    } else {
        store
            .get_all_tensors()?
            .iter()
            .map(|(key, tensor)| (key.clone(), tensor.shape.to_vec()))
            .collect()
    };
    Ok((result, shapes))
}

/// How the checkpoint names the model's parameters, for [`ImportError::Mismatch`]: burn's
/// module path → the PyTorch name and shape (burn-store's [`BurnToPyTorchAdapter`]: norms'
/// `gamma`/`beta` are `weight`/`bias`, linear weights `[out, in]`), then the layout's
/// [`INVERSE_KEY_REMAPPING`](PytorchLayout::INVERSE_KEY_REMAPPING) back to the file's keys.
struct CheckpointNames {
    /// burn's path → (PyTorch path before the inverse remapping, PyTorch-layout shape).
    parameters: HashMap<String, (String, Vec<usize>)>,
    /// The inverse remapping.
    remapper: KeyRemapper,
}

impl CheckpointNames {
    /// Only on the error path: collecting creates the parameters that were not loaded.
    fn new<M: ModuleSnapshot + PytorchLayout>(model: &M, skip_enum_variants: bool) -> Self {
        let burn = model.collect(None, None, skip_enum_variants);
        let pytorch = model.collect(
            None,
            Some(Box::new(BurnToPyTorchAdapter)),
            skip_enum_variants,
        );
        let parameters = burn
            .into_iter()
            .zip(pytorch)
            .map(|(b, p)| (b.name, (p.name, p.shape.to_vec())))
            .collect();
        // The patterns are constants of the layout; should one not compile, the keys are
        // reported as remapped rather than not at all.
        let remapper = KeyRemapper::from_patterns(M::INVERSE_KEY_REMAPPING.to_vec())
            .unwrap_or_else(|_| KeyRemapper::new());
        Self {
            parameters,
            remapper,
        }
    }

    /// A key of the remapped checkpoint, as the file writes it.
    fn of_key(&self, key: &str) -> String {
        let mut key = key.to_string();
        for (pattern, replacement) in self.remapper.to_regex_pairs() {
            if pattern.is_match(&key) {
                key = pattern.replace_all(&key, replacement.as_str()).into_owned();
            }
        }
        key
    }

    /// The PyTorch name of a parameter (burn's path), before the inverse remapping.
    fn pytorch_path<'a>(&'a self, parameter: &'a str) -> &'a str {
        self.parameters
            .get(parameter)
            .map_or(parameter, |(name, _)| name.as_str())
    }

    /// The checkpoint key of a parameter (burn's path).
    fn of_parameter(&self, parameter: &str) -> String {
        self.of_key(self.pytorch_path(parameter))
    }

    /// One of burn-store's errors in the checkpoint's names and layout. `shapes` are the
    /// checkpoint's, by remapped key: the applier looks a tensor up under burn's path first,
    /// then under PyTorch's name.
    fn incompatible(&self, error: &ApplyError, shapes: &CheckpointShapes) -> IncompatibleTensor {
        let (ApplyError::ShapeMismatch { path, .. }
        | ApplyError::DTypeMismatch { path, .. }
        | ApplyError::AdapterError { path, .. }
        | ApplyError::LoadError { path, .. }) = error;
        let source = if shapes.contains_key(path.as_str()) {
            path.as_str()
        } else {
            self.pytorch_path(path)
        };
        let problem = match error {
            ApplyError::ShapeMismatch {
                expected, found, ..
            } => TensorProblem::Shape {
                expected: self
                    .parameters
                    .get(path.as_str())
                    .map_or_else(|| expected.to_vec(), |(_, shape)| shape.clone()),
                found: shapes
                    .get(source)
                    .cloned()
                    .unwrap_or_else(|| found.to_vec()),
            },
            ApplyError::DTypeMismatch {
                expected, found, ..
            } => TensorProblem::DType {
                expected: *expected,
                found: *found,
            },
            ApplyError::AdapterError { message, .. } | ApplyError::LoadError { message, .. } => {
                TensorProblem::Unreadable {
                    reason: message.clone(),
                }
            }
        };
        IncompatibleTensor {
            key: self.of_key(source),
            problem,
        }
    }
}
