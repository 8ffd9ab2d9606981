//! Turns a failed probe request into a [`Check`]: the HTTP outcome decides
//! the status, and the service's [`Hints`] supply the fix for each case.

use std::borrow::Cow;

use reqwest::StatusCode;
use url::Url;

use super::check::{Check, Status, store_fix};
use crate::secrets::Credential;
use crate::sources::http::HttpError;

/// What a probe knows about its service that an HTTP status does not say:
/// where it went, which credential to blame, which permission to ask for,
/// and which config key names what a 404 did not find.
#[derive(Debug, Clone)]
pub struct Hints {
    pub service: &'static str,
    pub target: String,
    /// The request's URL; reported without its query.
    pub url: Url,
    /// The config key holding the base URL, named when nothing answers.
    pub base_key: Cow<'static, str>,
    /// Blamed on a 401.
    pub credentials: Vec<Credential>,
    /// What the credential must be allowed to do, for a 403.
    pub permission: String,
    /// Which config key names the thing a 404 did not find, and what to check.
    pub not_found: String,
    /// Some services (Axiom, Datadog) answer 403 for a bad credential too.
    pub forbidden_may_mean_bad_credential: bool,
}

impl Hints {
    /// The URL without query or fragment: queries may carry filters, never
    /// worth printing, and the host and path are what the user must check.
    pub fn shown_url(&self) -> String {
        let mut url = self.url.clone();
        url.set_query(None);
        url.set_fragment(None);
        url.to_string()
    }

    fn check(&self, status: Status, detail: String) -> Check {
        Check::new(self.service, self.target.clone(), status, detail)
    }

    fn credential_fix(&self) -> String {
        match self.credentials.as_slice() {
            [] => "check the credential".to_owned(),
            [one] => store_fix(*one),
            many => many
                .iter()
                .map(|c| store_fix(*c))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

/// The check for a request that failed with `error`.
pub fn from_http(hints: &Hints, error: &HttpError) -> Check {
    let said = error
        .service_message()
        .map(|m| format!(": {m}"))
        .unwrap_or_default();
    match error {
        HttpError::Timeout { after, .. } => hints
            .check(
                Status::Unreachable,
                format!(
                    "no answer from {} within {}s",
                    hints.shown_url(),
                    after.as_secs().max(1)
                ),
            )
            .with_fix(unreachable_fix(hints)),
        HttpError::Connect { detail, .. } | HttpError::Transport { detail, .. } => hints
            .check(
                Status::Unreachable,
                format!("cannot reach {}: {detail}", hints.shown_url()),
            )
            .with_fix(unreachable_fix(hints)),
        HttpError::RateLimited { wait, until, .. } => hints
            .check(
                Status::Failed,
                format!(
                    "rate limited: {} asks to wait {}s{said}",
                    hints.service,
                    wait.as_secs().max(1)
                ),
            )
            .with_fix(format!(
                "run `soc-tui doctor` again after {}",
                until.format("%H:%M:%S UTC")
            )),
        HttpError::Status { status, .. } => from_status(hints, *status, &said),
        HttpError::BodyTooLarge { limit, .. } => hints
            .check(
                Status::Failed,
                format!(
                    "{} answered with more than {limit} bytes",
                    hints.shown_url()
                ),
            )
            .with_fix(format!(
                "check {}: it does not look like the {} API",
                hints.base_key, hints.service
            )),
        HttpError::InvalidRequest { detail, .. } => hints
            .check(
                Status::Failed,
                format!("the request could not be built: {detail}"),
            )
            .with_fix(hints.credential_fix()),
    }
}

fn from_status(hints: &Hints, status: StatusCode, said: &str) -> Check {
    let seen = format!("{} answered HTTP {status}{said}", hints.shown_url());
    match status.as_u16() {
        401 => hints
            .check(
                Status::NotAuthenticated,
                format!("{seen} (the credential was refused)"),
            )
            .with_fix(hints.credential_fix()),
        403 if hints.forbidden_may_mean_bad_credential => hints
            .check(
                Status::PermissionMissing,
                format!("{seen} (a wrong credential and a missing permission look the same here)"),
            )
            .with_fix(format!("{}; {}", hints.credential_fix(), hints.permission)),
        403 => hints
            .check(Status::PermissionMissing, seen)
            .with_fix(hints.permission.clone()),
        404 => hints
            .check(Status::Misconfigured, seen)
            .with_fix(hints.not_found.clone()),
        code if code >= 500 => hints.check(Status::Failed, seen).with_fix(format!(
            "{} is having trouble; run `soc-tui doctor` again later",
            hints.service
        )),
        _ => hints.check(Status::Failed, seen).with_fix(format!(
            "check {} and the {} settings against the message",
            hints.base_key, hints.service
        )),
    }
}

fn unreachable_fix(hints: &Hints) -> String {
    format!(
        "check {} (host, port, scheme), DNS and the network path from here; behind a proxy set \
         [http] proxy; slow links need a larger [http] connect_timeout / request_timeout",
        hints.base_key
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use reqwest::Method;

    use super::*;
    use crate::sources::http::{RequestContext, Service};

    fn hints() -> Hints {
        Hints {
            service: "confluence",
            target: "space SEC".into(),
            url: Url::parse("https://example.atlassian.net/wiki/api/v2/spaces?keys=SEC").unwrap(),
            base_key: "confluence.base_url".into(),
            credentials: vec![Credential::ConfluenceToken],
            permission: "give the token read:space:confluence".into(),
            not_found: "check confluence.base_url".into(),
            forbidden_may_mean_bad_credential: false,
        }
    }

    fn context() -> RequestContext {
        RequestContext {
            service: Service::Confluence,
            method: Method::GET,
            path: "/wiki/api/v2/spaces".into(),
        }
    }

    fn status(code: u16) -> HttpError {
        HttpError::Status {
            context: context(),
            status: StatusCode::from_u16(code).unwrap(),
            message: Some("the service said so".into()),
            attempts: 1,
        }
    }

    #[test]
    fn statuses_map_to_the_documented_states_with_their_fixes() {
        let hints = hints();
        let cases = [
            (401, Status::NotAuthenticated, "soc-tui auth set confluence"),
            (403, Status::PermissionMissing, "read:space:confluence"),
            (404, Status::Misconfigured, "confluence.base_url"),
            (500, Status::Failed, "again later"),
            (400, Status::Failed, "against the message"),
        ];
        for (code, expected, fix) in cases {
            let check = from_http(&hints, &status(code));
            assert_eq!(check.status, expected, "{code}");
            assert!(
                check.fix.as_deref().unwrap().contains(fix),
                "{code}: {check:?}"
            );
            assert!(check.detail.contains("the service said so"), "{check:?}");
            assert!(
                check
                    .detail
                    .contains("https://example.atlassian.net/wiki/api/v2/spaces answered"),
                "{check:?}"
            );
            assert!(!check.detail.contains("keys=SEC"), "query shown: {check:?}");
        }
    }

    #[test]
    fn network_failures_are_unreachable_and_name_the_url_and_the_key() {
        let hints = hints();
        for error in [
            HttpError::Timeout {
                context: context(),
                after: Duration::from_secs(7),
                attempts: 2,
            },
            HttpError::Connect {
                context: context(),
                detail: "tcp connect error: Connection refused".into(),
                attempts: 1,
            },
        ] {
            let check = from_http(&hints, &error);
            assert_eq!(check.status, Status::Unreachable);
            assert!(check.detail.contains("example.atlassian.net"), "{check:?}");
            assert!(check.fix.unwrap().contains("confluence.base_url"));
        }
    }

    #[test]
    fn a_403_that_may_be_a_bad_credential_says_so_and_names_both_fixes() {
        let hints = Hints {
            forbidden_may_mean_bad_credential: true,
            ..hints()
        };
        let check = from_http(&hints, &status(403));
        assert_eq!(check.status, Status::PermissionMissing);
        assert!(check.detail.contains("look the same"), "{check:?}");
        let fix = check.fix.unwrap();
        assert!(fix.contains("soc-tui auth set confluence") && fix.contains("read:space"));
    }
}
