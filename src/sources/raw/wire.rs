//! The wire shapes of every supported audit entry, borrowed from the input.
//!
//! One struct holds the union of the top-level keys of Cloudflare v1, v2 and
//! Datadog entries so that an entry of unknown origin is read in a single
//! pass and then dispatched on what it contains. Unknown keys are skipped
//! (they stay in `raw`); every known field is lenient (see `lenient`).

use serde::Deserialize;

use super::error::EntryError;
use super::lenient::{Loose, Obj};

/// The keys an entry may have. Only the fields the parsers map are listed.
#[derive(Debug, Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(crate) struct Entry<'a> {
    pub id: Loose<'a>,

    // Datadog: `{id, type: "audit", attributes: {...}}`.
    #[serde(rename = "type")]
    pub event_type: Loose<'a>,
    pub attributes: Obj<DdAttributes<'a>>,

    // Cloudflare v1 and v2.
    pub action: Obj<CfAction<'a>>,
    pub actor: Obj<CfActor<'a>>,
    pub resource: Obj<CfResource<'a>>,

    // Cloudflare v1 only.
    pub when: Loose<'a>,
    pub owner: Obj<IdField<'a>>,
    pub metadata: Obj<CfMetadata<'a>>,
    #[serde(rename = "newValueJson")]
    pub new_value_json: Obj<NameField<'a>>,
    #[serde(rename = "oldValueJson")]
    pub old_value_json: Obj<NameField<'a>>,

    // Cloudflare v2 only.
    pub account: Obj<IdField<'a>>,
    pub zone: Obj<NameField<'a>>,
    pub raw: Obj<CfRaw<'a>>,

    // Page keys: never in an entry; kept to explain a misplaced page.
    pub result: Loose<'a>,
    pub data: Loose<'a>,
}

/// Cloudflare `action`: v1 `{type, result: bool}`, v2 `{type, result:
/// "success"|"failure", time, description}`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(crate) struct CfAction<'a> {
    #[serde(rename = "type")]
    pub verb: Loose<'a>,
    pub result: Loose<'a>,
    pub time: Loose<'a>,
    pub description: Loose<'a>,
}

/// Cloudflare `actor`: v1 names the address `ip`, v2 `ip_address`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(crate) struct CfActor<'a> {
    pub id: Loose<'a>,
    pub email: Loose<'a>,
    #[serde(rename = "type")]
    pub kind: Loose<'a>,
    pub ip: Loose<'a>,
    pub ip_address: Loose<'a>,
    pub token_id: Loose<'a>,
    pub token_name: Loose<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(crate) struct CfResource<'a> {
    pub id: Loose<'a>,
    pub product: Loose<'a>,
    #[serde(rename = "type")]
    pub kind: Loose<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(crate) struct CfMetadata<'a> {
    pub token_name: Loose<'a>,
    pub zone_name: Loose<'a>,
}

/// Cloudflare v2 `raw`: the HTTP request behind the action.
#[derive(Debug, Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(crate) struct CfRaw<'a> {
    pub user_agent: Loose<'a>,
    pub status_code: Loose<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(crate) struct IdField<'a> {
    pub id: Loose<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(crate) struct NameField<'a> {
    pub name: Loose<'a>,
}

/// Datadog `attributes`: the envelope; the audit fields are one level down.
#[derive(Debug, Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(crate) struct DdAttributes<'a> {
    pub timestamp: Loose<'a>,
    pub message: Loose<'a>,
    pub attributes: Obj<DdFields<'a>>,
}

/// Datadog `attributes.attributes`.
#[derive(Debug, Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(crate) struct DdFields<'a> {
    pub action: Loose<'a>,
    pub status: Loose<'a>,
    pub usr: Obj<DdUser<'a>>,
    pub evt: Obj<DdEvt<'a>>,
    pub asset: Obj<DdAsset<'a>>,
    pub org: Obj<DdOrg<'a>>,
    pub http: Obj<DdHttp<'a>>,
    pub network: Obj<DdNetwork<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(crate) struct DdUser<'a> {
    pub id: Loose<'a>,
    pub uuid: Loose<'a>,
    pub email: Loose<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(crate) struct DdEvt<'a> {
    pub name: Loose<'a>,
    pub actor: Obj<DdEvtActor<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(crate) struct DdEvtActor<'a> {
    #[serde(rename = "type")]
    pub kind: Loose<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(crate) struct DdAsset<'a> {
    #[serde(rename = "type")]
    pub kind: Loose<'a>,
    pub id: Loose<'a>,
    pub name: Loose<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(crate) struct DdOrg<'a> {
    pub uuid: Loose<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(crate) struct DdHttp<'a> {
    pub useragent: Loose<'a>,
    pub status_code: Loose<'a>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(crate) struct DdNetwork<'a> {
    pub client: Obj<DdClient<'a>>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default, bound(deserialize = "'de: 'a"))]
pub(crate) struct DdClient<'a> {
    pub ip: Loose<'a>,
}

/// Which source format an entry is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    Datadog,
    CloudflareV2,
    CloudflareV1,
}

impl<'a> Entry<'a> {
    /// Reads one entry. Fails only on JSON syntax (including duplicate
    /// known keys, which would make the entry ambiguous) or when the entry
    /// is not an object.
    pub(crate) fn from_json(raw: &'a str) -> Result<Self, EntryError> {
        match serde_json::from_str::<Obj<Entry<'a>>>(raw)? {
            Obj::Present(entry) => Ok(entry),
            Obj::Wrong(kind) => Err(EntryError::NotAnObject(kind)),
            // Only a default is absent; a parsed value never is.
            Obj::Absent => Err(EntryError::Unrecognized),
        }
    }

    /// Decides the format from the keys present. The checks after the first
    /// match on each shape's secondary keys, so that an entry missing its
    /// timestamp is still reported against the right shape.
    pub(crate) fn shape(&self) -> Result<Shape, EntryError> {
        let action_time = self.action.as_ref().is_some_and(|a| !a.time.is_absent());
        let v1_result = self
            .action
            .as_ref()
            .is_some_and(|a| matches!(a.result, Loose::Bool(_)));
        if self.event_type.as_str() == Some("audit") || !self.attributes.is_absent() {
            Ok(Shape::Datadog)
        } else if action_time || !self.account.is_absent() {
            Ok(Shape::CloudflareV2)
        } else if !self.when.is_absent() || !self.owner.is_absent() || v1_result {
            Ok(Shape::CloudflareV1)
        } else if !self.raw.is_absent() || !self.zone.is_absent() {
            Ok(Shape::CloudflareV2)
        } else if !self.result.is_absent() {
            Err(EntryError::PageNotEntry("result"))
        } else if !self.data.is_absent() {
            Err(EntryError::PageNotEntry("data"))
        } else {
            Err(EntryError::Unrecognized)
        }
    }
}
