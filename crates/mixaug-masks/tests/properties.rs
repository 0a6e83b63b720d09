//! Property tests over every mixer on flex (issue 31, "no panic on bad input").
//!
//! Every method of [`MixConfig`] — the Summers & Dinneen family kind by kind — with random
//! values of every option that changes its behaviour (α at 0, tiny and large; `prob` 0
//! and 1; per-batch and per-sample λ; a random permutation, the flip and rolls by any
//! shift, ≥ N included), on random batches `N ≤ 7` (1 and odd included), `C ≤ 4`,
//! `H, W ≤ 12` down to 1 and non-square. The guided methods get a valid guide of the right
//! shape built here (SaliencyMix's computed from the batch or drawn, SnapMix's percent
//! maps, AttentiveMix's grids, TransMix's class-token attention after the forward).
//!
//! Each case runs `sample`, the guide, `apply` (and `retarget`) inside `catch_unwind`: a
//! panic fails the case with its inputs and message. A typed error is accepted only where
//! the input really is out of the method's reach (a batch of one, an image below the
//! method's minimum, a TransMix patch that does not divide the image); on success the
//! images are finite and of the input shape, the classes are the batch's labels in the
//! order of the method's target, π is a permutation of `0..N` drawn by the configured
//! pairing, the weights lie in `[0, 1]` and sum to 1 per sample — except SnapMix's, which
//! need not (docs/methods.md, "Losses": a sample whose partner has the same label gets
//! both shares, up to 2) — and a batch with `prob = 0` comes back unchanged.
//!
//! A second group feeds bad input (out-of-range hyper-parameters through the experiment
//! file form, parameters drawn for another batch, guides of the wrong kind or shape,
//! TransMix attention of any shape, label counts that do not match, batches with an empty
//! dimension): a typed error or a valid result, never a panic.
//!
//! The cases come from a fixed seed (the same in every CI run); `PROPTEST_CASES` and
//! `PROPTEST_RNG_SEED` explore further.

use std::panic::{AssertUnwindSafe, catch_unwind};

use burn::prelude::*;
use mixaug_maps::PixelNormalization;
use mixaug_masks::{
    AttentiveMixConfig, AttentiveVariant, BatchShape, CutMixConfig, CutoutConfig, CutoutMode,
    FMixConfig, GridMixConfig, Guide, LamMode, MixConfig, MixError, MixMethod, MixParams, MixRng,
    Mixed, MixedExampleConfig, MixedExampleKind, MixedTarget, Mixer, MixupConfig, Needs, Pairing,
    PairingSchedule, Pixel, RatioDraw, ResizeMixConfig, RicapConfig, SaliencyMixConfig,
    SaliencyPeaks, SamplePairingConfig, SmoothMixConfig, SmoothMixLabel, SnapMixConfig, StreamKey,
    TransMixConfig,
};
use proptest::prelude::*;
use proptest::test_runner::{RngSeed, TestCaseError};

/// Number of classes of the labels drawn for every batch.
const CLASSES: usize = 10;

/// `cases` per property from a fixed seed, so that CI runs the same cases every time;
/// `PROPTEST_CASES=5000 PROPTEST_RNG_SEED=7 cargo test --workspace --test properties`
/// explores further.
fn config(cases: u32) -> ProptestConfig {
    let default = ProptestConfig::default();
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(cases);
    ProptestConfig {
        cases,
        rng_seed: match default.rng_seed {
            RngSeed::Random => RngSeed::Fixed(31),
            from_env => from_env,
        },
        // Failures are reported with their (shrunk) inputs; no regression files in the tree.
        failure_persistence: None,
        ..default
    }
}

// ---------------------------------------------------------------------------------------
// Inputs
// ---------------------------------------------------------------------------------------

/// A batch shape: N mostly ≥ 2 (1 included), sides mostly ≥ 2 (1 included), non-square.
fn shape() -> impl Strategy<Value = BatchShape> {
    let n = prop_oneof![1 => Just(1usize), 8 => 2usize..=7];
    let side = || prop_oneof![1 => Just(1usize), 6 => 2usize..=12];
    (n, 1usize..=4, side(), side()).prop_map(|(n, c, h, w)| BatchShape::new(n, c, h, w))
}

/// A Beta concentration at and between its bounds: 0 (no mixing), tiny, ordinary, large.
fn alpha() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(0.0),
        Just(1e-300),
        Just(1e-6),
        Just(0.2),
        Just(1.0),
        0.01f64..10.0,
        Just(1e6),
        Just(1e300),
        Just(f64::MAX),
    ]
}

/// A positive concentration (RICAP's β, mixed-example's Beta ratio).
fn positive_alpha() -> impl Strategy<Value = f64> {
    alpha().prop_map(|a| if a == 0.0 { f64::MIN_POSITIVE } else { a })
}

/// A probability at and between its bounds.
fn prob() -> impl Strategy<Value = f64> {
    prop_oneof![Just(0.0), Just(1.0), 0.0f64..=1.0]
}

fn lam_mode() -> impl Strategy<Value = LamMode> {
    prop_oneof![Just(LamMode::PerBatch), Just(LamMode::PerSample)]
}

/// Every partner rule, rolls by shifts at and beyond N.
fn pairing() -> impl Strategy<Value = Pairing> {
    prop_oneof![
        Just(Pairing::RandomPermutation),
        Just(Pairing::Flip),
        (0usize..=20).prop_map(|shift| Pairing::Roll { shift }),
        Just(Pairing::Roll { shift: usize::MAX }),
    ]
}

/// A range `[lo, hi]` with `0 < lo ≤ hi ≤ max`.
fn range(max: f64) -> impl Strategy<Value = [f64; 2]> {
    (1e-3f64..=1.0, 1e-3f64..=1.0).prop_map(move |(a, b)| {
        let (lo, hi) = if a <= b { (a, b) } else { (b, a) };
        [lo * max, hi * max]
    })
}

fn mixup() -> impl Strategy<Value = MixConfig> {
    (alpha(), prob(), lam_mode(), pairing()).prop_map(|(alpha, prob, lam_mode, pairing)| {
        MixConfig::Mixup(MixupConfig {
            alpha,
            prob,
            lam_mode,
            pairing,
        })
    })
}

fn sample_pairing() -> impl Strategy<Value = MixConfig> {
    let bound = || prop_oneof![0u64..=12, Just(u64::MAX - 1), Just(u64::MAX)];
    let schedule = prop_oneof![
        Just(PairingSchedule::always()),
        Just(PairingSchedule::default()),
        (bound(), bound(), 1u64..=5, 0u64..=5).prop_map(|(a, b, on, off)| PairingSchedule {
            start: a.min(b),
            end: a.max(b),
            on,
            off,
        }),
        // Cycles longer than u64 (on + off overflows).
        (0u64..=3, 0u64..=3).prop_map(|(start, off)| PairingSchedule {
            start,
            end: u64::MAX,
            on: u64::MAX - off,
            off: off + 1,
        }),
    ];
    (schedule, prob(), pairing()).prop_map(|(schedule, prob, pairing)| {
        MixConfig::SamplePairing(SamplePairingConfig {
            schedule,
            prob,
            pairing,
        })
    })
}

fn cutmix() -> impl Strategy<Value = MixConfig> {
    (alpha(), prob(), lam_mode(), pairing(), any::<bool>()).prop_map(
        |(alpha, prob, lam_mode, pairing, correct_lam)| {
            MixConfig::CutMix(CutMixConfig {
                alpha,
                prob,
                lam_mode,
                pairing,
                correct_lam,
            })
        },
    )
}

fn cutout() -> impl Strategy<Value = MixConfig> {
    let mode = prop_oneof![
        (1usize..=30).prop_map(|side| CutoutMode::PerImage { side }),
        Just(CutoutMode::PerImage { side: usize::MAX }),
        prob().prop_map(|lam| CutoutMode::PerBatch { lam }),
    ];
    let fill = prop_oneof![
        Just(0.0),
        -10.0f64..10.0,
        Just(1e30),
        Just(-(f32::MAX as f64))
    ];
    (mode, fill, prob())
        .prop_map(|(mode, fill, prob)| MixConfig::Cutout(CutoutConfig { mode, fill, prob }))
}

fn fmix() -> impl Strategy<Value = MixConfig> {
    let decay = prop_oneof![Just(1e-9), 0.1f64..8.0, Just(3.0), Just(1e3)];
    let soft = prop_oneof![Just(0.0), Just(0.5), 0.0f64..=0.5];
    (alpha(), decay, soft, prob(), pairing()).prop_map(
        |(alpha, decay_power, max_soft, prob, pairing)| {
            MixConfig::FMix(FMixConfig {
                alpha,
                decay_power,
                max_soft,
                prob,
                pairing,
            })
        },
    )
}

fn gridmix() -> impl Strategy<Value = MixConfig> {
    let holes = prop_oneof![
        (1usize..=8, 0usize..=8).prop_map(|(lo, extra)| [lo, lo + extra]),
        Just([1, usize::MAX]),
        Just([usize::MAX, usize::MAX]),
    ];
    let aspect = || prop_oneof![range(4.0), Just([1e-300, 1e-300]), Just([1e300, f64::MAX])];
    (
        (alpha(), prob(), holes),
        (aspect(), range(1.0), aspect(), pairing()),
    )
        .prop_map(
            |(
                (alpha, prob, n_holes),
                (hole_aspect_ratio, cut_area_ratio, cut_aspect_ratio, pairing),
            )| {
                MixConfig::GridMix(GridMixConfig {
                    alpha,
                    prob,
                    n_holes,
                    hole_aspect_ratio,
                    cut_area_ratio,
                    cut_aspect_ratio,
                    pairing,
                })
            },
        )
}

fn resizemix() -> impl Strategy<Value = MixConfig> {
    let scope = prop_oneof![
        Just([0.1, 0.8]),
        Just([0.0, 0.0]),
        Just([1.0, 1.0]),
        Just([0.0, 1.0]),
        (0.0f64..=1.0, 0.0f64..=1.0).prop_map(|(a, b)| [a.min(b), a.max(b)]),
    ];
    (scope, any::<bool>(), alpha(), prob(), pairing()).prop_map(
        |(scope, use_alpha, alpha, prob, pairing)| {
            MixConfig::ResizeMix(ResizeMixConfig {
                scope,
                use_alpha,
                alpha,
                prob,
                pairing,
            })
        },
    )
}

fn smoothmix() -> impl Strategy<Value = MixConfig> {
    let label = prop_oneof![
        Just(SmoothMixLabel::Paper),
        Just(SmoothMixLabel::OpenmixupCompat)
    ];
    (label, prob(), pairing()).prop_map(|(label, prob, pairing)| {
        MixConfig::SmoothMix(SmoothMixConfig {
            label,
            prob,
            pairing,
        })
    })
}

fn ricap() -> impl Strategy<Value = MixConfig> {
    (positive_alpha(), prob()).prop_map(|(beta, prob)| MixConfig::Ricap(RicapConfig { beta, prob }))
}

fn mixed_example(kind: MixedExampleKind) -> impl Strategy<Value = MixConfig> {
    let ratio = prop_oneof![
        Just(RatioDraw::Uniform),
        positive_alpha().prop_map(|alpha| RatioDraw::Beta { alpha }),
    ];
    (ratio, prob(), pairing(), any::<bool>()).prop_map(
        move |(ratio, prob, pairing, reference_lam)| {
            MixConfig::MixedExample(MixedExampleConfig {
                kind,
                ratio,
                prob,
                pairing,
                reference_lam,
            })
        },
    )
}

fn saliencymix() -> impl Strategy<Value = MixConfig> {
    let peaks = prop_oneof![
        Just(SaliencyPeaks::FirstPartner),
        Just(SaliencyPeaks::PerSample)
    ];
    let norm = prop_oneof![
        Just(PixelNormalization::UNIT),
        Just(PixelNormalization::IMAGENET)
    ];
    (alpha(), prob(), peaks, pairing(), norm).prop_map(
        |(beta, prob, peaks, pairing, normalization)| {
            MixConfig::SaliencyMix(SaliencyMixConfig {
                beta,
                prob,
                peaks,
                pairing,
                normalization,
            })
        },
    )
}

fn snapmix() -> impl Strategy<Value = MixConfig> {
    (alpha(), prob(), pairing()).prop_map(|(beta, prob, pairing)| {
        MixConfig::SnapMix(SnapMixConfig {
            beta,
            prob,
            pairing,
        })
    })
}

fn attentivemix() -> impl Strategy<Value = MixConfig> {
    let variant = prop_oneof![
        Just(AttentiveVariant::Plus),
        Just(AttentiveVariant::Original)
    ];
    let top_k = prop_oneof![
        Just(None),
        (1usize..=200).prop_map(Some),
        Just(Some(usize::MAX))
    ];
    (variant, top_k, alpha(), pairing()).prop_map(|(variant, top_k, alpha, pairing)| {
        // The original variant needs a cell count (its validate says so, tested below).
        let top_k = match variant {
            AttentiveVariant::Original => top_k.or(Some(6)),
            AttentiveVariant::Plus => top_k,
        };
        MixConfig::AttentiveMix(AttentiveMixConfig {
            variant,
            top_k,
            alpha,
            pairing,
        })
    })
}

fn transmix() -> impl Strategy<Value = MixConfig> {
    let area = prop_oneof![Just(0.0), Just(1.0), 0.0f64..=1.0];
    (alpha(), prob(), lam_mode(), pairing(), 1usize..=5, area).prop_map(
        |(alpha, prob, lam_mode, pairing, patch_size, area_weight)| {
            MixConfig::TransMix(TransMixConfig {
                alpha,
                prob,
                lam_mode,
                pairing,
                patch_size,
                area_weight,
            })
        },
    )
}

/// Every method, each with its own options.
fn any_method() -> impl Strategy<Value = MixConfig> {
    let kinds = MixedExampleKind::ALL.map(|k| mixed_example(k).boxed());
    prop_oneof![
        Just(MixConfig::None),
        mixup(),
        sample_pairing(),
        cutmix(),
        cutout(),
        fmix(),
        gridmix(),
        resizemix(),
        smoothmix(),
        ricap(),
        proptest::strategy::Union::new(kinds),
        saliencymix(),
        snapmix(),
        attentivemix(),
        transmix(),
    ]
}

/// One case: a method, a batch, the random stream and the seed of everything else
/// (pixels, labels, guides).
#[derive(Debug, Clone)]
struct Case {
    config: MixConfig,
    shape: BatchShape,
    key: StreamKey,
    data_seed: u64,
}

fn case(method: impl Strategy<Value = MixConfig>) -> impl Strategy<Value = Case> {
    (
        method,
        shape(),
        any::<u64>(),
        prop_oneof![Just(0u64), 0u64..1000, Just(u64::MAX)],
        any::<u64>(),
    )
        .prop_map(|(config, shape, seed, epoch, data_seed)| Case {
            config,
            shape,
            key: StreamKey {
                seed,
                epoch,
                step: seed % 7,
                rank: 0,
            },
            data_seed,
        })
}

/// Random pixels in `[-1, 2)` and labels in `0..CLASSES`, on the host.
fn batch_values(shape: BatchShape, seed: u64) -> (Vec<f32>, Vec<i64>) {
    let mut rng = MixRng::from_seed(seed);
    let len = shape.n * shape.c * shape.h * shape.w;
    let pixels = (0..len)
        .map(|_| (rng.uniform() * 3.0 - 1.0) as f32)
        .collect();
    let labels = (0..shape.n).map(|_| rng.below(CLASSES) as i64).collect();
    (pixels, labels)
}

fn tensors(shape: BatchShape, pixels: &[f32], labels: &[i64]) -> (Tensor<4>, Tensor<1, Int>) {
    let device = Device::flex();
    let images = Tensor::<4>::from_data(
        TensorData::new(pixels.to_vec(), [shape.n, shape.c, shape.h, shape.w]),
        &device,
    );
    let labels =
        Tensor::<1, Int>::from_data(TensorData::new(labels.to_vec(), [labels.len()]), &device);
    (images, labels)
}

/// `n·len` non-negative values, each block of `len` summing to 1 (or all 0 when `zero`).
fn distributions(rng: &mut MixRng, n: usize, len: usize, zero: bool) -> Vec<f32> {
    (0..n)
        .flat_map(|_| {
            let v: Vec<f64> = (0..len).map(|_| rng.uniform().powi(3)).collect();
            let total: f64 = v.iter().sum();
            v.into_iter().map(move |x| {
                if zero || total == 0.0 {
                    0.0
                } else {
                    (x / total) as f32
                }
            })
        })
        .collect()
}

/// A valid guide for a method that needs one, of the batch's shape.
fn valid_guide(
    method: &MixMethod,
    params: &MixParams,
    images: &Tensor<4>,
    shape: BatchShape,
    rng: &mut MixRng,
) -> Result<Guide, MixError> {
    let device = images.device();
    let BatchShape { n, h, w, .. } = shape;
    Ok(match method.needs() {
        Needs::Nothing | Needs::ClassAttention => Guide::None,
        Needs::SaliencyPeaks => {
            // The peaks computed from the batch (on the device or from its host values)
            // where saliency is defined (1 or 3 channels, 2×2 and up), else drawn: one, or
            // one per sample.
            let computed = match rng.below(3) {
                0 => method.device_guide(params, images),
                1 => {
                    let host = images.clone().into_data().try_into_vec_as::<f32>().unwrap();
                    method.host_guide(params, &host, shape)
                }
                _ => Ok(None),
            };
            match computed {
                Ok(Some(guide)) => guide,
                Ok(None) | Err(MixError::Guide { .. }) => {
                    let count = if rng.gate(0.5) { 1 } else { n };
                    Guide::SaliencyPeaks(
                        (0..count)
                            .map(|_| Pixel {
                                y: rng.below(h),
                                x: rng.below(w),
                            })
                            .collect(),
                    )
                }
                Err(e) => return Err(e),
            }
        }
        Needs::PercentMaps => {
            let zero = rng.gate(0.1);
            let maps = distributions(rng, n, h * w, zero);
            Guide::PercentMaps(Tensor::from_data(TensorData::new(maps, [n, h, w]), &device))
        }
        Needs::Attention => {
            let (gh, gw) = (1 + rng.below(h), 1 + rng.below(w));
            let grid = distributions(rng, n, gh * gw, false);
            Guide::Attention(Tensor::from_data(
                TensorData::new(grid, [n, gh, gw]),
                &device,
            ))
        }
    })
}

/// TransMix's class-token attention `[N, heads, cells]` for the mixed images, `cells`
/// the patch grid's size when the patch divides the image (else a guess that must be
/// refused). Heads give a share of their attention to the class token (row sums < 1),
/// sometimes none at all to the patches.
fn class_attention(config: &TransMixConfig, shape: BatchShape, rng: &mut MixRng) -> Tensor<3> {
    let p = config.patch_size;
    let cells = ((shape.h / p) * (shape.w / p)).max(1);
    let heads = 1 + rng.below(3);
    let zero = rng.gate(0.1);
    let values: Vec<f32> = distributions(rng, shape.n * heads, cells, zero)
        .into_iter()
        .map(|v| v * 0.8)
        .collect();
    Tensor::from_data(
        TensorData::new(values, [shape.n, heads, cells]),
        &Device::flex(),
    )
}

// ---------------------------------------------------------------------------------------
// Running a case
// ---------------------------------------------------------------------------------------

/// What a case produced on the host.
#[derive(Debug)]
struct Outcome {
    params: MixParams,
    dims: [usize; 4],
    images: Vec<f32>,
    classes: Vec<i64>,
    weights: Vec<f32>,
    sources: usize,
    perm: Vec<i64>,
    /// TransMix only: the re-targeted weights.
    retargeted: Option<Result<Vec<f32>, MixError>>,
}

fn host_f32<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data().try_into_vec_as::<f32>().unwrap()
}

fn host_i64<const D: usize>(t: Tensor<D, Int>) -> Vec<i64> {
    t.into_data().try_into_vec_as::<i64>().unwrap()
}

fn outcome(params: MixParams, mixed: &Mixed, target: &MixedTarget) -> Outcome {
    Outcome {
        params,
        dims: mixed.images.dims(),
        images: host_f32(mixed.images.clone()),
        classes: host_i64(target.classes()),
        weights: host_f32(target.weights()),
        sources: target.num_sources(),
        perm: host_i64(mixed.perm.clone()),
        retargeted: None,
    }
}

/// Runs `body`, turning a panic into a failure that names the case and the message.
fn no_panic<T>(
    what: &str,
    case: &dyn std::fmt::Debug,
    body: impl FnOnce() -> T,
) -> Result<T, TestCaseError> {
    catch_unwind(AssertUnwindSafe(body)).map_err(|payload| {
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_else(|| "<non-string panic payload>".into());
        TestCaseError::fail(format!("{what} panicked: {message}\ninputs: {case:#?}"))
    })
}

/// validate → sample → guide → apply (→ retarget) of one case with valid inputs.
fn run(case: &Case, pixels: &[f32], labels: &[i64]) -> Result<Outcome, MixError> {
    let method = case.config.init()?;
    let mut rng = MixRng::new(case.key);
    let params = method.sample(&mut rng, case.shape)?;
    let (images, labels_t) = tensors(case.shape, pixels, labels);
    let mut guide_rng = MixRng::from_seed(case.data_seed ^ 0x5eed);
    let guide = valid_guide(&method, &params, &images, case.shape, &mut guide_rng)?;
    let mixed = method.apply(&params, images, labels_t, &guide)?;
    let mut out = outcome(params.clone(), &mixed, &mixed.target);
    if let MixConfig::TransMix(c) = &case.config {
        let attention = class_attention(c, case.shape, &mut guide_rng);
        out.retargeted = Some(
            method
                .retarget(&params, &mixed, attention)
                .map(|t| host_f32(t.weights())),
        );
    }
    Ok(out)
}

/// The smallest image side a method accepts (rows, columns).
fn min_side(config: &MixConfig) -> usize {
    match config {
        MixConfig::FMix(_)
        | MixConfig::SmoothMix(_)
        | MixConfig::Ricap(_)
        | MixConfig::MixedExample(_) => 2,
        _ => 1,
    }
}

/// Whether `err` is the right refusal of this case's input.
fn expected_refusal(case: &Case, err: &MixError) -> bool {
    let s = case.shape;
    match *err {
        MixError::BatchTooSmall { n } => n == s.n && n < 2,
        MixError::ImageTooSmall {
            h, w, min_h, min_w, ..
        } => {
            (h, w) == (s.h, s.w)
                && (h < min_h || w < min_w)
                && min_h.max(min_w) <= min_side(&case.config)
        }
        _ => false,
    }
}

/// `partners` is a permutation of `0..n`.
fn check_permutation(perm: &[i64], n: usize) -> Result<(), TestCaseError> {
    let mut seen = vec![false; n];
    prop_assert_eq!(perm.len(), n, "π has {} entries for N = {}", perm.len(), n);
    for &p in perm {
        prop_assert!(p >= 0 && (p as usize) < n, "π entry {} outside 0..{}", p, n);
        prop_assert!(!seen[p as usize], "π repeats {}: {:?}", p, perm);
        seen[p as usize] = true;
    }
    Ok(())
}

/// The partner rule of a method that pairs by a single permutation.
fn pairing_of(config: &MixConfig) -> Option<Pairing> {
    Some(match config {
        MixConfig::None | MixConfig::Cutout(_) | MixConfig::Ricap(_) => return None,
        MixConfig::Mixup(c) => c.pairing,
        MixConfig::SamplePairing(c) => c.pairing,
        MixConfig::CutMix(c) => c.pairing,
        MixConfig::FMix(c) => c.pairing,
        MixConfig::GridMix(c) => c.pairing,
        MixConfig::ResizeMix(c) => c.pairing,
        MixConfig::SmoothMix(c) => c.pairing,
        MixConfig::MixedExample(c) => c.pairing,
        MixConfig::SaliencyMix(c) => c.pairing,
        MixConfig::SnapMix(c) => c.pairing,
        MixConfig::AttentiveMix(c) => c.pairing,
        MixConfig::TransMix(c) => c.pairing,
    })
}

/// The probability gate of the method, where it has one.
fn prob_of(config: &MixConfig) -> Option<f64> {
    Some(match config {
        MixConfig::None | MixConfig::AttentiveMix(_) => return None,
        MixConfig::Mixup(c) => c.prob,
        MixConfig::SamplePairing(c) => c.prob,
        MixConfig::CutMix(c) => c.prob,
        MixConfig::Cutout(c) => c.prob,
        MixConfig::FMix(c) => c.prob,
        MixConfig::GridMix(c) => c.prob,
        MixConfig::ResizeMix(c) => c.prob,
        MixConfig::SmoothMix(c) => c.prob,
        MixConfig::Ricap(c) => c.prob,
        MixConfig::MixedExample(c) => c.prob,
        MixConfig::SaliencyMix(c) => c.prob,
        MixConfig::SnapMix(c) => c.prob,
        MixConfig::TransMix(c) => c.prob,
    })
}

/// Rows of `k` weights: finite, in `[0, max]`, summing to 1 when `sum_to_one`.
fn check_weights(
    weights: &[f32],
    k: usize,
    max: f32,
    sum_to_one: bool,
    what: &str,
) -> Result<(), TestCaseError> {
    for (i, row) in weights.chunks(k).enumerate() {
        for &v in row {
            prop_assert!(
                v.is_finite() && (-1e-6..=max + 1e-6).contains(&v),
                "{} weight {} of sample {} outside [0, {}]: {:?}",
                what,
                v,
                i,
                max,
                row
            );
        }
        if sum_to_one {
            let sum: f32 = row.iter().sum();
            prop_assert!(
                (sum - 1.0).abs() < 1e-5,
                "{} weights of sample {} sum to {}: {:?}",
                what,
                i,
                sum,
                row
            );
        }
    }
    Ok(())
}

/// Every property of a successful case.
fn check_outcome(
    case: &Case,
    pixels: &[f32],
    labels: &[i64],
    out: &Outcome,
) -> Result<(), TestCaseError> {
    let s = case.shape;
    let n = s.n;
    prop_assert_eq!(out.dims, [n, s.c, s.h, s.w]);
    prop_assert_eq!(out.images.len(), pixels.len());
    if let Some(bad) = out.images.iter().position(|v| !v.is_finite()) {
        return Err(TestCaseError::fail(format!(
            "non-finite pixel {} at {bad}; params {:?}",
            out.images[bad], out.params
        )));
    }

    // π: a permutation of 0..N, drawn by the configured rule.
    check_permutation(&out.perm, n)?;
    match pairing_of(&case.config) {
        Some(Pairing::Flip) => {
            let flip: Vec<i64> = (0..n as i64).rev().collect();
            prop_assert_eq!(&out.perm, &flip);
        }
        Some(Pairing::Roll { shift }) => {
            let roll: Vec<i64> = (0..n).map(|i| ((i + n - shift % n) % n) as i64).collect();
            prop_assert_eq!(&out.perm, &roll);
        }
        _ => {}
    }

    // The target: K sources per sample, the batch's labels in the method's order.
    let k = out.sources;
    let expected_k = match case.config {
        MixConfig::None | MixConfig::Cutout(_) => 1,
        MixConfig::Ricap(_) => 4,
        _ => 2,
    };
    prop_assert_eq!(k, expected_k);
    prop_assert_eq!(out.classes.len(), n * k);
    prop_assert_eq!(out.weights.len(), n * k);
    for (i, row) in out.classes.chunks(k).enumerate() {
        for &class in row {
            prop_assert!(
                (0..CLASSES as i64).contains(&class),
                "class {} out of range",
                class
            );
            prop_assert!(
                labels.contains(&class),
                "class {} is no label of the batch",
                class
            );
        }
        if k <= 2 {
            prop_assert_eq!(row[0], labels[i], "sample {}: base class", i);
        }
        if k == 2 {
            let partner = labels[out.perm[i] as usize];
            prop_assert_eq!(row[1], partner, "sample {}: partner class", i);
        }
    }
    // SnapMix's weights are semantic shares that need not sum to 1 (both go to a pair
    // of equal labels: up to 2); every other target is a distribution over its sources.
    match case.config {
        MixConfig::SnapMix(_) => check_weights(&out.weights, k, 2.0, false, "snapmix")?,
        _ => check_weights(&out.weights, k, 1.0, true, case.config.label())?,
    }
    if let Some(retargeted) = &out.retargeted {
        let MixConfig::TransMix(c) = &case.config else {
            unreachable!()
        };
        let divides = s.h.is_multiple_of(c.patch_size) && s.w.is_multiple_of(c.patch_size);
        match retargeted {
            Ok(w) => {
                prop_assert!(
                    divides,
                    "retarget accepted a patch of {} on {}×{}",
                    c.patch_size,
                    s.h,
                    s.w
                );
                check_weights(w, 2, 1.0, true, "transmix retarget")?;
            }
            Err(MixError::ShapeMismatch { .. }) if !divides => {}
            Err(e) => return Err(TestCaseError::fail(format!("retarget refused: {e}"))),
        }
    }

    // A batch that is never mixed comes back as it was.
    if prob_of(&case.config) == Some(0.0) {
        prop_assert!(
            out.images == pixels,
            "prob = 0 changed the images: {:?}",
            out.params
        );
        for row in out.weights.chunks(k) {
            prop_assert_eq!(row[0], 1.0, "prob = 0 target {:?}", row);
        }
    }
    Ok(())
}

/// The property every method must meet on valid input.
fn holds(case: Case) -> Result<(), TestCaseError> {
    let (pixels, labels) = batch_values(case.shape, case.data_seed);
    let result = no_panic("sample/guide/apply", &case, || run(&case, &pixels, &labels))?;
    match result {
        Ok(out) => check_outcome(&case, &pixels, &labels, &out),
        Err(e) if expected_refusal(&case, &e) => Ok(()),
        Err(e) => Err(TestCaseError::fail(format!(
            "unexpected error `{e}` ({e:?}) for valid input"
        ))),
    }
}

// ---------------------------------------------------------------------------------------
// Valid input: one property per method
// ---------------------------------------------------------------------------------------

macro_rules! with_config {
    ($cases:expr; $($name:ident: $strategy:expr;)*) => {
        $(
            proptest! {
                #![proptest_config(config($cases))]
                #[test]
                fn $name(case in case($strategy)) {
                    holds(case)?;
                }
            }
        )*
    };
}

with_config! { 64;
    none: Just(MixConfig::None);
    mixup_props: mixup();
    sample_pairing_props: sample_pairing();
    cutmix_props: cutmix();
    cutout_props: cutout();
    fmix_props: fmix();
    gridmix_props: gridmix();
    resizemix_props: resizemix();
    smoothmix_props: smoothmix();
    ricap_props: ricap();
    saliencymix_props: saliencymix();
    snapmix_props: snapmix();
    attentivemix_props: attentivemix();
    transmix_props: transmix();
}

with_config! { 32;
    vertical_concat: mixed_example(MixedExampleKind::VerticalConcat);
    horizontal_concat: mixed_example(MixedExampleKind::HorizontalConcat);
    mixed_concat: mixed_example(MixedExampleKind::MixedConcat);
    random_2x2: mixed_example(MixedExampleKind::Random2x2);
    random_column_interval: mixed_example(MixedExampleKind::RandomColumnInterval);
    random_row_interval: mixed_example(MixedExampleKind::RandomRowInterval);
    random_columns: mixed_example(MixedExampleKind::RandomColumns);
    random_rows: mixed_example(MixedExampleKind::RandomRows);
    random_pixels: mixed_example(MixedExampleKind::RandomPixels);
    random_elements: mixed_example(MixedExampleKind::RandomElements);
    vh_mixup: mixed_example(MixedExampleKind::VhMixup);
}

// ---------------------------------------------------------------------------------------
// Bad input: typed errors, never a panic
// ---------------------------------------------------------------------------------------

/// Values at and beyond the edges of every numeric hyper-parameter.
fn wild_float() -> impl Strategy<Value = f64> {
    prop::sample::select(vec![
        f64::NAN,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::MIN,
        -1.0,
        -1e-300,
        0.0,
        1e-300,
        0.5,
        1.0,
        1.5,
        2.0,
        1e300,
        f64::MAX,
    ])
}

/// Integers at and beyond the edges of every counted hyper-parameter.
fn wild_int() -> impl Strategy<Value = i64> {
    prop::sample::select(vec![-1i64, 0, 1, 2, 3, 1000, i64::MAX])
}

/// Sets the `target`-th numeric leaf of `value` (depth first) to `float` or `int`;
/// returns how many numeric leaves were visited.
fn set_leaf(value: &mut toml::Value, target: usize, seen: &mut usize, float: f64, int: i64) {
    match value {
        toml::Value::Float(x) => {
            if *seen == target {
                *x = float;
            }
            *seen += 1;
        }
        toml::Value::Integer(x) => {
            if *seen == target {
                *x = int;
            }
            *seen += 1;
        }
        toml::Value::Array(items) => {
            for item in items {
                set_leaf(item, target, seen, float, int);
            }
        }
        toml::Value::Table(table) => {
            for (_, item) in table.iter_mut() {
                set_leaf(item, target, seen, float, int);
            }
        }
        _ => {}
    }
}

/// `config` with one of its numeric fields (nested ones included) set to a wild value,
/// through the experiment-file form; `None` where the file form cannot hold it.
fn with_wild_field(
    config: &MixConfig,
    pick: prop::sample::Index,
    float: f64,
    int: i64,
) -> Option<MixConfig> {
    // `None`: the case has no TOML form (TOML integers stop at i64::MAX, and the cases
    // try roll shifts of usize::MAX and SamplePairing schedules of u64::MAX — which the
    // other properties cover), no numeric field (`none`), or a value serde itself refuses
    // (out of the field's integer type: a typed error, not a panic).
    let table = match toml::Table::try_from(config) {
        Ok(table) => table,
        Err(e) if e.to_string().contains("too large") => return None,
        Err(e) => panic!("a MixConfig with no integer past i64::MAX is a TOML table: {e}"),
    };
    let mut value = toml::Value::Table(table);
    let mut count = 0;
    set_leaf(&mut value, usize::MAX, &mut count, float, int);
    if count == 0 {
        return None;
    }
    let mut seen = 0;
    set_leaf(&mut value, pick.index(count), &mut seen, float, int);
    value.try_into().ok()
}

/// A guide of any kind and any shape (empty ones included).
#[derive(Debug, Clone)]
enum AnyGuide {
    None,
    Peaks(Vec<(usize, usize)>),
    PercentMaps([usize; 3]),
    Attention([usize; 3]),
}

fn any_guide() -> impl Strategy<Value = AnyGuide> {
    let dims = || (0usize..=8, 0usize..=14, 0usize..=14).prop_map(|(a, b, c)| [a, b, c]);
    prop_oneof![
        Just(AnyGuide::None),
        prop::collection::vec((0usize..=14, 0usize..=14), 0..=8).prop_map(AnyGuide::Peaks),
        dims().prop_map(AnyGuide::PercentMaps),
        dims().prop_map(AnyGuide::Attention),
    ]
}

fn build_guide(guide: &AnyGuide, seed: u64) -> Guide {
    let mut rng = MixRng::from_seed(seed);
    let device = Device::flex();
    let mut tensor = |[a, b, c]: [usize; 3]| {
        let values = distributions(&mut rng, a, b * c, false);
        Tensor::<3>::from_data(TensorData::new(values, [a, b, c]), &device)
    };
    match guide {
        AnyGuide::None => Guide::None,
        AnyGuide::Peaks(p) => {
            Guide::SaliencyPeaks(p.iter().map(|&(y, x)| Pixel { y, x }).collect())
        }
        AnyGuide::PercentMaps(d) => Guide::PercentMaps(tensor(*d)),
        AnyGuide::Attention(d) => Guide::Attention(tensor(*d)),
    }
}

proptest! {
    #![proptest_config(config(512))]

    /// Any numeric hyper-parameter of any method set to a value at or beyond its edges:
    /// `validate` refuses it with `InvalidHyperParameter`, or the method works as on valid
    /// input (every property of the valid-input tests).
    #[test]
    fn wild_hyper_parameters_are_refused_or_work(
        base in case(any_method()),
        pick in any::<prop::sample::Index>(),
        float in wild_float(),
        int in wild_int(),
    ) {
        let Some(config) = with_wild_field(&base.config, pick, float, int) else {
            return Ok(());
        };
        let case = Case { config, ..base };
        match no_panic("validate", &case, || case.config.validate())? {
            Ok(()) => holds(case)?,
            Err(MixError::InvalidHyperParameter { .. }) => {}
            Err(e) => prop_assert!(false, "validate refused with {:?}", e),
        }
    }

    /// Parameters drawn for one batch shape, applied to a batch of another: a typed error,
    /// or a result with every property of a valid case.
    #[test]
    fn parameters_for_another_batch_are_refused_or_fit(
        drawn in case(any_method()),
        other in shape(),
        same_n in any::<bool>(),
    ) {
        // Half the time a batch of the same size, so that only the sides differ.
        let applied = if same_n { BatchShape { n: drawn.shape.n, ..other } } else { other };
        let case = Case { shape: applied, ..drawn.clone() };
        let (pixels, labels) = batch_values(applied, case.data_seed);
        let result = no_panic("sample for one batch, apply to another", &(&drawn, applied), || {
            let method = drawn.config.init()?;
            let params = method.sample(&mut MixRng::new(drawn.key), drawn.shape)?;
            let (images, labels_t) = tensors(applied, &pixels, &labels);
            let mut guide_rng = MixRng::from_seed(drawn.data_seed);
            let guide = valid_guide(&method, &params, &images, applied, &mut guide_rng)?;
            let mixed = method.apply(&params, images, labels_t, &guide)?;
            let mut out = outcome(params.clone(), &mixed, &mixed.target);
            if let MixConfig::TransMix(c) = &drawn.config {
                let attention = class_attention(c, applied, &mut guide_rng);
                out.retargeted = Some(
                    method.retarget(&params, &mixed, attention).map(|t| host_f32(t.weights())),
                );
            }
            Ok::<_, MixError>(out)
        })?;
        if let Ok(out) = result {
            check_outcome(&case, &pixels, &labels, &out)?;
        }
    }

    /// Guides of the wrong kind or shape, and label counts that do not match the images:
    /// a typed error, or (only with as many labels as images) a well-formed result.
    #[test]
    fn bad_guides_and_labels_are_refused(
        case in case(any_method()),
        guide in any_guide(),
        label_delta in prop_oneof![3 => Just(0isize), 1 => Just(-1isize), 1 => Just(1isize)],
        attention in (0usize..=8, 0usize..=3, 0usize..=40),
    ) {
        let (pixels, labels) = batch_values(case.shape, case.data_seed);
        let labels: Vec<i64> = match label_delta {
            0 => labels,
            -1 => labels[..labels.len() - 1].to_vec(),
            _ => labels.iter().copied().chain([0]).collect(),
        };
        let result = no_panic("apply with a bad guide", &(&case, &guide, label_delta), || {
            let method = case.config.init()?;
            let params = method.sample(&mut MixRng::new(case.key), case.shape)?;
            let (images, labels_t) = tensors(case.shape, &pixels, &labels);
            let guide = build_guide(&guide, case.data_seed);
            let mixed = method.apply(&params, images, labels_t, &guide)?;
            let mut out = outcome(params.clone(), &mixed, &mixed.target);
            // Re-weighting by class-token attention of any shape: only TransMix does it,
            // and only with one entry per patch.
            let (a, heads, cells) = attention;
            let mut rng = MixRng::from_seed(case.data_seed);
            let values = distributions(&mut rng, a * heads, cells, false);
            let attention = Tensor::<3>::from_data(
                TensorData::new(values, [a, heads, cells]),
                &Device::flex(),
            );
            out.retargeted = Some(
                method.retarget(&params, &mixed, attention).map(|t| host_f32(t.weights())),
            );
            Ok::<_, MixError>(out)
        })?;
        match result {
            Ok(out) => {
                prop_assert_eq!(label_delta, 0, "apply accepted {} labels for {} images", labels.len(), case.shape.n);
                let retargeted = out.retargeted.as_ref().unwrap();
                match (&case.config, retargeted) {
                    (MixConfig::TransMix(_), Ok(w)) => {
                        check_weights(w, 2, 1.0, true, "transmix retarget")?;
                        let (a, heads, cells) = attention;
                        let s = case.shape;
                        let p = match &case.config {
                            MixConfig::TransMix(c) => c.patch_size,
                            _ => unreachable!(),
                        };
                        prop_assert!(a == s.n && heads > 0 && s.h.is_multiple_of(p) && s.w.is_multiple_of(p)
                            && cells == (s.h / p) * (s.w / p), "retarget accepted {:?}", attention);
                    }
                    (_, Ok(_)) => prop_assert!(false, "{} re-weighted its target", case.config.label()),
                    (_, Err(_)) => {}
                }
                // The rest as for valid input (retarget's shapes were random here).
                check_outcome(&case, &pixels, &labels, &Outcome { retargeted: None, ..out })?;
            }
            Err(MixError::LabelCountMismatch { images, labels: got }) => {
                prop_assert_eq!((images, got), (case.shape.n, labels.len()));
            }
            Err(_) => {}
        }
    }

    /// A guided method without its guide is `GuideRequired`, whatever the batch.
    #[test]
    fn guided_methods_without_a_guide_say_so(
        case in case(prop_oneof![saliencymix(), snapmix(), attentivemix()]),
    ) {
        let (pixels, labels) = batch_values(case.shape, case.data_seed);
        let result = no_panic("apply without a guide", &case, || {
            let method = case.config.init()?;
            let params = method.sample(&mut MixRng::new(case.key), case.shape)?;
            let (images, labels_t) = tensors(case.shape, &pixels, &labels);
            method.apply(&params, images, labels_t, &Guide::None).map(|_| ())
        })?;
        match result {
            Err(MixError::GuideRequired { .. }) => {}
            Err(e) => prop_assert!(expected_refusal(&case, &e), "refused with {:?}", e),
            // SaliencyMix skips its guide when λ = 1 (nothing is pasted).
            Ok(()) => prop_assert!(matches!(case.config, MixConfig::SaliencyMix(_))),
        }
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Batches with an empty dimension (no images, channels, rows or columns): a typed
    /// error or a well-formed (empty) result, never a panic.
    #[test]
    fn empty_batches_are_refused_or_empty(
        base in case(any_method()),
        dims in (0usize..=3, 0usize..=3, 0usize..=4, 0usize..=4)
            .prop_filter("one empty dimension", |&(n, c, h, w)| n * c * h * w == 0),
        guide in any_guide(),
    ) {
        let (n, c, h, w) = dims;
        let case = Case { shape: BatchShape::new(n, c, h, w), ..base };
        let (pixels, labels) = batch_values(case.shape, case.data_seed);
        let result = no_panic("mix an empty batch", &(&case, &guide), || {
            let method = case.config.init()?;
            let params = method.sample(&mut MixRng::new(case.key), case.shape)?;
            let (images, labels_t) = tensors(case.shape, &pixels, &labels);
            let guide = build_guide(&guide, case.data_seed);
            let mixed = method.apply(&params, images, labels_t, &guide)?;
            Ok::<_, MixError>(outcome(params, &mixed, &mixed.target))
        })?;
        if let Ok(out) = result {
            prop_assert_eq!(out.dims, [n, c, h, w]);
            check_permutation(&out.perm, n)?;
        }
    }
}
