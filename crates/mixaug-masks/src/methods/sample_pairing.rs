//! SamplePairing: average each image with a partner, keep the base label.
//!
//! Inoue, *Data Augmentation by Pairing Samples for Images Classification*, arXiv
//! 1801.02929, 2018. No official code; the in-batch partner and the schedule follow
//! torchbearer's `SamplePairing` callback. Spec: METHODS.md §3.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::check_probability;
use crate::mixer::{Pairs, configured};
use crate::ops::{LineMask, Mask, Source, blend};
use crate::{BatchShape, Guide, MixError, MixRng, Mixed, Mixer, Pairing, Permutation};

/// When SamplePairing is on: off before `start`, then `on` epochs on and `off` epochs off,
/// repeated until `end` (exclusive), off afterwards (the final fine-tuning).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairingSchedule {
    /// First epoch with pairing. Default 100 (the paper's CIFAR setting).
    pub start: u64,
    /// First epoch after the alternating phase. Default 800 (torchbearer).
    pub end: u64,
    /// Epochs on per cycle. Default 8.
    pub on: u64,
    /// Epochs off per cycle. Default 2.
    pub off: u64,
}

impl Default for PairingSchedule {
    fn default() -> Self {
        Self {
            start: 100,
            end: 800,
            on: 8,
            off: 2,
        }
    }
}

impl PairingSchedule {
    /// A schedule that is on at every epoch.
    pub fn always() -> Self {
        Self {
            start: 0,
            end: u64::MAX,
            on: 1,
            off: 0,
        }
    }

    /// Whether pairing is on at `epoch`: `start ≤ e < end` and `(e − start) mod (on + off) < on`.
    pub fn is_on(&self, epoch: u64) -> bool {
        if !(self.start..self.end).contains(&epoch) {
            return false;
        }
        let since = epoch - self.start;
        match self.on.checked_add(self.off) {
            Some(cycle) => since % cycle < self.on,
            // A cycle longer than `u64::MAX` epochs: `since` is inside the first one.
            None => since < self.on,
        }
    }

    /// Rejects schedules that are never on or not ordered.
    pub fn validate(&self) -> Result<(), MixError> {
        if self.on == 0 {
            return Err(MixError::InvalidHyperParameter {
                name: "sample_pairing.schedule.on",
                value: 0.0,
                expected: "at least one epoch on per cycle",
            });
        }
        if self.start > self.end {
            return Err(MixError::InvalidHyperParameter {
                name: "sample_pairing.schedule.start",
                value: self.start as f64,
                expected: "start ≤ end",
            });
        }
        Ok(())
    }
}

/// Configuration of [`SamplePairing`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SamplePairingConfig {
    /// The on/off epochs, read from the [`MixRng`]'s stream key. Default: the paper's CIFAR
    /// schedule (start 100, end 800, 8 on / 2 off).
    pub schedule: PairingSchedule,
    /// Probability that a batch is paired in an "on" epoch. Default 1.
    pub prob: f64,
    /// How partners are chosen. Default: a random permutation (torchbearer).
    pub pairing: Pairing,
}

impl Default for SamplePairingConfig {
    fn default() -> Self {
        Self {
            schedule: PairingSchedule::default(),
            prob: 1.0,
            pairing: Pairing::RandomPermutation,
        }
    }
}

impl SamplePairingConfig {
    /// The defaults (see the fields).
    pub fn new() -> Self {
        Self::default()
    }
    /// Rejects invalid hyper-parameters.
    pub fn validate(&self) -> Result<(), MixError> {
        self.schedule.validate()?;
        check_probability("sample_pairing.prob", self.prob)
    }
}

configured! {
    SamplePairing(SamplePairingConfig) {
        with_schedule => schedule: PairingSchedule,
        with_pairing => pairing: Pairing,
    }
}

/// What SamplePairing draws for one batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SamplePairingParams {
    /// The partner of each sample.
    pub perm: Permutation,
    /// Whether this batch is paired (schedule and gate).
    pub active: bool,
}

/// SamplePairing: `x̃_i = (x_i + x_π(i))/2` with the label of `x_i` only (target weights
/// `(1, 0)` on `(y_i, y_π(i))`).
#[derive(Debug, Clone)]
pub struct SamplePairing {
    config: SamplePairingConfig,
}

impl Mixer for SamplePairing {
    type Params = SamplePairingParams;

    fn sample(&self, rng: &mut MixRng, batch: BatchShape) -> Result<Self::Params, MixError> {
        batch.require_mixable()?;
        let active = self.config.schedule.is_on(rng.key().epoch) && rng.gate(self.config.prob);
        let perm = self.config.pairing.draw(rng, batch.n);
        Ok(SamplePairingParams { perm, active })
    }

    fn apply(
        &self,
        params: &Self::Params,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
        _guide: &Guide,
    ) -> Result<Mixed, MixError> {
        let (pairs, images) =
            Pairs::check("sample_pairing parameters", images, labels, &params.perm, 1)?;
        let images = if params.active {
            // The average of the pair: x_π + (x − x_π)·½.
            let b = pairs.batch;
            let half = LineMask::uniform(&[0.5], b.n, b.h, b.w);
            blend(
                images,
                Source::Partner(pairs.partners()),
                &Mask::Lines(half),
            )
        } else {
            images
        };
        pairs.mixed(images, &[1.0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_matches_its_definition() {
        for s in [
            PairingSchedule::default(),
            PairingSchedule {
                start: 3,
                end: 40,
                on: 2,
                off: 3,
            },
            PairingSchedule {
                start: 0,
                end: 10,
                on: 1,
                off: 0,
            },
        ] {
            for e in 0..900 {
                let expected = s.start <= e && e < s.end && (e - s.start) % (s.on + s.off) < s.on;
                assert_eq!(s.is_on(e), expected, "{s:?} epoch {e}");
            }
        }
        let d = PairingSchedule::default();
        assert!(!d.is_on(99) && d.is_on(100) && d.is_on(107) && !d.is_on(108) && !d.is_on(109));
        assert!(d.is_on(110) && d.is_on(799) == ((799 - 100) % 10 < 8) && !d.is_on(800));
    }

    #[test]
    fn invalid_schedules() {
        let zero_on = PairingSchedule {
            on: 0,
            ..PairingSchedule::default()
        };
        assert!(zero_on.validate().is_err());
        let reversed = PairingSchedule {
            start: 9,
            end: 3,
            ..PairingSchedule::default()
        };
        assert!(reversed.validate().is_err());
    }

    /// A cycle longer than `u64::MAX` epochs (`on + off` overflows) is on for its first
    /// `on` epochs (it used to panic on the overflow).
    #[test]
    fn cycles_beyond_u64_do_not_overflow() {
        let s = PairingSchedule {
            start: 2,
            end: u64::MAX,
            on: u64::MAX - 1,
            off: 5,
        };
        assert!(s.validate().is_ok());
        assert!(!s.is_on(1) && s.is_on(2) && s.is_on(u64::MAX - 1) && !s.is_on(u64::MAX));
    }
}
