//! The answer a model must give, and its validation: well-formed JSON of
//! exactly the documented shape, a known verdict, a confidence in 0-1, and
//! indicators that cite only events the model was shown.

use std::collections::HashSet;

use serde::Deserialize;

use super::super::verdict::{Assessment, Indicator, IndicatorSeverity, NextStep, Verdict};
use crate::sanitize::sanitize_with_limit;

/// Longer answers are refused rather than parsed.
pub const MAX_ANSWER_BYTES: usize = 64 * 1024;
const MAX_INDICATORS: usize = 50;
const MAX_TEXT_CHARS: usize = 2000;

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AnswerError {
    #[error("the answer is {0} bytes, over the {MAX_ANSWER_BYTES}-byte limit")]
    TooLong(usize),
    #[error("the answer is not the JSON object asked for: {0}")]
    Malformed(String),
    #[error("the answer's {field} is invalid: {problem}")]
    Invalid { field: String, problem: String },
    #[error("the answer cites event ids that are not in the timeline: {}", .0.join(", "))]
    UnknownEventIds(Vec<String>),
}

/// Every key of the answer object, in the order the prompt lists them. An
/// edited answer-format prompt must still name each one (see `templates`).
pub const ANSWER_KEYS: [&str; 6] = [
    "verdict",
    "confidence",
    "summary",
    "indicators",
    "next_step",
    "instructions_in_data",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Answer {
    verdict: String,
    confidence: f64,
    summary: String,
    indicators: Vec<AnswerIndicator>,
    next_step: AnswerNextStep,
    #[serde(default)]
    instructions_in_data: bool,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerIndicator {
    title: String,
    #[serde(default)]
    severity: Option<String>,
    event_ids: Vec<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct AnswerNextStep {
    action: String,
    #[serde(default)]
    target: Option<String>,
    #[serde(default)]
    detail: Option<String>,
}

/// A validated model answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelAnswer {
    pub assessment: Assessment,
    /// The model says the data addressed it.
    pub instructions_in_data: bool,
}

/// Parses and validates `text` against the refs the prompt contained.
pub fn parse_answer(text: &str, known_refs: &HashSet<String>) -> Result<ModelAnswer, AnswerError> {
    if text.len() > MAX_ANSWER_BYTES {
        return Err(AnswerError::TooLong(text.len()));
    }
    let body = strip_code_fence(text.trim());
    let answer: Answer = serde_json::from_str(body).map_err(|e| {
        AnswerError::Malformed(sanitize_with_limit(&e.to_string(), 200).into_owned())
    })?;
    let invalid = |field: &str, problem: String| AnswerError::Invalid {
        field: field.to_owned(),
        problem,
    };
    let verdict: Verdict = answer.verdict.parse().map_err(|e| invalid("verdict", e))?;
    if !(0.0..=1.0).contains(&answer.confidence) {
        return Err(invalid(
            "confidence",
            format!("{} is not between 0 and 1", answer.confidence),
        ));
    }
    bounded("summary", &answer.summary)?;
    if answer.indicators.len() > MAX_INDICATORS {
        return Err(invalid(
            "indicators",
            format!(
                "{} entries, at most {MAX_INDICATORS}",
                answer.indicators.len()
            ),
        ));
    }
    let mut unknown = Vec::new();
    let mut indicators = Vec::with_capacity(answer.indicators.len());
    for (i, item) in answer.indicators.into_iter().enumerate() {
        bounded(&format!("indicators[{i}].title"), &item.title)?;
        if item.event_ids.is_empty() {
            return Err(invalid(
                &format!("indicators[{i}].event_ids"),
                "cites no event".into(),
            ));
        }
        for id in &item.event_ids {
            if !known_refs.contains(id) && !unknown.contains(id) {
                unknown.push(id.clone());
            }
        }
        let severity = match item.severity.as_deref() {
            None | Some("medium") => IndicatorSeverity::Medium,
            Some("low") => IndicatorSeverity::Low,
            Some("high") => IndicatorSeverity::High,
            Some(other) => {
                return Err(invalid(
                    &format!("indicators[{i}].severity"),
                    format!(
                        "{:?} is not low, medium or high",
                        sanitize_with_limit(other, 40)
                    ),
                ));
            }
        };
        indicators.push(Indicator {
            title: item.title,
            severity,
            event_refs: item.event_ids,
        });
    }
    if !unknown.is_empty() {
        let shown = unknown
            .iter()
            .take(10)
            .map(|id| sanitize_with_limit(id, 80).into_owned())
            .collect();
        return Err(AnswerError::UnknownEventIds(shown));
    }
    let next_step = next_step(answer.next_step, &indicators)?;
    Ok(ModelAnswer {
        assessment: Assessment {
            verdict,
            confidence: answer.confidence,
            summary: answer.summary,
            indicators,
            factors: Vec::new(),
            next_steps: vec![next_step],
        },
        instructions_in_data: answer.instructions_in_data,
    })
}

fn bounded(field: &str, text: &str) -> Result<(), AnswerError> {
    if text.chars().count() > MAX_TEXT_CHARS {
        return Err(AnswerError::Invalid {
            field: field.to_owned(),
            problem: format!("longer than {MAX_TEXT_CHARS} characters"),
        });
    }
    Ok(())
}

fn next_step(step: AnswerNextStep, indicators: &[Indicator]) -> Result<NextStep, AnswerError> {
    let target = step
        .target
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty() && t != "null");
    let cited = indicators
        .iter()
        .flat_map(|i| i.event_refs.first())
        .next()
        .cloned()
        .unwrap_or_default();
    let missing = |action: &str| AnswerError::Invalid {
        field: "next_step.target".into(),
        problem: format!("{action} needs a target"),
    };
    if let Some(t) = &target {
        bounded("next_step.target", t)?;
    }
    let detail = step.detail.unwrap_or_default();
    bounded("next_step.detail", &detail)?;
    Ok(match step.action.as_str() {
        "revoke_token" => NextStep::RevokeToken {
            token: target.ok_or_else(|| missing("revoke_token"))?,
            event_ref: cited,
        },
        "remove_role" => NextStep::RemoveRole {
            role: target.ok_or_else(|| missing("remove_role"))?,
            event_ref: cited,
        },
        "contact_actor" => NextStep::ContactActor {
            reason: if detail.is_empty() {
                "to confirm the activity".into()
            } else {
                detail
            },
        },
        "no_action" => NextStep::NoAction,
        other => {
            return Err(AnswerError::Invalid {
                field: "next_step.action".into(),
                problem: format!(
                    "{:?} is not revoke_token, remove_role, contact_actor or no_action",
                    sanitize_with_limit(other, 40)
                ),
            });
        }
    })
}

/// Models often wrap JSON in a Markdown code fence despite being told not to.
fn strip_code_fence(text: &str) -> &str {
    let Some(rest) = text.strip_prefix("```") else {
        return text;
    };
    let rest = rest.strip_prefix("json").unwrap_or(rest);
    rest.trim_start_matches([' ', '\r', '\n'])
        .strip_suffix("```")
        .unwrap_or(rest)
        .trim()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refs() -> HashSet<String> {
        ["cf:1", "dd:2"].iter().map(|s| s.to_string()).collect()
    }

    const GOOD: &str = r#"{"verdict":"likely_malicious","confidence":0.9,"summary":"s",
        "indicators":[{"title":"t","severity":"high","event_ids":["cf:1","dd:2"]}],
        "next_step":{"action":"revoke_token","target":"deploy-all","detail":"d"},
        "instructions_in_data":false}"#;

    #[test]
    fn a_valid_answer_is_accepted_even_in_a_code_fence() {
        let a = parse_answer(GOOD, &refs()).unwrap();
        assert_eq!(a.assessment.verdict, Verdict::LikelyMalicious);
        assert_eq!(
            a.assessment.next_steps,
            [NextStep::RevokeToken {
                token: "deploy-all".into(),
                event_ref: "cf:1".into()
            }]
        );
        let fenced = format!("```json\n{GOOD}\n```");
        assert!(parse_answer(&fenced, &refs()).is_ok());
    }

    #[test]
    fn malformed_and_out_of_schema_answers_are_refused_with_the_reason() {
        let cases = [
            ("not json at all", "not the JSON object"),
            (r#"{"verdict":"benign"}"#, "missing field"),
            (
                &GOOD.replace("likely_malicious", "evil"),
                "verdict is invalid",
            ),
            (&GOOD.replace("0.9", "1.5"), "confidence is invalid"),
            (&GOOD.replace("\"cf:1\",\"dd:2\"", ""), "cites no event"),
            (
                &GOOD.replace("revoke_token", "delete_everything"),
                "next_step.action",
            ),
            (
                &GOOD.replace("\"summary\":\"s\"", "\"summary\":\"s\",\"extra\":1"),
                "unknown field",
            ),
        ];
        for (text, expect) in cases {
            let err = parse_answer(text, &refs()).unwrap_err().to_string();
            assert!(err.contains(expect), "{text}: {err}");
        }
    }

    #[test]
    fn answer_keys_are_the_keys_of_a_valid_answer() {
        let good: serde_json::Value = serde_json::from_str(GOOD).unwrap();
        let keys: Vec<&str> = good
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = ANSWER_KEYS.to_vec();
        expected.sort_unstable();
        let mut keys = keys;
        keys.sort_unstable();
        assert_eq!(keys, expected);
    }

    #[test]
    fn invented_event_ids_reject_the_whole_answer() {
        let text = GOOD.replace("\"dd:2\"", "\"dd:999\", \"cf:made-up\"");
        let err = parse_answer(&text, &refs()).unwrap_err();
        assert_eq!(
            err,
            AnswerError::UnknownEventIds(vec!["dd:999".into(), "cf:made-up".into()])
        );
    }
}
