//! Ingest benchmark: NDJSON from the synthetic generator into the file store,
//! beside the floor of merely deserializing the same file with serde_json.
//!
//! `cargo bench --bench ingest` (1M events). Smaller run:
//! `SOC_TUI_BENCH_EVENTS=100000 cargo bench --bench ingest` or
//! `cargo bench --bench ingest -- 100000`. Other knobs: `SOC_TUI_BENCH_SEED`,
//! `SOC_TUI_BENCH_ACTORS` (2000), `SOC_TUI_BENCH_DAYS` (30),
//! `SOC_TUI_BENCH_DIR` (keep the files there instead of a temp dir).
//!
//! The full ingest runs in a child process (this binary re-executed with
//! `SOC_TUI_BENCH_MODE=ingest`) so its peak RSS (`VmHWM`) is its own.
//! Targets are informational: the run exits 0 whatever they show.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use serde_json::{Value, json};
use soc_tui::ingest::ingest_path;
use soc_tui::model::AuditEvent;
use soc_tui::sources::raw::parse_entry;
use soc_tui::store::Store;
use soc_tui::synth::{Generator, Params, Volume, write_generator};

const MODE_VAR: &str = "SOC_TUI_BENCH_MODE";
const FILE_VAR: &str = "SOC_TUI_BENCH_CHILD_FILE";
const DB_VAR: &str = "SOC_TUI_BENCH_CHILD_DB";
const BATCH: usize = 10_000;

const TARGET_RATIO: f64 = 2.5;
const TARGET_WRITE_EPS: f64 = 300_000.0;
const TARGET_RSS_MB: f64 = 250.0;

fn main() -> Result<()> {
    if std::env::var(MODE_VAR).as_deref() == Ok("ingest") {
        return child_ingest();
    }
    let config = Config::from_env()?;
    let keep_dir = std::env::var_os("SOC_TUI_BENCH_DIR").map(PathBuf::from);
    let temp = tempfile::tempdir().context("creating a temp dir")?;
    let dir = match &keep_dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
            d.clone()
        }
        None => temp.path().to_path_buf(),
    };
    run(&config, &dir)
}

struct Config {
    events: u64,
    seed: u64,
    actors: u32,
    days: u32,
}

impl Config {
    fn from_env() -> Result<Config> {
        let number = |name: &str, default: u64| -> Result<u64> {
            match std::env::var(name) {
                Ok(v) => v
                    .replace('_', "")
                    .parse()
                    .with_context(|| format!("{name}={v:?} is not a whole number")),
                Err(_) => Ok(default),
            }
        };
        // `cargo bench` passes `--bench`; a bare number argument sets the event count.
        let from_arg = std::env::args()
            .skip(1)
            .find(|a| !a.starts_with('-'))
            .map(|a| {
                a.replace('_', "")
                    .parse::<u64>()
                    .with_context(|| format!("argument {a:?} is not an event count"))
            })
            .transpose()?;
        Ok(Config {
            events: match from_arg {
                Some(n) => n,
                None => number("SOC_TUI_BENCH_EVENTS", 1_000_000)?,
            },
            seed: number("SOC_TUI_BENCH_SEED", 1)?,
            actors: u32::try_from(number("SOC_TUI_BENCH_ACTORS", 2_000)?)
                .context("SOC_TUI_BENCH_ACTORS is too large")?,
            days: u32::try_from(number("SOC_TUI_BENCH_DAYS", 30)?)
                .context("SOC_TUI_BENCH_DAYS is too large")?,
        })
    }
}

/// What one timed pass did.
#[derive(Default)]
struct Pass {
    events: u64,
    bytes: u64,
    elapsed: Duration,
    /// CPU time (user + system, all threads) spent in the pass. On a busy
    /// machine wall time includes waiting for a core; this does not.
    cpu: Duration,
}

impl Pass {
    fn eps(&self) -> f64 {
        self.events as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
    fn mbps(&self) -> f64 {
        self.bytes as f64 / 1e6 / self.elapsed.as_secs_f64().max(1e-9)
    }
    fn eps_cpu(&self) -> f64 {
        self.events as f64 / self.cpu.as_secs_f64().max(1e-9)
    }
}

/// Wall and CPU time since `start`.
struct Stopwatch {
    wall: Instant,
    cpu: Duration,
}

impl Stopwatch {
    fn start() -> Stopwatch {
        Stopwatch {
            wall: Instant::now(),
            cpu: process_cpu_time(),
        }
    }

    fn stop(&self) -> (Duration, Duration) {
        (
            self.wall.elapsed(),
            process_cpu_time().saturating_sub(self.cpu),
        )
    }
}

/// User + system CPU time of this process so far, threads that already
/// exited included (`/proc/self/stat` utime + stime, in USER_HZ = 100 ticks
/// per second on Linux). Zero where unavailable.
fn process_cpu_time() -> Duration {
    let ticks = std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|stat| {
            // Fields after the command name, which is in parentheses and may hold spaces.
            let rest = &stat[stat.rfind(')')? + 1..];
            let fields: Vec<&str> = rest.split_whitespace().collect();
            let utime: u64 = fields.get(11)?.parse().ok()?;
            let stime: u64 = fields.get(12)?.parse().ok()?;
            Some(utime + stime)
        })
        .unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

/// The 1-minute load average, to tell a quiet machine from a busy one.
fn load_average() -> Option<f64> {
    std::fs::read_to_string("/proc/loadavg")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn run(config: &Config, dir: &Path) -> Result<()> {
    let file = dir.join("events.ndjson");
    println!(
        "ingest bench: {} events, {} actors x {} days, seed {}, files in {}",
        config.events,
        config.actors,
        config.days,
        config.seed,
        dir.display()
    );

    // Generate.
    let params = Params::new(
        config.seed,
        config.actors,
        config.days,
        Volume::Total(config.events),
    );
    let generator = Generator::new(params).context("configuring the generator")?;
    let load_before = load_average();
    let clock = Stopwatch::start();
    let out = File::create(&file).with_context(|| format!("creating {}", file.display()))?;
    let stats = write_generator(BufWriter::with_capacity(1 << 20, out), &generator)
        .context("writing the NDJSON file")?;
    let (elapsed, cpu) = clock.stop();
    let generation = Pass {
        events: stats.events,
        bytes: stats.bytes,
        elapsed,
        cpu,
    };
    println!(
        "generated {} lines, {:.1} MB (cf v2 {}, cf v1 {}, datadog {}; line {}..{} bytes)",
        stats.events,
        stats.bytes as f64 / 1e6,
        stats.cloudflare_v2,
        stats.cloudflare_v1,
        stats.datadog,
        stats.shortest_line,
        stats.longest_line
    );

    // (a) Parse floor.
    let floor = parse_floor(&file)?;

    // (b) + (d) + (e) Full ingest into a fresh file store, in a child process.
    let db = dir.join("store.db");
    remove_store(&db)?;
    let ingest = run_child(&file, &db)?;
    if ingest.new != stats.events || ingest.rejected_total > 0 {
        println!(
            "WARNING: ingest stored {} new of {} lines; {} rejected, first: {}",
            ingest.new,
            stats.events,
            ingest.rejected_total,
            ingest.rejected.first().map_or("-", String::as_str)
        );
    }
    let (db_bytes, wal_bytes) = store_size(&db);

    // (f) Re-ingest the same file: all duplicates.
    let reingest = run_child(&file, &db)?;

    // (c) Store write path alone, on pre-parsed batches.
    let write_db = dir.join("write-path.db");
    remove_store(&write_db)?;
    let write = write_path(&file, &write_db)?;

    report(&Report {
        config,
        load: (load_before, load_average()),
        generation,
        floor,
        ingest,
        reingest,
        write,
        db_bytes,
        wal_bytes,
    });
    Ok(())
}

fn parse_floor(file: &Path) -> Result<Pass> {
    let clock = Stopwatch::start();
    let mut reader = BufReader::with_capacity(1 << 20, open(file)?);
    let mut line = Vec::with_capacity(4096);
    let (mut events, mut bytes) = (0u64, 0u64);
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        bytes += n as u64;
        let value: Value = serde_json::from_slice(&line)
            .with_context(|| format!("line {} is not JSON", events + 1))?;
        std::hint::black_box(&value);
        events += 1;
    }
    let (elapsed, cpu) = clock.stop();
    Ok(Pass {
        events,
        bytes,
        elapsed,
        cpu,
    })
}

/// What the child reports about one `ingest_path` run.
struct ChildResult {
    read: u64,
    new: u64,
    duplicate: u64,
    rejected_total: u64,
    rejected: Vec<String>,
    bytes: u64,
    elapsed: Duration,
    cpu: Duration,
    peak_rss_kb: Option<u64>,
    events_in_store: u64,
}

fn run_child(file: &Path, db: &Path) -> Result<ChildResult> {
    let exe = std::env::current_exe().context("locating the bench binary")?;
    let output = Command::new(exe)
        .env(MODE_VAR, "ingest")
        .env(FILE_VAR, file)
        .env(DB_VAR, db)
        .output()
        .context("running the ingest child")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "ingest child failed ({}): {}{}",
            output.status,
            stdout,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let line = stdout
        .lines()
        .rev()
        .find(|l| l.starts_with('{'))
        .with_context(|| format!("ingest child printed no result: {stdout}"))?;
    let v: Value = serde_json::from_str(line).context("reading the child's result")?;
    let n = |k: &str| v[k].as_u64().unwrap_or(0);
    Ok(ChildResult {
        read: n("read"),
        new: n("new"),
        duplicate: n("duplicate"),
        rejected_total: n("rejected_total"),
        rejected: v["rejected"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|r| r.as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default(),
        bytes: n("bytes"),
        elapsed: Duration::from_secs_f64(v["seconds"].as_f64().unwrap_or(0.0)),
        cpu: Duration::from_secs_f64(v["cpu_seconds"].as_f64().unwrap_or(0.0)),
        peak_rss_kb: v["vm_hwm_kb"].as_u64(),
        events_in_store: n("events_in_store"),
    })
}

/// Child mode: one `ingest_path` into the store, then a JSON line on stdout.
fn child_ingest() -> Result<()> {
    let file = PathBuf::from(std::env::var_os(FILE_VAR).context("child: no input file given")?);
    let db = PathBuf::from(std::env::var_os(DB_VAR).context("child: no store path given")?);
    // Timed from opening the store to closing it (WAL checkpoint included),
    // as a real `soc-tui ingest` run pays both.
    let clock = Stopwatch::start();
    let summary = {
        let mut store =
            Store::open(&db).with_context(|| format!("opening store {}", db.display()))?;
        ingest_path(&mut store, &file, &|_| {})
            .with_context(|| format!("ingesting {}", file.display()))?
    };
    let (elapsed, cpu) = clock.stop();
    let events_in_store = Store::open(&db)
        .with_context(|| format!("reopening store {}", db.display()))?
        .event_count()?;
    let rejected: Vec<String> = summary
        .rejected
        .iter()
        .take(5)
        .map(|r| format!("{} {}: {}", r.file, r.position, r.reason))
        .collect();
    let result = json!({
        "read": summary.read,
        "new": summary.new,
        "duplicate": summary.duplicate,
        "rejected_total": summary.rejected_total,
        "rejected": rejected,
        "bytes": summary.bytes,
        "seconds": elapsed.as_secs_f64(),
        "cpu_seconds": cpu.as_secs_f64(),
        "events_in_store": events_in_store,
        "vm_hwm_kb": peak_rss_kb(),
    });
    println!("{result}");
    Ok(())
}

/// Peak resident set size of this process (`VmHWM`, Linux only).
fn peak_rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
}

fn write_path(file: &Path, db: &Path) -> Result<Pass> {
    let mut store = Store::open(db).with_context(|| format!("opening store {}", db.display()))?;
    let mut lines = BufReader::with_capacity(1 << 20, open(file)?)
        .lines()
        .enumerate();
    let mut batch: Vec<AuditEvent> = Vec::with_capacity(BATCH);
    let mut pass = Pass::default();
    loop {
        // Parsing is not timed: only the insert of a ready batch is.
        batch.clear();
        for (i, line) in lines.by_ref().take(BATCH) {
            let line = line?;
            pass.bytes += line.len() as u64 + 1;
            batch.push(parse_entry(&line).map_err(|e| anyhow::anyhow!("line {}: {e}", i + 1))?);
        }
        if batch.is_empty() {
            return Ok(pass);
        }
        let clock = Stopwatch::start();
        let summary = store.insert_events(&batch)?;
        let (elapsed, cpu) = clock.stop();
        pass.elapsed += elapsed;
        pass.cpu += cpu;
        pass.events += summary.new;
    }
}

fn open(path: &Path) -> Result<File> {
    File::open(path).with_context(|| format!("opening {}", path.display()))
}

fn wal_path(db: &Path) -> PathBuf {
    let mut name = db.as_os_str().to_owned();
    name.push("-wal");
    PathBuf::from(name)
}

fn remove_store(db: &Path) -> Result<()> {
    for path in [db.to_path_buf(), wal_path(db), {
        let mut name = db.as_os_str().to_owned();
        name.push("-shm");
        PathBuf::from(name)
    }] {
        match std::fs::remove_file(&path) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing {}", path.display())),
        }
    }
    Ok(())
}

fn store_size(db: &Path) -> (u64, u64) {
    let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
    (size(db), size(&wal_path(db)))
}

struct Report<'a> {
    config: &'a Config,
    load: (Option<f64>, Option<f64>),
    generation: Pass,
    floor: Pass,
    ingest: ChildResult,
    reingest: ChildResult,
    write: Pass,
    db_bytes: u64,
    wal_bytes: u64,
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "FAIL" }
}

fn report(r: &Report<'_>) {
    let ingest = Pass {
        events: r.ingest.read,
        bytes: r.ingest.bytes,
        elapsed: r.ingest.elapsed,
        cpu: r.ingest.cpu,
    };
    let reingest = Pass {
        events: r.reingest.read,
        bytes: r.reingest.bytes,
        elapsed: r.reingest.elapsed,
        cpu: r.reingest.cpu,
    };
    let ratio = ingest.elapsed.as_secs_f64() / r.floor.elapsed.as_secs_f64().max(1e-9);
    let cpu_ratio = ingest.cpu.as_secs_f64() / r.floor.cpu.as_secs_f64().max(1e-9);
    let rss_mb = r.ingest.peak_rss_kb.map(|kb| kb as f64 / 1024.0);
    let store_bytes = r.db_bytes + r.wal_bytes;
    let per_event = store_bytes as f64 / r.ingest.events_in_store.max(1) as f64;
    let input_per_event = r.floor.bytes as f64 / r.floor.events.max(1) as f64;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let show = |load: Option<f64>| load.map_or("?".to_string(), |l| format!("{l:.1}"));

    println!();
    println!(
        "{:<35} {:>9} {:>8} {:>8} {:>10} {:>7} {:>10}  target (wall)",
        "phase", "events", "wall s", "cpu s", "events/s", "MB/s", "ev/cpu-s"
    );
    let row = |name: &str, p: &Pass, target: String| {
        println!(
            "{:<35} {:>9} {:>8.2} {:>8.2} {:>10.0} {:>7.1} {:>10.0}  {}",
            name,
            p.events,
            p.elapsed.as_secs_f64(),
            p.cpu.as_secs_f64(),
            p.eps(),
            p.mbps(),
            p.eps_cpu(),
            target
        );
    };
    row("generate NDJSON (synth)", &r.generation, String::new());
    row(
        "(a) parse floor (serde_json Value)",
        &r.floor,
        String::new(),
    );
    row(
        "(b) full ingest (ingest_path)",
        &ingest,
        format!(
            "{ratio:.2}x floor (<= {TARGET_RATIO}x) {}; by cpu {cpu_ratio:.2}x",
            verdict(ratio <= TARGET_RATIO)
        ),
    );
    row(
        "(c) store write path (insert 10k)",
        &r.write,
        format!(
            ">= {TARGET_WRITE_EPS:.0}/s {}",
            verdict(r.write.eps() >= TARGET_WRITE_EPS)
        ),
    );
    row(
        "(f) re-ingest (all duplicates)",
        &reingest,
        format!(
            "{} duplicates, {} new",
            r.reingest.duplicate, r.reingest.new
        ),
    );
    println!();
    match rss_mb {
        Some(mb) => println!(
            "(d) peak RSS of full ingest: {mb:.1} MB (< {TARGET_RSS_MB} MB) {}",
            verdict(mb < TARGET_RSS_MB)
        ),
        None => println!("(d) peak RSS of full ingest: unavailable (no /proc/self/status)"),
    }
    println!(
        "(e) store on disk: {:.1} MB (db {:.1} MB + wal {:.1} MB) = {:.0} bytes/event (input {:.0} bytes/event), {} events in store",
        store_bytes as f64 / 1e6,
        r.db_bytes as f64 / 1e6,
        r.wal_bytes as f64 / 1e6,
        per_event,
        input_per_event,
        r.ingest.events_in_store
    );
    println!(
        "load average {} -> {} on {cores} cores{}",
        show(r.load.0),
        show(r.load.1),
        if [r.load.0, r.load.1]
            .into_iter()
            .flatten()
            .any(|l| l > cores as f64)
        {
            ": the machine was busy, wall times include waiting for a core"
        } else {
            ""
        }
    );

    let summary = json!({
        "events": r.config.events,
        "actors": r.config.actors,
        "days": r.config.days,
        "seed": r.config.seed,
        "input_mb": round1(r.floor.bytes as f64 / 1e6),
        "floor_eps": r.floor.eps().round(),
        "floor_mbps": round1(r.floor.mbps()),
        "floor_cpu_s": round2(r.floor.cpu.as_secs_f64()),
        "ingest_eps": ingest.eps().round(),
        "ingest_mbps": round1(ingest.mbps()),
        "ingest_cpu_s": round2(ingest.cpu.as_secs_f64()),
        "ingest_vs_floor": round2(ratio),
        "ingest_vs_floor_cpu": round2(cpu_ratio),
        "ingest_vs_floor_pass": ratio <= TARGET_RATIO,
        "write_eps": r.write.eps().round(),
        "write_eps_cpu": r.write.eps_cpu().round(),
        "write_pass": r.write.eps() >= TARGET_WRITE_EPS,
        "reingest_eps": reingest.eps().round(),
        "reingest_duplicates": r.reingest.duplicate,
        "peak_rss_mb": rss_mb.map(round1),
        "peak_rss_pass": rss_mb.map(|mb| mb < TARGET_RSS_MB),
        "store_bytes_per_event": per_event.round(),
        "input_bytes_per_event": input_per_event.round(),
        "load_avg": [r.load.0, r.load.1],
        "cores": cores,
    });
    println!();
    println!("summary {summary}");
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn round1(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}
