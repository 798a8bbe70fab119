//! Redaction of everything sent to an LLM: secrets and personal data in the evidence are
//! replaced by stable aliases (`<email-1>`, `<ipv4-2>`), and the aliases in the answer are
//! mapped back to the originals before it is shown.
//!
//! An alias is stable within one explanation: the same value always gets the same alias, so
//! the model can still tell that two log lines came from the same client. Trace and span ids
//! are evidence, not secrets, and are kept (they are registered with [`Redactor::keep`]).
//! This module owns the patterns and the alias table; it does no I/O.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::Ipv6Addr;
use std::sync::LazyLock;

use regex::{Captures, Regex};

/// One kind of sensitive value: the pattern, and which capture group is the value (0 = all).
struct Rule {
    kind: String,
    re: Regex,
    group: usize,
    check: fn(&str) -> bool,
}

fn always(_: &str) -> bool {
    true
}

fn is_ipv6(s: &str) -> bool {
    s.chars().filter(char::is_ascii_hexdigit).count() >= 3 && s.parse::<Ipv6Addr>().is_ok()
}

/// Mixed case and digits, as random tokens are; long identifiers in logs are not.
fn looks_random(s: &str) -> bool {
    let count = |f: fn(&char) -> bool| s.chars().filter(f).count();
    count(char::is_ascii_digit) >= 3
        && count(char::is_ascii_uppercase) >= 3
        && count(char::is_ascii_lowercase) >= 3
}

fn rule(kind: &str, pattern: &str, group: usize, check: fn(&str) -> bool) -> Rule {
    Rule {
        kind: kind.to_string(),
        // The patterns are constants, checked by the tests below.
        re: Regex::new(pattern).unwrap_or_else(|e| panic!("redaction pattern {kind}: {e}")),
        group,
        check,
    }
}

/// The built-in rules, in the order they apply (more specific first, so that a bearer JWT is
/// one `<jwt-1>`, and URL credentials are not mistaken for an e-mail address).
static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        rule(
            "jwt",
            r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}",
            0,
            always,
        ),
        rule(
            "token",
            r"(?i)\b(?:bearer|basic)\s+([A-Za-z0-9._~+/-]{8,}=*)",
            1,
            always,
        ),
        rule(
            "credentials",
            r"(?i)\b[a-z][a-z0-9+.-]*://([^/\s:@<>]+:[^/\s@<>]+)@",
            1,
            always,
        ),
        rule(
            "query",
            r#"(?i)\b[a-z][a-z0-9+.-]*://[^\s?#"'<>]+\?([^\s#"'<>]+)"#,
            1,
            always,
        ),
        rule(
            "api-key",
            r"\b(?:sk|rk|pk)-[A-Za-z0-9_-]{16,}|\bAKIA[0-9A-Z]{16}\b|\bgh[pousr]_[A-Za-z0-9]{30,}|\bxox[abprs]-[A-Za-z0-9-]{10,}|\bAIza[0-9A-Za-z_-]{35}|\bglpat-[A-Za-z0-9_-]{20,}",
            0,
            always,
        ),
        rule(
            "secret",
            r#"(?i)\b(?:api[_-]?key|apikey|access[_-]?token|auth[_-]?token|refresh[_-]?token|token|client[_-]?secret|secret|password|passwd|pwd)["']?\s*[:=]\s*["']?([^\s"',;&<>]{4,})"#,
            1,
            always,
        ),
        rule(
            "email",
            r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}\b",
            0,
            always,
        ),
        rule(
            "ipv6",
            r"(?i)(?:^|[^0-9a-z_:.])((?:[0-9a-f]{0,4}:){2,7}(?:[0-9a-f]{1,4}|[0-9.]{7,15})?)",
            1,
            is_ipv6,
        ),
        rule(
            "ipv4",
            r"\b(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\b",
            0,
            always,
        ),
        rule("hex", r"\b[0-9a-fA-F]{32,}\b", 0, always),
        rule("base64", r"[A-Za-z0-9+/_-]{32,}={0,2}", 0, looks_random),
    ]
});

static ALIAS: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"<([a-z][a-z0-9_.-]*?)-(\d+)>").unwrap_or_else(|e| panic!("alias pattern: {e}"))
});

/// Replaces sensitive values with aliases and remembers them, to map an answer back.
pub struct Redactor {
    extra: Vec<Rule>,
    /// Values never replaced: trace and span ids.
    keep: HashSet<String>,
    /// Exact secrets known to obs (the API key, secret header values), replaced wherever seen.
    literals: Vec<String>,
    aliases: HashMap<(String, String), String>,
    originals: HashMap<String, String>,
    next: BTreeMap<String, usize>,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The table holds the originals: never print it.
        f.debug_struct("Redactor")
            .field("aliases", &self.originals.len())
            .finish_non_exhaustive()
    }
}

impl Redactor {
    /// The built-in rules plus `patterns` (user regexes, aliased `<redacted-N>`) and `labels`
    /// (label names whose values are aliased `<NAME-N>`). The patterns must be valid regexes
    /// (settings checked them).
    pub fn new(patterns: &[String], labels: &[String]) -> Redactor {
        let mut extra = Vec::new();
        for l in labels {
            let name = regex::escape(l);
            let kind = l.to_ascii_lowercase();
            extra.push(rule(
                &kind,
                &format!(r#"\b{name}\s*[=:]\s*"([^"<>]+)""#),
                1,
                always,
            ));
            extra.push(rule(
                &kind,
                &format!(r#"\b{name}\s*[=:]\s*([^\s"',;}}<>]+)"#),
                1,
                always,
            ));
        }
        for p in patterns {
            if let Ok(re) = Regex::new(p) {
                extra.push(Rule {
                    kind: "redacted".to_string(),
                    re,
                    group: 0,
                    check: always,
                });
            }
        }
        Redactor {
            extra,
            keep: HashSet::new(),
            literals: Vec::new(),
            aliases: HashMap::new(),
            originals: HashMap::new(),
            next: BTreeMap::new(),
        }
    }

    /// A value that is evidence and must reach the model as it is (a trace or span id).
    pub fn keep(&mut self, value: &str) {
        self.keep.insert(value.to_ascii_lowercase());
    }

    /// A secret obs knows (the API key): replaced wherever it appears, whatever its shape.
    pub fn literal(&mut self, secret: &str) {
        if secret.len() >= 4 {
            self.literals.push(secret.to_string());
        }
    }

    fn alias(&mut self, kind: &str, original: &str) -> String {
        let key = (kind.to_string(), original.to_string());
        if let Some(a) = self.aliases.get(&key) {
            return a.clone();
        }
        let n = self.next.entry(kind.to_string()).or_insert(0);
        *n += 1;
        let alias = format!("<{kind}-{n}>");
        self.aliases.insert(key, alias.clone());
        self.originals.insert(alias.clone(), original.to_string());
        alias
    }

    /// `text` with every sensitive value replaced by its alias.
    pub fn redact(&mut self, text: &str) -> String {
        let mut out = text.to_string();
        for i in 0..self.literals.len() {
            if out.contains(self.literals[i].as_str()) {
                let secret = self.literals[i].clone();
                let alias = self.alias("api-key", &secret);
                out = out.replace(secret.as_str(), &alias);
            }
        }
        for r in RULES.iter() {
            out = self.apply(r, &out);
        }
        let extra = std::mem::take(&mut self.extra);
        for r in &extra {
            out = self.apply(r, &out);
        }
        self.extra = extra;
        out
    }

    fn apply(&mut self, r: &Rule, text: &str) -> String {
        if !r.re.is_match(text) {
            return text.to_string();
        }
        r.re.replace_all(text, |caps: &Captures| {
            let whole = caps.get(0).map_or("", |m| m.as_str());
            let Some(value) = caps.get(r.group) else {
                return whole.to_string();
            };
            let v = value.as_str();
            if !(r.check)(v) || self.keep.contains(&v.to_ascii_lowercase()) {
                return whole.to_string();
            }
            let start = caps.get(0).map_or(0, |m| m.start());
            let alias = self.alias(&r.kind, v);
            format!(
                "{}{}{}",
                &whole[..value.start() - start],
                alias,
                &whole[value.end() - start..]
            )
        })
        .into_owned()
    }

    /// `text` with every alias this redactor made mapped back to its original.
    pub fn restore(&self, text: &str) -> String {
        ALIAS
            .replace_all(text, |caps: &Captures| {
                let a = caps.get(0).map_or("", |m| m.as_str());
                self.originals
                    .get(a)
                    .cloned()
                    .unwrap_or_else(|| a.to_string())
            })
            .into_owned()
    }

    /// Distinct values replaced in `sent`, by kind: what the JSON report's `redactions` says.
    pub fn counts_in(&self, sent: &str) -> BTreeMap<String, usize> {
        let mut seen = HashSet::new();
        let mut out = BTreeMap::new();
        for caps in ALIAS.captures_iter(sent) {
            let a = caps.get(0).map_or("", |m| m.as_str());
            if self.originals.contains_key(a) && seen.insert(a.to_string()) {
                let kind = caps.get(1).map_or("", |m| m.as_str()).to_string();
                *out.entry(kind).or_insert(0) += 1;
            }
        }
        out
    }
}

/// A URL as it may be logged: no credentials, no query string.
pub fn url_for_log(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut u) => {
            let _ = u.set_username("");
            let _ = u.set_password(None);
            u.set_query(None);
            u.to_string()
        }
        Err(_) => "(not a URL)".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn redact(text: &str) -> String {
        Redactor::new(&[], &[]).redact(text)
    }

    #[test]
    fn each_kind_is_aliased() {
        let cases = [
            ("mail alice.smith+x@example.co.uk now", "mail <email-1> now"),
            ("from 10.1.2.3:5432", "from <ipv4-1>:5432"),
            ("peer [2001:db8::8a2e:370:7334]:443", "peer [<ipv6-1>]:443"),
            (
                "Authorization: Bearer abcdef123456789",
                "Authorization: Bearer <token-1>",
            ),
            (
                "jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
                "jwt <jwt-1>",
            ),
            ("key sk-proj-abcdefghijklmnop1234", "key <api-key-1>"),
            ("aws AKIAIOSFODNN7EXAMPLE.", "aws <api-key-1>."),
            (
                "GET https://api.example.com/v1/pay?card=4111&cvv=123 failed",
                "GET https://api.example.com/v1/pay?<query-1> failed",
            ),
            (
                "dial postgres://app:hunter2@db.internal:5432/orders",
                "dial postgres://<credentials-1>@db.internal:5432/orders",
            ),
            ("password=hunter2pass;", "password=<secret-1>;"),
            (
                "sig 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
                "sig <hex-1>",
            ),
            (
                "blob Zm9vYmFyQkFaMTIzNDU2Nzg5MFhZWmFiY2RlZmdoaWprbG1u end",
                "blob <base64-1> end",
            ),
        ];
        for (input, want) in cases {
            assert_eq!(redact(input), want, "input: {input}");
        }
    }

    #[test]
    fn ordinary_evidence_is_left_alone() {
        for text in [
            "sum(rate(http_requests_total{code=~\"5..\"}[1m])) / sum(rate(http_requests_total[1m]))",
            "db_connections_in_use{pool=\"orders\",service=\"checkout\"} r=+0.66 leads 120s",
            "onset 2026-11-21T05:16:30Z peak 05:35:30",
            "std::io::Error: connection reset; sqlx::PoolTimedOut",
            "http_server_request_duration_seconds_bucket checkout-7d9f8b6c5d-x2k4p",
            "PoolTimeout: timed out after 8.0s waiting for a connection",
        ] {
            assert_eq!(redact(text), text);
        }
    }

    #[test]
    fn aliases_are_stable_and_map_back() {
        let mut r = Redactor::new(&[], &[]);
        let a = r.redact("from bob@example.com and 10.0.0.7");
        let b = r.redact("again bob@example.com, then carol@example.com");
        assert_eq!(a, "from <email-1> and <ipv4-1>");
        assert_eq!(b, "again <email-1>, then <email-2>");
        assert_eq!(
            r.restore("<email-1> retried from <ipv4-1>; <email-9> is not ours"),
            "bob@example.com retried from 10.0.0.7; <email-9> is not ours"
        );
        let counts = r.counts_in(&format!("{a} {b}"));
        assert_eq!(counts.get("email"), Some(&2));
        assert_eq!(counts.get("ipv4"), Some(&1));
    }

    #[test]
    fn trace_ids_are_kept_and_known_secrets_replaced() {
        let mut r = Redactor::new(&[], &[]);
        r.keep("4bf92f3577b34da6a3ce929d0e0e4736");
        r.literal("my-local-key");
        assert_eq!(
            r.redact("trace 4bf92f3577b34da6a3ce929d0e0e4736 sent my-local-key"),
            "trace 4bf92f3577b34da6a3ce929d0e0e4736 sent <api-key-1>"
        );
    }

    #[test]
    fn configured_patterns_and_labels() {
        let mut r = Redactor::new(&["CUST-[0-9]{6}".to_string()], &["user_id".to_string()]);
        assert_eq!(
            r.redact(r#"order of CUST-123456 {user_id="u-991",service="checkout"} user_id=u-992"#),
            r#"order of <redacted-1> {user_id="<user_id-1>",service="checkout"} user_id=<user_id-2>"#
        );
    }

    #[test]
    fn urls_are_logged_without_credentials_or_query() {
        assert_eq!(
            url_for_log("https://u:p@llm.example.com/v1?key=abc"),
            "https://llm.example.com/v1"
        );
    }
}
