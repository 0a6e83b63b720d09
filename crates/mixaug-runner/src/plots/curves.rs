//! [`curves_chart`]: the per-epoch training loss and top-1 curves.

use std::error::Error;

use image::RgbImage;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use crate::tables::{CellResult, Table};

use super::style::{
    GRID, Header, SWATCH_W, Swatch, Ticked, colour, draw_legend, epoch_ticks, interval, left_text,
    legend_width, padded_range, percent_range, tick_label,
};
use super::text::{Canvas, PAD, PlotError, TEXT_SIZE, TICK_SIZE, font, load_font, render, widest};

/// Mean and sample std over the seeds of one metric per epoch: `None` at an epoch where a
/// seed lacks it (not evaluated that epoch, or not measured at all).
pub(super) fn per_epoch(
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
pub(super) fn points(series: &[Option<(f64, f64)>]) -> Vec<(f64, f64, f64)> {
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
