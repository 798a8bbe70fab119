//! Pure statistics for `obs investigate`: spike detection on the symptom
//! series, lag-scanned correlation of candidate metrics against it, and the
//! ranking of candidates.
//!
//! This module does no I/O and keeps no state: every function takes
//! time-aligned `&[f64]` series (same step grid, `NaN` for a missing point,
//! non-finite values treated as missing) and returns plain values. It never
//! panics on odd input; degenerate series come back as a
//! [`correlate::Skip`] reason or a [`spike::SpikeOutcome`] variant.
//! The method is described for users in `docs/method.md`.

pub mod correlate;
pub mod patterns;
pub mod rank;
pub mod spantree;
pub mod spike;

/// Deterministic noise for the unit tests (no rand crate).
#[cfg(test)]
pub(crate) mod test_rng {
    /// xorshift64* generator.
    pub(crate) struct Rng(pub(crate) u64);

    impl Rng {
        /// Uniform in (0, 1).
        pub(crate) fn uniform(&mut self) -> f64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            let x = self.0.wrapping_mul(0x2545_F491_4F6C_DD1D);
            ((x >> 11) as f64 + 0.5) / (1u64 << 53) as f64
        }

        /// Standard normal via Box–Muller.
        pub(crate) fn normal(&mut self) -> f64 {
            let (u1, u2) = (self.uniform(), self.uniform());
            (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
        }

        /// Gaussian random walk of `n` points with unit steps.
        pub(crate) fn random_walk(&mut self, n: usize) -> Vec<f64> {
            let mut level = 0.0;
            (0..n)
                .map(|_| {
                    level += self.normal();
                    level
                })
                .collect()
        }

        /// `n` points of standard normal noise.
        pub(crate) fn noise(&mut self, n: usize) -> Vec<f64> {
            (0..n).map(|_| self.normal()).collect()
        }
    }
}
