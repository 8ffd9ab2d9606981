//! OpenAI-compatible chat completions (`POST {base}/chat/completions`):
//! OpenAI, and the Ollama, vLLM and llama.cpp servers that speak the same API.

use serde_json::{Value, json};

use super::LlmError;
use super::prompt::Prompt;
use crate::secrets::Secret;
use crate::sources::http::HttpClient;

/// Sends the prompt and returns the text of the first choice.
pub async fn complete(
    client: &HttpClient,
    model: &str,
    max_tokens: u32,
    key: Option<&Secret>,
    prompt: &Prompt,
) -> Result<String, LlmError> {
    let url = client.url(&["chat", "completions"]);
    let body = json!({
        "model": model,
        "temperature": 0,
        "max_tokens": max_tokens,
        "response_format": {"type": "json_object"},
        "messages": [
            {"role": "system", "content": prompt.system},
            {"role": "user", "content": prompt.user},
        ],
    });
    let fetched = client
        .fetch(|http| {
            let request = http.post(url.clone()).json(&body);
            // Local servers (Ollama) take no key.
            match key {
                Some(key) => request.bearer_auth(key.expose()),
                None => request,
            }
        })
        .await?;
    let value: Value = serde_json::from_slice(&fetched.body)
        .map_err(|e| LlmError::BadResponse(format!("not JSON: {e}")))?;
    let choice = value
        .pointer("/choices/0")
        .ok_or_else(|| LlmError::BadResponse("no `choices[0]` in the chat completion".into()))?;
    if choice.pointer("/finish_reason").and_then(Value::as_str) == Some("length") {
        return Err(LlmError::BadResponse(format!(
            "the answer was cut off at {max_tokens} tokens (agents.<name>.max_tokens)"
        )));
    }
    choice
        .pointer("/message/content")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| LlmError::BadResponse("`choices[0].message.content` is not text".into()))
}
