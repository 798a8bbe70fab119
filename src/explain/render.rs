//! Showing an explanation: the text block of the report (root cause, claims with their
//! citations, uncited hypotheses set apart, mitigations, next checks, what was dropped), and
//! the streamed answer with aliases mapped back as they complete.
//!
//! Pure: returns strings; the caller prints.

use std::fmt::Write as _;

use super::redact::Redactor;
use super::{DryRun, Explanation, ExplanationStatus};

/// Maps aliases back in a streamed answer: text up to a possibly unfinished `<alias-` is
/// released, the rest waits for the next chunk.
#[derive(Debug, Default)]
pub struct AliasStream {
    pending: String,
}

impl AliasStream {
    pub fn push(&mut self, delta: &str, redactor: &Redactor) -> String {
        self.pending.push_str(delta);
        let cut = match self.pending.rfind('<') {
            // An alias is short; a '<' long ago is just a '<'.
            Some(i) if !self.pending[i..].contains('>') && self.pending.len() - i < 40 => i,
            _ => self.pending.len(),
        };
        let ready: String = self.pending.drain(..cut).collect();
        redactor.restore(&ready)
    }

    pub fn finish(&mut self, redactor: &Redactor) -> String {
        let rest = std::mem::take(&mut self.pending);
        redactor.restore(&rest)
    }
}

fn ids(list: &[String]) -> String {
    list.join(", ")
}

/// The explanation as the text report prints it.
pub fn text(e: &Explanation) -> String {
    let mut out = String::new();
    let status = match e.status {
        ExplanationStatus::Verified => "citations checked",
        ExplanationStatus::Unverified => "UNVERIFIED: not a structured answer",
        ExplanationStatus::Error => "failed",
    };
    let _ = write!(
        out,
        "Explanation {} · {status} · {} tokens in",
        e.model, e.tokens_in
    );
    if let Some(t) = e.tokens_out {
        let _ = write!(out, ", {t} out");
    }
    let _ = write!(out, " · {:.1} s", e.latency_ms as f64 / 1000.0);
    if !e.redactions.is_empty() {
        let parts: Vec<String> = e
            .redactions
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        let _ = write!(out, " · redacted before sending: {}", parts.join(", "));
    }
    out.push('\n');
    if let Some(err) = &e.error {
        let _ = writeln!(out, "  error: {err}");
    }
    if let Some(rc) = &e.root_cause {
        let _ = write!(out, "Root cause  {rc}");
        if let Some(c) = &e.confidence {
            let _ = write!(out, " (confidence: {c})");
        }
        out.push('\n');
    }
    let (cited, uncited): (Vec<_>, Vec<_>) = e.claims.iter().partition(|c| c.cited);
    for c in &cited {
        let _ = write!(out, "  • {}  [{}]", c.text, ids(&c.evidence));
        if !c.unknown_evidence.is_empty() {
            let _ = write!(
                out,
                " (also cites {}, not in the evidence)",
                ids(&c.unknown_evidence)
            );
        }
        out.push('\n');
    }
    if !uncited.is_empty() {
        let _ = writeln!(
            out,
            "Uncited hypotheses ({}: they cite no evidence obs sent, so they are not findings)",
            uncited.len()
        );
        for c in &uncited {
            let _ = write!(out, "  ? {}", c.text);
            if !c.unknown_evidence.is_empty() {
                let _ = write!(
                    out,
                    "  (cites {}, which obs did not send)",
                    ids(&c.unknown_evidence)
                );
            }
            out.push('\n');
        }
    }
    for (title, list) in [
        ("Mitigations", &e.mitigations),
        ("Next checks", &e.next_checks),
    ] {
        if !list.is_empty() {
            let _ = writeln!(out, "{title}");
            for m in list {
                let _ = writeln!(out, "  - {m}");
            }
        }
    }
    if let Some(raw) = &e.raw {
        let _ = writeln!(out, "Answer as received (unverified):");
        for line in raw.lines() {
            let _ = writeln!(out, "  {line}");
        }
    }
    if !e.dropped.is_empty() {
        let shown: Vec<String> = e.dropped.iter().take(20).map(|d| d.id.clone()).collect();
        let more = e.dropped.len().saturating_sub(shown.len());
        let _ = write!(
            out,
            "Left out to fit the input budget: {}",
            shown.join(", ")
        );
        if more > 0 {
            let _ = write!(out, " and {more} more");
        }
        out.push('\n');
    }
    out
}

/// The one-line summary of a dry run, for stderr.
pub fn dry_run_summary(d: &DryRun) -> String {
    let mut out = format!(
        "dry run: nothing sent. Would POST {} tokens ({}; budget {}) of {} evidence items to {} for {}",
        d.tokens_in,
        d.tokenizer,
        d.max_input_tokens,
        d.evidence.len(),
        d.url,
        d.model
    );
    if !d.dropped.is_empty() {
        let ids: Vec<&str> = d.dropped.iter().map(|x| x.id.as_str()).collect();
        let _ = write!(out, "; left out: {}", ids.join(", "));
    }
    if !d.redactions.is_empty() {
        let parts: Vec<String> = d
            .redactions
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect();
        let _ = write!(out, "; redacted: {}", parts.join(", "));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::explain::answer::Claim;

    #[test]
    fn aliases_split_across_chunks_are_mapped_back() {
        let mut r = Redactor::new(&[], &[]);
        let sent = r.redact("client bob@example.com");
        assert_eq!(sent, "client <email-1>");
        let mut s = AliasStream::default();
        let mut shown = s.push("user <ema", &r);
        shown += &s.push("il-1> failed; a < b", &r);
        shown += &s.finish(&r);
        assert_eq!(shown, "user bob@example.com failed; a < b");
    }

    fn explanation() -> Explanation {
        Explanation {
            model: "gpt-4o".into(),
            status: ExplanationStatus::Verified,
            root_cause: Some("orders pool exhausted".into()),
            confidence: Some("high".into()),
            claims: vec![
                Claim {
                    text: "pool saturated first".into(),
                    evidence: vec!["M1".into()],
                    unknown_evidence: vec![],
                    cited: true,
                },
                Claim {
                    text: "dns flapped".into(),
                    evidence: vec![],
                    unknown_evidence: vec!["M99".into()],
                    cited: false,
                },
            ],
            uncited_claims: 1,
            mitigations: vec!["kill the leaking query".into()],
            next_checks: vec!["pool wait time".into()],
            raw: None,
            evidence: vec!["S1".into(), "M1".into()],
            dropped: vec![],
            tokens_in: 900,
            tokens_in_local: 900,
            tokenizer: "o200k_base".into(),
            tokens_out: Some(120),
            latency_ms: 2100,
            redactions: [("email".to_string(), 2)].into_iter().collect(),
            response_format: "json_schema".into(),
            error: None,
        }
    }

    #[test]
    fn uncited_claims_are_set_apart() {
        let t = text(&explanation());
        assert!(
            t.contains("Root cause  orders pool exhausted (confidence: high)"),
            "{t}"
        );
        assert!(t.contains("  • pool saturated first  [M1]"), "{t}");
        assert!(t.contains("Uncited hypotheses (1"), "{t}");
        assert!(
            t.contains("  ? dns flapped  (cites M99, which obs did not send)"),
            "{t}"
        );
        assert!(t.contains("redacted before sending: 2 email"), "{t}");
        let cited = t.find("pool saturated").unwrap();
        let uncited = t.find("dns flapped").unwrap();
        assert!(cited < uncited);
    }
}
