//! # mixaug-models
//!
//! The networks the mixing papers train, written with burn's `Config` + `init` + `Module`
//! idiom and usable on any device. Implemented: [`ResNet`] — ResNet-18/34/50/101 and
//! ResNeXt-50 32×4d — with the ImageNet stem (7×7 stride-2 convolution + max-pool) or the
//! CIFAR stem (3×3 stride-1, no max-pool), optional zero-init of the last BatchNorm of each
//! residual branch, module paths shaped like torchvision's state-dict keys
//! (`layer1.0.conv1.weight`, `fc.weight`, …), and SUMix's [`PooledClassifier`] split.
//! [`PreActNet`] covers PreAct-ResNet-18 and WideResNet-28-k (with dropout).
//! [`Deit`] is DeiT-Small (and smaller ViTs for tests) in timm's module layout, with the
//! class token as pooled feature and the last block's class-token attention; [`Swin`] is
//! Swin-Tiny (shifted windows, relative position bias, patch merging) in the same layout.
//! [`load_pytorch`] loads PyTorch checkpoints (`.pth`/`.pt`/`.safetensors`) of
//! torchvision's ResNets and timm's DeiT and Swin into a [`ResNet`], [`Deit`] or [`Swin`],
//! strictly by default, optionally with a new classifier. Both transformers take timm's
//! `drop_path_rate` (stochastic depth).
//! [`ModelSpec`] names a network as configuration files do (one table of names,
//! [`ARCHITECTURES`]) and builds it as a [`Classifier`], any family behind one type.
//!
//! A family is its own file: the network, its configuration and one [`ClassifierFamily`]
//! implementation (its names, the [`ModelSpec`] options it takes, its classifier, its
//! optional capabilities). The `families!` list below turns the families into [`Family`],
//! [`ArchConfig`], [`Classifier`] and [`ARCHITECTURES`]; adding a family is its file plus
//! its `mod` line and its line of that list.
//!
//! ```
//! use burn::prelude::*;
//! use mixaug_models::{ResNetConfig, Stem};
//! let device = Device::flex();
//! let model = ResNetConfig::resnet18(10).with_stem(Stem::Cifar).init(&device);
//! let logits = model.forward(Tensor::<4>::zeros([2, 3, 16, 12], &device));
//! assert_eq!(logits.dims(), [2, 10]);
//! ```
//!
//! [`PooledClassifier`]: mixaug_loss::PooledClassifier
//! [`CamModel`]: mixaug_maps::CamModel

#![warn(missing_docs)]

/// The README's example, run as a doctest (`cargo test --doc`).
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

#[macro_use]
mod family;
mod deit;
mod drop_path;
mod import;
mod input;
mod preact;
mod resnet;
mod spec;
mod swin;

// The families (see `family.rs`): each line re-exports the module's items and adds the
// family to `Family`, `ArchConfig`, `Classifier` and `ARCHITECTURES`.
families! {
    ResNet = resnet::ResNet(ResNetConfig),
    PreAct = preact::PreActNet(PreActNetConfig),
    Deit = deit::Deit(DeitConfig),
    Swin = swin::Swin(SwinConfig),
}

pub use drop_path::DropPath;
pub use family::ClassifierFamily;
pub use import::{
    ImportError, ImportOptions, ImportReport, IncompatibleTensor, PytorchLayout, TensorProblem,
    load_pytorch,
};
pub use input::ImageShapeError;
pub use spec::{Architecture, ModelError, ModelSpec, SpecOption, architecture_names};
