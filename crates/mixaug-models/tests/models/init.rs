//! Initial weights against each network's reference scheme, layer kind by layer kind.
//!
//! * ResNet family — torchvision `ResNet.__init__`: convolutions `kaiming_normal_(mode=
//!   "fan_out", nonlinearity="relu")` = N(0, 2/fan_out), fan_out = out_channels·kh·kw (PyTorch
//!   counts it so for grouped convolutions too), BatchNorm γ = 1, β = 0 (γ = 0 in the last
//!   BatchNorm of each residual branch only with `zero_init_residual`), the classifier
//!   PyTorch's default `Linear`: weight and bias U(−1/√fan_in, 1/√fan_in).
//! * PreAct-ResNet-18 — the Mixup / Manifold-Mixup CIFAR code sets nothing: PyTorch's
//!   defaults, convolutions U(−1/√fan_in, 1/√fan_in) (`kaiming_uniform_(a=√5)`, fan_in =
//!   in_channels·kh·kw), BatchNorm 1/0, the classifier as above.
//! * WideResNet — xternalz/WideResNet-pytorch (Cutout, SaliencyMix): convolutions
//!   N(0, 2/fan_out), BatchNorm 1/0, classifier weight U(−1/√fan_in, 1/√fan_in), bias 0.
//! * DeiT — timm 1.0 `VisionTransformer.init_weights` + `init_weights_vit_timm`: every
//!   `Linear` weight `trunc_normal_(std=.02)` (timm's bounds are absolute, a = −2, b = 2,
//!   i.e. ±100σ: N(0, 0.02²) in practice), `Linear` biases 0, `pos_embed`
//!   `trunc_normal_(std=.02)`, `cls_token` N(0, 1e-6²), LayerNorm 1/0, the patch projection
//!   left at PyTorch's `Conv2d` default (weight and bias U(−1/√fan_in, 1/√fan_in)).
//! * Swin — timm 1.0 `SwinTransformer.init_weights` (the same `init_weights_vit_timm`) and
//!   `WindowAttention.reset_parameters`: `relative_position_bias_table`
//!   `trunc_normal_(std=.02)`, the rest as DeiT's (patch merging's `reduction` has no bias).
//!
//! Tolerances: five standard errors of each statistic for the `n` weights pooled (each
//! weight standardised by its own layer's expected scale first). For a distribution of
//! variance σ² and kurtosis κ: se(mean) = σ/√n, se(s²) ≈ σ²·√((κ − 1)/n) — κ = 3 (normal):
//! σ²·√(2/n); κ = 9/5 (uniform): σ²·√(0.8/n). For normal draws also the sample kurtosis,
//! se ≈ √(24/n), which tells a normal (3) from a uniform (1.8). Layer by layer, the variance
//! alone at six standard errors (many layers: fewer false alarms), which catches a layer
//! drawn at the wrong scale. Uniform draws: every |w| ≤ bound (f32 rounding aside), and the
//! largest |w| ≥ bound·(1 − 20/n) (probability (1 − 20/n)ⁿ ≈ e⁻²⁰ of failing by chance).
//! Constants (BatchNorm and LayerNorm γ/β, running statistics, zero biases) exactly.

use std::collections::BTreeMap;

use burn::module::{Module, ModuleVisitor, Param};
use burn::prelude::*;
use mixaug_models::{
    BlockKind, DeitConfig, PreActInit, PreActNetConfig, ResNetConfig, Stem, SwinConfig,
};

/// One float tensor of a network: its path (`layer1.0.conv2.weight`), the type of the module
/// that owns it (`Conv2d`), its shape and values.
struct Weights {
    path: String,
    owner: String,
    shape: Vec<usize>,
    values: Vec<f64>,
}

impl Weights {
    fn field(&self) -> &str {
        self.path.rsplit('.').next().unwrap_or("")
    }
}

#[derive(Default)]
struct Collect {
    stack: Vec<(String, String)>,
    found: Vec<Weights>,
}

impl ModuleVisitor for Collect {
    fn enter_module(&mut self, name: &str, container_type: &str) {
        self.stack
            .push((name.to_string(), container_type.to_string()));
    }

    fn exit_module(&mut self, _name: &str, _container_type: &str) {
        self.stack.pop();
    }

    fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
        let tensor = param.val();
        let path = self
            .stack
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(".");
        let owner = self.stack.last().map_or("", |(_, t)| t.as_str());
        self.found.push(Weights {
            path,
            owner: owner.trim_start_matches("Struct:").to_string(),
            shape: tensor.dims().to_vec(),
            values: tensor
                .into_data()
                .try_into_vec_as::<f32>()
                .unwrap()
                .into_iter()
                .map(f64::from)
                .collect(),
        });
    }
}

fn tensors<M: Module>(model: &M) -> Vec<Weights> {
    let mut collect = Collect::default();
    model.visit(&mut collect);
    collect.found
}

/// n, mean, unbiased variance, kurtosis (m₄/m₂²), largest |x|.
struct Moments {
    n: f64,
    mean: f64,
    var: f64,
    kurtosis: f64,
    max_abs: f64,
}

fn moments(xs: &[f64]) -> Moments {
    let n = xs.len() as f64;
    let mean = xs.iter().sum::<f64>() / n;
    let m2 = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n;
    let m4 = xs.iter().map(|x| (x - mean).powi(4)).sum::<f64>() / n;
    Moments {
        n,
        mean,
        var: m2 * n / (n - 1.0),
        kurtosis: m4 / (m2 * m2),
        max_abs: xs.iter().fold(0.0, |m, x| m.max(x.abs())),
    }
}

/// `z` (weights divided by their layer's expected deviation) against N(0, 1).
fn assert_standard_normal(what: &str, z: &[f64]) -> Moments {
    let m = moments(z);
    assert!(m.n >= 2000.0, "{what}: only {} samples", m.n);
    let (se_mean, se_var, se_kurt) = (1.0 / m.n.sqrt(), (2.0 / m.n).sqrt(), (24.0 / m.n).sqrt());
    assert!(
        m.mean.abs() <= 5.0 * se_mean,
        "{what}: mean {} of N(0, 1)-standardised weights (n {}, tolerance {})",
        m.mean,
        m.n,
        5.0 * se_mean
    );
    assert!(
        (m.var - 1.0).abs() <= 5.0 * se_var,
        "{what}: variance ratio {} (n {}, tolerance {})",
        m.var,
        m.n,
        5.0 * se_var
    );
    assert!(
        (m.kurtosis - 3.0).abs() <= 5.0 * se_kurt,
        "{what}: kurtosis {} is not a normal's 3 (n {}, tolerance {})",
        m.kurtosis,
        m.n,
        5.0 * se_kurt
    );
    m
}

/// `u` (weights divided by their layer's bound) against U(−1, 1): variance 1/3, kurtosis 9/5.
fn assert_standard_uniform(what: &str, u: &[f64], min_n: f64) -> Moments {
    let m = moments(u);
    assert!(m.n >= min_n, "{what}: only {} samples", m.n);
    let var = 1.0 / 3.0;
    let (se_mean, se_var) = ((var / m.n).sqrt(), var * (0.8 / m.n).sqrt());
    assert!(
        m.max_abs <= 1.0 + 1e-6,
        "{what}: |w| reaches {} × the bound",
        m.max_abs
    );
    assert!(
        m.max_abs >= 1.0 - 20.0 / m.n,
        "{what}: the largest |w| is only {} × the bound (n {})",
        m.max_abs,
        m.n
    );
    assert!(
        m.mean.abs() <= 5.0 * se_mean,
        "{what}: mean {} of bound-scaled weights (n {}, tolerance {})",
        m.mean,
        m.n,
        5.0 * se_mean
    );
    assert!(
        (m.var - var).abs() <= 5.0 * se_var,
        "{what}: variance {} of bound-scaled weights, U(−1, 1) has 1/3 (n {}, tolerance {})",
        m.var,
        m.n,
        5.0 * se_var
    );
    m
}

/// Each layer's own variance ratio (layers of ≥ 200 weights), six standard errors.
fn assert_layer_scales(what: &str, layers: &[(&str, Vec<f64>)], kappa: f64, var: f64) {
    for (path, xs) in layers {
        let m = moments(xs);
        if m.n < 200.0 {
            continue;
        }
        let tolerance = 6.0 * var * ((kappa - 1.0) / m.n).sqrt();
        assert!(
            (m.var - var).abs() <= tolerance,
            "{what} {path}: variance ratio {} (expected {var}, n {}, tolerance {tolerance})",
            m.var,
            m.n
        );
    }
}

/// The weights of the tensors `pick` keeps, each divided by `scale(tensor)`, pooled, and per
/// tensor (path, values).
fn standardised(
    all: &[Weights],
    pick: impl Fn(&Weights) -> bool,
    scale: impl Fn(&Weights) -> f64,
) -> (Vec<f64>, Vec<(&str, Vec<f64>)>) {
    let mut pooled = Vec::new();
    let mut layers = Vec::new();
    for t in all.iter().filter(|t| pick(t)) {
        let s = scale(t);
        let z: Vec<f64> = t.values.iter().map(|v| v / s).collect();
        pooled.extend_from_slice(&z);
        layers.push((t.path.as_str(), z));
    }
    (pooled, layers)
}

/// Conv weight `[out, in/groups, kh, kw]`: PyTorch's fan-in and fan-out.
fn conv_fans(t: &Weights) -> (f64, f64) {
    let [out, in_per_group, kh, kw] = t.shape[..] else {
        panic!("{}: not a conv weight {:?}", t.path, t.shape)
    };
    ((in_per_group * kh * kw) as f64, (out * kh * kw) as f64)
}

/// burn's `Linear` weight is `[d_in, d_out]`.
fn linear_fan_in(t: &Weights) -> f64 {
    t.shape[0] as f64
}

fn assert_all(what: &str, t: &Weights, value: f64) {
    assert!(
        t.values.iter().all(|v| *v == value),
        "{what}: {} is not all {value}",
        t.path
    );
}

/// Every BatchNorm: β = 0, running mean 0, running variance 1, γ = 1 but where `zero_gamma`
/// says 0. Returns how many γ were checked, by value.
fn assert_batch_norms(all: &[Weights], zero_gamma: impl Fn(&str) -> bool) -> BTreeMap<u8, usize> {
    let mut counts = BTreeMap::new();
    for t in all.iter().filter(|t| t.owner == "BatchNorm") {
        match t.field() {
            "gamma" => {
                let g = if zero_gamma(&t.path) { 0 } else { 1 };
                assert_all("BatchNorm γ", t, f64::from(g));
                *counts.entry(g).or_default() += t.values.len();
            }
            "beta" | "running_mean" => assert_all("BatchNorm β / running mean", t, 0.0),
            "running_var" => assert_all("BatchNorm running variance", t, 1.0),
            other => panic!("unexpected BatchNorm tensor {other}"),
        }
    }
    counts
}

fn assert_layer_norms(all: &[Weights]) -> usize {
    let norms: Vec<&Weights> = all.iter().filter(|t| t.owner == "LayerNorm").collect();
    for t in &norms {
        match t.field() {
            "gamma" => assert_all("LayerNorm γ", t, 1.0),
            "beta" => assert_all("LayerNorm β", t, 0.0),
            other => panic!("unexpected LayerNorm tensor {other}"),
        }
    }
    norms.len()
}

/// PyTorch's default `Linear` (weight and bias U(±1/√fan_in)), the classifier of the
/// ResNet family and of PreAct-ResNet-18.
fn assert_pytorch_linear(all: &[Weights]) {
    let weight = all
        .iter()
        .find(|t| t.owner == "Linear" && t.field() == "weight")
        .unwrap();
    let bound = 1.0 / linear_fan_in(weight).sqrt();
    let (w, _) = standardised(
        all,
        |t| t.owner == "Linear" && t.field() == "weight",
        |_| bound,
    );
    assert_standard_uniform("Linear weight", &w, 2000.0);
    let (b, _) = standardised(
        all,
        |t| t.owner == "Linear" && t.field() == "bias",
        |_| bound,
    );
    assert_standard_uniform("Linear bias", &b, 400.0);
}

#[test]
fn resnet_family_follows_torchvision() {
    let device = Device::flex();
    device.seed(29);
    // ResNet-18 (CIFAR stem, base 16: 0.7 M convolution weights, a 128 × 500 classifier) and
    // a one-block-per-stage ResNeXt 32×4d (ImageNet 7×7 stem, base 32: grouped 3×3s of
    // 64–512 channels) with zero-initialised residual branches.
    let resnet = tensors(
        &ResNetConfig::resnet18(500)
            .with_stem(Stem::Cifar)
            .with_base_width(16)
            .init(&device),
    );
    let resnext = tensors(
        &ResNetConfig::new(BlockKind::Bottleneck, [1, 1, 1, 1], 500)
            .with_groups(32)
            .with_width_per_group(4)
            .with_base_width(32)
            .with_zero_init_residual(true)
            .init(&device),
    );
    let kaiming_fan_out = |t: &Weights| (2.0 / conv_fans(t).1).sqrt();
    // ResNeXt's grouped 3×3s (32 groups): `[out, out/32, 3, 3]`.
    let grouped = |t: &Weights| {
        t.owner == "Conv2d" && t.path.ends_with("conv2.weight") && t.shape[1] * 32 == t.shape[0]
    };
    for (name, all) in [("ResNet-18", &resnet), ("ResNeXt", &resnext)] {
        assert!(
            all.iter()
                .all(|t| !(t.owner == "Conv2d" && t.field() == "bias")),
            "{name}: torchvision's convolutions have no bias"
        );
        let (z, layers) =
            standardised(all, |t| t.owner == "Conv2d" && !grouped(t), kaiming_fan_out);
        let m = assert_standard_normal(&format!("{name} Conv2d"), &z);
        assert_layer_scales(&format!("{name} Conv2d"), &layers, 3.0, 1.0);
        eprintln!(
            "{name} Conv2d / √(2/fan_out): n {}, mean {:.4}, var {:.4}, kurtosis {:.3}",
            m.n, m.mean, m.var, m.kurtosis
        );
        assert_pytorch_linear(all);
    }
    // The grouped 3×3s: N(0, 2/(out·9)), not burn's fan_out/groups (√32 times wider).
    let (z, layers) = standardised(&resnext, grouped, kaiming_fan_out);
    let m = assert_standard_normal("ResNeXt grouped Conv2d", &z);
    assert_layer_scales("ResNeXt grouped Conv2d", &layers, 3.0, 1.0);
    eprintln!(
        "ResNeXt grouped Conv2d / √(2/fan_out): n {}, mean {:.4}, var {:.4}, kurtosis {:.3}",
        m.n, m.mean, m.var, m.kurtosis
    );
    // γ = 1 everywhere but the last BatchNorm of each residual branch: bn2 of a basic block,
    // bn3 of a bottleneck, and then only with zero_init_residual (never the downsample's).
    let counts = assert_batch_norms(&resnet, |_| false);
    assert_eq!(counts.get(&0), None);
    let counts = assert_batch_norms(&resnext, |path| path.ends_with(".bn3.gamma"));
    assert_eq!(counts[&0], 4 * (32 + 64 + 128 + 256));
    assert!(counts[&1] > 0);
}

#[test]
fn preact_resnet18_keeps_pytorch_defaults_and_wide_resnet_follows_xternalz() {
    assert_eq!(
        PreActNetConfig::preact_resnet18(10).weight_init,
        PreActInit::Pytorch
    );
    assert_eq!(
        PreActNetConfig::wide_resnet28(8, 10).weight_init,
        PreActInit::WideResNet
    );
    let device = Device::flex();
    device.seed(30);
    // Narrow versions of both layouts (one block per stage; a 1×1 shortcut at every
    // stride 2), 1000 classes for a large classifier.
    let preact = tensors(
        &PreActNetConfig::new(16, vec![(16, 1), (32, 1), (64, 1), (128, 1)], 1000, false)
            .init(&device),
    );
    let wide = tensors(
        &PreActNetConfig::new(16, vec![(32, 1), (64, 1), (128, 1)], 1000, true)
            .with_weight_init(PreActInit::WideResNet)
            .init(&device),
    );
    for all in [&preact, &wide] {
        assert!(
            all.iter()
                .all(|t| !(t.owner == "Conv2d" && t.field() == "bias"))
        );
        let counts = assert_batch_norms(all, |_| false);
        assert_eq!(counts.get(&0), None);
    }

    // PreAct-ResNet-18: convolutions U(±1/√fan_in), classifier PyTorch's.
    let (u, layers) = standardised(
        &preact,
        |t| t.owner == "Conv2d",
        |t| 1.0 / conv_fans(t).0.sqrt(),
    );
    let m = assert_standard_uniform("PreAct Conv2d", &u, 2000.0);
    assert_layer_scales("PreAct Conv2d", &layers, 1.8, 1.0 / 3.0);
    // Every layer reaches its own bound (so no layer is drawn narrower).
    for (path, xs) in &layers {
        assert_standard_uniform(path, xs, 0.0);
    }
    eprintln!(
        "PreAct Conv2d · √fan_in: n {}, mean {:.4}, var {:.4} (1/3), max |u| {:.5}",
        m.n, m.mean, m.var, m.max_abs
    );
    assert_pytorch_linear(&preact);

    // WideResNet: convolutions N(0, 2/fan_out), classifier weight U(±1/√fan_in), bias 0.
    let (z, layers) = standardised(
        &wide,
        |t| t.owner == "Conv2d",
        |t| (2.0 / conv_fans(t).1).sqrt(),
    );
    let m = assert_standard_normal("WideResNet Conv2d", &z);
    assert_layer_scales("WideResNet Conv2d", &layers, 3.0, 1.0);
    eprintln!(
        "WideResNet Conv2d / √(2/fan_out): n {}, mean {:.4}, var {:.4}, kurtosis {:.3}",
        m.n, m.mean, m.var, m.kurtosis
    );
    let weight = wide
        .iter()
        .find(|t| t.owner == "Linear" && t.field() == "weight")
        .unwrap();
    let bound = 1.0 / linear_fan_in(weight).sqrt();
    let (w, _) = standardised(&wide, |t| std::ptr::eq(t, weight), |_| bound);
    assert_standard_uniform("WideResNet Linear weight", &w, 2000.0);
    let bias = wide
        .iter()
        .find(|t| t.owner == "Linear" && t.field() == "bias")
        .unwrap();
    assert_all("WideResNet classifier bias", bias, 0.0);
}

/// The checks both timm transformers share: `Linear` weights N(0, 0.02²) within timm's
/// absolute ±2, `Linear` biases 0, LayerNorm 1/0, the patch projection PyTorch's `Conv2d`.
fn assert_timm_vit_scheme(name: &str, all: &[Weights]) {
    let (z, layers) = standardised(
        all,
        |t| t.owner == "Linear" && t.field() == "weight",
        |_| 0.02,
    );
    let m = assert_standard_normal(&format!("{name} Linear weight"), &z);
    assert_layer_scales(&format!("{name} Linear weight"), &layers, 3.0, 1.0);
    // timm's trunc_normal_(std=.02) cuts at a = −2, b = 2 (absolute, 100σ): a cut no
    // draw of N(0, 0.02²) reaches, so the normal moments above are the whole check.
    eprintln!(
        "{name} Linear weight / 0.02: n {}, mean {:.4}, var {:.4}, kurtosis {:.3}",
        m.n, m.mean, m.var, m.kurtosis
    );
    for t in all
        .iter()
        .filter(|t| t.owner == "Linear" && t.field() == "bias")
    {
        assert_all(&format!("{name} Linear bias"), t, 0.0);
    }
    assert!(assert_layer_norms(all) > 0);
    let proj = all
        .iter()
        .find(|t| t.owner == "Conv2d" && t.field() == "weight")
        .unwrap();
    let bound = 1.0 / conv_fans(proj).0.sqrt();
    let (w, _) = standardised(all, |t| std::ptr::eq(t, proj), |_| bound);
    assert_standard_uniform(&format!("{name} patch projection weight"), &w, 500.0);
    let (b, _) = standardised(
        all,
        |t| t.owner == "Conv2d" && t.field() == "bias",
        |_| bound,
    );
    assert_standard_uniform(&format!("{name} patch projection bias"), &b, 50.0);
}

#[test]
fn deit_follows_timm() {
    let device = Device::flex();
    device.seed(31);
    // 256-wide tokens, 4 × 4 patches of 32 × 32 images (65 tokens), two blocks: 1.6 M
    // linear weights, 16.6 k position-embedding entries, 256 class-token entries.
    let all = tensors(
        &DeitConfig::new(100)
            .with_image_size(32)
            .with_patch_size(4)
            .with_embed_dim(256)
            .with_depth(2)
            .with_num_heads(4)
            .init(&device),
    );
    assert_timm_vit_scheme("DeiT", &all);
    let find = |field: &str| all.iter().find(|t| t.path == field).unwrap();
    let pos = find("pos_embed");
    let (z, _) = standardised(&all, |t| std::ptr::eq(t, pos), |_| 0.02);
    let m = assert_standard_normal("DeiT pos_embed", &z);
    eprintln!(
        "DeiT pos_embed / 0.02: n {}, mean {:.4}, var {:.4}, kurtosis {:.3}",
        m.n, m.mean, m.var, m.kurtosis
    );
    // cls_token ~ N(0, 1e-6²) (timm 1.0; older timm drew it trunc_normal(.02) too): 256
    // values, the variance alone, five standard errors (√(2/255) relative).
    let cls = find("cls_token");
    let m = moments(&cls.values.iter().map(|v| v / 1e-6).collect::<Vec<_>>());
    assert!(
        (m.var - 1.0).abs() <= 5.0 * (2.0 / (m.n - 1.0)).sqrt(),
        "cls_token variance {} × 1e-12",
        m.var
    );
    assert!(m.mean.abs() <= 5.0 / m.n.sqrt());
}

#[test]
fn swin_follows_timm() {
    let device = Device::flex();
    device.seed(32);
    // 2 × 2 patches of 32 × 32 images: a 16 × 16 map in 8 × 8 windows, then 8 × 8 after
    // the patch merging; 4 and 8 heads: bias tables of 15² × heads, 5.4 k entries in all.
    let all = tensors(
        &SwinConfig::new(100)
            .with_image_size(32)
            .with_patch_size(2)
            .with_embed_dim(64)
            .with_depths(vec![2, 2])
            .with_num_heads(vec![4, 8])
            .with_window_size(8)
            .init(&device),
    );
    assert_timm_vit_scheme("Swin", &all);
    let reduction = all
        .iter()
        .filter(|t| t.owner == "Linear" && t.path.contains("reduction"))
        .map(|t| t.field())
        .collect::<Vec<_>>();
    assert_eq!(
        reduction,
        ["weight"],
        "patch merging: one bias-free reduction"
    );
    let (z, _) = standardised(
        &all,
        |t| t.field() == "relative_position_bias_table",
        |_| 0.02,
    );
    assert_eq!(z.len(), 225 * (4 + 4 + 8 + 8));
    let m = assert_standard_normal("Swin relative_position_bias_table", &z);
    eprintln!(
        "Swin relative_position_bias_table / 0.02: n {}, mean {:.4}, var {:.4}, kurtosis {:.3}",
        m.n, m.mean, m.var, m.kurtosis
    );
}

#[test]
fn resnet_convolutions_draw_what_burns_kaiming_normal_drew() {
    // The ResNets' convolutions moved from burn's `KaimingNormal` (whose fan-out is
    // divided by the groups) to an explicit normal; with one group the deviation, and so
    // every draw, must stay bit-identical: the quick table's digits depend on them. The
    // deviation is computed in burn's order, √2·(1/√fan_out): at this layer's fan-out
    // 8·3·3 = 72, √(2/72) differs from it in the last bit of an f64 (which would flip an
    // f32 draw only rarely, so the test holds the whole scheme, not that bit alone).
    use burn::nn::Initializer;
    use burn::nn::conv::Conv2dConfig;
    use mixaug_models::{ResNetConfig, Stem};
    let device = Device::flex();
    device.seed(33);
    let ours = ResNetConfig::resnet18(10)
        .with_stem(Stem::Cifar)
        .with_base_width(8)
        .init(&device)
        .layer1[0]
        .conv1
        .weight
        .val();
    // Parameters are drawn lazily, at their first use: each side's first draw after the
    // seed is the weight read here.
    device.seed(33);
    let theirs = Conv2dConfig::new([8, 8], [3, 3])
        .with_bias(false)
        .with_initializer(Initializer::KaimingNormal {
            gain: std::f64::consts::SQRT_2,
            fan_out_only: true,
        })
        .init(&device)
        .weight
        .val();
    assert_eq!(ours.into_data(), theirs.into_data());
}
