//! Paper tables (`configs/tables/*.toml`): every cell an [`Experiment`], the paper's number
//! beside it, and `cargo xtask reproduce --table NAME` to rerun them.
//!
//! A table file names a base experiment, columns and rows; a cell is the base with the
//! column's `set` and then the row's `set` merged in (tables merge key by key, anything
//! else is replaced), so every key of an experiment file can be set at any level and an
//! unknown key is an error naming the cell:
//!
//! ```toml
//! name = "sumix-cifar100"
//! title = "SUMix, CIFAR-100 (top-1 %)"
//! source = "JinXins/SUMix README.md @ 0469ec2 (PAPER-TABLES.md §1.1)"
//! statistic = { kind = "median_last", k = 10 }
//! tolerance = 1.0
//!
//! [base]          # an experiment without `name`
//! # [base.data], [base.model], [base.train] …
//!
//! [[columns]]
//! name = "ResNet-18"
//! set = { model = { arch = "resnet18" } }
//!
//! [[rows]]
//! name = "CutMix"
//! set = { mixer = { method = "cutmix", alpha = 0.2 } }
//! paper = { "ResNet-18" = 78.17 }
//! ```
//!
//! A row's `cell_set = { "<column>" = { … } }` is merged last, for settings that depend on
//! both (Cutout's side per data set).
//!
//! The report ([`write_report`]) puts our statistic (mean ± std over the seeds) beside the
//! paper's, marks cells further than `tolerance` points from it, and records the seeds,
//! the statistic, each cell's config hash and the git commit. [`smoke_table`] runs every
//! row and every column for one step on generated data in the real format.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use burn::prelude::*;
use mixaug_data::{DatasetId, SyntheticSpec, write_synthetic, write_synthetic_folders};
use serde::Deserialize;

use crate::claims::{Claim, PairedDifference, Verdict};
use crate::experiment::{Experiment, RunOptions, Statistic, mean_std, run_experiment};
use crate::files::{git_commit, write_atomically};
use crate::plots::{accuracy_chart, claims_chart, curves_chart, load_font};
use crate::render::save_png;
use crate::train::{DataParallel, EpochMetrics, Schedule};

/// A paper table as written in `configs/tables/`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// The name `--table` takes.
    pub name: String,
    /// A title for reports.
    pub title: String,
    /// Where the paper's numbers come from.
    pub source: String,
    /// Remarks printed in the report (protocol differences, unknown cells).
    #[serde(default)]
    pub notes: String,
    /// The statistic the paper reports (every cell uses it unless its column says
    /// otherwise).
    pub statistic: Statistic,
    /// Cells further than this many points from the paper are marked.
    pub tolerance: f64,
    /// The paper reports top-1 error (100 − accuracy); the report shows errors then.
    #[serde(default)]
    pub error: bool,
    /// The experiment every cell starts from (without `name`).
    pub base: toml::Table,
    /// The columns.
    pub columns: Vec<Column>,
    /// The rows, with the paper's numbers.
    pub rows: Vec<Row>,
    /// Claims the seeds test (see [`crate::claims`]). Default: none.
    #[serde(default)]
    pub claims: Vec<Claim>,
}

/// A column of a table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Column {
    /// Its header, also the key of the rows' `paper` numbers.
    pub name: String,
    /// What it sets over the base.
    #[serde(default)]
    pub set: toml::Table,
    /// The statistic of this column's cells when the paper reports another than the
    /// table's (openmixup: median of the last 10 epochs for CNNs, best of the last 10 for
    /// ViTs). Default: the table's.
    #[serde(default)]
    pub statistic: Option<Statistic>,
    /// The smoke run trains every row of this column, not only the first (a column whose
    /// recipe differs from the first column's in more than the network, e.g. the ViTs'
    /// optimiser, transforms and class-token features). Default false.
    #[serde(default)]
    pub smoke_every_row: bool,
}

/// A row of a table.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    /// Its label (the method).
    pub name: String,
    /// What it sets over the base and the column.
    #[serde(default)]
    pub set: toml::Table,
    /// What it sets in one column only, by column name (merged last), e.g. Cutout's side
    /// per data set.
    #[serde(default)]
    pub cell_set: BTreeMap<String, toml::Table>,
    /// The paper's number per column name (accuracy, or error when the table says so);
    /// a column without one is a cell the paper's number is not known for.
    #[serde(default)]
    pub paper: BTreeMap<String, f64>,
}

/// One cell: its experiment and the paper's number.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    /// Row index.
    pub row: usize,
    /// Column index.
    pub column: usize,
    /// The experiment.
    pub experiment: Experiment,
    /// The paper's number, if known.
    pub paper: Option<f64>,
}

fn merge(into: &mut toml::Table, from: &toml::Table) {
    for (key, value) in from {
        match (into.get_mut(key), value) {
            (Some(toml::Value::Table(a)), toml::Value::Table(b)) => merge(a, b),
            _ => {
                into.insert(key.clone(), value.clone());
            }
        }
    }
}

fn slug(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    s.split('-')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join("-")
}

impl Table {
    /// Parses a table and checks every cell.
    pub fn from_toml(text: &str) -> Result<Self> {
        let table: Table = toml::from_str(text).context("invalid table file")?;
        table.validate()?;
        Ok(table)
    }

    /// Checks names, paper keys, the tolerance and every cell's experiment.
    pub fn validate(&self) -> Result<()> {
        ensure!(
            !self.columns.is_empty() && !self.rows.is_empty(),
            "{}: a table needs rows and columns",
            self.name
        );
        ensure!(
            self.tolerance >= 0.0 && self.tolerance.is_finite(),
            "{}: tolerance must be ≥ 0",
            self.name
        );
        ensure!(
            !self.base.contains_key("name"),
            "{}: base.name is set per cell",
            self.name
        );
        let mut seen = std::collections::BTreeSet::new();
        for c in &self.columns {
            ensure!(
                seen.insert(slug(&c.name)),
                "{}: two columns named like `{}`",
                self.name,
                c.name
            );
        }
        let mut seen = std::collections::BTreeSet::new();
        for r in &self.rows {
            ensure!(
                seen.insert(slug(&r.name)),
                "{}: two rows named like `{}`",
                self.name,
                r.name
            );
            let keyed = r.cell_set.keys().map(|k| ("a cell_set", k));
            for (what, key) in keyed.chain(r.paper.keys().map(|k| ("a paper number", k))) {
                ensure!(
                    self.columns.iter().any(|c| &c.name == key),
                    "{}: row `{}` has {what} for `{key}`, which is not a column",
                    self.name,
                    r.name
                );
            }
        }
        for claim in &self.claims {
            for name in [&claim.better, &claim.than] {
                ensure!(
                    self.rows.iter().any(|r| &r.name == name),
                    "{}: a claim names the row `{name}`, which is not a row",
                    self.name
                );
            }
            ensure!(
                claim.better != claim.than,
                "{}: a claim compares `{}` with itself",
                self.name,
                claim.better
            );
            if let Some(column) = &claim.column {
                ensure!(
                    self.columns.iter().any(|c| &c.name == column),
                    "{}: a claim names the column `{column}`, which is not a column",
                    self.name
                );
            }
        }
        self.cells().map(|_| ())
    }

    /// The index of the row called `name`.
    fn row_index(&self, name: &str) -> Option<usize> {
        self.rows.iter().position(|r| r.name == name)
    }

    /// The cell of `row` and `column`.
    pub fn cell(&self, row: usize, column: usize) -> Result<Cell> {
        let (r, c) = (&self.rows[row], &self.columns[column]);
        let mut value = self.base.clone();
        merge(&mut value, &c.set);
        merge(&mut value, &r.set);
        if let Some(set) = r.cell_set.get(&c.name) {
            merge(&mut value, set);
        }
        value.insert(
            "name".into(),
            toml::Value::String(format!("{}/{}", slug(&r.name), slug(&c.name))),
        );
        let statistic = c.statistic.unwrap_or(self.statistic);
        value.insert("statistic".into(), toml::Value::try_from(statistic)?);
        let text = toml::to_string(&value)?;
        let experiment = Experiment::from_toml(&text).with_context(|| {
            format!("table {}, row `{}`, column `{}`", self.name, r.name, c.name)
        })?;
        Ok(Cell {
            row,
            column,
            experiment,
            paper: r.paper.get(&c.name).copied(),
        })
    }

    /// Every cell, row by row.
    pub fn cells(&self) -> Result<Vec<Cell>> {
        let mut cells = Vec::new();
        for row in 0..self.rows.len() {
            for column in 0..self.columns.len() {
                cells.push(self.cell(row, column)?);
            }
        }
        Ok(cells)
    }

    /// The cells a smoke run trains: every row on the first column and every other
    /// column on the first row, so that every setting of the table is built and stepped,
    /// and every row of the columns marked [`Column::smoke_every_row`].
    pub fn smoke_cells(&self) -> Result<Vec<Cell>> {
        let mut cells: Vec<Cell> = (0..self.rows.len())
            .map(|r| self.cell(r, 0))
            .collect::<Result<_>>()?;
        for (column, c) in self.columns.iter().enumerate().skip(1) {
            let rows = if c.smoke_every_row {
                self.rows.len()
            } else {
                1
            };
            for row in 0..rows {
                cells.push(self.cell(row, column)?);
            }
        }
        Ok(cells)
    }
}

/// Every table in `dir` (`*.toml`), sorted by name; a broken file is an error naming it.
pub fn load_tables(dir: &Path) -> Result<Vec<Table>> {
    let mut tables = Vec::new();
    let entries = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read the tables folder {}", dir.display()))?;
    for entry in entries {
        let path = entry?.path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            tables.push(Table::from_toml(&text).with_context(|| format!("in {}", path.display()))?);
        }
    }
    tables.sort_by(|a, b| a.name.cmp(&b.name));
    let mut names: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
    names.dedup();
    ensure!(
        names.len() == tables.len(),
        "two tables in {} share a name",
        dir.display()
    );
    Ok(tables)
}

/// The table called `name` in `dir`; the error lists the names there.
pub fn find_table(dir: &Path, name: &str) -> Result<Table> {
    let tables = load_tables(dir)?;
    let names: Vec<String> = tables.iter().map(|t| t.name.clone()).collect();
    tables
        .into_iter()
        .find(|t| t.name == name)
        .with_context(|| {
            format!(
                "no table `{name}` in {} (tables: {})",
                dir.display(),
                names.join(", ")
            )
        })
}

/// One line per table for `--list`.
pub fn list_line(table: &Table) -> String {
    let known = table.rows.iter().map(|r| r.paper.len()).sum::<usize>();
    format!(
        "{:<28} {} rows × {} columns ({} with the paper's number) — {}",
        table.name,
        table.rows.len(),
        table.columns.len(),
        known,
        table.title
    )
}

/// What a table run changes in its cells.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TableOverrides {
    /// The data folder of every cell.
    pub data: Option<PathBuf>,
    /// Epochs: milestones and warm-up are scaled with the epochs.
    pub epochs: Option<usize>,
    /// Seeds `0..n`.
    pub seeds: Option<usize>,
    /// Evaluate on the first `n` test images (at most the cell's own subset).
    pub eval_subset: Option<usize>,
}

impl TableOverrides {
    /// `experiment` with the overrides applied.
    pub fn apply(&self, mut experiment: Experiment) -> Result<Experiment> {
        if let Some(dir) = &self.data {
            experiment.data.dir = Some(dir.clone());
        }
        if let Some(n) = self.eval_subset {
            ensure!(n > 0, "the evaluation subset must be at least 1 image");
            let own = experiment.data.eval_subset.unwrap_or(usize::MAX);
            experiment.data.eval_subset = Some(n.min(own));
        }
        if let Some(n) = self.seeds {
            ensure!(n > 0, "--seeds must be at least 1");
            experiment.seeds = (0..n as u64).collect();
        }
        if let Some(epochs) = self.epochs {
            ensure!(epochs > 0, "--epochs must be at least 1");
            let old = experiment.train.epochs.max(1);
            // In u128: a milestone far past the run must not overflow (it stays past it).
            let scale = |e: usize| {
                let scaled = (e as u128 * epochs as u128).div_ceil(old as u128);
                usize::try_from(scaled).unwrap_or(usize::MAX)
            };
            experiment.train.warmup_epochs = scale(experiment.train.warmup_epochs).min(epochs - 1);
            if let Schedule::MultiStep { milestones, .. } = &mut experiment.train.schedule {
                for m in milestones.iter_mut() {
                    *m = scale(*m);
                }
            }
            experiment.train.epochs = epochs;
        }
        experiment.validate()?;
        Ok(experiment)
    }
}

/// A cell's result: the statistic per seed.
#[derive(Debug, Clone, PartialEq)]
pub struct CellResult {
    /// The cell.
    pub cell: Cell,
    /// `(seed, statistic)` per seed.
    pub values: Vec<(u64, f64)>,
    /// `(seed, metrics per epoch)` per seed.
    pub histories: Vec<(u64, Vec<EpochMetrics>)>,
    /// The config hash of the experiment as run.
    pub hash: String,
}

impl CellResult {
    /// The result of a cell's runs.
    pub fn new(cell: Cell, histories: Vec<(u64, Vec<EpochMetrics>)>) -> Result<Self> {
        Ok(Self {
            values: statistic_per_seed(&cell.experiment, &histories),
            hash: cell.experiment.hash()?,
            histories,
            cell,
        })
    }

    /// Mean and sample standard deviation (0 for one seed).
    pub fn mean_std(&self) -> (f64, f64) {
        mean_std(&self.values.iter().map(|v| v.1).collect::<Vec<_>>())
    }

    /// The last epoch's clean top-1 on the training images and on the test set, means
    /// over the seeds, when every seed measured the training accuracy.
    pub fn final_train_test(&self) -> Option<(f64, f64)> {
        let lasts: Vec<_> = self
            .histories
            .iter()
            .filter_map(|(_, h)| h.last())
            .collect();
        let train: Option<Vec<f64>> = lasts.iter().map(|m| m.train_top1).collect();
        let train = train.filter(|t| !t.is_empty())?;
        let test: Vec<f64> = lasts.iter().map(|m| m.top1).collect();
        Some((mean_std(&train).0, mean_std(&test).0))
    }
}

/// One claim in one column, as far as the cells run so far go.
#[derive(Debug, Clone, PartialEq)]
pub struct ClaimResult {
    /// The claim.
    pub claim: Claim,
    /// The column's name.
    pub column: String,
    /// The paired difference of the two cells.
    pub difference: PairedDifference,
}

impl ClaimResult {
    /// The difference and its column: "CutMix+SUMix − CutMix (Fashion-MNIST)".
    pub fn label(&self) -> String {
        format!(
            "{} − {} ({})",
            self.claim.better, self.claim.than, self.column
        )
    }
}

/// Every claim of `table` in every column it covers whose two cells have run.
pub fn claim_results(table: &Table, results: &[CellResult]) -> Vec<ClaimResult> {
    let find = |row: usize, column: usize| {
        results
            .iter()
            .find(|r| r.cell.row == row && r.cell.column == column)
    };
    let mut out = Vec::new();
    for claim in &table.claims {
        let (Some(better), Some(than)) =
            (table.row_index(&claim.better), table.row_index(&claim.than))
        else {
            continue;
        };
        for (c, column) in table.columns.iter().enumerate() {
            if claim
                .column
                .as_ref()
                .is_some_and(|only| only != &column.name)
            {
                continue;
            }
            if let (Some(a), Some(b)) = (find(better, c), find(than, c)) {
                // The statistics are accuracies (error tables only print 100 − them).
                out.push(ClaimResult {
                    claim: claim.clone(),
                    column: column.name.clone(),
                    difference: PairedDifference::of(&a.values, &b.values),
                });
            }
        }
    }
    out
}

/// The report of a (possibly partial) table run as Markdown.
pub fn report_markdown(table: &Table, results: &[CellResult], commit: &str) -> String {
    let show = |acc: f64| if table.error { 100.0 - acc } else { acc };
    let what = if table.error {
        "top-1 error (%)"
    } else {
        "top-1 (%)"
    };
    // A table of claims only (the quick table) has no paper numbers to print beside ours.
    let papers = table.rows.iter().any(|r| !r.paper.is_empty());
    let mut s = if papers {
        format!(
            "# {}\n\nSource of the paper's numbers: {}.\n\nStatistic: {} ({what}), mean ± sample std \
             over the seeds; the paper's number in brackets; **⚠** marks a cell more than {} points \
             from it, — a cell whose paper number is not known. Git commit {commit}.\n\n",
            table.title,
            table.source,
            table.statistic.describe(),
            table.tolerance
        )
    } else {
        format!(
            "# {}\n\n{}.\n\nStatistic: {} ({what}), mean ± sample std over the seeds. Git commit \
             {commit}.\n\n",
            table.title,
            table.source,
            table.statistic.describe(),
        )
    };
    for column in &table.columns {
        if let Some(own) = column.statistic.filter(|own| *own != table.statistic) {
            let _ = writeln!(s, "Column {}: statistic {}.\n", column.name, own.describe());
        }
    }
    if !table.notes.is_empty() {
        let _ = writeln!(s, "{}\n", table.notes.trim());
    }
    let _ = writeln!(
        s,
        "| method | {} |\n|---|{}",
        table
            .columns
            .iter()
            .map(|c| c.name.as_str())
            .collect::<Vec<_>>()
            .join(" | "),
        "---|".repeat(table.columns.len())
    );
    for (r, row) in table.rows.iter().enumerate() {
        let mut line = format!("| {} |", row.name);
        for (c, column) in table.columns.iter().enumerate() {
            let paper = row.paper.get(&column.name).copied();
            let ours = results
                .iter()
                .find(|x| x.cell.row == r && x.cell.column == c);
            let cell = match ours {
                None => "not run".to_string(),
                Some(result) => {
                    let (mean, std) = result.mean_std();
                    let value = show(mean);
                    let mark = match paper {
                        Some(p) if (value - p).abs() > table.tolerance => " **⚠**",
                        _ => "",
                    };
                    format!("{value:.2} ± {std:.2} (n={}){mark}", result.values.len())
                }
            };
            let _ = match paper {
                Some(p) => write!(line, " {cell} [{p:.2}] |"),
                None if papers => write!(line, " {cell} [—] |"),
                None => write!(line, " {cell} |"),
            };
        }
        let _ = writeln!(s, "{line}");
    }
    let claims = claim_results(table, results);
    if !claims.is_empty() {
        let _ = writeln!(
            s,
            "\n## Claims\n\nEach claim is tested on the seeds both cells ran: the paired \
             difference of their statistic (in accuracy points, better − than; the same seed \
             means the same initialisation and data order), its mean and 95 % Student-t \
             interval over the seeds. *holds*: the interval lies above 0; *contradicted*: \
             below 0; *not shown*: it contains 0. Each interval is per claim, not adjusted \
             for the number of claims.\n\n\
             | claim | column | source | seeds | mean difference | 95 % interval | verdict |\n\
             |---|---|---|---|---|---|---|"
        );
        for c in &claims {
            let d = &c.difference;
            let verdict = match d.verdict() {
                Verdict::Holds => "**holds**".to_string(),
                v => format!("*{v}*"),
            };
            let number = |v: f64| {
                if v.is_finite() {
                    format!("{v:+.2}")
                } else {
                    "—".to_string()
                }
            };
            let _ = writeln!(
                s,
                "| {} ≥ {} | {} | {} | {} | {} | [{}, {}] | {verdict} |",
                c.claim.better,
                c.claim.than,
                c.column,
                c.claim.source,
                d.n,
                number(d.mean),
                number(d.low),
                number(d.high)
            );
        }
    }
    let _ = writeln!(
        s,
        "\n| cell | config hash | seeds | per seed | last-epoch train top-1 | train − test gap |\n\
         |---|---|---|---|---|---|"
    );
    for result in results {
        let per_seed: Vec<String> = result
            .values
            .iter()
            .map(|(seed, v)| format!("{seed}: {:.2}", show(*v)))
            .collect();
        let (train, gap) = match result.final_train_test() {
            Some((train, test)) => (format!("{train:.2}"), format!("{:+.2}", train - test)),
            None => ("—".into(), "—".into()),
        };
        let _ = writeln!(
            s,
            "| {} | `{}` | {} | {} | {train} | {gap} |",
            result.cell.experiment.name,
            result.hash,
            result.values.len(),
            per_seed.join(", ")
        );
    }
    s
}

/// Writes `report.md`, `results.csv` and the pictures (`accuracy.png`, `curves.png`, and
/// `claims.png` when the table has claims) for the cells run so far.
pub fn write_report(table: &Table, results: &[CellResult], out: &Path, commit: &str) -> Result<()> {
    let mut report = report_markdown(table, results, commit);
    if !results.is_empty() {
        save_png(&accuracy_chart(table, results)?, &out.join("accuracy.png"))?;
        report.push_str("\n![the statistic per cell](accuracy.png)\n");
        if results.iter().any(|r| r.cell.column == 0) {
            save_png(&curves_chart(table, results)?, &out.join("curves.png"))?;
            report.push_str("\n![loss and top-1 per epoch](curves.png)\n");
        }
        let claims = claim_results(table, results);
        if !claims.is_empty() {
            save_png(&claims_chart(table, &claims)?, &out.join("claims.png"))?;
            report.push_str("\n![the claims' paired intervals](claims.png)\n");
        }
    }
    write_atomically(&out.join("report.md"), &report)?;
    let mut csv = String::from("row,column,seed,statistic,train_top1,paper,config_hash,commit\n");
    for result in results {
        let row = &table.rows[result.cell.row].name;
        let column = &table.columns[result.cell.column].name;
        for (seed, value) in &result.values {
            let paper = result.cell.paper.map_or(String::new(), |p| p.to_string());
            let train = result
                .histories
                .iter()
                .find(|(s, _)| s == seed)
                .and_then(|(_, h)| h.last()?.train_top1)
                .map_or(String::new(), |t| t.to_string());
            let _ = writeln!(
                csv,
                "{row},{column},{seed},{value},{train},{paper},{},{commit}",
                result.hash
            );
        }
    }
    write_atomically(&out.join("results.csv"), &csv)
}

fn statistic_per_seed(
    experiment: &Experiment,
    runs: &[(u64, Vec<EpochMetrics>)],
) -> Vec<(u64, f64)> {
    runs.iter()
        .map(|(seed, h)| (*seed, experiment.statistic.of(h)))
        .collect()
}

/// Runs every cell of `table` with `overrides` into `out/<row>/<column>/`, rewriting the
/// report after each cell; returns the results.
pub fn run_table(
    table: &Table,
    overrides: &TableOverrides,
    out: &Path,
    device: &Device,
    run: &RunOptions,
) -> Result<Vec<CellResult>> {
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    // The report's charts need a font: a missing one stops the run before any training.
    load_font()?;
    let commit = git_commit();
    // Every cell as run, before any trains: an override a later cell refuses stops the run
    // now, not after the cells before it trained.
    let cells = table
        .cells()?
        .into_iter()
        .map(|cell| {
            let experiment = overrides
                .apply(cell.experiment.clone())
                .with_context(|| format!("table {}, cell {}", table.name, cell.experiment.name))?;
            Ok((cell, experiment))
        })
        .collect::<Result<Vec<_>>>()?;
    let start = Instant::now();
    let mut results = Vec::new();
    for (i, (cell, experiment)) in cells.into_iter().enumerate() {
        if !run.quiet {
            println!(
                "[{}/{}] {} ({:.0} s elapsed)",
                i + 1,
                table.rows.len() * table.columns.len(),
                experiment.name,
                start.elapsed().as_secs_f64()
            );
        }
        let runs = run_experiment(&experiment, &out.join(&experiment.name), device, run)?;
        results.push(CellResult::new(Cell { experiment, ..cell }, runs)?);
        write_report(table, &results, out, &commit)?;
    }
    Ok(results)
}

/// Writes a generated copy of the data set `experiment` reads under `root` (once per data
/// set) and returns the folder to read it from.
fn smoke_data(experiment: &Experiment, root: &Path) -> Result<PathBuf> {
    // Up to 4 classes (every format holds that many; labels stay below the model's
    // classes), one test image each and at least two training images in all, so that a
    // batch of two can be drawn.
    let classes = experiment.model.num_classes.min(4);
    let spec = SyntheticSpec {
        classes,
        train_per_class: 2usize.div_ceil(classes),
        test_per_class: 1,
        ..SyntheticSpec::default()
    };
    let name = &experiment.data.dataset;
    let dir = root.join(name);
    if dir.exists() {
        return Ok(dir);
    }
    if name == "image-folder" {
        return Ok(write_synthetic_folders(&dir, &spec)?);
    }
    let id = DatasetId::from_name(name).with_context(|| format!("unknown data set `{name}`"))?;
    Ok(write_synthetic(id, &dir, &spec)?)
}

/// What a smoke run did.
#[derive(Debug, Clone, PartialEq)]
pub struct SmokeReport {
    /// Cells parsed and validated.
    pub cells_checked: usize,
    /// Cells trained for one step and evaluated.
    pub cells_trained: usize,
    /// Wall time, seconds.
    pub seconds: f64,
}

/// Checks every cell of `table` and trains [`Table::smoke_cells`] for one step each (batch
/// of 2, one seed, one epoch, evaluation on 2 images) on generated data in the real format
/// under `work` (kept), without pretrained checkpoints; each passed cell's run folder is
/// removed.
pub fn smoke_table(
    table: &Table,
    work: &Path,
    device: &Device,
    quiet: bool,
) -> Result<SmokeReport> {
    let start = Instant::now();
    let checked = table.cells()?.len();
    let cells = table.smoke_cells()?;
    let data_root = work.join("data");
    for cell in &cells {
        let mut experiment = cell.experiment.clone();
        experiment.data.dir = Some(smoke_data(&experiment, &data_root)?);
        experiment.data.train_subset = None;
        experiment.data.eval_subset = Some(2);
        experiment.data.batch_size = 2;
        experiment.data.eval_batch_size = Some(2);
        experiment.seeds = vec![0];
        experiment.train.epochs = 1;
        experiment.train.warmup_epochs = 0;
        experiment
            .validate()
            .with_context(|| format!("smoke of {}", experiment.name))?;
        let cell_start = Instant::now();
        let run = RunOptions {
            quiet: true,
            resume: false,
            max_steps_per_epoch: Some(1),
            skip_pretrained: true,
            replicas: Vec::new(),
            data_parallel: DataParallel::default(),
            terminal_ui: false,
        };
        let run_dir = work.join("runs").join(&experiment.name);
        let runs = run_experiment(&experiment, &run_dir, device, &run)
            .with_context(|| format!("smoke of table {}, cell {}", table.name, experiment.name))?;
        // The weights and optimiser state of the large networks would add up to gigabytes
        // over a table: a passed cell leaves nothing behind.
        std::fs::remove_dir_all(&run_dir)
            .with_context(|| format!("cannot remove {}", run_dir.display()))?;
        if let Some(row_dir) = run_dir.parent() {
            // Gone once the row's last cell is: `remove_dir` leaves a non-empty folder.
            let _ = std::fs::remove_dir(row_dir);
        }
        let last = runs
            .first()
            .and_then(|(_, h)| h.last())
            .context("the smoke run recorded no epoch")?;
        if !last.mix_loss.is_finite() {
            bail!("smoke of {}: loss {}", experiment.name, last.mix_loss);
        }
        if !quiet {
            println!(
                "  {} ok: loss {:.3}, {:.1} s",
                experiment.name,
                last.mix_loss,
                cell_start.elapsed().as_secs_f64()
            );
        }
    }
    Ok(SmokeReport {
        cells_checked: checked,
        cells_trained: cells.len(),
        seconds: start.elapsed().as_secs_f64(),
    })
}
