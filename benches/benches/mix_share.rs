//! What mixing costs beside the training step it serves, on the bench device
//! (`MIXAUG_BENCH_DEVICE`, see `mixaug_benches::bench_device`).
//!
//! Times, each synchronised with the device and reported as the median of its repeats:
//! the ResNet-18 (CIFAR stem) train step at batch 128 of 32×32 (forward, cross-entropy,
//! backward, SGD with momentum), and one mix as training calls it — host sampling then
//! `apply` — for every input-only method, SaliencyMix and SnapMix (given uniform percent
//! maps: the mix, not the CAM, is timed) at 128×3×32² and 64×3×224². Prints a table with
//! each mix as a share of the step; with `MIXAUG_BENCH_CSV=PATH` also writes it as CSV
//! (`method,shape,mix_ms,step_ms,share`). `benches/timm_mixup.py` times timm's `Mixup` on
//! the same shapes. Run with `cargo bench -p mixaug-benches --bench mix_share`.

use std::hint::black_box;
use std::time::Instant;

use burn::nn::loss::CrossEntropyLossConfig;
use burn::optim::momentum::MomentumConfig;
use burn::optim::{GradientsParams, SgdConfig};
use burn::prelude::*;
use mixaug_benches::bench_device;
use mixaug_masks::{
    BatchShape, Guide, MixConfig, MixParams, MixRng, Mixer, Needs, PairingSchedule,
    SaliencyMixConfig, SnapMixConfig,
};
use mixaug_models::{ResNet, ResNetConfig, Stem};

const SHAPES: [[usize; 4]; 2] = [[128, 3, 32, 32], [64, 3, 224, 224]];
/// The batch of the train step the shares refer to.
const STEP_BATCH: usize = 128;

/// The median of `reps` timings (seconds) of `f`, after `warm` untimed calls.
fn median_secs(warm: usize, reps: usize, mut f: impl FnMut()) -> f64 {
    (0..warm).for_each(|_| f());
    let mut times: Vec<f64> = (0..reps)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed().as_secs_f64()
        })
        .collect();
    times.sort_by(f64::total_cmp);
    times[reps / 2]
}

/// The ResNet-18 CIFAR train step at batch [`STEP_BATCH`], in seconds.
fn step_secs(device: &Device) -> f64 {
    let device = device.clone().autodiff();
    device.seed(0);
    let mut model = Some(
        ResNetConfig::resnet18(10)
            .with_stem(Stem::Cifar)
            .init(&device),
    );
    let images = Tensor::<4>::random(
        [STEP_BATCH, 3, 32, 32],
        burn::tensor::Distribution::Default,
        &device,
    );
    let labels = Tensor::<1, Int>::arange(0..STEP_BATCH as i64, &device).remainder_scalar(10);
    let loss_fn = CrossEntropyLossConfig::new().init(&device);
    let mut optimizer = SgdConfig::new()
        .with_momentum(Some(MomentumConfig::new().with_dampening(0.0)))
        .init();
    median_secs(3, 7, || {
        let m: ResNet = model.take().expect("model");
        let loss = loss_fn.forward(m.forward(images.clone()), labels.clone());
        let grads = GradientsParams::from_grads(loss.backward(), &m);
        let m = optimizer.step(0.1, m, grads);
        device.sync().expect("device sync");
        model = Some(m);
    })
}

/// Every input-only method with its defaults (SamplePairing with its schedule on), then
/// SaliencyMix and SnapMix; AttentiveMix (a teacher network's attention) is left out.
fn methods() -> Vec<MixConfig> {
    let mut methods: Vec<MixConfig> = MixConfig::all_defaults()
        .into_iter()
        .filter(|c| *c != MixConfig::None && c.needs() == Needs::Nothing)
        .map(|c| match c {
            MixConfig::SamplePairing(c) => {
                MixConfig::SamplePairing(c.with_schedule(PairingSchedule::always()))
            }
            other => other,
        })
        .collect();
    for guided in [
        MixConfig::SaliencyMix(SaliencyMixConfig::new()),
        MixConfig::SnapMix(SnapMixConfig::new()),
    ] {
        if !methods.contains(&guided) {
            methods.push(guided);
        }
    }
    methods
}

/// One mix of `config` as training runs it (sampling, the guide it needs, `apply`), in
/// seconds.
fn mix_secs(config: &MixConfig, shape: [usize; 4], device: &Device) -> f64 {
    let [n, c, h, w] = shape;
    device.seed(0);
    let images = Tensor::<4>::random(shape, burn::tensor::Distribution::Default, device);
    let labels = Tensor::<1, Int>::arange(0..n as i64, device);
    // SaliencyMix's guide comes from the host batch, as in training (before upload).
    let host: Vec<f32> = images.to_data().try_to_vec().expect("f32 images");
    let shape = BatchShape::new(n, c, h, w);
    let method = config.init().expect("valid config");
    let guide = |params: &MixParams| match config.needs() {
        Needs::PercentMaps => {
            Guide::PercentMaps(Tensor::full([n, h, w], 1.0 / (h * w) as f64, device))
        }
        Needs::SaliencyPeaks => method
            .host_guide(params, &host, shape)
            .expect("saliency guide")
            .expect("a host guide"),
        Needs::Attention | Needs::ClassAttention | Needs::Nothing => Guide::None,
    };
    let mut rng = MixRng::from_seed(1);
    let (warm, reps) = if h * w > 64 * 64 { (3, 9) } else { (5, 21) };
    median_secs(warm, reps, || {
        let params = method.sample(&mut rng, shape).expect("sample");
        let mixed = method
            .apply(&params, images.clone(), labels.clone(), &guide(&params))
            .expect("apply");
        black_box(mixed);
        device.sync().expect("device sync");
    })
}

fn shape_id(s: [usize; 4]) -> String {
    format!("{}x{}x{}x{}", s[0], s[1], s[2], s[3])
}

fn main() {
    let device = bench_device(false);
    println!("device: {device:?}");
    let step = step_secs(&device);
    println!(
        "ResNet-18 CIFAR train step, batch {STEP_BATCH}: {:.3} ms",
        step * 1e3
    );
    let mut csv = String::from("method,shape,mix_ms,step_ms,share\n");
    println!(
        "{:<24} {:<16} {:>10} {:>14}",
        "method", "shape", "mix ms", "share of step"
    );
    for shape in SHAPES {
        for config in methods() {
            let mix = mix_secs(&config, shape, &device);
            let share = mix / step;
            println!(
                "{:<24} {:<16} {:>10.3} {:>13.2}%",
                config.label(),
                shape_id(shape),
                mix * 1e3,
                share * 100.0
            );
            csv.push_str(&format!(
                "{},{},{:.6},{:.6},{:.6}\n",
                config.label(),
                shape_id(shape),
                mix * 1e3,
                step * 1e3,
                share
            ));
        }
    }
    if let Some(path) = std::env::var_os("MIXAUG_BENCH_CSV") {
        std::fs::write(&path, csv).expect("write MIXAUG_BENCH_CSV");
    }
}
