//! NDJSON output: one entry per line, with what was written.

use std::io::Write;

use chrono::{DateTime, Utc};

use super::{Generator, Params, PlantedAnomaly, Shape, SynthError};

/// What [`write_ndjson`] wrote.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteStats {
    pub events: u64,
    /// Bytes written, newlines included.
    pub bytes: u64,
    pub cloudflare_v2: u64,
    pub cloudflare_v1: u64,
    pub datadog: u64,
    pub shortest_line: usize,
    pub longest_line: usize,
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
    pub planted: Vec<PlantedAnomaly>,
}

/// Generates `params` and writes one entry per line to `writer`.
pub fn write_ndjson<W: Write>(writer: W, params: Params) -> Result<WriteStats, SynthError> {
    let generator = Generator::new(params)?;
    write_generator(writer, &generator)
}

/// As [`write_ndjson`] for an existing generator (keeps its actors and planted ids at hand).
pub fn write_generator<W: Write>(
    mut writer: W,
    generator: &Generator,
) -> Result<WriteStats, SynthError> {
    let mut stats = WriteStats {
        shortest_line: usize::MAX,
        planted: generator.planted().to_vec(),
        ..WriteStats::default()
    };
    for event in generator.events() {
        writer.write_all(event.raw.as_bytes())?;
        writer.write_all(b"\n")?;
        stats.events += 1;
        stats.bytes += event.raw.len() as u64 + 1;
        stats.shortest_line = stats.shortest_line.min(event.raw.len());
        stats.longest_line = stats.longest_line.max(event.raw.len());
        match event.shape {
            Shape::CloudflareV2 => stats.cloudflare_v2 += 1,
            Shape::CloudflareV1 => stats.cloudflare_v1 += 1,
            Shape::Datadog => stats.datadog += 1,
        }
        stats.first.get_or_insert(event.time);
        stats.last = Some(event.time);
    }
    if stats.events == 0 {
        stats.shortest_line = 0;
    }
    writer.flush()?;
    Ok(stats)
}
