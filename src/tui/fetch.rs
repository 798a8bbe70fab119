//! Runs [`Fetch`] requests in the background on the async runtime, through the same source
//! traits the investigation uses, and sends each answer back on the UI's channel. A trace's
//! span tree is built here too, so a 100 000-span trace never stalls a frame.
//!
//! It never touches the UI's state: the answer is an event, and `update` decides what it means
//! (an answer to a fetch the user has left behind is dropped there).

use std::sync::Arc;
use std::sync::mpsc::Sender;

use crate::analysis::spantree::SpanTree;
use crate::source::{Direction, LogQuery, TraceMatch, TraceSearch};
use crate::tui::Sources;
use crate::tui::app::{Data, Fetch, LOG_LIMIT, STORE_TRACES};
use crate::tui::event::Event;

pub struct Fetcher {
    sources: Arc<Sources>,
    runtime: tokio::runtime::Handle,
    tx: Sender<Event>,
}

impl Fetcher {
    pub fn new(sources: Sources, runtime: tokio::runtime::Handle, tx: Sender<Event>) -> Fetcher {
        Fetcher {
            sources: Arc::new(sources),
            runtime,
            tx,
        }
    }

    /// Starts `fetch`; returns at once.
    pub fn start(&self, fetch: Fetch) {
        let sources = Arc::clone(&self.sources);
        let tx = self.tx.clone();
        self.runtime.spawn(async move {
            let data = run(&sources, fetch).await;
            // The UI may have quit meanwhile; nobody is left to tell.
            let _ = tx.send(Event::Data(data));
        });
    }
}

/// One fetch, start to answer.
pub async fn run(sources: &Sources, fetch: Fetch) -> Data {
    match fetch {
        Fetch::Trace { seq, trace_id } => {
            let result = match &sources.traces {
                None => Err("no traces backend is configured".to_string()),
                Some(t) => match t.trace(&trace_id).await {
                    Ok(Some(trace)) => {
                        // Building the tree of a big trace takes tens of milliseconds: off the
                        // runtime's async workers.
                        tokio::task::spawn_blocking(move || {
                            Some(Arc::new(SpanTree::from_trace(trace)))
                        })
                        .await
                        .map_err(|e| format!("building the span tree failed: {e}"))
                    }
                    Ok(None) => Ok(None),
                    Err(e) => Err(e.to_string()),
                },
            };
            Data::Trace {
                seq,
                trace_id,
                result,
            }
        }
        Fetch::Logs {
            seq,
            trace_id,
            span: _,
            start_ns,
            end_ns,
        } => {
            let result = match &sources.logs {
                None => Err("no logs backend is configured".to_string()),
                Some(l) => l
                    .logs(&LogQuery {
                        trace_id: Some(trace_id),
                        trace_match: TraceMatch::Auto,
                        start_ns,
                        end_ns,
                        limit: LOG_LIMIT,
                        direction: Direction::Forward,
                        ..LogQuery::default()
                    })
                    .await
                    .map(|r| r.records)
                    .map_err(|e| e.to_string()),
            };
            Data::Logs { seq, result }
        }
        Fetch::StoreTraces { seq } => {
            let result = match &sources.traces {
                None => Err("no store is open".to_string()),
                Some(t) => t
                    .search(&TraceSearch {
                        start: 0.0,
                        end: 4e9,
                        limit: STORE_TRACES,
                        ..TraceSearch::default()
                    })
                    .await
                    .map_err(|e| e.to_string()),
            };
            Data::StoreTraces { seq, result }
        }
    }
}
