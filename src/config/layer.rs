//! Layering: for each setting, the first of flag, environment and file that sets it (else the
//! default), recorded with its [`Source`] (provenance, shown by `obs config`). Selects the
//! context and builds the [`Config`]; backend connections are layered in `connection`.
//! Reads the environment only through the lookup function the caller passes.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::model::{SearchMode, TraceMatch};
use crate::report::grafana::Grafana;

use super::connection::{JAEGER, LOKI, PROMETHEUS, TEMPO};
use super::error::ConfigError;
use super::file::{FileConfig, FileContext};
use super::validate::{invalid, is_label_name, parse_timeout, validate_url};
use super::{
    Config, DEFAULT_CONCURRENCY, DEFAULT_CONTEXT, DEFAULT_MAX_CANDIDATES, DEFAULT_PROMETHEUS_URL,
    DEFAULT_SCRAPE_INTERVAL, ENV_CONTEXT, ENV_ERROR_QUERY, ENV_GRAFANA_URL, ENV_JAEGER_URL,
    ENV_LOKI_ADDR, ENV_LOKI_URL, ENV_PROMETHEUS_URL, ENV_SERVICE_LABEL, ENV_TEMPO_URL,
    MAX_CONCURRENCY, Overrides, Source, flag_name,
};

pub(super) type EnvLookup<'a> = &'a dyn Fn(&str) -> Option<String>;

/// An environment variable's value; empty (or blank) counts as unset.
pub(super) fn env_get(env: EnvLookup<'_>, name: &str) -> Option<String> {
    env(name).filter(|v| !v.trim().is_empty())
}

pub(super) fn select_context(
    overrides: &Overrides,
    env: EnvLookup<'_>,
    file: Option<&(PathBuf, FileConfig)>,
) -> (String, Source) {
    if let Some(c) = nonempty(overrides.context.as_ref()) {
        return (c, Source::Flag(flag_name("context")));
    }
    if let Some(c) = env_get(env, ENV_CONTEXT) {
        return (c.trim().to_owned(), Source::Env(ENV_CONTEXT));
    }
    file.and_then(|(path, parsed)| {
        nonempty(parsed.current_context.as_ref()).map(|c| (c, Source::File(path.clone())))
    })
    .unwrap_or_else(|| (DEFAULT_CONTEXT.to_owned(), Source::Default))
}

pub(super) fn nonempty(v: Option<&String>) -> Option<String> {
    v.map(|s| s.trim())
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

/// Resolves one context's settings across the layers.
pub(super) struct Resolver<'a> {
    pub(super) overrides: &'a Overrides,
    pub(super) env: EnvLookup<'a>,
    pub(super) ctx: &'a FileContext,
    pub(super) file: Option<&'a Path>,
    pub(super) sources: BTreeMap<String, Source>,
}

impl Resolver<'_> {
    pub(super) fn file_source(&self) -> Source {
        Source::File(self.file.map(Path::to_path_buf).unwrap_or_default())
    }

    pub(super) fn env(&self, name: &'static str) -> Option<(String, Source)> {
        env_get(self.env, name).map(|v| (v.trim().to_owned(), Source::Env(name)))
    }

    /// The first non-empty of flag, env and file for `key`; records its source.
    pub(super) fn pick(
        &mut self,
        key: &'static str,
        flag: Option<&String>,
        env_var: Option<&'static str>,
        file: Option<&String>,
    ) -> Option<(String, Source)> {
        let hit = nonempty(flag)
            .map(|v| (v, Source::Flag(flag_name(key))))
            .or_else(|| env_var.and_then(|n| self.env(n)))
            .or_else(|| nonempty(file).map(|v| (v, self.file_source())));
        if let Some((_, origin)) = &hit {
            self.sources.insert(key.to_owned(), origin.clone());
        }
        hit
    }

    /// Like [`Resolver::pick`], falling back to `default`.
    pub(super) fn pick_or(
        &mut self,
        key: &'static str,
        flag: Option<&String>,
        env_var: Option<&'static str>,
        file: Option<&String>,
        default: &str,
    ) -> (String, Source) {
        self.pick(key, flag, env_var, file).unwrap_or_else(|| {
            self.sources.insert(key.to_owned(), Source::Default);
            (default.to_owned(), Source::Default)
        })
    }

    pub(super) fn duration(
        &mut self,
        key: &'static str,
        flag: Option<&String>,
        env_var: Option<&'static str>,
        file: Option<&String>,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        let Some((text, origin)) = self.pick(key, flag, env_var, file) else {
            self.sources.insert(key.to_owned(), Source::Default);
            return Ok(default);
        };
        parse_timeout(key, &text, &origin)
    }

    pub(super) fn count(
        &mut self,
        key: &'static str,
        flag: Option<usize>,
        file: Option<i64>,
        default: usize,
        max: usize,
    ) -> Result<usize, ConfigError> {
        let (value, origin) = match (flag, file) {
            (Some(n), _) => (
                i128::try_from(n).unwrap_or(i128::MAX),
                Source::Flag(flag_name(key)),
            ),
            (None, Some(n)) => (i128::from(n), self.file_source()),
            (None, None) => (i128::try_from(default).unwrap_or(0), Source::Default),
        };
        self.sources.insert(key.to_owned(), origin.clone());
        match usize::try_from(value) {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ if max == usize::MAX => Err(invalid(
                key,
                &origin,
                Some(&value.to_string()),
                "expected a whole number of at least 1",
            )),
            _ => Err(invalid(
                key,
                &origin,
                Some(&value.to_string()),
                format!("expected a whole number from 1 to {max}"),
            )),
        }
    }

    pub(super) fn resolve(mut self, context: String) -> Result<Config, ConfigError> {
        let o = self.overrides;
        let c = self.ctx;

        let (url, origin) = self.pick_or(
            "prometheus_url",
            o.prometheus_url.as_ref(),
            Some(ENV_PROMETHEUS_URL),
            c.prometheus_url.as_ref(),
            DEFAULT_PROMETHEUS_URL,
        );
        let url = validate_url("prometheus_url", &url, &origin)?;

        let prometheus = self.http_settings(&PROMETHEUS, url, c.prometheus.as_ref())?;
        let tempo = self.backend_url(
            "tempo_url",
            o.tempo_url.as_ref(),
            &[ENV_TEMPO_URL],
            c.tempo_url.as_ref(),
        )?;
        let tempo = match tempo {
            Some(url) => Some(self.http_settings(&TEMPO, url, c.tempo.as_ref())?),
            None => None,
        };
        let jaeger = self.backend_url(
            "jaeger_url",
            o.jaeger_url.as_ref(),
            &[ENV_JAEGER_URL],
            c.jaeger_url.as_ref(),
        )?;
        let jaeger = match jaeger {
            Some(url) => Some(self.http_settings(&JAEGER, url, c.jaeger.as_ref())?),
            None => None,
        };
        let loki = self.backend_url(
            "loki_url",
            o.loki_url.as_ref(),
            &[ENV_LOKI_URL, ENV_LOKI_ADDR],
            c.loki_url.as_ref(),
        )?;
        let loki = match loki {
            Some(url) => Some(self.http_settings(&LOKI, url, c.loki.as_ref())?),
            None => None,
        };
        let grafana = self
            .backend_url(
                "grafana_url",
                None,
                &[ENV_GRAFANA_URL],
                c.grafana_url.as_ref(),
            )?
            .map(|url| Grafana {
                url,
                prometheus_uid: c.grafana_prometheus_uid.clone().filter(|v| !v.is_empty()),
                traces_uid: c.grafana_traces_uid.clone().filter(|v| !v.is_empty()),
                loki_uid: c.grafana_loki_uid.clone().filter(|v| !v.is_empty()),
            });
        let trace_match = match self.pick(
            "trace_match",
            o.trace_match.as_ref(),
            None,
            c.trace_match.as_ref(),
        ) {
            Some((v, origin)) => TraceMatch::parse(&v).ok_or_else(|| {
                invalid(
                    "trace_match",
                    &origin,
                    Some(&v),
                    "expected auto, label, metadata or line",
                )
            })?,
            None => TraceMatch::Auto,
        };
        let tempo_search = match self.pick("tempo_search", None, None, c.tempo_search.as_ref()) {
            Some((v, origin)) => SearchMode::parse(&v).ok_or_else(|| {
                invalid(
                    "tempo_search",
                    &origin,
                    Some(&v),
                    "expected traceql or tags",
                )
            })?,
            None => SearchMode::TraceQl,
        };
        let log_selector = self
            .pick(
                "log_selector",
                o.log_selector.as_ref(),
                None,
                c.log_selector.as_ref(),
            )
            .map(|(v, _)| v);
        let log_service_label = match self.pick(
            "log_service_label",
            None,
            None,
            c.log_service_label.as_ref(),
        ) {
            Some((label, origin)) if !is_label_name(&label) => {
                return Err(invalid(
                    "log_service_label",
                    &origin,
                    Some(&label),
                    "expected a Loki label name such as service_name or app",
                ));
            }
            other => other.map(|(l, _)| l),
        };

        let error_query = self
            .pick(
                "error_query",
                o.error_query.as_ref(),
                Some(ENV_ERROR_QUERY),
                c.error_query.as_ref(),
            )
            .map(|(q, _)| q);
        let latency_query = self
            .pick(
                "latency_query",
                o.latency_query.as_ref(),
                None,
                c.latency_query.as_ref(),
            )
            .map(|(q, _)| q);

        let service_label = match self.pick(
            "service_label",
            o.service_label.as_ref(),
            Some(ENV_SERVICE_LABEL),
            c.service_label.as_ref(),
        ) {
            Some((label, origin)) => {
                if !is_label_name(&label) {
                    return Err(invalid(
                        "service_label",
                        &origin,
                        Some(&label),
                        "expected a Prometheus label name such as service or app \
                         (letters, digits and _, not starting with a digit)",
                    ));
                }
                Some(label)
            }
            None => None,
        };

        let candidates = self.candidates();
        let candidate_match = self
            .pick(
                "candidate_match",
                o.candidate_match.as_ref(),
                None,
                c.candidate_match.as_ref(),
            )
            .map(|(m, _)| m);
        let max_candidates = self.count(
            "max_candidates",
            o.max_candidates,
            c.max_candidates,
            DEFAULT_MAX_CANDIDATES,
            usize::MAX,
        )?;
        let concurrency = self.count(
            "concurrency",
            o.concurrency,
            c.concurrency,
            DEFAULT_CONCURRENCY,
            MAX_CONCURRENCY,
        )?;
        let scrape_interval = self.duration(
            "scrape_interval",
            o.scrape_interval.as_ref(),
            None,
            c.scrape_interval.as_ref(),
            DEFAULT_SCRAPE_INTERVAL,
        )?;

        Ok(Config {
            context,
            config_file: self.file.map(Path::to_path_buf),
            prometheus,
            tempo,
            jaeger,
            loki,
            grafana,
            trace_match,
            tempo_search,
            log_selector,
            log_service_label,
            error_query,
            latency_query,
            service_label,
            candidates,
            candidate_match,
            max_candidates,
            concurrency,
            scrape_interval,
            sources: self.sources,
            llm: c.llm.clone(),
        })
    }
}

impl Resolver<'_> {
    pub(super) fn candidates(&mut self) -> Vec<String> {
        let file = self.file_source();
        let from_file = self
            .ctx
            .candidates
            .iter()
            .flatten()
            .map(|q| (q, file.clone()));
        let from_flags = self
            .overrides
            .candidates
            .iter()
            .map(|q| (q, Source::Flag(flag_name("candidates"))));
        let mut out: Vec<String> = Vec::new();
        for (q, origin) in from_file.chain(from_flags) {
            let q = q.trim();
            if q.is_empty() || out.iter().any(|e| e == q) {
                continue;
            }
            self.sources
                .insert(format!("candidates[{}]", out.len()), origin);
            out.push(q.to_owned());
        }
        out
    }
}
