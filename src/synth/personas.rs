//! Who the actors are and when they work.
//!
//! Each actor gets a persona (admin or engineer working business hours in an
//! office timezone, a nightly CI job at a fixed minute with a stable volume,
//! an occasional user, an always-on integration), a stable identity (email,
//! ids, IPs, user agent) and a repertoire of verbs. Everything is drawn from
//! the actor's own random stream, so actor `i` is the same person whatever
//! the number of actors, days or events.

use chrono::{DateTime, Datelike, Duration, Utc, Weekday};

use super::catalog::{Family, Verb};
use super::ids::{hex32, stream, unique128, uuid};

/// How an actor behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Persona {
    /// Works business hours, weekdays; touches members, tokens, WAF, roles.
    Admin,
    /// Works business hours, weekdays; DNS, Workers, cache, monitors, dashboards.
    Engineer,
    /// An API token / API+App key that runs every night at a fixed minute
    /// with the same volume every day.
    CiJob,
    /// A person who shows up on about one weekday in four.
    Occasional,
    /// A service that acts around the clock at a steady low rate.
    Integration,
}

const MS_PER_DAY: i64 = 86_400_000;

/// An office: where humans sit and which egress IP they share.
struct Office {
    utc_offset_minutes: i32,
    egress: &'static str,
}

const OFFICES: [Office; 7] = [
    Office {
        utc_offset_minutes: -480,
        egress: "64.124.12.17",
    },
    Office {
        utc_offset_minutes: -300,
        egress: "38.104.55.130",
    },
    Office {
        utc_offset_minutes: 0,
        egress: "81.2.69.142",
    },
    Office {
        utc_offset_minutes: 60,
        egress: "89.160.20.156",
    },
    Office {
        utc_offset_minutes: 330,
        egress: "49.207.44.10",
    },
    Office {
        utc_offset_minutes: 540,
        egress: "210.138.184.59",
    },
    Office {
        utc_offset_minutes: 600,
        egress: "1.128.0.77",
    },
];

/// First two octets of consumer ISP ranges (home IPs) and cloud ranges (CI
/// runners, integrations). None starts with 185: anomalies use 185.220.101.x,
/// so a planted "new IP" can never be one an actor already has.
const HOME_PREFIXES: [&str; 8] = [
    "73.22", "24.16", "98.4", "86.12", "90.110", "109.190", "151.40", "112.134",
];
const CLOUD_PREFIXES: [&str; 6] = ["34.102", "35.186", "52.91", "3.120", "20.84", "13.57"];

const FIRST: [&str; 32] = [
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "karl",
    "lena", "mallory", "nina", "oscar", "peggy", "quinn", "rupert", "sybil", "trent", "uma",
    "victor", "wendy", "xavier", "yara", "zoe", "amir", "bea", "chen", "dara", "emeka", "fatima",
];
const LAST: [&str; 32] = [
    "smith",
    "jones",
    "garcia",
    "muller",
    "rossi",
    "tanaka",
    "kim",
    "nguyen",
    "silva",
    "kowalski",
    "novak",
    "ahmed",
    "okafor",
    "johansson",
    "dubois",
    "martin",
    "lopez",
    "haddad",
    "ivanova",
    "singh",
    "patel",
    "costa",
    "weber",
    "brown",
    "wilson",
    "moreau",
    "sato",
    "park",
    "khan",
    "olsen",
    "reyes",
    "fischer",
];
const CI_PURPOSES: [&str; 6] = [
    "terraform-dns",
    "terraform-edge",
    "deploy-workers",
    "monitors-as-code",
    "nightly-sync",
    "cert-rotation",
];
const BROWSERS: [&str; 5] = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
];
/// (Cloudflare client, Datadog client) pairs a CI job runs with.
const CI_AGENTS: [(&str, &str); 3] = [
    (
        "Terraform/1.9.8 (+https://www.terraform.io) terraform-provider-cloudflare/4.48.0",
        "terraform-provider-datadog/3.46.0 (go go1.22.8; terraform-cli 1.9.8)",
    ),
    (
        "cloudflare-go/0.112.0 github-actions",
        "datadog-api-client-go/2.33.0 (go go1.23.3; os linux; arch amd64)",
    ),
    (
        "cloudflare-python/v3.1.0",
        "datadog-api-client-python/2.30.0 (python 3.12.7; os linux; arch x86_64)",
    ),
];

/// An API token an automated actor authenticates with (Cloudflare
/// `actor.token_id` / `token_name`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRef {
    pub id: String,
    pub name: String,
}

/// One synthetic actor. Public so tests and scenarios can pick targets
/// ("the first engineer") and know what the generator will write for them.
#[derive(Debug, Clone)]
pub struct ActorProfile {
    pub index: u32,
    pub persona: Persona,
    /// The same address in both services, so the actor key is shared.
    pub email: String,
    pub cloudflare_user_id: String,
    pub datadog_user_uuid: String,
    /// Every IP the actor normally acts from.
    pub ips: Vec<String>,
    /// Sent to Cloudflare (`raw.user_agent`).
    pub user_agent: &'static str,
    /// Sent to Datadog (`http.useragent`); the same browser for people.
    pub datadog_user_agent: &'static str,
    pub utc_offset_minutes: i32,
    /// Set for personas that act through an API token.
    pub token: Option<TokenRef>,
    /// For a CI job: the minute of the UTC day its run starts.
    pub run_minute_utc: Option<u32>,
    pub(crate) repertoire: Vec<(Verb, u32)>,
    /// Expected events on an active day, before scaling to the volume asked for.
    pub(crate) daily_weight: f64,
    pub(crate) home_zones: Vec<u32>,
    pub(crate) home_monitors: u32,
    pub(crate) home_dashboards: u32,
    pub(crate) work_start_hour: u32,
}

impl ActorProfile {
    /// The key the store aggregates on (`model::actor_key`): the email.
    pub fn actor_key(&self) -> String {
        self.email.to_lowercase()
    }

    /// The verbs this actor uses in ordinary activity.
    pub fn verbs(&self) -> impl Iterator<Item = Verb> + '_ {
        self.repertoire.iter().map(|(v, _)| *v)
    }

    /// Whether ordinary activity ever touches `resource_type`.
    pub fn touches(&self, resource_type: &str) -> bool {
        self.verbs()
            .any(|v| v.resource_type() == Some(resource_type))
    }

    /// The UTC hour at which it is `local_hour` for this actor (for planting
    /// "at night" anomalies).
    pub fn utc_hour_for_local(&self, local_hour: u32) -> u32 {
        let minutes = i64::from(local_hour) * 60 - i64::from(self.utc_offset_minutes);
        (minutes.rem_euclid(24 * 60) / 60) as u32
    }

    pub(crate) fn pick_verb(&self, family: Family, rng: &mut fastrand::Rng) -> Verb {
        let in_family = || self.repertoire.iter().filter(|(v, _)| v.family() == family);
        let total: u32 = in_family().map(|(_, w)| w).sum();
        if total == 0 {
            // Every persona has both families; callers re-derive the shape
            // from the verb, so any verb is safe here.
            return self
                .repertoire
                .first()
                .map_or(Verb::DatadogRequest, |r| r.0);
        }
        let mut ticket = rng.u32(0..total);
        let mut chosen = Verb::DatadogRequest;
        for (verb, weight) in in_family() {
            chosen = *verb;
            if ticket < *weight {
                break;
            }
            ticket -= weight;
        }
        chosen
    }

    /// Relative activity on the 24h slice starting at `slice_start`
    /// (0 = idle that day). Drawn from its own stream so it can be recomputed.
    pub(crate) fn day_factor(&self, seed: u64, day: u32, slice_start: DateTime<Utc>) -> f64 {
        let mut rng =
            fastrand::Rng::with_seed(stream(seed, &[1, u64::from(self.index), day.into()]));
        let local_midday = slice_start
            + Duration::hours(12)
            + Duration::minutes(i64::from(self.utc_offset_minutes));
        let weekend = matches!(local_midday.weekday(), Weekday::Sat | Weekday::Sun);
        match self.persona {
            Persona::Admin | Persona::Engineer => {
                if weekend {
                    if rng.f64() < 0.12 {
                        0.1 + rng.f64() * 0.3
                    } else {
                        0.0
                    }
                } else {
                    0.6 + rng.f64() * 0.8
                }
            }
            Persona::Occasional => {
                if !weekend && rng.f64() < 0.25 {
                    0.5 + rng.f64()
                } else {
                    0.0
                }
            }
            Persona::CiJob => 1.0,
            Persona::Integration => 0.9 + rng.f64() * 0.2,
        }
    }

    /// Hours in which an active day's events usually fall (for "x times the
    /// usual hourly volume").
    pub(crate) fn active_hours(&self) -> f64 {
        match self.persona {
            Persona::Admin | Persona::Engineer => 8.0,
            Persona::Occasional => 2.0,
            Persona::CiJob => 1.0,
            Persona::Integration => 24.0,
        }
    }

    /// `count` times of day (ms since UTC midnight), in no particular order.
    pub(crate) fn times_of_day(&self, count: u32, rng: &mut fastrand::Rng) -> Vec<i64> {
        let mut out = Vec::with_capacity(count as usize);
        match self.persona {
            Persona::CiJob => {
                // A run: starts on its minute, steps a few seconds per change.
                let start = i64::from(self.run_minute_utc.unwrap_or(120)) * 60_000;
                let mut t = start + i64::from(rng.u32(0..20_000));
                for _ in 0..count {
                    out.push(t.rem_euclid(MS_PER_DAY));
                    t += i64::from(rng.u32(1_500..6_000));
                }
            }
            Persona::Integration => {
                for _ in 0..count {
                    out.push(rng.i64(0..MS_PER_DAY));
                }
            }
            Persona::Admin | Persona::Engineer | Persona::Occasional => {
                // Sessions: a burst of related changes, then a pause.
                let session_len = if self.persona == Persona::Occasional {
                    5
                } else {
                    8
                };
                let mut left = count;
                while left > 0 {
                    let n = left.min(1 + rng.u32(0..session_len * 2));
                    left -= n;
                    let mut local = self.session_start_local_ms(rng);
                    for _ in 0..n {
                        let utc = local - i64::from(self.utc_offset_minutes) * 60_000;
                        out.push(utc.rem_euclid(MS_PER_DAY));
                        local += 15_000 + (rng.f64() * rng.f64() * 300_000.0) as i64;
                    }
                }
            }
        }
        out
    }

    fn session_start_local_ms(&self, rng: &mut fastrand::Rng) -> i64 {
        let start = self.work_start_hour;
        let hour = if rng.f64() < 0.05 {
            // A little evening work.
            rng.u32(19..23)
        } else {
            loop {
                let h = start + rng.u32(0..9);
                // Lunch is quiet.
                if h != start + 4 || rng.f64() < 0.3 {
                    break h;
                }
            }
        };
        i64::from(hour) * 3_600_000 + rng.i64(0..3_600_000)
    }
}

/// Builds actor `index`. Indices 0-4 are one of each persona (admin,
/// engineer, CI job, occasional, integration) so small scenarios always have
/// every kind; later actors are drawn 6/44/18/27/5 percent.
pub(crate) fn build_actor(seed: u64, index: u32, zone_count: u32) -> ActorProfile {
    let mut rng = fastrand::Rng::with_seed(stream(seed, &[0, u64::from(index)]));
    let persona = match index {
        0 => Persona::Admin,
        1 => Persona::Engineer,
        2 => Persona::CiJob,
        3 => Persona::Occasional,
        4 => Persona::Integration,
        _ => match rng.u32(0..100) {
            0..6 => Persona::Admin,
            6..50 => Persona::Engineer,
            50..68 => Persona::CiJob,
            68..95 => Persona::Occasional,
            _ => Persona::Integration,
        },
    };
    let ids = unique128(seed ^ 0xac7, u64::from(index));
    let office = &OFFICES[rng.usize(0..OFFICES.len())];
    let (email, ips, (user_agent, datadog_user_agent), token) = match persona {
        Persona::Admin | Persona::Engineer | Persona::Occasional => {
            let first = FIRST[index as usize % FIRST.len()];
            let last = LAST[(index as usize / FIRST.len()) % LAST.len()];
            let generation = index as usize / (FIRST.len() * LAST.len());
            let email = if generation == 0 {
                format!("{first}.{last}@example.com")
            } else {
                format!("{first}.{last}{generation}@example.com")
            };
            let mut ips = vec![office.egress.to_string()];
            if rng.f64() < 0.7 {
                ips.push(random_ip(&mut rng, &HOME_PREFIXES));
            }
            let browser = BROWSERS[rng.usize(0..BROWSERS.len())];
            (email, ips, (browser, browser), None)
        }
        Persona::CiJob | Persona::Integration => {
            let purpose = if persona == Persona::CiJob {
                CI_PURPOSES[index as usize % CI_PURPOSES.len()]
            } else {
                "lb-autoscaler"
            };
            let email = format!("{purpose}-{index}@svc.example.com");
            let mut ips = vec![random_ip(&mut rng, &CLOUD_PREFIXES)];
            if persona == Persona::CiJob && rng.f64() < 0.5 {
                ips.push(random_ip(&mut rng, &CLOUD_PREFIXES));
            }
            let token = TokenRef {
                id: hex32(unique128(seed ^ 0x70c, u64::from(index))),
                name: format!("{purpose}-{index}"),
            };
            let agent = if persona == Persona::CiJob {
                CI_AGENTS[rng.usize(0..CI_AGENTS.len())]
            } else {
                ("Go-http-client/2.0", "datadog-agent/7.58.2")
            };
            (email, ips, agent, Some(token))
        }
    };
    let daily_weight = match persona {
        Persona::Admin => 30.0 + rng.f64() * 30.0,
        Persona::Engineer => 15.0 + rng.f64() * 25.0,
        Persona::CiJob => 20.0 + rng.f64() * 60.0,
        Persona::Occasional => 3.0 + rng.f64() * 7.0,
        Persona::Integration => 30.0 + rng.f64() * 30.0,
    };
    let zone_count = zone_count.max(1);
    let home_zones = (0..1 + rng.u32(0..3))
        .map(|_| rng.u32(0..zone_count))
        .collect();
    ActorProfile {
        index,
        persona,
        email,
        cloudflare_user_id: hex32(ids),
        datadog_user_uuid: uuid((ids.1, ids.0)),
        ips,
        user_agent,
        datadog_user_agent,
        utc_offset_minutes: if matches!(persona, Persona::CiJob | Persona::Integration) {
            0
        } else {
            office.utc_offset_minutes
        },
        token,
        run_minute_utc: (persona == Persona::CiJob).then(|| rng.u32(0..6) * 60 + rng.u32(0..60)),
        repertoire: repertoire(persona, &mut rng),
        daily_weight,
        home_zones,
        home_monitors: rng.u32(0..u32::MAX),
        home_dashboards: rng.u32(0..u32::MAX),
        work_start_hour: 7 + rng.u32(0..3),
    }
}

fn random_ip(rng: &mut fastrand::Rng, prefixes: &[&str]) -> String {
    let prefix = prefixes[rng.usize(0..prefixes.len())];
    format!("{prefix}.{}.{}", rng.u8(0..=255), rng.u8(1..=254))
}

/// The verbs a persona uses with weights; `optional` ones are kept with the
/// given probability so actors of one persona differ in what they touch.
fn repertoire(persona: Persona, rng: &mut fastrand::Rng) -> Vec<(Verb, u32)> {
    use Verb::*;
    // (verb, weight, probability of having it in percent)
    let table: &[(Verb, u32, u32)] = match persona {
        Persona::Admin => &[
            (DnsRecordUpdate, 8, 100),
            (DnsRecordCreate, 3, 100),
            (DnsRecordDelete, 1, 100),
            (WafRuleUpdate, 4, 100),
            (ZoneSettingUpdate, 3, 100),
            (MemberAdd, 1, 100),
            (MemberRemove, 1, 50),
            (ApiTokenCreate, 1, 100),
            (ApiTokenRoll, 1, 100),
            (DatadogRequest, 25, 100),
            (DatadogLogin, 3, 100),
            (MonitorModify, 5, 100),
            (DashboardModify, 4, 100),
            (RoleModify, 1, 100),
            (RoleGrant, 1, 100),
            (UserInvite, 1, 100),
            (ApiKeyCreate, 1, 50),
            (AppKeyCreate, 1, 50),
        ],
        Persona::Engineer => &[
            (DnsRecordUpdate, 8, 100),
            (DnsRecordCreate, 3, 100),
            (DnsRecordDelete, 1, 100),
            (WorkerDeploy, 4, 60),
            (CachePurge, 3, 60),
            (WafRuleUpdate, 2, 30),
            (ZoneSettingUpdate, 1, 30),
            (DatadogRequest, 35, 100),
            (DatadogLogin, 3, 100),
            (MonitorModify, 6, 100),
            (MonitorCreate, 2, 100),
            (MonitorDelete, 1, 50),
            (DashboardModify, 5, 100),
            (DashboardCreate, 1, 100),
            (LogsPipelineModify, 2, 30),
            (SyntheticsTestModify, 2, 30),
        ],
        Persona::CiJob => &[
            (DnsRecordUpdate, 6, 100),
            (DnsRecordCreate, 2, 70),
            (DnsRecordDelete, 1, 70),
            (WorkerDeploy, 3, 50),
            (WafRuleUpdate, 2, 30),
            (MonitorModify, 6, 100),
            (DashboardModify, 3, 60),
            (SyntheticsTestModify, 2, 50),
        ],
        Persona::Occasional => &[
            (DnsRecordUpdate, 2, 100),
            (CachePurge, 3, 70),
            (DatadogRequest, 12, 100),
            (DatadogLogin, 2, 100),
            (DashboardModify, 2, 60),
        ],
        Persona::Integration => &[
            (LoadBalancerPoolUpdate, 1, 100),
            (AgentConfigUpdate, 1, 100),
        ],
    };
    table
        .iter()
        .filter(|(_, _, pct)| *pct >= 100 || rng.u32(0..100) < *pct)
        .map(|(v, w, _)| (*v, *w))
        .collect()
}
