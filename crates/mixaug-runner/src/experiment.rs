//! Experiments as TOML files, and running one into a run folder.
//!
//! ```toml
//! name = "fashion-cutmix"
//! seeds = [0, 1]
//!
//! [data]
//! dataset = "fashion-mnist"        # fashion-mnist, mnist, cifar10, cifar100
//! train_subset = 6000              # optional: the first n training images
//! batch_size = 64
//! normalize = { mean = [0.286, 0.286, 0.286], std = [0.353, 0.353, 0.353] }
//!
//! [model]
//! arch = "resnet18"                # resnet18/34/50/101, resnext50_32x4d
//! stem = "cifar"
//! base_width = 16
//! num_classes = 10
//!
//! [mixer]
//! method = "cutmix"
//! alpha = 1.0
//!
//! [train]
//! epochs = 3
//! lr = 0.1
//! momentum = 0.9
//! nesterov = true
//! weight_decay = 5e-4
//! schedule = { kind = "cosine" }
//! warmup_epochs = 0
//! loss = { kind = "soft_ce" }
//! smoothing = 0.0
//! seed = 0
//! ```
//!
//! Unknown keys are errors naming the key. A run folder holds `config.toml` (the
//! experiment as run), `metrics.csv` (one row per seed and epoch) and one checkpoint per
//! seed (`seed-<s>.safetensors`, written beside its final name and renamed into place).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{Context, Result, bail, ensure};
use burn::prelude::*;
use burn::store::{ModuleSnapshot, SafetensorsStore};
use mixaug_data::{
    Cifar, DEBIAN_FASHION_MNIST, DataError, DatasetId, ImageDataset, Loader, LoaderConfig, Mnist,
    Normalize, Pipeline, Sample, Split,
};
use mixaug_masks::MixConfig;
use mixaug_models::{ResNetConfig, Stem};
use serde::{Deserialize, Serialize};

use crate::train::{EpochMetrics, Network, TrainOptions, train};

/// One experiment: data, model, mixer, training, seeds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Experiment {
    /// A short name, used in reports.
    pub name: String,
    /// One run per seed (model initialisation, data order, mixing draws).
    #[serde(default = "default_seeds")]
    pub seeds: Vec<u64>,
    /// The data.
    pub data: DataConfig,
    /// The network.
    pub model: ModelConfig,
    /// The mixer. Default: none.
    #[serde(default = "no_mixing")]
    pub mixer: MixConfig,
    /// How to train.
    pub train: TrainOptions,
}

fn default_seeds() -> Vec<u64> {
    vec![0]
}

fn no_mixing() -> MixConfig {
    MixConfig::None
}

/// Where the images come from and how they are prepared.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataConfig {
    /// `fashion-mnist`, `mnist`, `cifar10` or `cifar100`.
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
    /// Images per training batch.
    pub batch_size: usize,
    /// Per-image training augmentation. Default: none.
    #[serde(default)]
    pub train_transforms: Pipeline,
    /// Normalisation after augmentation.
    pub normalize: Normalize,
}

/// The network.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelConfig {
    /// `resnet18`, `resnet34`, `resnet50`, `resnet101` or `resnext50_32x4d`.
    pub arch: String,
    /// Stem. Default: CIFAR (3×3 stride 1, no max-pool).
    #[serde(default = "cifar_stem")]
    pub stem: Stem,
    /// Stem channels. Default 64 (torchvision).
    #[serde(default = "default_width")]
    pub base_width: usize,
    /// Classes.
    pub num_classes: usize,
}

fn cifar_stem() -> Stem {
    Stem::Cifar
}

fn default_width() -> usize {
    64
}

impl ModelConfig {
    /// The network's configuration.
    pub fn resnet(&self) -> Result<ResNetConfig> {
        let k = self.num_classes;
        let config = match self.arch.as_str() {
            "resnet18" => ResNetConfig::resnet18(k),
            "resnet34" => ResNetConfig::resnet34(k),
            "resnet50" => ResNetConfig::resnet50(k),
            "resnet101" => ResNetConfig::resnet101(k),
            "resnext50_32x4d" => ResNetConfig::resnext50_32x4d(k),
            other => bail!(
                "model.arch: unknown architecture `{other}` (resnet18, resnet34, resnet50, resnet101, resnext50_32x4d)"
            ),
        };
        ensure!(self.base_width > 0, "model.base_width must be positive");
        ensure!(k > 0, "model.num_classes must be positive");
        Ok(config.with_stem(self.stem).with_base_width(self.base_width))
    }
}

impl Experiment {
    /// Parses and validates an experiment; errors name the offending key.
    pub fn from_toml(text: &str) -> Result<Self> {
        let experiment: Experiment = toml::from_str(text).context("invalid experiment file")?;
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
        ensure!(self.train.epochs > 0, "train.epochs must be at least 1");
        self.mixer
            .validate()
            .with_context(|| format!("mixer ({})", self.mixer.label()))?;
        self.model.resnet()?;
        Ok(())
    }
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
    let mut places: Vec<PathBuf> = data.dir.iter().cloned().collect();
    if data.dir.is_none() {
        if let Some(dir) = std::env::var_os("MIXAUG_DATA") {
            places.push(dir.into());
        }
        places.push(PathBuf::from("data"));
    }
    let id = DatasetId::from_name(&data.dataset)
        .with_context(|| format!("data.dataset: unknown data set `{}`", data.dataset))?;
    if id == DatasetId::FashionMnist && data.dir.is_none() {
        places.push(PathBuf::from(DEBIAN_FASHION_MNIST));
    }
    let dir = id.locate(&places)?;
    let dataset: Arc<dyn ImageDataset> = match id {
        DatasetId::FashionMnist => Arc::new(Mnist::Fashion.load(&[dir], split)?),
        DatasetId::Mnist => Arc::new(Mnist::Digits.load(&[dir], split)?),
        DatasetId::Cifar10 => Arc::new(Cifar::Ten.load(&dir, split)?),
        DatasetId::Cifar100 => Arc::new(Cifar::HundredFine.load(&dir, split)?),
        other => bail!(
            "data.dataset: `{}` is not supported by experiments yet (fashion-mnist, mnist, cifar10, cifar100)",
            other.name()
        ),
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

/// Runs every seed of `experiment` on the autodiff `device` into the folder `out`,
/// printing one line per epoch unless `quiet`; returns each seed's metrics.
pub fn run_experiment(
    experiment: &Experiment,
    out: &Path,
    device: &Device,
    quiet: bool,
) -> Result<Vec<(u64, Vec<EpochMetrics>)>> {
    experiment.validate()?;
    std::fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    std::fs::write(out.join("config.toml"), toml::to_string(experiment)?)
        .with_context(|| format!("cannot write the config copy in {}", out.display()))?;
    let train_set = load_split(&experiment.data, Split::Train)?;
    let eval_set = load_split(&experiment.data, Split::Test)?;
    ensure!(
        train_set.num_classes() <= experiment.model.num_classes,
        "model.num_classes = {} but the data set has {} classes",
        experiment.model.num_classes,
        train_set.num_classes()
    );
    let mixer = experiment.mixer.init()?;
    let csv_path = out.join("metrics.csv");
    let mut csv = std::fs::File::create(&csv_path)
        .with_context(|| format!("cannot write {}", csv_path.display()))?;
    writeln!(csv, "seed,epoch,mix_loss,lr,top1,top5,images_per_second")?;
    let mut results = Vec::new();
    for &seed in &experiment.seeds {
        device.seed(seed);
        let loader = |set: &Arc<dyn ImageDataset>, training: bool| {
            let config = LoaderConfig::new(experiment.data.batch_size)
                .with_seed(seed)
                .with_to_rgb(true)
                .with_shuffle(training)
                .with_drop_last(training);
            let pipeline = if training {
                experiment.data.train_transforms.clone()
            } else {
                Pipeline::default()
            };
            Loader::new(set.clone(), pipeline, experiment.data.normalize, config)
        };
        let train_loader = loader(&train_set, true)?;
        let eval_loader = loader(&eval_set, false)?;
        let model = experiment.model.resnet()?.init(device);
        let mut options = experiment.train.clone();
        options.seed = options.seed.wrapping_add(seed);
        let network = Network::new(model, &options, device);
        let mut rows = Vec::new();
        let (network, history) = train(
            network,
            &mixer,
            &train_loader,
            &eval_loader,
            &options,
            device,
            |m| {
                if !quiet {
                    println!(
                        "{} seed {seed} epoch {}/{}: mix_loss {:.4}, top-1 {:.2}%, top-5 {:.2}%, lr {:.4}, {:.0} img/s",
                        experiment.name, m.epoch, options.epochs, m.mix_loss, m.top1, m.top5, m.lr, m.images_per_second
                    );
                }
                rows.push(format!(
                    "{seed},{},{},{},{},{},{}",
                    m.epoch, m.mix_loss, m.lr, m.top1, m.top5, m.images_per_second
                ));
            },
        )
        .with_context(|| format!("{} (seed {seed})", experiment.name))?;
        for row in rows {
            writeln!(csv, "{row}")?;
        }
        csv.flush()?;
        save_checkpoint(&network, &out.join(format!("seed-{seed}.safetensors")))?;
        results.push((seed, history));
    }
    Ok(results)
}

/// Writes the network's weights to `path` atomically: to `path.partial`, then renamed.
pub fn save_checkpoint(network: &Network, path: &Path) -> Result<()> {
    let partial = path.with_extension("safetensors.partial");
    let mut store = SafetensorsStore::from_file(&partial);
    network
        .save_into(&mut store)
        .map_err(|e| anyhow::anyhow!("{e}"))
        .with_context(|| format!("cannot write {}", partial.display()))?;
    std::fs::rename(&partial, path)
        .with_context(|| format!("cannot move the checkpoint into {}", path.display()))?;
    Ok(())
}
