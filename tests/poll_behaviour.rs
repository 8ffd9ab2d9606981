//! The pollers against a fake Cloudflare/Datadog audit API on loopback
//! (`common::audit_fake`) and a real SQLite store: multi-page walks,
//! overlapping windows, late arrivals, 429 with Retry-After, 5xx, malformed
//! pages, pagination loops, crowded chunks, v1 fallback, catch-up after
//! downtime, actor filters, dry runs, token-scope enrichment, and the
//! 50,000-event run with injected faults.
//!
//! "Now" is passed to each poll, so windows are exact; HTTP waits use the
//! real clock, so a Retry-After is really sat out (kept to 1 s).

mod common;

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::json;
use soc_tui::config::CloudflareApiVersion;
use soc_tui::secrets::Secret;
use soc_tui::sources::cloudflare::client::CloudflareClient;
use soc_tui::sources::datadog::client::DatadogClient;
use soc_tui::sources::http::{HttpClient, HttpPolicy, Service};
use soc_tui::sources::poll::{
    CloudflarePoller, CloudflareSettings, DatadogPoller, PollLimits, PollOptions, PollReport,
    WindowPolicy,
};
use soc_tui::sources::token_scope::TokenScope;
use soc_tui::store::Store;

use common::audit_fake::{
    AuditFake, CF_TOKEN, DD_API_KEY, DD_APP_KEY, FakeEvent, Fault, Kind, spread, t,
};

const ACCOUNT: &str = "0123456789abcdef0123456789abcdef";
const OTHER_ACCOUNT: &str = "fedcba9876543210fedcba9876543210";
/// A fixed "now" for the polls (a whole minute).
const NOW: &str = "2026-11-21T12:00:00Z";

fn now() -> DateTime<Utc> {
    t(NOW)
}

fn minutes(n: i64) -> TimeDelta {
    TimeDelta::minutes(n)
}

fn http(service: Service, fake: &AuditFake) -> HttpClient {
    HttpClient::builder(service, fake.base())
        .policy(HttpPolicy {
            connect_timeout: Duration::from_secs(2),
            request_timeout: Duration::from_secs(20),
            max_retries: 3,
            backoff_base: Duration::from_millis(20),
            backoff_cap: Duration::from_millis(200),
            max_rate_limit_wait: Duration::from_secs(10),
            ..HttpPolicy::default()
        })
        .build()
        .expect("client")
}

fn window() -> WindowPolicy {
    WindowPolicy {
        overlap: minutes(5),
        settle_delay: minutes(1),
        initial_lookback: TimeDelta::hours(1),
    }
}

struct Cf {
    accounts: Vec<&'static str>,
    version: CloudflareApiVersion,
    v1_fallback: bool,
    window: WindowPolicy,
    limits: PollLimits,
}

impl Default for Cf {
    fn default() -> Self {
        Cf {
            accounts: vec![ACCOUNT],
            version: CloudflareApiVersion::V2,
            v1_fallback: true,
            window: window(),
            limits: PollLimits::default(),
        }
    }
}

impl Cf {
    fn poller(self, fake: &AuditFake) -> CloudflarePoller {
        let client = CloudflareClient::new(
            http(Service::Cloudflare, fake),
            Secret::new(CF_TOKEN.into()),
        );
        let settings = CloudflareSettings {
            accounts: self.accounts.iter().map(|a| a.to_string()).collect(),
            version: self.version,
            v1_fallback: self.v1_fallback,
            window: self.window,
            token_rules: soc_tui::detect::rules::parse(None).expect("rules").rules,
        };
        CloudflarePoller::new(client, settings).with_limits(self.limits)
    }
}

fn dd_poller(fake: &AuditFake, limits: PollLimits) -> DatadogPoller {
    let client = DatadogClient::new(
        http(Service::Datadog, fake),
        Secret::new(DD_API_KEY.into()),
        Secret::new(DD_APP_KEY.into()),
    );
    DatadogPoller::new(client, &fake.base(), window()).with_limits(limits)
}

fn store() -> Store {
    Store::open_in_memory().expect("store")
}

fn checkpoint(store: &Store, key: &str) -> Option<DateTime<Utc>> {
    store
        .checkpoint(key)
        .expect("checkpoint")
        .map(|c| c.position)
}

fn cf_key(account: &str) -> String {
    CloudflarePoller::checkpoint_key(account)
}

fn at(now: DateTime<Utc>) -> PollOptions {
    PollOptions::at(now)
}

/// The report of a poll that must have succeeded.
fn ok(report: PollReport) -> PollReport {
    for target in &report.targets {
        if let Some(error) = &target.error {
            panic!("{}: {error}\n{report}", target.checkpoint_key);
        }
    }
    report
}

fn stored(store: &Store) -> u64 {
    store.event_count().expect("count")
}

// ------------------------------------------------------------------ walks

#[tokio::test]
async fn a_multi_page_walk_stores_every_event_and_moves_the_checkpoint() {
    let fake = AuditFake::start(spread("e", 2_500, now() - minutes(50), now() - minutes(2))).await;
    let mut store = store();
    let report = ok(Cf::default()
        .poller(&fake)
        .poll(&mut store, &at(now()))
        .await);

    let target = &report.targets[0];
    assert_eq!(
        (target.fetched, target.new, target.duplicate),
        (2_500, 2_500, 0)
    );
    assert_eq!(
        target.pages, 3,
        "1000 + 1000 + 500, the last without a cursor"
    );
    assert_eq!(stored(&store), 2_500);
    assert_eq!(
        checkpoint(&store, &cf_key(ACCOUNT)),
        Some(now() - minutes(1))
    );
    assert_eq!(target.checkpoint_after, Some(now() - minutes(1)));

    let requests = fake.requests();
    assert_eq!(requests.len(), 3);
    for (i, request) in requests.iter().enumerate() {
        assert_eq!(request.path(), format!("/accounts/{ACCOUNT}/logs/audit"));
        assert_eq!(
            request.header("authorization"),
            Some(format!("Bearer {CF_TOKEN}").as_str())
        );
        assert!(!request.request_line.contains(CF_TOKEN), "token in the URL");
        assert_eq!(
            request.query("since").as_deref(),
            Some("2026-11-21T11:00:00Z")
        );
        assert_eq!(
            request.query("before").as_deref(),
            Some("2026-11-21T11:59:00Z")
        );
        assert_eq!(request.query("limit").as_deref(), Some("1000"));
        assert_eq!(request.query("direction").as_deref(), Some("asc"));
        let cursor = (i > 0).then(|| format!("cur-{}", i * 1000));
        assert_eq!(request.query("cursor"), cursor);
    }
}

#[tokio::test]
async fn overlapping_polls_store_each_event_once_and_catch_late_arrivals() {
    let first = spread("a", 600, now() - minutes(60), now() - minutes(1));
    let fake = AuditFake::start(first.clone()).await;
    let mut store = store();
    let poller = Cf::default().poller(&fake);
    ok(poller.poll(&mut store, &at(now())).await);
    assert_eq!(stored(&store), 600);

    // Ten minutes later: new events, and one that arrived late, stamped
    // three minutes before the checkpoint (inside the five-minute overlap).
    fake.add(spread("b", 100, now() - minutes(1), now() + minutes(9)));
    fake.add(vec![FakeEvent {
        id: "late-1".into(),
        time: now() - minutes(4),
        actor: "late@example.com".into(),
        kind: Kind::Plain,
    }]);
    let report = ok(poller.poll(&mut store, &at(now() + minutes(10))).await);
    let target = &report.targets[0];
    assert_eq!(
        target.window.map(|w| (w.from, w.to)),
        Some((now() - minutes(6), now() + minutes(9)))
    );
    let reread = first
        .iter()
        .filter(|e| e.time >= now() - minutes(6))
        .count() as u64;
    assert!(reread > 0);
    assert_eq!(target.new, 101, "100 new ones and the late arrival");
    assert_eq!(target.duplicate, reread);
    assert_eq!(stored(&store), 701);
    assert_eq!(
        checkpoint(&store, &cf_key(ACCOUNT)),
        Some(now() + minutes(9))
    );
}

#[tokio::test]
async fn retry_after_is_sat_out_before_the_next_request() {
    let fake = AuditFake::start(spread("e", 1_500, now() - minutes(50), now() - minutes(2))).await;
    fake.fault_at(
        1,
        Fault::TooMany {
            retry_after_secs: 1,
        },
    );
    let mut store = store();
    let report = ok(Cf::default()
        .poller(&fake)
        .poll(&mut store, &at(now()))
        .await);

    assert_eq!(stored(&store), 1_500);
    assert_eq!(report.rate_limit.waits, 1);
    assert!(
        report.rate_limit.waited_ms >= 900,
        "{:?}",
        report.rate_limit
    );
    let requests = fake.requests();
    assert_eq!(requests.len(), 3, "page 1, the 429, page 2 again");
    let gap = requests[2].at - requests[1].at;
    assert!(gap >= Duration::from_secs(1), "re-sent after {gap:?}");
    assert_eq!(requests[2].query("cursor"), requests[1].query("cursor"));
}

#[tokio::test]
async fn server_errors_are_retried_until_the_page_comes() {
    let fake = AuditFake::start(spread("e", 1_500, now() - minutes(50), now() - minutes(2))).await;
    fake.fault_at(0, Fault::Status(503));
    fake.fault_at(2, Fault::Status(502));
    let mut store = store();
    let report = ok(Cf::default()
        .poller(&fake)
        .poll(&mut store, &at(now()))
        .await);
    assert_eq!(stored(&store), 1_500);
    assert_eq!(report.rate_limit.retries, 2);
    assert_eq!(report.targets[0].pages, 2);
}

#[tokio::test]
async fn a_malformed_page_stores_nothing_of_its_chunk_and_keeps_the_checkpoint() {
    let fake = AuditFake::start(spread("a", 500, now() - minutes(50), now() - minutes(2))).await;
    let mut store = store();
    let poller = Cf::default().poller(&fake);
    ok(poller.poll(&mut store, &at(now())).await);
    let before = checkpoint(&store, &cf_key(ACCOUNT));

    fake.add(spread("b", 1_500, now(), now() + minutes(20)));
    let next = fake.requests().len();
    fake.fault_at(next + 1, Fault::Garbage);
    let report = poller.poll(&mut store, &at(now() + minutes(30))).await;
    let error = report.targets[0]
        .error
        .as_ref()
        .expect("a malformed page fails the poll");
    let text = error.to_string();
    assert!(text.contains("page 2"), "{text}");
    assert!(text.contains("unusable response"), "{text}");
    assert!(text.contains("/logs/audit"), "{text}");
    assert_eq!(stored(&store), 500, "nothing of the failed chunk");
    assert_eq!(checkpoint(&store, &cf_key(ACCOUNT)), before);
    assert_eq!(report.targets[0].checkpoint_after, before);

    let report = ok(poller.poll(&mut store, &at(now() + minutes(30))).await);
    assert_eq!(report.targets[0].new, 1_500);
    assert_eq!(stored(&store), 2_000);
}

#[tokio::test]
async fn a_repeated_cursor_stops_the_walk_with_a_clear_error() {
    let fake = AuditFake::start(spread("e", 2_500, now() - minutes(50), now() - minutes(2))).await;
    fake.fault_at(1, Fault::CursorLoop);
    let mut store = store();
    let report = Cf::default()
        .poller(&fake)
        .poll(&mut store, &at(now()))
        .await;
    let error = report.targets[0].error.as_ref().expect("loop").to_string();
    assert!(error.contains("pagination loop"), "{error}");
    assert!(error.contains("page 2"), "{error}");
    assert_eq!(fake.requests().len(), 2);
    assert_eq!(stored(&store), 0);
    assert_eq!(checkpoint(&store, &cf_key(ACCOUNT)), None);
}

#[tokio::test]
async fn a_crowded_chunk_is_read_again_in_halves() {
    let fake = AuditFake::start(spread("e", 1_000, now() - minutes(59), now() - minutes(2))).await;
    fake.max_page(100);
    let limits = PollLimits {
        page_size: 100,
        max_pages_per_chunk: 4,
        ..PollLimits::default()
    };
    let mut store = store();
    let report = ok(Cf {
        limits,
        ..Cf::default()
    }
    .poller(&fake)
    .poll(&mut store, &at(now()))
    .await);
    let target = &report.targets[0];
    assert!(target.chunk_splits >= 2, "{report}");
    assert_eq!((target.new, stored(&store)), (1_000, 1_000));
    assert_eq!(
        checkpoint(&store, &cf_key(ACCOUNT)),
        Some(now() - minutes(1))
    );

    // A chunk that cannot be split further is an error, not a hang.
    let stuck = PollLimits {
        min_chunk_span: TimeDelta::hours(1),
        ..limits
    };
    let mut other = Store::open_in_memory().expect("store");
    let report = Cf {
        limits: stuck,
        ..Cf::default()
    }
    .poller(&fake)
    .poll(&mut other, &at(now()))
    .await;
    let error = report.targets[0]
        .error
        .as_ref()
        .expect("page cap")
        .to_string();
    assert!(error.contains("more than 4 pages"), "{error}");
    assert_eq!(stored(&other), 0);
}

#[tokio::test]
async fn downtime_is_caught_up_in_chunks_that_each_commit() {
    let fake = AuditFake::start(spread("a", 100, now() - minutes(50), now() - minutes(2))).await;
    let mut store = store();
    let poller = Cf::default().poller(&fake);
    ok(poller.poll(&mut store, &at(now())).await);

    // Ten hours of downtime, 300 events an hour; the sixth chunk fails.
    let later = now() + TimeDelta::hours(10);
    let downtime = spread("b", 3_000, now(), later - minutes(2));
    fake.add(downtime.clone());
    let first_request = fake.requests().len();
    fake.fault_at(first_request + 5, Fault::Status(400));
    let report = poller.poll(&mut store, &at(later)).await;
    let target = &report.targets[0];
    assert!(target.error.is_some(), "{report}");
    assert_eq!(target.chunks, 5);
    // Chunks start at checkpoint - overlap = now - 6m and are an hour long.
    let fifth_end = now() - minutes(6) + TimeDelta::hours(5);
    assert_eq!(checkpoint(&store, &cf_key(ACCOUNT)), Some(fifth_end));
    let caught_up = downtime.iter().filter(|e| e.time < fifth_end).count() as u64;
    assert_eq!(stored(&store), 100 + caught_up);

    let report = ok(poller.poll(&mut store, &at(later)).await);
    assert_eq!(
        report.targets[0].window.map(|w| w.from),
        Some(fifth_end - minutes(5))
    );
    assert_eq!(stored(&store), 3_100);
    assert_eq!(
        checkpoint(&store, &cf_key(ACCOUNT)),
        Some(later - minutes(1))
    );
}

#[tokio::test]
async fn v1_is_read_when_v2_is_refused_and_fallback_is_on() {
    let fake = AuditFake::start(spread("e", 1_200, now() - minutes(50), now() - minutes(2))).await;
    fake.without_v2();
    let mut store = store();
    let report = ok(Cf::default()
        .poller(&fake)
        .poll(&mut store, &at(now()))
        .await);
    let target = &report.targets[0];
    assert_eq!(target.api, "cloudflare audit logs v1");
    let fallback = target.fallback.as_deref().expect("fallback noted");
    assert!(fallback.contains("404"), "{fallback}");
    assert_eq!(stored(&store), 1_200);
    let pages: Vec<Option<String>> = fake
        .requests()
        .iter()
        .filter(|r| r.path().ends_with("/audit_logs"))
        .map(|r| r.query("page"))
        .collect();
    // 1000 + 200, then an empty page ends the walk.
    assert_eq!(
        pages,
        [Some("1".into()), Some("2".into()), Some("3".into())]
    );
    assert!(format!("{report}").contains("fallback"));

    let mut strict = Store::open_in_memory().expect("store");
    let report = Cf {
        v1_fallback: false,
        ..Cf::default()
    }
    .poller(&fake)
    .poll(&mut strict, &at(now()))
    .await;
    let error = report.targets[0]
        .error
        .as_ref()
        .expect("refused")
        .to_string();
    assert!(error.contains("404"), "{error}");
}

#[tokio::test]
async fn each_account_keeps_its_own_checkpoint() {
    let fake = AuditFake::start(spread("e", 300, now() - minutes(50), now() - minutes(2))).await;
    let mut store = store();
    let report = ok(Cf {
        accounts: vec![ACCOUNT, OTHER_ACCOUNT],
        ..Cf::default()
    }
    .poller(&fake)
    .poll(&mut store, &at(now()))
    .await);
    assert_eq!(report.targets.len(), 2);
    for account in [ACCOUNT, OTHER_ACCOUNT] {
        assert_eq!(
            checkpoint(&store, &cf_key(account)),
            Some(now() - minutes(1))
        );
        assert!(
            fake.requests()
                .iter()
                .any(|r| r.path() == format!("/accounts/{account}/logs/audit"))
        );
    }
}

#[tokio::test]
async fn an_actor_filter_reads_one_actor_and_never_moves_the_checkpoint() {
    let fake = AuditFake::start(spread("e", 700, now() - minutes(50), now() - minutes(2))).await;
    let mut store = store();
    let options = PollOptions {
        actor: Some("user3@example.com".into()),
        ..at(now())
    };
    let report = ok(Cf::default().poller(&fake).poll(&mut store, &options).await);
    assert_eq!(report.targets[0].new, 100);
    assert_eq!(stored(&store), 100);
    assert_eq!(checkpoint(&store, &cf_key(ACCOUNT)), None);
    assert_eq!(
        fake.requests()[0].query("actor_email").as_deref(),
        Some("user3@example.com")
    );
}

#[tokio::test]
async fn a_dry_run_stores_nothing() {
    let fake = AuditFake::start(spread("e", 1_100, now() - minutes(50), now() - minutes(2))).await;
    let mut store = store();
    let options = PollOptions {
        dry_run: true,
        ..at(now())
    };
    let report = ok(Cf::default().poller(&fake).poll(&mut store, &options).await);
    assert_eq!(report.targets[0].fetched, 1_100);
    assert_eq!(report.targets[0].new, 0);
    assert_eq!(stored(&store), 0);
    assert_eq!(checkpoint(&store, &cf_key(ACCOUNT)), None);
    assert!(format!("{report}").contains("dry run"));
}

#[tokio::test]
async fn datadog_pages_follow_meta_page_after_with_both_keys() {
    let fake = AuditFake::start(spread("d", 2_100, now() - minutes(50), now() - minutes(2))).await;
    let mut store = store();
    let poller = dd_poller(&fake, PollLimits::default());
    let key = poller.checkpoint_key().to_owned();
    assert_eq!(key, format!("datadog:{}", fake.server.addr));
    let report = ok(poller.poll(&mut store, &at(now())).await);
    assert_eq!(report.targets[0].pages, 3);
    assert_eq!(stored(&store), 2_100);
    assert_eq!(checkpoint(&store, &key), Some(now() - minutes(1)));
    let requests = fake.requests();
    for (i, request) in requests.iter().enumerate() {
        assert_eq!(request.path(), "/api/v2/audit/events");
        assert_eq!(request.header("dd-api-key"), Some(DD_API_KEY));
        assert_eq!(request.header("dd-application-key"), Some(DD_APP_KEY));
        assert!(!request.request_line.contains(DD_API_KEY));
        assert!(!request.request_line.contains(DD_APP_KEY));
        assert_eq!(
            request.query("filter[from]").as_deref(),
            Some("2026-11-21T11:00:00.000Z")
        );
        assert_eq!(
            request.query("filter[to]").as_deref(),
            Some("2026-11-21T11:59:00.000Z")
        );
        assert_eq!(request.query("sort").as_deref(), Some("timestamp"));
        assert_eq!(request.query("page[limit]").as_deref(), Some("1000"));
        let cursor = (i > 0).then(|| format!("cur-{}", i * 1000));
        assert_eq!(request.query("page[cursor]"), cursor);
    }

    let actor = PollOptions {
        actor: Some("user1@example.com".into()),
        ..at(now())
    };
    let mut other = Store::open_in_memory().expect("store");
    ok(poller.poll(&mut other, &actor).await);
    let last = fake.requests().pop().expect("request");
    assert_eq!(
        last.query("filter[query]").as_deref(),
        Some("@usr.email:\"user1@example.com\"")
    );
    assert_eq!(stored(&other), 300);
}

#[tokio::test]
async fn a_refused_token_is_named_by_status_never_by_value() {
    let fake = AuditFake::start(spread("e", 10, now() - minutes(50), now() - minutes(2))).await;
    let client = CloudflareClient::new(
        http(Service::Cloudflare, &fake),
        Secret::new("wrong-token-value-42".into()),
    );
    let settings = CloudflareSettings {
        accounts: vec![ACCOUNT.into()],
        version: CloudflareApiVersion::V2,
        v1_fallback: false,
        window: window(),
        token_rules: soc_tui::detect::rules::parse(None).expect("rules").rules,
    };
    let mut store = store();
    let report = CloudflarePoller::new(client, settings)
        .poll(&mut store, &at(now()))
        .await;
    let shown = format!(
        "{report}\n{report:?}\n{}",
        serde_json::to_string(&report).expect("json")
    );
    assert!(shown.contains("401"), "{shown}");
    assert!(shown.contains("bad credentials"), "{shown}");
    assert!(!shown.contains("wrong-token-value-42"), "{shown}");
}

// ------------------------------------------------------------ token scopes

fn token_event(id: &str, token_id: &str, minute: i64) -> FakeEvent {
    FakeEvent {
        id: id.into(),
        time: now() - minutes(minute),
        actor: "mallory@example.com".into(),
        kind: Kind::TokenCreate {
            token_id: token_id.into(),
            uri: String::new(),
        },
    }
}

#[tokio::test]
async fn token_creations_get_their_scope_or_an_unknown_with_the_reason() {
    let mut events = spread("e", 50, now() - minutes(50), now() - minutes(2));
    events.push(token_event("tok-account", "t-acc", 40));
    events.push(token_event("tok-user", "t-user", 30));
    events.push(token_event("tok-gone", "t-gone", 20));
    let fake = AuditFake::start(events).await;
    let policy = json!({"id": "p1", "effect": "allow",
        "permission_groups": [{"id": "g1", "name": "Zone Write", "meta": {}}],
        "resources": {"com.cloudflare.api.account.zone.*": "*"}});
    fake.token(Some(ACCOUNT), "t-acc", json!([policy]));
    fake.token(None, "t-user", json!([policy]));
    let mut store = store();
    let poller = Cf {
        version: CloudflareApiVersion::V1,
        ..Cf::default()
    }
    .poller(&fake);
    let report = ok(poller.poll(&mut store, &at(now())).await);
    let scopes = report.targets[0].token_scopes;
    assert_eq!((scopes.known, scopes.unknown), (2, 1));

    let scope = |id: &str| store.token_scope(id).expect("read").expect("recorded");
    assert_eq!(
        scope("tok-account"),
        TokenScope::Known {
            policies: vec![policy.clone()]
        }
    );
    assert!(scope("tok-user").is_known());
    match scope("tok-gone") {
        TokenScope::Unknown { reason } => {
            assert!(reason.contains("404"), "{reason}");
            assert!(reason.contains("/user/tokens/t-gone"), "{reason}");
        }
        known => panic!("{known:?}"),
    }
    let token_requests: Vec<String> = fake
        .requests()
        .iter()
        .filter(|r| r.path().contains("/tokens/"))
        .map(|r| r.path().to_owned())
        .collect();
    assert_eq!(
        token_requests,
        [
            format!("/accounts/{ACCOUNT}/tokens/t-acc"),
            format!("/accounts/{ACCOUNT}/tokens/t-user"),
            "/user/tokens/t-user".to_owned(),
            format!("/accounts/{ACCOUNT}/tokens/t-gone"),
            "/user/tokens/t-gone".to_owned(),
        ]
    );

    // Reading the creations again: only the unknown scope is looked up again.
    let before = fake.requests().len();
    let again = PollOptions {
        since: Some(now() - minutes(60)),
        ..at(now() + minutes(1))
    };
    let report = ok(poller.poll(&mut store, &again).await);
    assert_eq!(report.targets[0].duplicate, 53);
    let looked_up: Vec<String> = fake.requests()[before..]
        .iter()
        .filter(|r| r.path().contains("/tokens/"))
        .map(|r| r.path().to_owned())
        .collect();
    assert_eq!(
        looked_up,
        [
            format!("/accounts/{ACCOUNT}/tokens/t-gone"),
            "/user/tokens/t-gone".to_owned(),
        ],
        "known scopes are not fetched again; the unknown one gets another chance"
    );
}

// ------------------------------------------------------------ the big run

/// 50,000 events over 10 hours served 834 to a page (60 pages for one walk),
/// read by a sequence of four polls, with 429s and 5xx injected.
#[tokio::test]
async fn fifty_thousand_events_with_injected_faults_are_stored_exactly_once() {
    let start = now();
    let end = start + TimeDelta::hours(10);
    let fake = AuditFake::start(spread("big", 50_000, start, end)).await;
    fake.max_page(834);
    for (n, fault) in [
        (
            3,
            Fault::TooMany {
                retry_after_secs: 1,
            },
        ),
        (9, Fault::Status(503)),
        (21, Fault::Status(500)),
        (
            33,
            Fault::TooMany {
                retry_after_secs: 1,
            },
        ),
        (47, Fault::Status(502)),
        (
            58,
            Fault::TooMany {
                retry_after_secs: 1,
            },
        ),
    ] {
        fake.fault_at(n, fault);
    }
    let limits = PollLimits {
        chunk_span: TimeDelta::hours(24),
        max_pages_per_chunk: 100,
        ..PollLimits::default()
    };
    let poller = Cf {
        window: WindowPolicy {
            initial_lookback: TimeDelta::hours(4),
            ..window()
        },
        limits,
        ..Cf::default()
    }
    .poller(&fake);
    let mut store = store();
    let began = Instant::now();
    let mut pages = 0;
    let mut waited_ms = 0;
    let mut new = 0;
    for poll_at in [
        start + TimeDelta::hours(3),
        start + TimeDelta::hours(6),
        start + TimeDelta::hours(9),
        end + minutes(2),
    ] {
        let report = ok(poller.poll(&mut store, &at(poll_at)).await);
        pages += report.pages();
        waited_ms += report.rate_limit.waited_ms + report.rate_limit.backoff_ms;
        new += report.targets[0].new;
    }
    let elapsed = began.elapsed();

    assert_eq!(new, 50_000);
    assert_eq!(stored(&store), 50_000);
    let ids: BTreeSet<String> = store
        .events_between(
            start - TimeDelta::hours(1),
            end + TimeDelta::hours(1),
            50_001,
        )
        .expect("events")
        .into_iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(ids, fake.event_ids().into_iter().collect::<BTreeSet<_>>());
    assert_eq!(checkpoint(&store, &cf_key(ACCOUNT)), Some(end + minutes(1)));

    let requests = fake.requests();
    let throttled = fake.throttled();
    assert_eq!(throttled.len(), 3);
    for (n, retry_after) in throttled {
        let gap = requests[n + 1].at - requests[n].at;
        assert!(
            gap >= Duration::from_secs(retry_after),
            "request {} came {gap:?} after a 429 asking for {retry_after}s",
            n + 1
        );
    }
    let busy = elapsed.saturating_sub(Duration::from_millis(waited_ms));
    eprintln!(
        "FIGURES: 50000 events, {pages} pages, {} requests in {:.2}s ({:.0} events/s); \
         without the {:.2}s of Retry-After and backoff waits: {:.2}s ({:.0} events/s)",
        requests.len(),
        elapsed.as_secs_f64(),
        50_000.0 / elapsed.as_secs_f64(),
        waited_ms as f64 / 1000.0,
        busy.as_secs_f64(),
        50_000.0 / busy.as_secs_f64().max(0.001)
    );
}
