//! Pane 4: drafts awaiting approval and published reports with their links.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Span;

use super::{ListPane, cell, delivery_span, render_list};
use crate::tui::action::PaneId;
use crate::tui::app::App;
use crate::tui::model::{InvestigationRow, InvestigationStatus, Sink};
use crate::tui::theme::Theme;

pub fn render(app: &App, area: Rect, collapsed: bool, buf: &mut Buffer) {
    let rows = &app.tables().investigations;
    let drafts = rows
        .iter()
        .filter(|r| r.status == InvestigationStatus::Draft)
        .count();
    let row = |r: &InvestigationRow, w: usize, theme: &Theme| spans(r, w, theme);
    let pane = ListPane {
        id: PaneId::Investigations,
        rows,
        state: app.list(PaneId::Investigations),
        row: &row,
        extra: (drafts > 0)
            .then(|| format!("{drafts} draft{}", if drafts == 1 { "" } else { "s" })),
    };
    render_list(app, pane, area, collapsed, buf);
}

fn spans(r: &InvestigationRow, w: usize, theme: &Theme) -> Vec<Span<'static>> {
    let verdict_w = 22;
    let status_w = 10;
    let flex = w.saturating_sub(verdict_w + status_w);
    let label_w = 8.min(flex);
    let actor_w = (flex.saturating_sub(label_w) * 2 / 5)
        .max(6)
        .min(flex.saturating_sub(label_w));
    let link_w = flex.saturating_sub(label_w + actor_w);
    let sev = theme.severity(r.verdict.severity());
    let status = match r.status {
        InvestigationStatus::Running => Span::styled(" running", theme.muted()),
        InvestigationStatus::Draft => Span::styled(" DRAFT", theme.new_marker()),
        InvestigationStatus::Approved => Span::styled(" approved", theme.ok()),
        InvestigationStatus::Published => Span::styled(" published", theme.ok()),
    };
    let mut out = vec![
        cell(r.label.as_str(), label_w, theme.text()),
        cell(&format!(" {}", r.actor.shown()), actor_w, theme.text()),
        cell(
            &format!(" {} {:.2}", r.verdict.label(), r.confidence),
            verdict_w,
            sev,
        ),
        Span::styled(
            crate::tui::format::pad(&status.content, status_w),
            status.style,
        ),
    ];
    let page = r
        .deliveries
        .iter()
        .rev()
        .find(|d| d.sink == Sink::Confluence);
    if let Some(d) = page {
        out.push(Span::raw(" "));
        out.push(delivery_span(&d.state, theme));
        let text = d
            .link
            .as_ref()
            .map_or(" page".to_owned(), |l| format!(" {}", l.label));
        out.push(cell(&text, link_w.saturating_sub(2), theme.link()));
    }
    out
}
