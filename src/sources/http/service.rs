//! Which remote service a client talks to: names it in errors and selects
//! its rate-limit header dialect and error-envelope shape.

use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Service {
    Cloudflare,
    Datadog,
    Axiom,
    Confluence,
    Linear,
    PagerDuty,
    S3,
    /// An LLM provider (OpenAI-compatible or Anthropic) used by the investigator.
    Llm,
}

impl Service {
    pub const ALL: [Service; 8] = [
        Service::Cloudflare,
        Service::Datadog,
        Service::Axiom,
        Service::Confluence,
        Service::Linear,
        Service::PagerDuty,
        Service::S3,
        Service::Llm,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Service::Cloudflare => "cloudflare",
            Service::Datadog => "datadog",
            Service::Axiom => "axiom",
            Service::Confluence => "confluence",
            Service::Linear => "linear",
            Service::PagerDuty => "pagerduty",
            Service::S3 => "s3",
            Service::Llm => "llm",
        }
    }
}

impl fmt::Display for Service {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
