//! One training run: sample → guidance → apply → forward(s) → loss → SGD step, epoch by
//! epoch, with clean top-1/top-5 evaluation after each epoch.
//!
//! The step is written out here rather than with burn-train's `Learner`: SnapMix needs the
//! trained model's semantic percent maps before mixing, and SUMix two forward passes and a
//! second head, which the `Learner`'s single-forward step cannot express.

use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, SgdConfig};
use burn::prelude::*;
use mixaug_data::{Batch, Loader};
use mixaug_loss::{
    SumixConfig, UncertaintyHead, UncertaintyHeadConfig, pair_cross_entropy,
    soft_target_cross_entropy, sumix_forward,
};
use mixaug_maps::{CamStatistics, semantic_percent_maps};
use mixaug_masks::{BatchShape, Guide, MixMethod, MixRng, Mixer, Needs, StreamKey};
use mixaug_models::ResNet;
use serde::{Deserialize, Serialize};

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

/// How a run trains.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrainOptions {
    /// Epochs.
    pub epochs: usize,
    /// Base learning rate.
    pub lr: f64,
    /// SGD momentum (PyTorch's: dampening 0).
    pub momentum: f64,
    /// Nesterov momentum.
    pub nesterov: bool,
    /// L2 weight decay.
    pub weight_decay: f64,
    /// Learning-rate schedule.
    pub schedule: Schedule,
    /// Epochs of linear warm-up from 0 (per step).
    pub warmup_epochs: usize,
    /// The loss.
    pub loss: LossKind,
    /// Label smoothing ε.
    pub smoothing: f32,
    /// Seed of the mixing draws (the model and data have their own).
    pub seed: u64,
}

/// What one epoch measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EpochMetrics {
    /// Epoch, from 1.
    pub epoch: usize,
    /// Mean training loss on the mixed batches (`mix_loss`: not a clean loss).
    pub mix_loss: f64,
    /// Learning rate at the epoch's last step.
    pub lr: f64,
    /// Clean top-1 accuracy on the evaluation set, in percent.
    pub top1: f64,
    /// Clean top-5 accuracy on the evaluation set, in percent (top-k with k = classes
    /// when there are fewer than 5).
    pub top5: f64,
    /// Training images per second.
    pub images_per_second: f64,
}

/// The model a run trains: the classifier and, for SUMix, its uncertainty head.
#[derive(Module, Debug)]
pub struct Network {
    /// The classifier.
    pub model: ResNet,
    /// SUMix's second head.
    pub head: Option<UncertaintyHead>,
}

impl Network {
    /// A network for `options`: the head is built when the loss is SUMix.
    pub fn new(model: ResNet, options: &TrainOptions, device: &Device) -> Self {
        let head = match options.loss {
            LossKind::Sumix(_) => {
                let [d, k] = model.fc.weight.dims();
                Some(UncertaintyHeadConfig::new(d, k).init(device))
            }
            _ => None,
        };
        Self { model, head }
    }
}

fn learning_rate(options: &TrainOptions, step: usize, steps_per_epoch: usize) -> f64 {
    let total = (options.epochs * steps_per_epoch).max(1);
    let warmup = options.warmup_epochs * steps_per_epoch;
    if step < warmup {
        return options.lr * (step + 1) as f64 / warmup as f64;
    }
    match &options.schedule {
        Schedule::Cosine => {
            let t = (step - warmup) as f64 / (total - warmup).max(1) as f64;
            options.lr * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
        }
        Schedule::MultiStep { milestones, gamma } => {
            let epoch = step / steps_per_epoch.max(1);
            let drops = milestones.iter().filter(|&&m| epoch >= m).count();
            options.lr * gamma.powi(drops as i32)
        }
    }
}

fn to_tensors(batch: &Batch, device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
    let n = batch.shape[0];
    (
        Tensor::from_data(TensorData::new(batch.images.clone(), batch.shape), device),
        Tensor::from_data(TensorData::new(batch.labels.clone(), [n]), device),
    )
}

/// Clean top-1 and top-5 accuracy (percent) of `model` on every batch of `loader`.
pub fn evaluate(model: &ResNet, loader: &Loader, device: &Device) -> Result<(f64, f64)> {
    let model = model.valid();
    let device = device.clone().inner();
    let (mut top1, mut top5, mut count) = (0usize, 0usize, 0usize);
    for batch in loader.epoch(0) {
        let batch = batch.context("reading an evaluation batch")?;
        let (images, labels) = to_tensors(&batch, &device);
        let logits = model.forward(images);
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

/// Trains `network` on `train` with `mixer` for `options.epochs` epochs on the autodiff
/// `device`, evaluating on `eval` after each epoch; `on_epoch` sees each epoch's metrics
/// (progress, CSV rows). A NaN or infinite loss stops the run with an error naming the
/// epoch and step.
pub fn train(
    mut network: Network,
    mixer: &MixMethod,
    train: &Loader,
    eval: &Loader,
    options: &TrainOptions,
    device: &Device,
    mut on_epoch: impl FnMut(&EpochMetrics),
) -> Result<(Network, Vec<EpochMetrics>)> {
    ensure!(
        device.is_autodiff(),
        "training needs an autodiff device (`device.autodiff()`)"
    );
    ensure!(options.epochs > 0, "epochs must be at least 1");
    ensure!(
        options.lr.is_finite() && options.lr > 0.0,
        "lr must be positive, got {}",
        options.lr
    );
    if mixer.needs() == Needs::Attention {
        bail!(
            "{} needs a frozen teacher network, which runs do not provide yet",
            mixer.name()
        );
    }
    if matches!(options.loss, LossKind::Sumix(_)) && mixer.needs() != Needs::Nothing {
        bail!(
            "SUMix is implemented over input-only mixers; {} needs a guide",
            mixer.name()
        );
    }
    let steps_per_epoch = train.num_batches();
    ensure!(steps_per_epoch > 0, "the training set gives no full batch");
    let mut optimizer = SgdConfig::new()
        .with_momentum(Some(
            MomentumConfig::new()
                .with_momentum(options.momentum)
                .with_dampening(0.0)
                .with_nesterov(options.nesterov),
        ))
        .with_weight_decay(
            (options.weight_decay > 0.0)
                .then(|| WeightDecayConfig::new(options.weight_decay as f32)),
        )
        .init();
    let mut history = Vec::with_capacity(options.epochs);
    let mut step = 0usize;
    for epoch in 0..options.epochs {
        let start = Instant::now();
        let (mut loss_sum, mut images_seen, mut lr) = (0.0f64, 0usize, options.lr);
        for (i, batch) in train.epoch(epoch as u64).enumerate() {
            let batch = batch
                .with_context(|| format!("reading training batch {i} of epoch {}", epoch + 1))?;
            let (images, labels) = to_tensors(&batch, device);
            let mut rng = MixRng::new(StreamKey {
                seed: options.seed,
                epoch: epoch as u64,
                step: i as u64,
                rank: 0,
            });
            let loss = match options.loss {
                LossKind::Sumix(config) => {
                    sumix_forward(
                        &network.model,
                        network.head.as_ref(),
                        mixer,
                        &mut rng,
                        &config,
                        images,
                        labels,
                    )?
                    .loss
                    .total
                }
                kind => {
                    let shape = BatchShape::of_batch(&images, &labels)?;
                    let params = mixer.sample(&mut rng, shape)?;
                    let guide = match mixer.needs() {
                        Needs::PercentMaps => Some(Guide::PercentMaps(semantic_percent_maps(
                            &network.model,
                            images.clone(),
                            labels.clone(),
                            CamStatistics::Batch,
                        )?)),
                        _ => None,
                    };
                    let mixed = mixer.apply_guided(&params, images, labels, guide)?;
                    let logits = network.model.forward(mixed.images);
                    match kind {
                        LossKind::PairCe => {
                            pair_cross_entropy(logits, &mixed.target, options.smoothing)?
                        }
                        _ => soft_target_cross_entropy(logits, &mixed.target, options.smoothing)?,
                    }
                }
            };
            let value = f64::from(loss.clone().into_scalar::<f32>());
            if !value.is_finite() {
                bail!(
                    "the loss diverged ({value}) at epoch {}, step {}: lower the learning rate",
                    epoch + 1,
                    i + 1
                );
            }
            lr = learning_rate(options, step, steps_per_epoch);
            let grads = GradientsParams::from_grads(loss.backward(), &network);
            network = optimizer.step(lr, network, grads);
            loss_sum += value * batch.labels.len() as f64;
            images_seen += batch.labels.len();
            step += 1;
        }
        let seconds = start.elapsed().as_secs_f64();
        let (top1, top5) = evaluate(&network.model, eval, device)?;
        let metrics = EpochMetrics {
            epoch: epoch + 1,
            mix_loss: loss_sum / images_seen.max(1) as f64,
            lr,
            top1,
            top5,
            images_per_second: images_seen as f64 / seconds.max(1e-9),
        };
        on_epoch(&metrics);
        history.push(metrics);
    }
    Ok((network, history))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(schedule: Schedule, warmup_epochs: usize) -> TrainOptions {
        TrainOptions {
            epochs: 4,
            lr: 0.1,
            momentum: 0.9,
            nesterov: false,
            weight_decay: 0.0,
            schedule,
            warmup_epochs,
            loss: LossKind::SoftCe,
            smoothing: 0.0,
            seed: 0,
        }
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
}
