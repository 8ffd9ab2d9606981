//! Synthetic actor histories for the investigation tests and benchmark.
//! Each scenario is the actor's usual history before the window plus what
//! happens around the anomaly time `at`.
#![allow(dead_code)]

use chrono::{DateTime, Datelike, TimeDelta, TimeZone, Timelike, Utc, Weekday};
use soc_tui::model::{Action, ActionKind, Actor, AuditEvent, Outcome, Resource, Source};

pub const OFFICE_IP: &str = "10.1.1.1";
pub const NEW_IP: &str = "203.0.113.66";

/// Thursday 2026-11-19 03:00 UTC.
pub fn night() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 19, 3, 0, 0).unwrap()
}

/// Thursday 2026-11-19 14:00 UTC.
pub fn afternoon() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 19, 14, 0, 0).unwrap()
}

pub struct Ev {
    event: AuditEvent,
}

pub fn ev(source: Source, id: &str, time: DateTime<Utc>, email: &str) -> Ev {
    Ev {
        event: AuditEvent {
            source,
            id: id.to_owned(),
            time,
            actor: Actor {
                id: Some(match source {
                    Source::Cloudflare => format!("cf-{}", email.split('@').next().unwrap_or("x")),
                    Source::Datadog => format!("dd-{}", email.split('@').next().unwrap_or("x")),
                }),
                email: Some(email.to_owned()),
                kind: Some("user".into()),
                ip: Some(OFFICE_IP.into()),
                user_agent: Some("Mozilla/5.0 office".into()),
                token_id: None,
                token_name: None,
            },
            action: Action {
                verb: "update".into(),
                kind: ActionKind::Update,
                description: None,
            },
            resource: Resource::default(),
            outcome: Outcome::Success,
            account: None,
            raw: "{}".into(),
        },
    }
}

impl Ev {
    pub fn action(mut self, verb: &str, kind: ActionKind) -> Ev {
        self.event.action.verb = verb.into();
        self.event.action.kind = kind;
        self
    }
    pub fn resource(mut self, kind: &str, name: &str) -> Ev {
        self.event.resource.kind = Some(kind.into());
        self.event.resource.name = Some(name.into());
        self
    }
    pub fn ip(mut self, ip: &str) -> Ev {
        self.event.actor.ip = Some(ip.into());
        self
    }
    pub fn agent(mut self, agent: &str) -> Ev {
        self.event.actor.user_agent = Some(agent.into());
        self
    }
    pub fn token(mut self, id: &str, name: &str) -> Ev {
        self.event.actor.token_id = Some(id.into());
        self.event.actor.token_name = Some(name.into());
        self
    }
    pub fn raw(mut self, raw: &str) -> Ev {
        self.event.raw = raw.into();
        self
    }
    pub fn failed(mut self) -> Ev {
        self.event.outcome = Outcome::Failure;
        self
    }
    pub fn done(self) -> AuditEvent {
        self.event
    }
}

/// `days` of weekday office activity (09:00-17:00 UTC, office IP) before `before`.
pub fn office_history(email: &str, before: DateTime<Utc>, days: i64) -> Vec<AuditEvent> {
    let mut out = Vec::new();
    for d in 2..=days + 1 {
        let day = before - TimeDelta::days(d);
        if matches!(day.weekday(), Weekday::Sat | Weekday::Sun) {
            continue;
        }
        for h in [9, 10, 11, 13, 14, 15, 16] {
            let t = day.with_hour(h).unwrap().with_minute(15).unwrap();
            let source = if h % 2 == 0 {
                Source::Datadog
            } else {
                Source::Cloudflare
            };
            out.push(
                ev(source, &format!("hist-{email}-{d}-{h}"), t, email)
                    .resource("dashboard", "service overview")
                    .done(),
            );
        }
    }
    out
}

/// A broad Cloudflare v2 token creation entry.
pub fn broad_token_raw(id: &str, name: &str) -> String {
    format!(
        r#"{{"id":"ct","action":{{"type":"create","result":"success"}},"resource":{{"product":"api_tokens","type":"api_token","id":"{id}","response":{{"result":{{"id":"{id}","name":"{name}","policies":[{{"effect":"allow","permission_groups":[{{"name":"Zone Write"}},{{"name":"DNS Write"}}],"resources":{{"com.cloudflare.api.account.zone.*":"*"}}}}]}}}}}}}}"#
    )
}

/// mallory.ops: office worker; at 03:00 a broad token is created from a new
/// IP, used from it, then Datadog roles are granted and monitors deleted.
pub fn compromised_admin() -> (String, DateTime<Utc>, Vec<AuditEvent>) {
    let email = "mallory.ops@example.com";
    let at = night();
    let mut events = office_history(email, at, 14);
    let t = |m: i64| at + TimeDelta::minutes(m);
    events.push(
        ev(Source::Cloudflare, "cf-token-create", t(2), email)
            .action("create", ActionKind::Create)
            .resource("api_token", "deploy-all")
            .ip(NEW_IP)
            .agent("python-requests/2.31")
            .raw(&broad_token_raw("tok-deploy-all", "deploy-all"))
            .done(),
    );
    for i in 0..3 {
        events.push(
            ev(
                Source::Cloudflare,
                &format!("cf-token-use-{i}"),
                t(5 + i),
                email,
            )
            .action("update", ActionKind::Update)
            .resource("dns_record", &format!("www{i}.example.com"))
            .ip(NEW_IP)
            .agent("python-requests/2.31")
            .token("tok-deploy-all", "deploy-all")
            .done(),
        );
    }
    for (i, who) in ["bob", "eve", "trent"].iter().enumerate() {
        events.push(
            ev(
                Source::Datadog,
                &format!("dd-role-{i}"),
                t(10 + i as i64),
                email,
            )
            .action("modified", ActionKind::Update)
            .resource("role", &format!("Datadog Admin Role ({who})"))
            .ip(NEW_IP)
            .done(),
        );
    }
    for i in 0..4 {
        events.push(
            ev(
                Source::Datadog,
                &format!("dd-monitor-del-{i}"),
                t(20 + i),
                email,
            )
            .action("deleted", ActionKind::Delete)
            .resource("monitor", &format!("prod-alert-{i}"))
            .ip(NEW_IP)
            .done(),
        );
    }
    (email.to_owned(), t(2), events)
}

/// frank: deletes a monitor by mistake and re-creates it, from the office, at 14:00.
pub fn clumsy_change() -> (String, DateTime<Utc>, Vec<AuditEvent>) {
    let email = "frank.m@example.com";
    let at = afternoon();
    let mut events = office_history(email, at, 14);
    events.push(
        ev(
            Source::Datadog,
            "dd-frank-edit",
            at - TimeDelta::minutes(20),
            email,
        )
        .action("modified", ActionKind::Update)
        .resource("monitor", "prod-5xx")
        .done(),
    );
    events.push(
        ev(Source::Datadog, "dd-frank-del", at, email)
            .action("deleted", ActionKind::Delete)
            .resource("monitor", "prod-5xx")
            .done(),
    );
    events.push(
        ev(
            Source::Datadog,
            "dd-frank-create",
            at + TimeDelta::minutes(6),
            email,
        )
        .action("created", ActionKind::Create)
        .resource("monitor", "prod-5xx")
        .done(),
    );
    (email.to_owned(), at, events)
}

/// ci-bot: updates dashboards every night at 02:00 from its runner, as usual.
pub fn nightly_job() -> (String, DateTime<Utc>, Vec<AuditEvent>) {
    let email = "ci-bot@example.com";
    let at = Utc.with_ymd_and_hms(2026, 11, 19, 2, 0, 0).unwrap();
    let mut events = Vec::new();
    for d in 0..=14 {
        for m in 0..5 {
            let t = at - TimeDelta::days(d) + TimeDelta::minutes(m);
            events.push(
                ev(Source::Datadog, &format!("dd-ci-{d}-{m}"), t, email)
                    .action("modified", ActionKind::Update)
                    .resource("dashboard", &format!("nightly report {m}"))
                    .ip("10.9.9.9")
                    .agent("terraform/1.9")
                    .done(),
            );
        }
    }
    (email.to_owned(), at, events)
}

/// `n` ordinary events for `email` spread over the 24 hours before `at`
/// (from the office IP, alternating sources), for load tests.
pub fn busy_window(email: &str, at: DateTime<Utc>, n: usize) -> Vec<AuditEvent> {
    let step_ms = 24 * 3600 * 1000 / n.max(1) as i64;
    (0..n)
        .map(|i| {
            let t = at - TimeDelta::hours(24) + TimeDelta::milliseconds(step_ms * i as i64);
            let source = if i % 2 == 0 { Source::Cloudflare } else { Source::Datadog };
            let raw = format!(
                r#"{{"id":"busy-{i}","action":{{"type":"update"}},"resource":{{"type":"dns_record","name":"r{}.example.com"}},"padding":"{}"}}"#,
                i % 50,
                "x".repeat(600)
            );
            ev(source, &format!("busy-{i}"), t, email)
                .resource("dns_record", &format!("r{}.example.com", i % 50))
                .raw(&raw)
                .done()
        })
        .collect()
}

/// oscar.oncall: an admin who grants Datadog roles and deletes monitors
/// every few days, from the office, in office hours; at 14:00 a burst of the
/// same (three grants, two deletions) from the office IP.
pub fn routine_admin() -> (String, DateTime<Utc>, Vec<AuditEvent>) {
    let email = "oscar.oncall@example.com";
    let at = afternoon();
    let mut events = office_history(email, at, 21);
    for day in [3, 6, 9, 13, 16] {
        let t = at - TimeDelta::days(day) - TimeDelta::hours(2);
        events.push(
            ev(Source::Datadog, &format!("hist-grant-{day}"), t, email)
                .action("modified", ActionKind::Update)
                .resource("role", "Datadog Standard Role")
                .done(),
        );
        events.push(
            ev(
                Source::Datadog,
                &format!("hist-del-{day}"),
                t + TimeDelta::minutes(5),
                email,
            )
            .action("deleted", ActionKind::Delete)
            .resource("monitor", &format!("stale-check-{day}"))
            .done(),
        );
    }
    let t = |m: i64| at + TimeDelta::minutes(m);
    for i in 0..3 {
        events.push(
            ev(Source::Datadog, &format!("dd-grant-{i}"), t(i), email)
                .action("modified", ActionKind::Update)
                .resource("role", &format!("Datadog Standard Role (new hire {i})"))
                .done(),
        );
    }
    for i in 0..2 {
        events.push(
            ev(Source::Datadog, &format!("dd-del-{i}"), t(5 + i), email)
                .action("deleted", ActionKind::Delete)
                .resource("monitor", &format!("old-alert-{i}"))
                .done(),
        );
    }
    (email.to_owned(), at, events)
}
