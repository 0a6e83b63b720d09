//! Masks built line by line on the host: every line (row `y` of channel `c` of sample `i`)
//! is one of a few `W`-long weight patterns, kept as runs of lines sharing a pattern
//! (boxes, splits, quadrants and per-sample λ need two patterns per sample and a few runs).
//! Per-line host data, never per-pixel; one upload and one `select` make the tensor.

use burn::prelude::*;

/// A weight mask whose every line is one of a small set of `W`-long patterns, stored as
/// runs of lines over samples, then channels if per-channel, then rows.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LineMask {
    width: usize,
    /// Every pattern, one line each.
    patterns: Vec<f32>,
    /// Runs of lines: (pattern id, number of lines); a run may reach over several samples.
    runs: Vec<(u32, usize)>,
    per_channel: bool,
}

impl LineMask {
    /// An empty mask for lines of `width` pixels.
    pub fn new(width: usize) -> Self {
        Self {
            width,
            patterns: Vec::new(),
            runs: Vec::new(),
            per_channel: false,
        }
    }

    /// Adds a pattern of `width` weights; returns its id.
    pub fn pattern(&mut self, weights: impl IntoIterator<Item = f32>) -> u32 {
        let id = self.patterns.len() / self.width.max(1);
        let start = self.patterns.len();
        self.patterns.extend(weights);
        debug_assert_eq!(self.patterns.len(), start + self.width);
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

    /// Appends `count` lines of `pattern` (lines run over samples, then channels if
    /// per-channel, then rows); a run continuing the last one's pattern extends it.
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
        self.patterns.iter().all(|&m| m == 0.0 || m == 1.0)
    }

    /// How many lines the runs hold.
    fn num_lines(&self) -> usize {
        self.runs.iter().map(|&(_, lines)| lines).sum()
    }

    /// The mask as a device tensor: the patterns uploaded once and selected line by line.
    ///
    /// # Shapes
    /// - output: `[N, 1, H, W]`, or `[N, C, H, W]` with per-channel lines
    pub fn to_tensor(&self, n: usize, c: usize, h: usize, device: &Device) -> Tensor<4> {
        let p = self.patterns.len() / self.width.max(1);
        let patterns = Tensor::<2>::from_data(
            TensorData::new(self.patterns.clone(), [p, self.width]),
            device,
        );
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

#[cfg(test)]
mod tests {
    use super::*;

    fn host(t: Tensor<4>) -> Vec<f32> {
        t.into_data().try_to_vec::<f32>().unwrap()
    }

    #[test]
    fn line_masks_merge_runs_and_select_their_patterns() {
        let (n, h, w) = (2, 3, 4);
        let mut mask = LineMask::new(w);
        let left = mask.span(0..1, 1.0, 0.0);
        let soft = mask.span(0..1, 0.5, 0.0);
        assert_ne!(soft, left);
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
    }
}
