//! The receiver: `POST /webhook/anomaly`. Checks run cheapest first: rate
//! limit, body size, authentication, delivery id, payload; then the
//! delivery and its draft are recorded in one transaction and the
//! investigation runs in the background. While the investigation workflow
//! is off (read from the store for each request) an authenticated, valid
//! request is refused with `503 investigations_off`. Errors are JSON
//! `{"error": "<code>", "message": "<what to fix>"}`; an accepted request
//! gets `202 {"status": "accepted", "investigation_id": "INV-12"}`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use chrono::Utc;
use serde_json::json;
use tokio::net::TcpListener;

use super::auth::{self, AuthError, DELIVERY_HEADER, SHARED_SECRET_HEADER, SIGNATURE_HEADER};
use super::limit::RateLimiter;
use super::payload::{self, Anomaly};
use super::replay;
use crate::config::{WebhookAuthMode, WebhookConfig};
use crate::detect::Workflow;
use crate::investigate::identity::normalize_actor;
use crate::investigate::report::TriggerInfo;
use crate::investigate::{InvestigationRequest, Investigator, TriggerRecord};
use crate::secrets::Secret;
use crate::store::{TriggerKind, WebhookDelivery as Delivery, draft_label};
use crate::workflows::ModePolicy;

pub const ANOMALY_PATH: &str = "/webhook/anomaly";

/// What the receiver needs; shared by every request.
pub struct WebhookState {
    config: WebhookConfig,
    secret: Secret,
    investigator: Investigator,
    modes: ModePolicy,
    limiter: Mutex<RateLimiter>,
}

impl WebhookState {
    pub fn new(
        config: WebhookConfig,
        secret: Secret,
        investigator: Investigator,
        modes: ModePolicy,
    ) -> WebhookState {
        WebhookState {
            limiter: Mutex::new(RateLimiter::new(
                config.rate_limit_per_minute,
                Instant::now(),
            )),
            config,
            secret,
            investigator,
            modes,
        }
    }
}

/// Why a delivery was not accepted before any investigation started.
enum Refused {
    Off(String),
    Store(String),
}

pub fn router(state: Arc<WebhookState>) -> Router {
    Router::new()
        .route(ANOMALY_PATH, post(anomaly))
        .with_state(state)
}

/// Binds the configured address.
pub async fn bind(config: &WebhookConfig) -> std::io::Result<TcpListener> {
    TcpListener::bind(SocketAddr::new(config.bind, config.port)).await
}

/// Serves until `shutdown` completes.
pub async fn serve(
    listener: TcpListener,
    state: Arc<WebhookState>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(state))
        .with_graceful_shutdown(shutdown)
        .await
}

fn error(status: StatusCode, code: &str, message: impl Into<String>) -> Response {
    let body = json!({"error": code, "message": message.into()});
    (status, axum::Json(body)).into_response()
}

fn header_text<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

async fn anomaly(
    State(state): State<Arc<WebhookState>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    if let Err(wait) = state
        .limiter
        .lock()
        .map(|mut l| l.take(Instant::now()))
        .unwrap_or(Ok(()))
    {
        let secs = wait.as_secs().saturating_add(1);
        let mut response = error(
            StatusCode::TOO_MANY_REQUESTS,
            "rate_limited",
            format!("too many requests; retry in {secs}s"),
        );
        if let Ok(value) = HeaderValue::from_str(&secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, value);
        }
        return response;
    }
    let limit = state.config.max_body_bytes;
    let too_large = || {
        error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "body_too_large",
            format!("the body is larger than the {limit}-byte limit"),
        )
    };
    let declared =
        header_text(&headers, header::CONTENT_LENGTH.as_str()).and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return too_large();
    }
    let Ok(body) = axum::body::to_bytes(body, limit).await else {
        return too_large();
    };
    let secret = state.secret.expose().as_bytes();
    let signature_digest = match state.config.mode {
        WebhookAuthMode::Hmac => {
            let max_skew = i64::try_from(state.config.max_skew.get().as_secs()).unwrap_or(i64::MAX);
            match auth::verify_hmac(
                secret,
                header_text(&headers, SIGNATURE_HEADER),
                &body,
                Utc::now().timestamp(),
                max_skew,
            ) {
                Ok(verified) => Some(verified.digest),
                Err(err) => return unauthorized(&err),
            }
        }
        WebhookAuthMode::SharedSecret => {
            if let Err(err) =
                auth::verify_shared_secret(secret, header_text(&headers, SHARED_SECRET_HEADER))
            {
                return unauthorized(&err);
            }
            None
        }
    };
    let delivery = match replay::delivery_id(
        header_text(&headers, DELIVERY_HEADER),
        signature_digest.as_deref(),
        &body,
    ) {
        Ok(id) => id,
        Err(err) => return error(StatusCode::BAD_REQUEST, "bad_delivery_id", err.to_string()),
    };
    let anomaly = match payload::parse(&body, &state.config.fields) {
        Ok(anomaly) => anomaly,
        Err(err) => return error(StatusCode::BAD_REQUEST, "invalid_payload", err.to_string()),
    };
    accept(state, delivery, signature_digest, anomaly).await
}

fn unauthorized(err: &AuthError) -> Response {
    tracing::warn!(code = err.code(), "webhook request refused");
    error(StatusCode::UNAUTHORIZED, err.code(), err.to_string())
}

fn request_for(anomaly: &Anomaly, delivery: &str) -> InvestigationRequest {
    InvestigationRequest {
        actor: normalize_actor(&anomaly.actor),
        at: anomaly.timestamp,
        kind: TriggerKind::Webhook,
        record: TriggerRecord {
            trigger: TriggerInfo {
                kind: TriggerKind::Webhook.as_str().to_owned(),
                reference: Some(delivery.to_owned()),
                detector: anomaly.detector.clone(),
                source: anomaly.source.clone(),
                action: Some(anomaly.action.clone()),
                details: anomaly.details.clone(),
            },
            findings: Vec::new(),
        },
    }
}

async fn accept(
    state: Arc<WebhookState>,
    delivery: String,
    signature_digest: Option<String>,
    anomaly: Anomaly,
) -> Response {
    let request = request_for(&anomaly, &delivery);
    let store = Arc::clone(state.investigator.store());
    let modes = state.modes;
    let recorded = tokio::task::spawn_blocking(move || {
        let trigger_json = serde_json::to_string(&request.record).unwrap_or_else(|_| "{}".into());
        let mut store = store
            .lock()
            .map_err(|_| Refused::Store("the store lock is poisoned".to_owned()))?;
        let mode = modes
            .effective(&store, Workflow::Investigation)
            .map_err(|e| Refused::Store(e.to_string()))?;
        if mode.is_off() {
            return Err(Refused::Off(mode.off_message()));
        }
        store
            .accept_delivery(
                &delivery,
                signature_digest.as_deref(),
                &request.new_draft(&trigger_json),
                Utc::now(),
            )
            .map_err(|e| Refused::Store(e.to_string()))
    })
    .await
    .unwrap_or_else(|e| Err(Refused::Store(e.to_string())));
    let draft_id = match recorded {
        Ok(Delivery::Accepted { draft_id }) => draft_id,
        Ok(Delivery::ReplayedId) => {
            return error(
                StatusCode::CONFLICT,
                "replayed_delivery",
                "this delivery id was already received",
            );
        }
        Ok(Delivery::ReplayedSignature) => {
            return error(
                StatusCode::CONFLICT,
                "replayed_signature",
                "this signed request was already received under another delivery id",
            );
        }
        Err(Refused::Off(why)) => {
            tracing::info!("webhook delivery refused: the investigation workflow is off");
            // Not recorded: the sender's retry after the switch is accepted.
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "investigations_off",
                format!("investigations are off on this receiver: {why}"),
            );
        }
        Err(Refused::Store(detail)) => {
            tracing::error!(%detail, "webhook delivery could not be recorded");
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "store_unavailable",
                "the delivery could not be recorded; retry later",
            );
        }
    };
    let investigator = state.investigator.clone();
    tokio::spawn(async move {
        if let Err(err) = investigator.run(draft_id).await {
            tracing::error!(draft = %draft_label(draft_id), error = %err, "investigation failed");
        }
    });
    (
        StatusCode::ACCEPTED,
        axum::Json(json!({"status": "accepted", "investigation_id": draft_label(draft_id)})),
    )
        .into_response()
}
