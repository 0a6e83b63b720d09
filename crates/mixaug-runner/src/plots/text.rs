//! The charts' font and text: the TrueType font read once per process, [`PlotError`],
//! text laid out with ab_glyph, the `Canvas` backend that draws it, and [`render`].

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ab_glyph::{Font, FontVec, Glyph, PxScale, ScaleFont, point};
use image::RgbImage;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};
// The backend's style traits by path only: in scope they would clash with `Color`'s methods.
use plotters_backend::{BackendColor, BackendCoord, DrawingErrorKind};

/// DejaVu Sans as Debian's `fonts-dejavu-core` installs it: the charts' font by default.
pub const DEBIAN_FONT: &str = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf";

/// An environment variable naming another TrueType font file for the charts.
pub const FONT_VARIABLE: &str = "MIXAUG_FONT";

/// Why a chart could not be drawn.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlotError {
    /// The font file cannot be read.
    #[error(
        "the charts need a TrueType font and cannot read {path} ({reason}): install Debian's \
         fonts-dejavu-core (apt-get install fonts-dejavu-core) or set {FONT_VARIABLE} to a .ttf file"
    )]
    FontMissing {
        /// The file tried.
        path: PathBuf,
        /// What reading it said.
        reason: String,
    },
    /// The font file is not a font ab_glyph can read.
    #[error("{path} is not a TrueType or OpenType font ({FONT_VARIABLE} or fonts-dejavu-core)")]
    FontInvalid {
        /// The file tried.
        path: PathBuf,
    },
    /// There is nothing to draw.
    #[error("nothing to draw: {0}")]
    Empty(&'static str),
    /// plotters failed while drawing.
    #[error("cannot draw the chart: {0}")]
    Draw(String),
}

/// The family name the charts ask for (the `Canvas` has one font and ignores it).
const FAMILY: &str = "sans-serif";
/// Pixel sizes (ab_glyph's scale: ascent to descent) of the title, of other text, and of
/// tick labels.
pub(super) const TITLE_SIZE: f64 = 21.0;
pub(super) const TEXT_SIZE: f64 = 17.0;
pub(super) const TICK_SIZE: f64 = 16.0;
/// Space around everything, pixels.
pub(super) const PAD: i32 = 12;

static FONT: OnceLock<Result<FontVec, PlotError>> = OnceLock::new();

/// The charts' font, read once per process: the file [`FONT_VARIABLE`] names, else
/// [`DEBIAN_FONT`].
fn chart_font() -> Result<&'static FontVec, PlotError> {
    FONT.get_or_init(|| {
        let path = std::env::var_os(FONT_VARIABLE)
            .map_or_else(|| PathBuf::from(DEBIAN_FONT), PathBuf::from);
        read_font(&path)
    })
    .as_ref()
    .map_err(Clone::clone)
}

/// Checks that the charts' font can be read. Table runs call it before training so that a
/// missing font stops them at once rather than after the first cell.
pub fn load_font() -> Result<(), PlotError> {
    chart_font().map(|_| ())
}

/// Reads the TrueType or OpenType font at `path`.
pub(super) fn read_font(path: &Path) -> Result<FontVec, PlotError> {
    let bytes = std::fs::read(path).map_err(|e| PlotError::FontMissing {
        path: path.to_owned(),
        reason: e.to_string(),
    })?;
    FontVec::try_from_vec(bytes).map_err(|_| PlotError::FontInvalid {
        path: path.to_owned(),
    })
}

fn draw_error(e: impl Error) -> PlotError {
    PlotError::Draw(e.to_string())
}

/// The glyphs of `text` on one line at `size` pixels, the pen starting at x = 0 and the
/// line's top (the font's ascent) at y = 0, kerned; with the line's width and height.
fn layout(font: &FontVec, size: f64, text: &str) -> (Vec<Glyph>, f32, f32) {
    let scaled = font.as_scaled(PxScale::from(size as f32));
    let mut glyphs = Vec::with_capacity(text.len());
    let (mut x, mut previous) = (0.0f32, None);
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = previous {
            x += scaled.kern(p, id);
        }
        glyphs.push(id.with_scale_and_position(scaled.scale(), point(x, scaled.ascent())));
        x += scaled.h_advance(id);
        previous = Some(id);
    }
    (glyphs, x, scaled.ascent() - scaled.descent())
}

/// Black text at `size` pixels.
pub(super) fn font(size: f64) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&BLACK)
}

/// Width of `text` at `size` pixels in the charts' font.
pub(super) fn text_width(text: &str, size: f64) -> Result<i32, PlotError> {
    let (_, w, _) = layout(chart_font()?, size, text);
    Ok(w.ceil() as i32)
}

/// The widest of `texts` at `size` pixels (0 for none).
pub(super) fn widest<'a>(
    texts: impl IntoIterator<Item = &'a str>,
    size: f64,
) -> Result<i32, PlotError> {
    texts
        .into_iter()
        .try_fold(0, |w, t| Ok(w.max(text_width(t, size)?)))
}

/// plotters' bitmap backend with text laid out by [`layout`] and rasterised by ab_glyph
/// (anti-aliased, blended over what is drawn); everything else is the bitmap backend's.
pub(super) struct Canvas<'a> {
    bitmap: BitMapBackend<'a>,
    font: &'static FontVec,
}

type CanvasError<'a> = DrawingErrorKind<<BitMapBackend<'a> as DrawingBackend>::ErrorType>;

impl<'a> DrawingBackend for Canvas<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.bitmap.get_size()
    }

    fn ensure_prepared(&mut self) -> Result<(), CanvasError<'a>> {
        self.bitmap.ensure_prepared()
    }

    fn present(&mut self) -> Result<(), CanvasError<'a>> {
        self.bitmap.present()
    }

    fn draw_pixel(
        &mut self,
        point: BackendCoord,
        color: BackendColor,
    ) -> Result<(), CanvasError<'a>> {
        self.bitmap.draw_pixel(point, color)
    }

    fn draw_line<S: plotters_backend::BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> Result<(), CanvasError<'a>> {
        self.bitmap.draw_line(from, to, style)
    }

    fn draw_rect<S: plotters_backend::BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Result<(), CanvasError<'a>> {
        self.bitmap.draw_rect(upper_left, bottom_right, style, fill)
    }

    fn draw_path<S: plotters_backend::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> Result<(), CanvasError<'a>> {
        self.bitmap.draw_path(path, style)
    }

    fn draw_circle<S: plotters_backend::BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> Result<(), CanvasError<'a>> {
        self.bitmap.draw_circle(center, radius, style, fill)
    }

    fn fill_polygon<S: plotters_backend::BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> Result<(), CanvasError<'a>> {
        self.bitmap.fill_polygon(vert, style)
    }

    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        size: (u32, u32),
        src: &[u8],
    ) -> Result<(), CanvasError<'a>> {
        self.bitmap.blit_bitmap(pos, size, src)
    }

    fn estimate_text_size<S: plotters_backend::BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), CanvasError<'a>> {
        let (_, w, h) = layout(self.font, style.size(), text);
        Ok((w.ceil() as u32, h.ceil() as u32))
    }

    fn draw_text<S: plotters_backend::BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> Result<(), CanvasError<'a>> {
        let colour = style.color();
        if colour.alpha == 0.0 {
            return Ok(());
        }
        let font = self.font;
        let (glyphs, w, h) = layout(font, style.size(), text);
        // The anchor in the unrotated frame, then the rotation about `pos`.
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Center => -(w / 2.0).round() as i32,
            HPos::Right => -w.round() as i32,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -(h / 2.0).round() as i32,
            VPos::Bottom => -h.round() as i32,
        };
        let transform = style.transform();
        for glyph in glyphs {
            let Some(outline) = font.outline_glyph(glyph) else {
                continue;
            };
            let bounds = outline.px_bounds();
            let (x0, y0) = (bounds.min.x as i32 + dx, bounds.min.y as i32 + dy);
            let mut result = Ok(());
            outline.draw(|x, y, coverage| {
                if result.is_err() || coverage <= 0.0 {
                    return;
                }
                let (tx, ty) = transform.transform(x0 + x as i32, y0 + y as i32);
                let colour = BackendColor {
                    alpha: colour.alpha * f64::from(coverage.min(1.0)),
                    rgb: colour.rgb,
                };
                result = self.bitmap.draw_pixel((pos.0 + tx, pos.1 + ty), colour);
            });
            result?;
        }
        Ok(())
    }
}

/// A drawing area of a [`Canvas`], in pixels.
pub(super) type Area<'a> = DrawingArea<Canvas<'a>, Shift>;

/// Draws on a white `width × height` canvas and returns the picture.
pub(super) fn render(
    width: u32,
    height: u32,
    draw: impl FnOnce(&Area<'_>) -> Result<(), Box<dyn Error>>,
) -> Result<RgbImage, PlotError> {
    let font = chart_font()?;
    let mut buffer = vec![255u8; width as usize * height as usize * 3];
    {
        let canvas = Canvas {
            bitmap: BitMapBackend::with_buffer(&mut buffer, (width, height)),
            font,
        };
        let root = canvas.into_drawing_area();
        draw(&root).map_err(|e| PlotError::Draw(e.to_string()))?;
        root.present().map_err(draw_error)?;
    }
    RgbImage::from_raw(width, height, buffer)
        .ok_or_else(|| PlotError::Draw("the canvas has the wrong size".into()))
}
