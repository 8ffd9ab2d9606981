//! Datadog audit vocabulary of an event, read from its verbatim JSON.

use serde::Deserialize;

use crate::detect::pattern::{Pattern, any_matches};
use crate::detect::rules::BurstAction;
use crate::model::{AuditEvent, Source};

/// The three fields Datadog's Audit Trail documentation queries on
/// (`@evt.name`, `@asset.type`, `@action`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DatadogVocab {
    pub evt_name: Option<String>,
    pub asset_type: Option<String>,
    pub action: Option<String>,
}

#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    attributes: Option<Outer>,
    #[serde(flatten)]
    inner: Inner,
}

#[derive(Deserialize)]
struct Outer {
    #[serde(default)]
    attributes: Option<Inner>,
    #[serde(flatten)]
    inner: Inner,
}

#[derive(Deserialize, Default)]
struct Inner {
    #[serde(default)]
    evt: Option<Evt>,
    #[serde(default)]
    asset: Option<Asset>,
    #[serde(default)]
    action: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Evt {
    #[serde(default)]
    name: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Asset {
    #[serde(rename = "type", default)]
    kind: Option<serde_json::Value>,
}

impl Inner {
    fn is_empty(&self) -> bool {
        self.evt.is_none() && self.asset.is_none() && self.action.is_none()
    }

    fn vocab(self) -> DatadogVocab {
        DatadogVocab {
            evt_name: self.evt.and_then(|e| text(e.name)),
            asset_type: self.asset.and_then(|a| text(a.kind)),
            action: text(self.action),
        }
    }
}

/// Only strings count: an attacker-shaped `{"action": {...}}` matches nothing.
fn text(v: Option<serde_json::Value>) -> Option<String> {
    match v {
        Some(serde_json::Value::String(s)) => Some(s),
        _ => None,
    }
}

impl DatadogVocab {
    /// Reads the vocabulary of a Datadog event. The raw text is the API's
    /// `data[]` entry (fields under `attributes.attributes`); a bare
    /// `attributes` object or the inner object itself are accepted too.
    /// `None` for other sources and for raw text that is not a JSON object.
    pub fn of(event: &AuditEvent) -> Option<DatadogVocab> {
        if event.source != Source::Datadog {
            return None;
        }
        let env: Envelope = serde_json::from_str(&event.raw).ok()?;
        let outer = env.attributes;
        let inner = match outer {
            Some(Outer {
                attributes: Some(inner),
                ..
            }) if !inner.is_empty() => inner,
            Some(Outer { inner, .. }) if !inner.is_empty() => inner,
            _ => env.inner,
        };
        Some(inner.vocab())
    }

    /// All given lists must match; an empty list matches anything, but a
    /// missing field never matches a non-empty list.
    pub fn matches(&self, action: &BurstAction) -> bool {
        let field = |patterns: &[Pattern], value: &Option<String>| {
            patterns.is_empty() || value.as_deref().is_some_and(|v| any_matches(patterns, v))
        };
        field(&action.evt_name, &self.evt_name)
            && field(&action.asset_type, &self.asset_type)
            && field(&action.action, &self.action)
    }
}
