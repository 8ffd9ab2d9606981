//! Reading, merging and locating errors in rules files.
//!
//! Both documents are parsed into toml's spanned tree (`DeTable`), the user's
//! spans shifted past the end of the defaults so that every span in the
//! merged tree says which file it came from. The merged tree is then
//! deserialized into [`Rules`]; an error's span (or, for checks made after
//! deserializing, its key path) is mapped back to file, line, column and key.

use std::collections::BTreeMap;
use std::fmt;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::{PathSeg, Rules};
use crate::paths::Paths;

/// The built-in defaults, embedded at compile time.
pub const DEFAULT_RULES: &str = include_str!("../../../assets/rules.toml");
/// The user override file's name inside the config dir.
pub const RULES_FILE_NAME: &str = "rules.toml";
/// How the defaults are named in errors and in `rules show`.
const DEFAULTS_NAME: &str = "<built-in rules>";

/// Where a top-level section of the effective rules came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    Defaults,
    /// The user file replaced the section outright (a scalar or array).
    UserFile,
    /// Defaults with some keys overridden by the user file.
    Merged,
}

impl Origin {
    pub fn describe(self) -> &'static str {
        match self {
            Origin::Defaults => "built-in defaults",
            Origin::UserFile => "user file",
            Origin::Merged => "built-in defaults, overridden in part by the user file",
        }
    }
}

/// The effective rules and how they were put together.
#[derive(Debug, Clone)]
pub struct LoadedRules {
    pub rules: Rules,
    /// The user file that was merged in, when there was one.
    pub user_file: Option<PathBuf>,
    /// Origin of each top-level section (`baseline`, `burst`, ...).
    pub origins: BTreeMap<String, Origin>,
}

/// Where in which file a problem is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    /// 1-based.
    pub line: Option<usize>,
    /// 1-based, in characters.
    pub column: Option<usize>,
    /// Dotted key path (`baseline.volume_factor`, `suppressions[0].until`).
    pub key: Option<String>,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.file)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
            if let Some(col) = self.column {
                write!(f, ":{col}")?;
            }
        }
        if let Some(key) = &self.key {
            write!(f, ": key `{key}`")?;
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    #[error("cannot read rules file {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("{location}: {message}")]
    Invalid { location: Location, message: String },
}

impl RulesError {
    pub fn location(&self) -> Option<&Location> {
        match self {
            RulesError::Invalid { location, .. } => Some(location),
            RulesError::Read { .. } => None,
        }
    }
}

/// Loads the defaults and, if it exists, `<config dir>/rules.toml`.
pub fn load(paths: &Paths) -> Result<LoadedRules, RulesError> {
    load_file(Some(&paths.config_dir.join(RULES_FILE_NAME)))
}

/// Loads the defaults and the given user file; a missing file means "defaults only".
pub fn load_file(user_file: Option<&Path>) -> Result<LoadedRules, RulesError> {
    let Some(path) = user_file else {
        return parse(None);
    };
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let mut loaded = parse(Some((&path.display().to_string(), &text)))?;
            loaded.user_file = Some(path.to_path_buf());
            Ok(loaded)
        }
        Err(err) if err.kind() == io::ErrorKind::NotFound => parse(None),
        Err(source) => Err(RulesError::Read {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Pure loader: the defaults plus an optional user document `(name, text)`.
pub fn parse(user: Option<(&str, &str)>) -> Result<LoadedRules, RulesError> {
    let defaults = Source {
        name: DEFAULTS_NAME,
        text: DEFAULT_RULES,
        offset: 0,
    };
    let root = parse_document(&defaults)?;
    let root_span = root.span();
    let mut table = root.into_inner();
    let mut origins: BTreeMap<String, Origin> = table
        .keys()
        .map(|k| (k.get_ref().to_string(), Origin::Defaults))
        .collect();
    let mut sources = vec![defaults];

    if let Some((name, text)) = user {
        // +1 keeps an end-of-file span of the defaults apart from the user's first byte.
        let src = Source {
            name,
            text,
            offset: DEFAULT_RULES.len() + 1,
        };
        let user_table = parse_document(&src)?.into_inner();
        for (key, value) in &user_table {
            let merged = matches!(value.get_ref(), DeValue::Table(_))
                && table
                    .get(key.get_ref().as_ref())
                    .is_some_and(|v| matches!(v.get_ref(), DeValue::Table(_)));
            let origin = if merged {
                Origin::Merged
            } else {
                Origin::UserFile
            };
            origins.insert(key.get_ref().to_string(), origin);
        }
        merge(&mut table, user_table);
        sources.push(src);
    }

    let merged = Spanned::new(root_span, table);
    let rules = Rules::deserialize(toml::de::Deserializer::from(merged.clone())).map_err(|e| {
        let location = locate_span(&sources, merged.get_ref(), e.span());
        RulesError::Invalid {
            location,
            message: e.message().trim().to_string(),
        }
    })?;
    rules.validate().map_err(|invalid| RulesError::Invalid {
        location: locate_path(&sources, merged.get_ref(), &invalid.path),
        message: invalid.message,
    })?;
    Ok(LoadedRules {
        rules,
        user_file: user.map(|(name, _)| PathBuf::from(name)),
        origins,
    })
}

/// One input document and where its spans start in the merged tree.
struct Source<'a> {
    name: &'a str,
    text: &'a str,
    offset: usize,
}

impl Source<'_> {
    fn contains(&self, pos: usize) -> bool {
        pos >= self.offset && pos <= self.offset + self.text.len()
    }

    /// 1-based line and character column of a merged-tree position.
    fn line_col(&self, pos: usize) -> (usize, usize) {
        let local = pos.saturating_sub(self.offset).min(self.text.len());
        let before = &self.text.as_bytes()[..local];
        let line_start = before
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = String::from_utf8_lossy(&before[line_start..])
            .chars()
            .count()
            + 1;
        (line, column)
    }
}

fn parse_document<'i>(src: &Source<'i>) -> Result<Spanned<DeTable<'i>>, RulesError> {
    let doc = DeTable::parse(src.text).map_err(|e| {
        let (line, column) = match e.span() {
            Some(span) => {
                let local = Source { offset: 0, ..*src };
                let (l, c) = local.line_col(span.start);
                (Some(l), Some(c))
            }
            None => (None, None),
        };
        RulesError::Invalid {
            location: Location {
                file: src.name.to_string(),
                line,
                column,
                key: None,
            },
            message: format!("TOML syntax: {}", e.message().trim()),
        }
    })?;
    if src.offset == 0 {
        return Ok(doc);
    }
    let span = shift_range(doc.span(), src.offset);
    Ok(Spanned::new(
        span,
        shift_table(doc.into_inner(), src.offset),
    ))
}

fn shift_range(r: Range<usize>, by: usize) -> Range<usize> {
    r.start + by..r.end + by
}

fn shift_table(table: DeTable<'_>, by: usize) -> DeTable<'_> {
    table
        .into_iter()
        .map(|(k, v)| {
            let key_span = shift_range(k.span(), by);
            (Spanned::new(key_span, k.into_inner()), shift_value(v, by))
        })
        .collect()
}

fn shift_value(value: Spanned<DeValue<'_>>, by: usize) -> Spanned<DeValue<'_>> {
    let span = shift_range(value.span(), by);
    let inner = match value.into_inner() {
        DeValue::Table(t) => DeValue::Table(shift_table(t, by)),
        DeValue::Array(mut items) => {
            // Replaced in place: `DeArray` remembers whether it was written as
            // `[[array.of.tables]]`, which a rebuilt array would forget.
            for item in items.iter_mut() {
                let taken = std::mem::replace(item, Spanned::new(0..0, DeValue::Boolean(false)));
                *item = shift_value(taken, by);
            }
            DeValue::Array(items)
        }
        other => other,
    };
    Spanned::new(span, inner)
}

/// Tables merge key by key; anything else in `over` replaces what `base` had.
fn merge<'i>(base: &mut DeTable<'i>, over: DeTable<'i>) {
    for (key, value) in over {
        let previous = base.remove(key.get_ref().as_ref());
        let span = value.span();
        let merged = match (previous.map(Spanned::into_inner), value.into_inner()) {
            (Some(DeValue::Table(mut b)), DeValue::Table(o)) => {
                merge(&mut b, o);
                DeValue::Table(b)
            }
            (_, replacement) => replacement,
        };
        base.insert(key, Spanned::new(span, merged));
    }
}

fn locate_span(sources: &[Source<'_>], root: &DeTable<'_>, span: Option<Range<usize>>) -> Location {
    let Some(span) = span else {
        return unlocated(sources);
    };
    let key = path_at_table(root, span.start).map(|p| render_path(&p));
    located(sources, span.start, key)
}

fn locate_path(sources: &[Source<'_>], root: &DeTable<'_>, path: &[PathSeg]) -> Location {
    let key = Some(render_path(path));
    match span_of_path(root, path) {
        Some(span) => located(sources, span.start, key),
        None => Location {
            key,
            ..unlocated(sources)
        },
    }
}

fn located(sources: &[Source<'_>], pos: usize, key: Option<String>) -> Location {
    match sources.iter().rev().find(|s| s.contains(pos)) {
        Some(src) => {
            let (line, column) = src.line_col(pos);
            Location {
                file: src.name.to_string(),
                line: Some(line),
                column: Some(column),
                key,
            }
        }
        None => Location {
            key,
            ..unlocated(sources)
        },
    }
}

/// Without a position the user's file is the likelier culprit: the defaults are tested.
fn unlocated(sources: &[Source<'_>]) -> Location {
    Location {
        file: sources.last().map_or(DEFAULTS_NAME, |s| s.name).to_string(),
        line: None,
        column: None,
        key: None,
    }
}

/// Key path of the innermost key or value whose span holds `pos`.
fn path_at_table(table: &DeTable<'_>, pos: usize) -> Option<Vec<PathSeg>> {
    for (key, value) in table {
        let seg = PathSeg::Key(key.get_ref().to_string());
        if let Some(mut inner) = path_at_value(value, pos) {
            inner.insert(0, seg);
            return Some(inner);
        }
        if key.span().contains(&pos) || value.span().contains(&pos) {
            return Some(vec![seg]);
        }
    }
    None
}

fn path_at_value(value: &Spanned<DeValue<'_>>, pos: usize) -> Option<Vec<PathSeg>> {
    match value.get_ref() {
        DeValue::Table(t) => path_at_table(t, pos),
        DeValue::Array(items) => items.iter().enumerate().find_map(|(i, item)| {
            let mut inner =
                path_at_value(item, pos).or_else(|| item.span().contains(&pos).then(Vec::new))?;
            inner.insert(0, PathSeg::Index(i));
            Some(inner)
        }),
        _ => None,
    }
}

/// Span of the deepest existing node along `path`.
fn span_of_path(root: &DeTable<'_>, path: &[PathSeg]) -> Option<Range<usize>> {
    let (first, rest) = path.split_first()?;
    let PathSeg::Key(k) = first else {
        return None;
    };
    let (key, mut node) = root.get_key_value(k.as_str())?;
    let mut span = if rest.is_empty() {
        key.span()
    } else {
        node.span()
    };
    for (i, seg) in rest.iter().enumerate() {
        let last = i + 1 == rest.len();
        let next = match (seg, node.get_ref()) {
            (PathSeg::Key(k), DeValue::Table(t)) => t
                .get_key_value(k.as_str())
                .map(|(key, v)| (if last { key.span() } else { v.span() }, v)),
            (PathSeg::Index(i), DeValue::Array(items)) => items.get(*i).map(|v| (v.span(), v)),
            _ => None,
        };
        match next {
            Some((s, v)) => {
                span = s;
                node = v;
            }
            None => break,
        }
    }
    Some(span)
}

/// `baseline.cold_start.mode`, `allow."burst.*".actors`, `suppressions[2].rule`.
pub(super) fn render_path(path: &[PathSeg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            PathSeg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                let bare = !k.is_empty()
                    && k.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-');
                if bare {
                    out.push_str(k);
                } else {
                    out.push_str(&format!("{k:?}"));
                }
            }
            PathSeg::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_defaults_load_and_validate() {
        let loaded = parse(None).unwrap();
        assert!(loaded.user_file.is_none());
        assert!(loaded.origins.values().all(|o| *o == Origin::Defaults));
        assert_eq!(loaded.rules.baseline.window_days.get(), 30);
        assert_eq!(loaded.rules.burst.window_minutes.get(), 5);
    }

    #[test]
    fn user_file_overrides_key_by_key() {
        let user = "[baseline]\nvolume_factor = 5.0\n\n[burst.actions.role_grant]\nthreshold = 5\n";
        let loaded = parse(Some(("user.toml", user))).unwrap();
        let defaults = parse(None).unwrap().rules;
        let r = &loaded.rules;
        assert_eq!(r.baseline.volume_factor.get(), 5.0);
        assert_eq!(r.baseline.window_days, defaults.baseline.window_days);
        let grant = &r.burst.actions[&RuleNameFor::of("role_grant")];
        assert_eq!(grant.threshold.get(), 5);
        assert_eq!(
            grant.evt_name,
            defaults.burst.actions[&RuleNameFor::of("role_grant")].evt_name
        );
        assert_eq!(loaded.origins["baseline"], Origin::Merged);
        assert_eq!(loaded.origins["burst"], Origin::Merged);
        assert_eq!(loaded.origins["tokens"], Origin::Defaults);
    }

    #[test]
    fn arrays_replace_rather_than_append() {
        let user = "[tokens]\napproved_issuers = [\"ops@example.com\"]\n";
        let r = parse(Some(("user.toml", user))).unwrap().rules;
        let issuers: Vec<&str> = r
            .tokens
            .approved_issuers
            .iter()
            .map(|p| p.as_str())
            .collect();
        assert_eq!(issuers, ["ops@example.com"]);
    }

    #[test]
    fn errors_in_the_user_file_point_at_it() {
        let user = "# comment\n[baseline]\nvolume_factor = 0.5\n";
        let err = parse(Some(("user.toml", user))).unwrap_err();
        let loc = err.location().unwrap();
        assert_eq!(loc.file, "user.toml");
        assert_eq!(loc.line, Some(3));
        assert_eq!(loc.key.as_deref(), Some("baseline.volume_factor"));
        assert!(err.to_string().contains("greater than 1"), "{err}");
    }

    #[test]
    fn paths_render_with_quotes_and_indexes() {
        let p = [
            PathSeg::Key("allow".into()),
            PathSeg::Key("burst.*".into()),
            PathSeg::Key("actors".into()),
        ];
        assert_eq!(render_path(&p), "allow.\"burst.*\".actors");
        let p = [PathSeg::Key("suppressions".into()), PathSeg::Index(2)];
        assert_eq!(render_path(&p), "suppressions[2]");
    }

    struct RuleNameFor;
    impl RuleNameFor {
        fn of(s: &str) -> super::super::RuleName {
            super::super::RuleName::try_from(s.to_string()).unwrap()
        }
    }
}
