//! On a terminal, `mixaug train` shows burn-train's terminal UI, whose `q` then `s` stop
//! the run with an error naming the reason and the kept state. util-linux's `script` gives
//! the program a pseudo-terminal (so this module is Linux-only) and the `vt100` crate reads
//! its screen.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Feeds the terminal's output to `screen` until `done` holds of its contents; panics
/// naming `what` after `seconds`, or when the program ends first.
fn wait_for(
    output: &mpsc::Receiver<Vec<u8>>,
    screen: &mut vt100::Parser,
    what: &str,
    seconds: u64,
    done: impl Fn(&str) -> bool,
) {
    let start = Instant::now();
    while !done(&screen.screen().contents()) {
        assert!(
            start.elapsed() < Duration::from_secs(seconds),
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

#[test]
fn on_a_terminal_train_shows_the_terminal_ui_whose_stop_keeps_the_state() {
    let work = tempfile::tempdir().unwrap();
    let data = crate::cli::fashion_mnist(work.path(), 4);
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
    // As long as the kill test's first epoch may take on a loaded machine.
    wait_for(&output, &mut screen, "training UI", 300, |s| {
        s.contains("Status: tui seed 0 (1/1)")
            && s.contains("mix_loss")
            && s.contains("Mode      : Training")
            && last_complete_epoch(&state) > 0
    });
    assert!(screen.screen().alternate_screen());
    // `q` asks what to do, `s` stops the training.
    keys.write_all(b"q").unwrap();
    wait_for(&output, &mut screen, "quit menu", 60, |s| {
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
    // The kept epoch's line is among the last ones printed (the screen keeps no scrollback).
    assert!(
        text.contains(&format!("tui seed 0 epoch {kept}/200: mix_loss")),
        "{text}"
    );
    assert!(!out.join("seed-0.safetensors").exists());
}
