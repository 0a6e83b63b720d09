//! TransMix: CutMix's images, with the label weights re-computed from the class-token
//! attention of the Vision Transformer being trained.
//!
//! Chen, Sun, He, Torr, Yuille, Bai, *TransMix: Attend to Mix for Vision Transformers*,
//! CVPR 2022. Reference code: Beckschen/TransMix `transmix.py` (`transmix_label`) with its
//! `timm/models/vision_transformer.py` (`return_attn`), and openmixup
//! `openmixup/models/augments/transmix.py`. Spec: docs/methods.md, "TransMix".
//!
//! The attention comes from the **same** forward pass as the loss, on the mixed images, so
//! TransMix works in two steps: [`Mixer::apply`] is CutMix (the images and an area-weighted
//! target), and after the network's forward [`TransMix::retarget`] re-weights that target
//! from the attention the forward returned.

use burn::prelude::*;
use serde::{Deserialize, Serialize};

use crate::error::{check_alpha, check_probability};
use crate::methods::cutmix::check_regions;
use crate::mixer::configured;
use crate::ops::nearest_indices;
use crate::{
    BatchShape, CutBox, CutMix, CutMixConfig, CutMixParams, Guide, LamMode, MixError, MixRng,
    Mixed, MixedTarget, Mixer, Needs, Pairing,
};

/// Configuration of [`TransMix`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TransMixConfig {
    /// Concentration α of CutMix's `λ ~ Beta(α, α)`. Default 1 (the DeiT recipe's CutMix
    /// α and openmixup). `α = 0` means λ = 1 (no mixing); `α < 0` is an error.
    pub alpha: f64,
    /// Probability that a batch is mixed. Default 1 (both references).
    pub prob: f64,
    /// One box per batch (default, both references) or one per sample.
    pub lam_mode: LamMode,
    /// How partners are chosen. Default: a random permutation (openmixup); the official
    /// code pairs sample `i` with `N − 1 − i` (timm's flip, [`Pairing::Flip`]).
    pub pairing: Pairing,
    /// Side of the network's square patches, in pixels: the attention has one entry per
    /// patch of the `H/p × W/p` grid. Default 16 (DeiT).
    pub patch_size: usize,
    /// Share of the pasted-area ratio in the label weight:
    /// `λ = area_weight·λ_area + (1 − area_weight)·λ_attn`. Default 0.5 (both reference
    /// codes: `(lam0 + lam1) / 2`, openmixup's `ratio`); 0 is the attention-only rule of the
    /// paper's text and Figure 1.
    pub area_weight: f64,
}

impl Default for TransMixConfig {
    fn default() -> Self {
        Self {
            alpha: 1.0,
            prob: 1.0,
            lam_mode: LamMode::PerBatch,
            pairing: Pairing::RandomPermutation,
            patch_size: 16,
            area_weight: 0.5,
        }
    }
}

impl TransMixConfig {
    /// The defaults: α = 1, prob = 1, one box per batch, random permutation, 16-pixel
    /// patches, half area and half attention in the label.
    pub fn new() -> Self {
        Self::default()
    }

    /// Rejects invalid hyper-parameters.
    pub fn validate(&self) -> Result<(), MixError> {
        check_alpha("transmix.alpha", self.alpha)?;
        check_probability("transmix.prob", self.prob)?;
        if self.patch_size == 0 {
            return Err(MixError::InvalidHyperParameter {
                name: "transmix.patch_size",
                value: 0.0,
                expected: "a patch side of at least 1 pixel",
            });
        }
        if !(0.0..=1.0).contains(&self.area_weight) {
            return Err(MixError::InvalidHyperParameter {
                name: "transmix.area_weight",
                value: self.area_weight,
                expected: "a share in [0, 1]",
            });
        }
        Ok(())
    }

    /// The CutMix that draws and pastes the boxes (its λ always the pasted-area ratio).
    fn cutmix(&self) -> Result<CutMix, MixError> {
        CutMixConfig::new()
            .with_alpha(self.alpha)
            .with_prob(self.prob)
            .with_lam_mode(self.lam_mode)
            .with_pairing(self.pairing)
            .with_correct_lam(true)
            .init()
    }
}

configured! {
    TransMix(TransMixConfig) {
        with_alpha => alpha: f64,
        with_prob => prob: f64,
        with_lam_mode => lam_mode: LamMode,
        with_pairing => pairing: Pairing,
        with_patch_size => patch_size: usize,
        with_area_weight => area_weight: f64,
    }
}

/// What TransMix draws for one batch: exactly CutMix's draws (π and the boxes).
pub type TransMixParams = CutMixParams;

/// TransMix: CutMix's mixed images, `x̃_i = x_i` outside the box and `x_π(i)` inside;
/// after the forward pass the base label's weight becomes
/// `λ_i = a·(1 − area/(HW)) + (1 − a)·(1 − Σ_{patches in box} A_i / Σ_{patches} A_i)`,
/// `A_i` the head-averaged class-token attention of the mixed image `i`, `a` the
/// configured `area_weight`.
///
/// `NEEDS` is [`Needs::ClassAttention`]: [`apply`](Mixer::apply) takes
/// [`Guide::None`] (the attention does not exist before the forward), and the training
/// step calls [`retarget`](Self::retarget) with the attention its forward returned.
#[derive(Debug, Clone)]
pub struct TransMix {
    config: TransMixConfig,
}

impl Mixer for TransMix {
    type Params = TransMixParams;
    const NEEDS: Needs = Needs::ClassAttention;

    /// CutMix's draws: the gate, λ (one or `N`), π, then each box's centre.
    fn sample(&self, rng: &mut MixRng, batch: BatchShape) -> Result<TransMixParams, MixError> {
        self.config.cutmix()?.sample(rng, batch)
    }

    /// CutMix's images and its area target (`1 − area/(HW)`, `area/(HW)`), to be
    /// re-weighted by [`retarget`](Self::retarget) after the forward. The guide is unused.
    fn apply(
        &self,
        params: &TransMixParams,
        images: Tensor<4>,
        labels: Tensor<1, Int>,
        guide: &Guide,
    ) -> Result<Mixed, MixError> {
        self.config.cutmix()?.apply(params, images, labels, guide)
    }
}

impl TransMix {
    /// The target of a batch mixed with `params` re-weighted by the network's attention on
    /// the mixed images: the classes of `mixed.target` (base, partner) with the base
    /// weight `λ_i = a·λ_area + (1 − a)·λ_attn,i` and the partner weight `1 − λ_i`, where
    ///
    /// * `λ_area = 1 − area/(HW)` for sample `i`'s box;
    /// * `A_i` = `attention[i]` averaged over the heads (one value per patch);
    /// * a patch is inside the box when the box holds the pixel PyTorch's legacy `nearest`
    ///   downsampling of the mask to the patch grid reads for it — with `p` dividing the
    ///   sides, its top-left pixel `(p·gy, p·gx)`;
    /// * `λ_attn,i = 1 − Σ_{patches inside} A_i / Σ_{all patches} A_i`, or `λ_area` when
    ///   `Σ A_i = 0` (no attention on any patch).
    ///
    /// An empty box (gate closed, λ = 1) gives `λ_i = 1`. The attention is used without
    /// gradient (its autodiff graph is dropped); the new target lies on the device of
    /// `mixed.target`.
    ///
    /// # Attention contract
    /// `attention[n, h, l]` is the softmax probability from the class-token query of head
    /// `h` in the network's last block to patch `l` of the mixed image `n`, patches in
    /// row-major order over the `H/p × W/p` grid, the class token's own entry (and any
    /// distillation token's) left out — `mixaug_models::Deit::forward_with_attention`'s
    /// second output. Rows need not sum to 1 (the class token's own share is missing);
    /// entries must be finite and non-negative.
    ///
    /// # Errors
    /// [`MixError::ShapeMismatch`] when `H` or `W` is not a multiple of the patch size,
    /// when `attention` is not `[N, heads ≥ 1, (H/p)·(W/p)]`, or when `params` or
    /// `mixed.target` do not belong to a pair-mixed batch of `N`.
    ///
    /// # Shapes
    /// - `mixed.images`: `[N, C, H, W]`; `mixed.target`: `[N, 2]`
    /// - `attention`: `[N, heads, L]`, `L = (H/p)·(W/p)`
    /// - output: `[N, 2]`
    pub fn retarget(
        &self,
        params: &TransMixParams,
        mixed: &Mixed,
        attention: Tensor<3>,
    ) -> Result<MixedTarget, MixError> {
        let [n, _, h, w] = mixed.images.dims();
        let p = self.config.patch_size;
        if !h.is_multiple_of(p) || !w.is_multiple_of(p) {
            return Err(MixError::ShapeMismatch {
                what: "transmix patch grid",
                expected: format!("image sides that are multiples of the patch size {p}"),
                got: format!("{h}×{w} images"),
            });
        }
        let (gh, gw) = (h / p, w / p);
        let [an, heads, cells] = attention.dims();
        if an != n || heads == 0 || cells != gh * gw {
            return Err(MixError::ShapeMismatch {
                what: "transmix attention",
                expected: format!(
                    "[{n}, heads ≥ 1, {}] (one entry per patch of the {gh}×{gw} grid)",
                    gh * gw
                ),
                got: format!("{:?}", attention.dims()),
            });
        }
        let draws = params.cuts.len();
        if params.perm.len() != n || (draws != 1 && draws != n) {
            return Err(MixError::ShapeMismatch {
                what: "transmix parameters",
                expected: format!("parameters for a batch of {n}"),
                got: format!(
                    "a permutation of {} with {draws} draw(s)",
                    params.perm.len()
                ),
            });
        }
        let classes = mixed.target.classes();
        if classes.dims() != [n, 2] {
            return Err(MixError::ShapeMismatch {
                what: "transmix target",
                expected: format!("a pair target [{n}, 2]"),
                got: format!("{:?}", classes.dims()),
            });
        }

        let target_device = classes.device();
        let device = target_device.clone().inner();
        let boxes: Vec<CutBox> = params.cuts.iter().map(|c| c.region).collect();
        check_regions("transmix boxes", &boxes, h, w)?;
        let (rows, cols) = (nearest_indices(h, gh), nearest_indices(w, gw));
        let inside: Vec<f32> = boxes
            .iter()
            .flat_map(|b| patches_inside(b, &rows, &cols))
            .collect();
        let inside = Tensor::<2>::from_data(TensorData::new(inside, [draws, cells]), &device)
            .expand([n, cells]);
        let kept: Vec<f32> = boxes.iter().map(|b| b.kept_fraction(h, w) as f32).collect();
        let kept =
            Tensor::<2>::from_data(TensorData::new(kept, [draws, 1]), &device).expand([n, 1]);

        let attention = attention
            .inner()
            .to_device(&device)
            .mean_dim(1)
            .reshape([n, cells]);
        let total = attention.clone().sum_dim(1);
        let pasted = (attention * inside).sum_dim(1);
        let none = total.clone().lower_equal_elem(0.0);
        let attn_kept = (total.clone() - pasted)
            .div(total.mask_fill(none.clone(), 1.0))
            .mask_where(none, kept.clone());
        let a = self.config.area_weight;
        let w_a = kept.mul_scalar(a) + attn_kept.mul_scalar(1.0 - a);
        let weights = Tensor::cat(vec![w_a.clone(), w_a.neg().add_scalar(1.0)], 1);
        let weights = if target_device.is_autodiff() {
            weights.autodiff()
        } else {
            weights
        };
        MixedTarget::new(classes, weights)
    }
}

/// One value per patch of the grid whose rows read image rows `rows` and whose columns
/// read image columns `cols` (legacy nearest): 1 when the box holds that pixel, else 0.
fn patches_inside<'a>(
    b: &'a CutBox,
    rows: &'a [i64],
    cols: &'a [i64],
) -> impl Iterator<Item = f32> + 'a {
    let (ys, xs) = (b.y0 as i64..b.y1() as i64, b.x0 as i64..b.x1() as i64);
    rows.iter().flat_map(move |y| {
        let xs = xs.clone();
        let row = ys.contains(y);
        cols.iter()
            .map(move |x| f32::from(u8::from(row && xs.contains(x))))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CutDraw, Permutation};

    /// The docs' worked box on an 8×12 image with 2-pixel patches (a 4×6 grid): rows
    /// [1, 5) × columns [3, 8) holds the anchors of patch rows 1, 2 (pixel rows 2, 4) and
    /// patch columns 2, 3 (pixel columns 4, 6).
    #[test]
    fn patches_inside_the_worked_box() {
        let b = CutBox {
            y0: 1,
            x0: 3,
            h: 4,
            w: 5,
        };
        let got: Vec<f32> =
            patches_inside(&b, &nearest_indices(8, 4), &nearest_indices(12, 6)).collect();
        let expected: Vec<f32> = (0..24)
            .map(|l| {
                let (gy, gx) = (l / 6, l % 6);
                f32::from(u8::from((1..3).contains(&gy) && (2..4).contains(&gx)))
            })
            .collect();
        assert_eq!(got, expected);
    }

    /// docs/methods.md's worked example, on flex: kept area 19/24, attention share kept
    /// 25/39, λ = (19/24 + 25/39)/2 = 149/208; with `area_weight` 0, λ = 25/39.
    #[test]
    fn worked_example() {
        let device = Device::flex();
        let b = CutBox {
            y0: 1,
            x0: 3,
            h: 4,
            w: 5,
        };
        let params = TransMixParams {
            perm: Permutation::new(vec![1, 0]).unwrap(),
            cuts: vec![CutDraw {
                sampled_lam: 0.8,
                region: b,
            }],
        };
        let images = Tensor::<4>::zeros([2, 1, 8, 12], &device);
        let labels = Tensor::<1, Int>::from_ints([4, 9], &device);
        let mixer = TransMixConfig::new().with_patch_size(2).init().unwrap();
        let mixed = mixer.apply(&params, images, labels, &Guide::None).unwrap();
        let attention = Tensor::<3>::from_data(
            TensorData::new([worked_heads(), worked_heads()].concat(), [2, 2, 24]),
            &device,
        );
        let weights = |mixer: &TransMix| -> Vec<f32> {
            mixer
                .retarget(&params, &mixed, attention.clone())
                .unwrap()
                .weights()
                .into_data()
                .try_into_vec_as::<f32>()
                .unwrap()
        };
        let l = 149.0 / 208.0;
        let got = weights(&mixer);
        for (g, e) in got.iter().zip([l, 1.0 - l, l, 1.0 - l]) {
            assert!((g - e).abs() < 1e-6, "{got:?}");
        }
        let only_attention = TransMixConfig::new()
            .with_patch_size(2)
            .with_area_weight(0.0)
            .init()
            .unwrap();
        let got = weights(&only_attention);
        assert!((got[0] - 25.0 / 39.0).abs() < 1e-6, "{got:?}");
    }

    /// The docs' two heads over the 4×6 grid: head 0 puts 0.03 on every patch; head 1
    /// puts 0.30 on patch (1, 2), 0.10 on (2, 3) and 0.02 on the 22 others.
    fn worked_heads() -> Vec<f32> {
        let head1 = (0..24).map(|l| match l {
            8 => 0.30,
            15 => 0.10,
            _ => 0.02,
        });
        std::iter::repeat_n(0.03, 24).chain(head1).collect()
    }

    #[test]
    fn bad_configurations_and_shapes_are_typed_errors() {
        assert!(matches!(
            TransMixConfig::new().with_patch_size(0).validate(),
            Err(MixError::InvalidHyperParameter {
                name: "transmix.patch_size",
                ..
            })
        ));
        assert!(matches!(
            TransMixConfig::new().with_area_weight(1.5).validate(),
            Err(MixError::InvalidHyperParameter {
                name: "transmix.area_weight",
                ..
            })
        ));
        let device = Device::flex();
        let mixer = TransMixConfig::new().with_patch_size(4).init().unwrap();
        let mixed = |h: usize, w: usize| {
            let params = mixer
                .sample(&mut MixRng::from_seed(2), BatchShape::new(2, 1, h, w))
                .unwrap();
            let images = Tensor::<4>::zeros([2, 1, h, w], &device);
            let labels = Tensor::<1, Int>::from_ints([0, 1], &device);
            let mixed = mixer.apply(&params, images, labels, &Guide::None).unwrap();
            (params, mixed)
        };
        // 8×10 is not a multiple of 4 across.
        let (params, m) = mixed(8, 10);
        let err = mixer
            .retarget(&params, &m, Tensor::zeros([2, 1, 4], &device))
            .unwrap_err();
        assert!(
            matches!(
                err,
                MixError::ShapeMismatch {
                    what: "transmix patch grid",
                    ..
                }
            ),
            "{err}"
        );
        // 8×12 has a 2×3 grid: 6 entries per head, not 4; and a batch of 2, not 3.
        let (params, m) = mixed(8, 12);
        for dims in [[2, 1, 4], [3, 1, 6], [2, 0, 6]] {
            let err = mixer
                .retarget(&params, &m, Tensor::zeros(dims, &device))
                .unwrap_err();
            assert!(
                matches!(
                    err,
                    MixError::ShapeMismatch {
                        what: "transmix attention",
                        ..
                    }
                ),
                "{dims:?}: {err}"
            );
        }
        // All-zero attention falls back on the area ratio.
        let target = mixer
            .retarget(&params, &m, Tensor::zeros([2, 3, 6], &device))
            .unwrap();
        let kept = params.cuts[0].region.kept_fraction(8, 12) as f32;
        let got: Vec<f32> = target
            .weights()
            .into_data()
            .try_into_vec_as::<f32>()
            .unwrap();
        assert!((got[0] - kept).abs() < 1e-6, "{got:?} vs {kept}");
    }
}
