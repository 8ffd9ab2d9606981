//! A yes/no dialog that carries the action it confirms without knowing
//! what it is: on "yes" the app runs the carried action.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

use crate::tui::action::Action;
use crate::tui::keymap::{Context, Keymap};
use crate::tui::layout::centered;
use crate::tui::theme::Theme;

#[derive(Debug, Clone)]
pub struct ConfirmPopup {
    pub title: String,
    /// Built only from sanitized view-model text and fixed wording.
    pub lines: Vec<String>,
    pub on_yes: Box<Action>,
}

impl ConfirmPopup {
    pub fn new(title: impl Into<String>, lines: Vec<String>, on_yes: Action) -> ConfirmPopup {
        ConfirmPopup {
            title: title.into(),
            lines,
            on_yes: Box::new(on_yes),
        }
    }

    pub fn render(&self, keymap: &Keymap, area: Rect, buf: &mut Buffer, theme: &Theme) {
        // Size to the wrapped message, so the keys line is never cut off.
        let width = centered(area, 60, 0, 50, 0).width;
        let inner = usize::from(width.saturating_sub(2)).max(1);
        let rows: usize = self
            .lines
            .iter()
            .map(|l| crate::tui::format::width(l).div_ceil(inner).max(1))
            .sum();
        let height = u16::try_from(rows + 4).unwrap_or(u16::MAX);
        let rect = centered(area, 60, 0, 50, height);
        Clear.render(rect, buf);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.popup_border())
            .title(Span::styled(format!(" {} ", self.title), theme.title(true)))
            .style(theme.base());
        let mut lines: Vec<Line> = self
            .lines
            .iter()
            .map(|l| Line::styled(l.as_str(), theme.text()))
            .collect();
        lines.push(Line::default());
        lines.push(Line::from(vec![
            Span::styled(keymap.key_for(Context::Confirm, "yes"), theme.key_hint()),
            Span::styled(" confirm   ", theme.muted()),
            Span::styled(keymap.key_for(Context::Confirm, "no"), theme.key_hint()),
            Span::styled(" cancel", theme.muted()),
        ]));
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .render(rect, buf);
    }
}
