"""DuckDB side of benches/baseline.rs: the hourly baseline check computed from
the raw NDJSON in SQL, as a full recompute (nothing precomputed).

Usage: python baseline_duckdb.py '<json config>'; prints one JSON line.

The config gives the NDJSON file, the checked hour (unix ms of its start) and
the baseline rules (the same values the Rust check uses). Timed with
time.perf_counter from opening the connection to the fetched result: load
(read_ndjson + normalisation) and compute (the statistic) are reported apart.

Normalisation follows src/sources/{cloudflare,datadog}/parse.rs and
src/model.rs (`actor_key`, `ActionKind::classify`):

- shape: Datadog when `type` = 'audit' or `attributes` is present; Cloudflare
  v2 when `action.time` or `account` is present; else Cloudflare v1.
- time: v2 `action.time`, v1 `when`, Datadog `attributes.timestamp`; a time
  without an offset is UTC. Entries without a readable time are dropped (the
  parsers reject them).
- actor key: lower(trim(email)) when non-empty, else trim(id), else
  'unknown'; Datadog email `usr.email`, id `usr.uuid` else `usr.id`.
- kind: v2 `action.type` when it is a kind name (any case, not 'other'),
  else classify(description) unless that is 'other', else classify(type);
  v1 classify(`action.type`); Datadog classify(`attributes.action`, else
  `evt.name`), and when that is 'other' classify(message).
- resource type: `resource.type` (Cloudflare), `attributes.asset.type`
  (Datadog); empty means none.
- a change is any kind but 'read' and 'login'.

Known differences from the Rust parsers (none occur in the synthetic data):
duplicates by (source, id) are not removed (the store keeps one); a field of
the wrong JSON type (an object where a string is expected) is cast to text
here but read as absent there; lower() is Unicode-aware where classify
lower-cases ASCII only.
"""

import json
import sys
import time

import duckdb

KIND_NAMES = "('create', 'update', 'delete', 'grant', 'revoke', 'login', 'read')"

# ActionKind::classify: the verb split into lower-case ASCII words; words
# match by prefix (`any`) or exactly (`exact`), first rule wins.
MACROS = r"""
CREATE MACRO verb_words(v) AS
    ' ' || trim(regexp_replace(lower(coalesce(v, '')), '[^a-z0-9]+', ' ', 'g')) || ' ';
CREATE MACRO has_prefix(ws, alternatives) AS regexp_matches(ws, ' (' || alternatives || ')');
CREATE MACRO has_word(ws, alternatives) AS regexp_matches(ws, ' (' || alternatives || ') ');
CREATE MACRO classify_words(ws) AS CASE
    WHEN has_prefix(ws, 'revok|unassign') THEN 'revoke'
    WHEN has_prefix(ws, 'grant|assign|invit')
         OR (has_word(ws, 'add|added') AND has_word(ws, 'member|members|role|roles|user|users'))
        THEN 'grant'
    WHEN has_prefix(ws, 'delet|remov|destroy|purg') OR has_word(ws, 'del|rm') THEN 'delete'
    WHEN has_prefix(ws, 'creat|regist|provision|issu') OR has_word(ws, 'add|added|new')
        THEN 'create'
    WHEN has_prefix(ws, 'updat|modif|edit|chang|rotat|roll|enabl|disabl|patch|renam|replac|mov')
         OR has_word(ws, 'set|put|mod')
        THEN 'update'
    WHEN has_prefix(ws, 'login|logout|logon|signin|authent')
         OR (has_word(ws, 'sign') AND has_word(ws, 'in|out'))
        THEN 'login'
    WHEN has_prefix(ws, 'view|read|list|access|download|export|search|quer') OR has_word(ws, 'get')
        THEN 'read'
    ELSE 'other'
END;
CREATE MACRO classify(v) AS classify_words(verb_words(v));
CREATE MACRO text_or_null(v) AS nullif(CAST(v AS VARCHAR), '');
"""

# Only the fields the check needs are declared; DuckDB skips the rest.
COLUMNS = {
    "type": "VARCHAR",
    "when": "VARCHAR",
    "account": "JSON",
    "action": 'STRUCT("type" VARCHAR, "time" VARCHAR, description VARCHAR)',
    "actor": "STRUCT(id VARCHAR, email VARCHAR)",
    "resource": 'STRUCT("type" VARCHAR)',
    "attributes": (
        'STRUCT("timestamp" VARCHAR, message VARCHAR, attributes STRUCT('
        '"action" VARCHAR, usr STRUCT(id VARCHAR, uuid VARCHAR, email VARCHAR), '
        'evt STRUCT(name VARCHAR), asset STRUCT("type" VARCHAR)))'
    ),
}

LOAD = """
CREATE TABLE raw_events AS
WITH shaped AS (
    SELECT
        CASE
            WHEN "type" = 'audit' OR attributes IS NOT NULL THEN 'datadog'
            WHEN action."time" IS NOT NULL OR account IS NOT NULL THEN 'cloudflare_v2'
            ELSE 'cloudflare_v1'
        END AS shape,
        *
    FROM read_ndjson(?, columns = {columns}, format = 'newline_delimited')
), picked AS (
    SELECT
        shape,
        CASE shape
            WHEN 'datadog' THEN attributes."timestamp"
            WHEN 'cloudflare_v2' THEN action."time"
            ELSE "when"
        END AS time_text,
        CASE shape
            WHEN 'datadog' THEN attributes.attributes.usr.email
            ELSE actor.email
        END AS email,
        CASE shape
            WHEN 'datadog' THEN coalesce(text_or_null(attributes.attributes.usr.uuid),
                                         text_or_null(attributes.attributes.usr.id))
            ELSE actor.id
        END AS actor_id,
        CASE shape
            WHEN 'datadog' THEN coalesce(text_or_null(attributes.attributes."action"),
                                         text_or_null(attributes.attributes.evt.name), '')
            ELSE coalesce(action."type", '')
        END AS verb,
        CASE shape WHEN 'datadog' THEN attributes.message ELSE action.description END
            AS description,
        nullif(CASE shape
            WHEN 'datadog' THEN attributes.attributes.asset."type"
            ELSE resource."type"
        END, '') AS resource_type
    FROM shaped
)
SELECT
    shape,
    coalesce(nullif(lower(trim(email)), ''), nullif(trim(actor_id), ''), 'unknown') AS actor_key,
    epoch_ms(CAST(time_text AS TIMESTAMPTZ)) AS t,
    verb,
    description,
    resource_type
FROM picked
WHERE TRY_CAST(time_text AS TIMESTAMPTZ) IS NOT NULL
"""

# Verbs repeat (a few dozen distinct): classify each once and join. The
# description or message is classified per event, but only for the events
# whose verb does not decide the kind.
KINDS = f"""
CREATE TABLE verb_kinds AS SELECT verb, classify(verb) AS kind FROM (SELECT DISTINCT verb FROM raw_events);
CREATE TABLE events AS
SELECT
    e.actor_key,
    e.t,
    e.t - (e.t % 3600000 + 3600000) % 3600000 AS hour,
    e.resource_type,
    CASE
        WHEN e.shape = 'cloudflare_v2' THEN CASE
            WHEN lower(e.verb) IN {KIND_NAMES} THEN lower(e.verb)
            ELSE coalesce(nullif(classify(e.description), 'other'), k.kind)
        END
        WHEN e.shape = 'cloudflare_v1' OR k.kind <> 'other' THEN k.kind
        ELSE classify(e.description)
    END NOT IN ('read', 'login') AS is_change
FROM raw_events e JOIN verb_kinds k USING (verb);
"""

# The statistic of src/detect/baseline/mod.rs for every actor with a change
# in the checked hour $hour; window [$hour - $window_days days, $hour). Every
# such actor is returned with its figures, `flagged` saying whether the
# check reports it; `new_types` are the types new against the window whether
# or not the rules look at them.
CHECK = """
WITH changes AS (
    SELECT actor_key, hour, resource_type FROM events WHERE is_change
), current_hour AS (
    SELECT actor_key, count(*) AS changes FROM changes WHERE hour = $hour GROUP BY actor_key
), first_seen AS (
    SELECT actor_key, min(t) AS first_t FROM events
    WHERE actor_key IN (SELECT actor_key FROM current_hour) GROUP BY actor_key
), history AS (
    SELECT actor_key, hour, count(*) AS changes FROM changes
    WHERE hour >= $hour - $window_days * 86400000::BIGINT AND hour < $hour
      AND actor_key IN (SELECT actor_key FROM current_hour)
    GROUP BY actor_key, hour
), active_mean AS (
    SELECT actor_key, avg(changes) AS active_hour_mean FROM history GROUP BY actor_key
), history_days AS (
    SELECT actor_key,
           least($window_days, greatest(0, ($hour - first_t) // 86400000::BIGINT)) AS days
    FROM first_seen
), same_hour AS (
    -- days without a change at this hour count as 0
    SELECT d.actor_key, median(coalesce(h.changes, 0)) AS hour_of_day_median
    FROM (SELECT actor_key, unnest(range(1, days + 1)) AS k FROM history_days) d
    LEFT JOIN history h ON h.actor_key = d.actor_key AND h.hour = $hour - d.k * 86400000::BIGINT
    GROUP BY d.actor_key
), types_now AS (
    SELECT DISTINCT actor_key, resource_type FROM changes
    WHERE hour = $hour AND resource_type IS NOT NULL
), types_seen AS (
    SELECT DISTINCT actor_key, resource_type FROM changes
    WHERE hour >= $hour - $window_days * 86400000::BIGINT AND hour < $hour
      AND resource_type IS NOT NULL
      AND actor_key IN (SELECT actor_key FROM current_hour)
), new_types AS (
    SELECT actor_key, list(resource_type ORDER BY resource_type) AS types
    FROM (SELECT * FROM types_now EXCEPT SELECT * FROM types_seen)
    GROUP BY actor_key
), stats AS (
    SELECT
        c.actor_key,
        c.changes,
        d.days < $min_history_days AS cold,
        greatest(coalesce(s.hour_of_day_median, 0), coalesce(m.active_hour_mean, 0),
                 $expected_floor) AS expected,
        c.changes / expected AS factor,
        coalesce(n.types, []) AS new_types
    FROM current_hour c
    JOIN history_days d USING (actor_key)
    LEFT JOIN same_hour s USING (actor_key)
    LEFT JOIN active_mean m USING (actor_key)
    LEFT JOIN new_types n USING (actor_key)
), flags AS (
    SELECT *,
        CASE
            WHEN NOT cold THEN changes >= $min_changes AND factor >= $volume_factor
            WHEN $cold_mode = 'absolute_threshold' THEN changes >= $absolute_threshold
            ELSE false
        END AS volume,
        CASE
            WHEN NOT cold OR $cold_mode = 'new_types_only' THEN $new_resource_types
            ELSE false
        END AS check_types
    FROM stats
)
SELECT actor_key, changes, expected, factor, cold, volume, new_types,
       volume OR (check_types AND len(new_types) > 0) AS flagged
FROM flags
ORDER BY actor_key
"""


def run(config):
    cpu_start = time.process_time()
    start = time.perf_counter()
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(MACROS)
    columns = "{" + ", ".join(f"'{k}': '{v}'" for k, v in COLUMNS.items()) + "}"
    con.execute(LOAD.format(columns=columns), [config["file"]])
    con.execute(KINDS)
    loaded = time.perf_counter()
    rules = config["rules"]
    params = {
        "hour": config["hour_ms"],
        "window_days": rules["window_days"],
        "min_history_days": rules["min_history_days"],
        "expected_floor": rules["expected_floor"],
        "min_changes": rules["min_changes"],
        "volume_factor": rules["volume_factor"],
        "cold_mode": rules["cold_mode"],
        "absolute_threshold": rules["absolute_threshold"],
        "new_resource_types": rules["new_resource_types"],
    }
    rows = con.execute(CHECK, params).fetchall()
    done = time.perf_counter()
    cpu = time.process_time() - cpu_start
    events = con.execute("SELECT count(*) FROM events").fetchone()[0]
    threads = con.execute("SELECT current_setting('threads')").fetchone()[0]
    return {
        "duckdb_version": duckdb.__version__,
        "threads": threads,
        "events": events,
        "load_seconds": loaded - start,
        "compute_seconds": done - loaded,
        "seconds": done - start,
        "cpu_seconds": cpu,
        "actors": [
            {
                "actor": actor,
                "changes": changes,
                "expected": expected,
                "factor": factor,
                "cold": cold,
                "volume": volume,
                "new_types": new_types,
                "flagged": flagged,
            }
            for actor, changes, expected, factor, cold, volume, new_types, flagged in rows
        ],
    }


if __name__ == "__main__":
    print(json.dumps(run(json.loads(sys.argv[1]))))
