//! The chat-completion request: the instructions, the redacted evidence pack, and the answer
//! format, in three strengths — a JSON schema (OpenAI, Azure, vLLM, recent Ollama), plain JSON
//! mode for servers without schemas, and text with the format in the instructions for servers
//! with neither. The dry run prints exactly this body.
//!
//! Pure: builds values, sends nothing.

use async_openai::types::chat::CreateChatCompletionRequest;
use serde_json::{Value, json};

/// How strongly the answer format is asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    JsonSchema,
    JsonObject,
    Text,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::JsonSchema => "json_schema",
            Format::JsonObject => "json_object",
            Format::Text => "text",
        }
    }

    /// The next weaker format, after a server refused this one.
    pub fn weaker(self) -> Option<Format> {
        match self {
            Format::JsonSchema => Some(Format::JsonObject),
            Format::JsonObject => Some(Format::Text),
            Format::Text => None,
        }
    }
}

pub const SYSTEM_PROMPT: &str = "You explain the likely root cause of a production incident from \
evidence that the investigation tool obs gathered. Use only the evidence given; never invent \
metrics, services, traces, log lines or numbers. Each evidence item starts with an id in \
brackets, such as [M1] or [T2]. Every claim must cite the ids that support it in its evidence \
list; a claim no id supports is a hypothesis: say so in its text and leave its evidence empty. \
A metric that moved before the symptom is a stronger cause candidate than one that moved after \
it (usually a consequence); a metric marked not significant is probably noise. Values such as \
<email-1> or <ipv4-2> are redacted placeholders: keep them exactly as written. Answer with one \
JSON object and nothing else: {\"root_cause\": string, \"confidence\": \"low\" | \"medium\" | \
\"high\", \"claims\": [{\"text\": string, \"evidence\": [id, ...]}], \"mitigations\": [string], \
\"next_checks\": [string]}, where next_checks say what to look at to confirm or refute the root \
cause.";

/// The JSON schema of the answer, for `response_format: json_schema` (strict mode: every key
/// required, no others).
pub fn answer_schema() -> Value {
    json!({
        "type": "object",
        "additionalProperties": false,
        "required": ["root_cause", "confidence", "claims", "mitigations", "next_checks"],
        "properties": {
            "root_cause": {"type": "string"},
            "confidence": {"type": "string", "enum": ["low", "medium", "high"]},
            "claims": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["text", "evidence"],
                    "properties": {
                        "text": {"type": "string"},
                        "evidence": {"type": "array", "items": {"type": "string"}}
                    }
                }
            },
            "mitigations": {"type": "array", "items": {"type": "string"}},
            "next_checks": {"type": "array", "items": {"type": "string"}}
        }
    })
}

/// The user message: the evidence lines, and what was left out.
pub fn user_message(items: &[(String, String)], dropped: &[String]) -> String {
    let mut out = String::from("Evidence from an obs investigation report:\n\n");
    for (id, text) in items {
        out.push('[');
        out.push_str(id);
        out.push_str("] ");
        out.push_str(text);
        out.push('\n');
    }
    out.push_str(&dropped_line(dropped));
    out
}

/// The user message's last line: the ids left out (empty when none were).
pub fn dropped_line(dropped: &[String]) -> String {
    if dropped.is_empty() {
        return String::new();
    }
    format!(
        "Left out to fit the input budget (not shown to you, do not cite): {}\n",
        dropped.join(", ")
    )
}

/// The request body, as the OpenAI chat-completions API takes it.
pub fn body(
    model: &str,
    temperature: f32,
    max_output_tokens: u32,
    system: &str,
    user: &str,
    format: Format,
) -> Value {
    let mut body = json!({
        "model": model,
        "messages": [
            {"role": "system", "content": system},
            {"role": "user", "content": user}
        ],
        "temperature": temperature,
        "max_completion_tokens": max_output_tokens,
        "stream": true,
        "stream_options": {"include_usage": true}
    });
    let format = match format {
        Format::JsonSchema => Some(json!({
            "type": "json_schema",
            "json_schema": {"name": "obs_explanation", "strict": true, "schema": answer_schema()}
        })),
        Format::JsonObject => Some(json!({"type": "json_object"})),
        Format::Text => None,
    };
    if let (Some(f), Some(map)) = (format, body.as_object_mut()) {
        map.insert("response_format".to_string(), f);
    }
    body
}

/// The typed request async-openai sends; its serialization is the body above.
pub fn typed(body: &Value) -> Result<CreateChatCompletionRequest, serde_json::Error> {
    serde_json::from_value(body.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_typed_request_sends_the_same_body() {
        for format in [Format::JsonSchema, Format::JsonObject, Format::Text] {
            let b = body("gpt-4o", 0.1, 500, SYSTEM_PROMPT, "evidence", format);
            let typed = typed(&b).unwrap();
            let back = serde_json::to_value(&typed).unwrap();
            assert_eq!(back["model"], "gpt-4o");
            assert_eq!(back["messages"], b["messages"]);
            assert_eq!(back["response_format"], b["response_format"]);
            assert_eq!(back["max_completion_tokens"], 500);
        }
    }

    #[test]
    fn formats_weaken_to_text() {
        assert_eq!(Format::JsonSchema.weaker(), Some(Format::JsonObject));
        assert_eq!(Format::Text.weaker(), None);
        let b = body("m", 0.1, 5, "s", "u", Format::Text);
        assert!(b.get("response_format").is_none());
    }

    #[test]
    fn the_user_message_lists_ids_and_what_was_left_out() {
        let m = user_message(
            &[
                ("S1".into(), "symptom".into()),
                ("M1".into(), "metric".into()),
            ],
            &["L4".into()],
        );
        assert!(m.contains("[S1] symptom\n[M1] metric\n"));
        assert!(m.contains("do not cite): L4"));
    }
}
