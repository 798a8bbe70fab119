//! The writer's cache of series ids, looked up without building anything: a sample's series is
//! its metric name, its point's labels and at most one label of its own (a histogram bucket's
//! `le`, a summary's `quantile`), and the cache hashes and compares those in place. Building the
//! label set and its canonical JSON happens only for a series the cache does not hold, which
//! is once per series, not once per sample.
//!
//! Like the writer's other caches it holds committed ids only: it is cleared when a
//! transaction rolls back or retention deletes series.

use std::collections::HashMap;
use std::hash::{BuildHasher, Hash, Hasher, RandomState};

use crate::model::Labels;

/// A series as one sample names it: `__name__`, the point's labels, and one label more.
#[derive(Clone, Copy)]
pub(crate) struct SeriesRef<'a> {
    pub name: &'a str,
    pub labels: &'a Labels,
    /// A label that replaces any same-named one in `labels`.
    pub extra: Option<(&'a str, &'a str)>,
}

impl<'a> SeriesRef<'a> {
    /// The series' labels in order, `__name__` included: what its canonical JSON holds.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (&'a str, &'a str)> + 'a {
        let name = ("__name__", self.name);
        let own = match self.extra {
            Some(e) if e.0 < name.0 => [Some(e), Some(name)],
            e => [Some(name), e],
        };
        let extra_key = self.extra.map(|e| e.0);
        let rest = self
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .filter(move |(k, _)| *k != "__name__" && Some(*k) != extra_key);
        Merge {
            own: own.into_iter().flatten().peekable(),
            rest: rest.peekable(),
        }
    }

    /// The label set, for a series seen for the first time.
    pub(crate) fn labels(&self) -> Labels {
        self.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }
}

/// Two label sequences, each in key order and with distinct keys, merged in key order.
struct Merge<A: Iterator, B: Iterator> {
    own: std::iter::Peekable<A>,
    rest: std::iter::Peekable<B>,
}

impl<'a, A, B> Iterator for Merge<A, B>
where
    A: Iterator<Item = (&'a str, &'a str)>,
    B: Iterator<Item = (&'a str, &'a str)>,
{
    type Item = (&'a str, &'a str);

    fn next(&mut self) -> Option<Self::Item> {
        let rest_first = match (self.own.peek(), self.rest.peek()) {
            (Some(a), Some(b)) => b.0 < a.0,
            (Some(_), None) => false,
            (None, _) => true,
        };
        if rest_first {
            self.rest.next()
        } else {
            self.own.next()
        }
    }
}

#[derive(Default)]
pub(crate) struct SeriesIds {
    hasher: RandomState,
    /// By hash of the label sequence; a hash shared by two series holds both.
    map: HashMap<u64, Vec<(Labels, i64)>>,
}

impl SeriesIds {
    fn hash(&self, s: &SeriesRef<'_>) -> u64 {
        let mut h = self.hasher.build_hasher();
        for (k, v) in s.iter() {
            k.hash(&mut h);
            v.hash(&mut h);
        }
        h.finish()
    }

    pub(crate) fn get(&self, s: &SeriesRef<'_>) -> Option<i64> {
        self.map
            .get(&self.hash(s))?
            .iter()
            .find_map(|(labels, id)| {
                labels
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .eq(s.iter())
                    .then_some(*id)
            })
    }

    /// Remembers `id` for `labels` (the series' full label set, `s.labels()`).
    pub(crate) fn insert(&mut self, s: &SeriesRef<'_>, labels: Labels, id: i64) {
        let hash = self.hash(s);
        self.map.entry(hash).or_default().push((labels, id));
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_series_is_its_labels_with_name_and_extra_label_in_key_order() {
        let point = labels(&[
            ("Z", "up"),
            ("__name__", "x"),
            ("job", "api"),
            ("le", "old"),
        ]);
        let s = SeriesRef {
            name: "lat_bucket",
            labels: &point,
            extra: Some(("le", "0.5")),
        };
        let want = labels(&[
            ("Z", "up"),
            ("__name__", "lat_bucket"),
            ("job", "api"),
            ("le", "0.5"),
        ]);
        assert_eq!(s.labels(), want);
        let order: Vec<&str> = s.iter().map(|(k, _)| k).collect();
        assert_eq!(order, vec!["Z", "__name__", "job", "le"]);

        let extra_first = labels(&[("job", "api")]);
        let s = SeriesRef {
            name: "q",
            labels: &extra_first,
            extra: Some(("A", "1")),
        };
        let order: Vec<&str> = s.iter().map(|(k, _)| k).collect();
        assert_eq!(order, vec!["A", "__name__", "job"]);
    }

    #[test]
    fn the_cache_tells_series_apart_by_every_label() {
        let mut ids = SeriesIds::default();
        let a = labels(&[("job", "api")]);
        let b = labels(&[("job", "db")]);
        let bucket = |l: &'static str, labels: &'static Labels| SeriesRef {
            name: "lat_bucket",
            labels,
            extra: Some(("le", l)),
        };
        let a: &'static Labels = Box::leak(Box::new(a));
        let b: &'static Labels = Box::leak(Box::new(b));
        ids.insert(&bucket("1", a), bucket("1", a).labels(), 1);
        ids.insert(&bucket("2", a), bucket("2", a).labels(), 2);
        assert_eq!(ids.get(&bucket("1", a)), Some(1));
        assert_eq!(ids.get(&bucket("2", a)), Some(2));
        assert_eq!(ids.get(&bucket("1", b)), None);
        let plain = SeriesRef {
            name: "lat_bucket",
            labels: a,
            extra: None,
        };
        assert_eq!(ids.get(&plain), None);
        assert_eq!(ids.len(), 2);
    }
}
