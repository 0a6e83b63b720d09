use std::path::Path;

use image::RgbImage;
use plotters::prelude::RGBColor;

use super::accuracy::bars;
use super::claims::verdict_colour;
use super::curves::{per_epoch, points};
use super::style::{
    Header, PAPER_FILL, epoch_ticks, nice_step, number, padded_range, percent_range, tick_label,
};
use super::text::read_font;
use super::*;

use crate::claims::{Claim, PairedDifference, Verdict};
use crate::tables::{Cell, CellResult, ClaimResult, Table};
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
    assert!(below(&single, holds) == 0 && below(&single, verdict_colour(Verdict::NotShown)) > 0);
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
