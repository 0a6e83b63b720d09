//! A run's resumable state folder: burn-train's checkpoints of the model, optimiser and
//! scheduler (`checkpoint/{model,optim,scheduler}-N.bpk`, the last two epochs kept),
//! burn-train's metric logs (`train/`, `valid/`), and `history-NNNN.toml`, the
//! [`EpochMetrics`] of epochs `1..=N`.
//!
//! burn-train's `FileCheckpointer` writes a file in place, so a kill during the write
//! leaves a truncated checkpoint that the `Learner` then panics on when resuming; the
//! [`AtomicCheckpointer`] here writes `NAME-N.bpk.partial` and renames it. The history of
//! epoch N is written (by the renderer, when the epoch ends) before the `Learner` saves
//! its checkpoint, so the last epoch whose history and three checkpoints all exist is
//! complete, whenever the process was killed.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use burn::optim::OptimizerRecord;
use burn::optim::lr_scheduler::LrSchedulerRecord;
use burn::train::checkpoint::{Checkpoint, Checkpointer, CheckpointerError};
use serde::{Deserialize, Serialize};

use super::EpochMetrics;
use crate::files::atomically;

/// The three checkpoints burn-train keeps per epoch.
const RECORDS: [&str; 3] = ["model", "optim", "scheduler"];

/// What a history file records: the epochs, and the optimiser steps per epoch the kept
/// schedule counts (absent in the earlier layout).
#[derive(Debug, Serialize, Deserialize)]
struct History {
    #[serde(default)]
    steps_per_epoch: Option<usize>,
    epochs: Vec<EpochMetrics>,
}

/// burn-train's file checkpointer, writing each file under a temporary name first.
pub(crate) struct AtomicCheckpointer {
    directory: PathBuf,
    name: &'static str,
}

impl AtomicCheckpointer {
    /// The checkpointer of the records `name` in `state`'s checkpoint folder.
    pub(crate) fn new(state: &Path, name: &'static str) -> Self {
        Self {
            directory: state.join("checkpoint"),
            name,
        }
    }

    fn path(&self, epoch: usize) -> PathBuf {
        record_path(&self.directory, self.name, epoch)
    }
}

fn record_path(directory: &Path, name: &str, epoch: usize) -> PathBuf {
    directory.join(format!("{name}-{epoch}.bpk"))
}

impl<R: Checkpoint> Checkpointer<R> for AtomicCheckpointer {
    fn save(&self, epoch: usize, record: R) -> Result<(), CheckpointerError> {
        std::fs::create_dir_all(&self.directory).map_err(CheckpointerError::IOError)?;
        atomically(&self.path(epoch), |partial| {
            record
                .save(partial.to_path_buf())
                .map_err(|e| anyhow::anyhow!("{e}"))
        })
        .map_err(|e| CheckpointerError::Unknown(format!("{e:#}")))
    }

    fn restore(&self, epoch: usize) -> Result<R, CheckpointerError> {
        R::load(self.path(epoch))
    }

    fn delete(&self, epoch: usize) -> Result<(), CheckpointerError> {
        match std::fs::remove_file(self.path(epoch)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(CheckpointerError::IOError(e))
            }
            _ => Ok(()),
        }
    }
}

fn history_path(state: &Path, epoch: usize) -> PathBuf {
    state.join(format!("history-{epoch:04}.toml"))
}

/// A complete epoch kept in a state folder.
#[derive(Debug)]
pub(crate) struct Kept {
    /// The metrics of epochs `1..=N`.
    pub history: Vec<EpochMetrics>,
    /// The model's weights after epoch N.
    pub model: PathBuf,
    /// The optimiser steps per epoch its schedule counts (`None` in the earlier layout).
    pub steps_per_epoch: Option<usize>,
    /// The state is in the layout of mixaug before it trained through burn-train
    /// (`epoch-NNNN/network.bpk`, the network's own record, an optimiser state burn-train
    /// cannot read): only a finished run's network and metrics can be taken from it.
    pub legacy: bool,
}

/// The last complete epoch kept in `state`; `None` when there is none (a new run).
pub(crate) fn last_complete(state: &Path) -> Result<Option<Kept>> {
    if !state.is_dir() {
        return Ok(None);
    }
    let numbered = |prefix: &str, suffix: &str| -> Result<Vec<usize>> {
        let mut epochs: Vec<usize> = std::fs::read_dir(state)
            .with_context(|| format!("cannot read {}", state.display()))?
            .filter_map(|entry| {
                let name = entry.ok()?.file_name().to_string_lossy().into_owned();
                name.strip_prefix(prefix)?
                    .strip_suffix(suffix)?
                    .parse()
                    .ok()
            })
            .collect();
        epochs.sort_unstable();
        Ok(epochs)
    };
    let checkpoints = state.join("checkpoint");
    for &epoch in numbered("history-", ".toml")?.iter().rev() {
        if RECORDS
            .iter()
            .all(|name| record_path(&checkpoints, name, epoch).is_file())
        {
            let history = read_history(&history_path(state, epoch))?;
            return Ok(Some(Kept {
                history: history.epochs,
                steps_per_epoch: history.steps_per_epoch,
                model: record_path(&checkpoints, "model", epoch),
                legacy: false,
            }));
        }
    }
    match numbered("epoch-", "")?.last() {
        Some(&epoch) => {
            let dir = state.join(format!("epoch-{epoch:04}"));
            Ok(Some(Kept {
                history: read_history(&dir.join("history.toml"))?.epochs,
                steps_per_epoch: None,
                model: dir.join("network.bpk"),
                legacy: true,
            }))
        }
        None => Ok(None),
    }
}

fn read_history(path: &Path) -> Result<History> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    toml::from_str(&text).with_context(|| format!("corrupt {}", path.display()))
}

impl Kept {
    /// Reads the kept optimiser and scheduler records, so that a corrupt one is an error
    /// here rather than a panic in burn-train's `load_checkpoint`.
    pub(crate) fn check_records(&self) -> Result<()> {
        let epoch = self.history.len();
        let directory = self.model.parent().unwrap_or(Path::new("."));
        let optim = record_path(directory, "optim", epoch);
        OptimizerRecord::load(&optim)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", optim.display()))?;
        let scheduler = record_path(directory, "scheduler", epoch);
        LrSchedulerRecord::load(&scheduler)
            .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", scheduler.display()))?;
        Ok(())
    }
}

/// Writes the history of `history.len()` epochs of `steps_per_epoch` optimiser steps
/// atomically and removes the one of the epoch whose checkpoints burn-train now deletes
/// (it keeps the last two).
pub(crate) fn save_history(
    state: &Path,
    history: &[EpochMetrics],
    steps_per_epoch: usize,
) -> Result<()> {
    std::fs::create_dir_all(state).with_context(|| format!("cannot create {}", state.display()))?;
    let epoch = history.len();
    atomically(&history_path(state, epoch), |partial| {
        let text = toml::to_string(&History {
            steps_per_epoch: Some(steps_per_epoch),
            epochs: history.to_vec(),
        })?;
        Ok(std::fs::write(partial, text)?)
    })?;
    if let Some(old) = epoch.checked_sub(2) {
        let path = history_path(state, old);
        if path.exists() {
            std::fs::remove_file(&path)
                .with_context(|| format!("cannot remove {}", path.display()))?;
        }
    }
    Ok(())
}
