//! One harmless read per configured service, run concurrently, each under
//! its own time limit.
//!
//! Probing happens in two steps. [`plan`] reads the config and the
//! credentials (synchronously: the keychain is a blocking D-Bus call) and
//! either settles a service at once (not configured, no credential) or
//! builds a [`Probe`] that owns everything its request needs. [`run`] then
//! sends all probes at once on a private runtime and waits for the last.

mod agents;
mod archive;
mod axiom;
mod cloudflare;
mod confluence;
mod datadog;
pub mod linear;
mod pagerduty;

use std::borrow::Cow;
use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::time::Duration;

use super::check::{Check, Status, usable_in_header};
use crate::config::{Config, HttpConfig};
use crate::secrets::{Credential, Resolver, Secret};
use crate::sources::http::{HttpClient, HttpPolicy, HttpSetupError, Service};

/// The longest 429 wait a probe sits through; a longer one is reported.
const MAX_RATE_LIMIT_WAIT: Duration = Duration::from_secs(3);

pub type CheckFuture = Pin<Box<dyn Future<Output = Check> + Send>>;

/// A request ready to send, with what to say if it runs out of time.
pub struct Probe {
    pub service: &'static str,
    pub target: String,
    /// Named in the timeout message.
    pub url: String,
    /// The config key to check when nothing answers in time.
    pub base_key: Cow<'static, str>,
    pub timeout: Duration,
    pub future: CheckFuture,
}

/// A service's probe, or its verdict when no request is needed.
pub enum Plan {
    Settled(Check),
    Run(Probe),
}

/// Everything to probe for `config`, in report order. `data_dir` holds the
/// local archive directory; `config_dir` the prompt overrides the agents use.
pub fn plan(
    config: &Config,
    secrets: &Resolver<'_>,
    data_dir: &Path,
    config_dir: &Path,
) -> Vec<Plan> {
    let mut plans = Vec::new();
    plans.extend(cloudflare::plan(config, secrets));
    plans.push(datadog::plan(config, secrets));
    plans.push(confluence::plan(config, secrets));
    plans.push(linear::plan(config, secrets));
    plans.push(pagerduty::plan(config, secrets));
    plans.push(archive::plan(config, secrets, data_dir));
    plans.push(axiom::plan(config, secrets));
    plans.extend(agents::plan(config, secrets, config_dir));
    plans
}

/// Runs every probe concurrently; results come back in plan order. Works
/// from any thread, inside a runtime or not (see [`block_on_private`]).
pub fn run(plans: Vec<Plan>) -> Vec<Check> {
    block_on_private(run_async(plans)).unwrap_or_else(|error| {
        vec![Check::new(
            "doctor",
            "-",
            Status::Failed,
            format!("the probes could not run: {error}; see the log"),
        )]
    })
}

/// Why [`block_on_private`] has no result.
#[derive(Debug, thiserror::Error)]
pub enum PrivateRuntimeError {
    #[error("cannot start an async runtime: {0}")]
    Start(#[source] std::io::Error),
    #[error("the task panicked")]
    Panicked,
}

/// Runs `future` to completion on a runtime of its own, on a thread of its
/// own: blocking on it is then safe from any thread, inside a runtime or not
/// (the console calls the wizard from within its own).
pub fn block_on_private<T: Send>(
    future: impl Future<Output = T> + Send,
) -> Result<T, PrivateRuntimeError> {
    std::thread::scope(|scope| {
        scope
            .spawn(|| {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .map(|runtime| runtime.block_on(future))
                    .map_err(PrivateRuntimeError::Start)
            })
            .join()
            .unwrap_or(Err(PrivateRuntimeError::Panicked))
    })
}

/// As [`run`], on the caller's runtime.
pub async fn run_async(plans: Vec<Plan>) -> Vec<Check> {
    let mut results: Vec<Option<Check>> = Vec::with_capacity(plans.len());
    let mut running = tokio::task::JoinSet::new();
    for (index, plan) in plans.into_iter().enumerate() {
        match plan {
            Plan::Settled(check) => results.push(Some(check)),
            Plan::Run(probe) => {
                results.push(None);
                running.spawn(async move { (index, limited(probe).await) });
            }
        }
    }
    while let Some(joined) = running.join_next().await {
        match joined {
            Ok((index, check)) => results[index] = Some(check),
            Err(err) => tracing::error!(error = %err, "a doctor probe task failed"),
        }
    }
    results
        .into_iter()
        .map(|slot| {
            slot.unwrap_or_else(|| {
                Check::new(
                    "doctor",
                    "-",
                    Status::Failed,
                    "a probe task failed; see the log",
                )
            })
        })
        .collect()
}

async fn limited(probe: Probe) -> Check {
    let Probe {
        service,
        target,
        url,
        base_key,
        timeout,
        future,
    } = probe;
    match tokio::time::timeout(timeout, future).await {
        Ok(check) => check,
        Err(_) => Check::new(
            service,
            target,
            Status::Unreachable,
            format!(
                "no answer from {url} within {}s (the probe's time limit)",
                timeout.as_secs().max(1)
            ),
        )
        .with_fix(format!(
            "check {base_key} and the network path from here; a slow service needs a larger \
             [http] request_timeout"
        )),
    }
}

/// A probe's time limit: one connection plus one whole request, from `[http]`.
pub fn probe_timeout(http: &HttpConfig) -> Duration {
    http.connect_timeout.get() + http.request_timeout.get()
}

/// A client for `service` at `base` under `[http]`, which gives up on a
/// long rate-limit wait at once (the report says how long to wait).
pub fn client(
    service: Service,
    base: &str,
    http: &HttpConfig,
) -> Result<HttpClient, HttpSetupError> {
    let mut builder = HttpClient::builder(service, base).policy(client_policy(http));
    if let Some(proxy) = &http.proxy {
        builder = builder.proxy(proxy.as_str());
    }
    builder.build()
}

/// `[http]` as a probe's policy: its timeouts and retries, and a short
/// patience for rate limits.
pub fn client_policy(http: &HttpConfig) -> HttpPolicy {
    HttpPolicy {
        max_rate_limit_wait: MAX_RATE_LIMIT_WAIT,
        ..crate::sources::poll::http_policy(http)
    }
}

/// The check for a client that could not be built (a bad base URL or proxy).
pub fn setup_failed(
    service: &'static str,
    target: impl Into<String>,
    base_key: &str,
    error: &HttpSetupError,
) -> Check {
    Check::new(service, target, Status::Misconfigured, error.to_string()).with_fix(format!(
        "correct {base_key} (or [http] proxy) in the config file"
    ))
}

/// The credential's value, or the check that says why there is none.
pub fn credential(
    secrets: &Resolver<'_>,
    service: &'static str,
    target: &str,
    credential: Credential,
) -> Result<Secret, Check> {
    let secret = match secrets.require(credential) {
        Ok((secret, _origin)) => secret,
        Err(error) => return Err(Check::credential_problem(service, target, &error)),
    };
    if usable_in_header(secret.expose()) {
        Ok(secret)
    } else {
        Err(Check::unusable_credential(service, target, credential))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_config_settles_every_service_without_a_request() {
        let env = |_: &str| None;
        let keychain = crate::secrets::MemoryKeychain::default();
        let resolver = Resolver::new(&env, &keychain);
        let dir = tempfile::tempdir().unwrap();
        let plans = plan(&Config::default(), &resolver, dir.path(), dir.path());
        let mut probes = 0;
        let mut services = Vec::new();
        for plan in &plans {
            match plan {
                Plan::Settled(check) => services.push(check.service.clone()),
                Plan::Run(probe) => {
                    probes += 1;
                    services.push(probe.service.to_owned());
                }
            }
        }
        // Nothing to send: even the local archive directory is checked here and now.
        assert_eq!(probes, 0, "{services:?}");
        assert_eq!(
            services,
            [
                "cloudflare",
                "datadog",
                "confluence",
                "linear",
                "pagerduty",
                "archive",
                "axiom",
                "agent"
            ]
        );
        let checks = run(plans);
        assert!(checks.iter().all(|c| !c.status.is_failure()), "{checks:?}");
        let archive = checks.iter().find(|c| c.service == "archive").unwrap();
        assert_eq!(archive.status, Status::Ok, "{archive:?}");
        assert!(archive.detail.contains("writable"), "{archive:?}");
    }
}
