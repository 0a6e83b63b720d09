//! [`claims_chart`]: the claims' paired 95 % intervals around 0.

use image::RgbImage;
use plotters::prelude::*;

use crate::claims::Verdict;
use crate::tables::{ClaimResult, Table};

use super::style::{Header, RowFrame, Swatch, interval, left_text, nice_step, number, row_y};
use super::text::{PAD, PlotError, TEXT_SIZE, font, load_font, widest};

/// The colour of a verdict: green holds, grey not shown, red contradicted.
pub(super) fn verdict_colour(verdict: Verdict) -> RGBColor {
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
    let interval_w = widest(intervals.iter().map(String::as_str), TEXT_SIZE)?;
    let verdict_w = widest(["holds", "not shown", "contradicted"], TEXT_SIZE)?;
    let frame = RowFrame {
        header,
        legend: &legend,
        labels: &labels,
        row_h: 34,
        plot_w: 560,
        right_w: PAD + interval_w + 16 + verdict_w + PAD,
        x_labels: 9,
        x_desc: "better − than (accuracy points)",
    };
    frame.draw(-reach..reach, |root, chart| {
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
