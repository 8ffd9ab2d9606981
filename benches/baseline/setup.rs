//! Setup: the NDJSON file and the store, fed in hour ranges.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufWriter, Read, Seek, SeekFrom, Write};
use std::path::Path;

use anyhow::{Context, Result, bail};
use soc_tui::ingest::{IngestSummary, ingest_reader};
use soc_tui::store::Store;
use soc_tui::synth::{Generator, Params, Shape};

use super::HOUR_MS;

/// The generated file and where its hours start.
pub struct Generated {
    pub lines: u64,
    pub bytes: u64,
    /// Cloudflare v2, Cloudflare v1, Datadog.
    pub shapes: [u64; 3],
    pub end_ms: i64,
    /// Hour start -> (lines, byte offset of its first line). Lines come in
    /// time order, so an hour is one contiguous byte range.
    pub hours: BTreeMap<i64, (u64, u64)>,
}

pub struct CheckedHour {
    pub start_ms: i64,
    pub lines: u64,
    pub first_offset: u64,
    pub end_offset: u64,
}

impl Generated {
    /// The hour with the most events among the window's last 24.
    pub fn busiest_recent_hour(&self) -> Result<CheckedHour> {
        let from = self.end_ms - 24 * HOUR_MS;
        let (&start_ms, &(lines, first_offset)) = self
            .hours
            .range(from..)
            .max_by_key(|&(&start, &(lines, _))| (lines, start))
            .context("no events in the window's last day")?;
        let end_offset = self
            .hours
            .range(start_ms + 1..)
            .next()
            .map_or(self.bytes, |(_, &(_, offset))| offset);
        Ok(CheckedHour {
            start_ms,
            lines,
            first_offset,
            end_offset,
        })
    }
}

pub fn generate(params: &Params, file: &Path) -> Result<Generated> {
    let generator = Generator::new(params.clone()).context("configuring the generator")?;
    let out = File::create(file).with_context(|| format!("creating {}", file.display()))?;
    let mut out = BufWriter::with_capacity(1 << 20, out);
    let mut generated = Generated {
        lines: 0,
        bytes: 0,
        shapes: [0; 3],
        end_ms: generator.end().timestamp_millis(),
        hours: BTreeMap::new(),
    };
    let mut last_ms = i64::MIN;
    for event in generator.events() {
        let ms = event.time.timestamp_millis();
        if ms < last_ms {
            bail!(
                "the generator's events are not in time order at line {}",
                generated.lines + 1
            );
        }
        last_ms = ms;
        let hour = generated
            .hours
            .entry(ms.div_euclid(HOUR_MS) * HOUR_MS)
            .or_insert((0, generated.bytes));
        hour.0 += 1;
        out.write_all(event.raw.as_bytes())?;
        out.write_all(b"\n")?;
        generated.lines += 1;
        generated.bytes += event.raw.len() as u64 + 1;
        generated.shapes[match event.shape {
            Shape::CloudflareV2 => 0,
            Shape::CloudflareV1 => 1,
            Shape::Datadog => 2,
        }] += 1;
    }
    out.flush()
        .with_context(|| format!("writing {}", file.display()))?;
    Ok(generated)
}

/// The ingest summaries of the three ranges, added up.
#[derive(Default)]
pub struct Ingested {
    pub read: u64,
    pub new: u64,
    pub duplicate: u64,
    pub rejected_total: u64,
    pub first_rejection: Option<String>,
}

impl Ingested {
    pub fn add(&mut self, s: IngestSummary) {
        self.read += s.read;
        self.new += s.new;
        self.duplicate += s.duplicate;
        self.rejected_total += s.rejected_total;
        if self.first_rejection.is_none() {
            self.first_rejection = s
                .rejected
                .first()
                .map(|r| format!("{} {}: {}", r.file, r.position, r.reason));
        }
    }
}

/// Ingests bytes `[from, to)` of the file, which start and end at line starts.
pub fn ingest_range(
    store: &mut Store,
    file: &Path,
    from: u64,
    to: u64,
    name: &str,
) -> Result<IngestSummary> {
    let mut input = File::open(file).with_context(|| format!("opening {}", file.display()))?;
    input.seek(SeekFrom::Start(from))?;
    ingest_reader(store, input.take(to - from), name, &|_| {})
}

pub fn remove_store(db: &Path) -> Result<()> {
    for suffix in ["", "-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        match std::fs::remove_file(&name) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("removing {}", db.display())),
        }
    }
    Ok(())
}
