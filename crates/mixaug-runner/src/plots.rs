//! The pictures of a table run: accuracy per cell with its seeds, the claims' paired
//! intervals around 0, and the per-epoch curves (test top-1 of every row, training top-1
//! where measured). Axes carry ticks and labels; an accuracy axis that does not start at
//! 0 says so and shows a break mark.

use image::{Rgb, RgbImage};

use crate::claims::Verdict;
use crate::render::draw_text;
use crate::tables::{CellResult, ClaimResult, Table};

const WHITE: Rgb<u8> = Rgb([255, 255, 255]);
const BLACK: Rgb<u8> = Rgb([0, 0, 0]);
const GREY: Rgb<u8> = Rgb([150, 150, 150]);
const LIGHT: Rgb<u8> = Rgb([225, 225, 225]);

/// Colours of the rows (Sasha Trubetskoy's distinct colours).
const PALETTE: [[u8; 3]; 10] = [
    [0, 0, 0],
    [230, 25, 75],
    [60, 180, 75],
    [0, 130, 200],
    [245, 130, 48],
    [145, 30, 180],
    [0, 128, 128],
    [240, 50, 230],
    [128, 128, 0],
    [0, 0, 128],
];

fn colour(i: usize) -> Rgb<u8> {
    Rgb(PALETTE[i % PALETTE.len()])
}

/// Pixel width of `text` in the 8×8 font at scale 1.
fn text_width(text: &str) -> u32 {
    8 * text.chars().count() as u32
}

fn put(img: &mut RgbImage, x: i64, y: i64, c: Rgb<u8>) {
    if x >= 0 && y >= 0 && (x as u32) < img.width() && (y as u32) < img.height() {
        img.put_pixel(x as u32, y as u32, c);
    }
}

/// A line two pixels thick; `dash` > 0 draws `dash` pixels on, `dash` off.
fn line(img: &mut RgbImage, (x0, y0): (f64, f64), (x1, y1): (f64, f64), c: Rgb<u8>, dash: usize) {
    let steps = ((x1 - x0).abs().max((y1 - y0).abs()).ceil() as usize).max(1);
    for s in 0..=steps {
        if dash > 0 && (s / dash) % 2 == 1 {
            continue;
        }
        let t = s as f64 / steps as f64;
        let (x, y) = (x0 + t * (x1 - x0), y0 + t * (y1 - y0));
        put(img, x.round() as i64, y.round() as i64, c);
        put(img, x.round() as i64 + 1, y.round() as i64, c);
        put(img, x.round() as i64, y.round() as i64 + 1, c);
    }
}

fn rect(img: &mut RgbImage, (x0, y0): (f64, f64), (x1, y1): (f64, f64), c: Rgb<u8>) {
    for y in y0.round() as i64..y1.round() as i64 {
        for x in x0.round() as i64..x1.round() as i64 {
            put(img, x, y, c);
        }
    }
}

fn dot(img: &mut RgbImage, (x, y): (f64, f64), c: Rgb<u8>) {
    for dy in -2..=2i64 {
        for dx in -2..=2i64 {
            if dx * dx + dy * dy <= 5 {
                put(img, x.round() as i64 + dx, y.round() as i64 + dy, c);
            }
        }
    }
}

/// The smallest and largest of some percentages, clamped to [0, 100]; the whole range when
/// there are none (NaNs are skipped).
fn percent_extent(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (min, max) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
    if min.is_finite() {
        (min.max(0.0), max.min(100.0))
    } else {
        (0.0, 100.0)
    }
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

/// An axis from `lo` to `hi` mapped onto `[from, to]` pixels, with nice ticks.
#[derive(Debug, Clone, Copy)]
struct Axis {
    lo: f64,
    hi: f64,
    from: f64,
    to: f64,
    step: f64,
}

impl Axis {
    /// An axis of whole numbers (epochs) covering `[min, max]`.
    fn whole(min: f64, max: f64, from: f64, to: f64, ticks: f64) -> Self {
        let mut axis = Self::covering(min, max, from, to, ticks);
        if axis.step < 1.0 {
            axis = Self {
                lo: min.floor(),
                hi: max.ceil().max(min.floor() + 1.0),
                step: 1.0,
                ..axis
            };
        }
        axis
    }

    /// An axis covering `[min, max]`, widened to whole ticks.
    fn covering(min: f64, max: f64, from: f64, to: f64, ticks: f64) -> Self {
        let (min, max) = if max > min {
            (min, max)
        } else {
            (min - 1.0, max + 1.0)
        };
        let step = nice_step(max - min, ticks);
        Self {
            lo: (min / step).floor() * step,
            hi: (max / step).ceil() * step,
            from,
            to,
            step,
        }
    }

    fn at(&self, v: f64) -> f64 {
        self.from + (self.to - self.from) * (v - self.lo) / (self.hi - self.lo)
    }

    fn ticks(&self) -> Vec<f64> {
        let n = ((self.hi - self.lo) / self.step).round() as i64;
        (0..=n).map(|i| self.lo + i as f64 * self.step).collect()
    }

    fn label(&self, v: f64) -> String {
        if self.step >= 1.0 {
            format!("{v:.0}")
        } else if self.step >= 0.1 {
            format!("{v:.1}")
        } else {
            format!("{v:.2}")
        }
    }
}

/// Vertical grid lines and labels of a horizontal axis at `y` (below the plot).
fn x_axis(img: &mut RgbImage, axis: &Axis, top: f64, y: f64, title: &str) {
    for v in axis.ticks() {
        let x = axis.at(v);
        line(img, (x, top), (x, y), LIGHT, 0);
        line(img, (x, y), (x, y + 4.0), BLACK, 0);
        let label = axis.label(v);
        let lx = (x - text_width(&label) as f64 / 2.0).max(0.0) as u32;
        draw_text(img, lx, y as u32 + 8, &label, 1, BLACK);
    }
    line(img, (axis.from, y), (axis.to, y), BLACK, 0);
    let tx = ((axis.from + axis.to) / 2.0 - text_width(title) as f64 / 2.0).max(0.0) as u32;
    draw_text(img, tx, y as u32 + 22, title, 1, BLACK);
}

/// A break mark (two slanted strokes) on a horizontal axis at `x`, `y`.
fn break_mark(img: &mut RgbImage, x: f64, y: f64) {
    for off in [-3.0, 3.0] {
        line(
            img,
            (x + off - 3.0, y + 6.0),
            (x + off + 3.0, y - 6.0),
            BLACK,
            0,
        );
    }
}

fn cell_label(table: &Table, result: &CellResult) -> String {
    let row = &table.rows[result.cell.row].name;
    if table.columns.len() == 1 {
        row.clone()
    } else {
        format!("{row} / {}", table.columns[result.cell.column].name)
    }
}

/// Each cell's statistic: a bar to the mean, whiskers ± the sample std over the seeds,
/// and a dot per seed. The accuracy axis starts where the data do; when that is above 0
/// the axis shows a break mark and the title says where it starts.
pub fn accuracy_chart(table: &Table, results: &[CellResult]) -> RgbImage {
    let labels: Vec<String> = results.iter().map(|r| cell_label(table, r)).collect();
    let left = 16.0 + labels.iter().map(|l| text_width(l)).max().unwrap_or(0) as f64;
    let (w, row_h, top) = (left as u32 + 600, 26.0, 52.0);
    let h = (top + row_h * results.len().max(1) as f64 + 60.0) as u32;
    let values = results.iter().flat_map(|r| {
        let (mean, std) = r.mean_std();
        r.values
            .iter()
            .map(|v| v.1)
            .chain([mean - std, mean + std])
            .collect::<Vec<_>>()
    });
    let (min, max) = percent_extent(values);
    let axis = Axis::covering(min, max, left, w as f64 - 90.0, 6.0);
    let bottom = top + row_h * results.len().max(1) as f64;
    let cut = axis.lo > 0.0;
    let title = format!("{}: {} (%)", table.name, table.statistic.describe());
    let legend = format!(
        "bar: mean over seeds, whiskers: +/- sample std, dots: seeds{}",
        if cut {
            format!("; axis cut, starts at {}", axis.label(axis.lo))
        } else {
            String::new()
        }
    );
    // Wide enough for the legend line.
    let w = w.max(text_width(&legend) + 16);
    let mut img = RgbImage::from_pixel(w, h, WHITE);
    draw_text(&mut img, 8, 10, &title, 1, BLACK);
    draw_text(&mut img, 8, 24, &legend, 1, BLACK);
    x_axis(&mut img, &axis, top - 8.0, bottom, "top-1 accuracy (%)");
    if cut {
        break_mark(&mut img, axis.from + 10.0, bottom);
    }
    for (i, (r, label)) in results.iter().zip(&labels).enumerate() {
        let y = top + row_h * i as f64;
        let (mean, std) = r.mean_std();
        draw_text(&mut img, 8, y as u32 + 7, label, 1, BLACK);
        let c = colour(r.cell.row);
        rect(&mut img, (axis.from, y + 4.0), (axis.at(mean), y + 18.0), c);
        let (a, b) = (axis.at(mean - std), axis.at(mean + std));
        line(&mut img, (a, y + 11.0), (b, y + 11.0), BLACK, 0);
        for x in [a, b] {
            line(&mut img, (x, y + 5.0), (x, y + 17.0), BLACK, 0);
        }
        for (_, v) in &r.values {
            dot(&mut img, (axis.at(*v), y + 11.0), GREY);
        }
        let text = format!("{mean:.2}");
        draw_text(&mut img, axis.to as u32 + 16, y as u32 + 7, &text, 1, BLACK);
    }
    img
}

/// Each claim's paired difference (better − than, points): a dot at the mean and the 95 %
/// interval as whiskers, on an axis through 0 (green: holds, grey: not shown, red:
/// contradicted).
pub fn claims_chart(claims: &[ClaimResult]) -> RgbImage {
    let labels: Vec<String> = claims.iter().map(ClaimResult::label).collect();
    let left = 16.0 + labels.iter().map(|l| text_width(l)).max().unwrap_or(0) as f64;
    let (w, row_h, top) = (left as u32 + 600, 26.0, 40.0);
    let h = (top + row_h * claims.len().max(1) as f64 + 60.0) as u32;
    let mut img = RgbImage::from_pixel(w, h, WHITE);
    let reach = claims
        .iter()
        .flat_map(|c| [c.difference.low, c.difference.high, c.difference.mean])
        .filter(|v| v.is_finite())
        .fold(0.5f64, |m, v| m.max(v.abs()));
    let axis = Axis::covering(-reach, reach, left, w as f64 - 140.0, 8.0);
    let bottom = top + row_h * claims.len().max(1) as f64;
    draw_text(
        &mut img,
        8,
        12,
        "claims: paired difference of top-1 (points), mean and 95% t-interval over seeds",
        1,
        BLACK,
    );
    x_axis(
        &mut img,
        &axis,
        top - 8.0,
        bottom,
        "better - than (accuracy points)",
    );
    line(
        &mut img,
        (axis.at(0.0), top - 8.0),
        (axis.at(0.0), bottom),
        BLACK,
        0,
    );
    for (i, (c, label)) in claims.iter().zip(&labels).enumerate() {
        let y = top + row_h * i as f64 + 11.0;
        let d = &c.difference;
        let verdict = d.verdict();
        let col = match verdict {
            Verdict::Holds => Rgb([30, 150, 60]),
            Verdict::NotShown => Rgb([110, 110, 110]),
            Verdict::Contradicted => Rgb([210, 30, 40]),
        };
        draw_text(&mut img, 8, y as u32 - 4, label, 1, BLACK);
        if d.low.is_finite() {
            let (a, b) = (axis.at(d.low), axis.at(d.high));
            line(&mut img, (a, y), (b, y), col, 0);
            for x in [a, b] {
                line(&mut img, (x, y - 6.0), (x, y + 6.0), col, 0);
            }
        }
        if d.mean.is_finite() {
            dot(&mut img, (axis.at(d.mean), y), col);
        }
        draw_text(
            &mut img,
            w - 130,
            y as u32 - 4,
            &verdict.to_string(),
            1,
            col,
        );
    }
    img
}

/// The first column's mean test top-1 per epoch for every row (solid) and, where the runs
/// measured it, the mean training top-1 (dashed, same colour), with a legend.
pub fn curves_chart(table: &Table, results: &[CellResult]) -> RgbImage {
    let first: Vec<&CellResult> = results.iter().filter(|r| r.cell.column == 0).collect();
    let (w, h, left, top, right, bottom) = (900u32, 480u32, 60.0, 56.0, 640.0, 420.0);
    let mut img = RgbImage::from_pixel(w, h, WHITE);
    let mean_curve = |r: &CellResult, train: bool| -> Vec<f64> {
        let epochs = r.histories.iter().map(|(_, h)| h.len()).min().unwrap_or(0);
        (0..epochs)
            .map(|e| {
                let v: Vec<f64> = r
                    .histories
                    .iter()
                    .filter_map(|(_, h)| {
                        if train {
                            h[e].train_top1
                        } else {
                            Some(h[e].top1)
                        }
                    })
                    .collect();
                if v.len() == r.histories.len() {
                    v.iter().sum::<f64>() / v.len() as f64
                } else {
                    f64::NAN
                }
            })
            .collect()
    };
    let curves: Vec<(usize, Vec<f64>, Vec<f64>)> = first
        .iter()
        .map(|r| (r.cell.row, mean_curve(r, false), mean_curve(r, true)))
        .collect();
    let all = curves
        .iter()
        .flat_map(|(_, a, b)| a.iter().chain(b))
        .copied()
        .filter(|v| v.is_finite());
    let (min, max) = percent_extent(all);
    let epochs = curves.iter().map(|c| c.1.len()).max().unwrap_or(1).max(2);
    let x = Axis::whole(1.0, epochs as f64, left, right, 8.0);
    let y = Axis::covering(min, max, bottom, top, 6.0);
    let column = table.columns.first().map_or("", |c| c.name.as_str());
    let title = format!(
        "{} ({column}): top-1 per epoch, mean over seeds",
        table.name
    );
    let legend = format!(
        "solid: test set, dashed: training images{}",
        if y.lo > 0.0 {
            format!("; axis cut, starts at {}", y.label(y.lo))
        } else {
            String::new()
        }
    );
    draw_text(&mut img, 8, 8, &title, 1, BLACK);
    draw_text(&mut img, 8, 20, &legend, 1, BLACK);
    x_axis(&mut img, &x, top, bottom, "epoch");
    for v in y.ticks() {
        let py = y.at(v);
        line(&mut img, (left, py), (right, py), LIGHT, 0);
        line(&mut img, (left - 4.0, py), (left, py), BLACK, 0);
        let label = y.label(v);
        draw_text(
            &mut img,
            (left - 8.0) as u32 - text_width(&label),
            py as u32 - 3,
            &label,
            1,
            BLACK,
        );
    }
    line(&mut img, (left, top), (left, bottom), BLACK, 0);
    if y.lo > 0.0 {
        line(
            &mut img,
            (left - 6.0, bottom - 8.0),
            (left + 6.0, bottom - 14.0),
            BLACK,
            0,
        );
    }
    draw_text(&mut img, 8, (top - 20.0) as u32, "top-1 (%)", 1, BLACK);
    for (i, (row, test, train)) in curves.iter().enumerate() {
        let c = colour(*row);
        for (series, dash) in [(test, 0), (train, 4)] {
            // Epochs without an evaluation (NaN) are skipped: the line joins the others.
            let points: Vec<(f64, f64)> = (0..series.len())
                .filter(|&e| series[e].is_finite())
                .map(|e| (x.at(e as f64 + 1.0), y.at(series[e])))
                .collect();
            for pair in points.windows(2) {
                line(&mut img, pair[0], pair[1], c, dash);
            }
            for &p in &points {
                dot(&mut img, p, c);
            }
        }
        let ly = top + 16.0 * i as f64;
        line(
            &mut img,
            (right + 20.0, ly + 4.0),
            (right + 44.0, ly + 4.0),
            c,
            0,
        );
        draw_text(
            &mut img,
            right as u32 + 50,
            ly as u32,
            &table.rows[*row].name,
            1,
            BLACK,
        );
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn axes_by_hand() {
        // 4.4 points over ~6 ticks: raw step 0.73 → 1; 79.3–83.7 widens to 79–84 (a cut axis).
        let a = Axis::covering(79.3, 83.7, 0.0, 500.0, 6.0);
        assert_eq!((a.lo, a.hi, a.step), (79.0, 84.0, 1.0));
        assert_eq!(a.ticks(), [79.0, 80.0, 81.0, 82.0, 83.0, 84.0]);
        assert_eq!(a.at(81.5), 250.0);
        // Claims: ±3.2 over ~8 ticks → step 1 (raw 0.8), −4…4.
        let c = Axis::covering(-3.2, 3.2, 0.0, 80.0, 8.0);
        assert_eq!((c.lo, c.hi, c.step), (-4.0, 4.0, 1.0));
        assert_eq!(c.label(-2.0), "-2");
        // Two epochs: whole numbers, not 1.2, 1.4, …
        let e = Axis::whole(1.0, 2.0, 0.0, 10.0, 8.0);
        assert_eq!((e.lo, e.hi, e.step), (1.0, 2.0, 1.0));
        assert!((nice_step(0.3, 6.0) - 0.05).abs() < 1e-12);
        assert_eq!(nice_step(30.0, 6.0), 5.0);
        // NaN (epochs not evaluated) is skipped; nothing at all gives the whole range.
        assert_eq!(
            percent_extent([f64::NAN, 82.0, 80.5].into_iter()),
            (80.5, 82.0)
        );
        assert_eq!(percent_extent(std::iter::empty()), (0.0, 100.0));
    }
}
