//! Pane 1: actors far above their hourly baseline.

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Span;

use super::{ListPane, cell, render_list};
use crate::tui::action::PaneId;
use crate::tui::app::App;
use crate::tui::format::age;
use crate::tui::model::FlaggedActorRow;
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
    let state_w = if w >= 70 { 9 } else { 0 };
    let fixed = 15 + 7 + 5 + state_w;
    let flex = w.saturating_sub(fixed);
    let actor_w = if flex >= 30 {
        flex * 3 / 5
    } else {
        flex.max(8).min(flex)
    };
    let types_w = flex.saturating_sub(actor_w);
    let sev = theme.severity(r.meta.severity);
    let types: Vec<String> = r
        .new_resource_types
        .iter()
        .map(|t| format!("+{t}"))
        .collect();
    let mut out = vec![
        cell(r.meta.actor.shown().as_str(), actor_w, sev),
        cell(
            &format!(" {}/h vs {:.1}", r.count, r.baseline),
            15,
            theme.text(),
        ),
        cell(&format!(" {:.1}x", r.factor), 7, sev),
        cell(&format!(" {}", types.join(" ")), types_w, theme.warning()),
        cell(
            &format!(" {}", age(now, r.meta.detected_at)),
            5,
            theme.muted(),
        ),
    ];
    if state_w > 0 {
        out.push(cell(
            &format!(" {}", r.meta.state.label()),
            state_w,
            theme.muted(),
        ));
    }
    out
}
