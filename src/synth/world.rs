//! The organisation the actors work in: one Cloudflare account with its
//! zones, one Datadog org with its monitors, dashboards and roles. Resources
//! are addressed by index and named deterministically, so nothing here grows
//! with the number of events.

use super::catalog::{DASHBOARD_KINDS, MONITOR_KINDS, ROLES, SERVICES, TLDS, ZONE_WORDS};
use super::ids::{hex32, mix64, stream, unique128, uuid};

pub(crate) struct Zone {
    pub id: String,
    pub name: String,
}

pub(crate) struct World {
    pub cf_account_id: String,
    pub cf_account_name: &'static str,
    pub dd_org_uuid: String,
    pub zones: Vec<Zone>,
    pub monitors: u32,
    pub dashboards: u32,
    pub role_ids: Vec<String>,
    seed: u64,
}

impl World {
    pub(crate) fn new(seed: u64, actors: u32) -> World {
        let base = stream(seed, &[0x3011d]);
        let zone_count = (actors / 15).clamp(4, 60) as usize;
        let zones = (0..zone_count)
            .map(|i| {
                let word = ZONE_WORDS[i % ZONE_WORDS.len()];
                let tld = TLDS[(i / ZONE_WORDS.len()) % TLDS.len()];
                let name = if i < ZONE_WORDS.len() * TLDS.len() {
                    format!("{word}.{tld}")
                } else {
                    format!("{word}{i}.{tld}")
                };
                Zone {
                    id: hex32(unique128(base, 0x20_0000 + i as u64)),
                    name,
                }
            })
            .collect();
        World {
            cf_account_id: hex32(unique128(base, 1)),
            cf_account_name: "Acme Corp",
            dd_org_uuid: uuid(unique128(base, 2)),
            zones,
            monitors: (actors * 4).clamp(60, 20_000),
            dashboards: (actors * 2).clamp(30, 10_000),
            role_ids: (0..ROLES.len())
                .map(|i| uuid(unique128(base, 0x30_0000 + i as u64)))
                .collect(),
            seed: base,
        }
    }

    /// Datadog monitor ids are integers.
    pub(crate) fn monitor_id(&self, index: u32) -> u64 {
        10_000_000 + mix64(self.seed ^ u64::from(index)) % 90_000_000
    }

    pub(crate) fn monitor_name(&self, index: u32) -> String {
        let kind = MONITOR_KINDS[index as usize % MONITOR_KINDS.len()];
        let service = SERVICES[(index as usize / MONITOR_KINDS.len()) % SERVICES.len()];
        let shard = index as usize / (MONITOR_KINDS.len() * SERVICES.len());
        if shard == 0 {
            format!("{kind} {service}")
        } else {
            format!("{kind} {service}-{shard}")
        }
    }

    /// Datadog dashboard ids look like `abc-def-ghi`.
    pub(crate) fn dashboard_id(&self, index: u32) -> String {
        let v = mix64(self.seed ^ 0xda5b ^ u64::from(index));
        let chars: Vec<char> = (0..9)
            .map(|i| char::from(b'a' + ((v >> (i * 5)) % 26) as u8))
            .collect();
        format!(
            "{}-{}-{}",
            chars[0..3].iter().collect::<String>(),
            chars[3..6].iter().collect::<String>(),
            chars[6..9].iter().collect::<String>()
        )
    }

    pub(crate) fn dashboard_name(&self, index: u32) -> String {
        let kind = DASHBOARD_KINDS[index as usize % DASHBOARD_KINDS.len()];
        let service = SERVICES[(index as usize / DASHBOARD_KINDS.len()) % SERVICES.len()];
        format!("{service} {kind}")
    }

    /// A stable id for a resource named by `(kind, a, b)`.
    pub(crate) fn resource_hex(&self, kind: u64, a: u64, b: u64) -> String {
        hex32((
            mix64(self.seed ^ kind ^ mix64(a)),
            mix64(self.seed.rotate_left(17) ^ mix64(b ^ kind)),
        ))
    }
}
