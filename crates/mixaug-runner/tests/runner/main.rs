//! The integration tests of mixaug-runner but training (`tests/train.rs`), one test binary
//! (each binary links burn, so few binaries keep the build small). The training tests stay
//! a binary of their own: they compare runs exactly, which needs no other test drawing from
//! the backend's global RNG or running kernels in the same process meanwhile.

mod cam;
mod cli;
mod experiment;
mod gallery;
mod mutants;
mod tables;
#[cfg(target_os = "linux")]
mod terminal;

use std::path::Path;

/// A small experiment file: CutMix on a ResNet-18 of base width 4 over the Fashion-MNIST
/// IDX files in `data`, SGD with Nesterov momentum and a cosine schedule; `data_extra`
/// goes into `[data]` as it is.
fn tiny_experiment(
    name: &str,
    data: &Path,
    seeds: &[u64],
    batch_size: usize,
    epochs: usize,
    data_extra: &str,
) -> String {
    format!(
        r#"
name = "{name}"
seeds = {seeds:?}

[data]
dataset = "fashion-mnist"
dir = "{}"
batch_size = {batch_size}
normalize = {{ mean = [0.5, 0.5, 0.5], std = [0.25, 0.25, 0.25] }}
{data_extra}
[model]
arch = "resnet18"
base_width = 4
num_classes = 10

[mixer]
method = "cutmix"

[train]
epochs = {epochs}
lr = 0.05
momentum = 0.9
nesterov = true
weight_decay = 5e-4
schedule = {{ kind = "cosine" }}
warmup_epochs = 0
loss = {{ kind = "soft_ce" }}
smoothing = 0.0
seed = 0
"#,
        data.display()
    )
}
