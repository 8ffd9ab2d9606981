//! Snooze a finding for a chosen duration with a required reason.

use std::time::Duration;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};
use ratatui_textarea::TextArea;

use crate::tui::format;
use crate::tui::keys::{Key, KeyInput};
use crate::tui::layout::centered;
use crate::tui::model::{FindingId, SafeText};
use crate::tui::theme::Theme;

pub const DURATIONS: [Duration; 6] = [
    Duration::from_secs(15 * 60),
    Duration::from_secs(3600),
    Duration::from_secs(4 * 3600),
    Duration::from_secs(24 * 3600),
    Duration::from_secs(3 * 24 * 3600),
    Duration::from_secs(7 * 24 * 3600),
];

#[derive(Debug, Clone)]
pub struct SnoozeForm {
    pub finding: FindingId,
    pub what: SafeText,
    pub duration: usize,
    pub reason: TextArea<'static>,
    pub error: Option<&'static str>,
}

impl SnoozeForm {
    pub fn new(finding: FindingId, what: SafeText) -> SnoozeForm {
        let mut reason = TextArea::default();
        reason.set_cursor_line_style(Style::new());
        reason.set_placeholder_text("why is this safe to ignore for now?");
        SnoozeForm {
            finding,
            what,
            duration: 2,
            reason,
            error: None,
        }
    }

    pub fn duration(&self) -> Duration {
        DURATIONS[self.duration.min(DURATIONS.len() - 1)]
    }

    pub fn change(&mut self, longer: bool) {
        self.duration = if longer {
            (self.duration + 1).min(DURATIONS.len() - 1)
        } else {
            self.duration.saturating_sub(1)
        };
    }

    pub fn reason(&self) -> String {
        self.reason.lines().join(" ").trim().to_owned()
    }

    pub fn input(&mut self, key: KeyInput) {
        match key.key {
            Key::Char(c) if key.is_text() => {
                self.reason
                    .insert_str(SafeText::new(c.encode_utf8(&mut [0; 4])).as_str());
            }
            Key::Enter => {}
            _ => {
                self.reason.input(key.to_textarea());
            }
        }
        self.error = None;
    }

    pub fn paste(&mut self, text: &str) {
        self.reason.insert_str(SafeText::new(text).as_str());
    }

    pub fn render(&self, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let rect = centered(area, 60, 0, 50, 9);
        Clear.render(rect, buf);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.popup_border())
            .title(Span::styled(" Snooze ", theme.title(true)))
            .style(theme.base());
        let inner = block.inner(rect);
        block.render(rect, buf);
        let mut durations = vec![Span::styled("For     ", theme.muted())];
        for (i, d) in DURATIONS.iter().enumerate() {
            let label = format!(" {} ", format::duration(*d));
            durations.push(if i == self.duration {
                Span::styled(label, theme.selection())
            } else {
                Span::styled(label, theme.text())
            });
        }
        let lines = vec![
            Line::from(vec![
                Span::styled("Finding ", theme.muted()),
                Span::styled(self.what.as_str(), theme.text()),
            ]),
            Line::from(durations),
            Line::styled("Reason", theme.muted()),
        ];
        Paragraph::new(lines).render(inner, buf);
        let reason_rect = Rect {
            y: inner.y.saturating_add(3),
            height: inner.height.saturating_sub(3).min(1),
            ..inner
        };
        let mut shown = self.reason.clone();
        shown.set_style(theme.text());
        shown.set_cursor_style(theme.selection());
        (&shown).render(reason_rect, buf);
        if let Some(err) = self.error {
            let err_rect = Rect {
                y: inner.y.saturating_add(5),
                height: inner.height.saturating_sub(5).min(1),
                ..inner
            };
            Line::styled(err, theme.error()).render(err_rect, buf);
        }
    }
}
