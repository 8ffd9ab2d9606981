//! The actor view's correlated timeline. Virtualized: it asks the
//! [`TimelineSource`](crate::tui::model::TimelineSource) for the rows on
//! screen only, so a million events draw as fast as a thousand.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Widget};

use super::cell;
use crate::tui::actor_view::{ActorPane, ActorView};
use crate::tui::app::App;
use crate::tui::format::{clock, fit};
use crate::tui::model::{MarkerKind, Source, TimelineRow};
use crate::tui::theme::Theme;

pub fn glyph(kind: MarkerKind) -> &'static str {
    match kind {
        MarkerKind::Credential => "◆",
        MarkerKind::Privilege => "▲",
        MarkerKind::Destructive => "✖",
        MarkerKind::NewIp => "⌖",
        MarkerKind::NewResourceType => "✚",
        MarkerKind::Burst => "≋",
        MarkerKind::Other => "•",
    }
}

pub fn render(app: &App, view: &ActorView, area: Rect, buf: &mut Buffer) {
    let theme = app.theme();
    let focused = view.focus == ActorPane::Timeline;
    let title = match &view.summary {
        Some(s) => {
            let mut parts = vec![s.actor.shown().to_string()];
            if let (Some(from), Some(to)) = (s.from, s.to) {
                let secs = (to - from).num_seconds().max(0).unsigned_abs();
                parts.push(crate::tui::format::duration(
                    std::time::Duration::from_secs(secs),
                ));
            }
            if !s.sources.is_empty() {
                let sources: Vec<&str> = s.sources.iter().map(|s| s.as_str()).collect();
                parts.push(sources.join("+"));
            }
            parts.push(format!("{} events", s.total));
            format!(" {} ", parts.join(" · "))
        }
        None => format!(" {} · loading… ", view.actor.shown()),
    };
    let position = if view.len > 0 {
        format!(" {}/{} ", view.selected + 1, view.len)
    } else {
        String::new()
    };
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
    if inner.width == 0 || inner.height == 0 {
        return;
    }
    if let Some(err) = &view.error {
        Line::styled(err.to_string(), theme.error()).render(inner, buf);
        return;
    }
    let Some(source) = &view.source else {
        return;
    };
    let height = usize::from(inner.height);
    let rows = match source.0.window(view.offset, height) {
        Ok(rows) => rows,
        Err(err) => {
            Line::styled(err.to_string(), theme.error()).render(inner, buf);
            return;
        }
    };
    if rows.is_empty() {
        Line::styled("no events for this actor", theme.muted()).render(inner, buf);
        return;
    }
    let long_span = view
        .summary
        .as_ref()
        .and_then(|s| Some(s.to? - s.from?))
        .is_some_and(|d| d > chrono::Duration::hours(24));
    for (i, row) in rows.iter().enumerate() {
        let pos = view.offset + i;
        let y = inner.y + u16::try_from(i).unwrap_or(u16::MAX);
        let rect = Rect {
            y,
            height: 1,
            ..inner
        };
        let selected = pos == view.selected;
        let line = row_line(app, view, row, usize::from(inner.width), long_span, theme);
        if selected {
            buf.set_style(rect, theme.selection());
            line.style(theme.selection()).render(rect, buf);
        } else {
            line.render(rect, buf);
        }
    }
}

fn row_line(
    app: &App,
    view: &ActorView,
    row: &TimelineRow,
    width: usize,
    long_span: bool,
    theme: &Theme,
) -> Line<'static> {
    let _ = app;
    let time = if long_span {
        row.time.format("%m-%d %H:%M").to_string()
    } else {
        clock(row.time)
    };
    let time_w = time.len() + 1;
    let source_style = match row.source {
        Source::Cloudflare => theme.warning(),
        Source::Datadog => theme.link(),
    };
    let mut markers: Vec<(MarkerKind, String)> = row
        .markers
        .iter()
        .map(|m| (m.kind, m.label.to_string()))
        .collect();
    if let Some(extra) = view.indicator_marks.get(row.event_id.raw()) {
        for (kind, label) in extra {
            if !markers
                .iter()
                .any(|(k, l)| k == kind && l == label.as_str())
            {
                markers.push((*kind, label.to_string()));
            }
        }
    }
    let link = if row.linked_event_ids.is_empty() {
        " "
    } else {
        "↪"
    };
    // Fixed per width, not per row, so the columns line up.
    let marker_w = (width / 3).clamp(10, 30).min(width / 2);
    let flex = width.saturating_sub(time_w + 3 + 2 + marker_w);
    let verb_w = (flex * 2 / 5).clamp(4, 22).min(flex);
    let resource_w = flex.saturating_sub(verb_w);
    let mut spans = vec![
        cell(&time, time_w, theme.muted()),
        cell(row.source.short(), 3, source_style),
        cell(row.verb.as_str(), verb_w, theme.text()),
        cell(&format!(" {}", row.resource), resource_w, theme.text()),
        Span::styled(format!("{link} "), theme.link()),
    ];
    if marker_w > 0 {
        let mut used = 0;
        for (kind, label) in markers {
            let text = format!("{} {} ", glyph(kind), label);
            let left = marker_w.saturating_sub(used);
            if left < 3 {
                break;
            }
            let shown = fit(&text, left).into_owned();
            used += crate::tui::format::width(&shown);
            spans.push(Span::styled(shown, theme.marker(kind)));
        }
    }
    Line::from(spans)
}
