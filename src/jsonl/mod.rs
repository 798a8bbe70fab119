//! OTLP JSON Lines files, as the OpenTelemetry file exporter specifies them
//! (<https://opentelemetry.io/docs/specs/otel/protocol/file-exporter/>) and the Collector's
//! `fileexporter` writes them: one `TracesData`, `LogsData` or `MetricsData` object per line in
//! the OTLP/JSON encoding (hex ids, lowerCamelCase keys, 64-bit integers as strings, enums as
//! integers), optionally gzip-compressed.
//!
//! [`export`] writes a store's signal as such a file; [`import`] reads files into a store
//! through its writer, so an import is idempotent exactly as the sink is (re-importing a file
//! adds nothing). A bad line is reported with its number and the rest of the file imported.
//! The OTLP/JSON itself is `opentelemetry-proto`'s serde derives, decoded by the sink's own
//! checks (`sink::decode`), so a file line and a request body are held to the same rules.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;

use crate::sink::decode::{self, Encoding, Signal};
use crate::store::{
    ExportSignal, ExportWindow, Payload, Prepared, Receipt, Store, StoreError, WriterConfig,
    WriterHandle, spawn_writer,
};

/// Items (spans, log records, data points) per line written by [`export`].
pub const LINE_ITEMS: usize = 512;

/// Receipts of submitted lines not yet committed, at most: enough to keep the writer's group
/// commit fed, little enough to bound memory.
const IN_FLIGHT: usize = 32;

/// WAL pages (4 KiB) after which the checkpoint thread copies what an import wrote into the
/// database file while the import goes on (8 MiB): with the sink's larger default, a whole
/// import of tens of MB waits in the WAL and is copied at the end, after the last line.
const IMPORT_CHECKPOINT_PAGES: u32 = 2_048;

/// How many bad lines an import names in its error; the rest are counted.
const MAX_NAMED: usize = 10;

const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// What one export wrote.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Exported {
    pub lines: u64,
    pub items: u64,
}

/// Writes the `signal`'s data of `store` in `window` to `out`, one JSON object per line.
///
/// The store is read on this thread and the lines are encoded as JSON on a second one (the
/// two cost about the same), written to `out` here in the order they were read.
pub fn export(
    store: &Store,
    signal: ExportSignal,
    window: ExportWindow,
    out: &mut dyn Write,
) -> Result<Exported, ExportError> {
    let mut done = Exported::default();
    std::thread::scope(|scope| {
        let (to_encode, payloads) = std::sync::mpsc::sync_channel::<Payload>(ENCODING_AHEAD);
        let (encoded, lines) = std::sync::mpsc::channel::<(serde_json::Result<Vec<u8>>, Payload)>();
        scope.spawn(move || {
            for payload in payloads {
                let mut line = Vec::with_capacity(1 << 20);
                let result = match &payload {
                    Payload::Traces(r) => serde_json::to_writer(&mut line, r),
                    Payload::Logs(r) => serde_json::to_writer(&mut line, r),
                    Payload::Metrics(r) => metrics_json(r, &mut line),
                };
                line.push(b'\n');
                // The payload goes back to be freed where it was allocated: glibc's malloc
                // frees memory of another thread's arena under that arena's lock, which made
                // the encoder thread cost more than it saved.
                if encoded.send((result.map(|()| line), payload)).is_err() {
                    break;
                }
            }
        });
        let mut write = |(line, payload): (serde_json::Result<Vec<u8>>, Payload)| {
            let items = payload.item_count();
            drop(payload);
            let line = line.map_err(|e| ExportError::Io(io::Error::other(e)))?;
            out.write_all(&line).map_err(ExportError::Io)?;
            done.lines += 1;
            done.items += items;
            Ok::<(), ExportError>(())
        };
        let mut sent = 0u64;
        let mut written = 0u64;
        let read = store.export(signal, window, LINE_ITEMS, &mut |payload: Payload| {
            // The encoder only stops early when this side hangs up.
            let _ = to_encode.send(payload);
            sent += 1;
            while let Ok(line) = lines.try_recv() {
                written += 1;
                write(line)?;
            }
            Ok::<(), ExportError>(())
        });
        drop(to_encode);
        read?;
        while written < sent {
            let Ok(line) = lines.recv() else {
                // Only a panic stops the encoder with lines outstanding; the scope raises it.
                break;
            };
            written += 1;
            write(line)?;
        }
        Ok::<(), ExportError>(())
    })?;
    out.flush().map_err(ExportError::Io)?;
    Ok(done)
}

/// Payloads read from the store ahead of the JSON encoder, at most.
const ENCODING_AHEAD: usize = 4;

/// Stand-ins for NaN, +Inf and -Inf while serialising: serde_json writes non-finite numbers as
/// `null`, while OTLP/JSON (proto3) spells them `"NaN"`, `"Infinity"`, `"-Infinity"`. The three
/// smallest subnormals, which no measurement produces.
const NON_FINITE: [(u64, &str); 3] = [(1, "NaN"), (2, "Infinity"), (3, "-Infinity")];

fn stand_in(v: &mut f64) -> bool {
    let bits = if v.is_nan() {
        1
    } else if *v == f64::INFINITY {
        2
    } else if *v == f64::NEG_INFINITY {
        3
    } else {
        return false;
    };
    *v = f64::from_bits(bits);
    true
}

/// A metrics request as OTLP/JSON, with non-finite point and exemplar values as the strings
/// proto3 JSON uses (what `sink::decode` reads back).
fn metrics_json(
    r: &crate::store::ExportMetricsServiceRequest,
    out: &mut Vec<u8>,
) -> serde_json::Result<()> {
    use opentelemetry_proto::tonic::metrics::v1::{
        Exemplar, NumberDataPoint, exemplar, metric::Data, number_data_point,
    };
    fn in_exemplars(list: &mut [Exemplar]) -> bool {
        let mut changed = false;
        for e in list {
            if let Some(exemplar::Value::AsDouble(v)) = &mut e.value {
                changed |= stand_in(v);
            }
        }
        changed
    }
    fn in_points(points: &mut [NumberDataPoint]) -> bool {
        let mut changed = false;
        for p in points {
            if let Some(number_data_point::Value::AsDouble(v)) = &mut p.value {
                changed |= stand_in(v);
            }
            changed |= in_exemplars(&mut p.exemplars);
        }
        changed
    }
    let mut copy = r.clone();
    let mut changed = false;
    for m in copy
        .resource_metrics
        .iter_mut()
        .flat_map(|rm| &mut rm.scope_metrics)
        .flat_map(|sm| &mut sm.metrics)
    {
        changed |= match &mut m.data {
            Some(Data::Gauge(g)) => in_points(&mut g.data_points),
            Some(Data::Sum(g)) => in_points(&mut g.data_points),
            Some(Data::Histogram(h)) => h
                .data_points
                .iter_mut()
                .fold(false, |c, p| in_exemplars(&mut p.exemplars) | c),
            _ => false,
        };
    }
    if !changed {
        return serde_json::to_writer(out, r);
    }
    let mut value = serde_json::to_value(&copy)?;
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Number(n) => {
                if let Some(f) = n.as_f64()
                    && let Some((_, text)) = NON_FINITE.iter().find(|(b, _)| f.to_bits() == *b)
                {
                    *v = serde_json::Value::String((*text).to_string());
                }
            }
            serde_json::Value::Array(a) => a.iter_mut().for_each(walk),
            serde_json::Value::Object(o) => o.values_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut value);
    serde_json::to_writer(out, &value)
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("writing the export: {0}")]
    Io(io::Error),
}

/// What importing files amounted to.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Imported {
    pub files: u64,
    pub lines: u64,
    /// Items stored (including ones the store already held: imports are idempotent).
    pub accepted: u64,
    /// Items the store refused (invalid ids, malformed points, …), with the first reasons.
    pub rejected: u64,
    pub rejections: Vec<String>,
    /// Lines that are not an OTLP JSON object, with their file and line number.
    pub bad_lines: Vec<BadLine>,
    pub bad_line_count: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BadLine {
    pub file: String,
    pub line: u64,
    pub reason: String,
}

impl fmt::Display for BadLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.file, self.line, self.reason)
    }
}

/// A file that cannot be imported at all (what it holds before the failure is imported).
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{}: {source}", path.display())]
    Open {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{}: is zstd-compressed, which obs does not read; decompress it first (`zstd -d {}`) or export with gzip", path.display(), path.display())]
    Zstd { path: PathBuf },
    #[error("{}: not an OTLP JSON Lines file: {reason}; expected one TracesData, LogsData or MetricsData JSON object per line (the OpenTelemetry file exporter's format)", path.display())]
    NotOtlp { path: PathBuf, reason: String },
    #[error("{}: the gzip stream is truncated or corrupt after line {line} ({source}); the {line} lines before it were imported", path.display())]
    Gzip {
        path: PathBuf,
        line: u64,
        #[source]
        source: io::Error,
    },
    #[error("{}: reading line {line}: {source}", path.display())]
    Read {
        path: PathBuf,
        line: u64,
        #[source]
        source: io::Error,
    },
}

/// Imports `files` into the store at `store` (created when missing) through the store writer.
/// Bad lines are recorded in the result and skipped; a file that is not OTLP JSON Lines at all,
/// a truncated gzip stream or a store error stops the import with an error (what was read
/// before it is committed).
pub fn import(files: &[PathBuf], store: &Path) -> Result<Imported, ImportError> {
    let config = WriterConfig {
        checkpoint_pages: IMPORT_CHECKPOINT_PAGES,
        ..WriterConfig::default()
    };
    let (handle, writer) = spawn_writer(store, config)?;
    let mut imported = Imported::default();
    let mut result = Ok(());
    for file in files {
        if let Err(e) = import_file(&handle, file, &mut imported) {
            result = Err(e);
            break;
        }
        imported.files += 1;
    }
    drop(handle);
    writer.shutdown()?;
    result.map(|()| imported)
}

fn import_file(
    handle: &WriterHandle,
    path: &Path,
    imported: &mut Imported,
) -> Result<(), ImportError> {
    let open_err = |source| ImportError::Open {
        path: path.to_path_buf(),
        source,
    };
    let mut reader =
        BufReader::with_capacity(1 << 20, std::fs::File::open(path).map_err(open_err)?);
    let head = reader.fill_buf().map_err(open_err)?.to_vec();
    if head.starts_with(&ZSTD_MAGIC) {
        return Err(ImportError::Zstd {
            path: path.to_path_buf(),
        });
    }
    let gzip = head.starts_with(&GZIP_MAGIC);
    let mut reader_lines: Box<dyn BufRead> = if gzip {
        Box::new(BufReader::with_capacity(
            1 << 20,
            MultiGzDecoder::new(reader),
        ))
    } else {
        Box::new(reader)
    };
    let mut lines = Lines {
        name: path.display().to_string(),
        pending: Default::default(),
        good: 0,
        first_bad: None,
    };
    let mut buf = Vec::with_capacity(1 << 20);
    let mut number = 0u64;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get().min(MAX_WORKERS));
    std::thread::scope(|scope| -> Result<(), ImportError> {
        let mut parsing = Parsing::start(scope, workers);
        loop {
            buf.clear();
            match reader_lines.read_until(b'\n', &mut buf) {
                Ok(0) => break,
                Ok(_) => {}
                Err(source) => {
                    parsing.finish(&mut lines, handle, imported)?;
                    finish(&mut lines.pending, imported)?;
                    return Err(if gzip {
                        ImportError::Gzip {
                            path: path.to_path_buf(),
                            line: number,
                            source,
                        }
                    } else {
                        ImportError::Read {
                            path: path.to_path_buf(),
                            line: number + 1,
                            source,
                        }
                    });
                }
            }
            number += 1;
            let line = trim(&buf);
            if line.is_empty() {
                continue;
            }
            if parsing.sent == 0 && line.starts_with(b"{") && !line.ends_with(b"}") {
                // Not one object per line but (pretty-printed) JSON documents, as the OTLP
                // examples are: read them whole.
                let mut all = buf.clone();
                if let Err(source) = reader_lines.read_to_end(&mut all) {
                    return Err(ImportError::Read {
                        path: path.to_path_buf(),
                        line: number,
                        source,
                    });
                }
                return import_documents(handle, path, &all, imported);
            }
            parsing.send(number, line.to_vec(), &mut lines, handle, imported)?;
        }
        parsing.finish(&mut lines, handle, imported)
    })?;
    finish(&mut lines.pending, imported)?;
    if lines.good == 0
        && let Some(reason) = lines.first_bad
    {
        return Err(ImportError::NotOtlp {
            path: path.to_path_buf(),
            reason: format!("line 1: {reason}"),
        });
    }
    Ok(())
}

/// Threads parsing lines for an import, at most (parsing and preparing a line for the store
/// is most of an import's work; the writer thread does the rest).
const MAX_WORKERS: usize = 4;

/// What has become of one file's lines so far, in file order.
struct Lines {
    name: String,
    pending: std::collections::VecDeque<Receipt>,
    good: u64,
    first_bad: Option<String>,
}

impl Lines {
    /// Line `number`'s outcome: submitted to the writer, or recorded as a bad line.
    fn take(
        &mut self,
        number: u64,
        parsed: Result<Prepared, String>,
        handle: &WriterHandle,
        imported: &mut Imported,
    ) -> Result<(), ImportError> {
        match parsed {
            Ok(prepared) => {
                self.good += 1;
                imported.lines += 1;
                self.pending.push_back(submit(handle, prepared)?);
                if self.pending.len() >= IN_FLIGHT {
                    finish_one(&mut self.pending, imported)?;
                }
            }
            Err(reason) => {
                if self.first_bad.is_none() {
                    self.first_bad = Some(reason.clone());
                }
                imported.bad_line_count += 1;
                if imported.bad_lines.len() < MAX_NAMED {
                    imported.bad_lines.push(BadLine {
                        file: self.name.clone(),
                        line: number,
                        reason,
                    });
                }
            }
        }
        Ok(())
    }
}

type Parsed = (u64, u64, Result<Prepared, String>);

/// Lines parsed and prepared for the store on worker threads, handed on in file order (the
/// order matters: delta metrics become cumulative in the order their points arrive).
struct Parsing {
    work: Option<std::sync::mpsc::SyncSender<(u64, u64, Vec<u8>)>>,
    done: std::sync::mpsc::Receiver<Parsed>,
    /// Lines sent to the workers, and the sequence number of the next one to hand on.
    sent: u64,
    next: u64,
    early: std::collections::BTreeMap<u64, (u64, Result<Prepared, String>)>,
    workers: usize,
}

impl Parsing {
    fn start<'scope>(scope: &'scope std::thread::Scope<'scope, '_>, workers: usize) -> Parsing {
        let (work, queue) = std::sync::mpsc::sync_channel::<(u64, u64, Vec<u8>)>(workers);
        let (done_tx, done) = std::sync::mpsc::channel();
        let queue = std::sync::Arc::new(std::sync::Mutex::new(queue));
        for _ in 0..workers {
            let queue = queue.clone();
            let done_tx = done_tx.clone();
            scope.spawn(move || {
                loop {
                    let next = queue.lock().map(|q| q.recv());
                    let Ok(Ok((seq, number, line))) = next else {
                        break;
                    };
                    let parsed = parse_line(&line).map(Payload::prepare);
                    if done_tx.send((seq, number, parsed)).is_err() {
                        break;
                    }
                }
            });
        }
        Parsing {
            work: Some(work),
            done,
            sent: 0,
            next: 0,
            early: Default::default(),
            workers,
        }
    }

    /// Queues line `number`, handing on what is parsed meanwhile; waits for the oldest line
    /// once a few per worker are in flight.
    fn send(
        &mut self,
        number: u64,
        line: Vec<u8>,
        lines: &mut Lines,
        handle: &WriterHandle,
        imported: &mut Imported,
    ) -> Result<(), ImportError> {
        if let Some(work) = &self.work {
            // The workers only stop when this side hangs up.
            let _ = work.send((self.sent, number, line));
        }
        self.sent += 1;
        while let Ok(parsed) = self.done.try_recv() {
            self.arrived(parsed, lines, handle, imported)?;
        }
        while self.sent - self.next > 2 * self.workers as u64 {
            self.wait_one(lines, handle, imported)?;
        }
        Ok(())
    }

    /// Hands on every line sent and stops the workers.
    fn finish(
        &mut self,
        lines: &mut Lines,
        handle: &WriterHandle,
        imported: &mut Imported,
    ) -> Result<(), ImportError> {
        self.work = None;
        while self.next < self.sent {
            self.wait_one(lines, handle, imported)?;
        }
        Ok(())
    }

    fn wait_one(
        &mut self,
        lines: &mut Lines,
        handle: &WriterHandle,
        imported: &mut Imported,
    ) -> Result<(), ImportError> {
        let before = self.next;
        while self.next == before {
            match self.done.recv() {
                Ok(parsed) => self.arrived(parsed, lines, handle, imported)?,
                // Every worker gone with lines outstanding: only a panic does that.
                Err(_) => panic!("an import's parsing threads stopped"),
            }
        }
        Ok(())
    }

    fn arrived(
        &mut self,
        (seq, number, parsed): Parsed,
        lines: &mut Lines,
        handle: &WriterHandle,
        imported: &mut Imported,
    ) -> Result<(), ImportError> {
        self.early.insert(seq, (number, parsed));
        while let Some((number, parsed)) = self.early.remove(&self.next) {
            self.next += 1;
            lines.take(number, parsed, handle, imported)?;
        }
        Ok(())
    }
}

/// A file of whole JSON documents (not one per line): each document is one request.
fn import_documents(
    handle: &WriterHandle,
    path: &Path,
    bytes: &[u8],
    imported: &mut Imported,
) -> Result<(), ImportError> {
    let mut pending = std::collections::VecDeque::new();
    let mut documents = 0u64;
    for (i, value) in serde_json::Deserializer::from_slice(bytes)
        .into_iter::<serde_json::Value>()
        .enumerate()
    {
        let parsed = value
            .map_err(|e| e.to_string())
            .and_then(|v| parse_line(&serde_json::to_vec(&v).unwrap_or_default()));
        match parsed {
            Ok(payload) => {
                documents += 1;
                imported.lines += 1;
                pending.push_back(submit(handle, payload)?);
                if pending.len() >= IN_FLIGHT {
                    finish_one(&mut pending, imported)?;
                }
            }
            Err(reason) => {
                finish(&mut pending, imported)?;
                if documents == 0 {
                    return Err(ImportError::NotOtlp {
                        path: path.to_path_buf(),
                        reason,
                    });
                }
                imported.bad_line_count += 1;
                imported.bad_lines.push(BadLine {
                    file: path.display().to_string(),
                    line: i as u64 + 1,
                    reason: format!("JSON document {}: {reason}", i + 1),
                });
                // A syntax error leaves the rest of the stream unreadable.
                break;
            }
        }
    }
    finish(&mut pending, imported)
}

fn trim(line: &[u8]) -> &[u8] {
    let end = line
        .iter()
        .rposition(|b| !b.is_ascii_whitespace())
        .map_or(0, |i| i + 1);
    let start = line[..end]
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(end);
    &line[start..end]
}

/// One line as an export request: the signal is told by its top-level key.
pub fn parse_line(line: &[u8]) -> Result<Payload, String> {
    let signal = signal_of(line).ok_or_else(|| {
        if line.first() == Some(&b'{') {
            "a JSON object without resourceSpans, resourceLogs or resourceMetrics".to_string()
        } else {
            "not a JSON object".to_string()
        }
    })?;
    decode::decode(signal, Encoding::Json, line).map_err(|e| e.to_string())
}

/// Which of `resourceSpans`, `resourceLogs`, `resourceMetrics` the line's object holds (the
/// first key found); `None` when it is not an object holding one of them.
fn signal_of(line: &[u8]) -> Option<Signal> {
    if line.first() != Some(&b'{') {
        return None;
    }
    const KEYS: [(&[u8], Signal); 3] = [
        (b"\"resourceSpans\"", Signal::Traces),
        (b"\"resourceLogs\"", Signal::Logs),
        (b"\"resourceMetrics\"", Signal::Metrics),
    ];
    // The first of them, at the first quote that opens one: one pass that stops there (at
    // the start of the line, for what an exporter writes).
    let mut from = 0;
    while let Some(i) = line[from..].iter().position(|&b| b == b'"') {
        let at = from + i;
        if let Some((_, signal)) = KEYS.iter().find(|(key, _)| line[at..].starts_with(key)) {
            return Some(*signal);
        }
        from = at + 1;
    }
    None
}

/// Hands a payload to the writer. The import is the writer's only client and keeps at most
/// [`IN_FLIGHT`] requests queued, far below the queue's capacity, so the queue is never full.
fn submit(handle: &WriterHandle, payload: impl Into<Prepared>) -> Result<Receipt, ImportError> {
    handle.submit(payload).map_err(|e| {
        ImportError::Store(StoreError::Commit {
            path: handle.path().to_path_buf(),
            message: e.to_string(),
        })
    })
}

fn finish_one(
    pending: &mut std::collections::VecDeque<Receipt>,
    imported: &mut Imported,
) -> Result<(), ImportError> {
    if let Some(receipt) = pending.pop_front() {
        let committed = receipt.wait_blocking()?;
        imported.accepted += committed.accepted;
        imported.rejected += committed.rejected;
        if let Some(message) = committed.message
            && committed.rejected > 0
            && imported.rejections.len() < MAX_NAMED
        {
            imported.rejections.push(message);
        }
    }
    Ok(())
}

fn finish(
    pending: &mut std::collections::VecDeque<Receipt>,
    imported: &mut Imported,
) -> Result<(), ImportError> {
    while !pending.is_empty() {
        finish_one(pending, imported)?;
    }
    Ok(())
}

/// Opens `path` for export: gzip when it ends in `.gz` or `gzip` is set.
pub fn create_output(path: &Path, gzip: bool) -> io::Result<Box<dyn Write>> {
    let file = io::BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    let gz = gzip
        || path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("gz"));
    Ok(if gz { self::gzip(file) } else { Box::new(file) })
}

/// `out` gzip-compressed; the stream is finished by `flush`, which [`export`] calls at the end.
pub fn gzip<W: Write + 'static>(out: W) -> Box<dyn Write> {
    Box::new(GzFile(Some(flate2::write::GzEncoder::new(
        out,
        flate2::Compression::fast(),
    ))))
}

/// A gzip stream that writes its trailer on `flush` at the end of an export (a dropped
/// `GzEncoder` swallows errors writing it).
struct GzFile<W: Write>(Option<flate2::write::GzEncoder<W>>);

impl<W: Write> Write for GzFile<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match &mut self.0 {
            Some(e) => e.write(buf),
            None => Err(io::Error::other("the gzip stream is already finished")),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self.0.take() {
            Some(e) => e.finish()?.flush(),
            None => Ok(()),
        }
    }
}

/// Stdin-free helper for tests and benches: reads a whole (possibly gzip) file's bytes.
pub fn read_all(path: &Path) -> io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.read_to_end(&mut bytes)?;
    if bytes.starts_with(&GZIP_MAGIC) {
        let mut out = Vec::new();
        MultiGzDecoder::new(bytes.as_slice()).read_to_end(&mut out)?;
        return Ok(out);
    }
    Ok(bytes)
}
