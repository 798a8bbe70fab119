//! The UI's state: the views, the actions and fetches that flow through [`super::update`], and
//! [`App`] with the per-view states it holds (lists, waterfall, logs). Constructors and
//! read-only helpers live here; every change after construction goes through `update`.
//!
//! No terminal, no I/O, no clock here.

use std::sync::Arc;

use crate::analysis::spantree::SpanTree;
use crate::model::{LogRecord, TraceSummary};
use crate::report::waterfall::Rows;
use crate::report::{ExemplarKind, LogEntry, Report, TraceOrigin};
use crate::tui::ui::layout;

/// The views, in drill-down order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Overview,
    Candidate,
    Traces,
    Waterfall,
    Logs,
}

impl View {
    pub fn title(self) -> &'static str {
        match self {
            View::Overview => "overview",
            View::Candidate => "candidate",
            View::Traces => "traces",
            View::Waterfall => "waterfall",
            View::Logs => "logs",
        }
    }
}

/// Everything that can happen to the UI: keys (mapped in [`super::keys`]), the terminal's
/// size, the clock, and fetched data.
#[derive(Debug, Clone)]
pub enum Action {
    Quit,
    /// `q`/`Esc`: one view back; quits from the first view.
    Back,
    ToggleHelp,
    /// Jump to a view (when it has something to show).
    Goto(View),
    Up,
    Down,
    PageUp,
    PageDown,
    Top,
    Bottom,
    /// The mouse wheel: this many rows down (negative: up).
    Scroll(isize),
    /// A mouse click on the `n`th row of the current list as drawn.
    ClickRow(usize),
    /// Enter: open what is selected (a candidate, a trace, a log line's trace).
    Open,
    /// Candidate: draw the candidate shifted by its lag, or as measured.
    ToggleLagShift,
    /// Candidate: the traces of its exemplars.
    Exemplars,
    /// Traces: duration → errors → time.
    CycleSort,
    /// Traces: all services → each service in turn.
    CycleServiceFilter,
    /// Waterfall: hide the selected span's subtree (or go to its parent).
    Collapse,
    Expand,
    ToggleCollapse,
    ExpandAll,
    CollapseAll,
    NextCritical,
    PrevCritical,
    NextError,
    PrevError,
    /// `/`: type a search (span name, service or attribute).
    StartSearch,
    SearchInput(char),
    SearchBackspace,
    SearchConfirm,
    SearchCancel,
    NextMatch,
    PrevMatch,
    ToggleDetail,
    /// Logs of the selected span (its time window).
    SpanLogs,
    /// Logs of the whole trace.
    TraceLogs,
    /// Logs: wrap long lines, or cut them.
    ToggleWrap,
    Resize(u16, u16),
    /// The clock: the spinner, and the store's refresh.
    Tick,
    Data(Data),
}

/// A request for data, run in the background by [`super::fetch::Fetcher`].
#[derive(Debug, Clone, PartialEq)]
pub enum Fetch {
    /// Fetch a trace and build its span tree.
    Trace { seq: u64, trace_id: String },
    Logs {
        seq: u64,
        trace_id: String,
        /// Only this span's records (and its time window), when set.
        span: Option<SpanScope>,
        /// Unix nanoseconds, start inclusive, end exclusive.
        start_ns: i64,
        end_ns: i64,
    },
    /// The newest traces of the store (`obs tui --store`).
    StoreTraces { seq: u64 },
}

#[derive(Debug, Clone, PartialEq)]
pub struct SpanScope {
    pub span_id: String,
    /// `service operation`, for the breadcrumb.
    pub name: String,
    /// The span's window, unix nanoseconds (start inclusive, end exclusive): records that do
    /// not say which span they belong to are kept when they fall in it.
    pub start_ns: i64,
    pub end_ns: i64,
}

impl SpanScope {
    /// A record of the span: it names the span, or names none and falls in its window.
    pub fn holds(&self, span_id: Option<&str>, timestamp_unix_nano: i64) -> bool {
        match span_id {
            Some(id) => id == self.span_id,
            None => (self.start_ns..self.end_ns).contains(&timestamp_unix_nano),
        }
    }
}

/// An answer to a [`Fetch`]. Errors are the source's message, shown inline.
#[derive(Debug, Clone)]
pub enum Data {
    Trace {
        seq: u64,
        trace_id: String,
        result: Result<Option<Arc<SpanTree>>, String>,
    },
    Logs {
        seq: u64,
        result: Result<Vec<LogRecord>, String>,
    },
    StoreTraces {
        seq: u64,
        result: Result<Vec<TraceSummary>, String>,
    },
}

/// Where the UI's data comes from.
#[derive(Debug, Clone, PartialEq)]
pub enum Mode {
    /// An investigation's report.
    Report,
    /// A store's traces, with no report (`obs tui --store PATH`).
    Store { path: String },
}

/// One row of the traces view: a followed trace, an exemplar, or a store search hit.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceRow {
    pub trace_id: String,
    /// `error`, `slow`, or `trace` for a store listing.
    pub kind: &'static str,
    /// Why it is listed: `exemplar`, `search`, `store`.
    pub origin: &'static str,
    pub root: Option<String>,
    pub start_unix_nano: i64,
    pub duration_ms: f64,
    pub spans: Option<usize>,
    pub errors: Option<usize>,
    /// Services of its error spans and root, for the service filter.
    pub services: Vec<String>,
    /// The series labels of the exemplar that pointed here (for a candidate's exemplars).
    pub exemplar_series: Option<crate::model::Labels>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceSort {
    Duration,
    Errors,
    Time,
}

impl TraceSort {
    pub fn label(self) -> &'static str {
        match self {
            TraceSort::Duration => "duration",
            TraceSort::Errors => "errors",
            TraceSort::Time => "time",
        }
    }
}

#[derive(Debug, Clone, Default)]
pub struct ListState {
    pub selected: usize,
    /// First row drawn.
    pub top: usize,
}

impl ListState {
    /// Moves the selection by `delta` within `len` rows and scrolls so it stays in a window of
    /// `height` rows.
    pub(super) fn step(&mut self, delta: isize, len: usize, height: usize) {
        if len == 0 {
            *self = ListState::default();
            return;
        }
        let to = (self.selected as isize).saturating_add(delta);
        self.selected = to.clamp(0, len as isize - 1) as usize;
        self.follow(len, height);
    }

    pub(super) fn select(&mut self, index: usize, len: usize, height: usize) {
        self.selected = index.min(len.saturating_sub(1));
        self.follow(len, height);
    }

    /// Scrolls as little as possible so that the selection is in view.
    pub(super) fn follow(&mut self, len: usize, height: usize) {
        let height = height.max(1);
        self.selected = self.selected.min(len.saturating_sub(1));
        if self.selected < self.top {
            self.top = self.selected;
        } else if self.selected >= self.top + height {
            self.top = self.selected + 1 - height;
        }
        self.top = self.top.min(len.saturating_sub(height));
    }
}

/// A view's loading state: a fetch in flight, or why it failed.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Loading {
    #[default]
    Idle,
    InFlight {
        seq: u64,
        what: String,
    },
    Failed(String),
}

/// The waterfall of one trace.
#[derive(Debug, Clone)]
pub struct WaterfallState {
    pub trace_id: String,
    pub tree: Option<Arc<SpanTree>>,
    pub loading: Loading,
    /// Per span: its subtree is hidden.
    pub collapsed: Vec<bool>,
    /// The rows shown: the display order without collapsed subtrees.
    pub rows: Option<Rows>,
    pub list: ListState,
    pub detail: bool,
    /// The last confirmed search, and the spans it matches, in display order.
    pub search: Option<String>,
    pub matches: Vec<usize>,
    /// Per span: it matches the search.
    pub is_match: Vec<bool>,
    /// Per span: its position in the display order.
    pub position: Vec<usize>,
    /// Per span: spans in its subtree, itself included (shown on a collapsed row).
    pub subtree: Vec<usize>,
    /// The header's facts, counted once when the trace loads: every frame would otherwise
    /// walk all spans.
    pub errors: usize,
    pub services: usize,
    /// The top critical-path spans and their critical-path time.
    pub critical: Vec<(usize, i64)>,
}

impl WaterfallState {
    pub(super) fn loading(trace_id: String, seq: u64) -> WaterfallState {
        WaterfallState {
            loading: Loading::InFlight {
                seq,
                what: format!("trace {trace_id}"),
            },
            trace_id,
            tree: None,
            collapsed: Vec::new(),
            rows: None,
            list: ListState::default(),
            detail: false,
            search: None,
            matches: Vec::new(),
            is_match: Vec::new(),
            position: Vec::new(),
            subtree: Vec::new(),
            errors: 0,
            services: 0,
            critical: Vec::new(),
        }
    }

    /// The waterfall of a loaded trace, everything expanded.
    pub fn with_tree(tree: Arc<SpanTree>) -> WaterfallState {
        let mut w = WaterfallState::loading(tree.trace_id().to_string(), 0);
        w.loading = Loading::Idle;
        w.collapsed = vec![false; tree.len()];
        w.position = vec![0; tree.len()];
        for (pos, &i) in tree.display_order().iter().enumerate() {
            w.position[i] = pos;
        }
        // Children come after their parent in display order: walking it backwards sums them
        // before their parent.
        w.subtree = vec![1; tree.len()];
        for &i in tree.display_order().iter().rev() {
            let below: usize = tree.children(i).iter().map(|&c| w.subtree[c]).sum();
            w.subtree[i] += below;
        }
        w.errors = tree.error_spans().len();
        w.services = tree.services().len();
        w.critical = tree.top_self_time_on_critical_path(2);
        w.rows = Some(Rows::from_spans(&tree, tree.display_order().to_vec()));
        w.tree = Some(tree);
        w
    }

    pub fn len(&self) -> usize {
        self.rows.as_ref().map_or(0, |r| r.spans().len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The span index of the selected row.
    pub fn selected_span(&self) -> Option<usize> {
        self.rows
            .as_ref()
            .and_then(|r| r.spans().get(self.list.selected).copied())
    }

    /// Rebuilds the rows after a collapse or expand, keeping `keep` (a span) selected, or its
    /// nearest shown ancestor.
    pub(super) fn rebuild(&mut self, keep: Option<usize>, height: usize) {
        let Some(tree) = &self.tree else { return };
        let mut spans = Vec::with_capacity(tree.len());
        let mut hide_deeper_than: Option<usize> = None;
        for &i in tree.display_order() {
            let depth = tree.depth(i);
            if let Some(d) = hide_deeper_than {
                if depth > d {
                    continue;
                }
                hide_deeper_than = None;
            }
            spans.push(i);
            if self.collapsed[i] && !tree.children(i).is_empty() {
                hide_deeper_than = Some(depth);
            }
        }
        let rows = Rows::from_spans(tree, spans);
        let mut target = keep;
        let mut selected = None;
        while let Some(t) = target {
            if let Some(pos) = rows.spans().iter().position(|&s| s == t) {
                selected = Some(pos);
                break;
            }
            target = tree.parent(t);
        }
        let len = rows.spans().len();
        self.rows = Some(rows);
        self.list.select(selected.unwrap_or(0), len, height);
    }

    /// Shows span `i` (expanding its collapsed ancestors) and selects it.
    pub(super) fn reveal(&mut self, i: usize, height: usize) {
        let Some(tree) = self.tree.clone() else {
            return;
        };
        let mut x = tree.parent(i);
        let mut changed = false;
        while let Some(a) = x {
            if self.collapsed[a] {
                self.collapsed[a] = false;
                changed = true;
            }
            x = tree.parent(a);
        }
        if changed {
            self.rebuild(Some(i), height);
        } else if let Some(pos) = self
            .rows
            .as_ref()
            .and_then(|r| r.spans().iter().position(|&s| s == i))
        {
            let len = self.len();
            self.list.select(pos, len, height);
        }
    }
}

/// The logs view: a trace's records, or a span's.
#[derive(Debug, Clone, Default)]
pub struct LogsState {
    pub trace_id: Option<String>,
    pub span: Option<SpanScope>,
    pub lines: Vec<LogLine>,
    pub loading: Loading,
    pub list: ListState,
    pub wrap: bool,
}

/// One log line as the logs view shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    pub timestamp_unix_nano: i64,
    pub severity: Option<String>,
    pub service: Option<String>,
    pub trace_id: Option<String>,
    pub span_id: Option<String>,
    pub body: String,
}

impl LogLine {
    pub(super) fn from_entry(e: &LogEntry) -> LogLine {
        LogLine {
            timestamp_unix_nano: (e.timestamp_unix * 1e9).round() as i64,
            severity: e.severity.clone(),
            service: e.service.clone(),
            trace_id: Some(e.trace_id.clone()),
            span_id: None,
            body: e.body.clone(),
        }
    }

    pub(super) fn from_record(r: &LogRecord) -> LogLine {
        LogLine {
            timestamp_unix_nano: r.timestamp_unix_nano,
            severity: r.severity.clone(),
            service: r.service.clone(),
            trace_id: r.trace_id.clone(),
            span_id: r.span_id.clone(),
            body: r.body.clone(),
        }
    }

    /// The trace this line points at: its own trace id, else a 32-hex-character word in its body.
    pub fn linked_trace(&self) -> Option<String> {
        if let Some(t) = &self.trace_id {
            return Some(t.clone());
        }
        self.body
            .split(|c: char| !c.is_ascii_hexdigit())
            .find(|w| w.len() == 32)
            .map(str::to_ascii_lowercase)
    }
}

/// The whole UI state.
#[derive(Debug, Clone)]
pub struct App {
    pub mode: Mode,
    pub report: Option<Report>,
    /// The views opened, first to current: the breadcrumb.
    pub stack: Vec<View>,
    pub width: u16,
    pub height: u16,
    pub help: bool,
    pub quit: bool,
    pub monochrome: bool,
    pub time_zone: jiff::tz::TimeZone,
    /// An inline message in the status line (a fetch that failed, a key that does nothing here).
    pub message: Option<String>,
    pub can_fetch_traces: bool,
    pub can_fetch_logs: bool,
    /// Typing a waterfall search.
    pub search_input: Option<String>,
    pub candidates: ListState,
    pub candidate: usize,
    pub lag_shift: bool,
    pub traces: Vec<TraceRow>,
    pub trace_list: ListState,
    pub trace_sort: TraceSort,
    pub service_filter: Option<String>,
    /// Traces view narrowed to a candidate's exemplars.
    pub exemplar_filter: Option<crate::model::Labels>,
    pub store_loading: Loading,
    pub waterfall: Option<WaterfallState>,
    pub logs: LogsState,
    pub ticks: u64,
    pub(super) next_seq: u64,
    /// Ticks between two refreshes of the store's trace list.
    pub refresh_ticks: u64,
    pub(super) last_refresh: u64,
}

/// Store listing refresh: every 2 s at the 100 ms tick.
pub(super) const STORE_REFRESH_TICKS: u64 = 20;
/// Newest store traces listed.
pub const STORE_TRACES: usize = 500;
/// Logs fetched for a trace or a span.
pub const LOG_LIMIT: usize = 1000;
/// A trace's logs are looked for this long either side of it (as investigate does).
pub(super) const LOG_SLACK_NS: i64 = 5 * 60 * 1_000_000_000;

impl App {
    pub(super) fn empty(mode: Mode, first: View) -> App {
        App {
            mode,
            report: None,
            stack: vec![first],
            width: 80,
            height: 24,
            help: false,
            quit: false,
            monochrome: false,
            time_zone: jiff::tz::TimeZone::UTC,
            message: None,
            can_fetch_traces: false,
            can_fetch_logs: false,
            search_input: None,
            candidates: ListState::default(),
            candidate: 0,
            lag_shift: false,
            traces: Vec::new(),
            trace_list: ListState::default(),
            trace_sort: TraceSort::Duration,
            service_filter: None,
            exemplar_filter: None,
            store_loading: Loading::Idle,
            waterfall: None,
            logs: LogsState::default(),
            ticks: 0,
            next_seq: 1,
            refresh_ticks: STORE_REFRESH_TICKS,
            last_refresh: 0,
        }
    }

    /// The UI over an investigation's report; `traces`/`logs`: whether a source can fetch more.
    pub fn from_report(report: Report, traces: bool, logs: bool) -> App {
        let mut app = App::empty(Mode::Report, View::Overview);
        app.can_fetch_traces = traces;
        app.can_fetch_logs = logs;
        app.traces = report_trace_rows(&report);
        if let Some(worst) = &report.worst_trace {
            // The tree is built here, before the first frame: the report already paid for the
            // fetch, and opening the worst trace should not wait.
            let tree = Arc::new(SpanTree::from_trace(worst.clone()));
            app.waterfall = Some(WaterfallState::with_tree(tree));
        }
        app.report = Some(report);
        sort_traces(&mut app);
        app
    }

    /// The UI over a store's traces.
    pub fn for_store(path: String) -> App {
        let mut app = App::empty(Mode::Store { path }, View::Traces);
        app.can_fetch_traces = true;
        app.can_fetch_logs = true;
        app.trace_sort = TraceSort::Time;
        app
    }

    /// What to fetch before the first key: the store's trace list.
    pub fn initial_fetches(&mut self) -> Vec<Fetch> {
        match self.mode {
            Mode::Store { .. } => vec![self.refresh_store()],
            Mode::Report => Vec::new(),
        }
    }

    pub fn view(&self) -> View {
        self.stack.last().copied().unwrap_or(View::Overview)
    }

    pub(super) fn seq(&mut self) -> u64 {
        let s = self.next_seq;
        self.next_seq += 1;
        s
    }

    pub(super) fn refresh_store(&mut self) -> Fetch {
        let seq = self.seq();
        self.last_refresh = self.ticks;
        self.store_loading = Loading::InFlight {
            seq,
            what: "the store's traces".into(),
        };
        Fetch::StoreTraces { seq }
    }

    /// True while any fetch is in flight (the spinner turns).
    pub fn busy(&self) -> bool {
        let in_flight = |l: &Loading| matches!(l, Loading::InFlight { .. });
        in_flight(&self.store_loading)
            || in_flight(&self.logs.loading)
            || self
                .waterfall
                .as_ref()
                .is_some_and(|w| in_flight(&w.loading))
    }

    /// The traces view's rows after the service and exemplar filters, in the current sort.
    pub fn visible_traces(&self) -> Vec<&TraceRow> {
        self.traces
            .iter()
            .filter(|t| {
                self.service_filter
                    .as_ref()
                    .is_none_or(|s| t.services.iter().any(|x| x == s))
            })
            .filter(|t| {
                self.exemplar_filter.as_ref().is_none_or(|want| {
                    t.exemplar_series
                        .as_ref()
                        .is_some_and(|have| labels_within(want, have))
                })
            })
            .collect()
    }

    pub(super) fn correlations_len(&self) -> usize {
        self.report.as_ref().map_or(0, |r| r.correlations.len())
    }

    pub(super) fn push(&mut self, view: View) {
        if self.view() != view {
            self.stack.retain(|v| *v != view);
            self.stack.push(view);
        }
    }

    /// Rows the current list view shows at the current size.
    pub(super) fn page(&self) -> usize {
        layout::list_rows(self, self.view())
    }
}

/// Every label of `want` is in `have` with the same value.
pub fn labels_within(want: &crate::model::Labels, have: &crate::model::Labels) -> bool {
    want.iter()
        .all(|(k, v)| have.get(k).is_some_and(|x| x == v))
}

/// The traces of a report: followed traces first, then exemplars whose trace was not followed.
pub(super) fn report_trace_rows(report: &Report) -> Vec<TraceRow> {
    let mut rows: Vec<TraceRow> = report
        .traces
        .iter()
        .map(|t| {
            let s = &t.summary;
            let mut services: Vec<String> =
                s.error_spans.iter().map(|e| e.service.clone()).collect();
            services.extend(s.critical_path.iter().map(|c| c.service.clone()));
            if let Some(r) = &s.root {
                services.push(r.service.clone());
            }
            services.sort();
            services.dedup();
            let exemplar = report
                .exemplars
                .iter()
                .find(|e| e.trace_id.as_deref() == Some(s.trace_id.as_str()));
            TraceRow {
                trace_id: s.trace_id.clone(),
                kind: kind_label(t.kind),
                origin: match t.origin {
                    TraceOrigin::Exemplar => "exemplar",
                    TraceOrigin::Search => "search",
                },
                root: s.root.as_ref().map(|r| format!("{} {}", r.service, r.name)),
                start_unix_nano: s.start_unix_nano,
                duration_ms: s.duration_ms,
                spans: Some(s.span_count),
                errors: Some(s.error_span_count),
                services,
                exemplar_series: exemplar.map(|e| e.series.clone()),
            }
        })
        .collect();
    for e in &report.exemplars {
        let Some(id) = &e.trace_id else { continue };
        if rows.iter().any(|r| &r.trace_id == id) {
            continue;
        }
        let services = ["service", "service_name", "job"]
            .iter()
            .filter_map(|k| e.series.get(*k).cloned())
            .collect();
        rows.push(TraceRow {
            trace_id: id.clone(),
            kind: kind_label(e.kind),
            origin: "exemplar",
            root: None,
            start_unix_nano: (e.timestamp_unix * 1e9).round() as i64,
            duration_ms: match e.kind {
                // A latency exemplar's value is the request's duration in seconds.
                ExemplarKind::Slow => e.value * 1e3,
                ExemplarKind::Error => f64::NAN,
            },
            spans: None,
            errors: None,
            services,
            exemplar_series: Some(e.series.clone()),
        });
    }
    rows
}

pub(super) fn kind_label(kind: ExemplarKind) -> &'static str {
    match kind {
        ExemplarKind::Error => "error",
        ExemplarKind::Slow => "slow",
    }
}

pub(super) fn store_trace_row(t: &TraceSummary) -> TraceRow {
    TraceRow {
        trace_id: t.trace_id.clone(),
        kind: if t.has_error == Some(true) {
            "error"
        } else {
            "trace"
        },
        origin: "store",
        root: match (&t.root_service, &t.root_name) {
            (Some(s), Some(n)) => Some(format!("{s} {n}")),
            (Some(s), None) => Some(s.clone()),
            (None, Some(n)) => Some(n.clone()),
            (None, None) => None,
        },
        start_unix_nano: t.start_unix_nano,
        duration_ms: t.duration_ms,
        spans: t.span_count,
        // The store says whether a trace failed, not how many spans did.
        errors: None,
        services: t.root_service.iter().cloned().collect(),
        exemplar_series: None,
    }
}

/// Failing spans for sorting: the count where known, else 1 for a failing trace.
pub(super) fn error_rank(t: &TraceRow) -> usize {
    t.errors.unwrap_or(usize::from(t.kind == "error"))
}

/// Sorts the traces, keeping the selected trace selected.
pub(super) fn sort_traces(app: &mut App) {
    let selected = app
        .visible_traces()
        .get(app.trace_list.selected)
        .map(|t| t.trace_id.clone());
    let by = app.trace_sort;
    app.traces.sort_by(|a, b| match by {
        TraceSort::Duration => b.duration_ms.total_cmp(&a.duration_ms),
        TraceSort::Errors => error_rank(b)
            .cmp(&error_rank(a))
            .then(b.duration_ms.total_cmp(&a.duration_ms)),
        TraceSort::Time => b.start_unix_nano.cmp(&a.start_unix_nano),
    });
    let page = app.page();
    let visible = app.visible_traces();
    let len = visible.len();
    let index = selected
        .and_then(|id| visible.iter().position(|t| t.trace_id == id))
        .unwrap_or(0);
    app.trace_list.select(index, len, page);
}
