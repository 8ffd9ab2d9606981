//! What an investigation concludes: the verdict, the indicators behind it
//! and the recommended next step. Shared by the heuristic engine, the LLM
//! agents and the report.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Ordered from least to most alarming, so `max()` picks the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    Benign,
    Misconfiguration,
    Suspicious,
    LikelyMalicious,
}

impl Verdict {
    pub const ALL: [Verdict; 4] = [
        Verdict::Benign,
        Verdict::Misconfiguration,
        Verdict::Suspicious,
        Verdict::LikelyMalicious,
    ];

    /// The wire name (`likely_malicious`).
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Benign => "benign",
            Verdict::Misconfiguration => "misconfiguration",
            Verdict::Suspicious => "suspicious",
            Verdict::LikelyMalicious => "likely_malicious",
        }
    }

    /// For people (`likely malicious`).
    pub fn label(self) -> &'static str {
        match self {
            Verdict::LikelyMalicious => "likely malicious",
            other => other.as_str(),
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

impl FromStr for Verdict {
    type Err = String;
    /// Accepts the wire name or the label, any case.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim().to_ascii_lowercase().replace([' ', '-'], "_");
        Verdict::ALL
            .into_iter()
            .find(|v| v.as_str() == wanted)
            .ok_or_else(|| {
                format!(
                    "unknown verdict {:?} (expected benign, misconfiguration, suspicious or likely_malicious)",
                    crate::sanitize::sanitize_with_limit(s, 40)
                )
            })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum IndicatorSeverity {
    Low,
    Medium,
    High,
}

/// One piece of evidence, citing the events behind it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Indicator {
    /// Holds raw event text when it names a resource: escape before showing.
    pub title: String,
    pub severity: IndicatorSeverity,
    /// `cf:<id>` / `dd:<id>`; never empty.
    pub event_refs: Vec<String>,
}

/// A factor that moved the heuristic score, with its weight.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Factor {
    pub name: String,
    /// Positive raises suspicion, negative lowers it.
    pub weight: f64,
    pub event_refs: Vec<String>,
}

/// What the analyst should do next. Targets hold raw event text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum NextStep {
    RevokeToken {
        token: String,
        event_ref: String,
    },
    RemoveRole {
        role: String,
        event_ref: String,
    },
    /// A privilege change to something that is not a role (a member, a
    /// policy): the target is a resource label, never a role name.
    RevertPrivilegeChange {
        target: String,
        event_ref: String,
    },
    ContactActor {
        reason: String,
    },
    NoAction,
}

impl NextStep {
    /// One sentence, raw (escape before showing).
    pub fn describe(&self) -> String {
        match self {
            NextStep::RevokeToken { token, event_ref } => {
                format!("Revoke token \"{token}\" (created in {event_ref})")
            }
            NextStep::RemoveRole { role, event_ref } => {
                format!("Remove role \"{role}\" (granted in {event_ref})")
            }
            NextStep::RevertPrivilegeChange { target, event_ref } => {
                format!("Undo the privilege change to {target} (made in {event_ref})")
            }
            NextStep::ContactActor { reason } => format!("Contact the actor: {reason}"),
            NextStep::NoAction => "No action".to_owned(),
        }
    }
}

/// A complete conclusion from one engine.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Assessment {
    pub verdict: Verdict,
    /// 0 to 1.
    pub confidence: f64,
    /// Raw text (may quote event fields): escape before showing.
    pub summary: String,
    pub indicators: Vec<Indicator>,
    /// Empty for LLM answers: they give no weights.
    pub factors: Vec<Factor>,
    pub next_steps: Vec<NextStep>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdicts_parse_from_wire_names_and_labels_and_order_by_alarm() {
        assert_eq!("likely malicious".parse(), Ok(Verdict::LikelyMalicious));
        assert_eq!("LIKELY_MALICIOUS".parse(), Ok(Verdict::LikelyMalicious));
        assert_eq!("benign".parse(), Ok(Verdict::Benign));
        assert!("fine".parse::<Verdict>().is_err());
        assert!(Verdict::LikelyMalicious > Verdict::Suspicious);
        assert!(Verdict::Misconfiguration > Verdict::Benign);
        assert_eq!(
            serde_json::to_string(&Verdict::LikelyMalicious).unwrap(),
            "\"likely_malicious\""
        );
    }

    #[test]
    fn next_steps_read_as_sentences() {
        let step = NextStep::RevokeToken {
            token: "deploy-all".into(),
            event_ref: "cf:1".into(),
        };
        assert_eq!(
            step.describe(),
            "Revoke token \"deploy-all\" (created in cf:1)"
        );
        let v = serde_json::to_value(&step).unwrap();
        assert_eq!(v["action"], "revoke_token");
    }
}
