//! # mixaug-models
//!
//! The networks the mixing papers train, written with burn's `Config` + `init` + `Module`
//! idiom and usable on any device: ResNet-18/34/50/101, ResNeXt-50 32×4d,
//! PreAct-ResNet-18 and WideResNet-28-{8,10}, with CIFAR and ImageNet stems and import of
//! torchvision checkpoints.
//!
//! Not implemented yet; the crate exists so the workspace's layering is in place.
