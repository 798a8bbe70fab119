//! `explain`: an LLM's root-cause summary of a report that cites its evidence, sends nothing
//! secret, and runs only when asked (`obs explain REPORT.json`, `investigate --explain`).
//!
//! The flow: the report's JSON form → an evidence pack of short items with ids ([`pack`]) →
//! each item redacted ([`redact`]) → fitted into the input budget by a local token count
//! ([`tokens`]) → one chat-completions request ([`request`]) → streamed from the server with
//! bounded retries ([`client`]) → aliases mapped back, the answer parsed and every citation
//! checked against the pack ([`answer`]) → an [`Explanation`], which the JSON report carries
//! and [`render`] prints.
//!
//! The LLM reads only the report, never a backend. This module owns the pack, redaction,
//! budget, request, answer checking and their JSON shape; it must not print (callers choose
//! stdout/stderr) and must never put a secret in an error, log line or dry run.

pub mod answer;
pub mod client;
pub mod pack;
pub mod redact;
pub mod render;
pub mod request;
pub mod settings;
pub mod tokens;

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use serde::Serialize;
use serde_json::Value;

use answer::Claim;
use pack::Dropped;
use redact::Redactor;
use request::Format;
use settings::LlmSettings;
use tokens::Tokenizer;

/// Budget kept back for the line listing dropped ids and for the token count's small
/// differences at item boundaries.
const BUDGET_SLACK: usize = 24;

/// What `explanation` holds in the JSON report.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub model: String,
    /// `verified`: a JSON answer whose citations were checked; `unverified`: the answer was
    /// not JSON (or arrived incomplete) and is shown raw; `error`: no answer.
    pub status: ExplanationStatus,
    pub root_cause: Option<String>,
    pub confidence: Option<String>,
    pub claims: Vec<Claim>,
    /// Claims that cite no evidence of the pack: hypotheses, not findings.
    pub uncited_claims: usize,
    pub mitigations: Vec<String>,
    pub next_checks: Vec<String>,
    /// The answer as received (aliases mapped back), when it could not be checked.
    pub raw: Option<String>,
    /// Evidence ids sent.
    pub evidence: Vec<String>,
    /// Evidence left out to fit `--max-input-tokens`.
    pub dropped: Vec<Dropped>,
    /// Input tokens: the server's count when it reports usage, else obs's own.
    pub tokens_in: usize,
    /// obs's own count of the input, with `tokenizer`.
    pub tokens_in_local: usize,
    pub tokenizer: String,
    pub tokens_out: Option<usize>,
    pub latency_ms: u64,
    /// Values replaced before sending, by kind (`email`, `ipv4`, `api-key`…).
    pub redactions: BTreeMap<String, usize>,
    /// The answer format the server accepted: `json_schema`, `json_object` or `text`.
    pub response_format: String,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExplanationStatus {
    Verified,
    Unverified,
    Error,
}

impl Explanation {
    /// An explanation with no answer yet (`status: error`), carrying what was prepared.
    pub fn unanswered(prepared: &Prepared, format: Format) -> Explanation {
        Explanation {
            model: prepared.model.clone(),
            status: ExplanationStatus::Error,
            root_cause: None,
            confidence: None,
            claims: Vec::new(),
            uncited_claims: 0,
            mitigations: Vec::new(),
            next_checks: Vec::new(),
            raw: None,
            evidence: prepared.evidence.clone(),
            dropped: prepared.dropped.clone(),
            tokens_in: prepared.tokens_in,
            tokens_in_local: prepared.tokens_in,
            tokenizer: tokenizer_name(&prepared.tokenizer),
            tokens_out: None,
            latency_ms: 0,
            redactions: prepared.redactions.clone(),
            response_format: format.as_str().to_string(),
            error: None,
        }
    }

    /// True when the explanation failed (exit code 1, the rest of the report still prints).
    pub fn failed(&self) -> bool {
        self.error.is_some()
    }
}

/// Everything decided before sending: the redacted pack, fitted, and the request body.
pub struct Prepared {
    pub model: String,
    pub system: String,
    pub user: String,
    pub tokenizer: Tokenizer,
    pub tokens_in: usize,
    pub evidence: Vec<String>,
    pub dropped: Vec<Dropped>,
    pub redactions: BTreeMap<String, usize>,
    pub redactor: Redactor,
    settings_temperature: f32,
    settings_max_output: u32,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("model", &self.model)
            .field("tokens_in", &self.tokens_in)
            .field("evidence", &self.evidence)
            .finish_non_exhaustive()
    }
}

impl Prepared {
    /// The request body for `format`.
    pub fn body(&self, format: Format) -> Value {
        request::body(
            &self.model,
            self.settings_temperature,
            self.settings_max_output,
            &self.system,
            &self.user,
            format,
        )
    }
}

/// Builds, redacts and fits the pack of `report` (its `-o json` form).
pub fn prepare(report: &Value, settings: &LlmSettings) -> Prepared {
    let mut redactor = Redactor::new(&settings.redact_patterns, &settings.redact_labels);
    for id in pack::ids_to_keep(report) {
        redactor.keep(&id);
    }
    if let Some(key) = &settings.api_key {
        redactor.literal(key.expose());
    }
    for value in settings.headers.values().filter(|v| v.is_secret()) {
        redactor.literal(value.expose());
    }
    let mut items = pack::build(report);
    for item in &mut items {
        item.text = redactor.redact(&item.text);
    }
    let tokenizer = Tokenizer::for_model(&settings.model);
    let tokens: Vec<usize> = items
        .iter()
        .map(|i| tokenizer.count(&format!("[{}] {}\n", i.id, i.text)))
        .collect();
    let by_id: std::collections::HashMap<String, usize> = items
        .iter()
        .zip(&tokens)
        .map(|(i, &t)| (i.id.clone(), t))
        .collect();
    let system = request::SYSTEM_PROMPT.to_string();
    let fixed = tokenizer.count_messages([system.as_str(), &request::user_message(&[], &[])]);
    let mut budget = settings
        .max_input_tokens
        .saturating_sub(fixed + BUDGET_SLACK);
    loop {
        let (kept, dropped) = pack::fit(items.clone(), &tokens, budget);
        let lines: Vec<(String, String)> = kept
            .iter()
            .map(|i| (i.id.clone(), i.text.clone()))
            .collect();
        let dropped_ids: Vec<String> = dropped.iter().map(|d| d.id.clone()).collect();
        let user = request::user_message(&lines, &dropped_ids);
        // The message is the header, the item lines and the dropped line; the tokenizer splits
        // at their newlines, so their counts add up to the whole message's (a test pins it)
        // and the text is tokenized once, not twice.
        let kept_tokens: usize = kept.iter().filter_map(|k| by_id.get(&k.id)).sum();
        let tokens_in = fixed + kept_tokens + tokenizer.count(&request::dropped_line(&dropped_ids));
        let over = tokens_in.saturating_sub(settings.max_input_tokens);
        // Shrink and refit in the rare case that the dropped line tips it over, unless nothing
        // but the symptom is left.
        if over > 0 && kept.len() > 1 && budget > 0 {
            budget = budget.saturating_sub(over.max(8));
            continue;
        }
        return Prepared {
            model: settings.model.clone(),
            redactions: redactor.counts_in(&user),
            evidence: kept.into_iter().map(|i| i.id).collect(),
            system,
            user,
            tokenizer,
            tokens_in,
            dropped,
            redactor,
            settings_temperature: settings.temperature,
            settings_max_output: settings.max_output_tokens,
        };
    }
}

/// What `--dry-run` prints: the exact body and what it costs, nothing sent.
#[derive(Debug, Serialize)]
pub struct DryRun {
    /// Where it would go (no credentials, no query string).
    pub url: String,
    pub model: String,
    pub tokens_in: usize,
    pub tokenizer: String,
    pub max_input_tokens: usize,
    pub evidence: Vec<String>,
    pub dropped: Vec<Dropped>,
    pub redactions: BTreeMap<String, usize>,
    pub body: Value,
}

pub fn dry_run(report: &Value, settings: &LlmSettings) -> DryRun {
    let p = prepare(report, settings);
    DryRun {
        url: format!(
            "{}/chat/completions",
            redact::url_for_log(&settings.base_url).trim_end_matches('/')
        ),
        model: p.model.clone(),
        tokens_in: p.tokens_in,
        tokenizer: tokenizer_name(&p.tokenizer),
        max_input_tokens: settings.max_input_tokens,
        evidence: p.evidence.clone(),
        dropped: p.dropped.clone(),
        redactions: p.redactions.clone(),
        body: p.body(Format::JsonSchema),
    }
}

fn tokenizer_name(t: &Tokenizer) -> String {
    if t.exact {
        t.encoding.to_string()
    } else {
        format!(
            "{} (estimate: the model's own tokenizer is not known to obs)",
            t.encoding
        )
    }
}

/// Checks a received answer against the pack: aliases mapped back, JSON parsed, citations
/// verified; text that is not an answer is kept raw and marked unverified.
pub fn check(
    prepared: &Prepared,
    content: &str,
) -> (ExplanationStatus, Option<answer::Checked>, Option<String>) {
    let restored = prepared.redactor.restore(content);
    let known: HashSet<String> = prepared.evidence.iter().cloned().collect();
    match answer::parse_and_check(&restored, &known) {
        Some(checked) => (ExplanationStatus::Verified, Some(checked), None),
        None => (ExplanationStatus::Unverified, None, Some(restored)),
    }
}

/// Asks the server and checks the answer. Never fails: an error is recorded in the
/// explanation (`status: error`) so that the rest of the report still prints.
/// `on_delta` receives the answer's text as it streams, aliases already mapped back where a
/// whole alias has arrived.
pub async fn explain(
    report: &Value,
    settings: &LlmSettings,
    on_delta: &mut (dyn FnMut(&str) + Send),
) -> Explanation {
    let started = Instant::now();
    let prepared = prepare(report, settings);
    let mut format = Format::JsonSchema;
    let mut streamer = render::AliasStream::default();
    let result = loop {
        let body = prepared.body(format);
        let mut forward = |delta: &str| {
            let shown = streamer.push(delta, &prepared.redactor);
            if !shown.is_empty() {
                on_delta(&shown);
            }
        };
        match client::complete(settings, &body, &mut forward).await {
            Err(e) if e.format_rejected() => match format.weaker() {
                Some(weaker) => {
                    tracing::info!(
                        "the LLM server refused response_format {}; asking with {}",
                        format.as_str(),
                        weaker.as_str()
                    );
                    format = weaker;
                }
                None => break Err(e),
            },
            other => break other,
        }
    };
    let rest = streamer.finish(&prepared.redactor);
    if !rest.is_empty() {
        on_delta(&rest);
    }
    let latency_ms = started.elapsed().as_millis() as u64;
    let mut e = Explanation::unanswered(&prepared, format);
    e.latency_ms = latency_ms;
    match result {
        Ok(done) => {
            if let Some((prompt, completion)) = done.usage {
                e.tokens_in = prompt as usize;
                e.tokens_out = Some(completion as usize);
            } else {
                e.tokens_out = Some(prepared.tokenizer.count(&done.content));
            }
            let (status, checked, raw) = check(&prepared, &done.content);
            e.status = status;
            e.raw = raw;
            if let Some(c) = checked {
                e.uncited_claims = c.uncited();
                e.root_cause = c.root_cause;
                e.confidence = c.confidence;
                e.claims = c.claims;
                e.mitigations = c.mitigations;
                e.next_checks = c.next_checks;
            }
            if done.finish_reason.as_deref() == Some("length") {
                e.error = Some(format!(
                    "the answer was cut at max_output_tokens ({}); raise it in [contexts.NAME.llm]",
                    settings.max_output_tokens
                ));
            }
        }
        Err(err) => {
            let mut message = err.to_string();
            if err.context_length() {
                message.push_str(&format!(
                    " (obs sent {} input tokens by its count; lower --max-input-tokens)",
                    prepared.tokens_in
                ));
            }
            if let Some(partial) = err.partial() {
                e.status = ExplanationStatus::Unverified;
                e.raw = Some(prepared.redactor.restore(partial));
                e.tokens_out = Some(prepared.tokenizer.count(partial));
            }
            e.error = Some(message);
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use settings::{LlmFile, LlmFlags, resolve};

    fn report() -> Value {
        let text = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/explain/report.json"
        ))
        .unwrap();
        serde_json::from_str(&text).unwrap()
    }

    #[test]
    fn the_local_count_is_the_whole_requests_count() {
        for budget in [8000, 700, 500] {
            let file = LlmFile {
                max_input_tokens: Some(budget),
                ..LlmFile::default()
            };
            let s = resolve(Some(&file), &LlmFlags::default(), &|_| None).unwrap();
            let p = prepare(&report(), &s);
            let whole = p
                .tokenizer
                .count_messages([p.system.as_str(), p.user.as_str()]);
            assert_eq!(p.tokens_in, whole, "budget {budget}");
            assert!(
                p.tokens_in <= budget as usize || p.evidence == ["S1"],
                "budget {budget}"
            );
        }
    }
}
