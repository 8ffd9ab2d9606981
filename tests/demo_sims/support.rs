//! Simulators loaded with a small generated history, and request helpers.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::{DateTime, Duration, SubsecRound, Utc};
use serde_json::Value;
use soc_tui::demo::sim::{SimCredentials, SimOptions, Simulators};
use soc_tui::synth::{Generator, Params, Shape, SynthEvent, Volume};

pub const ACCOUNT: &str = "0123456789abcdef0123456789abcdef";

pub struct World {
    pub sims: Simulators,
    pub creds: SimCredentials,
    pub http: reqwest::Client,
    /// The generated entries loaded into the simulators.
    pub events: Vec<SynthEvent>,
    pub end: DateTime<Utc>,
}

impl World {
    pub fn of_shape(&self, shape: Shape) -> Vec<&SynthEvent> {
        self.events.iter().filter(|e| e.shape == shape).collect()
    }

    /// Emails of actors with at least one event of `shape`.
    pub fn emails(&self, shape: Shape) -> BTreeSet<String> {
        self.of_shape(shape)
            .iter()
            .filter_map(|e| {
                let v: Value = serde_json::from_str(&e.raw).ok()?;
                let pointer = match shape {
                    Shape::CloudflareV2 | Shape::CloudflareV1 => "/actor/email",
                    Shape::Datadog => "/attributes/attributes/usr/email",
                };
                v.pointer(pointer)
                    .and_then(Value::as_str)
                    .map(str::to_owned)
            })
            .collect()
    }
}

pub fn client() -> reqwest::Client {
    reqwest::Client::builder().no_proxy().build().unwrap()
}

/// Simulators with the given options, loaded with ~2 days of history for
/// 20 actors ending now, as Cloudflare account ACCOUNT.
pub async fn world_with(options: SimOptions) -> World {
    let creds = SimCredentials::generate();
    let sims = Simulators::start(ACCOUNT, &creds, &options).await.unwrap();
    let end = Utc::now().trunc_subsecs(0);
    let mut params = Params::new(42, 20, 2, Volume::Total(1_500));
    params.end = end;
    let generator = Generator::new(params).unwrap();
    let events: Vec<SynthEvent> = generator.events().collect();
    let (cf, dd) = (sims.cloudflare.feed(), sims.datadog.feed());
    for e in &events {
        let added = match e.shape {
            Shape::CloudflareV2 => cf.add_v2(&e.raw),
            Shape::CloudflareV1 => cf.add_v1(&e.raw),
            Shape::Datadog => dd.add(&e.raw),
        };
        assert!(added.unwrap(), "{} added twice", e.id);
    }
    World {
        sims,
        creds,
        http: client(),
        events,
        end,
    }
}

pub async fn world() -> World {
    world_with(SimOptions {
        cloudflare_rate_limit: None,
        datadog_rate_limit: None,
    })
    .await
}

pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn window(w: &World) -> (String, String) {
    (
        rfc3339(w.end - Duration::days(3)),
        rfc3339(w.end + Duration::hours(1)),
    )
}

pub async fn body(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let text = response.text().await.unwrap();
    let value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{status}: not JSON ({e}): {text}"));
    (status, value)
}

/// Sorted key list of a JSON object (for shape comparisons).
pub fn keys(v: &Value) -> Vec<String> {
    let mut k: Vec<String> = v
        .as_object()
        .map(|o| o.keys().cloned().collect())
        .unwrap_or_default();
    k.sort();
    k
}

/// A captured example from `../shared/specs`, or `None` (skipped, or a
/// failure under CI=true) when the specs are not there.
pub fn spec_example(relative: &str) -> Option<Value> {
    let dir: PathBuf = crate::common::specs_dir()?;
    let text = std::fs::read_to_string(dir.join(relative)).unwrap();
    Some(serde_json::from_str(&text).unwrap())
}
