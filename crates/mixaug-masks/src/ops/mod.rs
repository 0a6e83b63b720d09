//! The vocabulary the methods build their masks from, and its tensor form: the CutMix box
//! ([`CutBox`], METHODS.md §0.3), masks built line by line on the host (`LineMask`) and
//! the masked blend of every sample with its partner or a fill value (`blend`,
//! `paste_boxes`) and PyTorch's legacy nearest resize. Everything
//! here is burn tensor operations: it runs on whatever device the images are on.

mod blend;
mod cut_box;
mod line_mask;
mod resize;

pub(crate) use blend::{Mask, Source, blend, paste_boxes};
pub use cut_box::CutBox;
pub(crate) use line_mask::LineMask;
pub use resize::nearest_indices;
pub(crate) use resize::nearest_resize;
