//! The model's answer: parsed from JSON (the schema obs asked for, or JSON inside prose or a
//! code fence), and every claim's evidence ids checked against the ids of the pack that was
//! actually sent. A claim that cites nothing real is an uncited hypothesis, never a finding.
//!
//! Pure: no I/O. Aliases are mapped back by the caller before parsing.

use std::collections::HashSet;

use serde::Serialize;
use serde_json::Value;

/// A claim with its citations checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Claim {
    pub text: String,
    /// The cited ids that are in the pack.
    pub evidence: Vec<String>,
    /// Cited ids that are not: invented, or dropped for the budget and so never seen.
    pub unknown_evidence: Vec<String>,
    /// At least one citation is real evidence.
    pub cited: bool,
}

/// A parsed, checked answer.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Checked {
    pub root_cause: Option<String>,
    pub confidence: Option<String>,
    pub claims: Vec<Claim>,
    pub mitigations: Vec<String>,
    pub next_checks: Vec<String>,
}

impl Checked {
    pub fn uncited(&self) -> usize {
        self.claims.iter().filter(|c| !c.cited).count()
    }
}

/// The JSON object in `text`: all of it, a fenced block, or the outermost braces.
fn find_json(text: &str) -> Option<Value> {
    let t = text.trim();
    if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(t) {
        return Some(v);
    }
    if let Some(start) = t.find("```") {
        let rest = &t[start + 3..];
        let rest = rest.strip_prefix("json").unwrap_or(rest);
        if let Some(end) = rest.find("```")
            && let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(rest[..end].trim())
        {
            return Some(v);
        }
    }
    let (a, b) = (t.find('{')?, t.rfind('}')?);
    match serde_json::from_str::<Value>(t.get(a..=b)?) {
        Ok(v @ Value::Object(_)) => Some(v),
        _ => None,
    }
}

fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|i| text_of(i).or_else(|| i.get("text").and_then(text_of)))
            .collect(),
        Some(v) => text_of(v).into_iter().collect(),
        None => Vec::new(),
    }
}

/// `"[M3]"`, `"m3"`, `" M3 "` → `"M3"`.
fn normalize_id(id: &str) -> String {
    id.trim()
        .trim_matches(|c| c == '[' || c == ']' || c == '(' || c == ')')
        .trim()
        .to_ascii_uppercase()
}

/// Parses `text` and checks its citations against `known` (the ids that were sent).
/// `None` when there is no JSON object with a root cause or claims in it.
pub fn parse_and_check(text: &str, known: &HashSet<String>) -> Option<Checked> {
    let v = find_json(text)?;
    let root_cause = v.get("root_cause").and_then(text_of);
    let raw_claims = v.get("claims").and_then(Value::as_array);
    if root_cause.is_none() && raw_claims.is_none() {
        return None;
    }
    let mut claims = Vec::new();
    for c in raw_claims.into_iter().flatten() {
        let (text, cited_ids) = match c {
            Value::String(s) => (s.trim().to_string(), Vec::new()),
            other => (
                other.get("text").and_then(text_of).unwrap_or_default(),
                strings(other.get("evidence")),
            ),
        };
        if text.is_empty() {
            continue;
        }
        let mut evidence = Vec::new();
        let mut unknown = Vec::new();
        for id in cited_ids {
            // One string may hold several ids: "M1, T2".
            for part in id.split([',', ' ', ';']).filter(|p| !p.trim().is_empty()) {
                let n = normalize_id(part);
                let list = if known.contains(&n) {
                    &mut evidence
                } else {
                    &mut unknown
                };
                if !list.contains(&n) {
                    list.push(n);
                }
            }
        }
        claims.push(Claim {
            cited: !evidence.is_empty(),
            text,
            evidence,
            unknown_evidence: unknown,
        });
    }
    Some(Checked {
        root_cause,
        confidence: v.get("confidence").and_then(text_of),
        claims,
        mitigations: strings(v.get("mitigations")),
        next_checks: strings(v.get("next_checks")),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn known() -> HashSet<String> {
        ["S1", "M1", "T1", "L1"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    }

    #[test]
    fn a_well_cited_answer() {
        let text = r#"{"root_cause": "orders pool exhausted", "confidence": "high",
            "claims": [{"text": "pool at max before errors", "evidence": ["M1", "[T1]"]}],
            "mitigations": ["raise pool size"], "next_checks": ["check pool wait time"]}"#;
        let c = parse_and_check(text, &known()).unwrap();
        assert_eq!(c.root_cause.as_deref(), Some("orders pool exhausted"));
        assert_eq!(c.claims[0].evidence, ["M1", "T1"]);
        assert!(c.claims[0].cited);
        assert_eq!(c.uncited(), 0);
        assert_eq!(c.next_checks, ["check pool wait time"]);
    }

    #[test]
    fn invented_ids_make_an_uncited_hypothesis() {
        let text = r#"{"root_cause": "dns", "claims": [
            {"text": "dns failed", "evidence": ["M99", "K1"]},
            {"text": "pool", "evidence": "M1, T7"},
            {"text": "no evidence at all"}]}"#;
        let c = parse_and_check(text, &known()).unwrap();
        assert!(!c.claims[0].cited);
        assert_eq!(c.claims[0].unknown_evidence, ["M99", "K1"]);
        assert!(c.claims[1].cited);
        assert_eq!(c.claims[1].unknown_evidence, ["T7"]);
        assert!(!c.claims[2].cited);
        assert_eq!(c.uncited(), 2);
    }

    #[test]
    fn json_in_prose_or_fences_is_found() {
        let fenced = "Here you go:\n```json\n{\"root_cause\": \"x\", \"claims\": []}\n```\nthanks";
        assert_eq!(
            parse_and_check(fenced, &known())
                .unwrap()
                .root_cause
                .as_deref(),
            Some("x")
        );
        let prose = "The answer is {\"root_cause\": \"y\"} as requested.";
        assert_eq!(
            parse_and_check(prose, &known())
                .unwrap()
                .root_cause
                .as_deref(),
            Some("y")
        );
    }

    #[test]
    fn text_that_is_not_an_answer_is_none() {
        assert!(parse_and_check("The database is probably slow.", &known()).is_none());
        assert!(parse_and_check("{\"unrelated\": 1}", &known()).is_none());
        assert!(parse_and_check("{\"root_cause\": ", &known()).is_none());
    }
}
