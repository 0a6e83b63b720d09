//! Pre-activation residual networks (built for 32×32 inputs, taking any size): PreAct-ResNet-18 (He et al., ECCV
//! 2016, as in the Mixup and Manifold-Mixup CIFAR code: no BatchNorm after the last stage)
//! and WideResNet-28-k (Zagoruyko & Komodakis, BMVC 2016: final BatchNorm + ReLU, optional
//! dropout between the two convolutions of a block).

use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AdaptiveAvgPool2d, AdaptiveAvgPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Dropout, DropoutConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::relu;
use mixaug_loss::PooledClassifier;
use mixaug_maps::{CamClassifier, CamModel};
use serde::{Deserialize, Serialize};

use crate::input::{check_images, expect_images, input_channels};
use crate::resnet::{conv, conv_with, pool_flat, trainable_params};
use crate::{Architecture, ClassifierFamily, ImageShapeError, ModelError, ModelSpec, SpecOption};

/// A pre-activation block: `BN → ReLU → conv(stride) → BN → ReLU → [dropout] → conv`, the
/// shortcut a 1×1 convolution of the pre-activated input when the shape changes.
#[derive(Module, Debug)]
pub struct PreActBlock {
    /// First BatchNorm (on the block input).
    pub bn1: BatchNorm,
    /// 3×3 convolution, strided.
    pub conv1: Conv2d,
    /// Second BatchNorm.
    pub bn2: BatchNorm,
    /// Dropout between the convolutions (WideResNet; rate 0 = none).
    pub dropout: Dropout,
    /// 3×3 convolution.
    pub conv2: Conv2d,
    /// 1×1 projection shortcut.
    pub shortcut: Option<Conv2d>,
}

/// How a [`PreActNet`] draws its initial weights: the scheme of the reference code of each
/// network. BatchNorm starts at γ = 1, β = 0 in both.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PreActInit {
    /// PyTorch's defaults, which the Mixup (`facebookresearch/mixup-cifar10`,
    /// `models/resnet.py`) and Manifold-Mixup (`vikasverma1077/manifold_mixup`,
    /// `supervised/models/preresnet.py`) PreAct-ResNet-18 keep (neither initialises
    /// anything): convolutions U(−1/√fan_in, 1/√fan_in) (`kaiming_uniform_(a=√5)`), fan_in =
    /// in_channels · kh · kw; the classifier's weight and bias U(−1/√fan_in, 1/√fan_in).
    #[default]
    Pytorch,
    /// `xternalz/WideResNet-pytorch` (the WideResNet of the Cutout and SaliencyMix code):
    /// convolutions N(0, 2/fan_out), fan_out = out_channels · kh · kw; the classifier's
    /// weight PyTorch's default U(−1/√fan_in, 1/√fan_in), its bias 0.
    WideResNet,
}

impl PreActInit {
    /// A bias-free `kernel × kernel` convolution (padding `kernel / 2`).
    fn conv(
        self,
        input: usize,
        output: usize,
        kernel: usize,
        stride: usize,
        device: &Device,
    ) -> Conv2d {
        let padding = kernel / 2;
        match self {
            // burn's default for a convolution: PyTorch's kaiming_uniform_(a = √5), i.e.
            // U(±1/√fan_in).
            PreActInit::Pytorch => {
                let default = Conv2dConfig::new([input, output], [kernel, kernel]).initializer;
                conv_with(input, output, kernel, stride, padding, 1, default, device)
            }
            // The ResNets' Kaiming-normal fan-out convolution.
            PreActInit::WideResNet => conv(input, output, kernel, stride, padding, 1, device),
        }
    }

    /// The classifier (burn's default `Linear` is PyTorch's).
    fn classifier(self, input: usize, classes: usize, device: &Device) -> Linear {
        let mut fc = LinearConfig::new(input, classes).init(device);
        if self == PreActInit::WideResNet {
            fc.bias = Some(Param::from_tensor(Tensor::zeros([classes], device)));
        }
        fc
    }
}

impl PreActBlock {
    fn new(
        input: usize,
        output: usize,
        stride: usize,
        drop: f64,
        init: PreActInit,
        device: &Device,
    ) -> Self {
        Self {
            bn1: BatchNormConfig::new(input).init(device),
            conv1: init.conv(input, output, 3, stride, device),
            bn2: BatchNormConfig::new(output).init(device),
            dropout: DropoutConfig::new(drop).init(),
            conv2: init.conv(output, output, 3, 1, device),
            shortcut: (stride != 1 || input != output)
                .then(|| init.conv(input, output, 1, stride, device)),
        }
    }

    /// # Shapes
    /// - `x`: `[N, C_in, H, W]`; output `[N, C_out, H/stride, W/stride]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let pre = relu(self.bn1.forward(x.clone()));
        let identity = match &self.shortcut {
            Some(s) => s.forward(pre.clone()),
            None => x,
        };
        let y = self.conv1.forward(pre);
        let y = self.dropout.forward(relu(self.bn2.forward(y)));
        self.conv2.forward(y) + identity
    }
}

/// Configuration of a [`PreActNet`].
///
/// ```
/// use burn::prelude::*;
/// use mixaug_models::PreActNetConfig;
/// let device = Device::flex();
/// // A miniature WideResNet layout: 4-channel stem, one 4-channel block, one 8-channel
/// // block at stride 2, final BatchNorm + ReLU, 5 classes.
/// let model = PreActNetConfig::new(4, vec![(4, 1), (8, 1)], 5, true).init(&device);
/// let images = Tensor::<4>::zeros([2, 3, 12, 16], &device);
/// assert_eq!(model.features(images.clone()).dims(), [2, 8, 6, 8]);
/// assert_eq!(model.forward(images).dims(), [2, 5]);
/// // By hand (bias-free convolutions; BatchNorm's γ and β): stem 3·4·9 = 108;
/// // block 1: 4·2 + 4·4·9 + 4·2 + 4·4·9 = 304; block 2: 4·2 + 4·8·9 + 8·2 + 8·8·9
/// // + 4·8 (the 1×1 shortcut) = 920; final norm 8·2 = 16; classifier 8·5 + 5 = 45.
/// assert_eq!(model.num_trainable_params(), 108 + 304 + 920 + 16 + 45);
/// ```
#[derive(Config, Debug)]
pub struct PreActNetConfig {
    /// Stem output channels.
    pub stem: usize,
    /// Output channels and blocks of each stage (the first block of stages after the
    /// first has stride 2).
    pub stages: Vec<(usize, usize)>,
    /// Classes.
    pub num_classes: usize,
    /// BatchNorm + ReLU after the last stage (WideResNet) or not (PreAct-ResNet-18).
    pub final_norm: bool,
    /// Dropout rate inside the blocks. Default 0.
    #[config(default = 0.0)]
    pub dropout: f64,
    /// Initialisation scheme. Default [`PreActInit::Pytorch`] (PreAct-ResNet-18's);
    /// [`wide_resnet28`](Self::wide_resnet28) sets [`PreActInit::WideResNet`].
    #[config(default = "PreActInit::Pytorch")]
    pub weight_init: PreActInit,
}

impl PreActNetConfig {
    /// PreAct-ResNet-18: 64-channel stem, stages 64/128/256/512 × 2 blocks, no final norm.
    pub fn preact_resnet18(num_classes: usize) -> Self {
        Self::new(
            64,
            vec![(64, 2), (128, 2), (256, 2), (512, 2)],
            num_classes,
            false,
        )
    }

    /// WideResNet-28-`k`: 16-channel stem, stages 16k/32k/64k × 4 blocks, final norm,
    /// [`PreActInit::WideResNet`] initialisation.
    pub fn wide_resnet28(k: usize, num_classes: usize) -> Self {
        Self::new(
            16,
            vec![(16 * k, 4), (32 * k, 4), (64 * k, 4)],
            num_classes,
            true,
        )
        .with_weight_init(PreActInit::WideResNet)
    }

    /// The network, initialised by [`weight_init`](Self::weight_init).
    pub fn init(&self, device: &Device) -> PreActNet {
        let init = self.weight_init;
        let mut input = self.stem;
        let mut blocks = Vec::new();
        for (s, &(width, count)) in self.stages.iter().enumerate() {
            for b in 0..count {
                let stride = if s > 0 && b == 0 { 2 } else { 1 };
                blocks.push(PreActBlock::new(
                    input,
                    width,
                    stride,
                    self.dropout,
                    init,
                    device,
                ));
                input = width;
            }
        }
        PreActNet {
            conv1: init.conv(3, self.stem, 3, 1, device),
            blocks,
            bn: self
                .final_norm
                .then(|| BatchNormConfig::new(input).init(device)),
            avgpool: AdaptiveAvgPool2dConfig::new([1, 1]).init(),
            fc: init.classifier(input, self.num_classes, device),
        }
    }
}

/// PreAct-ResNet-18 or WideResNet-28-k.
#[derive(Module, Debug)]
pub struct PreActNet {
    /// 3×3 stem convolution.
    pub conv1: Conv2d,
    /// Every block, in order.
    pub blocks: Vec<PreActBlock>,
    /// Final BatchNorm (WideResNet).
    pub bn: Option<BatchNorm>,
    /// Global average pool.
    pub avgpool: AdaptiveAvgPool2d,
    /// Classifier.
    pub fc: Linear,
}

impl PreActNet {
    /// The last stage's feature map (after the final BN + ReLU where there is one).
    ///
    /// # Panics
    /// On images the network does not take ([`ClassifierFamily::check_images`]), with the error's
    /// message, before burn sees them.
    ///
    /// # Shapes
    /// - `images`: `[N, 3, H, W]`; output `[N, D, h, w]`
    pub fn features(&self, images: Tensor<4>) -> Tensor<4> {
        expect_images(self, &images);
        let mut x = self.conv1.forward(images);
        for block in &self.blocks {
            x = block.forward(x);
        }
        match &self.bn {
            Some(bn) => relu(bn.forward(x)),
            None => x,
        }
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

    /// Learnable parameters (burn's `num_params` minus BatchNorm running statistics).
    pub fn num_trainable_params(&self) -> usize {
        let norms = self.blocks.iter().flat_map(|b| [&b.bn1, &b.bn2]);
        trainable_params(self.num_params(), norms.chain(self.bn.as_ref()))
    }
}

impl PooledClassifier for PreActNet {
    fn pooled(&self, images: Tensor<4>) -> Tensor<2> {
        pool_flat(&self.avgpool, self.features(images))
    }

    fn classify(&self, pooled: Tensor<2>) -> Tensor<2> {
        self.fc.forward(pooled)
    }
}

impl CamModel for PreActNet {
    fn cam_features(&self, images: Tensor<4>) -> Tensor<4> {
        self.features(images)
    }

    fn cam_classifier(&self) -> CamClassifier {
        CamClassifier::from_linear(&self.fc)
    }
}

/// No checkpoint import: the CIFAR recipes train these networks from scratch.
impl ClassifierFamily for PreActNet {
    type Config = PreActNetConfig;
    const NAME: &'static str = "pre-activation ResNet family";
    const HAS_CAM: bool = true;
    const ARCHITECTURES: &'static [Architecture] = &[
        Architecture::new("preact_resnet18", |k| {
            PreActNetConfig::preact_resnet18(k).into()
        }),
        Architecture::new("wrn28_8", |k| PreActNetConfig::wide_resnet28(8, k).into()),
        Architecture::new("wrn28_10", |k| PreActNetConfig::wide_resnet28(10, k).into()),
    ];
    const SPEC_OPTIONS: &'static [SpecOption] = &[SpecOption::Dropout];

    /// The dropout inside the blocks.
    fn apply_spec(
        config: PreActNetConfig,
        spec: &ModelSpec,
    ) -> Result<PreActNetConfig, ModelError> {
        Ok(config.with_dropout(spec.dropout))
    }

    fn from_config(config: &PreActNetConfig, device: &Device) -> Result<Self, ModelError> {
        Ok(config.init(device))
    }

    fn classifier(&self) -> &Linear {
        &self.fc
    }

    /// A non-empty batch of images of any size with the stem convolution's channels.
    fn check_images(&self, images: &Tensor<4>) -> Result<(), ImageShapeError> {
        check_images(Self::NAME, input_channels(&self.conv1), None, images)
    }
}
