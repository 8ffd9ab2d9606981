//! The scripted scenario behind [`FakeData::demo`] and [`FakeData::hostile`]:
//! the same findings, drafts, status and timeline, with the attacker-controlled
//! strings swapped.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::{FakeData, VecTimeline, hostile, preview};
use crate::tui::model::*;

/// The attacker-controlled strings of a scenario.
pub(super) struct Names {
    mallory: String,
    dave: String,
    frank: String,
    ci: String,
    token: String,
    resource_type: String,
    burst_action: String,
    scope: String,
    summary: String,
    raw_field: String,
    check_error: Option<String>,
}

impl Names {
    pub(super) fn demo() -> Names {
        Names {
            mallory: "mallory.ops@example.com".into(),
            dave: "dave.night@example.com".into(),
            frank: "frank.m@example.com".into(),
            ci: "ci-bot@example.com".into(),
            token: "deploy-all".into(),
            resource_type: "waf".into(),
            burst_action: "role_grant".into(),
            scope: "WRITE all zones".into(),
            summary: "Created a zone-wide write token, granted Datadog Admin to a new user \
                      and deleted the prod-5xx monitor within 10 minutes."
                .into(),
            raw_field: "deploy-all".into(),
            check_error: None,
        }
    }

    pub(super) fn hostile() -> Names {
        use hostile::*;
        Names {
            mallory: format!("{ESCAPES}@example.com"),
            dave: format!("{BIDI}@example.com"),
            frank: megabyte(),
            ci: "ci\u{7}\u{8}\u{7f}bot\r\n@example.com".into(),
            token: format!("{BIDI}{ESCAPES}"),
            resource_type: ESCAPES.into(),
            burst_action: BIDI.into(),
            scope: megabyte(),
            summary: format!("{ESCAPES}\n{BIDI}\n{}", megabyte()),
            raw_field: megabyte(),
            check_error: Some(format!("HTTP 500: {ESCAPES}")),
        }
    }
}

pub(super) struct Scenario {
    now: DateTime<Utc>,
    names: Names,
}

impl Scenario {
    pub(super) fn new(now: DateTime<Utc>, names: Names) -> Scenario {
        Scenario { now, names }
    }

    fn ago(&self, minutes: i64) -> DateTime<Utc> {
        self.now - Duration::minutes(minutes)
    }

    fn meta(&self, id: &str, actor: &str, severity: Severity, age: i64) -> FindingMeta {
        FindingMeta {
            id: FindingId::new(id),
            actor: ActorKey::new(actor),
            severity,
            state: TriageState::Open,
            detected_at: self.ago(age),
            updated_at: self.ago(age),
            deliveries: Vec::new(),
        }
    }

    pub(super) fn build(self) -> FakeData {
        let n = &self.names;
        let delivered = |sink, link: Option<(&str, &str)>| Delivery {
            sink,
            what: None,
            state: DeliveryState::Delivered,
            link: link.map(|(l, u)| RemoteLink {
                label: SafeText::new(l),
                url: SafeText::new(u),
            }),
        };
        let mut dave = self.meta("baseline:dave", &n.dave, Severity::Low, 60);
        dave.state = TriageState::Acknowledged {
            by: SafeText::new("alice"),
            at: self.ago(30),
        };
        let flagged = vec![
            FlaggedActorRow {
                meta: self.meta("baseline:mallory", &n.mallory, Severity::High, 2),
                hour: self.ago(60),
                count: 47,
                baseline: 3.9,
                factor: 12.1,
                new_resource_types: vec![
                    SafeText::new(&n.resource_type),
                    SafeText::new("api_token"),
                ],
            },
            FlaggedActorRow {
                meta: dave,
                hour: self.ago(120),
                count: 31,
                baseline: 29.0,
                factor: 1.1,
                new_resource_types: Vec::new(),
            },
        ];
        let mut mallory_burst = self.meta("burst:mallory", &n.mallory, Severity::Critical, 4);
        mallory_burst.deliveries.push(Delivery {
            what: Some(PagerDutyAction::Trigger),
            ..delivered(
                Sink::PagerDuty,
                Some(("Q1ABC", "https://acme.pagerduty.com/incidents/Q1ABC")),
            )
        });
        let mut frank_burst = self.meta("burst:frank", &n.frank, Severity::Low, 90);
        frank_burst.deliveries.push(Delivery {
            sink: Sink::PagerDuty,
            what: Some(PagerDutyAction::Trigger),
            state: DeliveryState::DeadLetter {
                error: SafeText::new("HTTP 400: invalid routing key"),
            },
            link: None,
        });
        let bursts = vec![
            BurstRow {
                meta: mallory_burst,
                actions: vec![
                    (SafeText::new(&n.burst_action), 4),
                    (SafeText::new("monitor_delete"), 3),
                ],
                window_start: self.ago(14),
                window_end: self.ago(4),
            },
            BurstRow {
                meta: frank_burst,
                actions: vec![(SafeText::new("monitor_delete"), 1)],
                window_start: self.ago(100),
                window_end: self.ago(90),
            },
        ];
        let mut ci = self.meta("token:ci", &n.ci, Severity::Info, 300);
        ci.deliveries.push(delivered(
            Sink::Linear,
            Some(("SEC-99", "https://linear.app/acme/issue/SEC-99")),
        ));
        let tokens = vec![
            TokenRow {
                meta: self.meta("token:deploy", &n.mallory, Severity::High, 12),
                token_name: SafeText::new(&n.token),
                scope: SafeText::new(&n.scope),
                risk: ScopeRisk::Broad,
                archive_key: None,
            },
            TokenRow {
                meta: ci,
                token_name: SafeText::new("ci-read"),
                scope: SafeText::new("read dns"),
                risk: ScopeRisk::Read,
                archive_key: Some(SafeText::new("soc-tui/tokens/2026/11/21/ci.json")),
            },
            TokenRow {
                meta: self.meta("token:odd", &n.dave, Severity::Medium, 200),
                token_name: SafeText::new("legacy-sync"),
                scope: SafeText::new("custom policy (unparsed)"),
                risk: ScopeRisk::Unknown,
                archive_key: None,
            },
        ];
        let mallory = ActorKey::new(n.mallory.clone());
        let timeline = self.timeline(&mallory);
        let ids: Vec<EventId> = timeline.rows.iter().map(|r| r.event_id.clone()).collect();
        let cite = |i: usize| ids.get(i).cloned().into_iter().collect::<Vec<_>>();
        let fields = DraftFields {
            verdict: Verdict::LikelyMalicious,
            confidence: 0.91,
            summary: SafeText::multiline(&n.summary),
            next_step: SafeText::multiline(
                "Revoke token deploy-all, remove the Datadog Admin grant, restore prod-5xx.",
            ),
            free_text: SafeText::multiline(""),
        };
        let draft12 = DraftView {
            id: DraftId::new("inv-12"),
            label: SafeText::new("INV-12"),
            actor: mallory.clone(),
            fields: fields.clone(),
            ai_original: fields,
            indicators: vec![
                Indicator {
                    label: SafeText::new("credential"),
                    kind: MarkerKind::Credential,
                    event_ids: cite(0),
                },
                Indicator {
                    label: SafeText::new("privilege"),
                    kind: MarkerKind::Privilege,
                    event_ids: cite(2),
                },
                Indicator {
                    label: SafeText::new("destructive"),
                    kind: MarkerKind::Destructive,
                    event_ids: cite(4),
                },
            ],
            generated_by: SafeText::new("heuristic"),
            status: InvestigationStatus::Draft,
            preview: None,
            deliveries: Vec::new(),
        };
        let frank = ActorKey::new(n.frank.clone());
        let fields11 = DraftFields {
            verdict: Verdict::Misconfiguration,
            confidence: 0.74,
            summary: SafeText::multiline("A Terraform run removed a monitor it no longer manages."),
            next_step: SafeText::multiline("Import the monitor into Terraform."),
            free_text: SafeText::multiline(""),
        };
        let page = delivered(
            Sink::Confluence,
            Some(("SOC-11", "https://wiki.example.com/pages/4211")),
        );
        let mut draft11 = DraftView {
            id: DraftId::new("inv-11"),
            label: SafeText::new("INV-11"),
            actor: frank.clone(),
            fields: fields11.clone(),
            ai_original: fields11.clone(),
            indicators: Vec::new(),
            generated_by: SafeText::new("heuristic"),
            status: InvestigationStatus::Published,
            preview: None,
            deliveries: vec![page.clone()],
        };
        draft11.preview = Some(preview(&draft11));
        let investigations = vec![
            InvestigationRow {
                id: draft12.id.clone(),
                label: draft12.label.clone(),
                actor: mallory.clone(),
                verdict: Verdict::LikelyMalicious,
                confidence: 0.91,
                status: InvestigationStatus::Draft,
                finding: Some(FindingId::new("burst:mallory")),
                updated_at: self.ago(3),
                deliveries: Vec::new(),
            },
            InvestigationRow {
                id: draft11.id.clone(),
                label: draft11.label.clone(),
                actor: frank,
                verdict: Verdict::Misconfiguration,
                confidence: 0.74,
                status: InvestigationStatus::Published,
                finding: Some(FindingId::new("burst:frank")),
                updated_at: self.ago(80),
                deliveries: vec![page],
            },
        ];
        let check = |workflow, last: i64, next: i64| CheckStatus {
            workflow,
            last_run: Some(self.ago(last)),
            next_run: Some(self.now + Duration::minutes(next)),
            last_error: None,
        };
        let mut token_check = check(Workflow::Token, 5, 10);
        token_check.last_error = n.check_error.as_deref().map(SafeText::new);
        let mode = |workflow, mode, origin: &str| WorkflowStatus {
            workflow,
            mode,
            origin: SafeText::new(origin),
        };
        let status = StatusSnapshot {
            checks: vec![
                check(Workflow::Baseline, 12, 48),
                check(Workflow::Burst, 1, 4),
                token_check,
            ],
            workflows: vec![
                mode(Workflow::Baseline, WorkflowMode::DryRun, "config"),
                mode(
                    Workflow::Burst,
                    WorkflowMode::On,
                    "set by alice 2026-11-20 09:15 UTC",
                ),
                mode(Workflow::Token, WorkflowMode::On, "config"),
                mode(Workflow::Investigation, WorkflowMode::DryRun, "config"),
            ],
            rate_limits: vec![RateLimitWait {
                service: SafeText::new("datadog"),
                until: self.now + Duration::seconds(30),
            }],
            outbox_queued: 2,
            outbox_dead: 1,
            lease: LeaseStatus {
                holder: Some(SafeText::new("soc-host:4242")),
                ours: true,
            },
            keychain: KeychainStatus::Available,
        };
        let snapshot = ConsoleSnapshot {
            flagged,
            bursts,
            tokens,
            investigations,
            drafts: vec![draft12, draft11],
            status,
            outbox: self.outbox(),
        };
        FakeData {
            now: self.now,
            snapshot,
            timelines: HashMap::new(),
            sink: None,
            commands: Arc::default(),
        }
        .with_timeline(timeline)
    }

    /// The newest outbox rows: mallory's token ticket and archive object
    /// recorded in dry-run, the burst's incident delivered, a dead ticket.
    fn outbox(&self) -> Vec<OutboxRow> {
        let n = &self.names;
        let row = |id, sink, kind: &str, state, subject: String, age| OutboxRow {
            id,
            sink,
            kind: SafeText::new(kind),
            state,
            subject: SafeText::with_limit(&subject, 200),
            updated_at: self.ago(age),
        };
        vec![
            row(
                14,
                Sink::Linear,
                "ticket",
                DeliveryState::DryRun,
                format!("linear:token:{}:ticket", n.token),
                2,
            ),
            row(
                13,
                Sink::Archive,
                "object",
                DeliveryState::DryRun,
                format!("archive:token:{}:object", n.token),
                2,
            ),
            row(
                12,
                Sink::PagerDuty,
                "trigger",
                DeliveryState::Delivered,
                format!("pagerduty:burst:{}:trigger", n.mallory),
                3,
            ),
            row(
                11,
                Sink::Linear,
                "ticket",
                DeliveryState::DeadLetter {
                    error: SafeText::new("HTTP 400: team not found"),
                },
                format!("linear:baseline:{}:ticket", n.dave),
                40,
            ),
            row(
                10,
                Sink::Confluence,
                "page",
                DeliveryState::Delivered,
                "confluence:INV-11:page".into(),
                80,
            ),
        ]
    }

    /// mallory's 24 hours: the token created, used, roles granted, monitors
    /// deleted, then routine reads.
    fn timeline(&self, actor: &ActorKey) -> VecTimeline {
        let n = &self.names;
        let script: [(Source, &str, String, MarkerKind); 6] = [
            (
                Source::Cloudflare,
                "create",
                format!("api_token \"{}\"", n.token),
                MarkerKind::Credential,
            ),
            (
                Source::Cloudflare,
                "dns_record_update",
                "zone example.com".into(),
                MarkerKind::Other,
            ),
            (
                Source::Datadog,
                "Modified role",
                "\"Datadog Admin\" → bob".into(),
                MarkerKind::Privilege,
            ),
            (
                Source::Cloudflare,
                "waf_rule_delete",
                format!("{} rule 7", n.resource_type),
                MarkerKind::NewResourceType,
            ),
            (
                Source::Datadog,
                "deleted",
                "monitor \"prod-5xx\"".into(),
                MarkerKind::Destructive,
            ),
            (
                Source::Datadog,
                "deleted",
                "monitor \"prod-latency\"".into(),
                MarkerKind::Destructive,
            ),
        ];
        let mut rows = Vec::new();
        let mut raw = HashMap::new();
        for (i, (source, verb, resource, kind)) in script.iter().enumerate() {
            let id = format!("evt-{i:04}");
            let marker = (*kind != MarkerKind::Other).then(|| Marker {
                kind: *kind,
                label: SafeText::new(match kind {
                    MarkerKind::Credential => "credential",
                    MarkerKind::Privilege => "privilege",
                    MarkerKind::Destructive => "destructive",
                    MarkerKind::NewResourceType => "new type",
                    _ => "",
                }),
            });
            // The token created at 0 is used at 1.
            let linked = match i {
                0 => vec![EventId::new("evt-0001")],
                1 => vec![EventId::new("evt-0000")],
                _ => Vec::new(),
            };
            rows.push(TimelineRow {
                event_id: EventId::new(id.clone()),
                time: self.ago(60 - 2 * i as i64),
                source: *source,
                verb: SafeText::new(verb),
                resource: SafeText::new(resource),
                markers: marker.into_iter().collect(),
                linked_event_ids: linked,
            });
            let json = serde_json::json!({
                "id": id,
                "action": {"type": verb, "result": true},
                "actor": {"email": actor.raw(), "ip": "203.0.113.7"},
                "resource": {"type": resource, "name": n.raw_field},
                "when": self.ago(60 - 2 * i as i64).to_rfc3339(),
            });
            raw.insert(id, json.to_string());
        }
        for i in 6..61 {
            let id = format!("evt-{i:04}");
            let source = if i % 3 == 0 {
                Source::Datadog
            } else {
                Source::Cloudflare
            };
            rows.push(TimelineRow {
                event_id: EventId::new(id.clone()),
                time: self.ago(50 - i64::from(u8::try_from(i).unwrap_or(0)) / 2),
                source,
                verb: SafeText::new("read"),
                resource: SafeText::new(&format!("dashboard {i}")),
                markers: Vec::new(),
                linked_event_ids: Vec::new(),
            });
            raw.insert(
                id.clone(),
                format!("{{\"id\":\"{id}\",\"action\":\"read\"}}"),
            );
        }
        rows.sort_by_key(|r| r.time);
        VecTimeline {
            actor: actor.clone(),
            rows,
            raw,
        }
    }
}
