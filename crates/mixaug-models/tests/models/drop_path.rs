//! Stochastic depth: timm's per-block rates, identity at rate 0 and at inference, and per
//! sample either the branch dropped or scaled by `1 / (1 − p)` in training.

use burn::prelude::*;
use burn::tensor::Distribution;
use mixaug_models::{DeitConfig, DeitConfigError, DropPath, SwinConfig, SwinConfigError};

fn floats<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

fn deit(rate: f64) -> DeitConfig {
    DeitConfig::new(5)
        .with_image_size(16)
        .with_patch_size(4)
        .with_embed_dim(16)
        .with_depth(4)
        .with_num_heads(2)
        .with_drop_path_rate(rate)
}

fn swin(rate: f64) -> SwinConfig {
    SwinConfig::new(5)
        .with_image_size(32)
        .with_patch_size(4)
        .with_window_size(4)
        .with_embed_dim(8)
        .with_depths(vec![2, 2])
        .with_num_heads(vec![1, 2])
        .with_drop_path_rate(rate)
}

#[test]
fn rates_rise_linearly_over_the_blocks_as_timm_s() {
    // torch.linspace(0, 0.3, 4) = [0, 0.1, 0.2, 0.3]; Swin counts its blocks across stages.
    let device = Device::flex();
    let close = |got: Vec<f64>| {
        let expected = [0.0, 0.1, 0.2, 0.3];
        assert!(
            got.iter().zip(expected).all(|(g, e)| (g - e).abs() < 1e-12) && got.len() == 4,
            "{got:?}"
        );
    };
    let model = deit(0.3).init(&device);
    close(model.blocks.iter().map(|b| b.drop_path.prob).collect());
    let model = swin(0.3).init(&device);
    close(
        model
            .layers
            .iter()
            .flat_map(|l| l.blocks.iter().map(|b| b.drop_path.prob))
            .collect(),
    );
    assert_eq!(
        deit(1.0).validate(),
        Err(DeitConfigError::DropPath { rate: 1.0 })
    );
    assert_eq!(
        swin(-0.1).validate(),
        Err(SwinConfigError::DropPath { rate: -0.1 })
    );
}

#[test]
fn drop_path_keeps_or_zeroes_whole_samples() {
    let device = Device::flex().autodiff();
    device.seed(11);
    let p = 0.25;
    let x = Tensor::<3>::random([32, 2, 3], Distribution::Uniform(1.0, 2.0), &device);
    let y = floats(DropPath::new(p).forward(x.clone()));
    let x = floats(x);
    let (mut kept, mut dropped) = (0, 0);
    for (xs, ys) in x.chunks(6).zip(y.chunks(6)) {
        if ys.iter().all(|&v| v == 0.0) {
            dropped += 1;
        } else {
            // Kept: every entry scaled by 1 / (1 − 0.25) = 4/3.
            for (a, b) in xs.iter().zip(ys) {
                assert!((b - a / 0.75).abs() < 1e-6, "{a} → {b}");
            }
            kept += 1;
        }
    }
    // Seed 11 drops some and keeps some of the 32 samples (each kept with 0.75).
    assert!(kept > 0 && dropped > 0, "kept {kept}, dropped {dropped}");
    // On a device without autodiff, and at rate 0, the identity.
    let plain = Tensor::<3>::from_data(TensorData::new(x.clone(), [32, 2, 3]), &Device::flex());
    assert_eq!(floats(DropPath::new(p).forward(plain)), x);
}

#[test]
fn a_deit_block_in_training_adds_each_branch_dropped_or_scaled() {
    let device = Device::flex().autodiff();
    device.seed(5);
    let model = deit(0.6).init(&device);
    // Block 3 of 4: rate 0.6 · 3/3 = 0.6, kept branches scaled by 1 / 0.4 = 2.5.
    let block = &model.blocks[3];
    assert!((block.drop_path.prob - 0.6).abs() < 1e-12);
    let x = Tensor::<3>::random([16, 5, 16], Distribution::Normal(0.0, 1.0), &device);
    let out = floats(block.forward_with_attention(x.clone()).0);
    // The four hand-built outcomes per sample: x1 = x + ka · attn(norm1(x)), then
    // x1 + km · mlp(norm2(x1)), ka, km ∈ {0, 2.5}.
    let a = block
        .attn
        .forward_with_attention(block.norm1.forward(x.clone()))
        .0;
    let mut candidates = Vec::new();
    for ka in [0.0, 2.5] {
        let x1 = x.clone() + a.clone().mul_scalar(ka);
        let m = block.mlp.forward(block.norm2.forward(x1.clone()));
        for km in [0.0, 2.5] {
            candidates.push(((ka, km), floats(x1.clone() + m.clone().mul_scalar(km))));
        }
    }
    let row = 5 * 16;
    let mut seen = std::collections::BTreeSet::new();
    for n in 0..16 {
        let got = &out[n * row..(n + 1) * row];
        let (which, _) = candidates
            .iter()
            .find(|(_, c)| {
                c[n * row..(n + 1) * row]
                    .iter()
                    .zip(got)
                    .all(|(c, g)| (c - g).abs() < 1e-4)
            })
            .unwrap_or_else(|| panic!("sample {n} is none of the four outcomes"));
        seen.insert(format!("{which:?}"));
    }
    // Seed 5: more than one outcome among 16 samples.
    assert!(seen.len() > 1, "{seen:?}");
}

/// Equal to 1e-6.
fn assert_close(got: Vec<f32>, expected: &[f32]) {
    assert_eq!(got.len(), expected.len());
    for (g, e) in got.iter().zip(expected) {
        assert!((g - e).abs() < 1e-6, "{g} vs {e}");
    }
}

#[test]
fn rate_zero_or_inference_is_the_plain_forward() {
    let device = Device::flex().autodiff();
    device.seed(9);
    let x = Tensor::<4>::random([3, 3, 32, 32], Distribution::Default, &device);
    let plain = swin(0.0).init(&device);
    // The same weights with timm's rates for 0.5 over 4 blocks: 0, 1/6, 1/3, 1/2.
    let mut dropping = plain.clone();
    let rates = [0.0, 0.5 / 3.0, 1.0 / 3.0, 0.5];
    for (block, rate) in dropping
        .layers
        .iter_mut()
        .flat_map(|l| l.blocks.iter_mut())
        .zip(rates)
    {
        block.drop_path = DropPath::new(rate);
    }
    let reference = floats(plain.valid().forward(x.clone().inner()));
    // Rate 0 while training, rate 0.5 at inference: the plain forward (the autodiff
    // forward differs from the plain one by rounding, ~1e-8).
    assert_close(floats(plain.forward(x.clone())), &reference);
    assert_eq!(
        floats(dropping.valid().forward(x.clone().inner())),
        reference
    );
    // Rate 0.5 while training drops something (seed 9: 3 samples × 6 branches that may
    // drop).
    assert!(floats(dropping.forward(x)) != reference);

    let x = Tensor::<4>::random([3, 3, 16, 16], Distribution::Default, &device);
    let plain = deit(0.0).init(&device);
    let mut dropping = plain.clone();
    for (block, rate) in dropping.blocks.iter_mut().zip(rates) {
        block.drop_path = DropPath::new(rate);
    }
    let reference = floats(plain.valid().forward(x.clone().inner()));
    assert_close(floats(plain.forward(x.clone())), &reference);
    assert_eq!(
        floats(dropping.valid().forward(x.clone().inner())),
        reference
    );
    assert!(floats(dropping.forward(x)) != reference);
}
