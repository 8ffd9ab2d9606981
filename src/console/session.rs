//! `soc-tui` without a subcommand: the console on the user's store and
//! config, with the engine in this process. When a daemon already runs the
//! checks on the store, the engine waits in standby and takes over if the
//! daemon's lease goes stale.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result};
use tokio::runtime::Runtime;
use tokio::sync::watch;

use super::auto_investigate::AutoInvestigator;
use super::bridge::{ConsoleBridge, EngineFeeds};
use super::commands::CommandContext;
use super::services::{Receiver, Services};
use super::status::keychain_status;
use crate::config::Config;
use crate::detect::rules;
use crate::engine::cli::{baseline_source, intake_from_config};
use crate::engine::{Engine, EngineOptions, LeaseMode, NoIntake};
use crate::investigate::{Investigator, setup};
use crate::outbox::WorkerSettings;
use crate::paths::Paths;
use crate::secrets::{Credential, Resolver};
use crate::sinks::Sinks;
use crate::store::Store;
use crate::tui::ConsoleOptions;
use crate::tui::model::KeychainStatus;
use crate::workflows::ModePolicy;

/// Worker threads of the runtime the engine runs on beside the UI thread.
const WORKERS: usize = 2;

/// As `soc-tui webhook serve` requires.
const MIN_WEBHOOK_SECRET: usize = 16;

pub fn runtime() -> Result<Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .context("starting the async runtime")
}

/// Runs the console until the analyst quits.
pub fn run(paths: &Paths, theme: Option<String>) -> Result<ExitCode> {
    let config = Config::load_or_default(&paths.config_file)?;
    let rules = rules::load(paths)?.rules;
    paths.ensure_data_dir()?;
    // Before the terminal is taken: afterwards nothing may print to it.
    let log = crate::logging::init(&paths.log_dir());
    if let Err(e) = &log {
        eprintln!("warning: logging disabled: {e:#}");
    }
    let store_path = paths.store_file();
    let runtime = runtime()?;
    let secrets = Resolver::system();
    let mut notices: Vec<(&str, String)> = Vec::new();

    let (services, bridge) = runtime.block_on(async {
        let intake = match intake_from_config(&config, &rules, &store_path, &secrets) {
            Ok((intake, what)) => {
                tracing::info!(%what, "console intake");
                intake
            }
            Err(e) => {
                notices.push(("polling the sources", format!("{e:#}")));
                Arc::new(NoIntake)
            }
        };
        let baseline = baseline_source(&config, &secrets)?;
        let outbox = match Sinks::from_config(&config, &secrets, &paths.data_dir) {
            Ok(sinks) => Some((Arc::new(sinks), WorkerSettings::from_config(&config.outbox))),
            Err(e) => {
                notices.push(("delivering the outbox", e.to_string()));
                None
            }
        };
        let mut engine = Engine::start(
            &config,
            rules,
            paths,
            EngineOptions {
                lease: LeaseMode::Standby,
                intake,
                baseline,
                outbox,
                ..EngineOptions::default()
            },
        )
        .await?;
        let shared = Arc::new(Mutex::new(Store::open(&store_path)?));
        let investigator =
            match setup::investigator(&config, &paths.config_dir, Arc::clone(&shared), &secrets) {
                Ok(i) => Some(i),
                Err(e) => {
                    notices.push(("investigations", e.to_string()));
                    None
                }
            };
        let modes = ModePolicy::from_config(&config);
        let mut tasks = Vec::new();
        if let Some(investigator) = &investigator {
            let auto =
                AutoInvestigator::new(investigator.clone(), config.investigation.clone(), modes);
            tasks.push(tokio::spawn(auto.follow(engine.subscribe())));
        }
        let receiver = match (&investigator, config.webhook.enabled) {
            (Some(investigator), true) => {
                match start_receiver(&config, &secrets, investigator.clone(), modes).await {
                    Ok(r) => Some(r),
                    Err(e) => {
                        notices.push(("the webhook receiver", format!("{e:#}")));
                        None
                    }
                }
            }
            _ => None,
        };
        let (keychain_tx, keychain) = watch::channel(KeychainStatus::EnvironmentOnly);
        // The keychain may answer slowly (D-Bus): probe it off the UI's way.
        tasks.push(tokio::task::spawn_blocking(move || {
            let _ = keychain_tx.send(keychain_status(&Resolver::system().status()));
        }));
        let feeds = EngineFeeds {
            events: engine.subscribe(),
            health: engine.health_watch(),
            keychain,
        };
        let commands = CommandContext {
            store: shared,
            investigator,
            config: Arc::new(config.clone()),
            modes,
            data_dir: paths.data_dir.clone(),
        };
        let bridge = ConsoleBridge::new(
            tokio::runtime::Handle::current(),
            &store_path,
            feeds,
            commands,
        )?;
        anyhow::Ok((
            Services {
                engine,
                receiver,
                tasks,
            },
            bridge,
        ))
    })?;
    let mut bridge = bridge.with_setup(paths.clone());
    for (what, error) in &notices {
        tracing::warn!(%what, %error, "did not start");
        bridge.notice(what, error);
    }
    let options = ConsoleOptions {
        theme: theme.or_else(|| config.ui.theme.clone()),
        config_dir: paths.config_dir.clone(),
        analyst: config.analyst.resolved_name(),
        mouse: false,
        last_looked: None,
    };
    let result = crate::tui::run_console(bridge, options);
    runtime.block_on(services.stop());
    if let Ok(log) = &log {
        tracing::info!(log = %log.display(), "console session ended");
    }
    result.map(|()| ExitCode::SUCCESS)
}

pub(crate) async fn start_receiver(
    config: &Config,
    secrets: &Resolver<'_>,
    investigator: Investigator,
    modes: ModePolicy,
) -> Result<Receiver> {
    let (secret, _) = secrets.require(Credential::WebhookSecret)?;
    if secret.expose().len() < MIN_WEBHOOK_SECRET {
        anyhow::bail!(
            "the {} credential is shorter than {MIN_WEBHOOK_SECRET} characters; use a long random \
             value (e.g. `openssl rand -hex 32`)",
            Credential::WebhookSecret.name()
        );
    }
    let listener = crate::webhook::server::bind(&config.webhook)
        .await
        .with_context(|| {
            format!(
                "listening on {}:{} (webhook.bind, webhook.port)",
                config.webhook.bind, config.webhook.port
            )
        })?;
    Ok(Receiver::start(
        listener,
        config.webhook.clone(),
        secret,
        investigator,
        modes,
    )?)
}
