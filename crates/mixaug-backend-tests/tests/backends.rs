//! The shared suite, once per backend compiled into this test binary.
//!
//! `cargo test -p mixaug-backend-tests` runs it on flex; add `--features wgpu,tch` for the
//! other CPU-runnable backends (see README.md).

#[cfg(feature = "flex")]
mod flex {
    mixaug_backend_tests::backend_suite!(burn::prelude::Device::flex());
}

#[cfg(feature = "ndarray")]
mod ndarray {
    #[allow(deprecated)]
    fn device() -> burn::prelude::Device {
        burn::prelude::Device::ndarray()
    }
    mixaug_backend_tests::backend_suite!(device());
}

#[cfg(feature = "wgpu")]
mod wgpu {
    mixaug_backend_tests::backend_suite!(burn::prelude::Device::wgpu(
        burn::tensor::DeviceKind::DefaultDevice
    ));
}

#[cfg(feature = "tch")]
mod tch {
    #[allow(deprecated)]
    fn device() -> burn::prelude::Device {
        burn::prelude::Device::libtorch()
    }
    mixaug_backend_tests::backend_suite!(device());
}

#[cfg(feature = "cuda")]
mod cuda {
    mixaug_backend_tests::backend_suite!(burn::prelude::Device::cuda(0));
}
