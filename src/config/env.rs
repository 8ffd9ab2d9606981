//! `SOC_TUI__<SECTION>__<KEY>` environment variables: any config key set
//! without editing the file (containers, CI, a one-off run).
//!
//! The name is the key path in upper case with `__` between its segments:
//! `SOC_TUI__HTTP__REQUEST_TIMEOUT` sets `http.request_timeout`,
//! `SOC_TUI__AGENTS__INVESTIGATOR__MODEL` sets `agents.investigator.model`.
//! Each value goes into the file's parsed tree before that tree is
//! deserialized, so it is checked exactly like a value written in the file
//! and the cross-field validation sees the merged result. Its spans are
//! placed past the end of the file text, so an error at such a span names
//! the variable instead of a line.
//!
//! A value is read the way its key expects: a key that holds text takes the
//! value as it is (a TOML-quoted string is unquoted); numbers, booleans,
//! arrays and inline tables are TOML literals (`45`, `true`, `["a", "b"]`).
//! A key with nothing to go by (an optional key, a new agent) takes a value
//! that reads as such a literal as one, anything else as text.

use std::borrow::Cow;
use std::ffi::OsString;
use std::fmt;
use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::source_map::join_key;

/// Every override variable starts with this; credentials use a single `_`
/// (`SOC_TUI_CLOUDFLARE_TOKEN`), so the two never collide.
pub const ENV_PREFIX: &str = "SOC_TUI__";
const SEPARATOR: &str = "__";

/// One `SOC_TUI__...` variable.
#[derive(Clone, PartialEq, Eq)]
pub struct EnvOverride {
    var: String,
    /// Lower-cased key segments: `["http", "request_timeout"]`.
    path: Vec<String>,
    value: String,
}

impl EnvOverride {
    /// The variable's name.
    pub fn var(&self) -> &str {
        &self.var
    }

    /// The dotted key it sets, spelled as errors and `config show` spell keys.
    pub fn key(&self) -> String {
        self.path
            .iter()
            .fold(String::new(), |prefix, segment| join_key(&prefix, segment))
    }
}

/// The value is left out: a variable refused as secret-looking must not
/// reach a log through `{:?}`.
impl fmt::Debug for EnvOverride {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EnvOverride")
            .field("var", &self.var)
            .field("key", &self.key())
            .finish_non_exhaustive()
    }
}

/// A variable that has the prefix but cannot be used; reported when the
/// config is loaded, so every command names it the same way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct EnvProblem {
    pub(crate) var: String,
    pub(crate) key: Option<String>,
    pub(crate) message: String,
}

/// The override variables of an environment, sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EnvOverrides {
    entries: Vec<EnvOverride>,
    problems: Vec<EnvProblem>,
}

impl EnvOverrides {
    /// No overrides: the file and the defaults only.
    pub fn none() -> EnvOverrides {
        EnvOverrides::default()
    }

    /// The `SOC_TUI__...` variables of this process.
    pub fn from_process() -> EnvOverrides {
        EnvOverrides::from_vars(std::env::vars_os())
    }

    /// The `SOC_TUI__...` variables among `vars`; other variables are ignored.
    pub fn from_vars<I, K, V>(vars: I) -> EnvOverrides
    where
        I: IntoIterator<Item = (K, V)>,
        K: Into<OsString>,
        V: Into<OsString>,
    {
        let mut overrides = EnvOverrides::default();
        for (name, value) in vars {
            let name: OsString = name.into();
            let lossy = name.to_string_lossy();
            if !lossy.starts_with(ENV_PREFIX) {
                continue;
            }
            let var = lossy.into_owned();
            let problem = |key: Option<String>, message: &str| EnvProblem {
                var: var.clone(),
                key,
                message: message.to_owned(),
            };
            // The name is printed in errors and `config show`: only
            // characters a key path can have, so nothing reaches a terminal
            // that could act on it.
            let plain = var
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-');
            if name.to_str().is_none() || !plain {
                overrides.problems.push(EnvProblem {
                    var: crate::sanitize::sanitize(&var).into_owned(),
                    key: None,
                    message: "the name has characters a key path cannot have: use the key path \
                              in upper case (letters, digits, `_`, `-`)"
                        .to_owned(),
                });
                continue;
            }
            let segments: Vec<String> = var[ENV_PREFIX.len()..]
                .split(SEPARATOR)
                .map(str::to_ascii_lowercase)
                .collect();
            if segments.iter().any(String::is_empty) {
                overrides.problems.push(problem(
                    None,
                    "the name has an empty key segment: write the key path in upper case with \
                     `__` between segments, e.g. SOC_TUI__HTTP__REQUEST_TIMEOUT for \
                     http.request_timeout",
                ));
                continue;
            }
            let entry = EnvOverride {
                var: var.clone(),
                path: segments,
                value: String::new(),
            };
            match value.into().into_string() {
                Ok(value) => overrides.entries.push(EnvOverride { value, ..entry }),
                Err(_) => overrides
                    .problems
                    .push(problem(Some(entry.key()), "the value is not UTF-8 text")),
            }
        }
        overrides.entries.sort_by(|a, b| a.var.cmp(&b.var));
        overrides.problems.sort_by(|a, b| a.var.cmp(&b.var));
        // Names differing only in case lower-case to the same key; which one
        // would win is not something to leave to chance.
        let twins: Vec<EnvProblem> = overrides
            .entries
            .iter()
            .enumerate()
            .filter_map(|(i, entry)| {
                let twin = overrides.entries[..i]
                    .iter()
                    .find(|earlier| earlier.path == entry.path)?;
                let message = format!("sets the same key as {}: keep one of the two", twin.var);
                Some(problem_for(entry, &message))
            })
            .collect();
        overrides.problems.extend(twins);
        overrides
    }

    pub fn iter(&self) -> impl Iterator<Item = &EnvOverride> {
        self.entries.iter()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty() && self.problems.is_empty()
    }

    pub(crate) fn first_problem(&self) -> Option<&EnvProblem> {
        self.problems.first()
    }

    pub(crate) fn get(&self, index: usize) -> Option<&EnvOverride> {
        self.entries.get(index)
    }

    /// The variable that set `key`, or an inline table or array holding it.
    pub(crate) fn setting(&self, key: &str) -> Option<&EnvOverride> {
        self.entries.iter().find(|entry| {
            let set = entry.key();
            key.strip_prefix(set.as_str())
                .is_some_and(|rest| rest.is_empty() || rest.starts_with(['.', '[']))
        })
    }

    /// Puts every value into `root` (the file's tree; `defaults` is the
    /// default config as a table, for the type each key expects). Spans
    /// start after `file_len`, one region per variable.
    pub(crate) fn apply<'a>(
        &'a self,
        root: &mut DeTable<'a>,
        file_len: usize,
        defaults: &toml::Table,
    ) -> Result<EnvSpans, EnvProblem> {
        let mut spans = EnvSpans::default();
        // +1 keeps the file's end-of-text span apart from the first variable.
        let mut next = file_len + 1;
        for (index, entry) in self.entries.iter().enumerate() {
            let region = next..next + entry.value.len().max(1);
            next = region.end + 1;
            let expected = expected_in_file(root, &entry.path)
                .or_else(|| expected_in_defaults(defaults, &entry.path))
                .unwrap_or(Expected::Unknown);
            let value = interpret(entry, expected)
                .map(|value| shift_value(value, region.start))
                .map_err(|message| problem_for(entry, &message))?;
            insert(root, &entry.path, value, &region, "")
                .map_err(|message| problem_for(entry, &message))?;
            spans.regions.push((region, index));
        }
        Ok(spans)
    }
}

fn problem_for(entry: &EnvOverride, message: &str) -> EnvProblem {
    EnvProblem {
        var: entry.var.clone(),
        key: Some(entry.key()),
        message: message.to_owned(),
    }
}

/// Which variable a span past the end of the file belongs to.
#[derive(Debug, Default)]
pub(crate) struct EnvSpans {
    regions: Vec<(Range<usize>, usize)>,
}

impl EnvSpans {
    /// The index (in [`EnvOverrides`]) of the variable whose value holds `offset`.
    pub(crate) fn find(&self, offset: usize) -> Option<usize> {
        self.regions
            .iter()
            .find(|(region, _)| region.start <= offset && offset <= region.end)
            .map(|(_, index)| *index)
    }
}

/// What the key holds now (in the file) or by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expected {
    Text,
    /// A TOML literal; the text says which kind, for the error.
    Literal(&'static str),
    Table,
    Unknown,
}

fn expected_of(value: &DeValue<'_>) -> Expected {
    match value {
        DeValue::String(_) => Expected::Text,
        DeValue::Integer(_) => Expected::Literal("a whole number"),
        DeValue::Float(_) => Expected::Literal("a number"),
        DeValue::Boolean(_) => Expected::Literal("true or false"),
        DeValue::Datetime(_) => Expected::Literal("a TOML date-time"),
        DeValue::Array(_) => Expected::Literal("an array such as [\"a\", \"b\"]"),
        DeValue::Table(_) => Expected::Table,
    }
}

fn expected_in_file(root: &DeTable<'_>, path: &[String]) -> Option<Expected> {
    let (last, parents) = path.split_last()?;
    let mut table = root;
    for segment in parents {
        match table.get(segment.as_str())?.get_ref() {
            DeValue::Table(inner) => table = inner,
            _ => return None,
        }
    }
    table
        .get(last.as_str())
        .map(|value| expected_of(value.get_ref()))
}

fn expected_in_defaults(defaults: &toml::Table, path: &[String]) -> Option<Expected> {
    let (last, parents) = path.split_last()?;
    let mut table = defaults;
    for segment in parents {
        table = table.get(segment)?.as_table()?;
    }
    Some(match table.get(last)? {
        toml::Value::String(_) => Expected::Text,
        toml::Value::Integer(_) => Expected::Literal("a whole number"),
        toml::Value::Float(_) => Expected::Literal("a number"),
        toml::Value::Boolean(_) => Expected::Literal("true or false"),
        toml::Value::Datetime(_) => Expected::Literal("a TOML date-time"),
        toml::Value::Array(_) => Expected::Literal("an array such as [\"a\", \"b\"]"),
        toml::Value::Table(_) => Expected::Table,
    })
}

/// The variable's value as a TOML value, spanned from 0 within the value.
fn interpret(entry: &EnvOverride, expected: Expected) -> Result<Spanned<DeValue<'_>>, String> {
    let raw = entry.value.as_str();
    let text = || Spanned::new(0..raw.len(), DeValue::String(Cow::Borrowed(raw)));
    let quoted = || {
        DeValue::parse(raw)
            .ok()
            .filter(|value| matches!(value.get_ref(), DeValue::String(_)))
    };
    match expected {
        Expected::Text => Ok(if raw.starts_with(['"', '\'']) {
            quoted().unwrap_or_else(text)
        } else {
            text()
        }),
        Expected::Literal(what) => DeValue::parse(raw).map_err(|_| {
            format!("expected {what}, written the way TOML writes it (quote text as \"...\")")
        }),
        Expected::Table => match DeValue::parse(raw) {
            Ok(value) if matches!(value.get_ref(), DeValue::Table(_)) => Ok(value),
            _ => Err(format!(
                "`{}` is a table: set one of its keys with {}__<KEY>, or give a whole inline \
                 table such as {{ key = \"value\" }}",
                entry.key(),
                entry.var
            )),
        },
        Expected::Unknown => match DeValue::parse(raw) {
            Ok(value) if !matches!(value.get_ref(), DeValue::Datetime(_)) => Ok(value),
            _ => Ok(text()),
        },
    }
}

/// Puts `value` at `path` under `table`, creating missing tables.
fn insert<'a>(
    table: &mut DeTable<'a>,
    path: &[String],
    value: Spanned<DeValue<'a>>,
    region: &Range<usize>,
    prefix: &str,
) -> Result<(), String> {
    let Some((first, rest)) = path.split_first() else {
        return Err("no key to set".to_owned());
    };
    let key = || Spanned::new(region.clone(), Cow::Owned(first.clone()));
    if rest.is_empty() {
        table.remove(first.as_str());
        table.insert(key(), value);
        return Ok(());
    }
    let here = join_key(prefix, first);
    match table.get_mut(first.as_str()).map(Spanned::get_mut) {
        Some(DeValue::Table(inner)) => insert(inner, rest, value, region, &here),
        Some(DeValue::Array(_)) => Err(format!(
            "`{here}` is an array, whose elements have no names: set the whole array with \
             {ENV_PREFIX}{}=[...]",
            here.to_ascii_uppercase().replace('.', SEPARATOR)
        )),
        Some(_) => Err(format!(
            "`{here}` holds a value, not a table, so nothing can be set inside it"
        )),
        None => {
            let mut inner = DeTable::new();
            insert(&mut inner, rest, value, region, &here)?;
            table.insert(key(), Spanned::new(region.clone(), DeValue::Table(inner)));
            Ok(())
        }
    }
}

fn shift_value(value: Spanned<DeValue<'_>>, by: usize) -> Spanned<DeValue<'_>> {
    let span = value.span();
    let inner = match value.into_inner() {
        DeValue::Table(table) => DeValue::Table(
            table
                .into_iter()
                .map(|(key, value)| {
                    let key_span = key.span();
                    (
                        Spanned::new(key_span.start + by..key_span.end + by, key.into_inner()),
                        shift_value(value, by),
                    )
                })
                .collect(),
        ),
        DeValue::Array(mut items) => {
            for item in items.iter_mut() {
                let taken = std::mem::replace(item, Spanned::new(0..0, DeValue::Boolean(false)));
                *item = shift_value(taken, by);
            }
            DeValue::Array(items)
        }
        other => other,
    };
    Spanned::new(span.start + by..span.end + by, inner)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn overrides(vars: &[(&str, &str)]) -> EnvOverrides {
        EnvOverrides::from_vars(vars.iter().map(|(k, v)| (*k, *v)))
    }

    #[test]
    fn names_become_lower_case_key_paths_and_other_variables_are_ignored() {
        let env = overrides(&[
            ("SOC_TUI__HTTP__REQUEST_TIMEOUT", "45s"),
            ("SOC_TUI_CLOUDFLARE_TOKEN", "not-a-real-secret"),
            ("SOC_TUI_CONFIG", "/tmp/x.toml"),
            ("PATH", "/bin"),
            ("SOC_TUI__AGENTS__INVESTIGATOR__MODEL", "llama3"),
        ]);
        let keys: Vec<(String, &str)> = env.iter().map(|o| (o.key(), o.var())).collect();
        assert_eq!(
            keys,
            [
                (
                    "agents.investigator.model".to_owned(),
                    "SOC_TUI__AGENTS__INVESTIGATOR__MODEL"
                ),
                (
                    "http.request_timeout".to_owned(),
                    "SOC_TUI__HTTP__REQUEST_TIMEOUT"
                ),
            ]
        );
        assert!(env.first_problem().is_none());
        assert!(!format!("{env:?}").contains("llama3"));
    }

    #[test]
    fn malformed_names_are_problems_named_by_variable() {
        for name in ["SOC_TUI__", "SOC_TUI__HTTP____X", "SOC_TUI__HTTP__"] {
            let env = overrides(&[(name, "1")]);
            let problem = env.first_problem().expect(name);
            assert_eq!(problem.var, name);
            assert!(problem.message.contains("empty key segment"), "{problem:?}");
        }
        let env = overrides(&[("SOC_TUI__HTTP__X\u{1b}[2J", "1")]);
        let problem = env.first_problem().unwrap();
        assert!(!problem.var.contains('\u{1b}'), "{problem:?}");
        assert!(
            problem
                .message
                .contains("characters a key path cannot have")
        );
        let env = overrides(&[("SOC_TUI__HTTP__X", "1"), ("SOC_TUI__HTTP__x", "2")]);
        let problem = env.first_problem().unwrap();
        assert!(
            problem.message.contains("sets the same key as"),
            "{problem:?}"
        );
    }

    #[test]
    fn setting_finds_the_variable_for_a_key_or_one_inside_it() {
        let env = overrides(&[("SOC_TUI__WEBHOOK__FIELDS", "{ actor = [\"/who\"] }")]);
        assert!(env.setting("webhook.fields").is_some());
        assert!(env.setting("webhook.fields.actor").is_some());
        assert!(env.setting("webhook.fields_x").is_none());
        assert!(env.setting("webhook").is_none());
    }

    #[test]
    fn regions_follow_the_file_and_map_back_to_their_variable() {
        let env = overrides(&[("SOC_TUI__A__B", "xyz"), ("SOC_TUI__C__D", "")]);
        let mut root = DeTable::new();
        let spans = env.apply(&mut root, 10, &toml::Table::new()).unwrap();
        assert_eq!(spans.find(9), None);
        assert_eq!(spans.find(11), Some(0));
        assert_eq!(spans.find(14), Some(0));
        assert_eq!(spans.find(15), Some(1));
        assert_eq!(spans.find(16), Some(1));
        assert_eq!(spans.find(17), None);
    }

    #[test]
    fn values_are_typed_by_what_the_key_holds() {
        let defaults: toml::Table =
            toml::from_str("[http]\nmax_retries = 3\nrequest_timeout = \"30s\"\n").unwrap();
        let env = overrides(&[
            ("SOC_TUI__HTTP__MAX_RETRIES", "5"),
            ("SOC_TUI__HTTP__REQUEST_TIMEOUT", "45s"),
            ("SOC_TUI__ANALYST__NAME", "\"true\""),
            ("SOC_TUI__CHECKS__ON", "true"),
            ("SOC_TUI__DATADOG__SITE", "datadoghq.eu"),
        ]);
        let mut root = DeTable::new();
        env.apply(&mut root, 0, &defaults).unwrap();
        let at = |section: &str, key: &str| {
            let DeValue::Table(table) = root.get(section).unwrap().get_ref() else {
                panic!("{section} is not a table");
            };
            table.get(key).unwrap().get_ref().clone()
        };
        assert!(matches!(at("http", "max_retries"), DeValue::Integer(_)));
        assert_eq!(at("http", "request_timeout").as_str(), Some("45s"));
        assert_eq!(at("analyst", "name").as_str(), Some("true"));
        assert_eq!(at("checks", "on").as_bool(), Some(true));
        assert_eq!(at("datadog", "site").as_str(), Some("datadoghq.eu"));
    }

    #[test]
    fn a_bad_literal_or_a_path_through_a_value_is_a_problem() {
        let defaults: toml::Table = toml::from_str("[http]\nmax_retries = 3\n").unwrap();
        let env = overrides(&[("SOC_TUI__HTTP__MAX_RETRIES", "three")]);
        let problem = env.apply(&mut DeTable::new(), 0, &defaults).unwrap_err();
        assert_eq!(problem.var, "SOC_TUI__HTTP__MAX_RETRIES");
        assert!(problem.message.contains("a whole number"), "{problem:?}");

        let env = overrides(&[("SOC_TUI__HTTP__MAX_RETRIES__X", "1")]);
        let file = DeTable::parse("[http]\nmax_retries = 3\n").unwrap();
        let mut root = file.into_inner();
        let problem = env.apply(&mut root, 30, &defaults).unwrap_err();
        assert!(
            problem.message.contains("holds a value, not a table"),
            "{problem:?}"
        );

        let env = overrides(&[("SOC_TUI__HTTP", "1")]);
        let problem = env.apply(&mut DeTable::new(), 0, &defaults).unwrap_err();
        assert!(
            problem.message.contains("SOC_TUI__HTTP__<KEY>"),
            "{problem:?}"
        );
    }
}
