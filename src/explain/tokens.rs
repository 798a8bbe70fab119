//! Local token counts for the input budget, with the model's own BPE encoding (tiktoken's
//! `o200k_base` for the GPT-4o family and newer, `cl100k_base` for GPT-4 and GPT-3.5).
//!
//! Models tiktoken does not know (Llama, Mistral, Qwen behind vLLM or Ollama) are counted with
//! `o200k_base` and the count is marked as an estimate: their tokenizers differ, but by tens of
//! per cent, not by the factor a character estimate can be off on ids and numbers.
//! Owns nothing else; does no I/O.

use tiktoken_rs::CoreBPE;
use tiktoken_rs::tokenizer::{Tokenizer as Encoding, get_tokenizer};

/// Tokens the chat format adds per message, and to prime the reply (OpenAI's published
/// accounting for the GPT-3.5/4 chat format).
const PER_MESSAGE: usize = 3;
const REPLY_PRIMING: usize = 3;

#[derive(Clone, Copy)]
pub struct Tokenizer {
    bpe: &'static CoreBPE,
    /// The encoding's name, for the dry run and the JSON report.
    pub encoding: &'static str,
    /// False when the model is unknown to tiktoken and `o200k_base` stands in.
    pub exact: bool,
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tokenizer")
            .field("encoding", &self.encoding)
            .field("exact", &self.exact)
            .finish()
    }
}

impl Tokenizer {
    /// The encoding of `model`; the first call for an encoding loads its ranks (tens of ms).
    pub fn for_model(model: &str) -> Tokenizer {
        // Provider prefixes ("openai/gpt-4o", "azure/gpt-4o") name the same models.
        let bare = model.rsplit('/').next().unwrap_or(model);
        match get_tokenizer(bare) {
            Some(Encoding::Cl100kBase) => Tokenizer {
                bpe: tiktoken_rs::cl100k_base_singleton(),
                encoding: "cl100k_base",
                exact: true,
            },
            Some(Encoding::O200kBase) => Tokenizer {
                bpe: tiktoken_rs::o200k_base_singleton(),
                encoding: "o200k_base",
                exact: true,
            },
            _ => Tokenizer {
                bpe: tiktoken_rs::o200k_base_singleton(),
                encoding: "o200k_base",
                exact: false,
            },
        }
    }

    /// Tokens of `text` as plain text (special-token markers count as text, as the API does).
    pub fn count(&self, text: &str) -> usize {
        self.bpe.encode_ordinary(text).len()
    }

    /// Tokens of a chat request with these message contents.
    pub fn count_messages<'a>(&self, contents: impl IntoIterator<Item = &'a str>) -> usize {
        contents
            .into_iter()
            .map(|c| PER_MESSAGE + 1 + self.count(c))
            .sum::<usize>()
            + REPLY_PRIMING
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_with_the_models_encoding() {
        let t = Tokenizer::for_model("gpt-4o");
        assert_eq!(t.encoding, "o200k_base");
        assert!(t.exact);
        // tiktoken's reference: "hello world" is two tokens in o200k_base.
        assert_eq!(t.count("hello world"), 2);
        let t = Tokenizer::for_model("gpt-4");
        assert_eq!(t.encoding, "cl100k_base");
        let t = Tokenizer::for_model("openai/gpt-4o-mini");
        assert!(t.exact);
    }

    #[test]
    fn unknown_models_are_estimates() {
        let t = Tokenizer::for_model("llama3.1:8b");
        assert!(!t.exact);
        assert!(t.count("a trace id 4bf92f3577b34da6a3ce929d0e0e4736") > 5);
    }

    #[test]
    fn messages_add_the_chat_overhead() {
        let t = Tokenizer::for_model("gpt-4o");
        assert_eq!(t.count_messages(["hello world"]), 2 + 4 + 3);
    }
}
