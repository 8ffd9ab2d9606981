//! The synthetic generator: deterministic, ordered, bounded, unique, and in
//! the shapes the real parsers read.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{Duration, Timelike};
use serde_json::Value;
use soc_tui::synth::{
    Anomaly, Generator, Params, Persona, Shape, SourceMix, SynthError, Verb, Volume, write_ndjson,
};

fn small(seed: u64) -> Params {
    Params::new(seed, 40, 7, Volume::Total(4_000))
}

fn ndjson(params: Params) -> Vec<u8> {
    let mut out = Vec::new();
    write_ndjson(&mut out, params).unwrap();
    out
}

#[test]
fn same_seed_gives_byte_identical_output() {
    let a = ndjson(small(11));
    let b = ndjson(small(11));
    assert!(!a.is_empty());
    assert_eq!(a, b);
}

#[test]
fn different_seeds_give_different_output() {
    let a = ndjson(small(11));
    let b = ndjson(small(12));
    assert_ne!(a, b);
    // Not just the ids: the content differs line by line too.
    let differing = a
        .split(|b| *b == b'\n')
        .zip(b.split(|b| *b == b'\n'))
        .filter(|(x, y)| x != y)
        .count();
    assert!(differing > 1_000, "only {differing} lines differ");
}

#[test]
fn total_is_exact_and_times_are_ordered_inside_the_window() {
    let g = Generator::new(small(3)).unwrap();
    let (start, end) = (g.start(), g.end());
    assert_eq!(end - start, Duration::days(7));
    let mut last = start;
    let mut n = 0u64;
    for e in g.events() {
        assert!(e.time >= last, "{} came after {}", e.time, last);
        assert!(e.time >= start && e.time < end, "{} outside window", e.time);
        last = e.time;
        n += 1;
    }
    assert_eq!(n, 4_000);
    assert_eq!(g.total_events(), 4_000);
}

#[test]
fn per_actor_per_day_volume_rounds_the_total() {
    let g = Generator::new(Params::new(1, 10, 3, Volume::PerActorPerDay(12.5))).unwrap();
    assert_eq!(g.events().count(), 375);
}

#[test]
fn actors_are_bounded_and_keys_match_profiles() {
    let g = Generator::new(small(5)).unwrap();
    let known: HashSet<String> = g.actors().iter().map(|a| a.actor_key()).collect();
    assert_eq!(known.len(), 40, "actor emails must be distinct");
    let mut seen = HashSet::new();
    for e in g.events() {
        let v: Value = serde_json::from_str(&e.raw).unwrap();
        let email = match e.shape {
            Shape::CloudflareV2 | Shape::CloudflareV1 => v["actor"]["email"].as_str(),
            Shape::Datadog => v["attributes"]["attributes"]["usr"]["email"].as_str(),
        }
        .unwrap()
        .to_lowercase();
        assert_eq!(email, g.actors()[e.actor as usize].actor_key());
        seen.insert(email);
    }
    assert!(seen.is_subset(&known));
    // Over a week nearly everyone shows up (occasional users may not).
    assert!(seen.len() >= 30, "only {} actors active", seen.len());
}

#[test]
fn ids_are_unique_and_written_in_the_entry() {
    let g = Generator::new(Params::new(9, 100, 10, Volume::Total(30_000))).unwrap();
    let mut ids = HashSet::new();
    for e in g.events() {
        let v: Value = serde_json::from_str(&e.raw).unwrap();
        assert_eq!(v["id"].as_str(), Some(e.id.as_str()));
        assert!(ids.insert(e.id.clone()), "duplicate id {}", e.id);
    }
    assert_eq!(ids.len(), 30_000);
}

#[test]
fn every_line_is_json_in_its_shape_at_a_realistic_size() {
    let out = ndjson(Params::new(21, 60, 5, Volume::Total(6_000)));
    let mut by_shape: BTreeMap<&str, (u64, usize)> = BTreeMap::new();
    for line in out.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
        let v: Value = serde_json::from_slice(line).unwrap();
        let shape = if v.get("when").is_some() {
            assert!(v["action"]["type"].is_string() && v["action"]["result"].is_boolean());
            "cloudflare_v1"
        } else if v["action"]["time"].is_string() {
            assert!(v["account"]["id"].is_string() && v["resource"]["product"].is_string());
            "cloudflare_v2"
        } else {
            assert_eq!(v["type"], "audit");
            assert!(v["attributes"]["timestamp"].is_string());
            assert!(v["attributes"]["attributes"]["action"].is_string());
            "datadog"
        };
        let entry = by_shape.entry(shape).or_default();
        entry.0 += 1;
        entry.1 += line.len();
    }
    assert_eq!(by_shape.len(), 3, "{by_shape:?}");
    for (shape, (n, bytes)) in &by_shape {
        let mean = bytes / *n as usize;
        assert!((450..=1000).contains(&mean), "{shape}: mean {mean} bytes");
    }
}

#[test]
fn source_mix_is_honoured() {
    let mut p = small(4);
    p.mix = SourceMix {
        cloudflare_v2: 0,
        cloudflare_v1: 0,
        datadog: 1,
    };
    let g = Generator::new(p).unwrap();
    assert!(g.events().all(|e| e.shape == Shape::Datadog));

    let mut stats_out = Vec::new();
    let stats = write_ndjson(&mut stats_out, small(4)).unwrap();
    let share = |n: u64| n as f64 / stats.events as f64;
    assert!(
        (share(stats.cloudflare_v2) - 0.45).abs() < 0.05,
        "{stats:?}"
    );
    assert!(
        (share(stats.cloudflare_v1) - 0.10).abs() < 0.03,
        "{stats:?}"
    );
    assert!((share(stats.datadog) - 0.45).abs() < 0.05, "{stats:?}");
    assert_eq!(stats.bytes, stats_out.len() as u64);
}

#[test]
fn personas_keep_their_habits() {
    let g = Generator::new(Params::new(8, 60, 14, Volume::Total(20_000))).unwrap();
    let mut ci_days: HashMap<u32, BTreeMap<i64, u32>> = HashMap::new();
    let mut human_hours: HashMap<u32, u32> = HashMap::new();
    let mut ips: HashMap<u32, HashSet<String>> = HashMap::new();
    for e in g.events() {
        let a = &g.actors()[e.actor as usize];
        let v: Value = serde_json::from_str(&e.raw).unwrap();
        let ip = match e.shape {
            Shape::CloudflareV2 => v["actor"]["ip_address"].as_str(),
            Shape::CloudflareV1 => v["actor"]["ip"].as_str(),
            Shape::Datadog => v["attributes"]["attributes"]["network"]["client"]["ip"].as_str(),
        };
        ips.entry(e.actor)
            .or_default()
            .insert(ip.unwrap().to_string());
        match a.persona {
            Persona::CiJob => {
                let day = (e.time - g.start()).num_days();
                *ci_days.entry(e.actor).or_default().entry(day).or_default() += 1;
                let minute = e.time.hour() * 60 + e.time.minute();
                let run = a.run_minute_utc.unwrap();
                // A run lasts minutes, starting on its minute.
                assert!(
                    (minute + 1440 - run) % 1440 < 30,
                    "CI event at {} (run {run})",
                    e.time
                );
            }
            Persona::Admin | Persona::Engineer => {
                let local = (e.time + Duration::minutes(a.utc_offset_minutes.into())).hour();
                *human_hours
                    .entry(u32::from((7..=18).contains(&local)))
                    .or_default() += 1;
            }
            _ => {}
        }
    }
    // Stable CI volume: every day, same count within one.
    for (actor, days) in &ci_days {
        assert_eq!(days.len(), 14, "CI actor {actor} skipped days");
        let (lo, hi) = (days.values().min().unwrap(), days.values().max().unwrap());
        assert!(hi - lo <= 1, "CI actor {actor} volume varies {lo}..{hi}");
    }
    assert!(!ci_days.is_empty());
    // Humans work business hours (a little evening work allowed).
    let (inside, outside) = (human_hours[&1], human_hours.get(&0).copied().unwrap_or(0));
    assert!(
        outside * 10 < inside,
        "business hours {inside}, other {outside}"
    );
    // IPs stay within each actor's stable set.
    for (actor, seen) in ips {
        let own: HashSet<String> = g.actors()[actor as usize].ips.iter().cloned().collect();
        assert!(
            seen.is_subset(&own),
            "actor {actor} used {seen:?}, owns {own:?}"
        );
    }
}

fn with_anomalies(anomalies: Vec<Anomaly>) -> Params {
    Params {
        anomalies,
        ..Params::new(31, 30, 10, Volume::Total(8_000))
    }
}

#[test]
fn planted_anomalies_report_their_entries_and_leave_the_rest_unchanged() {
    let base = Generator::new(with_anomalies(vec![])).unwrap();
    let engineer = base
        .actors()
        .iter()
        .find(|a| a.persona == Persona::Engineer && !a.touches("account.token"))
        .unwrap();
    let night = engineer.utc_hour_for_local(3);
    let anomalies = vec![
        Anomaly::VolumeSpike {
            actor: 0,
            day: 8,
            hour: 14,
            factor: 10.0,
        },
        Anomaly::NewResourceType {
            actor: engineer.index,
            day: 6,
            hour: 10,
            verb: Verb::MemberAdd,
            count: 2,
        },
        Anomaly::DatadogBurst {
            actor: 0,
            day: 9,
            hour: 11,
            role_grants: 4,
            monitor_deletions: 3,
        },
        Anomaly::BroadTokenCreation {
            actor: engineer.index,
            day: 7,
            hour: night,
            token_name: "deploy-all".into(),
            ip: None,
            shape: Shape::CloudflareV1,
        },
    ];
    let g = Generator::new(with_anomalies(anomalies)).unwrap();
    let planted = g.planted();
    assert_eq!(planted.len(), 4);
    assert_eq!(planted[2].event_ids.len(), 7);
    assert_eq!(planted[1].event_ids.len(), 2);
    assert!(planted[0].event_ids.len() >= 10, "{:?}", planted[0]);
    let extra: usize = planted.iter().map(|p| p.event_ids.len()).sum();
    assert_eq!(g.total_events(), 8_000 + extra as u64);

    let planted_ids: HashMap<&str, usize> = planted
        .iter()
        .flat_map(|p| p.event_ids.iter().map(move |id| (id.as_str(), p.index)))
        .collect();
    let mut ordinary = Vec::new();
    let mut found: HashMap<usize, Vec<Value>> = HashMap::new();
    for e in g.events() {
        match planted_ids.get(e.id.as_str()) {
            Some(i) => found
                .entry(*i)
                .or_default()
                .push(serde_json::from_str(&e.raw).unwrap()),
            None => ordinary.push(e),
        }
    }
    // Planting adds entries and changes none of the others.
    assert_eq!(ordinary, base.events().collect::<Vec<_>>());

    let token = &found[&3][0];
    assert_eq!(token["action"]["type"], "token_create");
    assert_eq!(token["metadata"]["token_name"], "deploy-all");
    let ip = token["actor"]["ip"].as_str().unwrap();
    assert_eq!(Some(ip), planted[3].foreign_ip.as_deref());
    assert!(
        g.actors()
            .iter()
            .all(|a| !a.ips.iter().any(|own| own == ip))
    );
    assert_eq!(planted[3].first.hour(), night);

    let burst = &found[&2];
    let asset = |v: &Value| v["attributes"]["attributes"]["asset"]["type"].clone();
    assert_eq!(burst.iter().filter(|v| asset(v) == "role").count(), 4);
    assert_eq!(burst.iter().filter(|v| asset(v) == "monitor").count(), 3);
    assert!(planted[2].last - planted[2].first < Duration::minutes(15));

    for p in planted {
        assert_eq!(
            p.actor_key,
            g.actors()[p.anomaly.actor() as usize].actor_key()
        );
    }
}

#[test]
fn bad_params_and_anomalies_are_named() {
    let err = |p: Params| Generator::new(p).err().unwrap().to_string();
    assert!(err(Params::new(1, 0, 3, Volume::Total(10))).contains("actors"));
    assert!(err(Params::new(1, 3, 0, Volume::Total(10))).contains("days"));
    let mut p = small(1);
    p.mix = SourceMix {
        cloudflare_v2: 0,
        cloudflare_v1: 0,
        datadog: 0,
    };
    assert!(err(p).contains("mix"));

    let g = Generator::new(small(1)).unwrap();
    let admin = g
        .actors()
        .iter()
        .find(|a| a.persona == Persona::Admin)
        .unwrap();
    let e = Generator::new(with_anomalies(vec![Anomaly::NewResourceType {
        actor: admin.index,
        day: 1,
        hour: 1,
        verb: Verb::DnsRecordUpdate,
        count: 1,
    }]))
    .err()
    .unwrap();
    assert!(matches!(e, SynthError::Anomaly { index: 0, .. }), "{e}");
    assert!(e.to_string().contains("dns.record"), "{e}");
    let e = err(with_anomalies(vec![Anomaly::VolumeSpike {
        actor: 99,
        day: 1,
        hour: 1,
        factor: 2.0,
    }]));
    assert!(e.contains("actor 99"), "{e}");
    let e = err(with_anomalies(vec![Anomaly::DatadogBurst {
        actor: 1,
        day: 10,
        hour: 1,
        role_grants: 1,
        monitor_deletions: 0,
    }]));
    assert!(e.contains("day 10"), "{e}");
}

#[test]
fn every_line_parses_with_the_real_parsers() {
    use soc_tui::model::Source;
    use soc_tui::sources::raw::parse_entry;
    let g = Generator::new(Params {
        anomalies: vec![Anomaly::BroadTokenCreation {
            actor: 1,
            day: 2,
            hour: 3,
            token_name: "deploy-all".into(),
            ip: None,
            shape: Shape::CloudflareV2,
        }],
        ..Params::new(17, 50, 5, Volume::Total(6_000))
    })
    .unwrap();
    let mut shapes = HashSet::new();
    for e in g.events() {
        let parsed = parse_entry(&e.raw).unwrap_or_else(|err| {
            panic!("{:?} entry {} rejected: {err}\n{}", e.shape, e.id, e.raw)
        });
        let profile = &g.actors()[e.actor as usize];
        let source = match e.shape {
            Shape::CloudflareV2 | Shape::CloudflareV1 => Source::Cloudflare,
            Shape::Datadog => Source::Datadog,
        };
        assert_eq!(parsed.source, source, "{}", e.raw);
        assert_eq!(parsed.id, e.id);
        assert_eq!(parsed.time, e.time, "{}", e.raw);
        assert_eq!(parsed.actor_key(), profile.actor_key(), "{}", e.raw);
        let ip = parsed
            .actor
            .ip
            .as_deref()
            .unwrap_or_else(|| panic!("no ip: {}", e.raw));
        assert!(
            profile.ips.iter().any(|own| own == ip) || g.planted()[0].event_ids.contains(&e.id),
            "{ip} is not one of {:?}",
            profile.ips
        );
        assert_eq!(parsed.raw, e.raw);
        shapes.insert(e.shape);
    }
    assert_eq!(shapes.len(), 3);
}
