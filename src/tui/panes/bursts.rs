//! Pane 2: bursts of sensitive Datadog actions.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Span;

use super::{ListPane, cell, render_list, sink_spans};
use crate::tui::action::PaneId;
use crate::tui::app::App;
use crate::tui::format::{clock, duration};
use crate::tui::model::{BurstRow, Sink};
use crate::tui::theme::Theme;

pub fn render(app: &App, area: Rect, collapsed: bool, buf: &mut Buffer) {
    let row = |r: &BurstRow, w: usize, theme: &Theme| spans(r, w, theme);
    let pane = ListPane {
        id: PaneId::Bursts,
        rows: &app.tables().bursts,
        state: app.list(PaneId::Bursts),
        row: &row,
        extra: None,
    };
    render_list(app, pane, area, collapsed, buf);
}

fn spans(r: &BurstRow, w: usize, theme: &Theme) -> Vec<Span<'static>> {
    let window_w = if w >= 70 { 13 } else { 0 };
    let fixed = 9 + 6 + window_w;
    let flex = w.saturating_sub(fixed);
    let actor_w = (flex * 2 / 5).max(8).min(flex);
    let actions_w = flex.saturating_sub(actor_w);
    let actions: Vec<String> = r.actions.iter().map(|(a, n)| format!("{a} {n}")).collect();
    let span_secs = (r.window_end - r.window_start).num_seconds().max(0);
    let window = format!(
        " {} +{}",
        clock(r.window_start),
        duration(std::time::Duration::from_secs(span_secs.unsigned_abs()))
    );
    let sev = theme.severity(r.meta.severity);
    let mut out = vec![
        cell(r.meta.actor.shown().as_str(), actor_w, sev),
        cell(&format!(" {}", actions.join("  ")), actions_w, theme.text()),
    ];
    if window_w > 0 {
        out.push(cell(&window, window_w, theme.muted()));
    }
    out.push(cell(&format!(" {}", r.meta.severity), 9, sev));
    let pd = sink_spans(&r.meta.deliveries, Sink::PagerDuty, theme);
    if pd.is_empty() {
        out.push(cell("", 6, theme.muted()));
    } else {
        out.extend(pd);
    }
    out
}
