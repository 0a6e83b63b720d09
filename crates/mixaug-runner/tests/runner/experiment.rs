//! An experiment file end to end on small data in the real Fashion-MNIST IDX format
//! (generated here), and the errors of bad experiment files.

use burn::prelude::*;
use mixaug_data::idx_bytes;
use mixaug_masks::MixConfig;
use mixaug_runner::experiment::{Experiment, RunOptions, run_experiment};
use mixaug_runner::train::TrainOptions;

/// `n` 12×12 images: class `i % 10`, brightness rising with the class, plus a bright
/// column at the class index so classes differ in shape too.
fn write_idx(dir: &std::path::Path, images: &str, labels: &str, n: usize) {
    let mut pixels = Vec::new();
    let mut classes = Vec::new();
    for i in 0..n {
        let class = (i % 10) as u8;
        classes.push(class);
        for y in 0..12 {
            for x in 0..12u8 {
                let v = 20 * class + if x == class { 60 } else { 0 } + ((i * 7 + y * 3) % 11) as u8;
                pixels.push(v);
            }
        }
    }
    std::fs::write(dir.join(images), idx_bytes(&[n, 12, 12], &pixels)).unwrap();
    std::fs::write(dir.join(labels), idx_bytes(&[n], &classes)).unwrap();
}

fn quiet() -> RunOptions {
    RunOptions {
        quiet: true,
        ..RunOptions::default()
    }
}

fn config(dir: &std::path::Path) -> String {
    crate::tiny_experiment(
        "tiny-cutmix",
        dir,
        &[0, 1],
        16,
        2,
        "eval_subset = 30\neval_train_subset = 10\n",
    )
}

#[test]
fn a_run_folder_holds_config_metrics_and_checkpoints() {
    let data = tempfile::tempdir().unwrap();
    write_idx(
        data.path(),
        "train-images-idx3-ubyte",
        "train-labels-idx1-ubyte",
        64,
    );
    write_idx(
        data.path(),
        "t10k-images-idx3-ubyte",
        "t10k-labels-idx1-ubyte",
        40,
    );
    let experiment = Experiment::from_toml(&config(data.path())).unwrap();
    let out = tempfile::tempdir().unwrap();
    let device = Device::flex().autodiff();
    let results = run_experiment(&experiment, out.path(), &device, &quiet()).unwrap();
    assert_eq!(results.len(), 2);
    assert!(results.iter().all(|(_, h)| h.len() == 2));
    // The config copy parses back to the same experiment.
    let copy = std::fs::read_to_string(out.path().join("config.toml")).unwrap();
    assert_eq!(Experiment::from_toml(&copy).unwrap(), experiment);
    // A header and one row per seed and epoch; the accuracies are percentages of 30 images.
    let csv = std::fs::read_to_string(out.path().join("metrics.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "seed,epoch,mix_loss,lr,top1,top5,train_top1,images_per_second"
    );
    assert_eq!(lines.len(), 5);
    for (seed, history) in &results {
        for m in history {
            assert!((m.top1 * 30.0 / 100.0 - (m.top1 * 30.0 / 100.0).round()).abs() < 1e-9);
            // The training accuracy counts the first 10 training images.
            let train = m.train_top1.expect("eval_train_subset is set");
            assert!(
                (train / 10.0 - (train / 10.0).round()).abs() < 1e-9,
                "{m:?}"
            );
            assert!(m.mix_loss.is_finite(), "seed {seed}: {m:?}");
        }
    }
    // The final report: the statistic (last epoch's top-1 by default) per seed, the hash.
    let report = std::fs::read_to_string(out.path().join("report.md")).unwrap();
    assert!(report.contains(&experiment.hash().unwrap()), "{report}");
    assert!(report.contains("top-1 of the last epoch"), "{report}");
    for (seed, history) in &results {
        let row = format!("| {seed} | {:.2} |", history.last().unwrap().top1);
        assert!(report.contains(&row), "{row} not in {report}");
    }
    for seed in [0, 1] {
        let checkpoint = out.path().join(format!("seed-{seed}.safetensors"));
        assert!(std::fs::metadata(&checkpoint).unwrap().len() > 0);
        assert!(!checkpoint.with_extension("safetensors.partial").exists());
    }
}

#[test]
fn bad_experiment_files_name_the_problem() {
    let dir = std::path::Path::new("/nonexistent");
    let cutmix = "method = \"cutmix\"";
    let attentive = config(dir).replace(cutmix, "method = \"attentivemix\"");
    let teacher = "\n[teacher]\narch = \"resnet18\"\nstem = \"imagenet\"\nnum_classes = 1000\n";
    Experiment::from_toml(&format!("{attentive}{teacher}")).unwrap();
    // Each edit of the valid file, and what its error must name.
    let cases = [
        (
            config(dir).replace("batch_size = 16", "batchsize = 16"),
            "batchsize",
        ),
        (
            config(dir).replace(cutmix, &format!("{cutmix}\nprob = 1.5")),
            "cutmix.prob",
        ),
        (config(dir).replace("resnet18", "vgg11"), "model.arch"),
        // TransMix reads a class token's attention: a ResNet has none.
        (
            config(dir).replace(cutmix, "method = \"transmix\""),
            "it needs a DeiT",
        ),
        // SnapMix reads CAMs, which DeiT does not define.
        (
            config(dir)
                .replace(cutmix, "method = \"snapmix\"")
                .replace("\"resnet18\"", "\"deit_small_patch16_224\""),
            "does not define",
        ),
        // AttentiveMix needs a [teacher]; no other method takes one.
        (attentive, "[teacher]"),
        (format!("{}{teacher}", config(dir)), "only AttentiveMix"),
        // Evaluating some epochs only leaves the last epoch's top-1 as the statistic.
        (
            format!(
                "statistic = {{ kind = \"best\" }}\n{}",
                config(dir).replace("seed = 0\n", "seed = 0\neval_every = 2\n")
            ),
            "train.eval_every = 2",
        ),
        (
            config(dir).replace("eval_train_subset = 10", "eval_train_subset = 0"),
            "data.eval_train_subset",
        ),
        // A negative Beta concentration is an error (0 means no mixing).
        (
            config(dir).replace(cutmix, &format!("{cutmix}\nalpha = -1.0")),
            "alpha",
        ),
        // DeiT-S's 16-pixel patches do not divide 200 pixels: the experiment's image size
        // is at fault, not the architecture.
        (
            config(dir).replace(
                "arch = \"resnet18\"",
                "arch = \"deit_small_patch16_224\"\nimage_size = 200",
            ),
            "model.image_size = 200",
        ),
    ];
    for (toml, expected) in cases {
        let err = format!("{:#}", Experiment::from_toml(&toml).unwrap_err());
        assert!(err.contains(expected), "`{expected}` not in: {err}");
    }
    // A missing data set lists where it looked.
    let experiment = Experiment::from_toml(&config(dir)).unwrap();
    let out = tempfile::tempdir().unwrap();
    let err = run_experiment(
        &experiment,
        out.path(),
        &Device::flex().autodiff(),
        &quiet(),
    )
    .unwrap_err();
    assert!(format!("{err:#}").contains("/nonexistent"), "{err:#}");
}

#[test]
fn the_example_experiments_parse() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../configs/examples");
    let mut count = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            let text = std::fs::read_to_string(&path).unwrap();
            Experiment::from_toml(&text).unwrap_or_else(|e| panic!("{}: {e:#}", path.display()));
            count += 1;
        }
    }
    assert!(count > 0);
}

#[test]
fn an_experiment_names_only_what_differs_from_the_defaults() {
    let minimal = r#"
name = "minimal"
[data]
dataset = "fashion-mnist"
batch_size = 8
normalize = { mean = [0.5, 0.5, 0.5], std = [0.25, 0.25, 0.25] }
[model]
arch = "resnet18"
num_classes = 10
"#;
    let e = Experiment::from_toml(minimal).unwrap();
    assert_eq!(e.train, TrainOptions::default());
    assert_eq!(e.mixer, MixConfig::None);
    assert_eq!(e.seeds, [0]);
    // One key of [train] given: the others keep their defaults.
    let e = Experiment::from_toml(&format!("{minimal}[train]\nnesterov = true\n")).unwrap();
    assert!(e.train.nesterov);
    assert_eq!(e.train.epochs, TrainOptions::default().epochs);
}
