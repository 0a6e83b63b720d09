//! Claims a table's seeds can test: "row A ≥ row B", judged by the paired difference of
//! their per-seed statistics and its 95 % Student-t interval.
//!
//! Every cell of a table runs the same seeds, and a seed fixes the model initialisation
//! and the data order whatever the method (see [`crate::experiment`]), so seed `s` of row
//! A and seed `s` of row B form a pair. With the differences `d_s = A_s − B_s` over the
//! `n` seeds both cells ran, the interval is `mean(d) ± t(0.975, n − 1) · sd(d) / √n`.
//! The claim *holds* when the interval lies above 0, is *contradicted* when it lies below
//! 0, and is *not shown* when it crosses 0 (or fewer than two seeds pair up).
//!
//! In a table file:
//!
//! ```toml
//! [[claims]]
//! better = "CutMix+SUMix"      # row names
//! than = "CutMix"
//! source = "SUMix (ECCV 2024), its main claim"
//! # column = "ResNet-18"       # optional: one column; default every column
//! ```

use std::fmt;

use serde::Deserialize;

use crate::experiment::mean_std;

/// "Row `better` is at least as accurate as row `than`" (in every column, or one).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claim {
    /// The row claimed to be at least as good.
    pub better: String,
    /// The row it is compared with.
    pub than: String,
    /// Only this column. Default: every column.
    #[serde(default)]
    pub column: Option<String>,
    /// Who claims it (paper, table).
    pub source: String,
}

/// The paired difference of two cells over their common seeds, in points.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PairedDifference {
    /// Seeds that pair up.
    pub n: usize,
    /// Mean difference (better − than).
    pub mean: f64,
    /// Lower end of the 95 % interval (NaN for fewer than two pairs).
    pub low: f64,
    /// Upper end of the 95 % interval (NaN for fewer than two pairs).
    pub high: f64,
}

/// What the seeds say of a claim.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The interval lies above 0.
    Holds,
    /// The interval contains 0, or there are fewer than two pairs.
    NotShown,
    /// The interval lies below 0.
    Contradicted,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Holds => "holds",
            Verdict::NotShown => "not shown",
            Verdict::Contradicted => "contradicted",
        })
    }
}

/// Two-sided 95 % quantiles of Student's t, `t(0.975, df)` for df = 1..=30 (the
/// standard table, e.g. NIST/SEMATECH e-Handbook §1.3.6.7.2).
const T975: [f64; 30] = [
    12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
    2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
    2.052, 2.048, 2.045, 2.042,
];

/// `t(0.975, df)`: the table up to 30 degrees of freedom, beyond it the Cornish–Fisher
/// expansion around the normal quantile 1.959964 (within 5e-5 of the exact value there).
pub fn t975(df: usize) -> f64 {
    assert!(df > 0, "t(0.975, df) needs df ≥ 1");
    if df <= T975.len() {
        return T975[df - 1];
    }
    let (z, v) = (1.959_964f64, df as f64);
    z + (z.powi(3) + z) / (4.0 * v)
        + (5.0 * z.powi(5) + 16.0 * z.powi(3) + 3.0 * z) / (96.0 * v * v)
}

impl PairedDifference {
    /// The difference of `better` and `than`, `(seed, statistic)` each, over the seeds
    /// both hold with a finite statistic (in `better`'s order); with none, the mean is NaN.
    pub fn of(better: &[(u64, f64)], than: &[(u64, f64)]) -> Self {
        let d: Vec<f64> = better
            .iter()
            .filter_map(|(seed, a)| than.iter().find(|(s, _)| s == seed).map(|(_, b)| a - b))
            .filter(|d| d.is_finite())
            .collect();
        let n = d.len();
        // mean_std: the sample standard deviation every report prints.
        let (mean, sd) = mean_std(&d);
        let half = if n < 2 {
            f64::NAN
        } else {
            t975(n - 1) * sd / (n as f64).sqrt()
        };
        Self {
            n,
            mean,
            low: mean - half,
            high: mean + half,
        }
    }

    /// The verdict on "better ≥ than".
    pub fn verdict(&self) -> Verdict {
        if self.low > 0.0 {
            Verdict::Holds
        } else if self.high < 0.0 {
            Verdict::Contradicted
        } else {
            Verdict::NotShown
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_differences_by_hand() {
        // Differences 1, 2, 3 (seed 9 of `better` has no partner): mean 2, sd 1,
        // half-width t(0.975, 2)·1/√3 = 4.303/1.7320508 = 2.48434.
        let better = [(0, 81.0), (1, 82.0), (2, 83.0), (9, 50.0)];
        let than = [(2, 80.0), (1, 80.0), (0, 80.0)];
        let d = PairedDifference::of(&better, &than);
        assert_eq!(d.n, 3);
        assert!((d.mean - 2.0).abs() < 1e-12);
        assert!((d.low - (2.0 - 2.48434)).abs() < 1e-5, "{d:?}");
        assert!((d.high - (2.0 + 2.48434)).abs() < 1e-5, "{d:?}");
        assert_eq!(d.verdict(), Verdict::NotShown);
    }

    #[test]
    fn verdicts_follow_the_interval() {
        // Differences 2.0, 2.2, 1.8: mean 2, sd 0.2, half 4.303·0.2/√3 = 0.4969 → holds.
        let a = [(0, 82.0), (1, 82.2), (2, 81.8)];
        let b = [(0, 80.0), (1, 80.0), (2, 80.0)];
        assert_eq!(PairedDifference::of(&a, &b).verdict(), Verdict::Holds);
        assert_eq!(
            PairedDifference::of(&b, &a).verdict(),
            Verdict::Contradicted
        );
        // One pair: no interval, nothing shown.
        let one = PairedDifference::of(&a[..1], &b);
        assert_eq!((one.n, one.verdict()), (1, Verdict::NotShown));
        assert!(one.low.is_nan());
        // A NaN statistic (a diverged seed) does not pair; no pairs at all: nothing shown.
        let nan = PairedDifference::of(&[(0, f64::NAN), (1, 82.2), (2, 81.8)], &b);
        assert_eq!(nan.n, 2);
        let none = PairedDifference::of(&a, &[(7, 80.0)]);
        assert_eq!((none.n, none.verdict()), (0, Verdict::NotShown));
        assert!(none.mean.is_nan());
    }

    #[test]
    fn t_quantiles_match_the_table_and_the_limit() {
        assert_eq!(t975(1), 12.706);
        assert_eq!(t975(4), 2.776);
        // Exact values: t(0.975, 40) = 2.02108, t(0.975, 120) = 1.97993.
        assert!((t975(40) - 2.02108).abs() < 5e-5, "{}", t975(40));
        assert!((t975(120) - 1.97993).abs() < 1e-4, "{}", t975(120));
    }
}
