//! LogHub-2k: grouping accuracy (GA) and parsing accuracy (PA) of obs's log templater on
//! the five systems in `$OBS_SHARED_DIR/datasets/loghub` (default `../shared` next to the
//! crate), next to Drain's published GA (Jiang et al., ISSTA 2024, corrected labels).
//!
//! Each raw line is split with the system's published Drain `log_format` (the dataset's
//! README) so that only the message is templated, and the message is checked against the
//! labelled `Content` column. Every system runs with `Options::default()`: the same rules and
//! parameters for all, no per-system regexes. The data is read in place, never copied.
//! Run: `cargo bench --bench loghub` (exits 1 if a target is missed: GA ≥ Drain's on every
//! system, mean PA ≥ 0.5).
//!
//! Data: LogHub (Zhu et al., ISSRE 2023) with the Loghub-2.0 corrected labels (Jiang et al.,
//! ISSTA 2024), https://github.com/logpai/loghub-2.0, research use only.

use std::collections::HashMap;
use std::path::PathBuf;

use obs::analysis::patterns::{Assigned, Options, Templater};

/// (system, log_format, Drain GA on the corrected 2k labels).
const SYSTEMS: [(&str, &str, f64); 5] = [
    (
        "HDFS",
        "<Date> <Time> <Pid> <Level> <Component>: <Content>",
        0.998,
    ),
    (
        "Hadoop",
        r"<Date> <Time> <Level> \[<Process>\] <Component>: <Content>",
        0.948,
    ),
    (
        "Spark",
        "<Date> <Time> <Level> <Component>: <Content>",
        0.922,
    ),
    (
        "Zookeeper",
        r"<Date> <Time> - <Level>  \[<Node>:<Component>@<Id>\] - <Content>",
        0.967,
    ),
    (
        "BGL",
        "<Label> <Timestamp> <Date> <Node> <Time> <NodeRepeat> <Type> <Component> <Level> <Content>",
        0.963,
    ),
];

fn shared_dir() -> PathBuf {
    std::env::var_os("OBS_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"))
}

/// Loghub-2.0's `Drain.py` regex for a log format: `<F>` → a lazy group, spaces → `\s+`,
/// anchored.
fn format_regex(format: &str) -> regex::Regex {
    let mut re = String::from("^");
    let mut rest = format;
    while let Some(start) = rest.find('<') {
        let literal = &rest[..start];
        re.push_str(&spaces_to_ws(literal));
        let end = rest[start..].find('>').map_or(rest.len(), |e| start + e);
        let name = &rest[start + 1..end];
        re.push_str(&format!("(?P<{name}>.*?)"));
        rest = &rest[(end + 1).min(rest.len())..];
    }
    re.push_str(&spaces_to_ws(rest));
    re.push('$');
    regex::Regex::new(&re).expect("the published log formats are valid regexes")
}

fn spaces_to_ws(literal: &str) -> String {
    let mut out = String::new();
    let mut in_space = false;
    for c in literal.chars() {
        if c == ' ' {
            if !in_space {
                out.push_str(r"\s+");
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out
}

/// RFC 4180 rows (quoted fields, `""` escapes, newlines inside quotes).
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\r') => {}
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

struct Labelled {
    content: Vec<String>,
    event: Vec<String>,
    template: Vec<String>,
}

fn load(dir: &std::path::Path, system: &str, format: &str) -> Result<Labelled, String> {
    let read = |name: String| {
        std::fs::read_to_string(dir.join(system).join(&name))
            .map_err(|e| format!("cannot read {}: {e}", dir.join(system).join(name).display()))
    };
    let raw = read(format!("{system}_2k.log"))?;
    let csv = read(format!("{system}_2k.log_structured_corrected.csv"))?;
    let rows = csv_rows(&csv);
    let header = rows.first().ok_or("empty csv")?;
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h == name)
            .ok_or(format!("no {name} column"))
    };
    let (c, e, t) = (col("Content")?, col("EventId")?, col("EventTemplate")?);
    let re = format_regex(format);
    let mut labelled = Labelled {
        content: Vec::new(),
        event: Vec::new(),
        template: Vec::new(),
    };
    for (line, row) in raw.lines().zip(&rows[1..]) {
        let caps = re.captures(line.trim()).ok_or(format!(
            "{system}: a line does not match its format: {line}"
        ))?;
        let content = caps.name("Content").map_or("", |m| m.as_str());
        if content != row[c] {
            return Err(format!(
                "{system}: header split gives {content:?}, the label file has {:?}",
                row[c]
            ));
        }
        labelled.content.push(content.to_string());
        labelled.event.push(row[e].clone());
        labelled.template.push(row[t].clone());
    }
    Ok(labelled)
}

/// GA: a line is correct when its predicted group is exactly its labelled event's lines.
fn grouping_accuracy(predicted: &[usize], truth: &[String]) -> f64 {
    let mut truth_size: HashMap<&str, usize> = HashMap::new();
    for t in truth {
        *truth_size.entry(t).or_default() += 1;
    }
    let mut groups: HashMap<usize, Vec<usize>> = HashMap::new();
    for (i, p) in predicted.iter().enumerate() {
        groups.entry(*p).or_default().push(i);
    }
    let mut correct = 0;
    for lines in groups.values() {
        let first = truth[lines[0]].as_str();
        if lines.iter().all(|&l| truth[l] == first) && truth_size[first] == lines.len() {
            correct += lines.len();
        }
    }
    correct as f64 / truth.len() as f64
}

fn main() {
    let dir = shared_dir().join("datasets/loghub");
    if !dir.is_dir() {
        println!(
            "loghub: skipped, {} not found (set OBS_SHARED_DIR to the shared data folder)",
            dir.display()
        );
        return;
    }
    let verbose = std::env::args().any(|a| a == "--errors");
    println!("LogHub-2k, obs templater with Options::default() on every system");
    println!(
        "{:<10} {:>7} {:>9} {:>7} {:>9} {:>10}",
        "system", "GA", "Drain GA", "PA", "patterns", "templates"
    );
    let mut pa_sum = 0.0;
    let mut ga_ok = true;
    for (system, format, drain_ga) in SYSTEMS {
        let data = match load(&dir, system, format) {
            Ok(d) => d,
            Err(e) => {
                println!("{system}: skipped, {e}");
                ga_ok = false;
                continue;
            }
        };
        let mut t = Templater::new(Options::default());
        let assigned: Vec<Assigned> = data.content.iter().map(|c| t.add_str(c)).collect();
        let grouping = t.finish();
        let predicted: Vec<usize> = assigned
            .iter()
            .enumerate()
            .map(|(i, a)| grouping.pattern_index(*a).unwrap_or(usize::MAX - i))
            .collect();
        let ga = grouping_accuracy(&predicted, &data.event);
        let templates: Vec<&str> = assigned
            .iter()
            .map(|a| grouping.pattern(*a).map_or("", |p| p.template.as_str()))
            .collect();
        let pa = templates
            .iter()
            .zip(&data.template)
            .filter(|(p, t)| **p == t.as_str())
            .count() as f64
            / data.template.len() as f64;
        let distinct: std::collections::HashSet<&String> = data.event.iter().collect();
        println!(
            "{system:<10} {ga:>7.3} {drain_ga:>9.3} {pa:>7.3} {:>9} {:>10}{}",
            grouping.patterns.len(),
            distinct.len(),
            if ga + 5e-4 < drain_ga {
                "  (GA below Drain)"
            } else {
                ""
            }
        );
        if ga + 5e-4 < drain_ga {
            ga_ok = false;
        }
        pa_sum += pa;
        if verbose {
            let mut wrong: HashMap<(&str, &str), usize> = HashMap::new();
            for (p, t) in templates.iter().zip(&data.template) {
                if *p != t.as_str() {
                    *wrong.entry((t.as_str(), p)).or_default() += 1;
                }
            }
            let mut wrong: Vec<_> = wrong.into_iter().collect();
            wrong.sort_by_key(|w| std::cmp::Reverse(w.1));
            for ((truth, got), n) in wrong.iter().take(25) {
                println!("    {n:>4}  label {truth}\n          obs   {got}");
            }
        }
    }
    let mean_pa = pa_sum / SYSTEMS.len() as f64;
    println!("mean PA {mean_pa:.3} (target ≥ 0.5; Drain ≈ 0.3)");
    if !ga_ok || mean_pa < 0.5 {
        println!("a target is missed");
        std::process::exit(1);
    }
}
