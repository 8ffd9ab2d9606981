//! The footer: key hints for what has focus, generated from the keymap, and
//! the latest notice (command sent, command failed, bad theme file).

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::tui::app::{App, NoticeLevel};

pub fn render(app: &App, prefix: Vec<Span<'static>>, area: Rect, buf: &mut Buffer) {
    let theme = app.theme();
    let mut spans = vec![Span::raw(" ")];
    if let Some(notice) = app.notice() {
        let style = match notice.level {
            NoticeLevel::Info => theme.ok(),
            NoticeLevel::Error => theme.error(),
        };
        spans.push(Span::styled(notice.text.clone(), style));
        spans.push(Span::styled(" · ", theme.muted()));
    }
    spans.extend(prefix);
    for (i, (keys, desc)) in app.keymap().footer(app.context()).into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(" · ", theme.muted()));
        }
        spans.push(Span::styled(keys, theme.key_hint()));
        spans.push(Span::styled(format!(" {desc}"), theme.muted()));
    }
    Line::from(spans).render(area, buf);
}
