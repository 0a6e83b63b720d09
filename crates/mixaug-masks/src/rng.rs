//! The project's random number generator: one ChaCha stream per `(seed, epoch, step, rank)`.
//!
//! Every random draw of a mixer (λ, the permutation, box centres, …) is made on the host
//! from a [`MixRng`]. Keying the stream by the training position means a run can be
//! resumed, replayed or split across ranks without the draws depending on how many
//! numbers earlier steps consumed.

use rand::{Rng, RngCore, SeedableRng, seq::SliceRandom};
use rand_chacha::ChaCha12Rng;
use rand_distr::{Beta, Distribution};

/// Position in training that selects an independent random stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct StreamKey {
    /// Experiment seed.
    pub seed: u64,
    /// Epoch index.
    pub epoch: u64,
    /// Step (batch) index within the epoch.
    pub step: u64,
    /// Data-parallel rank (0 on a single device).
    pub rank: u64,
}

/// A seeded ChaCha12 generator with the draws the mixers need.
///
/// The 256-bit ChaCha key is the four words of the [`StreamKey`], so distinct keys give
/// independent streams.
///
/// ```
/// use mixaug_masks::{MixRng, StreamKey};
/// let key = StreamKey { seed: 7, epoch: 2, step: 40, rank: 0 };
/// let (mut a, mut b) = (MixRng::new(key), MixRng::new(key));
/// assert_eq!(a.beta(1.0), b.beta(1.0));
/// ```
#[derive(Debug, Clone)]
pub struct MixRng {
    key: StreamKey,
    inner: ChaCha12Rng,
}

impl MixRng {
    /// The stream for one training position.
    pub fn new(key: StreamKey) -> Self {
        let mut bytes = [0u8; 32];
        for (chunk, word) in bytes
            .chunks_exact_mut(8)
            .zip([key.seed, key.epoch, key.step, key.rank])
        {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        Self {
            key,
            inner: ChaCha12Rng::from_seed(bytes),
        }
    }

    /// The training position this stream belongs to (epoch-dependent policies such as
    /// SamplePairing's schedule read it).
    pub fn key(&self) -> StreamKey {
        self.key
    }

    /// The stream of epoch 0, step 0, rank 0 for `seed` (handy for one-off draws and tests).
    pub fn from_seed(seed: u64) -> Self {
        Self::new(StreamKey {
            seed,
            ..StreamKey::default()
        })
    }

    /// One draw of `λ ~ Beta(α, α)`.
    ///
    /// `α = 0` returns `1.0` (no mixing), as the reference implementations do.
    /// Configurations reject a negative or non-finite `α` in `validate()`; here a
    /// negative one also returns `1.0`. An α so large that the sampler overflows (above
    /// `f64::MAX / 2`) returns `0.5`, the distribution's value to double precision.
    pub fn beta(&mut self, alpha: f64) -> f64 {
        if alpha <= 0.0 {
            return 1.0;
        }
        // `Beta::new` only fails for non-positive or NaN parameters, excluded above.
        let dist = Beta::new(alpha, alpha).expect("α > 0 is a valid Beta parameter");
        let draw = dist.sample(&mut self.inner);
        // For α above `f64::MAX / 2`, `α + α` overflows inside rand_distr's algorithm BB
        // and the draw is NaN; Beta(α, α) is then ½ to double precision (sd 1/(2√(2α+1))).
        if draw.is_nan() { 0.5 } else { draw }
    }

    /// A draw of `U(0, 1)` (half-open).
    pub fn uniform(&mut self) -> f64 {
        self.inner.random::<f64>()
    }

    /// A draw of `N(0, 1)`.
    pub fn normal(&mut self) -> f64 {
        rand_distr::StandardNormal.sample(&mut self.inner)
    }

    /// A draw of the discrete uniform `U{0..n-1}`; `n` must be positive.
    pub fn below(&mut self, n: usize) -> usize {
        self.inner.random_range(0..n)
    }

    /// `true` with probability `p` (the probability gate of a mixer). `p = 1` never draws
    /// a number, so methods that always mix consume the same stream with or without a gate.
    pub fn gate(&mut self, p: f64) -> bool {
        if p >= 1.0 { true } else { self.uniform() < p }
    }

    /// A uniform random permutation of `0..n` (Fisher–Yates; fixed points allowed, like
    /// `torch.randperm`).
    pub fn permutation(&mut self, n: usize) -> Vec<usize> {
        let mut p: Vec<usize> = (0..n).collect();
        p.shuffle(&mut self.inner);
        p
    }
}

impl RngCore for MixRng {
    fn next_u32(&mut self) -> u32 {
        self.inner.next_u32()
    }

    fn next_u64(&mut self) -> u64 {
        self.inner.next_u64()
    }

    fn fill_bytes(&mut self, dst: &mut [u8]) {
        self.inner.fill_bytes(dst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One-sample Kolmogorov–Smirnov statistic of `xs` against the CDF `cdf`.
    fn ks_statistic(mut xs: Vec<f64>, cdf: impl Fn(f64) -> f64) -> f64 {
        xs.sort_by(f64::total_cmp);
        let n = xs.len() as f64;
        xs.iter()
            .enumerate()
            .map(|(i, &x)| {
                let f = cdf(x);
                (f - i as f64 / n).abs().max(((i + 1) as f64 / n - f).abs())
            })
            .fold(0.0, f64::max)
    }

    fn draws(alpha: f64, n: usize) -> Vec<f64> {
        let mut rng = MixRng::from_seed(20260101);
        (0..n).map(|_| rng.beta(alpha)).collect()
    }

    // Critical value of the KS test at significance 0.001: 1.949 / sqrt(n).
    const N: usize = 20_000;
    fn critical() -> f64 {
        1.949 / (N as f64).sqrt()
    }

    #[test]
    fn beta_one_is_uniform() {
        let d = ks_statistic(draws(1.0, N), |x| x);
        assert!(d < critical(), "KS D = {d}");
    }

    #[test]
    fn beta_half_is_arcsine() {
        // Beta(1/2, 1/2) has CDF (2/π)·asin(√x).
        let d = ks_statistic(draws(0.5, N), |x| {
            2.0 / std::f64::consts::PI * x.sqrt().asin()
        });
        assert!(d < critical(), "KS D = {d}");
    }

    #[test]
    fn beta_two_matches_its_cdf() {
        // Beta(2, 2) has density 6x(1−x), CDF 3x² − 2x³.
        let d = ks_statistic(draws(2.0, N), |x| 3.0 * x * x - 2.0 * x * x * x);
        assert!(d < critical(), "KS D = {d}");
    }

    #[test]
    fn ks_rejects_a_wrong_distribution() {
        // The test has power: Beta(2, 2) draws are far from uniform.
        let d = ks_statistic(draws(2.0, N), |x| x);
        assert!(d > critical(), "KS D = {d}");
    }

    #[test]
    fn small_alpha_is_symmetric_and_in_range() {
        let xs = draws(0.2, N);
        assert!(xs.iter().all(|x| (0.0..=1.0).contains(x)));
        let mean = xs.iter().sum::<f64>() / N as f64;
        assert!((mean - 0.5).abs() < 0.01, "mean {mean}");
    }

    #[test]
    fn non_positive_alpha_means_no_mixing() {
        let mut rng = MixRng::from_seed(1);
        assert_eq!(rng.beta(0.0), 1.0);
        assert_eq!(rng.beta(-3.0), 1.0);
    }

    #[test]
    fn streams_depend_on_every_key_word() {
        let base = StreamKey {
            seed: 1,
            epoch: 2,
            step: 3,
            rank: 0,
        };
        let first = |k: StreamKey| MixRng::new(k).next_u64();
        let a = first(base);
        assert_eq!(a, first(base));
        for other in [
            StreamKey { seed: 9, ..base },
            StreamKey { epoch: 9, ..base },
            StreamKey { step: 9, ..base },
            StreamKey { rank: 9, ..base },
        ] {
            assert_ne!(a, first(other));
        }
    }

    #[test]
    fn permutation_is_a_permutation() {
        let mut rng = MixRng::from_seed(3);
        let mut p = rng.permutation(50);
        p.sort_unstable();
        assert_eq!(p, (0..50).collect::<Vec<_>>());
    }

    /// α beyond the sampler's range (α + α overflows) gives ½, not NaN.
    #[test]
    fn huge_alpha_is_one_half() {
        let mut rng = MixRng::from_seed(1);
        for alpha in [1e200, 1e300, f64::MAX] {
            assert_eq!(rng.beta(alpha), 0.5, "α = {alpha}");
        }
        let ordinary = rng.beta(1e6);
        assert!((ordinary - 0.5).abs() < 1e-2, "{ordinary}");
    }

    #[test]
    fn gate_frequency() {
        let mut rng = MixRng::from_seed(4);
        let on = (0..10_000).filter(|_| rng.gate(0.3)).count();
        // Binomial(10000, 0.3): sd ≈ 46; 5 sd.
        assert!((on as i64 - 3000).abs() < 230, "{on}");
        assert!((0..100).all(|_| rng.gate(1.0)));
        assert!((0..100).all(|_| !rng.gate(0.0)));
    }
}
