//! The family's masks and line transplants on the device.

use burn::prelude::*;

use super::{Axis, Interval, Quadrants};
use crate::MixError;

pub(super) fn check_quadrants(
    name: &'static str,
    masks: &[Quadrants],
    h: usize,
    w: usize,
) -> Result<(), MixError> {
    match masks.iter().find(|q| q.row > h || q.col > w) {
        Some(q) => Err(MixError::ShapeMismatch {
            what: name,
            expected: format!("splits inside {h}×{w}"),
            got: format!("{q:?}"),
        }),
        None => Ok(()),
    }
}

/// The length of the lines along `axis` of an `h × w` image, once every strip is checked
/// to lie inside them.
pub(super) fn check_strips(
    name: &'static str,
    axis: Axis,
    strips: &[Interval],
    h: usize,
    w: usize,
) -> Result<usize, MixError> {
    let len = axis.len(h, w);
    match strips
        .iter()
        .find(|s| s.start + s.len > len || s.source + s.len > len)
    {
        Some(s) => Err(MixError::ShapeMismatch {
            what: name,
            expected: format!("strips inside 0..{len}"),
            got: format!("{s:?}"),
        }),
        None => Ok(len),
    }
}

/// Rebuilds a batch line by line: output line `k = i·L + j` (row or column `j` of sample
/// `i`, `L` lines per image) is input line `sources[k]`, for all channels at once. Rows:
/// one row gather on the `[N·C·H, W]` view; columns: one on a `[N·W, C·H]` transposed copy.
///
/// # Shapes
/// - `images`: `[N, C, H, W]`; `sources`: `N·H` (rows) or `N·W` (columns) entries
pub(super) fn select_lines(images: Tensor<4>, axis: Axis, sources: Vec<usize>) -> Tensor<4> {
    let [n, c, h, w] = images.dims();
    let device = images.device();
    let index = |v: Vec<i64>| {
        let len = v.len();
        Tensor::<1, Int>::from_data(TensorData::new(v, [len]), &device)
    };
    match axis {
        Axis::Rows => {
            let sources = &sources;
            let rows = (0..n).flat_map(|i| {
                (0..c).flat_map(move |ch| {
                    (0..h).map(move |y| {
                        let k = sources[i * h + y];
                        ((k / h * c + ch) * h + k % h) as i64
                    })
                })
            });
            images
                .reshape([n * c * h, w])
                .select(0, index(rows.collect()))
                .reshape([n, c, h, w])
        }
        Axis::Columns => images
            .permute([0, 3, 1, 2])
            .reshape([n * w, c * h])
            .select(0, index(sources.iter().map(|&v| v as i64).collect()))
            .reshape([n, w, c, h])
            .permute([0, 2, 3, 1]),
    }
}
