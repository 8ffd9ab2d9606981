//! `soc-tui demo`: the console against the simulated environment, with no
//! credentials and no network beyond loopback.
//!
//! A temporary data dir holds the store (30 days of generated history) and
//! the log. The engine polls the simulators with the demo's credentials
//! (never the OS keychain), the webhook receiver listens on a free loopback
//! port, findings start investigations, and the scripted attack plays at
//! `--speed`. On exit everything stops and the dir is deleted (`--keep`
//! keeps it and says where).

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::watch;

use super::auto_investigate::AutoInvestigator;
use super::bridge::{ConsoleBridge, EngineFeeds};
use super::commands::CommandContext;
use super::hour_preview;
use super::services::{Receiver, Services};
use super::session::runtime;
use super::status::keychain_status;
use crate::config::Config;
use crate::demo::{DemoArgs, DemoEnvironment, Speed};
use crate::detect::rules;
use crate::engine::cli::intake_from_config;
use crate::engine::{Cadences, Engine, EngineOptions, LeaseMode};
use crate::investigate::setup;
use crate::outbox::WorkerSettings;
use crate::paths::Paths;
use crate::secrets::Secret;
use crate::sinks::Sinks;
use crate::store::Store;
use crate::tui::ConsoleOptions;
use crate::tui::model::KeychainStatus;
use crate::workflows::ModePolicy;

/// When set, the demo writes a JSON report to this path: the attacker's
/// email once the demo has started, then also the pages the Confluence
/// simulator received, on exit. How the end-to-end test checks delivery.
pub const REPORT_ENV: &str = "SOC_TUI_DEMO_REPORT";

/// The simulators append whole entries at once: nothing arrives late, so
/// the checks need not hold back a minute as they do against real APIs.
const DEMO_SETTLE: Duration = Duration::from_secs(1);

/// `soc-tui demo` options.
#[derive(Debug, Clone, clap::Args)]
pub struct DemoCommand {
    #[command(flatten)]
    pub demo: DemoArgs,
    /// Keep the demo's data dir (store and log) instead of deleting it on exit.
    #[arg(long)]
    pub keep: bool,
}

/// The demo running beside the console.
pub struct DemoSession {
    pub demo: DemoEnvironment,
    pub services: Services,
}

impl DemoSession {
    /// Starts the simulated world in `dir`, the engine, investigator and
    /// receiver on it, then the scripted attack. Call inside the runtime.
    pub async fn start(
        seed: u64,
        speed: Speed,
        dir: &Path,
    ) -> Result<(DemoSession, ConsoleBridge)> {
        let demo = DemoEnvironment::start(seed, speed, dir).await?;
        tracing::info!(?demo, "demo environment started");
        let rules = rules::parse(Some(("demo rules", &demo.cast.rules_overlay())))?.rules;
        let mut config = demo.config.clone();
        config.investigation.auto_investigate_findings = true;
        let modes = ModePolicy::from_config(&config);
        let secrets = demo.resolver();
        let (intake, polled) = intake_from_config(&config, &rules, &demo.store_path, &secrets)?;
        tracing::info!(%polled, "demo intake");
        let sinks = Sinks::from_config(&config, &secrets, dir)
            .map_err(|e| anyhow::anyhow!("setting up the demo's sinks: {e}"))?;
        let mut engine = Engine::start_with_store(
            Store::open(&demo.store_path)?,
            Cadences::from(&config.checks),
            rules.clone(),
            EngineOptions {
                workflows: config.workflows,
                lease: LeaseMode::Exclusive,
                intake,
                settle: DEMO_SETTLE,
                outbox: Some((Arc::new(sinks), WorkerSettings::from_config(&config.outbox))),
                ..EngineOptions::default()
            },
        )
        .await?;
        let shared = Arc::new(Mutex::new(Store::open(&demo.store_path)?));
        let investigator = setup::investigator(&config, dir, Arc::clone(&shared), &secrets)?;
        let auto = AutoInvestigator::new(investigator.clone(), config.investigation.clone(), modes);
        let secret = demo
            .webhook_secret()
            .map(|s| Secret::new(s.expose().to_owned()))
            .context("the demo has no webhook secret")?;
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .context("listening for the demo's webhook on loopback")?;
        let receiver = Receiver::start(
            listener,
            config.webhook.clone(),
            secret,
            investigator.clone(),
            modes,
        )?;
        demo.send_webhook_to(receiver.url());

        let mut tasks = vec![tokio::spawn(auto.clone().follow(engine.subscribe()))];
        tasks.push(tokio::spawn(hour_preview::run(
            engine.store(),
            Arc::new(rules),
            config.checks.baseline_cadence.get(),
            modes,
            Some(auto),
        )));
        let keychain = keychain_status(&secrets.status());
        let (_, keychain) = watch::channel(keychain_or_demo(keychain));
        let feeds = EngineFeeds {
            events: engine.subscribe(),
            health: engine.health_watch(),
            keychain,
        };
        let commands = CommandContext {
            store: shared,
            investigator: Some(investigator),
            config: Arc::new(config),
            modes,
            data_dir: dir.to_path_buf(),
        };
        let bridge = ConsoleBridge::new(
            tokio::runtime::Handle::current(),
            &demo.store_path,
            feeds,
            commands,
        )?;
        demo.scenario.start();
        let services = Services {
            engine,
            receiver: Some(receiver),
            tasks,
        };
        Ok((DemoSession { demo, services }, bridge))
    }

    /// The attacker and the pages the Confluence simulator received, as
    /// `SOC_TUI_DEMO_REPORT` holds them; `finished`: written on exit.
    pub fn report_json(&self, finished: bool) -> serde_json::Value {
        let pages: Vec<serde_json::Value> = self
            .demo
            .sims
            .confluence
            .pages()
            .iter()
            .map(|p| {
                json!({
                    "id": p.id,
                    "title": p.title,
                    "space_key": p.space_key,
                    "url": p.url,
                    "created_at": p.created_at,
                })
            })
            .collect();
        json!({
            "attacker": self.demo.cast.attacker.email,
            "finished": finished,
            "pages": pages,
        })
    }

    /// Stops everything; the simulators stop as they are dropped.
    pub async fn stop(self) {
        self.services.stop().await;
        drop(self.demo);
    }
}

/// The demo never reads the OS keychain: say so rather than "unavailable".
fn keychain_or_demo(status: KeychainStatus) -> KeychainStatus {
    match status {
        KeychainStatus::Unavailable(_) => KeychainStatus::EnvironmentOnly,
        other => other,
    }
}

/// Runs the demo until the analyst quits.
pub fn run(args: DemoCommand, paths: &Paths, theme: Option<String>) -> Result<ExitCode> {
    let dir = temp_dir()?;
    let log = crate::logging::init(&dir.join("logs"))?;
    eprintln!(
        "soc-tui demo: starting the simulators and 30 days of history in {} ...",
        dir.display()
    );
    let result = run_in(&args, paths, theme, &dir);
    if args.keep || result.is_err() {
        eprintln!(
            "soc-tui demo: the data dir is kept at {} (log: {})",
            dir.display(),
            log.display()
        );
    } else if let Err(e) = std::fs::remove_dir_all(&dir) {
        eprintln!("soc-tui demo: could not delete {}: {e}", dir.display());
    }
    result
}

fn run_in(
    args: &DemoCommand,
    paths: &Paths,
    theme: Option<String>,
    dir: &Path,
) -> Result<ExitCode> {
    let runtime = runtime()?;
    let (session, bridge) =
        runtime.block_on(DemoSession::start(args.demo.seed, args.demo.speed, dir))?;
    // The user's look (theme, keymap), not their config: the demo has its own.
    let user_theme = match Config::load_or_default(&paths.config_file) {
        Ok(c) => c.ui.theme,
        Err(e) => {
            tracing::warn!(error = %e, "the user config is not read for the demo's theme");
            None
        }
    };
    let options = ConsoleOptions {
        theme: theme.or(user_theme),
        config_dir: paths.config_dir.clone(),
        analyst: crate::config::AnalystConfig::default().resolved_name(),
        mouse: false,
        last_looked: None,
    };
    write_report(&session, false)?;
    let result = crate::tui::run_console(bridge, options);
    let report = write_report(&session, true);
    runtime.block_on(session.stop());
    result?;
    report?;
    Ok(ExitCode::SUCCESS)
}

/// Writes [`DemoSession::report_json`] where `SOC_TUI_DEMO_REPORT` says, if set.
fn write_report(session: &DemoSession, finished: bool) -> Result<()> {
    let Some(path) = std::env::var_os(REPORT_ENV) else {
        return Ok(());
    };
    let path = PathBuf::from(path);
    let text = serde_json::to_string_pretty(&session.report_json(finished))?;
    // Whole or not at all: a reader polling the file never sees half of it.
    let partial = path.with_extension("partial");
    std::fs::write(&partial, text)
        .and_then(|()| std::fs::rename(&partial, &path))
        .with_context(|| format!("writing the demo report {}", path.display()))
}

/// A fresh owner-only directory under the system temp dir.
fn temp_dir() -> Result<PathBuf> {
    let base = std::env::temp_dir();
    for _ in 0..16 {
        let dir = base.join(format!("soc-tui-demo-{:016x}", fastrand::u64(..)));
        let mut builder = std::fs::DirBuilder::new();
        #[cfg(unix)]
        {
            use std::os::unix::fs::DirBuilderExt;
            builder.mode(0o700);
        }
        match builder.create(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(e) => {
                return Err(e)
                    .with_context(|| format!("creating a demo dir in {}", base.display()));
            }
        }
    }
    anyhow::bail!("could not create a fresh demo dir in {}", base.display())
}
