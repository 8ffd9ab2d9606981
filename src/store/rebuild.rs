//! Rebuilding every derived aggregate from the events table.
//!
//! The aggregates are normally maintained on insert (`actor_hour`,
//! `actor_hour_type`, `actor_first_seen`) or folded in before each baseline
//! check (`actor_hour_change_type`). A rebuild recomputes all four from
//! `events` alone: for a store whose aggregates are suspected wrong (a file
//! restored from parts, a bug fixed in how they are counted), and as the
//! "cold" baseline in the benchmark (`benches/baseline.rs`).
//!
//! One sequential scan of `events` feeds one hash map keyed by actor and
//! hour; every table is then written from it in primary-key order. Memory
//! grows with the number of actor-hours, not events. The same in SQL
//! (`INSERT ... SELECT ... GROUP BY` over `events`) was measured first:
//! SQLite either sorts every event through a temporary B-tree or walks the
//! `(actor_key, time)` index with a row lookup per event, and the GROUP BY
//! alone took 7-10x as long as a plain scan of the table. At 1M events this
//! rebuild is about half scan (1.5 GB of rows) and half B-tree inserts
//! (~835k aggregate rows).
//!
//! For a store on disk the scan is split in two rowid halves, the upper one
//! read on a second thread through its own read-only connection, and the
//! totals merged. That reader sees exactly what the rebuild's transaction
//! sees: the transaction holds the write lock from its start, so nothing
//! commits in between, and it writes nothing until both halves are read.
//!
//! Everything happens in one IMMEDIATE transaction, the change-type fold mark
//! included: a reader sees the old aggregates or the new ones, and an insert
//! waits for the rebuild instead of being counted twice.

use std::collections::HashMap;

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior, params};

use super::baseline_data::{CHANGE_TYPES_MARK, NON_CHANGE_KINDS_SQL};
use super::{BUSY_TIMEOUT, IN_MEMORY, Result, Store, hour_floor, sql_err, to_count};

/// What a rebuild wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RebuildSummary {
    /// Events the aggregates were computed from.
    pub events: u64,
    /// Rows now in `actor_hour` (actor, hour, source).
    pub actor_hours: u64,
    /// Rows now in `actor_hour_type` (actor, hour, resource type).
    pub actor_hour_types: u64,
    /// Rows now in `actor_hour_change_type` (actor, hour, changed resource type).
    pub actor_hour_change_types: u64,
    /// Rows now in `actor_first_seen` (actor, resource type).
    pub first_seen: u64,
}

impl Store {
    /// Empties and recomputes every aggregate from `events`, in one
    /// transaction; afterwards they equal what inserting the same events
    /// would have maintained (and folded).
    pub fn rebuild_aggregates(&mut self) -> Result<RebuildSummary> {
        const OP: &str = "rebuilding the aggregates";
        let path = self.path.as_str();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(sql_err(path, OP))?;
        let newest: i64 = tx
            .query_row("SELECT coalesce(max(rowid), 0) FROM events", [], |r| {
                r.get(0)
            })
            .map_err(sql_err(path, OP))?;
        let totals = if path == IN_MEMORY {
            // A private in-memory database has no second connection.
            Totals::scan(&tx, 0, newest)
        } else {
            scan_in_halves(&tx, path, newest)
        }
        .map_err(sql_err(path, OP))?;
        let written = totals.write(&tx, newest).map_err(sql_err(path, OP))?;
        tx.commit().map_err(sql_err(path, OP))?;
        Ok(RebuildSummary {
            events: to_count(path, OP, totals.events)?,
            ..written
        })
    }
}

/// Scans rowids `(0, mid]` on `tx` while a second thread scans
/// `(mid, newest]` through its own read-only connection to `path`.
fn scan_in_halves(tx: &Transaction<'_>, path: &str, newest: i64) -> rusqlite::Result<Totals> {
    let mid = newest / 2;
    std::thread::scope(|scope| {
        let upper = scope.spawn(|| {
            let reader = Connection::open_with_flags(
                path,
                OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
            )?;
            reader.busy_timeout(BUSY_TIMEOUT)?;
            Totals::scan(&reader, mid, newest)
        });
        let mut totals = Totals::scan(tx, 0, mid)?;
        let upper = match upper.join() {
            Ok(result) => result?,
            Err(panic) => std::panic::resume_unwind(panic),
        };
        totals.merge(upper);
        Ok(totals)
    })
}

/// Names seen in the scan, each stored once; keys hold their index.
#[derive(Default)]
struct Names {
    ids: HashMap<String, u32>,
    names: Vec<String>,
}

impl Names {
    /// Allocates only for a name not seen before.
    fn id(&mut self, name: &str) -> u32 {
        if let Some(&id) = self.ids.get(name) {
            return id;
        }
        let id = u32::try_from(self.names.len()).unwrap_or(u32::MAX);
        self.names.push(name.to_string());
        self.ids.insert(name.to_string(), id);
        id
    }

    fn name(&self, id: u32) -> &str {
        &self.names[id as usize]
    }

    /// Each id's position in name order, so keys sort as integers in the
    /// order the tables' primary keys sort their text.
    fn ranks(&self) -> Vec<u32> {
        let mut order: Vec<u32> = (0..self.names.len() as u32).collect();
        order.sort_unstable_by(|&a, &b| self.name(a).cmp(self.name(b)));
        let mut ranks = vec![0; order.len()];
        for (rank, &id) in order.iter().enumerate() {
            ranks[id as usize] = rank as u32;
        }
        ranks
    }
}

/// Events of one actor in one hour. An actor-hour touches a handful of
/// sources and types, so short lists beat nested maps.
#[derive(Default)]
struct Cell {
    /// (source, events, changes)
    sources: Vec<(u32, i64, i64)>,
    /// (resource type, events, changes, earliest time)
    types: Vec<(u32, i64, i64, i64)>,
}

impl Cell {
    fn add_source(&mut self, source: u32, events: i64, changes: i64) {
        match self.sources.iter_mut().find(|s| s.0 == source) {
            Some(s) => {
                s.1 += events;
                s.2 += changes;
            }
            None => self.sources.push((source, events, changes)),
        }
    }

    fn add_type(&mut self, rtype: u32, events: i64, changes: i64, earliest: i64) {
        match self.types.iter_mut().find(|t| t.0 == rtype) {
            Some(t) => {
                t.1 += events;
                t.2 += changes;
                t.3 = t.3.min(earliest);
            }
            None => self.types.push((rtype, events, changes, earliest)),
        }
    }
}

#[derive(Default)]
struct Totals {
    events: i64,
    actors: Names,
    sources: Names,
    types: Names,
    /// (actor, hour start in unix ms)
    cells: HashMap<(u32, i64), Cell>,
}

impl Totals {
    /// One pass over the events with rowids in `(after, up_to]`, in rowid
    /// order. Empty resource types are no types, as on insert.
    fn scan(conn: &Connection, after: i64, up_to: i64) -> rusqlite::Result<Totals> {
        let mut totals = Totals::default();
        let sql = format!(
            "SELECT actor_key, time, source, kind NOT IN {NON_CHANGE_KINDS_SQL},
                    nullif(resource_type, '')
             FROM events WHERE rowid > ?1 AND rowid <= ?2"
        );
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query([after, up_to])?;
        while let Some(row) = rows.next()? {
            totals.events += 1;
            let actor = totals.actors.id(row.get_ref(0)?.as_str()?);
            let time: i64 = row.get(1)?;
            let source = totals.sources.id(row.get_ref(2)?.as_str()?);
            let change = i64::from(row.get::<_, bool>(3)?);
            let rtype = row
                .get_ref(4)?
                .as_str_or_null()?
                .map(|t| totals.types.id(t));
            let cell = totals.cells.entry((actor, hour_floor(time))).or_default();
            cell.add_source(source, 1, change);
            if let Some(rtype) = rtype {
                cell.add_type(rtype, 1, change, time);
            }
        }
        Ok(totals)
    }

    /// Adds another scan's totals, renaming its ids into this one's.
    fn merge(&mut self, other: Totals) {
        self.events += other.events;
        let remap = |mine: &mut Names, theirs: &Names| -> Vec<u32> {
            theirs.names.iter().map(|name| mine.id(name)).collect()
        };
        let actors = remap(&mut self.actors, &other.actors);
        let sources = remap(&mut self.sources, &other.sources);
        let types = remap(&mut self.types, &other.types);
        for ((actor, hour), cell) in other.cells {
            let mine = self
                .cells
                .entry((actors[actor as usize], hour))
                .or_default();
            for (source, events, changes) in cell.sources {
                mine.add_source(sources[source as usize], events, changes);
            }
            for (rtype, events, changes, earliest) in cell.types {
                mine.add_type(types[rtype as usize], events, changes, earliest);
            }
        }
    }

    /// Replaces the four tables' contents and moves the change-type fold
    /// mark past `newest`, the last event scanned. Cells go in (actor, hour)
    /// order, so each B-tree is appended to rather than split at random.
    fn write(&self, tx: &Transaction<'_>, newest: i64) -> rusqlite::Result<RebuildSummary> {
        tx.execute_batch(
            "DELETE FROM actor_hour;
             DELETE FROM actor_hour_type;
             DELETE FROM actor_hour_change_type;
             DELETE FROM actor_first_seen;",
        )?;
        let mut out = Writer::new(self, tx)?;
        let actor_rank = self.actors.ranks();
        let mut cells: Vec<(u32, i64, u32, &Cell)> = self
            .cells
            .iter()
            .map(|(&(actor, hour), cell)| (actor_rank[actor as usize], hour, actor, cell))
            .collect();
        cells.sort_unstable_by_key(|&(rank, hour, ..)| (rank, hour));
        let mut current = None;
        for (_, hour, actor, cell) in cells {
            if let Some(done) = current.filter(|&a| a != actor) {
                out.first_seen(done)?;
            }
            current = Some(actor);
            out.cell(actor, hour, cell)?;
        }
        if let Some(done) = current {
            out.first_seen(done)?;
        }
        let written = out.written;

        tx.execute(
            "UPDATE derived_marks SET rowid_done = ?2 WHERE name = ?1",
            params![CHANGE_TYPES_MARK, newest],
        )?;
        Ok(written)
    }
}

/// Writes cells one actor at a time, in primary-key order.
struct Writer<'a> {
    totals: &'a Totals,
    source_rank: Vec<u32>,
    type_rank: Vec<u32>,
    hours: rusqlite::Statement<'a>,
    hour_types: rusqlite::Statement<'a>,
    change_types: rusqlite::Statement<'a>,
    first_seens: rusqlite::Statement<'a>,
    /// The current actor's earliest time per type, indexed by type id, and
    /// the types set there.
    earliest: Vec<Option<i64>>,
    touched: Vec<u32>,
    written: RebuildSummary,
}

impl<'a> Writer<'a> {
    fn new(totals: &'a Totals, tx: &'a Transaction<'_>) -> rusqlite::Result<Writer<'a>> {
        Ok(Writer {
            totals,
            source_rank: totals.sources.ranks(),
            type_rank: totals.types.ranks(),
            hours: tx.prepare(
                "INSERT INTO actor_hour (actor_key, hour, source, events, changes)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?,
            hour_types: tx.prepare(
                "INSERT INTO actor_hour_type (actor_key, hour, resource_type, count)
                 VALUES (?1, ?2, ?3, ?4)",
            )?,
            change_types: tx.prepare(
                "INSERT INTO actor_hour_change_type (actor_key, hour, resource_type, changes)
                 VALUES (?1, ?2, ?3, ?4)",
            )?,
            first_seens: tx.prepare(
                "INSERT INTO actor_first_seen (actor_key, resource_type, first_seen)
                 VALUES (?1, ?2, ?3)",
            )?,
            earliest: vec![None; totals.types.names.len()],
            touched: Vec::new(),
            written: RebuildSummary::default(),
        })
    }

    /// One actor-hour's rows, and its types' times for `first_seen`.
    fn cell(&mut self, actor: u32, hour: i64, cell: &Cell) -> rusqlite::Result<()> {
        let t = self.totals;
        let name = t.actors.name(actor);
        let mut sources: Vec<&(u32, i64, i64)> = cell.sources.iter().collect();
        sources.sort_unstable_by_key(|s| self.source_rank[s.0 as usize]);
        for &&(source, events, changes) in &sources {
            self.hours
                .execute(params![name, hour, t.sources.name(source), events, changes])?;
            self.written.actor_hours += 1;
        }
        let mut types: Vec<&(u32, i64, i64, i64)> = cell.types.iter().collect();
        types.sort_unstable_by_key(|c| self.type_rank[c.0 as usize]);
        for &&(rtype, events, changes, time) in &types {
            let type_name = t.types.name(rtype);
            self.hour_types
                .execute(params![name, hour, type_name, events])?;
            self.written.actor_hour_types += 1;
            if changes > 0 {
                self.change_types
                    .execute(params![name, hour, type_name, changes])?;
                self.written.actor_hour_change_types += 1;
            }
            let first = &mut self.earliest[rtype as usize];
            match first {
                Some(f) => *f = (*f).min(time),
                None => {
                    *first = Some(time);
                    self.touched.push(rtype);
                }
            }
        }
        Ok(())
    }

    /// The finished actor's first-seen rows, in type order.
    fn first_seen(&mut self, actor: u32) -> rusqlite::Result<()> {
        let t = self.totals;
        let mut touched = std::mem::take(&mut self.touched);
        touched.sort_unstable_by_key(|&r| self.type_rank[r as usize]);
        for &rtype in &touched {
            if let Some(time) = self.earliest[rtype as usize].take() {
                self.first_seens.execute(params![
                    t.actors.name(actor),
                    t.types.name(rtype),
                    time
                ])?;
                self.written.first_seen += 1;
            }
        }
        touched.clear();
        self.touched = touched;
        Ok(())
    }
}
