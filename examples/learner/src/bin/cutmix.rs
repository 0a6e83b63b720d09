//! `plain.rs` with CutMix: the same model in the same `Learner`, wrapped in `Mixing`.
//!
//! A small convolutional network learns eight classes of generated 3×12×16 images (the
//! class's three bits as colour, on noise) for two epochs on the CPU (`flex`), with the
//! usual metrics: loss, top-1 and top-5 accuracy, learning rate, iteration speed.
//! `cutmix.rs` and `sumix.rs` are this program with mixing added; `tests/variants.rs`
//! checks how few lines they add. Usage: `plain [ARTIFACT_DIR]`.

use std::error::Error;

use burn::data::dataloader::DataLoaderBuilder;
use burn::data::dataloader::batcher::Batcher;
use burn::data::dataset::InMemDataset;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::loss::CrossEntropyLossConfig;
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d, Relu};
use burn::optim::AdamConfig;
use burn::prelude::*;
use burn::train::metric::{
    AccuracyMetric, IterationSpeedMetric, LearningRateMetric, LossMetric, TopKAccuracyMetric,
};
use burn::train::{
    ClassificationOutput, InferenceStep, Learner, SupervisedTraining, TrainOutput, TrainStep,
};
use mixaug_learner::{CrossEntropy, Mixing};
use mixaug_masks::{CutMixConfig, MixConfig};

const CLASSES: usize = 8;
const WIDTH: usize = 16;
const HEIGHT: usize = 12;
const COLUMNS: usize = 16;

#[derive(Module, Debug)]
struct Net {
    conv: Conv2d,
    relu: Relu,
    pool: AdaptiveAvgPool2d,
    fc: Linear,
}

impl Net {
    fn new(device: &Device) -> Self {
        Self {
            conv: Conv2dConfig::new([3, WIDTH], [3, 3])
                .with_padding(PaddingConfig2d::Same)
                .init(device),
            relu: Relu::new(),
            pool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            fc: LinearConfig::new(WIDTH, CLASSES).init(device),
        }
    }

    /// `[N, 3, H, W]` → `[N, WIDTH]`
    fn features(&self, images: Tensor<4>) -> Tensor<2> {
        let x = self.relu.forward(self.conv.forward(images));
        self.pool.forward(x).flatten(1, 3)
    }

    /// `[N, WIDTH]` → `[N, CLASSES]`
    fn classify(&self, features: Tensor<2>) -> Tensor<2> {
        self.fc.forward(features)
    }

    fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.classify(self.features(images))
    }

    fn output(&self, (images, labels): (Tensor<4>, Tensor<1, Int>)) -> ClassificationOutput {
        let logits = self.forward(images);
        let loss = CrossEntropyLossConfig::new()
            .init(&logits.device())
            .forward(logits.clone(), labels.clone());
        ClassificationOutput::new(loss, logits, labels)
    }
}

impl TrainStep for Net {
    type Input = (Tensor<4>, Tensor<1, Int>);
    type Output = ClassificationOutput;

    fn step(&self, batch: Self::Input) -> TrainOutput<ClassificationOutput> {
        let output = self.output(batch);
        TrainOutput::new(self, output.loss.backward(), output)
    }
}

impl InferenceStep for Net {
    type Input = (Tensor<4>, Tensor<1, Int>);
    type Output = ClassificationOutput;

    fn step(&self, batch: Self::Input) -> ClassificationOutput {
        self.output(batch)
    }
}

/// One generated image: `3·HEIGHT·COLUMNS` values and its class.
#[derive(Debug, Clone)]
struct Image {
    pixels: Vec<f32>,
    label: i32,
}

/// `count` images, classes in turn: noise in [0, 0.5) from a small linear congruential
/// generator seeded with `seed`, plus 1 in channel `c` where bit `c` of the class is set.
fn generated(count: usize, seed: u64) -> Vec<Image> {
    let mut state = seed;
    let mut noise = move || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 40) as f32 / (1u64 << 24) as f32 * 0.5
    };
    (0..count)
        .map(|i| {
            let class = i % CLASSES;
            let pixels = (0..3 * HEIGHT * COLUMNS)
                .map(|p| noise() + ((class >> (p / (HEIGHT * COLUMNS))) & 1) as f32)
                .collect();
            Image {
                pixels,
                label: class as i32,
            }
        })
        .collect()
}

#[derive(Clone)]
struct ImageBatcher;

impl Batcher<Image, (Tensor<4>, Tensor<1, Int>)> for ImageBatcher {
    fn batch(&self, items: Vec<Image>, device: &Device) -> (Tensor<4>, Tensor<1, Int>) {
        let n = items.len();
        let pixels: Vec<f32> = items
            .iter()
            .flat_map(|i| i.pixels.iter().copied())
            .collect();
        let labels: Vec<i32> = items.iter().map(|i| i.label).collect();
        (
            Tensor::from_data(TensorData::new(pixels, [n, 3, HEIGHT, COLUMNS]), device),
            Tensor::from_data(TensorData::new(labels, [n]), device),
        )
    }
}

fn main() -> Result<(), Box<dyn Error>> {
    let artifacts = std::env::args()
        .nth(1)
        .unwrap_or("target/learner-example".into());
    let device = Device::flex().autodiff();
    device.seed(0);
    let train = DataLoaderBuilder::new(ImageBatcher)
        .batch_size(16)
        .shuffle(0)
        .build(InMemDataset::new(generated(80, 1)));
    let valid = DataLoaderBuilder::new(ImageBatcher)
        .batch_size(20)
        .build(InMemDataset::new(generated(40, 2)));
    let model = Net::new(&device);
    let cutmix = MixConfig::CutMix(CutMixConfig::new()).init()?;
    let model = Mixing::new(model, cutmix, CrossEntropy::soft_target(Net::forward))?;
    let training = SupervisedTraining::new(&artifacts, train, valid)
        .metrics((
            LossMetric::new(),
            AccuracyMetric::new(),
            TopKAccuracyMetric::new(5),
        ))
        .metric_train_numeric(LearningRateMetric::new())
        .metric_train_numeric(IterationSpeedMetric::new())
        .num_epochs(2)
        .summary();
    let result = training.launch(Learner::new(model, AdamConfig::new().init(), 1e-2));
    match result.error {
        Some(error) => Err(error.to_string().into()),
        None => Ok(()),
    }
}
