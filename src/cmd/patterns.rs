//! `obs patterns [FILE|-]`: group the lines of a file or stdin into log patterns, and the
//! same grouping for what `obs logs --patterns` fetched.
//!
//! Owns the I/O around the pure templater (`analysis::patterns`): reading lines with a
//! bounded buffer (a 10 MB line or a file without newlines costs at most the templating
//! limit), and printing through `report::patterns`. It must not template itself.

use std::io::{BufRead, IsTerminal};
use std::path::Path;

use anyhow::Context as _;

use crate::analysis::patterns::{Assigned, Grouping, Options, Templater};
use crate::cli::{Cli, Output, PatternsArgs};
use crate::report::patterns as render;

use super::{print, terminal_width, use_color};

/// Calls `each` with every line of `reader` (without `\n` / `\r\n`), keeping at most
/// `keep + 1` bytes of a line in memory: a longer line is passed cut, which the templater
/// sees as longer than its limit and marks as truncated.
pub fn for_each_line(
    mut reader: impl BufRead,
    keep: usize,
    mut each: impl FnMut(&[u8]),
) -> std::io::Result<()> {
    let mut line: Vec<u8> = Vec::new();
    let mut pending = false;
    loop {
        let buf = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if buf.is_empty() {
            if pending {
                finish_line(&mut line, &mut each);
            }
            return Ok(());
        }
        let (chunk, used, end) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], i + 1, true),
            None => (buf, buf.len(), false),
        };
        let room = (keep + 1).saturating_sub(line.len());
        line.extend_from_slice(&chunk[..chunk.len().min(room)]);
        reader.consume(used);
        pending = !end;
        if end {
            finish_line(&mut line, &mut each);
        }
    }
}

fn finish_line(line: &mut Vec<u8>, each: &mut impl FnMut(&[u8])) {
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    each(line);
    line.clear();
}

pub fn run(cli: &Cli, args: &PatternsArgs) -> anyhow::Result<u8> {
    let opts = Options {
        max_patterns: args.max_patterns.max(1),
        ..Options::default()
    };
    let keep = opts.max_line_bytes;
    let mut templater = Templater::new(opts);
    let mut assigned: Vec<Assigned> = Vec::new();
    let per_line = args.per_line;
    let mut add = |line: &[u8]| {
        let a = templater.add(line);
        if per_line {
            assigned.push(a);
        }
    };
    match args.file.as_deref() {
        None => read_stdin(keep, &mut add)?,
        Some(p) if p == Path::new("-") => read_stdin(keep, &mut add)?,
        Some(path) => {
            let file = std::fs::File::open(path).with_context(|| {
                format!(
                    "cannot open {}: check the path, or pass - for stdin",
                    path.display()
                )
            })?;
            for_each_line(
                std::io::BufReader::with_capacity(1 << 16, file),
                keep,
                &mut add,
            )
            .with_context(|| format!("cannot read {}", path.display()))?;
        }
    }
    let grouping = templater.finish();
    print_grouping(cli, &grouping, per_line.then_some(assigned.as_slice()))?;
    Ok(0)
}

fn read_stdin(keep: usize, add: &mut impl FnMut(&[u8])) -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    if stdin.is_terminal() {
        eprintln!("reading log lines from stdin (Ctrl-D ends; pass a FILE to read a file)");
    }
    for_each_line(stdin.lock(), keep, add).context("cannot read stdin")
}

/// The patterns of log records' bodies (`obs logs --patterns`).
pub fn group_records(records: &[crate::model::LogRecord]) -> Grouping {
    let mut templater = Templater::new(Options::default());
    for r in records {
        templater.add_str(&r.body);
    }
    templater.finish()
}

/// Prints a grouping as `-o` asks (per-line assignments when given), and its summary on
/// stderr unless `-q`.
pub fn print_grouping(
    cli: &Cli,
    grouping: &Grouping,
    per_line: Option<&[Assigned]>,
) -> anyhow::Result<()> {
    if !cli.global.quiet {
        for note in render::summary(grouping) {
            eprintln!("{note}");
        }
    }
    let text = match (per_line, cli.global.output) {
        (Some(assigned), _) => render::render_per_line(grouping, assigned),
        (None, Output::Json) => render::render_json_lines(grouping),
        (None, Output::Text | Output::Markdown) => {
            render::render_text(grouping, terminal_width(), use_color(cli.global.color))
        }
    };
    print(&text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(input: &[u8], keep: usize) -> Vec<Vec<u8>> {
        let mut got = Vec::new();
        // A tiny buffer, so lines straddle reads.
        let reader = std::io::BufReader::with_capacity(3, input);
        for_each_line(reader, keep, |l| got.push(l.to_vec())).expect("in-memory read");
        got
    }

    #[test]
    fn lines_are_split_on_newlines_with_crlf_and_a_last_line_without_newline() {
        assert_eq!(
            lines(b"a\r\nbb\n\nccc", 100),
            vec![b"a".to_vec(), b"bb".to_vec(), b"".to_vec(), b"ccc".to_vec()]
        );
        assert!(lines(b"", 100).is_empty());
    }

    #[test]
    fn a_long_line_is_kept_only_up_to_the_limit() {
        let mut input = vec![b'x'; 10_000];
        input.extend_from_slice(b"\nshort\n");
        let got = lines(&input, 16);
        assert_eq!(got[0].len(), 17);
        assert_eq!(got[1], b"short");
    }
}
