//! `cargo xtask`: the project's workflows, as cargo commands.
//!
//! * `cargo xtask test [--backend B]…` — the test command of README.md: the whole
//!   workspace (unit tests, doctests) and the shared backend suite on every backend named
//!   (default `flex`), in one build.
//! * `cargo xtask reproduce [ARGS]…` — the main job: `mixaug reproduce` in release mode,
//!   the quick table on Fashion-MNIST with its report and plots; with `--table NAME`,
//!   `--list` or `--smoke`, the paper tables of `configs/tables/`. For the quick table the
//!   data come first, before the runner is compiled: Fashion-MNIST in the data directory
//!   ($MIXAUG_DATA, else ./data), else a copy on this machine (Debian's
//!   /usr/share/datasets/fashion-mnist) linked there, else the official download, else
//!   Debian's `dataset-fashion-mnist` installed with apt-get (as root or through
//!   passwordless `sudo -n`) and linked; if none works it stops at once and says how to
//!   provide the data. With `--data DIR` it only checks that DIR holds a copy.
//! * `cargo xtask gallery [ARGS]…` — `mixaug gallery` in release mode.
//! * `cargo xtask bench [--backend B] [ARGS]…` — the criterion benches.
//! * `cargo xtask setup cuda [--llvm-config PATH]` — what an offline build of the `cuda`
//!   backend needs: Debian's `llvm-22-dev` and `libzstd-dev` (installed when missing, as
//!   root or through `sudo -n`), and a stand-in for the LLVM bundle cubecl's build script
//!   would download (see `setup.rs`). Idempotent; optional with network access.
//! * `cargo xtask gpu-pack [--out DIR]` — builds (release, `cuda` + `wgpu`) and packs what
//!   `gpu-check/run.sh` runs on a GPU machine into `gpu-check/pack/` (see `gpu_pack.rs`).
//! * `cargo xtask lint` — `cargo fmt --check` and `cargo clippy --all-targets -D warnings`.
//! * `cargo xtask doc` — the workspace's documentation with rustdoc's warnings (missing
//!   docs of the library crates included) as errors.
//! * `cargo xtask package [--no-verify] [--allow-dirty]` — `cargo package` of the library
//!   crates in dependency order, each verified against the packages before it (see
//!   `release.rs`).
//! * `cargo xtask data fetch NAME [--from DIR] [--data-dir DIR] [--offline]` — find a local
//!   copy of a data set (or download it; for Fashion-MNIST, else install Debian's package),
//!   verify it and link it into the data directory, the same steps as `reproduce`'s;
//!   `cargo xtask data list` shows what is there.
//!
//! xtask itself depends on no backend: it forwards `--backend` to the cargo features of
//! the crate it runs (`mixaug-runner`, `mixaug-benches`, `mixaug-backend-tests`).

use std::path::PathBuf;
use std::process::Command;

mod data;
mod gpu_pack;
mod release;
mod setup;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use mixaug_data::DatasetId;

#[derive(Parser, Debug)]
#[command(about = "mixaug workflows")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand, Debug)]
enum Task {
    /// Run every test on the backends named (default: flex).
    Test {
        /// flex, ndarray, wgpu, tch or cuda (repeatable; cuda needs an NVIDIA GPU to run,
        /// and `cargo xtask setup cuda` first to build offline).
        #[arg(long = "backend", value_name = "B")]
        backends: Vec<String>,
        /// Extra arguments for the test binaries (after `--`).
        #[arg(last = true)]
        rest: Vec<String>,
    },
    /// Run the quick table on Fashion-MNIST (fetched first when missing), or a paper table
    /// (arguments go to `mixaug reproduce`: `--table NAME`, `--fast`, `--list`, `--smoke`,
    /// `--epochs`, `--seeds`, `--data`, `--out`, `--resume`, `--quiet`).
    Reproduce {
        /// Backend compiled into the runner.
        #[arg(long, default_value = "flex")]
        backend: String,
        /// Arguments for `mixaug reproduce`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Draw the gallery of mixing methods (arguments go to `mixaug gallery`).
    Gallery {
        /// Backend compiled into the runner.
        #[arg(long, default_value = "flex")]
        backend: String,
        /// Arguments for `mixaug gallery`.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Run the criterion benches.
    Bench {
        /// Backend compiled into the benches.
        #[arg(long, default_value = "flex")]
        backend: String,
        /// Arguments for criterion (e.g. a filter, `--warm-up-time 1`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Check formatting and lints.
    Lint,
    /// Build the documentation with rustdoc's warnings as errors.
    Doc,
    /// Package the library crates for crates.io, in dependency order.
    Package {
        /// Only pack (checks manifests and files; builds nothing).
        #[arg(long)]
        no_verify: bool,
        /// Pack uncommitted changes too.
        #[arg(long)]
        allow_dirty: bool,
    },
    /// Build and pack the GPU check (`gpu-check/run.sh` runs it on the GPU machine).
    GpuPack {
        /// The pack's folder (emptied first).
        #[arg(long, default_value = "gpu-check/pack")]
        out: PathBuf,
    },
    /// Prepare this machine for a backend's build.
    Setup {
        #[command(subcommand)]
        target: SetupTarget,
    },
    /// Find, verify and link (or download) the data sets.
    Data {
        #[command(subcommand)]
        action: DataAction,
    },
}

#[derive(Subcommand, Debug)]
enum SetupTarget {
    /// The `cuda` backend without network: Debian's LLVM 22 in place of the LLVM bundle
    /// cubecl's build script downloads.
    Cuda {
        /// Another LLVM 22 `llvm-config` with static libraries (then no packages are
        /// installed).
        #[arg(long, value_name = "PATH")]
        llvm_config: Option<PathBuf>,
    },
}

#[derive(Subcommand, Debug)]
enum DataAction {
    /// Make data set NAME available in the data directory.
    Fetch {
        /// fashion-mnist, mnist, cifar10, cifar100, cub200, aircraft, stanford-cars or
        /// tiny-imagenet.
        name: String,
        /// A folder holding a copy (the extracted archive or its parent).
        #[arg(long, value_name = "DIR")]
        from: Option<PathBuf>,
        /// The data directory (default: $MIXAUG_DATA, else ./data).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
        /// Never download or install; fail with what was looked for.
        #[arg(long)]
        offline: bool,
    },
    /// List the known data sets and whether the data directory holds them.
    List {
        /// The data directory (default: $MIXAUG_DATA, else ./data).
        #[arg(long, value_name = "DIR")]
        data_dir: Option<PathBuf>,
    },
}

/// Backends the shared suite can be compiled with.
const SUITE_BACKENDS: &[&str] = &["flex", "ndarray", "wgpu", "tch", "cuda"];
/// Backends the runner and benches can be compiled with.
const BINARY_BACKENDS: &[&str] = &["flex", "ndarray", "wgpu", "vulkan", "metal", "tch", "cuda"];

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

/// Runs a command to completion; its failure (or absence) is an error naming it.
fn run(cmd: &mut Command) -> Result<()> {
    eprintln!("xtask: running {cmd:?}");
    let status = cmd
        .status()
        .with_context(|| format!("cannot start {cmd:?} (is it installed?)"))?;
    if !status.success() {
        bail!("{cmd:?} failed with {status}");
    }
    Ok(())
}

fn check_backend(backend: &str, allowed: &[&str]) -> Result<()> {
    if !allowed.contains(&backend) {
        bail!(
            "backend `{backend}` is not available here: expected one of {}",
            allowed.join(", ")
        );
    }
    if backend == "tch"
        && std::env::var_os("LIBTORCH").is_none()
        && std::env::var_os("LIBTORCH_USE_PYTORCH").is_none()
    {
        bail!(
            "the tch backend needs LibTorch at build time: install torch==2.9.0 with pip into a \
             virtual environment, then set VIRTUAL_ENV, LIBTORCH_USE_PYTORCH=1 and \
             LD_LIBRARY_PATH=<venv>/lib/python3.*/site-packages/torch/lib (or set LIBTORCH); \
             see README.md, section Backends"
        );
    }
    if backend == "cuda" {
        setup::warn_when_cuda_would_download();
    }
    Ok(())
}

fn test(backends: Vec<String>, rest: Vec<String>) -> Result<()> {
    let backends = if backends.is_empty() {
        vec!["flex".to_string()]
    } else {
        backends
    };
    for b in &backends {
        check_backend(b, SUITE_BACKENDS)?;
    }
    let features: Vec<String> = backends
        .iter()
        .filter(|b| b.as_str() != "flex")
        .map(|b| format!("mixaug-backend-tests/{b}"))
        .collect();
    let mut cmd = cargo();
    cmd.args(["test", "--workspace"]);
    if !features.is_empty() {
        cmd.args(["--features", &features.join(",")]);
    }
    if !rest.is_empty() {
        cmd.arg("--").args(rest);
    }
    run(&mut cmd)
}

fn with_backend(cmd: &mut Command, backend: &str) -> Result<()> {
    check_backend(backend, BINARY_BACKENDS)?;
    if backend != "flex" {
        // Every default feature but flex: the terminal UI stays.
        cmd.args(["--no-default-features", "--features"])
            .arg(format!("{backend},tui"));
    }
    Ok(())
}

/// `mixaug COMMAND --device BACKEND ARGS…` in release mode with the backend compiled in.
fn runner(command: &str, backend: &str, args: Vec<String>) -> Result<()> {
    let mut cmd = cargo();
    cmd.args(["run", "--release", "--package", "mixaug-runner"]);
    with_backend(&mut cmd, backend)?;
    cmd.args(["--", command, "--device", backend]).args(args);
    run(&mut cmd)
}

/// What `mixaug reproduce ARGS` needs of the data before the runner is built.
#[derive(Debug, PartialEq, Eq)]
enum DataNeed {
    /// Nothing here: help, a listing, a smoke run (generated data) or a paper table (whose
    /// data the runner finds or explains).
    Nothing,
    /// The quick table on the copy in `--data DIR`: DIR must hold Fashion-MNIST.
    Check(PathBuf),
    /// The quick table on Fashion-MNIST wherever the runner looks: fetched if absent.
    Fetch,
}

/// Reads `mixaug reproduce`'s arguments as its parser does (`--opt VALUE` or
/// `--opt=VALUE`) far enough to tell what [`DataNeed`] they have.
fn data_need(args: &[String]) -> DataNeed {
    const WITH_VALUE: &[&str] = &[
        "--data", "--epochs", "--seeds", "--table", "--tables", "--out", "--device",
    ];
    let (mut data, mut table, mut no_training) = (None, None, false);
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => (flag, Some(value.to_string())),
            _ => (arg.as_str(), None),
        };
        if WITH_VALUE.contains(&flag) {
            let value = inline.or_else(|| args.next().cloned());
            match flag {
                "--data" => data = value.map(PathBuf::from),
                "--table" => table = value,
                _ => {}
            }
        } else if ["--list", "--smoke", "--help", "-h", "--version", "-V"].contains(&flag) {
            no_training = true;
        }
    }
    let quick = table.as_deref().is_none_or(|t| t == "quick");
    match data {
        _ if no_training || !quick => DataNeed::Nothing,
        Some(dir) => DataNeed::Check(dir),
        None => DataNeed::Fetch,
    }
}

/// Makes sure the quick table's data are there before the runner is compiled (see
/// [`data_need`]); returns the arguments to add for the runner (`--data DIR` when the copy
/// is where it would not look).
fn reproduce_data(args: &[String]) -> Result<Vec<String>> {
    let id = DatasetId::FashionMnist;
    match data_need(args) {
        DataNeed::Nothing => Ok(vec![]),
        DataNeed::Check(dir) => match data::locate(id, std::slice::from_ref(&dir)) {
            Ok(found) => {
                eprintln!("{}: using the copy in {}", id.name(), found.display());
                Ok(vec![])
            }
            Err(why) => bail!(
                "--data {}: {why}\n{}",
                dir.display(),
                data::instructions(id)
            ),
        },
        DataNeed::Fetch => {
            let places = id.default_places(std::env::var_os("MIXAUG_DATA").map(PathBuf::from));
            let (copy, used) = data::ensure(id, &places, &data::data_dir(None), false)?;
            eprintln!("{}: ready in {} (from {used})", id.name(), copy.display());
            Ok(if id.locate(&places).is_ok() {
                vec![]
            } else {
                vec!["--data".into(), copy.display().to_string()]
            })
        }
    }
}

fn main() -> Result<()> {
    match Cli::parse().task {
        Task::Test { backends, rest } => test(backends, rest),
        Task::Reproduce { backend, args } => {
            check_backend(&backend, BINARY_BACKENDS)?;
            let data = reproduce_data(&args)?;
            runner("reproduce", &backend, [data, args].concat())
        }
        Task::Gallery { backend, args } => runner("gallery", &backend, args),
        Task::Bench { backend, args } => {
            let mut cmd = cargo();
            cmd.args(["bench", "--package", "mixaug-benches"]);
            with_backend(&mut cmd, &backend)?;
            cmd.arg("--").args(args);
            run(&mut cmd)
        }
        Task::Data { action } => match action {
            DataAction::Fetch {
                name,
                from,
                data_dir,
                offline,
            } => data::fetch(&name, from, data_dir, offline),
            DataAction::List { data_dir } => data::list(data_dir),
        },
        Task::GpuPack { out } => gpu_pack::pack(out),
        Task::Doc => release::doc(),
        Task::Package {
            no_verify,
            allow_dirty,
        } => release::package(!no_verify, allow_dirty),
        Task::Setup {
            target: SetupTarget::Cuda { llvm_config },
        } => setup::cuda(llvm_config),
        Task::Lint => {
            let mut fmt = cargo();
            fmt.args(["fmt", "--all", "--check"]);
            run(&mut fmt)?;
            let mut clippy = cargo();
            clippy.args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]);
            run(&mut clippy)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn need(args: &[&str]) -> DataNeed {
        data_need(&args.iter().map(|a| a.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn only_the_quick_table_needs_fashion_mnist() {
        assert_eq!(need(&[]), DataNeed::Fetch);
        assert_eq!(need(&["--epochs", "1", "--quiet"]), DataNeed::Fetch);
        assert_eq!(need(&["--table", "quick"]), DataNeed::Fetch);
        assert_eq!(need(&["--table=quick", "--resume"]), DataNeed::Fetch);
        assert_eq!(need(&["--fast"]), DataNeed::Fetch);
        // A value that looks like a flag is a value.
        assert_eq!(need(&["--out", "--list"]), DataNeed::Fetch);
        assert_eq!(
            need(&["--data", "/d", "--seeds", "1"]),
            DataNeed::Check("/d".into())
        );
        assert_eq!(need(&["--data=/d"]), DataNeed::Check("/d".into()));
        for args in [
            &["--list"][..],
            &["--smoke"],
            &["--smoke", "--table", "quick"],
            &["--help"],
            &["-h"],
            &["--table", "snapmix-table1"],
            &["--table=sumix-cifar100", "--data", "/d"],
            &["--data", "/d", "--list"],
        ] {
            assert_eq!(need(args), DataNeed::Nothing, "{args:?}");
        }
    }

    #[test]
    fn the_runner_looks_in_the_environment_then_data_then_debian() {
        // The order xtask's fetch relies on (the runner reads the same function).
        let debian = PathBuf::from(mixaug_data::DEBIAN_FASHION_MNIST);
        let id = DatasetId::FashionMnist;
        assert_eq!(
            id.default_places(Some("/mnt/d".into())),
            [PathBuf::from("/mnt/d"), "data".into(), debian.clone()]
        );
        assert_eq!(id.default_places(None), [PathBuf::from("data"), debian]);
        assert_eq!(
            DatasetId::Cifar100.default_places(None),
            [PathBuf::from("data")]
        );
    }

    #[test]
    fn reproduce_takes_the_runner_arguments_as_they_come() {
        let cli = Cli::try_parse_from([
            "xtask",
            "reproduce",
            "--data",
            "/d",
            "--backend",
            "ndarray",
            "--epochs",
            "1",
        ])
        .unwrap();
        match cli.task {
            Task::Reproduce { backend, args } => {
                assert_eq!(backend, "flex");
                assert_eq!(
                    args,
                    ["--data", "/d", "--backend", "ndarray", "--epochs", "1"]
                );
            }
            other => panic!("{other:?}"),
        }
        let cli =
            Cli::try_parse_from(["xtask", "reproduce", "--backend", "ndarray", "--list"]).unwrap();
        assert!(matches!(
            cli.task,
            Task::Reproduce { ref backend, ref args } if backend == "ndarray" && args == &["--list"]
        ));
    }
}
