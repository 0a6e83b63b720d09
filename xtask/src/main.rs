//! `cargo xtask`: the project's workflows, as cargo commands.
//!
//! * `cargo xtask test [--backend B]…` — the test command of README.md: the whole
//!   workspace (unit tests, doctests) and the shared backend suite on every backend named
//!   (default `flex`), in one build.
//! * `cargo xtask reproduce [ARGS]…` — the main job: `mixaug reproduce` in release mode,
//!   the quick table on Fashion-MNIST with its report and plots; with `-- --table NAME`,
//!   `--list` or `--smoke`, the paper tables of `configs/tables/`.
//! * `cargo xtask gallery [ARGS]…` — `mixaug gallery` in release mode.
//! * `cargo xtask bench [--backend B] [ARGS]…` — the criterion benches.
//! * `cargo xtask lint` — `cargo fmt --check` and `cargo clippy --all-targets -D warnings`.
//! * `cargo xtask data fetch NAME [--from DIR] [--data-dir DIR] [--offline]` — find a local
//!   copy of a data set (or download it), verify it and link it into the data directory;
//!   `cargo xtask data list` shows what is there.
//!
//! xtask itself depends on no backend: it forwards `--backend` to the cargo features of
//! the crate it runs (`mixaug-runner`, `mixaug-benches`, `mixaug-backend-tests`).

use std::path::PathBuf;
use std::process::Command;

mod data;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};

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
        /// flex, ndarray, wgpu or tch (repeatable). cuda/cpu/vulkan/metal cannot run here.
        #[arg(long = "backend", value_name = "B")]
        backends: Vec<String>,
        /// Extra arguments for the test binaries (after `--`).
        #[arg(last = true)]
        rest: Vec<String>,
    },
    /// Run the quick table on Fashion-MNIST, or a paper table (arguments go to `mixaug
    /// reproduce`: `--table NAME`, `--list`, `--smoke`, `--epochs`, `--seeds`, `--data`,
    /// `--out`, `--resume`, `--quiet`).
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
    /// Find, verify and link (or download) the data sets.
    Data {
        #[command(subcommand)]
        action: DataAction,
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
        /// Never download; fail with what was looked for.
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
const SUITE_BACKENDS: &[&str] = &["flex", "ndarray", "wgpu", "tch"];
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
        cmd.args(["--no-default-features", "--features", backend]);
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

fn main() -> Result<()> {
    match Cli::parse().task {
        Task::Test { backends, rest } => test(backends, rest),
        Task::Reproduce { backend, args } => runner("reproduce", &backend, args),
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
