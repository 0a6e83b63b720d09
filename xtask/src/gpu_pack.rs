//! `cargo xtask gpu-pack`: builds, on a CPU machine, what `gpu-check/run.sh` runs on a GPU
//! machine, and packs it into one git-ignored folder that travels with the working tree.
//!
//! One release build with `cuda` and `wgpu` (and flex, for the dry run) of the shared
//! suite's test binary (`backends`), the `mixaug` binary and the `models` and `mix_share`
//! benches; stripped, in one `bin.tar.xz` (a large LZMA dictionary, so that the code the
//! four binaries share is stored once). Beside it: Fashion-MNIST as the quick table reads
//! it (the first `train_subset` training images of `configs/tables/quick.toml` and the
//! whole test set: the full training file alone is 25 MiB), the Vulkan loader's libraries
//! (`libvulkan1`, `libegl1`, `libglvnd0`) for wgpu on a machine that may lack them, and
//! `manifest.txt` (commit, date, sizes). The folder must stay under the 64 MiB that
//! travel to the GPU machine; the pack fails when it does not.

use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};
use mixaug_data::DatasetId;

use crate::{cargo, data, run, setup};

/// The most the pack may hold (what travels to the GPU machine with the working tree).
const LIMIT_BYTES: u64 = 64 * 1024 * 1024;
/// The targets packed, as (package, cargo target flag, target name).
const TARGETS: &[(&str, &str, &str)] = &[
    ("mixaug-backend-tests", "--test", "backends"),
    ("mixaug-runner", "--bin", "mixaug"),
    ("mixaug-benches", "--bench", "models"),
    ("mixaug-benches", "--bench", "mix_share"),
];
/// The backends compiled into every packed binary (flex too, by default features).
const FEATURES: &[&str] = &["cuda", "wgpu"];
/// Debian's packages of the Vulkan loader and what it loads.
const VULKAN_PACKAGES: &[&str] = &["libvulkan1", "libegl1", "libglvnd0"];

/// The `cargo build` arguments of the pack's one build.
pub fn build_args() -> Vec<String> {
    let mut args: Vec<String> = [
        "build",
        "--release",
        "--message-format=json-render-diagnostics",
    ]
    .map(String::from)
    .to_vec();
    let mut packages: Vec<&str> = TARGETS.iter().map(|(p, _, _)| *p).collect();
    packages.dedup();
    for package in &packages {
        args.extend(["-p".into(), package.to_string()]);
    }
    for (_, flag, name) in TARGETS {
        args.extend([flag.to_string(), name.to_string()]);
    }
    let features: Vec<String> = packages
        .iter()
        .flat_map(|p| FEATURES.iter().map(move |f| format!("{p}/{f}")))
        .collect();
    args.extend(["--features".into(), features.join(",")]);
    args
}

/// The executable of target `name` in one line of cargo's JSON messages, if it is one.
pub fn executable(line: &str, name: &str) -> Option<PathBuf> {
    let message: serde_json::Value = serde_json::from_str(line).ok()?;
    (message["reason"] == "compiler-artifact" && message["target"]["name"] == name)
        .then(|| message["executable"].as_str().map(PathBuf::from))?
}

/// Runs the build and returns each target's executable.
fn build() -> Result<Vec<(&'static str, PathBuf)>> {
    let mut cmd = cargo();
    cmd.args(build_args()).stdout(Stdio::piped());
    eprintln!("xtask: running {cmd:?}");
    let mut child = cmd.spawn().context("cannot start cargo")?;
    let stdout = child.stdout.take().context("no cargo output")?;
    let mut found = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let line = line?;
        for (_, _, name) in TARGETS {
            if let Some(path) = executable(&line, name) {
                found.push((*name, path));
            }
        }
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("the pack's build failed ({status})");
    }
    for (_, _, name) in TARGETS {
        if !found.iter().any(|(n, _)| n == name) {
            bail!("the build reported no executable for `{name}`");
        }
    }
    Ok(found)
}

/// The Vulkan loader's shared libraries into `lib`: from Debian's packages downloaded with
/// `apt-get download`, else from this machine's copies.
fn vulkan_libraries(lib: &Path) -> Result<()> {
    std::fs::create_dir_all(lib)?;
    let debs = tempfile_dir("debs")?;
    let downloaded = Command::new("apt-get")
        .arg("download")
        .args(VULKAN_PACKAGES)
        .current_dir(&debs)
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let roots: Vec<PathBuf> = if downloaded {
        let root = debs.join("root");
        for deb in std::fs::read_dir(&debs)? {
            let deb = deb?.path();
            if deb.extension().is_some_and(|e| e == "deb") {
                run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&root))?;
            }
        }
        vec![root.join("usr/lib/x86_64-linux-gnu")]
    } else {
        eprintln!("xtask: apt-get download failed; taking the Vulkan loader from this machine");
        vec![PathBuf::from("/usr/lib/x86_64-linux-gnu")]
    };
    // The sonames the loader and wgpu open (not the versioned files they link to).
    let wanted = ["libvulkan.so.1", "libEGL.so.1", "libGLdispatch.so.0"];
    let mut copied = 0;
    for root in roots {
        for entry in std::fs::read_dir(&root).with_context(|| format!("{}", root.display()))? {
            let path = entry?.path();
            let name = path
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .to_string();
            if wanted.contains(&name.as_str()) {
                // Follow links: the pack holds plain files under each soname.
                std::fs::copy(&path, lib.join(&name))
                    .with_context(|| format!("cannot copy {}", path.display()))?;
                copied += 1;
            }
        }
    }
    if copied == 0 {
        bail!(
            "no Vulkan loader libraries found (install {})",
            VULKAN_PACKAGES.join(" ")
        );
    }
    std::fs::remove_dir_all(&debs).ok();
    Ok(())
}

/// A fresh scratch folder under the cargo target directory's `gpu-pack/`.
fn tempfile_dir(name: &str) -> Result<PathBuf> {
    let target =
        std::env::var_os("CARGO_TARGET_DIR").map_or_else(|| "target".into(), PathBuf::from);
    let dir = target.join("gpu-pack").join(name);
    std::fs::remove_dir_all(&dir).ok();
    std::fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir)
}

/// The total size of the files under `dir`.
fn size_of(dir: &Path) -> Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() {
            size_of(&entry.path())?
        } else {
            meta.len()
        };
    }
    Ok(total)
}

/// The first `n` records of an IDX file (MNIST's format: a big-endian magic whose last byte
/// is the number of dimensions, then each dimension's size, then the records), with its
/// record count set to `n`.
pub fn idx_head(bytes: &[u8], n: usize) -> Result<Vec<u8>> {
    let dims = *bytes
        .get(3)
        .context("not an IDX file: shorter than its magic")? as usize;
    let header = 4 + 4 * dims;
    if dims == 0 || bytes.len() < header || bytes[0] != 0 || bytes[1] != 0 {
        bail!(
            "not an IDX file (magic {:02x?})",
            &bytes[..bytes.len().min(4)]
        );
    }
    let size = |i: usize| {
        let at = 4 + 4 * i;
        u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]) as usize
    };
    let count = size(0);
    let record: usize = (1..dims).map(size).product();
    if n > count || bytes.len() != header + count * record {
        bail!(
            "IDX file of {count} records of {record} bytes ({} bytes in all): cannot take {n}",
            bytes.len()
        );
    }
    let mut head = bytes[..header + n * record].to_vec();
    head[4..8].copy_from_slice(&(n as u32).to_be_bytes());
    Ok(head)
}

/// How many training images the quick table reads (`train_subset` of
/// `configs/tables/quick.toml`).
fn quick_train_subset() -> Result<usize> {
    let path = "configs/tables/quick.toml";
    let text = std::fs::read_to_string(path).with_context(|| format!("cannot read {path}"))?;
    let table: toml::Table = text
        .parse()
        .with_context(|| format!("{path} is not TOML"))?;
    table["base"]["data"]["train_subset"]
        .as_integer()
        .and_then(|n| usize::try_from(n).ok())
        .with_context(|| format!("{path} has no [base.data] train_subset"))
}

/// Fashion-MNIST from `copy` into `to`: the test set whole, the training set's first
/// `train` records (gzip-compressed, as the official files).
fn pack_fashion_mnist(copy: &Path, to: &Path, train: usize) -> Result<()> {
    std::fs::create_dir_all(to)?;
    for stem in DatasetId::FashionMnist.marker_files() {
        let (file, gz) = [(format!("{stem}.gz"), true), (stem.clone(), false)]
            .into_iter()
            .find(|(f, _)| copy.join(f).is_file())
            .with_context(|| format!("{stem} vanished from {}", copy.display()))?;
        let raw = std::fs::read(copy.join(&file))?;
        let mut bytes = Vec::new();
        if gz {
            flate2::read::GzDecoder::new(&raw[..]).read_to_end(&mut bytes)?;
        } else {
            bytes = raw;
        }
        let kept = if stem.starts_with("train") {
            idx_head(&bytes, train).with_context(|| format!("{}", copy.join(&file).display()))?
        } else {
            bytes
        };
        let mut out = flate2::write::GzEncoder::new(
            std::fs::File::create(to.join(format!("{stem}.gz")))?,
            flate2::Compression::best(),
        );
        out.write_all(&kept)?;
        out.finish()?;
    }
    Ok(())
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// `cargo xtask gpu-pack [--out DIR]`.
pub fn pack(out: PathBuf) -> Result<()> {
    setup::warn_when_cuda_would_download();
    let fashion = {
        let places = [data::data_dir(None)]
            .into_iter()
            .chain(DatasetId::FashionMnist.system_places())
            .collect::<Vec<_>>();
        data::locate(DatasetId::FashionMnist, &places).map_err(|why| {
            anyhow::anyhow!("Fashion-MNIST: {why}; run `cargo xtask data fetch fashion-mnist`")
        })?
    };
    let binaries = build()?;
    std::fs::remove_dir_all(&out).ok();
    std::fs::create_dir_all(&out).with_context(|| format!("cannot create {}", out.display()))?;
    let stage = tempfile_dir("stage")?;
    for (name, path) in &binaries {
        let to = stage.join(name);
        std::fs::copy(path, &to).with_context(|| format!("cannot copy {}", path.display()))?;
        run(Command::new("strip").arg(&to))?;
        eprintln!(
            "xtask: {name}: {:.1} MiB stripped",
            mib(std::fs::metadata(&to)?.len())
        );
    }
    let archive = out.join("bin.tar.xz");
    run(Command::new("sh").arg("-c").arg(format!(
        "tar -cf - -C '{}' . | xz -9e -T1 --lzma2=preset=9e,dict=512MiB > '{}'",
        stage.display(),
        archive.display()
    )))?;
    vulkan_libraries(&out.join("lib"))?;
    let train = quick_train_subset()?;
    pack_fashion_mnist(&fashion, &out.join("fashion-mnist"), train)?;
    let commit = Command::new("git")
        .args(["describe", "--always", "--dirty"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let date = Command::new("date")
        .args(["-u", "+%Y-%m-%d %H:%M UTC"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default();
    let total = size_of(&out)?;
    let mut manifest = format!(
        "mixaug {commit}, packed {date}, features flex+{}, {:.1} MiB\n\
         fashion-mnist: the first {train} training images, the whole test set\n",
        FEATURES.join("+"),
        mib(total)
    );
    for (name, _) in &binaries {
        manifest.push_str(&format!(
            "{name}: {:.1} MiB stripped\n",
            mib(std::fs::metadata(stage.join(name))?.len())
        ));
    }
    manifest.push_str(&format!(
        "bin.tar.xz: {:.1} MiB\n",
        mib(std::fs::metadata(&archive)?.len())
    ));
    std::fs::write(out.join("manifest.txt"), &manifest)?;
    std::fs::remove_dir_all(&stage).ok();
    eprint!("{manifest}");
    if total > LIMIT_BYTES {
        bail!(
            "the pack holds {:.1} MiB, over the {:.0} MiB that travel to the GPU machine",
            mib(total),
            mib(LIMIT_BYTES)
        );
    }
    eprintln!(
        "xtask: packed into {} — on the GPU machine: `bash gpu-check/run.sh` (with {} carried)",
        out.display(),
        out.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_build_names_every_target_and_both_gpu_backends_for_each_package() {
        let args = build_args();
        let joined = args.join(" ");
        assert!(joined.starts_with("build --release --message-format=json-render-diagnostics"));
        assert!(joined.contains(
            "-p mixaug-backend-tests -p mixaug-runner -p mixaug-benches --test backends \
             --bin mixaug --bench models --bench mix_share"
        ));
        assert_eq!(
            args.last().unwrap(),
            "mixaug-backend-tests/cuda,mixaug-backend-tests/wgpu,mixaug-runner/cuda,\
             mixaug-runner/wgpu,mixaug-benches/cuda,mixaug-benches/wgpu"
        );
    }

    #[test]
    fn the_head_of_an_idx_file_keeps_its_header_and_first_records() {
        // Three 2×2 images: magic 0x00000803, count 3, rows 2, cols 2, then 12 pixels.
        let mut images = vec![0, 0, 8, 3, 0, 0, 0, 3, 0, 0, 0, 2, 0, 0, 0, 2];
        images.extend(1..=12u8);
        let head = idx_head(&images, 2).unwrap();
        assert_eq!(
            &head[..16],
            &[0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 2]
        );
        assert_eq!(&head[16..], &[1, 2, 3, 4, 5, 6, 7, 8]);
        // Labels: magic 0x00000801, count 3, one byte each.
        let labels = [0, 0, 8, 1, 0, 0, 0, 3, 7, 8, 9];
        assert_eq!(idx_head(&labels, 1).unwrap(), [0, 0, 8, 1, 0, 0, 0, 1, 7]);
        assert!(
            idx_head(&labels, 4).is_err(),
            "more records than the file has"
        );
        assert!(idx_head(&labels[..10], 1).is_err(), "a truncated file");
        assert!(idx_head(b"PNG", 1).is_err());
    }

    #[test]
    fn executables_come_from_compiler_artifact_messages() {
        let line = r#"{"reason":"compiler-artifact","target":{"name":"models"},"executable":"/t/release/deps/models-1f"}"#;
        assert_eq!(
            executable(line, "models"),
            Some(PathBuf::from("/t/release/deps/models-1f"))
        );
        assert_eq!(executable(line, "mixaug"), None);
        let lib = r#"{"reason":"compiler-artifact","target":{"name":"models"},"executable":null}"#;
        assert_eq!(executable(lib, "models"), None);
        assert_eq!(executable(r#"{"reason":"build-finished"}"#, "models"), None);
        assert_eq!(executable("not json", "models"), None);
    }
}
