//! Console render benchmarks (run: `cargo bench --bench tui_render`).
//!
//! - frame time of the main screen (demo data, and 1,000 rows per pane);
//! - frame time of the actor view with 1k and 1M events in the timeline
//!   source (targets: under 2 ms, 1M within 1.5x of 1k);
//! - key press to finished frame (main screen and 1M timeline);
//! - start to first frame, with a 1M-event timeline in the data side
//!   (target: under 200 ms), and opening that actor's view.
//!
//! The 1M timeline is a `TimelineSource` over an in-memory `Vec` of compact
//! events that materializes only the requested window, as the store-backed
//! source does with an indexed query. Frames render into a `TestBackend`,
//! so the figures are the console's own work without terminal I/O.
//!
//! Under `cargo test --benches` (no `--bench` argument) it runs a quick
//! smoke pass with small sizes instead.

use std::hint::black_box;
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use soc_tui::tui::action::Action;
use soc_tui::tui::data::{ConsoleData, DataError, DataSink, Incoming};
use soc_tui::tui::fake::FakeData;
use soc_tui::tui::keys::KeyInput;
use soc_tui::tui::model::*;
use soc_tui::tui::{App, Console, ConsoleOptions, build_app};

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap()
}

/// 16 bytes per event: a million fit in 16 MB.
#[derive(Clone, Copy)]
struct CompactEvent {
    secs: i64,
    verb: u16,
    resource: u32,
    source: u8,
}

const VERBS: [&str; 6] = [
    "create",
    "update",
    "delete",
    "Modified role",
    "login",
    "read",
];

struct VecSource {
    actor: ActorKey,
    events: Vec<CompactEvent>,
}

impl VecSource {
    fn new(actor: &ActorKey, n: usize) -> VecSource {
        let start = now().timestamp() - n as i64;
        let events = (0..n)
            .map(|i| CompactEvent {
                secs: start + i as i64,
                verb: (i % VERBS.len()) as u16,
                resource: (i % 9973) as u32,
                source: u8::from(i.is_multiple_of(3)),
            })
            .collect();
        VecSource {
            actor: actor.clone(),
            events,
        }
    }

    fn row(&self, i: usize) -> Option<TimelineRow> {
        let e = self.events.get(i)?;
        let marker = (e.verb == 2).then(|| Marker {
            kind: MarkerKind::Destructive,
            label: SafeText::new("destructive"),
        });
        Some(TimelineRow {
            event_id: EventId::new(format!("evt-{i}")),
            time: Utc.timestamp_opt(e.secs, 0).single()?,
            source: if e.source == 1 {
                Source::Datadog
            } else {
                Source::Cloudflare
            },
            verb: SafeText::new(VERBS[usize::from(e.verb)]),
            resource: SafeText::new(&format!("monitor \"prod-{}\"", e.resource)),
            markers: marker.into_iter().collect(),
            linked_event_ids: if i.is_multiple_of(100) {
                vec![EventId::new(format!("evt-{}", i + 1))]
            } else {
                Vec::new()
            },
        })
    }
}

impl TimelineSource for VecSource {
    fn summary(&self) -> TimelineSummary {
        let time = |e: Option<&CompactEvent>| e.and_then(|e| Utc.timestamp_opt(e.secs, 0).single());
        TimelineSummary {
            actor: self.actor.clone(),
            from: time(self.events.first()),
            to: time(self.events.last()),
            sources: vec![Source::Cloudflare, Source::Datadog],
            total: self.events.len(),
        }
    }
    fn len(&self) -> usize {
        self.events.len()
    }
    fn window(&self, offset: usize, limit: usize) -> Result<Vec<TimelineRow>, TimelineError> {
        Ok((offset..offset.saturating_add(limit))
            .map_while(|i| self.row(i))
            .collect())
    }
    fn position_of(&self, event_id: &EventId) -> Option<usize> {
        let i: usize = event_id.raw().strip_prefix("evt-")?.parse().ok()?;
        (i < self.events.len()).then_some(i)
    }
    fn detail(&self, event_id: &EventId) -> Result<Option<EventDetail>, TimelineError> {
        let Some(i) = self.position_of(event_id) else {
            return Ok(None);
        };
        let raw = format!(
            "{{\"id\":\"evt-{i}\",\"action\":{{\"type\":\"{}\"}},\"actor\":{{\"email\":\"mallory.ops@example.com\"}}}}",
            VERBS[usize::from(self.events[i].verb)]
        );
        Ok(Some(EventDetail::from_raw_json(event_id.clone(), &raw)))
    }
}

/// FakeData with mallory's timeline replaced by a big synthetic one.
struct BigData {
    fake: FakeData,
    source: Arc<VecSource>,
}

impl ConsoleData for BigData {
    fn connect(&mut self, sink: DataSink) -> Result<(), DataError> {
        self.fake.connect(sink)
    }
    fn execute(&mut self, command: Command) -> Result<(), DataError> {
        self.fake.execute(command)
    }
    fn outbox_preview(&mut self, id: i64) -> Result<SafeText, DataError> {
        self.fake.outbox_preview(id)
    }
    fn timeline(&mut self, actor: &ActorKey) -> Result<Arc<dyn TimelineSource>, DataError> {
        if actor == &self.source.actor {
            Ok(self.source.clone())
        } else {
            self.fake.timeline(actor)
        }
    }
}

struct Stats {
    median: Duration,
    p99: Duration,
}

fn measure(iterations: usize, mut f: impl FnMut()) -> Stats {
    for _ in 0..iterations.min(20) {
        f();
    }
    let mut samples: Vec<Duration> = (0..iterations)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    samples.sort();
    Stats {
        median: samples[samples.len() / 2],
        p99: samples[(samples.len() * 99 / 100).min(samples.len() - 1)],
    }
}

fn ms(d: Duration) -> String {
    format!("{:.3} ms", d.as_secs_f64() * 1e3)
}

fn report(name: &str, s: &Stats) {
    println!(
        "{name:<48} median {:>10}   p99 {:>10}",
        ms(s.median),
        ms(s.p99)
    );
}

fn options() -> ConsoleOptions {
    ConsoleOptions {
        theme: None,
        config_dir: std::env::temp_dir().join("soc-tui-bench-no-config"),
        analyst: "bench".into(),
        mouse: false,
        last_looked: None,
    }
}

/// A console on a 120x36 TestBackend, connected and drawn once.
fn console(data: BigData) -> (Console<TestBackend, BigData>, mpsc::Receiver<Incoming>) {
    let (tx, rx) = mpsc::channel();
    let mut data = data;
    data.connect(DataSink::new(tx)).unwrap();
    let app = build_app(&options(), 120, 36, now()).unwrap();
    let terminal = Terminal::new(TestBackend::new(120, 36)).unwrap();
    let mut c = Console::new(terminal, app, data);
    while let Ok(i) = rx.try_recv() {
        c.handle(i);
    }
    c.draw().unwrap();
    (c, rx)
}

fn big_data(events: usize) -> BigData {
    let fake = FakeData::demo(now());
    let actor = ActorKey::new("mallory.ops@example.com");
    BigData {
        fake,
        source: Arc::new(VecSource::new(&actor, events)),
    }
}

fn frame(app: &App, buf: &mut ratatui::buffer::Buffer) {
    buf.reset();
    soc_tui::tui::draw::render(app, buf.area, buf);
    black_box(&buf);
}

/// The actor view over `events` with the last event selected: the window
/// drawn is at the far end of the source, the worst place for a source
/// that is not virtualized.
fn actor_view(events: usize) -> (Console<TestBackend, BigData>, mpsc::Receiver<Incoming>) {
    let (mut c, rx) = console(big_data(events));
    c.dispatch(Action::Key(KeyInput::plain(soc_tui::tui::keys::Key::Enter)));
    c.dispatch(Action::Bottom);
    c.dispatch(Action::PageUp);
    c.draw().unwrap();
    (c, rx)
}

fn main() {
    let full = std::env::args().any(|a| a == "--bench");
    let (big, iterations) = if full {
        (1_000_000, 2_000)
    } else {
        (20_000, 20)
    };

    println!(
        "soc-tui console benchmarks ({})",
        if full { "full" } else { "smoke" }
    );
    println!("frames render into a 120x36 buffer; median of {iterations} runs");

    // Main screen, demo data.
    let (c, _rx) = console(big_data(1_000));
    let mut buf = ratatui::buffer::Buffer::empty(ratatui::layout::Rect::new(0, 0, 120, 36));
    let main_demo = measure(iterations, || frame(c.app(), &mut buf));
    report("main screen frame (demo data)", &main_demo);

    // Main screen with 1,000 rows in every pane.
    let mut many = FakeData::demo(now()).snapshot().clone();
    let (f0, b0, t0) = (
        many.flagged[0].clone(),
        many.bursts[0].clone(),
        many.tokens[0].clone(),
    );
    many.flagged = (0..1000)
        .map(|i| {
            let mut r = f0.clone();
            r.meta.id = FindingId::new(format!("f{i}"));
            r
        })
        .collect();
    many.bursts = (0..1000)
        .map(|i| {
            let mut r = b0.clone();
            r.meta.id = FindingId::new(format!("b{i}"));
            r
        })
        .collect();
    many.tokens = (0..1000)
        .map(|i| {
            let mut r = t0.clone();
            r.meta.id = FindingId::new(format!("t{i}"));
            r
        })
        .collect();
    let (mut c_many, _rx_many) = console(big_data(1_000));
    c_many.dispatch(Action::Data(DataEvent::Snapshot(Box::new(many))));
    let main_many = measure(iterations, || frame(c_many.app(), &mut buf));
    report("main screen frame (1,000 rows per pane)", &main_many);

    // Actor view, 1k vs 1M events.
    let (c1k, _r1) = actor_view(1_000);
    let t1k = measure(iterations, || frame(c1k.app(), &mut buf));
    report("actor view frame, 1k events", &t1k);
    let (cbig, _r2) = actor_view(big);
    let tbig = measure(iterations, || frame(cbig.app(), &mut buf));
    report(&format!("actor view frame, {big} events"), &tbig);
    let ratio = tbig.median.as_secs_f64() / t1k.median.as_secs_f64();
    println!("  ratio {big}/1k: {ratio:.2}x (target <= 1.5x); frame target < 2 ms");

    // Key press to finished frame: dispatch the key, draw to the backend.
    let (mut ckey, _r3) = console(big_data(1_000));
    let j = KeyInput::char('j');
    let k = KeyInput::char('k');
    let mut flip = false;
    let key_main = measure(iterations, || {
        flip = !flip;
        ckey.dispatch(Action::Key(if flip { j } else { k }));
        ckey.draw().unwrap();
    });
    report("key press to frame, main screen", &key_main);
    let (mut cact, _r4) = actor_view(big);
    let key_actor = measure(iterations, || {
        flip = !flip;
        cact.dispatch(Action::Key(if flip { k } else { j }));
        cact.draw().unwrap();
    });
    report(
        &format!("key press to frame, timeline of {big}"),
        &key_actor,
    );

    // Start to first frame with the 1M-event data side (built beforehand: it
    // stands for the store on disk).
    let mut sources: Vec<BigData> = (0..if full { 20 } else { 3 })
        .map(|_| big_data(0))
        .collect();
    let shared = Arc::new(VecSource::new(
        &ActorKey::new("mallory.ops@example.com"),
        big,
    ));
    for s in &mut sources {
        s.source = shared.clone();
    }
    let mut starts = Vec::new();
    for data in sources {
        let t = Instant::now();
        let (c, _rx) = console(data);
        black_box(c.app());
        starts.push(t.elapsed());
    }
    starts.sort();
    println!(
        "{:<48} median {:>10}   max {:>10}   (target < 200 ms)",
        format!("start to first frame, {big}-event store"),
        ms(starts[starts.len() / 2]),
        ms(*starts.last().unwrap())
    );

    let (mut copen, _r5) = console(BigData {
        fake: FakeData::demo(now()),
        source: shared,
    });
    let t = Instant::now();
    copen.dispatch(Action::Key(KeyInput::plain(soc_tui::tui::keys::Key::Enter)));
    copen.draw().unwrap();
    println!(
        "{:<48} {:>17}",
        format!("open actor view on {big} events"),
        ms(t.elapsed())
    );
}
