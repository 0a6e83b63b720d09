//! The paper tables of `configs/tables/`: every cell parses and validates, cells merge as
//! documented, overrides scale schedules, reports mark cells outside the tolerance, and
//! the statistics of the papers' protocols are computed as stated.

use std::path::PathBuf;

use mixaug_runner::experiment::Statistic;
use mixaug_runner::tables::{
    Cell, CellResult, Table, TableOverrides, load_tables, report_markdown,
};
use mixaug_runner::train::{EpochMetrics, LossKind, Schedule};

fn tables_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../configs/tables")
}

fn epochs(top1: &[f64]) -> Vec<EpochMetrics> {
    top1.iter()
        .enumerate()
        .map(|(i, &t)| EpochMetrics {
            epoch: i + 1,
            mix_loss: 1.0,
            lr: 0.1,
            top1: t,
            top5: 100.0,
            train_top1: None,
            ratio: None,
            images_per_second: 1.0,
        })
        .collect()
}

#[test]
fn statistics_by_hand() {
    let h = epochs(&[10.0, 50.0, 30.0, 40.0]);
    assert_eq!(Statistic::Last.of(&h), 40.0);
    assert_eq!(Statistic::Best.of(&h), 50.0);
    // Last 3 epochs: 50, 30, 40 → median 40, best 50; last 2: 30, 40 → median 35.
    assert_eq!(Statistic::MedianLast { k: 3 }.of(&h), 40.0);
    assert_eq!(Statistic::MedianLast { k: 2 }.of(&h), 35.0);
    assert_eq!(Statistic::BestLast { k: 2 }.of(&h), 40.0);
    // k beyond the run uses every epoch.
    assert_eq!(Statistic::MedianLast { k: 10 }.of(&h), 35.0);
    assert!(Statistic::Last.of(&[]).is_nan());
}

#[test]
fn every_table_parses_with_its_cells() {
    let tables = load_tables(&tables_dir()).unwrap();
    let names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "quick",
            "quick-sumix",
            "saliencymix-cifar",
            "snapmix-baseline-plus",
            "snapmix-table1",
            "sumix-cifar100",
            "sumix-fine-grained",
            "sumix-imagenet",
            "sumix-tiny-imagenet"
        ]
    );
    let cells: usize = tables.iter().map(|t| t.cells().unwrap().len()).sum();
    // 9×1 (quick) + 6×1 (quick-sumix) + 12×4 + 6×2 + 12×5 + 5×8 + 4×8 + 1×8 + 2×8 (saliencymix-cifar: 6 columns
    // with and 6 without traditional augmentation, SaliencyMix Table 1 per
    // shared/seeds/001_a5bdaefaffc9e6ee.txt)
    assert_eq!(cells, 9 + 6 + 48 + 12 + 60 + 40 + 32 + 8 + 16);

    let sumix = tables.iter().find(|t| t.name == "sumix-cifar100").unwrap();
    let cell = sumix.cell(4, 2).unwrap(); // CutMix + SUMix on WRN-28-8
    assert_eq!(cell.experiment.model.arch, "wrn28_8");
    assert!(!cell.experiment.model.zero_init_residual);
    assert_eq!(cell.experiment.train.lr, 0.03);
    assert_eq!(cell.experiment.train.epochs, 400);
    assert!(matches!(cell.experiment.train.loss, LossKind::Sumix(c) if c.gamma == 0.5));
    assert_eq!(cell.paper, Some(84.56));
    assert_eq!(cell.experiment.statistic, Statistic::MedianLast { k: 10 });
    // CutMix on DeiT-S: openmixup's α = 2 for its ViT baselines, the ViT recipe, the best
    // of the last 10 epochs, the paper's 74.12 (PAPER-TABLES.md §1.1).
    let deit = sumix.cell(0, 3).unwrap();
    assert_eq!(deit.experiment.model.arch, "deit_small_patch16_224");
    assert_eq!(deit.experiment.model.drop_path, 0.1);
    assert_eq!(deit.experiment.statistic, Statistic::BestLast { k: 10 });
    assert_eq!(
        (deit.experiment.train.lr, deit.experiment.train.grad_clip),
        (1e-3, Some(5.0))
    );
    assert!(format!("{:?}", deit.experiment.mixer).contains("alpha: 2.0"));
    assert_eq!(deit.paper, Some(74.12));
    // Swin-T's SaliencyMix + SUMix number (84.71) is a likely typo: no paper number.
    assert_eq!(sumix.cell(5, 4).unwrap().paper, None);

    let saliency = tables
        .iter()
        .find(|t| t.name == "saliencymix-cifar")
        .unwrap();
    let cutout_c100 = saliency.cell(1, 1).unwrap();
    let text = toml::to_string(&cutout_c100.experiment.mixer).unwrap();
    assert!(text.contains("side = 8"), "{text}");
    assert_eq!(cutout_c100.experiment.model.num_classes, 100);
    // CutMix, ResNet-18 CIFAR-10+: 3.78 (SaliencyMix Table 1, shared/seeds/001_a5bdaefaffc9e6ee.txt).
    assert_eq!(saliency.cell(2, 0).unwrap().paper, Some(3.78));
    let no_aug = saliency.cell(0, 6).unwrap(); // Baseline, ResNet-18 CIFAR-10 without augmentation
    assert!(no_aug.experiment.data.train_transforms.steps.is_empty());
    assert_eq!(no_aug.paper, Some(10.63));
    assert_eq!(no_aug.experiment.seeds, [0, 1, 2, 3, 4]); // "average of five runs"

    let snap = tables.iter().find(|t| t.name == "snapmix-table1").unwrap();
    let cell = snap.cell(4, 11).unwrap(); // SnapMix, Aircraft R-101
    assert_eq!(cell.paper, Some(93.74));
    // The paper's 92.80, not the README's typo 92.08 (shared/seeds/001_a5bdaefaffc9e6ee.txt, Table 2).
    assert_eq!(snap.cell(4, 10).unwrap().paper, Some(92.80));
    assert_eq!(cell.experiment.train.new_layers_lr, Some(0.01));
    assert_eq!(cell.experiment.model.num_classes, 100);
}

fn inline_table(row_set: &str, paper: &str) -> String {
    format!(
        r#"
name = "t"
title = "T"
source = "hand"
statistic = {{ kind = "last" }}
tolerance = 1.0

[base.data]
dataset = "fashion-mnist"
batch_size = 8
normalize = {{ mean = [0.5, 0.5, 0.5], std = [0.5, 0.5, 0.5] }}

[base.model]
arch = "resnet18"
num_classes = 10

[base.train]
epochs = 20
lr = 0.1
momentum = 0.9
nesterov = false
weight_decay = 0.0
schedule = {{ kind = "multi_step", milestones = [10, 15], gamma = 0.1 }}
warmup_epochs = 2
loss = {{ kind = "soft_ce" }}
smoothing = 0.0
seed = 0

[[columns]]
name = "A"
set = {{ model = {{ base_width = 8 }}, train = {{ lr = 0.2 }} }}

[[rows]]
name = "Mix"
set = {row_set}
paper = {paper}
"#
    )
}

#[test]
fn cells_merge_and_errors_name_the_cell() {
    let table = Table::from_toml(&inline_table(
        r#"{ mixer = { method = "mixup", alpha = 0.5 }, train = { lr = 0.3 } }"#,
        r#"{ "A" = 80.0 }"#,
    ))
    .unwrap();
    let cell = table.cell(0, 0).unwrap();
    // Column over base, row over column; untouched keys kept.
    assert_eq!(cell.experiment.model.base_width, 8);
    assert_eq!(cell.experiment.train.lr, 0.3);
    assert_eq!(cell.experiment.train.epochs, 20);
    assert_eq!(cell.experiment.name, "mix/a");

    let typo = Table::from_toml(&inline_table(
        r#"{ mixer = { method = "mixup", alfa = 0.5 } }"#,
        "{}",
    ))
    .unwrap_err();
    let text = format!("{typo:#}");
    assert!(
        text.contains("row `Mix`") && text.contains("alfa"),
        "{text}"
    );
    let column = Table::from_toml(&inline_table(
        r#"{ mixer = { method = "none" } }"#,
        r#"{ "B" = 1.0 }"#,
    ))
    .unwrap_err();
    assert!(format!("{column:#}").contains("`B`, which is not a column"));

    // --epochs 5 scales milestones (10, 15 of 20 → 3, 4) and warm-up (2 → 1); --seeds 3.
    let overrides = TableOverrides {
        data: Some(PathBuf::from("/data")),
        epochs: Some(5),
        seeds: Some(3),
        eval_subset: None,
    };
    let e = overrides.apply(cell.experiment.clone()).unwrap();
    assert_eq!(e.train.epochs, 5);
    assert_eq!(e.train.warmup_epochs, 1);
    assert_eq!(
        e.train.schedule,
        Schedule::MultiStep {
            milestones: vec![3, 4],
            gamma: 0.1
        }
    );
    assert_eq!(e.seeds, vec![0, 1, 2]);
    assert_eq!(e.data.dir, Some(PathBuf::from("/data")));
}

#[test]
fn reports_put_the_paper_beside_ours_and_mark_misses() {
    let table = Table::from_toml(&inline_table(
        r#"{ mixer = { method = "none" } }"#,
        r#"{ "A" = 80.0 }"#,
    ))
    .unwrap();
    let cell: Cell = table.cell(0, 0).unwrap();
    let result = |values: Vec<(u64, f64)>| CellResult {
        cell: cell.clone(),
        values,
        histories: Vec::new(),
        hash: "abc123".into(),
    };
    // Mean 79.5 (std √0.5 = 0.71): within 1 point of 80 → no mark.
    let near = report_markdown(&table, &[result(vec![(0, 79.0), (1, 80.0)])], "c0ffee");
    assert!(
        near.contains("| Mix | 79.50 ± 0.71 (n=2) [80.00] |"),
        "{near}"
    );
    let row = near.lines().find(|l| l.starts_with("| Mix |")).unwrap();
    assert!(!row.contains('⚠'), "{row}");
    assert!(
        near.contains("`abc123`")
            && near.contains("c0ffee")
            && near.contains("top-1 of the last epoch")
    );
    // 78.5 is 1.5 points off → marked.
    let far = report_markdown(&table, &[result(vec![(0, 78.5)])], "c0ffee");
    assert!(far.contains("78.50 ± 0.00 (n=1) **⚠** [80.00]"), "{far}");
    // Nothing run yet.
    assert!(report_markdown(&table, &[], "x").contains("not run [80.00]"));
}

fn with_claims(claims: &str) -> String {
    format!(
        "{}\n[[rows]]\nname = \"Plain\"\nset = {{ mixer = {{ method = \"none\" }} }}\n{claims}",
        inline_table(r#"{ mixer = { method = "mixup" } }"#, "{}")
    )
}

fn history(test: f64, train: f64) -> Vec<EpochMetrics> {
    let mut h = epochs(&[test - 5.0, test]);
    for m in &mut h {
        m.train_top1 = Some(train);
    }
    h
}

#[test]
fn claims_are_tested_on_paired_seeds_and_reported_with_the_train_gap() {
    let table = Table::from_toml(&with_claims(
        "[[claims]]\nbetter = \"Mix\"\nthan = \"Plain\"\nsource = \"hand\"\n",
    ))
    .unwrap();
    // Mix ends at 82.0, 82.2, 81.8 and Plain at 80 with every seed: differences 2.0, 2.2,
    // 1.8, mean +2.00, sd 0.2, half-width t(0.975, 2)·0.2/√3 = 4.303·0.11547 = 0.4969.
    let run = |row: usize, finals: [f64; 3], train: f64| {
        let histories = (0..3u64)
            .map(|s| (s, history(finals[s as usize], train)))
            .collect();
        CellResult::new(table.cell(row, 0).unwrap(), histories).unwrap()
    };
    let results = [run(0, [82.0, 82.2, 81.8], 95.0), run(1, [80.0; 3], 100.0)];
    let report = report_markdown(&table, &results, "c0ffee");
    assert!(
        report.contains("| Mix ≥ Plain | A | hand | 3 | +2.00 | [+1.50, +2.50] | **holds** |"),
        "{report}"
    );
    // Plain's last epoch: train 100, test 80 → gap +20.00.
    assert!(report.contains("| 100.00 | +20.00 |"), "{report}");
    // No paper numbers in this table: no brackets beside ours.
    assert!(
        report.contains("| Plain | 80.00 ± 0.00 (n=3) |\n"),
        "{report}"
    );
    // The other way round the same seeds contradict the claim.
    let reversed = Table::from_toml(&with_claims(
        "[[claims]]\nbetter = \"Plain\"\nthan = \"Mix\"\nsource = \"hand\"\n",
    ))
    .unwrap();
    let report = report_markdown(&reversed, &results, "c0ffee");
    assert!(
        report.contains("[-2.50, -1.50] | *contradicted* |"),
        "{report}"
    );

    // A claim must name rows (and columns) of the table.
    let bad = Table::from_toml(&with_claims(
        "[[claims]]\nbetter = \"Mixx\"\nthan = \"Plain\"\nsource = \"hand\"\n",
    ))
    .unwrap_err();
    assert!(
        format!("{bad:#}").contains("the row `Mixx`, which is not a row"),
        "{bad:#}"
    );
    let bad = Table::from_toml(&with_claims(
        "[[claims]]\nbetter = \"Mix\"\nthan = \"Plain\"\ncolumn = \"Z\"\nsource = \"hand\"\n",
    ))
    .unwrap_err();
    assert!(format!("{bad:#}").contains("the column `Z`"), "{bad:#}");
}

#[test]
fn the_quick_table_tests_the_papers_claims_over_an_overfitting_baseline() {
    let tables = load_tables(&tables_dir()).unwrap();
    let quick = tables.iter().find(|t| t.name == "quick").unwrap();
    let pairs: Vec<(&str, &str)> = quick
        .claims
        .iter()
        .map(|c| (c.better.as_str(), c.than.as_str()))
        .collect();
    // Issue 17: (a) each method ≥ vanilla, (b) SUMix over its base, (c) SnapMix ≥ CutMix,
    // (d) SaliencyMix ≥ CutMix.
    for claim in [
        ("Mixup", "Vanilla"),
        ("CutMix", "Vanilla"),
        ("SaliencyMix", "Vanilla"),
        ("FMix", "Vanilla"),
        ("ResizeMix", "Vanilla"),
        ("RICAP", "Vanilla"),
        ("CutMix+SUMix", "CutMix"),
        ("SnapMix", "CutMix"),
        ("SaliencyMix", "CutMix"),
    ] {
        assert!(pairs.contains(&claim), "{claim:?} missing from {pairs:?}");
    }
    for cell in quick.cells().unwrap() {
        let e = &cell.experiment;
        // Paired seeds (at least 3) and the training accuracy measured in every cell.
        assert!(e.seeds.len() >= 3, "{}", e.name);
        assert_eq!(e.seeds, quick.cell(0, 0).unwrap().experiment.seeds);
        assert!(e.data.eval_train_subset.is_some(), "{}", e.name);
    }
}

#[test]
fn a_column_may_report_its_own_statistic_and_smoke_every_row() {
    // Two rows; column B (a ViT-like column) reports the best of its last 2 epochs and
    // asks the smoke run for every row.
    let text = inline_table(r#"{ mixer = { method = "mixup", alpha = 0.5 } }"#, "{}")
        + r#"
[[rows]]
name = "Cut"
set = { mixer = { method = "cutmix", alpha = 1.0 } }

[[columns]]
name = "B"
statistic = { kind = "best_last", k = 2 }
smoke_every_row = true
set = { model = { base_width = 4 } }

[[columns]]
name = "C"
set = { model = { base_width = 2 } }
"#;
    let table = Table::from_toml(&text).unwrap();
    assert_eq!(
        table.cell(0, 0).unwrap().experiment.statistic,
        Statistic::Last
    );
    assert_eq!(
        table.cell(1, 1).unwrap().experiment.statistic,
        Statistic::BestLast { k: 2 }
    );
    // Smoke: both rows on A, both rows on B (every row), the first row on C: 5 cells.
    let smoke: Vec<(usize, usize)> = table
        .smoke_cells()
        .unwrap()
        .iter()
        .map(|c| (c.row, c.column))
        .collect();
    assert_eq!(smoke, vec![(0, 0), (1, 0), (0, 1), (1, 1), (0, 2)]);
}
