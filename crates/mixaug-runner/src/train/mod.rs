//! One training run on burn-train's `Learner`: sample → guidance → apply → forward(s) →
//! loss in the run's [`TrainStep`](burn::train::TrainStep) (`step.rs`), burn-optim's
//! optimiser and schedule (`options.rs`, `schedule.rs`), clean top-1/top-5 evaluation after
//! each epoch as burn-train metrics (`metrics.rs`), burn-train's checkpointers and metric
//! loggers in the state folder (`state.rs`), and its execution strategies for several
//! devices.
//!
//! # What stays ours, and why
//! - The loaders (`loader.rs`): burn-train's `DataLoader` trait over `mixaug-data`'s
//!   seeded loader, so each batch carries its epoch and step, the key of its mixing draws.
//! - The metrics: mixed loss, hit counts and the ratio statistics are counted as the
//!   runner always did, so that metrics of the same seed stay equal to the digit.
//! - The renderer (`events.rs`): progress lines and per-epoch rows for `mixaug`.
//! - The checkpointer writes atomically (`state.rs`): burn-train's writes in place.
//! - Global-norm gradient clipping ([`crate::clip`]): burn-optim clips per tensor.
//!
//! # Resuming
//! With a state folder ([`RunControl::state_dir`]) every finished epoch leaves its
//! checkpoints and history there; a run that finds a complete epoch resumes after it
//! (burn-train's `checkpoint(epoch)`), whenever the previous process was killed. Every
//! random draw is keyed by `(seed, epoch, step)` — data order and augmentation by the
//! loader, mixing by [`mixaug_masks::MixRng`], and the backend's generator (dropout) is
//! re-seeded at each epoch's first step — and the optimiser and schedule state come back
//! from the checkpoint, so the continued run computes exactly what the uninterrupted one
//! would have (same backend, one device; only the measured throughput differs: with
//! several devices only the first device's generator is re-seeded). One caveat, measured
//! on flex: two trainings running at the same time in one process compute slightly
//! different numbers than each alone, so exactness holds for one training per process,
//! which is how `mixaug train` and `mixaug reproduce` run.

mod events;
mod loader;
mod metrics;
mod options;
mod schedule;
mod state;
mod step;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::mpsc;

use anyhow::{Result, anyhow, bail, ensure};
use burn::prelude::*;
use burn::store::ModuleRecord;
use burn::tensor::distributed::{DistributedConfig, ReduceOperation};
use burn::train::checkpoint::KeepLastNCheckpoints;
use burn::train::logger::{FileMetricLogger, InMemoryMetricLogger};
use burn::train::metric::LearningRateMetric;
use burn::train::renderer::MetricsRenderer;
#[cfg(feature = "tui")]
use burn::train::renderer::tui::TuiMetricsRendererWrapper;
use burn::train::{ExecutionStrategy, Learner, MultiDeviceOptim, SupervisedTraining};
use mixaug_data::Loader;
use mixaug_masks::{MixMethod, Mixer, Needs};

pub use loader::{DeviceShares, EvalBatch, StepBatch};
pub use metrics::{EpochMetrics, EvalOutput, EvalSource, MixOutput, RatioStats, ratio_sums};
pub use options::{LossKind, OptimizerKind, Schedule, TrainOptions};

use crate::network::{Network, Teacher};
use events::{Message, Pace, RunRenderer};
use loader::{EvalBatches, TrainBatches};
use metrics::{HitRateMetric, MixLossMetric, RatioMetric};
use state::AtomicCheckpointer;
use step::{Failure, RunStep, StepPlan};

/// Where one training step stands, for progress lines.
#[derive(Debug, Clone, PartialEq)]
pub struct StepProgress {
    /// Epoch, from 1.
    pub epoch: usize,
    /// Epochs of the run.
    pub epochs: usize,
    /// Step within the epoch, from 1.
    pub step: usize,
    /// Steps per epoch.
    pub steps: usize,
    /// Mean `mix_loss` of the epoch so far.
    pub mix_loss: f64,
    /// Training images per second over the epoch so far.
    pub images_per_second: f64,
    /// Estimated seconds until the run ends (training and evaluation), from the pace
    /// since this process started training.
    pub eta_seconds: f64,
}

/// What [`train`] reports while it runs.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A training step finished.
    Step(&'a StepProgress),
    /// An epoch finished and was evaluated; the slice holds every epoch so far (also
    /// those of a resumed run's earlier process).
    Epoch(&'a [EpochMetrics]),
}

/// Where a run keeps its resumable state, and how far each epoch goes.
#[derive(Debug, Clone, Default)]
pub struct RunControl {
    /// Folder of the per-epoch state; when it holds a complete epoch, training continues
    /// after it. `None`: nothing is kept.
    pub state_dir: Option<PathBuf>,
    /// Stop each epoch after this many batches (smoke runs; with several devices, all
    /// the devices' batches together, see [`DeviceShares`]). `None`: the whole epoch.
    pub max_steps_per_epoch: Option<usize>,
    /// Further devices training beside the main one (data parallelism, see [`train`]). Empty: the
    /// training device alone.
    pub replicas: Vec<Device>,
    /// How the devices train together when there are several.
    pub data_parallel: DataParallel,
    /// The frozen network of AttentiveMix (required by it, unused otherwise).
    pub teacher: Option<Teacher>,
    /// Clean, unshuffled training images evaluated after each epoch like the evaluation
    /// set ([`EpochMetrics::train_top1`]). `None`: not measured.
    pub train_eval: Option<Loader>,
    /// Show burn-train's terminal UI while training (curves, progress, `q` to stop the run
    /// and keep its state): needs the `tui` feature (default) and standard output and
    /// input attached to a terminal ([`terminal_ui_possible`]), else [`train`] refuses. The events and results are
    /// the same either way; a caller showing the UI should print nothing meanwhile.
    pub terminal_ui: bool,
    /// The run's name in the terminal UI and burn-train's summary. `None`: none.
    pub label: Option<String>,
}

/// How several devices ([`RunControl::replicas`]) train together: burn-train's two
/// strategies (`mixaug`'s `--data-parallel multi-device|ddp`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum DataParallel {
    /// burn-train's multi-device strategy, on any backend: each device computes its
    /// batch's gradients, the main device sums them and steps the model, which goes back
    /// to every device. Each device's loss is divided by their number.
    #[default]
    #[value(help = "gradients summed on the first device; any backend")]
    MultiDevice,
    /// burn-train's distributed data parallel strategy: a model on each device, whose
    /// gradients an all-reduce (NCCL) averages during the backward pass, and each device
    /// steps its own copy. CUDA only (burn 0.22 has collective operations for CUDA alone),
    /// each GPU once (NCCL runs one rank per GPU); only the main device evaluates and keeps
    /// checkpoints. BatchNorm's running averages are shared as with the multi-device
    /// strategy (burn's `RunningState` is one for all the forks of a module).
    ///
    /// Experimental: it has not run on two GPUs, and burn-train 0.22.1's workers do not
    /// stop together, so a stop or a failed step can leave the other devices waiting in
    /// the all-reduce (docs/training.md lists the cases).
    #[value(
        help = "burn-train's distributed data parallel, NCCL all-reduce; CUDA only, \
                    experimental: not yet run on two GPUs (docs/training.md)"
    )]
    Ddp,
}

impl DataParallel {
    /// Whether `devices` (the main one first) can train together this way: distributed
    /// data parallel needs distinct CUDA devices; one device trains alone either way.
    pub fn check_devices(self, devices: &[Device]) -> Result<()> {
        if self == Self::MultiDevice || devices.len() < 2 {
            return Ok(());
        }
        ensure!(
            devices.iter().all(crate::device::is_cuda),
            "distributed data parallel training needs CUDA devices (burn 0.22's all-reduce is \
             NCCL's): train other devices with the multi-device strategy"
        );
        ensure!(
            (1..devices.len()).all(|i| !devices[..i].contains(&devices[i])),
            "distributed data parallel training takes each GPU once (NCCL runs one rank per \
             GPU): train one GPU several times with the multi-device strategy"
        );
        Ok(())
    }
}

/// Trains `network` on `train` with `mixer` for `options.epochs` epochs on the autodiff
/// `device` through burn-train's `Learner`, evaluating on `eval` after each epoch (or each
/// [`TrainOptions::eval_every`]-th); `on_event` sees each step and epoch (progress lines,
/// CSV rows) and may stop the run with an error. With `control.state_dir`, each epoch's
/// state is kept and a kept state is continued (see the module docs). A NaN or infinite
/// loss stops the run with an error naming the epoch and step; the state of the last
/// good epoch stays. Returns the trained network on the plain device (`device.inner()`)
/// and the metrics of every epoch.
///
/// # Several devices
/// With [`RunControl::replicas`], burn-train trains on all the devices with the strategy
/// [`RunControl::data_parallel`] names: each optimiser step takes one batch per device
/// (the epoch's batches split between the devices, a remainder dropped), and the step
/// follows the mean loss of all its images. With the multi-device strategy each device's
/// loss is divided by their number and the summed gradients step the model on the main
/// device; BatchNorm statistics are per batch and their running averages shared (burn's
/// `RunningState`). For distributed data parallel (CUDA only) see [`DataParallel::Ddp`].
/// Either differs from one device's run of the same seed (`k` batches per step, so `1/k`
/// as many steps).
// The eight inputs are independent and each documented; a struct would only rename them.
#[allow(clippy::too_many_arguments)]
pub fn train(
    network: Network,
    mixer: &MixMethod,
    train: &Loader,
    eval: &Loader,
    options: &TrainOptions,
    control: &RunControl,
    device: &Device,
    mut on_event: impl FnMut(Event<'_>) -> Result<()> + Send,
) -> Result<(Network, Vec<EpochMetrics>)> {
    ensure!(
        device.is_autodiff(),
        "training needs an autodiff device (`device.autodiff()`)"
    );
    options.validate()?;
    if mixer.needs() == Needs::Attention && control.teacher.is_none() {
        bail!(
            "{} needs a frozen teacher network (`RunControl::teacher`; the experiment key `teacher`)",
            mixer.name()
        );
    }
    if matches!(options.loss, LossKind::Sumix(_))
        && matches!(mixer.needs(), Needs::PercentMaps | Needs::Attention)
    {
        bail!(
            "SUMix is implemented over mixers that need no model; {} needs a model's maps",
            mixer.name()
        );
    }
    ensure!(
        mixer.needs() != Needs::ClassAttention || !matches!(options.loss, LossKind::Sumix(_)),
        "train.loss: SUMix is not defined on top of {}",
        mixer.name()
    );
    ensure!(
        network.mid.is_some() == options.mid_level_head,
        "the network's mid-level head does not match train.mid_level_head"
    );
    let devices: Vec<Device> = std::iter::once(device.clone())
        .chain(control.replicas.iter().map(|d| match d.is_autodiff() {
            true => d.clone(),
            false => d.clone().autodiff(),
        }))
        .collect();
    let k = devices.len();
    // Equal shares: burn-train's workers meet at every step, so a device with a batch more
    // than the others would wait for them forever (see `DeviceShares`).
    let shares = device_shares(train, control)?;
    let batches = shares.used();
    control.data_parallel.check_devices(&devices)?;
    let ddp = k > 1 && control.data_parallel == DataParallel::Ddp;
    let kept = match &control.state_dir {
        Some(state) => state::last_complete(state)?,
        None => None,
    };
    let (first_epoch, history) = kept
        .as_ref()
        .map_or((0, Vec::new()), |k| (k.history.len(), k.history.clone()));
    ensure!(
        first_epoch <= options.epochs,
        "the kept state has {first_epoch} epochs but the run has {}",
        options.epochs
    );
    let failure = Failure::default();
    let mut model = RunStep::new(
        network,
        StepPlan {
            mixer: mixer.clone(),
            options: options.clone(),
            teacher: control.teacher.clone(),
            teachers: Default::default(),
            devices: k,
            // The all-reduce averages the devices' gradients; burn-train's multi-device
            // strategy adds them up.
            loss_divisor: if ddp { 1 } else { k },
            failure: failure.clone(),
        },
    );
    if let Some(kept) = &kept {
        // The kept weights come back here and not only through burn-train's
        // `checkpoint(epoch)`: a finished run returns them without training, and the
        // parameter ids they bring back are those the `new_layers_lr` group must name.
        let unreadable = |e: &dyn std::fmt::Display| {
            anyhow!(
                "cannot read the network state {}: {e}",
                kept.model.display()
            )
        };
        match kept.legacy {
            true => {
                model.network = model
                    .network
                    .clone()
                    .try_load_file(&kept.model)
                    .map_err(|e| unreadable(&e))?;
            }
            false => {
                let record = ModuleRecord::load(&kept.model).map_err(|e| unreadable(&e))?;
                model = model.try_load_record(record).map_err(|e| unreadable(&e))?;
            }
        }
        if kept.history.len() == options.epochs {
            return Ok((model.network.valid(), history));
        }
        if kept.legacy {
            bail!(
                "{} holds the state of an earlier mixaug, whose optimiser state cannot be \
                 continued: run without --resume to train it again",
                kept.model.parent().unwrap_or(&kept.model).display()
            );
        }
        ensure!(
            kept.steps_per_epoch == Some(batches / k),
            "the kept state was trained with {:?} optimiser steps per epoch, this run takes {} \
             (another --device list or max_steps_per_epoch): its schedule cannot be continued",
            kept.steps_per_epoch,
            batches / k
        );
        kept.check_records()?;
    }
    let scheduler = schedule::scheduler(
        options,
        batches / k,
        options.new_layers_lr.map(|_| model.network.new_layers()),
    )?;
    let learner = Learner::new(model, options::optimizer(options), scheduler);
    let (every, epochs) = (options.eval_every, options.epochs);
    let train_loader = Arc::new(TrainBatches::new(train.clone(), batches, first_epoch));
    let eval_loader = Arc::new(EvalBatches::new(
        eval.clone(),
        control.train_eval.clone(),
        first_epoch,
        move |epoch| epoch % every == 0 || epoch == epochs,
    ));
    let (sender, receiver) = mpsc::channel();
    let renderer = RunRenderer::new(
        sender,
        failure.clone(),
        history.clone(),
        control.state_dir.clone(),
        options.epochs,
        Pace {
            steps: batches / k,
            images_per_step: train.batch_size() * k,
            devices: k,
        },
        control
            .terminal_ui
            .then(|| terminal_ui(&failure, first_epoch))
            .transpose()?,
    );
    let directory = control
        .state_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from("."));
    let strategy = match (k, ddp) {
        (1, _) => ExecutionStrategy::SingleDevice(device.clone()),
        (_, false) => ExecutionStrategy::MultiDevice(devices, MultiDeviceOptim::OptimMainDevice),
        (_, true) => ExecutionStrategy::ddp(
            devices,
            DistributedConfig {
                all_reduce_op: ReduceOperation::Mean,
            },
        ),
    };
    let mut training = SupervisedTraining::new(directory, train_loader, eval_loader)
        .metric_train_numeric(MixLossMetric::default())
        .metric_train_numeric(LearningRateMetric::new())
        .metric_valid_numeric(HitRateMetric::top1())
        .metric_valid_numeric(HitRateMetric::top5())
        .num_epochs(options.epochs)
        .renderer(Box::new(renderer))
        .with_interrupter(failure.interrupter())
        .with_application_logger(None)
        .with_training_strategy(strategy.into());
    if step::reports_ratio(mixer, &options.loss) {
        training = training.metric_train(RatioMetric::continuing(
            history.last().and_then(|m| m.ratio.as_ref()),
        ));
    }
    if control.train_eval.is_some() {
        training = training.metric_valid_numeric(HitRateMetric::train_top1());
    }
    if let Some(label) = &control.label {
        training = training.label(label);
    }
    training = match &control.state_dir {
        Some(state) => training
            .with_metric_logger(FileMetricLogger::new(state))
            .with_custom_checkpointers(
                AtomicCheckpointer::new(state, "model"),
                AtomicCheckpointer::new(state, "optim"),
                AtomicCheckpointer::new(state, "scheduler"),
            )
            .with_checkpointing_strategy(KeepLastNCheckpoints::new(2)),
        None => training.with_metric_logger(InMemoryMetricLogger::default()),
    };
    if first_epoch > 0 {
        training = training.checkpoint(first_epoch);
    }

    let (result, events) = std::thread::scope(|scope| {
        let failure = failure.clone();
        let events = scope.spawn(move || -> Result<Vec<EpochMetrics>> {
            // Stops the `Learner` if the caller's handler fails or panics.
            let mut guard = StopOnDrop(Some(failure.clone()));
            let mut last = history;
            for message in receiver {
                match message {
                    Message::Step(progress) => on_event(Event::Step(&progress))?,
                    Message::Epoch(history) => {
                        on_event(Event::Epoch(&history))?;
                        last = history;
                    }
                }
            }
            guard.0 = None;
            Ok(last)
        });
        let mut result = training.launch(learner);
        // The renderer holds the sender: dropping it ends the event thread's loop.
        drop(std::mem::replace(
            &mut result.renderer,
            Box::new(burn::train::renderer::CliMetricsRenderer::new()),
        ));
        (result, events.join())
    });
    let history = match events {
        Ok(history) => history,
        Err(panic) => std::panic::resume_unwind(panic),
    };
    if let Some(error) = failure.error() {
        bail!(error);
    }
    let history = history?;
    if let Some(error) = result.error {
        bail!("training stopped: {error}");
    }
    if history.len() < options.epochs {
        let reason = failure
            .interrupter()
            .interruption()
            .and_then(|stop| stop.reason)
            .map_or(String::new(), |reason| format!(" ({reason})"));
        let kept = match &control.state_dir {
            // An unreadable state folder must not hide why the run stopped.
            Some(state) => match state::last_complete(state).ok().flatten() {
                Some(kept) => format!(
                    "; its state after epoch {} is kept in {}, where a resumed run continues",
                    kept.history.len(),
                    state.display()
                ),
                None => String::new(),
            },
            None => String::new(),
        };
        bail!(
            "training stopped after {} of {} epochs{reason}{kept}",
            history.len(),
            options.epochs
        );
    }
    Ok((result.model.network, history))
}

/// How [`train`] shares each epoch of `train` between the main device and
/// `control.replicas` (the batches after [`RunControl::max_steps_per_epoch`]).
///
/// # Errors
/// When the epoch has no batch, or fewer batches than devices.
pub fn device_shares(train: &Loader, control: &RunControl) -> Result<DeviceShares> {
    let batches = train
        .num_batches()
        .min(control.max_steps_per_epoch.unwrap_or(usize::MAX));
    DeviceShares::new(batches, 1 + control.replicas.len())
}

/// Whether burn-train's terminal UI can be shown: built in (the `tui` feature) and
/// standard output and input attached to a terminal.
pub fn terminal_ui_possible() -> bool {
    cfg!(feature = "tui") && std::io::stdout().is_terminal() && std::io::stdin().is_terminal()
}

/// burn-train's terminal UI, continuing after `first_epoch` epochs; its `q` menu stops
/// the run through `failure`'s interrupter.
#[cfg(feature = "tui")]
fn terminal_ui(failure: &Failure, first_epoch: usize) -> Result<Box<dyn MetricsRenderer>> {
    ensure!(
        terminal_ui_possible(),
        "the terminal UI needs standard output and input attached to a terminal"
    );
    Ok(Box::new(TuiMetricsRendererWrapper::new(
        failure.interrupter(),
        (first_epoch > 0).then_some(first_epoch),
    )))
}

/// The terminal UI is not in a build without the `tui` feature.
#[cfg(not(feature = "tui"))]
fn terminal_ui(_failure: &Failure, _first_epoch: usize) -> Result<Box<dyn MetricsRenderer>> {
    bail!("the terminal UI needs mixaug-runner's `tui` feature, left out of this build")
}

/// Stops the `Learner` when dropped armed: by an early return or a panic of the event
/// thread.
struct StopOnDrop(Option<Failure>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        if let Some(failure) = &self.0 {
            failure.stop();
        }
    }
}
