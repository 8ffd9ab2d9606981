//! Draws the whole console from `&App`: the screen, then the popups in
//! stack order so the top one is drawn last.

use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::Span;

use super::action::PaneId;
use super::actor_view::ActorView;
use super::app::{App, Screen};
use super::layout;
use super::panes::{bursts, detail, flagged, footer, investigations, status_bar, timeline, tokens};

pub fn draw(app: &App, frame: &mut Frame) {
    let area = frame.area();
    render(app, area, frame.buffer_mut());
}

/// As [`draw`], into any buffer (benchmarks render without a terminal).
pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    if area.width == 0 || area.height == 0 {
        return;
    }
    buf.set_style(area, app.theme().base());
    match app.screen() {
        Screen::Main => render_main(app, area, buf),
        Screen::Actor(view) => render_actor(app, view, area, buf),
    }
    for popup in app.popups() {
        popup.render(app, area, buf);
    }
}

fn render_main(app: &App, area: Rect, buf: &mut Buffer) {
    let lay = layout::main(area, app.focus());
    for pane in PaneId::ALL {
        let i = pane.index();
        let (rect, collapsed) = (lay.panes[i], lay.collapsed[i]);
        if rect.width == 0 || rect.height == 0 {
            continue;
        }
        match pane {
            PaneId::Flagged => flagged::render(app, rect, collapsed, buf),
            PaneId::Bursts => bursts::render(app, rect, collapsed, buf),
            PaneId::Tokens => tokens::render(app, rect, collapsed, buf),
            PaneId::Investigations => investigations::render(app, rect, collapsed, buf),
        }
    }
    status_bar::render(app, lay.status, buf);
    footer::render(app, Vec::new(), lay.footer, buf);
}

fn render_actor(app: &App, view: &ActorView, area: Rect, buf: &mut Buffer) {
    let lay = layout::actor(area);
    timeline::render(app, view, lay.timeline, buf);
    detail::render(app, view, lay.detail, buf);
    status_bar::render(app, lay.status, buf);
    let theme = app.theme();
    let draft = view.draft.as_ref().and_then(|d| app.tables().drafts.get(d));
    let prefix = match draft {
        Some(d) => {
            let fields = app.edits(&d.id).unwrap_or(&d.fields);
            let edited = if app.edits(&d.id).is_some() {
                " (edited)"
            } else {
                ""
            };
            vec![
                Span::styled("verdict: ", theme.muted()),
                Span::styled(
                    format!(
                        "{} {:.2}{edited}",
                        fields.verdict.label(),
                        fields.confidence
                    ),
                    theme.severity(fields.verdict.severity()),
                ),
                Span::styled(" · ", theme.muted()),
            ]
        }
        None => vec![Span::styled("no draft · ", theme.muted())],
    };
    footer::render(app, prefix, lay.footer, buf);
}
