//! The configured sinks as one [`Sink`]: each request goes to the
//! destination its kind names. A request for a destination that is not
//! configured is a permanent error that says which config key enables it.

use std::path::Path;

use crate::config::Config;
use crate::secrets::Resolver;
use crate::sources::http::RateLimitState;

use super::archive::ArchiveSink;
use super::confluence::ConfluenceSink;
use super::linear::LinearSink;
use super::pagerduty::PagerDutySink;
use super::request::DeliveryRequest;
use super::{DeliveryFuture, Preview, Sink, SinkError, SinkKind, SinkSetupError};

pub struct Sinks {
    pub linear: Option<LinearSink>,
    pub pagerduty: Option<PagerDutySink>,
    /// Always present: the local directory when no bucket is configured.
    pub archive: ArchiveSink,
    pub confluence: Option<ConfluenceSink>,
}

impl Sinks {
    /// Every sink the config enables, with credentials from `resolver`.
    /// The local archive lives under `data_dir`.
    pub fn from_config(
        config: &Config,
        resolver: &Resolver<'_>,
        data_dir: &Path,
    ) -> Result<Sinks, SinkSetupError> {
        Ok(Sinks {
            linear: LinearSink::from_config(&config.linear, &config.http, resolver)?,
            pagerduty: PagerDutySink::from_config(&config.pagerduty, &config.http, resolver)?,
            archive: ArchiveSink::from_config(&config.s3, &config.http, resolver, data_dir)?,
            confluence: ConfluenceSink::from_config(&config.confluence, &config.http, resolver)?,
        })
    }

    /// The rate-limit state of each configured remote sink: the outbox
    /// keeps their blocks across restarts.
    pub fn rate_limits(&self) -> Vec<(SinkKind, RateLimitState)> {
        let mut states = Vec::new();
        if let Some(linear) = &self.linear {
            states.push((SinkKind::Linear, linear.rate_limit().clone()));
        }
        if let Some(pagerduty) = &self.pagerduty {
            states.push((SinkKind::PagerDuty, pagerduty.rate_limit().clone()));
        }
        if let Some(archive) = self.archive.rate_limit() {
            states.push((SinkKind::Archive, archive.clone()));
        }
        if let Some(confluence) = &self.confluence {
            states.push((SinkKind::Confluence, confluence.rate_limit().clone()));
        }
        states
    }

    fn route(&self, kind: SinkKind) -> Result<&dyn Sink, SinkError> {
        let (sink, enable): (Option<&dyn Sink>, &str) = match kind {
            SinkKind::Linear => (
                self.linear.as_ref().map(|s| s as &dyn Sink),
                "linear.team_id",
            ),
            SinkKind::PagerDuty => (
                self.pagerduty.as_ref().map(|s| s as &dyn Sink),
                "pagerduty.enabled",
            ),
            SinkKind::Archive => (Some(&self.archive), ""),
            SinkKind::Confluence => (
                self.confluence.as_ref().map(|s| s as &dyn Sink),
                "confluence.base_url",
            ),
        };
        sink.ok_or_else(|| {
            SinkError::permanent(kind, format!("{kind} is not configured (set {enable})"))
        })
    }
}

impl Sink for Sinks {
    fn deliver<'a>(&'a self, request: &'a DeliveryRequest) -> DeliveryFuture<'a> {
        match self.route(request.sink()) {
            Ok(sink) => sink.deliver(request),
            Err(error) => Box::pin(std::future::ready(Err(error))),
        }
    }

    fn preview(&self, request: &DeliveryRequest) -> Result<Preview, SinkError> {
        self.route(request.sink())?.preview(request)
    }
}

#[cfg(test)]
mod tests {
    use std::ffi::OsString;

    use super::*;
    use crate::config::{BaseUrl, CredentialName, Email};
    use crate::secrets::NoKeychain;

    /// No keychain: every credential must come from the test's environment.
    const NO_KEYCHAIN: NoKeychain = NoKeychain::new("test");

    fn env(name: &str) -> Option<OsString> {
        name.ends_with("_KEY")
            .then(|| OsString::from("k"))
            .or_else(|| name.ends_with("_TOKEN").then(|| OsString::from("t")))
            .or_else(|| name.ends_with("_ID").then(|| OsString::from("i")))
    }

    fn url(text: &str) -> BaseUrl {
        BaseUrl::try_from(text.to_owned()).unwrap()
    }

    #[tokio::test]
    async fn an_empty_config_archives_locally_and_names_what_enables_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let resolver = Resolver::new(&env, &NO_KEYCHAIN);
        let sinks = Sinks::from_config(&Config::default(), &resolver, dir.path()).unwrap();
        let t = chrono::Utc::now();
        let archive = DeliveryRequest::ArchiveObject {
            event_id: "e1".into(),
            account: Some("acc".into()),
            time: chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap(),
            raw_event: "{}".into(),
            metadata: super::super::ArchiveMetadata {
                finding_key: "token:e1".into(),
                actor: "a@example.com".into(),
                rules: vec![],
                severity: "high".into(),
            },
        };
        let delivered = sinks.deliver(&archive).await.unwrap();
        let expected = dir.path().join("archive/soc-tui/acc/2027/01/15/e1.json");
        assert_eq!(delivered.remote_id, expected.display().to_string());
        assert!(expected.is_file());

        let request =
            DeliveryRequest::pagerduty_update("k", super::super::PagerDutyAction::Resolve, t);
        let err = sinks.deliver(&request).await.unwrap_err();
        assert!(err.is_permanent());
        assert_eq!(
            err.to_string(),
            "pagerduty: pagerduty is not configured (set pagerduty.enabled)"
        );
        assert!(sinks.preview(&request).is_err());
    }

    #[test]
    fn pagerduty_rest_mode_needs_from_and_service() {
        let dir = tempfile::tempdir().unwrap();
        let resolver = Resolver::new(&env, &NO_KEYCHAIN);
        let mut config = Config::default();
        config.pagerduty.enabled = true;
        config.pagerduty.routing_key_name =
            CredentialName::try_from("pagerduty-api-key".to_owned()).unwrap();
        config.pagerduty.from_email =
            Some(Email::try_from("oncall@example.com".to_owned()).unwrap());
        let err = Sinks::from_config(&config, &resolver, dir.path())
            .err()
            .expect("error");
        assert_eq!(
            err.to_string(),
            "config key `pagerduty.service_id`: the REST API needs the service incidents are opened on (e.g. PWIXJZS)"
        );
        config.pagerduty.service_id = Some("PWIXJZS".into());
        config.pagerduty.rest_base = url("https://api.pagerduty.com");
        let sinks = Sinks::from_config(&config, &resolver, dir.path()).unwrap();
        let request = DeliveryRequest::PagerDutyEvent {
            dedup_key: "k".into(),
            action: super::super::PagerDutyAction::Trigger,
            summary: "s".into(),
            severity: crate::detect::finding::PagerDutySeverity::Critical,
            timestamp: chrono::Utc::now(),
            custom_details: serde_json::json!({}),
            links: vec![],
            rule_severity: None,
        };
        let preview = sinks.preview(&request).unwrap().to_string();
        assert!(
            preview.contains("POST https://api.pagerduty.com/incidents"),
            "{preview}"
        );
        assert!(preview.contains("From: oncall@example.com"), "{preview}");
        assert!(preview.contains("Authorization: [redacted]"), "{preview}");
    }

    /// The severity mappings reach the outgoing payloads: the same requests
    /// preview differently under a config that maps severities otherwise.
    #[test]
    fn configured_severity_mappings_change_what_is_sent() {
        let dir = tempfile::tempdir().unwrap();
        let resolver = Resolver::new(&env, &NO_KEYCHAIN);
        let base = "[linear]\nteam_id = \"3f2b9c1e-8d4a-4b6f-9e2d-1a2b3c4d5e6f\"\n\
                    [linear.labels]\ninvestigation = [\"ir\"]\n\
                    [pagerduty]\nenabled = true\n";
        let mapped = format!(
            "{base}[linear.priorities]\nhigh = 1\n[pagerduty.severities]\nhigh = \"critical\"\n"
        );
        let linear = DeliveryRequest::LinearIssue {
            dedup_key: "k".into(),
            title: "t".into(),
            body_markdown: "b".into(),
            priority: 2,
            labels: vec![],
            workflow: Some(crate::detect::finding::Workflow::Investigation),
            rule_severity: Some(crate::detect::finding::Severity::High),
        };
        let pagerduty = DeliveryRequest::PagerDutyEvent {
            dedup_key: "k".into(),
            action: super::super::PagerDutyAction::Trigger,
            summary: "s".into(),
            severity: crate::detect::finding::PagerDutySeverity::Error,
            timestamp: chrono::Utc::now(),
            custom_details: serde_json::json!({}),
            links: vec![],
            rule_severity: Some(crate::detect::finding::Severity::High),
        };
        let previews = |text: &str| {
            let config = Config::from_toml_str(text, "t.toml").unwrap();
            let sinks = Sinks::from_config(&config, &resolver, dir.path()).unwrap();
            (
                sinks.preview(&linear).unwrap().to_string(),
                sinks.preview(&pagerduty).unwrap().to_string(),
            )
        };
        let (linear_default, pd_default) = previews(base);
        assert!(
            linear_default.contains("\"priority\": 2"),
            "{linear_default}"
        );
        assert!(linear_default.contains("\"ir\""), "{linear_default}");
        assert!(
            pd_default.contains("\"severity\": \"error\""),
            "{pd_default}"
        );
        let (linear_mapped, pd_mapped) = previews(&mapped);
        assert!(linear_mapped.contains("\"priority\": 1"), "{linear_mapped}");
        assert!(
            pd_mapped.contains("\"severity\": \"critical\""),
            "{pd_mapped}"
        );
    }
}
