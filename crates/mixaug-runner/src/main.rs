//! `mixaug`: the command line of the mixaug workspace.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Parser, Subcommand};
use mixaug_masks::MixConfig;
use mixaug_models::{ModelSpec, Stem};
use mixaug_runner::cam::{cam_pictures, load_cam_model, load_square};
use mixaug_runner::experiment::{Experiment, RunOptions, run_experiment};
use mixaug_runner::tables::{
    TableOverrides, find_table, list_line, load_tables, report_markdown, run_table, smoke_table,
};
use mixaug_runner::train::{DataParallel, terminal_ui_possible};
use mixaug_runner::{
    device::parse_device,
    gallery::{GalleryOptions, render_gallery},
    render::{Normalization, save_png},
    saliency::saliency_picture,
};

/// Mixing data augmentation for image classification.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Draw what mixing methods do to a few photos, as one PNG grid.
    Gallery(GalleryArgs),
    /// Write the fine-grained saliency map (OpenCV-exact) of photos and an overlay.
    Saliency(SaliencyArgs),
    /// Write class activation map overlays of photos under a trained ResNet checkpoint.
    Cam(CamArgs),
    /// Run an experiment file: one training run per seed into a run folder.
    Train(TrainArgs),
    /// Run the quick table (Fashion-MNIST, every method, 2 seeds) or a paper table from
    /// `configs/tables/`, and write its report.
    Reproduce(ReproduceArgs),
}

/// The table `mixaug reproduce` runs by default.
const QUICK_TABLE: &str = "quick";

/// What `--fast` changes in a table run.
#[derive(Debug, Clone, Copy)]
struct Fast {
    seeds: usize,
    epochs: usize,
    eval_subset: usize,
}

const FAST: Fast = Fast {
    seeds: 2,
    epochs: 2,
    eval_subset: 1000,
};

#[derive(clap::Args, Debug)]
struct ReproduceArgs {
    /// Folder holding the data set. Default: $MIXAUG_DATA, ./data (and Debian's package
    /// folder for Fashion-MNIST).
    #[arg(long)]
    data: Option<PathBuf>,
    /// Epochs per run (default: the table's; milestones and warm-up are scaled).
    #[arg(long)]
    epochs: Option<usize>,
    /// Seeds per cell, 0..n (default: the table's).
    #[arg(long)]
    seeds: Option<usize>,
    /// The table to run from the tables folder (`--list` shows them). Default: `quick`,
    /// the quick table on Fashion-MNIST (with --smoke: every table).
    #[arg(long)]
    table: Option<String>,
    /// A smoke run of the table's protocol in a few minutes: 2 seeds, 2 epochs, the
    /// first 1,000 test images (numbers that say nothing about the methods).
    #[arg(long)]
    fast: bool,
    /// List the paper tables and exit.
    #[arg(long)]
    list: bool,
    /// Check every cell of the table (of every table without --table) and train each row
    /// and column one step on generated data in the real format.
    #[arg(long)]
    smoke: bool,
    /// Continue an interrupted run in the same --out folder.
    #[arg(long)]
    resume: bool,
    /// The folder of paper tables.
    #[arg(long, default_value = "configs/tables")]
    tables: PathBuf,
    /// Where the report, plots and run folders go. Default: runs/TABLE (runs/TABLE-fast
    /// with --fast, runs/smoke for --smoke).
    #[arg(long)]
    out: Option<PathBuf>,
    /// No progress or per-epoch lines.
    #[arg(long)]
    quiet: bool,
    /// Backend: flex, ndarray, wgpu, vulkan, metal, tch, cuda or cuda:INDEX; several devices
    /// separated by commas (e.g. cuda:0,cuda:1) each take a batch per step (burn-train's
    /// data parallel strategies, --data-parallel, docs/training.md).
    #[arg(long, default_value = "flex")]
    device: String,
    /// How several --device train together.
    #[arg(long, value_enum, default_value_t = DataParallel::MultiDevice)]
    data_parallel: DataParallel,
}

#[derive(clap::Args, Debug)]
struct TrainArgs {
    /// The experiment (TOML).
    config: PathBuf,
    /// The run folder (config copy, metrics.csv, one checkpoint per seed).
    #[arg(long, default_value = "runs/latest")]
    out: PathBuf,
    /// Continue the interrupted run kept in --out (same experiment file).
    #[arg(long)]
    resume: bool,
    /// No progress or per-epoch lines.
    #[arg(long)]
    quiet: bool,
    /// Plain progress lines on a terminal too. Default there: burn-train's terminal UI
    /// (curves and progress; `q` offers to stop the run, whose state --resume continues),
    /// with each seed's epoch lines printed when it closes.
    #[arg(long)]
    plain: bool,
    /// Backend: flex, ndarray, wgpu, vulkan, metal, tch, cuda or cuda:INDEX; several devices
    /// separated by commas (e.g. cuda:0,cuda:1) each take a batch per step (burn-train's
    /// data parallel strategies, --data-parallel, docs/training.md).
    #[arg(long, default_value = "flex")]
    device: String,
    /// How several --device train together.
    #[arg(long, value_enum, default_value_t = DataParallel::MultiDevice)]
    data_parallel: DataParallel,
}

#[derive(clap::Args, Debug)]
struct CamArgs {
    /// Photos (PNG or JPEG); each is centre-cropped to a square and resized to `--size`.
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// A torchvision-format checkpoint (.pth, .pt or .safetensors).
    #[arg(long)]
    checkpoint: PathBuf,
    /// Architecture: a name of mixaug-models' table with class activation maps (the
    /// ResNet family, ImageNet stem).
    #[arg(long, default_value = "resnet50")]
    arch: String,
    /// Classes of the checkpoint's classifier.
    #[arg(long, default_value_t = 1000)]
    classes: usize,
    /// Blocks per stage, overriding the architecture's (e.g. 1,1,1,1).
    #[arg(long, value_parser = parse_layers)]
    layers: Option<[usize; 4]>,
    /// Stem channels, for narrow networks (torchvision: 64).
    #[arg(long, default_value_t = 64)]
    base_width: usize,
    /// The class whose map is drawn. Default: each photo's top prediction.
    #[arg(long)]
    class: Option<usize>,
    /// Side of the square input.
    #[arg(long, default_value_t = 224)]
    size: u32,
    /// Folder receiving `<name>.cam.png` per photo.
    #[arg(long, default_value = "cam")]
    out: PathBuf,
    /// Backend: flex, ndarray, wgpu, vulkan, metal, tch, cuda or cuda:INDEX.
    #[arg(long, default_value = "flex")]
    device: String,
}

fn parse_layers(s: &str) -> Result<[usize; 4], String> {
    let v: Vec<usize> = s
        .split(',')
        .map(|x| x.trim().parse::<usize>().map_err(|e| format!("`{x}`: {e}")))
        .collect::<Result<_, _>>()?;
    v.try_into()
        .map_err(|v: Vec<usize>| format!("expected 4 stages, got {}", v.len()))
}

#[derive(clap::Args, Debug)]
struct SaliencyArgs {
    /// Photos (PNG or JPEG), mapped at their own size.
    #[arg(required = true)]
    images: Vec<PathBuf>,
    /// Folder receiving `<name>.saliency.png` and `<name>.overlay.png` per photo.
    #[arg(long, default_value = "saliency")]
    out: PathBuf,
}

#[derive(clap::Args, Debug)]
struct GalleryArgs {
    /// Photos to mix (PNG or JPEG, two or more). Default: two of the bundled photos.
    images: Vec<PathBuf>,
    /// A method to show (repeatable): none, mixup, cutmix. Default: every method.
    #[arg(long = "method", value_name = "NAME")]
    methods: Vec<String>,
    /// A TOML file with one mixer configuration (e.g. `method = "cutmix"` and `alpha = 0.2`),
    /// shown in addition to the `--method`s.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Override a hyper-parameter of every `--method`, as TOML (`--set alpha=0.2`).
    #[arg(long = "set", value_name = "KEY=VALUE")]
    overrides: Vec<String>,
    /// Seed of the random draws.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Size the photos are resized to, HEIGHTxWIDTH.
    #[arg(long, default_value = "144x192", value_parser = parse_size)]
    size: (u32, u32),
    /// Channel means of the normalisation (of x/255), comma separated. Default: ImageNet.
    #[arg(long, value_parser = parse_triple)]
    mean: Option<[f32; 3]>,
    /// Channel standard deviations of the normalisation, comma separated. Default: ImageNet.
    #[arg(long, value_parser = parse_triple)]
    std: Option<[f32; 3]>,
    /// Output PNG.
    #[arg(long, default_value = "gallery.png")]
    out: PathBuf,
    /// Backend: flex, ndarray, wgpu, vulkan, metal, tch, cuda or cuda:INDEX.
    #[arg(long, default_value = "flex")]
    device: String,
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (h, w) = s
        .split_once('x')
        .ok_or("expected HEIGHTxWIDTH, e.g. 144x192")?;
    let num = |v: &str| v.trim().parse::<u32>().map_err(|e| format!("`{v}`: {e}"));
    Ok((num(h)?, num(w)?))
}

fn parse_triple(s: &str) -> Result<[f32; 3], String> {
    let v: Vec<f32> = s
        .split(',')
        .map(|x| x.trim().parse::<f32>().map_err(|e| format!("`{x}`: {e}")))
        .collect::<Result<_, _>>()?;
    v.try_into()
        .map_err(|v: Vec<f32>| format!("expected 3 values, got {}", v.len()))
}

fn bundled_photos() -> Vec<PathBuf> {
    let assets = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../assets");
    vec![assets.join("astronaut.png"), assets.join("chelsea.png")]
}

fn method_configs(args: &GalleryArgs) -> Result<Vec<MixConfig>> {
    let mut configs = Vec::new();
    let names: Vec<String> = if args.methods.is_empty() && args.config.is_none() {
        MixConfig::all_defaults()
            .iter()
            .map(|c| c.label().to_string())
            .filter(|n| n != "none")
            .collect()
    } else {
        args.methods.clone()
    };
    for name in names {
        let Some(base) = MixConfig::from_name(&name) else {
            let known: Vec<&str> = MixConfig::all_defaults()
                .iter()
                .map(|c| c.label())
                .collect();
            bail!(
                "unknown method `{name}`: expected one of {}",
                known.join(", ")
            );
        };
        let mut text = match &base {
            // The Summers & Dinneen variants are one method with a `kind`.
            MixConfig::MixedExample(c) => {
                format!("method = {:?}\nkind = {:?}\n", base.name(), c.kind.name())
            }
            other => format!("method = {:?}\n", other.name()),
        };
        for o in &args.overrides {
            text.push_str(o);
            text.push('\n');
        }
        let config: MixConfig =
            toml::from_str(&text).with_context(|| format!("invalid --set for method `{name}`"))?;
        configs.push(config);
    }
    if let Some(path) = &args.config {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        configs.push(
            toml::from_str(&text)
                .with_context(|| format!("invalid mixer configuration in {}", path.display()))?,
        );
    }
    for c in &configs {
        c.validate()
            .with_context(|| format!("method `{}`", c.label()))?;
    }
    Ok(configs)
}

fn gallery(args: GalleryArgs) -> Result<()> {
    let device = parse_device(&args.device)?;
    let defaults = Normalization::IMAGENET;
    let options = GalleryOptions {
        images: if args.images.is_empty() {
            bundled_photos()
        } else {
            args.images.clone()
        },
        methods: method_configs(&args)?,
        seed: args.seed,
        size: args.size,
        normalization: Normalization {
            mean: args.mean.unwrap_or(defaults.mean),
            std: args.std.unwrap_or(defaults.std),
        },
    };
    let picture = render_gallery(&options, &device)?;
    save_png(&picture, &args.out)?;
    println!("wrote {}", args.out.display());
    Ok(())
}

fn saliency(args: SaliencyArgs) -> Result<()> {
    for path in &args.images {
        let photo = image::open(path)
            .with_context(|| format!("cannot read image {}", path.display()))?
            .to_rgb8();
        let picture =
            saliency_picture(&photo).with_context(|| format!("saliency of {}", path.display()))?;
        let stem = path
            .file_stem()
            .map_or_else(|| "image".into(), |s| s.to_string_lossy().into_owned());
        let map_path = args.out.join(format!("{stem}.saliency.png"));
        let overlay_path = args.out.join(format!("{stem}.overlay.png"));
        save_png(&picture.map, &map_path)?;
        save_png(&picture.overlay, &overlay_path)?;
        println!(
            "{}: {}×{}, peak at row {}, column {} → {}, {}",
            path.display(),
            photo.height(),
            photo.width(),
            picture.peak.0,
            picture.peak.1,
            map_path.display(),
            overlay_path.display()
        );
    }
    Ok(())
}

fn cam(args: CamArgs) -> Result<()> {
    let device = parse_device(&args.device)?;
    let mut spec = ModelSpec::named(&args.arch, args.classes)
        .with_stem(Stem::ImageNet)
        .with_base_width(args.base_width);
    spec.layers = args.layers;
    let model = load_cam_model(&spec, &args.checkpoint, &device)?;
    let photos = args
        .images
        .iter()
        .map(|p| load_square(p, args.size))
        .collect::<Result<Vec<_>>>()?;
    let pictures = cam_pictures(
        &model,
        &photos,
        args.class,
        Normalization::IMAGENET,
        &device,
    )?;
    for (path, picture) in args.images.iter().zip(&pictures) {
        let stem = path
            .file_stem()
            .map_or_else(|| "image".into(), |s| s.to_string_lossy().into_owned());
        let out = args.out.join(format!("{stem}.cam.png"));
        save_png(&picture.overlay, &out)?;
        println!(
            "{}: class {} (logit {:.3}) → {}",
            path.display(),
            picture.class,
            picture.score,
            out.display()
        );
    }
    Ok(())
}

/// The autodiff training device of a comma-separated `--device` list, and run options
/// with the others as replicas, trained together as `data_parallel` says.
fn training_run(
    list: &str,
    data_parallel: DataParallel,
    quiet: bool,
    resume: bool,
) -> Result<(burn::prelude::Device, RunOptions)> {
    let mut devices = list
        .split(',')
        .map(|name| Ok(parse_device(name.trim())?.autodiff()))
        .collect::<Result<Vec<_>>>()?;
    // Refused before any data is read.
    data_parallel.check_devices(&devices)?;
    let main = devices.remove(0);
    let run = RunOptions {
        quiet,
        resume,
        replicas: devices,
        data_parallel,
        ..RunOptions::default()
    };
    Ok((main, run))
}

fn train(args: TrainArgs) -> Result<()> {
    let text = std::fs::read_to_string(&args.config)
        .with_context(|| format!("cannot read {}", args.config.display()))?;
    let experiment =
        Experiment::from_toml(&text).with_context(|| format!("in {}", args.config.display()))?;
    let (device, mut run) =
        training_run(&args.device, args.data_parallel, args.quiet, args.resume)?;
    run.terminal_ui =
        !args.plain && !run.quiet && std::env::var_os("CI").is_none() && terminal_ui_possible();
    let results = run_experiment(&experiment, &args.out, &device, &run)?;
    for (seed, history) in results {
        if let Some(last) = history.last() {
            println!(
                "{} seed {seed}: final top-1 {:.2}%, best {:.2}%",
                experiment.name,
                last.top1,
                history.iter().map(|m| m.top1).fold(0.0, f64::max)
            );
        }
    }
    println!("run folder: {}", args.out.display());
    Ok(())
}

fn reproduce(args: ReproduceArgs) -> Result<()> {
    if args.list {
        for table in load_tables(&args.tables)? {
            println!("{}", list_line(&table));
        }
        return Ok(());
    }
    let (device, run) = training_run(&args.device, args.data_parallel, args.quiet, args.resume)?;
    let start = std::time::Instant::now();
    if args.smoke {
        // Every table unless one was named.
        let tables = match &args.table {
            Some(name) => vec![find_table(&args.tables, name)?],
            None => load_tables(&args.tables)?,
        };
        let work = args.out.unwrap_or_else(|| PathBuf::from("runs/smoke"));
        for table in &tables {
            println!("smoke: {}", table.name);
            let report = smoke_table(table, &work.join(&table.name), &device, args.quiet)?;
            println!(
                "smoke: {} ok — {} cells checked, {} trained one step, {:.1} s",
                table.name, report.cells_checked, report.cells_trained, report.seconds
            );
        }
        return Ok(());
    }
    let table = find_table(&args.tables, args.table.as_deref().unwrap_or(QUICK_TABLE))?;
    let fast = args.fast.then_some(FAST);
    let out = args.out.unwrap_or_else(|| {
        let name = if fast.is_some() {
            format!("{}-fast", table.name)
        } else {
            table.name.clone()
        };
        PathBuf::from("runs").join(name)
    });
    let overrides = TableOverrides {
        data: args.data,
        epochs: args.epochs.or(fast.map(|f| f.epochs)),
        seeds: args.seeds.or(fast.map(|f| f.seeds)),
        eval_subset: fast.map(|f| f.eval_subset),
    };
    let results = run_table(&table, &overrides, &out, &device, &run)?;
    println!(
        "\n{}",
        report_markdown(&table, &results, &mixaug_runner::files::git_commit())
    );
    println!(
        "{:.0} s; report: {}",
        start.elapsed().as_secs_f64(),
        out.join("report.md").display()
    );
    Ok(())
}

fn main() -> Result<()> {
    match Cli::parse().command {
        Command::Gallery(args) => gallery(args),
        Command::Saliency(args) => saliency(args),
        Command::Cam(args) => cam(args),
        Command::Train(args) => train(args),
        Command::Reproduce(args) => reproduce(args),
    }
}
