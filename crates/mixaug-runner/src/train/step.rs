//! [`RunStep`]: the model burn-train's `Learner` trains in a run — the network, and how a
//! step mixes, guides, forwards and scores — as burn-train's `TrainStep` and
//! `InferenceStep`.
//!
//! A step cannot return an error to the `Learner`; one that cannot go on (a batch that
//! cannot be mixed, a NaN or infinite loss) leaves its error in the run's [`Failure`],
//! which stops the `Learner` after that step — before the epoch's checkpoint — and
//! [`super::train`] returns it.

use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, anyhow};
use burn::module::Module;
use burn::optim::lr_scheduler::module_lr_scheduler::ModuleLearningRate;
use burn::optim::{GradientsParams, ModuleOptimizer};
use burn::prelude::*;
use burn::train::{InferenceStep, Interrupter, TrainOutput, TrainStep};
use mixaug_data::Batch;
use mixaug_loss::{pair_cross_entropy, snapmix_loss, soft_target_cross_entropy, sumix_forward};
use mixaug_maps::{CamStatistics, semantic_percent_maps};
use mixaug_masks::{BatchShape, Guide, MixMethod, MixParams, MixRng, Mixer, Needs, StreamKey};

use super::loader::{EvalBatch, StepBatch};
use super::metrics::{EvalOutput, MixOutput, ratio_sums};
use super::{LossKind, TrainOptions};
use crate::clip::clip_global_norm;
use crate::network::{Network, Teacher};

/// Where a step that cannot go on leaves its error: the first one is kept and the
/// `Learner` is asked to stop.
#[derive(Clone, Default)]
pub(crate) struct Failure {
    interrupter: Interrupter,
    error: Arc<Mutex<Option<String>>>,
}

impl Failure {
    /// Keeps `message` (unless an earlier failure is kept) and stops the `Learner`.
    pub(crate) fn fail(&self, message: String) {
        let mut slot = self.error.lock().unwrap_or_else(|e| e.into_inner());
        if slot.is_none() {
            *slot = Some(message);
        }
        self.interrupter.stop(Some("a training step failed"));
    }

    /// Stops the `Learner` without an error of its own (the caller has one).
    pub(crate) fn stop(&self) {
        self.interrupter.stop(Some("stopped by the caller"));
    }

    /// The kept failure, if any.
    pub(crate) fn error(&self) -> Option<String> {
        self.error.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The handle the `Learner` checks after each step.
    pub(crate) fn interrupter(&self) -> Interrupter {
        self.interrupter.clone()
    }
}

/// How every step of a run trains, shared by every copy of a [`RunStep`] (the `Learner`
/// clones its model at each step and forks it to each device).
pub(crate) struct StepPlan {
    /// The mixing method.
    pub mixer: MixMethod,
    /// The run's options (loss, smoothing, seed, clipping).
    pub options: TrainOptions,
    /// AttentiveMix's frozen teacher.
    pub teacher: Option<Teacher>,
    /// Its copies on the other devices of a multi-device run, forked once each.
    pub teachers: Mutex<Vec<Teacher>>,
    /// Devices sharing each optimiser step.
    pub devices: usize,
    /// What each device's loss is divided by: their number when burn-train sums their
    /// gradients (so that the sum is that of the mean loss of all the step's images), 1
    /// when an all-reduce averages them.
    pub loss_divisor: usize,
    /// Where a failed step leaves its error.
    pub failure: Failure,
}

impl StepPlan {
    /// The teacher on the step's `device`: the run's own when it lives there, else its copy
    /// there (forked on the device's first step).
    fn teacher_on(&self, device: &Device) -> Option<Teacher> {
        let teacher = self.teacher.as_ref()?;
        if self.devices == 1 {
            return Some(teacher.clone());
        }
        let lives_on = |t: &Teacher| t.network.devices().first() == Some(device);
        if lives_on(teacher) {
            return Some(teacher.clone());
        }
        let mut copies = self.teachers.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(copy) = copies.iter().find(|t| lives_on(t)) {
            return Some(copy.clone());
        }
        let copy = Teacher {
            network: teacher.network.clone().fork(device),
            attention: teacher.attention.clone(),
        };
        copies.push(copy.clone());
        Some(copy)
    }
}

impl std::fmt::Debug for StepPlan {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StepPlan")
            .field("mixer", &self.mixer.name())
            .field("loss", &self.options.loss)
            .field("devices", &self.devices)
            .finish_non_exhaustive()
    }
}

/// The network and its [`StepPlan`]: the model the run's `Learner` trains.
#[derive(Module, Debug)]
pub(crate) struct RunStep {
    /// The network (classifier and extra heads).
    pub network: Network,
    #[module(skip)]
    plan: Arc<StepPlan>,
}

impl RunStep {
    /// `network` trained as `plan` says.
    pub(crate) fn new(network: Network, plan: StepPlan) -> Self {
        Self {
            network,
            plan: Arc::new(plan),
        }
    }

    /// The device the network lives on.
    fn device(&self) -> Result<Device> {
        self.network
            .devices()
            .into_iter()
            .next()
            .context("the network has no parameters")
    }

    /// One training step's loss (with its graph), its value on the host and the ratio
    /// sums of SUMix/SnapMix.
    ///
    /// The backend's generator (dropout, drop-path) is re-seeded from `(seed, epoch)` at
    /// each epoch's first step and the mixing draws are keyed by `(seed, epoch, step)`, so
    /// a resumed run draws exactly what an uninterrupted one would.
    fn loss(&self, item: StepBatch) -> Result<(Tensor<1>, f64, Option<Tensor<1>>)> {
        let plan = &self.plan;
        let seed = plan.options.seed;
        let device = self.device()?;
        if item.step == 0 {
            let mut backend = MixRng::new(StreamKey {
                seed,
                epoch: item.epoch as u64,
                step: u64::MAX,
                rank: 0,
            });
            device.seed(backend.below(usize::MAX) as u64);
        }
        let mut rng = MixRng::new(StreamKey {
            seed,
            epoch: item.epoch as u64,
            step: item.step as u64,
            rank: 0,
        });
        let teacher = plan.teacher_on(&device);
        let (loss, ratio) = step_loss(
            &self.network,
            teacher.as_ref(),
            &plan.mixer,
            &plan.options,
            &mut rng,
            item.batch,
            &device,
            item.epoch + 1,
        )?;
        let value = f64::from(loss.clone().into_scalar::<f32>());
        if !value.is_finite() {
            return Err(anyhow!(
                "the loss diverged ({value}) at epoch {}, step {}: lower the learning rate",
                item.epoch + 1,
                item.step + 1
            ));
        }
        Ok((loss, value, ratio))
    }

    /// Clean top-1/top-5 hits of an evaluation batch.
    fn hits(&self, item: EvalBatch) -> Result<EvalOutput> {
        let device = self.device()?;
        let (source, epoch) = (item.source, item.epoch);
        let (images, labels) = to_device(item.batch, &device);
        let logits = self.network.scores(images, epoch)?;
        let [n, k] = logits.dims();
        let (_, best) = logits.topk_with_indices(5.min(k), 1);
        let top = 5.min(k);
        // One read of the hit matrix: a row's first column is its top-1 hit.
        let hits: Vec<i64> = best
            .equal(labels.reshape([n, 1]).expand([n, top]))
            .int()
            .into_data()
            .try_into_vec_as()?;
        let rows = || hits.chunks(top);
        Ok(EvalOutput {
            source,
            top1: rows().filter(|r| r[0] > 0).count(),
            top5: rows().filter(|r| r.iter().any(|&h| h > 0)).count(),
            images: n,
        })
    }
}

impl TrainStep for RunStep {
    type Input = StepBatch;
    type Output = MixOutput;

    fn step(&self, item: StepBatch) -> TrainOutput<MixOutput> {
        let images = item.batch.labels.len();
        match self.loss(item) {
            Ok((loss, value, ratio)) => {
                let loss = match self.plan.loss_divisor {
                    1 => loss,
                    k => loss.div_scalar(k as f64),
                };
                TrainOutput {
                    grads: GradientsParams::from_grads(loss.backward(), self),
                    item: MixOutput {
                        loss: value,
                        images,
                        ratio,
                    },
                }
            }
            Err(error) => {
                self.plan.failure.fail(format!("{error:#}"));
                TrainOutput {
                    grads: GradientsParams::new(),
                    item: MixOutput {
                        loss: f64::NAN,
                        images,
                        ratio: None,
                    },
                }
            }
        }
    }

    /// burn-optim's step, after clipping the gradients to the global norm
    /// [`TrainOptions::grad_clip`] (all devices' gradients, summed, at once).
    fn optimize(
        self,
        optim: &mut ModuleOptimizer,
        lr: ModuleLearningRate,
        mut grads: GradientsParams,
    ) -> Self {
        if let Some(max_norm) = self.plan.options.grad_clip {
            clip_global_norm(&self.network, &mut grads, max_norm);
        }
        optim.step(lr, self, grads)
    }
}

impl InferenceStep for RunStep {
    type Input = EvalBatch;
    type Output = EvalOutput;

    fn step(&self, item: EvalBatch) -> EvalOutput {
        let (source, epoch) = (item.source, item.epoch);
        self.hits(item).unwrap_or_else(|error| {
            self.plan
                .failure
                .fail(format!("evaluating after epoch {epoch}: {error:#}"));
            EvalOutput {
                source,
                top1: 0,
                top5: 0,
                images: 0,
            }
        })
    }
}

/// Whether the steps of `mixer` under `loss` give ratio statistics ([`ratio_sums`]):
/// SUMix's loss and SnapMix's label weights do, nothing else.
pub(crate) fn reports_ratio(mixer: &MixMethod, loss: &LossKind) -> bool {
    matches!(loss, LossKind::Sumix(_)) || matches!(mixer, MixMethod::SnapMix(_))
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
    // `reports_ratio` names the cases that give ratios: SUMix above and SnapMix here.
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
                (network.model.try_forward(mixed.images)?, mixed.target)
            };
            match kind {
                LossKind::PairCe => pair_cross_entropy(logits, &target, options.smoothing)?,
                _ => soft_target_cross_entropy(logits, &target, options.smoothing)?,
            }
        }
    };
    Ok((loss, ratio))
}

/// A host batch's images and labels as tensors on `device`.
fn to_device(batch: Batch, device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
    let n = batch.labels.len();
    (
        Tensor::from_data(TensorData::new(batch.images, batch.shape), device),
        Tensor::from_data(TensorData::new(batch.labels, [n]), device),
    )
}
