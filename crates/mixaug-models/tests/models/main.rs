//! The integration tests of mixaug-models, one test binary (each binary links burn, so one
//! per crate keeps the build small).

mod deit;
mod drop_path;
mod import;
mod preact;
mod resnet;
mod spec;
mod swin;
mod timm_import;
