//! The run's burn-train renderer: it turns the `Learner`'s progress and metric updates
//! into [`Event`](super::Event)s for the caller (progress lines, CSV rows) and, at each
//! epoch's end, the epoch's [`EpochMetrics`], kept in the state folder's history before
//! the `Learner` checkpoints the epoch.
//!
//! burn-train's own renderers are a terminal UI (its `tui` feature) and a plain one that
//! prints a debug dump of its progress per batch without the metrics; the runner prints
//! one line per step and per epoch as before, from the values burn-train computes. When
//! the caller asks for the terminal UI ([`super::RunControl::terminal_ui`]), this renderer
//! passes every training and validation update on to it as well (not the end of training,
//! see [`RunRenderer::on_train_end`]): the history and the caller's events stay the
//! same, only what the terminal shows changes.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::mpsc::Sender;
use std::time::Instant;

use burn::train::LearnerSummary;
use burn::train::logger::{EvaluationProgressLogger, TrainingProgressLogger};
use burn::train::metric::store::Split;
use burn::train::metric::{LearningRateMetric, Metric, MetricDefinition, MetricId, NumericEntry};
use burn::train::renderer::{
    EvaluationName, MetricState, MetricsRenderer, MetricsRendererEvaluation,
    MetricsRendererTraining,
};

use super::metrics::{MIX_LOSS, RATIO, RatioStats, TOP1, TOP5, TRAIN_TOP1};
use super::state::save_history;
use super::step::Failure;
use super::{EpochMetrics, StepProgress};

/// What the renderer tells the thread that calls the caller's event handler.
pub(crate) enum Message {
    /// A training step was processed.
    Step(StepProgress),
    /// An epoch ended: every epoch so far.
    Epoch(Vec<EpochMetrics>),
}

/// The values of the epoch under way.
#[derive(Debug)]
struct Epoch {
    started: Option<Instant>,
    seconds: f64,
    images: usize,
    /// The last progress count seen, and how many times: with several devices
    /// burn-train reports each optimiser step once per device, with the same count.
    last_items: usize,
    seen: usize,
    loss_sum: f64,
    mix_loss: f64,
    lr: f64,
    top1: f64,
    top5: f64,
    train_top1: Option<f64>,
    ratio: Option<RatioStats>,
}

impl Default for Epoch {
    fn default() -> Self {
        Self {
            started: None,
            seconds: 0.0,
            images: 0,
            last_items: 0,
            seen: 0,
            loss_sum: 0.0,
            mix_loss: f64::NAN,
            lr: f64::NAN,
            top1: f64::NAN,
            top5: f64::NAN,
            train_top1: None,
            ratio: None,
        }
    }
}

/// The renderer of one run.
pub(crate) struct RunRenderer {
    sender: Sender<Message>,
    failure: Failure,
    names: HashMap<MetricId, String>,
    lr_name: String,
    history: Vec<EpochMetrics>,
    state: Option<PathBuf>,
    epochs: usize,
    pace: Pace,
    /// Whether the split under way is the training split.
    training: bool,
    epoch: usize,
    current: Epoch,
    started: Instant,
    steps_done: usize,
    steps_left: usize,
    /// burn-train's renderer that shows the run (its terminal UI), if any.
    display: Option<Box<dyn MetricsRenderer>>,
}

/// How a run's epochs are cut: what the progress lines count.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pace {
    /// Optimiser steps per epoch.
    pub steps: usize,
    /// Images per optimiser step (all devices').
    pub images_per_step: usize,
    /// Devices, each reporting every step.
    pub devices: usize,
}

impl RunRenderer {
    /// A renderer continuing `history` (the epochs already done) for a run of `epochs`
    /// epochs cut as `pace` says, keeping each epoch's history in `state`, and passing
    /// every training and validation update on to `display` (burn-train's terminal UI)
    /// when there is one.
    // Each input is a separate part of the run; a struct would only rename them.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        sender: Sender<Message>,
        failure: Failure,
        history: Vec<EpochMetrics>,
        state: Option<PathBuf>,
        epochs: usize,
        pace: Pace,
        display: Option<Box<dyn MetricsRenderer>>,
    ) -> Self {
        let done = history.len();
        Self {
            sender,
            failure,
            names: HashMap::new(),
            lr_name: LearningRateMetric::new().name().to_string(),
            history,
            state,
            epochs,
            pace,
            training: false,
            epoch: done + 1,
            current: Epoch::default(),
            started: Instant::now(),
            steps_done: 0,
            steps_left: (epochs - done) * pace.steps,
            display,
        }
    }

    fn name(&self, id: &MetricId) -> &str {
        self.names.get(id).map_or("", String::as_str)
    }

    /// Passes an update on to the terminal UI when there is one.
    fn show(&mut self, update: impl FnOnce(&mut dyn MetricsRenderer)) {
        if let Some(display) = &mut self.display {
            update(display.as_mut());
        }
    }

    fn send(&self, message: Message) {
        // A closed receiver means the caller stopped the run; the `Learner` stops too.
        let _ = self.sender.send(message);
    }
}

impl RunRenderer {
    /// Counts a training metric update into the epoch under way.
    fn read_train(&mut self, state: &MetricState) {
        match state {
            MetricState::Numeric(entry, Some(value)) => {
                let name = self.name(&entry.metric_id).to_string();
                match (name.as_str(), value) {
                    (MIX_LOSS, NumericEntry::Final(v)) => self.current.mix_loss = *v,
                    (
                        MIX_LOSS,
                        NumericEntry::Aggregated {
                            aggregated_value,
                            count,
                        },
                    ) => {
                        self.current.loss_sum += aggregated_value * *count as f64;
                        self.current.images += count;
                    }
                    (_, NumericEntry::Final(_)) => {}
                    (n, value) if n == self.lr_name => self.current.lr = value.current(),
                    _ => {}
                }
            }
            MetricState::Generic(entry) if self.name(&entry.metric_id) == RATIO => {
                if let Some(stats) = RatioStats::parse(&entry.serialized_entry.serialized) {
                    self.current.ratio = Some(stats);
                }
            }
            MetricState::Numeric(_, None) | MetricState::Generic(_) => {}
        }
    }

    /// Counts an evaluation metric update into the epoch under way.
    fn read_valid(&mut self, state: &MetricState) {
        if let MetricState::Numeric(entry, Some(NumericEntry::Final(value))) = state {
            let value = *value;
            match self.name(&entry.metric_id) {
                TOP1 => self.current.top1 = value,
                TOP5 => self.current.top5 = value,
                TRAIN_TOP1 => self.current.train_top1 = (!value.is_nan()).then_some(value),
                _ => {}
            }
        }
    }

    /// The step's progress line, once every device's batch of it has been counted.
    fn step_done(&mut self, items_processed: usize) {
        if items_processed == self.current.last_items {
            self.current.seen += 1;
        } else {
            (self.current.last_items, self.current.seen) = (items_processed, 1);
        }
        if self.current.seen != self.pace.devices {
            return;
        }
        self.steps_done += 1;
        let epoch_seconds = self
            .current
            .started
            .map_or(0.0, |s| s.elapsed().as_secs_f64());
        let elapsed = self.started.elapsed().as_secs_f64();
        let left = self.steps_left.saturating_sub(self.steps_done);
        self.send(Message::Step(StepProgress {
            epoch: self.epoch,
            epochs: self.epochs,
            step: items_processed.div_ceil(self.pace.images_per_step.max(1)),
            steps: self.pace.steps,
            mix_loss: self.current.loss_sum / self.current.images.max(1) as f64,
            images_per_second: items_processed as f64 / epoch_seconds.max(1e-9),
            eta_seconds: elapsed / self.steps_done as f64 * left as f64,
        }));
    }

    /// Ends the epoch under way: its metrics join the history, kept in the state folder
    /// and sent to the caller.
    fn epoch_done(&mut self, epoch: usize) {
        let current = std::mem::take(&mut self.current);
        self.epoch = epoch + 1;
        // A stopped run may have cut the epoch's evaluation short: it is not recorded (and
        // the `Learner` does not checkpoint it).
        if self.failure.interrupter().should_stop() {
            return;
        }
        self.history.push(EpochMetrics {
            epoch,
            mix_loss: current.mix_loss,
            lr: current.lr,
            top1: current.top1,
            top5: current.top5,
            train_top1: current.train_top1,
            ratio: current.ratio,
            images_per_second: current.images as f64 / current.seconds.max(1e-9),
        });
        if let Some(state) = &self.state
            && let Err(error) = save_history(state, &self.history, self.pace.steps)
        {
            // Before the `Learner`'s flush returns, so it stops before the checkpoint.
            self.failure.fail(format!("{error:#}"));
            return;
        }
        self.send(Message::Epoch(self.history.clone()));
    }
}

impl MetricsRendererTraining for RunRenderer {
    fn update_train(&mut self, state: MetricState) {
        self.read_train(&state);
        self.show(|d| d.update_train(state));
    }

    fn update_valid(&mut self, state: MetricState) {
        self.read_valid(&state);
        self.show(|d| d.update_valid(state));
    }

    /// Not passed on to the terminal UI: it would reset the run's interrupter, erasing the
    /// error or stop reason that [`super::train`] reports after the `Learner` returns. No
    /// summary is configured, so there is nothing to show either way.
    fn on_train_end(
        &mut self,
        _summary: Option<LearnerSummary>,
    ) -> Result<(), Box<dyn std::error::Error>> {
        Ok(())
    }
}

impl TrainingProgressLogger for RunRenderer {
    fn start(
        &mut self,
        total_epochs: usize,
        starting_epoch: usize,
        total_items: Option<usize>,
        label: Option<&str>,
    ) {
        self.started = Instant::now();
        self.show(|d| d.start(total_epochs, starting_epoch, total_items, label));
    }

    fn update_epoch(&mut self, epoch: usize) {
        self.epoch_done(epoch);
        self.show(|d| d.update_epoch(epoch));
    }

    fn start_split(&mut self, split: &str, total_items: usize) {
        self.training = split == <&str>::from(Split::Train);
        if self.training {
            self.current.started = Some(Instant::now());
        }
        self.show(|d| d.start_split(split, total_items));
    }

    fn update_split(&mut self, items_processed: usize) {
        if self.training {
            self.step_done(items_processed);
        }
        self.show(|d| d.update_split(items_processed));
    }

    fn end_split(&mut self) {
        if self.training {
            self.current.seconds = self
                .current
                .started
                .map_or(0.0, |s| s.elapsed().as_secs_f64());
        }
        self.show(|d| d.end_split());
    }

    fn end(&mut self) {
        self.show(|d| TrainingProgressLogger::end(d));
    }

    fn log_event_training(&mut self, event: String) {
        self.show(|d| d.log_event_training(event));
    }
}

// The runner evaluates through the training's validation split; burn-train's separate
// evaluation (test) runs are not used, so these updates have nothing to count or show.
impl MetricsRendererEvaluation for RunRenderer {
    fn update_test(&mut self, _name: EvaluationName, _state: MetricState) {}
}

impl EvaluationProgressLogger for RunRenderer {
    fn start_global_progress(&mut self, _total_tests: usize) {}

    fn start_test(&mut self, _name: &str, _total_items: usize) {}

    fn update_test_progress(&mut self, _items_processed: usize) {}

    fn end_test(&mut self) {}

    fn end_global_progress(&mut self) {}

    fn log_event_evaluation(&mut self, _event: String) {}
}

impl MetricsRenderer for RunRenderer {
    fn manual_close(&mut self) {
        self.show(|d| d.manual_close());
    }

    fn register_metric(&mut self, definition: MetricDefinition) {
        self.names
            .insert(definition.metric_id.clone(), definition.name.to_string());
        self.show(|d| d.register_metric(definition));
    }
}
