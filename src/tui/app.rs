//! The UI's state ([`App`], defined with the actions and fetches in `state`), what can happen
//! to it ([`Action`]), and [`update`], the only function that changes it. What `update` needs from a backend it returns as [`Fetch`]
//! requests; the answers come back as [`Action::Data`].
//!
//! No terminal, no I/O, no clock here: everything is a value, so every navigation edge case is a
//! unit test. Scroll positions are kept valid for the last known terminal size
//! ([`Action::Resize`]), with the same row arithmetic the renderer uses ([`super::ui::layout`]).

use crate::analysis::spantree::SpanTree;
use crate::tui::ui::layout;

mod state;

pub use state::*;

/// Applies one action; returns what must be fetched because of it.
pub fn update(app: &mut App, action: Action) -> Vec<Fetch> {
    // Any key clears the last inline message; data and the clock do not.
    if !matches!(action, Action::Tick | Action::Data(_) | Action::Resize(..)) {
        app.message = None;
    }
    if app.search_input.is_some() {
        return search_input(app, action);
    }
    match action {
        Action::Quit => app.quit = true,
        Action::Back => {
            if app.help {
                app.help = false;
            } else if app.stack.len() > 1 {
                app.stack.pop();
            } else {
                app.quit = true;
            }
        }
        Action::ToggleHelp => app.help = !app.help,
        Action::Goto(view) => goto(app, view),
        Action::Resize(w, h) => {
            app.width = w;
            app.height = h;
            refollow(app);
        }
        Action::Tick => {
            app.ticks += 1;
            if matches!(app.mode, Mode::Store { .. })
                && !matches!(app.store_loading, Loading::InFlight { .. })
                && app.ticks.saturating_sub(app.last_refresh) >= app.refresh_ticks
            {
                return vec![app.refresh_store()];
            }
        }
        Action::Data(data) => return on_data(app, data),
        Action::Up => move_selection(app, -1),
        Action::Down => move_selection(app, 1),
        Action::PageUp => move_selection(app, -(app.page() as isize)),
        Action::PageDown => move_selection(app, app.page() as isize),
        Action::Top => move_selection(app, isize::MIN / 2),
        Action::Bottom => move_selection(app, isize::MAX / 2),
        Action::Scroll(n) => move_selection(app, n),
        Action::ClickRow(n) => click(app, n),
        Action::Open => return open(app),
        Action::ToggleLagShift => app.lag_shift = !app.lag_shift,
        Action::Exemplars => exemplars(app),
        Action::CycleSort => {
            app.trace_sort = match app.trace_sort {
                TraceSort::Duration => TraceSort::Errors,
                TraceSort::Errors => TraceSort::Time,
                TraceSort::Time => TraceSort::Duration,
            };
            sort_traces(app);
        }
        Action::CycleServiceFilter => cycle_service(app),
        Action::Collapse => collapse(app, true),
        Action::Expand => collapse(app, false),
        Action::ToggleCollapse => {
            let collapsed = app
                .waterfall
                .as_ref()
                .and_then(|w| w.selected_span().map(|i| w.collapsed[i]));
            if let Some(c) = collapsed {
                set_collapsed(app, !c);
            }
        }
        Action::ExpandAll | Action::CollapseAll => {
            let height = layout::list_rows(app, View::Waterfall);
            if let Some(w) = app.waterfall.as_mut()
                && let Some(tree) = w.tree.clone()
            {
                let collapse = matches!(action, Action::CollapseAll);
                let keep = w.selected_span();
                for (i, c) in w.collapsed.iter_mut().enumerate() {
                    // Collapse all keeps the roots' children visible, like an outline's top level.
                    *c = collapse && tree.depth(i) >= 1 && !tree.children(i).is_empty();
                }
                w.rebuild(keep, height);
            }
        }
        Action::NextCritical | Action::PrevCritical => {
            let next = matches!(action, Action::NextCritical);
            jump(
                app,
                next,
                |tree, i| tree.is_on_critical_path(i),
                "the critical path",
            );
        }
        Action::NextError | Action::PrevError => {
            let next = matches!(action, Action::NextError);
            jump(
                app,
                next,
                |tree, i| tree.spans()[i].is_error(),
                "an error span",
            );
        }
        Action::StartSearch => {
            if app.view() == View::Waterfall
                && app.waterfall.as_ref().is_some_and(|w| w.tree.is_some())
            {
                app.search_input = Some(String::new());
            }
        }
        Action::NextMatch | Action::PrevMatch => {
            next_match(app, matches!(action, Action::NextMatch));
        }
        Action::ToggleDetail => {
            if let Some(w) = app.waterfall.as_mut() {
                w.detail = !w.detail;
            }
            refollow(app);
        }
        Action::SpanLogs => return span_logs(app, true),
        Action::TraceLogs => return span_logs(app, false),
        Action::ToggleWrap => app.logs.wrap = !app.logs.wrap,
        Action::SearchInput(_)
        | Action::SearchBackspace
        | Action::SearchConfirm
        | Action::SearchCancel => {}
    }
    Vec::new()
}

fn goto(app: &mut App, view: View) {
    let available = match view {
        View::Overview => app.report.is_some(),
        View::Candidate => app.correlations_len() > 0,
        View::Traces => true,
        View::Waterfall => app.waterfall.is_some(),
        View::Logs => app.logs.trace_id.is_some(),
    };
    if !available {
        app.message = Some(match view {
            View::Overview => "no report: this is a store's trace list".into(),
            View::Candidate => "no ranked candidates in this report".into(),
            View::Waterfall => "no trace opened yet: pick one in traces (2) and press Enter".into(),
            View::Logs => "no logs opened yet: in a waterfall, press s (span) or L (trace)".into(),
            View::Traces => String::new(),
        });
        return;
    }
    if view == View::Candidate {
        app.candidate = app.candidates.selected;
    }
    match app.stack.iter().position(|v| *v == view) {
        // Going back to a view already on the breadcrumb drops what was opened after it.
        Some(pos) => app.stack.truncate(pos + 1),
        None => app.stack.push(view),
    }
}

/// Keeps every list's selection in view after a resize.
fn refollow(app: &mut App) {
    let rows = layout::list_rows(app, View::Overview);
    let len = app.correlations_len();
    app.candidates.follow(len, rows);
    let rows = layout::list_rows(app, View::Traces);
    let len = app.visible_traces().len();
    app.trace_list.follow(len, rows);
    let rows = layout::list_rows(app, View::Waterfall);
    if let Some(w) = app.waterfall.as_mut() {
        let len = w.len();
        w.list.follow(len, rows);
    }
    let rows = layout::list_rows(app, View::Logs);
    let len = app.logs.lines.len();
    app.logs.list.follow(len, rows);
}

fn move_selection(app: &mut App, delta: isize) {
    let page = app.page();
    match app.view() {
        View::Overview => {
            let len = app.correlations_len();
            app.candidates.step(delta, len, page);
        }
        View::Candidate => {
            // Up and down walk the ranking without going back to the overview.
            let len = app.correlations_len();
            app.candidates
                .step(delta, len, layout::list_rows(app, View::Overview));
            app.candidate = app.candidates.selected;
        }
        View::Traces => {
            let len = app.visible_traces().len();
            app.trace_list.step(delta, len, page);
        }
        View::Waterfall => {
            if let Some(w) = app.waterfall.as_mut() {
                let len = w.len();
                w.list.step(delta, len, page);
            }
        }
        View::Logs => {
            let len = app.logs.lines.len();
            app.logs.list.step(delta, len, page);
        }
    }
}

fn click(app: &mut App, n: usize) {
    let page = app.page();
    let pick = |list: &mut ListState, len: usize| {
        let index = list.top + n;
        if index < len {
            list.select(index, len, page);
            true
        } else {
            false
        }
    };
    match app.view() {
        View::Overview => {
            let len = app.correlations_len();
            pick(&mut app.candidates, len);
        }
        View::Traces => {
            let len = app.visible_traces().len();
            pick(&mut app.trace_list, len);
        }
        View::Waterfall => {
            if let Some(w) = app.waterfall.as_mut() {
                let len = w.len();
                pick(&mut w.list, len);
            }
        }
        View::Logs => {
            let len = app.logs.lines.len();
            pick(&mut app.logs.list, len);
        }
        View::Candidate => {}
    }
}

fn open(app: &mut App) -> Vec<Fetch> {
    match app.view() {
        View::Overview => {
            if app.correlations_len() == 0 {
                app.message = Some("no ranked candidates to open".into());
            } else {
                app.candidate = app.candidates.selected;
                app.push(View::Candidate);
            }
            Vec::new()
        }
        View::Candidate => {
            exemplars(app);
            Vec::new()
        }
        View::Traces => {
            let Some(id) = app
                .visible_traces()
                .get(app.trace_list.selected)
                .map(|t| t.trace_id.clone())
            else {
                app.message = Some("no trace to open".into());
                return Vec::new();
            };
            open_trace(app, id)
        }
        View::Waterfall => {
            if let Some(w) = app.waterfall.as_mut() {
                w.detail = !w.detail;
            }
            refollow(app);
            Vec::new()
        }
        View::Logs => {
            let linked = app
                .logs
                .lines
                .get(app.logs.list.selected)
                .and_then(LogLine::linked_trace);
            match linked {
                Some(id) => open_trace(app, id),
                None => {
                    app.message = Some("this line names no trace".into());
                    Vec::new()
                }
            }
        }
    }
}

/// Opens the waterfall of `trace_id`: at once if it is already loaded (or is the report's worst
/// trace), else with a spinner while it is fetched.
fn open_trace(app: &mut App, trace_id: String) -> Vec<Fetch> {
    if let Some(w) = &app.waterfall
        && w.trace_id == trace_id
        && !matches!(w.loading, Loading::Failed(_))
    {
        app.push(View::Waterfall);
        return Vec::new();
    }
    if !app.can_fetch_traces {
        app.message = Some(format!(
            "cannot fetch trace {trace_id}: no traces backend; open the report with --store PATH, \
             or configure tempo_url or jaeger_url"
        ));
        return Vec::new();
    }
    let seq = app.seq();
    app.waterfall = Some(WaterfallState::loading(trace_id.clone(), seq));
    app.push(View::Waterfall);
    vec![Fetch::Trace { seq, trace_id }]
}

fn on_data(app: &mut App, data: Data) -> Vec<Fetch> {
    match data {
        Data::Trace {
            seq,
            trace_id,
            result,
        } => {
            let height = layout::list_rows(app, View::Waterfall);
            let Some(w) = app.waterfall.as_mut() else {
                return Vec::new();
            };
            if w.loading
                != (Loading::InFlight {
                    seq,
                    what: format!("trace {trace_id}"),
                })
            {
                // An answer to a fetch the user has since left behind.
                return Vec::new();
            }
            match result {
                Ok(Some(tree)) => {
                    let detail = w.detail;
                    *w = WaterfallState::with_tree(tree);
                    w.detail = detail;
                    w.list.follow(w.len(), height);
                }
                Ok(None) => {
                    w.loading = Loading::Failed(format!(
                        "trace {trace_id} not found: check the id, or whether it is older than \
                         the backend's retention"
                    ));
                }
                Err(e) => {
                    w.loading = Loading::Failed(format!("cannot fetch trace {trace_id}: {e}"))
                }
            }
        }
        Data::Logs { seq, result } => {
            if !matches!(app.logs.loading, Loading::InFlight { seq: s, .. } if s == seq) {
                return Vec::new();
            }
            match result {
                Ok(mut records) => {
                    records.sort_by_key(|r| r.timestamp_unix_nano);
                    if let Some(span) = &app.logs.span {
                        records.retain(|r| span.holds(r.span_id.as_deref(), r.timestamp_unix_nano));
                    }
                    app.logs.lines = records.iter().map(LogLine::from_record).collect();
                    app.logs.loading = Loading::Idle;
                    app.logs.list = ListState::default();
                }
                Err(e) => app.logs.loading = Loading::Failed(format!("cannot fetch logs: {e}")),
            }
        }
        Data::StoreTraces { seq, result } => {
            if !matches!(app.store_loading, Loading::InFlight { seq: s, .. } if s == seq) {
                return Vec::new();
            }
            match result {
                Ok(list) => {
                    app.traces = list.iter().map(store_trace_row).collect();
                    app.store_loading = Loading::Idle;
                    sort_traces(app);
                }
                // The list stays as it was; the status line says why it did not refresh.
                Err(e) => {
                    app.store_loading =
                        Loading::Failed(format!("cannot list the store's traces: {e}"))
                }
            }
        }
    }
    Vec::new()
}

fn exemplars(app: &mut App) {
    let Some(c) = app
        .report
        .as_ref()
        .and_then(|r| r.correlations.get(app.candidate))
    else {
        return;
    };
    let mut want = c.labels.clone();
    want.insert("__name__".into(), c.metric.clone());
    let any = app.traces.iter().any(|t| {
        t.exemplar_series
            .as_ref()
            .is_some_and(|have| labels_within(&want, have))
    });
    if !any {
        app.message = Some(format!("{} has no exemplars in the spike window", c.metric));
        return;
    }
    app.exemplar_filter = Some(want);
    app.service_filter = None;
    app.trace_list = ListState::default();
    app.push(View::Traces);
}

fn cycle_service(app: &mut App) {
    let mut services: Vec<String> = app.traces.iter().flat_map(|t| t.services.clone()).collect();
    services.sort();
    services.dedup();
    app.service_filter = match &app.service_filter {
        None => services.first().cloned(),
        Some(s) => services
            .iter()
            .position(|x| x == s)
            .and_then(|i| services.get(i + 1))
            .cloned(),
    };
    app.exemplar_filter = None;
    app.trace_list = ListState::default();
}

fn collapse(app: &mut App, hide: bool) {
    let Some(w) = app.waterfall.as_ref() else {
        return;
    };
    let (Some(tree), Some(i)) = (w.tree.clone(), w.selected_span()) else {
        return;
    };
    let has_children = !tree.children(i).is_empty();
    if hide && (w.collapsed[i] || !has_children) {
        // Already closed, or a leaf: go to the parent, as tree views do.
        if let Some(p) = tree.parent(i) {
            let height = layout::list_rows(app, View::Waterfall);
            if let Some(w) = app.waterfall.as_mut() {
                w.reveal(p, height);
            }
        }
        return;
    }
    if !hide && !w.collapsed[i] {
        return;
    }
    set_collapsed(app, hide);
}

fn set_collapsed(app: &mut App, hide: bool) {
    let height = layout::list_rows(app, View::Waterfall);
    if let Some(w) = app.waterfall.as_mut()
        && let Some(i) = w.selected_span()
    {
        w.collapsed[i] = hide;
        w.rebuild(Some(i), height);
    }
}

/// Selects the next (or previous) span in display order that `pred` holds for, wrapping
/// around, expanding what hides it.
fn jump(app: &mut App, next: bool, pred: impl Fn(&SpanTree, usize) -> bool, what: &str) {
    let height = layout::list_rows(app, View::Waterfall);
    let Some(w) = app.waterfall.as_mut() else {
        return;
    };
    let Some(tree) = w.tree.clone() else { return };
    let order = tree.display_order();
    let n = order.len();
    if n == 0 {
        app.message = Some(format!("no {what} in an empty trace"));
        return;
    }
    let current = w
        .selected_span()
        .and_then(|s| w.position.get(s).copied())
        .unwrap_or(0);
    let found = (1..=n)
        .map(|k| {
            if next {
                (current + k) % n
            } else {
                (current + n - k % n) % n
            }
        })
        .map(|pos| order[pos])
        .find(|&i| pred(&tree, i));
    match found {
        Some(i) => w.reveal(i, height),
        None => app.message = Some(format!("no span on {what} in this trace")),
    }
}

fn search_input(app: &mut App, action: Action) -> Vec<Fetch> {
    let Some(input) = app.search_input.as_mut() else {
        return Vec::new();
    };
    match action {
        Action::SearchInput(c) => input.push(c),
        Action::SearchBackspace => {
            input.pop();
        }
        Action::SearchCancel => app.search_input = None,
        Action::SearchConfirm => {
            let query = std::mem::take(input);
            app.search_input = None;
            run_search(app, query);
        }
        Action::Quit => app.quit = true,
        Action::Resize(w, h) => {
            app.width = w;
            app.height = h;
            refollow(app);
        }
        Action::Tick => app.ticks += 1,
        Action::Data(d) => return on_data(app, d),
        _ => {}
    }
    Vec::new()
}

/// Spans whose name, service or an attribute (key or value) contains `query`, ignoring case.
fn run_search(app: &mut App, query: String) {
    let Some(w) = app.waterfall.as_mut() else {
        return;
    };
    let Some(tree) = w.tree.clone() else { return };
    if query.is_empty() {
        w.search = None;
        w.matches.clear();
        w.is_match.clear();
        return;
    }
    let q = query.to_lowercase();
    let hit = |i: usize| {
        let s = &tree.spans()[i];
        s.name.to_lowercase().contains(&q)
            || s.service.to_lowercase().contains(&q)
            || s.attributes.iter().any(|(k, v)| {
                k.to_lowercase().contains(&q)
                    || v.as_str()
                        .map_or_else(|| v.to_string(), str::to_string)
                        .to_lowercase()
                        .contains(&q)
            })
    };
    w.matches = tree
        .display_order()
        .iter()
        .copied()
        .filter(|&i| hit(i))
        .collect();
    w.is_match = vec![false; tree.len()];
    for &m in &w.matches {
        w.is_match[m] = true;
    }
    let count = w.matches.len();
    w.search = Some(query.clone());
    if count == 0 {
        app.message = Some(format!("no span matches {query:?}"));
        return;
    }
    // The first match at or after the selection.
    let height = layout::list_rows(app, View::Waterfall);
    if let Some(w) = app.waterfall.as_mut() {
        let pos_of = |s: usize| w.position.get(s).copied().unwrap_or(0);
        let here = w.selected_span().map_or(0, pos_of);
        let target = w
            .matches
            .iter()
            .copied()
            .find(|&m| pos_of(m) >= here)
            .unwrap_or(w.matches[0]);
        w.reveal(target, height);
    }
    app.message = Some(format!("{count} spans match {query:?}: n next, N previous"));
}

fn next_match(app: &mut App, next: bool) {
    let Some(w) = app.waterfall.as_ref() else {
        return;
    };
    if w.matches.is_empty() {
        app.message = Some("no search: press / to search span names, services, attributes".into());
        return;
    }
    let is_match = w.is_match.clone();
    jump(
        app,
        next,
        |_, i| is_match.get(i).copied().unwrap_or(false),
        "the search",
    );
}

/// Opens the logs of the selected span (`span`) or of the whole trace.
fn span_logs(app: &mut App, span: bool) -> Vec<Fetch> {
    let Some(w) = app.waterfall.as_ref() else {
        app.message = Some("open a trace first".into());
        return Vec::new();
    };
    let Some(tree) = w.tree.clone() else {
        app.message = Some("the trace is not loaded yet".into());
        return Vec::new();
    };
    let trace_id = w.trace_id.clone();
    let scope = if span {
        w.selected_span().map(|i| {
            let s = &tree.spans()[i];
            SpanScope {
                span_id: s.span_id.clone(),
                name: format!("{} {}", s.service, s.name),
                start_ns: s.start_unix_nano,
                end_ns: tree.end_unix_nano(i).saturating_add(1),
            }
        })
    } else {
        None
    };
    // The trace's window either way: records that name their span are found wherever their
    // clock put them, and `SpanScope::holds` narrows them to the span.
    let (start_ns, end_ns) = (
        tree.start_unix_nano().saturating_sub(LOG_SLACK_NS),
        tree.start_unix_nano()
            .saturating_add(tree.duration_nanos())
            .saturating_add(LOG_SLACK_NS),
    );
    let span_scope = scope;
    app.logs = LogsState {
        trace_id: Some(trace_id.clone()),
        span: span_scope.clone(),
        wrap: app.logs.wrap,
        ..LogsState::default()
    };
    app.push(View::Logs);
    if app.can_fetch_logs {
        let seq = app.seq();
        app.logs.loading = Loading::InFlight {
            seq,
            what: match &span_scope {
                Some(s) => format!("logs of span {}", s.name),
                None => format!("logs of trace {trace_id}"),
            },
        };
        return vec![Fetch::Logs {
            seq,
            trace_id,
            span: span_scope,
            start_ns,
            end_ns,
        }];
    }
    // No logs backend: what the report carries for this trace (and the span's window).
    let from_report: Vec<LogLine> = app
        .report
        .as_ref()
        .map(|r| {
            r.logs
                .iter()
                .filter(|l| l.trace_id == trace_id)
                .map(LogLine::from_entry)
                .filter(|l| {
                    span_scope
                        .as_ref()
                        .is_none_or(|s| s.holds(None, l.timestamp_unix_nano))
                })
                .collect()
        })
        .unwrap_or_default();
    let mut lines = from_report;
    lines.sort_by_key(|l| l.timestamp_unix_nano);
    app.logs.lines = lines;
    app.message = Some("no logs backend: showing the logs the report carries".into());
    Vec::new()
}

#[cfg(test)]
pub(crate) mod tests;
