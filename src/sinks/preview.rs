//! The dry-run view of a delivery: every HTTP call a sink would make, in
//! order, with secrets replaced by `[redacted]`.

use std::fmt;

/// Shown wherever a secret would be sent.
pub const REDACTED: &str = "[redacted]";

/// One HTTP call of a delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PreviewStep {
    /// Why the call is made ("look up the space id", "create the page").
    pub purpose: String,
    pub method: String,
    /// Full URL, including the query.
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<String>,
}

/// Everything a delivery would send. `Display` is what the publish popup shows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Preview {
    pub steps: Vec<PreviewStep>,
}

impl fmt::Display for Preview {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            writeln!(f, "# {}", step.purpose)?;
            writeln!(f, "{} {}", step.method, step.url)?;
            for (name, value) in &step.headers {
                writeln!(f, "{name}: {value}")?;
            }
            if let Some(body) = &step.body {
                writeln!(f)?;
                writeln!(f, "{body}")?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_lists_each_call_like_an_http_message() {
        let preview = Preview {
            steps: vec![
                PreviewStep {
                    purpose: "look up".into(),
                    method: "GET".into(),
                    url: "https://x/a?b=1".into(),
                    headers: vec![("Authorization".into(), REDACTED.into())],
                    body: None,
                },
                PreviewStep {
                    purpose: "create".into(),
                    method: "POST".into(),
                    url: "https://x/a".into(),
                    headers: vec![],
                    body: Some("{}".into()),
                },
            ],
        };
        assert_eq!(
            preview.to_string(),
            "# look up\nGET https://x/a?b=1\nAuthorization: [redacted]\n\n# create\nPOST https://x/a\n\n{}\n"
        );
    }
}
