//! The doctor's report: a table for people and a stable JSON document for
//! scripts. Every field passes through the sanitizer first: details carry
//! services' own messages, which are not ours to trust.

use serde::Serialize;

use super::check::{Check, Status};
use crate::sanitize::sanitize_with_limit;

/// Names the JSON layout; bumped only when a field changes meaning.
pub const SCHEMA: &str = "soc-tui.doctor.v1";
const MAX_FIELD_CHARS: usize = 600;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DoctorReport {
    pub schema: &'static str,
    /// The config file the checks read.
    pub config: String,
    /// Configured services that do not work (statuses other than `ok` and `not_configured`).
    pub failed: usize,
    pub checks: Vec<Check>,
}

impl DoctorReport {
    pub fn new(config: impl Into<String>, checks: Vec<Check>) -> DoctorReport {
        let checks: Vec<Check> = checks.into_iter().map(sanitized).collect();
        DoctorReport {
            schema: SCHEMA,
            config: sanitize_with_limit(&config.into(), MAX_FIELD_CHARS).into_owned(),
            failed: checks.iter().filter(|c| c.status.is_failure()).count(),
            checks,
        }
    }

    pub fn all_passed(&self) -> bool {
        self.failed == 0
    }

    pub fn json(&self) -> serde_json::Value {
        // Every field is a string, number or list of them: this cannot fail.
        serde_json::to_value(self).unwrap_or(serde_json::Value::Null)
    }

    /// The table: one line per check, the fix indented below a failure.
    pub fn table(&self) -> String {
        let width = |f: fn(&Check) -> usize, header: &str| {
            self.checks
                .iter()
                .map(f)
                .chain([header.len()])
                .max()
                .unwrap_or(0)
        };
        let service_w = width(|c| c.service.chars().count(), "SERVICE");
        let target_w = width(|c| c.target.chars().count().min(40), "TARGET");
        let status_w = width(|c| c.status.label().len(), "STATUS");
        let mut out = format!(
            "{:<service_w$}  {:<target_w$}  {:<status_w$}  DETAIL\n",
            "SERVICE", "TARGET", "STATUS"
        );
        let indent = service_w + target_w + status_w + 6;
        for check in &self.checks {
            out.push_str(&format!(
                "{:<service_w$}  {:<target_w$}  {:<status_w$}  {}\n",
                check.service,
                shorten(&check.target, 40),
                check.status.label(),
                check.detail
            ));
            if let Some(fix) = &check.fix
                && check.status != Status::Ok
            {
                out.push_str(&format!("{:indent$}fix: {fix}\n", ""));
            }
        }
        out.push('\n');
        out.push_str(&match self.failed {
            0 => "every configured service works\n".to_owned(),
            1 => "1 configured service needs attention (see fix above)\n".to_owned(),
            n => format!("{n} configured services need attention (see the fixes above)\n"),
        });
        out
    }
}

fn sanitized(check: Check) -> Check {
    let clean = |text: &str| sanitize_with_limit(text, MAX_FIELD_CHARS).into_owned();
    Check {
        service: clean(&check.service),
        target: clean(&check.target),
        status: check.status,
        detail: clean(&check.detail),
        fix: check.fix.as_deref().map(clean),
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let kept: String = text.chars().take(max.saturating_sub(1)).collect();
        format!("{kept}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report() -> DoctorReport {
        DoctorReport::new(
            "/home/a/.config/soc-tui/config.toml",
            vec![
                Check::ok("cloudflare", "account 0123", "audit logs readable"),
                Check::new(
                    "confluence",
                    "space SEC",
                    Status::Misconfigured,
                    "no space\u{1b}[2J SEC\u{202e}",
                )
                .with_fix("check confluence.space_key"),
                Check::not_configured("linear", "no team_id", "[linear] team_id"),
            ],
        )
    }

    #[test]
    fn the_table_names_each_problem_with_its_fix_and_counts_failures() {
        let report = report();
        assert_eq!(report.failed, 1);
        assert!(!report.all_passed());
        let table = report.table();
        assert!(table.starts_with("SERVICE"), "{table}");
        assert!(table.contains("misconfigured"), "{table}");
        assert!(table.contains("fix: check confluence.space_key"), "{table}");
        assert!(
            table.contains("1 configured service needs attention"),
            "{table}"
        );
        assert!(
            !table.chars().any(|c| c == '\u{1b}' || c == '\u{202e}'),
            "{table:?}"
        );
    }

    #[test]
    fn the_json_document_is_stable() {
        let json = report().json();
        assert_eq!(json["schema"], SCHEMA);
        assert_eq!(json["failed"], 1);
        let checks = json["checks"].as_array().unwrap();
        assert_eq!(checks.len(), 3);
        assert_eq!(checks[0]["service"], "cloudflare");
        assert_eq!(checks[0]["status"], "ok");
        assert_eq!(checks[0]["fix"], serde_json::Value::Null);
        assert_eq!(checks[1]["status"], "misconfigured");
        assert_eq!(checks[2]["status"], "not_configured");
        let keys: Vec<&String> = checks[1].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["detail", "fix", "service", "status", "target"]);
    }
}
