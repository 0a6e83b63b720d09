//! How a run trains: [`TrainOptions`] (optimiser, schedule, loss, seeds) as experiment
//! files write them, and the burn-optim optimiser they describe.

use anyhow::{Result, ensure};
use burn::module::ParamGroup;
use burn::optim::decay::WeightDecayConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{AdamWConfig, ModuleOptimizer, Optimizer, SgdConfig};
use mixaug_loss::SumixConfig;
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
            for (name, beta) in [("beta1", beta1), ("beta2", beta2)] {
                ensure!(
                    (0.0..1.0).contains(&beta),
                    "train.optimizer.{name} must be in [0, 1), got {beta}"
                );
            }
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
                ratio > 0.0 && ratio <= 1.0,
                "train.warmup_ratio must be in (0, 1] (burn-optim's linear scheduler starts \
                 above 0), got {ratio}"
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

/// The run's optimiser: burn-optim's SGD or AdamW, with a second parameter group without
/// weight decay when [`TrainOptions::no_weight_decay`] names one.
pub(crate) fn optimizer(options: &TrainOptions) -> ModuleOptimizer {
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

#[cfg(test)]
mod tests {
    use burn::optim::GradientsParams;
    use burn::prelude::*;

    use super::*;

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
