//! What can go wrong talking to Axiom. Every message names Axiom and the
//! endpoint; HTTP failures keep `HttpError`'s wording (status and Axiom's own
//! `message`, e.g. `ForbiddenError {code, message}`).

use crate::sources::http::{HttpError, HttpSetupError, Service};

use super::ingest::IngestReport;
use super::snapshot::OutOfWindow;

#[derive(Debug, thiserror::Error)]
pub enum AxiomError {
    #[error("axiom: no dataset is configured; set `dataset` in [axiom]")]
    NoDataset,
    #[error(
        "axiom: dataset name {name:?} is not usable: use 1 to 128 characters of letters, digits, `_`, `-` and `.`"
    )]
    InvalidDataset { name: String },
    #[error(
        "axiom: org id {org_id:?} is not usable: use 1 to 128 characters of letters, digits and `-`"
    )]
    InvalidOrgId { org_id: String },
    #[error("axiom: the HTTP client given is set up for {service}, not axiom")]
    WrongService { service: Service },
    #[error(transparent)]
    Setup(#[from] HttpSetupError),
    /// The request failed (status, rate limit, timeout...). Its text reads
    /// `axiom POST /v1/datasets/_apl: HTTP 403 Forbidden: Forbidden (code 403)`.
    #[error(transparent)]
    Http(#[from] HttpError),
    /// An ingest request failed after earlier batches were accepted.
    #[error(
        "{source} (batch {batch} of {batches}; {ingested} of {sent} events were ingested before it; \
         re-sending the hour is safe: the baseline query counts each event once)"
    )]
    IngestBatch {
        source: Box<HttpError>,
        batch: usize,
        batches: usize,
        ingested: u64,
        sent: u64,
    },
    /// Axiom answered, but did not take every event.
    #[error("axiom {endpoint}: {report}")]
    PartialIngest {
        endpoint: String,
        report: Box<IngestReport>,
    },
    #[error("axiom {endpoint}: unexpected response: {detail}")]
    BadResponse { endpoint: String, detail: String },
    #[error(
        "axiom {endpoint}: Axiom returned a partial result (isPartial); a baseline needs the whole window, try again later"
    )]
    PartialResult { endpoint: String },
    #[error(
        "axiom {endpoint}: the baseline query returned {rows} rows, its cap, so the result may be cut short; \
         the window holds more actor-hours than one query returns (use the local engine, or a shorter window)"
    )]
    Truncated { endpoint: String, rows: usize },
    /// The embedded APL file and the code that fills it disagree: a bug.
    #[error("axiom: the baseline query template is broken: {0}")]
    Template(String),
    #[error(transparent)]
    Snapshot(#[from] OutOfWindow),
}

impl AxiomError {
    /// Worth trying again later (network trouble, 429, 5xx, a partial
    /// result or a partial ingest, which re-sending repairs).
    pub fn is_transient(&self) -> bool {
        match self {
            AxiomError::Http(e) => e.is_transient(),
            AxiomError::IngestBatch { source, .. } => source.is_transient(),
            AxiomError::PartialIngest { .. } | AxiomError::PartialResult { .. } => true,
            _ => false,
        }
    }

    /// The underlying HTTP failure, if that is what this is.
    pub fn http(&self) -> Option<&HttpError> {
        match self {
            AxiomError::Http(e) => Some(e),
            AxiomError::IngestBatch { source, .. } => Some(source),
            _ => None,
        }
    }
}
