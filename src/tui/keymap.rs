//! Key bindings: embedded defaults from `assets/keymap.toml`, a user file
//! that overrides only the bindings it names, and the help overlay and
//! footer hints generated from the result.
//!
//! ```toml
//! [main]
//! acknowledge = { keys = ["a"], desc = "Acknowledge the selected finding", hint = "ack" }
//! ```

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use serde::Deserialize;

use super::action::{Action, PaneId};
use super::keys::KeyInput;

/// The embedded defaults; a test checks every binding is defined there.
pub const DEFAULT_KEYMAP: &str = include_str!("../../assets/keymap.toml");

/// Where a binding applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Context {
    Global,
    Navigation,
    Main,
    Actor,
    Editor,
    Verdict,
    Publish,
    Confirm,
    Snooze,
    Filter,
    Workflows,
    Outbox,
    Help,
}

impl Context {
    pub const ALL: [Context; 13] = [
        Context::Global,
        Context::Navigation,
        Context::Main,
        Context::Actor,
        Context::Editor,
        Context::Verdict,
        Context::Publish,
        Context::Confirm,
        Context::Snooze,
        Context::Filter,
        Context::Workflows,
        Context::Outbox,
        Context::Help,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Context::Global => "global",
            Context::Navigation => "navigation",
            Context::Main => "main",
            Context::Actor => "actor",
            Context::Editor => "editor",
            Context::Verdict => "verdict",
            Context::Publish => "publish",
            Context::Confirm => "confirm",
            Context::Snooze => "snooze",
            Context::Filter => "filter",
            Context::Workflows => "workflows",
            Context::Outbox => "outbox",
            Context::Help => "help",
        }
    }

    /// The contexts searched, in order, when this one is on top. Each chain
    /// is checked for keys bound twice.
    pub fn chain(self) -> &'static [Context] {
        match self {
            Context::Main => &[Context::Main, Context::Navigation, Context::Global],
            Context::Actor => &[Context::Actor, Context::Navigation, Context::Global],
            Context::Help => &[Context::Help, Context::Navigation],
            Context::Publish => &[Context::Publish, Context::Navigation],
            Context::Workflows => &[Context::Workflows, Context::Navigation],
            Context::Outbox => &[Context::Outbox, Context::Navigation],
            Context::Verdict => &[Context::Verdict, Context::Editor],
            Context::Global => &[Context::Global],
            Context::Navigation => &[Context::Navigation],
            Context::Editor => &[Context::Editor],
            Context::Confirm => &[Context::Confirm],
            Context::Snooze => &[Context::Snooze],
            Context::Filter => &[Context::Filter],
        }
    }
}

/// Every bindable action: context, name in the TOML file, action.
pub const BINDINGS: &[(Context, &str, Action)] = &[
    (Context::Global, "quit", Action::Quit),
    (Context::Global, "help", Action::ToggleHelp),
    (Context::Navigation, "up", Action::Up),
    (Context::Navigation, "down", Action::Down),
    (Context::Navigation, "page_up", Action::PageUp),
    (Context::Navigation, "page_down", Action::PageDown),
    (Context::Navigation, "top", Action::Top),
    (Context::Navigation, "bottom", Action::Bottom),
    (Context::Main, "focus_next", Action::FocusNext),
    (Context::Main, "focus_prev", Action::FocusPrev),
    (
        Context::Main,
        "focus_flagged",
        Action::FocusPane(PaneId::Flagged),
    ),
    (
        Context::Main,
        "focus_bursts",
        Action::FocusPane(PaneId::Bursts),
    ),
    (
        Context::Main,
        "focus_tokens",
        Action::FocusPane(PaneId::Tokens),
    ),
    (
        Context::Main,
        "focus_investigations",
        Action::FocusPane(PaneId::Investigations),
    ),
    (Context::Main, "open", Action::Open),
    (Context::Main, "filter", Action::StartFilter),
    (Context::Main, "clear_filter", Action::ClearFilter),
    (Context::Main, "sort", Action::CycleSort),
    (Context::Main, "mark_seen", Action::MarkSeen),
    (Context::Main, "acknowledge", Action::Acknowledge),
    (Context::Main, "resolve", Action::Resolve),
    (Context::Main, "snooze", Action::Snooze),
    (Context::Main, "investigate", Action::Investigate),
    (Context::Main, "workflows", Action::OpenWorkflows),
    (Context::Main, "outbox", Action::OpenOutbox),
    (Context::Main, "setup", Action::RunSetup),
    (Context::Actor, "back", Action::Back),
    (Context::Actor, "next_linked", Action::NextLinked),
    (Context::Actor, "prev_linked", Action::PrevLinked),
    (Context::Actor, "switch_pane", Action::SwitchActorPane),
    (Context::Actor, "edit", Action::EditDraft),
    (Context::Actor, "approve", Action::Approve),
    (Context::Actor, "publish", Action::Publish),
    (Context::Editor, "next_field", Action::NextField),
    (Context::Editor, "prev_field", Action::PrevField),
    (Context::Editor, "save", Action::SaveDraft),
    (Context::Editor, "toggle_diff", Action::ToggleDiff),
    (Context::Editor, "cancel", Action::Cancel),
    (Context::Verdict, "next_verdict", Action::VerdictNext),
    (Context::Verdict, "prev_verdict", Action::VerdictPrev),
    (Context::Publish, "send", Action::Submit),
    (Context::Publish, "close", Action::Cancel),
    (Context::Confirm, "yes", Action::ConfirmYes),
    (Context::Confirm, "no", Action::ConfirmNo),
    (Context::Snooze, "longer", Action::Longer),
    (Context::Snooze, "shorter", Action::Shorter),
    (Context::Snooze, "submit", Action::Submit),
    (Context::Snooze, "cancel", Action::Cancel),
    (Context::Filter, "apply", Action::Submit),
    (Context::Filter, "cancel", Action::Cancel),
    (Context::Workflows, "next_mode", Action::ModeNext),
    (Context::Workflows, "prev_mode", Action::ModePrev),
    (Context::Workflows, "close", Action::Cancel),
    (Context::Outbox, "close", Action::Cancel),
    (Context::Help, "close", Action::ToggleHelp),
];

/// One resolved binding.
#[derive(Debug, Clone, PartialEq)]
pub struct Binding {
    pub context: Context,
    pub name: &'static str,
    pub action: Action,
    pub keys: Vec<KeyInput>,
    pub desc: String,
    /// Short label for the footer; bindings without one stay out of it.
    pub hint: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeymapError {
    #[error("keymap {origin}: {source}")]
    Syntax {
        origin: String,
        source: Box<toml::de::Error>,
    },
    #[error("keymap {origin}: unknown section [{section}] (expected one of: {expected})")]
    UnknownContext {
        origin: String,
        section: String,
        expected: String,
    },
    #[error("keymap {origin}: [{context}] has no binding `{name}` (expected one of: {expected})")]
    UnknownBinding {
        origin: String,
        context: &'static str,
        name: String,
        expected: String,
    },
    #[error("keymap {origin}: [{context}] {name}: {source}")]
    BadKey {
        origin: String,
        context: &'static str,
        name: &'static str,
        source: super::keys::BadKeySpec,
    },
    #[error("keymap {origin}: [{context}] {name}: no keys and no default to keep")]
    Missing {
        origin: String,
        context: &'static str,
        name: &'static str,
    },
    #[error("keymap {origin}: [{context}] {name}: needs a description (`desc`)")]
    NoDescription {
        origin: String,
        context: &'static str,
        name: &'static str,
    },
    #[error(
        "keymap {origin}: key `{key}` is bound to both [{first_context}] {first} and [{second_context}] {second}"
    )]
    Conflict {
        origin: String,
        key: String,
        first_context: &'static str,
        first: &'static str,
        second_context: &'static str,
        second: &'static str,
    },
    #[error("keymap {path}: cannot read: {reason}")]
    Read { path: String, reason: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct BindingToml {
    keys: Option<Vec<String>>,
    desc: Option<String>,
    hint: Option<String>,
}

type KeymapToml = BTreeMap<String, BTreeMap<String, BindingToml>>;

#[derive(Debug, Clone)]
pub struct Keymap {
    bindings: Vec<Binding>,
    lookup: HashMap<(Context, KeyInput), usize>,
}

impl Keymap {
    /// The embedded defaults.
    pub fn defaults() -> Result<Keymap, KeymapError> {
        Keymap::build(DEFAULT_KEYMAP, "assets/keymap.toml (built in)", None)
    }

    /// The defaults overridden by `user_toml`, which names only what it changes.
    pub fn with_overrides(user_toml: &str, origin: &str) -> Result<Keymap, KeymapError> {
        Keymap::build(
            DEFAULT_KEYMAP,
            "assets/keymap.toml (built in)",
            Some((user_toml, origin)),
        )
    }

    /// The defaults overridden by the file at `path` if it exists.
    pub fn load(path: &Path) -> Result<Keymap, KeymapError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Keymap::with_overrides(&text, &path.display().to_string()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Keymap::defaults(),
            Err(err) => Err(KeymapError::Read {
                path: path.display().to_string(),
                reason: err.to_string(),
            }),
        }
    }

    fn build(
        defaults: &str,
        default_origin: &str,
        user: Option<(&str, &str)>,
    ) -> Result<Keymap, KeymapError> {
        let mut bindings: Vec<Binding> = BINDINGS
            .iter()
            .map(|(context, name, action)| Binding {
                context: *context,
                name,
                action: action.clone(),
                keys: Vec::new(),
                desc: String::new(),
                hint: None,
            })
            .collect();
        apply(&mut bindings, defaults, default_origin)?;
        let mut origin = default_origin;
        if let Some((text, user_origin)) = user {
            apply(&mut bindings, text, user_origin)?;
            origin = user_origin;
        }
        for b in &bindings {
            if b.keys.is_empty() {
                return Err(KeymapError::Missing {
                    origin: origin.to_owned(),
                    context: b.context.name(),
                    name: b.name,
                });
            }
            if b.desc.trim().is_empty() {
                return Err(KeymapError::NoDescription {
                    origin: origin.to_owned(),
                    context: b.context.name(),
                    name: b.name,
                });
            }
        }
        let mut lookup = HashMap::new();
        for (i, b) in bindings.iter().enumerate() {
            for key in &b.keys {
                lookup.insert((b.context, *key), i);
            }
        }
        let keymap = Keymap { bindings, lookup };
        keymap.check_conflicts(origin)?;
        Ok(keymap)
    }

    fn check_conflicts(&self, origin: &str) -> Result<(), KeymapError> {
        for context in Context::ALL {
            let mut seen: HashMap<KeyInput, &Binding> = HashMap::new();
            for ctx in context.chain() {
                for b in self.bindings.iter().filter(|b| b.context == *ctx) {
                    for key in &b.keys {
                        if let Some(first) = seen.insert(*key, b)
                            && first.name != b.name
                        {
                            return Err(KeymapError::Conflict {
                                origin: origin.to_owned(),
                                key: key.to_string(),
                                first_context: first.context.name(),
                                first: first.name,
                                second_context: b.context.name(),
                                second: b.name,
                            });
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// The action `key` triggers when `context` is on top.
    pub fn resolve(&self, context: Context, key: KeyInput) -> Option<&Action> {
        context.chain().iter().find_map(|ctx| {
            self.lookup
                .get(&(*ctx, key))
                .map(|&i| &self.bindings[i].action)
        })
    }

    /// Bindings of one context, in the order of [`BINDINGS`].
    pub fn bindings(&self, context: Context) -> impl Iterator<Item = &Binding> {
        self.bindings.iter().filter(move |b| b.context == context)
    }

    /// Footer hints for a context chain: `(keys, hint)`.
    pub fn footer(&self, context: Context) -> Vec<(String, &str)> {
        context
            .chain()
            .iter()
            .flat_map(|ctx| self.bindings(*ctx))
            .filter_map(|b| {
                let key = b.keys.first()?.to_string();
                b.hint.as_deref().map(|hint| (key, hint))
            })
            .collect()
    }

    /// The first key of a binding, for prompts (`y confirm`).
    pub fn key_for(&self, context: Context, name: &str) -> String {
        self.bindings(context)
            .find(|b| b.name == name)
            .map(|b| b.keys_label())
            .unwrap_or_default()
    }
}

impl Binding {
    /// `j/↓`.
    pub fn keys_label(&self) -> String {
        let keys: Vec<String> = self.keys.iter().map(ToString::to_string).collect();
        keys.join("/")
    }
}

fn apply(bindings: &mut [Binding], text: &str, origin: &str) -> Result<(), KeymapError> {
    let parsed: KeymapToml = toml::from_str(text).map_err(|e| KeymapError::Syntax {
        origin: origin.to_owned(),
        source: Box::new(e),
    })?;
    for (section, entries) in parsed {
        let Some(context) = Context::ALL.into_iter().find(|c| c.name() == section) else {
            return Err(KeymapError::UnknownContext {
                origin: origin.to_owned(),
                section,
                expected: Context::ALL.map(Context::name).join(", "),
            });
        };
        for (name, entry) in entries {
            let Some(binding) = bindings
                .iter_mut()
                .find(|b| b.context == context && b.name == name)
            else {
                let expected: Vec<&str> = BINDINGS
                    .iter()
                    .filter(|(c, _, _)| *c == context)
                    .map(|(_, n, _)| *n)
                    .collect();
                return Err(KeymapError::UnknownBinding {
                    origin: origin.to_owned(),
                    context: context.name(),
                    name,
                    expected: expected.join(", "),
                });
            };
            if let Some(keys) = entry.keys {
                binding.keys = keys
                    .iter()
                    .map(|k| k.parse::<KeyInput>())
                    .collect::<Result<_, _>>()
                    .map_err(|source| KeymapError::BadKey {
                        origin: origin.to_owned(),
                        context: context.name(),
                        name: binding.name,
                        source,
                    })?;
            }
            if let Some(desc) = entry.desc {
                binding.desc = desc;
            }
            if let Some(hint) = entry.hint {
                binding.hint = Some(hint).filter(|h| !h.is_empty());
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_define_every_binding_with_a_description() {
        let keymap = Keymap::defaults().expect("defaults load");
        for (context, name, _) in BINDINGS {
            let b = keymap
                .bindings(*context)
                .find(|b| b.name == *name)
                .expect("binding present");
            assert!(!b.keys.is_empty(), "{name}");
            assert!(!b.desc.is_empty(), "{name}");
        }
    }

    #[test]
    fn user_file_overrides_only_what_it_names() {
        let keymap = Keymap::with_overrides("[main]\nacknowledge = { keys = [\"A\"] }\n", "user")
            .expect("loads");
        assert_eq!(
            keymap.resolve(Context::Main, KeyInput::char('A')),
            Some(&Action::Acknowledge)
        );
        assert_eq!(keymap.resolve(Context::Main, KeyInput::char('a')), None);
        assert_eq!(
            keymap.resolve(Context::Main, KeyInput::char('j')),
            Some(&Action::Down)
        );
        let ack = keymap
            .bindings(Context::Main)
            .find(|b| b.name == "acknowledge")
            .expect("present");
        assert_eq!(ack.desc, "Acknowledge the selected finding");
    }

    #[test]
    fn errors_name_the_section_binding_and_key() {
        let err = Keymap::with_overrides("[main]\nfly = { keys = [\"x\"] }\n", "k.toml")
            .expect_err("unknown binding");
        assert!(
            err.to_string()
                .starts_with("keymap k.toml: [main] has no binding `fly`")
        );
        let err = Keymap::with_overrides("[mian]\n", "k.toml").expect_err("unknown section");
        assert!(err.to_string().contains("unknown section [mian]"), "{err}");
        let err = Keymap::with_overrides("[main]\nsort = { keys = [\"ctrl-\"] }\n", "k.toml")
            .expect_err("bad key");
        assert!(
            err.to_string()
                .contains("[main] sort: `ctrl-` is not a key"),
            "{err}"
        );
        let err = Keymap::with_overrides("[main]\nsort = { keys = [\"j\"] }\n", "k.toml")
            .expect_err("conflict");
        assert!(
            err.to_string()
                .contains("key `j` is bound to both [main] sort and [navigation] down"),
            "{err}"
        );
        let err = Keymap::with_overrides("[main]\nsort = { key = \"x\" }\n", "k.toml")
            .expect_err("unknown field");
        assert!(err.to_string().contains("line 2"), "{err}");
    }
}
