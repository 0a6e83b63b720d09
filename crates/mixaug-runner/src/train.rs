//! One training run: sample → guidance → apply → forward(s) → loss → SGD step, epoch by
//! epoch, with clean top-1/top-5 evaluation after each epoch.
//!
//! The loop is written out here, not run by burn-train's `Learner`. An earlier version of
//! this note said the `Learner`'s step could not express SnapMix's guidance or SUMix's two
//! forwards; that was wrong — a `TrainStep` is user code, and `mixaug-learner` runs every
//! objective through the `Learner` (docs/training.md). Moving this runner onto it, with
//! the guarantees below kept, is still to do (issue 18).
//!
//! # Resuming
//! With a state folder ([`RunControl::state_dir`]) every finished epoch leaves
//! `epoch-NNNN/` there (network and optimiser in burnpack files, which keep the parameter
//! ids the optimiser state is keyed by, and the metrics so far), written as
//! `epoch-NNNN.partial/` and renamed, so a kill at any moment leaves the last complete
//! epoch. A run that finds such a folder continues after it. Every random draw is keyed
//! by `(seed, epoch, step)` — data order and augmentation by the loader, mixing by
//! [`MixRng`], and the backend's generator (dropout) is re-seeded at each epoch start — so
//! the continued run computes exactly what the uninterrupted one would have (same
//! backend; only the measured throughput differs). One caveat, measured on flex: two
//! trainings running at the same time in one process compute slightly different numbers
//! than each alone, so exactness holds for one training per process, which is how
//! `mixaug train` and `mixaug reproduce` run.

use std::ops::Range;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use burn::module::Module;
use burn::module::ParamGroup;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{
    AdamWConfig, GradientsParams, ModuleOptimizer, MultiGradientsParams, Optimizer, SgdConfig,
};
use burn::prelude::*;
use mixaug_data::{Batch, Loader};
use mixaug_loss::{
    SumixConfig, pair_cross_entropy, snapmix_loss, soft_target_cross_entropy, sumix_forward,
};
use mixaug_maps::{CamStatistics, semantic_percent_maps};
use mixaug_masks::{BatchShape, Guide, MixMethod, MixParams, MixRng, Mixer, Needs, StreamKey};
use serde::{Deserialize, Serialize};

use crate::clip::clip_global_norm;
use crate::files::atomically;
use crate::network::{Network, Teacher};

/// The training loss.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum LossKind {
    /// Soft-target cross-entropy against the mixed target (every pair method).
    SoftCe,
    /// Per-sample pair cross-entropy (SnapMix's weights need not sum to 1).
    PairCe,
    /// SUMix on top of the mixer: corrected ratio and uncertainty regulariser.
    Sumix(SumixConfig),
}

/// The learning-rate schedule over the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum Schedule {
    /// Cosine from the base rate to 0 over all steps.
    Cosine,
    /// Multiply by `gamma` at each milestone epoch.
    MultiStep {
        /// Epochs where the rate drops.
        milestones: Vec<usize>,
        /// The factor.
        gamma: f64,
    },
}

/// How a run trains. Every field has a default (the common CIFAR recipe of the papers'
/// code: 200 epochs, SGD lr 0.1 with momentum 0.9, no Nesterov, weight decay 5e-4, cosine,
/// no warm-up, soft-target cross-entropy, no smoothing, mixing seed 0), so an experiment
/// file names only what differs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrainOptions {
    /// Epochs. Default 200.
    pub epochs: usize,
    /// Base learning rate. Default 0.1.
    pub lr: f64,
    /// The optimiser. Default SGD (with [`Self::momentum`] and [`Self::nesterov`]).
    #[serde(skip_serializing_if = "OptimizerKind::is_sgd")]
    pub optimizer: OptimizerKind,
    /// SGD momentum (PyTorch's: dampening 0). Default 0.9.
    pub momentum: f64,
    /// Nesterov momentum. Default false (PyTorch's).
    pub nesterov: bool,
    /// Weight decay: L2 for SGD, decoupled for AdamW. Default 5e-4.
    pub weight_decay: f64,
    /// Parameters whose module path (`blocks.0.norm1.gamma`, `head.bias`) contains any of
    /// these get no weight decay, like openmixup's `paramwise_options` (its ViT recipe:
    /// `["norm", "bias", "cls_token", "pos_embed", "relative_position_bias_table"]`).
    /// Default: every parameter decays.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub no_weight_decay: Vec<String>,
    /// Clip the gradients to this global L2 norm (PyTorch's `clip_grad_norm_`, see
    /// [`crate::clip`]). Default: no clipping.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub grad_clip: Option<f64>,
    /// Learning-rate schedule. Default cosine.
    pub schedule: Schedule,
    /// Epochs of linear warm-up (per step). Default 0.
    pub warmup_epochs: usize,
    /// mmcv's linear warm-up (openmixup): the schedule runs over all steps, warm-up
    /// included, and during the warm-up its rate is multiplied by
    /// `1 − (1 − i/W)·(1 − warmup_ratio)` at step `i` of `W`. Default: none — the rate
    /// rises from `lr/W` to `lr` over the warm-up and the schedule runs over the steps after
    /// it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warmup_ratio: Option<f64>,
    /// The floor of the cosine schedule (mmcv's `min_lr`). Default 0.
    #[serde(skip_serializing_if = "is_zero")]
    pub min_lr: f64,
    /// The loss. Default soft-target cross-entropy.
    pub loss: LossKind,
    /// Label smoothing ε. Default 0.
    pub smoothing: f32,
    /// Seed of the mixing draws (the model and data have their own). Default 0.
    pub seed: u64,
    /// Learning rate of the layers a pretrained backbone lacks (classifier, extra heads),
    /// e.g. SnapMix's 0.01 beside 0.001 for the backbone; it follows the same schedule.
    /// Default: the base rate for every parameter.
    pub new_layers_lr: Option<f64>,
    /// SnapMix's Baseline+: a mid-level branch on `layer3` trained with the same pair
    /// cross-entropy, its logits added to the classifier's at evaluation. Needs a ResNet
    /// and `loss = { kind = "pair_ce" }`. Default: off.
    pub mid_level_head: bool,
    /// Evaluate after every `eval_every`-th epoch and after the last; the epochs between
    /// record NaN accuracies. Default 1 (every epoch; not written out then, so experiments
    /// that do not set it keep their config hashes).
    #[serde(skip_serializing_if = "evaluates_every_epoch")]
    pub eval_every: usize,
}

fn is_zero(value: &f64) -> bool {
    *value == 0.0
}

/// The optimiser of a run.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum OptimizerKind {
    /// SGD with [`TrainOptions::momentum`], [`TrainOptions::nesterov`] and L2 weight decay.
    #[default]
    Sgd,
    /// burn-optim's AdamW (decoupled weight decay [`TrainOptions::weight_decay`]).
    #[serde(rename = "adamw")]
    AdamW {
        /// β₁. Default 0.9.
        #[serde(default = "default_beta1")]
        beta1: f64,
        /// β₂. Default 0.999.
        #[serde(default = "default_beta2")]
        beta2: f64,
        /// ε. Default 1e-8 (PyTorch's; burn-optim's default is 1e-5).
        #[serde(default = "default_eps")]
        eps: f64,
    },
}

fn default_beta1() -> f64 {
    0.9
}

fn default_beta2() -> f64 {
    0.999
}

fn default_eps() -> f64 {
    1e-8
}

impl OptimizerKind {
    fn is_sgd(&self) -> bool {
        *self == Self::Sgd
    }
}

fn evaluates_every_epoch(eval_every: &usize) -> bool {
    *eval_every == 1
}

impl Default for TrainOptions {
    fn default() -> Self {
        Self {
            epochs: 200,
            lr: 0.1,
            optimizer: OptimizerKind::Sgd,
            momentum: 0.9,
            nesterov: false,
            weight_decay: 5e-4,
            no_weight_decay: Vec::new(),
            grad_clip: None,
            schedule: Schedule::Cosine,
            warmup_epochs: 0,
            warmup_ratio: None,
            min_lr: 0.0,
            loss: LossKind::SoftCe,
            smoothing: 0.0,
            seed: 0,
            new_layers_lr: None,
            mid_level_head: false,
            eval_every: 1,
        }
    }
}

impl TrainOptions {
    /// Rejects options that cannot train.
    pub fn validate(&self) -> Result<()> {
        ensure!(self.epochs > 0, "train.epochs must be at least 1");
        ensure!(self.eval_every > 0, "train.eval_every must be at least 1");
        for (name, lr) in [
            ("train.lr", Some(self.lr)),
            ("train.new_layers_lr", self.new_layers_lr),
        ] {
            if let Some(lr) = lr {
                ensure!(
                    lr.is_finite() && lr > 0.0,
                    "{name} must be positive, got {lr}"
                );
            }
        }
        ensure!(
            (0.0..1.0).contains(&self.momentum),
            "train.momentum must be in [0, 1), got {}",
            self.momentum
        );
        ensure!(
            self.weight_decay >= 0.0 && self.weight_decay.is_finite(),
            "train.weight_decay must be ≥ 0, got {}",
            self.weight_decay
        );
        ensure!(
            (0.0..1.0).contains(&self.smoothing),
            "train.smoothing must be in [0, 1), got {}",
            self.smoothing
        );
        ensure!(
            self.warmup_epochs < self.epochs,
            "train.warmup_epochs ({}) must be below train.epochs ({})",
            self.warmup_epochs,
            self.epochs
        );
        if let OptimizerKind::AdamW { beta1, beta2, eps } = self.optimizer {
            ensure!(
                (0.0..1.0).contains(&beta1) && (0.0..1.0).contains(&beta2),
                "train.optimizer: betas must be in [0, 1), got ({beta1}, {beta2})"
            );
            ensure!(
                eps > 0.0 && eps.is_finite(),
                "train.optimizer.eps must be positive, got {eps}"
            );
        }
        ensure!(
            self.no_weight_decay.iter().all(|p| !p.is_empty()),
            "train.no_weight_decay: an empty pattern would exempt every parameter"
        );
        if let Some(max_norm) = self.grad_clip {
            ensure!(
                max_norm > 0.0 && max_norm.is_finite(),
                "train.grad_clip must be positive, got {max_norm}"
            );
        }
        if let Some(ratio) = self.warmup_ratio {
            ensure!(
                (0.0..=1.0).contains(&ratio),
                "train.warmup_ratio must be in [0, 1], got {ratio}"
            );
        }
        ensure!(
            self.min_lr >= 0.0 && self.min_lr <= self.lr,
            "train.min_lr must be in [0, lr], got {}",
            self.min_lr
        );
        if let Schedule::MultiStep { gamma, .. } = &self.schedule {
            ensure!(
                *gamma > 0.0 && gamma.is_finite(),
                "train.schedule.gamma must be positive, got {gamma}"
            );
        }
        if self.mid_level_head {
            ensure!(
                self.loss == LossKind::PairCe,
                "train.mid_level_head (Baseline+) trains with loss = {{ kind = \"pair_ce\" }}"
            );
        }
        Ok(())
    }
}

/// What one epoch measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochMetrics {
    /// Epoch, from 1.
    pub epoch: usize,
    /// Mean training loss on the mixed batches (`mix_loss`: not a clean loss).
    pub mix_loss: f64,
    /// Learning rate at the epoch's last step.
    pub lr: f64,
    /// Clean top-1 accuracy on the evaluation set, in percent (NaN for an epoch that
    /// [`TrainOptions::eval_every`] skipped).
    pub top1: f64,
    /// Clean top-5 accuracy on the evaluation set, in percent (top-k with k = classes
    /// when there are fewer than 5).
    pub top5: f64,
    /// Clean top-1 accuracy on (a prefix of) the training set, in percent, when the run
    /// measures it ([`RunControl::train_eval`]): beside `top1` it shows over-fitting.
    #[serde(default)]
    pub train_top1: Option<f64>,
    /// How the loss re-weighted the mixer's ratio this epoch (SUMix, SnapMix); `None` for
    /// the other losses.
    #[serde(default)]
    pub ratio: Option<RatioStats>,
    /// Training images per second.
    pub images_per_second: f64,
}

/// Epoch means of how a loss re-weights the mixer's ratio λ — SUMix's corrected λ̃, SnapMix's
/// semantic weights ρ — over the mixed samples of the training device's shard: what the
/// quick table's diagnosis reads (`docs/quick-table.md`). Unmixed samples (λ ∈ {0, 1}, a
/// closed gate) are not counted.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct RatioStats {
    /// Mixed samples counted.
    pub samples: usize,
    /// Mean mixer ratio λ: the first image's share of the pixels (or the Beta draw).
    pub lam: f64,
    /// Mean weight the loss gives the first image's class (λ̃_a, or SnapMix's ρ_a).
    pub weight_a: f64,
    /// Mean weight the loss gives the partner's class (1 − λ̃_a, or ρ_b).
    pub weight_b: f64,
    /// Mean |weight_a − λ|.
    pub abs_change: f64,
    /// Share of the samples whose weight_a is below 0.05 or above 0.95 although
    /// 0.05 ≤ λ ≤ 0.95: the re-weighting saturated.
    pub saturated: f64,
    /// SUMix: mean main (classification) term per step; 0 otherwise.
    pub main: f64,
    /// SUMix: mean γ·R per step; 0 otherwise.
    pub regulariser: f64,
    /// Steps counted (for `main` and `regulariser`).
    pub steps: usize,
}

impl RatioStats {
    /// The epoch's means from the sum of its steps' [`ratio_sums`] (read once) over `steps`.
    fn from_sums(sums: &[f64], steps: usize) -> Self {
        let n = sums[0].max(1.0);
        let per_step = steps.max(1) as f64;
        Self {
            samples: sums[0].round() as usize,
            lam: sums[1] / n,
            weight_a: sums[2] / n,
            weight_b: sums[3] / n,
            abs_change: sums[4] / n,
            saturated: sums[5] / n,
            main: sums[6] / per_step,
            regulariser: sums[7] / per_step,
            steps,
        }
    }
}

/// One step's sums over its mixed samples (0 < λ < 1), computed on the device without
/// gradient: `[count, Σλ, Σweight_a, Σweight_b, Σ|weight_a − λ|, Σsaturated, main, γ·R]`
/// (the last two 0 without SUMix). The training loop adds them up over an epoch and reads
/// them once at its end ([`RatioStats`]), so the step itself waits for nothing.
///
/// # Shapes
/// - `lam`, `weight_a`, `weight_b`: `[N]`
/// - `parts` (main term, γ·R): `[1]` each
/// - output: `[8]`
pub fn ratio_sums(
    lam: Tensor<1>,
    weight_a: Tensor<1>,
    weight_b: Tensor<1>,
    parts: Option<(Tensor<1>, Tensor<1>)>,
) -> Tensor<1> {
    let (lam, a, b) = (lam.detach(), weight_a.detach(), weight_b.detach());
    let device = lam.device();
    let mixed = lam
        .clone()
        .greater_elem(0.0)
        .bool_and(lam.clone().lower_elem(1.0))
        .float();
    let inside = |x: Tensor<1>| {
        x.clone()
            .greater_equal_elem(0.05)
            .bool_and(x.lower_equal_elem(0.95))
            .float()
    };
    let saturated = inside(lam.clone()) * inside(a.clone()).neg().add_scalar(1.0);
    let masked = |x: Tensor<1>| (x * mixed.clone()).sum();
    let (main, regulariser) = match parts {
        Some((main, regulariser)) => (main.detach(), regulariser.detach()),
        None => (Tensor::zeros([1], &device), Tensor::zeros([1], &device)),
    };
    Tensor::cat(
        vec![
            mixed.clone().sum(),
            masked(lam.clone()),
            masked(a.clone()),
            masked(b),
            masked((a - lam).abs()),
            masked(saturated),
            main,
            regulariser,
        ],
        0,
    )
}

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
    /// Stop each epoch after this many steps (smoke runs). `None`: the whole epoch.
    pub max_steps_per_epoch: Option<usize>,
    /// Further devices sharing every batch (data parallelism, see [`train`]). Empty: the
    /// training device alone.
    pub replicas: Vec<Device>,
    /// The frozen network of AttentiveMix (required by it, unused otherwise).
    pub teacher: Option<Teacher>,
    /// Clean, unshuffled training images evaluated after each epoch like the evaluation
    /// set ([`EpochMetrics::train_top1`]). `None`: not measured.
    pub train_eval: Option<Loader>,
}

/// The schedule's rate at global `step` (warm-up, then cosine or multi-step).
fn learning_rate(options: &TrainOptions, step: usize, steps_per_epoch: usize) -> f64 {
    let total = (options.epochs * steps_per_epoch).max(1);
    let warmup = options.warmup_epochs * steps_per_epoch;
    match options.warmup_ratio {
        None if step < warmup => options.lr * (step + 1) as f64 / warmup as f64,
        None => scheduled(options, step, warmup, total, steps_per_epoch),
        Some(ratio) => {
            let rate = scheduled(options, step, 0, total, steps_per_epoch);
            if step < warmup {
                rate * (1.0 - (1.0 - step as f64 / warmup as f64) * (1.0 - ratio))
            } else {
                rate
            }
        }
    }
}

/// The schedule's rate at global `step` (warm-up aside), the cosine running from `start`
/// to `total`, the multi-step milestones counted in epochs from the first.
fn scheduled(
    options: &TrainOptions,
    step: usize,
    start: usize,
    total: usize,
    steps_per_epoch: usize,
) -> f64 {
    match &options.schedule {
        Schedule::Cosine => {
            let t = (step - start) as f64 / (total - start).max(1) as f64;
            let (high, low) = (options.lr, options.min_lr);
            low + (high - low) * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
        }
        Schedule::MultiStep { milestones, gamma } => {
            let epoch = step / steps_per_epoch.max(1);
            let drops = milestones.iter().filter(|&&m| epoch >= m).count();
            options.lr * gamma.powi(drops as i32)
        }
    }
}

/// Clean top-1 and top-5 accuracy (percent) of `network` on every batch of `loader`
/// (Baseline+ scores when the network has a mid-level head; `epoch` from 1 decides its
/// detaching, which does not change the forward values).
pub fn evaluate(
    network: &Network,
    loader: &Loader,
    epoch: usize,
    device: &Device,
) -> Result<(f64, f64)> {
    let network = network.valid();
    let device = device.clone().inner();
    let (mut top1, mut top5, mut count) = (0usize, 0usize, 0usize);
    for batch in loader.epoch(0) {
        let batch = batch.context("reading an evaluation batch")?;
        let (images, labels) = to_device(batch, &device);
        let logits = network.scores(images, epoch)?;
        let [n, k] = logits.dims();
        let (_, best) = logits.topk_with_indices(5.min(k), 1);
        let hits = best
            .equal(labels.reshape([n, 1]).expand([n, 5.min(k)]))
            .int();
        let first: Vec<i64> = hits
            .clone()
            .slice(s![.., 0..1])
            .into_data()
            .try_into_vec_as()?;
        let any: Vec<i64> = hits.sum_dim(1).into_data().try_into_vec_as()?;
        top1 += first.iter().filter(|&&h| h > 0).count();
        top5 += any.iter().filter(|&&h| h > 0).count();
        count += n;
    }
    ensure!(count > 0, "the evaluation set is empty");
    Ok((
        100.0 * top1 as f64 / count as f64,
        100.0 * top5 as f64 / count as f64,
    ))
}

/// The run's optimiser: burn-optim's SGD or AdamW, with a second parameter group without
/// weight decay when [`TrainOptions::no_weight_decay`] names one.
fn optimizer(options: &TrainOptions) -> ModuleOptimizer {
    let no_decay = (!options.no_weight_decay.is_empty())
        .then(|| ParamGroup::from_any_predicates(options.no_weight_decay.clone()));
    match options.optimizer {
        OptimizerKind::Sgd => {
            let sgd = |weight_decay: f64| {
                SgdConfig::new()
                    .with_momentum(Some(
                        MomentumConfig::new()
                            .with_momentum(options.momentum)
                            .with_dampening(0.0)
                            .with_nesterov(options.nesterov),
                    ))
                    .with_weight_decay(
                        (weight_decay > 0.0).then(|| WeightDecayConfig::new(weight_decay as f32)),
                    )
                    .build()
            };
            grouped(sgd(options.weight_decay), no_decay, sgd(0.0))
        }
        OptimizerKind::AdamW { beta1, beta2, eps } => {
            let adamw = |weight_decay: f64| {
                AdamWConfig::new()
                    .with_beta_1(beta1 as f32)
                    .with_beta_2(beta2 as f32)
                    .with_epsilon(eps as f32)
                    .with_weight_decay(weight_decay as f32)
                    .build()
            };
            grouped(adamw(options.weight_decay), no_decay, adamw(0.0))
        }
    }
}

/// `all` for every parameter, `exempt` for those of `group`.
fn grouped<O: Optimizer + 'static>(
    all: O,
    group: Option<ParamGroup>,
    exempt: O,
) -> ModuleOptimizer {
    let optimizer = ModuleOptimizer::from(all);
    match group {
        Some(group) => optimizer.with_group(group, exempt, None),
        None => optimizer,
    }
}

/// The epochs a state folder records.
#[derive(Debug, Serialize, Deserialize)]
struct History {
    epochs: Vec<EpochMetrics>,
}

fn epoch_dir(state: &Path, epoch: usize) -> PathBuf {
    state.join(format!("epoch-{epoch:04}"))
}

/// The last complete epoch folder in `state`, if any.
fn last_state(state: &Path) -> Result<Option<(usize, PathBuf)>> {
    if !state.is_dir() {
        return Ok(None);
    }
    let mut best: Option<(usize, PathBuf)> = None;
    for entry in
        std::fs::read_dir(state).with_context(|| format!("cannot read {}", state.display()))?
    {
        let path = entry?.path();
        let name = path
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let Some(epoch) = name
            .strip_prefix("epoch-")
            .and_then(|e| e.parse::<usize>().ok())
        else {
            continue;
        };
        if best.as_ref().is_none_or(|(b, _)| epoch > *b) {
            best = Some((epoch, path));
        }
    }
    Ok(best)
}

/// Writes the state after `history.len()` epochs atomically and removes older ones.
fn save_state(
    state: &Path,
    network: &Network,
    optimizer: &ModuleOptimizer,
    history: &[EpochMetrics],
) -> Result<()> {
    let final_dir = epoch_dir(state, history.len());
    atomically(&final_dir, |partial| {
        if partial.exists() {
            std::fs::remove_dir_all(partial)?;
        }
        std::fs::create_dir_all(partial)?;
        network
            .clone()
            .save_file(partial.join("network.bpk"))
            .map_err(|e| anyhow::anyhow!("network state: {e}"))?;
        optimizer
            .save(partial.join("optimizer.bpk"))
            .map_err(|e| anyhow::anyhow!("optimiser state: {e}"))?;
        let text = toml::to_string(&History {
            epochs: history.to_vec(),
        })?;
        Ok(std::fs::write(partial.join("history.toml"), text)?)
    })?;
    for entry in std::fs::read_dir(state)? {
        let path = entry?.path();
        if path != final_dir
            && path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("epoch-"))
        {
            std::fs::remove_dir_all(&path)?;
        }
    }
    Ok(())
}

/// Loads the state of `dir` into `network` and `optimizer`.
fn load_state(
    dir: &Path,
    network: Network,
    optimizer: ModuleOptimizer,
) -> Result<(Network, ModuleOptimizer, Vec<EpochMetrics>)> {
    let network = network
        .try_load_file(dir.join("network.bpk"))
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("cannot read the network state in {}", dir.display()))?;
    let optimizer = optimizer
        .load(dir.join("optimizer.bpk"))
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("cannot read the optimiser state in {}", dir.display()))?;
    let path = dir.join("history.toml");
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read {}", path.display()))?;
    let history: History =
        toml::from_str(&text).with_context(|| format!("corrupt {}", path.display()))?;
    Ok((network, optimizer, history.epochs))
}

/// The loss of one step (and its graph) on the host batch `batch`, trained on the
/// autodiff `device`.
///
/// The batch is mixed before it is lifted to the autodiff device: it is sampled and its
/// host guide (SaliencyMix's peaks) computed on the host, uploaded to the plain device
/// (`device.inner()`), mixed there (the images need no gradient; model guides are computed
/// with the trained or teacher network and brought back to the plain device) and the mixed
/// batch lifted for the forward pass.
#[allow(clippy::too_many_arguments)]
fn step_loss(
    network: &Network,
    teacher: Option<&Teacher>,
    mixer: &MixMethod,
    options: &TrainOptions,
    rng: &mut MixRng,
    batch: Batch,
    device: &Device,
    epoch: usize,
) -> Result<(Tensor<1>, Option<Tensor<1>>)> {
    let [n, c, h, w] = batch.shape;
    let shape = BatchShape::new(n, c, h, w);
    let params = mixer.sample(rng, shape)?;
    let host_guide = mixer.host_guide(&params, &batch.images, shape)?;
    let (images, labels) = to_device(batch, &device.clone().inner());
    let guide = match (host_guide, mixer.needs()) {
        (Some(guide), _) => guide,
        (None, Needs::PercentMaps) => Guide::PercentMaps(
            semantic_percent_maps(
                &network.model,
                images.clone().autodiff(),
                labels.clone().autodiff(),
                CamStatistics::Batch,
            )?
            .inner(),
        ),
        (None, Needs::Attention) => {
            let teacher = teacher.context("AttentiveMix needs its frozen teacher network")?;
            Guide::Attention(
                teacher
                    .attention
                    .attention(&teacher.network, images.clone().autodiff())?
                    .inner(),
            )
        }
        // TransMix's attention comes from this step's own forward, below.
        (None, Needs::Nothing | Needs::SaliencyPeaks | Needs::ClassAttention) => Guide::None,
    };
    let mixed = mixer
        .apply(&params, images.clone(), labels, &guide)?
        .autodiff();
    if let LossKind::Sumix(config) = options.loss {
        let step = sumix_forward(
            &network.model,
            network.head.as_ref(),
            &config,
            images.autodiff(),
            mixed,
        )?;
        let n = step.mixed.target.batch_size();
        let lam = step.mixed.target.weights().slice(s![.., 0..1]).reshape([n]);
        let tilde = step.loss.ratio.lam_a.clone();
        let sums = ratio_sums(
            lam,
            tilde.clone(),
            tilde.neg().add_scalar(1.0),
            Some((
                step.loss.main.clone(),
                step.loss.regulariser.clone().mul_scalar(config.gamma),
            )),
        );
        return Ok((step.loss.total, Some(sums)));
    }
    let ratio = match &params {
        MixParams::SnapMix(p) => {
            let n = mixed.target.batch_size();
            let weights = mixed.target.weights();
            let lam = if p.mixing {
                1.0 - p.destination.area() as f64 / (h * w) as f64
            } else {
                1.0
            };
            Some(ratio_sums(
                Tensor::full([n], lam, &weights.device()),
                weights.clone().slice(s![.., 0..1]).reshape([n]),
                weights.slice(s![.., 1..2]).reshape([n]),
                None,
            ))
        }
        _ => None,
    };
    let loss = match (&network.mid, options.loss) {
        (Some(mid), _) => {
            let (logits, features) = network.model.forward_with_mid(mixed.images)?;
            snapmix_loss(
                logits,
                Some(mid.forward(features, epoch)),
                &mixed.target,
                options.smoothing,
            )?
        }
        (None, kind) => {
            // TransMix re-weights its target by the class-token attention of this forward
            // (detached inside `retarget`); every other method trains on its mixed target.
            let (logits, target) = if mixer.needs() == Needs::ClassAttention {
                let (logits, attention) =
                    network.model.forward_with_attention(mixed.images.clone())?;
                (logits, mixer.retarget(&params, &mixed, attention)?)
            } else {
                (network.model.forward(mixed.images), mixed.target)
            };
            match kind {
                LossKind::PairCe => pair_cross_entropy(logits, &target, options.smoothing)?,
                _ => soft_target_cross_entropy(logits, &target, options.smoothing)?,
            }
        }
    };
    Ok((loss, ratio))
}

/// One shard of a step: the loss, the gradients of `weight × loss`, and the loss's
/// re-weighting of λ (SUMix, SnapMix).
struct ShardResult {
    value: f64,
    grads: GradientsParams,
    ratio: Option<Tensor<1>>,
}

/// A shard of a batch for a replica.
struct Job {
    network: Network,
    shard: Batch,
    key: StreamKey,
    epoch: usize,
    weight: f64,
}

/// A thread driving one replica device, alive for the whole run (BatchNorm's running
/// statistics average the updates of every thread that ran a forward, per thread).
struct Worker {
    device: Device,
    jobs: mpsc::Sender<Job>,
    results: mpsc::Receiver<Result<ShardResult>>,
}

/// The loss of one shard and its gradients scaled by `weight` (its share of the batch);
/// a non-finite loss comes back without gradients for the caller to report.
#[allow(clippy::too_many_arguments)]
fn shard_step(
    network: &Network,
    teacher: Option<&Teacher>,
    mixer: &MixMethod,
    options: &TrainOptions,
    key: StreamKey,
    batch: Batch,
    device: &Device,
    epoch: usize,
    weight: f64,
) -> Result<ShardResult> {
    let mut rng = MixRng::new(key);
    let (loss, ratio) = step_loss(
        network, teacher, mixer, options, &mut rng, batch, device, epoch,
    )?;
    let value = f64::from(loss.clone().into_scalar::<f32>());
    if !value.is_finite() {
        return Ok(ShardResult {
            value,
            grads: GradientsParams::new(),
            ratio,
        });
    }
    let loss = if weight == 1.0 {
        loss
    } else {
        loss.mul_scalar(weight)
    };
    Ok(ShardResult {
        value,
        grads: GradientsParams::from_grads(loss.backward(), network),
        ratio,
    })
}

/// The shard boundaries of a batch of `n` over `k` devices (sizes differ by at most 1).
fn shards(n: usize, k: usize) -> Vec<Range<usize>> {
    (0..k).map(|r| r * n / k..(r + 1) * n / k).collect()
}

/// The samples `range` of `batch`, on the host.
fn shard(batch: &Batch, range: Range<usize>) -> Batch {
    let [_, c, h, w] = batch.shape;
    let per = c * h * w;
    Batch {
        shape: [range.len(), c, h, w],
        images: batch.images[range.start * per..range.end * per].to_vec(),
        labels: batch.labels[range.clone()].to_vec(),
        indices: batch.indices[range].to_vec(),
    }
}

/// A host batch's images and labels as tensors on `device`.
fn to_device(batch: Batch, device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
    let n = batch.labels.len();
    (
        Tensor::from_data(TensorData::new(batch.images, batch.shape), device),
        Tensor::from_data(TensorData::new(batch.labels, [n]), device),
    )
}

/// Trains `network` on `train` with `mixer` for `options.epochs` epochs on the autodiff
/// `device`, evaluating on `eval` after each epoch; `on_event` sees each step and epoch
/// (progress lines, CSV rows) and may stop the run with an error. With
/// `control.state_dir`, each epoch's state is kept and a kept state is continued (see the
/// module docs). A NaN or infinite loss stops the run with an error naming the epoch and
/// step; the state of the last good epoch stays.
///
/// # Several devices
/// With [`RunControl::replicas`], every batch is split into `1 + replicas` contiguous
/// shards (sizes differing by at most one, at least two images each): the training
/// device takes the first, and each replica, driven by its own thread for the whole run,
/// a copy of the network (`fork`) and the next. Each shard is mixed on its own (mixing
/// draws keyed by the shard's rank, like one process per GPU), its loss scaled by its share
/// of the batch, and burn's `ModuleOptimizer::step_multi` sums the gradients of all
/// devices and steps; BatchNorm statistics are per shard and their running averages are
/// averaged over the devices (burn's `RunningState`).
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
    mut on_event: impl FnMut(Event<'_>) -> Result<()>,
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
        network.mid.is_some() == options.mid_level_head,
        "the network's mid-level head does not match train.mid_level_head"
    );
    let steps_per_epoch = train
        .num_batches()
        .min(control.max_steps_per_epoch.unwrap_or(usize::MAX));
    ensure!(steps_per_epoch > 0, "the training set gives no full batch");
    ensure!(
        mixer.needs() != Needs::ClassAttention || !matches!(options.loss, LossKind::Sumix(_)),
        "train.loss: SUMix is not defined on top of {}",
        mixer.name()
    );
    ensure!(
        options.grad_clip.is_none() || control.replicas.is_empty(),
        "train.grad_clip needs the global norm of the whole batch's gradients: train on one \
         device"
    );
    let (mut network, mut optimizer, mut history) = match &control.state_dir {
        Some(state) => match last_state(state)? {
            Some((_, dir)) => load_state(&dir, network, optimizer(options))?,
            None => (network, optimizer(options), Vec::new()),
        },
        None => (network, optimizer(options), Vec::new()),
    };
    ensure!(
        history.len() <= options.epochs,
        "the kept state has {} epochs but the run has {}",
        history.len(),
        options.epochs
    );
    let first_epoch = history.len();
    std::thread::scope(|scope| {
        let workers: Vec<Worker> = control
            .replicas
            .iter()
            .map(|replica| {
                let (job_tx, job_rx) = mpsc::channel::<Job>();
                let (result_tx, result_rx) = mpsc::channel();
                let replica_device = replica.clone();
                let teacher = control.teacher.clone().map(|t| Teacher {
                    network: t.network.fork(replica),
                    ..t
                });
                scope.spawn(move || {
                    for job in job_rx {
                        let result = shard_step(
                            &job.network,
                            teacher.as_ref(),
                            mixer,
                            options,
                            job.key,
                            job.shard,
                            &replica_device,
                            job.epoch,
                            job.weight,
                        );
                        if result_tx.send(result).is_err() {
                            break;
                        }
                    }
                });
                Worker {
                    device: replica.clone(),
                    jobs: job_tx,
                    results: result_rx,
                }
            })
            .collect();
        let one_step = |epoch: usize,
                        network: Network,
                        optimizer: &mut ModuleOptimizer,
                        step: usize,
                        batch: &Batch|
         -> Result<(Network, f64, f64, Option<Tensor<1>>)> {
            let i = step - epoch * steps_per_epoch;
            let key = |rank: usize| StreamKey {
                seed: options.seed,
                epoch: epoch as u64,
                step: i as u64,
                rank: rank as u64,
            };
            let lr = learning_rate(options, step, steps_per_epoch);
            let n = batch.labels.len();
            let k = 1 + workers.len();
            ensure!(
                n >= 2 * k,
                "a batch of {n} cannot be shared by {k} devices (at least 2 images each)"
            );
            let ranges = shards(n, k);
            for (r, worker) in workers.iter().enumerate() {
                let range = ranges[r + 1].clone();
                let job = Job {
                    network: network.clone().fork(&worker.device),
                    weight: range.len() as f64 / n as f64,
                    shard: shard(batch, range),
                    key: key(r + 1),
                    epoch: epoch + 1,
                };
                worker
                    .jobs
                    .send(job)
                    .map_err(|_| anyhow::anyhow!("a replica thread stopped"))?;
            }
            let main = shard_step(
                &network,
                control.teacher.as_ref(),
                mixer,
                options,
                key(0),
                shard(batch, ranges[0].clone()),
                device,
                epoch + 1,
                ranges[0].len() as f64 / n as f64,
            )?;
            let mut value = main.value * ranges[0].len() as f64 / n as f64;
            let ratio = main.ratio;
            let mut all = vec![(main.grads, device.clone())];
            for (r, worker) in workers.iter().enumerate() {
                let shard = worker
                    .results
                    .recv()
                    .map_err(|_| anyhow::anyhow!("a replica thread stopped"))??;
                value += shard.value * ranges[r + 1].len() as f64 / n as f64;
                all.push((shard.grads, worker.device.clone()));
            }
            if !value.is_finite() {
                bail!(
                    "the loss diverged ({value}) at epoch {}, step {}: lower the learning rate",
                    epoch + 1,
                    i + 1
                );
            }
            let mut network = network;
            if workers.is_empty() {
                let (mut grads, _) = all.pop().expect("the main shard");
                if let Some(max_norm) = options.grad_clip {
                    clip_global_norm(&network, &mut grads, max_norm);
                }
                if let Some(new_lr) = options.new_layers_lr {
                    let new_grads = network.take_new_layer_grads(&mut grads);
                    network = optimizer.step(lr, network, grads);
                    network = optimizer.step(lr * new_lr / options.lr, network, new_grads);
                } else {
                    network = optimizer.step(lr, network, grads);
                }
            } else {
                if let Some(new_lr) = options.new_layers_lr {
                    let new_grads = all
                        .iter_mut()
                        .map(|(g, d)| (network.take_new_layer_grads(g), d.clone()))
                        .collect();
                    network =
                        optimizer.step_multi(lr, network, MultiGradientsParams { grads: all });
                    network = optimizer.step_multi(
                        lr * new_lr / options.lr,
                        network,
                        MultiGradientsParams { grads: new_grads },
                    );
                } else {
                    network =
                        optimizer.step_multi(lr, network, MultiGradientsParams { grads: all });
                }
                network = network.fork(device);
            }
            Ok((network, value, lr, ratio))
        };
        let started = Instant::now();
        let steps_left_at_start = (options.epochs - first_epoch) * steps_per_epoch;
        for epoch in first_epoch..options.epochs {
            let mut backend_rng = MixRng::new(StreamKey {
                seed: options.seed,
                epoch: epoch as u64,
                step: u64::MAX,
                rank: 0,
            });
            device.seed(backend_rng.below(usize::MAX) as u64);
            let start = Instant::now();
            let (mut loss_sum, mut images_seen, mut lr) = (0.0f64, 0usize, options.lr);
            // The epoch's sum of the steps' ratio_sums, on the device until the epoch ends.
            let mut ratio_sum: Option<Tensor<1>> = None;
            for (i, batch) in train.epoch(epoch as u64).take(steps_per_epoch).enumerate() {
                let batch = batch.with_context(|| {
                    format!("reading training batch {i} of epoch {}", epoch + 1)
                })?;
                let step = epoch * steps_per_epoch + i;
                let (stepped, value, step_lr, ratio) =
                    one_step(epoch, network, &mut optimizer, step, &batch)?;
                if let Some(sums) = ratio {
                    ratio_sum = Some(match ratio_sum {
                        Some(total) => total + sums,
                        None => sums,
                    });
                }
                network = stepped;
                lr = step_lr;
                loss_sum += value * batch.labels.len() as f64;
                images_seen += batch.labels.len();
                let done = step + 1 - first_epoch * steps_per_epoch;
                let elapsed = started.elapsed().as_secs_f64();
                on_event(Event::Step(&StepProgress {
                    epoch: epoch + 1,
                    epochs: options.epochs,
                    step: i + 1,
                    steps: steps_per_epoch,
                    mix_loss: loss_sum / images_seen as f64,
                    images_per_second: images_seen as f64 / start.elapsed().as_secs_f64().max(1e-9),
                    eta_seconds: elapsed / done as f64 * (steps_left_at_start - done) as f64,
                }))?;
            }
            let seconds = start.elapsed().as_secs_f64();
            let evaluated = (epoch + 1) % options.eval_every == 0 || epoch + 1 == options.epochs;
            let (top1, top5) = if evaluated {
                evaluate(&network, eval, epoch + 1, device)?
            } else {
                (f64::NAN, f64::NAN)
            };
            let train_top1 = match &control.train_eval {
                Some(loader) if evaluated => Some(evaluate(&network, loader, epoch + 1, device)?.0),
                _ => None,
            };
            history.push(EpochMetrics {
                epoch: epoch + 1,
                mix_loss: loss_sum / images_seen.max(1) as f64,
                lr,
                top1,
                top5,
                train_top1,
                ratio: match ratio_sum {
                    Some(total) => Some(RatioStats::from_sums(
                        &total.into_data().try_into_vec_as::<f64>()?,
                        steps_per_epoch,
                    )),
                    None => None,
                },
                images_per_second: images_seen as f64 / seconds.max(1e-9),
            });
            if let Some(state) = &control.state_dir {
                save_state(state, &network, &optimizer, &history)?;
            }
            on_event(Event::Epoch(&history))?;
        }
        Ok((network, history))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(schedule: Schedule, warmup_epochs: usize) -> TrainOptions {
        TrainOptions {
            epochs: 4,
            weight_decay: 0.0,
            schedule,
            warmup_epochs,
            ..TrainOptions::default()
        }
    }

    #[test]
    fn ratio_statistics_by_hand() {
        let device = Device::flex();
        let t = |v: &[f32]| Tensor::<1>::from_floats(v, &device);
        // Step 1: λ 0.5 → λ̃ 0.99 (saturated, change 0.49) and 0.3 → 0.4 (change 0.1); a
        // closed gate (λ = 1) is not counted. Loss parts 2.0 and 0.5.
        let one = ratio_sums(
            t(&[0.5, 0.3, 1.0]),
            t(&[0.99, 0.4, 1.0]),
            t(&[0.01, 0.6, 0.0]),
            Some((t(&[2.0]), t(&[0.5]))),
        );
        // Step 2: λ 0.02 → 0.01 (outside [0.05, 0.95]: not saturation); parts 1.0 and 0.1.
        let two = ratio_sums(
            t(&[0.02]),
            t(&[0.01]),
            t(&[0.99]),
            Some((t(&[1.0]), t(&[0.1]))),
        );
        let sums: Vec<f64> = (one + two).into_data().try_into_vec_as().unwrap();
        let s = RatioStats::from_sums(&sums, 2);
        assert_eq!((s.samples, s.steps), (3, 2));
        let close = |x: f64, y: f64| (x - y).abs() < 1e-6;
        assert!(close(s.lam, 0.82 / 3.0), "{s:?}");
        assert!(close(s.weight_a, 1.40 / 3.0), "{s:?}");
        assert!(close(s.weight_b, 1.60 / 3.0), "{s:?}");
        assert!(close(s.abs_change, 0.60 / 3.0), "{s:?}");
        assert!(close(s.saturated, 1.0 / 3.0), "{s:?}");
        assert!(close(s.main, 1.5) && close(s.regulariser, 0.3), "{s:?}");
    }

    #[test]
    fn every_training_field_has_a_default() {
        let options: TrainOptions = toml::from_str("epochs = 5").unwrap();
        assert_eq!(
            options,
            TrainOptions {
                epochs: 5,
                ..TrainOptions::default()
            }
        );
        // PyTorch's SGD: no Nesterov; the papers' CIFAR recipe otherwise.
        let d = TrainOptions::default();
        assert_eq!(
            (d.epochs, d.lr, d.momentum, d.weight_decay),
            (200, 0.1, 0.9, 5e-4)
        );
        assert!(!d.nesterov && d.warmup_epochs == 0 && d.smoothing == 0.0);
        assert_eq!(
            (d.schedule.clone(), d.loss, d.eval_every),
            (Schedule::Cosine, LossKind::SoftCe, 1)
        );
        let zero = TrainOptions { eval_every: 0, ..d };
        assert!(format!("{:#}", zero.validate().unwrap_err()).contains("train.eval_every"));
    }

    #[test]
    fn schedules_by_hand() {
        // Cosine over 4 epochs × 10 steps: step 20 is half-way → 0.05; step 0 → 0.1.
        let cosine = options(Schedule::Cosine, 0);
        assert!((learning_rate(&cosine, 0, 10) - 0.1).abs() < 1e-12);
        assert!((learning_rate(&cosine, 20, 10) - 0.05).abs() < 1e-12);
        // Multi-step ×0.2 at epochs 1 and 3: epoch 2 (steps 20..30) → 0.02; epoch 3 → 0.004.
        let steps = options(
            Schedule::MultiStep {
                milestones: vec![1, 3],
                gamma: 0.2,
            },
            0,
        );
        assert!((learning_rate(&steps, 25, 10) - 0.02).abs() < 1e-12);
        assert!((learning_rate(&steps, 35, 10) - 0.004).abs() < 1e-12);
        // One warm-up epoch of 10 steps: step 4 → 0.05.
        let warm = options(Schedule::Cosine, 1);
        assert!((learning_rate(&warm, 4, 10) - 0.05).abs() < 1e-12);
    }

    #[test]
    fn mmcv_warm_up_and_cosine_floor_by_hand() {
        // 4 epochs × 10 steps, one warm-up epoch with ratio 0.1: the cosine runs over all
        // 40 steps and the warm-up scales it by 1 − (1 − i/10)·0.9.
        let mut warm = options(Schedule::Cosine, 1);
        warm.warmup_ratio = Some(0.1);
        // Step 0: 0.1 · 0.1 = 0.01.
        assert!((learning_rate(&warm, 0, 10) - 0.01).abs() < 1e-12);
        // Step 5: 0.05·(1 + cos(π/8)) = 0.0961939766 times 1 − 0.5·0.9 = 0.55.
        let five = 0.05 * (1.0 + (std::f64::consts::PI / 8.0).cos()) * 0.55;
        assert!((learning_rate(&warm, 5, 10) - five).abs() < 1e-12);
        assert!((five - 0.052906687).abs() < 1e-9);
        // Step 10 (after the warm-up): 0.05·(1 + cos(π/4)) = 0.0853553391.
        assert!((learning_rate(&warm, 10, 10) - 0.085355339).abs() < 1e-9);
        // A floor of 0.01: half-way (step 20) is 0.01 + 0.09·0.5 = 0.055.
        let mut floor = options(Schedule::Cosine, 0);
        floor.min_lr = 0.01;
        assert!((learning_rate(&floor, 20, 10) - 0.055).abs() < 1e-12);
    }

    #[test]
    fn adamw_exempts_the_named_parameters_from_weight_decay() {
        use burn::nn::{Linear, LinearConfig};
        let device = Device::flex().autodiff();
        let layer: Linear = LinearConfig::new(2, 1).init(&device);
        let bias = layer.bias.as_ref().unwrap();
        let (w0, b0): (Vec<f32>, Vec<f32>) = (
            layer.weight.val().into_data().try_to_vec().unwrap(),
            bias.val().into_data().try_to_vec().unwrap(),
        );
        assert!(b0[0] != 0.0, "burn initialises the bias at random");
        let mut grads = GradientsParams::new();
        grads.register(
            layer.weight.id,
            Tensor::<2>::zeros([2, 1], &device.clone().inner()),
        );
        grads.register(bias.id, Tensor::<1>::zeros([1], &device.clone().inner()));
        let options = TrainOptions {
            optimizer: OptimizerKind::AdamW {
                beta1: 0.9,
                beta2: 0.999,
                eps: 1e-8,
            },
            weight_decay: 0.1,
            no_weight_decay: vec!["bias".into()],
            ..TrainOptions::default()
        };
        // Zero gradients: Adam's term is 0, so the weight only decays, w·(1 − lr·wd) =
        // w·0.95 at lr 0.5, and the exempt bias stays.
        let stepped = optimizer(&options).step(0.5, layer, grads);
        let w1: Vec<f32> = stepped.weight.val().into_data().try_to_vec().unwrap();
        let b1: Vec<f32> = stepped
            .bias
            .unwrap()
            .val()
            .into_data()
            .try_to_vec()
            .unwrap();
        for (a, b) in w0.iter().zip(&w1) {
            assert!((a * 0.95 - b).abs() < 1e-6, "{w0:?} → {w1:?}");
        }
        assert_eq!(b0, b1);
    }
}
