//! The questions and answers of one wizard run: "Enter keeps the current
//! value, `-` clears it, `skip` leaves the service as it was", secret
//! prompts, and committing a service's answers once the whole config is
//! still valid with them.

use std::io;

use super::config_file::{ConfigFile, ConfigFileError, Edit};
use super::terminal::Prompter;
use crate::config::Config;
use crate::sanitize::sanitize_with_limit;
use crate::secrets::{Credential, Resolver, Secret, SecretOrigin};
use crate::setup::check::usable_in_header;

#[derive(Debug, thiserror::Error)]
pub enum WizardError {
    #[error("the input ended before the wizard finished; nothing was written")]
    InputEnded,
    #[error("reading the answers failed: {0}; nothing was written")]
    Io(#[from] io::Error),
    #[error(transparent)]
    ConfigFile(#[from] ConfigFileError),
}

/// An answer to one question.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// Enter: the current value stays.
    Keep,
    /// `-`: the value is removed (optional keys only).
    Clear,
    Set(String),
}

impl Answer {
    /// Whether the key holds a value after this answer, `had` saying whether
    /// it held one before.
    pub fn leaves_set(&self, had: bool) -> bool {
        match self {
            Answer::Keep => had,
            Answer::Clear => false,
            Answer::Set(_) => true,
        }
    }
}

/// `Err(Skip)` from a question: the user typed `skip`, the service stays as it was.
#[derive(Debug)]
pub struct Skip;

pub type Asked<T> = Result<Result<T, Skip>, WizardError>;

pub struct Session<'a> {
    io: &'a mut dyn Prompter,
    secrets: &'a Resolver<'a>,
    /// `Err(reason)` when no OS keychain can hold secrets here.
    keychain: Result<(), String>,
    pub file: ConfigFile,
    /// The config as committed so far.
    pub config: Config,
    /// Secrets of committed services, stored once the config is written.
    pub pending: Vec<(Credential, Secret)>,
}

impl<'a> Session<'a> {
    pub fn new(
        io: &'a mut dyn Prompter,
        secrets: &'a Resolver<'a>,
        file: ConfigFile,
        config: Config,
    ) -> Session<'a> {
        let keychain = secrets.keychain().availability();
        Session {
            io,
            secrets,
            keychain,
            file,
            config,
            pending: Vec::new(),
        }
    }

    pub fn secrets(&self) -> &Resolver<'a> {
        self.secrets
    }

    pub fn keychain_problem(&self) -> Option<&str> {
        self.keychain.as_ref().err().map(String::as_str)
    }

    pub fn say(&mut self, line: &str) -> Result<(), WizardError> {
        Ok(self.io.say(line)?)
    }

    pub fn heading(&mut self, title: &str) -> Result<(), WizardError> {
        self.say("")?;
        self.say(&format!("== {title} =="))
    }

    /// One question. `current` is shown in brackets; `optional` allows `-`.
    pub fn ask(&mut self, question: &str, current: Option<&str>, optional: bool) -> Asked<Answer> {
        let shown = match current {
            Some(value) if !value.is_empty() => {
                format!(" [{}]", sanitize_with_limit(value, 200))
            }
            _ => String::new(),
        };
        loop {
            let Some(answer) = self.io.ask(&format!("{question}{shown}: "))? else {
                return Err(WizardError::InputEnded);
            };
            match answer.as_str() {
                "" => return Ok(Ok(Answer::Keep)),
                "skip" => return Ok(Err(Skip)),
                "-" if optional => return Ok(Ok(Answer::Clear)),
                "-" => self.say("  this one is required here: type a value, or `skip`")?,
                _ => return Ok(Ok(Answer::Set(answer))),
            }
        }
    }

    /// Like [`ask`](Self::ask), asking again until `check` accepts a new value.
    pub fn ask_checked(
        &mut self,
        question: &str,
        current: Option<&str>,
        optional: bool,
        check: impl Fn(&str) -> Result<(), String>,
    ) -> Asked<Answer> {
        loop {
            match self.ask(question, current, optional)? {
                Ok(Answer::Set(value)) => match check(&value) {
                    Ok(()) => return Ok(Ok(Answer::Set(value))),
                    Err(problem) => self.say(&format!("  {problem}"))?,
                },
                other => return Ok(other),
            }
        }
    }

    /// yes / no, Enter keeping `current`.
    pub fn ask_yes_no(&mut self, question: &str, current: bool) -> Asked<bool> {
        let shown = if current { "yes" } else { "no" };
        loop {
            match self.ask(&format!("{question} (yes/no)"), Some(shown), false)? {
                Err(skip) => return Ok(Err(skip)),
                Ok(Answer::Keep) => return Ok(Ok(current)),
                Ok(Answer::Set(text)) => match text.to_ascii_lowercase().as_str() {
                    "y" | "yes" | "on" | "true" => return Ok(Ok(true)),
                    "n" | "no" | "off" | "false" => return Ok(Ok(false)),
                    _ => self.say("  answer yes or no")?,
                },
                Ok(Answer::Clear) => {}
            }
        }
    }

    /// Asks for `credential`'s value without echo. `Ok(None)`: keep what is
    /// stored (or leave it unset). Without a keychain nothing is asked: the
    /// user is told which environment variable to set instead.
    pub fn ask_secret(&mut self, credential: Credential) -> Asked<Option<Secret>> {
        if let Some(reason) = self.keychain_problem() {
            let line = format!(
                "  {credential}: no OS keychain here ({reason}); set {} in the environment instead",
                credential.env_var()
            );
            self.say(&line)?;
            return Ok(Ok(None));
        }
        let state = match self.secrets.resolve(credential) {
            Ok(Some((_, SecretOrigin::Keychain))) => {
                "stored in the keychain; Enter keeps it".to_owned()
            }
            Ok(Some((_, SecretOrigin::Env(var)))) => {
                format!("{var} is set and wins over the keychain; Enter keeps it")
            }
            Ok(None) => "not stored yet; Enter leaves it unset".to_owned(),
            Err(error) => format!("cannot be read now ({error}); Enter leaves it as it is"),
        };
        let prompt = format!(
            "{} ({credential}) [{state}], input hidden: ",
            credential.description()
        );
        loop {
            let Some(secret) = self.io.ask_secret(&prompt)? else {
                return Err(WizardError::InputEnded);
            };
            if secret.is_empty() {
                return Ok(Ok(None));
            }
            if secret.expose() == "skip" {
                return Ok(Err(Skip));
            }
            if usable_in_header(secret.expose()) {
                return Ok(Ok(Some(secret)));
            }
            self.say(
                "  that value holds spaces, control characters or non-ASCII letters, which no \
                 key has; paste the key alone (or `skip`)",
            )?;
        }
    }

    /// Keeps `edits` and `secrets` if the whole config stays valid with
    /// them; otherwise says why (the key and the fix) and keeps nothing.
    pub fn commit(
        &mut self,
        service: &str,
        edits: &[Edit],
        secrets: Vec<(Credential, Secret)>,
    ) -> Result<bool, WizardError> {
        match self.file.try_apply(edits)? {
            Ok(config) => {
                self.config = config;
                self.pending.extend(secrets);
                Ok(true)
            }
            Err(problem) => {
                self.say(&format!(
                    "  these {service} settings would make the config invalid: {problem}"
                ))?;
                self.say(&format!(
                    "  once more for {service} (or `skip` to leave it as it was):"
                ))?;
                Ok(false)
            }
        }
    }
}
