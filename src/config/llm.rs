//! The `[contexts.NAME.llm]` table as written in the config file. Resolving it (with
//! `OPENAI_API_KEY`, `OPENAI_BASE_URL` and the command's flags) and validating its values is
//! the explain module's job; the file model lives here so that config imports nothing
//! from explain.

use std::collections::BTreeMap;

use serde::Deserialize;

/// A `[contexts.NAME.llm]` table, as written. Every key optional.
///
/// ```toml
/// [contexts.prod.llm]
/// base_url = "https://my-resource.openai.azure.com/openai/deployments/gpt-4o"
/// model = "gpt-4o"
/// api_key = "…"                       # prefer OPENAI_API_KEY
/// temperature = 0.1
/// max_output_tokens = 1500
/// max_input_tokens = 8000
/// timeout = "120s"
/// headers = { "api-key" = "…" }       # Azure OpenAI's key header
/// query = { "api-version" = "2024-10-21" }
/// redact_patterns = ['CUST-[0-9]{6}']
/// redact_labels = ["user_id"]
/// ```
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LlmFile {
    pub base_url: Option<String>,
    pub model: Option<String>,
    pub api_key: Option<String>,
    pub temperature: Option<f64>,
    pub max_output_tokens: Option<i64>,
    pub max_input_tokens: Option<i64>,
    pub timeout: Option<String>,
    pub headers: Option<BTreeMap<String, String>>,
    pub query: Option<BTreeMap<String, String>>,
    pub redact_patterns: Option<Vec<String>>,
    pub redact_labels: Option<Vec<String>>,
}

// `Config` is `Eq`; a TOML float is compared bit for bit and `resolve` rejects non-finite ones.
impl Eq for LlmFile {}
