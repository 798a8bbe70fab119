//! Deploy and config markers for the timeline: when a `*_build_info`, a `*revision*` metric or
//! `kube_deployment_status_observed_generation` changed value, or a new series of one appeared
//! (a new version's labels), inside the investigated range.
//!
//! One `metric_names` call, then one `changes(NAME[step])` range query per matching name (at
//! most [`MAX_NAMES`], said when more match). Failures become warnings: markers are context,
//! never a reason for the report to fail.

use crate::report::timeline::TimelineEntry;
use crate::report::{Instant, Report};
use crate::source::Metrics;

/// Marker metrics queried at most.
pub const MAX_NAMES: usize = 10;
/// Markers per metric at most (a flapping revision would flood the timeline).
const MAX_PER_NAME: usize = 3;

/// Whether a metric name marks deploys or config changes.
pub fn is_marker_name(name: &str) -> bool {
    name.ends_with("_build_info")
        || name.contains("revision")
        || name == "kube_deployment_status_observed_generation"
}

/// The marker events of one metric's `changes(NAME[step])` series over `start..`: the first
/// grid point of a series after `start` (a new series: new labels, a new version), and every
/// point where the value changed.
pub fn events(
    name: &str,
    series: &[crate::model::Series],
    start: f64,
    step: f64,
) -> Vec<TimelineEntry> {
    let mut out = Vec::new();
    for s in series {
        let what = if s.labels.is_empty() {
            name.to_string()
        } else {
            format!("{name}{}", crate::model::display_labels(&s.labels))
        };
        let mut found = 0;
        if let Some(&(t, _)) = s.points.first()
            && t > start + step
        {
            out.push(entry(
                t,
                format!("{what} appeared (a deploy or config change)"),
                name,
            ));
            found += 1;
        }
        for &(t, v) in &s.points {
            if found >= MAX_PER_NAME {
                break;
            }
            if v > 0.0 && v.is_finite() {
                out.push(entry(
                    t,
                    format!("{what} changed (a deploy or config change)"),
                    name,
                ));
                found += 1;
            }
        }
    }
    out
}

fn entry(at: f64, text: String, name: &str) -> TimelineEntry {
    TimelineEntry {
        at: Instant::from_unix(at).rfc3339.to_string(),
        at_unix: at,
        kind: "deploy_marker".into(),
        text,
        evidence: format!("metrics: changes({name}[step])"),
    }
}

/// Looks the markers up for the report's range; returns them and the warnings to add.
pub async fn find(metrics: &Metrics, report: &Report) -> (Vec<TimelineEntry>, Vec<String>) {
    let w = &report.window;
    let (start, end, step) = (w.baseline_since_unix, w.until_unix, w.step_seconds.max(1.0));
    let mut warnings = Vec::new();
    let names = match metrics.metric_names(None, start, end).await {
        Ok(names) => names,
        Err(e) => {
            warnings.push(format!("deploy markers: cannot list metric names: {e}"));
            return (Vec::new(), warnings);
        }
    };
    let mut names: Vec<String> = names.into_iter().filter(|n| is_marker_name(n)).collect();
    names.sort();
    if names.len() > MAX_NAMES {
        warnings.push(format!(
            "deploy markers: {} metrics match, the first {MAX_NAMES} were queried",
            names.len()
        ));
        names.truncate(MAX_NAMES);
    }
    let mut out = Vec::new();
    for name in &names {
        let q = format!("changes({name}[{}s])", step.ceil() as u64);
        match metrics.query_range(&q, start, end, step).await {
            Ok(series) => out.extend(events(name, &series, start, step)),
            Err(e) => warnings.push(format!("deploy markers: {q}: {e}")),
        }
    }
    (out, warnings)
}

/// Adds the markers to the timeline, in time order (markers after other events at the same
/// instant).
pub fn merge(timeline: &mut Vec<TimelineEntry>, markers: Vec<TimelineEntry>) {
    timeline.extend(markers);
    timeline.sort_by(|a, b| a.at_unix.total_cmp(&b.at_unix));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Series;

    #[test]
    fn marker_names_are_build_info_revisions_and_deployment_generations() {
        for n in [
            "prometheus_build_info",
            "argocd_app_revision",
            "kube_deployment_status_observed_generation",
            "config_revision_total",
        ] {
            assert!(is_marker_name(n), "{n}");
        }
        for n in [
            "http_requests_total",
            "build_info_total",
            "kube_deployment_spec_replicas",
        ] {
            assert!(!is_marker_name(n), "{n}");
        }
    }

    #[test]
    fn a_change_and_a_new_series_are_markers_a_steady_series_is_not() {
        let labels = |v: &str| {
            [("version".to_string(), v.to_string())]
                .into_iter()
                .collect()
        };
        let series = vec![
            // v1 from the start: changed once at 160.
            Series {
                labels: labels("1.0"),
                points: vec![(100.0, 0.0), (130.0, 0.0), (160.0, 1.0), (190.0, 0.0)],
            },
            // v2 appears at 190.
            Series {
                labels: labels("2.0"),
                points: vec![(190.0, 0.0), (220.0, 0.0)],
            },
            // steady
            Series {
                labels: labels("0.9"),
                points: vec![(100.0, 0.0), (130.0, 0.0)],
            },
        ];
        let ev = events("shop_build_info", &series, 100.0, 30.0);
        assert_eq!(ev.len(), 2, "{ev:?}");
        assert_eq!(ev[0].at_unix, 160.0);
        assert!(
            ev[0]
                .text
                .contains(r#"shop_build_info{version="1.0"} changed"#),
            "{}",
            ev[0].text
        );
        assert_eq!(ev[1].at_unix, 190.0);
        assert!(
            ev[1].text.contains(r#"version="2.0"} appeared"#),
            "{}",
            ev[1].text
        );
        assert!(ev.iter().all(|e| e.kind == "deploy_marker"));

        let mut timeline = vec![entry(170.0, "onset".into(), "x")];
        merge(&mut timeline, ev);
        let at: Vec<f64> = timeline.iter().map(|e| e.at_unix).collect();
        assert_eq!(at, [160.0, 170.0, 190.0]);
    }
}
