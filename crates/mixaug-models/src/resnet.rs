//! ResNet and ResNeXt (He et al., CVPR 2016; Xie et al., CVPR 2017), torchvision's layout.

use std::path::Path;

use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Initializer, Linear, LinearConfig, PaddingConfig2d};
use burn::prelude::*;
use burn::tensor::activation::relu;
use mixaug_loss::PooledClassifier;
use mixaug_maps::{CamClassifier, CamModel};
use serde::{Deserialize, Serialize};

use crate::input::{check_images, expect_images, input_channels};
use crate::{
    Architecture, ClassifierFamily, ImageShapeError, ImportError, ImportOptions, ImportReport,
    ModelError, ModelSpec, PytorchLayout, SpecOption, load_pytorch,
};

/// The first layers of the network.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Stem {
    /// 7×7 stride-2 convolution, BatchNorm, ReLU, 3×3 stride-2 max-pool (224×224 inputs).
    /// Written `image_net` or `imagenet` in configuration files.
    #[default]
    #[serde(alias = "imagenet")]
    ImageNet,
    /// 3×3 stride-1 convolution, BatchNorm, ReLU, no max-pool (32×32 and 64×64 inputs).
    Cifar,
}

/// The residual block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BlockKind {
    /// Two 3×3 convolutions (ResNet-18/34), expansion 1.
    Basic,
    /// 1×1, 3×3 (grouped for ResNeXt), 1×1 with expansion 4 (ResNet-50/101, ResNeXt).
    Bottleneck,
}

impl BlockKind {
    fn expansion(&self) -> usize {
        match self {
            BlockKind::Basic => 1,
            BlockKind::Bottleneck => 4,
        }
    }
}

/// Configuration of a [`ResNet`].
#[derive(Config, Debug)]
pub struct ResNetConfig {
    /// Block type.
    pub block: BlockKind,
    /// Blocks per stage.
    pub layers: [usize; 4],
    /// Number of classes of the classifier.
    pub num_classes: usize,
    /// Stem. Default: ImageNet.
    #[config(default = "Stem::ImageNet")]
    pub stem: Stem,
    /// Groups of the 3×3 bottleneck convolution (32 for ResNeXt-50 32×4d). Default 1.
    #[config(default = 1)]
    pub groups: usize,
    /// Channels per group of the bottleneck (4 for ResNeXt-50 32×4d). Default 64.
    #[config(default = 64)]
    pub width_per_group: usize,
    /// Channels of the stem and of the first stage; the stages have 1, 2, 4 and 8 times
    /// as many (times the block expansion). Default 64 (torchvision); smaller values give
    /// the narrow networks of quick experiments and test fixtures.
    #[config(default = 64)]
    pub base_width: usize,
    /// Start the last BatchNorm of every residual branch at γ = 0 (the SUMix/openmixup
    /// CIFAR recipe). Default false.
    #[config(default = false)]
    pub zero_init_residual: bool,
}

impl ResNetConfig {
    /// ResNet-18 (BasicBlock, 2-2-2-2).
    pub fn resnet18(num_classes: usize) -> Self {
        Self::new(BlockKind::Basic, [2, 2, 2, 2], num_classes)
    }
    /// ResNet-34 (BasicBlock, 3-4-6-3).
    pub fn resnet34(num_classes: usize) -> Self {
        Self::new(BlockKind::Basic, [3, 4, 6, 3], num_classes)
    }
    /// ResNet-50 (Bottleneck, 3-4-6-3).
    pub fn resnet50(num_classes: usize) -> Self {
        Self::new(BlockKind::Bottleneck, [3, 4, 6, 3], num_classes)
    }
    /// ResNet-101 (Bottleneck, 3-4-23-3).
    pub fn resnet101(num_classes: usize) -> Self {
        Self::new(BlockKind::Bottleneck, [3, 4, 23, 3], num_classes)
    }
    /// ResNeXt-50 32×4d.
    pub fn resnext50_32x4d(num_classes: usize) -> Self {
        Self::new(BlockKind::Bottleneck, [3, 4, 6, 3], num_classes)
            .with_groups(32)
            .with_width_per_group(4)
    }

    /// The network, initialised as torchvision's `ResNet.__init__` does: convolutions
    /// N(0, 2/fan_out) with fan_out = out_channels · kh · kw (grouped ones too), BatchNorm
    /// γ = 1 and β = 0 (γ = 0 in the last BatchNorm of each residual branch with
    /// [`zero_init_residual`](Self::zero_init_residual)), the classifier PyTorch's default
    /// `Linear`: weight and bias U(−1/√fan_in, 1/√fan_in) (burn's default `Linear` is the same).
    pub fn init(&self, device: &Device) -> ResNet {
        let base = self.base_width;
        let (conv1, maxpool) = match self.stem {
            Stem::ImageNet => (
                conv(3, base, 7, 2, 3, 1, device),
                Some(
                    MaxPool2dConfig::new([3, 3])
                        .with_strides([2, 2])
                        .with_padding(PaddingConfig2d::Explicit(1, 1, 1, 1))
                        .init(),
                ),
            ),
            Stem::Cifar => (conv(3, base, 3, 1, 1, 1, device), None),
        };
        let mut in_planes = base;
        let mut stage = |planes: usize, blocks: usize, stride: usize| {
            (0..blocks)
                .map(|b| {
                    let block =
                        self.block(in_planes, planes, if b == 0 { stride } else { 1 }, device);
                    in_planes = planes * self.block.expansion();
                    block
                })
                .collect::<Vec<_>>()
        };
        let layer1 = stage(base, self.layers[0], 1);
        let layer2 = stage(2 * base, self.layers[1], 2);
        let layer3 = stage(4 * base, self.layers[2], 2);
        let layer4 = stage(8 * base, self.layers[3], 2);
        ResNet {
            conv1,
            bn1: BatchNormConfig::new(base).init(device),
            maxpool,
            layer1,
            layer2,
            layer3,
            layer4,
            avgpool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            fc: LinearConfig::new(8 * base * self.block.expansion(), self.num_classes).init(device),
        }
    }

    fn block(&self, in_planes: usize, planes: usize, stride: usize, device: &Device) -> Bottleneck {
        let expansion = self.block.expansion();
        let out = planes * expansion;
        let downsample = (stride != 1 || in_planes != out).then(|| Downsample {
            conv: conv(in_planes, out, 1, stride, 0, 1, device),
            bn: BatchNormConfig::new(out).init(device),
        });
        let last_bn = |channels| {
            let bn = BatchNormConfig::new(channels).init(device);
            if self.zero_init_residual {
                BatchNorm {
                    gamma: Param::from_tensor(Tensor::zeros([channels], device)),
                    ..bn
                }
            } else {
                bn
            }
        };
        match self.block {
            BlockKind::Basic => Bottleneck {
                conv1: conv(in_planes, planes, 3, stride, 1, 1, device),
                bn1: BatchNormConfig::new(planes).init(device),
                conv2: conv(planes, planes, 3, 1, 1, 1, device),
                bn2: last_bn(planes),
                conv3: None,
                bn3: None,
                downsample,
            },
            BlockKind::Bottleneck => {
                let width = planes * self.width_per_group / 64 * self.groups;
                Bottleneck {
                    conv1: conv(in_planes, width, 1, 1, 0, 1, device),
                    bn1: BatchNormConfig::new(width).init(device),
                    conv2: conv(width, width, 3, stride, 1, self.groups, device),
                    bn2: BatchNormConfig::new(width).init(device),
                    conv3: Some(conv(width, out, 1, 1, 0, 1, device)),
                    bn3: Some(last_bn(out)),
                    downsample,
                }
            }
        }
    }
}

/// A bias-free convolution with torchvision's weights: `kaiming_normal_(mode="fan_out",
/// nonlinearity="relu")`, i.e. N(0, 2/fan_out) with fan_out = `output · kernel²` as PyTorch
/// counts it, whatever the groups. (burn's `KaimingNormal` divides the fan-out by the groups,
/// which for ResNeXt's grouped 3×3 would give √groups times torchvision's deviation.)
/// Kaiming-normal's deviation for the ReLU gain, `√2 · (1/√fan_out)`, computed in the order
/// burn's `KaimingNormal` computes it: with the same `f64` deviation the draws are
/// bit-identical to those of the networks built with burn's initializer before (the
/// quick table's digits depend on them), where `√(2/fan_out)` may differ in the last bit.
fn kaiming_fan_out_std(fan_out: usize) -> f64 {
    std::f64::consts::SQRT_2 * (1.0 / (fan_out as f64).sqrt())
}

pub(crate) fn conv(
    input: usize,
    output: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    groups: usize,
    device: &Device,
) -> Conv2d {
    let initializer = Initializer::Normal {
        mean: 0.0,
        std: kaiming_fan_out_std(output * kernel * kernel),
    };
    conv_with(
        input,
        output,
        kernel,
        stride,
        padding,
        groups,
        initializer,
        device,
    )
}

/// A bias-free convolution whose weights `initializer` draws.
#[allow(clippy::too_many_arguments)]
pub(crate) fn conv_with(
    input: usize,
    output: usize,
    kernel: usize,
    stride: usize,
    padding: usize,
    groups: usize,
    initializer: Initializer,
    device: &Device,
) -> Conv2d {
    Conv2dConfig::new([input, output], [kernel, kernel])
        .with_stride([stride, stride])
        .with_padding(PaddingConfig2d::Explicit(
            padding, padding, padding, padding,
        ))
        .with_groups(groups)
        .with_bias(false)
        .with_initializer(initializer)
        .init(device)
}

/// The global average of a feature map, flattened: the pooled feature of both networks.
///
/// # Shapes
/// - `features`: `[N, D, h, w]`; output `[N, D]`
pub(crate) fn pool_flat(avgpool: &AdaptiveAvgPool2d, features: Tensor<4>) -> Tensor<2> {
    let f = avgpool.forward(features);
    let [n, d, _, _] = f.dims();
    f.reshape([n, d])
}

/// burn's `num_params` minus the BatchNorm running mean and variance it also counts, i.e.
/// what PyTorch's `parameters()` counts.
pub(crate) fn trainable_params<'a>(
    all: usize,
    norms: impl IntoIterator<Item = &'a BatchNorm>,
) -> usize {
    let running: usize = norms
        .into_iter()
        .map(|bn| 2 * bn.gamma.shape().num_elements())
        .sum();
    all - running
}

/// The 1×1 projection of a residual branch's input (torchvision's `downsample`).
#[derive(Module, Debug)]
pub struct Downsample {
    /// 1×1 strided convolution.
    pub conv: Conv2d,
    /// Its BatchNorm.
    pub bn: BatchNorm,
}

/// A residual block: BasicBlock when `conv3` is absent, Bottleneck otherwise.
#[derive(Module, Debug)]
pub struct Bottleneck {
    /// First convolution (3×3 basic, 1×1 bottleneck).
    pub conv1: Conv2d,
    /// Its BatchNorm.
    pub bn1: BatchNorm,
    /// Second convolution (3×3, grouped for ResNeXt).
    pub conv2: Conv2d,
    /// Its BatchNorm.
    pub bn2: BatchNorm,
    /// Third, expanding 1×1 convolution (bottleneck only).
    pub conv3: Option<Conv2d>,
    /// Its BatchNorm.
    pub bn3: Option<BatchNorm>,
    /// Projection of the input when the shape changes.
    pub downsample: Option<Downsample>,
}

impl Bottleneck {
    /// # Shapes
    /// - `x`: `[N, C_in, H, W]`; output `[N, C_out, H/stride, W/stride]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let identity = match &self.downsample {
            Some(d) => d.bn.forward(d.conv.forward(x.clone())),
            None => x.clone(),
        };
        let y = relu(self.bn1.forward(self.conv1.forward(x)));
        let y = self.bn2.forward(self.conv2.forward(y));
        let y = match (&self.conv3, &self.bn3) {
            (Some(c), Some(b)) => b.forward(c.forward(relu(y))),
            _ => y,
        };
        relu(y + identity)
    }
}

/// ResNet / ResNeXt, torchvision's module layout.
#[derive(Module, Debug)]
pub struct ResNet {
    /// Stem convolution.
    pub conv1: Conv2d,
    /// Stem BatchNorm.
    pub bn1: BatchNorm,
    /// Stem max-pool (ImageNet stem only).
    pub maxpool: Option<MaxPool2d>,
    /// Stage 1 (stride 1).
    pub layer1: Vec<Bottleneck>,
    /// Stage 2 (stride 2).
    pub layer2: Vec<Bottleneck>,
    /// Stage 3 (stride 2).
    pub layer3: Vec<Bottleneck>,
    /// Stage 4 (stride 2).
    pub layer4: Vec<Bottleneck>,
    /// Global average pool.
    pub avgpool: AdaptiveAvgPool2d,
    /// Classifier (burn's `[in, out]` weight layout).
    pub fc: Linear,
}

impl ResNet {
    /// The last stage's feature map (what CAMs are computed from).
    ///
    /// # Panics
    /// On images the network does not take ([`ClassifierFamily::check_images`]), with the error's
    /// message, before burn sees them.
    ///
    /// # Shapes
    /// - `images`: `[N, 3, H, W]`; output `[N, D, h, w]`
    pub fn features(&self, images: Tensor<4>) -> Tensor<4> {
        self.last_stage(self.mid_features(images))
    }

    /// The output of `layer3`, where SnapMix's Baseline+ branch reads
    /// ([`MidLevelHead`](mixaug_loss::MidLevelHead)).
    ///
    /// # Panics
    /// On images the network does not take ([`ClassifierFamily::check_images`]), with the error's
    /// message, before burn sees them.
    ///
    /// # Shapes
    /// - `images`: `[N, 3, H, W]`; output `[N, 4·base_width·expansion, H/16, W/16]`
    ///   (ImageNet stem) or `[N, 4·base_width·expansion, H/4, W/4]` (CIFAR stem)
    pub fn mid_features(&self, images: Tensor<4>) -> Tensor<4> {
        expect_images(self, &images);
        let mut x = relu(self.bn1.forward(self.conv1.forward(images)));
        if let Some(pool) = &self.maxpool {
            x = pool.forward(x);
        }
        for block in self.layer1.iter().chain(&self.layer2).chain(&self.layer3) {
            x = block.forward(x);
        }
        x
    }

    /// `layer4` applied to the output of `layer3`.
    fn last_stage(&self, mid: Tensor<4>) -> Tensor<4> {
        self.layer4.iter().fold(mid, |x, block| block.forward(x))
    }

    /// Logits and the `layer3` features of one forward pass (for Baseline+).
    ///
    /// # Panics
    /// On images the network does not take ([`ClassifierFamily::check_images`]), with the error's
    /// message, before burn sees them.
    ///
    /// # Shapes
    /// - `images`: `[N, 3, H, W]`; outputs `[N, K]` and `[N, 4·base_width·expansion, h, w]`
    pub fn forward_with_mid(&self, images: Tensor<4>) -> (Tensor<2>, Tensor<4>) {
        let mid = self.mid_features(images);
        let pooled = pool_flat(&self.avgpool, self.last_stage(mid.clone()));
        (self.classify(pooled), mid)
    }

    /// Learnable parameters, as PyTorch's `parameters()` counts them. burn's `num_params`
    /// also counts BatchNorm's running mean and variance; they are subtracted here.
    pub fn num_trainable_params(&self) -> usize {
        let blocks = self
            .layer1
            .iter()
            .chain(&self.layer2)
            .chain(&self.layer3)
            .chain(&self.layer4);
        let norms = blocks.flat_map(|b| {
            [
                Some(&b.bn1),
                Some(&b.bn2),
                b.bn3.as_ref(),
                b.downsample.as_ref().map(|d| &d.bn),
            ]
            .into_iter()
            .flatten()
        });
        trainable_params(self.num_params(), std::iter::once(&self.bn1).chain(norms))
    }

    /// Logits.
    ///
    /// # Panics
    /// On images the network does not take ([`ClassifierFamily::check_images`]), with the error's
    /// message, before burn sees them.
    ///
    /// # Shapes
    /// - `images`: `[N, 3, H, W]`; output `[N, K]`
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.classify(self.pooled(images))
    }
}

impl PooledClassifier for ResNet {
    fn pooled(&self, images: Tensor<4>) -> Tensor<2> {
        pool_flat(&self.avgpool, self.features(images))
    }

    fn classify(&self, pooled: Tensor<2>) -> Tensor<2> {
        self.fc.forward(pooled)
    }
}

impl CamModel for ResNet {
    fn cam_features(&self, images: Tensor<4>) -> Tensor<4> {
        self.features(images)
    }

    fn cam_classifier(&self) -> CamClassifier {
        CamClassifier::from_linear(&self.fc)
    }
}

/// torchvision's keys, but for the downsample branch (a `Sequential` there).
impl PytorchLayout for ResNet {
    const KEY_REMAPPING: &'static [(&'static str, &'static str)] = &[
        (r"\.downsample\.0\.", ".downsample.conv."),
        (r"\.downsample\.1\.", ".downsample.bn."),
    ];
    const INVERSE_KEY_REMAPPING: &'static [(&'static str, &'static str)] = &[
        (r"\.downsample\.conv\.", ".downsample.0."),
        (r"\.downsample\.bn\.", ".downsample.1."),
    ];
    const CLASSIFIER_PREFIX: &'static str = "fc.";
    const IGNORED_BUFFERS: &'static [&'static str] = &["num_batches_tracked"];
}

impl ClassifierFamily for ResNet {
    type Config = ResNetConfig;
    const NAME: &'static str = "ResNet family";
    const HAS_CAM: bool = true;
    const HAS_MID_LEVEL: bool = true;
    const ARCHITECTURES: &'static [Architecture] = &[
        Architecture::new("resnet18", |k| ResNetConfig::resnet18(k).into()),
        Architecture::new("resnet34", |k| ResNetConfig::resnet34(k).into()),
        Architecture::new("resnet50", |k| ResNetConfig::resnet50(k).into()),
        Architecture::new("resnet101", |k| ResNetConfig::resnet101(k).into()),
        Architecture::new("resnext50_32x4d", |k| {
            ResNetConfig::resnext50_32x4d(k).into()
        }),
    ];
    const SPEC_OPTIONS: &'static [SpecOption] = &[SpecOption::ZeroInitResidual, SpecOption::Layers];

    /// The stem, its width, zero-init of the residual branches and the blocks per stage.
    fn apply_spec(config: ResNetConfig, spec: &ModelSpec) -> Result<ResNetConfig, ModelError> {
        let mut config = config
            .with_stem(spec.stem)
            .with_base_width(spec.base_width)
            .with_zero_init_residual(spec.zero_init_residual);
        if let Some(layers) = spec.layers {
            config.layers = layers;
        }
        Ok(config)
    }

    fn from_config(config: &ResNetConfig, device: &Device) -> Result<Self, ModelError> {
        Ok(config.init(device))
    }

    fn classifier(&self) -> &Linear {
        &self.fc
    }

    /// A non-empty batch of images of any size with the stem convolution's channels.
    fn check_images(&self, images: &Tensor<4>) -> Result<(), ImageShapeError> {
        check_images(Self::NAME, input_channels(&self.conv1), None, images)
    }

    /// The channels of `layer3`'s output (its last block's last BatchNorm).
    fn mid_channels(&self) -> Option<usize> {
        Some(
            self.layer3
                .last()
                .map_or(0, |b| b.bn3.as_ref().unwrap_or(&b.bn2).gamma.dims()[0]),
        )
    }

    fn forward_with_mid(&self, images: Tensor<4>) -> Option<(Tensor<2>, Tensor<4>)> {
        Some(ResNet::forward_with_mid(self, images))
    }

    fn load_checkpoint(
        &mut self,
        checkpoint: &Path,
        options: &ImportOptions,
    ) -> Option<Result<ImportReport, ImportError>> {
        Some(load_pytorch(self, checkpoint, options))
    }
}
