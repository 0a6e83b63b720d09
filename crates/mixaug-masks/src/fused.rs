//! The device half of most mixers as two fused operations: a masked blend of every sample
//! with its partner ([`blend`]) and a paste of rectangles taken from other samples
//! ([`paste_tiles`]).
//!
//! Each has a backend-generic form in burn tensor ops (the one wgpu, LibTorch and every
//! other backend run) and, with this crate's `flex` feature (on by default), a fused loop
//! over the flex backend's own buffer: one output allocation, no intermediate tensor.
//! Composed of burn operations, a blend on flex costs a partner gather, a mask build and
//! two or three full-size passes, each with its allocation (3–27× a plain copy of the
//! batch at 128×3×32×32, measured side by side); fused, the blend is one pass over runs of
//! lines that share a weight pattern, and the paste one pass over bands of rows that the
//! same tiles cross (a copy, or a select between two reads at constant offsets — RICAP's
//! side-by-side patches, a column strip — or a copy with the tiles' rows written over
//! it). Both forms compute the same formula, and
//! [`without_fused_kernels`] runs the generic form on flex too (tests compare them, the
//! benches time them side by side). Tensors on an autodiff device (the training loop's)
//! take the generic form: there the mix is a fraction of a millisecond beside a training
//! step of seconds.

use std::cell::Cell;

use burn::prelude::*;

thread_local! {
    static FUSED: Cell<bool> = const { Cell::new(true) };
}

/// Runs `f` with the fused flex kernels off on this thread: every mixer then takes its
/// backend-generic path (burn tensor operations) on flex too, as it does on every other
/// backend. For comparisons and benchmarks; results agree with the fused path (exactly for
/// hard masks, to float rounding of the same formula otherwise).
///
/// ```
/// use burn::prelude::*;
/// use mixaug_masks::{MixupConfig, Mixer, MixRng, without_fused_kernels};
/// let device = Device::flex();
/// let images = Tensor::<4>::ones([2, 1, 2, 3], &device);
/// let labels = Tensor::<1, Int>::from_ints([0, 1], &device);
/// let mixup = MixupConfig::new().init().unwrap();
/// let generic = without_fused_kernels(|| {
///     mixup.mix(&mut MixRng::from_seed(0), images.clone(), labels.clone()).unwrap()
/// });
/// let fused = mixup.mix(&mut MixRng::from_seed(0), images, labels).unwrap();
/// generic.images.into_data().assert_approx_eq::<f32>(&fused.images.into_data(), Default::default());
/// ```
pub fn without_fused_kernels<R>(f: impl FnOnce() -> R) -> R {
    let before = FUSED.with(|c| c.replace(false));
    let out = f();
    FUSED.with(|c| c.set(before));
    out
}

/// What fills the part of a mixed image that the mask does not give to the base image.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Source<'a> {
    /// The same pixel of the partner: sample `i` takes from sample `partners[i]`.
    Partner(&'a [usize]),
    /// A constant value.
    Fill(f32),
}

/// The weight of the base image at every pixel, `m ∈ [0, 1]`: the mixed pixel is
/// `s + (x − s)·m` for base pixel `x` and source pixel `s` (exactly `x` where `m = 1` and
/// exactly `s` where `m = 0` when the mask is hard, i.e. only 0s and 1s).
pub(crate) enum Mask {
    /// A mask built line by line on the host from a few patterns (per-line data, no
    /// per-pixel work).
    Lines(LineMask),
    /// A mask computed on the device, `[1 or N, 1, H, W]`.
    Tensor {
        /// The weights.
        weights: Tensor<4>,
        /// Whether the weights are all 0 or 1.
        hard: bool,
    },
    /// A hard mask on the device, `true` where the base image is kept,
    /// `[1 or N, 1 or C, H, W]` (a quarter of a float mask's size).
    Keep(Tensor<4, Bool>),
}

/// A weight mask whose every line (row `y` of channel `c` of sample `i`) is one of a small
/// set of `W`-long patterns: boxes, splits and quadrants need two patterns per sample, and
/// the lines are kept as runs of equal patterns (a few per sample).
///
/// Each pattern is stored repeated over [`block_lines`] lines, so that a run of many lines
/// mixes in long loops with no per-run preparation.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LineMask {
    width: usize,
    /// `block_lines(width)`, kept: the blend looks it up for every run (a division each
    /// showed in profiles).
    reps: usize,
    /// Every pattern, repeated over `block_lines(width)` lines.
    patterns: Vec<f32>,
    /// What each pattern holds, found as it is added.
    kinds: Vec<Kind>,
    /// Runs of lines: (pattern id, number of lines), over samples, then channels if
    /// per-channel, then rows; a run may reach over several samples.
    runs: Vec<(u32, usize)>,
    per_channel: bool,
    /// The ids of the hard splits added so far, by column and weights (see
    /// [`LineMask::split`]); `u32::MAX` where none is.
    splits: Vec<u32>,
}

/// What a run of weights holds, i.e. how it combines the base and the source.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    /// One weight everywhere (1: the base, 0: the source).
    Const(f32),
    /// Only 0s and 1s: a select.
    Hard,
    /// Anything else: `s + (x − s)·m`.
    Soft,
}

impl Kind {
    /// The kind of `weights` (one pass without early exit, so it vectorises).
    fn of(weights: &[f32]) -> Self {
        let first = weights.first().copied().unwrap_or(1.0);
        let (same, binary) = weights.iter().fold((true, true), |(same, binary), &m| {
            (same & (m == first), binary & ((m == 0.0) | (m == 1.0)))
        });
        match (same, binary) {
            (true, _) => Kind::Const(first),
            (false, true) => Kind::Hard,
            (false, false) => Kind::Soft,
        }
    }
}

/// How many lines of width `width` a repeated pattern block holds: about 256 values (a
/// run of lines mixes a block at a time).
fn block_lines(width: usize) -> usize {
    (256 / width.max(1)).max(1)
}

/// Repeats the last `width` values of `values` until they fill a block of
/// [`block_lines`] lines.
fn repeat_last_line(values: &mut Vec<f32>, width: usize) {
    let start = values.len() - width;
    let end = start + block_lines(width) * width;
    while values.len() < end {
        let more = (values.len() - start).min(end - values.len());
        values.extend_from_within(start..start + more);
    }
}

impl LineMask {
    /// An empty mask for lines of `width` pixels.
    pub fn new(width: usize) -> Self {
        Self {
            width,
            reps: block_lines(width),
            patterns: Vec::new(),
            kinds: Vec::new(),
            runs: Vec::new(),
            per_channel: false,
            splits: Vec::new(),
        }
    }

    /// Adds a pattern of `width` weights; returns its id.
    pub fn pattern(&mut self, weights: impl IntoIterator<Item = f32>) -> u32 {
        let id = self.kinds.len();
        let start = self.patterns.len();
        self.patterns.extend(weights);
        debug_assert_eq!(self.patterns.len(), start + self.width);
        self.kinds.push(Kind::of(&self.patterns[start..]));
        repeat_last_line(&mut self.patterns, self.width);
        id as u32
    }

    /// Adds a constant pattern; returns its id.
    pub fn constant(&mut self, weight: f32) -> u32 {
        self.pattern(std::iter::repeat_n(weight, self.width))
    }

    /// Adds a pattern that is `inside` on columns `cols` (clipped to the line) and
    /// `outside` elsewhere.
    pub fn span(&mut self, cols: std::ops::Range<usize>, inside: f32, outside: f32) -> u32 {
        let width = self.width;
        let start = cols.start.min(width);
        let end = cols.end.clamp(start, width);
        self.pattern(
            std::iter::repeat_n(outside, start)
                .chain(std::iter::repeat_n(inside, end - start))
                .chain(std::iter::repeat_n(outside, width - end)),
        )
    }

    /// The pattern `left` on columns `0..col` and `right` from `col` on; hard splits (both
    /// weights 0 or 1) are added once and shared (a batch of splits needs at most
    /// `4·(W + 1)` of them).
    pub fn split(&mut self, col: usize, left: f32, right: f32) -> u32 {
        let bit = |v: f32| match v {
            0.0 => Some(0),
            1.0 => Some(1),
            _ => None,
        };
        let (Some(l), Some(r)) = (bit(left), bit(right)) else {
            return self.span(0..col, left, right);
        };
        let key = col.min(self.width) * 4 + l * 2 + r;
        if self.splits.is_empty() {
            self.splits = vec![u32::MAX; (self.width + 1) * 4];
        }
        if self.splits[key] == u32::MAX {
            self.splits[key] = self.span(0..col, left, right);
        }
        self.splits[key]
    }

    /// Appends `count` lines of `pattern` (lines run over samples, then channels if
    /// per-channel, then rows).
    pub fn lines(&mut self, pattern: u32, count: usize) {
        match self.runs.last_mut() {
            _ if count == 0 => {}
            Some((last, lines)) if *last == pattern => *lines += count,
            _ => self.runs.push((pattern, count)),
        }
    }

    /// Marks the lines as one per channel (`N·C·H` of them) instead of shared by the
    /// channels (`N·H`).
    pub fn per_channel(mut self) -> Self {
        self.per_channel = true;
        self
    }

    /// One weight per sample (`weights` holds 1 or `n` values), the same at every pixel.
    pub fn uniform(weights: &[f64], n: usize, h: usize, w: usize) -> Self {
        let mut mask = Self::new(w);
        let ids: Vec<u32> = weights.iter().map(|&v| mask.constant(v as f32)).collect();
        for i in 0..n {
            mask.lines(ids[i.min(ids.len() - 1)], h);
        }
        mask
    }

    /// Weight `inside` in box `boxes[i]` of sample `i` (one box for the batch, or one per
    /// sample) and `outside` elsewhere.
    pub fn boxes(
        boxes: &[crate::CutBox],
        n: usize,
        h: usize,
        w: usize,
        inside: f32,
        outside: f32,
    ) -> Self {
        let mut mask = Self::new(w);
        let out = mask.constant(outside);
        let rows: Vec<u32> = boxes
            .iter()
            .map(|b| mask.span(b.x0..b.x1(), inside, outside))
            .collect();
        for i in 0..n {
            let k = i.min(boxes.len() - 1);
            let b = boxes[k];
            let (y0, y1) = (b.y0.min(h), b.y1().min(h));
            mask.lines(out, y0);
            mask.lines(rows[k], y1 - y0);
            mask.lines(out, h - y1);
        }
        mask
    }

    /// Whether every weight is 0 or 1.
    pub fn is_hard(&self) -> bool {
        self.kinds
            .iter()
            .all(|k| matches!(k, Kind::Const(0.0) | Kind::Const(1.0) | Kind::Hard))
    }

    /// How many lines the runs hold.
    fn num_lines(&self) -> usize {
        self.runs.iter().map(|&(_, lines)| lines).sum()
    }

    /// Calls `f` with the runs of each sample in turn, `per_sample` lines each (a run that
    /// reaches into the next sample is cut there). The runs must hold whole samples.
    #[cfg(feature = "flex")]
    fn each_sample(&self, per_sample: usize, mut f: impl FnMut(&[(u32, usize)])) {
        let mut sample = Vec::new();
        let mut need = per_sample;
        for &(id, mut count) in &self.runs {
            while count > 0 {
                let take = count.min(need);
                sample.push((id, take));
                (count, need) = (count - take, need - take);
                if need == 0 {
                    f(&sample);
                    sample.clear();
                    need = per_sample;
                }
            }
        }
        debug_assert!(sample.is_empty(), "the runs end inside a sample");
    }

    /// The weights to mix a run of `lines` lines of pattern `id` with, a block at a time:
    /// the pattern repeated over up to [`block_lines`] lines.
    #[cfg(feature = "flex")]
    fn block(&self, id: u32, lines: usize) -> &[f32] {
        let start = id as usize * self.reps * self.width;
        &self.patterns[start..start + lines.clamp(1, self.reps) * self.width]
    }

    /// The mask as a device tensor.
    ///
    /// # Shapes
    /// - output: `[N, 1, H, W]`, or `[N, C, H, W]` with per-channel lines
    fn to_tensor(&self, n: usize, c: usize, h: usize, device: &Device) -> Tensor<4> {
        let p = self.kinds.len();
        let patterns = Tensor::<3>::from_data(
            TensorData::new(self.patterns.clone(), [p, self.reps, self.width]),
            device,
        )
        .slice(s![.., 0..1, ..])
        .reshape([p, self.width]);
        let lines: Vec<i64> = (self.runs.iter())
            .flat_map(|&(id, lines)| std::iter::repeat_n(i64::from(id), lines))
            .collect();
        let index = Tensor::<1, Int>::from_data(TensorData::new(lines, [self.num_lines()]), device);
        let planes = if self.per_channel { c } else { 1 };
        patterns
            .select(0, index)
            .reshape([n, planes, h, self.width])
    }
}

/// The samples `partners[i]` in order: a row gather of the `[N, C·H·W]` view.
///
/// # Shapes
/// - `images`: `[N, C, H, W]` → `[N, C, H, W]`
pub(crate) fn gather_samples(images: Tensor<4>, partners: &[usize]) -> Tensor<4> {
    let [n, c, h, w] = images.dims();
    let index: Vec<i64> = partners.iter().map(|&p| p as i64).collect();
    let index =
        Tensor::<1, Int>::from_data(TensorData::new(index, [partners.len()]), &images.device());
    images
        .reshape([n, c * h * w])
        .select(0, index)
        .reshape([partners.len(), c, h, w])
}

/// Blends every image with its source under `mask`: `s + (x − s)·m` per pixel, i.e. the
/// base image where the mask is 1 and the source where it is 0.
///
/// # Shapes
/// - `images`: `[N, C, H, W]`; `mask`: lines of width `W` (`N·H`, or `N·C·H` per channel)
///   or a tensor `[1 or N, 1, H, W]`
pub(crate) fn blend(images: Tensor<4>, source: Source, mask: &Mask) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if FUSED.with(Cell::get)
        && let Some(out) = flex::blend(&images, source, mask)
    {
        return out;
    }
    blend_generic(images, source, mask)
}

/// [`blend`] in burn tensor operations.
fn blend_generic(images: Tensor<4>, source: Source, mask: &Mask) -> Tensor<4> {
    let dims @ [n, c, h, _] = images.dims();
    let device = images.device();
    // Hard masks become booleans before they are broadcast over the batch's shape.
    let weights = match mask {
        Mask::Lines(lines) if lines.is_hard() => {
            Ok(lines.to_tensor(n, c, h, &device).equal_elem(1.0))
        }
        Mask::Lines(lines) => Err(lines.to_tensor(n, c, h, &device)),
        Mask::Tensor { weights, hard } if *hard => Ok(weights.clone().equal_elem(1.0)),
        Mask::Tensor { weights, .. } => Err(weights.clone()),
        Mask::Keep(keep) => Ok(keep.clone()),
    };
    match (source, weights) {
        (Source::Partner(partners), Ok(keep)) => {
            gather_samples(images.clone(), partners).mask_where(keep.expand(dims), images)
        }
        (Source::Partner(partners), Err(weights)) => {
            let partners = gather_samples(images.clone(), partners);
            partners.clone() + (images - partners) * weights.expand(dims)
        }
        (Source::Fill(fill), Ok(keep)) => images.mask_fill(keep.bool_not().expand(dims), fill),
        (Source::Fill(fill), Err(weights)) => {
            (images.sub_scalar(fill) * weights.expand(dims)).add_scalar(fill)
        }
    }
}

/// Where the lines of a [`Tile`] come from: output line/column `k` of the tile reads source
/// line/column `map[k]`.
pub(crate) type IndexMap = Vec<usize>;

/// A rectangle of output pixels of sample `sample`, every channel, read from sample
/// `source`: output pixel `(y0 + j, x0 + k)` is source pixel `(rows[j], cols[k])`, with
/// `rows` and `cols` indices into [`TileSet::maps`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tile {
    pub sample: usize,
    pub source: usize,
    pub y0: usize,
    pub x0: usize,
    pub rows: usize,
    pub cols: usize,
}

/// Rectangles pasted over a batch, with the index maps they share.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct TileSet {
    pub maps: Vec<IndexMap>,
    pub tiles: Vec<Tile>,
    /// Whether the paste starts from zeros instead of the batch (RICAP, whose four patches
    /// tile the image, so nothing of the batch would survive the copy).
    pub cover: bool,
}

impl TileSet {
    /// Adds an index map; returns its id.
    pub fn map(&mut self, map: IndexMap) -> usize {
        self.maps.push(map);
        self.maps.len() - 1
    }
}

/// Pastes `tiles` over a copy of the batch (zeros with [`TileSet::cover`]); pixels no
/// tile covers keep their value.
/// `generic` computes the same result in burn tensor operations (the path of every
/// backend but flex); the tiles must lie inside the images.
///
/// # Shapes
/// - `images`: `[N, C, H, W]` → `[N, C, H, W]`
pub(crate) fn paste_tiles(
    images: Tensor<4>,
    tiles: &TileSet,
    generic: impl FnOnce(Tensor<4>) -> Tensor<4>,
) -> Tensor<4> {
    #[cfg(feature = "flex")]
    if FUSED.with(Cell::get)
        && let Some(out) = flex::paste_tiles(&images, tiles)
    {
        return out;
    }
    #[cfg(not(feature = "flex"))]
    let _ = tiles;
    generic(images)
}

#[cfg(feature = "flex")]
mod flex {
    //! The fused loops over a flex tensor's buffer (f32, contiguous); `None` for anything
    //! else, which then takes the generic path.

    use burn::backend::Flex;
    use burn::prelude::*;

    use super::{Kind, Mask, Source, Tile, TileSet};

    /// The batch's values when it is a contiguous f32 flex tensor (shared, not copied).
    fn flex_values(tensor: &Tensor<4>) -> Option<FlexValues> {
        let primitive = tensor.clone().try_into_primitive::<Flex>().ok()?;
        primitive.as_slice::<f32>()?;
        Some(FlexValues(primitive))
    }

    struct FlexValues(burn::backend::tensor::FloatTensor<Flex>);

    impl FlexValues {
        fn slice(&self) -> &[f32] {
            self.0.as_slice::<f32>().expect("checked in `flex_values`")
        }
    }

    /// The source of a run: the partner's values at the same place, or a constant.
    #[derive(Clone, Copy)]
    enum Run<'a> {
        Values(&'a [f32]),
        Fill(f32),
    }

    /// `a` where `keep`, else `b`, as a bitwise blend (branch-free, so it vectorises).
    fn select(keep: bool, a: f32, b: f32) -> f32 {
        let mask = u32::from(keep).wrapping_neg();
        f32::from_bits((a.to_bits() & mask) | (b.to_bits() & !mask))
    }

    /// Appends a run of mixed values: base `a`, the source at the same place, weights `m`
    /// (as long as the run; unused for a constant). One pass, branch-free per element, so
    /// it vectorises.
    fn mix_run(out: &mut Vec<f32>, a: &[f32], source: Run, m: &[f32], kind: Kind) {
        debug_assert!(matches!(kind, Kind::Const(_)) || a.len() == m.len());
        match (kind, source) {
            (Kind::Const(1.0), _) => out.extend_from_slice(a),
            (Kind::Const(0.0), Run::Values(b)) => out.extend_from_slice(b),
            (Kind::Const(0.0), Run::Fill(f)) => out.extend(std::iter::repeat_n(f, a.len())),
            (Kind::Const(v), Run::Values(b)) => {
                out.extend(a.iter().zip(b).map(|(&a, &b)| b + (a - b) * v))
            }
            (Kind::Const(v), Run::Fill(f)) => out.extend(a.iter().map(|&a| f + (a - f) * v)),
            (Kind::Hard, Run::Values(b)) => {
                let mixed = a.iter().zip(b).zip(m);
                out.extend(mixed.map(|((&a, &b), &m)| select(m == 1.0, a, b)))
            }
            (Kind::Hard, Run::Fill(f)) => {
                out.extend(a.iter().zip(m).map(|(&a, &m)| select(m == 1.0, a, f)))
            }
            (Kind::Soft, Run::Values(b)) => {
                let mixed = a.iter().zip(b).zip(m);
                out.extend(mixed.map(|((&a, &b), &m)| b + (a - b) * m))
            }
            (Kind::Soft, Run::Fill(f)) => {
                out.extend(a.iter().zip(m).map(|(&a, &m)| f + (a - f) * m))
            }
        }
    }

    impl Run<'_> {
        fn slice(self, range: std::ops::Range<usize>) -> Self {
            match self {
                Run::Values(b) => Run::Values(&b[range]),
                fill => fill,
            }
        }
    }

    /// Mixes a run of whole lines: `weights` cover one chunk of it (all of it, or repeat
    /// along it), or are unused for a constant.
    #[inline]
    fn mix_lines(out: &mut Vec<f32>, a: &[f32], source: Run, weights: &[f32], kind: Kind) {
        if matches!(kind, Kind::Const(_)) {
            return mix_run(out, a, source, weights, kind);
        }
        for (k, chunk) in a.chunks(weights.len()).enumerate() {
            let start = k * weights.len();
            let source = source.slice(start..start + chunk.len());
            mix_run(out, chunk, source, &weights[..chunk.len()], kind);
        }
    }

    /// Appends a run mixed under a boolean mask (`keep[k] != 0`: the base value).
    fn mix_bits(out: &mut Vec<f32>, a: &[f32], source: Run, keep: &[u8]) {
        match source {
            Run::Values(b) => {
                let mixed = a.iter().zip(b).zip(keep);
                out.extend(mixed.map(|((&a, &b), &k)| select(k != 0, a, b)))
            }
            Run::Fill(f) => out.extend(a.iter().zip(keep).map(|(&a, &k)| select(k != 0, a, f))),
        }
    }

    /// Every channel plane of the batch in order, as (sample, its range within the sample,
    /// the offset of its plane in a `[1 or N, 1 or C, H, W]` mask); `None` when the mask's
    /// shape does not broadcast that way.
    fn mask_planes(
        [m, mc, mh, mw]: [usize; 4],
        [n, c, h, w]: [usize; 4],
    ) -> Option<impl Iterator<Item = (usize, std::ops::Range<usize>, usize)>> {
        if !((m == 1 || m == n) && (mc == 1 || mc == c) && mh == h && mw == w) {
            return None;
        }
        let plane = h * w;
        Some((0..n).flat_map(move |i| {
            (0..c).map(move |ch| {
                let k = (i.min(m - 1) * mc + ch.min(mc - 1)) * plane;
                (i, ch * plane..(ch + 1) * plane, k)
            })
        }))
    }

    pub(super) fn blend(images: &Tensor<4>, source: Source, mask: &Mask) -> Option<Tensor<4>> {
        let dims @ [n, c, h, w] = images.dims();
        let values = flex_values(images)?;
        let x = values.slice();
        let sample = c * h * w;
        let source_of = |i: usize, range: std::ops::Range<usize>| match source {
            Source::Partner(p) => Run::Values(&x[p[i] * sample..][range]),
            Source::Fill(f) => Run::Fill(f),
        };
        // One pass: every sample appended run by run (a run: consecutive lines sharing
        // their weights).
        let mut out = Vec::with_capacity(n * sample);
        match mask {
            Mask::Lines(lines) => {
                // The lines of one sample: H shared by the channels, or C·H.
                let per_sample = if lines.per_channel { c * h } else { h };
                if lines.width != w || lines.num_lines() != n * per_sample {
                    return None;
                }
                let mut i = 0;
                lines.each_sample(per_sample, |runs| {
                    let a = &x[i * sample..][..sample];
                    let mut line = 0;
                    for _ in 0..c * h / per_sample {
                        for &(id, count) in runs {
                            let run = line * w..(line + count) * w;
                            let (kind, weights) =
                                (lines.kinds[id as usize], lines.block(id, count));
                            mix_lines(&mut out, &a[run.clone()], source_of(i, run), weights, kind);
                            line += count;
                        }
                    }
                    i += 1;
                });
            }
            Mask::Tensor { weights, hard } => {
                let planes = mask_planes(weights.dims(), dims)?;
                let values = flex_values(weights)?;
                let values = values.slice();
                let kind = if *hard { Kind::Hard } else { Kind::Soft };
                for (i, run, k) in planes {
                    let a = &x[i * sample..][run.clone()];
                    let weights = &values[k..k + run.len()];
                    mix_run(&mut out, a, source_of(i, run), weights, kind);
                }
            }
            Mask::Keep(keep) => {
                let planes = mask_planes(keep.dims(), dims)?;
                let bits = keep.clone().try_into_primitive::<Flex>().ok()?;
                let (start, end) = bits.layout().contiguous_offsets()?;
                let bits = &bits.storage::<u8>()[start..end];
                for (i, run, k) in planes {
                    let a = &x[i * sample..][run.clone()];
                    mix_bits(
                        &mut out,
                        a,
                        source_of(i, run.clone()),
                        &bits[k..k + run.len()],
                    );
                }
            }
        }
        Some(Tensor::from_data(
            TensorData::new(out, dims),
            &images.device(),
        ))
    }

    /// Where a stretch of an output line reads from.
    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Origin {
        /// Zeros (a covering paste where no tile lies).
        Zero,
        /// The sample's own pixels.
        Base,
        /// Tile `k` of the set.
        Tile(usize),
    }

    /// A stretch `x0..x1` of every line of a band, read from `from`.
    #[derive(Debug, Clone, Copy)]
    struct Stretch {
        x0: usize,
        x1: usize,
        from: Origin,
    }

    /// The batch being pasted over and the tiles, with what the paste needs of both.
    struct Paste<'a> {
        x: &'a [f32],
        tiles: &'a TileSet,
        /// `[N, C, H, W]`.
        dims: [usize; 4],
        /// Per tile: the constant offset from an output pixel's flat index to the flat
        /// index it reads, when both its index maps are contiguous.
        shifts: Vec<Option<isize>>,
        /// Per index map: whether it is `k, k + 1, …`.
        contiguous: Vec<bool>,
    }

    impl Paste<'_> {
        /// The flat offset a stretch reads at, when it is one.
        fn shift(&self, from: Origin) -> Option<isize> {
            match from {
                Origin::Zero => None,
                Origin::Base => Some(0),
                Origin::Tile(k) => self.shifts[k],
            }
        }

        /// Appends lines `rows` of channel `ch` of sample `i` stretch by stretch: a copy of
        /// the sample's own lines (zeros for a covering paste), then every tile's stretch
        /// written over them line by line (one copy and short writes cost less than a
        /// short copy per stretch).
        fn lines(
            &self,
            out: &mut Vec<f32>,
            stretches: &[Stretch],
            i: usize,
            ch: usize,
            rows: std::ops::Range<usize>,
        ) {
            let [_, c, h, w] = self.dims;
            let line = |sample: usize, row: usize| ((sample * c + ch) * h + row) * w;
            let start = out.len();
            if self.tiles.cover {
                out.resize(start + rows.len() * w, 0.0);
            } else {
                out.extend_from_slice(&self.x[line(i, rows.start)..line(i, rows.end)]);
            }
            for (j, y) in rows.enumerate() {
                let dst = &mut out[start + j * w..][..w];
                for s in stretches {
                    if let Origin::Tile(k) = s.from {
                        self.write(&mut dst[s.x0..s.x1], k, s.x0, ch, y);
                    }
                }
            }
        }

        /// Writes the stretch of tile `k` that starts at column `x0` of line `y` of channel
        /// `ch` (as long as `dst`).
        fn write(&self, dst: &mut [f32], k: usize, x0: usize, ch: usize, y: usize) {
            let [_, c, h, w] = self.dims;
            let t = &self.tiles.tiles[k];
            let (rows, cols) = (&self.tiles.maps[t.rows], &self.tiles.maps[t.cols]);
            let src = &self.x[((t.source * c + ch) * h + rows[y - t.y0]) * w..][..w];
            let cols = &cols[x0 - t.x0..][..dst.len()];
            if self.contiguous[t.cols] {
                dst.copy_from_slice(&src[cols[0]..][..cols.len()]);
            } else {
                dst.iter_mut().zip(cols).for_each(|(d, &sx)| *d = src[sx]);
            }
        }

        /// `len` values read at `shift` from flat output index `at`, when inside the batch.
        fn shifted(&self, at: usize, shift: isize, len: usize) -> Option<&[f32]> {
            let start = usize::try_from(at as isize + shift).ok()?;
            self.x.get(start..start + len)
        }

        /// Appends band `rows` of channel `ch` of sample `i`. A band read from one place
        /// (the base, or one tile over the full width) is one copy. One read from two
        /// places at constant offsets (RICAP's side-by-side patches, a column strip in its
        /// image) is a select between the two shifted reads of the whole band: the
        /// unselected reads may fall outside their source planes, and are fine anywhere in
        /// the batch; where they would leave it (the batch's first or last plane), the
        /// inner lines, whose reads stay inside their planes, are selected and the first
        /// and last lines written stretch by stretch. Anything else goes line by line.
        fn band(
            &self,
            out: &mut Vec<f32>,
            stretches: &[Stretch],
            select: Option<(&[f32], [isize; 2])>,
            i: usize,
            ch: usize,
            rows: std::ops::Range<usize>,
        ) {
            let [_, c, h, w] = self.dims;
            let at = |y: usize| ((i * c + ch) * h + y) * w;
            let lines = rows.len();
            if let [only] = stretches
                && let Some(shift) = self.shift(only.from)
                && let Some(values) = self.shifted(at(rows.start), shift, lines * w)
            {
                return out.extend_from_slice(values);
            }
            let Some((block, [da, db])) = select else {
                return self.lines(out, stretches, i, ch, rows);
            };
            let mix = |out: &mut Vec<f32>, rows: std::ops::Range<usize>| {
                if rows.is_empty() {
                    return Some(());
                }
                let len = rows.len() * w;
                let a = self.shifted(at(rows.start), da, len)?;
                let b = self.shifted(at(rows.start), db, len)?;
                let weights = &block[..block.len().min(len)];
                mix_lines(out, a, Run::Values(b), weights, Kind::Hard);
                Some(())
            };
            if mix(out, rows.clone()).is_some() {
                return;
            }
            let (first, last) = (rows.start, rows.end - 1);
            self.lines(out, stretches, i, ch, first..first + 1);
            if last > first {
                if mix(out, first + 1..last).is_none() {
                    self.lines(out, stretches, i, ch, first + 1..last);
                }
                self.lines(out, stretches, i, ch, last..last + 1);
            }
        }
    }

    /// Rows `rows` of a sample, which the same tiles cross: every line reads the same
    /// stretches.
    struct Band {
        rows: std::ops::Range<usize>,
        /// Where its stretches lie in [`Bands::stretches`].
        stretches: std::ops::Range<usize>,
        /// When it reads from two places at constant offsets: where its select pattern
        /// (weight 1 where the first is read, repeated over a block of lines) lies in
        /// [`Bands::patterns`], and the two offsets.
        select: Option<(std::ops::Range<usize>, [isize; 2])>,
    }

    /// The bands of one sample, with scratch space kept from sample to sample.
    #[derive(Default)]
    struct Bands {
        bands: Vec<Band>,
        stretches: Vec<Stretch>,
        patterns: Vec<f32>,
        cuts: Vec<usize>,
        crossing: Vec<usize>,
        sorted: Vec<usize>,
        places: Vec<Option<isize>>,
        from: Vec<Origin>,
    }

    impl Bands {
        /// Cuts a sample with tiles `own` (in paste order) into bands.
        fn plan(&mut self, paste: &Paste, own: &[usize]) {
            let (tiles, maps) = (&paste.tiles.tiles, &paste.tiles.maps);
            let h = paste.dims[2];
            self.cuts.clear();
            self.cuts.extend([0, h]);
            for t in own.iter().map(|&k| &tiles[k]) {
                self.cuts.extend([t.y0, t.y0 + maps[t.rows].len()]);
            }
            self.cuts.sort_unstable();
            self.cuts.dedup();
            self.bands.clear();
            self.stretches.clear();
            self.patterns.clear();
            for j in 1..self.cuts.len() {
                let rows = self.cuts[j - 1]..self.cuts[j];
                self.crossing.clear();
                self.crossing.extend(own.iter().copied().filter(|&k| {
                    let t = &tiles[k];
                    t.y0 <= rows.start && rows.end <= t.y0 + maps[t.rows].len()
                }));
                let first = self.stretches.len();
                self.add_stretches(paste);
                let stretches = first..self.stretches.len();
                let select = self.add_select(paste, stretches.clone());
                self.bands.push(Band {
                    rows,
                    stretches,
                    select,
                });
            }
        }

        /// Adds the stretches of a band crossed by tiles `crossing`, left to right; the
        /// tiles are painted column by column only when they overlap (the later wins).
        fn add_stretches(&mut self, paste: &Paste) {
            let (tiles, maps) = (&paste.tiles.tiles, &paste.tiles.maps);
            let w = paste.dims[3];
            let outside = if paste.tiles.cover {
                Origin::Zero
            } else {
                Origin::Base
            };
            let span = |k: usize| tiles[k].x0..tiles[k].x0 + maps[tiles[k].cols].len();
            let stretches = &mut self.stretches;
            let mut push = |x0: usize, x1: usize, from: Origin| {
                if x1 > x0 {
                    stretches.push(Stretch { x0, x1, from });
                }
            };
            self.sorted.clear();
            self.sorted.extend_from_slice(&self.crossing);
            self.sorted.sort_by_key(|&k| span(k).start);
            if (self.sorted.windows(2)).all(|p| span(p[0]).end <= span(p[1]).start) {
                let mut x = 0;
                for &k in &self.sorted {
                    push(x, span(k).start, outside);
                    push(span(k).start, span(k).end, Origin::Tile(k));
                    x = span(k).end;
                }
                push(x, w, outside);
            } else {
                self.from.clear();
                self.from.resize(w, outside);
                for &k in &self.crossing {
                    self.from[span(k)].fill(Origin::Tile(k));
                }
                let mut x0 = 0;
                for run in self.from.chunk_by(|a, b| a == b) {
                    push(x0, x0 + run.len(), run[0]);
                    x0 += run.len();
                }
            }
        }

        /// The select of a band with `stretches`, when they read from exactly two places
        /// at constant offsets: its pattern added to `patterns`.
        fn add_select(
            &mut self,
            paste: &Paste,
            stretches: std::ops::Range<usize>,
        ) -> Option<(std::ops::Range<usize>, [isize; 2])> {
            let stretches = &self.stretches[stretches];
            self.places.clear();
            self.places
                .extend(stretches.iter().map(|s| paste.shift(s.from)));
            self.places.sort_unstable();
            self.places.dedup();
            let [Some(da), Some(db)] = self.places[..] else {
                return None;
            };
            let at = self.patterns.len();
            for s in stretches {
                let weight = f32::from(u8::from(paste.shift(s.from) == Some(da)));
                self.patterns
                    .extend(std::iter::repeat_n(weight, s.x1 - s.x0));
            }
            super::repeat_last_line(&mut self.patterns, paste.dims[3]);
            Some((at..self.patterns.len(), [da, db]))
        }
    }

    pub(super) fn paste_tiles(images: &Tensor<4>, tiles: &TileSet) -> Option<Tensor<4>> {
        let dims @ [n, c, h, w] = images.dims();
        let values = flex_values(images)?;
        let x = values.slice();
        let maps = &tiles.maps;
        // Per index map: one past its largest index, and whether it runs `k, k + 1, …`.
        let ends: Vec<usize> = maps
            .iter()
            .map(|m| m.iter().fold(0, |end, &k| end.max(k + 1)))
            .collect();
        let contiguous: Vec<bool> = maps
            .iter()
            .map(|m| m.windows(2).all(|p| p[1] == p[0] + 1))
            .collect();
        // Tiles outside the images are left to the generic path (which rejects them).
        let inside = |t: &Tile| {
            t.y0 + maps[t.rows].len() <= h
                && t.x0 + maps[t.cols].len() <= w
                && t.sample < n
                && t.source < n
                && ends[t.rows] <= h
                && ends[t.cols] <= w
        };
        if !tiles.tiles.iter().all(inside) {
            return None;
        }
        let sample = (c * h * w) as isize;
        let shifts = (tiles.tiles.iter())
            .map(|t| {
                let (rows, cols) = (&maps[t.rows], &maps[t.cols]);
                let (&r, &x) = (rows.first()?, cols.first()?);
                (contiguous[t.rows] && contiguous[t.cols]).then(|| {
                    (t.source as isize - t.sample as isize) * sample
                        + (r as isize - t.y0 as isize) * w as isize
                        + (x as isize - t.x0 as isize)
                })
            })
            .collect();
        let paste = Paste {
            x,
            tiles,
            dims,
            shifts,
            contiguous,
        };
        if !tiles.cover && paste.shifts.iter().all(Option::is_none) {
            // No tile reads at a constant offset (ResizeMix's resized partner): a copy of
            // the batch with every tile's lines written over it, without the bands.
            let mut out = x.to_vec();
            for (k, t) in tiles.tiles.iter().enumerate() {
                let len = maps[t.cols].len();
                for ch in 0..c {
                    for y in t.y0..t.y0 + maps[t.rows].len() {
                        let at = ((t.sample * c + ch) * h + y) * w + t.x0;
                        paste.write(&mut out[at..at + len], k, t.x0, ch, y);
                    }
                }
            }
            return Some(Tensor::from_data(
                TensorData::new(out, dims),
                &images.device(),
            ));
        }
        // The tiles of each sample, in paste order.
        let mut order: Vec<usize> = (0..tiles.tiles.len())
            .filter(|&k| {
                let t = &tiles.tiles[k];
                !maps[t.rows].is_empty() && !maps[t.cols].is_empty()
            })
            .collect();
        order.sort_by_key(|&k| tiles.tiles[k].sample);
        let mut groups = order
            .chunk_by(|&a, &b| tiles.tiles[a].sample == tiles.tiles[b].sample)
            .peekable();
        // Every sample in order, cut into bands, then written channel by channel.
        let mut out = Vec::with_capacity(x.len());
        let mut bands = Bands::default();
        for i in 0..n {
            let own = groups
                .next_if(|own| tiles.tiles[own[0]].sample == i)
                .unwrap_or(&[]);
            bands.plan(&paste, own);
            for ch in 0..c {
                for band in &bands.bands {
                    let stretches = &bands.stretches[band.stretches.clone()];
                    let select = (band.select.clone())
                        .map(|(block, shifts)| (&bands.patterns[block], shifts));
                    paste.band(&mut out, stretches, select, i, ch, band.rows.clone());
                }
            }
        }
        debug_assert_eq!(out.len(), x.len());
        Some(Tensor::from_data(
            TensorData::new(out, dims),
            &images.device(),
        ))
    }
}

#[cfg(all(test, feature = "flex"))]
mod tests {
    use super::*;

    fn batch(n: usize, c: usize, h: usize, w: usize) -> Tensor<4> {
        let v: Vec<f32> = (0..n * c * h * w)
            .map(|k| (k as f32 * 0.37).sin())
            .collect();
        Tensor::from_data(TensorData::new(v, [n, c, h, w]), &Device::flex())
    }

    fn host(t: Tensor<4>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    fn both(f: impl Fn() -> Tensor<4>) -> (Vec<f32>, Vec<f32>) {
        (host(f()), host(without_fused_kernels(&f)))
    }

    #[test]
    fn fused_blend_equals_the_generic_form() {
        let (n, c, h, w) = (3, 2, 4, 5);
        let partners = [2, 0, 1];
        let boxes = [
            crate::CutBox {
                y0: 1,
                x0: 1,
                h: 2,
                w: 3,
            },
            crate::CutBox {
                y0: 0,
                x0: 0,
                h: 4,
                w: 5,
            },
            crate::CutBox {
                y0: 3,
                x0: 4,
                h: 1,
                w: 1,
            },
        ];
        let mut soft = LineMask::new(w);
        for k in 0..n * c * h {
            let id = soft.pattern((0..w).map(|x| ((k * w + x) % 7) as f32 / 6.0));
            soft.lines(id, 1);
        }
        let soft = soft.per_channel();
        let plane: Vec<f32> = (0..h * w).map(|k| (k % 3) as f32 / 2.0).collect();
        let masks = [
            Mask::Lines(LineMask::uniform(&[0.3], n, h, w)),
            Mask::Lines(LineMask::uniform(&[1.0, 0.0, 0.25], n, h, w)),
            Mask::Lines(LineMask::boxes(&boxes, n, h, w, 0.0, 1.0)),
            Mask::Lines(soft),
            Mask::Tensor {
                weights: Tensor::from_data(TensorData::new(plane, [1, 1, h, w]), &Device::flex()),
                hard: false,
            },
        ];
        for mask in &masks {
            for source in [Source::Partner(&partners), Source::Fill(-0.5)] {
                let (fused, generic) = both(|| blend(batch(n, c, h, w), source, mask));
                for (a, b) in fused.iter().zip(&generic) {
                    assert!((a - b).abs() <= 1e-6, "{a} vs {b}");
                }
            }
        }
        // Hard masks select exactly: the box of sample 0 (rows 1–2, columns 1–3) is its
        // partner's (sample 2), the rest its own.
        let x = host(batch(n, c, h, w));
        let (fused, generic) =
            both(|| blend(batch(n, c, h, w), Source::Partner(&partners), &masks[2]));
        assert_eq!(fused, generic);
        let sample = c * h * w;
        assert_eq!(fused[w + 1], x[2 * sample + w + 1]);
        assert_eq!(fused[0], x[0]);
        assert_eq!(fused[w + 4], x[w + 4]);
    }

    #[test]
    fn fused_tiles_equal_a_hand_computed_paste() {
        // 2 samples, 1 channel, 3×4: sample 0 gets sample 1's row 2 (columns 1, 3) at its
        // (0, 0); sample 1 gets sample 0's rows 0..2 reversed, columns 0..2, at its (1, 2).
        let x = batch(2, 1, 3, 4);
        let v = host(x.clone());
        let mut tiles = TileSet::default();
        let (r0, c0) = (tiles.map(vec![2]), tiles.map(vec![1, 3]));
        let (r1, c1) = (tiles.map(vec![1, 0]), tiles.map(vec![0, 1]));
        tiles.tiles.push(Tile {
            sample: 0,
            source: 1,
            y0: 0,
            x0: 0,
            rows: r0,
            cols: c0,
        });
        tiles.tiles.push(Tile {
            sample: 1,
            source: 0,
            y0: 1,
            x0: 2,
            rows: r1,
            cols: c1,
        });
        let out = host(paste_tiles(x, &tiles, |_| {
            unreachable!("flex takes the fused path")
        }));
        let mut expected = v.clone();
        expected[0] = v[12 + 2 * 4 + 1];
        expected[1] = v[12 + 2 * 4 + 3];
        expected[12 + 4 + 2] = v[4];
        expected[12 + 4 + 3] = v[4 + 1];
        expected[12 + 8 + 2] = v[0];
        expected[12 + 8 + 3] = v[1];
        assert_eq!(out, expected);
    }

    #[test]
    fn line_masks_share_hard_splits_and_merge_runs() {
        let (n, h, w) = (2, 3, 4);
        let mut mask = LineMask::new(w);
        let left = mask.split(1, 1.0, 0.0);
        let soft = mask.split(1, 0.5, 0.0);
        assert_eq!(mask.split(1, 1.0, 0.0), left, "a hard split is added once");
        assert_ne!(soft, left);
        assert_eq!(
            mask.split(1, 0.5, 0.0),
            soft + 1,
            "soft splits are not shared"
        );
        // Sample 0: rows 0, 1 `left`, row 2 `soft`; sample 1: every row `left` (the run
        // of sample 0's last row and sample 1's rows stay apart, different patterns).
        mask.lines(left, 1);
        mask.lines(left, 1);
        mask.lines(soft, 1);
        mask.lines(left, 0);
        mask.lines(left, h);
        assert_eq!(mask.runs, vec![(left, 2), (soft, 1), (left, 3)]);
        assert!(!mask.is_hard());
        let values = host(mask.to_tensor(n, 1, h, &Device::flex()));
        let (l, m) = ([1.0, 0.0, 0.0, 0.0], [0.5, 0.0, 0.0, 0.0]);
        let expected: Vec<f32> = [l, l, m, l, l, l].concat();
        assert_eq!(values, expected);
        // The stored block repeats the pattern over 256 / W = 64 lines.
        assert_eq!(mask.block(left, 100), [l; 64].concat());
        assert_eq!(mask.block(soft, 2), [m; 2].concat());
    }

    /// The paste pixel by pixel: every tile in order over a copy of the batch (zeros
    /// when the tiles cover it).
    fn naive_paste(v: &[f32], [n, c, h, w]: [usize; 4], tiles: &TileSet) -> Vec<f32> {
        let mut out = if tiles.cover {
            vec![0.0; v.len()]
        } else {
            v.to_vec()
        };
        let at = |i: usize, ch: usize, y: usize, x: usize| ((i * c + ch) * h + y) * w + x;
        assert!(tiles.tiles.iter().all(|t| t.sample < n && t.source < n));
        for t in &tiles.tiles {
            for ch in 0..c {
                for (j, &sy) in tiles.maps[t.rows].iter().enumerate() {
                    for (k, &sx) in tiles.maps[t.cols].iter().enumerate() {
                        out[at(t.sample, ch, t.y0 + j, t.x0 + k)] = v[at(t.source, ch, sy, sx)];
                    }
                }
            }
        }
        out
    }

    #[test]
    fn fused_tile_bands_equal_a_pixel_by_pixel_paste() {
        let dims @ [n, c, h, w] = [3, 2, 5, 6];
        let x = batch(n, c, h, w);
        let v = host(x.clone());
        let tile = |sample, source, y0, x0, rows, cols| Tile {
            sample,
            source,
            y0,
            x0,
            rows,
            cols,
        };
        // RICAP-like: four patches of contiguous crops tile every image, split at row 3 and
        // column 2. The first sample's bottom-right patch reads before its own lines (and
        // before the batch, read as a band) and the last sample's top-left patch after.
        let mut cover = TileSet {
            cover: true,
            ..TileSet::default()
        };
        let maps = [(2..5, 4..6), (0..3, 0..4), (3..5, 0..2), (0..2, 0..4)]
            .map(|(r, k)| (cover.map(r.collect()), cover.map(k.collect())));
        for i in 0..n {
            let sources = [i, (i + 1) % n, (i + 2) % n, i];
            let places = [(0, 0), (0, 2), (3, 0), (3, 2)];
            for ((source, (y0, x0)), (rows, cols)) in sources.into_iter().zip(places).zip(maps) {
                cover.tiles.push(tile(i, source, y0, x0, rows, cols));
            }
        }
        // Over the batch: overlapping contiguous tiles (the later wins), a band read from
        // three places (the base, a shifted tile, a gathered one), a full-width band read
        // from one shifted place, and a column strip.
        let mut over = TileSet::default();
        let m = |t: &mut TileSet, v: Vec<usize>| t.map(v);
        let (r14, c04) = (m(&mut over, vec![1, 2, 3]), m(&mut over, vec![0, 1, 2, 3]));
        let (r02, c14) = (m(&mut over, vec![0, 1]), m(&mut over, vec![1, 2, 3]));
        let (c02, c53) = (m(&mut over, vec![0, 1]), m(&mut over, vec![5, 3]));
        let (r13, c06) = (m(&mut over, vec![1, 2]), m(&mut over, (0..6).collect()));
        let (r05, c23) = (m(&mut over, (0..5).collect()), m(&mut over, vec![2, 3]));
        over.tiles.extend([
            tile(0, 1, 0, 0, r14, c04),
            tile(0, 2, 1, 2, r02, c14),
            tile(1, 2, 1, 0, r14, c02),
            tile(1, 0, 1, 4, r14, c53),
            tile(2, 1, 2, 0, r13, c06),
            tile(2, 0, 0, 3, r05, c23),
        ]);
        for tiles in [&cover, &over] {
            let out = host(paste_tiles(x.clone(), tiles, |_| {
                unreachable!("flex takes the fused path")
            }));
            assert_eq!(out, naive_paste(&v, dims, tiles), "cover: {}", tiles.cover);
        }
    }

    #[test]
    fn every_input_only_method_mixes_alike_fused_and_generic() {
        use crate::{
            BatchShape, MixConfig, MixRng, Mixer, MixupConfig, Needs, PairingSchedule,
            SamplePairingConfig,
        };
        let mut configs: Vec<MixConfig> = MixConfig::all_defaults()
            .into_iter()
            .filter(|c| *c != MixConfig::None && c.needs() == Needs::Nothing)
            .collect();
        configs.push(MixConfig::SamplePairing(
            SamplePairingConfig::new().with_schedule(PairingSchedule::always()),
        ));
        configs.push(MixConfig::Mixup(
            MixupConfig::new().with_lam_mode(crate::LamMode::PerSample),
        ));
        let (n, c, h, w) = (6, 3, 7, 9);
        let labels = Tensor::<1, Int>::arange(0..n as i64, &Device::flex());
        for config in &configs {
            let method = config.init().unwrap();
            for seed in 0..4 {
                let params = method
                    .sample(&mut MixRng::from_seed(seed), BatchShape::new(n, c, h, w))
                    .unwrap();
                let run = || {
                    method
                        .apply(&params, batch(n, c, h, w), labels.clone())
                        .unwrap()
                        .images
                };
                let (fused, generic) = both(run);
                let worst = fused
                    .iter()
                    .zip(&generic)
                    .map(|(a, b)| (a - b).abs())
                    .fold(0.0, f32::max);
                if worst > 1e-6 {
                    for (k, (a, b)) in fused.iter().zip(&generic).enumerate() {
                        if (a - b).abs() > 1e-6 {
                            eprintln!(
                                "DBG {k} i{} c{} y{} x{} {a} {b}",
                                k / (c * h * w),
                                k / (h * w) % c,
                                k / w % h,
                                k % w
                            );
                        }
                    }
                    eprintln!("{params:?}");
                }
                assert!(worst <= 1e-6, "{}: seed {seed}: {worst}", config.label());
            }
        }
    }
}
