//! The four destinations of the outbox: Linear, PagerDuty, the token archive
//! (S3 or a local write-once directory) and Confluence.
//!
//! The outbox stores a [`DeliveryRequest`] per row and calls
//! [`Sink::deliver`] until it gets [`Delivered`] or a permanent
//! [`SinkError`]. Delivery is at-least-once, so every sink makes a repeated
//! call harmless: the *effect* on the remote side happens exactly once.
//!
//! | sink       | idempotency key                                      | a retry that finds it done          |
//! |------------|------------------------------------------------------|-------------------------------------|
//! | PagerDuty  | `dedup_key` (Events v2), `incident_key` (REST)       | Events v2 merges; REST looks it up  |
//! | Linear     | issue/comment `id` derived from the dedup key        | create fails, `issue(id:)` finds it |
//! | Archive    | `{prefix}/{account}/{yyyy}/{mm}/{dd}/{event}.json`   | 412 / file exists, same MD5         |
//! | Confluence | deterministic page title in the space                | looked up by title before creating  |
//!
//! Every sink renders the request it sends from one place, so
//! [`Sink::preview`] shows exactly what would go out, minus secrets.

pub mod archive;
mod call;
pub mod confluence;
mod error;
pub mod idempotency;
pub mod linear;
pub mod pagerduty;
mod preview;
mod request;
mod router;
mod setup;

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use serde::{Deserialize, Serialize};

pub use error::{SinkError, SinkSetupError};
pub use preview::{Preview, PreviewStep};
pub use request::{
    ArchiveMetadata, ConversionError, DeliveryRequest, EventLink, PagerDutyAction, RawEventLookup,
};
pub use router::Sinks;
pub use setup::http_policy;

/// Which destination a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SinkKind {
    Linear,
    PagerDuty,
    Archive,
    Confluence,
}

impl SinkKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SinkKind::Linear => "linear",
            SinkKind::PagerDuty => "pagerduty",
            SinkKind::Archive => "archive",
            SinkKind::Confluence => "confluence",
        }
    }
}

impl fmt::Display for SinkKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The outbox row's sink column and the destination are one-to-one.
impl From<SinkKind> for crate::store::Sink {
    fn from(kind: SinkKind) -> crate::store::Sink {
        use crate::store::Sink;
        match kind {
            SinkKind::Linear => Sink::Linear,
            SinkKind::PagerDuty => Sink::PagerDuty,
            SinkKind::Archive => Sink::Archive,
            SinkKind::Confluence => Sink::Confluence,
        }
    }
}

impl From<crate::store::Sink> for SinkKind {
    fn from(sink: crate::store::Sink) -> SinkKind {
        use crate::store::Sink;
        match sink {
            Sink::Linear => SinkKind::Linear,
            Sink::PagerDuty => SinkKind::PagerDuty,
            Sink::Archive => SinkKind::Archive,
            Sink::Confluence => SinkKind::Confluence,
        }
    }
}

/// What the remote side holds after a successful delivery: store it on the
/// finding or draft so the TUI can link to it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivered {
    /// The remote object's id: Linear issue UUID, PagerDuty dedup key or
    /// incident id, `s3://bucket/key`, archive file path, Confluence page id.
    pub remote_id: String,
    /// Where a person can open it, when the service says.
    pub url: Option<String>,
    /// True when this call found the effect already in place (an earlier
    /// attempt got through but its answer was lost).
    pub already_delivered: bool,
    /// Anything the analyst should know (a label that does not exist, the
    /// S3 version id, ...).
    pub note: Option<String>,
}

impl Delivered {
    pub(crate) fn created(remote_id: impl Into<String>, url: Option<String>) -> Delivered {
        Delivered {
            remote_id: remote_id.into(),
            url,
            already_delivered: false,
            note: None,
        }
    }

    pub(crate) fn found(remote_id: impl Into<String>, url: Option<String>) -> Delivered {
        Delivered {
            already_delivered: true,
            ..Delivered::created(remote_id, url)
        }
    }

    pub(crate) fn with_note(mut self, note: Option<String>) -> Delivered {
        self.note = note;
        self
    }
}

/// A boxed future, so [`Sink`] can be used as `dyn Sink` by the worker.
pub type DeliveryFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Delivered, SinkError>> + Send + 'a>>;

/// A destination the outbox worker delivers to.
pub trait Sink: Send + Sync {
    /// Performs the request's effect on the remote side, or finds it already
    /// done. Safe to call again after any failure.
    fn deliver<'a>(&'a self, request: &'a DeliveryRequest) -> DeliveryFuture<'a>;

    /// What [`Sink::deliver`] would send, for the publish popup's dry run:
    /// method, URL, headers (secrets shown as `[redacted]`) and body. No I/O.
    fn preview(&self, request: &DeliveryRequest) -> Result<Preview, SinkError>;
}
