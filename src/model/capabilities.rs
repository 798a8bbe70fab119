//! What a backend can do, as `obs doctor` found it: one [`BackendCheck`] per configured backend
//! (reachable, version, auth, and one [`Check`] per capability), and the [`Capabilities`]
//! investigate picks its strategies from. Plain values: the probing is `source::probe`, the
//! table `report::doctor`.

use serde::{Deserialize, Serialize};

/// Whether a backend has a capability. `Unknown` when nothing recorded or answered says
/// either way (the backend was unreachable, or the probe was inconclusive): callers treat it
/// like `Yes` and let the real request decide.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Support {
    Yes,
    No,
    #[default]
    Unknown,
}

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckState {
    Ok,
    /// Answered, and the capability is not there (or is switched off).
    Missing,
    /// Could not be told (not probed because the backend is unreachable, or no answer says).
    Unknown,
    /// The request failed (unreachable, timeout, auth rejected, an error status).
    Failed,
}

/// One row of the doctor's table.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    /// What was checked, e.g. `exemplars API`.
    pub name: String,
    pub state: CheckState,
    /// What the backend answered, e.g. `1s (2 targets)` or the error.
    pub detail: String,
    /// True when investigate cannot do its job without it: then a state other than `ok` or
    /// `unknown` makes `obs doctor` exit 1.
    pub required: bool,
    /// What to do about a state other than `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fix: Option<String>,
}

impl Check {
    pub fn new(name: &str, state: CheckState, detail: impl Into<String>) -> Check {
        Check {
            name: name.to_string(),
            state,
            detail: detail.into(),
            required: false,
            fix: None,
        }
    }

    pub fn required(mut self, required: bool) -> Check {
        self.required = required;
        self
    }

    pub fn fix(mut self, fix: impl Into<String>) -> Check {
        if self.state != CheckState::Ok {
            self.fix = Some(fix.into());
        }
        self
    }

    /// A required check that is missing or failed.
    pub fn blocks(&self) -> bool {
        self.required && matches!(self.state, CheckState::Missing | CheckState::Failed)
    }

    pub fn support(&self) -> Support {
        match self.state {
            CheckState::Ok => Support::Yes,
            CheckState::Missing => Support::No,
            CheckState::Unknown | CheckState::Failed => Support::Unknown,
        }
    }
}

/// One backend as probed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackendCheck {
    /// `metrics`, `logs` or `traces`.
    pub signal: String,
    /// `prometheus`, `loki`, `tempo`, `jaeger`.
    pub kind: String,
    pub url: String,
    pub reachable: bool,
    pub version: Option<String>,
    /// The checks in the order they ran; the first ones are `reachable` and `auth`.
    pub checks: Vec<Check>,
}

impl BackendCheck {
    pub fn check(&self, name: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.name == name)
    }
}

/// Names of the checks other code looks up.
pub mod names {
    pub const REACHABLE: &str = "reachable";
    pub const AUTH: &str = "auth/tenant";
    pub const QUERY_API: &str = "query API";
    pub const EXEMPLARS: &str = "exemplars API";
    pub const EXEMPLAR_STORAGE: &str = "exemplar storage";
    pub const METADATA: &str = "metadata API";
    pub const TARGETS: &str = "targets (scrape interval)";
    pub const NATIVE_HISTOGRAMS: &str = "native histograms";
    pub const LABELS: &str = "labels API";
    pub const STRUCTURED_METADATA: &str = "structured metadata";
    pub const PATTERNS: &str = "pattern endpoint";
    pub const TRACE_API: &str = "trace API";
    pub const TRACEQL: &str = "TraceQL search";
    pub const SEARCH_API: &str = "search API";
    pub const SERVICES_API: &str = "services API";
}

/// What investigate may rely on, from the probes. The default is all `Unknown`, which means
/// "try and see", exactly what investigate did before it knew about capabilities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Capabilities {
    /// Exemplars can be read: the API answers and exemplar storage is on.
    #[serde(default)]
    pub exemplars: Support,
    #[serde(default)]
    pub metadata: Support,
    #[serde(default)]
    pub native_histograms: Support,
    #[serde(default)]
    pub log_patterns: Support,
    #[serde(default)]
    pub structured_metadata: Support,
    #[serde(default)]
    pub traceql: Support,
}

impl Capabilities {
    /// The capabilities the probed backends show (metrics from the metrics backend, and so on).
    pub fn from_checks(backends: &[BackendCheck]) -> Capabilities {
        let mut caps = Capabilities::default();
        let get = |signal: &str, name: &str| {
            backends
                .iter()
                .filter(|b| b.signal == signal)
                .find_map(|b| b.check(name))
                .map(Check::support)
                .unwrap_or_default()
        };
        caps.exemplars = match (
            get("metrics", names::EXEMPLARS),
            get("metrics", names::EXEMPLAR_STORAGE),
        ) {
            (Support::No, _) | (_, Support::No) => Support::No,
            (Support::Yes, Support::Yes) => Support::Yes,
            _ => Support::Unknown,
        };
        caps.metadata = get("metrics", names::METADATA);
        caps.native_histograms = get("metrics", names::NATIVE_HISTOGRAMS);
        caps.log_patterns = get("logs", names::PATTERNS);
        caps.structured_metadata = get("logs", names::STRUCTURED_METADATA);
        caps.traceql = get("traces", names::TRACEQL);
        caps
    }
}

/// What `obs doctor -o json` prints (`schema_version` 1).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DoctorReport {
    pub schema_version: u32,
    pub context: String,
    /// False when a required check is missing or failed (exit code 1).
    pub ok: bool,
    pub backends: Vec<BackendCheck>,
    pub capabilities: Capabilities,
    /// The default store (`obs sink` without `--store`) when it exists: what commands read
    /// when no backend is configured.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_store: Option<String>,
}

impl DoctorReport {
    pub fn new(
        context: String,
        backends: Vec<BackendCheck>,
        default_store: Option<String>,
    ) -> Self {
        let ok = !backends.iter().flat_map(|b| &b.checks).any(Check::blocks);
        DoctorReport {
            schema_version: 1,
            context,
            ok,
            capabilities: Capabilities::from_checks(&backends),
            backends,
            default_store,
        }
    }
}

/// A version such as `2.42.0+ds`, `v2.0.1` or `3.1.0-rc1` as (major, minor); `None` when it does
/// not start with two numbers.
pub fn major_minor(version: &str) -> Option<(u64, u64)> {
    let v = version.trim().trim_start_matches('v');
    let mut parts = v.split(|c: char| !c.is_ascii_digit());
    let major = parts.next()?.parse().ok()?;
    let minor = parts.next()?.parse().ok()?;
    Some((major, minor))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_read_with_prefixes_and_suffixes() {
        assert_eq!(major_minor("2.42.0+ds"), Some((2, 42)));
        assert_eq!(major_minor("v2.0.1"), Some((2, 0)));
        assert_eq!(major_minor("3.1.0-rc1"), Some((3, 1)));
        assert_eq!(major_minor("main-abc123"), None);
        assert_eq!(major_minor(""), None);
    }

    fn backend(signal: &str, checks: Vec<Check>) -> BackendCheck {
        BackendCheck {
            signal: signal.into(),
            kind: "x".into(),
            url: "http://x".into(),
            reachable: true,
            version: None,
            checks,
        }
    }

    #[test]
    fn exemplars_are_usable_only_when_the_api_answers_and_storage_is_on() {
        let with = |api, storage| {
            Capabilities::from_checks(&[backend(
                "metrics",
                vec![
                    Check::new(names::EXEMPLARS, api, ""),
                    Check::new(names::EXEMPLAR_STORAGE, storage, ""),
                ],
            )])
            .exemplars
        };
        assert_eq!(with(CheckState::Ok, CheckState::Ok), Support::Yes);
        assert_eq!(with(CheckState::Ok, CheckState::Missing), Support::No);
        assert_eq!(with(CheckState::Missing, CheckState::Unknown), Support::No);
        assert_eq!(with(CheckState::Ok, CheckState::Unknown), Support::Unknown);
        // A failed request says nothing about the capability.
        assert_eq!(
            with(CheckState::Failed, CheckState::Failed),
            Support::Unknown
        );
        assert_eq!(Capabilities::from_checks(&[]), Capabilities::default());
    }

    #[test]
    fn only_required_missing_or_failed_checks_block() {
        let c = Check::new("a", CheckState::Missing, "").required(true);
        assert!(c.blocks());
        assert!(!Check::new("a", CheckState::Missing, "").blocks());
        assert!(
            !Check::new("a", CheckState::Unknown, "")
                .required(true)
                .blocks()
        );
        assert_eq!(Check::new("a", CheckState::Ok, "").fix("x").fix, None);
    }
}
