//! Building the tree: parent links resolved (orphans adopted by the root, duplicate ids
//! dropped, cycles broken), the display order, depths and self times — every traversal
//! iterative, every odd thing recorded as an [`Anomaly`]. Then the critical path (`critical`).

use std::cmp::Reverse;
use std::collections::HashMap;

use crate::model::Trace;

use super::{Anomaly, SpanTree, label, parent_ref};

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
}
