//! Log templates: groups log messages into patterns such as
//! `PacketResponder <*> for block <*> terminating`, client-side, on any input.
//!
//! Two stages, in the spirit of Drain (He et al., ICWS 2017) and of Loki's pattern ingester,
//! with what they leave to per-system regexes done by generic rules instead:
//! 1. **Shapes.** Each message is masked token by token ([`mask`]: numbers, ids, hex, IPs,
//!    UUIDs, paths, URLs, durations, sizes, booleans, binary bytes) and the masked text is
//!    looked up in a hash map. This is exact and streaming: one pass, no tree, no similarity
//!    threshold deciding early what a template is, so the order of the lines does not matter.
//! 2. **Merging.** At [`Templater::finish`], shapes of the same length that differ in exactly
//!    one token are merged when that token looks like a value (it holds a digit or a
//!    wildcard) or takes many different values ([`Options::merge_min_distinct`]); the merged
//!    token keeps the common prefix and suffix (`MININT-<*>`). Words that take a few values —
//!    `from RUNNING to FAILED`, `LEADING (my state)` — are usually different events and stay
//!    apart, which is where a similarity threshold goes wrong.
//!
//! Memory is bounded: at most [`Options::max_patterns`] shapes are kept (lines of further
//! shapes are counted as overflow and the caller says so), each message is templated on at
//! most [`Options::max_line_bytes`] bytes and [`Options::max_tokens`] tokens, and each
//! pattern keeps one example of at most [`Options::example_bytes`].
//!
//! Pure: no I/O, no clock, no global state. Input bytes need not be UTF-8.

pub mod compare;
pub mod mask;

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{Hash, Hasher};

use mask::{TRUNCATED, WILDCARD};

/// Limits and the one merging parameter; the defaults are used for every input (the
/// LogHub benchmark in `benches/loghub.rs` runs them unchanged on every system).
#[derive(Debug, Clone)]
pub struct Options {
    /// Distinct shapes kept; lines of any further shape are counted in
    /// [`Grouping::overflow_lines`].
    pub max_patterns: usize,
    /// Bytes of a message that are templated; the rest becomes a `<…>` token.
    pub max_line_bytes: usize,
    /// Tokens of a message that are templated; the rest becomes a `<…>` token.
    pub max_tokens: usize,
    /// Shapes that differ in one word-only token are merged when that token takes at least
    /// this many values.
    pub merge_min_distinct: usize,
    /// Bytes kept of each pattern's example line.
    pub example_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            max_patterns: 10_000,
            max_line_bytes: 4096,
            max_tokens: 256,
            merge_min_distinct: 6,
            example_bytes: 512,
        }
    }
}

/// What one added line became.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Assigned {
    /// A shape, resolved to its pattern by [`Grouping::pattern_index`].
    Shape(u32),
    /// The line was empty or only whitespace.
    Empty,
    /// The line had a new shape after [`Options::max_patterns`] was reached.
    Overflow,
}

#[derive(Debug)]
struct Shape {
    count: u64,
    example: String,
}

/// Groups lines into patterns; feed it with [`Templater::add`], then [`Templater::finish`].
#[derive(Debug)]
pub struct Templater {
    opts: Options,
    index: HashMap<Box<str>, u32>,
    shapes: Vec<Shape>,
    buf: String,
    lines: u64,
    empty_lines: u64,
    overflow_lines: u64,
    truncated_lines: u64,
}

/// One pattern: a template, how many lines it grouped, and the first of them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    /// A stable id derived from the template (the same template has the same id in every run
    /// and every input).
    pub id: String,
    pub template: String,
    pub count: u64,
    pub example: String,
}

/// The patterns of everything added, most frequent first.
#[derive(Debug, Clone)]
pub struct Grouping {
    pub patterns: Vec<Pattern>,
    shape_to_pattern: Vec<u32>,
    /// Lines added, including empty and overflow lines.
    pub lines: u64,
    pub empty_lines: u64,
    /// Lines not grouped because [`Options::max_patterns`] shapes were already kept.
    pub overflow_lines: u64,
    /// Lines templated on their first [`Options::max_line_bytes`] bytes only.
    pub truncated_lines: u64,
    /// The cap that applied.
    pub max_patterns: usize,
}

impl Grouping {
    /// The index into [`Grouping::patterns`] of a line's pattern.
    pub fn pattern_index(&self, assigned: Assigned) -> Option<usize> {
        match assigned {
            Assigned::Shape(s) => self.shape_to_pattern.get(s as usize).map(|&p| p as usize),
            Assigned::Empty | Assigned::Overflow => None,
        }
    }

    /// A line's pattern.
    pub fn pattern(&self, assigned: Assigned) -> Option<&Pattern> {
        self.pattern_index(assigned).map(|i| &self.patterns[i])
    }
}

/// Groups `lines` with the default options: the patterns and each line's assignment.
pub fn group<'a>(lines: impl IntoIterator<Item = &'a str>) -> (Grouping, Vec<Assigned>) {
    let mut t = Templater::new(Options::default());
    let assigned: Vec<Assigned> = lines.into_iter().map(|l| t.add_str(l)).collect();
    (t.finish(), assigned)
}

impl Templater {
    pub fn new(opts: Options) -> Self {
        Templater {
            opts,
            index: HashMap::new(),
            shapes: Vec::new(),
            buf: String::new(),
            lines: 0,
            empty_lines: 0,
            overflow_lines: 0,
            truncated_lines: 0,
        }
    }

    /// Adds one message (one line, without its line ending); bytes that are not UTF-8 are
    /// treated as binary values.
    pub fn add(&mut self, line: &[u8]) -> Assigned {
        let cut = line.len() > self.opts.max_line_bytes;
        let head = if cut {
            &line[..self.opts.max_line_bytes]
        } else {
            line
        };
        let text = String::from_utf8_lossy(head);
        self.add_text(&text, cut)
    }

    /// Adds one message that is already text.
    pub fn add_str(&mut self, line: &str) -> Assigned {
        if line.len() > self.opts.max_line_bytes {
            let mut end = self.opts.max_line_bytes;
            while !line.is_char_boundary(end) {
                end -= 1;
            }
            self.add_text(&line[..end], true)
        } else {
            self.add_text(line, false)
        }
    }

    fn add_text(&mut self, text: &str, cut: bool) -> Assigned {
        self.lines += 1;
        let mut buf = std::mem::take(&mut self.buf);
        let tokens = mask::mask_message(text, self.opts.max_tokens, &mut buf);
        let assigned = if tokens == 0 {
            self.empty_lines += 1;
            Assigned::Empty
        } else {
            if cut {
                self.truncated_lines += 1;
                if !buf.ends_with(TRUNCATED) {
                    buf.push(' ');
                    buf.push_str(TRUNCATED);
                }
            }
            self.shape_of(&buf, text)
        };
        self.buf = buf;
        assigned
    }

    fn shape_of(&mut self, key: &str, text: &str) -> Assigned {
        if let Some(&id) = self.index.get(key) {
            self.shapes[id as usize].count += 1;
            return Assigned::Shape(id);
        }
        if self.shapes.len() >= self.opts.max_patterns {
            self.overflow_lines += 1;
            return Assigned::Overflow;
        }
        let id = u32::try_from(self.shapes.len()).unwrap_or(u32::MAX);
        self.index.insert(key.into(), id);
        self.shapes.push(Shape {
            count: 1,
            example: example_of(text, self.opts.example_bytes),
        });
        Assigned::Shape(id)
    }

    /// Lines added so far.
    pub fn lines(&self) -> u64 {
        self.lines
    }

    /// Merges the shapes into patterns.
    pub fn finish(self) -> Grouping {
        let Templater {
            opts,
            index,
            shapes,
            lines,
            empty_lines,
            overflow_lines,
            truncated_lines,
            ..
        } = self;
        let mut templates: Vec<Box<str>> = vec![Box::from(""); shapes.len()];
        for (key, id) in index {
            templates[id as usize] = key;
        }
        let tokens: Vec<Vec<String>> = templates
            .iter()
            .map(|t| t.split(' ').map(str::to_string).collect())
            .collect();
        let (root, merged) = merge(tokens, opts.merge_min_distinct);

        // Groups whose merged templates came out equal are one pattern.
        let mut by_template: HashMap<String, u32> = HashMap::new();
        let mut patterns: Vec<Pattern> = Vec::new();
        let mut group_pattern: HashMap<usize, u32> = HashMap::new();
        for (shape, r) in root.iter().enumerate() {
            let pi = match group_pattern.entry(*r) {
                Entry::Occupied(e) => *e.get(),
                Entry::Vacant(e) => {
                    let template = merged[*r].join(" ");
                    let pi = *by_template.entry(template.clone()).or_insert_with(|| {
                        patterns.push(Pattern {
                            id: pattern_id(&template),
                            template,
                            count: 0,
                            example: shapes[shape].example.clone(),
                        });
                        u32::try_from(patterns.len() - 1).unwrap_or(u32::MAX)
                    });
                    *e.insert(pi)
                }
            };
            patterns[pi as usize].count += shapes[shape].count;
        }
        let mut order: Vec<usize> = (0..patterns.len()).collect();
        order.sort_by(|&a, &b| {
            patterns[b]
                .count
                .cmp(&patterns[a].count)
                .then_with(|| patterns[a].template.cmp(&patterns[b].template))
        });
        let mut new_pos = vec![0u32; patterns.len()];
        for (pos, &old) in order.iter().enumerate() {
            new_pos[old] = u32::try_from(pos).unwrap_or(u32::MAX);
        }
        let shape_to_pattern = root
            .iter()
            .map(|r| new_pos[group_pattern[r] as usize])
            .collect();
        let mut slots: Vec<Option<Pattern>> = patterns.into_iter().map(Some).collect();
        let patterns = order.iter().filter_map(|&i| slots[i].take()).collect();
        Grouping {
            patterns,
            shape_to_pattern,
            lines,
            empty_lines,
            overflow_lines,
            truncated_lines,
            max_patterns: opts.max_patterns,
        }
    }
}

pub(crate) fn example_of(text: &str, max: usize) -> String {
    let text = text.trim_end_matches(['\r', '\n']);
    if text.len() <= max {
        return text.to_string();
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &text[..end])
}

/// 12 hex digits of the template's FNV-1a hash: short enough to type, and stable.
pub fn pattern_id(template: &str) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in template.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    format!("{:012x}", h >> 16)
}

fn hash_of(s: &str) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    s.hash(&mut h);
    h.finish()
}

/// Whether a token holds a value: a digit (`FNANLI5`) or a wildcard from masking.
fn looks_variable(token: &str) -> bool {
    token.contains(WILDCARD) || token.bytes().any(|b| b.is_ascii_digit())
}

/// Stage 2: unions shapes of equal length that differ in one token (see the module docs) until
/// nothing more merges. Returns each shape's group root and, per root, the merged tokens.
fn merge(tokens: Vec<Vec<String>>, min_distinct: usize) -> (Vec<usize>, Vec<Vec<String>>) {
    let n = tokens.len();
    let mut parent: Vec<usize> = (0..n).collect();
    let mut merged = tokens;
    for _pass in 0..8 {
        let roots: Vec<usize> = (0..n).filter(|&i| find(&mut parent, i) == i).collect();
        // Per group: one hash per token, and prefix/suffix combinations so the key "all tokens
        // but position p" costs O(1) per position.
        let mut buckets: HashMap<(usize, usize, u64, u64), Vec<usize>> = HashMap::new();
        for &r in &roots {
            let t = &merged[r];
            let hs: Vec<u64> = t.iter().map(|s| hash_of(s)).collect();
            let mut prefix = vec![0u64; hs.len() + 1];
            for (i, h) in hs.iter().enumerate() {
                prefix[i + 1] = prefix[i].rotate_left(5) ^ h.wrapping_mul(0x9e37_79b9_7f4a_7c15);
            }
            let mut suffix = vec![0u64; hs.len() + 1];
            for i in (0..hs.len()).rev() {
                suffix[i] =
                    suffix[i + 1].rotate_left(7) ^ hs[i].wrapping_mul(0xc2b2_ae3d_27d4_eb4f);
            }
            for p in 0..hs.len() {
                buckets
                    .entry((hs.len(), p, prefix[p], suffix[p + 1]))
                    .or_default()
                    .push(r);
            }
        }
        let mut changed = false;
        let mut keys: Vec<_> = buckets.keys().copied().collect();
        keys.sort_unstable();
        for key in keys {
            let members = &buckets[&key];
            if members.len() < 2 {
                continue;
            }
            let p = key.1;
            let first = &merged[members[0]];
            // Hash collisions are possible: keep only the groups that really match the first.
            let same: Vec<usize> = members
                .iter()
                .copied()
                .filter(|&m| {
                    merged[m]
                        .iter()
                        .zip(first)
                        .enumerate()
                        .all(|(i, (a, b))| i == p || a == b)
                })
                .collect();
            if same.len() < 2 {
                continue;
            }
            let valued = same.iter().all(|&m| looks_variable(&merged[m][p]));
            if !valued && same.len() < min_distinct {
                continue;
            }
            for &m in &same[1..] {
                let (a, b) = (find(&mut parent, same[0]), find(&mut parent, m));
                if a != b {
                    parent[b] = a;
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
        // New merged tokens per root: column-wise generalisation of the old groups under it.
        let mut members: HashMap<usize, Vec<usize>> = HashMap::new();
        for &r in &roots {
            members.entry(find(&mut parent, r)).or_default().push(r);
        }
        for (root, old) in members {
            if old.len() < 2 {
                continue;
            }
            let len = merged[old[0]].len();
            let columns: Vec<String> = (0..len)
                .map(|i| generalize(old.iter().map(|&g| merged[g][i].as_str())))
                .collect();
            merged[root] = columns;
        }
    }
    let root = (0..n).map(|i| find(&mut parent, i)).collect();
    (root, merged)
}

fn find(parent: &mut [usize], mut i: usize) -> usize {
    while parent[i] != i {
        parent[i] = parent[parent[i]];
        i = parent[i];
    }
    i
}

/// One token for several values: the value if they agree, else their common prefix and suffix
/// (cut back to punctuation, so no half words survive) around a wildcard.
fn generalize<'a>(mut values: impl Iterator<Item = &'a str>) -> String {
    let Some(first) = values.next() else {
        return String::new();
    };
    let mut prefix = first.len();
    let mut suffix = first.len();
    let mut all_equal = true;
    let mut shortest = first.len();
    for v in values {
        if v != first {
            all_equal = false;
        }
        shortest = shortest.min(v.len());
        prefix = common_prefix(&first[..prefix], v);
        suffix = common_suffix(&first[first.len() - suffix..], v);
    }
    if all_equal {
        return first.to_string();
    }
    let fb = first.as_bytes();
    // Cut the prefix back to just after punctuation, the suffix forward to punctuation.
    while prefix > 0 && is_word_byte(fb[prefix - 1]) {
        prefix -= 1;
    }
    let mut s_start = first.len() - suffix;
    while s_start < first.len() && is_word_byte(fb[s_start]) {
        s_start += 1;
    }
    if prefix + (first.len() - s_start) > shortest {
        s_start = first.len();
    }
    let mut out = first[..prefix].to_string();
    mask::push_wildcard(&mut out);
    let rest = &first[s_start.max(prefix)..];
    // A suffix that starts with the wildcard folds into it.
    out.push_str(rest.strip_prefix(WILDCARD).unwrap_or(rest));
    out
}

fn is_word_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b >= 0x80 || b == b'*' || b == b'<' || b == b'>'
}

fn common_prefix(a: &str, b: &str) -> usize {
    let n = a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count();
    let mut n = n;
    while !a.is_char_boundary(n) {
        n -= 1;
    }
    n
}

fn common_suffix(a: &str, b: &str) -> usize {
    let n = a
        .bytes()
        .rev()
        .zip(b.bytes().rev())
        .take_while(|(x, y)| x == y)
        .count();
    let mut n = n;
    while !a.is_char_boundary(a.len() - n) {
        n -= 1;
    }
    n
}

#[cfg(test)]
mod tests;
