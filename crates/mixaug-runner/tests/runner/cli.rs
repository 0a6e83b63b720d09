//! The `mixaug` binary end to end: a run killed with SIGKILL mid-epoch and continued with
//! `--resume` computes the same metrics as an uninterrupted run, on a terminal `mixaug
//! train` shows burn-train's terminal UI and its stop keeps the state, and every paper
//! table of `configs/tables/` passes `mixaug reproduce --smoke` (each row and column
//! trained one step on generated data in the real format).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
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
fn fashion_mnist(work: &Path, train_per_class: usize) -> PathBuf {
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

/// Feeds the terminal's output to `screen` until `done` holds of its contents; panics
/// naming `what` after a minute, or when the program ends first.
fn wait_for(
    output: &mpsc::Receiver<Vec<u8>>,
    screen: &mut vt100::Parser,
    what: &str,
    done: impl Fn(&str) -> bool,
) {
    let start = Instant::now();
    while !done(&screen.screen().contents()) {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "no {what} on the terminal; it shows:\n{}",
            screen.screen().contents()
        );
        match output.recv_timeout(Duration::from_millis(100)) {
            Ok(bytes) => screen.process(&bytes),
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            Err(mpsc::RecvTimeoutError::Disconnected) => panic!(
                "the program ended before showing {what}:\n{}",
                screen.screen().contents()
            ),
        }
    }
}

/// The last epoch whose history and three checkpoints are all in the state folder `state`.
fn last_complete_epoch(state: &Path) -> usize {
    (1..10_000)
        .rev()
        .find(|e| {
            state.join(format!("history-{e:04}.toml")).is_file()
                && ["model", "optim", "scheduler"]
                    .iter()
                    .all(|r| state.join(format!("checkpoint/{r}-{e}.bpk")).is_file())
        })
        .unwrap_or(0)
}

// util-linux's `script` gives the program its terminal.
#[cfg(target_os = "linux")]
#[test]
fn on_a_terminal_train_shows_the_terminal_ui_whose_stop_keeps_the_state() {
    let work = tempfile::tempdir().unwrap();
    let data = fashion_mnist(work.path(), 4);
    let config = work.path().join("run.toml");
    // More epochs than the keys below take to arrive: the run must still be training.
    std::fs::write(
        &config,
        crate::tiny_experiment("tui", &data, &[0], 8, 200, ""),
    )
    .unwrap();
    let out = work.path().join("run");
    // util-linux's `script` runs the binary on a pseudo-terminal of 120×36 and passes our
    // pipe to it as keys.
    let command = format!(
        "stty cols 120 rows 36; exec '{}' train '{}' --out '{}'",
        env!("CARGO_BIN_EXE_mixaug"),
        config.display(),
        out.display()
    );
    let mut child = Command::new("script")
        .args([
            "--quiet",
            "--return",
            "--flush",
            "--command",
            &command,
            "/dev/null",
        ])
        .env_remove("CI")
        .env("TERM", "xterm-256color")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the terminal test needs util-linux's `script`");
    let (sender, output) = mpsc::channel();
    let mut stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        let mut buffer = [0u8; 65536];
        while let Ok(n @ 1..) = stdout.read(&mut buffer) {
            if sender.send(buffer[..n].to_vec()).is_err() {
                break;
            }
        }
    });
    let mut keys = child.stdin.take().unwrap();
    let mut screen = vt100::Parser::new(36, 120, 0);

    // The UI names the run and shows its metrics and progress, and the run keeps a
    // finished epoch.
    let state = out.join("state/seed-0");
    wait_for(&output, &mut screen, "training UI", |s| {
        s.contains("Status: tui seed 0 (1/1)")
            && s.contains("mix_loss")
            && s.contains("Mode      : Training")
            && last_complete_epoch(&state) > 0
    });
    assert!(screen.screen().alternate_screen());
    // `q` asks what to do, `s` stops the training.
    keys.write_all(b"q").unwrap();
    wait_for(&output, &mut screen, "quit menu", |s| {
        s.contains("Stop the training.")
    });
    keys.write_all(b"s").unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the run went on after `s`"
        );
        std::thread::sleep(Duration::from_millis(10));
    };
    while let Ok(bytes) = output.recv_timeout(Duration::from_secs(1)) {
        screen.process(&bytes);
    }
    // The terminal is given back, and the error says what stopped the run and which
    // state is kept; the epoch lines of the UI's run are printed.
    assert!(!status.success());
    assert!(!screen.screen().alternate_screen());
    let text = screen.screen().contents();
    assert!(
        text.contains("(Stopping training from user input.)"),
        "{text}"
    );
    let kept = last_complete_epoch(&state);
    assert!(
        text.contains(&format!("its state after epoch {kept} is kept")),
        "{text}"
    );
    assert!(text.contains("tui seed 0 epoch 1/200: mix_loss"), "{text}");
    assert!(!out.join("seed-0.safetensors").exists());
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
