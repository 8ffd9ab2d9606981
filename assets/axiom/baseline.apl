// soc-tui: the hourly baseline query (Axiom APL). ONE query per baseline check.
//
// Lines starting with `//` are stripped before the query is sent. The
// placeholders below are filled by src/detect/baseline/axiom/apl.rs, each
// from a typed value that soc-tui renders itself; no audit-log text is ever
// written into this query:
//
//   {{dataset}}         ['<name>']: the configured dataset, validated to
//                       letters, digits, `_`, `-`, `.` and quoted as an APL
//                       string (backslash and quote escaped all the same).
//   {{lookback_start}}  datetime(...): window_start - window_days.
//   {{window_start}}    datetime(...): hour_start - window_days.
//   {{hour_start}}      datetime(...): start of the checked hour (UTC).
//   {{hour_end}}        datetime(...): hour_start + 1h.
//   {{max_rows}}        the row cap; a result of exactly this many rows is
//                       treated as truncated and the check fails.
//
// Actors are attacker-controlled strings, so no actor is ever named here:
// the query returns every actor of the window and soc-tui picks what it
// needs from the result, where actor strings are data, never APL text.
//
// Input: the rows `ingest_hour` ships (one per audit event): _time, source,
// id, actor_key, kind, is_change, resource_type, ... An event without a
// resource type has no `resource_type` field; until some event has one the
// dataset lacks the field, hence `column_ifexists`. "" means "no type".
//
// Output: one row per (actor_key, bucket):
//   bucket      an hour in [window_start, hour_end) in which the actor made
//               changes, or lookback_start for the one row per actor that
//               only carries first_seen (events that are not changes, and
//               everything before the window);
//   first_seen  the earliest event of any kind in the group;
//   changes     distinct change events in the hour, a change counted once
//               per (source, id);
//   types       distinct resource types of those changes;
//   ids         their ids, for the checked hour only.
// soc-tui derives from it what the detector reads: the hourly change counts
// of the window (hour-of-day median, active-hour mean), the resource types of
// the window, the checked hour's activity, and each actor's first event.
//
// Duplicates: Axiom does not deduplicate, and an hour may be shipped twice
// (a retried request, a re-run check). The first summarize collapses rows
// that share (source, id), so a re-sent event counts once. `dcount` would be
// shorter but is an estimate in APL; grouping is exact.
//
// First seen: events before the window only answer "was this actor active
// before?", so the query reaches back one more window (lookback_start). An
// actor silent for longer than that looks new (cold start), which for an
// account dormant a whole window is the cautious reading anyway.
//
// Cost: scans 2 x window_days + 1 hour of the dataset and reads six columns
// (_time, actor_key, is_change, source, id, resource_type). The first
// summarize holds one group per change event of the window; the result holds
// one row per actor-hour with changes, plus one row per actor.
{{dataset}}
| where _time >= {{lookback_start}} and _time < {{hour_end}}
| extend counted = is_change == true and _time >= {{window_start}}
| extend bucket = iff(counted, bin(_time, 1h), {{lookback_start}})
| extend event_source = iff(counted, source, ""), event_id = iff(counted, id, ""), event_type = iff(counted, column_ifexists('resource_type', ""), "")
| summarize first_seen = min(_time) by actor_key, bucket, counted, event_source, event_id, event_type
| summarize first_seen = min(first_seen), changes = countif(counted), types = make_set_if(event_type, counted), ids = make_set_if(event_id, counted and bucket == {{hour_start}}) by actor_key, bucket
| project actor_key, bucket, first_seen, changes, types, ids
| limit {{max_rows}}
