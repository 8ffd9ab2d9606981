//! The `?` overlay: every binding with its description, generated from the
//! keymap in force (defaults plus the user's overrides).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget};

use crate::tui::format::pad;
use crate::tui::keymap::{Context, Keymap};
use crate::tui::layout::centered;
use crate::tui::theme::Theme;

#[derive(Debug, Clone, Default)]
pub struct HelpPopup {
    pub scroll: usize,
}

/// Section titles, in the order the overlay lists them.
const SECTIONS: [(Context, &str); 13] = [
    (Context::Global, "Everywhere"),
    (Context::Navigation, "Lists"),
    (Context::Main, "Main screen"),
    (Context::Actor, "Actor view"),
    (Context::Editor, "Verdict editor"),
    (Context::Verdict, "Verdict field"),
    (Context::Publish, "Publish"),
    (Context::Confirm, "Confirm"),
    (Context::Snooze, "Snooze"),
    (Context::Filter, "Filter"),
    (Context::Workflows, "Workflow switches"),
    (Context::Outbox, "Outbox"),
    (Context::Help, "Help"),
];

impl HelpPopup {
    pub fn lines<'a>(keymap: &'a Keymap, theme: &Theme) -> Vec<Line<'a>> {
        let mut lines = Vec::new();
        for (context, title) in SECTIONS {
            lines.push(Line::styled(title, theme.title(true)));
            if context == Context::Global {
                lines.push(Line::from(vec![
                    Span::styled(pad("ctrl-c", 18), theme.key_hint()),
                    Span::styled("Quit (always)", theme.text()),
                ]));
            }
            for b in keymap.bindings(context) {
                lines.push(Line::from(vec![
                    Span::styled(pad(&b.keys_label(), 18), theme.key_hint()),
                    Span::styled(b.desc.as_str(), theme.text()),
                ]));
            }
            lines.push(Line::default());
        }
        lines
    }

    pub fn len(keymap: &Keymap) -> usize {
        SECTIONS
            .iter()
            .map(|(c, _)| keymap.bindings(*c).count() + 2)
            .sum::<usize>()
            + 1
    }

    pub fn render(&self, keymap: &Keymap, area: Rect, buf: &mut Buffer, theme: &Theme) {
        let rect = centered(area, 70, 85, 60, 12);
        Clear.render(rect, buf);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.popup_border())
            .title(Span::styled(" Keys ", theme.title(true)))
            .title_bottom(Span::styled(
                format!(
                    " {} close · j/k scroll ",
                    keymap.key_for(Context::Help, "close")
                ),
                theme.muted(),
            ))
            .style(theme.base());
        let lines = HelpPopup::lines(keymap, theme);
        let scroll = u16::try_from(self.scroll).unwrap_or(u16::MAX);
        Paragraph::new(lines)
            .block(block)
            .scroll((scroll, 0))
            .render(rect, buf);
    }
}
