//! The shape of a batch and the checks every mixer runs before touching it.

use burn::prelude::*;

use crate::MixError;

/// Size of an `N×C×H×W` image batch.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct BatchShape {
    /// Number of images.
    pub n: usize,
    /// Channels.
    pub c: usize,
    /// Rows.
    pub h: usize,
    /// Columns.
    pub w: usize,
}

impl BatchShape {
    /// Builds a shape from its four sizes.
    pub fn new(n: usize, c: usize, h: usize, w: usize) -> Self {
        Self { n, c, h, w }
    }

    /// The shape of `images`, after checking that the batch can be mixed: one label per
    /// image and at least two images.
    ///
    /// # Shapes
    /// - `images`: `[N, C, H, W]`
    /// - `labels`: `[N]`
    pub fn of_batch(images: &Tensor<4>, labels: &Tensor<1, Int>) -> Result<Self, MixError> {
        let shape = Self::of_labelled(images, labels)?;
        shape.require_mixable()?;
        Ok(shape)
    }

    /// The shape of `images`, after checking that there is one label per image and that
    /// the images have at least one channel.
    ///
    /// # Shapes
    /// - `images`: `[N, C, H, W]`
    /// - `labels`: `[N]`
    pub fn of_labelled(images: &Tensor<4>, labels: &Tensor<1, Int>) -> Result<Self, MixError> {
        let [n, c, h, w] = images.dims();
        let [l] = labels.dims();
        if l != n {
            return Err(MixError::LabelCountMismatch {
                images: n,
                labels: l,
            });
        }
        if c == 0 {
            return Err(MixError::ShapeMismatch {
                what: "images",
                expected: "[N, C, H, W] with at least one channel".into(),
                got: format!("{:?}", [n, c, h, w]),
            });
        }
        Ok(Self { n, c, h, w })
    }

    /// Errors unless the batch holds at least two images of at least one pixel.
    pub fn require_mixable(&self) -> Result<(), MixError> {
        if self.n < 2 {
            return Err(MixError::BatchTooSmall { n: self.n });
        }
        self.require_size("mixing", 1, 1)
    }

    /// Errors unless the images are at least `min_h × min_w`.
    pub fn require_size(
        &self,
        method: &'static str,
        min_h: usize,
        min_w: usize,
    ) -> Result<(), MixError> {
        if self.h < min_h || self.w < min_w {
            return Err(MixError::ImageTooSmall {
                method,
                h: self.h,
                w: self.w,
                min_h,
                min_w,
            });
        }
        Ok(())
    }

    /// Number of pixels of one image plane, `H·W`.
    pub fn area(&self) -> usize {
        self.h * self.w
    }
}
