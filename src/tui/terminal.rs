//! The terminal side: entering and restoring raw mode (also on panic), the
//! input and tick threads, and the event loop, which is generic over the
//! ratatui `Backend` so tests run it on a `TestBackend`.
//!
//! The loop redraws on change, not on a timer: it blocks until something
//! arrives, drains everything pending, then draws once, at most every
//! [`FRAME_INTERVAL`]. Ticks only move the clock.

use std::io::{self, Stdout};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Once};
use std::thread;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ratatui::Terminal;
use ratatui::backend::{Backend, CrosstermBackend};
use ratatui::crossterm::event::{
    self, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event, MouseEventKind,
};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};

use super::action::{Action, Effect, ForegroundTask, TimelineHandle};
use super::app::{App, AppConfig, NoticeLevel};
use super::data::{ConsoleData, DataSink, Incoming};
use super::draw;
use super::keymap::{Keymap, KeymapError};
use super::keys::KeyInput;
use super::model::{DataEvent, SafeText};
use super::theme::{ColorSupport, DEFAULT_THEME, Theme};

/// About 60 frames per second at most.
pub const FRAME_INTERVAL: Duration = Duration::from_millis(16);

/// How often the clock moves (relative times, notices).
pub const TICK_INTERVAL: Duration = Duration::from_secs(1);

/// How `run_console` starts.
#[derive(Debug, Clone)]
pub struct ConsoleOptions {
    /// Theme name (`--theme` or config); built-in or `<config_dir>/themes/<name>.toml`.
    pub theme: Option<String>,
    /// Where `keymap.toml` and `themes/` are looked up.
    pub config_dir: PathBuf,
    /// Recorded with every command (config `[analyst] name`, else `$USER`).
    pub analyst: String,
    /// Capture the mouse for wheel scrolling (disables terminal text selection).
    pub mouse: bool,
    /// When the analyst last looked; newer items are marked new.
    pub last_looked: Option<DateTime<Utc>>,
}

/// Builds the app for `options`: a bad theme or keymap file is reported in
/// the footer and the built-in one is used instead. Fails only if the
/// embedded default keymap does not load (a test proves it does).
pub fn build_app(
    options: &ConsoleOptions,
    width: u16,
    height: u16,
    now: DateTime<Utc>,
) -> Result<App, KeymapError> {
    let name = options.theme.as_deref().unwrap_or(DEFAULT_THEME);
    let (theme, theme_error) = Theme::load_or_fallback(name, &options.config_dir);
    let theme = theme.for_terminal(ColorSupport::detect());
    let (keymap, keymap_error) = match Keymap::load(&options.config_dir.join("keymap.toml")) {
        Ok(k) => (k, None),
        Err(err) => (Keymap::defaults()?, Some(err)),
    };
    let mut app = App::new(AppConfig {
        keymap,
        theme,
        analyst: options.analyst.clone(),
        now,
        last_looked: options.last_looked,
        width,
        height,
    });
    if let Some(err) = theme_error {
        tracing::warn!("{err}");
        let text = SafeText::new(&format!("{err}; using the dark theme"));
        app.notify(NoticeLevel::Error, text.to_string());
    }
    if let Some(err) = keymap_error {
        tracing::warn!("{err}");
        let text = SafeText::new(&format!("{err}; using the default keys"));
        app.notify(NoticeLevel::Error, text.to_string());
    }
    Ok(app)
}

/// Why the console stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    #[error("terminal: {0}")]
    Terminal(#[from] io::Error),
    #[error("drawing the console: {0}")]
    Draw(String),
    #[error("connecting to the data side: {0}")]
    Connect(#[from] super::data::DataError),
    #[error(transparent)]
    Keymap(#[from] KeymapError),
}

/// Hands the terminal over to interactive work and takes it back: on the
/// real terminal, leaves raw mode and the alternate screen and keeps the
/// input thread off stdin meanwhile.
pub trait Suspend {
    fn suspended(&mut self, run: &mut dyn FnMut()) -> io::Result<()>;
}

/// The running console: app state, data side and terminal.
pub struct Console<B: Backend, D: ConsoleData> {
    terminal: Terminal<B>,
    app: App,
    data: D,
    last_draw: Option<Instant>,
    dirty: bool,
    /// `None` where nothing can take the terminal over (tests, for example).
    suspend: Option<Box<dyn Suspend>>,
}

impl<B: Backend, D: ConsoleData> Console<B, D> {
    pub fn new(terminal: Terminal<B>, app: App, data: D) -> Console<B, D> {
        Console {
            terminal,
            app,
            data,
            last_draw: None,
            dirty: true,
            suspend: None,
        }
    }

    /// Lets `Effect::RunInForeground` hand the terminal over through `suspend`.
    pub fn with_suspend(mut self, suspend: Box<dyn Suspend>) -> Console<B, D> {
        self.suspend = Some(suspend);
        self
    }

    pub fn app(&self) -> &App {
        &self.app
    }

    pub fn data(&self) -> &D {
        &self.data
    }

    pub fn terminal(&self) -> &Terminal<B> {
        &self.terminal
    }

    /// For tests that swap the backend after a resize.
    pub fn terminal_mut(&mut self) -> &mut Terminal<B> {
        self.dirty = true;
        &mut self.terminal
    }

    /// Applies `action` and its follow-ups, then carries out the effects.
    pub fn dispatch(&mut self, action: Action) {
        let mut queue = vec![action];
        while let Some(action) = queue.pop() {
            let mut next = Some(action);
            while let Some(action) = next {
                next = self.app.update(action);
            }
            for effect in self.app.take_effects() {
                if let Some(reply) = self.run_effect(effect) {
                    queue.push(reply);
                }
            }
        }
        self.dirty = true;
    }

    fn run_effect(&mut self, effect: Effect) -> Option<Action> {
        match effect {
            Effect::Send(command) => {
                let what = SafeText::new(&command.describe());
                self.data.execute(command).err().map(|err| {
                    Action::Data(DataEvent::CommandFailed {
                        what,
                        error: SafeText::new(&err.0),
                    })
                })
            }
            Effect::RunInForeground(task) => Some(self.run_in_foreground(task)),
            Effect::OpenTimeline(actor) => Some(match self.data.timeline(&actor) {
                Ok(source) => Action::TimelineOpened(TimelineHandle(source)),
                Err(err) => Action::Data(DataEvent::CommandFailed {
                    what: SafeText::new("open timeline"),
                    error: SafeText::new(&err.0),
                }),
            }),
            Effect::LoadOutboxPreview(id) => Some(match self.data.outbox_preview(id) {
                Ok(text) => Action::OutboxPreview { id, text },
                Err(err) => Action::OutboxPreview {
                    id,
                    text: SafeText::multiline(&format!("The preview cannot be shown: {}", err.0)),
                },
            }),
        }
    }

    fn run_in_foreground(&mut self, task: ForegroundTask) -> Action {
        let what = SafeText::new(task.describe());
        let failed = |error: &str| {
            Action::Data(DataEvent::CommandFailed {
                what: what.clone(),
                error: SafeText::new(error),
            })
        };
        let Some(suspend) = self.suspend.as_mut() else {
            return failed("this console cannot hand its terminal over");
        };
        let data = &mut self.data;
        let mut outcome = None;
        let handed_over = suspend.suspended(&mut || outcome = Some(data.run_in_foreground(task)));
        // What was on the screen is gone: the next frame redraws all of it.
        if let Err(err) = self.terminal.clear() {
            tracing::warn!("clearing the terminal after the {}: {err}", task.describe());
        }
        match (handed_over, outcome) {
            (Err(err), _) => failed(&format!("handing the terminal over: {err}")),
            (Ok(()), Some(Ok(done))) => Action::Data(DataEvent::CommandDone {
                what: SafeText::new(&done),
            }),
            (Ok(()), Some(Err(err))) => failed(&err.0),
            (Ok(()), None) => failed("did not run"),
        }
    }

    /// Turns one incoming event into actions.
    pub fn handle(&mut self, incoming: Incoming) {
        let action = match incoming {
            Incoming::Data(event) => Action::Data(*event),
            Incoming::Tick(now) => Action::Tick(now),
            Incoming::Terminal(event) => match event {
                Event::Key(key) => match KeyInput::from_crossterm(key) {
                    Some(k) => Action::Key(k),
                    None => return,
                },
                Event::Paste(text) => Action::Paste(text),
                Event::Resize(width, height) => Action::Resize { width, height },
                Event::Mouse(m) => match m.kind {
                    MouseEventKind::ScrollUp => Action::ScrollUp,
                    MouseEventKind::ScrollDown => Action::ScrollDown,
                    _ => return,
                },
                _ => return,
            },
        };
        self.dispatch(action);
    }

    /// Draws if anything changed since the last frame.
    pub fn draw(&mut self) -> Result<(), ConsoleError> {
        if !self.dirty {
            return Ok(());
        }
        let app = &self.app;
        self.terminal
            .draw(|frame| draw::draw(app, frame))
            .map_err(|e| ConsoleError::Draw(e.to_string()))?;
        self.dirty = false;
        self.last_draw = Some(Instant::now());
        Ok(())
    }

    /// Runs until the analyst quits or every sender has gone.
    pub fn run(&mut self, rx: &Receiver<Incoming>) -> Result<(), ConsoleError> {
        self.draw()?;
        loop {
            let Ok(first) = rx.recv() else {
                return Ok(());
            };
            self.handle(first);
            // Drain what is pending, and keep collecting until the frame is due.
            loop {
                if self.app.should_quit() {
                    return Ok(());
                }
                let due = self.last_draw.map_or(Duration::ZERO, |t| {
                    FRAME_INTERVAL.saturating_sub(t.elapsed())
                });
                match rx.recv_timeout(due) {
                    Ok(incoming) => self.handle(incoming),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => return Ok(()),
                }
            }
            self.draw()?;
        }
    }
}

static HOOK: Once = Once::new();

/// Raw mode, alternate screen, bracketed paste (and mouse); restored on
/// drop and, through the panic hook, on panic.
pub struct TerminalGuard {
    mouse: bool,
}

impl TerminalGuard {
    pub fn enter(mouse: bool) -> io::Result<TerminalGuard> {
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                restore_terminal(true);
                previous(info);
            }));
        });
        // Made first, so a failure half-way is undone by its drop.
        let guard = TerminalGuard { mouse };
        enter_terminal(mouse)?;
        Ok(guard)
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal(self.mouse);
    }
}

/// Best effort: each step runs even if an earlier one failed.
fn restore_terminal(mouse: bool) {
    let mut out = io::stdout();
    if mouse {
        let _ = execute!(out, DisableMouseCapture);
    }
    let _ = execute!(out, DisableBracketedPaste, LeaveAlternateScreen);
    let _ = execute!(out, ratatui::crossterm::cursor::Show);
    let _ = disable_raw_mode();
}

/// Tells the input thread to leave stdin alone, and hears that it has.
#[derive(Debug, Default)]
struct InputPause {
    requested: AtomicBool,
    /// Set by the input thread once it has stopped reading.
    idle: AtomicBool,
}

/// Reads terminal events on a thread of its own so data never waits on input.
fn spawn_input(
    tx: Sender<Incoming>,
    stop: Arc<AtomicBool>,
    pause: Arc<InputPause>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            if pause.requested.load(Ordering::SeqCst) {
                pause.idle.store(true, Ordering::SeqCst);
                thread::sleep(Duration::from_millis(20));
                continue;
            }
            pause.idle.store(false, Ordering::SeqCst);
            match event::poll(Duration::from_millis(100)) {
                Ok(true) => match event::read() {
                    Ok(ev) => {
                        if tx.send(Incoming::Terminal(ev)).is_err() {
                            return;
                        }
                    }
                    Err(err) => {
                        tracing::error!("reading terminal input: {err}");
                        return;
                    }
                },
                Ok(false) => {}
                Err(err) => {
                    tracing::error!("polling terminal input: {err}");
                    return;
                }
            }
        }
    })
}

fn spawn_ticks(tx: Sender<Incoming>, stop: Arc<AtomicBool>) {
    thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            thread::sleep(TICK_INTERVAL);
            if tx.send(Incoming::Tick(Utc::now())).is_err() {
                return;
            }
        }
    });
}

/// [`Suspend`] for the real terminal.
struct TerminalSuspend {
    mouse: bool,
    pause: Arc<InputPause>,
}

impl Suspend for TerminalSuspend {
    fn suspended(&mut self, run: &mut dyn FnMut()) -> io::Result<()> {
        self.pause.requested.store(true, Ordering::SeqCst);
        // The input thread's poll lasts at most 100 ms; wait a little longer.
        let deadline = Instant::now() + Duration::from_secs(1);
        while !self.pause.idle.load(Ordering::SeqCst) && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(5));
        }
        restore_terminal(self.mouse);
        run();
        // The task's last words (the wizard's report) stay readable until
        // the analyst is done with them.
        println!("\nPress Enter to return to the console.");
        let mut line = String::new();
        let read = io::stdin().read_line(&mut line);
        let resumed = enter_terminal(self.mouse);
        self.pause.requested.store(false, Ordering::SeqCst);
        read.and(resumed)
    }
}

/// Raw mode, alternate screen, bracketed paste, and the mouse if asked.
fn enter_terminal(mouse: bool) -> io::Result<()> {
    enable_raw_mode()?;
    execute!(io::stdout(), EnterAlternateScreen, EnableBracketedPaste)?;
    if mouse {
        execute!(io::stdout(), EnableMouseCapture)?;
    }
    Ok(())
}

/// Runs the console on the real terminal until the analyst quits.
///
/// Logging must already go to a file (`crate::logging::init`): nothing here
/// writes to stdout or stderr while the console owns the terminal.
pub fn run_console(mut data: impl ConsoleData, options: ConsoleOptions) -> anyhow::Result<()> {
    let (width, height) = ratatui::crossterm::terminal::size().unwrap_or((80, 24));
    let app = build_app(&options, width, height, Utc::now())?;
    let guard = TerminalGuard::enter(options.mouse)?;
    let terminal: Terminal<CrosstermBackend<Stdout>> =
        Terminal::new(CrosstermBackend::new(io::stdout()))?;
    let (tx, rx) = mpsc::channel();
    let stop = Arc::new(AtomicBool::new(false));
    let pause = Arc::new(InputPause::default());
    let input = spawn_input(tx.clone(), stop.clone(), pause.clone());
    // Not joined: it notices the closed channel on its next tick.
    spawn_ticks(tx.clone(), stop.clone());
    data.connect(DataSink::new(tx))?;
    let suspend = TerminalSuspend {
        mouse: options.mouse,
        pause,
    };
    let mut console = Console::new(terminal, app, data).with_suspend(Box::new(suspend));
    let result = console.run(&rx);
    stop.store(true, Ordering::Relaxed);
    drop(rx);
    drop(guard);
    let _ = input.join();
    tracing::info!("console closed");
    result.map_err(Into::into)
}
