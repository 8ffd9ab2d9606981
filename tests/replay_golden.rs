//! Replay golden test: 30 days of synthetic audit history for 40 actors
//! (src/synth) with planted anomalies, replayed through all three checks;
//! the exact set of findings (dedup key, severity, rules) must match
//! `tests/golden/replay_30d.txt`.
//!
//! Planted, and each must fire: a volume spike, a resource type the actor
//! never changed, a Datadog role-grant burst with monitor deletions, and a
//! broad API token created at night by an issuer who is not approved.
//! Look-alikes that must not fire on the baseline: the nightly CI job (same
//! volume every night) and the admins' ordinary days.
//!
//! After a deliberate change to the generator or the detectors, regenerate
//! with `SOC_TUI_UPDATE_GOLDEN=1 cargo test --test replay_golden` and review
//! the diff of the golden file: every added or removed line is a finding
//! that appears or disappears.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::OnceLock;

use soc_tui::detect::Severity;
use soc_tui::detect::rules::{Rules, parse};
use soc_tui::engine::Cadences;
use soc_tui::ingest::ingest_reader;
use soc_tui::replay::{ReplayFinding, ReplayReport, replay_store};
use soc_tui::store::{Sink, Store};
use soc_tui::synth::{
    Anomaly, Generator, Params, Persona, PlantedAnomaly, Shape, Verb, Volume, write_generator,
};

const SEED: u64 = 20261121;
const GOLDEN: &str = "tests/golden/replay_30d.txt";
/// Days of history before the replayed span (the rules' cold start).
const WARM_UP_DAYS: i64 = 8;

struct Scenario {
    generator: Generator,
    /// Actor keys by role in the scenario.
    spiker: String,
    new_type: String,
    burster: String,
    token_issuer: String,
    ci_jobs: Vec<String>,
    admins: Vec<String>,
}

fn scenario() -> Scenario {
    let base = Generator::new(Params::new(SEED, 40, 30, Volume::PerActorPerDay(20.0))).unwrap();
    let actors = base.actors().to_vec();
    let of = |persona: Persona| {
        actors
            .iter()
            .filter(move |a| a.persona == persona)
            .map(|a| a.index)
            .collect::<Vec<_>>()
    };
    let (admins, engineers, ci_jobs) = (
        of(Persona::Admin),
        of(Persona::Engineer),
        of(Persona::CiJob),
    );
    let spiker = engineers[0];
    let new_type = engineers[1];
    let burster = admins[0];
    let token_issuer = engineers[2];
    let profile = |i: u32| &actors[i as usize];
    // A weekday in the last week, inside each person's working day.
    let work_hour = |i: u32| profile(i).utc_hour_for_local(11);
    let night_hour = profile(token_issuer).utc_hour_for_local(3);
    assert!(
        !profile(new_type).touches("role"),
        "the new-type actor must never touch roles in ordinary activity"
    );
    let mut params = Params::new(SEED, 40, 30, Volume::PerActorPerDay(20.0));
    params.anomalies = vec![
        Anomaly::VolumeSpike {
            actor: spiker,
            day: 24,
            hour: work_hour(spiker),
            factor: 30.0,
        },
        Anomaly::NewResourceType {
            actor: new_type,
            day: 25,
            hour: work_hour(new_type),
            verb: Verb::RoleModify,
            count: 2,
        },
        Anomaly::DatadogBurst {
            actor: burster,
            day: 26,
            hour: work_hour(burster),
            role_grants: 4,
            monitor_deletions: 2,
        },
        Anomaly::BroadTokenCreation {
            actor: token_issuer,
            day: 27,
            hour: night_hour,
            token_name: "deploy-all".into(),
            ip: None,
            shape: Shape::CloudflareV2,
        },
    ];
    let key = |i: u32| profile(i).actor_key();
    Scenario {
        spiker: key(spiker),
        new_type: key(new_type),
        burster: key(burster),
        token_issuer: key(token_issuer),
        ci_jobs: ci_jobs.iter().map(|&i| key(i)).collect(),
        admins: admins.iter().map(|&i| key(i)).collect(),
        generator: Generator::new(params).unwrap(),
    }
}

/// A tuned deployment's rules, as an analyst would replay them: the admins
/// are the approved token issuers and their routine write tokens are
/// allow-listed (archived, reported as suppressed, no ticket), and a single
/// monitor deletion or user invitation is routine (two within the window
/// make a burst).
fn golden_rules(s: &Scenario) -> Rules {
    let admins: Vec<String> = s.admins.iter().map(|a| format!("{a:?}")).collect();
    let admins = admins.join(", ");
    let user = format!(
        "[tokens]\napproved_issuers = [{admins}]\n\
         [allow.\"token.write\"]\nactors = [{admins}]\n\
         [burst.actions.monitor_delete]\nthreshold = 2\n\
         [burst.actions.user_invite]\nthreshold = 2\n"
    );
    parse(Some(("golden-rules.toml", &user))).unwrap().rules
}

/// Generated and replayed once for all tests of this file.
fn replayed() -> &'static (Scenario, ReplayReport) {
    static ONCE: OnceLock<(Scenario, ReplayReport)> = OnceLock::new();
    ONCE.get_or_init(|| {
        let s = scenario();
        let report = replay(&s);
        (s, report)
    })
}

fn replay(s: &Scenario) -> ReplayReport {
    let mut ndjson = Vec::new();
    write_generator(&mut ndjson, &s.generator).unwrap();
    let mut store = Store::open_in_memory().unwrap();
    let summary = ingest_reader(&mut store, ndjson.as_slice(), "synth", &|_| {}).unwrap();
    assert_eq!(summary.rejected_total, 0, "{:?}", summary.rejected);
    assert_eq!(summary.new, s.generator.total_events());
    let cadences = Cadences {
        baseline: std::time::Duration::from_secs(3600),
        bursts: std::time::Duration::from_secs(300),
        tokens: std::time::Duration::from_secs(600),
    };
    // The first week is history only: every actor is in cold start there.
    let (start, end) = (
        s.generator.start() + chrono::Duration::days(WARM_UP_DAYS),
        s.generator.end(),
    );
    replay_store(&mut store, &golden_rules(s), &cadences, start, end).unwrap()
}

fn golden_lines(report: &ReplayReport) -> Vec<String> {
    report
        .findings
        .iter()
        .map(|f| {
            let sinks: Vec<String> = f
                .requests
                .iter()
                .map(|r| format!("{}:{}", r.sink, r.kind))
                .collect();
            let silenced: Vec<&str> = f
                .finding
                .suppressed
                .iter()
                .map(|h| h.rule.as_str())
                .collect();
            let silenced = if silenced.is_empty() {
                String::new()
            } else {
                format!(" suppressed [{}]", silenced.join(","))
            };
            format!(
                "{} {} [{}]{silenced} -> [{}]",
                f.finding.dedup_key,
                f.finding.severity,
                f.finding.rules.join(","),
                sinks.join(",")
            )
        })
        .collect()
}

fn planted<'a>(s: &'a Scenario, kind: &str) -> &'a PlantedAnomaly {
    s.generator
        .planted()
        .iter()
        .find(|p| p.anomaly.kind() == kind)
        .unwrap()
}

#[test]
fn replay_of_30_days_raises_exactly_the_golden_findings() {
    let (_, report) = replayed();
    let lines = golden_lines(report);
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(GOLDEN);
    if std::env::var("SOC_TUI_UPDATE_GOLDEN").as_deref() == Ok("1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    }
    let expected: Vec<String> = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (generate it with SOC_TUI_UPDATE_GOLDEN=1)",
                path.display()
            )
        })
        .lines()
        .map(str::to_string)
        .collect();
    let (got, want): (BTreeSet<_>, BTreeSet<_>) =
        (lines.iter().collect(), expected.iter().collect());
    let missing: Vec<_> = want.difference(&got).collect();
    let extra: Vec<_> = got.difference(&want).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "findings differ from {GOLDEN}\nmissing: {missing:#?}\nunexpected: {extra:#?}"
    );
    assert_eq!(lines, expected, "same findings, different order");
}

fn find<'a>(report: &'a ReplayReport, key: &str) -> &'a ReplayFinding {
    report
        .findings
        .iter()
        .find(|f| f.finding.dedup_key == key)
        .unwrap_or_else(|| panic!("no finding {key}"))
}

fn sinks(f: &ReplayFinding) -> Vec<Sink> {
    f.requests.iter().map(|r| r.sink).collect()
}

/// Whole-second RFC 3339, as dedup keys spell times.
fn key_time(t: chrono::DateTime<chrono::Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

fn hour_of(t: chrono::DateTime<chrono::Utc>) -> String {
    key_time(soc_tui::detect::baseline::hour_start(t))
}

#[test]
fn every_planted_anomaly_fires_and_the_look_alikes_do_not() {
    let (s, report) = replayed();

    let spike = planted(s, "volume_spike");
    let f = find(
        report,
        &format!("baseline:{}:{}", s.spiker, hour_of(spike.first)),
    );
    assert!(
        f.finding.rules.contains(&"baseline.volume".to_string()),
        "{:?}",
        f.finding.rules
    );
    assert_eq!(f.finding.severity, Severity::Medium);
    assert_eq!(sinks(f), [Sink::Linear]);

    let new_type = planted(s, "new_resource_type");
    let f = find(
        report,
        &format!("baseline:{}:{}", s.new_type, hour_of(new_type.first)),
    );
    assert_eq!(f.finding.rules, ["baseline.new_type"]);
    assert_eq!(f.finding.evidence["new_types"], serde_json::json!(["role"]));
    assert_eq!(f.finding.severity, Severity::Low);

    let burst = planted(s, "datadog_burst");
    let grants = report
        .findings
        .iter()
        .find(|f| {
            f.finding
                .dedup_key
                .starts_with(&format!("burst:{}:role_grant:", s.burster))
        })
        .expect("role-grant burst");
    assert_eq!(grants.finding.severity, Severity::High);
    assert_eq!(grants.finding.evidence["count"], 4);
    assert!(
        grants
            .finding
            .event_ids
            .iter()
            .all(|id| burst.event_ids.contains(id))
    );
    assert_eq!(sinks(grants), [Sink::PagerDuty]);
    let deletions = report
        .findings
        .iter()
        .find(|f| {
            f.finding
                .dedup_key
                .starts_with(&format!("burst:{}:monitor_delete:", s.burster))
        })
        .expect("monitor deletions");
    assert_eq!(deletions.finding.evidence["count"], 2);
    assert!(
        deletions.finding.window_start >= burst.first && deletions.finding.window_end <= burst.last
    );

    let token = planted(s, "broad_token_creation");
    let f = find(report, &format!("token:{}", token.event_ids[0]));
    assert_eq!(f.finding.actor, s.token_issuer);
    assert_eq!(f.finding.severity, Severity::High);
    assert_eq!(
        f.finding.rules,
        ["token.broad", "token.write", "token.unapproved_issuer"]
    );
    assert_eq!(sinks(f), [Sink::Archive, Sink::Linear]);

    // Look-alikes: the nightly CI jobs (a big run at the same minute every
    // night) and the admins' ordinary days never flag on volume; the only
    // volume finding in the whole month is the planted spike.
    let volume: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.finding.rules.iter().any(|r| r == "baseline.volume"))
        .map(|f| f.finding.actor.as_str())
        .collect();
    assert_eq!(volume, [s.spiker.as_str()]);
    assert!(!s.ci_jobs.is_empty() && !s.admins.is_empty());
    for f in &report.findings {
        assert!(
            !s.ci_jobs.contains(&f.finding.actor),
            "a CI job raised {}",
            f.finding.dedup_key
        );
    }
}
