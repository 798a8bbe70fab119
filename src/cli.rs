//! Command-line definitions (clap derive) and nothing else: no defaults that matter live here
//! beyond what `--help` shows; `config` layers these over env and file.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "obs",
    version,
    about = "Incident investigation from the terminal: the error spike, what moved with it and before it, and the requests behind it",
    propagate_version = true
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Context (named set of backends and queries) from the config file [env: OBS_CONTEXT]
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Config file [default: $XDG_CONFIG_HOME/obs/config.toml] [env: OBS_CONFIG]
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Output format
    #[arg(short, long, global = true, value_enum, default_value_t = Output::Text)]
    pub output: Output,
    /// When to use colour (NO_COLOR is honoured in auto)
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// More logging on stderr (-v info, -vv debug, -vvv trace); secrets are never logged
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Only errors on stderr: no progress, no warnings
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Output {
    Text,
    Json,
    /// A postmortem document (investigate, demo); other commands print their text form
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Find the error spike and rank the metrics that moved with it, and before it
    #[command(visible_alias = "inv")]
    Investigate(Box<InvestigateArgs>),
    /// Show one trace as a waterfall, with its critical path and errors (Tempo or Jaeger)
    Trace(Box<TraceArgs>),
    /// Print log lines from Loki: of a trace, of a service, or for a LogQL query
    Logs(Box<LogsArgs>),
    /// Receive OTLP traces, logs and metrics (gRPC and HTTP) into the embedded store until stopped
    Sink(Box<SinkArgs>),
    /// Inspect the embedded store
    #[command(subcommand)]
    Store(StoreCommand),
    /// Run an investigation against the remote backends and capture everything it used into one new store file
    Snapshot(Box<SnapshotArgs>),
    /// Re-send a store's traces, logs and metrics to an OTLP endpoint (Collector, Tempo, Loki, Prometheus, another obs sink); resumable
    Replay(Box<ReplayArgs>),
    /// Print the resolved configuration (secrets masked) and where each value came from
    Config,
    /// Probe every backend of the context: reachable, version, auth, and what investigate needs
    Doctor(Box<DoctorArgs>),
    /// Run a simulated shop with an injected fault into a temporary store and investigate it
    Demo(DemoArgs),
    /// Evaluate PromQL against Prometheus or, offline, against an obs store file
    Query(Box<QueryArgs>),
    /// Explore a saved report (`investigate -o json`) or a store's traces in the interactive UI
    Tui(Box<TuiArgs>),
    /// Group log lines (one message per line) into patterns with the variable parts masked
    Patterns(PatternsArgs),
    /// Ask an LLM for a root-cause summary of a saved report (-o json) that cites its evidence
    Explain(Box<ExplainArgs>),
    /// Print a shell completion script
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

/// The flags that decide what an investigation fetches and how: `investigate` and `snapshot`
/// take the same ones.
#[derive(Debug, Clone, Args)]
pub struct InvestigationArgs {
    /// Start of the window: 14:30, 14:30:05 (local, today or yesterday), 30m, 2h, RFC 3339, unix seconds
    #[arg(long, value_name = "TIME")]
    pub since: String,
    /// End of the window (same forms as --since) [default: now]
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Start of the baseline window, which ends at --since [default: as long as the window, just before it]
    #[arg(long, value_name = "TIME")]
    pub baseline: Option<String>,
    /// Query resolution, e.g. 15s or 1m [default: 200–400 points over the window]
    #[arg(long, value_name = "DURATION")]
    pub step: Option<String>,
    /// Narrow the symptom to one service
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,
    /// Label that holds the service name [default: the first of service, service_name, job]
    #[arg(long, value_name = "LABEL")]
    pub service_label: Option<String>,
    /// Which auto-detected symptom to examine: the error ratio, the p99 latency of the request-duration histogram, or both (the one that moved is the symptom) [default: auto]
    #[arg(long, value_enum, value_name = "WHICH")]
    pub symptom: Option<SymptomArg>,
    /// The symptom as PromQL (any SLI: an error ratio, a latency, a success rate), repeatable: the one that moved first is the symptom, the others are said to be steady; `$__rate_interval` is replaced by the rate window [default: auto-detected]
    #[arg(
        long = "symptom-query",
        visible_alias = "error-query",
        value_name = "PROMQL"
    )]
    pub symptom_queries: Vec<String>,
    /// Which way the symptom gets worse: up (an error ratio, a latency), down (a success rate, a throughput) or auto (whichever way it moved) [default: up]
    #[arg(long, value_enum, value_name = "DIR")]
    pub direction: Option<DirectionArg>,
    /// Latency histogram selector to take exemplars from, e.g. 'http_request_duration_seconds_bucket{service="checkout"}'
    #[arg(long, value_name = "SELECTOR")]
    pub latency_query: Option<String>,
    /// Only consider candidate metrics matching this series selector, e.g. '{namespace="shop"}'
    #[arg(long, value_name = "SELECTOR")]
    pub candidate_match: Option<String>,
    /// An extra candidate as PromQL (repeatable)
    #[arg(long = "candidate", value_name = "PROMQL")]
    pub candidates: Vec<String>,
    /// Most metric names fetched in full and ranked; with more names, a first pass scores every one and the most changed are fetched [default: 500]
    #[arg(long, value_name = "N")]
    pub max_candidates: Option<usize>,
    /// Queries in flight at once [default: 16]
    #[arg(long, value_name = "N")]
    pub concurrency: Option<usize>,
    /// Prometheus-compatible base URL [env: OBS_PROMETHEUS_URL]
    #[arg(long, value_name = "URL")]
    pub prometheus_url: Option<String>,
    /// Tenant sent as X-Scope-OrgID (Mimir, Cortex, Thanos) [env: OBS_TENANT]
    #[arg(long, value_name = "ID")]
    pub tenant: Option<String>,
    /// Per-request timeout, e.g. 30s [env: OBS_TIMEOUT] [default: 30s]
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// The backend's scrape interval: the smallest step and the basis of rate windows [default: measured, else 15s]
    #[arg(long, value_name = "DURATION")]
    pub scrape_interval: Option<String>,
    /// Most exemplars to report
    #[arg(long, value_name = "N", default_value_t = 20)]
    pub exemplars: usize,
    /// Traces to fetch and summarise (failing exemplars first, then the slowest); 0 skips traces and logs
    #[arg(long, value_name = "N", default_value_t = 5)]
    pub traces: usize,
    #[command(flatten)]
    pub traces_backend: TraceBackendArgs,
    /// Loki base URL, for the logs of those traces [env: OBS_LOKI_URL, LOKI_ADDR]
    #[arg(long, value_name = "URL")]
    pub loki_url: Option<String>,
    /// How a trace id is found in logs [default: auto]
    #[arg(long, value_enum, value_name = "HOW")]
    pub trace_match: Option<TraceMatchArg>,
    /// Stream selector the traces' logs are searched under, e.g. '{namespace="shop"}'
    #[arg(long, value_name = "SELECTOR")]
    pub log_selector: Option<String>,
}

#[derive(Debug, Args)]
pub struct InvestigateArgs {
    #[command(flatten)]
    pub investigation: InvestigationArgs,
    /// Read traces and logs (and, for investigate, metrics) from this obs store file instead of
    /// the remote backends; the file a running `obs sink --store PATH` writes is readable
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// Ranked candidates shown in the text report (JSON has all)
    #[arg(long, value_name = "N", default_value_t = 15)]
    pub top: usize,
    /// JSON: the values of every ranked series, not only of the top 50 rows
    #[arg(long)]
    pub full_series: bool,
    /// Open the report in the interactive UI instead of printing it (needs a terminal)
    #[arg(long)]
    pub tui: bool,
    /// Ask an LLM (OpenAI-compatible) for a root-cause summary that cites the report's
    /// evidence; only the redacted report is sent
    #[arg(long)]
    pub explain: bool,
    #[command(flatten)]
    pub llm: LlmArgs,
}

/// `obs explain REPORT.json`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The report: the JSON of `obs investigate -o json` ("-" reads stdin)
    #[arg(value_name = "REPORT.json")]
    pub report: PathBuf,
    #[command(flatten)]
    pub llm: LlmArgs,
}

/// How an explanation is asked for (`obs explain`, `--explain`).
#[derive(Debug, Clone, Default, Args)]
pub struct LlmArgs {
    /// The model [default: gpt-4o, or model in [contexts.NAME.llm]]
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// Input budget in tokens, counted with the model's encoding; evidence that does not fit
    /// is left out by priority and listed [default: 8000]
    #[arg(long, value_name = "N")]
    pub max_input_tokens: Option<usize>,
    /// How long to wait for the answer to start, and between two chunks of it [default: 120s]
    #[arg(long, value_name = "DURATION")]
    pub llm_timeout: Option<String>,
    /// Print exactly the request that would be sent (redacted) and its token count; send nothing
    #[arg(long)]
    pub dry_run: bool,
}

/// Where traces come from (Tempo or Jaeger).
#[derive(Debug, Clone, Args)]
pub struct TraceBackendArgs {
    /// Tempo base URL [env: OBS_TEMPO_URL]
    #[arg(long, value_name = "URL")]
    pub tempo_url: Option<String>,
    /// Jaeger query service base URL (the UI's address) [env: OBS_JAEGER_URL]
    #[arg(long, value_name = "URL")]
    pub jaeger_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SymptomArg {
    /// The error ratio and the p99 latency; whichever moved
    Auto,
    /// The error ratio of the requests
    Errors,
    /// The p99 latency of the request-duration histogram
    Latency,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DirectionArg {
    /// Higher is worse
    Up,
    /// Lower is worse
    Down,
    /// Whichever way it moved further from its baseline
    Auto,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TraceMatchArg {
    /// A trace-id stream label if Loki has one, else structured metadata, else the line
    Auto,
    /// Stream label: {trace_id="…"}
    Label,
    /// Structured metadata or an extracted label: {…} | trace_id="…"
    Metadata,
    /// Line filter: {…} |= "…"
    Line,
}

impl TraceMatchArg {
    pub fn as_str(self) -> &'static str {
        match self {
            TraceMatchArg::Auto => "auto",
            TraceMatchArg::Label => "label",
            TraceMatchArg::Metadata => "metadata",
            TraceMatchArg::Line => "line",
        }
    }
}

#[derive(Debug, Args)]
pub struct TraceArgs {
    /// The trace id: 1 to 32 hexadecimal characters (shorter ids are left-padded with zeros)
    #[arg(value_name = "TRACE_ID")]
    pub trace_id: String,
    /// Show spans down to this depth (the root is depth 0)
    #[arg(long, value_name = "N")]
    pub depth: Option<usize>,
    /// Show only this service's spans (and the path to them)
    #[arg(long, value_name = "NAME")]
    pub service: Option<String>,
    /// Show only failing spans (and the path to them)
    #[arg(long)]
    pub errors_only: bool,
    #[command(flatten)]
    pub backend: TraceBackendArgs,
    /// Tenant sent as X-Scope-OrgID [env: OBS_TENANT]
    #[arg(long, value_name = "ID")]
    pub tenant: Option<String>,
    /// Per-request timeout, e.g. 30s [env: OBS_TIMEOUT] [default: 30s]
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Read traces and logs (and, for investigate, metrics) from this obs store file instead of
    /// the remote backends; the file a running `obs sink --store PATH` writes is readable
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct LogsArgs {
    /// Lines of this trace
    #[arg(long, value_name = "TRACE_ID", conflicts_with = "query")]
    pub trace: Option<String>,
    /// Lines of this service (its stream label: service_name, service, app or job, or log_service_label)
    #[arg(long, value_name = "NAME", conflicts_with = "query")]
    pub service: Option<String>,
    /// Only lines containing this text
    #[arg(long, value_name = "TEXT", conflicts_with = "query")]
    pub grep: Option<String>,
    /// Only lines at least this severe
    #[arg(long, value_name = "LEVEL", conflicts_with = "query",
          value_parser = ["trace", "debug", "info", "warn", "error"])]
    pub level: Option<String>,
    /// A LogQL log query, passed through as it is
    #[arg(long, value_name = "LOGQL")]
    pub query: Option<String>,
    /// Stream selector to search under, e.g. '{namespace="shop"}' [default: all streams with a service label]
    #[arg(long, value_name = "SELECTOR", conflicts_with = "query")]
    pub selector: Option<String>,
    /// How a trace id is found [default: auto]
    #[arg(long, value_enum, value_name = "HOW")]
    pub trace_match: Option<TraceMatchArg>,
    /// Start of the window (same forms as investigate's --since)
    #[arg(long, value_name = "TIME", default_value = "1h")]
    pub since: String,
    /// End of the window [default: now]
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Most lines to print: the newest, or the oldest with --forward
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub limit: usize,
    /// Take the oldest lines of the window instead of the newest
    #[arg(long)]
    pub forward: bool,
    /// Print the patterns of the lines fetched instead of the lines (raise --limit to group more)
    #[arg(long)]
    pub patterns: bool,
    /// Loki base URL [env: OBS_LOKI_URL, LOKI_ADDR]
    #[arg(long, value_name = "URL")]
    pub loki_url: Option<String>,
    /// Tenant sent as X-Scope-OrgID [env: LOKI_ORG_ID, OBS_TENANT]
    #[arg(long, value_name = "ID")]
    pub tenant: Option<String>,
    /// Per-request timeout, e.g. 30s [env: OBS_TIMEOUT] [default: 30s]
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
    /// Read traces and logs (and, for investigate, metrics) from this obs store file instead of
    /// the remote backends; the file a running `obs sink --store PATH` writes is readable
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
}

/// `obs doctor`: the context's backends, or these URLs.
#[derive(Debug, Args)]
pub struct DoctorArgs {
    /// Prometheus-compatible base URL [env: OBS_PROMETHEUS_URL]
    #[arg(long, value_name = "URL")]
    pub prometheus_url: Option<String>,
    #[command(flatten)]
    pub traces_backend: TraceBackendArgs,
    /// Loki base URL [env: OBS_LOKI_URL, LOKI_ADDR]
    #[arg(long, value_name = "URL")]
    pub loki_url: Option<String>,
    /// Tenant sent as X-Scope-OrgID [env: OBS_TENANT]
    #[arg(long, value_name = "ID")]
    pub tenant: Option<String>,
    /// How long each probe may take, e.g. 10s [default: the context's timeout, at most 5s]
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
}

#[derive(Debug, Args)]
pub struct PatternsArgs {
    /// The file to read, or - for stdin [default: stdin]
    #[arg(value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// Print, for each input line in order, {"line": N, "pattern": ID, "template": T} (JSON lines)
    #[arg(long)]
    pub per_line: bool,
    /// Most distinct patterns kept; lines of further shapes are counted, not grouped
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub max_patterns: usize,
}

#[derive(Debug, Args)]
pub struct QueryArgs {
    /// The PromQL expression, e.g. 'sum by (service) (rate(http_requests_total[5m]))'
    #[arg(value_name = "PROMQL")]
    pub promql: String,
    /// Evaluate over this obs store file (offline PromQL) instead of Prometheus
    #[arg(long, value_name = "PATH", conflicts_with = "prometheus_url")]
    pub store: Option<PathBuf>,
    /// Prometheus-compatible base URL [env: OBS_PROMETHEUS_URL]
    #[arg(long, value_name = "URL")]
    pub prometheus_url: Option<String>,
    /// Tenant sent as X-Scope-OrgID (Mimir, Cortex, Thanos) [env: OBS_TENANT]
    #[arg(long, value_name = "ID")]
    pub tenant: Option<String>,
    /// Evaluate at this instant (same forms as --since) [default: now]
    #[arg(long, value_name = "TIME", conflicts_with_all = ["since", "until", "step"])]
    pub time: Option<String>,
    /// Make it a range query from this time: 14:30, 30m, 2h, RFC 3339, unix seconds
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// End of the range (same forms as --since) [default: now]
    #[arg(long, value_name = "TIME", requires = "since")]
    pub until: Option<String>,
    /// Resolution of the range, e.g. 15s or 1m [default: 200–400 points over the range]
    #[arg(long, value_name = "DURATION", requires = "since")]
    pub step: Option<String>,
    /// With -o json, indent the JSON (it is compact unless stdout is a terminal)
    #[arg(long)]
    pub pretty: bool,
}

#[derive(Debug, Args)]
pub struct TuiArgs {
    /// A report written by `obs investigate … -o json`; drilling into traces and logs uses the
    /// store it names, or the configured backends
    #[arg(value_name = "REPORT", required_unless_present = "store")]
    pub report: Option<PathBuf>,
    /// An obs store file: with a report, where its traces and logs are read; alone, its newest
    /// traces, refreshed while a sink writes to it
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
    #[command(flatten)]
    pub traces_backend: TraceBackendArgs,
    /// Loki base URL [env: OBS_LOKI_URL, LOKI_ADDR]
    #[arg(long, value_name = "URL")]
    pub loki_url: Option<String>,
    /// Tenant sent as X-Scope-OrgID [env: OBS_TENANT]
    #[arg(long, value_name = "ID")]
    pub tenant: Option<String>,
    /// Per-request timeout, e.g. 30s [env: OBS_TIMEOUT] [default: 30s]
    #[arg(long, value_name = "DURATION")]
    pub timeout: Option<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Keep the demo's store at this path (a new file) for `obs investigate --store PATH`,
    /// `obs trace --store PATH` and `obs logs --store PATH`
    #[arg(long, value_name = "PATH")]
    pub keep: Option<PathBuf>,
    /// Also ask an LLM for a root-cause summary of the demo's report (see `obs explain`)
    #[arg(long)]
    pub explain: bool,
    #[command(flatten)]
    pub llm: LlmArgs,
}

#[derive(Debug, Args)]
pub struct SinkArgs {
    /// Where to listen for OTLP/gRPC: host:port (port 0 picks a free port), or "off"
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4317")]
    pub grpc: String,
    /// Where to listen for OTLP/HTTP: host:port (port 0 picks a free port), or "off"
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:4318")]
    pub http: String,
    /// The store file [default: $XDG_DATA_HOME/obs/sink.db, else ~/.local/share/obs/sink.db]
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// Delete data older than this, by its own timestamps, e.g. 7d or 12h [default: keep all]
    #[arg(long, value_name = "DURATION")]
    pub max_age: Option<String>,
    /// Keep the store's data under this size by deleting the oldest first, e.g. 2GiB or 500MB [default: no limit]
    #[arg(long, value_name = "SIZE")]
    pub max_size: Option<String>,
    /// Largest request accepted (HTTP body after decompression, gRPC message)
    #[arg(long, value_name = "SIZE", default_value = "8MiB")]
    pub max_request_size: String,
    /// Free space the store's file system must keep: below it the sink refuses data (503, UNAVAILABLE, Retry-After) until space returns; 0 turns the check off
    #[arg(long, value_name = "SIZE", default_value = "256MiB")]
    pub min_free: String,
    /// Connections each receiver keeps open; more wait until one closes
    #[arg(long, value_name = "N", default_value_t = crate::sink::DEFAULT_MAX_CONNECTIONS)]
    pub max_connections: usize,
    /// Time for an HTTP request's headers to arrive
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub header_timeout: String,
    /// Time for a request's body (HTTP) or message (gRPC) to arrive after its headers
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub body_timeout: String,
    /// Close a connection on which the client sends nothing for this long
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    pub idle_timeout: String,
    /// Bearer token clients must send as "Authorization: Bearer <token>"; prefer the environment variable, which other users cannot see in the process list
    #[arg(
        long,
        value_name = "TOKEN",
        env = "OBS_SINK_TOKEN",
        hide_env_values = true
    )]
    pub token: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum StoreCommand {
    /// What the store holds: counts of spans, traces, logs, metric points and exemplars, the services seen, and the time range (works while a sink writes to it)
    Info(StoreArgs),
    /// Write one signal of the store as OTLP JSON Lines (the OpenTelemetry file exporter's format), to stdout or a file
    Export(StoreExportArgs),
    /// Read OTLP JSON Lines files (as the Collector's file exporter writes them, gzip too) into the store; re-importing adds nothing
    Import(StoreImportArgs),
}

#[derive(Debug, Args)]
pub struct StoreExportArgs {
    /// The store file [default: $XDG_DATA_HOME/obs/sink.db, else ~/.local/share/obs/sink.db]
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// Which signal to write (one signal per file, as the file exporter specifies)
    #[arg(long, value_enum)]
    pub signal: SignalArg,
    /// Only data at or after this time (same forms as investigate's --since) [default: all]
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    /// Only data at or before this time [default: all]
    #[arg(long, value_name = "TIME")]
    pub until: Option<String>,
    /// Write to this file instead of stdout; a name ending in .gz is gzip-compressed
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Gzip-compress the output (also to stdout)
    #[arg(long)]
    pub gzip: bool,
}

#[derive(Debug, Args)]
pub struct StoreImportArgs {
    /// OTLP JSON Lines files (.jsonl, or gzip-compressed); each line one TracesData, LogsData or MetricsData
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,
    /// The store file, created when missing [default: $XDG_DATA_HOME/obs/sink.db, else ~/.local/share/obs/sink.db]
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
}

/// An OTLP signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SignalArg {
    Traces,
    Logs,
    Metrics,
}

#[derive(Debug, Args)]
pub struct ReplayArgs {
    /// The store to replay [default: $XDG_DATA_HOME/obs/sink.db, else ~/.local/share/obs/sink.db]
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
    /// The OTLP endpoint: for OTLP/HTTP the base URL (`/v1/traces` etc. are appended), e.g. http://localhost:4318; with --grpc, e.g. http://localhost:4317
    #[arg(long, value_name = "URL")]
    pub to: String,
    /// Send OTLP/gRPC instead of OTLP/HTTP protobuf
    #[arg(long)]
    pub grpc: bool,
    /// Move every timestamp: `now` puts the store's newest timestamp at the current time; a duration (1h, 30m) moves everything that much later [default: no shift]
    #[arg(long, value_name = "now|DURATION")]
    pub shift: Option<String>,
    /// Send at most this many items (spans, log records, data points) per second [default: no limit]
    #[arg(long, value_name = "ITEMS/S")]
    pub rate: Option<f64>,
    /// Items per request
    #[arg(long, value_name = "N", default_value_t = 512)]
    pub batch: usize,
    /// Only these signals [default: traces, logs and metrics]
    #[arg(long, value_enum, value_delimiter = ',', value_name = "SIGNAL")]
    pub signals: Vec<SignalArg>,
    /// Where progress is kept so that a restarted replay resumes [default: the store path + `.replay.json`]
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Start over: ignore (and replace) the progress recorded for this target
    #[arg(long)]
    pub restart: bool,
    /// Extra header on every request, `Name: value` (repeatable), e.g. an auth token or X-Scope-OrgID
    #[arg(long, value_name = "HEADER")]
    pub header: Vec<String>,
    /// Per-request timeout
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub timeout: String,
}

#[derive(Debug, Args)]
pub struct StoreArgs {
    /// The store file [default: $XDG_DATA_HOME/obs/sink.db, else ~/.local/share/obs/sink.db]
    #[arg(long, value_name = "PATH")]
    pub store: Option<PathBuf>,
}

/// `obs snapshot FILE`: the flags of `investigate` that decide what it fetches.
#[derive(Debug, Args)]
pub struct SnapshotArgs {
    /// The incident file to create (an obs store; read it with `investigate --store FILE`)
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Replace FILE if it already exists
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub investigation: InvestigationArgs,
}
