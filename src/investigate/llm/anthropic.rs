//! Anthropic messages API (`POST {base}/messages`).

use serde_json::{Value, json};

use super::LlmError;
use super::prompt::Prompt;
use crate::secrets::Secret;
use crate::sources::http::HttpClient;

/// The API version this request shape follows.
const API_VERSION: &str = "2023-06-01";

/// Sends the prompt and returns the concatenated text blocks of the answer.
pub async fn complete(
    client: &HttpClient,
    model: &str,
    max_tokens: u32,
    key: Option<&Secret>,
    prompt: &Prompt,
) -> Result<String, LlmError> {
    let key = key.ok_or(LlmError::MissingKey)?;
    let url = client.url(&["messages"]);
    let body = json!({
        "model": model,
        "max_tokens": max_tokens,
        "temperature": 0,
        "system": prompt.system,
        "messages": [{"role": "user", "content": prompt.user}],
    });
    let fetched = client
        .fetch(|http| {
            http.post(url.clone())
                .header("x-api-key", key.expose())
                .header("anthropic-version", API_VERSION)
                .json(&body)
        })
        .await?;
    let value: Value = serde_json::from_slice(&fetched.body)
        .map_err(|e| LlmError::BadResponse(format!("not JSON: {e}")))?;
    if value.get("stop_reason").and_then(Value::as_str) == Some("max_tokens") {
        return Err(LlmError::BadResponse(format!(
            "the answer was cut off at {max_tokens} tokens (agents.<name>.max_tokens)"
        )));
    }
    let blocks = value
        .get("content")
        .and_then(Value::as_array)
        .ok_or_else(|| LlmError::BadResponse("no `content` array in the message".into()))?;
    let text: String = blocks
        .iter()
        .filter(|b| b.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|b| b.get("text").and_then(Value::as_str))
        .collect();
    if text.is_empty() {
        return Err(LlmError::BadResponse(
            "the message has no text block".into(),
        ));
    }
    Ok(text)
}
