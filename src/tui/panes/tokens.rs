//! Pane 3: newly created API tokens, broad or write scopes highlighted.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Span;

use super::{ListPane, cell, render_list, sink_spans};
use crate::tui::action::PaneId;
use crate::tui::app::App;
use crate::tui::model::{ScopeRisk, Sink, TokenRow};
use crate::tui::theme::Theme;

pub fn render(app: &App, area: Rect, collapsed: bool, buf: &mut Buffer) {
    let row = |r: &TokenRow, w: usize, theme: &Theme| spans(r, w, theme);
    let pane = ListPane {
        id: PaneId::Tokens,
        rows: &app.tables().tokens,
        state: app.list(PaneId::Tokens),
        row: &row,
        extra: None,
    };
    render_list(app, pane, area, collapsed, buf);
}

fn spans(r: &TokenRow, w: usize, theme: &Theme) -> Vec<Span<'static>> {
    let fixed = 2 + 12;
    let flex = w.saturating_sub(fixed);
    let name_w = flex * 3 / 10;
    let issuer_w = flex * 3 / 10;
    let scope_w = flex.saturating_sub(name_w + issuer_w);
    let warn = match r.risk {
        ScopeRisk::Broad | ScopeRisk::Write => "⚠",
        ScopeRisk::Unknown => "?",
        ScopeRisk::Read => " ",
    };
    let mut out = vec![
        cell(
            r.token_name.as_str(),
            name_w,
            theme.severity(r.meta.severity),
        ),
        cell(
            &format!(" {}", r.meta.actor.shown()),
            issuer_w,
            theme.text(),
        ),
        cell(&format!(" {}", r.scope), scope_w, theme.scope(r.risk)),
        Span::styled(format!("{warn} "), theme.scope(r.risk)),
    ];
    let s3 = if r.archive_key.is_some() {
        vec![
            Span::styled(" s3 ", theme.muted()),
            Span::styled("✓", theme.ok()),
        ]
    } else {
        sink_spans(&r.meta.deliveries, Sink::Archive, theme)
    };
    let lin = sink_spans(&r.meta.deliveries, Sink::Linear, theme);
    let used: usize = s3.iter().chain(&lin).map(|s| s.width()).sum();
    out.extend(s3);
    out.extend(lin);
    out.push(cell("", 12usize.saturating_sub(used), theme.muted()));
    out
}
