//! The material of an investigation: the actor's events in the window
//! (from the store, topped up by live queries to the sources) and the
//! actor's history before it.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

use super::identity::Identity;
use crate::config::InvestigationConfig;
use crate::model::{AuditEvent, Source};
use crate::store::{ActorHistory, Store, StoreError};

/// Rounds of "read the new names' events, learn more names": two cover
/// email -> id -> second email; more would follow chains an attacker could build.
const IDENTITY_ROUNDS: usize = 2;

/// `[from, to)` around the anomaly time `at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Window {
    pub at: DateTime<Utc>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Window {
    pub fn around(at: DateTime<Utc>, config: &InvestigationConfig) -> Window {
        let span = |d: Duration| TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX);
        Window {
            at,
            from: at
                .checked_sub_signed(span(config.window_before.get()))
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
            to: at
                .checked_add_signed(span(config.window_after.get()))
                .unwrap_or(DateTime::<Utc>::MAX_UTC),
        }
    }

    /// The history period: `history` long, ending where the window starts.
    pub fn history(&self, config: &InvestigationConfig) -> (DateTime<Utc>, DateTime<Utc>) {
        let span = TimeDelta::from_std(config.history.get()).unwrap_or(TimeDelta::MAX);
        let from = self
            .from
            .checked_sub_signed(span)
            .unwrap_or(DateTime::<Utc>::MIN_UTC);
        (from, self.from)
    }
}

pub type LiveFuture<'a> =
    Pin<Box<dyn Future<Output = Result<Vec<AuditEvent>, String>> + Send + 'a>>;

/// A source that can be asked for one person's events in a window (the
/// pollers' Cloudflare and Datadog clients). Errors are a sentence for the
/// report: a failed live query leaves the investigation to the store.
pub trait LiveSource: Send + Sync {
    fn source(&self) -> Source;
    fn events_for<'a>(
        &'a self,
        identity: &'a Identity,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> LiveFuture<'a>;
}

/// What the store holds for the person.
#[derive(Debug, Clone, Default)]
pub struct StoredContext {
    pub events: Vec<AuditEvent>,
    pub history: ActorHistory,
    /// More events than `max_events`: the earliest were kept.
    pub truncated: bool,
}

/// Reads the person's events in the window, learning names as it goes
/// (see [`Identity::absorb`]), and their history before the window.
pub fn read_store(
    store: &Store,
    identity: &mut Identity,
    window: &Window,
    config: &InvestigationConfig,
) -> Result<StoredContext, StoreError> {
    let mut events = Vec::new();
    let mut read_keys: Vec<String> = Vec::new();
    let mut pending = identity.keys();
    for round in 0..=IDENTITY_ROUNDS {
        for key in pending.drain(..) {
            if read_keys.contains(&key) {
                continue;
            }
            let budget = config.max_events.saturating_sub(events.len()) + 1;
            let found = store.events_for_actor(&key, window.from, window.to, budget)?;
            events.extend(found);
            read_keys.push(key);
        }
        if round < IDENTITY_ROUNDS {
            pending = identity.absorb(&events);
            if pending.is_empty() {
                break;
            }
        }
    }
    let truncated = events.len() > config.max_events;
    if truncated {
        events.sort_by_key(|e| e.time);
        events.truncate(config.max_events);
    }
    let (history_from, history_to) = window.history(config);
    let history = store.actor_history(&identity.keys(), history_from, history_to)?;
    Ok(StoredContext {
        events,
        history,
        truncated,
    })
}

/// Asks every live source for the person's events in the window, each
/// bounded by `timeout`. Returns the events and one note per source that
/// failed or timed out.
pub async fn query_live(
    sources: &[Arc<dyn LiveSource>],
    identity: &Identity,
    window: &Window,
    timeout: Duration,
) -> (Vec<AuditEvent>, Vec<String>) {
    let mut events = Vec::new();
    let mut notes = Vec::new();
    for source in sources {
        let query = source.events_for(identity, window.from, window.to);
        match tokio::time::timeout(timeout, query).await {
            Ok(Ok(found)) => {
                events.extend(found.into_iter().filter(|e| identity.matches(e)));
            }
            Ok(Err(why)) => notes.push(format!(
                "live {} query failed; the timeline has only stored {} events: {why}",
                source.source(),
                source.source()
            )),
            Err(_) => notes.push(format!(
                "live {} query gave no answer within {}s; the timeline has only stored {} events",
                source.source(),
                timeout.as_secs(),
                source.source()
            )),
        }
    }
    (events, notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::investigate::identity::IdentityResolver;
    use crate::model::{Action, ActionKind, Actor, Outcome, Resource};
    use chrono::TimeZone;

    fn event(
        source: Source,
        id: &str,
        hour: u32,
        email: Option<&str>,
        actor_id: &str,
    ) -> AuditEvent {
        AuditEvent {
            source,
            id: id.into(),
            time: Utc.with_ymd_and_hms(2026, 11, 21, hour, 0, 0).unwrap(),
            actor: Actor {
                id: Some(actor_id.into()),
                email: email.map(Into::into),
                ..Actor::default()
            },
            action: Action {
                verb: "update".into(),
                kind: ActionKind::Update,
                description: None,
            },
            resource: Resource::default(),
            outcome: Outcome::Success,
            account: None,
            raw: "{}".into(),
        }
    }

    #[test]
    fn the_window_follows_the_config() {
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let config = InvestigationConfig::default();
        let w = Window::around(at, &config);
        assert_eq!(w.from, at - TimeDelta::hours(24));
        assert_eq!(w.to, at + TimeDelta::hours(1));
        assert_eq!(w.history(&config).0, w.from - TimeDelta::days(14));
    }

    #[test]
    fn the_store_is_read_under_every_name_learned() {
        let mut store = Store::open_in_memory().unwrap();
        store
            .insert_events(&[
                event(
                    Source::Cloudflare,
                    "a",
                    10,
                    Some("alice@example.com"),
                    "cf-1",
                ),
                // Filed under the id: no email on this one.
                event(Source::Cloudflare, "b", 11, None, "cf-1"),
                event(Source::Cloudflare, "c", 11, None, "cf-2"),
            ])
            .unwrap();
        let config = InvestigationConfig::default();
        let mut identity = IdentityResolver::new(&config).resolve("alice@example.com");
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 12, 0, 0).unwrap();
        let ctx = read_store(&store, &mut identity, &Window::around(at, &config), &config).unwrap();
        let ids: Vec<&str> = ctx.events.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids, ["a", "b"]);
        assert!(!ctx.truncated);
    }

    struct Failing;
    impl LiveSource for Failing {
        fn source(&self) -> Source {
            Source::Datadog
        }
        fn events_for<'a>(
            &'a self,
            _: &'a Identity,
            _: DateTime<Utc>,
            _: DateTime<Utc>,
        ) -> LiveFuture<'a> {
            Box::pin(async { Err("HTTP 403: forbidden".to_owned()) })
        }
    }

    #[tokio::test]
    async fn a_failed_live_query_becomes_a_note() {
        let identity = IdentityResolver::default().resolve("a@example.com");
        let at = Utc::now();
        let window = Window::around(at, &InvestigationConfig::default());
        let sources: Vec<Arc<dyn LiveSource>> = vec![Arc::new(Failing)];
        let (events, notes) =
            query_live(&sources, &identity, &window, Duration::from_secs(1)).await;
        assert!(events.is_empty());
        assert_eq!(notes.len(), 1);
        assert!(notes[0].contains("live datadog query failed") && notes[0].contains("403"));
    }
}
