//! Popups: a stack drawn last, over the screen, whose top gets keys first.

pub mod confirm;
pub mod filter;
pub mod help;
pub mod outbox;
pub mod publish;
pub mod snooze;
pub mod workflows;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;

use super::app::App;
use super::editor::VerdictEditor;
use super::keymap::Context;

pub use confirm::ConfirmPopup;
pub use filter::FilterInput;
pub use help::HelpPopup;
pub use outbox::OutboxPopup;
pub use publish::PublishPopup;
pub use snooze::SnoozeForm;
pub use workflows::WorkflowsPopup;

#[derive(Debug, Clone)]
pub enum Popup {
    Help(HelpPopup),
    Confirm(ConfirmPopup),
    Snooze(SnoozeForm),
    Publish(PublishPopup),
    Editor(Box<VerdictEditor>),
    Filter(FilterInput),
    Workflows(WorkflowsPopup),
    Outbox(OutboxPopup),
}

impl Popup {
    /// The keymap context while this popup is on top.
    pub fn context(&self) -> Context {
        match self {
            Popup::Help(_) => Context::Help,
            Popup::Confirm(_) => Context::Confirm,
            Popup::Snooze(_) => Context::Snooze,
            Popup::Publish(_) => Context::Publish,
            Popup::Editor(e) if e.on_verdict_field() => Context::Verdict,
            Popup::Editor(_) => Context::Editor,
            Popup::Filter(_) => Context::Filter,
            Popup::Workflows(_) => Context::Workflows,
            Popup::Outbox(_) => Context::Outbox,
        }
    }

    pub fn render(&self, app: &App, area: Rect, buf: &mut Buffer) {
        let theme = app.theme();
        match self {
            Popup::Help(p) => p.render(app.keymap(), area, buf, theme),
            Popup::Confirm(p) => p.render(app.keymap(), area, buf, theme),
            Popup::Snooze(p) => p.render(area, buf, theme),
            Popup::Publish(p) => p.render(app, area, buf),
            Popup::Editor(e) => {
                let rect = super::layout::centered(area, 90, 90, 60, 20);
                e.render(rect, buf, theme);
            }
            Popup::Filter(p) => p.render(area, buf, theme),
            Popup::Workflows(p) => p.render(
                &app.tables().status.workflows,
                app.keymap(),
                area,
                buf,
                theme,
            ),
            Popup::Outbox(p) => p.render(&app.tables().outbox, app.keymap(), area, buf, theme),
        }
    }
}
