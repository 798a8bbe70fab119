//! The span tree of one trace: parent links resolved, odd data found and handled, self times and
//! the critical path computed once at [`build`], then queried many times by the renderers
//! (`report::waterfall`, the TUI, investigate's trace summaries).
//!
//! Pure: it takes a [`Trace`] and returns values. No I/O, no terminal, and it never panics or
//! loops forever on bad data — every traversal is iterative (a 100 000-deep chain of spans is
//! fine) and every odd thing is kept, handled and reported as an [`Anomaly`]:
//!
//! - a span whose parent is not in the trace (an *orphan*) is shown under the root;
//! - a repeated span id keeps the first span and drops the rest;
//! - parent links that form a cycle are broken at the earliest-starting span of the cycle,
//!   which is then treated like an orphan;
//! - a child that starts before or ends after its parent (clock skew between hosts, or async
//!   work) is kept where it is, and clipped to the parent for self time and the critical path;
//! - a span that ends before it starts is treated as zero-length at its start;
//! - several spans without a parent: the earliest-starting (then longest) is *the* root, the
//!   others are shown as roots after it. With no parentless span at all, the root is chosen the
//!   same way among the orphans, and orphans that share its missing parent become roots too
//!   (they are its siblings, not its children).
//!
//! Definitions (the user-facing version is `docs/traces.md`):
//! - **self time**: the span's duration minus the union of its children's intervals, each
//!   clipped to the span — as Jaeger UI's trace statistics define it.
//! - **critical path**: Jaeger UI's algorithm (jaeger-ui
//!   `packages/jaeger-ui/src/components/TracePage/CriticalPath/index.ts`, 2023–): children are
//!   first clipped to their (clipped) parent and dropped with their subtree when entirely
//!   outside it; then, starting at the root's end, the path descends into the *last-finishing
//!   child*; a span with no (further) child is on the path from its start back to where the
//!   walk entered it, and the walk returns to its parent at the span's start, where it takes the
//!   child that finished last at or before that instant (and started before it), and so on until
//!   the root's start. "At or before" is the inclusive bound of Jaeger's Go port
//!   (`cmd/jaeger/internal/extension/jaegerquery/internal/mcptools/internal/criticalpath/find_lfc.go`,
//!   jaegertracing/jaeger#9173): jaeger-ui's strict `<` skips a sibling that ends exactly when the
//!   next one starts, which is common (and happens in our own recorded incident trace). Stretches
//!   of zero length are left out, as in Jaeger; a zero-length root is its own critical path.
//!   The walk is only over the root's tree (orphans included, since they are shown under it).

use std::cmp::Reverse;
use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::model::{Span, Trace};

/// One stretch of the critical path: span `span` itself (not one of its children) is what the
/// request was waiting for between `start_unix_nano` and `end_unix_nano`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CriticalSegment {
    /// Index into [`SpanTree::spans`].
    pub span: usize,
    pub start_unix_nano: i64,
    pub end_unix_nano: i64,
}

impl CriticalSegment {
    pub fn duration_nanos(&self) -> i64 {
        self.end_unix_nano.saturating_sub(self.start_unix_nano)
    }
}

/// Something odd in the trace data, and what was done about it. Serialized with a `kind` tag
/// (`"orphan"`, `"duplicate_span_id"`, …); [`Anomaly::message`] says it in a sentence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Anomaly {
    /// The span's parent is not in the trace (not received, dropped by sampling, or not yet
    /// flushed). Shown under the root, or as a root when the trace has no parentless span.
    Orphan {
        span_id: String,
        missing_parent: String,
        shown_as_root: bool,
    },
    /// Several spans carry the same span id: the first one is kept, `dropped` others are not
    /// in [`SpanTree::spans`]. `kept` names the kept span (`service operation`).
    DuplicateSpanId {
        span_id: String,
        kept: String,
        dropped: usize,
    },
    /// Parent links form a cycle (`span_ids` in parent order). The link of `broken_at` is
    /// ignored and that span is handled like an orphan.
    Cycle {
        span_ids: Vec<String>,
        broken_at: String,
    },
    /// The span starts before or ends after its parent by `by_nanos` (clock skew between hosts,
    /// or work that outlives its parent). Kept as it is; clipped to the parent for self time and
    /// the critical path.
    ChildOutsideParent {
        span_id: String,
        parent_id: String,
        by_nanos: i64,
    },
    /// The span starts and ends at the same instant.
    ZeroLength { span_id: String },
    /// The span ends `by_nanos` before it starts; treated as zero-length at its start.
    NegativeDuration { span_id: String, by_nanos: i64 },
    /// More than one span has no parent: `root` was chosen (earliest start, then longest), the
    /// `others` are shown as roots after it and are not on the critical path.
    MultipleRoots { root: String, others: Vec<String> },
}

impl Anomaly {
    /// The kind as serialized (`"orphan"`, …), for grouping.
    pub fn kind(&self) -> &'static str {
        match self {
            Anomaly::Orphan { .. } => "orphan",
            Anomaly::DuplicateSpanId { .. } => "duplicate_span_id",
            Anomaly::Cycle { .. } => "cycle",
            Anomaly::ChildOutsideParent { .. } => "child_outside_parent",
            Anomaly::ZeroLength { .. } => "zero_length",
            Anomaly::NegativeDuration { .. } => "negative_duration",
            Anomaly::MultipleRoots { .. } => "multiple_roots",
        }
    }

    /// What was odd and how it was handled, in one sentence.
    pub fn message(&self) -> String {
        match self {
            Anomaly::Orphan {
                span_id,
                missing_parent,
                shown_as_root,
            } => format!(
                "span {span_id}: its parent {missing_parent} is not in the trace; shown {}",
                if *shown_as_root {
                    "as a root (the trace has no root span)"
                } else {
                    "under the root"
                }
            ),
            Anomaly::DuplicateSpanId {
                span_id,
                kept,
                dropped,
            } => format!(
                "span id {span_id} appears {} times; kept the first ({kept}), dropped {dropped}",
                dropped.saturating_add(1)
            ),
            Anomaly::Cycle {
                span_ids,
                broken_at,
            } => format!(
                "parent links form a cycle ({}); broken at {broken_at}, whose parent link is ignored",
                span_ids.join(" → ")
            ),
            Anomaly::ChildOutsideParent {
                span_id,
                parent_id,
                by_nanos,
            } => format!(
                "span {span_id} runs {} outside its parent {parent_id} (clock skew or work that \
                 outlives its parent); kept, clipped to the parent for self time and critical path",
                format_nanos(*by_nanos)
            ),
            Anomaly::ZeroLength { span_id } => format!("span {span_id} has zero duration"),
            Anomaly::NegativeDuration { span_id, by_nanos } => format!(
                "span {span_id} ends {} before it starts; treated as zero-length",
                format_nanos(*by_nanos)
            ),
            Anomaly::MultipleRoots { root, others } => {
                const SHOWN: usize = 3;
                let mut list = others
                    .iter()
                    .take(SHOWN)
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ");
                if others.len() > SHOWN {
                    list.push_str(&format!(", … {} more", others.len() - SHOWN));
                }
                format!(
                    "{} root spans; {root} (earliest start, then longest) is the root, the others \
                     ({list}) are shown as roots after it and left off the critical path",
                    others.len().saturating_add(1)
                )
            }
        }
    }
}

/// A duration for people: `850ns`, `12.3µs`, `4.56ms`, `1.822s`, `2m03s`, `1h02m`.
pub fn format_nanos(nanos: i64) -> String {
    let sign = if nanos < 0 { "-" } else { "" };
    let n = nanos.unsigned_abs();
    let body = if n < 1_000 {
        format!("{n}ns")
    } else if n < 1_000_000 {
        format!("{}µs", three_digits(n as f64 / 1e3))
    } else if n < 1_000_000_000 {
        format!("{}ms", three_digits(n as f64 / 1e6))
    } else if n < 60_000_000_000 {
        format!("{}s", three_digits(n as f64 / 1e9))
    } else if n < 3_600_000_000_000 {
        let s = n / 1_000_000_000;
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        let m = n / 60_000_000_000;
        format!("{}h{:02}m", m / 60, m % 60)
    };
    format!("{sign}{body}")
}

/// About three significant digits, no trailing zeros: 1.82, 12.3, 456.
fn three_digits(x: f64) -> String {
    let s = if x < 10.0 {
        format!("{x:.2}")
    } else if x < 100.0 {
        format!("{x:.1}")
    } else {
        format!("{x:.0}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// The tree of one trace, with everything the renderers ask for computed once.
///
/// Span indices (`usize`) are positions in [`SpanTree::spans`], which holds the trace's spans
/// in their input order minus dropped duplicates.
#[derive(Debug, Clone)]
pub struct SpanTree {
    trace_id: String,
    spans: Vec<Span>,
    /// `max(start, end)`: a span that ends before it starts is zero-length at its start.
    end: Vec<i64>,
    /// The parent in the tree as shown (orphans point at the root).
    parent: Vec<Option<usize>>,
    /// Whether the span hangs under the root only because its own parent is missing (or its
    /// link was cut to break a cycle).
    adopted: Vec<bool>,
    child_off: Vec<usize>,
    child_list: Vec<usize>,
    roots: Vec<usize>,
    order: Vec<usize>,
    depth: Vec<usize>,
    self_time: Vec<i64>,
    critical: Vec<CriticalSegment>,
    /// The critical segments again, grouped by span (`by_span[by_span_off[i]..by_span_off[i+1]]`).
    by_span_off: Vec<usize>,
    by_span: Vec<CriticalSegment>,
    critical_nanos: Vec<i64>,
    on_critical: Vec<bool>,
    anomalies: Vec<Anomaly>,
    start: i64,
    finish: i64,
}

/// Builds the tree of `trace` (clones its spans; use [`SpanTree::from_trace`] to move them).
pub fn build(trace: &Trace) -> SpanTree {
    SpanTree::from_trace(trace.clone())
}

/// The parent id a span names, if any. Empty and all-zero ids mean "no parent": OTLP/JSON
/// exporters write `""` and Zipkin/Jaeger-derived data writes zeros for a root.
fn parent_ref(span: &Span) -> Option<&str> {
    span.parent_span_id
        .as_deref()
        .map(str::trim)
        .filter(|p| !p.is_empty() && !p.bytes().all(|b| b == b'0'))
}

fn label(span: &Span) -> String {
    format!("{} {}", span.service, span.name)
}

impl SpanTree {
    /// Builds the tree, taking ownership of the spans.
    pub fn from_trace(trace: Trace) -> SpanTree {
        let mut anomalies = Vec::new();

        // 1. Duplicate span ids: keep the first.
        let spans = {
            let input = &trace.spans;
            let mut first: HashMap<&str, usize> = HashMap::with_capacity(input.len());
            let mut keep = vec![true; input.len()];
            let mut dup_order: Vec<usize> = Vec::new();
            let mut dup_count: HashMap<usize, usize> = HashMap::new();
            for (i, s) in input.iter().enumerate() {
                match first.get(s.span_id.as_str()) {
                    Some(&f) => {
                        keep[i] = false;
                        let c = dup_count.entry(f).or_insert(0);
                        if *c == 0 {
                            dup_order.push(f);
                        }
                        *c += 1;
                    }
                    None => {
                        first.insert(s.span_id.as_str(), i);
                    }
                }
            }
            for f in dup_order {
                anomalies.push(Anomaly::DuplicateSpanId {
                    span_id: input[f].span_id.clone(),
                    kept: label(&input[f]),
                    dropped: dup_count.get(&f).copied().unwrap_or(0),
                });
            }
            if keep.iter().all(|k| *k) {
                trace.spans
            } else {
                trace
                    .spans
                    .into_iter()
                    .zip(keep)
                    .filter_map(|(s, k)| k.then_some(s))
                    .collect::<Vec<_>>()
            }
        };
        let n = spans.len();
        let end: Vec<i64> = spans
            .iter()
            .map(|s| s.end_unix_nano.max(s.start_unix_nano))
            .collect();

        // 2. Resolve parent links.
        let index: HashMap<&str, usize> = spans
            .iter()
            .enumerate()
            .map(|(i, s)| (s.span_id.as_str(), i))
            .collect();
        let mut link: Vec<Option<usize>> = spans
            .iter()
            .map(|s| parent_ref(s).and_then(|p| index.get(p).copied()))
            .collect();
        drop(index);
        let missing: Vec<bool> = spans
            .iter()
            .zip(&link)
            .map(|(s, l)| parent_ref(s).is_some() && l.is_none())
            .collect();

        // 3. Cycles: follow parent links iteratively; a link back into the current path closes
        // a cycle, which is cut at its earliest-starting member.
        let mut cut = vec![false; n];
        {
            let mut state = vec![0u8; n]; // 0 new, 1 on the current path, 2 done
            let mut path: Vec<usize> = Vec::new();
            for i in 0..n {
                if state[i] != 0 {
                    continue;
                }
                path.clear();
                let mut x = i;
                loop {
                    match state[x] {
                        2 => break,
                        1 => {
                            let pos = path.iter().position(|&p| p == x).unwrap_or(0);
                            let members = &path[pos..];
                            let at = members
                                .iter()
                                .copied()
                                .min_by_key(|&m| (spans[m].start_unix_nano, m))
                                .unwrap_or(x);
                            // Report the cycle starting at the cut span, in parent order.
                            let k = members.iter().position(|&m| m == at).unwrap_or(0);
                            let ids = members[k..]
                                .iter()
                                .chain(&members[..k])
                                .map(|&m| spans[m].span_id.clone())
                                .collect();
                            anomalies.push(Anomaly::Cycle {
                                span_ids: ids,
                                broken_at: spans[at].span_id.clone(),
                            });
                            link[at] = None;
                            cut[at] = true;
                            break;
                        }
                        _ => {}
                    }
                    state[x] = 1;
                    path.push(x);
                    match link[x] {
                        Some(p) => x = p,
                        None => break,
                    }
                }
                for &p in &path {
                    state[p] = 2;
                }
            }
        }

        // 4. The root, other roots, and where detached spans (orphans, cut cycle members) go.
        let best = |c: &[usize]| {
            c.iter().copied().min_by_key(|&i| {
                (
                    spans[i].start_unix_nano,
                    Reverse(end[i].saturating_sub(spans[i].start_unix_nano)),
                    i,
                )
            })
        };
        let parentless: Vec<usize> = (0..n)
            .filter(|&i| parent_ref(&spans[i]).is_none())
            .collect();
        let detached: Vec<usize> = (0..n).filter(|&i| missing[i] || cut[i]).collect();
        let mut roots: Vec<usize> = Vec::new();
        let mut adopted = vec![false; n];
        let mut shown_as_root = vec![false; n];
        let root = if let Some(r) = best(&parentless) {
            roots.push(r);
            let mut others: Vec<usize> = parentless.iter().copied().filter(|&i| i != r).collect();
            others.sort_by_key(|&i| (spans[i].start_unix_nano, i));
            roots.extend(others);
            for &d in &detached {
                adopted[d] = true;
            }
            Some(r)
        } else if let Some(r) = best(&detached) {
            roots.push(r);
            shown_as_root[r] = true;
            let root_parent = parent_ref(&spans[r]);
            let mut siblings = Vec::new();
            for &d in &detached {
                if d == r {
                    continue;
                }
                if missing[d] && missing[r] && parent_ref(&spans[d]) == root_parent {
                    siblings.push(d);
                    shown_as_root[d] = true;
                } else {
                    adopted[d] = true;
                }
            }
            siblings.sort_by_key(|&i| (spans[i].start_unix_nano, i));
            roots.extend(siblings);
            Some(r)
        } else {
            None
        };
        if roots.len() > 1 {
            anomalies.push(Anomaly::MultipleRoots {
                root: spans[roots[0]].span_id.clone(),
                others: roots[1..]
                    .iter()
                    .map(|&i| spans[i].span_id.clone())
                    .collect(),
            });
        }
        for &d in &detached {
            if missing[d] {
                anomalies.push(Anomaly::Orphan {
                    span_id: spans[d].span_id.clone(),
                    missing_parent: parent_ref(&spans[d]).unwrap_or_default().to_string(),
                    shown_as_root: shown_as_root[d],
                });
            }
        }
        let parent: Vec<Option<usize>> = (0..n)
            .map(|i| if adopted[i] { root } else { link[i] })
            .collect();

        // 5. Children, ordered by start time (then input order).
        let mut child_off = vec![0usize; n + 1];
        for p in parent.iter().flatten() {
            child_off[p + 1] += 1;
        }
        for i in 0..n {
            child_off[i + 1] += child_off[i];
        }
        let mut child_list = vec![0usize; child_off[n]];
        {
            let mut fill = child_off.clone();
            for (i, p) in parent.iter().enumerate() {
                if let Some(p) = *p {
                    child_list[fill[p]] = i;
                    fill[p] += 1;
                }
            }
        }
        for i in 0..n {
            child_list[child_off[i]..child_off[i + 1]]
                .sort_unstable_by_key(|&c| (spans[c].start_unix_nano, c));
        }

        // 6. Display order (pre-order) and depth, iteratively.
        let mut order = Vec::with_capacity(n);
        let mut depth = vec![0usize; n];
        let mut seen = vec![false; n];
        let mut stack: Vec<usize> = Vec::new();
        let mut walk =
            |start: usize, order: &mut Vec<usize>, depth: &mut Vec<usize>, seen: &mut Vec<bool>| {
                stack.clear();
                stack.push(start);
                depth[start] = 0;
                while let Some(x) = stack.pop() {
                    if seen[x] {
                        continue;
                    }
                    seen[x] = true;
                    order.push(x);
                    for &c in child_list[child_off[x]..child_off[x + 1]].iter().rev() {
                        depth[c] = depth[x] + 1;
                        stack.push(c);
                    }
                }
            };
        for &r in &roots {
            walk(r, &mut order, &mut depth, &mut seen);
        }
        // Unreachable by construction; kept so that no span can ever disappear from the view.
        for i in 0..n {
            if !seen[i] {
                roots.push(i);
                walk(i, &mut order, &mut depth, &mut seen);
            }
        }

        // 7. Per-span anomalies, in display order.
        for &i in &order {
            if adopted[i] {
                continue;
            }
            if let Some(p) = parent[i] {
                let s = &spans[i];
                let before = spans[p].start_unix_nano.saturating_sub(s.start_unix_nano);
                let after = end[i].saturating_sub(end[p]);
                let by = before.max(after);
                if by > 0 {
                    anomalies.push(Anomaly::ChildOutsideParent {
                        span_id: s.span_id.clone(),
                        parent_id: spans[p].span_id.clone(),
                        by_nanos: by,
                    });
                }
            }
        }
        for &i in &order {
            let s = &spans[i];
            if s.end_unix_nano < s.start_unix_nano {
                anomalies.push(Anomaly::NegativeDuration {
                    span_id: s.span_id.clone(),
                    by_nanos: s.start_unix_nano.saturating_sub(s.end_unix_nano),
                });
            }
        }
        for &i in &order {
            let s = &spans[i];
            if s.end_unix_nano == s.start_unix_nano {
                anomalies.push(Anomaly::ZeroLength {
                    span_id: s.span_id.clone(),
                });
            }
        }

        // 8. Self time: duration minus the union of the children, clipped to the span.
        let self_time: Vec<i64> = (0..n)
            .map(|i| {
                let (s, e) = (spans[i].start_unix_nano, end[i]);
                let mut reach = s;
                let mut covered = 0i64;
                for &c in &child_list[child_off[i]..child_off[i + 1]] {
                    let cs = spans[c].start_unix_nano.max(s);
                    let ce = end[c].min(e);
                    if ce <= cs {
                        continue; // entirely outside the span
                    }
                    if ce > reach {
                        covered = covered.saturating_add(ce.saturating_sub(cs.max(reach)));
                        reach = ce;
                    }
                }
                e.saturating_sub(s).saturating_sub(covered).max(0)
            })
            .collect();

        anomalies.sort_by_key(|a| match a {
            Anomaly::MultipleRoots { .. } => 0,
            Anomaly::Cycle { .. } => 1,
            Anomaly::Orphan { .. } => 2,
            Anomaly::DuplicateSpanId { .. } => 3,
            Anomaly::ChildOutsideParent { .. } => 4,
            Anomaly::NegativeDuration { .. } => 5,
            Anomaly::ZeroLength { .. } => 6,
        });

        let start = spans.iter().map(|s| s.start_unix_nano).min().unwrap_or(0);
        let finish = end.iter().copied().max().unwrap_or(start);

        let mut tree = SpanTree {
            trace_id: trace.trace_id,
            spans,
            end,
            parent,
            adopted,
            child_off,
            child_list,
            roots,
            order,
            depth,
            self_time,
            critical: Vec::new(),
            by_span_off: vec![0; n + 1],
            by_span: Vec::new(),
            critical_nanos: vec![0; n],
            on_critical: vec![false; n],
            anomalies,
            start,
            finish,
        };
        tree.compute_critical_path();
        tree
    }

    /// Jaeger's critical path over the root's tree (see the module docs). Stretches are found
    /// from the end backwards, reversed, and adjacent stretches of one span joined.
    fn compute_critical_path(&mut self) {
        let Some(root) = self.roots.first().copied() else {
            return;
        };
        let n = self.spans.len();
        // Clip each span to its clipped parent; drop spans entirely outside (and their subtree).
        let mut kept = vec![false; n];
        let mut cs = vec![0i64; n];
        let mut ce = vec![0i64; n];
        for (pos, &i) in self.order.iter().enumerate() {
            if pos > 0 && self.depth[i] == 0 {
                break; // the root's subtree is the prefix of the display order
            }
            let (s, e) = (self.spans[i].start_unix_nano, self.end[i]);
            if i == root {
                kept[i] = true;
                (cs[i], ce[i]) = (s, e);
                continue;
            }
            let Some(p) = self.parent[i] else { continue };
            if !kept[p] {
                continue;
            }
            let (ps, pe) = (cs[p], ce[p]);
            let inside = if s >= ps { s < pe } else { e > ps };
            if inside {
                kept[i] = true;
                (cs[i], ce[i]) = (s.max(ps), e.min(pe));
            }
        }
        // Kept children by clipped end, latest first (ties: earlier start first).
        let mut off = vec![0usize; n + 1];
        let mut list: Vec<usize> = Vec::new();
        for i in 0..n {
            if kept[i] {
                let from = list.len();
                list.extend(self.children(i).iter().copied().filter(|&c| kept[c]));
                list[from..].sort_by_key(|&c| (Reverse(ce[c]), cs[c], c));
            }
            off[i + 1] = list.len();
        }
        let mut next = off.clone();
        let mut segments: Vec<CriticalSegment> = Vec::new();
        let push = |segments: &mut Vec<CriticalSegment>, span: usize, from: i64, to: i64| {
            if from < to {
                segments.push(CriticalSegment {
                    span,
                    start_unix_nano: from,
                    end_unix_nano: to,
                });
            }
        };
        let mut cur = root;
        // `None` on entering a span from its parent; `Some(t)` on returning to it from a child
        // that started at `t`.
        let mut returning: Option<i64> = None;
        // Each span is entered at most once and each return moves one level up, so the walk
        // takes at most 2n steps; the bound only guards against a mistake here.
        let mut steps = 0usize;
        while steps <= 2 * n + 2 {
            steps += 1;
            let until = returning.unwrap_or(ce[cur]);
            let end_at = off[cur + 1];
            // The candidates are sorted by end, latest first, and `t` only decreases while the
            // walk is under `cur`, so a cursor per span finds each pick in amortised O(1).
            if let Some(t) = returning {
                while next[cur] < end_at && {
                    let c = list[next[cur]];
                    ce[c] > t || cs[c] >= t
                } {
                    next[cur] += 1;
                }
            }
            let lfc = (next[cur] < end_at).then(|| list[next[cur]]);
            if lfc.is_some() {
                next[cur] += 1;
            }
            match lfc {
                Some(c) => {
                    push(&mut segments, cur, ce[c], until);
                    cur = c;
                    returning = None;
                }
                None => {
                    push(&mut segments, cur, cs[cur], until);
                    if cur == root {
                        break;
                    }
                    match self.parent[cur] {
                        Some(p) => {
                            returning = Some(cs[cur]);
                            cur = p;
                        }
                        None => break,
                    }
                }
            }
        }
        segments.reverse();
        // A zero-length child splits its parent's stretch in two; show it as one.
        segments.dedup_by(|next, prev| {
            let joined = next.span == prev.span && next.start_unix_nano == prev.end_unix_nano;
            if joined {
                prev.end_unix_nano = next.end_unix_nano;
            }
            joined
        });
        if segments.is_empty() {
            // A zero-length root: the path is the root itself.
            segments.push(CriticalSegment {
                span: root,
                start_unix_nano: cs[root],
                end_unix_nano: ce[root],
            });
        }
        for s in &segments {
            self.on_critical[s.span] = true;
            self.critical_nanos[s.span] =
                self.critical_nanos[s.span].saturating_add(s.duration_nanos());
            self.by_span_off[s.span + 1] += 1;
        }
        for i in 0..n {
            self.by_span_off[i + 1] += self.by_span_off[i];
        }
        let mut by_span = segments.clone();
        by_span.sort_by_key(|s| (s.span, s.start_unix_nano));
        self.by_span = by_span;
        self.critical = segments;
    }

    pub fn trace_id(&self) -> &str {
        &self.trace_id
    }

    /// Top-level spans: the true root first, then other parentless spans by start time.
    pub fn roots(&self) -> &[usize] {
        &self.roots
    }

    /// The true root, if the trace has any span.
    pub fn root(&self) -> Option<usize> {
        self.roots.first().copied()
    }

    /// The spans, in input order minus dropped duplicates.
    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    pub fn len(&self) -> usize {
        self.spans.len()
    }

    pub fn is_empty(&self) -> bool {
        self.spans.is_empty()
    }

    /// The index of the span with this id.
    pub fn find(&self, span_id: &str) -> Option<usize> {
        self.spans.iter().position(|s| s.span_id == span_id)
    }

    /// Children as shown, ordered by start time. Empty for an index out of range.
    pub fn children(&self, i: usize) -> &[usize] {
        match (self.child_off.get(i), self.child_off.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.child_list[a..b],
            _ => &[],
        }
    }

    /// The parent as shown (for an orphan, the root).
    pub fn parent(&self, i: usize) -> Option<usize> {
        self.parent.get(i).copied().flatten()
    }

    /// Whether the span is shown under the root only because its parent is missing (or its
    /// parent link was cut to break a cycle).
    pub fn is_adopted(&self, i: usize) -> bool {
        self.adopted.get(i).copied().unwrap_or(false)
    }

    /// 0 for roots.
    pub fn depth(&self, i: usize) -> usize {
        self.depth.get(i).copied().unwrap_or(0)
    }

    /// All spans in display order: depth-first from each root, children by start time.
    pub fn display_order(&self) -> &[usize] {
        &self.order
    }

    /// The span's end, or its start if it ends before it starts.
    pub fn end_unix_nano(&self, i: usize) -> i64 {
        self.end.get(i).copied().unwrap_or(0)
    }

    /// Jaeger's self time: duration minus the union of the children's intervals clipped to
    /// the span.
    pub fn self_time_nanos(&self, i: usize) -> i64 {
        self.self_time.get(i).copied().unwrap_or(0)
    }

    /// The critical path of the root's tree, in time order.
    pub fn critical_path(&self) -> Vec<CriticalSegment> {
        self.critical.clone()
    }

    /// The same, borrowed.
    pub fn critical_segments(&self) -> &[CriticalSegment] {
        &self.critical
    }

    /// Distinct span ids on the critical path, in the order the path first reaches them.
    pub fn critical_path_span_ids(&self) -> Vec<String> {
        let mut seen = vec![false; self.spans.len()];
        let mut out = Vec::new();
        for s in &self.critical {
            if !seen[s.span] {
                seen[s.span] = true;
                out.push(self.spans[s.span].span_id.clone());
            }
        }
        out
    }

    /// The critical segments of one span, in time order.
    pub fn critical_segments_of(&self, i: usize) -> &[CriticalSegment] {
        match (self.by_span_off.get(i), self.by_span_off.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.by_span[a..b],
            _ => &[],
        }
    }

    pub fn is_on_critical_path(&self, i: usize) -> bool {
        self.on_critical.get(i).copied().unwrap_or(false)
    }

    /// How long the span itself (not its children) is on the critical path.
    pub fn critical_path_nanos(&self, i: usize) -> i64 {
        self.critical_nanos.get(i).copied().unwrap_or(0)
    }

    /// Spans with status ERROR, in display order.
    pub fn error_spans(&self) -> Vec<usize> {
        self.order
            .iter()
            .copied()
            .filter(|&i| self.spans[i].is_error())
            .collect()
    }

    /// From the earliest start to the latest end over all spans.
    pub fn duration_nanos(&self) -> i64 {
        self.finish.saturating_sub(self.start)
    }

    /// The earliest start over all spans (0 for an empty trace).
    pub fn start_unix_nano(&self) -> i64 {
        self.start
    }

    /// Span counts per service, most spans first (ties by name).
    pub fn services(&self) -> Vec<(String, usize)> {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for s in &self.spans {
            *counts.entry(s.service.as_str()).or_insert(0) += 1;
        }
        let mut out: Vec<(String, usize)> = counts
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }

    /// What was odd and how it was handled, grouped by kind: multiple roots, cycles, orphans,
    /// duplicate ids, children outside their parent, negative and zero durations.
    pub fn anomalies(&self) -> &[Anomaly] {
        &self.anomalies
    }

    /// The `n` spans that are themselves on the critical path the longest, with that time
    /// (longest first; ties in path order).
    pub fn top_self_time_on_critical_path(&self, n: usize) -> Vec<(usize, i64)> {
        let mut seen = vec![false; self.spans.len()];
        let mut out: Vec<(usize, i64)> = Vec::new();
        for s in &self.critical {
            if !seen[s.span] {
                seen[s.span] = true;
                out.push((s.span, self.critical_nanos[s.span]));
            }
        }
        out.sort_by_key(|&(_, t)| Reverse(t));
        out.truncate(n);
        out
    }
}

/// Hand-built spans and the recorded Tempo incident trace, for the tests of this module and of
/// `report::waterfall`.
#[cfg(test)]
pub(crate) mod testdata {
    use crate::model::trace::{Attributes, SpanEvent};
    use crate::model::{Span, SpanKind, StatusCode, Trace};

    pub(crate) const TRACE_ID: &str = "0af7651916cd43dd8448eb211c80319c";

    /// A span with id `id`, parent `parent` (`""` for none), from `start` to `end` nanoseconds.
    pub(crate) fn span(id: &str, parent: &str, start: i64, end: i64) -> Span {
        Span {
            trace_id: TRACE_ID.into(),
            span_id: id.into(),
            parent_span_id: (!parent.is_empty()).then(|| parent.to_string()),
            name: format!("op-{id}"),
            service: "svc".into(),
            kind: SpanKind::Internal,
            start_unix_nano: start,
            end_unix_nano: end,
            status: StatusCode::Unset,
            status_message: String::new(),
            attributes: Attributes::new(),
            resource: Attributes::new(),
            scope: None,
            events: Vec::new(),
            links: Vec::new(),
        }
    }

    pub(crate) fn trace(spans: Vec<Span>) -> Trace {
        Trace {
            trace_id: TRACE_ID.into(),
            spans,
        }
    }

    fn b64_to_hex(s: &str) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut bits = 0u32;
        let mut nbits = 0;
        let mut out = String::new();
        for c in s.bytes().filter(|&c| c != b'=') {
            let v = ALPHABET.iter().position(|&a| a == c).unwrap() as u32;
            bits = (bits << 6) | v;
            nbits += 6;
            if nbits >= 8 {
                nbits -= 8;
                out.push_str(&format!("{:02x}", (bits >> nbits) & 0xff));
            }
        }
        out
    }

    fn attrs(list: Option<&serde_json::Value>) -> Attributes {
        let mut out = Attributes::new();
        for a in list.and_then(|l| l.as_array()).into_iter().flatten() {
            let key = a["key"].as_str().unwrap().to_string();
            let v = &a["value"];
            let value = if let Some(s) = v.get("stringValue") {
                s.clone()
            } else if let Some(i) = v.get("intValue") {
                serde_json::Value::from(i.as_str().unwrap().parse::<i64>().unwrap())
            } else if let Some(b) = v.get("boolValue") {
                b.clone()
            } else if let Some(d) = v.get("doubleValue") {
                d.clone()
            } else {
                v.clone()
            };
            out.insert(key, value);
        }
        out
    }

    /// `trace aa3683ad…`: a checkout 500 during the recorded incident (20 spans, `PoolTimeout`),
    /// converted from Tempo's JSON with a minimal local reader (the real client lives in
    /// `source::tempo`).
    pub(crate) fn tempo_incident_trace() -> Trace {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/real/tempo/trace_by_id_incident_error.json"
        );
        let body = std::fs::read(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
        let doc: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let mut spans = Vec::new();
        for batch in doc["batches"].as_array().unwrap() {
            let resource = attrs(batch["resource"].get("attributes"));
            let service = resource["service.name"].as_str().unwrap().to_string();
            for scope in batch["scopeSpans"].as_array().unwrap() {
                for s in scope["spans"].as_array().unwrap() {
                    let num = |k: &str| s[k].as_str().unwrap().parse::<i64>().unwrap();
                    let kind = match s["kind"].as_str().unwrap_or("") {
                        "SPAN_KIND_SERVER" => SpanKind::Server,
                        "SPAN_KIND_CLIENT" => SpanKind::Client,
                        "SPAN_KIND_INTERNAL" => SpanKind::Internal,
                        _ => SpanKind::Unspecified,
                    };
                    let status = match s["status"]["code"].as_str().unwrap_or("") {
                        "STATUS_CODE_ERROR" => StatusCode::Error,
                        "STATUS_CODE_OK" => StatusCode::Ok,
                        _ => StatusCode::Unset,
                    };
                    let events = s["events"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|e| SpanEvent {
                            time_unix_nano: e["timeUnixNano"].as_str().unwrap().parse().unwrap(),
                            name: e["name"].as_str().unwrap().to_string(),
                            attributes: attrs(e.get("attributes")),
                        })
                        .collect();
                    spans.push(Span {
                        trace_id: b64_to_hex(s["traceId"].as_str().unwrap()),
                        span_id: b64_to_hex(s["spanId"].as_str().unwrap()),
                        parent_span_id: s["parentSpanId"].as_str().map(b64_to_hex),
                        name: s["name"].as_str().unwrap().to_string(),
                        service: service.clone(),
                        kind,
                        start_unix_nano: num("startTimeUnixNano"),
                        end_unix_nano: num("endTimeUnixNano"),
                        status,
                        status_message: s["status"]["message"].as_str().unwrap_or("").to_string(),
                        attributes: attrs(s.get("attributes")),
                        resource: resource.clone(),
                        scope: scope["scope"]["name"].as_str().map(str::to_string),
                        events,
                        links: Vec::new(),
                    });
                }
            }
        }
        Trace {
            trace_id: "aa3683ad52e9b569c004436d55771b03".into(),
            spans,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::testdata::{span, tempo_incident_trace, trace};
    use super::*;
    use crate::model::StatusCode;

    fn ids(tree: &SpanTree, idx: &[usize]) -> Vec<String> {
        idx.iter()
            .map(|&i| tree.spans()[i].span_id.clone())
            .collect()
    }

    fn idx(tree: &SpanTree, id: &str) -> usize {
        tree.find(id).unwrap()
    }

    /// The critical path as `(span id, start, end)`, in time order.
    fn path(tree: &SpanTree) -> Vec<(String, i64, i64)> {
        tree.critical_path()
            .iter()
            .map(|s| {
                (
                    tree.spans()[s.span].span_id.clone(),
                    s.start_unix_nano,
                    s.end_unix_nano,
                )
            })
            .collect()
    }

    fn seg(id: &str, a: i64, b: i64) -> (String, i64, i64) {
        (id.to_string(), a, b)
    }

    #[test]
    fn tree_shape_children_by_start_and_depth() {
        let tree = build(&trace(vec![
            span("c", "a", 50, 60),
            span("a", "", 0, 100),
            span("b", "a", 10, 40),
            span("d", "b", 20, 30),
        ]));
        assert_eq!(ids(&tree, tree.roots()), ["a"]);
        let a = idx(&tree, "a");
        assert_eq!(ids(&tree, tree.children(a)), ["b", "c"]);
        assert_eq!(tree.depth(idx(&tree, "d")), 2);
        assert_eq!(ids(&tree, tree.display_order()), ["a", "b", "d", "c"]);
        assert_eq!(tree.parent(idx(&tree, "d")), Some(idx(&tree, "b")));
        assert_eq!(tree.duration_nanos(), 100);
        assert_eq!(tree.start_unix_nano(), 0);
        assert!(tree.anomalies().is_empty(), "{:?}", tree.anomalies());
        assert!(tree.children(999).is_empty());
    }

    #[test]
    fn self_time_subtracts_the_union_of_overlapping_children_clipped_to_the_span() {
        // Children [10,40] and [30,60] overlap (union 50); [80,120] sticks out by 20 and counts
        // only up to the parent's end (20). 100 - 70 = 30.
        let tree = build(&trace(vec![
            span("p", "", 0, 100),
            span("a", "p", 10, 40),
            span("b", "p", 30, 60),
            span("c", "p", 80, 120),
            span("d", "b", 35, 36), // nested inside b: does not change p's union
        ]));
        assert_eq!(tree.self_time_nanos(idx(&tree, "p")), 30);
        assert_eq!(tree.self_time_nanos(idx(&tree, "b")), 29);
        assert_eq!(tree.self_time_nanos(idx(&tree, "c")), 40);
        // A child covering the whole parent leaves no self time, never a negative one.
        let tree = build(&trace(vec![
            span("p", "", 0, 100),
            span("a", "p", -10, 110),
            span("b", "p", 0, 100),
        ]));
        assert_eq!(tree.self_time_nanos(idx(&tree, "p")), 0);
        // Children entirely outside the span cover none of it (a regression: the sweep once
        // subtracted a negative length for them).
        let tree = build(&trace(vec![
            span("p", "", 100, 200),
            span("early", "p", 0, 50),
            span("late", "p", 300, 400),
        ]));
        assert_eq!(tree.self_time_nanos(idx(&tree, "p")), 100);
    }

    #[test]
    fn critical_path_sequential_children_alternate_with_the_parent() {
        // Jaeger's doc example: |----A----| with B then C inside.
        let tree = build(&trace(vec![
            span("a", "", 0, 100),
            span("b", "a", 10, 40),
            span("c", "a", 50, 90),
        ]));
        assert_eq!(
            path(&tree),
            [
                seg("a", 0, 10),
                seg("b", 10, 40),
                seg("a", 40, 50),
                seg("c", 50, 90),
                seg("a", 90, 100),
            ]
        );
        assert_eq!(tree.critical_path_span_ids(), ["a", "b", "c"]);
        assert_eq!(tree.critical_path_nanos(idx(&tree, "a")), 30);
        let of_a: Vec<(i64, i64)> = tree
            .critical_segments_of(idx(&tree, "a"))
            .iter()
            .map(|s| (s.start_unix_nano, s.end_unix_nano))
            .collect();
        assert_eq!(of_a, [(0, 10), (40, 50), (90, 100)]);
        assert!(tree.critical_segments_of(99).is_empty());
        assert_eq!(
            tree.top_self_time_on_critical_path(2),
            [(idx(&tree, "c"), 40), (idx(&tree, "a"), 30)]
        );
    }

    #[test]
    fn critical_path_skips_a_parallel_child_that_overlaps_the_last_finishing_one() {
        // C finishes last; B ran in parallel with C (ends after C started), so the walk back
        // from C's start finds no earlier child and B is not on the path.
        let tree = build(&trace(vec![
            span("a", "", 0, 100),
            span("b", "a", 10, 80),
            span("c", "a", 20, 90),
        ]));
        assert_eq!(
            path(&tree),
            [seg("a", 0, 20), seg("c", 20, 90), seg("a", 90, 100)]
        );
        assert!(!tree.is_on_critical_path(idx(&tree, "b")));
    }

    #[test]
    fn critical_path_descends_and_returns_through_nested_spans() {
        let tree = build(&trace(vec![
            span("a", "", 0, 100),
            span("b", "a", 10, 90),
            span("c", "b", 20, 50),
            span("d", "b", 40, 85),
            span("e", "a", 92, 98),
        ]));
        assert_eq!(
            path(&tree),
            [
                seg("a", 0, 10),
                seg("b", 10, 40),
                seg("d", 40, 85),
                seg("b", 85, 90),
                seg("a", 90, 92),
                seg("e", 92, 98),
                seg("a", 98, 100),
            ]
        );
        assert_eq!(tree.critical_path_span_ids(), ["a", "b", "d", "e"]);
    }

    #[test]
    fn critical_path_keeps_back_to_back_siblings() {
        // B ends exactly when C starts: with jaeger-ui's strict `<` B would be skipped and its
        // 50 ns charged to A; the inclusive bound (Jaeger's Go port) keeps it.
        let tree = build(&trace(vec![
            span("a", "", 0, 100),
            span("b", "a", 0, 50),
            span("c", "a", 50, 100),
        ]));
        assert_eq!(path(&tree), [seg("b", 0, 50), seg("c", 50, 100)]);
        assert!(!tree.is_on_critical_path(idx(&tree, "a")));
    }

    #[test]
    fn critical_path_clips_children_to_their_clipped_parent_and_drops_those_outside() {
        // jaeger-ui test7's shape: B overflows A, C overflows B; C is clipped to B's clipped
        // end (30), not to B's own end (35). D lies entirely after A and is dropped.
        let tree = build(&trace(vec![
            span("a", "", 1, 30),
            span("b", "a", 15, 35),
            span("c", "b", 20, 40),
            span("d", "a", 31, 33),
        ]));
        assert_eq!(
            path(&tree),
            [seg("a", 1, 15), seg("b", 15, 20), seg("c", 20, 30)]
        );
        assert!(!tree.is_on_critical_path(idx(&tree, "d")));
        // Shown and flagged, not dropped from the tree.
        assert_eq!(tree.len(), 4);
        let outside: Vec<_> = tree
            .anomalies()
            .iter()
            .filter_map(|a| match a {
                Anomaly::ChildOutsideParent {
                    span_id, by_nanos, ..
                } => Some((span_id.as_str(), *by_nanos)),
                _ => None,
            })
            .collect();
        assert_eq!(outside, [("b", 5), ("c", 5), ("d", 3)]);
        // A child that started before its parent is clipped at the parent's start.
        let tree = build(&trace(vec![span("a", "", 10, 100), span("b", "a", 0, 60)]));
        assert_eq!(path(&tree), [seg("b", 10, 60), seg("a", 60, 100)]);
    }

    #[test]
    fn orphans_are_shown_under_the_root_and_flagged() {
        let tree = build(&trace(vec![
            span("root", "", 0, 100),
            span("x", "missing", 20, 90),
            span("y", "x", 30, 40),
        ]));
        let x = idx(&tree, "x");
        assert_eq!(tree.parent(x), Some(idx(&tree, "root")));
        assert!(tree.is_adopted(x));
        assert_eq!(tree.depth(idx(&tree, "y")), 2);
        assert_eq!(
            tree.anomalies(),
            [Anomaly::Orphan {
                span_id: "x".into(),
                missing_parent: "missing".into(),
                shown_as_root: false,
            }]
        );
        assert!(
            tree.anomalies()[0]
                .message()
                .contains("shown under the root")
        );
        // An orphan counts toward its adoptive root's self time and critical path.
        assert_eq!(tree.self_time_nanos(idx(&tree, "root")), 30);
        assert!(tree.is_on_critical_path(x));
    }

    #[test]
    fn without_a_root_span_the_earliest_orphan_is_the_root_and_its_siblings_are_roots_too() {
        // The root span was never received: a and b both point at it; c's parent is another
        // missing span.
        let tree = build(&trace(vec![
            span("b", "gone", 50, 80),
            span("a", "gone", 10, 60),
            span("c", "other", 20, 30),
        ]));
        assert_eq!(ids(&tree, tree.roots()), ["a", "b"]);
        assert_eq!(tree.parent(idx(&tree, "c")), Some(idx(&tree, "a")));
        let kinds: Vec<&str> = tree.anomalies().iter().map(Anomaly::kind).collect();
        assert_eq!(kinds, ["multiple_roots", "orphan", "orphan", "orphan"]);
        assert!(tree.anomalies().iter().any(|a| matches!(
            a,
            Anomaly::Orphan { span_id, shown_as_root: true, .. } if span_id == "b"
        )));
        // The critical path covers the chosen root's tree only.
        assert_eq!(tree.critical_path_span_ids(), ["a", "c"]);
    }

    #[test]
    fn duplicate_span_ids_keep_the_first() {
        let mut dup = span("b", "a", 70, 80);
        dup.name = "second".into();
        let tree = build(&trace(vec![
            span("a", "", 0, 100),
            span("b", "a", 10, 20),
            dup.clone(),
            dup,
        ]));
        assert_eq!(tree.len(), 2);
        assert_eq!(tree.spans()[idx(&tree, "b")].name, "op-b");
        assert_eq!(
            tree.anomalies(),
            [Anomaly::DuplicateSpanId {
                span_id: "b".into(),
                kept: "svc op-b".into(),
                dropped: 2,
            }]
        );
        assert!(tree.anomalies()[0].message().contains("appears 3 times"));
    }

    #[test]
    fn cycles_are_broken_at_the_earliest_member_and_shown_under_the_root() {
        let tree = build(&trace(vec![
            span("root", "", 0, 100),
            span("x", "y", 30, 40),
            span("y", "z", 20, 50),
            span("z", "x", 10, 60),
            span("self", "self", 70, 80),
        ]));
        let z = idx(&tree, "z");
        assert_eq!(tree.parent(z), Some(idx(&tree, "root")));
        assert_eq!(tree.parent(idx(&tree, "y")), Some(z));
        assert_eq!(tree.depth(idx(&tree, "x")), 3);
        let cycles: Vec<_> = tree
            .anomalies()
            .iter()
            .filter_map(|a| match a {
                Anomaly::Cycle {
                    span_ids,
                    broken_at,
                } => Some((span_ids.clone(), broken_at.clone())),
                _ => None,
            })
            .collect();
        assert_eq!(
            cycles,
            [
                (vec!["z".into(), "x".into(), "y".into()], "z".into()),
                (vec!["self".into()], "self".into()),
            ]
        );
        assert_eq!(tree.display_order().len(), 5);
        // A trace that is nothing but a cycle still gets a root.
        let tree = build(&trace(vec![span("p", "q", 5, 9), span("q", "p", 0, 10)]));
        assert_eq!(ids(&tree, tree.roots()), ["q"]);
        assert_eq!(tree.depth(idx(&tree, "p")), 1);
    }

    #[test]
    fn multiple_roots_pick_the_earliest_then_longest() {
        let tree = build(&trace(vec![
            span("late", "", 50, 500),
            span("short", "", 0, 10),
            span("long", "", 0, 100),
            span("kid", "late", 60, 70),
        ]));
        assert_eq!(ids(&tree, tree.roots()), ["long", "short", "late"]);
        assert_eq!(
            tree.anomalies(),
            [Anomaly::MultipleRoots {
                root: "long".into(),
                others: vec!["short".into(), "late".into()],
            }]
        );
        assert_eq!(tree.critical_path_span_ids(), ["long"]);
        assert_eq!(tree.duration_nanos(), 500);
        assert_eq!(
            ids(&tree, tree.display_order()),
            ["long", "short", "late", "kid"]
        );
    }

    #[test]
    fn zero_and_negative_durations_are_flagged_and_never_negative() {
        let tree = build(&trace(vec![
            span("a", "", 0, 100),
            span("z", "a", 50, 50),
            span("n", "a", 60, 40),
        ]));
        let n = idx(&tree, "n");
        assert_eq!(tree.end_unix_nano(n), 60);
        assert_eq!(tree.self_time_nanos(n), 0);
        assert!(tree.anomalies().contains(&Anomaly::ZeroLength {
            span_id: "z".into()
        }));
        assert!(tree.anomalies().contains(&Anomaly::NegativeDuration {
            span_id: "n".into(),
            by_nanos: 20
        }));
        assert_eq!(path(&tree), [seg("a", 0, 100)]);
        // A lone zero-length root is its own critical path.
        let tree = build(&trace(vec![span("a", "", 5, 5)]));
        assert_eq!(tree.critical_path_span_ids(), ["a"]);
    }

    #[test]
    fn extreme_timestamps_do_not_overflow() {
        let tree = build(&trace(vec![
            span("a", "", i64::MIN, i64::MAX),
            span("b", "a", i64::MIN, 0),
            span("c", "a", 0, i64::MAX),
            span("d", "", i64::MAX, i64::MIN),
        ]));
        assert_eq!(tree.duration_nanos(), i64::MAX);
        assert_eq!(tree.self_time_nanos(idx(&tree, "a")), 0);
        assert_eq!(tree.critical_path_span_ids(), ["b", "c"]);
        let view = crate::report::waterfall::trace_view(&tree);
        assert_eq!(view.spans.len(), 4);
        let out = crate::report::waterfall::render(&tree, &Default::default());
        assert!(out.contains("op-d"));
    }

    /// Random messy traces (duplicates, cycles, orphans, skew, negative durations): the
    /// invariants hold and nothing panics.
    #[test]
    fn random_messy_traces_keep_the_invariants() {
        let mut rng = crate::analysis::test_rng::Rng(0x7ace);
        let mut pick = |n: usize| ((rng.uniform() * n as f64) as usize).min(n.saturating_sub(1));
        for round in 0..500 {
            let n = 1 + pick(40);
            let spans: Vec<Span> = (0..n)
                .map(|i| {
                    let id = format!("s{}", pick(n + n / 4)); // some duplicates
                    let parent = match pick(10) {
                        0 => String::new(),
                        1 => "nowhere".to_string(),
                        _ => format!("s{}", pick(n + 2)), // may be missing, or a cycle
                    };
                    let start = pick(1000) as i64;
                    let end = start + pick(600) as i64 - 50; // some negative
                    let mut s = span(&id, &parent, start, end);
                    s.name = format!("op{i}");
                    s
                })
                .collect();
            let tree = build(&trace(spans));
            let n = tree.len();
            let mut order = tree.display_order().to_vec();
            order.sort_unstable();
            assert_eq!(order, (0..n).collect::<Vec<_>>(), "round {round}");
            for i in 0..n {
                let dur = tree.end_unix_nano(i) - tree.spans()[i].start_unix_nano;
                assert!(
                    (0..=dur).contains(&tree.self_time_nanos(i)),
                    "round {round}"
                );
                match tree.parent(i) {
                    Some(p) => assert_eq!(tree.depth(i), tree.depth(p) + 1),
                    None => assert!(tree.roots().contains(&i)),
                }
            }
            let cp = tree.critical_path();
            let root = tree.root().unwrap();
            assert_eq!(cp[0].start_unix_nano, tree.spans()[root].start_unix_nano);
            assert_eq!(cp[cp.len() - 1].end_unix_nano, tree.end_unix_nano(root));
            assert!(
                cp.windows(2)
                    .all(|w| w[0].end_unix_nano == w[1].start_unix_nano)
            );
            for width in [5u16, 20, 80] {
                let o = crate::report::waterfall::WaterfallOptions {
                    width,
                    errors_only: round % 2 == 0,
                    max_depth: (round % 3 == 0).then_some(2),
                    ..Default::default()
                };
                let _ = crate::report::waterfall::render(&tree, &o);
            }
        }
    }

    #[test]
    fn empty_trace_is_empty_not_a_panic() {
        let tree = build(&trace(Vec::new()));
        assert!(tree.is_empty());
        assert!(tree.roots().is_empty());
        assert!(tree.critical_path().is_empty());
        assert_eq!(tree.duration_nanos(), 0);
        assert!(tree.top_self_time_on_critical_path(5).is_empty());
    }

    #[test]
    fn a_100k_deep_chain_does_not_overflow_the_stack() {
        const N: i64 = 100_000;
        let spans = (0..N)
            .map(|k| {
                let parent = if k == 0 {
                    String::new()
                } else {
                    format!("s{:x}", k - 1)
                };
                span(&format!("s{k:x}"), &parent, k, 2 * N - k)
            })
            .collect();
        let tree = build(&trace(spans));
        let last = idx(&tree, &format!("s{:x}", N - 1));
        assert_eq!(tree.depth(last), (N - 1) as usize);
        assert_eq!(tree.critical_path_span_ids().len(), N as usize);
        assert_eq!(tree.critical_path().len(), 2 * N as usize - 1);
        assert!(tree.anomalies().is_empty());
    }

    #[test]
    fn format_nanos_reads_like_a_person_wrote_it() {
        assert_eq!(format_nanos(850), "850ns");
        assert_eq!(format_nanos(12_300), "12.3µs");
        assert_eq!(format_nanos(4_560_000), "4.56ms");
        assert_eq!(format_nanos(1_822_200_000), "1.82s");
        assert_eq!(format_nanos(100_000_000), "100ms");
        assert_eq!(format_nanos(123_000_000_000), "2m03s");
        assert_eq!(format_nanos(-2_000), "-2µs");
        assert_eq!(format_nanos(i64::MIN).chars().next(), Some('-'));
    }

    #[test]
    fn recorded_tempo_incident_trace_blames_the_pool() {
        let tree = build(&tempo_incident_trace());
        assert_eq!(tree.len(), 20);
        assert!(tree.anomalies().is_empty(), "{:?}", tree.anomalies());
        let root = &tree.spans()[tree.roots()[0]];
        assert_eq!(
            (root.service.as_str(), root.name.as_str()),
            ("frontend", "GET /checkout")
        );
        let name_of = |i: usize| tree.spans()[i].name.as_str();
        let on_path: Vec<&str> = tree
            .critical_path_span_ids()
            .iter()
            .map(|id| name_of(idx(&tree, id)))
            .collect();
        // db.pool.acquire ends at exactly the nanosecond INSERT orders starts: the inclusive
        // bound keeps it on the path.
        for name in [
            "GET /checkout",
            "POST /api/orders",
            "db.pool.acquire",
            "INSERT orders",
        ] {
            assert!(on_path.contains(&name), "{name} not in {on_path:?}");
        }
        let top = tree.top_self_time_on_critical_path(5);
        assert_eq!(name_of(top[0].0), "db.pool.acquire");
        assert_eq!(top[0].1, 1_495_598_032);
        assert_eq!(name_of(top[1].0), "INSERT orders");
        // The path tiles the root exactly, without gaps or overlaps.
        let cp = tree.critical_path();
        assert_eq!(cp[0].start_unix_nano, root.start_unix_nano);
        assert_eq!(cp[cp.len() - 1].end_unix_nano, root.end_unix_nano);
        assert!(
            cp.windows(2)
                .all(|w| w[0].end_unix_nano == w[1].start_unix_nano)
        );
        let errors: Vec<&str> = tree.error_spans().iter().map(|&i| name_of(i)).collect();
        assert_eq!(
            errors,
            [
                "GET /checkout",
                "checkout.PlaceOrder",
                "POST /api/orders",
                "db.pool.acquire",
                "INSERT orders"
            ]
        );
        let insert = &tree.spans()[idx(&tree, "751bb19ed14fb11f")];
        assert_eq!(insert.status, StatusCode::Error);
        let (kind, message) = insert.exception().unwrap();
        assert_eq!(kind, "__main__.PoolTimeout");
        assert!(message.contains("QueuePool limit"), "{message}");
        assert_eq!(
            tree.services(),
            [
                ("checkout".to_string(), 8),
                ("payments".to_string(), 6),
                ("frontend".to_string(), 3),
                ("inventory".to_string(), 3),
            ]
        );
    }
}
