//! [`DataRng`]: the data pipeline's ChaCha stream, keyed by `(seed, epoch, index)`.

use rand::{Rng, SeedableRng, seq::SliceRandom};
use rand_chacha::ChaCha12Rng;
use rand_distr::Distribution;

/// Which draw a stream serves, so the shuffle and the per-image augmentations never share
/// numbers.
const SHUFFLE: u64 = 1;
const AUGMENT: u64 = 2;

/// A seeded ChaCha12 generator. The 256-bit key is `(seed, epoch, index, purpose)`: the
/// augmentation of image `index` in `epoch` is the same whatever thread decodes it and
/// whatever else was drawn before.
#[derive(Debug, Clone)]
pub struct DataRng(ChaCha12Rng);

impl DataRng {
    fn keyed(words: [u64; 4]) -> Self {
        let mut bytes = [0u8; 32];
        for (chunk, word) in bytes.chunks_exact_mut(8).zip(words) {
            chunk.copy_from_slice(&word.to_le_bytes());
        }
        Self(ChaCha12Rng::from_seed(bytes))
    }

    /// The stream that augments sample `index` in `epoch`.
    pub fn for_sample(seed: u64, epoch: u64, index: u64) -> Self {
        Self::keyed([seed, epoch, index, AUGMENT])
    }

    /// The stream that shuffles `epoch`.
    pub fn for_shuffle(seed: u64, epoch: u64) -> Self {
        Self::keyed([seed, epoch, 0, SHUFFLE])
    }

    /// `U(0, 1)`.
    pub fn uniform(&mut self) -> f64 {
        self.0.random::<f64>()
    }

    /// `N(0, 1)`.
    pub fn normal(&mut self) -> f64 {
        rand_distr::StandardNormal.sample(&mut self.0)
    }

    /// `U{0..n−1}`; `n` must be positive.
    pub fn below(&mut self, n: usize) -> usize {
        self.0.random_range(0..n)
    }

    /// Shuffles in place (Fisher–Yates).
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        items.shuffle(&mut self.0);
    }
}
