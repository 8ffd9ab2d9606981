//! Shared by the tui_* test binaries: a console on a `TestBackend` fed by
//! `FakeData`, driven by key specs, and a screen dump that fails on any
//! character a terminal would interpret.
#![allow(dead_code)]

use std::sync::mpsc::{self, Receiver};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use soc_tui::sanitize::sanitize_with_limit;
use soc_tui::tui::app::{App, AppConfig};
use soc_tui::tui::fake::FakeData;
use soc_tui::tui::keymap::Keymap;
use soc_tui::tui::keys::KeyInput;
use soc_tui::tui::model::Command;
use soc_tui::tui::theme::Theme;
use soc_tui::tui::{Action, Console, ConsoleData, DataSink, Incoming};

pub fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
}

pub fn app(width: u16, height: u16) -> App {
    App::new(AppConfig {
        keymap: Keymap::defaults().unwrap(),
        theme: Theme::built_in("dark").unwrap(),
        analyst: "alice".into(),
        now: now(),
        last_looked: Some(now() - chrono::Duration::minutes(10)),
        width,
        height,
    })
}

pub struct Harness {
    pub console: Console<TestBackend, FakeData>,
    pub commands: Arc<Mutex<Vec<Command>>>,
    rx: Receiver<Incoming>,
}

impl Harness {
    pub fn new(data: FakeData, width: u16, height: u16) -> Harness {
        Harness::with_app(data, app(width, height))
    }

    pub fn with_app(mut data: FakeData, app: App) -> Harness {
        let (width, height) = app.size();
        let (tx, rx) = mpsc::channel();
        data.connect(DataSink::new(tx)).unwrap();
        let commands = data.commands.clone();
        let terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
        let mut h = Harness {
            console: Console::new(terminal, app, data),
            commands,
            rx,
        };
        h.pump();
        h
    }

    /// Applies everything the fake has sent.
    pub fn pump(&mut self) {
        while let Ok(incoming) = self.rx.try_recv() {
            self.console.handle(incoming);
        }
    }

    pub fn key(&mut self, spec: &str) -> &mut Harness {
        let key: KeyInput = spec.parse().unwrap();
        self.console.dispatch(Action::Key(key));
        self.pump();
        self
    }

    pub fn keys(&mut self, specs: &[&str]) -> &mut Harness {
        for s in specs {
            self.key(s);
        }
        self
    }

    pub fn typed(&mut self, text: &str) -> &mut Harness {
        for c in text.chars() {
            self.console.dispatch(Action::Key(KeyInput::char(c)));
        }
        self.pump();
        self
    }

    pub fn action(&mut self, action: Action) -> &mut Harness {
        self.console.dispatch(action);
        self.pump();
        self
    }

    pub fn resize(&mut self, width: u16, height: u16) -> &mut Harness {
        self.action(Action::Resize { width, height })
    }

    pub fn app(&self) -> &App {
        self.console.app()
    }

    pub fn sent(&self) -> Vec<Command> {
        self.commands.lock().unwrap().clone()
    }

    /// Draws and returns the screen as text, after checking it is inert.
    pub fn screen(&mut self) -> String {
        let (w, h) = self.app().size();
        let area = self.console.terminal().backend().buffer().area;
        if (area.width, area.height) != (w, h) {
            // A TestBackend does not follow Resize actions by itself.
            self.console.terminal_mut().backend_mut().resize(w, h);
        }
        self.console.draw().unwrap();
        let buffer = self.console.terminal().backend().buffer().clone();
        assert_inert(&buffer);
        dump(&buffer)
    }
}

/// Every cell must be text a terminal prints as is: no control, BiDi or
/// invisible character survives into the frame.
pub fn assert_inert(buffer: &Buffer) {
    for (i, cell) in buffer.content.iter().enumerate() {
        let sym = cell.symbol();
        assert_eq!(
            sanitize_with_limit(sym, usize::MAX),
            sym,
            "cell {i} holds a character the terminal would interpret: {sym:?}"
        );
    }
}

/// The screen as lines of text (wide characters take their cells once).
pub fn dump(buffer: &Buffer) -> String {
    let width = usize::from(buffer.area.width);
    let mut out = String::new();
    for row in buffer.content.chunks(width.max(1)) {
        let mut skip = 0usize;
        let mut line = String::new();
        for cell in row {
            if skip == 0 {
                line.push_str(cell.symbol());
            }
            skip = skip
                .max(usize::from(cell_width(cell.symbol())))
                .saturating_sub(1);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn cell_width(sym: &str) -> u16 {
    use unicode_width::UnicodeWidthStr;
    u16::try_from(sym.width()).unwrap_or(1)
}
