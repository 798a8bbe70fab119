//! From ranked metrics to suspected services: the question an on-call
//! engineer asks first, and the unit public root-cause benchmarks score.
//!
//! Pure computation, no I/O. A service ranks where its best candidate ranks
//! (its score is that candidate's), and keeps its candidates as evidence, so
//! a service is never placed by a number the report does not show.

use serde::Serialize;

use super::rank::Evidence;

/// One suspected service.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SuspectedService {
    /// 1 = most likely.
    pub rank: usize,
    pub service: String,
    /// The score of its best candidate (`Evidence::score`).
    pub score: f64,
    /// Whether its best candidate is significant.
    pub significant: bool,
    /// Ranks (`Evidence::rank`) of its candidates, best first.
    pub evidence: Vec<usize>,
}

/// Groups `ranked` (in rank order) by `service_of(candidate index)`;
/// candidates without a service are left out.
pub fn suspected_services(
    ranked: &[Evidence],
    service_of: impl Fn(usize) -> Option<String>,
) -> Vec<SuspectedService> {
    let mut out: Vec<SuspectedService> = Vec::new();
    for e in ranked {
        let Some(service) = service_of(e.index) else {
            continue;
        };
        match out.iter_mut().find(|s| s.service == service) {
            Some(s) => s.evidence.push(e.rank),
            None => out.push(SuspectedService {
                rank: out.len() + 1,
                service,
                score: e.score,
                significant: e.significant,
                evidence: vec![e.rank],
            }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::rank::Timing;
    use super::*;

    fn row(index: usize, rank: usize, score: f64) -> Evidence {
        Evidence {
            index,
            rank,
            change: None,
            correlation: None,
            skipped: None,
            q_value: f64::NAN,
            timing: Timing::Leads,
            lead_steps: Some(1),
            significant: rank == 1,
            score,
        }
    }

    #[test]
    fn a_service_ranks_where_its_best_candidate_ranks() {
        let ranked = vec![
            row(2, 1, 5.0),
            row(0, 2, 4.0),
            row(1, 3, 3.0),
            row(3, 4, 1.0),
        ];
        let services = ["db", "checkout", "db", "unknown"];
        let out = suspected_services(&ranked, |i| {
            (services[i] != "unknown").then(|| services[i].to_string())
        });
        assert_eq!(out.len(), 2);
        assert_eq!(
            out[0],
            SuspectedService {
                rank: 1,
                service: "db".into(),
                score: 5.0,
                significant: true,
                evidence: vec![1, 2],
            }
        );
        assert_eq!(out[1].service, "checkout");
        assert_eq!(out[1].rank, 2);
        assert_eq!(out[1].evidence, vec![3]);
        assert!(suspected_services(&[], |_| None).is_empty());
    }
}
