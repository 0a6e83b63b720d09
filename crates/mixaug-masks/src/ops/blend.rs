//! The device half of most mixers: a masked blend of every sample with its partner (or a
//! fill value) under the base image's weight `m`, `s + (x − s)·m` — exactly `x` / `s`
//! where a hard mask is 1 / 0 — in burn tensor operations, on any backend.

use burn::prelude::*;

use super::LineMask;
use crate::CutBox;

/// What fills the part of a mixed image that the mask does not give to the base image.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Source<'a> {
    /// The same pixel of the partner: sample `i` takes from sample `partners[i]`.
    Partner(&'a [usize]),
    /// A constant value.
    Fill(f32),
}

/// The weight of the base image at every pixel, `m ∈ [0, 1]`: the mixed pixel is
/// `s + (x − s)·m` for base pixel `x` and source pixel `s` (exactly `x` where `m = 1` and
/// exactly `s` where `m = 0` when the mask is hard, i.e. only 0s and 1s).
pub(crate) enum Mask {
    /// A mask built line by line on the host from a few patterns.
    Lines(LineMask),
    /// A mask computed on the device, `[1 or N, 1, H, W]`.
    Tensor {
        /// The weights.
        weights: Tensor<4>,
        /// Whether the weights are all 0 or 1.
        hard: bool,
    },
    /// A hard mask on the device, `true` where the base image is kept,
    /// `[1 or N, 1 or C, H, W]` (a quarter of a float mask's size).
    Keep(Tensor<4, Bool>),
}

/// The samples `partners[i]` in order: a row gather of the `[N, C·H·W]` view.
///
/// # Shapes
/// - `images`: `[N, C, H, W]` → `[N, C, H, W]`
pub(crate) fn gather_samples(images: Tensor<4>, partners: &[usize]) -> Tensor<4> {
    let [n, c, h, w] = images.dims();
    let index: Vec<i64> = partners.iter().map(|&p| p as i64).collect();
    let index =
        Tensor::<1, Int>::from_data(TensorData::new(index, [partners.len()]), &images.device());
    images
        .reshape([n, c * h * w])
        .select(0, index)
        .reshape([partners.len(), c, h, w])
}

/// Blends every image with its source under `mask`: `s + (x − s)·m` per pixel, i.e. the
/// base image where the mask is 1 and the source where it is 0. Hard masks become
/// booleans before they are broadcast over the batch (a select, exact).
///
/// # Shapes
/// - `images`: `[N, C, H, W]`; `mask`: lines of width `W` (`N·H`, or `N·C·H` per channel)
///   or a tensor `[1 or N, 1, H, W]`
pub(crate) fn blend(images: Tensor<4>, source: Source, mask: &Mask) -> Tensor<4> {
    let dims @ [n, c, h, _] = images.dims();
    let device = images.device();
    let weights = match mask {
        Mask::Lines(lines) if lines.is_hard() => {
            Ok(lines.to_tensor(n, c, h, &device).equal_elem(1.0))
        }
        Mask::Lines(lines) => Err(lines.to_tensor(n, c, h, &device)),
        Mask::Tensor { weights, hard } if *hard => Ok(weights.clone().equal_elem(1.0)),
        Mask::Tensor { weights, .. } => Err(weights.clone()),
        Mask::Keep(keep) => Ok(keep.clone()),
    };
    match (source, weights) {
        (Source::Partner(partners), Ok(keep)) => {
            gather_samples(images.clone(), partners).mask_where(keep.expand(dims), images)
        }
        (Source::Partner(partners), Err(weights)) => {
            let partners = gather_samples(images.clone(), partners);
            partners.clone() + (images - partners) * weights.expand(dims)
        }
        (Source::Fill(fill), Ok(keep)) => images.mask_fill(keep.bool_not().expand(dims), fill),
        (Source::Fill(fill), Err(weights)) => {
            (images.sub_scalar(fill) * weights.expand(dims)).add_scalar(fill)
        }
    }
}

/// Replaces box `regions[i]` of image `i` by the same box of its partner `x_π(i)` (one box
/// for the whole batch, or one per sample): a hard blend whose mask is 0 in the box.
///
/// # Shapes
/// - `images`: `[N, C, H, W]`
pub(crate) fn paste_boxes(images: Tensor<4>, partners: &[usize], regions: &[CutBox]) -> Tensor<4> {
    if regions.iter().all(CutBox::is_empty) {
        return images;
    }
    let [n, _, h, w] = images.dims();
    let keep = LineMask::boxes(regions, n, h, w, 0.0, 1.0);
    blend(images, Source::Partner(partners), &Mask::Lines(keep))
}
