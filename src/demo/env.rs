//! [`DemoEnvironment`]: everything `soc-tui demo` runs against, started in
//! one call: the simulators on loopback, a store pre-filled with 30 days of
//! history, a config pointing every service at the simulators, the fake
//! credentials they accept, and the (not yet started) live scenario.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Duration as TimeDelta, SubsecRound, Utc};
use serde_json::Value;

use super::DemoError;
use super::cast::Cast;
use super::clock::Speed;
use super::history::{self, PrefillReport, Sinks};
use super::scenario::Scenario;
use super::sim::{SimCredentials, SimOptions, Simulators, random_text};
use crate::config::{
    AccountId, BaseUrl, Config, Email, HumanDuration, WorkflowMode, WorkflowsConfig,
};
use crate::paths::Paths;
use crate::secrets::{Credential, NoKeychain, Resolver, Secret};
use crate::synth::{Generator, Params, Shape};

/// How much of the history (ending now) the simulators also serve: what
/// the pollers' first reads can reach.
const SIMULATED_HISTORY: TimeDelta = TimeDelta::hours(24);
/// Cadences in script seconds, divided by `--speed`.
const BASELINE_CADENCE: Duration = Duration::from_secs(15);
const BURSTS_CADENCE: Duration = Duration::from_secs(5);
const TOKENS_CADENCE: Duration = Duration::from_secs(5);
/// No cadence faster than this, whatever the speed.
const CADENCE_FLOOR: Duration = Duration::from_millis(250);

/// Reads the demo's credentials by environment variable name.
type EnvLookupFn = dyn Fn(&str) -> Option<OsString> + Send + Sync;

/// The simulated world and how to reach it.
pub struct DemoEnvironment {
    /// `cloudflare.api_base` (`http://127.0.0.1:<port>/client/v4`).
    pub cloudflare_url: String,
    /// `datadog.api_base`.
    pub datadog_url: String,
    /// `confluence.base_url` (the wiki root, `…/wiki`).
    pub confluence_url: String,
    /// `linear.api_url` (`…/graphql`).
    pub linear_url: String,
    /// `pagerduty.events_base` (`…/v2`).
    pub pagerduty_url: String,
    /// The simulated Cloudflare account.
    pub account_id: String,
    /// Every base URL at the simulators, cadences scaled by `--speed`.
    pub config: Config,
    /// Credentials by environment variable name (`SOC_TUI_…`): the ones the
    /// simulators accept, plus the webhook secret. [`DemoEnvironment::resolver`]
    /// reads them.
    pub env: Arc<Vec<(&'static str, Secret)>>,
    lookup: Box<EnvLookupFn>,
    /// The pre-filled store (`<data_dir>/soc-tui.db`).
    pub store_path: PathBuf,
    pub prefill: PrefillReport,
    /// Wall time of [`DemoEnvironment::start`].
    pub startup: Duration,
    pub cast: Cast,
    pub sims: Simulators,
    pub scenario: Scenario,
    pub seed: u64,
    pub speed: Speed,
    /// When the generated history ends (start-up time).
    pub history_end: DateTime<Utc>,
}

impl std::fmt::Debug for DemoEnvironment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DemoEnvironment")
            .field("cloudflare_url", &self.cloudflare_url)
            .field("datadog_url", &self.datadog_url)
            .field("confluence_url", &self.confluence_url)
            .field("linear_url", &self.linear_url)
            .field("pagerduty_url", &self.pagerduty_url)
            .field("account_id", &self.account_id)
            .field("env", &self.env.iter().map(|(k, _)| *k).collect::<Vec<_>>())
            .field("store_path", &self.store_path)
            .field("prefill", &self.prefill)
            .field("startup", &self.startup)
            .field("seed", &self.seed)
            .field("speed", &self.speed)
            .finish_non_exhaustive()
    }
}

impl DemoEnvironment {
    /// Starts the simulators on the current tokio runtime, pre-fills the
    /// store in `data_dir` and prepares the scenario for `seed` at `speed`.
    /// Call [`Scenario::start`] (on `self.scenario`) once the engine runs.
    pub async fn start(
        seed: u64,
        speed: Speed,
        data_dir: &Path,
    ) -> Result<DemoEnvironment, DemoError> {
        let started = Instant::now();
        let end = Utc::now().trunc_subsecs(0);
        let probe = Generator::new(Params::demo(seed, end))?;
        let account_id = account_of(&probe)?;
        let cast = Cast::choose(probe.actors(), end)?;
        let mut params = Params::demo(seed, end);
        // The day before the last, so planted entries spilling past their
        // hour are still generated.
        params.anomalies = cast.anomalies(params.days.saturating_sub(2));
        let generator = Generator::new(params)?;

        let credentials = SimCredentials::generate();
        let sims = Simulators::start(&account_id, &credentials, &SimOptions::default()).await?;
        let store_path = Paths {
            config_file: data_dir.join("config.toml"),
            config_dir: data_dir.to_path_buf(),
            data_dir: data_dir.to_path_buf(),
        }
        .store_file();
        let (cloudflare, datadog) = (sims.cloudflare.feed(), sims.datadog.feed());
        let prefill_path = store_path.clone();
        let (prefill, scripted) = tokio::task::spawn_blocking(move || {
            history::prefill(
                &generator,
                &Sinks {
                    store_path: &prefill_path,
                    cloudflare: &cloudflare,
                    datadog: &datadog,
                    simulators_since: end - SIMULATED_HISTORY,
                },
            )
        })
        .await
        .map_err(|e| DemoError::History(format!("the pre-fill task failed: {e}")))??;

        let scenario = Scenario::new(
            scripted,
            &cast,
            speed,
            sims.cloudflare.feed(),
            sims.datadog.feed(),
            tokio::runtime::Handle::current(),
        );
        let urls = Urls {
            cloudflare: sims.cloudflare.base_url(),
            datadog: sims.datadog.base_url(),
            confluence: sims.confluence.base_url(),
            linear: sims.linear.base_url(),
            pagerduty: sims.pagerduty.base_url(),
        };
        let config = demo_config(&urls, &account_id, &sims, &credentials, speed)?;
        let env = Arc::new(environment(credentials));
        let lookup = {
            let env = Arc::clone(&env);
            Box::new(move |name: &str| {
                env.iter()
                    .find(|(var, _)| *var == name)
                    .map(|(_, secret)| OsString::from(secret.expose()))
            })
        };
        Ok(DemoEnvironment {
            cloudflare_url: urls.cloudflare,
            datadog_url: urls.datadog,
            confluence_url: urls.confluence,
            linear_url: urls.linear,
            pagerduty_url: urls.pagerduty,
            account_id,
            config,
            env,
            lookup,
            store_path,
            prefill,
            startup: started.elapsed(),
            cast,
            sims,
            scenario,
            seed,
            speed,
            history_end: end,
        })
    }

    /// Credentials for soc-tui: the demo's environment and no OS keychain,
    /// so a demo never reads (or writes) the user's real credentials.
    pub fn resolver(&self) -> Resolver<'_> {
        Resolver::new(self.lookup.as_ref(), &NO_KEYCHAIN)
    }

    /// The secret the anomaly webhook is signed with (also in `env`).
    pub fn webhook_secret(&self) -> Option<&Secret> {
        let var = Credential::WebhookSecret.env_var();
        self.env.iter().find(|(v, _)| *v == var).map(|(_, s)| s)
    }

    /// Points the scenario's webhook at soc-tui's receiver
    /// (`http://127.0.0.1:<port>/webhook/anomaly`), signed with the demo secret.
    pub fn send_webhook_to(&self, url: impl Into<String>) {
        if let Some(secret) = self.webhook_secret() {
            self.scenario
                .set_webhook_target(url, Secret::new(secret.expose().to_owned()));
        }
    }
}

/// The demo's keychain: holds nothing and stores nothing.
const NO_KEYCHAIN: NoKeychain = NoKeychain::new("the demo uses only its own simulated credentials");

struct Urls {
    cloudflare: String,
    datadog: String,
    confluence: String,
    linear: String,
    pagerduty: String,
}

/// The account id the generator writes (every Cloudflare entry has it).
fn account_of(generator: &Generator) -> Result<String, DemoError> {
    generator
        .events()
        .find(|e| e.shape == Shape::CloudflareV2)
        .and_then(|e| serde_json::from_str::<Value>(&e.raw).ok())
        .and_then(|v| {
            v.pointer("/account/id")
                .and_then(Value::as_str)
                .map(str::to_owned)
        })
        .ok_or_else(|| {
            DemoError::History("the generated history has no Cloudflare account id".into())
        })
}

fn url(value: &str) -> Result<BaseUrl, DemoError> {
    BaseUrl::try_from(value.to_owned()).map_err(|e| DemoError::Config(format!("{value}: {e}")))
}

fn duration(d: Duration) -> Result<HumanDuration, DemoError> {
    HumanDuration::try_from(format!("{}ms", d.as_millis())).map_err(DemoError::Config)
}

fn demo_config(
    urls: &Urls,
    account_id: &str,
    sims: &Simulators,
    credentials: &SimCredentials,
    speed: Speed,
) -> Result<Config, DemoError> {
    let mut config = Config::default();
    config.cloudflare.account_ids =
        vec![AccountId::try_from(account_id.to_owned()).map_err(DemoError::Config)?];
    config.cloudflare.api_base = url(&urls.cloudflare)?;
    // The simulators append whole entries at once: nothing arrives late.
    config.cloudflare.settle_delay = HumanDuration::from_secs(0);
    config.datadog.api_base = Some(url(&urls.datadog)?);
    config.datadog.settle_delay = HumanDuration::from_secs(0);
    config.confluence.base_url = Some(url(&urls.confluence)?);
    config.confluence.space_key = Some(sims.confluence.space_key().to_owned());
    config.confluence.email =
        Some(Email::try_from(credentials.confluence_email.clone()).map_err(DemoError::Config)?);
    config.linear.api_url = url(&urls.linear)?;
    config.linear.team_id = Some(sims.linear.team_id().to_owned());
    config.pagerduty.enabled = true;
    // Everything here is simulated and the demo shows delivery end to end,
    // so every workflow is on (the analyst can still switch them with w).
    config.workflows = WorkflowsConfig::all(WorkflowMode::On);
    config.pagerduty.events_base = url(&urls.pagerduty)?;
    config.checks.baseline_cadence =
        duration(speed.scale_at_least(BASELINE_CADENCE, CADENCE_FLOOR))?;
    config.checks.bursts_cadence = duration(speed.scale_at_least(BURSTS_CADENCE, CADENCE_FLOOR))?;
    config.checks.tokens_cadence = duration(speed.scale_at_least(TOKENS_CADENCE, CADENCE_FLOOR))?;
    // Through the same validation a config file gets.
    let text = toml::to_string(&config).map_err(|e| DemoError::Config(e.to_string()))?;
    Config::from_toml_str(&text, "demo config").map_err(|e| DemoError::Config(e.to_string()))
}

fn environment(credentials: SimCredentials) -> Vec<(&'static str, Secret)> {
    let webhook_secret = Secret::new(random_text(
        &mut fastrand::Rng::new(),
        b"0123456789abcdef",
        64,
    ));
    vec![
        (
            Credential::CloudflareToken.env_var(),
            credentials.cloudflare_token,
        ),
        (
            Credential::DatadogApiKey.env_var(),
            credentials.datadog_api_key,
        ),
        (
            Credential::DatadogAppKey.env_var(),
            credentials.datadog_app_key,
        ),
        (
            Credential::ConfluenceToken.env_var(),
            credentials.confluence_token,
        ),
        (
            Credential::LinearApiKey.env_var(),
            credentials.linear_api_key,
        ),
        (
            Credential::PagerdutyRoutingKey.env_var(),
            credentials.pagerduty_routing_key,
        ),
        (Credential::WebhookSecret.env_var(), webhook_secret),
    ]
}
