//! Axiom: the dataset's description (`GET /v1/datasets/{name}`) through the
//! baseline engine's own client and headers.

use super::{Plan, Probe, credential, probe_timeout};
use crate::config::Config;
use crate::detect::baseline::axiom::{AxiomEngine, AxiomError, api_root};
use crate::secrets::{Credential, Resolver};
use crate::setup::check::{Check, Status};
use crate::setup::classify::{Hints, from_http};

const SERVICE: &str = "axiom";
const BASE_KEY: &str = "axiom.api_base";

pub fn plan(config: &Config, secrets: &Resolver<'_>) -> Plan {
    let axiom = &config.axiom;
    let Some(dataset) = axiom.dataset.clone().filter(|_| axiom.enabled) else {
        return Plan::Settled(Check::not_configured(
            SERVICE,
            "enabled = false; baselines come from the local store",
            "[axiom] enabled = true and dataset (used with [checks] baseline_engine = \"axiom\")",
        ));
    };
    let target = format!("dataset {dataset}");
    let token = match credential(secrets, SERVICE, &target, Credential::AxiomToken) {
        Ok(token) => token,
        Err(check) => return Plan::Settled(check),
    };
    let policy = super::client_policy(&config.http);
    let proxy = config.http.proxy.as_ref().map(|p| p.as_str());
    let engine = match AxiomEngine::from_config(axiom, policy, proxy, token) {
        Ok(engine) => engine,
        Err(error) => {
            return Plan::Settled(
                Check::new(SERVICE, target, Status::Misconfigured, error.to_string())
                    .with_fix("correct the [axiom] section"),
            );
        }
    };
    let url = engine.client().url(&["datasets", &dataset]);
    let hints = Hints {
        service: SERVICE,
        target: target.clone(),
        url,
        base_key: BASE_KEY.into(),
        credentials: vec![Credential::AxiomToken],
        permission: format!(
            "give the API token query and ingest rights on dataset {dataset} (a personal \
             access token also needs axiom.org_id)"
        ),
        not_found: format!(
            "check axiom.dataset: there is no dataset {dataset} in this organisation \
             (create it, or fix the name)"
        ),
        // Axiom answers a bad token with 403 too.
        forbidden_may_mean_bad_credential: true,
    };
    Plan::Run(Probe {
        service: SERVICE,
        target,
        url: format!("{}/datasets/{dataset}", api_root(axiom.api_base.as_str())),
        base_key: BASE_KEY.into(),
        timeout: probe_timeout(&config.http),
        future: Box::pin(async move { probe(&engine, &hints).await }),
    })
}

async fn probe(engine: &AxiomEngine, hints: &Hints) -> Check {
    match engine.dataset_info().await {
        Ok(info) => {
            let mut fact = format!("dataset {} found", engine.dataset());
            if let Some(created) = info["created"].as_str() {
                fact.push_str(&format!(", created {created}"));
            }
            Check::ok(SERVICE, hints.target.clone(), fact)
        }
        Err(AxiomError::Http(error)) => from_http(hints, &error),
        Err(other) => Check::new(
            SERVICE,
            hints.target.clone(),
            Status::Failed,
            other.to_string(),
        )
        .with_fix(format!(
            "check {BASE_KEY}: it must be the Axiom API (https://api.axiom.co)"
        )),
    }
}
