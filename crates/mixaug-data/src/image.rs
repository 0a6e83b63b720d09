//! [`ImageU8`]: a decoded image kept as bytes until the last transform.

use crate::DataError;

/// An 8-bit image, `height × width × channels` interleaved (HWC), 1 or 3 channels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageU8 {
    /// Rows.
    pub height: usize,
    /// Columns.
    pub width: usize,
    /// 1 (grey) or 3 (RGB).
    pub channels: usize,
    /// `height·width·channels` bytes, row-major, channels interleaved.
    pub pixels: Vec<u8>,
}

impl ImageU8 {
    /// An image from its bytes; errors unless the length matches and channels is 1 or 3.
    pub fn new(
        height: usize,
        width: usize,
        channels: usize,
        pixels: Vec<u8>,
    ) -> Result<Self, DataError> {
        if !(channels == 1 || channels == 3) || pixels.len() != height * width * channels {
            return Err(DataError::InvalidOption {
                name: "image",
                reason: format!(
                    "{} bytes do not make a {height}×{width}×{channels} image (channels 1 or 3)",
                    pixels.len()
                ),
            });
        }
        Ok(Self {
            height,
            width,
            channels,
            pixels,
        })
    }

    /// The value at row `y`, column `x`, channel `c`.
    pub fn at(&self, y: usize, x: usize, c: usize) -> u8 {
        self.pixels[(y * self.width + x) * self.channels + c]
    }

    /// The image with its grey channel repeated three times (RGB images are returned as is).
    pub fn to_rgb(self) -> Self {
        if self.channels == 3 {
            return self;
        }
        let pixels = self.pixels.iter().flat_map(|&v| [v, v, v]).collect();
        Self {
            channels: 3,
            pixels,
            ..self
        }
    }
}

/// One labelled image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sample {
    /// The image.
    pub image: ImageU8,
    /// Its class, in `0..num_classes`.
    pub label: usize,
}
