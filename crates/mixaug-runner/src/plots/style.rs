//! What the charts share: the palette, number formats, value ranges and ticks, the
//! `Ticked` axis, the header, legend swatches, intervals, seed dots and the axis break mark.

use image::RgbImage;
use std::error::Error;

use plotters::coord::ranged1d::{DefaultFormatting, KeyPointHint};
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::text::{
    Area, Canvas, PAD, PlotError, TEXT_SIZE, TICK_SIZE, TITLE_SIZE, font, render, text_width,
    widest,
};

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
pub(super) fn colour(row: usize) -> RGBColor {
    PALETTE[row % PALETTE.len()]
}

/// The grid lines at the ticks.
pub(super) const GRID: RGBColor = RGBColor(220, 220, 220);
/// The paper's bars: beige (not a grey, which anti-aliased text also makes).
pub(super) const PAPER_FILL: RGBColor = RGBColor(225, 212, 178);
/// The legend's bar (the bars themselves take their row's colour).
pub(super) const NEUTRAL: RGBColor = RGBColor(120, 120, 120);

/// Text with its left edge at `x` and its middle at `y`.
pub(super) fn left_text<'a>(
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
pub(super) fn number(v: f64, sign: bool) -> String {
    let text = if sign {
        format!("{v:+.2}")
    } else {
        format!("{v:.2}")
    };
    text.replace('-', "\u{2212}")
}

/// A tick step of 1, 2 or 5 × 10^k giving about `ticks` intervals over `span`.
pub(super) fn nice_step(span: f64, ticks: f64) -> f64 {
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
pub(super) fn padded_range(
    values: impl IntoIterator<Item = f64>,
    ticks: f64,
) -> Option<(f64, f64)> {
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
pub(super) fn percent_range(values: impl IntoIterator<Item = f64>) -> (f64, f64) {
    padded_range(values, 6.0).map_or((0.0, 100.0), |(lo, hi)| (lo.max(0.0), hi.min(100.0)))
}

/// Whole-number ticks (epochs) up to `last`: the multiples of a step giving about 10 of
/// them, and epoch 1 too when the step is 5 or more.
pub(super) fn epoch_ticks(last: usize) -> Vec<f64> {
    let step = (nice_step(last as f64, 10.0) as usize).max(1);
    let first = if step >= 5 { vec![1.0] } else { Vec::new() };
    first
        .into_iter()
        .chain((1..=last / step).map(|i| (i * step) as f64))
        .collect()
}

/// The top of a chart: a title, a subtitle and (drawn by the caller) a legend line.
pub(super) struct Header<'a> {
    pub(super) title: &'a str,
    pub(super) subtitle: &'a str,
}

impl Header<'_> {
    /// Its height in pixels.
    pub(super) const HEIGHT: i32 = 2 * PAD + 30 + 26 + 30;

    /// Width the header's text needs.
    pub(super) fn width(&self) -> Result<i32, PlotError> {
        Ok(
            2 * PAD
                + text_width(self.title, TITLE_SIZE)?.max(text_width(self.subtitle, TEXT_SIZE)?),
        )
    }

    /// Draws the title and subtitle; returns the y of the legend line's middle.
    pub(super) fn draw(&self, root: &Area<'_>) -> Result<i32, Box<dyn Error>> {
        let y = PAD + 12;
        root.draw(&left_text(self.title, (PAD, y), &font(TITLE_SIZE)))?;
        root.draw(&left_text(self.subtitle, (PAD, y + 28), &font(TEXT_SIZE)))?;
        Ok(y + 28 + 28)
    }
}

/// The small picture before a legend entry.
#[derive(Debug, Clone, Copy)]
pub(super) enum Swatch {
    /// A filled bar.
    Bar(RGBColor),
    /// A horizontal interval with end ticks.
    Whisker(RGBColor),
    /// A seed's white dot.
    Seed,
    /// A line, solid or dashed.
    Line { colour: RGBColor, dashed: bool },
}

pub(super) const SWATCH_W: i32 = 28;

impl Swatch {
    /// Draws the swatch with its left edge at `x` and its middle at `y`.
    pub(super) fn draw(self, area: &Area<'_>, (x, y): (i32, i32)) -> Result<(), Box<dyn Error>> {
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
pub(super) fn legend_width(items: &[(Swatch, String)]) -> Result<i32, PlotError> {
    items.iter().try_fold(0, |w, (_, text)| {
        Ok(w + SWATCH_W + 6 + text_width(text, TEXT_SIZE)? + 22)
    })
}

/// Draws a legend line of `(swatch, text)` entries from the left, its middle at `y`.
pub(super) fn draw_legend(
    area: &Area<'_>,
    items: &[(Swatch, String)],
    y: i32,
) -> Result<(), Box<dyn Error>> {
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
pub(super) fn interval(
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
pub(super) fn tick_label(v: f64) -> String {
    let text = format!("{:.4}", v);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".into()
    } else {
        text.replace('-', "\u{2212}")
    }
}

/// A seed's value: a white dot with a black ring, visible on any bar colour.
pub(super) fn seed_dot(area: &Area<'_>, at: (i32, i32)) -> Result<(), Box<dyn Error>> {
    area.draw(&Circle::new(at, 4, WHITE.filled()))?;
    area.draw(&Circle::new(at, 4, BLACK.stroke_width(1)))?;
    Ok(())
}

/// Two slanted strokes across the axis at `(x, y)`: the axis does not start at 0.
pub(super) fn break_mark(root: &Area<'_>, (x, y): (i32, i32)) -> Result<(), Box<dyn Error>> {
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
pub(super) struct Ticked {
    linear: RangedCoordf64,
    ticks: Vec<f64>,
}

impl Ticked {
    pub(super) fn new(lo: f64, hi: f64, ticks: Vec<f64>) -> Self {
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
pub(super) fn row_y(i: usize, n: usize) -> f64 {
    (n - 1 - i) as f64
}

/// `text` with its first letter in upper case.
pub(super) fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// A chart with one row per item (the accuracy bars, the claims): the header and legend on
/// top, the rows' labels on the left, their numbers in a column on the right, a value axis
/// below with grid lines.
pub(super) struct RowFrame<'a> {
    pub(super) header: Header<'a>,
    pub(super) legend: &'a [(Swatch, String)],
    /// The rows' labels, the top row's first.
    pub(super) labels: &'a [String],
    pub(super) row_h: i32,
    pub(super) plot_w: i32,
    /// Width of the column on the right, its padding included.
    pub(super) right_w: i32,
    /// Tick labels on the value axis, about.
    pub(super) x_labels: usize,
    /// The value axis' description.
    pub(super) x_desc: &'a str,
}

/// The chart [`RowFrame::draw`] hands its caller: values across, row `i` at [`row_y`].
pub(super) type RowChart<'a, 'b> =
    ChartContext<'a, Canvas<'b>, Cartesian2d<RangedCoordf64, Ticked>>;

impl RowFrame<'_> {
    /// Height of the value axis under the rows.
    const AXIS_H: i32 = 56;

    /// The picture: the frame with values `x` across, then `rows` draws the rows on the
    /// chart (and beside it on the picture's area).
    pub(super) fn draw(
        &self,
        x: std::ops::Range<f64>,
        rows: impl FnOnce(&Area<'_>, &mut RowChart<'_, '_>) -> Result<(), Box<dyn Error>>,
    ) -> Result<RgbImage, PlotError> {
        let n = self.labels.len();
        let label_w = widest(self.labels.iter().map(String::as_str), TICK_SIZE)?;
        let width = (PAD + label_w + 10 + self.plot_w + self.right_w)
            .max(self.header.width()?)
            .max(2 * PAD + legend_width(self.legend)?);
        let height = Header::HEIGHT + self.row_h * n as i32 + Self::AXIS_H + PAD;
        render(width as u32, height as u32, |root| {
            let legend_y = self.header.draw(root)?;
            draw_legend(root, self.legend, legend_y)?;
            let (_, body) = root.split_vertically(Header::HEIGHT);
            let ticks: Vec<f64> = (0..n).map(|i| row_y(i, n)).collect();
            let mut chart = ChartBuilder::on(&body)
                .margin_left(PAD)
                .margin_right(self.right_w)
                .margin_bottom(PAD)
                .y_label_area_size(label_w + 10)
                .x_label_area_size(Self::AXIS_H)
                .build_cartesian_2d(x, Ticked::new(-0.5, n as f64 - 0.5, ticks))?;
            chart
                .configure_mesh()
                .disable_y_mesh()
                .bold_line_style(GRID)
                .light_line_style(TRANSPARENT)
                .x_labels(self.x_labels)
                .x_label_formatter(&|v| tick_label(*v))
                .y_label_formatter(&|y| {
                    let i = n as i64 - 1 - y.round() as i64;
                    usize::try_from(i)
                        .ok()
                        .and_then(|i| self.labels.get(i))
                        .cloned()
                        .unwrap_or_default()
                })
                .x_desc(self.x_desc)
                .label_style(font(TICK_SIZE))
                .axis_desc_style(font(TEXT_SIZE))
                .draw()?;
            rows(root, &mut chart)
        })
    }
}
