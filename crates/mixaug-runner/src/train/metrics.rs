//! What a run measures, as burn-train metrics: the mixed loss and the re-weighting of λ
//! on the training split, clean top-1/top-5 (and top-1 on a training prefix) on the
//! validation split. The `Learner` feeds them, its metric loggers write them under the
//! state folder, and the run's renderer ([`super::events`]) reads their epoch values into
//! [`EpochMetrics`].
//!
//! burn-train's own `AccuracyMetric` and `LossMetric` average per-batch values; these
//! count hits and sum `loss × images` so that an epoch's numbers are exactly those of
//! the loop this runner had before it trained through the `Learner` (same formulas, same
//! order of operations).

use burn::prelude::*;
use burn::tensor::TensorReadError;
use burn::train::ItemLazy;
use burn::train::metric::state::{FormatOptions, NumericMetricState};
use burn::train::metric::{
    Adaptor, Metric, MetricAttributes, MetricMetadata, MetricName, Numeric, NumericAttributes,
    NumericEntry, SerializedEntry,
};
use burn_std::ExecutionError;
use serde::{Deserialize, Serialize};
use std::sync::Arc;

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
    /// [`TrainOptions::eval_every`](super::TrainOptions::eval_every) skipped).
    pub top1: f64,
    /// Clean top-5 accuracy on the evaluation set, in percent (top-k with k = classes
    /// when there are fewer than 5).
    pub top5: f64,
    /// Clean top-1 accuracy on (a prefix of) the training set, in percent, when the run
    /// measures it ([`RunControl::train_eval`](super::RunControl::train_eval)): beside `top1` it shows over-fitting.
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
/// semantic weights ρ — over the mixed samples of the epoch's batches (every device's): what the
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
    /// One line for the terminal UI: mean λ, the first image's weight and the saturated
    /// share.
    fn shown(&self) -> String {
        format!(
            "λ {:.3} → weight {:.3} ({:.0} % saturated)",
            self.lam,
            self.weight_a,
            100.0 * self.saturated
        )
    }

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
/// (the last two 0 without SUMix). The run's `ratio` metric adds them up over an epoch and reads
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

impl RatioStats {
    /// The comma-separated form a [`RatioMetric`] entry carries: the nine fields in order.
    fn serialize(&self) -> String {
        format!(
            "{},{},{},{},{},{},{},{},{}",
            self.samples,
            self.lam,
            self.weight_a,
            self.weight_b,
            self.abs_change,
            self.saturated,
            self.main,
            self.regulariser,
            self.steps
        )
    }

    /// Reads [`Self::serialize`]'s form; `None` for anything else (an epoch without ratios).
    pub(crate) fn parse(text: &str) -> Option<Self> {
        let v: Vec<&str> = text.split(',').collect();
        let f = |i: usize| v.get(i)?.parse::<f64>().ok();
        let u = |i: usize| v.get(i)?.parse::<usize>().ok();
        (v.len() == 9).then_some(())?;
        Some(Self {
            samples: u(0)?,
            lam: f(1)?,
            weight_a: f(2)?,
            weight_b: f(3)?,
            abs_change: f(4)?,
            saturated: f(5)?,
            main: f(6)?,
            regulariser: f(7)?,
            steps: u(8)?,
        })
    }
}

/// Metric names, as the renderer and burn-train's logs know them.
pub(crate) const MIX_LOSS: &str = "mix_loss";
pub(crate) const TOP1: &str = "top1";
pub(crate) const TOP5: &str = "top5";
pub(crate) const TRAIN_TOP1: &str = "train_top1";
pub(crate) const RATIO: &str = "ratio";

/// What a training step hands burn-train's metrics.
#[derive(Debug, Clone)]
pub struct MixOutput {
    /// The step's mixed loss, already on the host (it was checked for divergence).
    pub loss: f64,
    /// Images in the step.
    pub images: usize,
    /// The step's [`ratio_sums`] (SUMix, SnapMix), still on the device.
    pub ratio: Option<Tensor<1>>,
}

impl ItemLazy for MixOutput {
    fn sync(self) -> Result<Self, ExecutionError> {
        Ok(self)
    }
}

impl Adaptor<MixOutput> for MixOutput {
    fn adapt(&self) -> MixOutput {
        self.clone()
    }
}

/// Which images an evaluation batch holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalSource {
    /// The evaluation set.
    Eval,
    /// The clean training prefix ([`super::RunControl::train_eval`]).
    TrainPrefix,
}

/// One clean evaluation batch's hits, counted on the host.
#[derive(Debug, Clone, Copy)]
pub struct EvalOutput {
    /// Where the images come from.
    pub source: EvalSource,
    /// Images whose best score is their label.
    pub top1: usize,
    /// Images whose label is among their 5 best scores (all, with fewer classes).
    pub top5: usize,
    /// Images in the batch.
    pub images: usize,
}

impl ItemLazy for EvalOutput {
    fn sync(self) -> Result<Self, ExecutionError> {
        Ok(self)
    }
}

impl Adaptor<EvalOutput> for EvalOutput {
    fn adapt(&self) -> EvalOutput {
        *self
    }
}

/// The mean mixed loss of the epoch, weighted by images (burn-train's numeric state:
/// `Σ loss·n / Σ n`).
#[derive(Clone, Default)]
pub struct MixLossMetric {
    state: NumericMetricState,
}

impl Metric for MixLossMetric {
    type Input = MixOutput;

    fn name(&self) -> MetricName {
        Arc::new(MIX_LOSS.into())
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes {
            unit: None,
            higher_is_better: false,
        }
        .into()
    }

    fn update(
        &mut self,
        item: &MixOutput,
        _: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        self.state.update(item.loss, item.images);
        Ok(self
            .state
            .compute_update(FormatOptions::new(self.name()).precision(4)))
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        Ok(self
            .state
            .compute_final(FormatOptions::new(self.name()).precision(4)))
    }

    fn clear(&mut self) {
        self.state.reset();
    }
}

impl Numeric for MixLossMetric {
    fn value(&self) -> Option<NumericEntry> {
        Some(self.state.current_value())
    }

    fn running_value(&self) -> Option<NumericEntry> {
        Some(self.state.running_value())
    }

    fn final_value(&self) -> NumericEntry {
        self.state.final_value()
    }
}

/// Clean top-1 or top-5 accuracy in percent over the epoch's batches of one
/// [`EvalSource`]: `100 · hits / images`, NaN for an epoch without such batches (one that
/// [`super::TrainOptions::eval_every`] skips).
#[derive(Debug, Clone)]
pub struct HitRateMetric {
    name: &'static str,
    source: EvalSource,
    top5: bool,
    hits: usize,
    images: usize,
    current: f64,
}

impl HitRateMetric {
    /// Top-1 on the evaluation set.
    pub fn top1() -> Self {
        Self::new(TOP1, EvalSource::Eval, false)
    }

    /// Top-5 on the evaluation set.
    pub fn top5() -> Self {
        Self::new(TOP5, EvalSource::Eval, true)
    }

    /// Top-1 on the clean training prefix.
    pub fn train_top1() -> Self {
        Self::new(TRAIN_TOP1, EvalSource::TrainPrefix, false)
    }

    fn new(name: &'static str, source: EvalSource, top5: bool) -> Self {
        Self {
            name,
            source,
            top5,
            hits: 0,
            images: 0,
            current: f64::NAN,
        }
    }

    fn rate(&self) -> f64 {
        match self.images {
            0 => f64::NAN,
            n => 100.0 * self.hits as f64 / n as f64,
        }
    }

    fn entry(&self, value: f64, serialized: NumericEntry) -> SerializedEntry {
        SerializedEntry::new(
            format!("{} {value:.2} %", self.name),
            serialized.serialize(),
        )
    }
}

impl Metric for HitRateMetric {
    type Input = EvalOutput;

    fn name(&self) -> MetricName {
        Arc::new(self.name.into())
    }

    fn attributes(&self) -> MetricAttributes {
        NumericAttributes {
            unit: Some("%".into()),
            higher_is_better: true,
        }
        .into()
    }

    fn update(
        &mut self,
        item: &EvalOutput,
        _: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        if item.source != self.source {
            return Ok(SerializedEntry::not_available(Some("%")));
        }
        let hits = if self.top5 { item.top5 } else { item.top1 };
        self.hits += hits;
        self.images += item.images;
        self.current = 100.0 * hits as f64 / item.images.max(1) as f64;
        Ok(self.entry(
            self.current,
            NumericEntry::Aggregated {
                aggregated_value: self.current,
                count: item.images,
            },
        ))
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        Ok(self.entry(self.rate(), NumericEntry::Final(self.rate())))
    }

    fn clear(&mut self) {
        (self.hits, self.images, self.current) = (0, 0, f64::NAN);
    }
}

impl Numeric for HitRateMetric {
    fn value(&self) -> Option<NumericEntry> {
        (!self.current.is_nan()).then_some(NumericEntry::Value(self.current))
    }

    fn running_value(&self) -> Option<NumericEntry> {
        (self.images > 0).then_some(NumericEntry::Aggregated {
            aggregated_value: self.rate(),
            count: self.images,
        })
    }

    fn final_value(&self) -> NumericEntry {
        NumericEntry::Final(self.rate())
    }
}

/// The epoch's [`RatioStats`]: the steps' [`ratio_sums`] added on the device and read once
/// at the epoch's end, so the steps wait for nothing. Its entry is the statistics'
/// comma-separated fields (`N/A` for losses that do not re-weight λ, and for each step);
/// a step's entry shows the last epoch's statistics (the terminal UI's text).
#[derive(Debug, Clone, Default)]
pub struct RatioMetric {
    sums: Option<Tensor<1>>,
    steps: usize,
    /// The last epoch's statistics as shown.
    last: Option<String>,
}

impl RatioMetric {
    /// The metric of a run continuing after an epoch with the statistics `last` (a resumed
    /// run shows them during its first epoch).
    pub(crate) fn continuing(last: Option<&RatioStats>) -> Self {
        Self {
            last: last.map(RatioStats::shown),
            ..Self::default()
        }
    }
}

impl Metric for RatioMetric {
    type Input = MixOutput;

    fn name(&self) -> MetricName {
        Arc::new(RATIO.into())
    }

    fn update(
        &mut self,
        item: &MixOutput,
        _: &MetricMetadata,
    ) -> Result<SerializedEntry, TensorReadError> {
        if let Some(sums) = &item.ratio {
            self.steps += 1;
            // With several devices each batch's sums are on its own device.
            self.sums = Some(match self.sums.take() {
                Some(total) => {
                    let device = total.device();
                    total + sums.clone().to_device(&device)
                }
                None => sums.clone(),
            });
        }
        Ok(match &self.last {
            Some(last) => SerializedEntry::new(
                format!("last epoch {last}"),
                SerializedEntry::NOT_AVAILABLE.into(),
            ),
            None => SerializedEntry::not_available(None),
        })
    }

    fn compute(&mut self) -> Result<SerializedEntry, TensorReadError> {
        let Some(sums) = self.sums.clone() else {
            return Ok(SerializedEntry::not_available(None));
        };
        let sums: Vec<f64> = sums.try_into_data()?.try_into_vec_as()?;
        let stats = RatioStats::from_sums(&sums, self.steps);
        let shown = stats.shown();
        self.last = Some(shown.clone());
        Ok(SerializedEntry::new(
            format!("epoch {shown}"),
            stats.serialize(),
        ))
    }

    fn clear(&mut self) {
        (self.sums, self.steps) = (None, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn ratio_entries_show_the_last_epoch_while_the_next_runs() {
        // The two steps of `ratio_statistics_by_hand`: λ 0.82/3 = 0.273, weight 1.40/3 =
        // 0.467, one of three samples saturated.
        let device = Device::flex();
        let t = |v: &[f32]| Tensor::<1>::from_floats(v, &device);
        let step = |ratio| MixOutput {
            loss: 1.0,
            images: 3,
            ratio: Some(ratio),
        };
        let one = step(ratio_sums(
            t(&[0.5, 0.3, 1.0]),
            t(&[0.99, 0.4, 1.0]),
            t(&[0.01, 0.6, 0.0]),
            Some((t(&[2.0]), t(&[0.5]))),
        ));
        let two = step(ratio_sums(
            t(&[0.02]),
            t(&[0.01]),
            t(&[0.99]),
            Some((t(&[1.0]), t(&[0.1]))),
        ));
        let meta = MetricMetadata {
            progress: burn::data::dataloader::Progress::new(1, 2, None),
            iteration: Some(1),
            lr: None,
        };
        let mut metric = RatioMetric::default();
        let first = metric.update(&one, &meta).unwrap();
        assert_eq!(first.formatted, "epoch N/A - batch N/A");
        metric.update(&two, &meta).unwrap();
        let epoch = metric.compute().unwrap();
        let shown = "λ 0.273 → weight 0.467 (33 % saturated)";
        assert_eq!(epoch.formatted, format!("epoch {shown}"));
        assert_eq!(RatioStats::parse(&epoch.serialized).unwrap().steps, 2);
        metric.clear();
        let next = metric.update(&one, &meta).unwrap();
        assert_eq!(next.formatted, format!("last epoch {shown}"));
        assert_eq!(next.serialized, SerializedEntry::NOT_AVAILABLE);
        assert!(RatioStats::parse(&next.serialized).is_none());

        // A resumed run shows its kept epoch's statistics from its first step.
        let kept = RatioStats::parse(&epoch.serialized).unwrap();
        let mut resumed = RatioMetric::continuing(Some(&kept));
        let first = resumed.update(&one, &meta).unwrap();
        assert_eq!(first.formatted, format!("last epoch {shown}"));
    }
}
