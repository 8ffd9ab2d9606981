//! After approval: publish the report to Confluence, Linear and PagerDuty,
//! each a separately confirmed action with a preview of what will be sent.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Widget, Wrap};

use crate::tui::app::App;
use crate::tui::format::fit;
use crate::tui::layout::{WIDE_MIN_WIDTH, centered};
use crate::tui::model::{DraftId, DraftView, PagerDutyAction, PublishTarget};
use crate::tui::panes::delivery_span;
use crate::tui::theme::Theme;

#[derive(Debug, Clone)]
pub struct PublishPopup {
    pub draft: DraftId,
    pub selected: usize,
}

impl PublishPopup {
    pub fn new(draft: DraftId) -> PublishPopup {
        PublishPopup { draft, selected: 0 }
    }

    pub fn target(&self) -> PublishTarget {
        PublishTarget::ALL[self.selected.min(PublishTarget::ALL.len() - 1)]
    }

    pub fn move_by(&mut self, delta: isize) {
        self.selected = self
            .selected
            .saturating_add_signed(delta)
            .min(PublishTarget::ALL.len() - 1);
    }

    pub fn render(&self, app: &App, area: Rect, buf: &mut Buffer) {
        let theme = app.theme();
        let rect = centered(area, 90, 80, 60, 16);
        Clear.render(rect, buf);
        let draft = app.tables().drafts.get(&self.draft);
        let title = draft.map_or_else(String::new, |d| {
            format!(" Publish {} · {} ", d.label, d.actor.shown())
        });
        let block = Block::default()
            .borders(Borders::ALL)
            .border_style(theme.popup_border())
            .title(Span::styled(title, theme.title(true)))
            .style(theme.base());
        let inner = block.inner(rect);
        block.render(rect, buf);
        let direction = if area.width >= WIDE_MIN_WIDTH {
            Direction::Horizontal
        } else {
            Direction::Vertical
        };
        let parts = Layout::default()
            .direction(direction)
            .constraints(if direction == Direction::Horizontal {
                [Constraint::Length(44), Constraint::Min(0)]
            } else {
                [Constraint::Length(6), Constraint::Min(0)]
            })
            .split(inner);
        self.render_targets(draft, parts[0], buf, theme);
        self.render_preview(draft, parts[1], buf, theme);
    }

    fn render_targets(
        &self,
        draft: Option<&DraftView>,
        area: Rect,
        buf: &mut Buffer,
        theme: &Theme,
    ) {
        let mut lines = Vec::new();
        for (i, target) in PublishTarget::ALL.iter().enumerate() {
            let delivery = draft.and_then(|d| {
                d.deliveries.iter().rev().find(|del| {
                    del.sink == target.sink()
                        && match target {
                            PublishTarget::PagerDuty(a) => del.what == Some(*a),
                            _ => true,
                        }
                })
            });
            let marker = if i == self.selected { "▶ " } else { "  " };
            let style = if i == self.selected {
                theme.selection()
            } else {
                theme.text()
            };
            let mut spans = vec![Span::styled(
                format!("{marker}{:<22}", target.label()),
                style,
            )];
            match delivery {
                Some(d) => {
                    spans.push(Span::raw(" "));
                    spans.push(delivery_span(&d.state, theme));
                    if let Some(link) = &d.link {
                        spans.push(Span::raw(" "));
                        spans.push(Span::styled(link.label.to_string(), theme.link()));
                    }
                }
                None => spans.push(Span::styled(" not sent", theme.muted())),
            }
            lines.push(Line::from(spans));
        }
        let selected = PublishTarget::ALL[self.selected.min(PublishTarget::ALL.len() - 1)];
        let link = draft.and_then(|d| {
            d.deliveries
                .iter()
                .rev()
                .filter(|del| del.sink == selected.sink())
                .find_map(|del| del.link.as_ref())
        });
        if let Some(link) = link {
            lines.push(Line::default());
            lines.push(Line::styled(link.url.to_string(), theme.link()));
        }
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .render(area, buf);
    }

    fn render_preview(
        &self,
        draft: Option<&DraftView>,
        area: Rect,
        buf: &mut Buffer,
        theme: &Theme,
    ) {
        let block = Block::default()
            .borders(Borders::LEFT | Borders::TOP)
            .border_style(theme.border(false))
            .title(Span::styled(" will send ", theme.muted()));
        let Some(preview) = draft.and_then(|d| d.preview.as_ref()) else {
            Paragraph::new(Line::styled(
                "The preview appears once the engine has rendered the approved report.",
                theme.muted(),
            ))
            .block(block)
            .wrap(Wrap { trim: false })
            .render(area, buf);
            return;
        };
        let (title, body) = match self.target() {
            PublishTarget::Confluence => (&preview.confluence_title, &preview.confluence_body),
            PublishTarget::Linear => (&preview.linear_title, &preview.linear_body),
            PublishTarget::PagerDuty(_) => (&preview.pagerduty_summary, &preview.pagerduty_summary),
        };
        let mut lines = vec![
            Line::styled(title.as_str(), theme.title(true)),
            Line::default(),
        ];
        match self.target() {
            PublishTarget::PagerDuty(action) => {
                let what = match action {
                    PagerDutyAction::Trigger => {
                        "Opens an incident (event_action: trigger) with this summary."
                    }
                    PagerDutyAction::Acknowledge => {
                        "Acknowledges the incident (event_action: acknowledge)."
                    }
                    PagerDutyAction::Resolve => "Resolves the incident (event_action: resolve).",
                };
                lines.push(Line::styled(what, theme.text()));
            }
            // Only what can show: a report body may be megabytes of attacker text.
            _ => {
                let rows = usize::from(area.height);
                let cells = rows * usize::from(area.width);
                lines.extend(
                    body.lines()
                        .take(rows)
                        .map(|l| Line::styled(fit(l, cells).into_owned(), theme.text())),
                );
            }
        }
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            .render(area, buf);
    }
}
