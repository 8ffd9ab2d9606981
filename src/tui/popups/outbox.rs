//! The outbox view: the newest requests with their state (dry-run items
//! marked), and beside them exactly what the selected one sends, loaded
//! from the data side when the selection moves.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

use crate::tui::format::fit;
use crate::tui::keymap::{Context, Keymap};
use crate::tui::layout::{WIDE_MIN_WIDTH, centered};
use crate::tui::model::{DeliveryState, OutboxRow, SafeText};
use crate::tui::panes::delivery_span;
use crate::tui::theme::Theme;

#[derive(Debug, Clone, Default)]
pub struct OutboxPopup {
    /// The selected row by id, so new rows arriving on top keep it.
    pub selected: Option<i64>,
    /// The loaded preview and the row it belongs to.
    pub preview: Option<(i64, LoadedPreview)>,
    /// First preview line shown.
    pub scroll: usize,
}

/// Rows of the list in the narrow (stacked) layout.
const NARROW_LIST_ROWS: u16 = 7;

/// A preview with where each of its lines starts, measured once when it
/// arrives: it may be megabytes, and scrolling and every frame only look
/// up the lines on screen.
#[derive(Debug, Clone, Default)]
pub struct LoadedPreview {
    text: SafeText,
    line_starts: Vec<usize>,
}

impl LoadedPreview {
    pub fn new(text: SafeText) -> LoadedPreview {
        // As `str::lines` counts: a final line break starts no line.
        let len = text.as_str().len();
        let line_starts = std::iter::once(0)
            .chain(
                text.as_str()
                    .match_indices('\n')
                    .map(|(i, _)| i + 1)
                    .filter(|&start| start < len),
            )
            .collect();
        LoadedPreview { text, line_starts }
    }

    /// Up to `count` lines from line `first` on.
    fn lines(&self, first: usize, count: usize) -> impl Iterator<Item = &str> {
        let from = self.line_starts.get(first).copied();
        let rest = from.map_or("", |from| &self.text.as_str()[from..]);
        rest.lines().take(count)
    }

    fn last_line(&self) -> usize {
        if self.text.is_empty() {
            0
        } else {
            self.line_starts.len() - 1
        }
    }
}

impl OutboxPopup {
    /// Selects the first row of `rows`, if any; returns the row to preview.
    pub fn open(rows: &[OutboxRow]) -> (OutboxPopup, Option<i64>) {
        let selected = rows.first().map(|r| r.id);
        (
            OutboxPopup {
                selected,
                ..OutboxPopup::default()
            },
            selected,
        )
    }

    pub fn index(&self, rows: &[OutboxRow]) -> Option<usize> {
        let id = self.selected?;
        rows.iter().position(|r| r.id == id)
    }

    /// Moves the selection; returns the newly selected row's id when it
    /// changed (its preview is then to be loaded).
    pub fn move_by(&mut self, delta: isize, rows: &[OutboxRow]) -> Option<i64> {
        if rows.is_empty() {
            return None;
        }
        let at = self.index(rows).unwrap_or(0);
        let next = at.saturating_add_signed(delta).min(rows.len() - 1);
        let id = rows[next].id;
        if Some(id) == self.selected {
            return None;
        }
        self.selected = Some(id);
        self.scroll = 0;
        Some(id)
    }

    /// After the rows changed: keeps the selected row, or selects the
    /// first when it is gone; returns a row whose preview is to be loaded.
    pub fn rows_changed(&mut self, rows: &[OutboxRow]) -> Option<i64> {
        if self.index(rows).is_some() {
            return None;
        }
        self.selected = rows.first().map(|r| r.id);
        self.scroll = 0;
        self.selected
    }

    pub fn set_preview(&mut self, id: i64, text: SafeText) {
        if self.selected == Some(id) {
            self.preview = Some((id, LoadedPreview::new(text)));
        }
    }

    pub fn scroll_by(&mut self, delta: isize) {
        let max = self
            .preview
            .as_ref()
            .map_or(0, |(_, preview)| preview.last_line());
        self.scroll = self.scroll.saturating_add_signed(delta).min(max);
    }

    pub fn render(
        &self,
        rows: &[OutboxRow],
        keymap: &Keymap,
        area: Rect,
        buf: &mut Buffer,
        theme: &Theme,
    ) {
        let rect = centered(area, 94, 90, 60, 16);
        Clear.render(rect, buf);
        let dry = rows
            .iter()
            .filter(|r| r.state == DeliveryState::DryRun)
            .count();
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.popup_border())
            .title(Span::styled(
                format!(" Outbox · {} newest · {dry} dry-run ", rows.len()),
                theme.title(true),
            ))
            .title_bottom(Span::styled(
                format!(
                    " {} close · j/k select · pgup/pgdn scroll preview ",
                    keymap.key_for(Context::Outbox, "close")
                ),
                theme.muted(),
            ))
            .style(theme.base());
        let inner = block.inner(rect);
        block.render(rect, buf);
        let wide = area.width >= WIDE_MIN_WIDTH;
        let parts = Layout::default()
            .direction(if wide {
                Direction::Horizontal
            } else {
                Direction::Vertical
            })
            .constraints(if wide {
                [Constraint::Length(46), Constraint::Min(0)]
            } else {
                [Constraint::Length(NARROW_LIST_ROWS), Constraint::Min(0)]
            })
            .split(inner);
        self.render_list(rows, parts[0], buf, theme);
        self.render_preview(rows, parts[1], buf, theme);
    }

    fn render_list(&self, rows: &[OutboxRow], area: Rect, buf: &mut Buffer, theme: &Theme) {
        if rows.is_empty() {
            Paragraph::new(Line::styled(
                "Nothing in the outbox yet: requests appear here as workflows record them.",
                theme.muted(),
            ))
            .wrap(Wrap { trim: false })
            .render(area, buf);
            return;
        }
        let height = usize::from(area.height).max(1);
        let at = self.index(rows).unwrap_or(0);
        // Keep the selection on screen.
        let first = at.saturating_sub(height - 1);
        let width = usize::from(area.width);
        let lines: Vec<Line> = rows
            .iter()
            .enumerate()
            .skip(first)
            .take(height)
            .map(|(i, row)| {
                let selected = i == at;
                let style = if selected {
                    theme.selection()
                } else {
                    theme.text()
                };
                let marker = if selected { "▶" } else { " " };
                let head = format!(
                    "{marker}{:>5} {:<4} {:<8} ",
                    row.id,
                    row.sink.short(),
                    fit(row.kind.as_str(), 8)
                );
                let state = state_label(&row.state);
                let used = head.chars().count() + state.chars().count() + 1;
                Line::from(vec![
                    Span::styled(head, style),
                    delivery_span(&row.state, theme),
                    Span::styled(format!(" {state}"), state_style(&row.state, theme)),
                    Span::styled(
                        format!(
                            " {}",
                            fit(row.subject.as_str(), width.saturating_sub(used + 2))
                        ),
                        theme.muted(),
                    ),
                ])
            })
            .collect();
        Paragraph::new(lines).render(area, buf);
    }

    fn render_preview(&self, rows: &[OutboxRow], area: Rect, buf: &mut Buffer, theme: &Theme) {
        let block = Block::default()
            .borders(Borders::LEFT | Borders::TOP)
            .border_style(theme.border(false))
            .title(Span::styled(" would send / sent ", theme.muted()));
        let preview = match (&self.preview, self.selected) {
            (Some((id, preview)), Some(selected)) if *id == selected => preview,
            _ => {
                let waiting = if rows.is_empty() {
                    ""
                } else {
                    "Loading the preview…"
                };
                Paragraph::new(Line::styled(waiting, theme.muted()))
                    .block(block)
                    .render(area, buf);
                return;
            }
        };
        // Only what can show: a preview may be megabytes of attacker text.
        let rows = usize::from(area.height);
        let cells = rows * usize::from(area.width);
        let lines: Vec<Line> = preview
            .lines(self.scroll, rows)
            .map(|l| {
                let style = if l.starts_with("== ") {
                    theme.title(true)
                } else {
                    theme.text()
                };
                Line::styled(fit(l, cells).into_owned(), style)
            })
            .collect();
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .render(area, buf);
    }
}

fn state_label(state: &DeliveryState) -> &'static str {
    match state {
        DeliveryState::Queued => "queued",
        DeliveryState::Retrying { .. } => "retrying",
        DeliveryState::Delivered => "delivered",
        DeliveryState::DeadLetter { .. } => "dead",
        DeliveryState::DryRun => "DRY-RUN",
    }
}

fn state_style(state: &DeliveryState, theme: &Theme) -> ratatui::style::Style {
    match state {
        DeliveryState::DryRun => theme.warning(),
        DeliveryState::DeadLetter { .. } => theme.error(),
        DeliveryState::Delivered => theme.ok(),
        _ => theme.muted(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preview_shows_the_lines_str_lines_would_from_any_line_on() {
        for raw in ["", "\n", "\n\n", "a", "a\n", "a\nb\nc", "a\n\nb\n"] {
            let preview = LoadedPreview::new(SafeText::multiline(raw));
            let all: Vec<&str> = raw.lines().collect();
            assert_eq!(preview.last_line(), all.len().saturating_sub(1), "{raw:?}");
            for first in 0..=all.len() {
                let shown: Vec<&str> = preview.lines(first, 2).collect();
                let expected: Vec<&str> = all.iter().skip(first).take(2).copied().collect();
                assert_eq!(shown, expected, "{raw:?} from line {first}");
            }
        }
    }
}
