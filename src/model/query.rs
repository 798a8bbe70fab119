//! Query settings that both the configuration and the sources speak: how a trace id is found
//! in logs, and how Tempo is searched. They live here, with the other backend-neutral values,
//! so that `config` need not import `source` (which imports `config` for its HTTP settings).

/// How a trace id is found in logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TraceMatch {
    /// Try `Label`, then `Metadata`, then `Line`; the first that finds lines wins.
    #[default]
    Auto,
    /// The trace id is a stream label: `{trace_id="…"}`.
    Label,
    /// The trace id is structured metadata (Loki 3) or an extracted label: `{…} | trace_id="…"`.
    Metadata,
    /// The trace id appears in the line: `{…} |= "…"`.
    Line,
}

impl TraceMatch {
    pub fn as_str(self) -> &'static str {
        match self {
            TraceMatch::Auto => "auto",
            TraceMatch::Label => "label",
            TraceMatch::Metadata => "metadata",
            TraceMatch::Line => "line",
        }
    }

    pub fn parse(s: &str) -> Option<TraceMatch> {
        match s.trim().to_ascii_lowercase().as_str() {
            "auto" => Some(TraceMatch::Auto),
            "label" => Some(TraceMatch::Label),
            "metadata" => Some(TraceMatch::Metadata),
            "line" => Some(TraceMatch::Line),
            _ => None,
        }
    }
}

/// How to search: TraceQL (Tempo 2.0 and later) or the tag search of older versions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SearchMode {
    #[default]
    TraceQl,
    Tags,
}

impl SearchMode {
    pub fn parse(s: &str) -> Option<SearchMode> {
        match s.trim().to_ascii_lowercase().as_str() {
            "traceql" => Some(SearchMode::TraceQl),
            "tags" => Some(SearchMode::Tags),
            _ => None,
        }
    }
}
