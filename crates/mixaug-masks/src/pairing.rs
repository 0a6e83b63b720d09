//! Who mixes with whom: the permutation π and the rules that draw it.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::{MixError, MixRng};

/// How the partner of each sample is chosen (METHODS.md §0.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Pairing {
    /// A uniform random permutation of the batch (fixed points allowed), the reference
    /// default of every method (`torch.randperm`).
    #[default]
    RandomPermutation,
    /// Sample `i` pairs with `N − 1 − i` (timm's batch flip).
    Flip,
    /// Sample `i` pairs with `(i − shift) mod N`, i.e. the batch rolled by `shift` as
    /// `torch.roll(x, shift, 0)` does.
    Roll {
        /// How far the batch is rolled.
        shift: usize,
    },
}

impl Pairing {
    /// Draws the permutation for a batch of `n` samples.
    pub fn draw(&self, rng: &mut MixRng, n: usize) -> Permutation {
        let partners = match *self {
            Pairing::RandomPermutation => rng.permutation(n),
            Pairing::Flip => (0..n).rev().collect(),
            Pairing::Roll { shift } => (0..n).map(|i| (i + n - shift % n) % n).collect(),
        };
        Permutation(partners)
    }
}

/// A permutation π of `0..N`: the partner of sample `i` is `π(i)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Vec<usize>", into = "Vec<usize>")]
pub struct Permutation(Vec<usize>);

impl Permutation {
    /// Checks that `partners` holds every index of `0..len` exactly once.
    pub fn new(partners: Vec<usize>) -> Result<Self, MixError> {
        let n = partners.len();
        let mut seen = vec![false; n];
        for &p in &partners {
            if p >= n {
                return Err(MixError::InvalidPermutation {
                    n,
                    reason: format!("index {p} is out of range"),
                });
            }
            if std::mem::replace(&mut seen[p], true) {
                return Err(MixError::InvalidPermutation {
                    n,
                    reason: format!("index {p} appears twice"),
                });
            }
        }
        Ok(Self(partners))
    }

    /// The identity: every sample is its own partner (mixing then changes nothing).
    pub fn identity(n: usize) -> Self {
        Self((0..n).collect())
    }

    /// Number of samples.
    pub fn len(&self) -> usize {
        self.0.len()
    }

    /// Whether the permutation is over an empty batch.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The partner of every sample, in order.
    pub fn as_slice(&self) -> &[usize] {
        &self.0
    }

    /// The permutation as an index tensor, ready for `select(0, ·)`.
    ///
    /// # Shapes
    /// - output: `[N]`
    pub fn to_tensor(&self, device: &Device) -> Tensor<1, Int> {
        let data: Vec<i64> = self.0.iter().map(|&p| p as i64).collect();
        Tensor::from_data(TensorData::new(data, [self.0.len()]), device)
    }
}

impl TryFrom<Vec<usize>> for Permutation {
    type Error = MixError;
    fn try_from(v: Vec<usize>) -> Result<Self, MixError> {
        Self::new(v)
    }
}

impl From<Permutation> for Vec<usize> {
    fn from(p: Permutation) -> Self {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flip_and_roll() {
        let mut rng = MixRng::from_seed(0);
        assert_eq!(Pairing::Flip.draw(&mut rng, 4).as_slice(), &[3, 2, 1, 0]);
        // torch.roll([a,b,c,d], 1) = [d,a,b,c]: position 0 receives sample 3.
        assert_eq!(
            Pairing::Roll { shift: 1 }.draw(&mut rng, 4).as_slice(),
            &[3, 0, 1, 2]
        );
        assert_eq!(
            Pairing::Roll { shift: 6 }.draw(&mut rng, 4).as_slice(),
            &[2, 3, 0, 1]
        );
    }

    #[test]
    fn rejects_non_permutations() {
        assert!(Permutation::new(vec![0, 0]).is_err());
        assert!(Permutation::new(vec![0, 2]).is_err());
        assert!(Permutation::new(vec![1, 0]).is_ok());
    }
}
