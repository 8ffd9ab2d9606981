//! PagerDuty: Events API v2 with a routing key (the usual setup), or REST
//! `POST /incidents` when `routing_key_name` names the REST API key.

mod events;
mod rest;

use std::borrow::Cow;

use clap::ValueEnum as _;
use reqwest::StatusCode;
use zeroize::Zeroizing;

use crate::config::{HttpConfig, PagerDutyConfig, PagerDutySeverities};
use crate::secrets::{Credential, Resolver, Secret};
use crate::sources::http::{HttpClient, HttpError, RateLimitState, Service};

use super::call::{Call, Credentials};
use super::preview::REDACTED;
use super::request::DeliveryRequest;
use super::setup::http_client;
use super::{Delivered, DeliveryFuture, Preview, Sink, SinkError, SinkKind, SinkSetupError};

use rest::RestTarget;

pub struct PagerDutySink {
    client: HttpClient,
    mode: Mode,
    /// `[pagerduty.severities]`: the severity sent for a request's severity.
    severities: PagerDutySeverities,
}

enum Mode {
    Events {
        routing_key: Secret,
    },
    Rest {
        api_key: Secret,
        from_email: String,
        service_id: String,
    },
}

impl PagerDutySink {
    /// The service's rate-limit state (blocks after a 429), shared by every call.
    pub fn rate_limit(&self) -> &RateLimitState {
        self.client.rate_limit()
    }

    /// Events API v2; `client`'s base is the events root (`https://events.pagerduty.com/v2`).
    pub fn events(client: HttpClient, routing_key: Secret) -> PagerDutySink {
        PagerDutySink {
            client,
            mode: Mode::Events { routing_key },
            severities: PagerDutySeverities::default(),
        }
    }

    /// REST API; `client`'s base is `https://api.pagerduty.com`. `from_email`
    /// must be a PagerDuty user, `service_id` the service incidents open on.
    pub fn rest(
        client: HttpClient,
        api_key: Secret,
        from_email: impl Into<String>,
        service_id: impl Into<String>,
    ) -> PagerDutySink {
        PagerDutySink {
            client,
            mode: Mode::Rest {
                api_key,
                from_email: from_email.into(),
                service_id: service_id.into(),
            },
            severities: PagerDutySeverities::default(),
        }
    }

    /// Severities from `[pagerduty.severities]`, by the request's severity.
    pub fn with_severities(mut self, severities: PagerDutySeverities) -> PagerDutySink {
        self.severities = severities;
        self
    }

    /// `request` with its PagerDuty severity taken from the configured
    /// mapping (requests stored without a severity keep theirs).
    fn mapped<'r>(&self, request: &'r DeliveryRequest) -> Cow<'r, DeliveryRequest> {
        match request {
            DeliveryRequest::PagerDutyEvent {
                rule_severity: Some(rule),
                ..
            } => {
                let mut mapped = request.clone();
                if let DeliveryRequest::PagerDutyEvent { severity, .. } = &mut mapped {
                    *severity = self.severities.of(*rule);
                }
                Cow::Owned(mapped)
            }
            _ => Cow::Borrowed(request),
        }
    }

    /// `None` when `[pagerduty] enabled = false`.
    pub fn from_config(
        config: &PagerDutyConfig,
        http: &HttpConfig,
        resolver: &Resolver<'_>,
    ) -> Result<Option<PagerDutySink>, SinkSetupError> {
        if !config.enabled {
            return Ok(None);
        }
        let credential =
            Credential::from_str(config.routing_key_name.as_str(), false).map_err(|_| {
                SinkSetupError::Config {
                    key: "pagerduty.routing_key_name",
                    message: "not a credential soc-tui knows".into(),
                }
            })?;
        let (secret, _) = resolver.require(credential)?;
        if credential != Credential::PagerdutyApiKey {
            let client = http_client(Service::PagerDuty, config.events_base.as_str(), http)?;
            return Ok(Some(
                PagerDutySink::events(client, secret).with_severities(config.severities),
            ));
        }
        let from_email = config.from_email.as_ref().ok_or(SinkSetupError::Config {
            key: "pagerduty.from_email",
            message: "the REST API needs the From address of a PagerDuty user".into(),
        })?;
        let service_id = config.service_id.as_ref().ok_or(SinkSetupError::Config {
            key: "pagerduty.service_id",
            message: "the REST API needs the service incidents are opened on (e.g. PWIXJZS)".into(),
        })?;
        let client = http_client(Service::PagerDuty, config.rest_base.as_str(), http)?;
        Ok(Some(
            PagerDutySink::rest(client, secret, from_email.as_str(), service_id)
                .with_severities(config.severities),
        ))
    }

    fn incidents_url(&self) -> url::Url {
        self.client.url(&["incidents"])
    }

    /// The calls a delivery makes, in order; `routing_key` fills the Events body.
    fn calls(&self, request: &DeliveryRequest, routing_key: &str) -> Result<Vec<Call>, SinkError> {
        match &self.mode {
            Mode::Events { .. } => Ok(vec![events::enqueue_call(
                self.client.url(&["enqueue"]),
                request,
                routing_key,
            )?]),
            Mode::Rest {
                from_email,
                service_id,
                ..
            } => {
                let target = RestTarget {
                    incidents: self.incidents_url(),
                    from_email,
                    service_id,
                };
                let create = rest::create_call(&target, request)?;
                Ok(vec![
                    rest::lookup_call(self.incidents_url(), dedup_key(request)),
                    create,
                ])
            }
        }
    }

    async fn deliver_events(
        &self,
        request: &DeliveryRequest,
        routing_key: &Secret,
    ) -> Result<Delivered, SinkError> {
        let call =
            events::enqueue_call(self.client.url(&["enqueue"]), request, routing_key.expose())?;
        let response = self
            .client
            .fetch(|http| call.request(http, None))
            .await
            .map_err(|e| SinkError::from_http(SinkKind::PagerDuty, &e))?;
        events::accepted(&response, dedup_key(request))
    }

    async fn deliver_rest(
        &self,
        request: &DeliveryRequest,
        api_key: &Secret,
        from_email: &str,
        service_id: &str,
    ) -> Result<Delivered, SinkError> {
        let token = Zeroizing::new(format!("Token token={}", api_key.expose()));
        let credentials = Credentials::Value(token.as_str());
        let target = RestTarget {
            incidents: self.incidents_url(),
            from_email,
            service_id,
        };
        let create = rest::create_call(&target, request)?;
        let lookup = rest::lookup_call(self.incidents_url(), dedup_key(request));
        if let Some(found) = self.look_up(&lookup, credentials).await? {
            return Ok(found);
        }
        match self
            .client
            .fetch(|http| create.request(http, Some(credentials)))
            .await
        {
            Ok(response) => rest::created_incident(&response.body),
            // An open incident with this key already exists: an earlier
            // attempt got through.
            Err(error) if refused_as_duplicate(&error) => self
                .look_up(&lookup, credentials)
                .await?
                .ok_or_else(|| SinkError::from_http(SinkKind::PagerDuty, &error)),
            Err(error) => Err(SinkError::from_http(SinkKind::PagerDuty, &error)),
        }
    }

    async fn look_up(
        &self,
        lookup: &Call,
        credentials: Credentials<'_>,
    ) -> Result<Option<Delivered>, SinkError> {
        let response = self
            .client
            .fetch(|http| lookup.request(http, Some(credentials)))
            .await
            .map_err(|e| SinkError::from_http(SinkKind::PagerDuty, &e))?;
        Ok(rest::found_incident(&response.body))
    }
}

fn refused_as_duplicate(error: &HttpError) -> bool {
    matches!(
        error.status(),
        Some(StatusCode::BAD_REQUEST | StatusCode::CONFLICT)
    )
}

fn dedup_key(request: &DeliveryRequest) -> &str {
    match request {
        DeliveryRequest::PagerDutyEvent { dedup_key, .. } => dedup_key,
        _ => "",
    }
}

impl Sink for PagerDutySink {
    fn deliver<'a>(&'a self, request: &'a DeliveryRequest) -> DeliveryFuture<'a> {
        Box::pin(async move {
            let request = self.mapped(request);
            let request = request.as_ref();
            match &self.mode {
                Mode::Events { routing_key } => self.deliver_events(request, routing_key).await,
                Mode::Rest {
                    api_key,
                    from_email,
                    service_id,
                } => {
                    self.deliver_rest(request, api_key, from_email, service_id)
                        .await
                }
            }
        })
    }

    fn preview(&self, request: &DeliveryRequest) -> Result<Preview, SinkError> {
        let steps = self
            .calls(&self.mapped(request), REDACTED)?
            .iter()
            .map(Call::preview)
            .collect();
        Ok(Preview { steps })
    }
}
