//! `soc-tui setup`: walks through each service on plain prompts, writes the
//! non-secret settings into the config file (comments and other keys kept),
//! stores the secrets in the OS keychain, then runs the doctor's probes and
//! prints the report. Re-running it on a configured install is safe: Enter
//! keeps every value, and nothing is written until every answer is in.

mod config_file;
mod sections;
mod session;
pub mod terminal;

use std::path::Path;

pub use config_file::{ConfigFile, ConfigFileError, Edit};
pub use session::WizardError;
pub use terminal::{LinePrompter, Prompter};

use super::report::DoctorReport;
use crate::paths::Paths;
use crate::secrets::Resolver;
use session::Session;

/// What a wizard run did, and the doctor's report on the result.
#[derive(Debug)]
pub struct WizardOutcome {
    /// Whether the config file was (re)written.
    pub config_written: bool,
    /// Credentials stored in the keychain, by name.
    pub stored: Vec<&'static str>,
    /// Credentials that could not be stored, with the reason (which names
    /// the environment variable to use instead).
    pub not_stored: Vec<String>,
    pub report: DoctorReport,
}

/// Runs the wizard on this process's terminal (stdin/stdout), with the
/// process environment and the OS keychain, on the config file and data
/// dir in `paths`. The console calls this with its terminal suspended (it
/// reads lines and prints plain text); it prints the doctor's report
/// before returning it. Probes run on a private runtime, so any thread may
/// call it.
pub fn run_wizard(paths: &Paths) -> Result<WizardOutcome, WizardError> {
    let mut prompter = terminal::stdio();
    run_wizard_with(
        &mut prompter,
        &Resolver::system(),
        &paths.config_file,
        &paths.data_dir,
    )
}

/// [`run_wizard`] with any prompter and credential resolver (tests use
/// scripted answers and an in-memory keychain).
pub fn run_wizard_with(
    io: &mut dyn Prompter,
    secrets: &Resolver<'_>,
    config_path: &Path,
    data_dir: &Path,
) -> Result<WizardOutcome, WizardError> {
    let (file, config) = ConfigFile::open(config_path)?;
    let mut session = Session::new(io, secrets, file, config);
    introduce(&mut session, config_path)?;
    sections::cloudflare(&mut session)?;
    sections::datadog(&mut session)?;
    sections::confluence(&mut session)?;
    sections::linear(&mut session)?;
    sections::pagerduty(&mut session)?;
    sections::s3(&mut session)?;
    sections::axiom(&mut session)?;

    session.say("")?;
    let config_written = session.file.changed();
    if config_written {
        session.file.write()?;
        let line = format!(
            "wrote {} (comments and other keys kept)",
            config_path.display()
        );
        session.say(&line)?;
    } else {
        session.say(&format!("{} unchanged", config_path.display()))?;
    }
    let mut stored = Vec::new();
    let mut not_stored = Vec::new();
    for (credential, secret) in std::mem::take(&mut session.pending) {
        match secrets.keychain().write(credential, &secret) {
            Ok(()) => {
                tracing::info!(credential = %credential, "credential stored by setup");
                session.say(&format!("stored {credential} in the OS keychain"))?;
                stored.push(credential.name());
            }
            Err(error) => {
                session.say(&format!("could not store {credential}: {error}"))?;
                not_stored.push(error.to_string());
            }
        }
        if let Ok(Some(_)) = secrets.from_env(credential) {
            session.say(&format!(
                "note: {} is set in this environment and takes precedence over the keychain",
                credential.env_var()
            ))?;
        }
    }

    session.say("")?;
    session.say("Checking every configured service...")?;
    let report = super::doctor(&session.config, config_path, secrets, data_dir);
    for line in report.table().lines() {
        session.say(line)?;
    }
    Ok(WizardOutcome {
        config_written,
        stored,
        not_stored,
        report,
    })
}

fn introduce(session: &mut Session<'_>, config_path: &Path) -> Result<(), WizardError> {
    session.say(&format!("soc-tui setup: {}", config_path.display()))?;
    session.say(
        "Each service in turn. Enter keeps the value in [brackets], `-` clears an optional one, \
         `skip` leaves the whole service as it is. Nothing is written until the end.",
    )?;
    if let Some(reason) = session.keychain_problem().map(str::to_owned) {
        session.say(&format!(
            "No OS keychain is reachable here ({reason}): secrets are not asked for; the \
             wizard names the environment variable for each instead."
        ))?;
    } else {
        session.say(
            "Secrets are typed without echo and stored in the OS keychain, never in the file.",
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Cursor;

    use super::*;
    use crate::secrets::{Credential, Keychain, MemoryKeychain};

    /// Runs the wizard on scripted answers; returns its output.
    fn run(
        answers: &str,
        keychain: &MemoryKeychain,
        config: &Path,
        data: &Path,
    ) -> (Result<WizardOutcome, WizardError>, String) {
        let env = |_: &str| None;
        let resolver = Resolver::new(&env, keychain);
        let mut io = LinePrompter::new(Cursor::new(answers.as_bytes().to_vec()), Vec::new(), false);
        let outcome = run_wizard_with(&mut io, &resolver, config, data);
        (outcome, String::from_utf8(io.into_output()).unwrap())
    }

    #[test]
    fn answers_are_validated_written_once_and_a_rerun_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("config.toml");
        // Nothing listens on port 9 of loopback: the final probe fails fast.
        std::fs::write(
            &config,
            "# mine\n[cloudflare]\napi_base = \"http://127.0.0.1:9\"\n[http]\nconnect_timeout = \"1s\"\nrequest_timeout = \"1s\"\nmax_retries = 0\n",
        )
        .unwrap();
        let keychain = MemoryKeychain::default();
        let answers = [
            "not-an-account",                   // refused: re-asked
            "0123456789abcdef0123456789abcdef", // account ids
            "SENTINEL-token",                   // cloudflare token
            "skip",                             // datadog
            "https://x.atlassian.net/wiki",     // confluence base
            "",                                 // space key: required, Enter keeps none
            "skip",                             // so leave confluence as it was
            "skip",                             // linear (at its key)
            "",                                 // pagerduty: keep "no"
            "",                                 // s3: none
            "",                                 // axiom: none
        ]
        .join("\n");
        let (outcome, shown) = run(&format!("{answers}\n"), &keychain, &config, dir.path());
        let outcome = outcome.unwrap_or_else(|e| panic!("{e}\n{shown}"));
        assert!(
            shown.contains("32 lowercase hex"),
            "the refusal says why: {shown}"
        );
        assert!(outcome.config_written, "{shown}");
        assert_eq!(outcome.stored, ["cloudflare"]);
        assert_eq!(
            keychain
                .read(Credential::CloudflareToken)
                .unwrap()
                .as_ref()
                .map(|secret| secret.expose()),
            Some("SENTINEL-token")
        );
        assert!(!shown.contains("SENTINEL"), "{shown}");
        let text = std::fs::read_to_string(&config).unwrap();
        assert!(text.starts_with("# mine"), "{text}");
        assert!(
            text.contains("account_ids = [\"0123456789abcdef0123456789abcdef\"]"),
            "{text}"
        );
        assert!(
            !text.contains("atlassian"),
            "a skipped service is left as it was: {text}"
        );
        let cloudflare = &outcome.report.checks[0];
        assert_eq!(
            cloudflare.status,
            crate::setup::Status::Unreachable,
            "{shown}"
        );

        // Enter everywhere: nothing changes, nothing is stored.
        let (again, shown) = run(&"\n".repeat(40), &keychain, &config, dir.path());
        let again = again.unwrap();
        assert!(!again.config_written, "{shown}");
        assert!(again.stored.is_empty());
        assert!(shown.contains("unchanged"), "{shown}");
        assert_eq!(std::fs::read_to_string(&config).unwrap(), text);

        // Input that ends early writes nothing.
        let (cut, _) = run("-\n", &keychain, &config, dir.path());
        assert!(matches!(cut, Err(WizardError::InputEnded)));
        assert_eq!(std::fs::read_to_string(&config).unwrap(), text);
    }
}
