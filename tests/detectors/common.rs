//! Shared helpers: rules, times, captured payloads, request accessors.

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeZone, Utc};
use serde_json::Value;
use soc_tui::detect::rules::{Rules, parse};
use soc_tui::detect::{Finding, PagerDutySeverity, SinkRequest};

pub fn defaults() -> Rules {
    parse(None).unwrap().rules
}

pub fn rules_with(user: &str) -> Rules {
    parse(Some(("test-rules.toml", user))).unwrap().rules
}

/// 2026-11-`day` `h`:00 UTC.
pub fn hour(day: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, day, h, 0, 0).unwrap()
}

pub fn specs_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/specs");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("{} is missing and CI=true", dir.display());
    }
    eprintln!("skipping: {} not found", dir.display());
    None
}

pub fn linear(f: &Finding) -> (&str, &str, u8) {
    let tickets: Vec<_> = f
        .requests
        .iter()
        .filter_map(|r| match r {
            SinkRequest::LinearTicket {
                title,
                body_markdown,
                priority,
                ..
            } => Some((title.as_str(), body_markdown.as_str(), *priority)),
            _ => None,
        })
        .collect();
    assert_eq!(tickets.len(), 1, "expected one Linear ticket in {f:#?}");
    tickets[0]
}

pub fn pagerduty(f: &Finding) -> (&str, PagerDutySeverity, &Value) {
    match f.requests.as_slice() {
        [
            SinkRequest::PagerDutyTrigger {
                summary,
                severity,
                custom_details,
            },
        ] => (summary, *severity, custom_details),
        other => panic!("expected one PagerDuty trigger, got {other:#?}"),
    }
}
