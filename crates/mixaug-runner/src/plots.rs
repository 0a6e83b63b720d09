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

use std::error::Error;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ab_glyph::{Font, FontVec, Glyph, PxScale, ScaleFont, point};
use image::RgbImage;
use plotters::coord::Shift;
use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
// The backend's style traits by path only: in scope they would clash with `Color`'s methods.
use plotters_backend::{BackendColor, BackendCoord, DrawingErrorKind};

use crate::claims::Verdict;
use crate::tables::{CellResult, ClaimResult, Table};

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
const TITLE_SIZE: f64 = 21.0;
const TEXT_SIZE: f64 = 17.0;
const TICK_SIZE: f64 = 16.0;
/// Space around everything, pixels.
const PAD: i32 = 12;

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
fn read_font(path: &Path) -> Result<FontVec, PlotError> {
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
fn font(size: f64) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&BLACK)
}

/// Width of `text` at `size` pixels in the charts' font.
fn text_width(text: &str, size: f64) -> Result<i32, PlotError> {
    let (_, w, _) = layout(chart_font()?, size, text);
    Ok(w.ceil() as i32)
}

/// The widest of `texts` at `size` pixels (0 for none).
fn widest<'a>(texts: impl IntoIterator<Item = &'a str>, size: f64) -> Result<i32, PlotError> {
    texts
        .into_iter()
        .try_fold(0, |w, t| Ok(w.max(text_width(t, size)?)))
}

/// plotters' bitmap backend with text laid out by [`layout`] and rasterised by ab_glyph
/// (anti-aliased, blended over what is drawn); everything else is the bitmap backend's.
struct Canvas<'a> {
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
type Area<'a> = DrawingArea<Canvas<'a>, Shift>;

/// Draws on a white `width × height` canvas and returns the picture.
fn render(
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

/// Colours of the rows (Tableau 10, matplotlib's default cycle).
const PALETTE: [RGBColor; 10] = [
    RGBColor(31, 119, 180),
    RGBColor(255, 127, 14),
    RGBColor(44, 160, 44),
    RGBColor(214, 39, 40),
    RGBColor(148, 103, 189),
    RGBColor(140, 86, 75),
    RGBColor(227, 119, 194),
    // Tableau's grey would read as the legend's neutral bar: tab20b's indigo instead.
    RGBColor(57, 59, 121),
    RGBColor(188, 189, 34),
    RGBColor(23, 190, 207),
];

/// The colour of table row `row`.
fn colour(row: usize) -> RGBColor {
    PALETTE[row % PALETTE.len()]
}

/// The grid lines at the ticks.
const GRID: RGBColor = RGBColor(220, 220, 220);
/// The paper's bars: beige (not a grey, which anti-aliased text also makes).
const PAPER_FILL: RGBColor = RGBColor(225, 212, 178);
/// The legend's bar (the bars themselves take their row's colour).
const NEUTRAL: RGBColor = RGBColor(120, 120, 120);

/// Text with its left edge at `x` and its middle at `y`.
fn left_text<'a>(
    text: &str,
    (x, y): (i32, i32),
    style: &TextStyle<'a>,
) -> Text<'a, (i32, i32), String> {
    Text::new(
        text.to_string(),
        (x, y),
        style.pos(Pos::new(HPos::Left, VPos::Center)),
    )
}

/// A number with a true minus sign ("−1.64", "+0.22" with `sign`).
fn number(v: f64, sign: bool) -> String {
    let text = if sign {
        format!("{v:+.2}")
    } else {
        format!("{v:.2}")
    };
    text.replace('-', "\u{2212}")
}

/// A tick step of 1, 2 or 5 × 10^k giving about `ticks` intervals over `span`.
fn nice_step(span: f64, ticks: f64) -> f64 {
    let raw = (span / ticks).max(1e-9);
    let power = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * power)
}

/// The finite `values` padded by a twentieth of their span on each side and widened to
/// whole ticks of about `ticks` intervals; `None` when no value is finite.
fn padded_range(values: impl IntoIterator<Item = f64>, ticks: f64) -> Option<(f64, f64)> {
    let (min, max) = values
        .into_iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if !min.is_finite() {
        return None;
    }
    let pad = ((max - min) / 20.0).max(0.05);
    let (min, max) = (min - pad, max + pad);
    let step = nice_step(max - min, ticks);
    // Rounded to a millionth so that 494 × 0.2 prints as 98.8.
    let tidy = |v: f64| (v * 1e6).round() / 1e6;
    Some((
        tidy((min / step).floor() * step),
        tidy((max / step).ceil() * step),
    ))
}

/// Percentages padded as [`padded_range`] does, kept within [0, 100] (the whole range
/// when none is finite).
fn percent_range(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    padded_range(values, 6.0).map_or((0.0, 100.0), |(lo, hi)| (lo.max(0.0), hi.min(100.0)))
}

/// Whole-number ticks (epochs) up to `last`: the multiples of a step giving about 10 of
/// them, and epoch 1 too when the step is 5 or more.
fn epoch_ticks(last: usize) -> Vec<f64> {
    let step = (nice_step(last as f64, 10.0) as usize).max(1);
    let first = if step >= 5 { vec![1.0] } else { Vec::new() };
    first
        .into_iter()
        .chain((1..=last / step).map(|i| (i * step) as f64))
        .collect()
}

/// One bar of [`accuracy_chart`], in the table's unit (top-1 accuracy, or top-1 error
/// when the table reports errors).
#[derive(Debug, Clone, PartialEq)]
struct Bar {
    /// The row name ("row / column" when the table has several columns).
    label: String,
    /// The table row (it picks the colour).
    row: usize,
    /// Mean over the seeds.
    mean: f64,
    /// Sample standard deviation over the seeds (0 for one seed): the report's "±".
    std: f64,
    /// Each seed's statistic.
    seeds: Vec<f64>,
    /// The paper's number, when the table has one.
    paper: Option<f64>,
}

/// The bars of [`accuracy_chart`]: one per cell run, in the table's unit.
fn bars(table: &Table, results: &[CellResult]) -> Vec<Bar> {
    let show = |acc: f64| if table.error { 100.0 - acc } else { acc };
    results
        .iter()
        .map(|r| {
            let row = &table.rows[r.cell.row].name;
            let label = if table.columns.len() == 1 {
                row.clone()
            } else {
                format!("{row} / {}", table.columns[r.cell.column].name)
            };
            let (mean, std) = r.mean_std();
            Bar {
                label,
                row: r.cell.row,
                mean: show(mean),
                std,
                seeds: r.values.iter().map(|(_, v)| show(*v)).collect(),
                paper: r.cell.paper,
            }
        })
        .collect()
}

/// The top of a chart: a title, a subtitle and (drawn by the caller) a legend line.
struct Header<'a> {
    title: &'a str,
    subtitle: &'a str,
}

impl Header<'_> {
    /// Its height in pixels.
    const HEIGHT: i32 = 2 * PAD + 30 + 26 + 30;

    /// Width the header's text needs.
    fn width(&self) -> Result<i32, PlotError> {
        Ok(
            2 * PAD
                + text_width(self.title, TITLE_SIZE)?.max(text_width(self.subtitle, TEXT_SIZE)?),
        )
    }

    /// Draws the title and subtitle; returns the y of the legend line's middle.
    fn draw(&self, root: &Area<'_>) -> Result<i32, Box<dyn Error>> {
        let y = PAD + 12;
        root.draw(&left_text(self.title, (PAD, y), &font(TITLE_SIZE)))?;
        root.draw(&left_text(self.subtitle, (PAD, y + 28), &font(TEXT_SIZE)))?;
        Ok(y + 28 + 28)
    }
}

/// The small picture before a legend entry.
#[derive(Debug, Clone, Copy)]
enum Swatch {
    /// A filled bar.
    Bar(RGBColor),
    /// A horizontal interval with end ticks.
    Whisker(RGBColor),
    /// A seed's white dot.
    Seed,
    /// A line, solid or dashed.
    Line { colour: RGBColor, dashed: bool },
}

const SWATCH_W: i32 = 28;

impl Swatch {
    /// Draws the swatch with its left edge at `x` and its middle at `y`.
    fn draw(self, area: &Area<'_>, (x, y): (i32, i32)) -> Result<(), Box<dyn Error>> {
        match self {
            Swatch::Bar(fill) => {
                let corners = [(x, y - 7), (x + SWATCH_W, y + 7)];
                area.draw(&Rectangle::new(corners, fill.mix(0.85).filled()))?;
                area.draw(&Rectangle::new(corners, BLACK.stroke_width(1)))?;
            }
            Swatch::Whisker(c) => {
                let style = c.stroke_width(2);
                let (a, b) = (x + 2, x + SWATCH_W - 2);
                area.draw(&PathElement::new([(a, y), (b, y)], style))?;
                area.draw(&PathElement::new([(a, y - 6), (a, y + 6)], style))?;
                area.draw(&PathElement::new([(b, y - 6), (b, y + 6)], style))?;
            }
            Swatch::Seed => seed_dot(area, (x + SWATCH_W / 2, y))?,
            Swatch::Line { colour, dashed } => {
                let style = colour.stroke_width(2);
                if dashed {
                    for x0 in [x, x + 11, x + 22] {
                        area.draw(&PathElement::new([(x0, y), (x0 + 6, y)], style))?;
                    }
                } else {
                    area.draw(&PathElement::new([(x, y), (x + SWATCH_W, y)], style))?;
                }
            }
        }
        Ok(())
    }
}

/// Width of a legend line of `(swatch, text)` entries.
fn legend_width(items: &[(Swatch, String)]) -> Result<i32, PlotError> {
    items.iter().try_fold(0, |w, (_, text)| {
        Ok(w + SWATCH_W + 6 + text_width(text, TEXT_SIZE)? + 22)
    })
}

/// Draws a legend line of `(swatch, text)` entries from the left, its middle at `y`.
fn draw_legend(area: &Area<'_>, items: &[(Swatch, String)], y: i32) -> Result<(), Box<dyn Error>> {
    let mut x = PAD;
    for (swatch, text) in items {
        swatch.draw(area, (x, y))?;
        x += SWATCH_W + 6;
        area.draw(&left_text(text, (x, y), &font(TEXT_SIZE)))?;
        x += text_width(text, TEXT_SIZE)? + 22;
    }
    Ok(())
}

/// An interval between two pixels (horizontal or vertical) with end caps across it.
fn interval(
    area: &Area<'_>,
    from: (i32, i32),
    to: (i32, i32),
    colour: RGBColor,
    width: u32,
) -> Result<(), Box<dyn Error>> {
    let style = colour.stroke_width(width);
    area.draw(&PathElement::new([from, to], style))?;
    // Caps 12 pixels long, across the interval's direction.
    let (cx, cy) = if from.1 == to.1 { (0, 6) } else { (6, 0) };
    for (x, y) in [from, to] {
        area.draw(&PathElement::new(
            [(x - cx, y - cy), (x + cx, y + cy)],
            style,
        ))?;
    }
    Ok(())
}

/// A tick value as short as it can be written: 100, 2.5, 0.25, −1 (the float's noise
/// rounded away).
fn tick_label(v: f64) -> String {
    let text = format!("{:.4}", v);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.replace('-', "\u{2212}")
    }
}

/// A seed's value: a white dot with a black ring, visible on any bar colour.
fn seed_dot(area: &Area<'_>, at: (i32, i32)) -> Result<(), Box<dyn Error>> {
    area.draw(&Circle::new(at, 4, WHITE.filled()))?;
    area.draw(&Circle::new(at, 4, BLACK.stroke_width(1)))?;
    Ok(())
}

/// Two slanted strokes across the axis at `(x, y)`: the axis does not start at 0.
fn break_mark(root: &Area<'_>, (x, y): (i32, i32)) -> Result<(), Box<dyn Error>> {
    root.draw(&Rectangle::new(
        [(x - 4, y - 7), (x + 4, y + 7)],
        WHITE.filled(),
    ))?;
    for dx in [-4, 4] {
        root.draw(&PathElement::new(
            [(x + dx - 3, y + 7), (x + dx + 3, y - 7)],
            BLACK.stroke_width(2),
        ))?;
    }
    Ok(())
}

/// A linear axis from `lo` to `hi` with ticks exactly at `ticks` (rows, whole epochs);
/// the charts give every axis of it a label formatter.
struct Ticked {
    linear: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ticked {
    fn new(lo: f64, hi: f64, ticks: Vec<f64>) -> Self {
        Self {
            linear: (lo..hi).into(),
            ticks,
        }
    }
}

impl Ranged for Ticked {
    type FormatOption = DefaultFormatting;
    type ValueType = f64;

    fn map(&self, value: &f64, limit: (i32, i32)) -> i32 {
        self.linear.map(value, limit)
    }

    fn key_points<Hint: KeyPointHint>(&self, _: Hint) -> Vec<f64> {
        self.ticks.clone()
    }

    fn range(&self) -> std::ops::Range<f64> {
        self.linear.range()
    }
}

/// Rows of a horizontal chart: row `i` of `n` sits at y = n − 1 − i (the first on top).
fn row_y(i: usize, n: usize) -> f64 {
    (n - 1 - i) as f64
}

/// Each cell's statistic, in the table's unit: a bar to the mean over the seeds, whiskers ± the
/// sample std (the report's "±"), a dot per seed, and the paper's number as a beige bar
/// beside ours where the table has one; the numbers are written right of the plot. The
/// value axis starts where the data do; when that is above 0 a break mark and the
/// subtitle say so.
pub fn accuracy_chart(table: &Table, results: &[CellResult]) -> Result<RgbImage, PlotError> {
    load_font()?;
    let bars = bars(table, results);
    if bars.is_empty() {
        return Err(PlotError::Empty("no cell of the table has run"));
    }
    let n = bars.len();
    let any_paper = bars.iter().any(|b| b.paper.is_some());
    let (lo, hi) = percent_range(bars.iter().flat_map(|b| {
        let mut v = vec![b.mean - b.std, b.mean + b.std];
        v.extend(&b.seeds);
        v.extend(b.paper);
        v
    }));
    let seeds = bars.iter().map(|b| b.seeds.len()).max().unwrap_or(0);
    let unit = if table.error {
        "top-1 error (%)"
    } else {
        "top-1 accuracy (%)"
    };
    let cut = if lo > 0.0 {
        format!("; the axis starts at {lo}")
    } else {
        String::new()
    };
    let statistic = table.statistic.describe();
    let statistic = if table.error {
        statistic.replacen("top-1", "top-1 error", 1)
    } else {
        statistic
    };
    let subtitle = format!(
        "{}, mean over {seeds} seed{}{cut}",
        capitalised(&statistic),
        if seeds == 1 { "" } else { "s" },
    );
    let mut legend: Vec<(Swatch, String)> = vec![
        (
            Swatch::Bar(NEUTRAL),
            "mean over seeds (colour: the row)".into(),
        ),
        (Swatch::Whisker(BLACK), "± sample std".into()),
        (Swatch::Seed, "one seed".into()),
    ];
    if any_paper {
        legend.push((Swatch::Bar(PAPER_FILL), "the paper".into()));
    }
    let header = Header {
        title: &table.title,
        subtitle: &subtitle,
    };
    let value_text = |b: &Bar| {
        if b.mean.is_finite() {
            format!("{} ± {}", number(b.mean, false), number(b.std, false))
        } else {
            "no statistic".to_string()
        }
    };
    let paper_text = |p: f64| format!("paper {}", number(p, false));
    let label_w = widest(bars.iter().map(|b| b.label.as_str()), TICK_SIZE)?;
    let texts: Vec<String> = bars
        .iter()
        .flat_map(|b| [Some(value_text(b)), b.paper.map(paper_text)])
        .flatten()
        .collect();
    let right_w = widest(texts.iter().map(String::as_str), TEXT_SIZE)? + 2 * PAD;
    let row_h = if any_paper { 46 } else { 34 };
    let plot_w = 620;
    let width = (PAD + label_w + 10 + plot_w + right_w)
        .max(header.width()?)
        .max(2 * PAD + legend_width(&legend)?);
    let axis_h = 56;
    let height = Header::HEIGHT + row_h * n as i32 + axis_h + PAD;
    render(width as u32, height as u32, |root| {
        let legend_y = header.draw(root)?;
        draw_legend(root, &legend, legend_y)?;
        let (_, body) = root.split_vertically(Header::HEIGHT);
        let ticks: Vec<f64> = (0..n).map(|i| row_y(i, n)).collect();
        let mut chart = ChartBuilder::on(&body)
            .margin_left(PAD)
            .margin_right(right_w)
            .margin_bottom(PAD)
            .y_label_area_size(label_w + 10)
            .x_label_area_size(axis_h)
            .build_cartesian_2d(lo..hi, Ticked::new(-0.5, n as f64 - 0.5, ticks))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .x_labels(8)
            .x_label_formatter(&|v| tick_label(*v))
            .y_label_formatter(&|y| {
                let i = n as i64 - 1 - y.round() as i64;
                usize::try_from(i)
                    .ok()
                    .and_then(|i| bars.get(i))
                    .map_or(String::new(), |b| b.label.clone())
            })
            .x_desc(unit)
            .label_style(font(TICK_SIZE))
            .axis_desc_style(font(TEXT_SIZE))
            .draw()?;
        for (i, b) in bars.iter().enumerate() {
            let y = row_y(i, n);
            // Ours above the paper's when there is one, centred otherwise.
            let (ours, paper) = match b.paper {
                Some(_) => ((y + 0.03, y + 0.38), Some((y - 0.38, y - 0.03))),
                None => ((y - 0.3, y + 0.3), None),
            };
            let mid = (ours.0 + ours.1) / 2.0;
            let c = colour(b.row);
            // A cell whose seeds have no statistic (NaN) gets no bar, only its text.
            if b.mean.is_finite() {
                chart.draw_series([Rectangle::new(
                    [(lo, ours.0), (b.mean, ours.1)],
                    c.mix(0.85).filled(),
                )])?;
                interval(
                    root,
                    chart.backend_coord(&(b.mean - b.std, mid)),
                    chart.backend_coord(&(b.mean + b.std, mid)),
                    BLACK,
                    2,
                )?;
            }
            if let (Some(p), Some(rows)) = (b.paper, paper) {
                chart.draw_series([
                    Rectangle::new([(lo, rows.0), (p, rows.1)], PAPER_FILL.filled()),
                    Rectangle::new([(lo, rows.0), (p, rows.1)], BLACK.stroke_width(1)),
                ])?;
                let (px, py) = chart.backend_coord(&(hi, (rows.0 + rows.1) / 2.0));
                root.draw(&left_text(&paper_text(p), (px + PAD, py), &font(TEXT_SIZE)))?;
            }
            for &v in b.seeds.iter().filter(|v| v.is_finite()) {
                seed_dot(root, chart.backend_coord(&(v, mid)))?;
            }
            let (px, py) = chart.backend_coord(&(hi, mid));
            root.draw(&left_text(&value_text(b), (px + PAD, py), &font(TEXT_SIZE)))?;
        }
        if lo > 0.0 {
            break_mark(root, chart.backend_coord(&(lo, -0.5)))?;
        }
        Ok(())
    })
}

/// `text` with its first letter in upper case.
fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// The colour of a verdict: green holds, grey not shown, red contradicted.
fn verdict_colour(verdict: Verdict) -> RGBColor {
    match verdict {
        Verdict::Holds => RGBColor(30, 140, 60),
        Verdict::NotShown => RGBColor(110, 110, 110),
        Verdict::Contradicted => RGBColor(205, 30, 40),
    }
}

/// Each claim's paired difference (better − than, accuracy points): a dot at the mean and
/// the 95 % t-interval as whiskers on an axis through 0, coloured by the verdict, with the
/// numbers and the verdict written right of the plot.
pub fn claims_chart(table: &Table, claims: &[ClaimResult]) -> Result<RgbImage, PlotError> {
    load_font()?;
    if claims.is_empty() {
        return Err(PlotError::Empty("no claim has both its cells run"));
    }
    let n = claims.len();
    let reach = claims
        .iter()
        .flat_map(|c| [c.difference.low, c.difference.high, c.difference.mean])
        .filter(|v| v.is_finite())
        .fold(0.5f64, |m, v| m.max(v.abs()));
    let step = nice_step(2.0 * reach, 8.0);
    let reach = (reach / step).ceil() * step;
    let seeds = claims.iter().map(|c| c.difference.n).max().unwrap_or(0);
    let subtitle = format!(
        "Paired difference of top-1 over {seeds} seeds (points): mean and 95 % Student-t interval, not adjusted for {n} claims"
    );
    let title = format!("{}: claims", table.title);
    let header = Header {
        title: &title,
        subtitle: &subtitle,
    };
    let legend: Vec<(Swatch, String)> = [
        (Verdict::Holds, "holds: interval above 0"),
        (Verdict::NotShown, "not shown: contains 0"),
        (Verdict::Contradicted, "contradicted: below 0"),
    ]
    .into_iter()
    .map(|(v, text)| (Swatch::Whisker(verdict_colour(v)), text.to_string()))
    .collect();
    let interval_text = |c: &ClaimResult| {
        let d = &c.difference;
        if d.low.is_finite() {
            format!(
                "{} [{}, {}]",
                number(d.mean, true),
                number(d.low, true),
                number(d.high, true)
            )
        } else if d.mean.is_finite() {
            number(d.mean, true)
        } else {
            "—".into()
        }
    };
    // The column only where the table has several.
    let labels: Vec<String> = claims
        .iter()
        .map(|c| {
            if table.columns.len() == 1 {
                format!("{} − {}", c.claim.better, c.claim.than)
            } else {
                c.label()
            }
        })
        .collect();
    let intervals: Vec<String> = claims.iter().map(interval_text).collect();
    let label_w = widest(labels.iter().map(String::as_str), TICK_SIZE)?;
    let interval_w = widest(intervals.iter().map(String::as_str), TEXT_SIZE)?;
    let verdict_w = widest(["holds", "not shown", "contradicted"], TEXT_SIZE)?;
    let right_w = PAD + interval_w + 16 + verdict_w + PAD;
    let plot_w = 560;
    let width = (PAD + label_w + 10 + plot_w + right_w)
        .max(header.width()?)
        .max(2 * PAD + legend_width(&legend)?);
    let (row_h, axis_h) = (34, 56);
    let height = Header::HEIGHT + row_h * n as i32 + axis_h + PAD;
    render(width as u32, height as u32, |root| {
        let legend_y = header.draw(root)?;
        draw_legend(root, &legend, legend_y)?;
        let (_, body) = root.split_vertically(Header::HEIGHT);
        let ticks: Vec<f64> = (0..n).map(|i| row_y(i, n)).collect();
        let mut chart = ChartBuilder::on(&body)
            .margin_left(PAD)
            .margin_right(right_w)
            .margin_bottom(PAD)
            .y_label_area_size(label_w + 10)
            .x_label_area_size(axis_h)
            .build_cartesian_2d(-reach..reach, Ticked::new(-0.5, n as f64 - 0.5, ticks))?;
        chart
            .configure_mesh()
            .disable_y_mesh()
            .bold_line_style(GRID)
            .light_line_style(TRANSPARENT)
            .x_labels(9)
            .x_label_formatter(&|v| tick_label(*v))
            .y_label_formatter(&|y| {
                let i = n as i64 - 1 - y.round() as i64;
                usize::try_from(i)
                    .ok()
                    .and_then(|i| labels.get(i))
                    .cloned()
                    .unwrap_or_default()
            })
            .x_desc("better − than (accuracy points)")
            .label_style(font(TICK_SIZE))
            .axis_desc_style(font(TEXT_SIZE))
            .draw()?;
        chart.draw_series([PathElement::new(
            [(0.0, -0.5), (0.0, n as f64 - 0.5)],
            BLACK.stroke_width(2),
        )])?;
        for (i, c) in claims.iter().enumerate() {
            let y = row_y(i, n);
            let d = &c.difference;
            let verdict = d.verdict();
            let col = verdict_colour(verdict);
            if d.low.is_finite() {
                interval(
                    root,
                    chart.backend_coord(&(d.low, y)),
                    chart.backend_coord(&(d.high, y)),
                    col,
                    3,
                )?;
            }
            if d.mean.is_finite() {
                chart.draw_series([Circle::new((d.mean, y), 5, col.filled())])?;
            }
            let (px, py) = chart.backend_coord(&(reach, y));
            root.draw(&left_text(&intervals[i], (px + PAD, py), &font(TEXT_SIZE)))?;
            root.draw(&left_text(
                &verdict.to_string(),
                (px + PAD + interval_w + 16, py),
                &font(TEXT_SIZE).color(&col),
            ))?;
        }
        Ok(())
    })
}

/// Mean and sample std over the seeds of one metric per epoch: `None` at an epoch where a
/// seed lacks it (not evaluated that epoch, or not measured at all).
fn per_epoch(
    r: &CellResult,
    metric: impl Fn(&crate::train::EpochMetrics) -> Option<f64>,
) -> Vec<Option<(f64, f64)>> {
    let epochs = r.histories.iter().map(|(_, h)| h.len()).min().unwrap_or(0);
    (0..epochs)
        .map(|e| {
            let v: Option<Vec<f64>> = r
                .histories
                .iter()
                .map(|(_, h)| metric(&h[e]).filter(|v| v.is_finite()))
                .collect();
            v.filter(|v| !v.is_empty())
                .map(|v| crate::experiment::mean_std(&v))
        })
        .collect()
}

/// The points `(epoch, mean, std)` of a per-epoch series, epochs from 1.
fn points(series: &[Option<(f64, f64)>]) -> Vec<(f64, f64, f64)> {
    series
        .iter()
        .enumerate()
        .filter_map(|(e, v)| v.map(|(m, s)| ((e + 1) as f64, m, s)))
        .collect()
}

/// The first column's curves per row, means over the seeds: left, the training loss on
/// the mixed batches (`mix_loss`) with a ± sample-std band; right, the clean test top-1
/// at the evaluated epochs (solid, ± sample-std bars) and, where the runs measured it, the
/// clean top-1 on the training images (dashed). The rows' legend is right of the plots.
pub fn curves_chart(table: &Table, results: &[CellResult]) -> Result<RgbImage, PlotError> {
    load_font()?;
    let first: Vec<&CellResult> = results.iter().filter(|r| r.cell.column == 0).collect();
    let curves: Vec<Curves> = first
        .iter()
        .map(|r| Curves {
            row: r.cell.row,
            loss: points(&per_epoch(r, |m| Some(m.mix_loss))),
            test: points(&per_epoch(r, |m| Some(m.top1))),
            train: points(&per_epoch(r, |m| m.train_top1)),
        })
        .filter(|c| !c.loss.is_empty())
        .collect();
    if curves.is_empty() {
        return Err(PlotError::Empty(
            "no run of the table's first column has a finished epoch",
        ));
    }
    let epochs = curves
        .iter()
        .flat_map(|c| c.loss.last().map(|p| p.0 as usize))
        .max()
        .unwrap_or(1)
        .max(2);
    let (loss_lo, loss_hi) = padded_range(
        curves
            .iter()
            .flat_map(|c| c.loss.iter().flat_map(|p| [p.1 - p.2, p.1 + p.2])),
        6.0,
    )
    .map_or((0.0, 1.0), |(lo, hi)| (lo.max(0.0), hi));
    let (top_lo, top_hi) = percent_range(curves.iter().flat_map(|c| {
        c.test
            .iter()
            .flat_map(|p| [p.1 - p.2, p.1 + p.2])
            .chain(c.train.iter().map(|p| p.1))
            .collect::<Vec<_>>()
    }));
    let seeds = first.iter().map(|r| r.histories.len()).max().unwrap_or(0);
    let column = table.columns.first().map_or("", |c| c.name.as_str());
    let title = format!("{}: per epoch ({column})", table.title);
    let subtitle = format!(
        "Means over {seeds} seed{}; band and bars: ± sample std over the seeds",
        if seeds == 1 { "" } else { "s" }
    );
    let header = Header {
        title: &title,
        subtitle: &subtitle,
    };
    let any_train = curves.iter().any(|c| !c.train.is_empty());
    let mut legend: Vec<(Swatch, String)> = vec![(
        Swatch::Line {
            colour: BLACK,
            dashed: false,
        },
        "test set (clean)".into(),
    )];
    if any_train {
        legend.push((
            Swatch::Line {
                colour: BLACK,
                dashed: true,
            },
            "training images (clean, unmixed)".into(),
        ));
    }
    let names: Vec<&str> = curves
        .iter()
        .map(|c| table.rows[c.row].name.as_str())
        .collect();
    let names_w = SWATCH_W + 8 + widest(names.iter().copied(), TEXT_SIZE)? + 2 * PAD;
    let panel_w = 520;
    let width = (2 * panel_w + names_w + PAD)
        .max(header.width()?)
        .max(2 * PAD + legend_width(&legend)?);
    let height = Header::HEIGHT + 460;
    let x_ticks = epoch_ticks(epochs);
    let (x_lo, x_hi) = (0.5, epochs as f64 + 0.5);
    render(width as u32, height as u32, |root| {
        let legend_y = header.draw(root)?;
        draw_legend(root, &legend, legend_y)?;
        let (_, body) = root.split_vertically(Header::HEIGHT);
        let (panels, names_area) = body.split_horizontally(2 * panel_w);
        let (left, right) = panels.split_horizontally(panel_w);
        let mut loss = ChartBuilder::on(&left)
            .caption("Training loss on the mixed batches", font(TEXT_SIZE))
            .margin(PAD)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(Ticked::new(x_lo, x_hi, x_ticks.clone()), loss_lo..loss_hi)?;
        epoch_mesh(&mut loss, "mix_loss")?;
        let mut top = ChartBuilder::on(&right)
            .caption("Clean top-1", font(TEXT_SIZE))
            .margin(PAD)
            .x_label_area_size(48)
            .y_label_area_size(64)
            .build_cartesian_2d(Ticked::new(x_lo, x_hi, x_ticks.clone()), top_lo..top_hi)?;
        epoch_mesh(&mut top, "top-1 (%)")?;
        // The rows' top-1 points side by side, 3 pixels apart, so that their bars do not
        // hide each other.
        let per_epoch_px =
            f64::from(top.backend_coord(&(2.0, top_lo)).0 - top.backend_coord(&(1.0, top_lo)).0);
        let dodge = 3.0 / per_epoch_px.max(1.0);
        let middle = (curves.len() as f64 - 1.0) / 2.0;
        for (i, c) in curves.iter().enumerate() {
            let col = colour(c.row);
            let band: Vec<(f64, f64)> = c
                .loss
                .iter()
                .map(|p| (p.0, p.1 + p.2))
                .chain(c.loss.iter().rev().map(|p| (p.0, p.1 - p.2)))
                .collect();
            loss.draw_series([Polygon::new(band, col.mix(0.15).filled())])?;
            loss.draw_series(LineSeries::new(
                c.loss.iter().map(|p| (p.0, p.1)),
                col.stroke_width(2),
            ))?;
            let shift = (i as f64 - middle) * dodge;
            let at = |p: &(f64, f64, f64)| (p.0 + shift, p.1);
            top.draw_series(LineSeries::new(c.test.iter().map(at), col.stroke_width(2)))?;
            for p in &c.test {
                interval(
                    root,
                    top.backend_coord(&(p.0 + shift, p.1 - p.2)),
                    top.backend_coord(&(p.0 + shift, p.1 + p.2)),
                    col,
                    2,
                )?;
            }
            top.draw_series(c.test.iter().map(|p| Circle::new(at(p), 4, col.filled())))?;
            top.draw_series(DashedLineSeries::new(
                c.train.iter().map(at),
                6,
                5,
                col.stroke_width(2),
            ))?;
            for p in &c.train {
                let px = top.backend_coord(&at(p));
                root.draw(&Circle::new(px, 4, WHITE.filled()))?;
                root.draw(&Circle::new(px, 4, col.stroke_width(2)))?;
            }
        }
        for (i, (c, name)) in curves.iter().zip(&names).enumerate() {
            let y = PAD + 40 + 26 * i as i32;
            Swatch::Line {
                colour: colour(c.row),
                dashed: false,
            }
            .draw(&names_area, (PAD, y))?;
            names_area.draw(&left_text(name, (PAD + SWATCH_W + 8, y), &font(TEXT_SIZE)))?;
        }
        Ok(())
    })
}

/// The grid, ticks and labels of a panel of [`curves_chart`].
fn epoch_mesh(
    chart: &mut ChartContext<'_, Canvas<'_>, Cartesian2d<Ticked, RangedCoordf64>>,
    y_desc: &str,
) -> Result<(), Box<dyn Error>> {
    chart
        .configure_mesh()
        .bold_line_style(GRID)
        .light_line_style(TRANSPARENT)
        .y_labels(7)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| tick_label(*v))
        .x_desc("epoch")
        .y_desc(y_desc)
        .label_style(font(TICK_SIZE))
        .axis_desc_style(font(TEXT_SIZE))
        .draw()?;
    Ok(())
}

/// One row's curves for [`curves_chart`]: `(epoch, mean, std)` points.
struct Curves {
    row: usize,
    loss: Vec<(f64, f64, f64)>,
    test: Vec<(f64, f64, f64)>,
    train: Vec<(f64, f64, f64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::claims::{Claim, PairedDifference};
    use crate::tables::Cell;
    use crate::train::EpochMetrics;

    /// A table of one row ("Mix") and the columns A and B; the paper reports top-1 error
    /// 4.2 for column A only.
    fn error_table() -> Table {
        Table::from_toml(
            r#"
name = "t"
title = "T, two columns (top-1 error %)"
source = "hand"
statistic = { kind = "last" }
tolerance = 1.0
error = true

[base.data]
dataset = "fashion-mnist"
batch_size = 8
normalize = { mean = [0.5, 0.5, 0.5], std = [0.5, 0.5, 0.5] }

[base.model]
arch = "resnet18"
num_classes = 10

[base.train]
epochs = 3
lr = 0.1
momentum = 0.9
nesterov = false
weight_decay = 0.0
schedule = { kind = "cosine" }
warmup_epochs = 0
loss = { kind = "soft_ce" }
smoothing = 0.0
seed = 0

[[columns]]
name = "A"

[[columns]]
name = "B"

[[rows]]
name = "Mix"
set = { mixer = { method = "mixup" } }
paper = { "A" = 4.2 }
"#,
        )
        .unwrap()
    }

    /// Three epochs per seed: test top-1 evaluated at epochs 2 and 3 only (NaN at 1),
    /// training top-1 at 3 only.
    fn history(last: f64) -> Vec<EpochMetrics> {
        (1..=3)
            .map(|epoch| EpochMetrics {
                epoch,
                mix_loss: 2.0 / epoch as f64,
                lr: 0.1,
                top1: if epoch == 1 {
                    f64::NAN
                } else {
                    last - 3.0 + epoch as f64
                },
                top5: 100.0,
                train_top1: (epoch == 3).then_some(99.0),
                ratio: None,
                images_per_second: 1.0,
            })
            .collect()
    }

    fn result(cell: Cell, finals: &[f64]) -> CellResult {
        let histories = finals
            .iter()
            .enumerate()
            .map(|(seed, &f)| (seed as u64, history(f)))
            .collect();
        CellResult::new(cell, histories).unwrap()
    }

    /// Whether some pixel of `image` has exactly the colour `c`.
    fn has(image: &RgbImage, c: RGBColor) -> bool {
        image.pixels().any(|p| p.0 == [c.0, c.1, c.2])
    }

    #[test]
    fn bars_are_in_the_tables_unit_with_the_paper_beside_ours() {
        let table = error_table();
        // Accuracies 95 and 96 → errors 5 and 4: mean 4.5, sample std √0.5 = 0.7071.
        let a = result(table.cell(0, 0).unwrap(), &[95.0, 96.0]);
        let b = result(table.cell(0, 1).unwrap(), &[90.0, 90.0]);
        let bars = bars(&table, &[a.clone(), b.clone()]);
        assert_eq!(bars[0].label, "Mix / A");
        assert_eq!(bars[0].seeds, [5.0, 4.0]);
        assert!((bars[0].mean - 4.5).abs() < 1e-12);
        assert!((bars[0].std - 0.5f64.sqrt()).abs() < 1e-12);
        // The paper's number is already an error: as written in the table.
        assert_eq!(bars[0].paper, Some(4.2));
        assert_eq!(
            (bars[1].label.as_str(), bars[1].mean, bars[1].paper),
            ("Mix / B", 10.0, None)
        );

        // Header 110 px, 2 rows of 46 px (a paper bar in the table), axis 56, padding 12.
        let chart = accuracy_chart(&table, &[a.clone(), b.clone()]).unwrap();
        assert_eq!(chart.height(), 110 + 2 * 46 + 56 + 12);
        assert!(chart.width() > 620, "{}", chart.width());
        // The paper's beige bar is drawn, and only when a cell has a paper number (its
        // legend swatch is that beige too).
        assert!(has(&chart, PAPER_FILL));
        let without = accuracy_chart(&table, &[b]).unwrap();
        assert_eq!(without.height(), 110 + 34 + 56 + 12);
        assert!(!has(&without, PAPER_FILL));
        assert_eq!(
            accuracy_chart(&table, &[]).unwrap_err(),
            PlotError::Empty("no cell of the table has run")
        );
    }

    #[test]
    fn claims_are_coloured_by_their_verdict() {
        let table = error_table();
        let claim = |mean: f64, low: f64, high: f64| ClaimResult {
            claim: Claim {
                better: "Mix".into(),
                than: "Mix".into(),
                column: None,
                source: "hand".into(),
            },
            column: "A".into(),
            difference: PairedDifference {
                n: 3,
                mean,
                low,
                high,
            },
        };
        let (holds, contradicted) = (
            verdict_colour(Verdict::Holds),
            verdict_colour(Verdict::Contradicted),
        );
        // The legend shows every colour: count pixels beyond it instead, below the header.
        let below = |img: &RgbImage, c: RGBColor| {
            img.enumerate_pixels()
                .filter(|(_, y, p)| *y >= Header::HEIGHT as u32 && p.0 == [c.0, c.1, c.2])
                .count()
        };
        let up = claims_chart(&table, &[claim(1.0, 0.5, 1.5)]).unwrap();
        assert_eq!(up.height(), 110 + 34 + 56 + 12);
        assert!(below(&up, holds) > 0 && below(&up, contradicted) == 0);
        let down = claims_chart(&table, &[claim(-1.0, -1.5, -0.5)]).unwrap();
        assert!(below(&down, contradicted) > 0 && below(&down, holds) == 0);
        // One pair: no interval, a dot at the mean, grey.
        let single = claims_chart(&table, &[claim(1.0, f64::NAN, f64::NAN)]).unwrap();
        assert!(
            below(&single, holds) == 0 && below(&single, verdict_colour(Verdict::NotShown)) > 0
        );
        assert_eq!(
            claims_chart(&table, &[]).unwrap_err(),
            PlotError::Empty("no claim has both its cells run")
        );
    }

    #[test]
    fn curves_skip_epochs_not_evaluated_and_need_a_finished_epoch() {
        let table = error_table();
        let a = result(table.cell(0, 0).unwrap(), &[95.0, 96.0]);
        // Test top-1 at epochs 2 and 3 (final − 1 and final: seed means 94.5 and 95.5, std
        // √0.5), none at 1.
        let test = points(&per_epoch(&a, |m| Some(m.top1)));
        assert_eq!(test.len(), 2);
        assert_eq!(
            (test[0].0, test[0].1, test[1].0, test[1].1),
            (2.0, 94.5, 3.0, 95.5)
        );
        assert!((test[0].2 - 0.5f64.sqrt()).abs() < 1e-12);
        // Training top-1 at epoch 3 only; the loss 2/epoch at every epoch.
        assert_eq!(points(&per_epoch(&a, |m| m.train_top1)), [(3.0, 99.0, 0.0)]);
        assert_eq!(
            points(&per_epoch(&a, |m| Some(m.mix_loss)))[1],
            (2.0, 1.0, 0.0)
        );
        // Header 110 px and 460 for the panels.
        assert_eq!(curves_chart(&table, &[a]).unwrap().height(), 570);
        // Only the second column ran: nothing for the first column's curves.
        let b = result(table.cell(0, 1).unwrap(), &[90.0]);
        assert!(matches!(
            curves_chart(&table, &[b]),
            Err(PlotError::Empty(_))
        ));
    }

    #[test]
    fn the_report_links_the_charts_it_writes() {
        let table = error_table();
        let dir = tempfile::tempdir().unwrap();
        let a = result(table.cell(0, 0).unwrap(), &[95.0, 96.0]);
        crate::tables::write_report(&table, &[a], dir.path(), "c0ffee").unwrap();
        let report = std::fs::read_to_string(dir.path().join("report.md")).unwrap();
        // Heights as in the tests above: one row with a paper bar; the curves' fixed 570.
        for (name, height) in [("accuracy.png", 110 + 46 + 56 + 12), ("curves.png", 570)] {
            let png = image::open(dir.path().join(name)).unwrap();
            assert_eq!(png.height(), height, "{name}");
            assert!(report.contains(&format!("]({name})")), "{report}");
        }
        // The table has no claims: no claims chart.
        assert!(!dir.path().join("claims.png").exists());
        assert!(!report.contains("claims.png"));
    }

    #[test]
    fn a_missing_font_names_the_package() {
        let missing = read_font(Path::new("/no/such/font.ttf")).unwrap_err();
        assert!(matches!(missing, PlotError::FontMissing { .. }));
        assert!(
            missing.to_string().contains("fonts-dejavu-core"),
            "{missing}"
        );
        // A file that is not a font.
        let manifest = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        assert_eq!(
            read_font(&manifest).unwrap_err(),
            PlotError::FontInvalid { path: manifest }
        );
    }

    #[test]
    fn ranges_and_ticks_by_hand() {
        // 1, 2 or 5 × 10^k: 4.4/6 = 0.73 → 1; 0.3/6 = 0.05; 30/6 = 5.
        assert_eq!(nice_step(4.4, 6.0), 1.0);
        assert!((nice_step(0.3, 6.0) - 0.05).abs() < 1e-12);
        assert_eq!(nice_step(30.0, 6.0), 5.0);
        // 79.3–83.7 padded by 4.4/20 = 0.22 → 79.08–83.92, step 1 → 79–84.
        assert_eq!(
            padded_range([83.7, 79.3, f64::NAN], 6.0),
            Some((79.0, 84.0))
        );
        assert_eq!(padded_range([f64::NAN], 6.0), None);
        // Percentages stay within [0, 100]; nothing finite gives the whole range.
        assert_eq!(percent_range([99.0, 100.0]), (98.8, 100.0));
        assert_eq!(percent_range([]), (0.0, 100.0));
        // Epoch ticks: 20 epochs, step 2 → 2, 4, …, 20; 3 epochs, step 1; 200, step 20.
        assert_eq!(
            epoch_ticks(20),
            [2.0, 4.0, 6.0, 8.0, 10.0, 12.0, 14.0, 16.0, 18.0, 20.0]
        );
        assert_eq!(epoch_ticks(3), [1.0, 2.0, 3.0]);
        assert_eq!(
            epoch_ticks(200),
            [
                1.0, 20.0, 40.0, 60.0, 80.0, 100.0, 120.0, 140.0, 160.0, 180.0, 200.0
            ]
        );
        assert_eq!(number(-1.644, true), "\u{2212}1.64");
        assert_eq!(number(0.22, true), "+0.22");
        assert_eq!(tick_label(100.0), "100");
        assert_eq!(tick_label(0.30000000000000004), "0.3");
        assert_eq!(tick_label(-2.0), "\u{2212}2");
        assert_eq!(tick_label(-0.0), "0");
    }
}
