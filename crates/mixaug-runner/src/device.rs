//! Choosing the backend at run time: `--device NAME` → a burn [`Device`].

use anyhow::{Result, bail};
use burn::prelude::*;

/// Every device name `--device` understands, with the cargo feature that compiles it in.
pub const DEVICE_NAMES: &[(&str, &str)] = &[
    ("flex", "flex"),
    ("ndarray", "ndarray"),
    ("wgpu", "wgpu"),
    ("vulkan", "vulkan"),
    ("metal", "metal"),
    ("tch", "tch"),
    ("cuda[:INDEX]", "cuda"),
];

/// The device called `name` (`flex`, `ndarray`, `wgpu`, `vulkan`, `metal`, `tch`,
/// `cuda` or `cuda:INDEX`), or an error naming the cargo feature to enable when that
/// backend was not compiled into this binary.
///
/// ```
/// let device = mixaug_runner::device::parse_device("flex").unwrap();
/// assert!(!device.is_autodiff());
/// assert!(mixaug_runner::device::parse_device("tpu").is_err());
/// ```
pub fn parse_device(name: &str) -> Result<Device> {
    let (kind, index) = match name.split_once(':') {
        Some((kind, index)) => (kind, Some(index.parse::<usize>()?)),
        None => (name, None),
    };
    if index.is_some() && kind != "cuda" {
        bail!("device `{name}`: only `cuda` takes an index (`cuda:1`)");
    }
    let not_compiled = |feature: &str| -> Result<Device> {
        bail!(
            "the `{kind}` backend is not compiled into this binary: rebuild with \
             `--features {feature}` (see README.md, section Backends)"
        )
    };
    match kind {
        "flex" => {
            #[cfg(feature = "flex")]
            return Ok(Device::flex());
            #[cfg(not(feature = "flex"))]
            return not_compiled("flex");
        }
        "ndarray" => {
            #[cfg(feature = "ndarray")]
            #[allow(deprecated)]
            return Ok(Device::ndarray());
            #[cfg(not(feature = "ndarray"))]
            return not_compiled("ndarray");
        }
        "wgpu" => {
            #[cfg(feature = "wgpu")]
            return Ok(Device::wgpu(burn::tensor::DeviceKind::DefaultDevice));
            #[cfg(not(feature = "wgpu"))]
            return not_compiled("wgpu");
        }
        "vulkan" => {
            #[cfg(feature = "vulkan")]
            return Ok(Device::vulkan(burn::tensor::DeviceKind::DefaultDevice));
            #[cfg(not(feature = "vulkan"))]
            return not_compiled("vulkan");
        }
        "metal" => {
            #[cfg(feature = "metal")]
            return Ok(Device::metal(burn::tensor::DeviceKind::DefaultDevice));
            #[cfg(not(feature = "metal"))]
            return not_compiled("metal");
        }
        "tch" | "libtorch" => {
            #[cfg(feature = "tch")]
            #[allow(deprecated)]
            return Ok(Device::libtorch());
            #[cfg(not(feature = "tch"))]
            return not_compiled("tch");
        }
        "cuda" => {
            #[cfg(feature = "cuda")]
            return Ok(Device::cuda(index.unwrap_or(0)));
            #[cfg(not(feature = "cuda"))]
            return not_compiled("cuda");
        }
        other => {
            let known: Vec<&str> = DEVICE_NAMES.iter().map(|(n, _)| *n).collect();
            bail!(
                "unknown device `{other}`: expected one of {}",
                known.join(", ")
            )
        }
    }
}

/// The most CUDA device indices [`is_cuda`] looks through.
#[cfg(feature = "cuda")]
const MAX_CUDA_DEVICES: usize = 256;

/// Whether `device` (plain or autodiff) is a CUDA device; always `false` in a build
/// without the `cuda` feature. burn 0.22's collective operations, which distributed data
/// parallel training needs, exist for CUDA alone.
///
/// ```
/// let flex = mixaug_runner::device::parse_device("flex").unwrap();
/// assert!(!mixaug_runner::device::is_cuda(&flex.autodiff()));
/// ```
pub fn is_cuda(device: &Device) -> bool {
    #[cfg(feature = "cuda")]
    {
        // Devices compare by what they name (nothing is opened): the same backend and index.
        let plain = device.clone().inner();
        (0..MAX_CUDA_DEVICES).any(|index| plain == Device::cuda(index))
    }
    #[cfg(not(feature = "cuda"))]
    {
        let _ = device;
        false
    }
}
