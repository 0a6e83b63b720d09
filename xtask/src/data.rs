//! `cargo xtask data`: find, check and link the data sets, or download them (Fashion-MNIST
//! also from Debian's package, installed with apt-get when this process may).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::run;
use mixaug_data::{CopySummary, DataError, DatasetId};

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

/// One way of getting a copy, tried in the order of [`plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Copies already on this machine (`--from`, the system places such as Debian's
    /// Fashion-MNIST, the data directory itself): the first found is linked into the data
    /// directory.
    Local(Vec<PathBuf>),
    /// The official files, downloaded with `curl`.
    Download,
    /// The Debian package that installs a copy into `places`, installed with `apt-get`,
    /// then linked into the data directory.
    Apt {
        /// The package.
        package: &'static str,
        /// Whether (and how) this process may install it.
        install: Install,
        /// Where the package puts its copy.
        places: Vec<PathBuf>,
    },
}

/// How `apt-get install` can run here.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Install {
    /// As root.
    Root,
    /// Through `sudo -n` (passwordless sudo).
    Sudo,
    /// Not at all: not root, and sudo is absent or asks for a password.
    Denied,
}

/// What this machine offers for installing a Debian package.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Host {
    /// `apt-get` runs.
    pub apt: bool,
    /// The process runs as root.
    pub root: bool,
    /// `sudo -n true` succeeds.
    pub passwordless_sudo: bool,
}

/// Whether `cmd` runs and succeeds, silently.
fn succeeds(cmd: &mut Command) -> bool {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Host {
    /// How this host may run `apt-get install`: as root, else through `sudo -n`, else not.
    pub fn install(&self) -> Install {
        if self.root {
            Install::Root
        } else if self.passwordless_sudo {
            Install::Sudo
        } else {
            Install::Denied
        }
    }

    /// Probes `apt-get --version`, `id -u` and `sudo -n true`.
    pub fn detect() -> Self {
        let apt = succeeds(Command::new("apt-get").arg("--version"));
        let root = Command::new("id")
            .arg("-u")
            .output()
            .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).trim() == "0");
        let passwordless_sudo = !root && apt && succeeds(Command::new("sudo").args(["-n", "true"]));
        Self {
            apt,
            root,
            passwordless_sudo,
        }
    }
}

/// The Debian package holding a copy of `id` (in [`DatasetId::system_places`]).
pub fn debian_package(id: DatasetId) -> Option<&'static str> {
    match id {
        DatasetId::FashionMnist => Some("dataset-fashion-mnist"),
        _ => None,
    }
}

/// The sources to try, in order, for a copy of `id` that the data directory `dir` lacks:
/// the local copies (`extra` places first, then the system places and `dir` itself); unless
/// `offline`, the official download, then the Debian package. `host` is probed only when a
/// package could be installed.
pub fn plan(
    id: DatasetId,
    extra: &[PathBuf],
    dir: &Path,
    offline: bool,
    host: impl FnOnce() -> Host,
) -> Vec<Source> {
    // The data directory is listed too, so the error says it was looked at.
    let mut places: Vec<PathBuf> = Vec::new();
    for p in extra
        .iter()
        .cloned()
        .chain(id.system_places())
        .chain([dir.to_path_buf()])
    {
        if !places.contains(&p) {
            places.push(p);
        }
    }
    let mut sources = vec![Source::Local(places)];
    if offline {
        return sources;
    }
    if !id.downloads().is_empty() {
        sources.push(Source::Download);
    }
    if let Some(package) = debian_package(id) {
        let host = host();
        if host.apt {
            let install = host.install();
            sources.push(Source::Apt {
                package,
                install,
                places: id.system_places(),
            });
        }
    }
    sources
}

/// Which source provided the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Used {
    /// The data directory held it already.
    Present,
    /// A copy on this machine, linked.
    Local(PathBuf),
    /// The official download.
    Download,
    /// The Debian package, installed and linked.
    Apt(&'static str),
}

impl std::fmt::Display for Used {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Used::Present => write!(f, "the data directory"),
            Used::Local(p) => write!(f, "the copy in {}", p.display()),
            Used::Download => write!(f, "the official download"),
            Used::Apt(package) => write!(f, "Debian's package {package}, installed with apt-get"),
        }
    }
}

/// How to provide `id` by hand, for the error when no source worked.
pub fn instructions(id: DatasetId) -> String {
    match debian_package(id) {
        Some(package) => format!(
            "Provide {name} in one of these ways, then run again:\n  \
             sudo apt-get install {package}   (Debian/Ubuntu; its copy is found where it lies)\n  \
             cargo xtask data fetch {name} --from DIR   (DIR holds the four IDX files, raw or .gz)\n  \
             cargo xtask reproduce --data DIR   (use the copy in DIR as it is)",
            name = id.name()
        ),
        None => id.hint().to_string(),
    }
}

/// `data fetch NAME`: makes the data set available in the data directory (see [`ensure`]).
pub fn fetch(name: &str, from: Option<PathBuf>, dir: Option<PathBuf>, offline: bool) -> Result<()> {
    let id = dataset(name)?;
    let extra: Vec<PathBuf> = from.into_iter().collect();
    ensure(id, &extra, &data_dir(dir), offline).map(|_| ())
}

/// The copy of `id` in the data directory `dir` (in its folder [`DatasetId::folder`]):
/// there already, else from the first source of [`plan`] that works, with a line on
/// standard error for each attempt. Every copy is verified before it is reported; a second
/// call finds the first one's copy.
pub fn ensure(
    id: DatasetId,
    extra: &[PathBuf],
    dir: &Path,
    offline: bool,
) -> Result<(PathBuf, Used)> {
    obtain(
        id,
        dir,
        || plan(id, extra, dir, offline, Host::detect),
        &mut |source, target| match source {
            Source::Download => {
                let result = download(id, dir, target);
                // Nothing half-downloaded is left behind.
                std::fs::remove_dir_all(dir.join(".partial")).ok();
                result
            }
            Source::Apt {
                package, install, ..
            } => apt_install(&[package], *install),
            Source::Local(_) => Ok(()),
        },
    )
}

/// [`ensure`] with the plan and the side effects passed in: `act(source, target)` carries
/// out a [`Source::Download`] into `target` or a [`Source::Apt`] install; finding, checking
/// and linking the copies are done here. `plan` is called only when the copy is absent.
fn obtain(
    id: DatasetId,
    dir: &Path,
    plan: impl FnOnce() -> Vec<Source>,
    act: &mut dyn FnMut(&Source, &Path) -> Result<()>,
) -> Result<(PathBuf, Used)> {
    let name = id.name();
    let target = dir.join(id.folder());
    if id.is_copy(&target) {
        let s = id.verify(&target)?;
        report(id, "already in", &s);
        return Ok((target, Used::Present));
    }
    let link = |found: &Path| -> Result<()> {
        let s = id.verify(found)?;
        link_into(found, &target)?;
        report(id, &format!("linked {} →", target.display()), &s);
        Ok(())
    };
    let mut tried: Vec<String> = Vec::new();
    for source in plan() {
        match &source {
            Source::Local(places) => {
                eprintln!("{name}: looking for a copy on this machine…");
                match locate(id, places) {
                    Ok(found) => {
                        link(&found)?;
                        return Ok((target, Used::Local(found)));
                    }
                    Err(why) => {
                        eprintln!("{name}: {why}");
                        tried.push(why);
                    }
                }
            }
            Source::Download => {
                eprintln!(
                    "{name}: downloading the official files into {}…",
                    target.display()
                );
                match act(&source, &target) {
                    Ok(()) => {
                        let s = id.verify(&target)?;
                        report(id, "downloaded to", &s);
                        return Ok((target, Used::Download));
                    }
                    Err(e) => {
                        let why = format!("the download failed: {e:#}");
                        eprintln!("{name}: {why}");
                        tried.push(why);
                    }
                }
            }
            Source::Apt {
                package,
                install: Install::Denied,
                ..
            } => {
                let why = format!(
                    "Debian's package {package} was not installed: not root, and sudo is absent \
                     or asks for a password"
                );
                eprintln!("{name}: {why}");
                tried.push(why);
            }
            Source::Apt {
                package,
                install,
                places,
            } => {
                let how = if *install == Install::Root {
                    "as root"
                } else {
                    "through sudo -n"
                };
                eprintln!("{name}: installing Debian's package {package} with apt-get ({how})…");
                let installed = act(&source, &target).and_then(|()| {
                    locate(id, places)
                        .map_err(|why| anyhow::anyhow!("{package} is installed but {why}"))
                });
                match installed {
                    Ok(found) => {
                        link(&found)?;
                        return Ok((target, Used::Apt(package)));
                    }
                    Err(e) => {
                        let why = format!("installing {package} failed: {e:#}");
                        eprintln!("{name}: {why}");
                        tried.push(why);
                    }
                }
            }
        }
    }
    bail!(
        "{name} is not in {} and could not be fetched:\n  - {}\n{}",
        dir.display(),
        tried.join("\n  - "),
        instructions(id)
    )
}

/// The first of `places` holding a copy (see [`DatasetId::locate`]), or where it looked and
/// for what, in words.
pub fn locate(id: DatasetId, places: &[PathBuf]) -> Result<PathBuf, String> {
    id.locate(places).map_err(|e| match e {
        DataError::NotFound {
            looked_for, places, ..
        } => format!("no copy in {places} (looked for {looked_for})"),
        other => other.to_string(),
    })
}

/// `apt-get update` (the lists may be missing or stale on a fresh machine), then
/// `apt-get install -y PACKAGES…`, as root or through `sudo -n`.
pub(crate) fn apt_install(packages: &[&str], install: Install) -> Result<()> {
    let apt = |args: &[&str]| {
        let mut cmd = if install == Install::Sudo {
            let mut c = Command::new("sudo");
            c.args(["-n", "env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]);
            c
        } else {
            let mut c = Command::new("apt-get");
            c.env("DEBIAN_FRONTEND", "noninteractive");
            c
        };
        cmd.args(args).stdin(Stdio::null());
        cmd
    };
    if let Err(e) = run(&mut apt(&["update", "-qq"])) {
        eprintln!("xtask: {e:#}; installing from the package lists there are");
    }
    run(&mut apt(&[&["install", "-y", "-qq"][..], packages].concat()))
}

/// Downloads with `curl` into `dir/.partial`, then extracts archives into `dir` or, once
/// all are there, moves plain files into `target`.
fn download(id: DatasetId, dir: &Path, target: &Path) -> Result<()> {
    let partial = dir.join(".partial");
    // Whatever an interrupted run left there goes.
    std::fs::remove_dir_all(&partial).ok();
    std::fs::create_dir_all(&partial)
        .with_context(|| format!("cannot create {}", partial.display()))?;
    for d in id.downloads() {
        let file = partial.join(d.url.rsplit('/').next().unwrap_or("download"));
        run(Command::new("curl")
            .args([
                "--fail",
                "--location",
                "--retry",
                "2",
                "--connect-timeout",
                "15",
            ])
            .arg("--output")
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
        }
    }
    // Plain files move into place only once every one has arrived, so a failed download
    // leaves no partial copy that would block a later source.
    let plain: Vec<PathBuf> = std::fs::read_dir(&partial)?
        .map(|e| e.map(|e| e.path()))
        .collect::<std::io::Result<_>>()?;
    if !plain.is_empty() {
        std::fs::create_dir_all(target)
            .with_context(|| format!("cannot create {}", target.display()))?;
        for file in plain {
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

    fn root() -> Host {
        Host {
            apt: true,
            root: true,
            passwordless_sudo: false,
        }
    }

    #[test]
    fn the_plan_tries_local_copies_then_the_download_then_the_package() {
        let fashion = DatasetId::FashionMnist;
        let debian = PathBuf::from(mixaug_data::DEBIAN_FASHION_MNIST);
        let dir = PathBuf::from("data");
        let from = PathBuf::from("/copies");
        let apt = |install| Source::Apt {
            package: "dataset-fashion-mnist",
            install,
            places: vec![debian.clone()],
        };
        assert_eq!(
            plan(fashion, std::slice::from_ref(&from), &dir, false, root),
            [
                Source::Local(vec![from.clone(), debian.clone(), dir.clone()]),
                Source::Download,
                apt(Install::Root),
            ]
        );
        // Places named twice are looked at once.
        assert_eq!(
            plan(fashion, &[dir.clone(), debian.clone()], &dir, false, root)[0],
            Source::Local(vec![dir.clone(), debian.clone()])
        );
        let sudo = || Host {
            root: false,
            passwordless_sudo: true,
            ..root()
        };
        assert_eq!(plan(fashion, &[], &dir, false, sudo)[2], apt(Install::Sudo));
        let user = || Host {
            root: false,
            ..root()
        };
        assert_eq!(
            plan(fashion, &[], &dir, false, user)[2],
            apt(Install::Denied)
        );
        // No apt-get (not Debian): no package step.
        assert_eq!(plan(fashion, &[], &dir, false, Host::default).len(), 2);
        // Offline, or a data set without a package: the host is not even probed.
        let never = || -> Host { panic!("the host was probed") };
        assert_eq!(
            plan(fashion, &[], &dir, true, never),
            [Source::Local(vec![debian.clone(), dir.clone()])]
        );
        assert_eq!(
            plan(DatasetId::Mnist, &[], &dir, false, never),
            [Source::Local(vec![dir.clone()]), Source::Download]
        );
        assert_eq!(
            plan(DatasetId::StanfordCars, &[], &dir, false, never),
            [Source::Local(vec![dir.clone()])]
        );
    }

    /// A generated MNIST stands in for the package's copy: the local search and the
    /// download fail, the "install" writes the copy where the package would, and it is
    /// linked; a second call finds it without planning anything.
    #[test]
    fn obtain_falls_back_in_order_and_links_the_installed_copy() {
        let tmp = tempfile::tempdir().unwrap();
        let system = tmp.path().join("usr/share/datasets");
        let data = tmp.path().join("data");
        let steps = vec![
            Source::Local(vec![tmp.path().join("nowhere"), data.clone()]),
            Source::Download,
            Source::Apt {
                package: "dataset-mnist",
                install: Install::Root,
                places: vec![system.clone()],
            },
        ];
        let mut acted = Vec::new();
        let (copy, used) = obtain(DatasetId::Mnist, &data, || steps, &mut |source, target| {
            acted.push(format!("{source:?}"));
            assert_eq!(target, data.join("mnist"));
            match source {
                Source::Download => bail!("no network"),
                _ => {
                    mixaug_data::write_synthetic(
                        DatasetId::Mnist,
                        &system,
                        &mixaug_data::SyntheticSpec::default(),
                    )?;
                    Ok(())
                }
            }
        })
        .unwrap();
        assert_eq!(used, Used::Apt("dataset-mnist"));
        assert_eq!(acted.len(), 2);
        assert_eq!(acted[0], "Download");
        assert!(acted[1].starts_with("Apt"), "{acted:?}");
        assert_eq!(copy, data.join("mnist"));
        assert_eq!(
            std::fs::read_link(&copy).unwrap(),
            std::fs::canonicalize(system.join("mnist")).unwrap()
        );
        assert_eq!(DatasetId::Mnist.verify(&data).unwrap().train, 4);

        let again = obtain(
            DatasetId::Mnist,
            &data,
            || panic!("planned although the copy is there"),
            &mut |_, _| panic!("acted although the copy is there"),
        )
        .unwrap();
        assert_eq!(again, (copy, Used::Present));
    }

    #[test]
    fn obtain_prefers_a_local_copy_and_explains_every_failure() {
        let tmp = tempfile::tempdir().unwrap();
        let local = tmp.path().join("copies");
        mixaug_data::write_synthetic(DatasetId::Mnist, &local, &Default::default()).unwrap();
        let data = tmp.path().join("data");
        let never = &mut |_: &Source, _: &Path| -> Result<()> { panic!("acted") };
        let (_, used) = obtain(
            DatasetId::Mnist,
            &data,
            || vec![Source::Local(vec![local.clone()]), Source::Download],
            never,
        )
        .unwrap();
        assert_eq!(used, Used::Local(local.join("mnist")));

        // Nothing works: the error lists each attempt, then the three ways to provide
        // Fashion-MNIST by hand.
        let steps = vec![
            Source::Local(vec![tmp.path().join("nowhere")]),
            Source::Download,
            Source::Apt {
                package: "dataset-fashion-mnist",
                install: Install::Denied,
                places: vec![tmp.path().join("nowhere")],
            },
        ];
        let err = obtain(
            DatasetId::FashionMnist,
            &tmp.path().join("empty"),
            || steps,
            &mut |source, _| {
                assert_eq!(source, &Source::Download, "a denied install was attempted");
                bail!("curl: could not resolve host")
            },
        )
        .unwrap_err();
        let message = format!("{err:#}");
        for part in [
            "nowhere",
            "train-images-idx3-ubyte",
            "could not resolve host",
            "asks for a password",
            "sudo apt-get install dataset-fashion-mnist",
            "cargo xtask data fetch fashion-mnist --from DIR",
            "--data DIR",
        ] {
            assert!(message.contains(part), "{part:?} missing from: {message}");
        }
    }
}
