//! PyTorch's legacy `nearest` resize (METHODS.md §0.4), shared by ResizeMix's pasted
//! partner and AttentiveMix's upsampled grid.

use burn::prelude::*;

/// Source indices of PyTorch's legacy `nearest` resize from `input` to `output` pixels:
/// `min(⌊dst · fl32(input/output)⌋, input − 1)` (METHODS.md §0.4).
pub fn nearest_indices(input: usize, output: usize) -> Vec<i64> {
    let scale = input as f32 / output as f32;
    (0..output)
        .map(|d| ((d as f32 * scale).floor() as usize).min(input - 1) as i64)
        .collect()
}

/// PyTorch's legacy `nearest` resize of a batch to `height × width` (two index selects
/// with [`nearest_indices`]).
///
/// # Shapes
/// - `x`: `[N, C, h, w]`; output `[N, C, height, width]`
pub(crate) fn nearest_resize(x: Tensor<4>, height: usize, width: usize) -> Tensor<4> {
    let [_, _, h, w] = x.dims();
    let device = x.device();
    let index = |input: usize, output: usize| {
        Tensor::<1, Int>::from_data(
            TensorData::new(nearest_indices(input, output), [output]),
            &device,
        )
    };
    x.select(2, index(h, height)).select(3, index(w, width))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_matches_pytorch_legacy() {
        // 6 → 4: scale 1.5 → 0, 1, 3, 4; 4 → 6: scale 0.667 → 0, 0, 1, 2, 2, 3.
        assert_eq!(nearest_indices(6, 4), vec![0, 1, 3, 4]);
        assert_eq!(nearest_indices(4, 6), vec![0, 0, 1, 2, 2, 3]);
        assert_eq!(nearest_indices(32, 1), vec![0]);
    }
}
