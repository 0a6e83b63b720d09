//! `cargo xtask reproduce`: the quick table on Fashion-MNIST, its report and plots.
//!
//! Every method of the table trains the same narrow ResNet-18 (CIFAR stem, base width 8)
//! on the first 4,000 Fashion-MNIST training images for 3 epochs with each seed, and is
//! evaluated on the first 1,500 test images. The statistic is the clean top-1 accuracy of
//! the last epoch, as mean ± sample standard deviation over the seeds.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::Result;
use burn::prelude::*;
use image::{Rgb, RgbImage};
use mixaug_data::Normalize;
use mixaug_loss::SumixConfig;
use mixaug_maps::PixelNormalization;
use mixaug_masks::MixConfig;
use mixaug_models::Stem;

use crate::experiment::{
    DataConfig, Experiment, ModelConfig, RunOptions, Statistic, mean_std, run_experiment,
};
use crate::files::{git_commit, write_atomically};
use crate::render::{draw_text, save_png};
use crate::train::{EpochMetrics, LossKind, Schedule, TrainOptions};

/// Fashion-MNIST's pixel mean and standard deviation (of x/255, training set).
const FASHION: Normalize = Normalize {
    mean: [0.286; 3],
    std: [0.353; 3],
};

/// What the quick table runs.
#[derive(Debug, Clone, PartialEq)]
pub struct QuickOptions {
    /// Folder holding Fashion-MNIST (default: `$MIXAUG_DATA`, `./data`, Debian's package).
    pub data_dir: Option<PathBuf>,
    /// Epochs per run.
    pub epochs: usize,
    /// Seeds per method.
    pub seeds: Vec<u64>,
    /// Training images (the first n).
    pub train_subset: usize,
    /// Test images (the first n).
    pub eval_subset: usize,
}

impl Default for QuickOptions {
    fn default() -> Self {
        Self {
            data_dir: None,
            epochs: 3,
            seeds: vec![0, 1],
            train_subset: 4000,
            eval_subset: 1500,
        }
    }
}

/// The experiments of the quick table, one per method.
pub fn quick_experiments(options: &QuickOptions) -> Vec<Experiment> {
    let pixels = PixelNormalization {
        mean: FASHION.mean,
        std: FASHION.std,
    };
    let method = |name: &str| MixConfig::from_name(name).expect("a known method");
    let saliencymix = match method("saliencymix") {
        MixConfig::SaliencyMix(c) => MixConfig::SaliencyMix(c.with_normalization(pixels)),
        other => other,
    };
    let table: Vec<(&str, MixConfig, LossKind)> = vec![
        ("vanilla", MixConfig::None, LossKind::SoftCe),
        ("mixup", method("mixup"), LossKind::SoftCe),
        ("cutmix", method("cutmix"), LossKind::SoftCe),
        (
            "cutmix+sumix",
            method("cutmix"),
            LossKind::Sumix(SumixConfig::new()),
        ),
        ("saliencymix", saliencymix, LossKind::SoftCe),
        ("fmix", method("fmix"), LossKind::SoftCe),
        ("resizemix", method("resizemix"), LossKind::SoftCe),
        ("snapmix", method("snapmix"), LossKind::PairCe),
        ("ricap", method("ricap"), LossKind::SoftCe),
    ];
    table
        .into_iter()
        .map(|(name, mixer, loss)| Experiment {
            name: name.into(),
            seeds: options.seeds.clone(),
            statistic: Statistic::Last,
            data: DataConfig {
                dataset: "fashion-mnist".into(),
                dir: options.data_dir.clone(),
                train_subset: Some(options.train_subset),
                eval_subset: Some(options.eval_subset),
                batch_size: 64,
                eval_batch_size: None,
                train_transforms: Default::default(),
                eval_transforms: Default::default(),
                normalize: FASHION,
            },
            model: ModelConfig {
                arch: "resnet18".into(),
                stem: Stem::Cifar,
                base_width: 8,
                zero_init_residual: false,
                dropout: 0.0,
                num_classes: 10,
                pretrained: None,
            },
            mixer,
            train: TrainOptions {
                epochs: options.epochs,
                lr: 0.1,
                momentum: 0.9,
                nesterov: true,
                weight_decay: 5e-4,
                schedule: Schedule::Cosine,
                warmup_epochs: 0,
                loss,
                smoothing: 0.0,
                seed: 0,
                new_layers_lr: None,
                mid_level_head: false,
            },
            teacher: None,
        })
        .collect()
}

/// One method's runs.
#[derive(Debug, Clone, PartialEq)]
pub struct MethodRuns {
    /// The method's label.
    pub name: String,
    /// Metrics per epoch, per seed.
    pub seeds: Vec<(u64, Vec<EpochMetrics>)>,
    /// The config hash of the method's experiment.
    pub hash: String,
}

/// One row of the table: the last epoch's top-1 over the seeds.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    /// The method.
    pub name: String,
    /// Mean over the seeds, percent.
    pub mean: f64,
    /// Sample standard deviation over the seeds (0 for one seed), percent.
    pub std: f64,
    /// Number of seeds.
    pub n: usize,
    /// The config hash of the method's experiment.
    pub hash: String,
}

/// The table's rows.
pub fn summarise(runs: &[MethodRuns]) -> Vec<Row> {
    runs.iter()
        .map(|m| {
            let finals: Vec<f64> = m.seeds.iter().map(|(_, h)| Statistic::Last.of(h)).collect();
            let n = finals.len();
            let (mean, std) = mean_std(&finals);
            Row {
                name: m.name.clone(),
                hash: m.hash.clone(),
                mean,
                std,
                n,
            }
        })
        .collect()
}

/// The table as Markdown.
pub fn markdown_table(rows: &[Row]) -> String {
    let mut s = String::from("| method | top-1 (%) | seeds | config hash |\n|---|---|---|---|\n");
    for r in rows {
        let _ = writeln!(
            s,
            "| {} | {:.2} ± {:.2} | {} | `{}` |",
            r.name, r.mean, r.std, r.n, r.hash
        );
    }
    s
}

/// Runs the quick table into `out` (one run folder per method, `report.md`,
/// `results.csv`, `curves.png`, `table.png`) and returns its rows.
pub fn run_quick_table(
    options: &QuickOptions,
    out: &Path,
    device: &Device,
    run: &RunOptions,
) -> Result<Vec<Row>> {
    let start = Instant::now();
    let experiments = quick_experiments(options);
    let mut runs = Vec::new();
    for (i, experiment) in experiments.iter().enumerate() {
        if !run.quiet {
            println!(
                "[{}/{}] {} ({:.0} s elapsed)",
                i + 1,
                experiments.len(),
                experiment.name,
                start.elapsed().as_secs_f64()
            );
        }
        let seeds = run_experiment(experiment, &out.join(&experiment.name), device, run)?;
        runs.push(MethodRuns {
            name: experiment.name.clone(),
            seeds,
            hash: experiment.hash()?,
        });
    }
    let rows = summarise(&runs);
    write_report(out, &runs, &rows, options, start.elapsed().as_secs_f64())?;
    Ok(rows)
}

fn write_report(
    out: &Path,
    runs: &[MethodRuns],
    rows: &[Row],
    options: &QuickOptions,
    seconds: f64,
) -> Result<()> {
    let mut csv = String::from("method,seed,epoch,mix_loss,top1,top5\n");
    for m in runs {
        for (seed, history) in &m.seeds {
            for e in history {
                let _ = writeln!(
                    csv,
                    "{},{seed},{},{},{},{}",
                    m.name, e.epoch, e.mix_loss, e.top1, e.top5
                );
            }
        }
    }
    write_atomically(&out.join("results.csv"), &csv)?;
    let commit = git_commit();
    let report = format!(
        "# Quick table: Fashion-MNIST\n\n\
         Narrow ResNet-18 (CIFAR stem, base width 8), first {} training and {} test images, \
         {} epochs, batch 64, SGD (Nesterov, momentum 0.9, wd 5e-4), lr 0.1 cosine; seeds {:?}.\n\
         Statistic: clean top-1 of the last epoch, mean ± sample std over the seeds.\n\n{}\n\
         ![accuracy per epoch](curves.png)\n\n![final top-1](table.png)\n\n\
         Wall time {:.0} s; git commit {commit}. Per-epoch numbers: `results.csv`; each method's \
         run folder holds its config, metrics and checkpoints.\n",
        options.train_subset,
        options.eval_subset,
        options.epochs,
        options.seeds,
        markdown_table(rows),
        seconds
    );
    write_atomically(&out.join("report.md"), &report)?;
    save_png(&curves_plot(runs), &out.join("curves.png"))?;
    save_png(&bar_chart(rows), &out.join("table.png"))?;
    Ok(())
}

const PALETTE: [[u8; 3]; 9] = [
    [230, 25, 75],
    [60, 180, 75],
    [0, 130, 200],
    [245, 130, 48],
    [145, 30, 180],
    [70, 240, 240],
    [240, 50, 230],
    [128, 128, 0],
    [0, 0, 128],
];

fn line(img: &mut RgbImage, (x0, y0): (f64, f64), (x1, y1): (f64, f64), color: Rgb<u8>) {
    let steps = ((x1 - x0).abs().max((y1 - y0).abs()).ceil() as usize).max(1);
    for s in 0..=steps {
        let t = s as f64 / steps as f64;
        let (x, y) = (x0 + t * (x1 - x0), y0 + t * (y1 - y0));
        for (dx, dy) in [(0, 0), (1, 0), (0, 1)] {
            let (px, py) = (x as i64 + dx, y as i64 + dy);
            if px >= 0 && py >= 0 && (px as u32) < img.width() && (py as u32) < img.height() {
                img.put_pixel(px as u32, py as u32, color);
            }
        }
    }
}

/// Mean clean top-1 per epoch of every method (one line each), with a legend.
pub fn curves_plot(runs: &[MethodRuns]) -> RgbImage {
    let (w, h, left, top, plot_w, plot_h) = (720u32, 420u32, 50.0, 30.0, 480.0, 340.0);
    let mut img = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    let black = Rgb([0, 0, 0]);
    let means: Vec<Vec<f64>> = runs
        .iter()
        .map(|m| {
            let epochs = m.seeds.iter().map(|(_, h)| h.len()).min().unwrap_or(0);
            (0..epochs)
                .map(|e| m.seeds.iter().map(|(_, h)| h[e].top1).sum::<f64>() / m.seeds.len() as f64)
                .collect()
        })
        .collect();
    let all: Vec<f64> = means.iter().flatten().copied().collect();
    let lo = all
        .iter()
        .copied()
        .fold(f64::INFINITY, f64::min)
        .floor()
        .min(99.0);
    let hi = all
        .iter()
        .copied()
        .fold(f64::NEG_INFINITY, f64::max)
        .ceil()
        .max(lo + 1.0);
    let epochs = means.iter().map(Vec::len).max().unwrap_or(1).max(2);
    let at = |e: usize, v: f64| {
        (
            left + plot_w * e as f64 / (epochs - 1) as f64,
            top + plot_h * (1.0 - (v - lo) / (hi - lo)),
        )
    };
    line(&mut img, (left, top), (left, top + plot_h), black);
    line(
        &mut img,
        (left, top + plot_h),
        (left + plot_w, top + plot_h),
        black,
    );
    draw_text(
        &mut img,
        4,
        8,
        &format!("clean top-1 (%) per epoch, {lo:.0}-{hi:.0}"),
        1,
        black,
    );
    draw_text(
        &mut img,
        left as u32,
        (top + plot_h) as u32 + 8,
        &format!("epoch 1 .. {epochs}"),
        1,
        black,
    );
    for (i, (m, series)) in runs.iter().zip(&means).enumerate() {
        let color = Rgb(PALETTE[i % PALETTE.len()]);
        for e in 1..series.len() {
            line(&mut img, at(e - 1, series[e - 1]), at(e, series[e]), color);
        }
        let y = top as u32 + 14 * i as u32;
        line(
            &mut img,
            (left + plot_w + 20.0, y as f64 + 4.0),
            (left + plot_w + 40.0, y as f64 + 4.0),
            color,
        );
        draw_text(&mut img, (left + plot_w) as u32 + 46, y, &m.name, 1, black);
    }
    img
}

/// The table as bars (mean) with whiskers (± std).
pub fn bar_chart(rows: &[Row]) -> RgbImage {
    let (w, h) = (720u32, 60 + 24 * rows.len() as u32);
    let mut img = RgbImage::from_pixel(w, h, Rgb([255, 255, 255]));
    let black = Rgb([0, 0, 0]);
    let lo = rows
        .iter()
        .map(|r| r.mean - r.std)
        .fold(f64::INFINITY, f64::min)
        .floor()
        .clamp(0.0, 99.0);
    let hi = rows
        .iter()
        .map(|r| r.mean + r.std)
        .fold(f64::NEG_INFINITY, f64::max)
        .ceil()
        .max(lo + 1.0);
    let (left, width) = (130.0, 480.0);
    let x = |v: f64| left + width * (v - lo) / (hi - lo);
    draw_text(
        &mut img,
        4,
        8,
        &format!("final clean top-1 (%), axis {lo:.0}-{hi:.0}"),
        1,
        black,
    );
    for (i, r) in rows.iter().enumerate() {
        let y = 30 + 24 * i as u32;
        draw_text(&mut img, 4, y + 4, &r.name, 1, black);
        let color = Rgb(PALETTE[i % PALETTE.len()]);
        for yy in y..y + 16 {
            line(&mut img, (left, yy as f64), (x(r.mean), yy as f64), color);
        }
        line(
            &mut img,
            (x(r.mean - r.std), y as f64 + 8.0),
            (x(r.mean + r.std), y as f64 + 8.0),
            black,
        );
        draw_text(
            &mut img,
            (left + width) as u32 + 10,
            y + 4,
            &format!("{:.2} +/- {:.2}", r.mean, r.std), // the bitmap font has no ±
            1,
            black,
        );
    }
    img
}

#[cfg(test)]
mod tests {
    use super::*;

    fn metrics(epoch: usize, top1: f64) -> EpochMetrics {
        EpochMetrics {
            epoch,
            mix_loss: 1.0,
            lr: 0.1,
            top1,
            top5: 99.0,
            images_per_second: 1.0,
        }
    }

    #[test]
    fn rows_are_last_epoch_mean_and_sample_std() {
        // Seeds end at 80 and 84: mean 82, sample std √((4 + 4)/1) = 2.828…
        let runs = vec![MethodRuns {
            name: "cutmix".into(),
            seeds: vec![
                (0, vec![metrics(1, 70.0), metrics(2, 80.0)]),
                (1, vec![metrics(1, 71.0), metrics(2, 84.0)]),
            ],
            hash: "0123456789ab".into(),
        }];
        let rows = summarise(&runs);
        assert_eq!(rows[0].n, 2);
        assert!((rows[0].mean - 82.0).abs() < 1e-12);
        assert!((rows[0].std - 8f64.sqrt()).abs() < 1e-12);
        assert_eq!(
            markdown_table(&rows),
            "| method | top-1 (%) | seeds | config hash |\n|---|---|---|---|\n| cutmix | 82.00 ± 2.83 | 2 | `0123456789ab` |\n"
        );
        let curves = curves_plot(&runs);
        assert_eq!(curves.dimensions(), (720, 420));
        assert_eq!(bar_chart(&rows).dimensions(), (720, 84));
    }

    #[test]
    fn the_quick_table_has_its_nine_methods_all_valid() {
        let experiments = quick_experiments(&QuickOptions::default());
        let names: Vec<&str> = experiments.iter().map(|e| e.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "vanilla",
                "mixup",
                "cutmix",
                "cutmix+sumix",
                "saliencymix",
                "fmix",
                "resizemix",
                "snapmix",
                "ricap"
            ]
        );
        for e in &experiments {
            e.validate().unwrap();
            assert_eq!(e.seeds, vec![0, 1]);
        }
    }
}
