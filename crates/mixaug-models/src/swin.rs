//! Swin Transformer (Liu et al., ICCV 2021): window attention with a relative position bias,
//! shifted windows every other block, patch merging between stages, in timm's module layout
//! (`patch_embed.proj`/`norm`, `layers.{i}.downsample.norm`/`reduction`,
//! `layers.{i}.blocks.{j}.attn.relative_position_bias_table`, `norm`, `head.fc`).
//! Tokens are kept channels-last, `[N, H, W, C]`, as timm does.

use std::path::Path;

use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::softmax;
use mixaug_loss::PooledClassifier;
use mixaug_maps::{CamClassifier, CamModel};
use thiserror::Error;

use crate::deit::{Mlp, linear};
use crate::drop_path::{DropPath, drop_path_rates, valid_rate};
use crate::input::{check_images, expect_images, input_channels};
use crate::{
    Architecture, ClassifierFamily, ImageShapeError, ImportError, ImportOptions, ImportReport,
    ModelError, ModelSpec, PytorchLayout, SpecOption, load_pytorch,
};

/// A [`SwinConfig`] that cannot be built.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum SwinConfigError {
    /// The patch size is 0 or does not divide the image size.
    #[error("patch size {patch} does not divide the image size {image}")]
    Patch {
        /// Image side.
        image: usize,
        /// Patch side.
        patch: usize,
    },
    /// `depths` and `num_heads` are empty or differ in length.
    #[error("{depths} stage depths for {heads} head counts")]
    Stages {
        /// Length of `depths`.
        depths: usize,
        /// Length of `num_heads`.
        heads: usize,
    },
    /// A stage's head count is 0 or does not divide its width.
    #[error("stage {stage}: {heads} heads do not divide the width {dim}")]
    Heads {
        /// Stage index.
        stage: usize,
        /// Token width of the stage.
        dim: usize,
        /// Attention heads.
        heads: usize,
    },
    /// A stage's feature map cannot be merged (odd side) or tiled by its window.
    #[error("stage {stage}: window {window} does not tile the {side}×{side} feature map")]
    Window {
        /// Stage index.
        stage: usize,
        /// Side of the stage's feature map.
        side: usize,
        /// Window side (after clamping to the feature map; 0 when the map has an odd side
        /// before a patch merging).
        window: usize,
    },
    /// The drop-path rate is not a probability in `[0, 1)`.
    #[error("drop-path rate {rate} is not in [0, 1)")]
    DropPath {
        /// The rate.
        rate: f64,
    },
}

/// Configuration of a [`Swin`]. The defaults are Swin-Tiny (`swin_tiny_patch4_window7_224`).
///
/// ```
/// use mixaug_models::{SwinConfig, SwinConfigError};
/// // Swin-Tiny's 7×7 windows tile its 224/4 = 56-token map (then 28, 14 and 7)...
/// assert!(SwinConfig::swin_tiny(100).validate().is_ok());
/// // ... but not the 64-token map of a 256×256 image.
/// let config = SwinConfig::swin_tiny(100).with_image_size(256);
/// let error = SwinConfigError::Window { stage: 0, side: 64, window: 7 };
/// assert_eq!(config.validate(), Err(error));
/// ```
#[derive(Config, Debug)]
pub struct SwinConfig {
    /// Number of classes of the head.
    pub num_classes: usize,
    /// Side of the (square) input image. Default 224.
    #[config(default = 224)]
    pub image_size: usize,
    /// Side of a patch. Default 4.
    #[config(default = 4)]
    pub patch_size: usize,
    /// Input channels. Default 3.
    #[config(default = 3)]
    pub in_channels: usize,
    /// Token width of the first stage; it doubles at every patch merging. Default 96.
    #[config(default = 96)]
    pub embed_dim: usize,
    /// Blocks per stage. Default `[2, 2, 6, 2]`.
    #[config(default = "vec![2, 2, 6, 2]")]
    pub depths: Vec<usize>,
    /// Attention heads per stage. Default `[3, 6, 12, 24]`.
    #[config(default = "vec![3, 6, 12, 24]")]
    pub num_heads: Vec<usize>,
    /// Window side. A stage whose feature map is not larger than the window uses the
    /// whole map as its window and does not shift (timm's rule). Default 7.
    #[config(default = 7)]
    pub window_size: usize,
    /// Hidden width of the MLP as a multiple of the token width. Default 4.
    #[config(default = 4)]
    pub mlp_ratio: usize,
    /// Stochastic depth of the last block (timm's `drop_path_rate`); block `i` of the `n`
    /// blocks of all stages, counted across stages, drops each residual branch with
    /// `rate · i / (n − 1)`. Default 0 (none; timm's class defaults to 0.1, its Swin-T
    /// ImageNet recipe sets 0.2).
    #[config(default = 0.0)]
    pub drop_path_rate: f64,
}

impl SwinConfig {
    /// Swin-Tiny, patch 4, window 7, 224×224 (`swin_tiny_patch4_window7_224`).
    pub fn swin_tiny(num_classes: usize) -> Self {
        Self::new(num_classes)
    }

    /// Feature-map side, token width, heads, window and shift of every stage.
    fn stages(&self) -> Result<Vec<StagePlan>, SwinConfigError> {
        if self.patch_size == 0 || !self.image_size.is_multiple_of(self.patch_size) {
            return Err(SwinConfigError::Patch {
                image: self.image_size,
                patch: self.patch_size,
            });
        }
        if self.depths.is_empty() || self.depths.len() != self.num_heads.len() {
            return Err(SwinConfigError::Stages {
                depths: self.depths.len(),
                heads: self.num_heads.len(),
            });
        }
        if !valid_rate(self.drop_path_rate) {
            return Err(SwinConfigError::DropPath {
                rate: self.drop_path_rate,
            });
        }
        let mut side = self.image_size / self.patch_size;
        let mut plans = Vec::new();
        for (stage, &heads) in self.num_heads.iter().enumerate() {
            if stage > 0 {
                if !side.is_multiple_of(2) {
                    return Err(SwinConfigError::Window {
                        stage,
                        side,
                        window: 0,
                    });
                }
                side /= 2;
            }
            let dim = self.embed_dim << stage;
            if heads == 0 || !dim.is_multiple_of(heads) {
                return Err(SwinConfigError::Heads { stage, dim, heads });
            }
            let (window, shift) = if side <= self.window_size {
                (side, 0)
            } else {
                (self.window_size, self.window_size / 2)
            };
            if window == 0 || !side.is_multiple_of(window) {
                return Err(SwinConfigError::Window {
                    stage,
                    side,
                    window,
                });
            }
            plans.push(StagePlan {
                dim,
                heads,
                window,
                shift,
            });
        }
        Ok(plans)
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// Every [`SwinConfigError`].
    pub fn validate(&self) -> Result<(), SwinConfigError> {
        self.stages().map(|_| ())
    }

    /// The network after [`validate`](Self::validate), initialised as timm does: linear
    /// weights and bias tables ~ N(0, 0.02²) (timm truncates at ±2, i.e. ±100σ), biases 0,
    /// LayerNorm γ = 1 and β = 0, the patch projection burn's default convolution
    /// initialisation.
    ///
    /// # Errors
    /// Those of [`validate`](Self::validate).
    pub fn try_init(&self, device: &Device) -> Result<Swin, SwinConfigError> {
        let plans = self.stages()?;
        let norm = |d: usize| LayerNormConfig::new(d).init(device);
        let p = self.patch_size;
        let mut rates = drop_path_rates(self.drop_path_rate, self.depths.iter().sum()).into_iter();
        let layers = plans
            .iter()
            .zip(&self.depths)
            .enumerate()
            .map(|(i, (plan, &depth))| {
                let d = plan.dim;
                SwinStage {
                    downsample: (i > 0).then(|| PatchMerging {
                        norm: norm(2 * d),
                        reduction: LinearConfig::new(2 * d, d)
                            .with_bias(false)
                            .with_initializer(Initializer::Normal {
                                mean: 0.0,
                                std: 0.02,
                            })
                            .init(device),
                    }),
                    blocks: (0..depth)
                        .map(|j| SwinBlock {
                            drop_path: DropPath::new(rates.next().unwrap_or(0.0)),
                            norm1: norm(d),
                            attn: WindowAttention {
                                qkv: linear(d, 3 * d, device),
                                relative_position_bias_table: Initializer::Normal {
                                    mean: 0.0,
                                    std: 0.02,
                                }
                                .init([(2 * plan.window - 1).pow(2), plan.heads], device),
                                proj: linear(d, d, device),
                                num_heads: plan.heads,
                                window_size: plan.window,
                            },
                            shift_size: if j % 2 == 1 { plan.shift } else { 0 },
                            norm2: norm(d),
                            mlp: Mlp {
                                fc1: linear(d, self.mlp_ratio * d, device),
                                fc2: linear(self.mlp_ratio * d, d, device),
                            },
                        })
                        .collect(),
                }
            })
            .collect();
        let last = plans.last().map_or(self.embed_dim, |plan| plan.dim);
        Ok(Swin {
            patch_embed: SwinPatchEmbed {
                proj: Conv2dConfig::new([self.in_channels, self.embed_dim], [p, p])
                    .with_stride([p, p])
                    .init(device),
                norm: norm(self.embed_dim),
            },
            layers,
            norm: norm(last),
            head: SwinHead {
                fc: linear(last, self.num_classes, device),
            },
            image_size: self.image_size,
        })
    }

    /// The network.
    ///
    /// # Panics
    /// When the configuration is invalid; [`try_init`](Self::try_init) returns the error
    /// instead.
    pub fn init(&self, device: &Device) -> Swin {
        self.try_init(device)
            .unwrap_or_else(|e| panic!("invalid Swin configuration: {e}"))
    }
}

/// What one stage is built with.
struct StagePlan {
    dim: usize,
    heads: usize,
    window: usize,
    shift: usize,
}

/// The additive attention mask of shifted windows (timm's `attn_mask`): after the map is
/// rolled by `-shift` on both axes, its rows and columns fall into three bands each —
/// `[0, side − window)`, `[side − window, side − shift)`, `[side − shift, side)` — and two
/// tokens of one window may attend to each other only when they come from the same band
/// pair (entry 0), otherwise the entry is −100. Windows in row-major order, tokens
/// row-major inside a window. With `shift == 0` every entry is 0.
///
/// # Shapes
/// - output: `[(height/window)·(width/window), window², window²]`
pub fn shifted_window_mask(
    height: usize,
    width: usize,
    window: usize,
    shift: usize,
    device: &Device,
) -> Tensor<3> {
    let band = |x: usize, side: usize| {
        if shift == 0 || x < side - window {
            0
        } else if x < side - shift {
            1
        } else {
            2
        }
    };
    let n = window * window;
    let mut mask = Vec::with_capacity(height * width * n);
    for wy in 0..height / window {
        for wx in 0..width / window {
            let region = |t: usize| {
                let (y, x) = (wy * window + t / window, wx * window + t % window);
                3 * band(y, height) + band(x, width)
            };
            for i in 0..n {
                mask.extend((0..n).map(|j| {
                    if region(i) == region(j) {
                        0.0f32
                    } else {
                        -100.0
                    }
                }));
            }
        }
    }
    let windows = (height / window) * (width / window);
    Tensor::from_data(TensorData::new(mask, [windows, n, n]), device)
}

/// The index into the relative position bias table of every (query, key) pair of a
/// window: `(Δy + w − 1)·(2w − 1) + (Δx + w − 1)`, row-major, `w²·w²` entries.
fn relative_position_index(window: usize) -> Vec<i32> {
    let w = window as i32;
    let n = window * window;
    let coord = |t: usize| ((t / window) as i32, (t % window) as i32);
    (0..n)
        .flat_map(|i| {
            (0..n).map(move |j| {
                let ((yi, xi), (yj, xj)) = (coord(i), coord(j));
                (yi - yj + w - 1) * (2 * w - 1) + (xi - xj + w - 1)
            })
        })
        .collect()
}

/// Patch embedding followed by a LayerNorm.
#[derive(Module, Debug)]
pub struct SwinPatchEmbed {
    /// The projection (`patch_embed.proj`).
    pub proj: Conv2d,
    /// The norm (`patch_embed.norm`).
    pub norm: LayerNorm,
}

impl SwinPatchEmbed {
    /// # Shapes
    /// - `images`: `[N, C, H, W]`; output `[N, H/p, W/p, D]`
    pub fn forward(&self, images: Tensor<4>) -> Tensor<4> {
        self.norm
            .forward(self.proj.forward(images).permute([0, 2, 3, 1]))
    }
}

/// Window multi-head self-attention with a learned relative position bias.
#[derive(Module, Debug)]
pub struct WindowAttention {
    /// Fused query, key and value projections.
    pub qkv: Linear,
    /// One bias per head and relative offset, `[(2w − 1)², heads]`.
    pub relative_position_bias_table: Param<Tensor<2>>,
    /// Output projection.
    pub proj: Linear,
    /// Heads.
    pub num_heads: usize,
    /// Window side `w`.
    pub window_size: usize,
}

impl WindowAttention {
    /// # Shapes
    /// - `x`: `[B·nW, w², C]` (windows); `mask`: `[nW, w², w²]` or none; output `[B·nW, w², C]`
    pub fn forward(&self, x: Tensor<3>, mask: Option<Tensor<3>>) -> Tensor<3> {
        let [b, n, c] = x.dims();
        let h = self.num_heads;
        let device = x.device();
        let qkv = self
            .qkv
            .forward(x)
            .reshape([b, n, 3, h, c / h])
            .permute([2, 0, 3, 1, 4]);
        let part = |i: usize| qkv.clone().slice(s![i..i + 1]).reshape([b, h, n, c / h]);
        let (q, k, v) = (part(0), part(1), part(2));
        let scale = (c as f64 / h as f64).powf(-0.5);
        let index = Tensor::<1, Int>::from_data(
            TensorData::new(relative_position_index(self.window_size), [n * n]),
            &device,
        );
        let bias = self
            .relative_position_bias_table
            .val()
            .select(0, index)
            .reshape([n, n, h])
            .permute([2, 0, 1])
            .unsqueeze::<4>();
        let mut attn = q.mul_scalar(scale).matmul(k.swap_dims(2, 3)) + bias;
        if let Some(mask) = mask {
            let windows = mask.dims()[0];
            attn = (attn.reshape([b / windows, windows, h, n, n])
                + mask.reshape([1, windows, 1, n, n]))
            .reshape([b, h, n, n]);
        }
        let y = softmax(attn, 3)
            .matmul(v)
            .swap_dims(1, 2)
            .reshape([b, n, c]);
        self.proj.forward(y)
    }
}

/// A Swin block: `x + drop_path(attn(norm1(x)))` over (shifted) windows, then
/// `x + drop_path(mlp(norm2(x)))` (two independent draws).
#[derive(Module, Debug)]
pub struct SwinBlock {
    /// Norm before attention.
    pub norm1: LayerNorm,
    /// Window attention.
    pub attn: WindowAttention,
    /// Cyclic shift of the windows (0 in even blocks).
    pub shift_size: usize,
    /// Norm before the MLP.
    pub norm2: LayerNorm,
    /// MLP.
    pub mlp: Mlp,
    /// Stochastic depth of both residual branches.
    pub drop_path: DropPath,
}

impl SwinBlock {
    /// # Panics
    /// When the window does not tile the map (the image is not a size the configuration
    /// was validated for).
    ///
    /// # Shapes
    /// - `x`: `[N, H, W, C]`, `H` and `W` multiples of the window; output `[N, H, W, C]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [n, height, width, c] = x.dims();
        let w = self.attn.window_size;
        assert!(
            height % w == 0 && width % w == 0,
            "Swin: a {height}×{width} feature map is not tiled by windows of {w}: the image is \
             not a size the configuration was validated for"
        );
        let s = self.shift_size;
        let mut y = self.norm1.forward(x.clone());
        if s > 0 {
            y = y.roll(&[-(s as i64), -(s as i64)], &[1, 2]);
        }
        let (gh, gw) = (height / w, width / w);
        let windows = y
            .reshape([n, gh, w, gw, w, c])
            .permute([0, 1, 3, 2, 4, 5])
            .reshape([n * gh * gw, w * w, c]);
        let mask = (s > 0).then(|| shifted_window_mask(height, width, w, s, &x.device()));
        let mut y = self
            .attn
            .forward(windows, mask)
            .reshape([n, gh, gw, w, w, c])
            .permute([0, 1, 3, 2, 4, 5])
            .reshape([n, height, width, c]);
        if s > 0 {
            y = y.roll(&[s as i64, s as i64], &[1, 2]);
        }
        let x = x + self.drop_path.forward(y);
        let m = self.mlp.forward(self.norm2.forward(x.clone()));
        x + self.drop_path.forward(m)
    }
}

/// Patch merging: each 2×2 neighbourhood concatenated (`(0,0), (1,0), (0,1), (1,1)` as
/// (row, column) offsets), normed and reduced from 4C to 2C channels.
#[derive(Module, Debug)]
pub struct PatchMerging {
    /// Norm over the 4C concatenated channels.
    pub norm: LayerNorm,
    /// Bias-free 4C → 2C projection.
    pub reduction: Linear,
}

impl PatchMerging {
    /// # Panics
    /// When a side is odd (the image is not a size the configuration was validated for).
    ///
    /// # Shapes
    /// - `x`: `[N, H, W, C]`, `H` and `W` even; output `[N, H/2, W/2, 2C]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let [n, h, w, c] = x.dims();
        assert!(
            h % 2 == 0 && w % 2 == 0,
            "Swin: patch merging needs even sides, got a {h}×{w} feature map: the image is not \
             a size the configuration was validated for"
        );
        let x = x
            .reshape([n, h / 2, 2, w / 2, 2, c])
            .permute([0, 1, 3, 4, 2, 5])
            .reshape([n, h / 2, w / 2, 4 * c]);
        self.reduction.forward(self.norm.forward(x))
    }
}

/// A stage: an optional patch merging, then blocks alternating plain and shifted windows.
#[derive(Module, Debug)]
pub struct SwinStage {
    /// Patch merging (all stages but the first).
    pub downsample: Option<PatchMerging>,
    /// Blocks.
    pub blocks: Vec<SwinBlock>,
}

impl SwinStage {
    /// # Shapes
    /// - `x`: `[N, H, W, C]`; output `[N, H/2, W/2, 2C]` with a merging, else `[N, H, W, C]`
    pub fn forward(&self, x: Tensor<4>) -> Tensor<4> {
        let x = match &self.downsample {
            Some(m) => m.forward(x),
            None => x,
        };
        self.blocks.iter().fold(x, |x, b| b.forward(x))
    }
}

/// The classifier (timm's `ClassifierHead`, `head.fc`).
#[derive(Module, Debug)]
pub struct SwinHead {
    /// Linear classifier (burn's `[in, out]` weight layout).
    pub fc: Linear,
}

/// Swin Transformer, timm's module layout.
///
/// ```
/// use burn::prelude::*;
/// use burn::tensor::Distribution;
/// use mixaug_models::SwinConfig;
/// let device = Device::flex();
/// // A tiny Swin: 16×16 images in 2×2 patches. Stage 0: an 8×8 map of 8-wide tokens in
/// // 4×4 windows, shifted by 2 in its second block; stage 1: patch merging halves the map
/// // to 4×4 and doubles the width to 16, one window, no shift.
/// let model = SwinConfig::new(4)
///     .with_image_size(16)
///     .with_patch_size(2)
///     .with_embed_dim(8)
///     .with_depths(vec![2, 2])
///     .with_num_heads(vec![2, 4])
///     .with_window_size(4)
///     .init(&device);
/// let images = Tensor::<4>::random([2, 3, 16, 16], Distribution::Default, &device);
/// assert_eq!(model.forward_features(images.clone()).dims(), [2, 4, 4, 16]);
/// assert_eq!(model.forward(images).dims(), [2, 4]);
/// // The windows are planned for 16×16: a 16×12 batch is refused before burn sees it.
/// assert!(model.try_forward(Tensor::zeros([1, 3, 16, 12], &device)).is_err());
/// ```
#[derive(Module, Debug)]
pub struct Swin {
    /// Patch embedding and its norm.
    pub patch_embed: SwinPatchEmbed,
    /// Stages.
    pub layers: Vec<SwinStage>,
    /// Final LayerNorm.
    pub norm: LayerNorm,
    /// Classifier.
    pub head: SwinHead,
    /// Side of the square images the network takes (the configuration's `image_size`):
    /// the stages' windows and shifts are planned for it.
    pub image_size: usize,
}

impl Swin {
    /// The last stage's tokens after the final norm, channels-last.
    ///
    /// # Panics
    /// When the images are not the configured size and channels ([`ClassifierFamily::check_images`]).
    ///
    /// # Shapes
    /// - `images`: `[N, C, S, S]` with `S` the configured image size; output `[N, h, w, D]`,
    ///   `h = w = S/(p·2^(stages−1))`
    pub fn forward_features(&self, images: Tensor<4>) -> Tensor<4> {
        expect_images(self, &images);
        let x = self.patch_embed.forward(images);
        self.norm
            .forward(self.layers.iter().fold(x, |x, l| l.forward(x)))
    }

    /// Logits.
    ///
    /// # Panics
    /// When the images are not the configured size and channels, with
    /// [`ImageShapeError`]'s message, before burn sees them; [`try_forward`](Self::try_forward)
    /// returns the error instead.
    ///
    /// # Shapes
    /// - `images`: `[N, C, S, S]`; output `[N, K]`
    pub fn forward(&self, images: Tensor<4>) -> Tensor<2> {
        self.classify(self.pooled(images))
    }

    /// Logits, or the error of [`check_images`](ClassifierFamily::check_images) for a batch of another
    /// shape than the network takes.
    ///
    /// # Errors
    /// [`ImageShapeError`].
    ///
    /// # Shapes
    /// - `images`: `[N, C, S, S]`; output `[N, K]`
    pub fn try_forward(&self, images: Tensor<4>) -> Result<Tensor<2>, ImageShapeError> {
        ClassifierFamily::check_images(self, &images)?;
        Ok(self.forward(images))
    }

    /// Learnable parameters, as PyTorch's `parameters()` counts them (burn's `num_params`:
    /// the relative position index and the attention mask are computed, not stored).
    pub fn num_trainable_params(&self) -> usize {
        self.num_params()
    }
}

impl PooledClassifier for Swin {
    /// The average of the last stage's normed tokens, `[N, D]`. Panics like
    /// [`Swin::forward`] on images of another shape.
    fn pooled(&self, images: Tensor<4>) -> Tensor<2> {
        let f = self.forward_features(images);
        let [n, h, w, d] = f.dims();
        f.reshape([n, h * w, d]).mean_dim(1).reshape([n, d])
    }

    fn classify(&self, pooled: Tensor<2>) -> Tensor<2> {
        self.head.fc.forward(pooled)
    }
}

/// CAM's identity holds: the last stage is averaged before the linear head, so the head on
/// the spatial mean of these maps gives the logits.
impl CamModel for Swin {
    /// The last stage's normed tokens, channels first.
    ///
    /// # Shapes
    /// - `images`: `[N, C, S, S]`; output `[N, D, h, w]`
    fn cam_features(&self, images: Tensor<4>) -> Tensor<4> {
        self.forward_features(images).permute([0, 3, 1, 2])
    }

    fn cam_classifier(&self) -> CamClassifier {
        CamClassifier::from_linear(&self.head.fc)
    }
}

/// timm 1.0's `SwinTransformer` keys (patch merging at the start of stages 2–4,
/// `layers.{i}.downsample`; the original release's checkpoints put it at the end of the
/// previous stage, a layout timm converts when it loads them and this import does not).
impl PytorchLayout for Swin {
    const KEY_REMAPPING: &'static [(&'static str, &'static str)] = &[];
    const INVERSE_KEY_REMAPPING: &'static [(&'static str, &'static str)] = &[];
    const CLASSIFIER_PREFIX: &'static str = "head.fc.";
    const IGNORED_BUFFERS: &'static [&'static str] = &["relative_position_index", "attn_mask"];
}

impl ClassifierFamily for Swin {
    type Config = SwinConfig;
    const NAME: &'static str = "Swin";
    const HAS_CAM: bool = true;
    const ARCHITECTURES: &'static [Architecture] =
        &[Architecture::new("swin_tiny_patch4_window7_224", |k| {
            SwinConfig::swin_tiny(k).into()
        })];
    const SPEC_OPTIONS: &'static [SpecOption] = &[SpecOption::ImageSize, SpecOption::DropPath];

    /// The image size and the stochastic depth, validated.
    fn apply_spec(config: SwinConfig, spec: &ModelSpec) -> Result<SwinConfig, ModelError> {
        let config = match spec.image_size {
            Some(size) => config.with_image_size(size),
            None => config,
        }
        .with_drop_path_rate(spec.drop_path);
        config.validate()?;
        Ok(config)
    }

    fn from_config(config: &SwinConfig, device: &Device) -> Result<Self, ModelError> {
        Ok(config.try_init(device)?)
    }

    fn classifier(&self) -> &Linear {
        &self.head.fc
    }

    /// Checks that the network takes `images`, on the host shape only (no device work):
    /// `C` channels of `S × S`, the configured input channels and image size (timm's
    /// `strict_img_size`: the windows, their shifts and masks are planned for that size).
    /// Every forward makes this check before burn sees the batch.
    fn check_images(&self, images: &Tensor<4>) -> Result<(), ImageShapeError> {
        check_images(
            Self::NAME,
            input_channels(&self.patch_embed.proj),
            Some([self.image_size, self.image_size]),
            images,
        )
    }

    fn load_checkpoint(
        &mut self,
        checkpoint: &Path,
        options: &ImportOptions,
    ) -> Option<Result<ImportReport, ImportError>> {
        Some(load_pytorch(self, checkpoint, options))
    }
}
