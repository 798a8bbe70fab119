//! Label sets derived from an input series' label set — an aggregation's group, the group of a
//! `histogram_quantile` bucket and its `le` bound — computed once per input label set and
//! reused at every step of a range query.
//!
//! A range query evaluates the same expression at hundreds of steps over the same series, whose
//! label sets are shared (`Arc`) across steps. Deriving a group by building a new map per
//! sample and step was most of the time of `sum by (le) (rate(…))`; here each (expression,
//! input label set) pair is derived once, and equal groups are one shared `Arc`, so a group is
//! found by address and a range query's output series by address too.

use std::cell::RefCell;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;

use crate::model::Labels;

/// Entries beyond this are dropped between steps (and derived again when needed): label sets
/// that are new at every step (a binary operation's result, say) must not grow the cache
/// without bound. Never within a step, where equal groups must stay one `Arc`.
const MAX_ENTRIES: usize = 200_000;

/// What an entry derives; part of its key, so that two derivations never share an entry.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    Group,
    Bucket,
}

struct Entry {
    /// Kept alive so that no other label set is allocated at its address while it is a key.
    _input: Arc<Labels>,
    group: Arc<Labels>,
    /// `histogram_quantile`'s bucket bound, when the entry is a bucket's.
    le: Option<f64>,
}

/// The cache; one per query evaluation.
#[derive(Default)]
pub(super) struct Derived {
    entries: RefCell<HashMap<(Kind, usize, usize), Entry>>,
    interned: RefCell<HashSet<Arc<Labels>>>,
}

impl Derived {
    fn get_or_insert(
        &self,
        kind: Kind,
        node: usize,
        input: &Arc<Labels>,
        derive: impl FnOnce(&Labels) -> (Labels, Option<f64>),
    ) -> (Arc<Labels>, Option<f64>) {
        let key = (kind, node, Arc::as_ptr(input) as usize);
        if let Some(e) = self.entries.borrow().get(&key) {
            return (Arc::clone(&e.group), e.le);
        }
        let (labels, le) = derive(input.as_ref());
        let mut interned = self.interned.borrow_mut();
        let group = match interned.get(&labels) {
            Some(g) => Arc::clone(g),
            None => {
                let g = Arc::new(labels);
                interned.insert(Arc::clone(&g));
                g
            }
        };
        self.entries.borrow_mut().insert(
            key,
            Entry {
                _input: Arc::clone(input),
                group: Arc::clone(&group),
                le,
            },
        );
        (group, le)
    }

    /// Call between steps: empties the cache when it has grown past its bound.
    pub(super) fn trim(&self) {
        if self.entries.borrow().len() > MAX_ENTRIES {
            self.entries.borrow_mut().clear();
            self.interned.borrow_mut().clear();
        }
    }

    /// The group of `input` for the expression at address `node`: equal groups are the same
    /// `Arc` (until the cache is cleared).
    pub(super) fn group(
        &self,
        node: usize,
        input: &Arc<Labels>,
        derive: impl FnOnce(&Labels) -> Labels,
    ) -> Arc<Labels> {
        self.get_or_insert(Kind::Group, node, input, |l| (derive(l), None))
            .0
    }

    /// A bucket's group (its labels without `__name__` and `le`) and bound, or `None` when it
    /// has no parseable `le`.
    pub(super) fn bucket(
        &self,
        node: usize,
        input: &Arc<Labels>,
        parse_le: impl Fn(&str) -> Option<f64>,
    ) -> Option<(Arc<Labels>, f64)> {
        let (group, le) = self.get_or_insert(Kind::Bucket, node, input, |l| {
            let le = l.get("le").and_then(|v| parse_le(v.as_str()));
            let mut g = l.clone();
            g.remove(super::NAME);
            g.remove("le");
            (g, le)
        });
        le.map(|le| (group, le))
    }
}

/// Per-step accumulation by group: groups are interned `Arc`s, so they are told apart by
/// address; `into_sorted` orders them by labels, as a `BTreeMap` by labels would.
pub(super) struct ByGroup<T> {
    slots: HashMap<usize, usize>,
    groups: Vec<(Arc<Labels>, T)>,
}

impl<T> ByGroup<T> {
    pub(super) fn new() -> Self {
        ByGroup {
            slots: HashMap::new(),
            groups: Vec::new(),
        }
    }

    pub(super) fn entry(&mut self, group: Arc<Labels>, new: impl FnOnce() -> T) -> &mut T {
        let address = Arc::as_ptr(&group) as usize;
        let slot = *self.slots.entry(address).or_insert_with(|| {
            self.groups.push((group, new()));
            self.groups.len() - 1
        });
        &mut self.groups[slot].1
    }

    pub(super) fn into_sorted(mut self) -> Vec<(Arc<Labels>, T)> {
        self.groups.sort_by(|a, b| a.0.cmp(&b.0));
        self.groups
    }
}
