//! `soc-tui auth ...`: the CLI edge of the credential layer. Prints names and
//! origins only; the one place a value passes through is `set`, on its way
//! from the prompt or stdin into the keychain.

use std::io::{BufRead, IsTerminal, Write};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use zeroize::Zeroize;

use super::credential::Credential;
use super::error::SecretsError;
use super::resolve::{AuthStatus, CredentialState, Resolver};
use super::secret::Secret;

#[derive(Debug, Subcommand)]
#[command(after_help = lookup_help())]
pub enum AuthCommand {
    /// Store a credential in the OS keychain.
    ///
    /// Prompts for the value without echo, or reads one line from stdin with
    /// --stdin (only the trailing newline is removed). Empty input is refused.
    /// Fails, naming the environment variable to use instead, when no keychain
    /// is reachable.
    Set(SetArgs),
    /// Show which credentials are available and where each comes from.
    ///
    /// Origin is "env" (its environment variable), "keychain", "missing", or
    /// "error" when the keychain failed for it. Values are never shown.
    Status(StatusArgs),
    /// Delete a credential from the OS keychain.
    ///
    /// Its environment variable, if set, keeps providing it.
    Delete(DeleteArgs),
}

#[derive(Debug, Args)]
pub struct SetArgs {
    /// Which credential to store.
    #[arg(value_enum)]
    pub credential: Credential,
    /// Read the value from stdin (one line) instead of prompting on the terminal.
    #[arg(long)]
    pub stdin: bool,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct DeleteArgs {
    /// Which credential to delete.
    #[arg(value_enum)]
    pub credential: Credential,
}

/// Shown under `soc-tui auth --help`; built from the credential table so it cannot drift.
fn lookup_help() -> String {
    let mut help = String::from(
        "Lookup order: the environment variable, then the OS keychain (macOS Keychain, \
         Windows Credential Manager, Secret Service on Linux) under the service name \"soc-tui\". \
         An empty variable counts as unset. Without a reachable keychain (e.g. headless Linux \
         without a Secret Service), use the environment variables. Values are never printed, \
         logged or written to a file.\n\nCredentials and their environment variables:\n",
    );
    for credential in Credential::ALL {
        help.push_str(&format!(
            "  {:<22} {}\n",
            credential.name(),
            credential.env_var()
        ));
    }
    help
}

pub fn run(cmd: AuthCommand) -> Result<()> {
    let resolver = Resolver::system();
    let mut stdout = std::io::stdout().lock();
    match cmd {
        AuthCommand::Set(args) => set(&resolver, &args, &mut stdout),
        AuthCommand::Status(args) => {
            let status = resolver.status();
            if args.json {
                writeln!(stdout, "{}", status_json(&status))?;
            } else {
                write!(stdout, "{}", status_table(&status))?;
            }
            Ok(())
        }
        AuthCommand::Delete(args) => delete(&resolver, args.credential, &mut stdout),
    }
}

fn set(resolver: &Resolver<'_>, args: &SetArgs, out: &mut impl Write) -> Result<()> {
    let credential = args.credential;
    let keychain = resolver.keychain();
    // Checked before reading so nobody pastes a secret that cannot be stored.
    if let Err(reason) = keychain.availability() {
        return Err(SecretsError::KeychainUnavailable { credential, reason }.into());
    }
    let secret = if args.stdin {
        read_secret_line(&mut std::io::stdin().lock())
            .with_context(|| format!("reading {credential} from stdin"))?
    } else {
        prompt_secret(credential)?
    };
    keychain.write(credential, &secret)?;
    drop(secret);
    tracing::info!(credential = %credential, backend = keychain.backend(), "credential stored");
    writeln!(
        out,
        "stored {credential} in the OS keychain ({})",
        keychain.backend()
    )?;
    note_env_override(resolver, credential);
    Ok(())
}

fn delete(resolver: &Resolver<'_>, credential: Credential, out: &mut impl Write) -> Result<()> {
    let keychain = resolver.keychain();
    if keychain.delete(credential)? {
        tracing::info!(credential = %credential, "credential deleted from keychain");
        writeln!(
            out,
            "deleted {credential} from the OS keychain ({})",
            keychain.backend()
        )?;
    } else {
        writeln!(
            out,
            "no {credential} in the OS keychain ({}); nothing deleted",
            keychain.backend()
        )?;
    }
    note_env_override(resolver, credential);
    Ok(())
}

fn note_env_override(resolver: &Resolver<'_>, credential: Credential) {
    if let Ok(Some(_)) = resolver.from_env(credential) {
        eprintln!(
            "note: {} is set in this environment and takes precedence over the keychain",
            credential.env_var()
        );
    }
}

fn prompt_secret(credential: Credential) -> Result<Secret> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "stdin is not a terminal, so {credential} cannot be prompted for; \
             pass --stdin to read it from stdin"
        );
    }
    let prompt = format!(
        "{} for {credential} (input hidden): ",
        credential.description()
    );
    let value = rpassword::prompt_password(prompt)
        .with_context(|| format!("reading {credential} from the terminal"))?;
    non_empty(Secret::new(value))
}

/// Room for any API key, so `read_line` never reallocates and leaves a copy behind.
const LINE_CAPACITY: usize = 4096;

/// One line from `reader`, without its trailing `\n` or `\r\n`; nothing else is trimmed.
fn read_secret_line(reader: &mut impl BufRead) -> Result<Secret> {
    let mut line = String::with_capacity(LINE_CAPACITY);
    if let Err(err) = reader.read_line(&mut line) {
        line.zeroize();
        return Err(err.into());
    }
    if line.ends_with('\n') {
        line.pop();
        if line.ends_with('\r') {
            line.pop();
        }
    }
    non_empty(Secret::new(line))
}

fn non_empty(secret: Secret) -> Result<Secret> {
    if secret.is_empty() {
        bail!("the value is empty; nothing stored");
    }
    Ok(secret)
}

fn status_table(status: &AuthStatus) -> String {
    let mut table = format!("{:<22} {:<30} {}\n", "CREDENTIAL", "ENV VAR", "ORIGIN");
    for entry in &status.credentials {
        let origin = match &entry.state {
            CredentialState::Error(reason) => format!("error: {reason}"),
            other => other.label().to_owned(),
        };
        table.push_str(&format!(
            "{:<22} {:<30} {}\n",
            entry.credential.name(),
            entry.credential.env_var(),
            origin
        ));
    }
    match &status.keychain.unavailable_reason {
        None => table.push_str(&format!(
            "\nkeychain: available ({})\n",
            status.keychain.backend
        )),
        Some(reason) => table.push_str(&format!(
            "\nkeychain: unavailable ({reason}); provide credentials through the environment variables above\n"
        )),
    }
    table
}

fn status_json(status: &AuthStatus) -> serde_json::Value {
    let credentials: Vec<_> = status
        .credentials
        .iter()
        .map(|entry| {
            let mut row = serde_json::json!({
                "name": entry.credential.name(),
                "env_var": entry.credential.env_var(),
                "origin": entry.state.label(),
            });
            if let CredentialState::Error(reason) = &entry.state {
                row["error"] = reason.as_str().into();
            }
            row
        })
        .collect();
    serde_json::json!({
        "keychain": {
            "backend": status.keychain.backend,
            "available": status.keychain.unavailable_reason.is_none(),
            "reason": status.keychain.unavailable_reason,
        },
        "credentials": credentials,
    })
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use clap::CommandFactory;

    use super::*;
    use crate::secrets::resolve::{CredentialStatus, KeychainStatus};

    fn read(input: &str) -> Result<Secret> {
        read_secret_line(&mut Cursor::new(input.as_bytes().to_vec()))
    }

    #[test]
    fn stdin_line_loses_only_its_newline() {
        assert_eq!(read("tok\n").unwrap().expose(), "tok");
        assert_eq!(read("tok\r\n").unwrap().expose(), "tok");
        assert_eq!(read("  tok  \n").unwrap().expose(), "  tok  ");
        assert_eq!(read("tok").unwrap().expose(), "tok");
        assert_eq!(read("first\nsecond\n").unwrap().expose(), "first");
    }

    #[test]
    fn empty_input_is_refused() {
        for input in ["", "\n", "\r\n"] {
            let err = read(input).unwrap_err();
            assert!(err.to_string().contains("empty"), "{input:?}: {err}");
        }
    }

    #[test]
    fn help_lists_every_env_var() {
        let mut cli = crate::cli::Cli::command();
        let auth = cli.find_subcommand_mut("auth").expect("auth subcommand");
        let help = auth.render_long_help().to_string();
        for credential in Credential::ALL {
            assert!(help.contains(credential.env_var()), "{help}");
            assert!(help.contains(credential.name()), "{help}");
        }
        let set = auth.find_subcommand_mut("set").expect("auth set");
        let help = set.render_long_help().to_string();
        for credential in Credential::ALL {
            assert!(help.contains(credential.env_var()), "{help}");
        }
    }

    #[test]
    fn status_renders_origins_and_keychain_reason() {
        let status = AuthStatus {
            keychain: KeychainStatus {
                backend: "Secret Service",
                unavailable_reason: Some("no D-Bus session".into()),
            },
            credentials: vec![
                CredentialStatus {
                    credential: Credential::CloudflareToken,
                    state: CredentialState::Env,
                },
                CredentialStatus {
                    credential: Credential::AxiomToken,
                    state: CredentialState::Error("locked".into()),
                },
            ],
        };
        let table = status_table(&status);
        assert!(table.contains("cloudflare"), "{table}");
        assert!(table.contains("SOC_TUI_CLOUDFLARE_TOKEN"), "{table}");
        assert!(table.contains("error: locked"), "{table}");
        assert!(
            table.contains("keychain: unavailable (no D-Bus session)"),
            "{table}"
        );

        let json = status_json(&status);
        assert_eq!(json["keychain"]["available"], false);
        assert_eq!(json["credentials"][0]["origin"], "env");
        assert_eq!(json["credentials"][1]["error"], "locked");
    }
}
