//! Short runs on a tiny generated data set (two classes: the bright half of an 8×10 grey
//! image is the left one or the right one, with pixel noise): with plain CE and CutMix the
//! mixed loss falls and the clean accuracy ends above chance; SnapMix (guided by the trained
//! model's maps) and CutMix + SUMix train to above-chance accuracy with finite losses; a
//! diverging run stops with a clear error.

use std::sync::Arc;

use burn::optim::GradientsParams;
use burn::prelude::*;
use mixaug_data::{ImageU8, InMemoryDataset, Loader, LoaderConfig, Normalize, Pipeline};
use mixaug_loss::SumixConfig;
use mixaug_masks::MixConfig;
use mixaug_models::Classifier;
use mixaug_models::{BlockKind, ResNetConfig, Stem};
use mixaug_runner::network::{Network, Teacher};
use mixaug_runner::train::{
    DataParallel, Event, LossKind, RunControl, Schedule, TrainOptions, train,
};

fn data(n: usize, seed: u64) -> InMemoryDataset {
    let (h, w) = (8, 10);
    let mut state = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let mut noise = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 61) as u8 * 8
    };
    let labels: Vec<usize> = (0..n).map(|i| i % 2).collect();
    let images = labels
        .iter()
        .map(|&label| {
            let pixels = (0..h * w)
                .map(|k| {
                    let left = k % w < w / 2;
                    let bright = left == (label == 0);
                    (if bright { 180 } else { 40 }) + noise()
                })
                .collect();
            ImageU8::new(h, w, 1, pixels).unwrap()
        })
        .collect();
    InMemoryDataset::new(images, labels, 2).unwrap()
}

fn loaders() -> (Loader, Loader) {
    let norm = Normalize {
        mean: [0.45; 3],
        std: [0.25; 3],
    };
    let config = LoaderConfig::new(16).with_workers(1).with_to_rgb(true);
    let train = Loader::new(
        Arc::new(data(64, 1)),
        Pipeline::default(),
        norm,
        config.clone(),
    )
    .unwrap();
    let eval = Loader::new(
        Arc::new(data(32, 2)),
        Pipeline::default(),
        norm,
        config.with_shuffle(false).with_drop_last(false),
    )
    .unwrap();
    (train, eval)
}

fn options(loss: LossKind, epochs: usize, lr: f64) -> TrainOptions {
    TrainOptions {
        epochs,
        lr,
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
        eval_every: 1,
        ..TrainOptions::default()
    }
}

fn run(
    mixer: &str,
    loss: LossKind,
    epochs: usize,
    lr: f64,
) -> anyhow::Result<Vec<mixaug_runner::train::EpochMetrics>> {
    let device = Device::flex().autodiff();
    let opts = options(loss, epochs, lr);
    let network = tiny_network(&device, loss, false);
    let mixer = MixConfig::from_name(mixer).unwrap().init().unwrap();
    let (train_loader, eval_loader) = loaders();
    let mut seen = 0;
    let (_, history) = train(
        network,
        &mixer,
        &train_loader,
        &eval_loader,
        &opts,
        &RunControl::default(),
        &device,
        |event| {
            if let Event::Epoch(_) = event {
                seen += 1;
            }
            Ok(())
        },
    )?;
    assert_eq!(seen, epochs);
    // No clean training prefix was given: no train top-1.
    assert!(
        history.iter().all(|m| m.train_top1.is_none()),
        "{history:?}"
    );
    Ok(history)
}

fn assert_learns(history: &[mixaug_runner::train::EpochMetrics]) {
    let (first, last) = (&history[0], history.last().unwrap());
    assert!(last.mix_loss < first.mix_loss, "{history:?}");
    assert!(last.top1 > 50.0, "{history:?}");
    assert_eq!(last.top5, 100.0); // two classes: top-2 always hits
}

#[test]
fn plain_and_cutmix_runs_learn() {
    let _serial = serial();
    assert_learns(&run("none", LossKind::SoftCe, 4, 0.05).unwrap());
    assert_learns(&run("cutmix", LossKind::SoftCe, 4, 0.05).unwrap());
}

#[test]
fn snapmix_and_sumix_runs_learn() {
    let _serial = serial();
    // SnapMix's weights need not sum to 1 (same-label pairs count double, and with two
    // classes half the pairs share a label), so its batch loss is not comparable from
    // epoch to epoch: only the clean accuracy is checked.
    let snapmix = run("snapmix", LossKind::PairCe, 4, 0.05).unwrap();
    assert!(
        snapmix.iter().all(|m| m.mix_loss.is_finite()),
        "{snapmix:?}"
    );
    assert!(snapmix.last().unwrap().top1 > 50.0, "{snapmix:?}");
    // SUMix's loss adds the regulariser, whose size follows each batch's λ: over four
    // batches per epoch it is too noisy to compare; the accuracy is checked.
    let sumix = run("cutmix", LossKind::Sumix(SumixConfig::new()), 4, 0.05).unwrap();
    assert!(sumix.iter().all(|m| m.mix_loss.is_finite()), "{sumix:?}");
    assert!(sumix.last().unwrap().top1 > 50.0, "{sumix:?}");
}

#[test]
fn divergence_and_missing_teachers_are_errors() {
    let _serial = serial();
    // burn-optim's cosine takes rates up to 1: a larger one is refused before training.
    let err = run("none", LossKind::SoftCe, 2, 1e30).unwrap_err();
    assert!(err.to_string().contains("(0, 1]"), "{err}");
    let err = run("attentivemix", LossKind::SoftCe, 1, 0.05).unwrap_err();
    assert!(err.to_string().contains("teacher"), "{err}");

    // A run that diverges in epoch 2 (the rate jumps ×1e30 there) names it and keeps the
    // state of epoch 1, the last good one.
    let device = Device::flex().autodiff();
    let state = tempfile::tempdir().unwrap();
    let opts = TrainOptions {
        schedule: Schedule::MultiStep {
            milestones: vec![1],
            gamma: 1e30,
        },
        ..options(LossKind::SoftCe, 3, 0.05)
    };
    let control = RunControl {
        state_dir: Some(state.path().to_path_buf()),
        ..RunControl::default()
    };
    let network = tiny_network(&device, LossKind::SoftCe, false);
    let err = fit(network, &MixConfig::None.init().unwrap(), &opts, &control).unwrap_err();
    assert!(err.to_string().contains("at epoch 2"), "{err}");
    assert!(err.to_string().contains("diverged"), "{err}");
    assert_eq!(kept_epochs(state.path()), [1]);
}

/// The epochs whose history and three checkpoints a state folder holds.
fn kept_epochs(state: &std::path::Path) -> Vec<usize> {
    let mut epochs: Vec<usize> = std::fs::read_dir(state)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.strip_prefix("history-")?
                .strip_suffix(".toml")?
                .parse()
                .ok()
        })
        .filter(|epoch| {
            ["model", "optim", "scheduler"]
                .iter()
                .all(|r| state.join(format!("checkpoint/{r}-{epoch}.bpk")).is_file())
        })
        .collect();
    epochs.sort_unstable();
    epochs
}

/// The tests of this file train one at a time: burn's generator is one per backend, and
/// two trainings running at once in one process on flex were measured to compute
/// slightly different numbers than each alone, which the exact comparisons below would
/// see. (`mixaug train` runs one training per process.)
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    SERIAL.lock().unwrap_or_else(|e| e.into_inner())
}

/// The tiny ResNet of these tests, seeded and with every parameter created. (Clones of
/// one network would not do for separate runs: BatchNorm's running statistics are shared
/// between clones.)
fn tiny_network(device: &Device, loss: LossKind, mid: bool) -> Network {
    tiny_network_seeded(device, loss, mid, 0)
}

fn tiny_network_seeded(device: &Device, loss: LossKind, mid: bool, seed: u64) -> Network {
    device.seed(seed);
    let model = ResNetConfig::new(BlockKind::Basic, [1, 1, 1, 1], 2)
        .with_stem(Stem::Cifar)
        .with_base_width(4)
        .init(device);
    Network::new(
        Classifier::ResNet(model),
        matches!(loss, LossKind::Sumix(_)),
        mid,
        device,
    )
    .unwrap()
}

/// Trains `network` on the tiny data set with `mixer`, silently, on flex.
fn fit(
    network: Network,
    mixer: &mixaug_masks::MixMethod,
    opts: &TrainOptions,
    control: &RunControl,
) -> anyhow::Result<(Network, Vec<mixaug_runner::train::EpochMetrics>)> {
    let (train_loader, eval_loader) = loaders();
    let device = Device::flex().autodiff();
    train(
        network,
        mixer,
        &train_loader,
        &eval_loader,
        opts,
        control,
        &device,
        |_| Ok(()),
    )
}

/// The metrics that must agree between runs (throughput is measured, not computed).
fn computed(history: &[mixaug_runner::train::EpochMetrics]) -> Vec<(usize, f64, f64, f64, f64)> {
    history
        .iter()
        .map(|m| (m.epoch, m.mix_loss, m.lr, m.top1, m.top5))
        .collect()
}

#[test]
fn a_run_stopped_mid_epoch_resumes_exactly() {
    let _serial = serial();
    let device = Device::flex().autodiff();
    // The classifier's own rate too: its group must survive the resume (burn-train puts
    // back the checkpoint's parameter ids).
    let opts = TrainOptions {
        momentum: 0.9,
        new_layers_lr: Some(0.2),
        ..options(LossKind::SoftCe, 3, 0.05)
    };
    let mixer = MixConfig::from_name("cutmix").unwrap().init().unwrap();
    let (train_loader, eval_loader) = loaders();
    let full =
        |network: Network, control: &RunControl| fit(network, &mixer, &opts, control).unwrap().1;
    let uninterrupted = full(
        tiny_network(&device, LossKind::SoftCe, false),
        &RunControl::default(),
    );
    // The same run, stopped at the second step of epoch 2 (as a crash would stop it)…
    let state = tempfile::tempdir().unwrap();
    let control = RunControl {
        state_dir: Some(state.path().to_path_buf()),
        ..RunControl::default()
    };
    let err = train(
        tiny_network(&device, LossKind::SoftCe, false),
        &mixer,
        &train_loader,
        &eval_loader,
        &opts,
        &control,
        &device,
        |event| match event {
            Event::Step(p) if p.epoch == 2 && p.step == 2 => anyhow::bail!("stopped"),
            _ => Ok(()),
        },
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "stopped");
    // The stop reaches the `Learner` a few steps later at most: epoch 1 is kept, epoch 3
    // was not reached.
    let kept = kept_epochs(state.path());
    assert!(kept.contains(&1) && !kept.contains(&3), "{kept:?}");
    // …then continued from its state by a fresh network: every computed number agrees.
    let (trained, resumed) = fit(
        tiny_network(&device, LossKind::SoftCe, false),
        &mixer,
        &opts,
        &control,
    )
    .unwrap();
    assert_eq!(computed(&resumed), computed(&uninterrupted));
    assert_eq!(resumed.len(), 3);
    // The last two epochs' states are kept.
    assert_eq!(kept_epochs(state.path()), [2, 3]);
    // A finished run resumed again trains nothing: the kept network and metrics come back.
    let fresh = tiny_network_seeded(&device, LossKind::SoftCe, false, 7);
    let untrained = fc_and_conv(&fresh);
    let (again, history) = fit(fresh, &mixer, &opts, &control).unwrap();
    assert_eq!(computed(&history), computed(&uninterrupted));
    assert_eq!(fc_and_conv(&again), fc_and_conv(&trained));
    assert_ne!(fc_and_conv(&again), untrained);

    // A finished state in the layout of mixaug before burn-train (`epoch-NNNN/` with the
    // network's record and the history) still gives its network and metrics back.
    let legacy = tempfile::tempdir().unwrap();
    let dir = legacy.path().join("epoch-0003");
    std::fs::create_dir_all(&dir).unwrap();
    trained.clone().save_file(dir.join("network.bpk")).unwrap();
    let rows: String = history
        .iter()
        .map(|m| {
            format!(
                "[[epochs]]\nepoch = {}\nmix_loss = {}\nlr = {}\ntop1 = {}\ntop5 = {}\nimages_per_second = 1.0\n",
                m.epoch, m.mix_loss, m.lr, m.top1, m.top5
            )
        })
        .collect();
    std::fs::write(dir.join("history.toml"), rows).unwrap();
    let old = RunControl {
        state_dir: Some(legacy.path().to_path_buf()),
        ..RunControl::default()
    };
    let (network, kept) = fit(
        tiny_network_seeded(&device, LossKind::SoftCe, false, 8),
        &mixer,
        &opts,
        &old,
    )
    .unwrap();
    assert_eq!(computed(&kept), computed(&uninterrupted));
    assert_eq!(fc_and_conv(&network), fc_and_conv(&trained));
}

/// A tensor's values on the host.
fn host<const D: usize>(tensor: Tensor<D>) -> Vec<f32> {
    tensor.into_data().try_to_vec::<f32>().unwrap()
}

fn fc_and_conv(network: &Network) -> (Vec<f32>, Vec<f32>) {
    let Classifier::ResNet(m) = &network.model else {
        unreachable!("a ResNet was built")
    };
    (host(m.fc.weight.val()), host(m.conv1.weight.val()))
}

#[test]
fn new_layers_take_their_own_learning_rate() {
    let _serial = serial();
    // One plain SGD step (no momentum, no decay; cosine at step 0 gives the base rate):
    // with new_layers_lr the classifier moves exactly as in a run with that rate for
    // everything, and the backbone moves lr/new_layers_lr = 1e-4 times as far.
    let device = Device::flex().autodiff();
    let mixer = MixConfig::None.init().unwrap();
    let step = |lr: f64, new_layers_lr: Option<f64>| {
        let network = tiny_network(&device, LossKind::SoftCe, false);
        let opts = TrainOptions {
            momentum: 0.0,
            weight_decay: 0.0,
            new_layers_lr,
            ..options(LossKind::SoftCe, 1, lr)
        };
        let control = RunControl {
            max_steps_per_epoch: Some(1),
            ..RunControl::default()
        };
        let before = fc_and_conv(&network);
        let (after, _) = fit(network, &mixer, &opts, &control).unwrap();
        let after = fc_and_conv(&after);
        let diff = |a: &[f32], b: &[f32]| a.iter().zip(b).map(|(x, y)| y - x).collect::<Vec<f32>>();
        (diff(&before.0, &after.0), diff(&before.1, &after.1))
    };
    let (fc_all, conv_all) = step(0.5, None);
    let (fc_split, conv_split) = step(5e-5, Some(0.5));
    let norm = |v: &[f32]| v.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>().sqrt();
    assert!(norm(&fc_all) > 1e-4);
    for (a, b) in fc_all.iter().zip(&fc_split) {
        assert!((a - b).abs() <= 1e-6 + 1e-4 * a.abs(), "{a} vs {b}");
    }
    let ratio = norm(&conv_split) / norm(&conv_all);
    assert!((ratio - 1e-4).abs() < 1e-6, "{ratio}");
}

#[test]
fn baseline_plus_trains_a_mid_level_head() {
    let _serial = serial();
    let device = Device::flex().autodiff();
    let mixer = MixConfig::from_name("snapmix").unwrap().init().unwrap();
    let opts = TrainOptions {
        mid_level_head: true,
        ..options(LossKind::PairCe, 2, 0.05)
    };
    let network = tiny_network(&device, LossKind::PairCe, true);
    let head_before: Vec<f32> = host(network.mid.as_ref().unwrap().fc.weight.val());
    let (network, history) = fit(network, &mixer, &opts, &RunControl::default()).unwrap();
    let head_after: Vec<f32> = host(network.mid.as_ref().unwrap().fc.weight.val());
    assert_ne!(head_before, head_after);
    assert!(
        history.iter().all(|m| m.mix_loss.is_finite()),
        "{history:?}"
    );
    // The options must agree with the network, and Baseline+ trains with pair CE.
    let soft = TrainOptions {
        mid_level_head: true,
        ..options(LossKind::SoftCe, 1, 0.05)
    };
    assert!(soft.validate().unwrap_err().to_string().contains("pair_ce"));
    let err = fit(
        tiny_network(&device, LossKind::PairCe, false),
        &mixer,
        &opts,
        &RunControl::default(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("mid-level"), "{err}");
}

#[test]
fn two_devices_average_the_gradients_of_their_batches() {
    let _serial = serial();
    // One plain SGD step (no momentum or decay; cosine at step 0 gives the base rate 0.5)
    // on two devices (burn-train's multi-device strategy, two threads on flex), each taking
    // one batch of 16 of the epoch: the update is −0.5 · (½ g₁ + ½ g₂), where gᵢ is the
    // gradient of batch i's mean loss computed alone.
    let device = Device::flex().autodiff();
    let (train_loader, eval_loader) = loaders();
    let mixer = MixConfig::None.init().unwrap();
    let opts = TrainOptions {
        momentum: 0.0,
        weight_decay: 0.0,
        ..options(LossKind::SoftCe, 1, 0.5)
    };
    let control = RunControl {
        max_steps_per_epoch: Some(2),
        replicas: vec![device.clone()],
        ..RunControl::default()
    };
    let network = tiny_network(&device, LossKind::SoftCe, false);
    let before = fc_and_conv(&network);
    let (after, history) = fit(network, &mixer, &opts, &control).unwrap();
    let after = fc_and_conv(&after);

    let batches: Vec<_> = train_loader.epoch(0).take(2).map(|b| b.unwrap()).collect();
    let gradients = |batch: &mixaug_data::Batch| {
        let net = tiny_network(&device, LossKind::SoftCe, false);
        let images =
            Tensor::<4>::from_data(TensorData::new(batch.images.clone(), batch.shape), &device);
        let labels = Tensor::<1, Int>::from_data(
            TensorData::new(batch.labels.clone(), [batch.labels.len()]),
            &device,
        );
        let logits = net.model.forward(images);
        let target = mixaug_masks::MixedTarget::single(labels);
        let loss = mixaug_loss::soft_target_cross_entropy(logits, &target, 0.0).unwrap();
        let grads = GradientsParams::from_grads(loss.backward(), &net);
        let Classifier::ResNet(m) = &net.model else {
            unreachable!("a ResNet was built")
        };
        let fc = host(grads.get::<2>(m.fc.weight.id).unwrap());
        let conv = host(grads.get::<4>(m.conv1.weight.id).unwrap());
        (fc, conv)
    };
    let (fc1, conv1) = gradients(&batches[0]);
    let (fc2, conv2) = gradients(&batches[1]);
    let check = |before: &[f32], after: &[f32], g1: &[f32], g2: &[f32]| {
        for i in 0..before.len() {
            let expected = before[i] - 0.5 * (0.5 * g1[i] + 0.5 * g2[i]);
            assert!(
                (after[i] - expected).abs() <= 1e-5 + 1e-4 * expected.abs(),
                "{i}: {} vs {expected}",
                after[i]
            );
        }
    };
    check(&before.0, &after.0, &fc1, &fc2);
    check(&before.1, &after.1, &conv1, &conv2);
    assert!(history[0].mix_loss.is_finite());

    // Guided and two-pass methods run on the replica threads too.
    for (name, loss) in [
        ("snapmix", LossKind::PairCe),
        ("cutmix", LossKind::Sumix(SumixConfig::new())),
    ] {
        let (_, history) = train(
            tiny_network(&device, loss, false),
            &MixConfig::from_name(name).unwrap().init().unwrap(),
            &train_loader,
            &eval_loader,
            &options(loss, 2, 0.05),
            &RunControl {
                replicas: vec![device.clone()],
                ..RunControl::default()
            },
            &device,
            |_| Ok(()),
        )
        .unwrap();
        assert!(
            history.iter().all(|m| m.mix_loss.is_finite()),
            "{name}: {history:?}"
        );
    }

    // A one-step run of the plain network under `control`.
    let one_step = |control: &RunControl| {
        fit(
            tiny_network(&device, LossKind::SoftCe, false),
            &mixer,
            &opts,
            control,
        )
    };
    // Distributed data parallel is refused off CUDA, with an error instead of burn's
    // panic ("Distributed operations are not supported for device").
    let ddp = RunControl {
        data_parallel: DataParallel::Ddp,
        ..control.clone()
    };
    let err = one_step(&ddp).unwrap_err();
    assert!(err.to_string().contains("needs CUDA devices"), "{err}");
    // On one device there is nothing to distribute: the strategy does not apply.
    one_step(&RunControl {
        replicas: Vec::new(),
        ..ddp
    })
    .unwrap();

    // Fewer batches than devices are refused.
    let err = one_step(&RunControl {
        replicas: vec![device.clone(); 8],
        ..control
    })
    .unwrap_err();
    assert!(
        err.to_string().contains("cannot be shared by 9 devices"),
        "{err}"
    );
}

#[test]
fn attentivemix_reads_its_teachers_attention() {
    let _serial = serial();
    // The teacher is another tiny ResNet (as frozen as an ImageNet one would be); the
    // batch is fed to it at its own 8×10 size, so that its grid is 1×2 (two cells). Two
    // different teachers pick different cells, hence different mixed losses.
    let device = Device::flex().autodiff();
    let config = mixaug_masks::AttentiveMixConfig::new();
    let mixer = MixConfig::AttentiveMix(config.clone()).init().unwrap();
    let run = |teacher_seed: u64| {
        let teacher = Teacher {
            network: tiny_network_seeded(&device, LossKind::SoftCe, false, teacher_seed).model,
            attention: mixaug_maps::AttentionConfig {
                input_size: None,
                ..config.attention()
            },
        };
        let control = RunControl {
            teacher: Some(teacher),
            ..RunControl::default()
        };
        fit(
            tiny_network(&device, LossKind::SoftCe, false),
            &mixer,
            &options(LossKind::SoftCe, 2, 0.05),
            &control,
        )
        .unwrap()
        .1
    };
    let first = run(1);
    assert!(first.iter().all(|m| m.mix_loss.is_finite()), "{first:?}");
    assert_eq!(computed(&run(1)), computed(&first));
    assert_ne!(run(2)[0].mix_loss, first[0].mix_loss);
}

#[test]
fn transmix_trains_a_deit_on_its_own_attention() {
    let _serial = serial();
    use mixaug_data::Transform;
    use mixaug_models::DeitConfig;
    let device = Device::flex().autodiff();
    let square = Pipeline {
        steps: vec![Transform::Resize {
            size: [8, 8],
            interpolation: Default::default(),
        }],
    };
    let norm = Normalize {
        mean: [0.45; 3],
        std: [0.25; 3],
    };
    let config = LoaderConfig::new(16).with_workers(1).with_to_rgb(true);
    let train_loader =
        Loader::new(Arc::new(data(64, 1)), square.clone(), norm, config.clone()).unwrap();
    let eval_loader = Loader::new(
        Arc::new(data(32, 2)),
        square,
        norm,
        config.with_shuffle(false).with_drop_last(false),
    )
    .unwrap();
    // The same seeded one-block DeiT on 8×8 images (the 8×10 images resized), 4×4 patches
    // (a 2×2 grid), the same draws; only TransMix's share of the area in the label differs.
    let run = |area_weight: f64| {
        device.seed(7);
        let deit = DeitConfig::new(2)
            .with_image_size(8)
            .with_patch_size(4)
            .with_embed_dim(12)
            .with_depth(1)
            .with_num_heads(2)
            .init(&device);
        let network = Network::new(Classifier::Deit(deit), false, false, &device).unwrap();
        let mixer: MixConfig = toml::from_str(&format!(
            "method = \"transmix\"\npatch_size = 4\nprob = 1.0\narea_weight = {area_weight:?}"
        ))
        .unwrap();
        let (_, history) = train(
            network,
            &mixer.init().unwrap(),
            &train_loader,
            &eval_loader,
            &options(LossKind::SoftCe, 2, 0.05),
            &RunControl::default(),
            &device,
            |_| Ok(()),
        )
        .unwrap();
        history
    };
    let attention = run(0.5);
    let area = run(1.0);
    assert_eq!(attention.len(), 2);
    assert!(
        attention.iter().all(|e| e.mix_loss.is_finite()),
        "{attention:?}"
    );
    // With area_weight 1 the label is CutMix's area; with 0.5 half of it is the forward's
    // attention, so the step must train on another target: the first epoch's loss differs.
    // (Had the step ignored the attention, both runs would compute the same numbers.)
    assert!(
        (attention[0].mix_loss - area[0].mix_loss).abs() > 1e-6,
        "{attention:?} vs {area:?}"
    );
}
