//! The critical path: Jaeger's algorithm over the root's tree (see the module docs of
//! `spantree` for the exact definition and its sources), computed once at build time, and the
//! queries about it.

use std::cmp::Reverse;

use super::{CriticalSegment, SpanTree};

impl SpanTree {
    /// Jaeger's critical path over the root's tree (see the module docs). Stretches are found
    /// from the end backwards, reversed, and adjacent stretches of one span joined.
    pub(super) fn compute_critical_path(&mut self) {
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
