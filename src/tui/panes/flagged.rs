//! Pane 1: actors far above their hourly baseline.

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Span;

use super::{ListPane, cell, render_list};
use crate::tui::action::PaneId;
use crate::tui::app::App;
use crate::tui::format::age;
use crate::tui::model::{FlaggedActorRow, TriageState};
use crate::tui::theme::Theme;

pub fn render(app: &App, area: Rect, collapsed: bool, buf: &mut Buffer) {
    let now = app.now();
    let row = move |r: &FlaggedActorRow, w: usize, theme: &Theme| spans(r, w, now, theme);
    let pane = ListPane {
        id: PaneId::Flagged,
        rows: &app.tables().flagged,
        state: app.list(PaneId::Flagged),
        row: &row,
        extra: None,
    };
    render_list(app, pane, area, collapsed, buf);
}

fn spans(r: &FlaggedActorRow, w: usize, now: DateTime<Utc>, theme: &Theme) -> Vec<Span<'static>> {
    // Narrow panes show the state abbreviated, so the actor keeps its room.
    let wide = w >= 70;
    let state_w = if wide { 9 } else { 4 };
    let fixed = 15 + 7 + 5 + state_w;
    let flex = w.saturating_sub(fixed);
    let actor_w = (flex * 3 / 5).max(flex.min(16));
    let types_w = flex.saturating_sub(actor_w);
    let sev = theme.severity(r.meta.severity);
    let types: Vec<String> = r
        .new_resource_types
        .iter()
        .map(|t| format!("+{t}"))
        .collect();
    let rate = format!(" {}/h vs {:.1}", r.count, r.baseline);
    let mut out = vec![
        cell(r.meta.actor.shown().as_str(), actor_w, sev),
        cell(&rate, 15, theme.text()),
        cell(&format!(" {:.1}x", r.factor), 7, sev),
        cell(&format!(" {}", types.join(" ")), types_w, theme.warning()),
        cell(
            &format!(" {}", age(now, r.meta.detected_at)),
            5,
            theme.muted(),
        ),
    ];
    let state = match (&r.meta.state, wide) {
        (TriageState::Open, _) => "",
        (state, true) => state.label(),
        (TriageState::Acknowledged { .. }, false) => "ack",
        (TriageState::Snoozed { .. }, false) => "snz",
        (TriageState::Resolved { .. }, false) => "res",
        (TriageState::Investigating, false) => "inv",
    };
    out.push(cell(&format!(" {state}"), state_w, theme.muted()));
    out
}
