//! `soc-tui demo`: the console against a simulated environment, with no
//! credentials and no network beyond loopback.
//!
//! [`DemoEnvironment::start`] starts in-process simulators of Cloudflare
//! (audit logs v2/v1, token details), Datadog (audit events), Confluence,
//! Linear and PagerDuty Events that speak the real API shapes and refuse
//! what the real services refuse; pre-fills a store with 30 days of
//! generated history for ~200 actors; and prepares a [`Scenario`]: a benign
//! look-alike and a scripted attack appended to the simulators over the
//! first minute, ending with a signed anomaly webhook. The S3 archive is the
//! local archive directory, as without a bucket.
//!
//! ```no_run
//! # async fn wire(data_dir: &std::path::Path) -> Result<(), soc_tui::demo::DemoError> {
//! use soc_tui::demo::{DemoEnvironment, Speed};
//! let demo = DemoEnvironment::start(7, Speed::new(1.0)?, data_dir).await?;
//! // Build the engine from `demo.config`, the store at `demo.store_path` and
//! // the credentials from `demo.resolver()`; once its webhook receiver
//! // listens:
//! demo.send_webhook_to("http://127.0.0.1:8088/webhook/anomaly");
//! demo.scenario.start();
//! # Ok(()) }
//! ```

pub mod cast;
pub mod clock;
pub mod env;
pub mod history;
pub mod scenario;
pub mod sim;

pub use cast::Cast;
pub use clock::{ScenarioClock, Speed};
pub use env::DemoEnvironment;
pub use history::PrefillReport;
pub use scenario::{
    Scenario, StepKind, StepRecord, WEBHOOK_DELIVERY_HEADER, WEBHOOK_SIGNATURE_HEADER, sign_webhook,
};

use crate::store::StoreError;
use crate::synth::SynthError;

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("--speed must be a number from {min} to {max}, got {0}", min = Speed::MIN, max = Speed::MAX)]
    Speed(f64),
    #[error("demo: choosing the cast: {0}")]
    Cast(&'static str),
    #[error("demo history: {0}")]
    History(String),
    #[error("demo config: {0}")]
    Config(String),
    #[error("demo history: {0}")]
    Synth(#[from] SynthError),
    #[error("demo store: {0}")]
    Store(#[from] StoreError),
    #[error("demo: {0}")]
    Simulator(#[from] sim::SimError),
}

/// `soc-tui demo` options.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoArgs {
    /// Script seconds per real second: 10 plays the first minute in six seconds.
    #[arg(long, default_value = "1", value_name = "FACTOR")]
    pub speed: Speed,
    /// Seed of the generated history (same seed, same actors and events).
    #[arg(long, default_value_t = 7, value_name = "N")]
    pub seed: u64,
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        demo: DemoArgs,
    }

    #[test]
    fn flags_parse_and_refuse_a_bad_speed() {
        let cli = Cli::try_parse_from(["demo", "--speed", "10", "--seed", "3"]).unwrap();
        assert_eq!((cli.demo.speed.get(), cli.demo.seed), (10.0, 3));
        let defaults = Cli::try_parse_from(["demo"]).unwrap();
        assert_eq!((defaults.demo.speed.get(), defaults.demo.seed), (1.0, 7));
        let error = Cli::try_parse_from(["demo", "--speed", "0"])
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("--speed must be a number from 0.1 to 1000"),
            "{error}"
        );
        assert!(Cli::try_parse_from(["demo", "--speed", "fast"]).is_err());
    }
}
