use std::time::Duration;

use serde_json::{Value, json};
use soc_tui::demo::sim::{RateLimit, SimOptions};
use soc_tui::sources::raw::parse_document;
use soc_tui::synth::Shape;

use crate::support::{World, body, keys, spec_example, window, world, world_with};

fn events_url(w: &World) -> String {
    format!("{}/api/v2/audit/events", w.sims.datadog.base_url())
}

fn keyed(w: &World, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
    request
        .header("DD-API-KEY", w.creds.datadog_api_key.expose())
        .header("DD-APPLICATION-KEY", w.creds.datadog_app_key.expose())
}

#[tokio::test]
async fn both_keys_are_required() {
    let w = world().await;
    let only_api = w
        .http
        .get(events_url(&w))
        .header("DD-API-KEY", w.creds.datadog_api_key.expose());
    let wrong_app = w
        .http
        .get(events_url(&w))
        .header("DD-API-KEY", w.creds.datadog_api_key.expose())
        .header("DD-APPLICATION-KEY", "0".repeat(40));
    let search = w
        .http
        .post(format!("{}/search", events_url(&w)))
        .json(&json!({}));
    for request in [w.http.get(events_url(&w)), only_api, wrong_app, search] {
        let (s, v) = body(request.send().await.unwrap()).await;
        assert_eq!((s, v), (403, json!({"errors": ["Forbidden"]})));
    }
    let (s, v) = body(keyed(&w, w.http.get(events_url(&w))).send().await.unwrap()).await;
    assert_eq!(s, 200, "{v}");
}

#[tokio::test]
async fn invalid_parameters_get_the_error_shape() {
    let w = world().await;
    let example = spec_example("datadog/examples/error_response.spec-example.json");
    for (name, value) in [
        ("page[limit]", "1001"),
        ("page[limit]", "0"),
        ("page[limit]", "many"),
        ("filter[from]", "last tuesday"),
        ("filter[to]", "now-3x"),
        ("sort", "time"),
        ("page[cursor]", "forged"),
        ("filter[query]", "@usr.email:a OR @usr.email:b"),
        ("filter[query]", "@usr.password:x"),
    ] {
        let r = keyed(&w, w.http.get(events_url(&w)).query(&[(name, value)]))
            .send()
            .await
            .unwrap();
        let (s, v) = body(r).await;
        assert_eq!(s, 400, "{name}={value}: {v}");
        let errors = v["errors"].as_array().unwrap();
        assert_eq!(errors.len(), 1);
        assert!(errors[0].as_str().is_some_and(|m| !m.is_empty()), "{v}");
        if let Some(example) = &example {
            // The captured APIErrorResponse: only `errors`, a list of strings.
            assert_eq!(keys(&v), keys(example));
            assert!(example["errors"][0].is_string());
        }
    }
    let (now, later) = ("now", "now-1h");
    let r = keyed(
        &w,
        w.http
            .get(events_url(&w))
            .query(&[("filter[from]", now), ("filter[to]", later)]),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
}

/// Follows `meta.page.after` to the end; checks `links.next` agrees.
async fn walk(w: &World, query: &[(&str, String)]) -> Vec<String> {
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10_000 {
        let mut q = query.to_vec();
        if let Some(c) = &cursor {
            q.push(("page[cursor]", c.clone()));
        }
        let text = keyed(w, w.http.get(events_url(w)).query(&q))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        let parsed = parse_document(text.as_bytes()).unwrap();
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        let v: Value = serde_json::from_str(&text).unwrap();
        ids.extend(
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_owned()),
        );
        match v["meta"]["page"]["after"].as_str() {
            Some(after) => {
                let next = v["links"]["next"].as_str().unwrap();
                assert!(next.starts_with(&events_url(w)), "{next}");
                assert!(
                    next.contains(&format!("page%5Bcursor%5D={after}")),
                    "{next}"
                );
                cursor = Some(after.to_owned());
            }
            None => {
                assert!(
                    v.get("links").is_none(),
                    "the last page has no next link: {v}"
                );
                return ids;
            }
        }
    }
    panic!("pagination did not end");
}

#[tokio::test]
async fn pagination_covers_the_window_once_in_order_and_ends() {
    let w = world().await;
    let (from, to) = window(&w);
    let mut expected: Vec<(chrono::DateTime<chrono::Utc>, String)> = w
        .of_shape(Shape::Datadog)
        .iter()
        .map(|e| (e.time, e.id.clone()))
        .collect();
    expected.sort();
    let oldest_first: Vec<String> = expected.into_iter().map(|(_, id)| id).collect();
    assert!(oldest_first.len() > 300);
    let q = vec![
        ("filter[from]", from.clone()),
        ("filter[to]", to.clone()),
        ("sort", "timestamp".to_owned()),
        ("page[limit]", "41".to_owned()),
    ];
    assert_eq!(walk(&w, &q).await, oldest_first);
    // The default page size is 10 and the default order newest first.
    let r = keyed(
        &w,
        w.http
            .get(events_url(&w))
            .query(&[("filter[from]", &from), ("filter[to]", &to)]),
    )
    .send()
    .await
    .unwrap();
    let (_, v) = body(r).await;
    let first: Vec<&str> = v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_str().unwrap())
        .collect();
    let newest: Vec<&str> = oldest_first
        .iter()
        .rev()
        .take(10)
        .map(String::as_str)
        .collect();
    assert_eq!(first, newest);
    // Without a window: the last 15 minutes.
    let r = keyed(&w, w.http.get(events_url(&w))).send().await.unwrap();
    let (_, v) = body(r).await;
    let floor = chrono::Utc::now() - chrono::Duration::minutes(16);
    for e in v["data"].as_array().unwrap() {
        let t =
            chrono::DateTime::parse_from_rfc3339(e["attributes"]["timestamp"].as_str().unwrap())
                .unwrap();
        assert!(t >= floor, "{t} is older than 15 minutes");
    }
}

#[tokio::test]
async fn actor_query_and_search_agree() {
    let w = world().await;
    let (from, to) = window(&w);
    let email = w.emails(Shape::Datadog).into_iter().next_back().unwrap();
    let quoted = format!("@usr.email:\"{email}\"");
    let mine = walk(
        &w,
        &[
            ("filter[from]", from.clone()),
            ("filter[to]", to.clone()),
            ("filter[query]", quoted.clone()),
            ("sort", "timestamp".into()),
            ("page[limit]", "7".into()),
        ],
    )
    .await;
    let expected: Vec<String> = w
        .of_shape(Shape::Datadog)
        .iter()
        .filter(|e| {
            let v: Value = serde_json::from_str(&e.raw).unwrap();
            v["attributes"]["attributes"]["usr"]["email"] == email.as_str()
        })
        .map(|e| e.id.clone())
        .collect();
    assert!(!expected.is_empty());
    let mut sorted = mine.clone();
    sorted.sort();
    let mut want = expected.clone();
    want.sort();
    assert_eq!(sorted, want);
    // Unquoted and negated forms.
    let bare = walk(
        &w,
        &[
            ("filter[from]", from.clone()),
            ("filter[to]", to.clone()),
            ("filter[query]", format!("@usr.email:{email}")),
            ("page[limit]", "1000".into()),
        ],
    )
    .await;
    assert_eq!(bare.len(), mine.len());
    let others = walk(
        &w,
        &[
            ("filter[from]", from.clone()),
            ("filter[to]", to.clone()),
            ("filter[query]", format!("-{quoted}")),
            ("page[limit]", "1000".into()),
        ],
    )
    .await;
    assert_eq!(bare.len() + others.len(), w.of_shape(Shape::Datadog).len());

    // The POST search pages the same way through `page.cursor`.
    let url = format!("{}/search", events_url(&w));
    let mut searched = Vec::new();
    let mut cursor = Value::Null;
    loop {
        let request = json!({"filter": {"query": quoted, "from": from, "to": to}, "sort": "timestamp",
                             "page": {"limit": 5, "cursor": cursor}});
        let (s, v) = body(
            keyed(&w, w.http.post(&url).json(&request))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        searched.extend(
            v["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_str().unwrap().to_owned()),
        );
        match &v["meta"]["page"]["after"] {
            Value::String(after) => cursor = json!(after),
            _ => break,
        }
    }
    assert_eq!(searched, mine);
    for bad in [
        r#"{"page":{"limit":5000}}"#,
        r#"{"filter":{"from":"yesterday"}}"#,
        "{not json",
        r#"{"sort":7}"#,
        "[1]",
    ] {
        let r = keyed(
            &w,
            w.http
                .post(&url)
                .header("content-type", "application/json")
                .body(bad),
        )
        .send()
        .await
        .unwrap();
        let (s, v) = body(r).await;
        assert_eq!(s, 400, "{bad}: {v}");
        assert!(v["errors"][0].is_string());
    }
    // Date math is accepted by the search, as by the real API.
    let r = keyed(
        &w,
        w.http
            .post(&url)
            .json(&json!({"filter": {"from": "now-3d", "to": "now"}})),
    )
    .send()
    .await
    .unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn over_the_rate_limit_answers_429_with_the_headers() {
    let w = world_with(SimOptions {
        cloudflare_rate_limit: None,
        datadog_rate_limit: Some(RateLimit {
            requests: 2,
            window: Duration::from_secs(10),
        }),
    })
    .await;
    for remaining in ["1", "0"] {
        let r = keyed(&w, w.http.get(events_url(&w))).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["x-ratelimit-limit"], "2");
        assert_eq!(r.headers()["x-ratelimit-period"], "10");
        assert_eq!(r.headers()["x-ratelimit-remaining"], remaining);
    }
    let r = keyed(&w, w.http.get(events_url(&w))).send().await.unwrap();
    assert_eq!(r.status(), 429);
    let reset: u64 = r.headers()["x-ratelimit-reset"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=10).contains(&reset));
    let (_, v) = body(r).await;
    assert!(v["errors"][0].is_string());
}
