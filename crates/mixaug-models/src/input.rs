//! Checking a batch of images against what a network was built for, on the host shape only
//! (no device work), before burn sees the batch: every network takes the channel count of
//! its stem convolution, and the vision transformers one image size too (timm's
//! `PatchEmbed` with `strict_img_size`); a batch of another shape, or an empty one, would
//! otherwise fail deep inside burn's convolution or reshape.

use burn::nn::conv::Conv2d;
use burn::prelude::*;
use thiserror::Error;

use crate::ClassifierFamily;

/// A batch of images of another shape than the network was configured for, or an empty
/// one.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "{network} takes a non-empty batch of shape [N, {channels}, {}], got a batch of shape {found:?}",
    match size { Some([h, w]) => format!("{h}, {w}"), None => "H, W".into() }
)]
pub struct ImageShapeError {
    /// The network ([`ClassifierFamily::NAME`](crate::ClassifierFamily::NAME): "DeiT",
    /// "Swin", "ResNet family", …).
    pub network: &'static str,
    /// The channels `C` the network takes.
    pub channels: usize,
    /// The `[H, W]` the network takes; `None`: any size (the convolutional networks).
    pub size: Option<[usize; 2]>,
    /// `[N, C, H, W]` of the batch given.
    pub found: [usize; 4],
}

/// `Ok` when `images` is a non-empty batch of `channels`-channel images of `size` (any
/// size for `None`).
pub(crate) fn check_images(
    network: &'static str,
    channels: usize,
    size: Option<[usize; 2]>,
    images: &Tensor<4>,
) -> Result<(), ImageShapeError> {
    let found = images.dims();
    let size_fits = size.is_none_or(|s| found[2..] == s);
    if found[1] == channels && size_fits && !found.contains(&0) {
        Ok(())
    } else {
        Err(ImageShapeError {
            network,
            channels,
            size,
            found,
        })
    }
}

/// The input channels of a stem convolution (from its weight's shape; no device work).
pub(crate) fn input_channels(conv: &Conv2d) -> usize {
    conv.weight.lazy_shape().dims::<4>()[1] * conv.groups
}

/// Panics with the [`ImageShapeError`]'s message when `network` does not take `images`:
/// the check every plain forward makes before burn sees the batch.
pub(crate) fn expect_images(network: &impl ClassifierFamily, images: &Tensor<4>) {
    if let Err(e) = network.check_images(images) {
        panic!("{e}");
    }
}
