//! Console state and the one place it changes: [`App::update`].
//!
//! `update` does no I/O. What must happen outside (send a command to the
//! engine, open an actor's timeline) is queued as an [`Effect`] that the
//! event loop carries out and answers with another action. The only reads
//! it makes are bounded reads of a [`TimelineSource`] the loop handed it
//! (the selected row, its detail, a linked event's position).
//!
//! [`TimelineSource`]: super::model::TimelineSource

use chrono::{DateTime, Duration as ChronoDuration, Utc};

use super::action::{Action, Effect, PaneId};
use super::actor_view::{ActorPane, ActorView};
use super::diff::field_edits;
use super::editor::VerdictEditor;
use super::keymap::{Context, Keymap};
use super::keys::KeyInput;
use super::layout;
use super::lists::{ListState, Tables, upsert};
use super::model::{
    Command, DataEvent, DraftFields, DraftId, FindingId, FindingMeta, InvestigationStatus, ItemRef,
    SafeText, Workflow,
};
use super::popups::{ConfirmPopup, FilterInput, HelpPopup, Popup, PublishPopup, SnoozeForm};
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

    fn on_main_action(&mut self, action: Action) -> Option<Action> {
        match action {
            Action::FocusNext => self.set_focus(self.focus.next(false)),
            Action::FocusPrev => self.set_focus(self.focus.next(true)),
            Action::FocusPane(p) => self.set_focus(p),
            Action::Open => self.open_selected(),
            Action::StartFilter => {
                self.popups
                    .push(Popup::Filter(FilterInput::new(&self.filter)));
            }
            Action::ClearFilter => {
                self.filter.clear();
                self.refresh_lists();
            }
            Action::CycleSort => {
                let i = self.focus.index();
                self.lists[i].sort = self.lists[i].sort.next();
                self.refresh_lists();
            }
            Action::MarkSeen => {
                self.lists[self.focus.index()].last_looked = self.now;
            }
            Action::Acknowledge => {
                if let Some(meta) = self.selected_finding() {
                    return Some(Action::Send(Command::Acknowledge {
                        finding: meta.id.clone(),
                        analyst: self.analyst.clone(),
                    }));
                }
                self.no_finding();
            }
            Action::Resolve => {
                if let Some(meta) = self.selected_finding() {
                    let confirm = ConfirmPopup::new(
                        "Resolve finding",
                        vec![format!(
                            "Resolve the {} finding for {}?",
                            meta.severity,
                            meta.actor.shown()
                        )],
                        Action::Send(Command::Resolve {
                            finding: meta.id.clone(),
                            analyst: self.analyst.clone(),
                        }),
                    );
                    self.popups.push(Popup::Confirm(confirm));
                    return None;
                }
                self.no_finding();
            }
            Action::Snooze => {
                if let Some(meta) = self.selected_finding() {
                    let what =
                        SafeText::new(&format!("{} · {}", self.focus.title(), meta.actor.shown()));
                    let form = SnoozeForm::new(meta.id.clone(), what);
                    self.popups.push(Popup::Snooze(form));
                    return None;
                }
                self.no_finding();
            }
            Action::Investigate => {
                let target = self.selected_item_actor();
                if let Some((actor, finding)) = target {
                    return Some(Action::Send(Command::StartInvestigation {
                        actor,
                        finding,
                        analyst: self.analyst.clone(),
                    }));
                }
                self.notify(NoticeLevel::Error, "nothing selected");
            }
            Action::ToggleWorkflow => {
                let workflow = match self.focus {
                    PaneId::Flagged => Workflow::Baseline,
                    PaneId::Bursts => Workflow::Burst,
                    PaneId::Tokens => Workflow::Token,
                    PaneId::Investigations => Workflow::Investigation,
                };
                let enabled = self
                    .tables
                    .status
                    .checks
                    .iter()
                    .find(|c| c.workflow == workflow)
                    .is_none_or(|c| c.enabled);
                let verb = if enabled { "Pause" } else { "Resume" };
                self.popups.push(Popup::Confirm(ConfirmPopup::new(
                    format!("{verb} check"),
                    vec![format!("{verb} the scheduled {workflow} check?")],
                    Action::Send(Command::SwitchWorkflow {
                        workflow,
                        enabled: !enabled,
                        analyst: self.analyst.clone(),
                    }),
                )));
            }
            _ => {}
        }
        None
    }

    fn no_finding(&mut self) {
        let text = if self.focus == PaneId::Investigations {
            "triage acts on findings: select one in panes 1-3"
        } else {
            "no finding selected"
        };
        self.notify(NoticeLevel::Error, text);
    }

    fn set_focus(&mut self, pane: PaneId) {
        if pane != self.focus {
            // Leaving a pane means the analyst has looked at it.
            self.lists[self.focus.index()].last_looked = self.now;
            self.focus = pane;
            self.relayout();
        }
    }

    fn selected_finding(&self) -> Option<&FindingMeta> {
        let list = &self.lists[self.focus.index()];
        match self.focus {
            PaneId::Flagged => list.selected_row(&self.tables.flagged).map(|r| &r.meta),
            PaneId::Bursts => list.selected_row(&self.tables.bursts).map(|r| &r.meta),
            PaneId::Tokens => list.selected_row(&self.tables.tokens).map(|r| &r.meta),
            PaneId::Investigations => None,
        }
    }

    fn selected_item_actor(&self) -> Option<(super::model::ActorKey, Option<FindingId>)> {
        if let Some(meta) = self.selected_finding() {
            return Some((meta.actor.clone(), Some(meta.id.clone())));
        }
        let list = &self.lists[PaneId::Investigations.index()];
        (self.focus == PaneId::Investigations)
            .then(|| list.selected_row(&self.tables.investigations))
            .flatten()
            .map(|r| (r.actor.clone(), r.finding.clone()))
    }

    fn open_selected(&mut self) {
        let (actor, origin, draft) = if let Some(meta) = self.selected_finding() {
            let actor = meta.actor.clone();
            let draft = self.tables.draft_for(&actor);
            (actor, ItemRef::Finding(meta.id.clone()), draft)
        } else {
            let list = &self.lists[PaneId::Investigations.index()];
            let Some(row) = (self.focus == PaneId::Investigations)
                .then(|| list.selected_row(&self.tables.investigations))
                .flatten()
            else {
                self.notify(NoticeLevel::Error, "nothing selected");
                return;
            };
            (
                row.actor.clone(),
                ItemRef::Draft(row.id.clone()),
                Some(row.id.clone()),
            )
        };
        let mut view = ActorView::new(actor.clone(), Some(origin), draft.clone());
        view.set_indicators(draft.as_ref().and_then(|d| self.tables.drafts.get(d)));
        self.screen = Screen::Actor(Box::new(view));
        self.effects.push(Effect::OpenTimeline(actor));
    }

    fn on_actor_action(&mut self, action: Action) -> Option<Action> {
        let rect = self.rect();
        let Screen::Actor(view) = &mut self.screen else {
            return None;
        };
        let lay = layout::actor(rect);
        match action {
            Action::Back => self.screen = Screen::Main,
            Action::SwitchActorPane => {
                view.focus = match view.focus {
                    ActorPane::Timeline => ActorPane::Detail,
                    ActorPane::Detail => ActorPane::Timeline,
                }
            }
            Action::NextLinked => {
                let row = view.selected_row()?;
                let source = view.source.clone()?;
                let target = row
                    .linked_event_ids
                    .iter()
                    .find_map(|id| source.0.position_of(id));
                match target {
                    Some(pos) => {
                        view.jumps.push(view.selected);
                        view.select(pos, lay.timeline_height());
                        view.load_detail(lay.detail_width());
                    }
                    None => {
                        let text = if row.linked_event_ids.is_empty() {
                            "this event has no linked events"
                        } else {
                            "the linked event is not in this actor's timeline"
                        };
                        self.notify(NoticeLevel::Error, text);
                    }
                }
            }
            Action::PrevLinked => {
                if let Some(pos) = view.jumps.pop() {
                    view.select(pos, lay.timeline_height());
                    view.load_detail(lay.detail_width());
                }
            }
            Action::EditDraft => self.open_editor(),
            Action::Approve => return self.approve(),
            Action::Publish => self.open_publish(),
            _ => {}
        }
        None
    }

    fn current_draft(&self) -> Option<DraftId> {
        match &self.screen {
            Screen::Actor(view) => view.draft.clone(),
            Screen::Main => None,
        }
    }

    fn open_editor(&mut self) {
        let Some(draft) = self
            .current_draft()
            .and_then(|d| self.tables.drafts.get(&d))
        else {
            self.notify(
                NoticeLevel::Error,
                "no draft for this actor yet: start an investigation with i on the main screen",
            );
            return;
        };
        let current = self.edits.get(&draft.id).unwrap_or(&draft.fields);
        let title = SafeText::new(&format!("{} · {}", draft.label, draft.actor.shown()));
        let editor =
            VerdictEditor::new(draft.id.clone(), title, current, draft.ai_original.clone());
        self.popups.push(Popup::Editor(Box::new(editor)));
    }

    fn approve(&mut self) -> Option<Action> {
        let Some(draft) = self
            .current_draft()
            .and_then(|d| self.tables.drafts.get(&d))
        else {
            self.notify(NoticeLevel::Error, "no draft to approve");
            return None;
        };
        if draft.status != InvestigationStatus::Draft {
            self.notify(NoticeLevel::Error, "this report is already approved");
            return None;
        }
        let fields = self
            .edits
            .get(&draft.id)
            .cloned()
            .unwrap_or_else(|| draft.fields.clone());
        let edits = field_edits(&draft.fields, &fields);
        let mut lines = vec![format!(
            "Approve {} for {} as {} ({:.2})?",
            draft.label,
            draft.actor.shown(),
            fields.verdict.label(),
            fields.confidence
        )];
        if edits.is_empty() {
            lines.push("No edits: the AI draft as written.".into());
        } else {
            let names: Vec<&str> = edits.iter().map(|e| e.field).collect();
            lines.push(format!("Your edits: {}.", names.join(", ")));
        }
        lines.push("Then choose where to publish.".into());
        let confirm = ConfirmPopup::new(
            "Approve draft",
            lines,
            Action::Send(Command::Approve {
                draft: draft.id.clone(),
                fields,
                edits,
                analyst: self.analyst.clone(),
            }),
        );
        self.popups.push(Popup::Confirm(confirm));
        None
    }

    fn open_publish(&mut self) {
        let Some(draft) = self
            .current_draft()
            .and_then(|d| self.tables.drafts.get(&d))
        else {
            self.notify(NoticeLevel::Error, "no report to publish");
            return;
        };
        if draft.status == InvestigationStatus::Draft {
            self.notify(NoticeLevel::Error, "approve the draft first (a)");
            return;
        }
        self.popups
            .push(Popup::Publish(PublishPopup::new(draft.id.clone())));
    }

    fn on_popup_action(&mut self, action: Action) -> Option<Action> {
        let analyst = self.analyst.clone();
        match (self.popups.last_mut(), action) {
            (Some(Popup::Filter(_)), Action::Submit) => {
                self.popups.pop();
            }
            (Some(Popup::Filter(_)), Action::Cancel) => {
                self.popups.pop();
                self.filter.clear();
                self.refresh_lists();
            }
            (Some(Popup::Snooze(form)), Action::Longer) => form.change(true),
            (Some(Popup::Snooze(form)), Action::Shorter) => form.change(false),
            (Some(Popup::Snooze(form)), Action::Submit) => {
                let reason = form.reason();
                if reason.is_empty() {
                    form.error = Some("a reason is required: it goes into the analyst log");
                    return None;
                }
                let command = Command::Snooze {
                    finding: form.finding.clone(),
                    duration: form.duration(),
                    reason,
                    analyst,
                };
                self.popups.pop();
                return Some(Action::Send(command));
            }
            (Some(Popup::Publish(p)), Action::Submit) => {
                let target = p.target();
                let draft = p.draft.clone();
                let label = self
                    .tables
                    .drafts
                    .get(&draft)
                    .map(|d| d.label.to_string())
                    .unwrap_or_default();
                let confirm = ConfirmPopup::new(
                    format!("Publish to {}", target.label()),
                    vec![
                        format!("Send {label} to {}?", target.label()),
                        "It is queued in the outbox and delivered once, even across restarts."
                            .into(),
                    ],
                    Action::Send(Command::Publish {
                        draft,
                        target,
                        analyst,
                    }),
                );
                self.popups.push(Popup::Confirm(confirm));
            }
            (Some(Popup::Editor(e)), Action::NextField) => e.next_field(false),
            (Some(Popup::Editor(e)), Action::PrevField) => e.next_field(true),
            (Some(Popup::Editor(e)), Action::ToggleDiff) => e.show_diff = !e.show_diff,
            (Some(Popup::Editor(e)), Action::VerdictNext) => e.verdict = e.verdict.cycle(false),
            (Some(Popup::Editor(e)), Action::VerdictPrev) => e.verdict = e.verdict.cycle(true),
            (Some(Popup::Editor(e)), Action::SaveDraft) => match e.fields() {
                Ok(fields) => {
                    let draft = e.draft.clone();
                    self.popups.pop();
                    self.edits.insert(draft, fields);
                    self.notify(NoticeLevel::Info, "edits kept: approve with a");
                }
                Err(why) => e.error = Some(why),
            },
            (Some(Popup::Confirm(_)), Action::Cancel) => {
                self.popups.pop();
            }
            (Some(_), Action::Cancel) => {
                self.popups.pop();
            }
            _ => {}
        }
        None
    }

    /// Queues `command` for the engine and says so.
    fn send(&mut self, command: Command) -> Option<Action> {
        self.notify(NoticeLevel::Info, format!("{}: queued", command.describe()));
        if let Command::Approve { draft, .. } = &command {
            // Approving leads straight to publishing.
            self.edits.remove(draft);
            self.popups
                .push(Popup::Publish(PublishPopup::new(draft.clone())));
        }
        self.effects.push(Effect::Send(command));
        None
    }

    fn on_data(&mut self, event: DataEvent) {
        match event {
            DataEvent::Snapshot(snapshot) => {
                let snapshot = *snapshot;
                self.tables.flagged = snapshot.flagged;
                self.tables.bursts = snapshot.bursts;
                self.tables.tokens = snapshot.tokens;
                self.tables.investigations = snapshot.investigations;
                self.tables.drafts = snapshot
                    .drafts
                    .into_iter()
                    .map(|d| (d.id.clone(), d))
                    .collect();
                self.tables.status = snapshot.status;
            }
            DataEvent::Flagged(row) => upsert(&mut self.tables.flagged, row),
            DataEvent::Burst(row) => upsert(&mut self.tables.bursts, row),
            DataEvent::Token(row) => upsert(&mut self.tables.tokens, row),
            DataEvent::Investigation(row) => upsert(&mut self.tables.investigations, row),
            DataEvent::Draft(draft) => {
                let draft = *draft;
                if let Screen::Actor(view) = &mut self.screen {
                    if view.draft.is_none() && view.actor == draft.actor {
                        view.draft = Some(draft.id.clone());
                    }
                    if view.draft.as_ref() == Some(&draft.id) {
                        view.set_indicators(Some(&draft));
                    }
                }
                self.tables.drafts.insert(draft.id.clone(), draft);
            }
            DataEvent::Removed(id) => {
                self.tables.flagged.retain(|r| r.meta.id != id);
                self.tables.bursts.retain(|r| r.meta.id != id);
                self.tables.tokens.retain(|r| r.meta.id != id);
            }
            DataEvent::Delivery { item, delivery } => self.on_delivery(item, delivery),
            DataEvent::Status(status) => self.tables.status = status,
            DataEvent::Check(check) => {
                let checks = &mut self.tables.status.checks;
                match checks.iter_mut().find(|c| c.workflow == check.workflow) {
                    Some(slot) => *slot = check,
                    None => checks.push(check),
                }
            }
            DataEvent::CommandFailed { what, error } => {
                self.notify(NoticeLevel::Error, format!("{what} failed: {error}"));
            }
            DataEvent::CommandDone { what } => {
                self.notify(NoticeLevel::Info, format!("{what}: done"));
            }
        }
        self.refresh_lists();
    }

    fn on_delivery(&mut self, item: ItemRef, delivery: super::model::Delivery) {
        let replace = |list: &mut Vec<super::model::Delivery>| match list
            .iter_mut()
            .find(|d| d.sink == delivery.sink && d.what == delivery.what)
        {
            Some(slot) => *slot = delivery.clone(),
            None => list.push(delivery.clone()),
        };
        match item {
            ItemRef::Finding(id) => {
                let t = &mut self.tables;
                let metas = t
                    .flagged
                    .iter_mut()
                    .map(|r| &mut r.meta)
                    .chain(t.bursts.iter_mut().map(|r| &mut r.meta))
                    .chain(t.tokens.iter_mut().map(|r| &mut r.meta));
                for meta in metas.filter(|m| m.id == id) {
                    replace(&mut meta.deliveries);
                    meta.updated_at = self.now;
                }
            }
            ItemRef::Draft(id) => {
                if let Some(d) = self.tables.drafts.get_mut(&id) {
                    replace(&mut d.deliveries);
                }
                for row in self.tables.investigations.iter_mut().filter(|r| r.id == id) {
                    replace(&mut row.deliveries);
                    row.updated_at = self.now;
                }
            }
        }
    }

    fn on_timeline(&mut self, handle: super::action::TimelineHandle) {
        let rect = self.rect();
        let Screen::Actor(view) = &mut self.screen else {
            return;
        };
        let summary = handle.0.summary();
        if summary.actor != view.actor {
            return;
        }
        view.len = handle.0.len();
        view.summary = Some(summary);
        view.source = Some(handle);
        view.error = None;
        let lay = layout::actor(rect);
        let start = view.first_cited().unwrap_or(0);
        view.select(start, lay.timeline_height());
        view.load_detail(lay.detail_width());
    }

    /// Re-filters and re-sorts every list (data, filter or sort changed).
    fn refresh_lists(&mut self) {
        let lay = layout::main(self.rect(), self.focus);
        let f = &self.filter;
        let t = &self.tables;
        let h = |p: PaneId| lay.list_height(p);
        let [a, b, c, d] = &mut self.lists;
        a.refresh(&t.flagged, f, h(PaneId::Flagged));
        b.refresh(&t.bursts, f, h(PaneId::Bursts));
        c.refresh(&t.tokens, f, h(PaneId::Tokens));
        d.refresh(&t.investigations, f, h(PaneId::Investigations));
    }

    /// Keeps selections in view and re-wraps the detail after a resize or a
    /// focus change (collapsed panes change every pane's height).
    fn relayout(&mut self) {
        let lay = layout::main(self.rect(), self.focus);
        for p in PaneId::ALL {
            self.lists[p.index()].clamp(lay.list_height(p));
        }
        let actor = layout::actor(self.rect());
        if let Screen::Actor(view) = &mut self.screen {
            let selected = view.selected;
            view.select(selected, actor.timeline_height());
            if let Some(d) = &mut view.detail {
                d.rewrap(actor.detail_width());
            }
        }
    }
}
