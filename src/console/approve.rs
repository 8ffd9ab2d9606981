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
