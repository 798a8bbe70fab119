//! The module rules of `docs/architecture.md`, checked on the source: no import cycle between
//! the top-level modules of `src/`, `analysis` and `model` do no I/O, renderers never query.
//!
//! A module's imports are the `crate::<module>` paths its files name (and `super::<module>` in
//! files directly under `src/`), test code included: a cycle only tests close is still one. The
//! I/O rules read the code without its tests (`tests.rs`, `testdata.rs`, `#[cfg(test)]` and
//! after).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The identifiers that follow each occurrence of `prefix` in `text`.
fn names_after<'a>(text: &'a str, prefix: &str) -> Vec<&'a str> {
    text.match_indices(prefix)
        .filter(|(i, _)| {
            // `crate::x`, not `obs_crate::x`.
            text[..*i]
                .chars()
                .next_back()
                .is_none_or(|c| !(c.is_alphanumeric() || c == '_'))
        })
        .map(|(i, _)| {
            let rest = &text[i + prefix.len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

struct Graph {
    /// Top-level module → the top-level modules it imports.
    imports: BTreeMap<String, BTreeSet<String>>,
    /// Top-level module → its files' text without their tests, for the rules about I/O (a
    /// test may read a recorded fixture).
    text: BTreeMap<String, String>,
}

fn graph() -> Graph {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let module_of = |path: &Path| -> String {
        let rel = path.strip_prefix(&src).unwrap();
        let first = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy();
        first.trim_end_matches(".rs").to_string()
    };
    let modules: BTreeSet<String> = files.iter().map(|f| module_of(f)).collect();
    let mut graph = Graph {
        imports: BTreeMap::new(),
        text: BTreeMap::new(),
    };
    for file in &files {
        let module = module_of(file);
        let text = std::fs::read_to_string(file).unwrap();
        let top_level = file.parent() == Some(src.as_path());
        let mut named = names_after(&text, "crate::");
        if top_level {
            named.extend(names_after(&text, "super::"));
        }
        let entry = graph.imports.entry(module.clone()).or_default();
        for name in named {
            if name != module && modules.contains(name) {
                entry.insert(name.to_string());
            }
        }
        let name = file.file_name().unwrap().to_string_lossy();
        let test_file = name == "tests.rs"
            || name == "testdata.rs"
            || file.components().any(|c| c.as_os_str() == "tests");
        if !test_file {
            let code = text.split("#[cfg(test)]").next().unwrap_or("");
            graph.text.entry(module).or_default().push_str(code);
        }
    }
    graph
}

/// A path from `from` back to itself, if the imports have one.
fn cycle_through(graph: &Graph, from: &str) -> Option<Vec<String>> {
    let mut stack = vec![(from.to_string(), vec![from.to_string()])];
    let mut seen = BTreeSet::new();
    while let Some((at, path)) = stack.pop() {
        for next in graph.imports.get(&at).into_iter().flatten() {
            if next == from {
                let mut cycle = path.clone();
                cycle.push(next.clone());
                return Some(cycle);
            }
            if seen.insert(next.clone()) {
                let mut longer = path.clone();
                longer.push(next.clone());
                stack.push((next.clone(), longer));
            }
        }
    }
    None
}

#[test]
fn no_import_cycle_between_top_level_modules() {
    let graph = graph();
    assert!(graph.imports.len() > 10, "{:?}", graph.imports.keys());
    let cycles: Vec<String> = graph
        .imports
        .keys()
        .filter_map(|m| cycle_through(&graph, m))
        .map(|c| c.join(" → "))
        .collect();
    assert!(cycles.is_empty(), "import cycles: {cycles:#?}");
}

#[test]
fn analysis_and_model_do_no_io_and_know_no_backend() {
    let graph = graph();
    for module in ["analysis", "model"] {
        let imports = &graph.imports[module];
        for forbidden in [
            "source",
            "store",
            "sink",
            "investigate",
            "cmd",
            "app",
            "report",
        ] {
            assert!(
                !imports.contains(forbidden),
                "{module} imports {forbidden}: {imports:?}"
            );
        }
        let text = &graph.text[module];
        for io in [
            "reqwest", "tokio", "axum", "tonic", "rusqlite", "std::fs", "std::net",
        ] {
            assert!(!text.contains(io), "{module} uses {io}");
        }
    }
}

#[test]
fn renderers_never_query() {
    let graph = graph();
    let imports = &graph.imports["report"];
    for forbidden in ["source", "store", "investigate", "cmd", "app"] {
        assert!(
            !imports.contains(forbidden),
            "report imports {forbidden}: {imports:?}"
        );
    }
    for io in ["reqwest", "tokio", "rusqlite"] {
        assert!(!graph.text["report"].contains(io), "report uses {io}");
    }
}
