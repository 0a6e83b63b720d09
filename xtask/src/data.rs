//! `cargo xtask data`: find, check and (with network access) download the data sets.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::run;
use mixaug_data::{CopySummary, DatasetId};

/// The data directory: `--data-dir`, else `$MIXAUG_DATA`, else `./data`.
pub fn data_dir(arg: Option<PathBuf>) -> PathBuf {
    arg.or_else(|| std::env::var_os("MIXAUG_DATA").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("data"))
}

fn dataset(name: &str) -> Result<DatasetId> {
    DatasetId::from_name(name).with_context(|| {
        let names: Vec<&str> = DatasetId::ALL.iter().map(|d| d.name()).collect();
        format!(
            "unknown data set `{name}`: expected one of {}",
            names.join(", ")
        )
    })
}

fn report(id: DatasetId, how: &str, s: &CopySummary) {
    eprintln!(
        "{}: {how} {} ({} train / {} test images, {} classes)",
        id.name(),
        s.dir.display(),
        s.train,
        s.test,
        s.classes
    );
}

/// Makes `link` point at `target` (a symlink; the data are not copied).
fn link_into(target: &Path, link: &Path) -> Result<()> {
    if let Some(parent) = link.parent() {
        std::fs::create_dir_all(parent)
            .with_context(|| format!("cannot create {}", parent.display()))?;
    }
    if link.symlink_metadata().is_ok() {
        bail!(
            "{} exists but is not a valid copy; remove it and fetch again",
            link.display()
        );
    }
    let target = std::fs::canonicalize(target)
        .with_context(|| format!("cannot resolve {}", target.display()))?;
    #[cfg(unix)]
    std::os::unix::fs::symlink(&target, link)
        .with_context(|| format!("cannot link {} to {}", link.display(), target.display()))?;
    #[cfg(not(unix))]
    bail!(
        "linking data sets needs a Unix system; use --data-dir {} directly",
        target.display()
    );
    Ok(())
}

/// `data fetch NAME`: the copy in the data directory if it is there; else a local copy
/// (`--from`, then the system places such as Debian's Fashion-MNIST) linked into it; else,
/// unless `offline`, the official download. Every copy is verified before it is reported.
pub fn fetch(name: &str, from: Option<PathBuf>, dir: Option<PathBuf>, offline: bool) -> Result<()> {
    let id = dataset(name)?;
    let dir = data_dir(dir);
    let target = dir.join(id.folder());
    if id.is_copy(&target) {
        let s = id.verify(&target)?;
        report(id, "already in", &s);
        return Ok(());
    }
    // The data directory is listed too, so the error says it was looked at.
    let mut places: Vec<PathBuf> = from.into_iter().collect();
    places.extend(id.system_places());
    places.push(dir.clone());
    match id.locate(&places) {
        Ok(found) => {
            let s = id.verify(&found)?;
            link_into(&found, &target)?;
            report(id, &format!("linked {} →", target.display()), &s);
            Ok(())
        }
        Err(not_found) if offline || id.downloads().is_empty() => Err(not_found.into()),
        Err(not_found) => {
            eprintln!(
                "{not_found}\n{}: downloading the official files…",
                id.name()
            );
            let result = download(id, &dir, &target);
            // Nothing half-downloaded is left behind.
            std::fs::remove_dir_all(dir.join(".partial")).ok();
            result.with_context(|| {
                format!(
                    "downloading {} failed; without network access provide a local copy: {}",
                    id.name(),
                    id.hint()
                )
            })?;
            let s = id.verify(&target)?;
            report(id, "downloaded to", &s);
            Ok(())
        }
    }
}

/// Downloads with `curl` into `dir/.partial`, then extracts archives into `dir` or moves
/// plain files into `target`.
fn download(id: DatasetId, dir: &Path, target: &Path) -> Result<()> {
    let partial = dir.join(".partial");
    std::fs::create_dir_all(&partial)
        .with_context(|| format!("cannot create {}", partial.display()))?;
    for d in id.downloads() {
        let file = partial.join(d.url.rsplit('/').next().unwrap_or("download"));
        run(Command::new("curl")
            .args(["--fail", "--location", "--retry", "3", "--output"])
            .arg(&file)
            .arg(&d.url))?;
        if d.archive {
            if d.url.ends_with(".zip") {
                run(Command::new("unzip")
                    .arg("-q")
                    .arg(&file)
                    .arg("-d")
                    .arg(dir))?;
            } else {
                run(Command::new("tar")
                    .arg("-xzf")
                    .arg(&file)
                    .arg("-C")
                    .arg(dir))?;
            }
            std::fs::remove_file(&file).ok();
        } else {
            std::fs::create_dir_all(target)?;
            let name = file.file_name().expect("a file name");
            std::fs::rename(&file, target.join(name))?;
        }
    }
    Ok(())
}

/// `data list`: every known data set and whether the data directory holds it.
pub fn list(dir: Option<PathBuf>) -> Result<()> {
    let dir = data_dir(dir);
    for id in DatasetId::ALL {
        let here = dir.join(id.folder());
        let state = if id.is_copy(&here) {
            format!("present in {}", here.display())
        } else {
            "absent".to_string()
        };
        println!("{:<14} {state}", id.name());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idx(dims: &[usize], data: &[u8]) -> Vec<u8> {
        mixaug_data::idx_bytes(dims, data)
    }

    #[test]
    fn fetch_links_a_local_copy_and_explains_a_missing_one() {
        let tmp = tempfile::tempdir().unwrap();
        let src = tmp.path().join("downloads/mnist");
        std::fs::create_dir_all(&src).unwrap();
        for (split, n) in [("train", 3), ("t10k", 2)] {
            std::fs::write(
                src.join(format!("{split}-images-idx3-ubyte")),
                idx(&[n, 2, 2], &vec![0; 4 * n]),
            )
            .unwrap();
            std::fs::write(
                src.join(format!("{split}-labels-idx1-ubyte")),
                idx(&[n], &vec![1; n]),
            )
            .unwrap();
        }
        let data = tmp.path().join("data");
        fetch("mnist", Some(src.clone()), Some(data.clone()), true).unwrap();
        assert!(data.join("mnist").join("train-images-idx3-ubyte").is_file());
        // A second fetch finds it in the data directory.
        fetch("mnist", None, Some(data.clone()), true).unwrap();

        let err = fetch("cifar10", Some(src), Some(data), true).unwrap_err();
        let message = format!("{err:#}");
        assert!(message.contains("data_batch_1.bin"), "{message}");
        assert!(message.contains("downloads/mnist"), "{message}");
        assert!(message.contains("--from DIR"), "{message}");
        assert!(fetch("imagenet-22k", None, None, true).is_err());
    }
}
