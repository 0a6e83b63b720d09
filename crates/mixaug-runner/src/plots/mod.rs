//! The charts of a table run, drawn with [plotters](https://docs.rs/plotters) into an RGB
//! buffer: the statistic per cell as bars with ± sample-std whiskers, one dot per seed and
//! the paper's number beside ours ([`accuracy_chart`]); the claims' paired 95 % intervals
//! around 0 ([`claims_chart`]); and the per-epoch curves, training loss and top-1
//! ([`curves_chart`]).
//!
//! Text is laid out and rasterised with [ab_glyph](https://docs.rs/ab_glyph) from a
//! TrueType font read at run time — DejaVu Sans from Debian's `fonts-dejavu-core`
//! ([`DEBIAN_FONT`]) unless [`FONT_VARIABLE`] names another file; without it every chart
//! returns [`PlotError::FontMissing`], which names the package. The charts draw on a
//! `Canvas`, plotters' bitmap backend with its text calls answered by that layout:
//! plotters 0.3.7's own `ab_glyph` glue drops each glyph's left side bearing (it draws a
//! glyph's pixels from the pen position, not from the glyph's bounds), which puts "Tr" on
//! top of each other and spaces words unevenly.

mod accuracy;
mod claims;
mod curves;
mod style;
#[cfg(test)]
mod tests;
mod text;

pub use accuracy::accuracy_chart;
pub use claims::claims_chart;
pub use curves::curves_chart;
pub use text::{DEBIAN_FONT, FONT_VARIABLE, PlotError, load_font};
