//! The `/` filter input, drawn over the footer line.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::Span;
use ratatui::widgets::{Clear, Widget};
use ratatui_textarea::TextArea;

use crate::tui::keys::{Key, KeyInput};
use crate::tui::model::SafeText;
use crate::tui::theme::Theme;

#[derive(Debug, Clone)]
pub struct FilterInput {
    pub input: TextArea<'static>,
}

impl FilterInput {
    pub fn new(current: &str) -> FilterInput {
        let mut input = TextArea::new(vec![current.to_owned()]);
        input.move_cursor(ratatui_textarea::CursorMove::End);
        input.set_cursor_line_style(Style::new());
        FilterInput { input }
    }

    pub fn text(&self) -> String {
        self.input.lines().join("")
    }

    /// Typed characters are sanitized; Enter never makes a second line.
    pub fn input(&mut self, key: KeyInput) {
        match key.key {
            Key::Char(c) if key.is_text() => {
                self.input
                    .insert_str(SafeText::new(c.encode_utf8(&mut [0; 4])).as_str());
            }
            Key::Enter => {}
            _ => {
                self.input.input(key.to_textarea());
            }
        }
    }

    pub fn paste(&mut self, text: &str) {
        self.input.insert_str(SafeText::new(text).as_str());
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let rect = Rect {
            y: area.bottom().saturating_sub(1),
            height: area.height.min(1),
            ..area
        };
        Clear.render(rect, buf);
        let label = " filter / ";
        Span::styled(label, theme.key_hint()).render(rect, buf);
        let input_rect = Rect {
            x: rect.x.saturating_add(label.len() as u16),
            width: rect.width.saturating_sub(label.len() as u16),
            ..rect
        };
        let mut shown = self.input.clone();
        shown.set_style(theme.text());
        shown.set_cursor_style(theme.selection());
        (&shown).render(input_rect, buf);
    }
}
