//! Criterion benches of mixaug (`cargo bench -p mixaug-benches`, or `cargo xtask bench`).
//!
//! Backends are features of this crate (`flex` by default). Each bench prints, after
//! criterion's own report, a table of ratios against a reference measured in the same
//! run (e.g. a mixer against a plain device copy of the same batch).

use std::path::PathBuf;

use burn::prelude::Device;

/// The device of the benches: `$MIXAUG_BENCH_DEVICE` (a `mixaug --device` name such as
/// `flex`, `tch`, `wgpu` or `cuda:0`, compiled in with the feature of the same name), else
/// the first compiled in of flex, tch, cuda, wgpu; with `autodiff`, its training wrapper.
///
/// # Panics
/// When `$MIXAUG_BENCH_DEVICE` names a backend this build lacks (the message says which
/// feature to enable): a bench has no one to return an error to.
pub fn bench_device(autodiff: bool) -> Device {
    let name = std::env::var("MIXAUG_BENCH_DEVICE").unwrap_or_else(|_| {
        let compiled = [
            (cfg!(feature = "flex"), "flex"),
            (cfg!(feature = "tch"), "tch"),
            (cfg!(feature = "cuda"), "cuda"),
            (cfg!(feature = "wgpu"), "wgpu"),
        ];
        let first = compiled.iter().find(|(on, _)| *on).map(|(_, name)| *name);
        first
            .expect("enable one of the features flex, tch, cuda or wgpu for the benches")
            .to_string()
    });
    let device = mixaug_runner::device::parse_device(&name)
        .unwrap_or_else(|e| panic!("MIXAUG_BENCH_DEVICE={name}: {e:#}"));
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
