//! A token creation as a finding: archive request, and for flagged tokens a
//! Linear review ticket with a revoke checklist.

use serde_json::json;

use super::{Reasons, TOKEN_RULES, TokenCreation, TokenScope};
use crate::detect::finding::{Finding, Severity, SinkRequest, SuppressedHit, Workflow};
use crate::detect::markdown::markdown_escape;
use crate::detect::rules::{
    Rules, TOKEN_BROAD, TOKEN_OUTSIDE_ALLOWED, TOKEN_UNAPPROVED_ISSUER, TOKEN_UNKNOWN_SCOPE,
    TOKEN_WRITE, TokenKind,
};
use crate::detect::suppress::Silencer;
use crate::detect::ticket;
use crate::sanitize::sanitize_with_limit;

pub(super) fn finding(
    rules: &Rules,
    silencer: &Silencer<'_>,
    c: &TokenCreation,
    scope: &TokenScope,
    reasons: &Reasons,
) -> Finding {
    let sev = &rules.tokens.severity;
    let severity_of = |rule: &str| match rule {
        TOKEN_BROAD => sev.broad,
        TOKEN_WRITE => sev.write,
        TOKEN_UNKNOWN_SCOPE => sev.unknown_scope,
        TOKEN_UNAPPROVED_ISSUER => sev.unapproved_issuer,
        TOKEN_OUTSIDE_ALLOWED => sev.outside_allowed_resources,
        _ => Severity::Medium,
    };
    let fired: Vec<String> = TOKEN_RULES
        .iter()
        .filter(|r| reasons.contains_key(**r))
        .map(|r| r.to_string())
        .collect();
    let (live, suppressed) = silencer.partition(&c.issuer, fired.clone());
    let rated = if live.is_empty() { &fired } else { &live };
    let severity = rated
        .iter()
        .map(|r| severity_of(r))
        .max()
        .unwrap_or(Severity::Info);

    let kind = kind_label(c.kind);
    let name = c.token_name.as_deref().unwrap_or("(unnamed)");
    let issuer = sanitize_with_limit(&c.issuer, 120);
    let flags: Vec<&str> = fired.iter().map(|r| short_flag(r)).collect();
    let title = format!(
        "Token: {issuer} created {kind} \"{}\"{}",
        sanitize_with_limit(name, 80),
        if flags.is_empty() {
            String::new()
        } else {
            format!(" [{}]", flags.join(", "))
        }
    );
    let summary = if fired.is_empty() {
        format!(
            "{issuer} created {kind} \"{}\"; nothing risky found. Archived.",
            sanitize_with_limit(name, 80)
        )
    } else {
        let details: Vec<String> = fired
            .iter()
            .map(|r| format!("{r}: {}", sanitize_with_limit(&reasons[r].join("; "), 300)))
            .collect();
        format!(
            "{issuer} created {kind} \"{}\". {}.",
            sanitize_with_limit(name, 80),
            details.join(". ")
        )
    };

    let evidence = json!({
        "kind": c.kind,
        "token_id": c.token_id,
        "token_name": c.token_name,
        "issuer": c.issuer,
        "issuer_ip": c.issuer_ip,
        "account": c.account,
        "event_id": c.event_id,
        "event_time": c.time,
        "matched_by": c.matched_by,
        "scope": scope,
        "reasons": reasons,
    });

    // Archive every creation, suppressed or not: the archive is the record.
    let mut requests = vec![SinkRequest::ArchiveObject {
        event_id: c.event_id.clone(),
        account: c.account.clone(),
        time: c.time,
    }];
    if !live.is_empty() {
        requests.push(SinkRequest::LinearTicket {
            title: format!(
                "Review new Cloudflare {kind} {} created by {}",
                markdown_escape(name),
                markdown_escape(&c.issuer)
            ),
            body_markdown: ticket_body(c, scope, reasons, &live, &suppressed),
            priority: severity.linear_priority(),
            labels: vec!["soc-tui".into(), "token".into(), severity.to_string()],
        });
    }

    Finding {
        workflow: Workflow::Token,
        dedup_key: format!("token:{}", c.event_id),
        actor: c.issuer.clone(),
        severity,
        title,
        window_start: c.time,
        window_end: c.time,
        summary,
        evidence,
        event_ids: vec![c.event_id.clone()],
        rules: live,
        suppressed,
        requests,
    }
}

fn kind_label(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::ApiToken => "API token",
        TokenKind::ServiceToken => "Access service token",
    }
}

fn short_flag(rule: &str) -> &'static str {
    match rule {
        TOKEN_BROAD => "BROAD",
        TOKEN_WRITE => "WRITE",
        TOKEN_UNKNOWN_SCOPE => "scope unknown",
        TOKEN_UNAPPROVED_ISSUER => "unapproved issuer",
        TOKEN_OUTSIDE_ALLOWED => "outside allowed resources",
        _ => "flagged",
    }
}

fn ticket_body(
    c: &TokenCreation,
    scope: &TokenScope,
    reasons: &Reasons,
    live: &[String],
    suppressed: &[SuppressedHit],
) -> String {
    let esc_opt = |v: &Option<String>| v.as_deref().map_or("unknown".to_string(), markdown_escape);
    let mut md = format!(
        "A new Cloudflare {} was created and needs review.\n\n| Field | Value |\n|---|---|\n",
        kind_label(c.kind)
    );
    let rows = [
        ("Name", esc_opt(&c.token_name)),
        ("Token id", esc_opt(&c.token_id)),
        ("Created by", markdown_escape(&c.issuer)),
        ("From IP", esc_opt(&c.issuer_ip)),
        ("Account", esc_opt(&c.account)),
        (
            "Created at (UTC)",
            c.time.format("%Y-%m-%d %H:%M:%S").to_string(),
        ),
        ("Audit event", markdown_escape(&c.event_id)),
    ];
    for (k, v) in rows {
        md.push_str(&format!("| {k} | {v} |\n"));
    }
    md.push_str("\n### Why this was flagged\n\n");
    for rule in live {
        md.push_str(&format!("- **{}**\n", short_flag(rule)));
        for detail in reasons.get(rule).into_iter().flatten() {
            md.push_str(&format!("  - {}\n", markdown_escape(detail)));
        }
    }
    md.push_str("\n### Scope\n\n");
    match scope {
        TokenScope::Unknown => md.push_str("Unknown: the token's policies could not be read.\n"),
        TokenScope::Known { policies } => {
            for (i, p) in policies.iter().enumerate() {
                let groups: Vec<String> = p
                    .permission_groups
                    .iter()
                    .map(|g| markdown_escape(g))
                    .collect();
                let keys: Vec<String> = p
                    .resource_keys()
                    .iter()
                    .map(|k| markdown_escape(k))
                    .collect();
                md.push_str(&format!(
                    "{}. {}: {} on {}\n",
                    i + 1,
                    if p.effect == super::Effect::Allow {
                        "allow"
                    } else {
                        "deny"
                    },
                    groups.join(", "),
                    keys.join(", ")
                ));
            }
        }
    }
    ticket::push_suppressed(&mut md, suppressed);
    md.push_str(&revoke_checklist(c));
    md
}

/// Steps an analyst follows; endpoints are Cloudflare API v4 paths.
fn revoke_checklist(c: &TokenCreation) -> String {
    let issuer = markdown_escape(&c.issuer);
    let mut md = String::from("\n### Revoke checklist\n\n");
    md.push_str(&format!(
        "- [ ] Ask the creator ({issuer}) through a known channel, not by replying to anything the token could have sent, whether this token is expected and what it is for.\n"
    ));
    match c.kind {
        TokenKind::ApiToken => {
            md.push_str("- [ ] If it is not expected, or is broader than its purpose needs, revoke it: dashboard My Profile > API Tokens (user tokens) or Manage Account > API Tokens (account-owned tokens), or the API: `DELETE /user/tokens/{token_id}` for a user token, `DELETE /accounts/{account_id}/tokens/{token_id}` for an account-owned token.\n");
        }
        TokenKind::ServiceToken => {
            md.push_str("- [ ] If it is not expected, revoke it: dashboard Zero Trust > Access > Service auth, or the API: `DELETE /accounts/{account_id}/access/service_tokens/{service_token_id}`.\n");
        }
    }
    md.push_str("- [ ] Confirm the revocation: the token no longer appears in the token list and calls made with it fail.\n");
    md.push_str("- [ ] Rotate every secret the token could read or change (DNS, Workers secrets, origin credentials, other tokens if it could mint them).\n");
    md.push_str("- [ ] Review what the token did: Cloudflare audit logs filtered by `actor_token_id` (v2) for this token, from its creation until revocation.\n");
    md.push_str("- [ ] Review the creator's other recent activity in soc-tui (actor view) for related changes.\n");
    md.push_str("- [ ] Record the outcome and close this ticket.\n");
    md
}
