//! Colour themes with semantic slots (`severity_critical`,
//! `border_focused`, ...). Built-ins are embedded; user themes live in
//! `<config dir>/themes/<name>.toml`, may `extends` another theme and set
//! only some slots. A bad theme is reported and the console falls back to
//! the built-in dark theme.
//!
//! Colours are names (`red`, `lightcyan`, `reset`), `#rrggbb` or a 256-colour
//! index. The built-ins use the 16 ANSI names only, so they work on any
//! colour terminal; [`Theme::for_terminal`] maps RGB and indexed colours of
//! user themes to the nearest of those 16 where the terminal has no more.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

use super::model::{MarkerKind, ScopeRisk, Severity};

pub const BUILT_IN: [(&str, &str); 3] = [
    ("dark", include_str!("../../themes/dark.toml")),
    ("light", include_str!("../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../themes/high-contrast.toml"),
    ),
];

pub const DEFAULT_THEME: &str = "dark";

macro_rules! slots {
    ($($slot:ident),* $(,)?) => {
        /// Resolved colours, one per semantic slot.
        #[derive(Debug, Clone, PartialEq)]
        pub struct Palette {
            $(pub $slot: Color,)*
        }

        const SLOT_NAMES: &[&str] = &[$(stringify!($slot)),*];

        impl Palette {
            fn from_map(map: &BTreeMap<String, Color>) -> Result<Palette, &'static str> {
                Ok(Palette {
                    $($slot: *map.get(stringify!($slot)).ok_or(stringify!($slot))?,)*
                })
            }

            fn map_colors(&self, f: impl Fn(Color) -> Color) -> Palette {
                Palette { $($slot: f(self.$slot),)* }
            }

            fn to_map(&self) -> BTreeMap<String, Color> {
                BTreeMap::from([$((stringify!($slot).to_owned(), self.$slot),)*])
            }

            /// Every slot the terminal's default colour.
            fn uniform(color: Color) -> Palette {
                Palette { $($slot: color,)* }
            }
        }
    };
}

slots!(
    text,
    muted,
    background,
    border,
    border_focused,
    title,
    selection_fg,
    selection_bg,
    new_marker,
    severity_info,
    severity_low,
    severity_medium,
    severity_high,
    severity_critical,
    ok,
    warning,
    error,
    scope_read,
    scope_write,
    scope_broad,
    scope_unknown,
    marker_credential,
    marker_privilege,
    marker_destructive,
    marker_other,
    diff_added,
    diff_removed,
    link,
    status_fg,
    status_bg,
    key_hint,
    popup_border,
);

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub palette: Palette,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ThemeError {
    #[error("theme `{name}` not found (built in: dark, light, high-contrast; user themes: {dir})")]
    NotFound { name: String, dir: String },
    #[error("theme {origin}: cannot read: {reason}")]
    Read { origin: String, reason: String },
    #[error("theme {origin}: {reason}")]
    Syntax { origin: String, reason: String },
    #[error(
        "theme {origin}: slot `{slot}`: `{value}` is not a colour (a name like `red`, `#rrggbb` or 0-255)"
    )]
    BadColor {
        origin: String,
        slot: String,
        value: String,
    },
    #[error("theme {origin}: unknown slot `{slot}`")]
    UnknownSlot { origin: String, slot: String },
    #[error("theme {origin}: slot `{slot}` is not set and the theme extends nothing")]
    MissingSlot { origin: String, slot: &'static str },
    #[error("theme {origin}: extends `{parent}`, which is not a built-in theme")]
    BadParent { origin: String, parent: String },
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ThemeToml {
    extends: Option<String>,
    #[serde(default)]
    slots: BTreeMap<String, String>,
}

/// How many colours the terminal shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorSupport {
    Ansi16,
    Indexed256,
    TrueColor,
}

impl ColorSupport {
    /// From `COLORTERM` and `TERM`, as terminals advertise it.
    pub fn detect() -> ColorSupport {
        let colorterm = std::env::var("COLORTERM").unwrap_or_default();
        let term = std::env::var("TERM").unwrap_or_default();
        if colorterm == "truecolor" || colorterm == "24bit" {
            ColorSupport::TrueColor
        } else if term.contains("256color") {
            ColorSupport::Indexed256
        } else {
            ColorSupport::Ansi16
        }
    }
}

impl Theme {
    /// The built-in dark theme (cannot fail: a test loads every built-in).
    pub fn fallback() -> Theme {
        match Theme::built_in(DEFAULT_THEME) {
            Ok(theme) => theme,
            // Unreachable with the shipped files; keep a usable console anyway.
            Err(_) => Theme {
                name: DEFAULT_THEME.into(),
                palette: Palette::uniform(Color::Reset),
            },
        }
    }

    pub fn built_in(name: &str) -> Result<Theme, ThemeError> {
        let (_, text) =
            BUILT_IN
                .iter()
                .find(|(n, _)| *n == name)
                .ok_or_else(|| ThemeError::NotFound {
                    name: name.into(),
                    dir: "(none)".into(),
                })?;
        Theme::parse(name, text, &format!("{name} (built in)"))
    }

    /// `name` from `<config_dir>/themes/<name>.toml` if that file exists, else
    /// the built-in of that name.
    pub fn load(name: &str, config_dir: &Path) -> Result<Theme, ThemeError> {
        let dir = config_dir.join("themes");
        let path: PathBuf = dir.join(format!("{name}.toml"));
        match std::fs::read_to_string(&path) {
            Ok(text) => Theme::parse(name, &text, &path.display().to_string()),
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => Theme::built_in(name)
                .map_err(|_| ThemeError::NotFound {
                    name: name.into(),
                    dir: dir.display().to_string(),
                }),
            Err(err) => Err(ThemeError::Read {
                origin: path.display().to_string(),
                reason: err.to_string(),
            }),
        }
    }

    /// As [`Theme::load`], falling back to the dark theme; the error says why.
    pub fn load_or_fallback(name: &str, config_dir: &Path) -> (Theme, Option<ThemeError>) {
        match Theme::load(name, config_dir) {
            Ok(theme) => (theme, None),
            Err(err) => (Theme::fallback(), Some(err)),
        }
    }

    pub fn parse(name: &str, text: &str, origin: &str) -> Result<Theme, ThemeError> {
        let parsed: ThemeToml = toml::from_str(text).map_err(|e| ThemeError::Syntax {
            origin: origin.into(),
            reason: e.to_string(),
        })?;
        let mut map = BTreeMap::new();
        if let Some(parent) = &parsed.extends {
            let base = BUILT_IN
                .iter()
                .find(|(n, _)| n == parent && *n != name)
                .ok_or_else(|| ThemeError::BadParent {
                    origin: origin.into(),
                    parent: parent.clone(),
                })?;
            let base = Theme::parse(base.0, base.1, &format!("{} (built in)", base.0))?;
            map = base.palette.to_map();
        }
        for (slot, value) in &parsed.slots {
            if !SLOT_NAMES.contains(&slot.as_str()) {
                return Err(ThemeError::UnknownSlot {
                    origin: origin.into(),
                    slot: slot.clone(),
                });
            }
            let color = Color::from_str(value).map_err(|_| ThemeError::BadColor {
                origin: origin.into(),
                slot: slot.clone(),
                value: value.clone(),
            })?;
            map.insert(slot.clone(), color);
        }
        let palette = Palette::from_map(&map).map_err(|slot| ThemeError::MissingSlot {
            origin: origin.into(),
            slot,
        })?;
        Ok(Theme {
            name: name.into(),
            palette,
        })
    }

    /// This theme as the terminal can show it.
    pub fn for_terminal(&self, support: ColorSupport) -> Theme {
        let palette = match support {
            ColorSupport::TrueColor => self.palette.clone(),
            ColorSupport::Indexed256 => self.palette.map_colors(|c| match c {
                Color::Rgb(..) => nearest_ansi16(c),
                other => other,
            }),
            ColorSupport::Ansi16 => self.palette.map_colors(nearest_ansi16),
        };
        Theme {
            name: self.name.clone(),
            palette,
        }
    }

    pub fn text(&self) -> Style {
        Style::new().fg(self.palette.text)
    }

    pub fn muted(&self) -> Style {
        Style::new().fg(self.palette.muted)
    }

    pub fn border(&self, focused: bool) -> Style {
        if focused {
            Style::new()
                .fg(self.palette.border_focused)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::new().fg(self.palette.border)
        }
    }

    pub fn title(&self, focused: bool) -> Style {
        let style = Style::new().fg(self.palette.title);
        if focused {
            style.add_modifier(Modifier::BOLD)
        } else {
            style
        }
    }

    pub fn selection(&self) -> Style {
        Style::new()
            .fg(self.palette.selection_fg)
            .bg(self.palette.selection_bg)
    }

    pub fn severity(&self, severity: Severity) -> Style {
        let p = &self.palette;
        let color = match severity {
            Severity::Info => p.severity_info,
            Severity::Low => p.severity_low,
            Severity::Medium => p.severity_medium,
            Severity::High => p.severity_high,
            Severity::Critical => p.severity_critical,
        };
        let style = Style::new().fg(color);
        if severity >= Severity::High {
            style.add_modifier(Modifier::BOLD)
        } else {
            style
        }
    }

    pub fn scope(&self, risk: ScopeRisk) -> Style {
        let p = &self.palette;
        match risk {
            ScopeRisk::Read => Style::new().fg(p.scope_read),
            ScopeRisk::Write => Style::new().fg(p.scope_write).add_modifier(Modifier::BOLD),
            ScopeRisk::Broad => Style::new().fg(p.scope_broad).add_modifier(Modifier::BOLD),
            ScopeRisk::Unknown => Style::new().fg(p.scope_unknown),
        }
    }

    pub fn marker(&self, kind: MarkerKind) -> Style {
        let p = &self.palette;
        Style::new().fg(match kind {
            MarkerKind::Credential => p.marker_credential,
            MarkerKind::Privilege => p.marker_privilege,
            MarkerKind::Destructive => p.marker_destructive,
            _ => p.marker_other,
        })
    }

    pub fn ok(&self) -> Style {
        Style::new().fg(self.palette.ok)
    }

    pub fn warning(&self) -> Style {
        Style::new().fg(self.palette.warning)
    }

    pub fn error(&self) -> Style {
        Style::new()
            .fg(self.palette.error)
            .add_modifier(Modifier::BOLD)
    }

    pub fn new_marker(&self) -> Style {
        Style::new()
            .fg(self.palette.new_marker)
            .add_modifier(Modifier::BOLD)
    }

    pub fn link(&self) -> Style {
        Style::new()
            .fg(self.palette.link)
            .add_modifier(Modifier::UNDERLINED)
    }

    pub fn status_bar(&self) -> Style {
        Style::new()
            .fg(self.palette.status_fg)
            .bg(self.palette.status_bg)
    }

    pub fn key_hint(&self) -> Style {
        Style::new()
            .fg(self.palette.key_hint)
            .add_modifier(Modifier::BOLD)
    }

    pub fn popup_border(&self) -> Style {
        Style::new()
            .fg(self.palette.popup_border)
            .add_modifier(Modifier::BOLD)
    }

    pub fn diff(&self, added: bool) -> Style {
        Style::new().fg(if added {
            self.palette.diff_added
        } else {
            self.palette.diff_removed
        })
    }

    pub fn base(&self) -> Style {
        Style::new()
            .fg(self.palette.text)
            .bg(self.palette.background)
    }
}

/// The ANSI colour nearest to an RGB or indexed one; named colours pass.
fn nearest_ansi16(color: Color) -> Color {
    let rgb = match color {
        Color::Rgb(r, g, b) => (r, g, b),
        Color::Indexed(i) => indexed_to_rgb(i),
        other => return other,
    };
    const ANSI: [(Color, (u8, u8, u8)); 16] = [
        (Color::Black, (0, 0, 0)),
        (Color::Red, (205, 0, 0)),
        (Color::Green, (0, 205, 0)),
        (Color::Yellow, (205, 205, 0)),
        (Color::Blue, (0, 0, 238)),
        (Color::Magenta, (205, 0, 205)),
        (Color::Cyan, (0, 205, 205)),
        (Color::Gray, (229, 229, 229)),
        (Color::DarkGray, (127, 127, 127)),
        (Color::LightRed, (255, 0, 0)),
        (Color::LightGreen, (0, 255, 0)),
        (Color::LightYellow, (255, 255, 0)),
        (Color::LightBlue, (92, 92, 255)),
        (Color::LightMagenta, (255, 0, 255)),
        (Color::LightCyan, (0, 255, 255)),
        (Color::White, (255, 255, 255)),
    ];
    let dist = |(r, g, b): (u8, u8, u8)| {
        let d = |a: u8, b: u8| (i32::from(a) - i32::from(b)).pow(2);
        d(r, rgb.0) + d(g, rgb.1) + d(b, rgb.2)
    };
    ANSI.iter()
        .min_by_key(|(_, c)| dist(*c))
        .map_or(Color::Reset, |(named, _)| *named)
}

fn indexed_to_rgb(i: u8) -> (u8, u8, u8) {
    match i {
        0..=15 => [
            (0, 0, 0),
            (205, 0, 0),
            (0, 205, 0),
            (205, 205, 0),
            (0, 0, 238),
            (205, 0, 205),
            (0, 205, 205),
            (229, 229, 229),
            (127, 127, 127),
            (255, 0, 0),
            (0, 255, 0),
            (255, 255, 0),
            (92, 92, 255),
            (255, 0, 255),
            (0, 255, 255),
            (255, 255, 255),
        ][usize::from(i)],
        16..=231 => {
            let i = i - 16;
            let level = |v: u8| if v == 0 { 0 } else { 55 + v * 40 };
            (level(i / 36), level((i / 6) % 6), level(i % 6))
        }
        _ => {
            let v = 8 + (i - 232) * 10;
            (v, v, v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_built_in_loads_and_uses_ansi_names_only() {
        for (name, _) in BUILT_IN {
            let theme = Theme::built_in(name).expect(name);
            assert_eq!(theme.for_terminal(ColorSupport::Ansi16), theme, "{name}");
        }
    }

    #[test]
    fn user_theme_extends_and_overrides() {
        let theme = Theme::parse(
            "mine",
            "extends = \"dark\"\n[slots]\nseverity_critical = \"#ff0000\"\n",
            "mine.toml",
        )
        .expect("parses");
        assert_eq!(theme.palette.severity_critical, Color::Rgb(255, 0, 0));
        assert_eq!(
            theme.palette.border,
            Theme::built_in("dark").expect("dark").palette.border
        );
        let ansi = theme.for_terminal(ColorSupport::Ansi16);
        assert_eq!(ansi.palette.severity_critical, Color::LightRed);
    }

    #[test]
    fn errors_name_file_and_slot() {
        let err = Theme::parse("x", "[slots]\ntext = \"purpleish\"\n", "x.toml").expect_err("bad");
        assert_eq!(
            err.to_string(),
            "theme x.toml: slot `text`: `purpleish` is not a colour (a name like `red`, `#rrggbb` or 0-255)"
        );
        let err = Theme::parse(
            "x",
            "extends = \"dark\"\n[slots]\nsevere = \"red\"\n",
            "x.toml",
        )
        .expect_err("unknown");
        assert_eq!(err.to_string(), "theme x.toml: unknown slot `severe`");
        let err = Theme::parse("x", "[slots]\ntext = \"red\"\n", "x.toml").expect_err("missing");
        assert!(
            err.to_string()
                .contains("is not set and the theme extends nothing")
        );
        let err = Theme::parse("x", "[slots\n", "x.toml").expect_err("syntax");
        assert!(err.to_string().starts_with("theme x.toml: "), "{err}");
    }
}
