//! The actor view's event detail: the selected event's raw JSON,
//! pretty-printed and sanitized, wrapped once per width (the wrap lives in
//! the view state) and drawn a screenful at a time.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Widget};

use crate::tui::actor_view::{ActorPane, ActorView};
use crate::tui::app::App;
use crate::tui::format::fit;

pub fn render(app: &App, view: &ActorView, area: Rect, buf: &mut Buffer) {
    let theme = app.theme();
    let focused = view.focus == ActorPane::Detail;
    let title = match &view.detail {
        Some(d) => format!(" event {} ", d.event_id.shown()),
        None => " event ".to_owned(),
    };
    let position = view
        .detail
        .as_ref()
        .filter(|d| d.lines.len() > usize::from(area.height.saturating_sub(2)))
        .map(|d| format!(" {}/{} ", d.scroll + 1, d.lines.len()))
        .unwrap_or_default();
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(theme.border(focused))
        .title(Span::styled(
            fit(&title, usize::from(area.width.saturating_sub(4))).into_owned(),
            theme.title(focused),
        ))
        .title_bottom(Line::from(Span::styled(position, theme.muted())).right_aligned());
    let inner = block.inner(area);
    block.render(area, buf);
    let Some(detail) = &view.detail else {
        Line::styled("select an event", theme.muted()).render(inner, buf);
        return;
    };
    for i in 0..usize::from(inner.height) {
        let Some(text) = detail.line(detail.scroll + i) else {
            break;
        };
        let y = inner.y + u16::try_from(i).unwrap_or(u16::MAX);
        Line::styled(text, theme.text()).render(
            Rect {
                y,
                height: 1,
                ..inner
            },
            buf,
        );
    }
}
