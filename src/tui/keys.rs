//! Key presses in a form independent of the terminal library: parsed from
//! keymap specs (`ctrl-c`, `G`, `pagedown`), converted from crossterm
//! events, and handed to the text editor.

use std::fmt;
use std::str::FromStr;

use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use ratatui_textarea::{Input, Key as TextKey};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Key {
    /// A printable character; shift is folded into its case.
    Char(char),
    Enter,
    Esc,
    Tab,
    BackTab,
    Backspace,
    Delete,
    Up,
    Down,
    Left,
    Right,
    PageUp,
    PageDown,
    Home,
    End,
    F(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct KeyInput {
    pub key: Key,
    pub ctrl: bool,
    pub alt: bool,
}

impl KeyInput {
    pub const fn plain(key: Key) -> KeyInput {
        KeyInput {
            key,
            ctrl: false,
            alt: false,
        }
    }

    pub const fn char(c: char) -> KeyInput {
        KeyInput::plain(Key::Char(c))
    }

    pub const fn ctrl(c: char) -> KeyInput {
        KeyInput {
            key: Key::Char(c),
            ctrl: true,
            alt: false,
        }
    }

    /// A crossterm key event, or `None` for releases and keys we do not use.
    pub fn from_crossterm(event: KeyEvent) -> Option<KeyInput> {
        if event.kind == KeyEventKind::Release {
            return None;
        }
        let shift = event.modifiers.contains(KeyModifiers::SHIFT);
        let key = match event.code {
            KeyCode::Char(c) => Key::Char(c),
            KeyCode::Enter => Key::Enter,
            KeyCode::Esc => Key::Esc,
            KeyCode::Tab if shift => Key::BackTab,
            KeyCode::Tab => Key::Tab,
            KeyCode::BackTab => Key::BackTab,
            KeyCode::Backspace => Key::Backspace,
            KeyCode::Delete => Key::Delete,
            KeyCode::Up => Key::Up,
            KeyCode::Down => Key::Down,
            KeyCode::Left => Key::Left,
            KeyCode::Right => Key::Right,
            KeyCode::PageUp => Key::PageUp,
            KeyCode::PageDown => Key::PageDown,
            KeyCode::Home => Key::Home,
            KeyCode::End => Key::End,
            KeyCode::F(n) => Key::F(n),
            _ => return None,
        };
        Some(KeyInput {
            key,
            ctrl: event.modifiers.contains(KeyModifiers::CONTROL),
            alt: event.modifiers.contains(KeyModifiers::ALT),
        })
    }

    /// Whether this key would type something into a text field.
    pub fn is_text(self) -> bool {
        matches!(self.key, Key::Char(_)) && !self.ctrl && !self.alt
    }

    /// The same key for the text editor widget.
    pub fn to_textarea(self) -> Input {
        let key = match self.key {
            Key::Char(c) => TextKey::Char(c),
            Key::Enter => TextKey::Enter,
            Key::Esc => TextKey::Esc,
            Key::Tab | Key::BackTab => TextKey::Tab,
            Key::Backspace => TextKey::Backspace,
            Key::Delete => TextKey::Delete,
            Key::Up => TextKey::Up,
            Key::Down => TextKey::Down,
            Key::Left => TextKey::Left,
            Key::Right => TextKey::Right,
            Key::PageUp => TextKey::PageUp,
            Key::PageDown => TextKey::PageDown,
            Key::Home => TextKey::Home,
            Key::End => TextKey::End,
            Key::F(n) => TextKey::F(n),
        };
        Input {
            key,
            ctrl: self.ctrl,
            alt: self.alt,
            shift: self.key == Key::BackTab,
        }
    }
}

/// Why a key spec in a keymap file is not a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{spec}` is not a key (expected e.g. `j`, `G`, `ctrl-c`, `alt-x`, `enter`, `pagedown`, `f1`)"
)]
pub struct BadKeySpec {
    pub spec: String,
}

impl FromStr for KeyInput {
    type Err = BadKeySpec;

    fn from_str(spec: &str) -> Result<KeyInput, BadKeySpec> {
        let bad = || BadKeySpec {
            spec: spec.to_owned(),
        };
        let mut ctrl = false;
        let mut alt = false;
        let mut rest = spec;
        // A lone "-" is the minus key, not a separator.
        while rest.len() > 1 {
            if let Some(r) = rest.strip_prefix("ctrl-") {
                ctrl = true;
                rest = r;
            } else if let Some(r) = rest.strip_prefix("alt-") {
                alt = true;
                rest = r;
            } else {
                break;
            }
        }
        let key = match rest {
            "enter" => Key::Enter,
            "esc" => Key::Esc,
            "tab" => Key::Tab,
            "backtab" | "shift-tab" => Key::BackTab,
            "backspace" => Key::Backspace,
            "delete" => Key::Delete,
            "up" => Key::Up,
            "down" => Key::Down,
            "left" => Key::Left,
            "right" => Key::Right,
            "pageup" => Key::PageUp,
            "pagedown" => Key::PageDown,
            "home" => Key::Home,
            "end" => Key::End,
            "space" => Key::Char(' '),
            f if f.len() > 1 && f.starts_with('f') => {
                let n: u8 = f[1..].parse().map_err(|_| bad())?;
                if !(1..=12).contains(&n) {
                    return Err(bad());
                }
                Key::F(n)
            }
            other => {
                let mut chars = other.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if !c.is_control() && !c.is_whitespace() => Key::Char(c),
                    _ => return Err(bad()),
                }
            }
        };
        Ok(KeyInput { key, ctrl, alt })
    }
}

/// The short form shown in the help overlay and footer (`ctrl-c`, `↓`, `G`).
impl fmt::Display for KeyInput {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.ctrl {
            f.write_str("ctrl-")?;
        }
        if self.alt {
            f.write_str("alt-")?;
        }
        match self.key {
            Key::Char(' ') => f.write_str("space"),
            Key::Char(c) => write!(f, "{c}"),
            Key::Enter => f.write_str("enter"),
            Key::Esc => f.write_str("esc"),
            Key::Tab => f.write_str("tab"),
            Key::BackTab => f.write_str("shift-tab"),
            Key::Backspace => f.write_str("bksp"),
            Key::Delete => f.write_str("del"),
            Key::Up => f.write_str("↑"),
            Key::Down => f.write_str("↓"),
            Key::Left => f.write_str("←"),
            Key::Right => f.write_str("→"),
            Key::PageUp => f.write_str("pgup"),
            Key::PageDown => f.write_str("pgdn"),
            Key::Home => f.write_str("home"),
            Key::End => f.write_str("end"),
            Key::F(n) => write!(f, "f{n}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        assert_eq!("j".parse(), Ok(KeyInput::char('j')));
        assert_eq!("G".parse(), Ok(KeyInput::char('G')));
        assert_eq!("ctrl-c".parse(), Ok(KeyInput::ctrl('c')));
        assert_eq!("-".parse(), Ok(KeyInput::char('-')));
        assert_eq!(
            "alt-enter".parse(),
            Ok(KeyInput {
                key: Key::Enter,
                ctrl: false,
                alt: true
            })
        );
        assert_eq!("f12".parse(), Ok(KeyInput::plain(Key::F(12))));
        for bad in ["", "ctrl-", "f13", "jj", "hyper-x", "\u{1b}"] {
            assert!(bad.parse::<KeyInput>().is_err(), "{bad:?}");
        }
    }

    #[test]
    fn crossterm_shift_folds_into_case_and_backtab() {
        let ev = KeyEvent::new(KeyCode::Char('G'), KeyModifiers::SHIFT);
        assert_eq!(KeyInput::from_crossterm(ev), Some(KeyInput::char('G')));
        let ev = KeyEvent::new(KeyCode::Tab, KeyModifiers::SHIFT);
        assert_eq!(
            KeyInput::from_crossterm(ev),
            Some(KeyInput::plain(Key::BackTab))
        );
    }
}
