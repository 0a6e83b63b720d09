//! SUMix: a corrected mix ratio and an uncertainty regulariser on top of any mixer that
//! returns a pair target and its permutation.
//!
//! Qin, Jin, Zhu, Liao, El-Yacoubi, Gao, *SUMix: Mixup with Semantic and Uncertain
//! Information*, ECCV 2024. Reference code: JinXins/SUMix (`ClsUncertainMixupHead.IN_loss`).
//! Spec: METHODS.md §15 (written from the code; `docs/sumix.md` has the formulas).

use burn::module::Param;
use burn::nn::{Initializer, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{log_softmax, sigmoid, softmax};
use mixaug_masks::{Mixed, MixedTarget};
use serde::{Deserialize, Serialize};

use crate::LossError;

/// Configuration of the [`UncertaintyHead`].
#[derive(Config, Debug)]
pub struct UncertaintyHeadConfig {
    /// Size `D` of the pooled feature.
    pub d_input: usize,
    /// Number of classes `K`.
    pub num_classes: usize,
    /// Standard deviation of the weight initialisation (reference: 0.01; the bias is 0).
    #[config(default = 0.01)]
    pub init_std: f64,
}

impl UncertaintyHeadConfig {
    /// The head with weights drawn from `N(0, init_std²)` and a zero bias.
    pub fn init(&self, device: &Device) -> UncertaintyHead {
        let linear = LinearConfig::new(self.d_input, self.num_classes)
            .with_bias(false)
            .with_initializer(Initializer::Normal {
                mean: 0.0,
                std: self.init_std,
            })
            .init(device);
        UncertaintyHead {
            linear: Linear {
                weight: linear.weight,
                bias: Some(Param::from_tensor(Tensor::zeros(
                    [self.num_classes],
                    device,
                ))),
            },
        }
    }
}

/// SUMix's second head (`is_norm = true`): `u = L2normalise(softmax(W_u f + b_u))`.
///
/// ```
/// use burn::prelude::*;
/// use mixaug_loss::UncertaintyHeadConfig;
/// let device = Device::flex();
/// let head = UncertaintyHeadConfig::new(3, 5).init(&device);
/// // A zero feature meets the zero bias: softmax is uniform, 1/5 per class, and after the
/// // L2 normalisation every entry is (1/5)/√(5·(1/5)²) = 1/√5.
/// let u = head.forward(Tensor::<2>::zeros([2, 3], &device));
/// let u = u.into_data().to_vec::<f32>().unwrap();
/// assert!(u.iter().all(|&x| (x - 1.0 / 5f32.sqrt()).abs() < 1e-6));
/// // Any feature: entries in [0, 1], unit L2 norm per row.
/// let features = Tensor::<2>::from_floats([[3.0, -1.0, 0.5], [0.0, 2.0, -4.0]], &device);
/// let u = head.forward(features);
/// let norms: Vec<f32> = u.clone().powi_scalar(2).sum_dim(1).sqrt().into_data().to_vec().unwrap();
/// assert!(norms.iter().all(|&n| (n - 1.0).abs() < 1e-5));
/// assert!(u.into_data().to_vec::<f32>().unwrap().iter().all(|&x| (0.0..=1.0).contains(&x)));
/// ```
#[derive(Module, Debug)]
pub struct UncertaintyHead {
    /// `W_u`, `b_u` (burn's `[D, K]` layout).
    pub linear: Linear,
}

impl UncertaintyHead {
    /// The uncertainty vector of each sample.
    ///
    /// # Shapes
    /// - `features`: `[N, D]`
    /// - output: `[N, K]`, entries in `[0, 1]`, unit L2 norm per row
    pub fn forward(&self, features: Tensor<2>) -> Tensor<2> {
        l2_normalise(softmax(self.linear.forward(features), 1))
    }
}

/// Row-wise L2 normalisation.
fn l2_normalise(x: Tensor<2>) -> Tensor<2> {
    let norm = x.clone().powi_scalar(2).sum_dim(1).sqrt();
    x / norm
}

/// How the corrected ratios enter the main term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SumixReduction {
    /// The reference: `CE_a·mean(λ̃_a) + CE_b·mean(λ̃_b)` with batch-mean cross-entropies.
    #[default]
    BatchMeanRatio,
    /// `mean_i(λ̃_a,i·CE_i(y_a) + λ̃_b,i·CE_i(y_b))`: per-sample soft labels.
    PerSample,
}

/// Configuration of the SUMix loss.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SumixConfig {
    /// Weight γ of the regulariser (`gama`): 0.5 in the CIFAR-100, CUB, Aircraft and
    /// ImageNet configs, 1.0 for Tiny-ImageNet. Default 0.5.
    pub gamma: f64,
    /// Default: the reference's batch-mean ratio.
    pub reduction: SumixReduction,
    /// The factor of `α = factor · L2normalise(softmax(Q − P))`. Default: the batch size N,
    /// as the reference (its `avg_factor`, the per-GPU batch); set it to study the
    /// correction's strength apart from the batch size (the quick table's diagnosis,
    /// `docs/quick-table.md`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avg_factor: Option<f64>,
}

impl Default for SumixConfig {
    fn default() -> Self {
        Self {
            gamma: 0.5,
            reduction: SumixReduction::BatchMeanRatio,
            avg_factor: None,
        }
    }
}

impl SumixConfig {
    /// γ = 0.5, reference reduction.
    pub fn new() -> Self {
        Self::default()
    }
    /// Sets [`gamma`](Self::gamma).
    pub fn with_gamma(mut self, gamma: f64) -> Self {
        self.gamma = gamma;
        self
    }
    /// Sets [`reduction`](Self::reduction).
    pub fn with_reduction(mut self, reduction: SumixReduction) -> Self {
        self.reduction = reduction;
        self
    }
    /// Sets [`avg_factor`](Self::avg_factor).
    pub fn with_avg_factor(mut self, factor: f64) -> Self {
        self.avg_factor = Some(factor);
        self
    }
    /// Rejects a negative or non-finite γ and a factor that is not positive and finite.
    pub fn validate(&self) -> Result<(), LossError> {
        if !(self.gamma.is_finite() && self.gamma >= 0.0) {
            return Err(LossError::InvalidHyperParameter {
                name: "sumix.gamma",
                value: self.gamma,
                expected: "a finite γ ≥ 0",
            });
        }
        match self.avg_factor {
            Some(f) if !(f.is_finite() && f > 0.0) => Err(LossError::InvalidHyperParameter {
                name: "sumix.avg_factor",
                value: f,
                expected: "a finite factor > 0",
            }),
            _ => Ok(()),
        }
    }
}

/// The corrected ratio of §15.3, with its ingredients.
#[derive(Debug, Clone)]
pub struct CorrectedRatio {
    /// `α_a = N · L2normalise(softmax(Q − P_a))`, `[N, K]` (no gradient).
    pub alpha_a: Tensor<2>,
    /// `α_b = N · L2normalise(softmax(Q − P_b))`, `[N, K]` (no gradient).
    pub alpha_b: Tensor<2>,
    /// `λ̃_a`, `[N]` (no gradient); `λ̃_b = 1 − λ̃_a`.
    pub lam_a: Tensor<1>,
}

/// The pair `(y_a, y_b)` and base weight λ of a two-source target.
fn pair_of(target: &MixedTarget) -> Result<(Tensor<1, Int>, Tensor<1, Int>, Tensor<1>), LossError> {
    let k = target.num_sources();
    if k != 2 {
        return Err(LossError::UnsupportedTarget {
            loss: "sumix",
            sources: k,
        });
    }
    let n = target.batch_size();
    let classes = target.classes();
    Ok((
        classes.clone().slice(s![.., 0..1]).reshape([n]),
        classes.slice(s![.., 1..2]).reshape([n]),
        target.weights().slice(s![.., 0..1]).reshape([n]),
    ))
}

/// `x[i, y_i]` for every row.
fn pick(x: Tensor<2>, y: Tensor<1, Int>) -> Tensor<1> {
    let n = y.dims()[0];
    x.gather(1, y.reshape([n, 1])).reshape([n])
}

/// §15.3: the corrected ratio from the raw and mixed logits (both detached here).
///
/// `lam` is the base weight of each sample (the mixer's λ' or sampled λ); λ ∈ {0, 1} is
/// returned unchanged, other values go through the stable form
/// `λ̃_a = sigmoid(logit(λ) − α_a[y_a] + α_b[y_b])`.
///
/// # Shapes
/// - `raw_logits`, `mixed_logits`: `[N, K]`
/// - `y_a`, `y_b`, `perm`, `lam`: `[N]`
///
/// # Example
/// ```
/// use burn::prelude::*;
/// use mixaug_loss::corrected_ratio;
/// let device = Device::flex();
/// // Uniform predictions before and after mixing: zeroing P at y_b (side a) or at y_a
/// // (side b) leaves α_a[y_a] = α_b[y_b], so λ̃ = λ (METHODS.md §15.5); λ = 1 stays 1.
/// let zeros = || Tensor::<2>::zeros([3, 4], &device);
/// let y_a = Tensor::from_ints([0, 1, 2], &device);
/// let perm = Tensor::from_ints([1, 2, 0], &device);
/// let y_b = Tensor::from_ints([1, 2, 0], &device); // y_a[π]
/// let lam = Tensor::from_floats([0.3, 0.8, 1.0], &device);
/// let ratio = corrected_ratio(zeros(), zeros(), y_a, y_b, perm, lam);
/// let lam_a: Vec<f32> = ratio.lam_a.into_data().to_vec().unwrap();
/// assert!((lam_a[0] - 0.3).abs() < 1e-6 && (lam_a[1] - 0.8).abs() < 1e-6 && lam_a[2] == 1.0);
/// // α = N · a unit row: every row has norm N = 3.
/// let norms: Vec<f32> = ratio.alpha_a.powi_scalar(2).sum_dim(1).sqrt().into_data().to_vec().unwrap();
/// assert!(norms.iter().all(|&n| (n - 3.0).abs() < 1e-5));
/// ```
pub fn corrected_ratio(
    raw_logits: Tensor<2>,
    mixed_logits: Tensor<2>,
    y_a: Tensor<1, Int>,
    y_b: Tensor<1, Int>,
    perm: Tensor<1, Int>,
    lam: Tensor<1>,
) -> CorrectedRatio {
    let n = raw_logits.dims()[0] as f64;
    corrected_ratio_scaled(raw_logits, mixed_logits, y_a, y_b, perm, lam, n)
}

/// [`corrected_ratio`] with α's factor given instead of the batch size N
/// ([`SumixConfig::avg_factor`]).
///
/// # Shapes
/// - `raw_logits`, `mixed_logits`: `[N, K]`
/// - `y_a`, `y_b`, `perm`, `lam`: `[N]`
pub fn corrected_ratio_scaled(
    raw_logits: Tensor<2>,
    mixed_logits: Tensor<2>,
    y_a: Tensor<1, Int>,
    y_b: Tensor<1, Int>,
    perm: Tensor<1, Int>,
    lam: Tensor<1>,
    factor: f64,
) -> CorrectedRatio {
    let k = raw_logits.dims()[1];
    let p = softmax(raw_logits.detach(), 1);
    let q = softmax(mixed_logits.detach(), 1);
    let lam = lam.detach();
    let hot = |y: Tensor<1, Int>| y.one_hot::<2>(k).equal_elem(1);
    // The partner's raw probabilities are taken before the zeroing of P_a.
    let p_b = p.clone().select(0, perm).mask_fill(hot(y_a.clone()), 0.0);
    let p_a = p.mask_fill(hot(y_b.clone()), 0.0);
    let alpha = |p_x: Tensor<2>| l2_normalise(softmax(q.clone() - p_x, 1)).mul_scalar(factor);
    let (alpha_a, alpha_b) = (alpha(p_a), alpha(p_b));
    let eps = 1e-12;
    let clamped = lam.clone().clamp(eps, 1.0 - eps);
    let logit = (clamped.clone() / clamped.neg().add_scalar(1.0)).log();
    let corrected = sigmoid(logit - pick(alpha_a.clone(), y_a) + pick(alpha_b.clone(), y_b));
    let extreme = lam
        .clone()
        .lower_equal_elem(0.0)
        .bool_or(lam.clone().greater_equal_elem(1.0));
    CorrectedRatio {
        alpha_a,
        alpha_b,
        lam_a: corrected.mask_where(extreme, lam),
    }
}

/// The parts of the SUMix loss.
#[derive(Debug, Clone)]
pub struct SumixLoss {
    /// `main + γ·R`, the value to minimise, `[1]`.
    pub total: Tensor<1>,
    /// The main (classification) term, `[1]`.
    pub main: Tensor<1>,
    /// The regulariser R (before γ), `[1]`.
    pub regulariser: Tensor<1>,
    /// The corrected ratio and α.
    pub ratio: CorrectedRatio,
}

/// Mean over the batch of `w_i · CE_i(logits, y)`.
fn weighted_ce(logits: Tensor<2>, y: Tensor<1, Int>, w: Tensor<1>) -> Tensor<1> {
    (pick(log_softmax(logits, 1), y).neg() * w).mean()
}

/// §15.4: the SUMix loss for one step.
///
/// Gradients reach the classifier only through the cross-entropies of `mixed_logits`, and
/// the uncertainty outputs only through R; λ̃ and α are constants.
///
/// # Shapes
/// - `raw_logits`, `mixed_logits`, `raw_uncertainty`, `mixed_uncertainty`: `[N, K]`
/// - `perm`: `[N]`
///
/// # Example
/// METHODS.md §15.5's worked example (N = 4, K = 5, λ = 0.7, π = (2, 3, 0, 1), γ = 0.5),
/// its uncertainties through an [`UncertaintyHead`] whose weights are the identity.
///
/// ```
/// use burn::{module::Param, nn::Linear, prelude::*};
/// use mixaug_loss::{SumixConfig, UncertaintyHead, sumix_loss};
/// use mixaug_masks::MixedTarget;
/// let device = Device::flex();
/// let t = |rows: [[f32; 5]; 4]| Tensor::<2>::from_floats(rows, &device);
/// let weight = Param::from_tensor(Tensor::eye(5, &device));
/// let head = UncertaintyHead { linear: Linear { weight, bias: None } };
/// let z_raw = t([[2.0, 0.5, -1.0, 0.0, 0.3], [0.1, 1.5, 0.2, -0.5, 0.0],
///                [-0.3, 0.2, 1.8, 0.4, 0.1], [0.0, -0.2, 0.3, 1.2, 0.9]]);
/// let z_mix = t([[1.2, 0.3, 0.9, 0.0, 0.1], [0.2, 0.8, 0.1, 0.7, 0.0],
///                [0.9, 0.1, 1.0, 0.2, -0.1], [0.1, 0.6, 0.2, 0.9, 0.3]]);
/// let u_raw = head.forward(t([[0.1, 0.2, 0.0, -0.1, 0.3], [0.0, 0.5, 0.1, 0.1, -0.2],
///                             [0.2, 0.0, 0.4, 0.1, 0.0], [-0.1, 0.1, 0.0, 0.6, 0.2]]));
/// let u_mix = head.forward(t([[0.3, 0.0, 0.2, 0.1, 0.0], [0.1, 0.2, 0.0, 0.4, 0.1],
///                             [0.2, 0.1, 0.3, 0.0, 0.0], [0.0, 0.3, 0.1, 0.2, 0.1]]));
/// let y_a = Tensor::from_ints([0, 1, 2, 3], &device);
/// let perm = Tensor::from_ints([2, 3, 0, 1], &device);
/// let (w_a, w_b) = (Tensor::full([4], 0.7, &device), Tensor::full([4], 0.3, &device));
/// let target = MixedTarget::pair(y_a, perm.clone(), w_a, w_b).unwrap(); // y_b = y_a[π]
/// let loss = sumix_loss(&SumixConfig::new(), z_raw, z_mix, u_raw, u_mix, &target, perm)?;
/// let (main, total): (f32, f32) = (loss.main.into_scalar(), loss.total.into_scalar());
/// assert!((main - 1.2019452).abs() < 1e-5 && (total - 1.9998424).abs() < 1e-5);
/// # Ok::<(), mixaug_loss::LossError>(())
/// ```
pub fn sumix_loss(
    config: &SumixConfig,
    raw_logits: Tensor<2>,
    mixed_logits: Tensor<2>,
    raw_uncertainty: Tensor<2>,
    mixed_uncertainty: Tensor<2>,
    target: &MixedTarget,
    perm: Tensor<1, Int>,
) -> Result<SumixLoss, LossError> {
    config.validate()?;
    let (y_a, y_b, lam) = pair_of(target)?;
    let [n, k] = mixed_logits.dims();
    for t in [&raw_logits, &raw_uncertainty, &mixed_uncertainty] {
        if t.dims() != [n, k] || n != target.batch_size() || perm.dims() != [n] {
            return Err(LossError::LogitsShape {
                logits: t.dims(),
                batch: target.batch_size(),
            });
        }
    }
    target.check_classes(k)?;
    let ratio = corrected_ratio_scaled(
        raw_logits,
        mixed_logits.clone(),
        y_a.clone(),
        y_b.clone(),
        perm.clone(),
        lam.clone(),
        config.avg_factor.unwrap_or(n as f64),
    );
    let ones = Tensor::<1>::ones([n], &lam.device());
    let lam_b = ratio.lam_a.clone().neg().add_scalar(1.0);
    let main = match config.reduction {
        SumixReduction::BatchMeanRatio => {
            let ce_a = weighted_ce(mixed_logits.clone(), y_a.clone(), ones.clone());
            let ce_b = weighted_ce(mixed_logits, y_b.clone(), ones);
            ce_a * ratio.lam_a.clone().mean() + ce_b * lam_b.mean()
        }
        SumixReduction::PerSample => {
            weighted_ce(mixed_logits.clone(), y_a.clone(), ratio.lam_a.clone())
                + weighted_ce(mixed_logits, y_b.clone(), lam_b)
        }
    };
    let beta_a = raw_uncertainty.clone() + mixed_uncertainty.clone();
    let beta_b = raw_uncertainty.select(0, perm) + mixed_uncertainty;
    let as_logits = |beta: Tensor<2>, alpha: Tensor<2>| (beta + alpha).neg().exp();
    let regulariser = weighted_ce(as_logits(beta_a, ratio.alpha_a.clone()), y_a, lam.clone())
        + weighted_ce(
            as_logits(beta_b, ratio.alpha_b.clone()),
            y_b,
            lam.neg().add_scalar(1.0),
        );
    let total = main.clone() + regulariser.clone().mul_scalar(config.gamma);
    Ok(SumixLoss {
        total,
        main,
        regulariser,
        ratio,
    })
}

/// A classifier whose pooled feature SUMix's second head can share (the models issue's
/// networks implement it).
pub trait PooledClassifier {
    /// The globally pooled backbone feature.
    ///
    /// # Shapes
    /// - `images`: `[N, C, H, W]`
    /// - output: `[N, D]`
    fn pooled(&self, images: Tensor<4>) -> Tensor<2>;

    /// The classifier's logits from the pooled feature.
    ///
    /// # Shapes
    /// - `pooled`: `[N, D]`
    /// - output: `[N, K]`
    fn classify(&self, pooled: Tensor<2>) -> Tensor<2>;
}

/// What one SUMix forward produced: the loss to back-propagate and the mix.
#[derive(Debug, Clone)]
pub struct SumixStep {
    /// The loss and its parts.
    pub loss: SumixLoss,
    /// The mixed batch, its target and π.
    pub mixed: Mixed,
    /// The classifier's logits on the mixed batch.
    pub mixed_logits: Tensor<2>,
}

/// The two-pass forward of §15.2: the raw batch through the model with gradients, the
/// mixed batch (mixed by the caller, with any [`Mixer`](mixaug_masks::Mixer) and its
/// guide) through it again, then [`sumix_loss`]. With `head = None` the uncertainty is the
/// classifier's logits (`is_norm = false`, the ImageNet template).
///
/// The caller back-propagates `step.loss.total` and steps its optimiser.
///
/// # Shapes
/// - `images`: `[N, C, H, W]`, the raw batch
/// - `mixed.images`: `[N, C, H, W]`, the same batch mixed
pub fn sumix_forward<M: PooledClassifier>(
    model: &M,
    head: Option<&UncertaintyHead>,
    config: &SumixConfig,
    images: Tensor<4>,
    mixed: Mixed,
) -> Result<SumixStep, LossError> {
    let forward = |x: Tensor<4>| {
        let f = model.pooled(x);
        let z = model.classify(f.clone());
        let u = match head {
            Some(h) => h.forward(f),
            None => z.clone(),
        };
        (z, u)
    };
    let (raw_logits, raw_uncertainty) = forward(images);
    let (mixed_logits, mixed_uncertainty) = forward(mixed.images.clone());
    let loss = sumix_loss(
        config,
        raw_logits,
        mixed_logits.clone(),
        raw_uncertainty,
        mixed_uncertainty,
        &mixed.target,
        mixed.perm.clone(),
    )?;
    Ok(SumixStep {
        loss,
        mixed,
        mixed_logits,
    })
}
