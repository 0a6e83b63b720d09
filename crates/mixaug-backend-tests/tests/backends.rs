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

/// Every case of `src/cases/` (a `pub fn NAME(device: &Device) {`, or `_device`, returning
/// nothing) is in `backend_suite!`'s list, so that no case written is left unrun on every
/// backend; and the list holds nothing else.
#[test]
fn every_case_is_registered_in_the_suite() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let lib = std::fs::read_to_string(root.join("lib.rs")).unwrap();
    let list_start = lib
        .find("@cases $device;")
        .expect("the suite's list of cases");
    let list_end = list_start + lib[list_start..].find(");").unwrap();
    let registered: std::collections::BTreeSet<&str> = lib[list_start..list_end]
        .trim_start_matches("@cases $device;")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect();
    let mut cases = std::collections::BTreeMap::new();
    for entry in std::fs::read_dir(root.join("cases")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        for line in text.lines() {
            // Cases return nothing; helpers such as `probe` return what they build.
            if let Some((name, args)) = line.strip_prefix("pub fn ").and_then(|r| r.split_once('('))
                && args.trim_end().trim_start_matches('_') == "device: &Device) {"
            {
                cases.insert(name.to_string(), path.clone());
            }
        }
    }
    assert!(cases.len() > 50, "found only {} cases", cases.len());
    let unregistered: Vec<_> = cases
        .iter()
        .filter(|(name, _)| !registered.contains(name.as_str()))
        .map(|(name, path)| format!("{name} ({})", path.display()))
        .collect();
    assert!(
        unregistered.is_empty(),
        "cases missing from backend_suite! in src/lib.rs: {unregistered:?}"
    );
    assert_eq!(registered.len(), cases.len(), "{registered:?}");
}
