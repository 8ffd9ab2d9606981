//! PagerDuty. The Events API v2 has no read: the only request it takes
//! creates an alert. So with a routing key the probe checks what can be
//! checked without paging anyone (the key is stored, and has the shape of
//! an integration key) and says the rest is proven by the first delivery.
//! With a REST API key it reads the configured service
//! (`GET /services/{id}`), which proves the key and the service id.

use serde_json::Value;

use super::{Plan, Probe, client, credential, probe_timeout, setup_failed};
use crate::config::Config;
use crate::secrets::{Credential, Resolver, Secret};
use crate::setup::check::{Check, Status, store_fix};
use crate::setup::classify::{Hints, from_http};
use crate::sources::http::{HttpClient, Service};

const SERVICE: &str = "pagerduty";
/// PagerDuty's REST versioning header.
const ACCEPT: &str = "application/vnd.pagerduty+json;version=2";
/// Events API v2 integration keys are 32 letters and digits.
const ROUTING_KEY_LEN: usize = 32;

pub fn plan(config: &Config, secrets: &Resolver<'_>) -> Plan {
    let pd = &config.pagerduty;
    if !pd.enabled {
        return Plan::Settled(Check::not_configured(
            SERVICE,
            "enabled = false, so no incidents are opened",
            "[pagerduty] enabled = true and store the routing key",
        ));
    }
    use clap::ValueEnum as _;
    let Ok(which) = Credential::from_str(pd.routing_key_name.as_str(), false) else {
        // The config validator accepts only known names; kept total anyway.
        return Plan::Settled(
            Check::new(
                SERVICE,
                "-",
                Status::Misconfigured,
                format!(
                    "routing_key_name {} is not a credential name",
                    pd.routing_key_name
                ),
            )
            .with_fix("set pagerduty.routing_key_name = \"pagerduty-routing-key\""),
        );
    };
    let target = which.name().to_owned();
    let secret = match credential(secrets, SERVICE, &target, which) {
        Ok(secret) => secret,
        Err(check) => return Plan::Settled(check),
    };
    if which != Credential::PagerdutyApiKey {
        return Plan::Settled(events_key(&target, which, &secret));
    }
    let (Some(service_id), Some(_from)) = (pd.service_id.clone(), pd.from_email.as_ref()) else {
        return Plan::Settled(
            Check::new(
                SERVICE,
                target,
                Status::Misconfigured,
                "routing_key_name names the REST API key, which needs service_id and from_email",
            )
            .with_fix(
                "set pagerduty.service_id (the service incidents open on) and \
                 pagerduty.from_email (a PagerDuty user), or use an Events v2 integration key",
            ),
        );
    };
    let http = match client(Service::PagerDuty, pd.rest_base.as_str(), &config.http) {
        Ok(http) => http,
        Err(error) => {
            return Plan::Settled(setup_failed(SERVICE, target, "pagerduty.rest_base", &error));
        }
    };
    let target = format!("service {service_id}");
    Plan::Run(Probe {
        service: SERVICE,
        target: target.clone(),
        url: http.url(&["services", &service_id]).to_string(),
        base_key: "pagerduty.rest_base".into(),
        timeout: probe_timeout(&config.http),
        future: Box::pin(async move { rest_service(&http, &secret, &service_id, target).await }),
    })
}

/// What can be known about an Events v2 routing key without sending an event.
fn events_key(target: &str, which: Credential, key: &Secret) -> Check {
    let value = key.expose();
    if value.len() == ROUTING_KEY_LEN && value.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Check::ok(
            SERVICE,
            target,
            "routing key stored, 32 letters and digits like an Events v2 integration key; not \
             verified remotely (Events v2 has no read request; the first delivery proves it, \
             see `soc-tui outbox list`)",
        )
    } else {
        Check::new(
            SERVICE,
            target,
            Status::NotAuthenticated,
            format!(
                "the stored {which} is {} characters; an Events v2 integration key is \
                 {ROUTING_KEY_LEN} letters and digits",
                value.chars().count()
            ),
        )
        .with_fix(format!(
            "{}, copying the Integration Key of the service's Events API v2 integration",
            store_fix(which)
        ))
    }
}

async fn rest_service(http: &HttpClient, key: &Secret, service_id: &str, target: String) -> Check {
    let url = http.url(&["services", service_id]);
    let result = http
        .fetch(|client| {
            client
                .get(url.clone())
                .header("Authorization", format!("Token token={}", key.expose()))
                .header("Accept", ACCEPT)
                .header("Content-Type", "application/json")
        })
        .await;
    match result {
        Ok(fetched) => {
            let answer: Value = serde_json::from_slice(&fetched.body).unwrap_or(Value::Null);
            let name = answer["service"]["name"].as_str().unwrap_or("(unnamed)");
            Check::ok(
                SERVICE,
                target,
                format!("REST API key accepted; service {service_id} \"{name}\""),
            )
        }
        Err(error) => {
            let hints = Hints {
                service: SERVICE,
                target,
                url,
                base_key: "pagerduty.rest_base".into(),
                credentials: vec![Credential::PagerdutyApiKey],
                permission: "use a REST API key that can read services (a read-only key can \
                             read; opening incidents needs a full-access key)"
                    .to_owned(),
                not_found: format!(
                    "check pagerduty.service_id: no service {service_id} (the id in the \
                     service's URL, e.g. PWIXJZS)"
                ),
                forbidden_may_mean_bad_credential: false,
            };
            from_http(&hints, &error)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing_keys_are_checked_for_shape_only_and_say_so() {
        let good = events_key(
            "pagerduty-routing-key",
            Credential::PagerdutyRoutingKey,
            &Secret::new("e93facc04764012d7bfb002500d5d1a6".into()),
        );
        assert_eq!(good.status, Status::Ok);
        assert!(good.detail.contains("not verified remotely"), "{good:?}");
        let short = events_key(
            "pagerduty-routing-key",
            Credential::PagerdutyRoutingKey,
            &Secret::new("SENTINEL-short".into()),
        );
        assert_eq!(short.status, Status::NotAuthenticated);
        assert!(short.detail.contains("14 characters"), "{short:?}");
        assert!(!format!("{short:?}").contains("SENTINEL"));
        assert!(
            short
                .fix
                .unwrap()
                .contains("auth set pagerduty-routing-key")
        );
    }
}
