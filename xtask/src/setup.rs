//! `cargo xtask setup cuda`: what an offline build of burn's `cuda` backend needs.
//!
//! The only network access in burn 0.22.1's `cuda` build is the build script of
//! `tracel-llvm-bundler` (pulled by `cubecl-cuda → cubecl-llvm`), which downloads an LLVM
//! bundle into `${XDG_DATA_HOME:-$HOME/.local/share}/tracel/tracel-llvm-VERSION` unless
//! that folder holds the file `.tracel-llvm-installed`; everything after that asks the
//! folder's `bin/llvm-config`. Debian's `llvm-22-dev` has the static libraries it needs
//! (NVPTX included), so the set-up installs it (with `libzstd-dev`, needed by the link),
//! writes the marker and a stand-in `llvm-config` that forwards to Debian's, turning the
//! absolute `lib*.so` paths it prints into `-l` flags and dropping Polly (not in
//! `llvm-22-dev`). It is idempotent, and it leaves an upstream bundle alone. With network
//! access the upstream download works and this is optional.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::data::{Host, Install, apt_install};

/// The Debian packages an offline `cuda` build needs.
const PACKAGES: &[&str] = &["llvm-22-dev", "libzstd-dev"];
/// Debian's `llvm-config` of `llvm-22-dev`.
pub const DEBIAN_LLVM_CONFIG: &str = "/usr/lib/llvm-22/bin/llvm-config";
/// The first line after the shebang of the stand-in: how the set-up recognises its own file.
const STAND_IN_TAG: &str = "# mixaug stand-in for tracel's LLVM bundle (cargo xtask setup cuda)";
/// The file whose presence tells `tracel-llvm-bundler` not to download.
const MARKER: &str = ".tracel-llvm-installed";

/// The stand-in `llvm-config`: forwards to `real`, prints `-lNAME` for every absolute
/// `…/libNAME.so` and drops `-lPolly`/`-lPollyISL`.
pub fn stand_in_script(real: &Path) -> String {
    format!(
        "#!/bin/sh\n{STAND_IN_TAG}\nout=$('{real}' \"$@\") || exit $?\n\
         printf '%s\\n' \"$out\" | sed -E \
         's#(^| )/[^ ]*/lib([A-Za-z0-9_+-]+)\\.so#\\1-l\\2#g; \
         s#(^| )-lPolly(ISL)?( |$)#\\1#g; s#(^| )-lPolly(ISL)?( |$)#\\1#g'\n",
        real = real.display()
    )
}

/// The version of `tracel-llvm-bundler` in `Cargo.lock` (it names the bundle's folder).
pub fn locked_bundler_version(lock: &str) -> Option<String> {
    let mut lines = lock.lines();
    while let Some(line) = lines.next() {
        if line.trim() == "name = \"tracel-llvm-bundler\"" {
            let version = lines.next()?.trim().strip_prefix("version = \"")?;
            return Some(version.strip_suffix('"')?.to_string());
        }
    }
    None
}

/// Where `tracel-llvm-bundler` looks for its bundle (`dirs::data_local_dir` on Linux:
/// `$XDG_DATA_HOME`, else `$HOME/.local/share`).
pub fn bundle_dir(
    xdg_data_home: Option<PathBuf>,
    home: Option<PathBuf>,
    version: &str,
) -> Option<PathBuf> {
    let base = xdg_data_home
        .filter(|p| p.is_absolute())
        .or_else(|| home.map(|h| h.join(".local/share")))?;
    Some(base.join("tracel").join(format!("tracel-llvm-{version}")))
}

/// What the bundle folder holds.
#[derive(Debug, PartialEq, Eq)]
pub enum Bundle {
    /// No marker: the build would download.
    Missing,
    /// The marker and this set-up's stand-in, `current` when it forwards to the wanted
    /// `llvm-config`.
    StandIn { current: bool },
    /// The marker and an `llvm-config` that is not ours: the upstream download.
    Upstream,
}

impl Bundle {
    /// Reads the folder `dir`, comparing a stand-in with the one for `real`.
    pub fn read(dir: &Path, real: &Path) -> Self {
        if !dir.join(MARKER).exists() {
            return Bundle::Missing;
        }
        match std::fs::read_to_string(dir.join("bin/llvm-config")) {
            Ok(text) if text.contains(STAND_IN_TAG) => Bundle::StandIn {
                current: text == stand_in_script(real),
            },
            Ok(_) => Bundle::Upstream,
            // A marker without an llvm-config: a broken folder, rewritten as missing.
            Err(_) => Bundle::Missing,
        }
    }
}

/// Writes the stand-in and the marker into `dir` (the marker last, so that an interrupted
/// set-up leaves no marker).
pub fn write_stand_in(dir: &Path, real: &Path) -> Result<()> {
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).with_context(|| format!("cannot create {}", bin.display()))?;
    let script = bin.join("llvm-config");
    std::fs::write(&script, stand_in_script(real))
        .with_context(|| format!("cannot write {}", script.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755))
            .with_context(|| format!("cannot make {} executable", script.display()))?;
    }
    std::fs::write(
        dir.join(MARKER),
        "mixaug: Debian's llvm-22-dev through bin/llvm-config\n",
    )
    .with_context(|| format!("cannot write the marker in {}", dir.display()))
}

/// Whether Debian's package `name` is installed.
fn installed(name: &str) -> bool {
    Command::new("dpkg-query")
        .args(["-W", "-f=${Status}", name])
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("install ok installed"))
}

/// Installs whichever of [`PACKAGES`] is missing (as root or through `sudo -n`).
fn ensure_packages() -> Result<()> {
    let missing: Vec<&str> = PACKAGES.iter().copied().filter(|p| !installed(p)).collect();
    if missing.is_empty() {
        eprintln!(
            "setup cuda: Debian packages {} already installed",
            PACKAGES.join(", ")
        );
        return Ok(());
    }
    let host = Host::detect();
    if !host.apt {
        bail!(
            "setup cuda: {} are missing and this is not a Debian/Ubuntu system (no apt-get): \
             install LLVM 22 with its static libraries and pass its llvm-config with \
             --llvm-config PATH",
            missing.join(", ")
        );
    }
    let install = host.install();
    if install == Install::Denied {
        bail!(
            "setup cuda: {} are missing and cannot be installed (not root, and sudo asks for a \
             password): run `sudo apt-get install -y {}`, then this again",
            missing.join(", "),
            missing.join(" ")
        );
    }
    eprintln!(
        "setup cuda: installing {} with apt-get…",
        missing.join(", ")
    );
    apt_install(&missing, install)
}

/// This machine's bundle folder for the locked `tracel-llvm-bundler`.
fn this_bundle_dir() -> Result<PathBuf> {
    let lock = std::fs::read_to_string("Cargo.lock").context("cannot read Cargo.lock")?;
    let version = locked_bundler_version(&lock)
        .context("Cargo.lock has no tracel-llvm-bundler: the cuda backend is not in the graph")?;
    bundle_dir(
        std::env::var_os("XDG_DATA_HOME").map(PathBuf::from),
        std::env::var_os("HOME").map(PathBuf::from),
        &version,
    )
    .context("neither XDG_DATA_HOME nor HOME is set: cannot tell where the LLVM bundle goes")
}

/// Before a `cuda` build: says so when the build will try to download LLVM (no bundle,
/// no stand-in), which fails without network.
pub fn warn_when_cuda_would_download() {
    if let Ok(dir) = this_bundle_dir()
        && !dir.join(MARKER).exists()
    {
        eprintln!(
            "xtask: no LLVM bundle in {}: the cuda build will download it (network needed); \
             offline, run `cargo xtask setup cuda` first",
            dir.display()
        );
    }
}

/// `cargo xtask setup cuda [--llvm-config PATH]`.
pub fn cuda(llvm_config: Option<PathBuf>) -> Result<()> {
    let dir = this_bundle_dir()?;
    let real = match llvm_config {
        Some(path) => path,
        None => {
            ensure_packages()?;
            PathBuf::from(DEBIAN_LLVM_CONFIG)
        }
    };
    if !real.exists() {
        bail!("setup cuda: {} does not exist", real.display());
    }
    match Bundle::read(&dir, &real) {
        Bundle::Upstream => {
            eprintln!(
                "setup cuda: {} holds the upstream LLVM bundle; left as it is",
                dir.display()
            );
            return Ok(());
        }
        Bundle::StandIn { current: true } => {
            eprintln!(
                "setup cuda: the stand-in in {} is already set up",
                dir.display()
            );
        }
        Bundle::StandIn { current: false } | Bundle::Missing => {
            write_stand_in(&dir, &real)?;
            eprintln!(
                "setup cuda: wrote {}/bin/llvm-config (forwarding to {}) and the marker {MARKER}",
                dir.display(),
                real.display()
            );
        }
    }
    let probe = Command::new(dir.join("bin/llvm-config"))
        .args(["--link-static", "--libs", "nvptx"])
        .output()
        .context("cannot run the stand-in llvm-config")?;
    let libs = String::from_utf8_lossy(&probe.stdout);
    if !probe.status.success() || !libs.contains("-lLLVMNVPTXCodeGen") {
        bail!(
            "setup cuda: `llvm-config --link-static --libs nvptx` did not list LLVM's static \
             NVPTX libraries ({}): is {} LLVM 22 with its static libraries?",
            String::from_utf8_lossy(&probe.stderr).trim(),
            real.display()
        );
    }
    eprintln!(
        "setup cuda: ready — `cargo xtask test --backend cuda` or `cargo build --features cuda` \
         now build offline (CUDARC_CUDA_VERSION defaults to 13000 in .cargo/config.toml; set \
         it to your driver's CUDA version, e.g. 12080)"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundle_version_comes_from_the_lock_file() {
        let lock = "[[package]]\nname = \"tracel-llvm\"\nversion = \"1\"\n\n\
                    [[package]]\nname = \"tracel-llvm-bundler\"\nversion = \"23.1.0-4\"\n";
        assert_eq!(locked_bundler_version(lock).as_deref(), Some("23.1.0-4"));
        assert_eq!(locked_bundler_version("[[package]]\nname = \"x\"\n"), None);
    }

    #[test]
    fn the_bundle_lives_where_dirs_data_local_dir_points() {
        let home = Some(PathBuf::from("/home/u"));
        assert_eq!(
            bundle_dir(None, home.clone(), "23.1.0-4"),
            Some(PathBuf::from(
                "/home/u/.local/share/tracel/tracel-llvm-23.1.0-4"
            ))
        );
        assert_eq!(
            bundle_dir(Some("/x".into()), home.clone(), "1"),
            Some(PathBuf::from("/x/tracel/tracel-llvm-1"))
        );
        // A relative XDG_DATA_HOME is invalid (XDG spec) and ignored, as dirs does.
        assert_eq!(
            bundle_dir(Some("rel".into()), home, "1"),
            Some(PathBuf::from("/home/u/.local/share/tracel/tracel-llvm-1"))
        );
        assert_eq!(bundle_dir(None, None, "1"), None);
    }

    /// A fake `llvm-config` printing what Debian's prints for `--libs`-like queries.
    fn fake_llvm_config(dir: &Path, output: &str) -> PathBuf {
        let path = dir.join("real-llvm-config");
        std::fs::write(&path, format!("#!/bin/sh\necho '{output}'\n")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        path
    }

    #[test]
    fn the_stand_in_turns_library_paths_into_flags_and_drops_polly() {
        let tmp = tempfile::tempdir().unwrap();
        let real = fake_llvm_config(
            tmp.path(),
            "/usr/lib/x86_64-linux-gnu/libz3.so -lPolly -lPollyISL -lLLVMNVPTXCodeGen -lz",
        );
        let bundle = tmp.path().join("tracel-llvm-1");
        write_stand_in(&bundle, &real).unwrap();
        let out = Command::new(bundle.join("bin/llvm-config"))
            .arg("--libs")
            .output()
            .unwrap();
        assert!(out.status.success());
        assert_eq!(
            String::from_utf8_lossy(&out.stdout)
                .split_whitespace()
                .collect::<Vec<_>>(),
            ["-lz3", "-lLLVMNVPTXCodeGen", "-lz"]
        );
    }

    #[test]
    fn the_set_up_recognises_its_own_stand_in_and_leaves_upstream_alone() {
        let tmp = tempfile::tempdir().unwrap();
        let real = fake_llvm_config(tmp.path(), "-lz");
        let other = tmp.path().join("another-llvm-config");
        let dir = tmp.path().join("bundle");
        assert_eq!(Bundle::read(&dir, &real), Bundle::Missing);
        write_stand_in(&dir, &real).unwrap();
        assert_eq!(Bundle::read(&dir, &real), Bundle::StandIn { current: true });
        assert_eq!(
            Bundle::read(&dir, &other),
            Bundle::StandIn { current: false }
        );
        std::fs::write(dir.join("bin/llvm-config"), "ELF binary of the bundle").unwrap();
        assert_eq!(Bundle::read(&dir, &real), Bundle::Upstream);
        std::fs::remove_file(dir.join(MARKER)).unwrap();
        assert_eq!(Bundle::read(&dir, &real), Bundle::Missing);
    }
}
