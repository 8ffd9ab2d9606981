//! The Axiom engine of the baseline check: events go to an Axiom dataset,
//! and the baseline figures come back from ONE APL query per check.
//!
//! # Flow
//!
//! 1. [`AxiomEngine::ingest_hour`] ships an hour's events (any slice, in
//!    batches of [`INGEST_BATCH_EVENTS`]) as flat JSON rows ([`IngestRow`])
//!    with `POST /v1/datasets/{dataset}/ingest?timestamp-field=_time`.
//! 2. [`AxiomEngine::snapshot`] runs `assets/axiom/baseline.apl`
//!    ([`BASELINE_APL`]) with `POST /v1/datasets/_apl?format=tabular` and
//!    reads the column-major result into an [`AxiomBaseline`].
//! 3. [`AxiomBaseline`] implements [`BaselineData`](super::BaselineData), so
//!    [`check_hour`] runs on it unchanged: each flagged actor becomes a
//!    finding with its evidence and a Linear ticket request, exactly as with
//!    the local engine. [`AxiomEngine::check_hour`] does 2 and 3.
//!
//! The trait is synchronous and the HTTP client is not, so everything one
//! check needs is fetched up front; the check stays pure and the query runs
//! once per check.
//!
//! # Re-sending is safe
//!
//! Axiom does not deduplicate: shipping an hour twice stores its rows twice.
//! Rather than track what was shipped (a crash between Axiom's 200 and our
//! bookkeeping, or a timed-out request that did land, would still
//! duplicate), the query groups rows by `(source, id)` before counting, so a
//! duplicate row changes nothing. A failed or partial ingest is repaired by
//! sending the hour again. (`dcount(id)` would be shorter, but it is an
//! estimate in APL.) The scheduler may still remember shipped hours to save
//! traffic; correctness does not depend on it.
//!
//! # Injection
//!
//! The query is rendered from typed values only (dataset name, times, a
//! count; see [`apl`]) and names no actor: it returns every actor of the
//! window, and actor strings stay data in the result.
//!
//! # Against the local engine
//!
//! Same statistic, same findings, with one difference: `first_seen` looks
//! back one extra window (see the APL file), not over all history.
//!
//! # Endpoints
//!
//! The client's base URL is the v1 API root (`https://api.axiom.co/v1`, see
//! [`api_root`]); requests carry `Authorization: Bearer <token>` and, with a
//! personal access token, `x-axiom-org-id`. 429s are waited out by
//! [`HttpClient`] using Axiom's `X-RateLimit-Reset`.

pub mod apl;
mod error;
pub mod ingest;
mod snapshot;
pub mod tabular;

use chrono::{DateTime, Utc};
use reqwest::RequestBuilder;
use url::Url;

pub use apl::{AplQuery, BASELINE_APL, BaselineWindow, DatasetName, MAX_ROWS, RESULT_COLUMNS};
pub use error::AxiomError;
pub use ingest::{INGEST_BATCH_EVENTS, IngestFailure, IngestReport, IngestRow};
pub use snapshot::{AxiomBaseline, OutOfWindow};
pub use tabular::{Field, QueryStatus, Table, TabularResult};

use super::check_hour;
use crate::config::AxiomConfig;
use crate::detect::finding::Finding;
use crate::detect::rules::Rules;
use crate::model::AuditEvent;
use crate::secrets::Secret;
use crate::sources::http::{HttpClient, HttpPolicy, Service};

/// `api_base` with `/v1` appended, unless it already ends in `/v1`.
pub fn api_root(api_base: &str) -> String {
    let base = api_base.trim_end_matches('/');
    if base.ends_with("/v1") {
        base.to_owned()
    } else {
        format!("{base}/v1")
    }
}

/// Talks to one Axiom dataset. Holds the token; `Debug` shows it redacted.
#[derive(Debug)]
pub struct AxiomEngine {
    client: HttpClient,
    dataset: DatasetName,
    token: Secret,
    org_id: Option<String>,
}

impl AxiomEngine {
    /// `client` must be for [`Service::Axiom`], based at the v1 API root
    /// (a mock's root in tests). `org_id` is needed with a personal access
    /// token only.
    pub fn new(
        client: HttpClient,
        dataset: &str,
        token: Secret,
        org_id: Option<&str>,
    ) -> Result<AxiomEngine, AxiomError> {
        if client.service() != Service::Axiom {
            return Err(AxiomError::WrongService {
                service: client.service(),
            });
        }
        let dataset = DatasetName::parse(dataset).ok_or_else(|| AxiomError::InvalidDataset {
            name: dataset.to_owned(),
        })?;
        if let Some(org) = org_id {
            let ok = |c: char| c.is_ascii_alphanumeric() || c == '-';
            if org.is_empty() || org.len() > 128 || !org.chars().all(ok) {
                return Err(AxiomError::InvalidOrgId {
                    org_id: org.to_owned(),
                });
            }
        }
        Ok(AxiomEngine {
            client,
            dataset,
            token,
            org_id: org_id.map(str::to_owned),
        })
    }

    /// From the `[axiom]` section (which must name a dataset), an HTTP
    /// policy and an optional proxy; the token is `Credential::AxiomToken`.
    pub fn from_config(
        config: &AxiomConfig,
        policy: HttpPolicy,
        proxy: Option<&str>,
        token: Secret,
    ) -> Result<AxiomEngine, AxiomError> {
        let mut builder =
            HttpClient::builder(Service::Axiom, api_root(config.api_base.as_str())).policy(policy);
        if let Some(proxy) = proxy {
            builder = builder.proxy(proxy);
        }
        let dataset = config.dataset.as_deref().ok_or(AxiomError::NoDataset)?;
        AxiomEngine::new(builder.build()?, dataset, token, config.org_id.as_deref())
    }

    pub fn dataset(&self) -> &str {
        self.dataset.as_str()
    }

    pub fn client(&self) -> &HttpClient {
        &self.client
    }

    fn authorized(&self, request: RequestBuilder) -> RequestBuilder {
        let request = request.bearer_auth(self.token.expose());
        match &self.org_id {
            Some(org) => request.header("x-axiom-org-id", org),
            None => request,
        }
    }

    fn ingest_url(&self) -> Url {
        let mut url = self
            .client
            .url(&["datasets", self.dataset.as_str(), "ingest"]);
        url.query_pairs_mut()
            .append_pair("timestamp-field", "_time");
        url
    }

    fn query_url(&self) -> Url {
        let mut url = self.client.url(&["datasets", "_apl"]);
        url.query_pairs_mut().append_pair("format", "tabular");
        url
    }

    /// `GET /v1/datasets/{dataset}`: the dataset's description as Axiom
    /// returns it (`name`, `description`, `created`, ...). Reads nothing
    /// else, so `soc-tui doctor` uses it to prove token, org and dataset.
    pub async fn dataset_info(&self) -> Result<serde_json::Value, AxiomError> {
        let url = self.client.url(&["datasets", self.dataset.as_str()]);
        let fetched = self
            .client
            .fetch(|http| self.authorized(http.get(url.clone())))
            .await?;
        serde_json::from_slice(&fetched.body).map_err(|e| AxiomError::BadResponse {
            endpoint: format!("GET {}", url.path()),
            detail: format!("not a dataset description: {e}"),
        })
    }

    /// Ships `events` (normally one hour's) to the dataset. `Err` when a
    /// request fails or Axiom refuses any event; either way sending the same
    /// events again is safe (see the module docs).
    pub async fn ingest_hour(&self, events: &[AuditEvent]) -> Result<IngestReport, AxiomError> {
        let url = self.ingest_url();
        let endpoint = format!("POST {}", url.path());
        let mut report = IngestReport::new(self.dataset.as_str(), events.len());
        let batches = events.len().div_ceil(INGEST_BATCH_EVENTS);
        for (i, batch) in events.chunks(INGEST_BATCH_EVENTS).enumerate() {
            let rows: Vec<IngestRow<'_>> = batch.iter().map(IngestRow::from_event).collect();
            let fetched = self
                .client
                .fetch(|http| self.authorized(http.post(url.clone())).json(&rows))
                .await
                .map_err(|source| match i {
                    0 => AxiomError::Http(source),
                    _ => AxiomError::IngestBatch {
                        source: Box::new(source),
                        batch: i + 1,
                        batches,
                        ingested: report.ingested,
                        sent: report.sent,
                    },
                })?;
            let status: ingest::IngestStatus =
                serde_json::from_slice(&fetched.body).map_err(|e| AxiomError::BadResponse {
                    endpoint: endpoint.clone(),
                    detail: format!("not an ingest status: {e}"),
                })?;
            report.add(status);
        }
        if report.is_complete() {
            tracing::debug!(dataset = %self.dataset, events = report.sent, "shipped to axiom");
            Ok(report)
        } else {
            Err(AxiomError::PartialIngest {
                endpoint,
                report: Box::new(report),
            })
        }
    }

    /// Runs one APL query and returns the tabular result; a partial result
    /// (`status.isPartial`) is an error.
    pub async fn query(&self, query: &AplQuery) -> Result<TabularResult, AxiomError> {
        let url = self.query_url();
        let endpoint = format!("POST {}", url.path());
        let fetched = self
            .client
            .fetch(|http| self.authorized(http.post(url.clone())).json(query))
            .await?;
        let result =
            TabularResult::from_json(&fetched.body).map_err(|detail| AxiomError::BadResponse {
                endpoint: endpoint.clone(),
                detail,
            })?;
        if result.status.is_partial {
            return Err(AxiomError::PartialResult { endpoint });
        }
        Ok(result)
    }

    /// Everything the baseline check of the hour containing `hour` reads,
    /// over a `window_days` trailing window, from one APL query.
    pub async fn snapshot(
        &self,
        hour: DateTime<Utc>,
        window_days: u32,
    ) -> Result<AxiomBaseline, AxiomError> {
        let window = BaselineWindow::new(hour, window_days);
        let query = apl::baseline_query(&self.dataset, &window).map_err(AxiomError::Template)?;
        let result = self.query(&query).await?;
        let endpoint = format!("POST {}", self.query_url().path());
        let bad = |detail: String| AxiomError::BadResponse {
            endpoint: endpoint.clone(),
            detail,
        };
        let table = result
            .primary_table()
            .ok_or_else(|| bad("the result has no table".into()))?;
        if table.rows() >= MAX_ROWS {
            return Err(AxiomError::Truncated {
                endpoint,
                rows: table.rows(),
            });
        }
        let snapshot = AxiomBaseline::from_table(table, window).map_err(bad)?;
        if snapshot.skipped_rows() > 0 {
            tracing::warn!(
                dataset = %self.dataset,
                rows = snapshot.skipped_rows(),
                "axiom baseline rows without actor_key ignored (rows not shipped by soc-tui?)"
            );
        }
        tracing::debug!(
            dataset = %self.dataset,
            actors = snapshot.actor_count(),
            rows = table.rows(),
            rows_examined = result.status.rows_examined,
            "axiom baseline snapshot"
        );
        Ok(snapshot)
    }

    /// The baseline check of the hour containing `hour` on Axiom's figures:
    /// [`snapshot`](Self::snapshot), then [`check_hour`].
    pub async fn check_hour(
        &self,
        rules: &Rules,
        hour: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Finding>, AxiomError> {
        let snapshot = self
            .snapshot(hour, rules.baseline.window_days.get())
            .await?;
        Ok(check_hour(&snapshot, rules, hour, now)?)
    }
}
