//! What the Summers & Dinneen family draws for one batch.

use serde::{Deserialize, Serialize};

use crate::Permutation;

/// A quadrant mask: rows `< row` and columns `< col` split the image into four cells with
/// base weights `[top-left, top-right, bottom-left, bottom-right]`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Quadrants {
    /// Row split (`0..=H`).
    pub row: usize,
    /// Column split (`0..=W`).
    pub col: usize,
    /// Weight of the base image in each cell, `[TL, TR, BL, BR]`.
    pub weights: [f64; 4],
}

impl Quadrants {
    /// The exact fraction of the base image in an `h × w` result.
    pub fn base_fraction(&self, h: usize, w: usize) -> f64 {
        let (r, c) = (self.row as f64, self.col as f64);
        let (hb, wr) = (h as f64 - r, w as f64 - c);
        let [tl, tr, bl, br] = self.weights;
        (r * c * tl + r * wr * tr + hb * c * bl + hb * wr * br) / (h * w) as f64
    }
}

/// A strip transplant along one axis: positions `[start, start + len)` of the base are
/// replaced by positions `[source, source + len)` of the partner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Interval {
    /// First replaced position (`i1`).
    pub start: usize,
    /// Strip length (`i2 − i1`).
    pub len: usize,
    /// First partner position copied (`i3`).
    pub source: usize,
}

/// The axis of a strip or of a line mask.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Axis {
    /// Rows (tensor dim 2).
    Rows,
    /// Columns (tensor dim 3).
    Columns,
}

impl Axis {
    /// The length of a line along this axis of an `h × w` image (`h` for rows).
    pub fn len(self, h: usize, w: usize) -> usize {
        match self {
            Axis::Rows => h,
            Axis::Columns => w,
        }
    }
}

/// The per-sample draws of a batch, by kind of device operation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
pub enum MixedExampleDraws {
    /// One quadrant mask per sample.
    Quadrants {
        /// `[N]` masks.
        masks: Vec<Quadrants>,
    },
    /// One strip per sample.
    Interval {
        /// The axis of the strips.
        axis: Axis,
        /// `[N]` strips.
        strips: Vec<Interval>,
    },
    /// A host-drawn 0/1 mask per sample, `true` where the base image is kept.
    Bits {
        /// Shape of one sample's mask `[C', H', W']`, broadcast to `[C, H, W]`
        /// (`[1, 1, W]` columns, `[1, H, 1]` rows, `[1, H, W]` pixels, `[C, H, W]` elements).
        dims: [usize; 3],
        /// `N·C'·H'·W'` bits, sample-major.
        bits: Vec<bool>,
    },
}

/// What the family draws for one batch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MixedExampleParams {
    /// The partner of each sample.
    pub perm: Permutation,
    /// One draw per sample.
    pub draws: MixedExampleDraws,
}
