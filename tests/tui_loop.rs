//! The event loop on a TestBackend (the same generic code the real terminal
//! runs), resizing every screen and popup to odd sizes, and theme colours
//! reaching the cells.

mod tui_support;

use std::sync::mpsc;
use std::thread;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use ratatui::style::Color;
use soc_tui::tui::fake::FakeData;
use soc_tui::tui::model::Command;
use soc_tui::tui::theme::Theme;
use soc_tui::tui::{Console, ConsoleData, DataSink, Incoming};
use tui_support::{Harness, app, dump, now};

fn key(code: KeyCode) -> Incoming {
    Incoming::Terminal(Event::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

#[test]
fn run_loop_handles_input_and_data_then_quits() {
    let (tx, rx) = mpsc::channel();
    let mut data = FakeData::demo(now());
    let commands = data.commands.clone();
    data.connect(DataSink::new(tx.clone())).unwrap();
    let terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    let mut console = Console::new(terminal, app(100, 30), data);
    let seen = commands.clone();
    let feeder = thread::spawn(move || {
        for ev in [
            key(KeyCode::Char('a')),
            Incoming::Terminal(Event::Resize(80, 24)),
            Incoming::Terminal(Event::Paste("ignored on the main screen".into())),
        ] {
            tx.send(ev).unwrap();
        }
        // Quit only after the fake has answered the acknowledgement.
        while seen.lock().unwrap().is_empty() {
            thread::sleep(std::time::Duration::from_millis(5));
        }
        thread::sleep(std::time::Duration::from_millis(50));
        tx.send(key(KeyCode::Char('q'))).unwrap();
        // Kept alive until the loop has returned: exit must come from `q`.
        tx
    });
    console.run(&rx).unwrap();
    let _tx = feeder.join().unwrap();
    assert!(console.app().should_quit());
    assert_eq!(console.app().size(), (80, 24));
    let sent = commands.lock().unwrap().clone();
    assert!(
        matches!(sent.as_slice(), [Command::Acknowledge { .. }]),
        "{sent:?}"
    );
    // The fake's answer (row acknowledged) arrived through the same loop.
    let row = &console.app().tables().flagged[0];
    assert_eq!(row.meta.state.label(), "ack");
    let screen = dump(console.terminal().backend().buffer());
    assert!(screen.contains("mallory.ops@e"), "{screen}");
}

#[test]
fn run_loop_ends_when_every_sender_is_gone() {
    let (tx, rx) = mpsc::channel::<Incoming>();
    drop(tx);
    let terminal = Terminal::new(TestBackend::new(40, 10)).unwrap();
    let mut console = Console::new(terminal, app(40, 10), FakeData::empty(now()));
    console.run(&rx).unwrap();
    assert!(!console.app().should_quit());
}

/// Steps that reach each screen and popup.
const STATES: [&[&str]; 8] = [
    &[],
    &["?"],
    &["s"],
    &["r"],
    &["/"],
    &["enter"],
    &["enter", "e"],
    &["enter", "a", "y"],
];

#[test]
fn resizing_never_panics() {
    let sizes = [
        (0, 0),
        (1, 1),
        (2, 1),
        (5, 3),
        (10, 4),
        (19, 7),
        (33, 11),
        (60, 15),
        (79, 23),
        (99, 19),
        (100, 20),
        (101, 29),
        (140, 45),
        (300, 90),
    ];
    for steps in STATES {
        let mut h = Harness::new(FakeData::demo(now()), 100, 30);
        h.keys(steps);
        for (w, hgt) in sizes {
            h.resize(w, hgt);
            h.screen();
            h.keys(&["j", "k", "G", "g"]);
            h.screen();
        }
    }
}

#[test]
fn hostile_data_stays_inert_at_every_size() {
    for steps in STATES {
        let mut h = Harness::new(FakeData::hostile(now()), 100, 30);
        h.keys(steps);
        for (w, hgt) in [(7, 5), (80, 24), (100, 30), (160, 50)] {
            h.resize(w, hgt);
            // Harness::screen asserts no cell holds a control, BiDi or
            // invisible character.
            h.screen();
        }
    }
}

#[test]
fn severity_colours_come_from_the_theme() {
    for name in ["dark", "light", "high-contrast"] {
        let theme = Theme::built_in(name).unwrap();
        let critical = theme.palette.severity_critical;
        let high = theme.palette.severity_high;
        // Rebuild the app with this theme.
        let config_app = soc_tui::tui::App::new(soc_tui::tui::AppConfig {
            keymap: soc_tui::tui::keymap::Keymap::defaults().unwrap(),
            theme,
            analyst: "alice".into(),
            now: now(),
            last_looked: None,
            width: 120,
            height: 36,
        });
        let mut h = Harness::with_app(FakeData::demo(now()), config_app);
        h.screen();
        let buf = h.console.terminal().backend().buffer().clone();
        // Burst pane (top right) row 1 is mallory's critical burst; the
        // flagged pane (top left) row 2 is dave's low finding, row 1 mallory's high.
        let cell_at = |x: u16, y: u16| buf[(x, y)].fg;
        assert_eq!(cell_at(63, 1), critical, "{name}: critical burst actor");
        assert_eq!(cell_at(3, 1), high, "{name}: high flagged actor");
        assert_ne!(critical, Color::Reset, "{name}");
    }
}

/// The fake console data, plus a setup that says what it did.
struct WithSetup(FakeData);

impl ConsoleData for WithSetup {
    fn connect(&mut self, sink: DataSink) -> Result<(), soc_tui::tui::DataError> {
        self.0.connect(sink)
    }
    fn execute(&mut self, command: Command) -> Result<(), soc_tui::tui::DataError> {
        self.0.execute(command)
    }
    fn timeline(
        &mut self,
        actor: &soc_tui::tui::model::ActorKey,
    ) -> Result<std::sync::Arc<dyn soc_tui::tui::model::TimelineSource>, soc_tui::tui::DataError>
    {
        self.0.timeline(actor)
    }
    fn outbox_preview(
        &mut self,
        id: i64,
    ) -> Result<soc_tui::tui::model::SafeText, soc_tui::tui::DataError> {
        self.0.outbox_preview(id)
    }
    fn run_in_foreground(
        &mut self,
        task: soc_tui::tui::action::ForegroundTask,
    ) -> Result<String, soc_tui::tui::DataError> {
        Ok(format!("{} ran", task.describe()))
    }
}

/// Counts hand-overs and runs the task as the real terminal would, in between.
struct CountingSuspend(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl soc_tui::tui::Suspend for CountingSuspend {
    fn suspended(&mut self, run: &mut dyn FnMut()) -> std::io::Result<()> {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        run();
        Ok(())
    }
}

#[test]
fn the_setup_key_hands_the_terminal_to_the_wizard_and_takes_it_back() {
    let handovers = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    let mut console = Console::new(terminal, app(100, 30), WithSetup(FakeData::demo(now())))
        .with_suspend(Box::new(CountingSuspend(handovers.clone())));
    console.handle(key(KeyCode::Char('S')));
    assert_eq!(handovers.load(std::sync::atomic::Ordering::SeqCst), 1);
    let notice = console.app().notice().expect("a notice");
    assert!(notice.text.contains("setup wizard ran"), "{}", notice.text);
    console.draw().unwrap();
    let screen = dump(console.terminal().backend().buffer());
    assert!(screen.contains("setup wizard ran"), "{screen}");

    // Where nothing can take the terminal over, the analyst is told so.
    let terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    let mut console = Console::new(terminal, app(100, 30), FakeData::demo(now()));
    console.handle(key(KeyCode::Char('S')));
    let notice = console.app().notice().expect("a notice");
    assert_eq!(notice.level, soc_tui::tui::app::NoticeLevel::Error);
    assert!(
        notice.text.contains("cannot hand its terminal over"),
        "{}",
        notice.text
    );
}
