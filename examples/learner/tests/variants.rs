//! The example's two promises: adding CutMix (or CutMix with SUMix) to the plain program
//! changes at most 10 lines, and every variant trains in the `Learner` and logs finite
//! metrics.

use std::path::Path;
use std::process::Command;

/// Lines inserted plus lines deleted by a longest-common-subsequence line diff of `a`
/// into `b` (what `diff` or `git diff --stat` counts).
fn changed_lines(a: &str, b: &str) -> usize {
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let mut lcs = vec![vec![0usize; b.len() + 1]; a.len() + 1];
    for i in (0..a.len()).rev() {
        for j in (0..b.len()).rev() {
            lcs[i][j] = if a[i] == b[j] {
                lcs[i + 1][j + 1] + 1
            } else {
                lcs[i + 1][j].max(lcs[i][j + 1])
            };
        }
    }
    a.len() + b.len() - 2 * lcs[0][0]
}

fn source(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("src/bin")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn the_line_count_by_hand() {
    // "b" replaced by "x" (1 deletion + 1 insertion) and "d" appended: 3.
    assert_eq!(changed_lines("a\nb\nc", "a\nx\nc\nd"), 3);
    assert_eq!(changed_lines("a\nb", "a\nb"), 0);
}

#[test]
fn mixing_is_at_most_ten_lines_away_from_the_plain_program() {
    let plain = source("plain.rs");
    for variant in ["cutmix.rs", "sumix.rs"] {
        let changed = changed_lines(&plain, &source(variant));
        println!("{variant}: {changed} lines changed from plain.rs");
        // Issue 18: adding CutMix, then SUMix, is at most 10 lines of difference.
        assert!(
            changed <= 10,
            "{variant} changes {changed} lines of plain.rs"
        );
    }
}

/// The numbers of a metric log (spaces in its name written `_`): one serialised entry a
/// line, its value first.
fn logged(dir: &Path, split: &str, epoch: usize, metric: &str) -> Vec<f64> {
    let path = dir.join(format!("{split}/epoch-{epoch}/{metric}.log"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .map(|line| line.split(',').next().unwrap().parse().unwrap())
        .collect()
}

fn trains(binary: &str) {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(binary).arg(dir.path()).output().unwrap();
    assert!(
        output.status.success(),
        "{binary} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    // 80 training images in batches of 16 → 5 steps an epoch; 40 validation images in
    // batches of 20 → 2; two epochs.
    for epoch in [1, 2] {
        for (split, metric, batches) in [
            ("train", "Loss", 5),
            ("train", "Learning_Rate", 5),
            ("train", "Iteration_Speed", 5),
            ("valid", "Loss", 2),
            ("valid", "Accuracy", 2),
            ("valid", "Top-K_Accuracy_@_TopK(5)", 2),
        ] {
            // One line a batch, then the epoch's.
            let values = logged(dir.path(), split, epoch, metric);
            assert_eq!(
                values.len(),
                batches + 1,
                "{binary} {split} {metric} epoch {epoch}"
            );
            assert!(
                values.iter().all(|v| v.is_finite()),
                "{binary} {split} {metric}: {values:?}"
            );
        }
    }
}

#[test]
fn the_plain_program_trains() {
    trains(env!("CARGO_BIN_EXE_plain"));
}

#[test]
fn the_cutmix_program_trains() {
    trains(env!("CARGO_BIN_EXE_cutmix"));
}

#[test]
fn the_sumix_program_trains() {
    trains(env!("CARGO_BIN_EXE_sumix"));
}
