//! Turning the analyst's reviewed fields into the approved report, and the
//! before/after of what they changed for the analyst log.
//!
//! Verdict, confidence and summary replace the report's own; the report has
//! no free-text next step or note, so edits of those become notes
//! (`Analyst's next step: ...`), which the console reads back as fields.

use serde_json::{Map, Value, json};

use super::drafts::{ANALYST_NEXT_STEP, ANALYST_NOTE, fields_of, verdict_from_console};
use crate::investigate::report::Report;
use crate::tui::model::DraftFields;

/// Confidence is edited as text with two decimals; closer than this is unchanged.
const CONFIDENCE_EPSILON: f64 = 5e-4;

/// What the analyst changed: JSON objects of the changed fields, before and after.
#[derive(Debug, Clone, PartialEq)]
pub struct Changes {
    pub before: Value,
    pub after: Value,
}

/// Applies `fields` to `report`; `None` when nothing changed. Refuses a
/// verdict the report cannot hold or a confidence outside 0..=1.
pub fn apply(report: &mut Report, fields: &DraftFields) -> Result<Option<Changes>, String> {
    let shown = fields_of(&report.assessment, &report.notes);
    let mut before = Map::new();
    let mut after = Map::new();
    if fields.verdict != shown.verdict {
        let verdict = verdict_from_console(fields.verdict)?;
        before.insert("verdict".into(), json!(report.assessment.verdict));
        after.insert("verdict".into(), json!(verdict));
        report.assessment.verdict = verdict;
    }
    let confidence = f64::from(fields.confidence);
    if !(0.0..=1.0).contains(&confidence) {
        return Err(format!("confidence {confidence} is not between 0 and 1"));
    }
    if (confidence - report.assessment.confidence).abs() > CONFIDENCE_EPSILON {
        // Two decimals, as edited: no float noise in the report.
        let confidence = (confidence * 100.0).round() / 100.0;
        before.insert("confidence".into(), json!(report.assessment.confidence));
        after.insert("confidence".into(), json!(confidence));
        report.assessment.confidence = confidence;
    }
    if fields.summary != shown.summary {
        before.insert("summary".into(), json!(report.assessment.summary));
        after.insert("summary".into(), json!(fields.summary.as_str()));
        report.assessment.summary = fields.summary.as_str().to_owned();
    }
    if fields.next_step != shown.next_step {
        before.insert("next_step".into(), json!(shown.next_step.as_str()));
        after.insert("next_step".into(), json!(fields.next_step.as_str()));
        report.notes.retain(|n| !n.starts_with(ANALYST_NEXT_STEP));
        if !fields.next_step.is_empty() {
            report
                .notes
                .push(format!("{ANALYST_NEXT_STEP}{}", fields.next_step));
        }
    }
    if fields.free_text != shown.free_text {
        before.insert("free_text".into(), json!(shown.free_text.as_str()));
        after.insert("free_text".into(), json!(fields.free_text.as_str()));
        report.notes.retain(|n| !n.starts_with(ANALYST_NOTE));
        report.notes.extend(
            fields
                .free_text
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| format!("{ANALYST_NOTE}{l}")),
        );
    }
    if after.is_empty() {
        return Ok(None);
    }
    Ok(Some(Changes {
        before: Value::Object(before),
        after: Value::Object(after),
    }))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::investigate::verdict::Verdict as ReportVerdict;
    use crate::tui::model::{SafeText, Verdict};

    fn report() -> Report {
        let assessment = json!({
            "verdict": "likely_malicious", "confidence": 0.91,
            "summary": "Broad token at 03:00\u{1b}[2J", "indicators": [], "factors": [],
            "next_steps": [{"action": "revoke_token", "token": "deploy-all", "event_ref": "cf:1"}]
        });
        let at = "2026-11-20T03:00:00Z";
        serde_json::from_value(json!({
            "id": 1, "actor": "mallory@example.com", "identity": {
                "emails": [], "cloudflare_ids": [], "datadog_ids": [], "other_ids": [], "provenance": []},
            "window": {"at": at, "from": at, "to": at},
            "trigger": {"kind": "cli", "reference": null, "detector": null, "source": null,
                        "action": null, "details": null},
            "generated_at": at, "assessment": assessment, "heuristic": assessment,
            "engine": {"verdict_from": "heuristic", "agent": null, "fallback": null,
                       "untrusted_output": false, "untrusted_reason": null,
                       "model_verdict": null, "model_confidence": null},
            "stats": {"events": 0, "cloudflare": 0, "datadog": 0, "marked": 0, "duplicates": 0},
            "timeline": [], "timeline_omitted": 0, "sequences": [], "source_findings": [],
            "notes": ["Live query failed."]
        }))
        .unwrap()
    }

    #[test]
    fn the_fields_as_shown_change_nothing() {
        let mut r = report();
        let shown = fields_of(&r.assessment, &r.notes);
        assert_eq!(
            shown.next_step.as_str(),
            "Revoke token \"deploy-all\" (created in cf:1)"
        );
        assert_eq!(apply(&mut r, &shown), Ok(None));
        assert_eq!(r, report(), "a sanitized summary shown back is not an edit");
    }

    #[test]
    fn edits_replace_the_assessment_and_become_notes_where_the_report_has_no_field() {
        let mut r = report();
        let mut fields = fields_of(&r.assessment, &r.notes);
        fields.verdict = Verdict::Benign;
        fields.confidence = 0.3;
        fields.next_step = SafeText::multiline("Ask Mallory");
        fields.free_text = SafeText::multiline("Change ticket CHG-7\n\nApproved by the lead");
        let changes = apply(&mut r, &fields).unwrap().unwrap();
        assert_eq!(r.assessment.verdict, ReportVerdict::Benign);
        assert_eq!(r.assessment.confidence, 0.3);
        assert_eq!(
            r.heuristic.verdict,
            ReportVerdict::LikelyMalicious,
            "kept for comparison"
        );
        assert_eq!(
            r.notes,
            [
                "Live query failed.",
                "Analyst's next step: Ask Mallory",
                "Analyst's note: Change ticket CHG-7",
                "Analyst's note: Approved by the lead",
            ]
        );
        assert_eq!(changes.before["verdict"], "likely_malicious");
        assert_eq!(changes.after["verdict"], "benign");
        assert_eq!(changes.after["next_step"], "Ask Mallory");
        assert!(
            changes.before.get("summary").is_none(),
            "unchanged fields stay out"
        );
        // Read back, the fields are what the analyst wrote.
        let back = fields_of(&r.assessment, &r.notes);
        assert_eq!(back.next_step, fields.next_step);
        assert_eq!(
            back.free_text.as_str(),
            "Change ticket CHG-7\nApproved by the lead"
        );
    }

    #[test]
    fn verdicts_and_confidences_a_report_cannot_hold_are_refused() {
        let mut r = report();
        let mut fields = fields_of(&r.assessment, &r.notes);
        fields.verdict = Verdict::Inconclusive;
        assert!(
            apply(&mut r, &fields)
                .unwrap_err()
                .contains("not inconclusive")
        );
        let mut fields = fields_of(&r.assessment, &r.notes);
        fields.confidence = 1.5;
        assert!(
            apply(&mut r, &fields)
                .unwrap_err()
                .contains("not between 0 and 1")
        );
        assert_eq!(r, report(), "nothing applied");
    }
}
