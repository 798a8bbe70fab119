//! Which log patterns are new in an incident, or logged much more often than before it.
//!
//! Both windows' lines are grouped by one templater (so a pattern is the same pattern in
//! both), counted per window, and each pattern's incident count is tested against its baseline
//! count with the exact conditional test for two Poisson rates: given `n = a + b` lines of the
//! pattern in both windows, under "the rate did not change" the incident's share `a` is
//! Binomial(n, T_incident / (T_incident + T_baseline)), so `p = P(X ≥ a)`. A pattern never
//! seen in the baseline has `p = share^a`: one new line in a short window is weak evidence,
//! twenty are strong. p-values are corrected with Benjamini–Hochberg across the patterns.
//!
//! Pure: takes lines (time, service, trace id, body), returns values.

use std::collections::{BTreeMap, BTreeSet};

use statrs::distribution::{Binomial, DiscreteCDF};

use super::{Options, Templater};
use crate::analysis::correlate::benjamini_hochberg;

/// One log line of either window.
#[derive(Debug, Clone, Copy)]
pub struct Line<'a> {
    pub unix_nano: i64,
    pub service: Option<&'a str>,
    pub trace_id: Option<&'a str>,
    pub body: &'a str,
}

/// How a pattern changed from the baseline to the incident.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Change {
    /// Not in the baseline.
    New,
    /// At least twice the baseline's rate, and significant (q < 0.05).
    Jumped,
    /// In both, without a significant rise.
    Steady,
    /// In the baseline only.
    Gone,
}

impl Change {
    pub fn as_str(self) -> &'static str {
        match self {
            Change::New => "new",
            Change::Jumped => "jumped",
            Change::Steady => "steady",
            Change::Gone => "gone",
        }
    }
}

/// One pattern of the two windows.
#[derive(Debug, Clone)]
pub struct Compared {
    pub id: String,
    pub template: String,
    /// The first incident line of the pattern (or baseline, for a pattern that is gone).
    pub example: String,
    pub change: Change,
    pub baseline_count: u64,
    pub incident_count: u64,
    /// Lines per minute in each window.
    pub baseline_rate: f64,
    pub incident_rate: f64,
    /// The one-sided exact test of "the incident rate is no higher" (1 for a gone pattern).
    pub p_value: f64,
    pub q_value: f64,
    /// Services that logged it in the incident window, sorted.
    pub services: Vec<String>,
    /// The first incident line's time, unix nanoseconds.
    pub first_seen_unix_nano: Option<i64>,
    /// Distinct trace ids of its incident lines, in order of first appearance, at most
    /// `max_trace_ids`.
    pub trace_ids: Vec<String>,
    /// Distinct trace ids in all.
    pub trace_count: usize,
}

/// Groups and compares; `*_seconds` are the windows' lengths (for the rates). Sorted: new,
/// then jumped, then steady, then gone; within each by q-value, then by incident count.
pub fn compare(
    baseline: &[Line<'_>],
    baseline_seconds: f64,
    incident: &[Line<'_>],
    incident_seconds: f64,
    max_trace_ids: usize,
) -> Vec<Compared> {
    let mut t = Templater::new(Options::default());
    let base_assigned: Vec<_> = baseline.iter().map(|l| t.add_str(l.body)).collect();
    let inc_assigned: Vec<_> = incident.iter().map(|l| t.add_str(l.body)).collect();
    let g = t.finish();

    #[derive(Default)]
    struct Acc {
        base: u64,
        inc: u64,
        services: BTreeSet<String>,
        first: Option<(i64, usize)>,
        first_base: Option<usize>,
        traces: Vec<String>,
        trace_set: BTreeSet<String>,
    }
    let mut acc: BTreeMap<usize, Acc> = BTreeMap::new();
    for (i, a) in base_assigned.iter().enumerate() {
        if let Some(p) = g.pattern_index(*a) {
            let e = acc.entry(p).or_default();
            e.base += 1;
            e.first_base.get_or_insert(i);
        }
    }
    for (i, (line, a)) in incident.iter().zip(&inc_assigned).enumerate() {
        let Some(p) = g.pattern_index(*a) else {
            continue;
        };
        let e = acc.entry(p).or_default();
        e.inc += 1;
        if let Some(s) = line.service {
            e.services.insert(s.to_string());
        }
        if e.first.is_none_or(|(ts, _)| line.unix_nano < ts) {
            e.first = Some((line.unix_nano, i));
        }
        if let Some(id) = line.trace_id.filter(|id| !id.is_empty())
            && e.trace_set.insert(id.to_string())
            && e.traces.len() < max_trace_ids
        {
            e.traces.push(id.to_string());
        }
    }

    let tb = baseline_seconds.max(1e-9);
    let ti = incident_seconds.max(1e-9);
    let share = ti / (ti + tb);
    let mut out: Vec<Compared> = acc
        .into_iter()
        .map(|(p, e)| {
            let pattern = &g.patterns[p];
            let p_value = if e.inc == 0 {
                1.0
            } else {
                rise_p_value(e.inc, e.base, share)
            };
            let example = match (e.first, e.first_base) {
                (Some((_, i)), _) => incident[i].body,
                (None, Some(i)) => baseline[i].body,
                (None, None) => pattern.example.as_str(),
            };
            Compared {
                id: pattern.id.clone(),
                template: pattern.template.clone(),
                example: super::example_of(example, Options::default().example_bytes),
                change: Change::Steady,
                baseline_count: e.base,
                incident_count: e.inc,
                baseline_rate: e.base as f64 * 60.0 / tb,
                incident_rate: e.inc as f64 * 60.0 / ti,
                p_value,
                q_value: 1.0,
                services: e.services.into_iter().collect(),
                first_seen_unix_nano: e.first.map(|(ts, _)| ts),
                trace_ids: e.traces,
                trace_count: e.trace_set.len(),
            }
        })
        .collect();
    let q = benjamini_hochberg(&out.iter().map(|c| c.p_value).collect::<Vec<_>>());
    for (c, q) in out.iter_mut().zip(q) {
        c.q_value = q;
        c.change = match (c.baseline_count, c.incident_count) {
            (0, _) => Change::New,
            (_, 0) => Change::Gone,
            _ if q < 0.05 && c.incident_rate >= 2.0 * c.baseline_rate => Change::Jumped,
            _ => Change::Steady,
        };
    }
    out.sort_by(|a, b| {
        a.change
            .cmp(&b.change)
            .then(a.q_value.total_cmp(&b.q_value))
            .then(b.incident_count.cmp(&a.incident_count))
            .then_with(|| a.template.cmp(&b.template))
    });
    out
}

/// P(X ≥ a) for X ~ Binomial(a + b, share).
fn rise_p_value(a: u64, b: u64, share: f64) -> f64 {
    let n = a + b;
    if share >= 1.0 {
        return 1.0;
    }
    match Binomial::new(share, n) {
        Ok(d) => d.sf(a - 1).clamp(0.0, 1.0),
        Err(_) => 1.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line<'a>(t: i64, service: &'a str, trace: &'a str, body: &'a str) -> Line<'a> {
        Line {
            unix_nano: t,
            service: Some(service),
            trace_id: Some(trace),
            body,
        }
    }

    #[test]
    fn the_exact_test_matches_the_binomial_tail() {
        // Equal windows, 10 lines after and 0 before: P = 0.5^10.
        assert!((rise_p_value(10, 0, 0.5) - 0.5f64.powi(10)).abs() < 1e-12);
        // 6 after, 4 before in equal windows: P(X ≥ 6 | n = 10, 0.5) = 386/1024.
        assert!((rise_p_value(6, 4, 0.5) - 386.0 / 1024.0).abs() < 1e-9);
        assert_eq!(rise_p_value(1, 0, 1.0), 1.0);
    }

    #[test]
    fn a_new_pattern_is_marked_new_with_its_services_first_line_and_traces() {
        let baseline: Vec<Line> = (0..20)
            .map(|i| line(i, "checkout", "", "order placed in 30 ms"))
            .collect();
        let mut incident: Vec<Line> = (0..20)
            .map(|i| line(1000 + i, "checkout", "", "order placed in 900 ms"))
            .collect();
        let ids = ["aa01", "aa02", "aa03", "aa01"];
        for (i, id) in ids.iter().enumerate() {
            incident.push(line(
                2000 - i as i64,
                if i == 1 { "frontend" } else { "checkout" },
                id,
                "PoolTimeout: pool orders exhausted after 1500 ms",
            ));
        }
        let out = compare(&baseline, 600.0, &incident, 600.0, 2);
        let new = &out[0];
        assert_eq!(new.change, Change::New);
        assert_eq!(
            new.template,
            "PoolTimeout: pool orders exhausted after <*> ms"
        );
        assert_eq!((new.baseline_count, new.incident_count), (0, 4));
        assert_eq!(new.services, vec!["checkout", "frontend"]);
        assert_eq!(new.first_seen_unix_nano, Some(1997));
        assert_eq!(new.trace_ids, vec!["aa01", "aa02"]);
        assert_eq!(new.trace_count, 3);
        assert!((new.p_value - 0.5f64.powi(4)).abs() < 1e-12);
        let steady = &out[1];
        assert_eq!(steady.change, Change::Steady);
        assert_eq!((steady.baseline_count, steady.incident_count), (20, 20));
        assert!((steady.incident_rate - 2.0).abs() < 1e-9);
    }

    #[test]
    fn a_pattern_whose_rate_jumped_is_told_apart_from_noise() {
        let mut baseline = Vec::new();
        let mut incident = Vec::new();
        for i in 0..5 {
            baseline.push(line(i, "cart", "", "retrying request to inventory"));
        }
        for i in 0..60 {
            incident.push(line(i, "cart", "", "retrying request to inventory"));
        }
        for i in 0..10 {
            baseline.push(line(i, "cart", "", "cache refresh took 3 s"));
        }
        for i in 0..13 {
            incident.push(line(i, "cart", "", "cache refresh took 4 s"));
        }
        let only_before = [line(0, "cart", "", "warming up")];
        baseline.extend(only_before);
        let out = compare(&baseline, 600.0, &incident, 600.0, 5);
        let by = |t: &str| out.iter().find(|c| c.template == t).expect(t);
        let retry = by("retrying request to inventory");
        assert_eq!(retry.change, Change::Jumped);
        assert!(retry.q_value < 1e-6, "{}", retry.q_value);
        assert_eq!(by("cache refresh took <*> s").change, Change::Steady);
        assert_eq!(by("warming up").change, Change::Gone);
        assert_eq!(out[0].template, "retrying request to inventory");
    }

    #[test]
    fn empty_windows_give_no_patterns() {
        assert!(compare(&[], 60.0, &[], 60.0, 5).is_empty());
    }
}
