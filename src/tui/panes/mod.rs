//! One draw file per pane. Panes draw from `&App` only and only the rows
//! that fit.

pub mod bursts;
pub mod detail;
pub mod flagged;
pub mod footer;
pub mod investigations;
pub mod status_bar;
pub mod timeline;
pub mod tokens;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Widget};

use super::action::PaneId;
use super::app::App;
use super::format::{fit, pad};
use super::lists::{ListState, Row};
use super::model::{Delivery, DeliveryState, Sink};
use super::theme::Theme;

/// `✓`, `…`, `↻2`, `✖` for an outbox state.
pub fn delivery_span(state: &DeliveryState, theme: &Theme) -> Span<'static> {
    match state {
        DeliveryState::Queued => Span::styled("…", theme.muted()),
        DeliveryState::Retrying { attempt, .. } => {
            Span::styled(format!("↻{attempt}"), theme.warning())
        }
        DeliveryState::Delivered => Span::styled("✓", theme.ok()),
        DeliveryState::DeadLetter { .. } => Span::styled("✖", theme.error()),
        DeliveryState::DryRun => Span::styled("◌", theme.warning()),
    }
}

/// `PD ✓` for the newest delivery to `sink`, or nothing.
pub fn sink_spans(deliveries: &[Delivery], sink: Sink, theme: &Theme) -> Vec<Span<'static>> {
    match deliveries.iter().rev().find(|d| d.sink == sink) {
        Some(d) => vec![
            Span::styled(format!(" {} ", sink.short()), theme.muted()),
            delivery_span(&d.state, theme),
        ],
        None => Vec::new(),
    }
}

/// A cell: `text` fitted to `cols` and padded, in `style`.
pub fn cell(text: &str, cols: usize, style: Style) -> Span<'static> {
    Span::styled(pad(text, cols), style)
}

/// What each list pane supplies to the shared list drawing.
pub struct ListPane<'a, T: Row> {
    pub id: PaneId,
    pub rows: &'a [T],
    pub state: &'a ListState,
    /// Builds one row's spans for `width` columns (the new marker is added
    /// by the caller).
    pub row: &'a dyn Fn(&T, usize, &Theme) -> Vec<Span<'static>>,
    /// Extra title text on the right (`1 draft`).
    pub extra: Option<String>,
}

pub fn render_list<T: Row>(
    app: &App,
    pane: ListPane<'_, T>,
    area: Rect,
    collapsed: bool,
    buf: &mut Buffer,
) {
    let theme = app.theme();
    let focused = app.focus() == pane.id && app.is_main();
    let new = pane.state.new_count(pane.rows);
    let count = pane.state.visible.len();
    let mut right = Vec::new();
    if new > 0 {
        right.push(format!("{new} new"));
    }
    if let Some(extra) = &pane.extra {
        right.push(extra.clone());
    }
    let number = pane.id.index() + 1;
    if collapsed {
        let mut spans = vec![
            Span::styled(
                format!("▸ {number} {}", pane.id.title()),
                theme.title(false),
            ),
            Span::styled(format!(" · {count} items"), theme.muted()),
        ];
        if !right.is_empty() {
            spans.push(Span::styled(
                format!(" · {}", right.join(" · ")),
                theme.new_marker(),
            ));
        }
        Line::from(spans).render(area, buf);
        return;
    }
    let mut title_bottom = format!(" sort: {} ", pane.state.sort.label());
    if !app.filter().is_empty() {
        title_bottom = format!(" filter: {} ·{title_bottom}", fit(app.filter(), 20));
    }
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(Span::styled(
            format!(" {number} {} ", pane.id.title()),
            theme.title(focused),
        ))
        .title(
            Line::from(Span::styled(
                if right.is_empty() {
                    String::new()
                } else {
                    format!(" {} ", right.join(" · "))
                },
                theme.new_marker(),
            ))
            .right_aligned(),
        )
        .title_bottom(Line::from(Span::styled(title_bottom, theme.muted())).right_aligned());
    let inner = block.inner(area);
    block.render(area, buf);
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    if count == 0 {
        let msg = if app.filter().is_empty() {
            "nothing here"
        } else {
            "nothing matches the filter"
        };
        Line::styled(msg, theme.muted()).render(inner, buf);
        return;
    }
    let width = usize::from(inner.width);
    let height = usize::from(inner.height);
    for (line_no, pos) in (pane.state.offset..count).take(height).enumerate() {
        let Some(row) = pane.state.visible.get(pos).and_then(|&i| pane.rows.get(i)) else {
            break;
        };
        let is_new = pane.state.is_new(row);
        let mut spans = vec![if is_new {
            Span::styled("● ", theme.new_marker())
        } else {
            Span::raw("  ")
        }];
        spans.extend((pane.row)(row, width.saturating_sub(2), theme));
        let mut line = Line::from(spans);
        if focused && pos == pane.state.selected {
            line = line.style(theme.selection());
        }
        let y = inner.y + u16::try_from(line_no).unwrap_or(u16::MAX);
        let row_rect = Rect {
            y,
            height: 1,
            ..inner
        };
        if focused && pos == pane.state.selected {
            buf.set_style(row_rect, theme.selection());
        }
        line.render(row_rect, buf);
    }
}
