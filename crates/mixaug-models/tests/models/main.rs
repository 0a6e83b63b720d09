//! The integration tests of mixaug-models, one test binary (each binary links burn, so one
//! per crate keeps the build small).

mod deit;
mod drop_path;
mod families;
mod import;
mod init;
mod preact;
mod resnet;
mod spec;
mod swin;
mod timm_import;

/// `|got − expected| ≤ 1e-4 · max|expected|` element-wise (relative to the output scale),
/// `expected` being a reference implementation's output (PyTorch or timm, from the
/// fixtures' scripts).
fn assert_matches(got: Vec<f32>, expected: &[f32], what: &str) {
    assert_eq!(got.len(), expected.len(), "{what}: lengths");
    let scale = expected.iter().fold(0f32, |m, v| m.max(v.abs()));
    for (i, (g, e)) in got.iter().zip(expected).enumerate() {
        assert!(
            (g - e).abs() <= 1e-4 * scale,
            "{what}[{i}]: got {g}, reference {e} (scale {scale})"
        );
    }
}
