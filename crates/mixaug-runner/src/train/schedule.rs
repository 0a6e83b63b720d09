//! The learning-rate schedule of a run, composed from burn-optim's schedulers: linear
//! warm-up, then cosine or multi-step (a sequence of constants); mmcv's warm-up is a linear
//! factor multiplied into the cosine. burn-train's `Learner` steps it once per optimiser
//! step and checkpoints its position, so a resumed run continues it exactly.

use anyhow::{Result, anyhow, ensure};
use burn::module::ParamGroup;
use burn::optim::lr_scheduler::LrSchedulerConfig;
use burn::optim::lr_scheduler::composed::ComposedLrSchedulerConfig;
use burn::optim::lr_scheduler::cosine::CosineAnnealingLrSchedulerConfig;
use burn::optim::lr_scheduler::linear::LinearLrSchedulerConfig;
use burn::optim::lr_scheduler::module_lr_scheduler::{ModuleLrScheduler, ModuleLrSchedulerConfig};
use burn::optim::lr_scheduler::sequential::SequentialLrSchedulerConfig;

use super::{Schedule, TrainOptions};

/// The run's scheduler over `steps_per_epoch` optimiser steps per epoch; with
/// `new_layers`, that group follows the same schedule from
/// [`TrainOptions::new_layers_lr`] (floor scaled alike).
///
/// # Errors
/// burn-optim's cosine and linear schedulers take rates in (0, 1]: a larger `train.lr`
/// (or `new_layers_lr`) with them is refused here, naming the value.
pub(crate) fn scheduler(
    options: &TrainOptions,
    steps_per_epoch: usize,
    new_layers: Option<ParamGroup>,
) -> Result<ModuleLrScheduler> {
    let base = schedule(options, options.lr, options.min_lr, steps_per_epoch)?;
    let mut config = ModuleLrSchedulerConfig::new(base);
    if let (Some(group), Some(new_lr)) = (new_layers, options.new_layers_lr) {
        let floor = options.min_lr * new_lr / options.lr;
        config = config.with_group(group, schedule(options, new_lr, floor, steps_per_epoch)?);
    }
    config
        .init()
        .map_err(|e| anyhow!("train: burn-optim refuses the schedule: {e}"))
}

/// The schedule of `options` for the base rate `lr` and cosine floor `min_lr`.
fn schedule(
    options: &TrainOptions,
    lr: f64,
    min_lr: f64,
    steps_per_epoch: usize,
) -> Result<LrSchedulerConfig> {
    let steps = |epochs: usize, name: &str| {
        epochs.checked_mul(steps_per_epoch).ok_or_else(|| {
            anyhow!(
                "train.{name} = {epochs} epochs of {steps_per_epoch} steps are more steps than \
                 the schedule can count"
            )
        })
    };
    let total = steps(options.epochs, "epochs")?.max(1);
    let warmup = steps(options.warmup_epochs, "warmup_epochs")?;
    let bounded =
        options.schedule == Schedule::Cosine || (warmup > 0 && options.warmup_ratio.is_none());
    ensure!(
        lr <= 1.0 || !bounded,
        "train: burn-optim's cosine and linear schedulers take learning rates in (0, 1], \
         got {lr}"
    );
    Ok(match options.warmup_ratio {
        // The schedule starts after the warm-up, which rises linearly to `lr`:
        // lr·(s + 1)/W at step s.
        None if warmup > 0 => {
            let rise = match warmup {
                1 => LrSchedulerConfig::Constant(lr),
                w => LinearLrSchedulerConfig::new(lr / w as f64, lr, w - 1).into(),
            };
            SequentialLrSchedulerConfig::new(
                vec![
                    rise,
                    after_warmup(options, lr, min_lr, warmup, total, steps_per_epoch),
                ],
                vec![warmup],
            )
            .into()
        }
        None => after_warmup(options, lr, min_lr, 0, total, steps_per_epoch),
        // mmcv: the schedule runs over every step and the warm-up multiplies it by
        // 1 − (1 − s/W)·(1 − ratio), a line from `ratio` to 1 that burn-optim's linear
        // scheduler holds at 1 once it ends.
        Some(ratio) if warmup > 0 => ComposedLrSchedulerConfig::new()
            .with_schedulers(vec![
                after_warmup(options, lr, min_lr, 0, total, steps_per_epoch),
                LinearLrSchedulerConfig::new(ratio, 1.0, warmup).into(),
            ])
            .into(),
        Some(_) => after_warmup(options, lr, min_lr, 0, total, steps_per_epoch),
    })
}

/// Cosine from `lr` to `min_lr` over the steps `start..total`, or the multi-step
/// constants (milestones in epochs from the run's first step).
fn after_warmup(
    options: &TrainOptions,
    lr: f64,
    min_lr: f64,
    start: usize,
    total: usize,
    steps_per_epoch: usize,
) -> LrSchedulerConfig {
    match &options.schedule {
        Schedule::Cosine => CosineAnnealingLrSchedulerConfig::new(lr, (total - start).max(1))
            .with_min_lr(min_lr)
            .into(),
        Schedule::MultiStep { milestones, gamma } => {
            // Drops at or before `start` apply from the first step; the others become the
            // sequence's milestones, counted from `start`.
            // A milestone too far to count in steps is past the run's end either way.
            let mut steps: Vec<usize> = milestones
                .iter()
                .map(|m| m.saturating_mul(steps_per_epoch))
                .collect();
            steps.sort_unstable();
            let early = steps.iter().filter(|&&s| s <= start).count();
            let mut rates = vec![lr * gamma.powi(early as i32)];
            let mut at = Vec::new();
            for (drops, &s) in steps.iter().enumerate().skip(early) {
                let rate = lr * gamma.powi(drops as i32 + 1);
                if at.last() == Some(&(s - start)) {
                    *rates.last_mut().expect("a rate per milestone") = rate;
                } else {
                    at.push(s - start);
                    rates.push(rate);
                }
            }
            match at.is_empty() {
                true => LrSchedulerConfig::Constant(rates[0]),
                false => SequentialLrSchedulerConfig::new(
                    rates.into_iter().map(LrSchedulerConfig::Constant).collect(),
                    at,
                )
                .into(),
            }
        }
    }
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

    /// The base rate of each of the run's steps.
    fn rates(options: &TrainOptions, steps_per_epoch: usize) -> Vec<f64> {
        let mut scheduler = scheduler(options, steps_per_epoch, None).unwrap();
        (0..options.epochs * steps_per_epoch)
            .map(|_| scheduler.step().base())
            .collect()
    }

    #[test]
    fn schedules_by_hand() {
        // Cosine over 4 epochs × 10 steps: step 20 is half-way → 0.05; step 0 → 0.1.
        let cosine = rates(&options(Schedule::Cosine, 0), 10);
        assert!((cosine[0] - 0.1).abs() < 1e-12);
        assert!((cosine[20] - 0.05).abs() < 1e-12);
        // Multi-step ×0.2 at epochs 1 and 3: epoch 2 (steps 20..30) → 0.02; epoch 3 → 0.004.
        let steps = rates(
            &options(
                Schedule::MultiStep {
                    milestones: vec![3, 1],
                    gamma: 0.2,
                },
                0,
            ),
            10,
        );
        assert!((steps[9] - 0.1).abs() < 1e-12);
        assert!((steps[25] - 0.02).abs() < 1e-12);
        assert!((steps[35] - 0.004).abs() < 1e-12);
        // One warm-up epoch of 10 steps: step 4 → 0.1·5/10 = 0.05, step 9 → 0.1; then the
        // cosine over the 30 steps left: step 25 is half-way → 0.05.
        let warm = rates(&options(Schedule::Cosine, 1), 10);
        assert!((warm[4] - 0.05).abs() < 1e-12);
        assert!((warm[9] - 0.1).abs() < 1e-12);
        assert!((warm[25] - 0.05).abs() < 1e-12);
    }

    #[test]
    fn mmcv_warm_up_and_cosine_floor_by_hand() {
        // 4 epochs × 10 steps, one warm-up epoch with ratio 0.1: the cosine runs over all
        // 40 steps and the warm-up scales it by 1 − (1 − i/10)·0.9.
        let mut warm = options(Schedule::Cosine, 1);
        warm.warmup_ratio = Some(0.1);
        let warm = rates(&warm, 10);
        // Step 0: 0.1 · 0.1 = 0.01.
        assert!((warm[0] - 0.01).abs() < 1e-12);
        // Step 5: 0.05·(1 + cos(π/8)) = 0.0961939766 times 1 − 0.5·0.9 = 0.55.
        let five = 0.05 * (1.0 + (std::f64::consts::PI / 8.0).cos()) * 0.55;
        assert!((warm[5] - five).abs() < 1e-12);
        assert!((five - 0.052906687).abs() < 1e-9);
        // Step 10 (after the warm-up): 0.05·(1 + cos(π/4)) = 0.0853553391.
        assert!((warm[10] - 0.085355339).abs() < 1e-9);
        // A floor of 0.01: half-way (step 20) is 0.01 + 0.09·0.5 = 0.055.
        let mut floor = options(Schedule::Cosine, 0);
        floor.min_lr = 0.01;
        assert!((rates(&floor, 10)[20] - 0.055).abs() < 1e-12);
    }

    #[test]
    fn rates_above_one_are_refused_naming_the_option() {
        let mut high = options(Schedule::Cosine, 0);
        high.lr = 1.5;
        let Err(error) = scheduler(&high, 10, None) else {
            panic!("a rate of 1.5 was accepted");
        };
        let error = format!("{error:#}");
        assert!(error.contains("(0, 1]") && error.contains("1.5"), "{error}");
    }

    #[test]
    fn runs_too_long_to_count_are_refused_and_far_milestones_never_drop() {
        // More steps than a usize counts: an error naming the key, not an overflow panic.
        let long = TrainOptions {
            epochs: usize::MAX / 2,
            ..TrainOptions::default()
        };
        let Err(err) = scheduler(&long, 10, None) else {
            panic!("a run of more steps than a usize counts was accepted");
        };
        assert!(err.to_string().contains("train.epochs"), "{err}");
        // A milestone past the run (too far to count in steps) leaves the rate alone.
        let far = TrainOptions {
            epochs: 2,
            schedule: Schedule::MultiStep {
                milestones: vec![usize::MAX / 2],
                gamma: 0.1,
            },
            ..TrainOptions::default()
        };
        let mut scheduler = scheduler(&far, 10, None).unwrap();
        assert!((0..20).all(|_| (scheduler.step().base() - 0.1).abs() < 1e-12));
    }
}
