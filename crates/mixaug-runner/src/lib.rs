//! # mixaug-runner
//!
//! The `mixaug` command line and the pieces it is made of: the gallery of mixing methods
//! (`mixaug gallery`), saliency maps (`mixaug saliency`), class activation maps of a
//! trained ResNet (`mixaug cam`), experiments ([`experiment`], [`train`], [`network`]:
//! `mixaug train`, resumable, on one or several devices) and reproduction ([`tables`]: the
//! quick table and the papers' tables of `configs/tables/`, their reports, [`claims`] and
//! [`plots`], and smoke runs) behind `cargo xtask reproduce`.
//!
//! Backends are cargo features of this crate (`flex` by default; `ndarray`, `wgpu`,
//! `vulkan`, `metal`, `tch`, `cuda`), and [`device::parse_device`] turns a `--device` name
//! into a burn `Device`, with an error naming the feature when a backend is missing.

pub mod cam;
pub mod claims;
pub mod clip;
pub mod device;
pub mod experiment;
pub mod files;
pub mod gallery;
pub mod network;
pub mod plots;
pub mod render;
pub mod saliency;
pub mod tables;
pub mod train;
