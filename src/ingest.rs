//! `soc-tui ingest`: load raw audit data files into the store.
//!
//! NDJSON is streamed: one thread parses lines into batches while the caller's
//! thread writes them, so a large file costs about max(parse, write), never
//! the sum, and memory stays bounded by a few batches. A JSON document (an API
//! page or an array) is read whole, since it has to be parsed whole anyway.

use std::fs::File;
use std::io::{self, BufRead, BufReader, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Instant;

use anyhow::{Context, Result, anyhow};
use clap::Args;
use serde::Serialize;

use crate::config::Config;
use crate::model::AuditEvent;
use crate::paths::Paths;
use crate::sanitize::sanitize;
use crate::sources::action_kinds::ActionKindMap;
use crate::sources::raw::{self, Format, Rejection};
use crate::store::Store;

/// Events per store transaction: large enough to amortize the commit,
/// small enough to keep memory flat.
const BATCH: usize = 8192;
/// Batches the parser may run ahead of the writer.
const PIPELINE_DEPTH: usize = 4;
/// Rejections kept with their reasons; beyond this only the count grows,
/// so a hostile file cannot exhaust memory through its errors.
const MAX_KEPT_REJECTIONS: usize = 1000;
/// How much of a file the format sniffer looks at.
const SNIFF_BYTES: usize = 64 * 1024;

#[derive(Debug, Args)]
#[command(after_help = "\
Formats are detected per file: a Cloudflare v2 `/logs/audit` or v1 `/audit_logs` response page, a Datadog
`/api/v2/audit/events` page, a JSON array of entries, or NDJSON (one entry per line), from either source.
Re-ingesting events already in the store changes nothing (they count as duplicates).

Exit status: 0 when every entry loaded or was a duplicate, 3 when some entries were rejected (the rest
loaded), 1 on an error that stopped a file (unreadable file, JSON syntax error; nothing from that JSON
document is stored).")]
pub struct IngestArgs {
    /// Files to load; `-` reads standard input.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,

    /// Print the summary as JSON on stdout.
    #[arg(long)]
    pub json: bool,

    /// How many rejected entries to list with their reasons (all are counted).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub show_rejected: usize,
}

/// One skipped entry and where it was.
#[derive(Debug, Clone, Serialize)]
pub struct FileRejection {
    pub file: String,
    pub position: String,
    pub reason: String,
}

/// What an ingest did. Counts are of entries, `bytes` of input read.
#[derive(Debug, Default, Clone, Serialize)]
pub struct IngestSummary {
    pub files: u64,
    pub read: u64,
    pub new: u64,
    pub duplicate: u64,
    /// All rejections, including those beyond `rejected`'s cap.
    pub rejected_total: u64,
    /// The first rejections with their reasons.
    pub rejected: Vec<FileRejection>,
    pub bytes: u64,
}

impl IngestSummary {
    fn absorb(&mut self, other: IngestSummary) {
        self.files += other.files;
        self.read += other.read;
        self.new += other.new;
        self.duplicate += other.duplicate;
        self.rejected_total += other.rejected_total;
        self.bytes += other.bytes;
        for r in other.rejected {
            self.keep_rejection(r);
        }
    }

    fn keep_rejection(&mut self, r: FileRejection) {
        if self.rejected.len() < MAX_KEPT_REJECTIONS {
            self.rejected.push(r);
        }
    }

    fn reject(&mut self, file: &str, rejection: Rejection) {
        self.read += 1;
        self.rejected_total += 1;
        self.keep_rejection(FileRejection {
            file: file.to_string(),
            position: rejection.position,
            reason: rejection.reason,
        });
    }
}

/// Loads one file (or stdin for `-`) into `store`. `progress` is called with
/// the number of input bytes consumed so far. Kinds follow the built-in
/// action vocabulary; [`ingest_path_with`] takes the configured one.
pub fn ingest_path(
    store: &mut Store,
    path: &Path,
    progress: &dyn Fn(u64),
) -> Result<IngestSummary> {
    ingest_path_with(store, path, &ActionKindMap::builtin(), progress)
}

/// [`ingest_path`] with the action vocabulary `kinds` (`[*.action_kinds]`).
pub fn ingest_path_with(
    store: &mut Store,
    path: &Path,
    kinds: &ActionKindMap,
    progress: &dyn Fn(u64),
) -> Result<IngestSummary> {
    let name = input_name(path);
    if is_stdin(path) {
        return ingest_reader_with(store, io::stdin(), &name, kinds, progress);
    }
    let file = File::open(path).with_context(|| format!("{name}: cannot open"))?;
    ingest_reader_with(store, file, &name, kinds, progress)
}

fn is_stdin(path: &Path) -> bool {
    path == Path::new("-")
}

/// How an input is named in messages.
fn input_name(path: &Path) -> String {
    if is_stdin(path) {
        "<stdin>".to_string()
    } else {
        path.display().to_string()
    }
}

/// Loads a stream of raw audit data named `name` (for messages) into
/// `store`, with the built-in action vocabulary.
pub fn ingest_reader(
    store: &mut Store,
    reader: impl Read + Send,
    name: &str,
    progress: &dyn Fn(u64),
) -> Result<IngestSummary> {
    ingest_reader_with(store, reader, name, &ActionKindMap::builtin(), progress)
}

/// [`ingest_reader`] with the action vocabulary `kinds`.
pub fn ingest_reader_with(
    store: &mut Store,
    reader: impl Read + Send,
    name: &str,
    kinds: &ActionKindMap,
    progress: &dyn Fn(u64),
) -> Result<IngestSummary> {
    let mut reader = BufReader::with_capacity(1 << 20, reader);
    let format = sniff(&mut reader).with_context(|| format!("{name}: cannot read"))?;
    let mut summary = match format {
        Format::Ndjson => ingest_ndjson(store, reader, name, kinds, progress)?,
        Format::Json => ingest_document(store, reader, name, kinds, progress)?,
    };
    summary.files = 1;
    tracing::info!(
        file = %sanitize(name),
        read = summary.read,
        new = summary.new,
        duplicate = summary.duplicate,
        rejected = summary.rejected_total,
        "ingested"
    );
    Ok(summary)
}

fn sniff(reader: &mut BufReader<impl Read>) -> io::Result<Format> {
    // Peek without consuming: the first buffer fill is enough to tell a JSON
    // document from NDJSON (a whole first line, or the start of a document).
    let buf = reader.fill_buf()?;
    Ok(raw::sniff(&buf[..buf.len().min(SNIFF_BYTES)]))
}

fn ingest_document(
    store: &mut Store,
    mut reader: BufReader<impl Read>,
    name: &str,
    kinds: &ActionKindMap,
    progress: &dyn Fn(u64),
) -> Result<IngestSummary> {
    let mut bytes = Vec::new();
    reader
        .read_to_end(&mut bytes)
        .with_context(|| format!("{name}: cannot read"))?;
    progress(bytes.len() as u64);
    let mut parsed = raw::parse_document(&bytes).map_err(|e| anyhow!("{name}: {e}"))?;
    kinds.apply_all(&mut parsed.events);
    let mut summary = IngestSummary {
        bytes: bytes.len() as u64,
        ..IngestSummary::default()
    };
    drop(bytes);
    for rejection in parsed.rejected {
        summary.reject(name, rejection);
    }
    for batch in parsed.events.chunks(BATCH) {
        write_batch(store, batch, name, &mut summary)?;
    }
    Ok(summary)
}

/// A unit of work from the NDJSON parser thread to the writer.
struct ParsedBatch {
    events: Vec<AuditEvent>,
    rejected: Vec<Rejection>,
    bytes_consumed: u64,
}

fn ingest_ndjson(
    store: &mut Store,
    reader: BufReader<impl Read + Send>,
    name: &str,
    kinds: &ActionKindMap,
    progress: &dyn Fn(u64),
) -> Result<IngestSummary> {
    let (tx, rx) = mpsc::sync_channel::<io::Result<ParsedBatch>>(PIPELINE_DEPTH);
    let mut summary = IngestSummary::default();
    std::thread::scope(|scope| -> Result<()> {
        scope.spawn(move || parse_ndjson_batches(reader, kinds, tx));
        for message in rx {
            let batch = message.with_context(|| format!("{name}: read error"))?;
            summary.bytes = batch.bytes_consumed;
            for rejection in batch.rejected {
                summary.reject(name, rejection);
            }
            write_batch(store, &batch.events, name, &mut summary)?;
            progress(summary.bytes);
        }
        Ok(())
    })?;
    Ok(summary)
}

/// Runs on the parser thread: reads lines, parses them, sends batches.
/// Stops quietly when the writer hangs up (it failed and reported why).
fn parse_ndjson_batches(
    mut reader: BufReader<impl Read>,
    kinds: &ActionKindMap,
    tx: mpsc::SyncSender<io::Result<ParsedBatch>>,
) {
    let mut line = Vec::with_capacity(4096);
    let mut line_no = 0usize;
    let mut consumed = 0u64;
    let mut batch = ParsedBatch {
        events: Vec::with_capacity(BATCH),
        rejected: Vec::new(),
        bytes_consumed: 0,
    };
    loop {
        line.clear();
        let n = match reader.read_until(b'\n', &mut line) {
            Ok(n) => n,
            Err(err) => {
                let _ = tx.send(Err(err));
                return;
            }
        };
        if n == 0 {
            break;
        }
        line_no += 1;
        consumed += n as u64;
        match raw::parse_ndjson_line(&line, line_no) {
            Ok(Some(mut event)) => {
                kinds.apply(&mut event);
                batch.events.push(event);
            }
            Ok(None) => {}
            Err(rejection) => batch.rejected.push(rejection),
        }
        if batch.events.len() + batch.rejected.len() >= BATCH {
            batch.bytes_consumed = consumed;
            let full = std::mem::replace(
                &mut batch,
                ParsedBatch {
                    events: Vec::with_capacity(BATCH),
                    rejected: Vec::new(),
                    bytes_consumed: 0,
                },
            );
            if tx.send(Ok(full)).is_err() {
                return;
            }
        }
    }
    batch.bytes_consumed = consumed;
    let _ = tx.send(Ok(batch));
}

fn write_batch(
    store: &mut Store,
    events: &[AuditEvent],
    name: &str,
    summary: &mut IngestSummary,
) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let stored = store
        .insert_events(events)
        .with_context(|| format!("{name}: writing to the store"))?;
    summary.read += events.len() as u64;
    summary.new += stored.new;
    summary.duplicate += stored.duplicate;
    Ok(())
}

/// The CLI command.
pub fn run(args: IngestArgs, paths: &Paths) -> Result<ExitCode> {
    let stdin_uses = args.files.iter().filter(|p| is_stdin(p)).count();
    if stdin_uses > 1 {
        anyhow::bail!("`-` (standard input) can be given only once");
    }
    // Only the action vocabulary is read from the config, but a config that
    // does not load is reported rather than ingested around.
    let kinds = ActionKindMap::from_config(&Config::load_or_default(&paths.config_file)?);
    paths.ensure_data_dir()?;
    let store_path = paths.store_file();
    let mut store = Store::open(&store_path)
        .with_context(|| format!("opening the store {}", store_path.display()))?;

    let started = Instant::now();
    let mut total = IngestSummary::default();
    let mut failed = Vec::new();
    for path in &args.files {
        let bar = progress_bar(path);
        let result = ingest_path_with(&mut store, path, &kinds, &|bytes| {
            if let Some(bar) = &bar {
                bar.set_position(bytes);
            }
        });
        if let Some(bar) = bar {
            bar.finish_and_clear();
        }
        match result {
            Ok(summary) => {
                if !args.json {
                    print_file_line(path, &summary);
                }
                total.absorb(summary);
            }
            Err(err) => {
                let message = sanitize(&format!("{err:#}")).into_owned();
                eprintln!("error: {message}");
                failed.push(message);
            }
        }
    }
    let elapsed = started.elapsed();

    if args.json {
        let report = serde_json::json!({
            "summary": total,
            "failed_files": failed,
            "store": store_path,
            "seconds": elapsed.as_secs_f64(),
        });
        println!("{}", crate::terminal_json::to_terminal_json(&report)?);
    } else {
        print_total(
            &total,
            &store_path,
            elapsed.as_secs_f64(),
            args.show_rejected,
        );
    }

    Ok(if !failed.is_empty() {
        ExitCode::FAILURE
    } else if total.rejected_total > 0 {
        ExitCode::from(3)
    } else {
        ExitCode::SUCCESS
    })
}

fn progress_bar(path: &Path) -> Option<indicatif::ProgressBar> {
    if !io::stderr().is_terminal() {
        return None;
    }
    let len = std::fs::metadata(path)
        .ok()
        .filter(|m| m.is_file())
        .map(|m| m.len());
    let bar = match len {
        Some(len) => indicatif::ProgressBar::new(len),
        None => indicatif::ProgressBar::new_spinner(),
    };
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    let style = indicatif::ProgressStyle::with_template(
        "{msg} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec} eta {eta}",
    )
    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar());
    bar.set_style(style.progress_chars("=> "));
    bar.set_message(sanitize(&input_name(path)).into_owned());
    Some(bar)
}

fn print_file_line(path: &Path, s: &IngestSummary) {
    println!(
        "{}: {} read, {} new, {} duplicate, {} rejected",
        sanitize(&input_name(path)),
        s.read,
        s.new,
        s.duplicate,
        s.rejected_total
    );
}

fn print_total(total: &IngestSummary, store: &Path, seconds: f64, show: usize) {
    let rate = if seconds > 0.0 {
        total.read as f64 / seconds
    } else {
        0.0
    };
    println!(
        "total: {} file(s), {} read, {} new, {} duplicate, {} rejected; {:.1} MB in {:.2} s ({:.0} events/s) into {}",
        total.files,
        total.read,
        total.new,
        total.duplicate,
        total.rejected_total,
        total.bytes as f64 / 1e6,
        seconds,
        rate,
        store.display()
    );
    if total.rejected_total > 0 && show > 0 {
        println!("rejected:");
        for r in total.rejected.iter().take(show) {
            println!(
                "  {} {}: {}",
                sanitize(&r.file),
                sanitize(&r.position),
                sanitize(&r.reason)
            );
        }
        let listed = total.rejected.len().min(show) as u64;
        if total.rejected_total > listed {
            println!(
                "  ... and {} more (use --show-rejected N)",
                total.rejected_total - listed
            );
        }
    }
}
