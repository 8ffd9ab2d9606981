//! The workflow switches: the four workflows with the mode each is in and
//! where that comes from; the analyst cycles the selected one (turning one
//! on asks first, since from then on its requests are really sent).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

use crate::tui::format::fit;
use crate::tui::keymap::{Context, Keymap};
use crate::tui::layout::centered;
use crate::tui::model::{WorkflowMode, WorkflowStatus, workflow_key};
use crate::tui::theme::Theme;

#[derive(Debug, Clone, Default)]
pub struct WorkflowsPopup {
    pub selected: usize,
}

/// What each mode does, one line each, under the list.
const LEGEND: [&str; 3] = [
    "off: does not run",
    "dry-run: runs fully, records what it would send, sends nothing (O shows it)",
    "on: runs and sends",
];

impl WorkflowsPopup {
    pub fn move_by(&mut self, delta: isize, len: usize) {
        self.selected = self
            .selected
            .saturating_add_signed(delta)
            .min(len.saturating_sub(1));
    }

    /// The selected workflow, when the engine has reported the modes.
    pub fn current<'a>(&self, workflows: &'a [WorkflowStatus]) -> Option<&'a WorkflowStatus> {
        workflows.get(self.selected.min(workflows.len().saturating_sub(1)))
    }

    pub fn render(
        &self,
        workflows: &[WorkflowStatus],
        keymap: &Keymap,
        area: Rect,
        buf: &mut Buffer,
        theme: &Theme,
    ) {
        let rect = centered(area, 80, 0, 60, 12);
        Clear.render(rect, buf);
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.popup_border())
            .title(Span::styled(" Workflows ", theme.title(true)))
            .style(theme.base());
        let inner = usize::from(block.inner(rect).width);
        let mut lines = Vec::new();
        if workflows.is_empty() {
            lines.push(Line::styled(
                "Waiting for the engine to report the modes.",
                theme.muted(),
            ));
        }
        for (i, w) in workflows.iter().enumerate() {
            let selected = i == self.selected;
            let marker = if selected { "▶ " } else { "  " };
            let name_style = if selected {
                theme.selection()
            } else {
                theme.text()
            };
            let used = 2 + 15 + 9;
            lines.push(Line::from(vec![
                Span::styled(
                    format!("{marker}{:<15}", workflow_key(w.workflow)),
                    name_style,
                ),
                Span::styled(format!("{:<9}", w.mode.as_str()), mode_style(w.mode, theme)),
                Span::styled(
                    fit(w.origin.as_str(), inner.saturating_sub(used)).into_owned(),
                    theme.muted(),
                ),
            ]));
        }
        lines.push(Line::default());
        lines.extend(LEGEND.iter().map(|l| Line::styled(*l, theme.muted())));
        lines.push(Line::default());
        lines.push(Line::from(vec![
            Span::styled(
                keymap.key_for(Context::Workflows, "next_mode"),
                theme.key_hint(),
            ),
            Span::styled(" next mode   ", theme.muted()),
            Span::styled(
                keymap.key_for(Context::Workflows, "prev_mode"),
                theme.key_hint(),
            ),
            Span::styled(" previous   ", theme.muted()),
            Span::styled(
                keymap.key_for(Context::Workflows, "close"),
                theme.key_hint(),
            ),
            Span::styled(" close", theme.muted()),
        ]));
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .render(rect, buf);
    }
}

/// `on` stands out: it is the one that sends.
pub fn mode_style(mode: WorkflowMode, theme: &Theme) -> ratatui::style::Style {
    match mode {
        WorkflowMode::On => theme.ok(),
        WorkflowMode::DryRun => theme.warning(),
        WorkflowMode::Off => theme.muted(),
    }
}
