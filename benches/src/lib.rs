//! Criterion benches of mixaug (`cargo bench -p mixaug-benches`, or `cargo xtask bench`).
//!
//! Backends are features of this crate (`flex` by default). Each bench prints, after
//! criterion's own report, a table of ratios against a reference measured in the same
//! run (e.g. a mixer against a plain device copy of the same batch).

use std::path::PathBuf;

use burn::prelude::Device;

/// The device of this bench build: flex if compiled in, else tch, else wgpu (the backend
/// features of this crate); with `autodiff`, its training wrapper.
pub fn bench_device(autodiff: bool) -> Device {
    #[cfg(feature = "flex")]
    let device = Device::flex();
    #[cfg(all(not(feature = "flex"), feature = "tch"))]
    #[allow(deprecated)]
    let device = Device::libtorch();
    #[cfg(all(not(feature = "flex"), not(feature = "tch"), feature = "wgpu"))]
    let device = Device::wgpu(burn::tensor::DeviceKind::DefaultDevice);
    #[cfg(not(any(feature = "flex", feature = "tch", feature = "wgpu")))]
    compile_error!("enable one of the features flex, tch or wgpu for the benches");
    if autodiff { device.autodiff() } else { device }
}

/// Where criterion writes its results for these benches.
pub fn criterion_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("criterion")
}

/// The median time (ns) criterion recorded in this run for benchmark `id` of `group`
/// (group names with `/` are stored with `_`, as criterion does).
pub fn median_ns(group: &str, id: &str) -> Option<f64> {
    let path = criterion_dir()
        .join(group.replace('/', "_"))
        .join(id)
        .join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    json["median"]["point_estimate"].as_f64()
}
