//! DeiT (Touvron et al., ICML 2021): the plain Vision Transformer (Dosovitskiy et al., ICLR
//! 2021) with a class token, learned position embeddings and pre-norm blocks, in timm's
//! module layout (`patch_embed.proj`, `cls_token`, `pos_embed`, `blocks.{i}.attn.qkv`, …).

use std::path::Path;

use burn::module::Param;
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::{Initializer, LayerNorm, LayerNormConfig, Linear, LinearConfig};
use burn::prelude::*;
use burn::tensor::activation::{gelu, softmax};
use mixaug_loss::PooledClassifier;
use mixaug_maps::{CamClassifier, CamModel};
use thiserror::Error;

use crate::drop_path::{DropPath, drop_path_rates, valid_rate};
use crate::input::{check_images, expect_images, input_channels};
use crate::{
    Architecture, ClassifierFamily, ImageShapeError, ImportError, ImportOptions, ImportReport,
    ModelError, ModelSpec, PytorchLayout, SpecOption, load_pytorch,
};

/// A [`DeitConfig`] that cannot be built.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum DeitConfigError {
    /// The patch size is 0 or does not divide the image size.
    #[error("patch size {patch} does not divide the image size {image}")]
    Patch {
        /// Image side.
        image: usize,
        /// Patch side.
        patch: usize,
    },
    /// No blocks: the network has no attention to report.
    #[error("a DeiT needs at least one block")]
    Depth,
    /// The head count is 0 or does not divide the embedding width.
    #[error("{heads} heads do not divide the embedding width {embed_dim}")]
    Heads {
        /// Embedding width.
        embed_dim: usize,
        /// Attention heads.
        heads: usize,
    },
    /// The drop-path rate is not a probability in `[0, 1)`.
    #[error("drop-path rate {rate} is not in [0, 1)")]
    DropPath {
        /// The rate.
        rate: f64,
    },
}

/// Configuration of a [`Deit`]. The defaults are DeiT-Small (`deit_small_patch16_224`).
///
/// ```
/// use mixaug_models::{DeitConfig, DeitConfigError};
/// // 5 does not divide 8: there is no whole grid of patches.
/// let config = DeitConfig::new(10).with_image_size(8).with_patch_size(5);
/// assert_eq!(config.validate(), Err(DeitConfigError::Patch { image: 8, patch: 5 }));
/// // DeiT-Small's 384-wide tokens in 6 heads of 64; 5 heads would not divide them.
/// assert!(DeitConfig::deit_small(10).validate().is_ok());
/// let five_heads = DeitConfig::deit_small(10).with_num_heads(5);
/// assert_eq!(five_heads.validate(), Err(DeitConfigError::Heads { embed_dim: 384, heads: 5 }));
/// ```
#[derive(Config, Debug)]
pub struct DeitConfig {
    /// Number of classes of the head.
    pub num_classes: usize,
    /// Side of the (square) input image. Default 224.
    #[config(default = 224)]
    pub image_size: usize,
    /// Side of a patch. Default 16.
    #[config(default = 16)]
    pub patch_size: usize,
    /// Input channels. Default 3.
    #[config(default = 3)]
    pub in_channels: usize,
    /// Token width. Default 384.
    #[config(default = 384)]
    pub embed_dim: usize,
    /// Number of blocks. Default 12.
    #[config(default = 12)]
    pub depth: usize,
    /// Attention heads per block. Default 6.
    #[config(default = 6)]
    pub num_heads: usize,
    /// Hidden width of the MLP as a multiple of `embed_dim`. Default 4.
    #[config(default = 4)]
    pub mlp_ratio: usize,
    /// LayerNorm epsilon of every norm. Default 1e-6 (timm's ViTs).
    #[config(default = 1e-6)]
    pub norm_eps: f64,
    /// Stochastic depth of the last block (timm's `drop_path_rate`); block `i` of `n` drops
    /// each residual branch with `rate · i / (n − 1)`. Default 0 (none).
    #[config(default = 0.0)]
    pub drop_path_rate: f64,
}

impl DeitConfig {
    /// DeiT-Small, patch 16, 224×224 (`deit_small_patch16_224`).
    pub fn deit_small(num_classes: usize) -> Self {
        Self::new(num_classes)
    }

    /// Checks the configuration.
    ///
    /// # Errors
    /// [`DeitConfigError::Patch`], [`DeitConfigError::Depth`], [`DeitConfigError::Heads`]
    /// and [`DeitConfigError::DropPath`].
    pub fn validate(&self) -> Result<(), DeitConfigError> {
        if self.patch_size == 0 || !self.image_size.is_multiple_of(self.patch_size) {
            return Err(DeitConfigError::Patch {
                image: self.image_size,
                patch: self.patch_size,
            });
        }
        if self.depth == 0 {
            return Err(DeitConfigError::Depth);
        }
        if self.num_heads == 0 || !self.embed_dim.is_multiple_of(self.num_heads) {
            return Err(DeitConfigError::Heads {
                embed_dim: self.embed_dim,
                heads: self.num_heads,
            });
        }
        if !valid_rate(self.drop_path_rate) {
            return Err(DeitConfigError::DropPath {
                rate: self.drop_path_rate,
            });
        }
        Ok(())
    }

    /// The network after [`validate`](Self::validate), initialised as timm does: linear
    /// weights and `pos_embed` ~ N(0, 0.02²) (timm truncates at ±2, i.e. ±100σ: the same
    /// distribution in practice), biases 0, `cls_token` ~ N(0, 10⁻¹²), LayerNorm γ = 1 and
    /// β = 0, the patch projection burn's default convolution initialisation.
    ///
    /// # Errors
    /// Those of [`validate`](Self::validate).
    pub fn try_init(&self, device: &Device) -> Result<Deit, DeitConfigError> {
        self.validate()?;
        let d = self.embed_dim;
        let grid = self.image_size / self.patch_size;
        let p = self.patch_size;
        let norm = || {
            LayerNormConfig::new(d)
                .with_epsilon(self.norm_eps)
                .init(device)
        };
        let blocks = drop_path_rates(self.drop_path_rate, self.depth)
            .into_iter()
            .map(|rate| DeitBlock {
                norm1: norm(),
                attn: DeitAttention {
                    qkv: linear(d, 3 * d, device),
                    proj: linear(d, d, device),
                    num_heads: self.num_heads,
                },
                norm2: norm(),
                mlp: Mlp {
                    fc1: linear(d, self.mlp_ratio * d, device),
                    fc2: linear(self.mlp_ratio * d, d, device),
                },
                drop_path: DropPath::new(rate),
            })
            .collect();
        Ok(Deit {
            patch_embed: PatchEmbed {
                proj: Conv2dConfig::new([self.in_channels, d], [p, p])
                    .with_stride([p, p])
                    .init(device),
            },
            cls_token: Initializer::Normal {
                mean: 0.0,
                std: 1e-6,
            }
            .init([1, 1, d], device),
            pos_embed: Initializer::Normal {
                mean: 0.0,
                std: 0.02,
            }
            .init([1, 1 + grid * grid, d], device),
            blocks,
            norm: norm(),
            head: linear(d, self.num_classes, device),
            image_size: self.image_size,
        })
    }

    /// The network.
    ///
    /// # Panics
    /// When the configuration is invalid; [`try_init`](Self::try_init) returns the error
    /// instead.
    pub fn init(&self, device: &Device) -> Deit {
        self.try_init(device)
            .unwrap_or_else(|e| panic!("invalid DeiT configuration: {e}"))
    }
}

/// A linear layer with weights ~ N(0, 0.02²) and zero bias (timm's ViT initialisation).
pub(crate) fn linear(input: usize, output: usize, device: &Device) -> Linear {
    let mut layer = LinearConfig::new(input, output)
        .with_initializer(Initializer::Normal {
            mean: 0.0,
            std: 0.02,
        })
        .init(device);
    layer.bias = Some(Param::from_tensor(Tensor::zeros([output], device)));
    layer
}

/// The patch embedding: a `patch × patch` convolution of stride `patch`.
#[derive(Module, Debug)]
pub struct PatchEmbed {
    /// The projection (`patch_embed.proj`).
    pub proj: Conv2d,
}

impl PatchEmbed {
    /// # Shapes
    /// - `images`: `[N, C, H, W]`; output `[N, (H/p)·(W/p), D]`, the patches in row-major order
    pub fn forward(&self, images: Tensor<4>) -> Tensor<3> {
        self.proj.forward(images).flatten::<3>(2, 3).swap_dims(1, 2)
    }
}

/// Multi-head self-attention with a fused `qkv` projection (timm's `Attention`).
#[derive(Module, Debug)]
pub struct DeitAttention {
    /// Query, key and value projections, fused: output `[q | k | v]`, each split into heads.
    pub qkv: Linear,
    /// Output projection.
    pub proj: Linear,
    /// Heads.
    pub num_heads: usize,
}

impl DeitAttention {
    /// The attended tokens and the attention probabilities.
    ///
    /// # Shapes
    /// - `x`: `[N, T, D]`; outputs `[N, T, D]` and `[N, heads, T, T]` (rows sum to 1)
    pub fn forward_with_attention(&self, x: Tensor<3>) -> (Tensor<3>, Tensor<4>) {
        let [n, t, d] = x.dims();
        let h = self.num_heads;
        let qkv = self
            .qkv
            .forward(x)
            .reshape([n, t, 3, h, d / h])
            .permute([2, 0, 3, 1, 4]);
        let part = |i: usize| qkv.clone().slice(s![i..i + 1]).reshape([n, h, t, d / h]);
        let (q, k, v) = (part(0), part(1), part(2));
        let scale = (d as f64 / h as f64).powf(-0.5);
        let attn = softmax(q.mul_scalar(scale).matmul(k.swap_dims(2, 3)), 3);
        let y = attn.clone().matmul(v).swap_dims(1, 2).reshape([n, t, d]);
        (self.proj.forward(y), attn)
    }
}

/// The MLP of a block: `fc1`, exact GELU, `fc2`.
#[derive(Module, Debug)]
pub struct Mlp {
    /// Expanding layer.
    pub fc1: Linear,
    /// Contracting layer.
    pub fc2: Linear,
}

impl Mlp {
    /// # Shapes
    /// - `x`: `[…, D]` (tokens last); output `[…, D]`
    pub fn forward<const R: usize>(&self, x: Tensor<R>) -> Tensor<R> {
        self.fc2.forward(gelu(self.fc1.forward(x)))
    }
}

/// A pre-norm transformer block: `x + drop_path(attn(norm1(x)))`, then
/// `x + drop_path(mlp(norm2(x)))` (two independent draws).
#[derive(Module, Debug)]
pub struct DeitBlock {
    /// Norm before attention.
    pub norm1: LayerNorm,
    /// Self-attention.
    pub attn: DeitAttention,
    /// Norm before the MLP.
    pub norm2: LayerNorm,
    /// MLP.
    pub mlp: Mlp,
    /// Stochastic depth of both residual branches.
    pub drop_path: DropPath,
}

impl DeitBlock {
    /// The block's output and its attention probabilities.
    ///
    /// # Shapes
    /// - `x`: `[N, T, D]`; outputs `[N, T, D]` and `[N, heads, T, T]`
    pub fn forward_with_attention(&self, x: Tensor<3>) -> (Tensor<3>, Tensor<4>) {
        let (a, attn) = self
            .attn
            .forward_with_attention(self.norm1.forward(x.clone()));
        let x = x + self.drop_path.forward(a);
        let m = self.mlp.forward(self.norm2.forward(x.clone()));
        (x + self.drop_path.forward(m), attn)
    }
}

/// DeiT / ViT with a class token, timm's module layout.
///
/// ```
/// use burn::prelude::*;
/// use burn::tensor::Distribution;
/// use mixaug_models::DeitConfig;
/// let device = Device::flex();
/// // A tiny ViT: 8×8 images in 4×4 patches (a 2×2 grid, L = 4 patches), 8-wide tokens,
/// // one block of 2 heads, 3 classes.
/// let model = DeitConfig::new(3)
///     .with_image_size(8)
///     .with_patch_size(4)
///     .with_embed_dim(8)
///     .with_depth(1)
///     .with_num_heads(2)
///     .init(&device);
/// let images = Tensor::<4>::random([2, 3, 8, 8], Distribution::Default, &device);
/// assert_eq!(model.forward(images.clone()).dims(), [2, 3]);
/// let (logits, attention) = model.forward_with_attention(images);
/// assert_eq!((logits.dims(), attention.dims()), ([2, 3], [2, 2, 4]));
/// // Each row is a softmax row without its class-token entry: it sums to less than 1.
/// let sums = attention.sum_dim(2).into_data().to_vec::<f32>().unwrap();
/// assert!(sums.iter().all(|&s| s > 0.0 && s < 1.0));
/// // The position embedding fixes the size: an 8×12 batch is refused before burn sees it.
/// assert!(model.try_forward(Tensor::zeros([1, 3, 8, 12], &device)).is_err());
/// ```
#[derive(Module, Debug)]
pub struct Deit {
    /// Patch embedding.
    pub patch_embed: PatchEmbed,
    /// The class token, `[1, 1, D]`.
    pub cls_token: Param<Tensor<3>>,
    /// Learned position embedding of the class token and the patches, `[1, 1 + L, D]`.
    pub pos_embed: Param<Tensor<3>>,
    /// Transformer blocks.
    pub blocks: Vec<DeitBlock>,
    /// Final LayerNorm.
    pub norm: LayerNorm,
    /// Classifier on the class token (burn's `[in, out]` weight layout).
    pub head: Linear,
    /// Side of the square images the network takes (the configuration's `image_size`):
    /// the position embedding has one entry per patch of it.
    pub image_size: usize,
}

impl Deit {
    /// All tokens after the final norm, the class token first, then the patches in
    /// row-major order; and the last block's attention probabilities.
    ///
    /// # Panics
    /// When the images are not the configured size and channels ([`ClassifierFamily::check_images`]).
    ///
    /// # Shapes
    /// - `images`: `[N, C, S, S]` with `S` the configured image size; outputs
    ///   `[N, 1 + L, D]` and `[N, heads, 1 + L, 1 + L]`, `L = (S/p)²`
    fn tokens_and_attention(&self, images: Tensor<4>) -> (Tensor<3>, Tensor<4>) {
        expect_images(self, &images);
        let patches = self.patch_embed.forward(images);
        let [n, _, d] = patches.dims();
        let cls = self.cls_token.val().expand([n, 1, d]);
        let x = Tensor::cat(vec![cls, patches], 1) + self.pos_embed.val();
        let (last, rest) = self
            .blocks
            .split_last()
            .expect("a DeiT has at least one block (DeitConfig::validate)");
        let x = rest.iter().fold(x, |x, b| b.forward_with_attention(x).0);
        let (x, attn) = last.forward_with_attention(x);
        (self.norm.forward(x), attn)
    }

    /// All tokens after the final norm: the class token first, then the patches in
    /// row-major order.
    ///
    /// # Panics
    /// When the images are not the configured size and channels ([`ClassifierFamily::check_images`]).
    ///
    /// # Shapes
    /// - `images`: `[N, C, S, S]`; output `[N, 1 + L, D]`, `L = (S/p)²`
    pub fn forward_features(&self, images: Tensor<4>) -> Tensor<3> {
        self.tokens_and_attention(images).0
    }

    /// Logits and the class token's attention to the patches in the last block, per head
    /// (not averaged): row `[n, h, :]` is the softmax row of the class-token query without
    /// its entry for the class token itself, so it sums to 1 minus that entry; patch `l`
    /// is grid cell `(l / (S/p), l % (S/p))`. TransMix averages it over the heads.
    ///
    /// # Panics
    /// When the images are not the configured size and channels ([`ClassifierFamily::check_images`]).
    ///
    /// # Shapes
    /// - `images`: `[N, C, S, S]`; outputs `[N, K]` and `[N, heads, L]`, `L = (S/p)²`
    pub fn forward_with_attention(&self, images: Tensor<4>) -> (Tensor<2>, Tensor<3>) {
        let (tokens, attn) = self.tokens_and_attention(images);
        let [n, h, t, _] = attn.dims();
        let cls_attn = attn.slice(s![.., .., 0..1, 1..t]).reshape([n, h, t - 1]);
        (self.classify(class_token(tokens)), cls_attn)
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
    /// the network has no buffers).
    pub fn num_trainable_params(&self) -> usize {
        self.num_params()
    }
}

/// The first token of `[N, T, D]`, as `[N, D]`.
fn class_token(tokens: Tensor<3>) -> Tensor<2> {
    let [n, _, d] = tokens.dims();
    tokens.slice(s![.., 0..1, ..]).reshape([n, d])
}

impl PooledClassifier for Deit {
    /// The class token after the final norm, `[N, D]`. Panics like [`Deit::forward`] on
    /// images of another shape.
    fn pooled(&self, images: Tensor<4>) -> Tensor<2> {
        class_token(self.forward_features(images))
    }

    fn classify(&self, pooled: Tensor<2>) -> Tensor<2> {
        self.head.forward(pooled)
    }
}

/// A token CAM: the features are the final-norm patch tokens as a map and the classifier
/// the head. DeiT classifies its class token, not a pooled map, so the mean of these maps
/// is not the logits ([`ClassifierFamily::HAS_CAM`] is false); the runner refuses
/// CAM-guided methods (SnapMix) on it.
impl CamModel for Deit {
    /// # Shapes
    /// - `images`: `[N, C, S, S]`; output `[N, D, S/p, S/p]`
    fn cam_features(&self, images: Tensor<4>) -> Tensor<4> {
        let tokens = self.forward_features(images);
        let [n, l, d] = tokens.dims();
        let side = ((l - 1) as f64).sqrt().round() as usize;
        tokens
            .slice([0..n, 1..l, 0..d])
            .reshape([n, side, side, d])
            .permute([0, 3, 1, 2])
    }

    fn cam_classifier(&self) -> CamClassifier {
        CamClassifier::from_linear(&self.head)
    }
}

/// timm's `VisionTransformer` keys, unchanged.
impl PytorchLayout for Deit {
    const KEY_REMAPPING: &'static [(&'static str, &'static str)] = &[];
    const INVERSE_KEY_REMAPPING: &'static [(&'static str, &'static str)] = &[];
    const CLASSIFIER_PREFIX: &'static str = "head.";
    const IGNORED_BUFFERS: &'static [&'static str] = &[];
}

impl ClassifierFamily for Deit {
    type Config = DeitConfig;
    const NAME: &'static str = "DeiT";
    const HAS_CAM: bool = false;
    const HAS_CLASS_ATTENTION: bool = true;
    const ARCHITECTURES: &'static [Architecture] =
        &[Architecture::new("deit_small_patch16_224", |k| {
            DeitConfig::deit_small(k).into()
        })];
    const SPEC_OPTIONS: &'static [SpecOption] = &[SpecOption::ImageSize, SpecOption::DropPath];

    /// The image size and the stochastic depth, validated.
    fn apply_spec(config: DeitConfig, spec: &ModelSpec) -> Result<DeitConfig, ModelError> {
        let config = match spec.image_size {
            Some(size) => config.with_image_size(size),
            None => config,
        }
        .with_drop_path_rate(spec.drop_path);
        config.validate()?;
        Ok(config)
    }

    fn from_config(config: &DeitConfig, device: &Device) -> Result<Self, ModelError> {
        Ok(config.try_init(device)?)
    }

    fn classifier(&self) -> &Linear {
        &self.head
    }

    /// Checks that the network takes `images`, on the host shape only (no device work):
    /// `C` channels of `S × S`, the configured input channels and image size. Every forward
    /// makes this check before burn sees the batch.
    fn check_images(&self, images: &Tensor<4>) -> Result<(), ImageShapeError> {
        check_images(
            Self::NAME,
            input_channels(&self.patch_embed.proj),
            Some([self.image_size, self.image_size]),
            images,
        )
    }

    fn forward_with_attention(&self, images: Tensor<4>) -> Option<(Tensor<2>, Tensor<3>)> {
        Some(Deit::forward_with_attention(self, images))
    }

    fn load_checkpoint(
        &mut self,
        checkpoint: &Path,
        options: &ImportOptions,
    ) -> Option<Result<ImportReport, ImportError>> {
        Some(load_pytorch(self, checkpoint, options))
    }
}
