//! `cargo xtask doc` and `cargo xtask package`: what a release of the library crates needs,
//! as CI checks it.
//!
//! * `doc` builds the workspace's documentation with every rustdoc warning an error
//!   (broken intra-doc links, and the library crates' `#![warn(missing_docs)]`: every
//!   public item documented).
//! * `package` runs `cargo package` on the library crates, in dependency order
//!   ([`LIBRARY_CRATES`]). Cargo packages them together: each crate is verified (built
//!   from its `.crate` file alone) against the packages of the crates before it, through a
//!   local registry overlay, so nothing needs to be on crates.io first. `--no-verify`
//!   only packs (it checks the manifests, the files and the path dependencies' versions,
//!   but builds nothing).

use anyhow::Result;

use crate::{cargo, run};

/// The crates published to crates.io, each after the crates it depends on. The others
/// (`mixaug-runner`, `mixaug-backend-tests`, the benches, the examples and xtask) are
/// `publish = false`.
pub const LIBRARY_CRATES: [&str; 6] = [
    "mixaug-maps",
    "mixaug-masks",
    "mixaug-loss",
    "mixaug-models",
    "mixaug-data",
    "mixaug-learner",
];

/// `cargo doc --workspace --no-deps` with `RUSTDOCFLAGS=-D warnings`.
pub fn doc() -> Result<()> {
    let mut cmd = cargo();
    cmd.args(["doc", "--workspace", "--no-deps"])
        .env("RUSTDOCFLAGS", "-D warnings");
    run(&mut cmd)
}

/// `cargo package` of [`LIBRARY_CRATES`]; `verify` builds each package as crates.io would,
/// `allow_dirty` packs uncommitted changes.
pub fn package(verify: bool, allow_dirty: bool) -> Result<()> {
    let mut cmd = cargo();
    // Verification builds each package as its own workspace, without ours and its
    // profiles: without debug information, as our dev profile, its burn builds take less
    // than half the disk (seen here: burn-nn's rlib 12.7 MB without, 27 MB with).
    cmd.arg("package").env("CARGO_PROFILE_DEV_DEBUG", "false");
    for name in LIBRARY_CRATES {
        cmd.args(["--package", name]);
    }
    if !verify {
        cmd.arg("--no-verify");
    }
    if allow_dirty {
        cmd.arg("--allow-dirty");
    }
    run(&mut cmd)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;

    /// Each crate under `crates/`: its name, whether it is published, and the workspace
    /// crates it depends on (normal dependencies: what a published package needs).
    fn workspace_crates() -> Vec<(String, bool, Vec<String>)> {
        let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("../crates");
        let mut found = Vec::new();
        for entry in std::fs::read_dir(crates).unwrap() {
            let manifest = entry.unwrap().path().join("Cargo.toml");
            let text = std::fs::read_to_string(&manifest).unwrap();
            let value: toml::Table = toml::from_str(&text).unwrap();
            let package = value["package"].as_table().unwrap();
            let name = package["name"].as_str().unwrap().to_string();
            let published = package.get("publish").and_then(|p| p.as_bool()) != Some(false);
            let deps = value
                .get("dependencies")
                .and_then(|d| d.as_table())
                .map(|d| {
                    d.keys()
                        .filter(|k| k.starts_with("mixaug-"))
                        .cloned()
                        .collect()
                })
                .unwrap_or_default();
            found.push((name, published, deps));
        }
        found
    }

    #[test]
    fn the_library_crates_are_every_published_crate_in_dependency_order() {
        let crates = workspace_crates();
        let mut published: Vec<&str> = crates
            .iter()
            .filter(|(_, p, _)| *p)
            .map(|(n, _, _)| n.as_str())
            .collect();
        published.sort_unstable();
        let mut listed = LIBRARY_CRATES.to_vec();
        listed.sort_unstable();
        assert_eq!(published, listed);
        for (name, _, deps) in crates.iter().filter(|(_, p, _)| *p) {
            let at = LIBRARY_CRATES.iter().position(|c| c == name).unwrap();
            for dep in deps {
                let dep_at = LIBRARY_CRATES.iter().position(|c| c == dep);
                assert!(
                    dep_at.is_some_and(|d| d < at),
                    "{name} depends on {dep}, which must be published before it"
                );
            }
        }
    }

    #[test]
    fn every_workspace_path_dependency_on_a_library_crate_has_a_version() {
        // `cargo package` rejects a path dependency without a version.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.toml");
        let value: toml::Table = toml::from_str(&std::fs::read_to_string(root).unwrap()).unwrap();
        let deps = value["workspace"]["dependencies"].as_table().unwrap();
        for name in LIBRARY_CRATES {
            let dep = deps[name].as_table().unwrap();
            assert_eq!(
                dep.get("version").and_then(|v| v.as_str()),
                Some(concat!("=", env!("CARGO_PKG_VERSION"))),
                "{name}: the workspace's version, pinned"
            );
        }
    }
}
