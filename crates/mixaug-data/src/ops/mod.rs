//! The pixel operations of openmixup's RandAugment, with the semantics of the functions it
//! calls: `mmcv` 1.x (`mmcv/image/photometric.py`, `mmcv/image/geometric.py`), which run
//! on OpenCV (`cv2.warpAffine`, `cv2.addWeighted`, `cv2.filter2D`, `cv2.cvtColor`), and
//! openmixup's own `auto_contrast` and `adjust_sharpness`
//! (`openmixup/datasets/pipelines/auto_augment.py`).
//!
//! Every function takes an 8-bit image (HWC, as the reference's `np.array(pil_image)`, so
//! RGB order) and returns a new one of the same size; none draws a random number —
//! [`RandAugment`](crate::RandAugment) draws the op, its magnitude and sign, and calls
//! these.
//!
//! Reference quirks kept on purpose, each named where it happens:
//! - mmcv's grey conversion is `cv2.COLOR_BGR2GRAY` applied to the RGB array, so red gets
//!   blue's weight (0.114) and blue red's (0.299) — in [`adjust_color`] and
//!   [`adjust_contrast`];
//! - brightness, contrast and sharpness blend in `float32` and *truncate* to 8 bits
//!   (`astype(np.uint8)`), colour blends in `cv2.addWeighted` on 8 bits and *rounds*;
//! - sharpness smooths every pixel, borders included (`cv2.filter2D` reflects the border;
//!   PIL's `ImageEnhance.Sharpness` leaves it alone);
//! - the warps are `cv2.warpAffine` with OpenCV's bicubic (`a = −0.75`) on a 1/32-pixel
//!   grid with 15-bit weights, and a constant border of the fill colour.

mod photometric;
mod warp;

pub use photometric::{
    adjust_brightness, adjust_color, adjust_contrast, adjust_sharpness, auto_contrast, equalize,
    posterize, solarize,
};
pub use warp::{Axis, rotate, shear, translate, warp_affine};
