//! [`accuracy_chart`]: each cell's statistic as a bar with ± sample-std whiskers.

use image::RgbImage;
use plotters::prelude::*;

use crate::tables::{CellResult, Table};

use super::style::{
    Header, NEUTRAL, PAPER_FILL, RowFrame, Swatch, break_mark, capitalised, colour, interval,
    left_text, number, percent_range, row_y, seed_dot,
};
use super::text::{PAD, PlotError, TEXT_SIZE, font, load_font, widest};

/// One bar of [`accuracy_chart`], in the table's unit (top-1 accuracy, or top-1 error
/// when the table reports errors).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Bar {
    /// The row name ("row / column" when the table has several columns).
    pub(super) label: String,
    /// The table row (it picks the colour).
    row: usize,
    /// Mean over the seeds.
    pub(super) mean: f64,
    /// Sample standard deviation over the seeds (0 for one seed): the report's "±".
    pub(super) std: f64,
    /// Each seed's statistic.
    pub(super) seeds: Vec<f64>,
    /// The paper's number, when the table has one.
    pub(super) paper: Option<f64>,
}

/// The bars of [`accuracy_chart`]: one per cell run, in the table's unit.
pub(super) fn bars(table: &Table, results: &[CellResult]) -> Vec<Bar> {
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
    let texts: Vec<String> = bars
        .iter()
        .flat_map(|b| [Some(value_text(b)), b.paper.map(paper_text)])
        .flatten()
        .collect();
    let labels: Vec<String> = bars.iter().map(|b| b.label.clone()).collect();
    let frame = RowFrame {
        header,
        legend: &legend,
        labels: &labels,
        row_h: if any_paper { 46 } else { 34 },
        plot_w: 620,
        right_w: widest(texts.iter().map(String::as_str), TEXT_SIZE)? + 2 * PAD,
        x_labels: 8,
        x_desc: unit,
    };
    frame.draw(lo..hi, |root, chart| {
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
