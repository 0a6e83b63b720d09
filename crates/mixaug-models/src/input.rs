//! Checking a batch of images against what a network was built for, on the host shape only
//! (no device work), before burn sees the batch: the vision transformers take one image
//! size and one channel count (timm's `PatchEmbed` with `strict_img_size`), and a batch of
//! another shape would otherwise fail deep inside burn's reshape or convolution.

use burn::prelude::*;
use thiserror::Error;

/// A batch of images of another shape than the network was configured for.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "{network} takes images of shape [N, {}, {}, {}], got a batch of shape {found:?}",
    expected[0], expected[1], expected[2]
)]
pub struct ImageShapeError {
    /// The network ([`ClassifierFamily::NAME`](crate::ClassifierFamily::NAME): "DeiT",
    /// "Swin").
    pub network: &'static str,
    /// `[C, H, W]` the network takes.
    pub expected: [usize; 3],
    /// `[N, C, H, W]` of the batch given.
    pub found: [usize; 4],
}

/// `Ok` when every image of `images` is `expected` (`[C, H, W]`).
pub(crate) fn check_images(
    network: &'static str,
    expected: [usize; 3],
    images: &Tensor<4>,
) -> Result<(), ImageShapeError> {
    let found = images.dims();
    if found[1..] == expected {
        Ok(())
    } else {
        Err(ImageShapeError {
            network,
            expected,
            found,
        })
    }
}
