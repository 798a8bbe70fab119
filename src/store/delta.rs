//! Delta → cumulative: the running totals of delta streams (sums, explicit and exponential
//! histograms), kept in `delta_state` by the metrics ingest in the same transaction as the
//! samples, and the conversion of exponential buckets to explicit `le` bounds. Pure arithmetic:
//! no SQLite here.

use serde::{Deserialize, Serialize};

/// Delta exponential histograms are merged at a scale that keeps at most this many buckets.
const MAX_EXP_BUCKETS: i64 = 4096;

/// Running totals of a delta stream. Floats are kept as bits: JSON has no NaN.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub(crate) enum DeltaState {
    Sum {
        value_bits: u64,
    },
    Histogram {
        bounds: Vec<f64>,
        counts: Vec<u64>,
        count: u64,
        sum_bits: Option<u64>,
    },
    Exponential(ExpState),
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Dense {
    pub offset: i64,
    pub counts: Vec<u64>,
}

impl Dense {
    /// The same buckets at a scale `by` steps coarser: index i becomes i >> by.
    fn downscale(&self, by: u32) -> Dense {
        if by == 0 || self.counts.is_empty() {
            return Dense {
                offset: self.offset >> by.min(62),
                counts: self.counts.clone(),
            };
        }
        let by = by.min(62);
        let first = self.offset >> by;
        let last = (self.offset + self.counts.len() as i64 - 1) >> by;
        let mut counts = vec![0u64; (last - first + 1) as usize];
        for (k, &c) in self.counts.iter().enumerate() {
            let idx = ((self.offset + k as i64) >> by) - first;
            counts[idx as usize] = counts[idx as usize].saturating_add(c);
        }
        Dense {
            offset: first,
            counts,
        }
    }

    fn span(a: &Dense, b: &Dense) -> i64 {
        let ranges: Vec<(i64, i64)> = [a, b]
            .iter()
            .filter(|d| !d.counts.is_empty())
            .map(|d| (d.offset, d.offset + d.counts.len() as i64))
            .collect();
        let lo = ranges.iter().map(|r| r.0).min().unwrap_or(0);
        let hi = ranges.iter().map(|r| r.1).max().unwrap_or(0);
        hi - lo
    }

    fn add(&self, other: &Dense) -> Dense {
        if self.counts.is_empty() {
            return other.clone();
        }
        if other.counts.is_empty() {
            return self.clone();
        }
        let lo = self.offset.min(other.offset);
        let hi =
            (self.offset + self.counts.len() as i64).max(other.offset + other.counts.len() as i64);
        let mut counts = vec![0u64; (hi - lo) as usize];
        for d in [self, other] {
            for (k, &c) in d.counts.iter().enumerate() {
                let i = (d.offset - lo) as usize + k;
                counts[i] = counts[i].saturating_add(c);
            }
        }
        Dense { offset: lo, counts }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct ExpState {
    pub scale: i32,
    pub zero_threshold_bits: u64,
    pub zero_count: u64,
    pub positive: Dense,
    pub negative: Dense,
    pub count: u64,
    pub sum_bits: Option<u64>,
}

impl ExpState {
    /// Adds a delta point to the running total, at the coarser of the two scales (coarser
    /// still if the result would have more than `MAX_EXP_BUCKETS` buckets).
    pub(crate) fn merge(self, new: ExpState) -> ExpState {
        let mut scale = self.scale.min(new.scale);
        loop {
            let a = (self.scale - scale) as u32;
            let b = (new.scale - scale) as u32;
            let pos = (self.positive.downscale(a), new.positive.downscale(b));
            let neg = (self.negative.downscale(a), new.negative.downscale(b));
            let fits = Dense::span(&pos.0, &pos.1) <= MAX_EXP_BUCKETS
                && Dense::span(&neg.0, &neg.1) <= MAX_EXP_BUCKETS;
            if fits || scale <= -10 {
                let zt = f64::from_bits(self.zero_threshold_bits)
                    .max(f64::from_bits(new.zero_threshold_bits));
                return ExpState {
                    scale,
                    zero_threshold_bits: zt.to_bits(),
                    zero_count: self.zero_count.saturating_add(new.zero_count),
                    positive: pos.0.add(&pos.1),
                    negative: neg.0.add(&neg.1),
                    count: self.count.saturating_add(new.count),
                    sum_bits: match (self.sum_bits, new.sum_bits) {
                        (Some(a), Some(b)) => {
                            Some((f64::from_bits(a) + f64::from_bits(b)).to_bits())
                        }
                        (a, b) => a.or(b),
                    },
                };
            }
            scale -= 1;
        }
    }

    /// The buckets as explicit (upper bound, count) pairs in increasing bound order: negative
    /// buckets (`le` = their upper end, −base^i), the zero bucket (`le` = zero threshold), then
    /// positive buckets (`le` = base^(i+1)). Buckets whose bound overflows go to `+Inf`.
    pub(crate) fn explicit_buckets(&self) -> Vec<(f64, u64)> {
        let bound = |index: i64| -> f64 { (index as f64 * (-f64::from(self.scale)).exp2()).exp2() };
        let mut out =
            Vec::with_capacity(self.negative.counts.len() + self.positive.counts.len() + 1);
        for (k, &c) in self.negative.counts.iter().enumerate().rev() {
            let b = -bound(self.negative.offset + k as i64);
            if b.is_finite() {
                out.push((b, c));
            } else {
                // Below −f64::MAX: counted in the first finite bucket.
                out.push((f64::MIN, c));
            }
        }
        out.push((f64::from_bits(self.zero_threshold_bits), self.zero_count));
        for (k, &c) in self.positive.counts.iter().enumerate() {
            let b = bound(self.positive.offset + k as i64 + 1);
            if b.is_finite() {
                out.push((b, c));
            }
        }
        // Equal or out-of-order bounds (extreme offsets) fold into the previous bucket.
        let mut merged: Vec<(f64, u64)> = Vec::with_capacity(out.len());
        for (b, c) in out {
            match merged.last_mut() {
                Some(last) if b <= last.0 => last.1 = last.1.saturating_add(c),
                _ => merged.push((b, c)),
            }
        }
        merged
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exponential_buckets_become_explicit_bounds() {
        // scale 0: base 2; positive offset 0 → buckets (1,2], (2,4]; negative offset 1 → [-4,-2).
        let h = ExpState {
            scale: 0,
            zero_threshold_bits: 0f64.to_bits(),
            zero_count: 1,
            positive: Dense {
                offset: 0,
                counts: vec![2, 3],
            },
            negative: Dense {
                offset: 1,
                counts: vec![4],
            },
            count: 10,
            sum_bits: None,
        };
        assert_eq!(
            h.explicit_buckets(),
            vec![(-2.0, 4), (0.0, 1), (2.0, 2), (4.0, 3)]
        );
    }

    #[test]
    fn delta_exponential_histograms_merge_at_the_coarser_scale() {
        let a = ExpState {
            scale: 1,
            zero_threshold_bits: 0,
            zero_count: 0,
            positive: Dense {
                offset: 0,
                counts: vec![1, 1, 1, 1],
            },
            negative: Dense::default(),
            count: 4,
            sum_bits: Some(1f64.to_bits()),
        };
        let b = ExpState {
            scale: 0,
            zero_threshold_bits: 0,
            zero_count: 2,
            positive: Dense {
                offset: 1,
                counts: vec![5],
            },
            negative: Dense::default(),
            count: 7,
            sum_bits: Some(2f64.to_bits()),
        };
        let m = a.merge(b);
        assert_eq!(m.scale, 0);
        // scale-1 indexes 0..4 → scale-0 indexes 0,0,1,1; plus 5 at index 1.
        assert_eq!(m.positive.offset, 0);
        assert_eq!(m.positive.counts, vec![2, 7]);
        assert_eq!(m.zero_count, 2);
        assert_eq!(m.count, 11);
        assert_eq!(m.sum_bits.map(f64::from_bits), Some(3.0));
    }
}
