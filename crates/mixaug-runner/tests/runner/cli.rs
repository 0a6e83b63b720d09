//! The `mixaug` binary end to end: a run killed with SIGKILL mid-epoch and continued with
//! `--resume` computes the same metrics as an uninterrupted run, and every paper table of
//! `configs/tables/` passes `mixaug reproduce --smoke` (each row and column trained one
//! step on generated data in the real format). The terminal UI's test is `terminal.rs`.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use mixaug_data::{DatasetId, SyntheticSpec, write_synthetic};

fn mixaug() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_mixaug"));
    cmd.env("CI", "1");
    cmd
}

fn experiment(data: &Path) -> String {
    crate::tiny_experiment("kill-and-resume", data, &[0], 8, 4, "")
}

/// metrics.csv without the measured throughput column.
fn computed_metrics(run: &Path) -> Vec<String> {
    std::fs::read_to_string(run.join("metrics.csv"))
        .unwrap()
        .lines()
        .map(|l| l.rsplit_once(',').unwrap().0.to_string())
        .collect()
}

/// A generated Fashion-MNIST of 10 classes in `work`: `train_per_class` training images
/// and 2 test images per class.
pub(crate) fn fashion_mnist(work: &Path, train_per_class: usize) -> PathBuf {
    let spec = SyntheticSpec {
        classes: 10,
        train_per_class,
        test_per_class: 2,
        ..SyntheticSpec::default()
    };
    write_synthetic(DatasetId::FashionMnist, work, &spec).unwrap()
}

#[test]
fn a_run_killed_mid_epoch_resumes_to_the_same_metrics() {
    let work = tempfile::tempdir().unwrap();
    let data = fashion_mnist(work.path(), 12);
    let config = work.path().join("run.toml");
    std::fs::write(&config, experiment(&data)).unwrap();
    let train = |out: &Path, resume: bool| {
        let mut cmd = mixaug();
        cmd.arg("train")
            .arg(&config)
            .arg("--out")
            .arg(out)
            .arg("--quiet");
        if resume {
            cmd.arg("--resume");
        }
        cmd
    };

    let whole = work.path().join("whole");
    let output = train(&whole, false).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let killed = work.path().join("killed");
    let mut child = train(&killed, false)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let first_epoch = killed.join("state/seed-0/history-0001.toml");
    let start = Instant::now();
    while !first_epoch.is_file() {
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "no epoch finished"
        );
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        !killed.join("seed-0.safetensors").exists(),
        "the run finished before it was killed"
    );
    // The epoch's state is saved before metrics.csv is rewritten, so the kill can land
    // between the two: no CSV yet is a legitimate state (resume rebuilds the rows from the
    // saved history).
    let kept = if killed.join("metrics.csv").exists() {
        computed_metrics(&killed)
    } else {
        Vec::new()
    };
    assert!(kept.len() < 5, "{kept:?}");

    let output = train(&killed, true).output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(computed_metrics(&killed), computed_metrics(&whole));
    assert_eq!(computed_metrics(&whole).len(), 5);

    // Resuming with a different experiment is refused, naming the hashes.
    std::fs::write(&config, experiment(&data).replace("lr = 0.05", "lr = 0.01")).unwrap();
    let output = train(&killed, true).output().unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("different experiment"), "{stderr}");
}

#[test]
fn every_paper_table_passes_smoke() {
    let tables = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../configs/tables");
    let out = tempfile::tempdir().unwrap();
    let output = mixaug()
        .args(["reproduce", "--smoke", "--quiet", "--tables"])
        .arg(&tables)
        .arg("--out")
        .arg(out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // Seven paper tables, the quick table and its SUMix diagnosis.
    assert_eq!(stdout.matches(" ok — ").count(), 9, "{stdout}");

    let listed = mixaug()
        .args(["reproduce", "--list", "--tables"])
        .arg(&tables)
        .output()
        .unwrap();
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert_eq!(listed.lines().count(), 9, "{listed}");
    assert!(
        listed.contains("snapmix-table1") && listed.contains("quick "),
        "{listed}"
    );
}
