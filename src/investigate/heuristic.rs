//! The embedded, deterministic classifier: weighted factors from the
//! timeline's markers and sequences, summed into a score that picks the
//! verdict. Works offline; the LLM agents are a second opinion on top.
//!
//! Weights (positive raise suspicion):
//!
//! | factor | weight |
//! |---|---|
//! | credential created / with broad scope | +1.0 / +1.5 more |
//! | first-seen IP (history known / unknown) | +1.5 / +0.5 |
//! | first-seen user agent | +0.5 |
//! | off hours for this actor / outside 06-22 UTC without history | +1.5 / +0.5 |
//! | privilege changes (1-2 / 3+) | +1.5 / +2.0 |
//! | destructive actions (1-2 / 3+) | +1.0 / +2.0 |
//! | failed attempts (1-2 / 3+) | +0.25 / +1.0 |
//! | sequence credential -> new-IP use | +2.0 |
//! | sequence privilege change -> destruction | +2.0 |
//! | sequence failures -> success | +1.5 |
//! | text addressed to an AI in the logs | +2.0 |
//! | every deletion re-created soon after | -1.5 |
//! | only known IPs / only usual hours (history known) | -1.0 each |
//! | every privilege change and deletion of a kind the actor made on 3+ days of the history, from known IPs in usual hours, no credential minted | -2.5 |
//!
//! Score >= 6 with a privilege, credential or destructive factor: likely
//! malicious; >= 3: suspicious; else misconfiguration when the activity
//! shows a fix (re-creations, failures, lone deletions that are not routine
//! for the actor), else benign.

use std::collections::BTreeSet;

use super::markers::{Baseline, MarkerKind, ROUTINE_DAYS, SequenceKind, resource_label};
use super::timeline::Timeline;
use super::verdict::{Assessment, Factor, Indicator, IndicatorSeverity, NextStep, Verdict};

const MALICIOUS_SCORE: f64 = 6.0;
const SUSPICIOUS_SCORE: f64 = 3.0;
/// Evidence refs kept per factor; counts are in the factor's name.
const MAX_REFS: usize = 12;

struct Scorer<'a> {
    timeline: &'a Timeline,
    factors: Vec<Factor>,
    indicators: Vec<Indicator>,
}

impl Scorer<'_> {
    fn refs_with(&self, kind: MarkerKind) -> Vec<String> {
        self.timeline
            .entries
            .iter()
            .filter(|e| e.markers.iter().any(|m| m.kind == kind))
            .map(|e| e.event_ref.clone())
            .collect()
    }

    fn add(
        &mut self,
        name: String,
        weight: f64,
        refs: Vec<String>,
        severity: Option<IndicatorSeverity>,
    ) {
        let refs: Vec<String> = refs.into_iter().take(MAX_REFS).collect();
        if let Some(severity) = severity
            && !refs.is_empty()
        {
            self.indicators.push(Indicator {
                title: name.clone(),
                severity,
                event_refs: refs.clone(),
            });
        }
        self.factors.push(Factor {
            name,
            weight,
            event_refs: refs,
        });
    }

    fn score(&self) -> f64 {
        self.factors.iter().map(|f| f.weight).sum()
    }

    fn has(&self, prefix: &str) -> bool {
        self.factors
            .iter()
            .any(|f| f.weight > 0.0 && f.name.starts_with(prefix))
    }
}

/// Classifies a marked timeline.
pub fn classify(timeline: &Timeline, baseline: &Baseline, actor: &str) -> Assessment {
    use IndicatorSeverity::{High, Low, Medium};
    let mut s = Scorer {
        timeline,
        factors: Vec::new(),
        indicators: Vec::new(),
    };

    // From known addresses at the actor's usual hours, with no credential
    // minted: the setting in which routine admin work can be told apart.
    let ordinary_setting = baseline.usual_hours_known
        && s.refs_with(MarkerKind::NewIp).is_empty()
        && s.refs_with(MarkerKind::OffHours).is_empty()
        && s.refs_with(MarkerKind::CredentialCreated).is_empty()
        && s.refs_with(MarkerKind::InstructionText).is_empty();
    let credentials = s.refs_with(MarkerKind::CredentialCreated);
    if !credentials.is_empty() {
        s.add(
            format!("Credential created ({})", credentials.len()),
            1.0,
            credentials,
            Some(Medium),
        );
    }
    let broad = s.refs_with(MarkerKind::BroadScope);
    if !broad.is_empty() {
        s.add(
            "Credential with broad scope (all zones or accounts)".into(),
            1.5,
            broad,
            Some(High),
        );
    }
    let new_ips = s.refs_with(MarkerKind::NewIp);
    if !new_ips.is_empty() {
        let weight = if baseline.history_known { 1.5 } else { 0.5 };
        s.add(
            format!("First-seen IP address ({})", new_ips.len()),
            weight,
            new_ips,
            Some(Medium),
        );
    }
    let new_agents = s.refs_with(MarkerKind::NewUserAgent);
    if !new_agents.is_empty() {
        s.add(
            format!("First-seen user agent ({})", new_agents.len()),
            0.5,
            new_agents,
            Some(Low),
        );
    }
    let off_hours = s.refs_with(MarkerKind::OffHours);
    if !off_hours.is_empty() {
        let (name, weight) = if baseline.usual_hours_known {
            (
                format!(
                    "Activity outside the actor's usual hours ({} events)",
                    off_hours.len()
                ),
                1.5,
            )
        } else {
            (
                format!(
                    "Activity outside 06:00-22:00 UTC, usual hours unknown ({} events)",
                    off_hours.len()
                ),
                0.5,
            )
        };
        s.add(name, weight, off_hours, Some(Medium));
    }
    let privilege = s.refs_with(MarkerKind::PrivilegeChange);
    if !privilege.is_empty() {
        let weight = if privilege.len() >= 3 { 2.0 } else { 1.5 };
        s.add(
            format!("Privilege changes ({})", privilege.len()),
            weight,
            privilege.clone(),
            Some(High),
        );
    }
    let destructive = s.refs_with(MarkerKind::Destructive);
    if !destructive.is_empty() {
        let weight = if destructive.len() >= 3 { 2.0 } else { 1.0 };
        s.add(
            format!("Destructive actions ({})", destructive.len()),
            weight,
            destructive.clone(),
            Some(Medium),
        );
    }
    let failed = s.refs_with(MarkerKind::Failed);
    if !failed.is_empty() {
        let weight = if failed.len() >= 3 { 1.0 } else { 0.25 };
        s.add(
            format!("Failed attempts ({})", failed.len()),
            weight,
            failed.clone(),
            Some(Low),
        );
    }
    let instructions = s.refs_with(MarkerKind::InstructionText);
    if !instructions.is_empty() {
        s.add(
            format!(
                "Text addressed to an AI assistant in the audit log ({})",
                instructions.len()
            ),
            2.0,
            instructions,
            Some(High),
        );
    }

    // Privilege changes and deletions of kinds the actor makes on many days
    // of the history, in an ordinary setting, are their job, not an intrusion.
    let routine_refs = s.refs_with(MarkerKind::RoutineChange);
    let routine = ordinary_setting
        && (!privilege.is_empty() || !destructive.is_empty())
        && privilege
            .iter()
            .chain(destructive.iter())
            .all(|r| routine_refs.contains(r));
    if routine {
        let changed: Vec<String> = privilege
            .iter()
            .chain(destructive.iter())
            .cloned()
            .collect();
        s.add(
            format!(
                "Routine for this actor: the same kinds of change on {ROUTINE_DAYS}+ days of the \
                 history, from known IPs in usual hours"
            ),
            -2.5,
            changed,
            None,
        );
    }

    let mut recreated: BTreeSet<String> = BTreeSet::new();
    for seq in &timeline.sequences {
        let (weight, severity) = match seq.kind {
            SequenceKind::CredentialThenNewIpUse | SequenceKind::PrivilegeThenDestructive => {
                (2.0, High)
            }
            SequenceKind::FailuresThenSuccess => (1.5, Medium),
            SequenceKind::DeleteThenRecreate => {
                if let Some(deletion) = seq.event_refs.first() {
                    recreated.insert(deletion.clone());
                }
                continue;
            }
        };
        s.add(
            format!("Sequence: {}", seq.detail),
            weight,
            seq.event_refs.clone(),
            Some(severity),
        );
    }
    let all_recreated =
        !destructive.is_empty() && destructive.iter().all(|r| recreated.contains(r));
    if all_recreated {
        s.add(
            format!(
                "Every deleted resource was created again soon after ({})",
                recreated.len()
            ),
            -1.5,
            recreated.iter().cloned().collect(),
            None,
        );
    }
    if baseline.history_known && !timeline.entries.is_empty() && !s.has("First-seen IP") {
        s.add(
            "Only IP addresses seen before the window".into(),
            -1.0,
            Vec::new(),
            None,
        );
    }
    if baseline.usual_hours_known && !timeline.entries.is_empty() && !s.has("Activity outside") {
        s.add(
            "Only the actor's usual hours".into(),
            -1.0,
            Vec::new(),
            None,
        );
    }

    let score = s.score();
    let grave = s.has("Privilege") || s.has("Credential") || s.has("Destructive");
    let fix_signals =
        !recreated.is_empty() || !failed.is_empty() || (!destructive.is_empty() && !routine);
    let verdict = if score >= MALICIOUS_SCORE && grave {
        Verdict::LikelyMalicious
    } else if score >= SUSPICIOUS_SCORE {
        Verdict::Suspicious
    } else if fix_signals {
        Verdict::Misconfiguration
    } else {
        Verdict::Benign
    };
    let confidence = confidence(verdict, score, baseline, &s, !recreated.is_empty());
    let next_steps = next_steps(verdict, timeline, &recreated);
    let summary = summary(actor, verdict, timeline, &s.indicators);
    Assessment {
        verdict,
        confidence,
        summary,
        indicators: s.indicators,
        factors: s.factors,
        next_steps,
    }
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// Confidence grows with the distance from the verdict's threshold and with
/// how much history there was to compare against.
fn confidence(
    verdict: Verdict,
    score: f64,
    baseline: &Baseline,
    s: &Scorer<'_>,
    recreated: bool,
) -> f64 {
    let history_bonus = if baseline.usual_hours_known { 0.1 } else { 0.0 };
    let c = match verdict {
        Verdict::LikelyMalicious => 0.7 + 0.29 * (1.0 - (-(score - MALICIOUS_SCORE) / 4.0).exp()),
        Verdict::Suspicious => {
            0.5 + 0.3 * ((score - SUSPICIOUS_SCORE) / (MALICIOUS_SCORE - SUSPICIOUS_SCORE)).min(1.0)
        }
        Verdict::Misconfiguration => {
            let fix = if recreated { 0.15 } else { 0.0 };
            0.5 + fix + history_bonus + 0.05 * (SUSPICIOUS_SCORE - score).clamp(0.0, 2.0)
        }
        Verdict::Benign => {
            let quiet = if s.factors.iter().all(|f| f.weight <= 0.0) {
                0.15
            } else {
                0.0
            };
            let rich = if baseline.history_days >= 7 { 0.1 } else { 0.0 };
            0.55 + quiet + history_bonus + rich
        }
    };
    round2(c.clamp(0.0, 0.99))
}

fn is_role(event: &crate::model::AuditEvent) -> bool {
    event
        .resource
        .kind
        .as_deref()
        .is_some_and(|kind| kind.to_ascii_lowercase().contains("role"))
}

fn next_steps(
    verdict: Verdict,
    timeline: &Timeline,
    recreated: &BTreeSet<String>,
) -> Vec<NextStep> {
    let mut steps = Vec::new();
    match verdict {
        Verdict::LikelyMalicious | Verdict::Suspicious => {
            let mut seen = BTreeSet::new();
            for entry in &timeline.entries {
                for marker in &entry.markers {
                    let Some(subject) = &marker.subject else {
                        continue;
                    };
                    let step = match marker.kind {
                        MarkerKind::CredentialCreated => NextStep::RevokeToken {
                            token: subject.clone(),
                            event_ref: entry.event_ref.clone(),
                        },
                        MarkerKind::PrivilegeChange
                            if entry.event.action.kind != crate::model::ActionKind::Revoke =>
                        {
                            // Only a role's own name is a role to remove: a
                            // member's role change names the member.
                            if is_role(&entry.event) {
                                NextStep::RemoveRole {
                                    role: subject.clone(),
                                    event_ref: entry.event_ref.clone(),
                                }
                            } else {
                                NextStep::RevertPrivilegeChange {
                                    target: resource_label(&entry.event),
                                    event_ref: entry.event_ref.clone(),
                                }
                            }
                        }
                        _ => continue,
                    };
                    if seen.insert((marker.kind, subject.clone())) {
                        steps.push(step);
                    }
                }
            }
            steps.push(NextStep::ContactActor {
                reason: if verdict == Verdict::LikelyMalicious {
                    "out of band (not by email), to confirm whether they did this; suspend their sessions until then".into()
                } else {
                    "to confirm they made these changes".into()
                },
            });
        }
        Verdict::Misconfiguration => steps.push(NextStep::ContactActor {
            reason: if recreated.is_empty() {
                "to confirm the changes were intended and nothing is left broken".into()
            } else {
                "to confirm the deleted and re-created resources are back as intended".into()
            },
        }),
        Verdict::Benign => steps.push(NextStep::NoAction),
    }
    steps
}

fn summary(actor: &str, verdict: Verdict, timeline: &Timeline, indicators: &[Indicator]) -> String {
    let stats = timeline.stats();
    let mut text = format!(
        "{actor}: {} event(s) in the window ({} Cloudflare, {} Datadog). Heuristic verdict: {}.",
        stats.events, stats.cloudflare, stats.datadog, verdict
    );
    let mut top: Vec<&Indicator> = indicators.iter().collect();
    top.sort_by_key(|i| std::cmp::Reverse(i.severity));
    if !top.is_empty() {
        let names: Vec<&str> = top.iter().take(4).map(|i| i.title.as_str()).collect();
        text.push_str(" Main indicators: ");
        text.push_str(&names.join("; "));
        text.push('.');
    } else {
        text.push_str(" Nothing unusual was found for this actor.");
    }
    text
}
