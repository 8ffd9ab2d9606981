//! Validated scalar values used by the config sections.
//!
//! Each type rejects bad input while it is being deserialized, so the error
//! toml reports carries the span of the offending value and `config check`
//! can name its line and column. Error texts never repeat a URL or an id
//! verbatim: a mistyped value may well be a pasted secret.

use std::fmt;
use std::marker::PhantomData;

use serde::{Deserialize, Deserializer, Serialize, de};

/// An `http://` or `https://` base URL without credentials, query or fragment.
///
/// Stored without a trailing slash so callers can append `/path`.
#[derive(Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct BaseUrl(String);

impl<'de> Deserialize<'de> for BaseUrl {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(ParseString::new(
            "a URL string such as \"https://api.example.com\"",
        ))
    }
}

impl BaseUrl {
    /// A URL compiled into the binary; `values::tests` checks each one parses.
    pub(crate) fn builtin(url: &'static str) -> BaseUrl {
        BaseUrl(url.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// `base` + `/` + `path`, with exactly one slash between them.
    pub fn join(&self, path: &str) -> String {
        format!("{}/{}", self.0, path.trim_start_matches('/'))
    }
}

impl TryFrom<String> for BaseUrl {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        let url = url::Url::parse(&text).map_err(|err| format!("not a valid URL ({err})"))?;
        if url.scheme() != "https" && url.scheme() != "http" {
            return Err(format!(
                "URL scheme `{}` is not allowed: use https:// (or http:// for a local test server)",
                truncated(url.scheme())
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(
                "URL contains credentials (user:password@): credentials never go in the \
                 config file; store them with `soc-tui auth set <name>`"
                    .to_owned(),
            );
        }
        if url.query().is_some() {
            return Err(
                "URL must not contain a query string (`?...`): give the base URL only".into(),
            );
        }
        if url.fragment().is_some() {
            return Err("URL must not contain a fragment (`#...`): give the base URL only".into());
        }
        Ok(BaseUrl(url.as_str().trim_end_matches('/').to_owned()))
    }
}

impl From<BaseUrl> for String {
    fn from(url: BaseUrl) -> String {
        url.0
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BaseUrl({:?})", self.0)
    }
}

/// A span of time written the way people say it: `"30s"`, `"5m"`, `"1h30m"`.
///
/// Units: `ms`, `s`, `m`, `h`, `d`. Zero is a valid duration; sections that
/// need a positive one say so during validation.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct HumanDuration(std::time::Duration);

impl<'de> Deserialize<'de> for HumanDuration {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(ParseString::new(
            "a duration string such as \"30s\", \"5m\" or \"1h\"",
        ))
    }
}

impl HumanDuration {
    pub const fn from_secs(secs: u64) -> HumanDuration {
        HumanDuration(std::time::Duration::from_secs(secs))
    }

    pub const fn get(self) -> std::time::Duration {
        self.0
    }

    pub fn is_zero(self) -> bool {
        self.0.is_zero()
    }
}

const DURATION_HELP: &str =
    "write whole numbers with a unit (ms, s, m, h, d), e.g. \"30s\", \"5m\", \"1h30m\"";

impl TryFrom<String> for HumanDuration {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        if text.is_empty() {
            return Err(format!("empty duration: {DURATION_HELP}"));
        }
        let mut total_ms: u64 = 0;
        let mut rest = text.as_str();
        while !rest.is_empty() {
            let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
            if digits == 0 {
                return Err(format!(
                    "bad duration \"{}\": expected a number at \"{}\"; {DURATION_HELP}",
                    truncated(&text),
                    truncated(rest)
                ));
            }
            let (number, after) = rest.split_at(digits);
            let unit_len = after.len()
                - after
                    .trim_start_matches(|c: char| !c.is_ascii_digit())
                    .len();
            let (unit, after) = after.split_at(unit_len);
            let unit_ms: u64 = match unit {
                "ms" => 1,
                "s" => 1_000,
                "m" => 60_000,
                "h" => 3_600_000,
                "d" => 86_400_000,
                "" => {
                    return Err(format!(
                        "bad duration \"{}\": the number {number} has no unit; {DURATION_HELP}",
                        truncated(&text)
                    ));
                }
                other => {
                    return Err(format!(
                        "bad duration \"{}\": unknown unit \"{}\"; {DURATION_HELP}",
                        truncated(&text),
                        truncated(other)
                    ));
                }
            };
            let part = number
                .parse::<u64>()
                .ok()
                .and_then(|n| n.checked_mul(unit_ms))
                .and_then(|ms| ms.checked_add(total_ms));
            total_ms =
                part.ok_or_else(|| format!("duration \"{}\" is too large", truncated(&text)))?;
            rest = after;
        }
        Ok(HumanDuration(std::time::Duration::from_millis(total_ms)))
    }
}

impl From<HumanDuration> for String {
    fn from(duration: HumanDuration) -> String {
        duration.to_string()
    }
}

/// The shortest exact spelling, e.g. 5400s -> "1h30m"; parses back to the same value.
impl fmt::Display for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut ms = self.0.as_millis();
        if ms == 0 {
            return f.write_str("0s");
        }
        for (unit, size) in [
            ("d", 86_400_000),
            ("h", 3_600_000),
            ("m", 60_000),
            ("s", 1_000),
            ("ms", 1),
        ] {
            if ms >= size {
                write!(f, "{}{unit}", ms / size)?;
                ms %= size;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for HumanDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HumanDuration({self})")
    }
}

/// A Cloudflare account id: 32 lowercase hex characters.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(into = "String")]
pub struct AccountId(String);

impl<'de> Deserialize<'de> for AccountId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(ParseString::new(
            "a Cloudflare account id string (32 lowercase hex characters)",
        ))
    }
}

impl AccountId {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for AccountId {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        const WHAT: &str = "a Cloudflare account id is 32 lowercase hex characters \
                            (the id in the dashboard URL after dash.cloudflare.com/)";
        if text.chars().count() != 32 {
            return Err(format!(
                "{WHAT}; this one has {} characters",
                text.chars().count()
            ));
        }
        if text.bytes().any(|b| b.is_ascii_uppercase())
            && text.bytes().all(|b| b.is_ascii_hexdigit())
        {
            return Err(format!("{WHAT}; write it in lowercase"));
        }
        if !text.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return Err(format!("{WHAT}; this one contains other characters"));
        }
        Ok(AccountId(text))
    }
}

impl From<AccountId> for String {
    fn from(id: AccountId) -> String {
        id.0
    }
}

impl fmt::Display for AccountId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The name a credential is stored under (`soc-tui auth set <name>`), e.g. `pagerduty-routing-key`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct CredentialName(String);

impl<'de> Deserialize<'de> for CredentialName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(ParseString::new(
            "a credential name string such as \"pagerduty-routing-key\"",
        ))
    }
}

impl CredentialName {
    pub(crate) fn builtin(name: &'static str) -> CredentialName {
        CredentialName(name.to_owned())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CredentialName {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        use clap::ValueEnum;
        if crate::secrets::Credential::from_str(&text, false).is_ok() {
            Ok(CredentialName(text))
        } else {
            let known: Vec<&str> = crate::secrets::Credential::ALL
                .iter()
                .map(|c| c.name())
                .collect();
            Err(format!(
                "not a credential soc-tui knows: a credential name is the <name> in                  `soc-tui auth set <name>` (one of {}), not the secret itself",
                known.join(", ")
            ))
        }
    }
}

impl From<CredentialName> for String {
    fn from(name: CredentialName) -> String {
        name.0
    }
}

impl fmt::Display for CredentialName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An e-mail address, checked only for shape (`local@domain.tld`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(into = "String")]
pub struct Email(String);

impl<'de> Deserialize<'de> for Email {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_str(ParseString::new("an e-mail address string"))
    }
}

impl Email {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Email {
    type Error = String;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        let well_formed = match text.split_once('@') {
            Some((local, domain)) => {
                !local.is_empty()
                    && domain.contains('.')
                    && !domain.starts_with('.')
                    && !domain.ends_with('.')
                    && !domain.contains('@')
                    && text.len() <= 254
                    && !text.chars().any(|c| c.is_whitespace() || c.is_control())
            }
            None => false,
        };
        if well_formed {
            Ok(Email(text))
        } else {
            Err("not an e-mail address: expected the form name@example.com".to_owned())
        }
    }
}

impl From<Email> for String {
    fn from(email: Email) -> String {
        email.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Deserializes a validated string type, with `expecting` saying what the
/// string should look like when the TOML value is not a string at all.
struct ParseString<T> {
    expecting: &'static str,
    target: PhantomData<T>,
}

impl<T> ParseString<T> {
    fn new(expecting: &'static str) -> Self {
        ParseString {
            expecting,
            target: PhantomData,
        }
    }
}

impl<T: TryFrom<String, Error = String>> de::Visitor<'_> for ParseString<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        T::try_from(text.to_owned()).map_err(E::custom)
    }
}

/// 1 to 64 characters of `a-z 0-9 _ -`, starting with a letter or digit.
pub(crate) fn is_simple_name(text: &str) -> bool {
    let mut bytes = text.bytes();
    let first_ok = bytes
        .next()
        .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    first_ok
        && text.len() <= 64
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// At most 40 characters of `text` with control characters escaped, for
/// quoting short user values (a unit, a scheme) inside messages.
pub(crate) fn truncated(text: &str) -> String {
    let mut out: String = text.chars().take(40).flat_map(char::escape_debug).collect();
    if text.chars().count() > 40 {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(text: &str) -> Result<BaseUrl, String> {
        BaseUrl::try_from(text.to_owned())
    }

    fn duration(text: &str) -> Result<HumanDuration, String> {
        HumanDuration::try_from(text.to_owned())
    }

    #[test]
    fn base_url_normalizes_the_trailing_slash_and_joins_paths() {
        let base = url("https://api.axiom.co/").unwrap();
        assert_eq!(base.as_str(), "https://api.axiom.co");
        assert_eq!(
            base.join("/v1/datasets"),
            "https://api.axiom.co/v1/datasets"
        );
        let wiki = url("https://example.atlassian.net/wiki/").unwrap();
        assert_eq!(
            wiki.join("api/v2/pages"),
            "https://example.atlassian.net/wiki/api/v2/pages"
        );
        assert_eq!(
            url("http://127.0.0.1:8080").unwrap().as_str(),
            "http://127.0.0.1:8080"
        );
    }

    #[test]
    fn base_url_rejects_other_schemes_credentials_queries_and_fragments() {
        assert!(
            url("ftp://example.com")
                .unwrap_err()
                .contains("scheme `ftp`")
        );
        assert!(
            url("api.example.com")
                .unwrap_err()
                .contains("not a valid URL")
        );
        let creds = url("https://user:hunter2@example.com").unwrap_err();
        assert!(creds.contains("credentials"), "{creds}");
        assert!(!creds.contains("hunter2"), "the secret leaked: {creds}");
        assert!(
            url("https://user@example.com")
                .unwrap_err()
                .contains("credentials")
        );
        assert!(
            url("https://example.com/?token=x")
                .unwrap_err()
                .contains("query")
        );
        assert!(
            url("https://example.com/#top")
                .unwrap_err()
                .contains("fragment")
        );
    }

    #[test]
    fn durations_parse_units_and_compounds() {
        assert_eq!(duration("30s").unwrap().get().as_secs(), 30);
        assert_eq!(duration("5m").unwrap().get().as_secs(), 300);
        assert_eq!(duration("1h30m").unwrap().get().as_secs(), 5400);
        assert_eq!(duration("2d").unwrap().get().as_secs(), 172_800);
        assert_eq!(duration("250ms").unwrap().get().as_millis(), 250);
        assert!(duration("0s").unwrap().is_zero());
    }

    #[test]
    fn durations_reject_missing_or_unknown_units() {
        assert!(duration("").unwrap_err().contains("empty"));
        assert!(duration("300").unwrap_err().contains("has no unit"));
        assert!(duration("5 m").unwrap_err().contains("unknown unit"));
        assert!(
            duration("5min")
                .unwrap_err()
                .contains("unknown unit \"min\"")
        );
        assert!(duration("m5").unwrap_err().contains("expected a number"));
        assert!(duration("-5m").unwrap_err().contains("expected a number"));
        assert!(
            duration("99999999999999999999d")
                .unwrap_err()
                .contains("too large")
        );
    }

    #[test]
    fn durations_display_round_trips() {
        for text in ["0s", "250ms", "30s", "5m", "1h", "1h30m", "2d3h", "1m1s5ms"] {
            assert_eq!(duration(text).unwrap().to_string(), text);
        }
        assert_eq!(duration("90s").unwrap().to_string(), "1m30s");
    }

    #[test]
    fn account_ids_are_32_lowercase_hex() {
        let good = "0123456789abcdef0123456789abcdef";
        assert_eq!(AccountId::try_from(good.to_owned()).unwrap().as_str(), good);
        let upper = AccountId::try_from(good.to_uppercase()).unwrap_err();
        assert!(upper.contains("lowercase"), "{upper}");
        assert!(
            AccountId::try_from("abc".to_owned())
                .unwrap_err()
                .contains("has 3 characters")
        );
        let other = AccountId::try_from("g123456789abcdef0123456789abcdef".to_owned()).unwrap_err();
        assert!(other.contains("other characters"), "{other}");
    }

    #[test]
    fn credential_names_and_emails() {
        assert!(CredentialName::try_from("pagerduty-routing-key".to_owned()).is_ok());
        assert!(CredentialName::try_from("PagerDuty".to_owned()).is_err());
        assert!(CredentialName::try_from("-x".to_owned()).is_err());
        assert!(CredentialName::try_from(String::new()).is_err());
        assert!(Email::try_from("soc@example.com".to_owned()).is_ok());
        for bad in [
            "soc",
            "@example.com",
            "soc@localhost",
            "soc@example.com.",
            "a b@example.com",
        ] {
            assert!(Email::try_from(bad.to_owned()).is_err(), "{bad}");
        }
    }

    #[test]
    fn truncated_escapes_controls_and_caps_length() {
        assert_eq!(truncated("a\u{1b}[31m"), "a\\u{1b}[31m");
        assert_eq!(truncated(&"x".repeat(50)), format!("{}…", "x".repeat(40)));
    }
}
