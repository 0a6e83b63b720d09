//! Experiments as TOML files, and running one into a run folder.
//!
//! ```toml
//! name = "fashion-cutmix"
//! seeds = [0, 1]
//!
//! [data]
//! dataset = "fashion-mnist"        # see DataConfig::dataset
//! train_subset = 6000              # optional: the first n training images
//! eval_train_subset = 1000         # optional: clean top-1 on the first n training images
//! batch_size = 64
//! normalize = { mean = [0.286, 0.286, 0.286], std = [0.353, 0.353, 0.353] }
//!
//! [model]
//! arch = "resnet18"                # a name of mixaug_models::ARCHITECTURES
//! stem = "cifar"
//! base_width = 16
//! num_classes = 10
//!
//! [mixer]
//! method = "cutmix"
//! alpha = 1.0
//!
//! [train]                          # every key has a default (TrainOptions::default)
//! epochs = 3
//! lr = 0.1
//! nesterov = true
//! ```
//!
//! Unknown keys are errors naming the key. A run folder holds `config.toml` (the
//! experiment as run), `metrics.csv` (one row per seed and epoch, rewritten atomically
//! after every epoch; SUMix and SnapMix runs also `ratio.csv`, see
//! [`crate::train::RatioStats`]), `report.md` (the statistic per seed, written at the end), the resumable state of each seed (`state/seed-<s>/`, see
//! [`crate::train`]) and one final checkpoint per seed (`seed-<s>.safetensors`, written
//! beside its final name and renamed into place). [`RunOptions::resume`] continues an
//! interrupted run in the same folder (or starts it when the folder holds none); without it
//! an earlier state there is discarded.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result, bail, ensure};
use burn::prelude::*;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use mixaug_data::{
    DataError, DatasetId, FolderDataset, ImageDataset, Loader, LoaderConfig, Normalize, Pipeline,
    Sample, Split,
};
use mixaug_masks::{MixConfig, Needs};
use mixaug_models::{DeitConfigError, ModelError, ModelSpec, SwinConfigError};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::files::{atomically, write_atomically};
use crate::network::{Network, Teacher, materialize};
use crate::train::{
    DataParallel, EpochMetrics, Event, LossKind, RunControl, TrainOptions, device_shares, train,
};

/// One experiment: data, model, mixer, training, seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// A short name, used in reports.
    pub name: String,
    /// One run per seed (model initialisation, data order, mixing draws).
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
    /// The statistic reported per seed. Default: the last epoch's top-1.
    #[serde(default)]
    pub statistic: Statistic,
    /// The data.
    pub data: DataConfig,
    /// The network.
    pub model: ModelConfig,
    /// The mixer. Default: none.
    #[serde(default = "no_mixing")]
    pub mixer: MixConfig,
    /// How to train. Default: [`TrainOptions::default`], field by field.
    #[serde(default)]
    pub train: TrainOptions,
    /// AttentiveMix's frozen teacher (required by it, refused otherwise), usually an
    /// ImageNet-pretrained ResNet: `arch`, `stem = "imagenet"`, `num_classes = 1000`,
    /// `pretrained`.
    #[serde(default)]
    pub teacher: Option<ModelConfig>,
}

fn default_seeds() -> Vec<u64> {
    vec![0]
}

fn no_mixing() -> MixConfig {
    MixConfig::None
}

/// Which number of a run's clean top-1 curve is reported (papers differ, see
/// `PAPER-TABLES.md` §0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(
    tag = "kind",
    rename_all = "snake_case",
    deny_unknown_fields,
    try_from = "StatisticKeys"
)]
pub enum Statistic {
    /// The last epoch.
    #[default]
    Last,
    /// The best epoch (SnapMix, SaliencyMix).
    Best,
    /// The median of the last `k` epochs (openmixup, SUMix).
    MedianLast {
        /// Epochs considered.
        k: usize,
    },
    /// The best of the last `k` epochs (openmixup's ViT tables).
    BestLast {
        /// Epochs considered.
        k: usize,
    },
}

/// A [`Statistic`] as written, read as a plain table: serde's internally tagged enums lose
/// the key of a value they refuse ("invalid type: string, expected usize"), a struct keeps it.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StatisticKeys {
    kind: String,
    #[serde(default)]
    k: Option<usize>,
}

impl TryFrom<StatisticKeys> for Statistic {
    type Error = String;

    fn try_from(keys: StatisticKeys) -> Result<Self, String> {
        let statistic = match (keys.kind.as_str(), keys.k) {
            ("last", None) => Statistic::Last,
            ("best", None) => Statistic::Best,
            ("median_last", Some(k)) => Statistic::MedianLast { k },
            ("best_last", Some(k)) => Statistic::BestLast { k },
            ("last" | "best", Some(_)) => {
                return Err(format!("statistic.k: `{}` takes no k", keys.kind));
            }
            ("median_last" | "best_last", None) => {
                return Err(format!("missing field `k` (statistic `{}`)", keys.kind));
            }
            (kind, _) => {
                return Err(format!(
                    "statistic.kind: unknown variant `{kind}`, expected one of `last`, `best`, \
                     `median_last`, `best_last`"
                ));
            }
        };
        Ok(statistic)
    }
}

impl Statistic {
    /// The statistic of a top-1 curve (NaN for an empty one). With fewer than `k` epochs,
    /// all of them are used.
    pub fn of(&self, history: &[EpochMetrics]) -> f64 {
        let top1: Vec<f64> = history.iter().map(|m| m.top1).collect();
        let tail = |k: usize| top1[top1.len().saturating_sub(k)..].to_vec();
        let best = |v: &[f64]| v.iter().copied().fold(f64::NAN, f64::max);
        match *self {
            Statistic::Last => top1.last().copied().unwrap_or(f64::NAN),
            Statistic::Best => best(&top1),
            Statistic::BestLast { k } => best(&tail(k)),
            Statistic::MedianLast { k } => {
                let mut v = tail(k);
                if v.is_empty() {
                    return f64::NAN;
                }
                v.sort_by(f64::total_cmp);
                let n = v.len();
                if n % 2 == 1 {
                    v[n / 2]
                } else {
                    (v[n / 2 - 1] + v[n / 2]) / 2.0
                }
            }
        }
    }

    /// Words for reports, e.g. "median top-1 of the last 10 epochs".
    pub fn describe(&self) -> String {
        match self {
            Statistic::Last => "top-1 of the last epoch".into(),
            Statistic::Best => "best top-1 over all epochs".into(),
            Statistic::MedianLast { k } => format!("median top-1 of the last {k} epochs"),
            Statistic::BestLast { k } => format!("best top-1 of the last {k} epochs"),
        }
    }
}

/// Where the images come from and how they are prepared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// `fashion-mnist`, `mnist`, `cifar10`, `cifar100`, `cub200`, `aircraft`,
    /// `stanford-cars`, `tiny-imagenet`, or `image-folder` (`dir/train/<class>/…` and
    /// `dir/val/<class>/…`, e.g. ImageNet; needs `dir`).
    pub dataset: String,
    /// Folder holding the data set (or its parent). Default: `$MIXAUG_DATA`, `./data`, and
    /// for Fashion-MNIST Debian's package folder.
    #[serde(default)]
    pub dir: Option<PathBuf>,
    /// Train on the first `n` training images only.
    #[serde(default)]
    pub train_subset: Option<usize>,
    /// Evaluate on the first `n` test images only.
    #[serde(default)]
    pub eval_subset: Option<usize>,
    /// Also evaluate clean top-1 on the first `n` training images (unaugmented, eval
    /// transforms) after each epoch, recorded as `train_top1`: its gap to the test top-1
    /// shows over-fitting. Default: not measured.
    #[serde(default)]
    pub eval_train_subset: Option<usize>,
    /// Images per training batch.
    pub batch_size: usize,
    /// Images per evaluation batch. Default: `batch_size`.
    #[serde(default)]
    pub eval_batch_size: Option<usize>,
    /// Per-image training augmentation. Default: none.
    #[serde(default)]
    pub train_transforms: Pipeline,
    /// Per-image evaluation transform (resize + centre crop for photos). Default: none.
    #[serde(default)]
    pub eval_transforms: Pipeline,
    /// Normalisation after augmentation.
    pub normalize: Normalize,
}

/// The network: `mixaug_models`' [`ModelSpec`] (architecture names, stems, widths,
/// pretrained checkpoint), the one description the runner, `mixaug cam` and the tables use.
pub type ModelConfig = ModelSpec;

impl Experiment {
    /// Parses and validates an experiment; errors name the offending key.
    pub fn from_toml(text: &str) -> Result<Self> {
        let experiment: Experiment = toml::from_str(text)
            .map_err(|e| {
                let parse = |value: toml::Value| {
                    Experiment::deserialize(value).err().map(|e| e.to_string())
                };
                with_refused_key(e.into(), text, parse)
            })
            .context("invalid experiment file")?;
        experiment.validate()?;
        Ok(experiment)
    }

    /// Checks what serde cannot: the mixer's hyper-parameters, sizes, the model.
    pub fn validate(&self) -> Result<()> {
        ensure!(!self.seeds.is_empty(), "seeds: give at least one seed");
        ensure!(
            self.data.batch_size >= 2,
            "data.batch_size must be at least 2 to mix"
        );
        ensure!(
            self.data.eval_batch_size != Some(0),
            "data.eval_batch_size must be positive"
        );
        ensure!(
            self.data.dataset == IMAGE_FOLDER || DatasetId::from_name(&self.data.dataset).is_some(),
            "data.dataset: unknown data set `{}`",
            self.data.dataset
        );
        if self.data.dataset == IMAGE_FOLDER {
            ensure!(
                self.data.dir.is_some(),
                "data.dir: `image-folder` needs the folder"
            );
        }
        self.data
            .train_transforms
            .validate()
            .context("data.train_transforms")?;
        self.data
            .eval_transforms
            .validate()
            .context("data.eval_transforms")?;
        self.data.normalize.validate().context("data.normalize")?;
        ensure!(
            self.data.eval_train_subset != Some(0),
            "data.eval_train_subset must be positive"
        );
        if let Statistic::MedianLast { k } | Statistic::BestLast { k } = self.statistic {
            ensure!(k > 0, "statistic.k must be at least 1");
        }
        ensure!(
            self.train.eval_every == 1 || self.statistic == Statistic::Last,
            "train.eval_every = {} evaluates some epochs only: the statistic must be the last \
             epoch's (statistic = {{ kind = \"last\" }})",
            self.train.eval_every
        );
        self.train.validate()?;
        self.mixer
            .validate()
            .with_context(|| format!("mixer ({})", self.mixer.label()))?;
        let family = self
            .model
            .config()
            .map_err(|e| model_error(e, "model", &self.model))?
            .family();
        match (&self.teacher, self.mixer.needs()) {
            (None, Needs::Attention) => bail!(
                "teacher: {} reads attention from a frozen teacher network; add a [teacher] section",
                self.mixer.name()
            ),
            (Some(_), needs) if needs != Needs::Attention => {
                bail!("teacher: only AttentiveMix uses a teacher network")
            }
            (Some(teacher), _) => {
                teacher
                    .config()
                    .map_err(|e| model_error(e, "teacher", teacher))?;
            }
            _ => {}
        }
        ensure!(
            family.has_cam() || self.mixer.needs() != Needs::PercentMaps,
            "mixer: {} reads class activation maps, which the {family} does not define (its \
             classifier does not act on a pooled feature map)",
            self.mixer.name()
        );
        if self.mixer.needs() == Needs::ClassAttention {
            ensure!(
                family.has_class_attention(),
                "mixer: {} re-weights its target by a class token's attention: it needs a DeiT \
                 (model.arch = \"deit_small_patch16_224\"), not the {family}",
                self.mixer.name()
            );
            ensure!(
                !matches!(self.train.loss, LossKind::Sumix(_)),
                "train.loss: SUMix is not defined on top of {}",
                self.mixer.name()
            );
        }
        if self.train.mid_level_head {
            ensure!(
                family.has_mid_level(),
                "train.mid_level_head needs a network with mid-level features (the ResNet \
                 family), not the {family}"
            );
        }
        Ok(())
    }

    /// The experiment as TOML (what a run folder's `config.toml` holds).
    pub fn to_toml(&self) -> Result<String> {
        Ok(toml::to_string(self)?)
    }

    /// The first 12 hex digits of the SHA-256 of [`Self::to_toml`]: names a configuration
    /// in reports.
    pub fn hash(&self) -> Result<String> {
        let digest = Sha256::digest(self.to_toml()?.as_bytes());
        Ok(digest.iter().take(6).map(|b| format!("{b:02x}")).collect())
    }
}

const IMAGE_FOLDER: &str = "image-folder";

/// `error` of the network `spec` (the experiment's `section`) naming the key it comes from
/// where mixaug-models' message does not: a drop-path rate, or what the family of `arch`
/// (perhaps the default one) does not take.
fn model_error(error: ModelError, section: &str, spec: &ModelSpec) -> anyhow::Error {
    let key = match &error {
        ModelError::Deit(DeitConfigError::DropPath { .. })
        | ModelError::Swin(SwinConfigError::DropPath { .. }) => {
            format!("{section}.drop_path = {}", spec.drop_path)
        }
        // The patch grid and the windows are planned on the image size: a size of the
        // experiment's own that they do not fit is that key's error, not the network's.
        ModelError::Deit(DeitConfigError::Patch { .. })
        | ModelError::Swin(SwinConfigError::Patch { .. } | SwinConfigError::Window { .. })
            if let Some(size) = spec.image_size =>
        {
            format!("{section}.image_size = {size}")
        }
        ModelError::Unsupported { .. } | ModelError::Deit(_) | ModelError::Swin(_) => {
            format!("{section}.arch = {:?}", spec.arch)
        }
        _ => section.to_string(),
    };
    anyhow::Error::new(error).context(key)
}

/// `error` (from parsing `text`) with the key of the value it refuses, when serde lost it.
///
/// serde's internally tagged enums (the mixer's `method`, the `kind` of losses, schedules
/// and optimisers, the `op` of transforms) read their table whole and then refuse a value
/// without its key: "invalid type: string "x", expected f64", pointing at the `[mixer]`
/// line. `parse` deserializes a whole document as the file's type and gives its error.
/// The key is found by taking values out: serde reports the first error in the document's
/// order, so among the values the error describes ("string "x"", "map", …) whose removal
/// changes the error, the refused one is the last (those before it end their own tables
/// with another error once a value is taken out, those after it are not read).
pub(crate) fn with_refused_key(
    error: anyhow::Error,
    text: &str,
    parse: impl Fn(toml::Value) -> Option<String>,
) -> anyhow::Error {
    match refused_key(text, parse) {
        Some(key) => error.context(format!("the value of `{key}` is refused")),
        None => error,
    }
}

/// The dotted path of the value the error of `parse` refuses (see [`with_refused_key`]).
fn refused_key(text: &str, parse: impl Fn(toml::Value) -> Option<String>) -> Option<String> {
    let root = toml::Value::Table(toml::from_str::<toml::Table>(text).ok()?);
    let message = parse(root.clone())?;
    let length = message
        .strip_prefix("invalid length ")
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse::<usize>().ok());
    if length.is_none()
        && !["invalid type: ", "invalid value: ", "unknown variant `"]
            .iter()
            .any(|start| message.starts_with(start))
    {
        return None;
    }
    // What serde calls the value (its `Unexpected`), as the message would quote it.
    let described = |value: &toml::Value| match value {
        toml::Value::String(s) => {
            message.contains(&format!("string {s:?}"))
                || message.contains(&format!("variant `{s}`"))
        }
        toml::Value::Integer(i) => message.contains(&format!("integer `{i}`")),
        toml::Value::Float(_) => message.contains("floating point `"),
        toml::Value::Boolean(b) => message.contains(&format!("boolean `{b}`")),
        toml::Value::Array(items) => length == Some(items.len()) || message.contains("sequence"),
        toml::Value::Table(_) => message.contains("map"),
        toml::Value::Datetime(_) => false,
    };
    #[derive(Clone)]
    enum Step {
        Key(String),
        Index(usize),
    }
    fn walk(value: &toml::Value, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
        let children: Vec<(Step, &toml::Value)> = match value {
            toml::Value::Table(t) => t.iter().map(|(k, v)| (Step::Key(k.clone()), v)).collect(),
            toml::Value::Array(a) => a
                .iter()
                .enumerate()
                .map(|(i, v)| (Step::Index(i), v))
                .collect(),
            _ => Vec::new(),
        };
        for (step, child) in children {
            path.push(step);
            out.push(path.clone());
            walk(child, path, out);
            path.pop();
        }
    }
    fn at<'a>(value: &'a mut toml::Value, path: &[Step]) -> Option<&'a mut toml::Value> {
        match path.split_first() {
            None => Some(value),
            Some((Step::Key(k), rest)) => at(value.as_table_mut()?.get_mut(k)?, rest),
            Some((Step::Index(i), rest)) => at(value.as_array_mut()?.get_mut(*i)?, rest),
        }
    }
    let mut paths = Vec::new();
    walk(&root, &mut Vec::new(), &mut paths);
    for path in paths.into_iter().rev() {
        let mut value = root.clone();
        if !described(at(&mut value, &path)?) {
            continue;
        }
        let (last, parent) = path.split_last()?;
        let holder = at(&mut value, parent)?;
        match last {
            Step::Key(k) => drop(holder.as_table_mut()?.remove(k)),
            Step::Index(i) => drop(holder.as_array_mut()?.remove(*i)),
        }
        if parse(value).as_ref() == Some(&message) {
            continue;
        }
        return Some(path.iter().fold(String::new(), |mut name, step| {
            match step {
                Step::Key(k) if name.is_empty() => name.push_str(k),
                Step::Key(k) => name.push_str(&format!(".{k}")),
                Step::Index(i) => name.push_str(&format!("[{i}]")),
            }
            name
        }));
    }
    None
}

/// The first `len` samples of a data set.
struct Prefix {
    inner: Arc<dyn ImageDataset>,
    len: usize,
}

impl ImageDataset for Prefix {
    fn len(&self) -> usize {
        self.len
    }
    fn num_classes(&self) -> usize {
        self.inner.num_classes()
    }
    fn get(&self, index: usize) -> Result<Sample, DataError> {
        self.inner.get(index)
    }
    fn label(&self, index: usize) -> Result<usize, DataError> {
        self.inner.label(index)
    }
}

fn load_split(data: &DataConfig, split: Split) -> Result<Arc<dyn ImageDataset>> {
    let dataset: Arc<dyn ImageDataset> = if data.dataset == IMAGE_FOLDER {
        let root = data
            .dir
            .as_ref()
            .context("data.dir: `image-folder` needs the folder")?;
        let sub = match split {
            Split::Train => "train",
            Split::Test => "val",
        };
        Arc::new(FolderDataset::class_folders(&root.join(sub))?)
    } else {
        let id = DatasetId::from_name(&data.dataset)
            .with_context(|| format!("data.dataset: unknown data set `{}`", data.dataset))?;
        let places = match &data.dir {
            Some(dir) => vec![dir.clone()],
            None => id.default_places(std::env::var_os("MIXAUG_DATA").map(PathBuf::from)),
        };
        id.open(&places, split)?
    };
    let subset = match split {
        Split::Train => data.train_subset,
        Split::Test => data.eval_subset,
    };
    Ok(match subset {
        Some(n) if n < dataset.len() => Arc::new(Prefix {
            inner: dataset,
            len: n,
        }),
        _ => dataset,
    })
}

/// How [`run_experiment`] runs.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// No progress or epoch lines.
    pub quiet: bool,
    /// Continue the run kept in the folder (its `config.toml` must match); a folder
    /// without a run starts one.
    pub resume: bool,
    /// Stop each epoch after this many batches (smoke runs; with several devices, all
    /// the devices' batches together).
    pub max_steps_per_epoch: Option<usize>,
    /// Build the model without its pretrained checkpoint (smoke runs).
    pub skip_pretrained: bool,
    /// Further devices, each taking a batch per step (data parallelism; see
    /// [`crate::train::train`]).
    pub replicas: Vec<Device>,
    /// How the devices train together when there are several.
    pub data_parallel: DataParallel,
    /// Show burn-train's terminal UI while each seed trains
    /// ([`RunControl::terminal_ui`]); each seed's epoch lines are printed when its UI
    /// closes.
    pub terminal_ui: bool,
}

fn metrics_csv(runs: &[(u64, Vec<EpochMetrics>)]) -> String {
    let mut text = String::from("seed,epoch,mix_loss,lr,top1,top5,train_top1,images_per_second\n");
    for (seed, history) in runs {
        for m in history {
            let train_top1 = m.train_top1.map_or(String::new(), |t| t.to_string());
            text.push_str(&format!(
                "{seed},{},{},{},{},{},{train_top1},{}\n",
                m.epoch, m.mix_loss, m.lr, m.top1, m.top5, m.images_per_second
            ));
        }
    }
    text
}

/// `ratio.csv`: per seed and epoch, how the loss re-weighted the mixer's ratio (SUMix's λ̃,
/// SnapMix's ρ; see [`crate::train::RatioStats`]); `None` when no epoch recorded it.
fn ratio_csv(runs: &[(u64, Vec<EpochMetrics>)]) -> Option<String> {
    let mut text = String::from(
        "seed,epoch,samples,lam,weight_a,weight_b,abs_change,saturated,main,regulariser\n",
    );
    let mut any = false;
    for (seed, history) in runs {
        for m in history {
            if let Some(r) = &m.ratio {
                any = true;
                text.push_str(&format!(
                    "{seed},{},{},{},{},{},{},{},{},{}\n",
                    m.epoch,
                    r.samples,
                    r.lam,
                    r.weight_a,
                    r.weight_b,
                    r.abs_change,
                    r.saturated,
                    r.main,
                    r.regulariser
                ));
            }
        }
    }
    any.then_some(text)
}

/// Rewrites `metrics.csv` (and `ratio.csv` when recorded) in the run folder `out`.
fn write_metrics(out: &Path, runs: &[(u64, Vec<EpochMetrics>)]) -> Result<()> {
    write_atomically(&out.join("metrics.csv"), &metrics_csv(runs))?;
    if let Some(ratio) = ratio_csv(runs) {
        write_atomically(&out.join("ratio.csv"), &ratio)?;
    }
    Ok(())
}

fn format_duration(seconds: f64) -> String {
    let s = seconds.max(0.0).round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else {
        format!("{}m{:02}s", s / 60, s % 60)
    }
}

/// Prints progress lines: rewritten in place on a terminal, one every 30 s otherwise;
/// nothing when quiet or under CI (`CI` set).
struct Progress {
    quiet: bool,
    terminal: bool,
    last: Option<Instant>,
}

impl Progress {
    fn new(quiet: bool) -> Self {
        Self {
            quiet: quiet || std::env::var_os("CI").is_some(),
            terminal: std::io::stderr().is_terminal(),
            last: None,
        }
    }

    fn show(&mut self, line: &str, last_step: bool) {
        if self.quiet {
            return;
        }
        let every = if self.terminal { 0.5 } else { 30.0 };
        if !last_step && self.last.is_some_and(|t| t.elapsed().as_secs_f64() < every) {
            return;
        }
        self.last = Some(Instant::now());
        if self.terminal {
            eprint!("\r\x1b[2K{line}");
            if last_step {
                eprintln!();
            }
        } else if !last_step {
            eprintln!("{line}");
        }
    }
}

/// Runs every seed of `experiment` on the autodiff `device` into the folder `out`;
/// returns each seed's metrics.
pub fn run_experiment(
    experiment: &Experiment,
    out: &Path,
    device: &Device,
    options: &RunOptions,
) -> Result<Vec<(u64, Vec<EpochMetrics>)>> {
    experiment.validate()?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    let config_path = out.join("config.toml");
    let config = experiment.to_toml()?;
    let state_root = out.join("state");
    if options.resume && config_path.exists() {
        let kept = std::fs::read_to_string(&config_path)
            .with_context(|| format!("--resume: cannot read {}", config_path.display()))?;
        let kept: Experiment = toml::from_str(&kept)
            .with_context(|| format!("--resume: corrupt {}", config_path.display()))?;
        ensure!(
            kept == *experiment,
            "--resume: {} holds a different experiment (config hash {} vs {}); run it in another folder",
            out.display(),
            kept.hash()?,
            experiment.hash()?
        );
    } else if state_root.exists() {
        std::fs::remove_dir_all(&state_root)
            .with_context(|| format!("cannot clear {}", state_root.display()))?;
    }
    write_atomically(&config_path, &config)?;
    let train_set = load_split(&experiment.data, Split::Train)?;
    let eval_set = load_split(&experiment.data, Split::Test)?;
    ensure!(
        train_set.num_classes() <= experiment.model.num_classes,
        "model.num_classes = {} but the data set has {} classes",
        experiment.model.num_classes,
        train_set.num_classes()
    );
    let mixer = experiment.mixer.init()?;
    let mut results: Vec<(u64, Vec<EpochMetrics>)> = Vec::new();
    let seeds = experiment.seeds.len();
    for (index, &seed) in experiment.seeds.iter().enumerate() {
        device.seed(seed);
        let loader = |set: &Arc<dyn ImageDataset>, training: bool| {
            let batch = if training {
                experiment.data.batch_size
            } else {
                experiment
                    .data
                    .eval_batch_size
                    .unwrap_or(experiment.data.batch_size)
            };
            let config = LoaderConfig::new(batch)
                .with_seed(seed)
                .with_to_rgb(true)
                .with_shuffle(training)
                .with_drop_last(training);
            let pipeline = if training {
                experiment.data.train_transforms.clone()
            } else {
                experiment.data.eval_transforms.clone()
            };
            Loader::new(set.clone(), pipeline, experiment.data.normalize, config)
        };
        let train_loader = loader(&train_set, true)?;
        let eval_loader = loader(&eval_set, false)?;
        let train_eval = match experiment.data.eval_train_subset {
            Some(n) => {
                let prefix: Arc<dyn ImageDataset> = Arc::new(Prefix {
                    len: n.min(train_set.len()),
                    inner: train_set.clone(),
                });
                Some(loader(&prefix, false)?)
            }
            None => None,
        };
        let model = experiment.model.init(device, options.skip_pretrained)?;
        let mut train_options = experiment.train.clone();
        train_options.seed = train_options.seed.wrapping_add(seed);
        let network = Network::new(
            model,
            matches!(train_options.loss, LossKind::Sumix(_)),
            train_options.mid_level_head,
            device,
        )?;
        let teacher = match (&experiment.teacher, &experiment.mixer) {
            (Some(config), MixConfig::AttentiveMix(mixer)) => {
                let network = config.init(device, options.skip_pretrained)?;
                materialize(&network);
                Some(Teacher {
                    network,
                    attention: mixer.attention(),
                })
            }
            _ => None,
        };
        let control = RunControl {
            state_dir: Some(state_root.join(format!("seed-{seed}"))),
            max_steps_per_epoch: options.max_steps_per_epoch,
            replicas: options.replicas.clone(),
            data_parallel: options.data_parallel,
            teacher,
            train_eval,
            terminal_ui: options.terminal_ui,
            label: Some(format!(
                "{} seed {seed} ({}/{seeds})",
                experiment.name,
                index + 1
            )),
        };
        if index == 0 && !options.quiet && !control.replicas.is_empty() {
            // E.g. "10 batches per epoch on 3 devices: 3 steps of 3, 1 batch dropped"; an
            // epoch that cannot be shared is refused by `train` below.
            if let Ok(shares) = device_shares(&train_loader, &control) {
                println!("{}: {shares}", experiment.name);
            }
        }
        // The terminal UI owns the screen while it is up: the lines wait for it to close.
        let mut progress = Progress::new(options.quiet || options.terminal_ui);
        let name = &experiment.name;
        let epoch_line = |m: &EpochMetrics| {
            let accuracy = if m.top1.is_nan() {
                "not evaluated".to_string()
            } else {
                let train = m
                    .train_top1
                    .map_or(String::new(), |t| format!(", train top-1 {t:.2}%"));
                format!("top-1 {:.2}%, top-5 {:.2}%{train}", m.top1, m.top5)
            };
            format!(
                "{name} seed {seed} epoch {}/{}: mix_loss {:.4}, {accuracy}, lr {:.4}, {:.0} img/s",
                m.epoch, train_options.epochs, m.mix_loss, m.lr, m.images_per_second
            )
        };
        // The epochs trained while the terminal UI was up, printed once it closes.
        let mut shown_later = Vec::new();
        let trained = train(
            network,
            &mixer,
            &train_loader,
            &eval_loader,
            &train_options,
            &control,
            device,
            |event| {
                match event {
                    Event::Step(p) => progress.show(
                        &format!(
                            "{name} seed {seed} ({}/{seeds}) epoch {}/{} step {}/{}: mix_loss {:.4}, {:.0} img/s, ETA {}",
                            index + 1,
                            p.epoch,
                            p.epochs,
                            p.step,
                            p.steps,
                            p.mix_loss,
                            p.images_per_second,
                            format_duration(p.eta_seconds)
                        ),
                        p.step == p.steps,
                    ),
                    Event::Epoch(history) => {
                        let m = history.last().expect("an epoch was just added");
                        match (options.quiet, options.terminal_ui) {
                            (true, _) => {}
                            (false, false) => println!("{}", epoch_line(m)),
                            (false, true) => shown_later.push(epoch_line(m)),
                        }
                        let mut runs = results.clone();
                        runs.push((seed, history.to_vec()));
                        write_metrics(out, &runs)?;
                    }
                }
                Ok(())
            },
        );
        for line in &shown_later {
            println!("{line}");
        }
        let (network, history) =
            trained.with_context(|| format!("{} (seed {seed})", experiment.name))?;
        save_checkpoint(&network, &out.join(format!("seed-{seed}.safetensors")))?;
        results.push((seed, history));
        write_metrics(out, &results)?;
    }
    write_atomically(&out.join("report.md"), &run_report(experiment, &results)?)?;
    Ok(results)
}

/// Mean and sample standard deviation of per-seed values (std 0 for one value; NaN mean
/// for none): what every report prints as `mean ± std`.
pub fn mean_std(values: &[f64]) -> (f64, f64) {
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n as f64;
    let std = if n > 1 {
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    (mean, std)
}

/// The final report of a run folder: the statistic per seed, mean ± sample std, the
/// config hash and the git commit.
pub fn run_report(experiment: &Experiment, results: &[(u64, Vec<EpochMetrics>)]) -> Result<String> {
    let values: Vec<f64> = results
        .iter()
        .map(|(_, h)| experiment.statistic.of(h))
        .collect();
    let n = values.len();
    let mean = values.iter().sum::<f64>() / n.max(1) as f64;
    let std = if n > 1 {
        (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64).sqrt()
    } else {
        0.0
    };
    let mut text = format!(
        "# {}\n\nStatistic: {}. Config hash `{}`, git commit {}.\n\n\
         **{mean:.2} ± {std:.2}** (mean ± sample std over {n} seed{}).\n\n\
         | seed | statistic | last top-1 | last top-5 | epochs |\n|---|---|---|---|---|\n",
        experiment.name,
        experiment.statistic.describe(),
        experiment.hash()?,
        crate::files::git_commit(),
        if n == 1 { "" } else { "s" },
    );
    for ((seed, history), value) in results.iter().zip(&values) {
        let last = history.last();
        text.push_str(&format!(
            "| {seed} | {value:.2} | {:.2} | {:.2} | {} |\n",
            last.map_or(f64::NAN, |m| m.top1),
            last.map_or(f64::NAN, |m| m.top5),
            history.len()
        ));
    }
    text.push_str("\nPer-epoch numbers: `metrics.csv`; the experiment as run: `config.toml`.\n");
    Ok(text)
}

/// Writes the network's weights to `path` (safetensors) atomically.
pub fn save_checkpoint(network: &Network, path: &Path) -> Result<()> {
    atomically(path, |partial| {
        network
            .save_into(&mut SafetensorsStore::from_file(partial))
            .map_err(|e| anyhow::anyhow!("{e}"))
    })
}
