//! ResizeMix: paste the whole partner, shrunk, into a box of the base image.
//!
//! Qin, Fang, Zhang, Wang, Wei, Wang, *ResizeMix: Mixing Data with Preserved Object
//! Information and True Labels*, arXiv 2012.11101, 2020. Reference code (the variant the
//! SUMix tables use): openmixup `openmixup/models/augments/resizemix.py`. Spec: METHODS.md §7.
//!
//! Non-square images: the box has `⌊H·τ⌋` rows and `⌊W·τ⌋` columns (rows ↔ H throughout;
//! the reference swaps the names and is only right for square images).

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{check_alpha, check_probability};
use crate::mixer::{Pairs, configured, open_pairs};
use crate::ops::nearest_resize;
use crate::{BatchShape, CutBox, Guide, MixError, MixRng, Mixed, Mixer, Pairing, Permutation};

/// Configuration of [`ResizeMix`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ResizeMixConfig {
    /// Range `[lo, hi]` of the scale τ. Default `[0.1, 0.8]`.
    pub scope: [f64; 2],
    /// Draw τ from `Beta(α, α)`, redrawn once from `U(scope)` when outside the scope
    /// (every SUMix config; with α = 1 identical to `U(scope)`). `false`: τ ~ U(scope)
    /// (the original ResizeMix). Default true.
    pub use_alpha: bool,
    /// α of the Beta draw. Default 1 (SUMix tables).
    pub alpha: f64,
    /// Probability that a batch is mixed. Default 1.
    pub prob: f64,
    /// How partners are chosen. Default: a random permutation (reference).
    pub pairing: Pairing,
}

impl Default for ResizeMixConfig {
    fn default() -> Self {
        Self {
            scope: [0.1, 0.8],
            use_alpha: true,
            alpha: 1.0,
            prob: 1.0,
            pairing: Pairing::RandomPermutation,
        }
    }
}

impl ResizeMixConfig {
    /// The defaults (see the fields).
    pub fn new() -> Self {
        Self::default()
    }
    /// Rejects invalid hyper-parameters.
    pub fn validate(&self) -> Result<(), MixError> {
        check_alpha("resizemix.alpha", self.alpha)?;
        check_probability("resizemix.prob", self.prob)?;
        let [lo, hi] = self.scope;
        if !(0.0 <= lo && lo <= hi && hi <= 1.0) {
            return Err(MixError::InvalidHyperParameter {
                name: "resizemix.scope",
                value: if (0.0..=1.0).contains(&lo) { hi } else { lo },
                expected: "0 ≤ lo ≤ hi ≤ 1",
            });
        }
        Ok(())
    }
}

configured! {
    ResizeMix(ResizeMixConfig) {
        with_scope => scope: [f64; 2],
        with_use_alpha => use_alpha: bool,
        with_alpha => alpha: f64,
        with_pairing => pairing: Pairing,
    }
}

/// What ResizeMix draws for one batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ResizeMixParams {
    /// The partner of each sample.
    pub perm: Permutation,
    /// The scale τ (0 when the gate did not fire).
    pub tau: f64,
    /// Where the shrunk partner goes (clipped; empty when nothing is pasted).
    pub region: CutBox,
}

/// ResizeMix: the whole partner `x_π(i)`, resized with PyTorch's legacy `nearest` to the
/// clipped box, replaces the box of `x_i`; the base label's weight is `1 − area/(HW)`.
#[derive(Debug, Clone)]
pub struct ResizeMix {
    config: ResizeMixConfig,
}

impl Mixer for ResizeMix {
    type Params = ResizeMixParams;

    fn sample(&self, rng: &mut MixRng, batch: BatchShape) -> Result<Self::Params, MixError> {
        let cfg = &self.config;
        let [lo, hi] = cfg.scope;
        let draw = |rng: &mut MixRng, mixing| {
            let mut tau = 0.0;
            if mixing {
                tau = if cfg.use_alpha {
                    rng.beta(cfg.alpha)
                } else {
                    -1.0
                };
                if !(lo..=hi).contains(&tau) {
                    tau = lo + (hi - lo) * rng.uniform();
                }
            }
            (mixing, tau)
        };
        let ((mixing, tau), perm) = open_pairs(rng, batch, cfg.prob, cfg.pairing, draw)?;
        let (r, c) = (rng.below(batch.h), rng.below(batch.w));
        let region = if mixing {
            CutBox::with_side_ratio(batch.h, batch.w, tau, r, c)
        } else {
            CutBox::default()
        };
        Ok(ResizeMixParams { perm, tau, region })
    }

    fn apply(
        &self,
        params: &Self::Params,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
        _guide: &Guide,
    ) -> Result<Mixed, MixError> {
        let (pairs, images) =
            Pairs::check("resizemix parameters", images, labels, &params.perm, 1)?;
        let (b, batch) = (params.region, pairs.batch);
        if b.y1() > batch.h || b.x1() > batch.w {
            return Err(MixError::ShapeMismatch {
                what: "resizemix box",
                expected: format!("inside {}×{}", batch.h, batch.w),
                got: format!("{b:?}"),
            });
        }
        let images = if b.is_empty() {
            images
        } else {
            // Box pixel (j, k) of sample i is its partner's pixel (rows[j], cols[k]).
            let perm = params.perm.to_tensor(&pairs.device());
            let shrunk = nearest_resize(images.clone(), b.h, b.w).select(0, perm);
            images.slice_assign(s![.., .., b.y0..b.y1(), b.x0..b.x1()], shrunk)
        };
        pairs.mixed(images, &[b.kept_fraction(batch.h, batch.w)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tau_stays_in_scope_and_is_flat_for_alpha_one() {
        let m = ResizeMixConfig::new().init().unwrap();
        let mut rng = MixRng::from_seed(9);
        let mut bins = [0usize; 7];
        for _ in 0..7000 {
            let p = m.sample(&mut rng, BatchShape::new(2, 3, 32, 32)).unwrap();
            assert!((0.1..=0.8).contains(&p.tau));
            bins[(((p.tau - 0.1) / 0.1) as usize).min(6)] += 1;
        }
        // 1000 per bin expected; binomial sd ≈ 29, allow 5 sd.
        assert!(
            bins.iter().all(|&b| (b as i64 - 1000).abs() < 150),
            "{bins:?}"
        );
    }
}
