//! `soc-tui webhook serve` (the receiver on its own, without the engine)
//! and `soc-tui webhook sign` (a signed test request, for wiring a detector).

use std::io::Read;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::{Context, Result, bail};
use chrono::Utc;
use clap::Subcommand;

use super::auth::{self, DELIVERY_HEADER, SHARED_SECRET_HEADER, SIGNATURE_HEADER};
use super::server::{self, ANOMALY_PATH, WebhookState};
use crate::config::{Config, WebhookAuthMode};
use crate::investigate::setup;
use crate::paths::Paths;
use crate::secrets::{Credential, Resolver};
use crate::store::Store;

/// Largest body `sign` reads.
const MAX_SIGN_BYTES: u64 = 16 * 1024 * 1024;

#[derive(Debug, Subcommand)]
pub enum WebhookCommand {
    /// Run the anomaly receiver in the foreground (Ctrl-C stops it).
    ///
    /// Listens on [webhook] bind:port; each accepted anomaly becomes a draft
    /// investigation (see `soc-tui report list`).
    Serve,
    /// Print a curl command that sends FILE as a correctly signed anomaly.
    ///
    /// Signs with the webhook-secret credential at the current time. In
    /// shared_secret mode the secret itself is the header, so it is not
    /// printed: the command names the credential instead.
    Sign {
        /// The JSON body to send; `-` reads standard input.
        #[arg(value_name = "FILE")]
        body: PathBuf,
        /// Delivery id (default: a random one).
        #[arg(long)]
        delivery: Option<String>,
        /// Receiver URL (default: from [webhook] bind and port).
        #[arg(long)]
        url: Option<String>,
    },
}

pub fn run(cmd: WebhookCommand, paths: &Paths) -> Result<ExitCode> {
    let config = Config::load_or_default(&paths.config_file)?;
    match cmd {
        WebhookCommand::Serve => serve(&config, paths),
        WebhookCommand::Sign {
            body,
            delivery,
            url,
        } => sign(&config, &body, delivery, url),
    }
}

fn secret() -> Result<crate::secrets::Secret> {
    let (secret, _) = Resolver::system().require(Credential::WebhookSecret)?;
    if secret.expose().len() < 16 {
        bail!(
            "the {} credential is shorter than 16 characters; use a long random value \
             (e.g. `openssl rand -hex 32`)",
            Credential::WebhookSecret.name()
        );
    }
    Ok(secret)
}

fn serve(config: &Config, paths: &Paths) -> Result<ExitCode> {
    let secret = secret()?;
    paths.ensure_data_dir()?;
    let store_path = paths.store_file();
    let store = Store::open(&store_path)
        .with_context(|| format!("opening the store {}", store_path.display()))?;
    let store = Arc::new(Mutex::new(store));
    let investigator = setup::investigator(config, &paths.config_dir, store, &Resolver::system())?;
    let state = Arc::new(WebhookState::new(
        config.webhook.clone(),
        secret,
        investigator,
        crate::workflows::ModePolicy::from_config(config),
    ));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async {
        let listener = server::bind(&config.webhook).await.with_context(|| {
            format!(
                "listening on {}:{} (webhook.bind, webhook.port)",
                config.webhook.bind, config.webhook.port
            )
        })?;
        let address = listener
            .local_addr()
            .context("reading the listen address")?;
        eprintln!(
            "soc-tui webhook: listening on http://{address}{ANOMALY_PATH} ({} mode); Ctrl-C stops",
            config.webhook.mode
        );
        tracing::info!(%address, mode = %config.webhook.mode, "webhook receiver started");
        server::serve(listener, state, async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .context("serving webhooks")
    })?;
    Ok(ExitCode::SUCCESS)
}

fn read_body(path: &PathBuf) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    if path.as_os_str() == "-" {
        std::io::stdin()
            .take(MAX_SIGN_BYTES)
            .read_to_end(&mut body)
            .context("reading the body from standard input")?;
    } else {
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_SIGN_BYTES).read_to_end(&mut body))
            .with_context(|| format!("reading {}", path.display()))?;
    }
    Ok(body)
}

/// Single-quotes `text` for a POSIX shell.
fn shell_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

fn sign(
    config: &Config,
    path: &PathBuf,
    delivery: Option<String>,
    url: Option<String>,
) -> Result<ExitCode> {
    let body = read_body(path)?;
    if let Err(err) = super::payload::parse(&body, &config.webhook.fields) {
        eprintln!("warning: the receiver will refuse this body: {err}");
    }
    let delivery =
        delivery.unwrap_or_else(|| format!("{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..)));
    let url = url.unwrap_or_else(|| {
        format!(
            "http://{}:{}{ANOMALY_PATH}",
            config.webhook.bind, config.webhook.port
        )
    });
    let auth_header = match config.webhook.mode {
        WebhookAuthMode::Hmac => {
            let secret = secret()?;
            let header = auth::sign(secret.expose().as_bytes(), Utc::now().timestamp(), &body);
            format!("{SIGNATURE_HEADER}: {header}")
        }
        WebhookAuthMode::SharedSecret => format!(
            "{SHARED_SECRET_HEADER}: ${}",
            Credential::WebhookSecret.env_var()
        ),
    };
    let data = if path.as_os_str() == "-" {
        shell_quote(&String::from_utf8_lossy(&body))
    } else {
        shell_quote(&format!("@{}", path.display()))
    };
    let quote_header = |h: &str| match config.webhook.mode {
        // The variable must expand, so this one is double-quoted.
        WebhookAuthMode::SharedSecret if h.starts_with(SHARED_SECRET_HEADER) => format!("\"{h}\""),
        _ => shell_quote(h),
    };
    println!(
        "curl -sS -X POST {} -H 'content-type: application/json' -H {} -H {} --data-binary {}",
        shell_quote(&url),
        quote_header(&format!("{DELIVERY_HEADER}: {delivery}")),
        quote_header(&auth_header),
        data
    );
    if config.webhook.mode == WebhookAuthMode::Hmac {
        eprintln!(
            "The signature is valid for {} from now (webhook.max_skew).",
            config.webhook.max_skew
        );
    }
    Ok(ExitCode::SUCCESS)
}
