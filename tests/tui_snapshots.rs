//! Every pane, popup and the help overlay on a TestBackend at 100x30 and
//! 80x24 (plus the design size 120x36 for the two screens), with the demo
//! scenario and with hostile strings (escape sequences, OSC 52, BiDi, 1 MB
//! fields). Each screen is also checked cell by cell for anything a
//! terminal would interpret.

mod tui_support;

use soc_tui::tui::fake::FakeData;
use tui_support::{Harness, now};

const SIZES: [(u16, u16); 2] = [(100, 30), (80, 24)];

fn snap(name: &str, data: fn() -> FakeData, steps: impl Fn(&mut Harness)) {
    for (w, h) in SIZES {
        let mut harness = Harness::new(data(), w, h);
        steps(&mut harness);
        let screen = harness.screen();
        insta::assert_snapshot!(format!("{name}@{w}x{h}"), screen);
    }
}

fn demo() -> FakeData {
    FakeData::demo(now())
}

fn hostile() -> FakeData {
    FakeData::hostile(now())
}

fn empty() -> FakeData {
    FakeData::empty(now())
}

#[test]
fn main_screen_at_design_size() {
    let mut h = Harness::new(demo(), 120, 36);
    insta::assert_snapshot!("main@120x36", h.screen());
    h.key("enter");
    insta::assert_snapshot!("actor@120x36", h.screen());
}

#[test]
fn main_screen() {
    snap("main", demo, |_| {});
    snap("main_hostile", hostile, |_| {});
    snap("main_empty", empty, |_| {});
}

#[test]
fn each_pane_focused() {
    for (key, name) in [("2", "bursts"), ("3", "tokens"), ("4", "investigations")] {
        snap(&format!("pane_{name}"), demo, |h| {
            h.key(key);
        });
        snap(&format!("pane_{name}_hostile"), hostile, |h| {
            h.key(key);
        });
    }
}

#[test]
fn filter_and_sort() {
    snap("filter_typing", demo, |h| {
        h.key("/").typed("mallory");
    });
    snap("filter_applied_no_match", demo, |h| {
        h.key("/").typed("nobody").key("enter");
    });
    snap("sorted_by_actor", demo, |h| {
        h.key("o").key("o");
    });
}

#[test]
fn help_overlay() {
    snap("help", demo, |h| {
        h.key("?");
    });
    snap("help_scrolled", demo, |h| {
        h.keys(&["?", "pagedown"]);
    });
}

#[test]
fn actor_view() {
    snap("actor", demo, |h| {
        h.key("enter");
    });
    snap("actor_hostile", hostile, |h| {
        h.key("enter");
    });
    snap("actor_detail_focused_hostile", hostile, |h| {
        h.keys(&["enter", "tab", "j", "j"]);
    });
    snap("actor_linked_jump", demo, |h| {
        // From the token creation (first cited event) to where it is used.
        h.keys(&["enter", "n"]);
    });
    snap("actor_no_draft", demo, |h| {
        h.keys(&["j", "enter", "e"]);
    });
}

#[test]
fn verdict_editor() {
    snap("editor", demo, |h| {
        h.keys(&["enter", "e"]);
    });
    snap("editor_hostile", hostile, |h| {
        h.keys(&["enter", "e"]);
    });
    snap("editor_diff", demo, |h| {
        h.keys(&["enter", "e", "right", "tab"]);
        h.keys(&["ctrl-a", "ctrl-k"]).typed("0.6");
        h.keys(&["tab", "tab", "tab"])
            .typed("Called mallory: not her.");
        h.key("ctrl-t");
    });
    snap("editor_bad_confidence", demo, |h| {
        h.keys(&["enter", "e", "tab", "ctrl-a", "ctrl-k"])
            .typed("1.7");
        h.key("ctrl-s");
    });
}

#[test]
fn approve_and_publish() {
    snap("approve_confirm", demo, |h| {
        h.keys(&["enter", "a"]);
    });
    snap("publish_after_approve", demo, |h| {
        h.keys(&["enter", "a", "y"]);
    });
    snap("publish_linear_preview", demo, |h| {
        h.keys(&["enter", "a", "y", "j"]);
    });
    snap("publish_confirm", demo, |h| {
        h.keys(&["enter", "a", "y", "enter"]);
    });
    snap("published_with_link", demo, |h| {
        h.keys(&["enter", "a", "y", "enter", "y"]);
    });
    snap("publish_hostile", hostile, |h| {
        h.keys(&["enter", "a", "y"]);
    });
}

#[test]
fn triage_popups() {
    snap("snooze", demo, |h| {
        h.key("s").typed("maintenance window");
    });
    snap("snooze_needs_reason", demo, |h| {
        h.keys(&["s", "enter"]);
    });
    snap("resolve_confirm", demo, |h| {
        h.key("r");
    });
    snap("resolve_confirm_hostile", hostile, |h| {
        h.key("r");
    });
    snap("acknowledged", demo, |h| {
        h.key("a");
    });
}

#[test]
fn workflow_switches() {
    snap("workflows", demo, |h| {
        h.key("w");
    });
    snap("workflows_turn_on_confirm", demo, |h| {
        h.keys(&["w", "right"]);
    });
    // Confirmed: the fake answers like the engine, and the status bar and
    // the switches show the new mode and who set it.
    snap("workflows_switched", demo, |h| {
        h.keys(&["w", "right", "y"]);
    });
}

#[test]
fn outbox_view() {
    snap("outbox", demo, |h| {
        h.key("O");
    });
    snap("outbox_hostile", hostile, |h| {
        h.key("O");
    });
    snap("outbox_second_row", demo, |h| {
        h.keys(&["O", "j"]);
    });
}

#[test]
fn bad_theme_falls_back_with_a_notice() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("themes")).unwrap();
    std::fs::write(
        dir.path().join("themes/mine.toml"),
        "extends = \"dark\"\n[slots]\nseverity_critical = \"blood\"\n",
    )
    .unwrap();
    let options = soc_tui::tui::ConsoleOptions {
        theme: Some("mine".into()),
        config_dir: dir.path().to_path_buf(),
        analyst: "alice".into(),
        mouse: false,
        last_looked: None,
    };
    let app = soc_tui::tui::build_app(&options, 100, 30, now()).unwrap();
    assert_eq!(app.theme().name, "dark");
    let mut h = Harness::with_app(demo(), app);
    let screen = h.screen();
    let footer = screen.lines().last().unwrap();
    assert!(
        footer.contains("theme ") && footer.contains("mine.toml: slot `severity_critical`"),
        "{footer}"
    );
}
