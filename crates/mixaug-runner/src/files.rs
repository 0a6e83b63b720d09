//! Files a run writes: atomically (never half-written), and the commit they come from.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Writes `path` atomically: `write` fills `<path>.partial` (a file or a folder), which is
/// then renamed into place, so that `path` is either absent, the old one or complete.
pub fn atomically(path: &Path, write: impl FnOnce(&Path) -> Result<()>) -> Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    let partial = PathBuf::from(partial);
    write(&partial).with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, path)
        .with_context(|| format!("cannot move {} into place", path.display()))
}

/// Writes `text` to `path` atomically (see [`atomically`]).
pub fn write_atomically(path: &Path, text: &str) -> Result<()> {
    atomically(path, |partial| Ok(std::fs::write(partial, text)?))
}

/// The short commit of the checkout the process runs in, or "unknown".
pub fn git_commit() -> String {
    std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_else(|| "unknown".into())
}
