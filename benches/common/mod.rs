//! Test data shared by the benches: a big random trace, deterministic without a rand crate.

use obs::model::trace::Attributes;
use obs::model::{Span, SpanKind, StatusCode, Trace};

/// xorshift64*: deterministic data without a rand crate.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// A random recursive tree: each span picks a parent among the last few hundred spans (so the
/// tree is both wide and a few dozen levels deep) and runs inside it, with a little clock skew,
/// a few orphans and errors, 12 services and some attributes, shuffled like a backend returns
/// them.
pub fn big_trace(n: usize) -> Trace {
    let mut rng = Rng(0x5eed);
    let mut spans: Vec<Span> = Vec::with_capacity(n);
    let mut windows: Vec<(i64, i64)> = Vec::with_capacity(n);
    let t0 = 1_795_238_604_757_521_408_i64;
    for i in 0..n {
        let (parent, start, end) = if i == 0 {
            (None, t0, t0 + 60_000_000_000)
        } else {
            let p = i - 1 - rng.below(i.min(300) as u64) as usize;
            let (ps, pe) = windows[p];
            let len = (pe - ps).max(2);
            let s = ps + rng.below(len as u64 / 2) as i64;
            let e = s + 1 + rng.below(((pe - s) as u64).max(1)) as i64;
            // 1 % of children overrun their parent a little (clock skew).
            let e = if rng.below(100) == 0 {
                e + 1_000_000
            } else {
                e
            };
            (Some(p), s, e)
        };
        windows.push((start, end));
        let mut attributes = Attributes::new();
        attributes.insert("http.route".into(), format!("/api/v{}/items", i % 7).into());
        attributes.insert("http.status_code".into(), 200.into());
        attributes.insert("net.peer.name".into(), "10.0.0.1".into());
        let orphan = i > 0 && rng.below(1000) == 0;
        spans.push(Span {
            trace_id: "aa3683ad52e9b569c004436d55771b03".into(),
            span_id: format!("{:016x}", i + 1),
            parent_span_id: parent.map(|p| {
                if orphan {
                    format!("{:016x}", n + 1 + i)
                } else {
                    format!("{:016x}", p + 1)
                }
            }),
            name: format!("operation-{}", i % 50),
            service: format!("service-{}", i % 12),
            kind: SpanKind::Internal,
            start_unix_nano: start,
            end_unix_nano: end,
            status: if rng.below(200) == 0 {
                StatusCode::Error
            } else {
                StatusCode::Unset
            },
            status_message: String::new(),
            attributes,
            resource: Attributes::new(),
            scope: None,
            events: Vec::new(),
            links: Vec::new(),
        });
    }
    for i in (1..spans.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        spans.swap(i, j);
    }
    Trace {
        trace_id: "aa3683ad52e9b569c004436d55771b03".into(),
        spans,
    }
}
