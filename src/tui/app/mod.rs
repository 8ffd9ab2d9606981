//! Console state and the one place it changes: [`App::update`].
//!
//! `update` does no I/O. What must happen outside (send a command to the
//! engine, open an actor's timeline) is queued as an [`Effect`] that the
//! event loop carries out and answers with another action. The only reads
//! it makes are bounded reads of a [`TimelineSource`] the loop handed it
//! (the selected row, its detail, a linked event's position).
//!
//! [`TimelineSource`]: super::model::TimelineSource

mod data;
mod main_actions;
mod review;
mod switches;

use chrono::{DateTime, Duration as ChronoDuration, Utc};

use super::action::{Action, Effect, PaneId};
use super::actor_view::{ActorPane, ActorView};
use super::keymap::{Context, Keymap};
use super::keys::KeyInput;
use super::layout;
use super::lists::{ListState, Tables};
use super::model::{DraftFields, DraftId};
use super::popups::{HelpPopup, Popup};
use super::theme::Theme;

/// How long a notice stays in the footer.
const NOTICE_SECONDS: i64 = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NoticeLevel {
    Info,
    Error,
}

/// A footer message. Built from fixed wording and sanitized text only.
#[derive(Debug, Clone, PartialEq)]
pub struct Notice {
    pub level: NoticeLevel,
    pub text: String,
    pub until: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub enum Screen {
    Main,
    Actor(Box<ActorView>),
}

/// What the console starts with.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub keymap: Keymap,
    pub theme: Theme,
    /// Recorded with every command in the analyst log.
    pub analyst: String,
    pub now: DateTime<Utc>,
    /// Items updated after this are marked new; `None` marks everything new.
    pub last_looked: Option<DateTime<Utc>>,
    pub width: u16,
    pub height: u16,
}

#[derive(Debug, Clone)]
pub struct App {
    keymap: Keymap,
    theme: Theme,
    analyst: String,
    now: DateTime<Utc>,
    width: u16,
    height: u16,
    screen: Screen,
    popups: Vec<Popup>,
    tables: Tables,
    lists: [ListState; 4],
    focus: PaneId,
    filter: String,
    /// Analyst edits kept from the verdict editor, by draft.
    edits: std::collections::HashMap<DraftId, DraftFields>,
    notices: Vec<Notice>,
    effects: Vec<Effect>,
    quit: bool,
}

impl App {
    pub fn new(config: AppConfig) -> App {
        let looked = config.last_looked.unwrap_or(DateTime::<Utc>::MIN_UTC);
        App {
            keymap: config.keymap,
            theme: config.theme,
            analyst: config.analyst,
            now: config.now,
            width: config.width,
            height: config.height,
            screen: Screen::Main,
            popups: Vec::new(),
            tables: Tables::default(),
            lists: std::array::from_fn(|_| ListState::new(looked)),
            focus: PaneId::Flagged,
            filter: String::new(),
            edits: Default::default(),
            notices: Vec::new(),
            effects: Vec::new(),
            quit: false,
        }
    }

    // ---- read access for drawing and tests ----

    pub fn theme(&self) -> &Theme {
        &self.theme
    }
    pub fn keymap(&self) -> &Keymap {
        &self.keymap
    }
    pub fn tables(&self) -> &Tables {
        &self.tables
    }
    pub fn list(&self, pane: PaneId) -> &ListState {
        &self.lists[pane.index()]
    }
    pub fn focus(&self) -> PaneId {
        self.focus
    }
    pub fn is_main(&self) -> bool {
        matches!(self.screen, Screen::Main)
    }
    pub fn screen(&self) -> &Screen {
        &self.screen
    }
    pub fn popups(&self) -> &[Popup] {
        &self.popups
    }
    pub fn filter(&self) -> &str {
        &self.filter
    }
    pub fn now(&self) -> DateTime<Utc> {
        self.now
    }
    pub fn size(&self) -> (u16, u16) {
        (self.width, self.height)
    }
    pub fn should_quit(&self) -> bool {
        self.quit
    }
    pub fn edits(&self, draft: &DraftId) -> Option<&DraftFields> {
        self.edits.get(draft)
    }
    pub fn analyst(&self) -> &str {
        &self.analyst
    }

    /// The newest notice still showing.
    pub fn notice(&self) -> Option<&Notice> {
        self.notices.iter().rev().find(|n| n.until > self.now)
    }

    /// Work for the event loop; drained on each call.
    pub fn take_effects(&mut self) -> Vec<Effect> {
        std::mem::take(&mut self.effects)
    }

    /// The keymap context of what has the keys.
    pub fn context(&self) -> Context {
        match (self.popups.last(), &self.screen) {
            (Some(p), _) => p.context(),
            (None, Screen::Main) => Context::Main,
            (None, Screen::Actor(_)) => Context::Actor,
        }
    }

    /// Shows a message in the footer (startup errors, command results).
    pub fn notify(&mut self, level: NoticeLevel, text: impl Into<String>) {
        let seconds = if level == NoticeLevel::Error {
            NOTICE_SECONDS * 4
        } else {
            NOTICE_SECONDS
        };
        self.notices.push(Notice {
            level,
            text: text.into(),
            until: self.now + ChronoDuration::seconds(seconds),
        });
        if self.notices.len() > 16 {
            self.notices.remove(0);
        }
    }

    fn rect(&self) -> ratatui::layout::Rect {
        ratatui::layout::Rect::new(0, 0, self.width, self.height)
    }

    fn list_height(&self, pane: PaneId) -> usize {
        layout::main(self.rect(), self.focus).list_height(pane)
    }

    // ---- the update ----

    /// Applies `action`; may return a follow-up action to apply next.
    pub fn update(&mut self, action: Action) -> Option<Action> {
        match action {
            Action::Quit => {
                self.quit = true;
                None
            }
            Action::Key(key) => self.on_key(key),
            Action::Paste(text) => {
                self.on_paste(&text);
                None
            }
            Action::Resize { width, height } => {
                self.width = width;
                self.height = height;
                self.relayout();
                None
            }
            Action::Tick(now) => {
                self.now = now;
                self.notices.retain(|n| n.until > now);
                None
            }
            Action::Data(event) => {
                self.on_data(event);
                None
            }
            Action::TimelineOpened(handle) => {
                self.on_timeline(handle);
                None
            }
            Action::OutboxPreview { id, text } => {
                self.on_outbox_preview(id, text);
                None
            }
            Action::Send(command) => self.send(command),
            Action::ToggleHelp => {
                if matches!(self.popups.last(), Some(Popup::Help(_))) {
                    self.popups.pop();
                } else {
                    self.popups.push(Popup::Help(HelpPopup::default()));
                }
                None
            }
            Action::ConfirmYes => match self.popups.last() {
                Some(Popup::Confirm(_)) => match self.popups.pop() {
                    Some(Popup::Confirm(c)) => Some(*c.on_yes),
                    _ => None,
                },
                _ => None,
            },
            Action::ConfirmNo => {
                if matches!(self.popups.last(), Some(Popup::Confirm(_))) {
                    self.popups.pop();
                }
                None
            }
            Action::PageUp | Action::PageDown | Action::ScrollUp | Action::ScrollDown
                if matches!(self.popups.last(), Some(Popup::Outbox(_))) =>
            {
                let delta = match action {
                    Action::PageUp => -self.page(),
                    Action::PageDown => self.page(),
                    Action::ScrollUp => -3,
                    _ => 3,
                };
                self.outbox_move(delta, true);
                None
            }
            Action::Up => self.move_by(-1),
            Action::Down => self.move_by(1),
            Action::ScrollUp => self.move_by(-3),
            Action::ScrollDown => self.move_by(3),
            Action::PageUp => self.move_by(-self.page()),
            Action::PageDown => self.move_by(self.page()),
            Action::Top => self.move_by(isize::MIN / 2),
            Action::Bottom => self.move_by(isize::MAX / 2),
            other if !self.popups.is_empty() => self.on_popup_action(other),
            other => match self.screen {
                Screen::Main => self.on_main_action(other),
                Screen::Actor(_) => self.on_actor_action(other),
            },
        }
    }

    fn on_key(&mut self, key: KeyInput) -> Option<Action> {
        // Raw mode turns ctrl-c into a key: it must always get the analyst out.
        if key == KeyInput::ctrl('c') {
            return Some(Action::Quit);
        }
        if let Some(action) = self.keymap.resolve(self.context(), key) {
            return Some(action.clone());
        }
        match self.popups.last_mut() {
            Some(Popup::Filter(f)) => {
                f.input(key);
                self.filter = f.text();
                self.refresh_lists();
            }
            Some(Popup::Snooze(s)) => s.input(key),
            Some(Popup::Editor(e)) => e.input(key),
            _ => {}
        }
        None
    }

    fn on_paste(&mut self, text: &str) {
        match self.popups.last_mut() {
            Some(Popup::Filter(f)) => {
                f.paste(text);
                self.filter = f.text();
                self.refresh_lists();
            }
            Some(Popup::Snooze(s)) => s.paste(text),
            Some(Popup::Editor(e)) => e.paste(text),
            _ => {}
        }
    }

    fn page(&self) -> isize {
        let rows = match &self.screen {
            Screen::Main => self.list_height(self.focus),
            Screen::Actor(_) => layout::actor(self.rect()).timeline_height(),
        };
        isize::try_from(rows.max(1)).unwrap_or(1)
    }

    fn move_by(&mut self, delta: isize) -> Option<Action> {
        match self.popups.last_mut() {
            Some(Popup::Help(h)) => {
                let max = HelpPopup::len(&self.keymap);
                h.scroll = h.scroll.saturating_add_signed(delta).min(max);
                return None;
            }
            Some(Popup::Publish(p)) => {
                p.move_by(delta.clamp(-10, 10));
                return None;
            }
            Some(Popup::Workflows(p)) => {
                p.move_by(delta, self.tables.status.workflows.len());
                return None;
            }
            Some(Popup::Outbox(_)) => {
                self.outbox_move(delta, false);
                return None;
            }
            Some(_) => return None,
            None => {}
        }
        let rect = self.rect();
        match &mut self.screen {
            Screen::Main => {
                let height = self.list_height(self.focus);
                let i = self.focus.index();
                match self.focus {
                    PaneId::Flagged => self.lists[i].move_by(delta, &self.tables.flagged, height),
                    PaneId::Bursts => self.lists[i].move_by(delta, &self.tables.bursts, height),
                    PaneId::Tokens => self.lists[i].move_by(delta, &self.tables.tokens, height),
                    PaneId::Investigations => {
                        self.lists[i].move_by(delta, &self.tables.investigations, height)
                    }
                }
            }
            Screen::Actor(view) => {
                let lay = layout::actor(rect);
                match view.focus {
                    ActorPane::Timeline => {
                        let target = view.selected.saturating_add_signed(delta);
                        view.select(target, lay.timeline_height());
                        view.load_detail(lay.detail_width());
                    }
                    ActorPane::Detail => {
                        if let Some(d) = &mut view.detail {
                            let max = d.lines.len().saturating_sub(lay.detail_height());
                            d.scroll = d.scroll.saturating_add_signed(delta).min(max);
                        }
                    }
                }
            }
        }
        None
    }
}
