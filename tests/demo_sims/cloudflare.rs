use std::time::Duration;

use serde_json::Value;
use soc_tui::demo::sim::{RateLimit, SimOptions};
use soc_tui::sources::raw::parse_document;
use soc_tui::synth::Shape;

use crate::support::{
    ACCOUNT, World, body, keys, rfc3339, spec_example, window, world, world_with,
};

fn v2_url(w: &World, account: &str) -> String {
    format!(
        "{}/accounts/{account}/logs/audit",
        w.sims.cloudflare.base_url()
    )
}

async fn get_v2(w: &World, query: &[(&str, String)], token: Option<&str>) -> reqwest::Response {
    let mut request = w.http.get(v2_url(w, ACCOUNT)).query(query);
    if let Some(token) = token {
        request = request.header("Authorization", token);
    }
    request.send().await.unwrap()
}

fn bearer(w: &World) -> String {
    format!("Bearer {}", w.creds.cloudflare_token.expose())
}

fn assert_envelope(status: u16, v: &Value, want_status: u16, want_code: u64) {
    assert_eq!(status, want_status, "{v}");
    assert_eq!(v["success"], false, "{v}");
    assert_eq!(v["result"], Value::Null, "{v}");
    assert_eq!(v["errors"][0]["code"], want_code, "{v}");
    assert!(
        v["errors"][0]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty()),
        "{v}"
    );
}

#[tokio::test]
async fn refuses_missing_wrong_and_malformed_credentials() {
    let w = world().await;
    let (since, before) = window(&w);
    let q = [("since", since), ("before", before)];
    let (s, v) = body(get_v2(&w, &q, None).await).await;
    assert_envelope(s, &v, 401, 10000);
    let (s, v) = body(get_v2(&w, &q, Some("Bearer not-the-token")).await).await;
    assert_envelope(s, &v, 401, 10000);
    let (s, v) = body(get_v2(&w, &q, Some(w.creds.cloudflare_token.expose())).await).await;
    assert_envelope(s, &v, 400, 6003);
    assert_eq!(v["errors"][0]["error_chain"][0]["code"], 6111);
    let (s, v) = body(get_v2(&w, &q, Some(&bearer(&w))).await).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["success"], true);
    // Every recorded request hides the credential.
    for r in w.sims.cloudflare.requests() {
        if let Some(auth) = r.header("authorization") {
            assert_eq!(auth, "[redacted]");
        }
    }
}

#[tokio::test]
async fn error_envelope_has_the_api_shape() {
    let Some(example) = spec_example("cloudflare/examples/error_response.spec-example.json") else {
        return;
    };
    let w = world().await;
    let (_, v) = body(get_v2(&w, &[], Some(&bearer(&w))).await).await;
    assert_eq!(keys(&v), keys(&example));
    assert_eq!(keys(&v["errors"][0]), keys(&example["errors"][0]));
}

#[tokio::test]
async fn v2_requires_since_and_before_and_checks_every_parameter() {
    let w = world().await;
    let (since, before) = window(&w);
    let auth = bearer(&w);
    let cases: Vec<(Vec<(&str, String)>, &str)> = vec![
        (vec![("before", before.clone())], "since"),
        (vec![("since", since.clone())], "before"),
        (
            vec![("since", "yesterday".into()), ("before", before.clone())],
            "since",
        ),
        (
            vec![("since", since.clone()), ("before", "1714152667".into())],
            "before",
        ),
        (
            vec![("since", before.clone()), ("before", since.clone())],
            "since",
        ),
        (
            vec![
                ("since", since.clone()),
                ("before", before.clone()),
                ("limit", "0".into()),
            ],
            "limit",
        ),
        (
            vec![
                ("since", since.clone()),
                ("before", before.clone()),
                ("limit", "1001".into()),
            ],
            "limit",
        ),
        (
            vec![
                ("since", since.clone()),
                ("before", before.clone()),
                ("limit", "ten".into()),
            ],
            "limit",
        ),
        (
            vec![
                ("since", since.clone()),
                ("before", before.clone()),
                ("direction", "up".into()),
            ],
            "direction",
        ),
        (
            vec![
                ("since", since.clone()),
                ("before", before.clone()),
                ("cursor", "forged".into()),
            ],
            "cursor",
        ),
    ];
    for (query, names) in cases {
        let (s, v) = body(get_v2(&w, &query, Some(&auth)).await).await;
        assert_envelope(s, &v, 400, 10001);
        let message = v["errors"][0]["message"].as_str().unwrap();
        assert!(message.starts_with(names), "{query:?}: {message}");
    }
    // Dates alone are accepted, as the docs say.
    let day = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d").to_string();
    let query = [
        ("since", day(w.end - chrono::Duration::days(3))),
        ("before", day(w.end + chrono::Duration::days(1))),
    ];
    let (s, _) = body(get_v2(&w, &query, Some(&auth)).await).await;
    assert_eq!(s, 200);
}

#[tokio::test]
async fn unknown_and_foreign_accounts_are_refused() {
    let w = world().await;
    let (since, before) = window(&w);
    let q = [("since", since), ("before", before)];
    for (account, status, code) in [
        ("not-an-id", 404, 7003),
        ("ffffffffffffffffffffffffffffffff", 403, 9109),
    ] {
        let r = w
            .http
            .get(v2_url(&w, account))
            .query(&q)
            .header("Authorization", bearer(&w))
            .send()
            .await
            .unwrap();
        let (s, v) = body(r).await;
        assert_envelope(s, &v, status, code);
    }
    let r = w
        .http
        .get(format!("{}/zones", w.sims.cloudflare.base_url()))
        .send()
        .await
        .unwrap();
    let (s, v) = body(r).await;
    assert_envelope(s, &v, 404, 7000);
}

/// Walks every v2 page; returns the ids in order.
async fn walk_v2(w: &World, limit: u32, direction: &str, extra: &[(&str, String)]) -> Vec<String> {
    let (since, before) = window(w);
    let mut ids = Vec::new();
    let mut cursor: Option<String> = None;
    for _ in 0..10_000 {
        let mut q = vec![
            ("since", since.clone()),
            ("before", before.clone()),
            ("limit", limit.to_string()),
            ("direction", direction.to_owned()),
        ];
        q.extend(extra.iter().cloned());
        if let Some(c) = &cursor {
            q.push(("cursor", c.clone()));
        }
        let response = get_v2(w, &q, Some(&bearer(w))).await;
        let text = response.text().await.unwrap();
        // The pollers' parser reads every page without a rejection.
        let parsed = parse_document(text.as_bytes()).unwrap();
        assert!(parsed.rejected.is_empty(), "{:?}", parsed.rejected);
        let v: Value = serde_json::from_str(&text).unwrap();
        let page: Vec<String> = v["result"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["id"].as_str().unwrap().to_owned())
            .collect();
        assert!(page.len() <= limit as usize);
        assert_eq!(v["result_info"]["count"], page.len().to_string());
        ids.extend(page);
        match v["result_info"]["cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return ids,
        }
    }
    panic!("pagination did not end");
}

#[tokio::test]
async fn v2_pagination_covers_the_range_once_in_order_and_ends() {
    let w = world().await;
    let mut expected: Vec<(chrono::DateTime<chrono::Utc>, String)> = w
        .of_shape(Shape::CloudflareV2)
        .iter()
        .map(|e| (e.time, e.id.clone()))
        .collect();
    expected.sort();
    let oldest_first: Vec<String> = expected.iter().map(|(_, id)| id.clone()).collect();
    assert!(oldest_first.len() > 300, "{}", oldest_first.len());
    assert_eq!(walk_v2(&w, 37, "asc", &[]).await, oldest_first);
    let mut newest_first = oldest_first.clone();
    newest_first.reverse();
    // `direction` defaults to desc, as documented.
    assert_eq!(walk_v2(&w, 1000, "desc", &[]).await, newest_first);
}

#[tokio::test]
async fn v2_filters_by_actor_email_and_its_negation() {
    let w = world().await;
    let email = w.emails(Shape::CloudflareV2).into_iter().next().unwrap();
    let own: Vec<String> = walk_v2(&w, 100, "asc", &[("actor_email", email.to_uppercase())]).await;
    let others = walk_v2(&w, 100, "asc", &[("actor_email.not", email.clone())]).await;
    assert!(!own.is_empty());
    assert_eq!(
        own.len() + others.len(),
        w.of_shape(Shape::CloudflareV2).len()
    );
    for e in w.of_shape(Shape::CloudflareV2) {
        let mine = e.raw.contains(&format!("\"email\":\"{email}\""));
        assert_eq!(own.contains(&e.id), mine, "{}", e.id);
    }
}

#[tokio::test]
async fn v1_pages_by_number_until_an_empty_page() {
    let w = world().await;
    let url = format!(
        "{}/accounts/{ACCOUNT}/audit_logs",
        w.sims.cloudflare.base_url()
    );
    let mut ids = Vec::new();
    for page in 1.. {
        let r = w
            .http
            .get(&url)
            .header("Authorization", bearer(&w))
            .query(&[
                ("per_page", "50"),
                ("page", &page.to_string()),
                ("direction", "asc"),
                ("since", &rfc3339(w.end - chrono::Duration::days(3))),
            ])
            .send()
            .await
            .unwrap();
        let (s, v) = body(r).await;
        assert_eq!(s, 200);
        assert_eq!(keys(&v), ["errors", "messages", "result", "success"]);
        let result = v["result"].as_array().unwrap();
        if result.is_empty() {
            break;
        }
        ids.extend(result.iter().map(|e| e["id"].as_str().unwrap().to_owned()));
        assert!(page < 1000, "did not end");
    }
    assert_eq!(ids.len(), w.of_shape(Shape::CloudflareV1).len());
    let r = w
        .http
        .get(&url)
        .header("Authorization", bearer(&w))
        .query(&[("per_page", "5000")])
        .send()
        .await
        .unwrap();
    let (s, v) = body(r).await;
    assert_envelope(s, &v, 400, 10001);
}

#[tokio::test]
async fn token_details_come_from_the_creation_entry() {
    let w = world().await;
    let feed = w.sims.cloudflare.feed();
    let created = w.of_shape(Shape::CloudflareV2).into_iter().find_map(|e| {
        let v: Value = serde_json::from_str(&e.raw).unwrap();
        (v["resource"]["product"] == "api_tokens"
            && v["action"]["type"] == "create"
            && v["action"]["result"] == "success")
            .then(|| v["resource"]["id"].as_str().unwrap().to_owned())
    });
    let Some(token_id) = created else {
        panic!("the generated history has no token creation; pick another seed");
    };
    let record = feed.token(&token_id).unwrap();
    let base = w.sims.cloudflare.base_url();
    let r = w
        .http
        .get(format!("{base}/accounts/{ACCOUNT}/tokens/{token_id}"))
        .header("Authorization", bearer(&w))
        .send()
        .await
        .unwrap();
    let (s, v) = body(r).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["result"]["id"], token_id.as_str());
    assert_eq!(v["result"]["name"], record.name.as_str());
    let policy = &v["result"]["policies"][0];
    assert_eq!(policy["effect"], "allow");
    assert!(
        policy["id"].is_string() && policy["permission_groups"][0]["id"].is_string(),
        "{policy}"
    );
    assert!(policy["resources"].is_object());
    // An account token is not a user token, and unknown ids are 404.
    for path in [
        format!("{base}/user/tokens/{token_id}"),
        format!("{base}/accounts/{ACCOUNT}/tokens/ffff"),
    ] {
        let (s, v) = body(
            w.http
                .get(path)
                .header("Authorization", bearer(&w))
                .send()
                .await
                .unwrap(),
        )
        .await;
        assert_envelope(s, &v, 404, 7003);
    }
    let (s, v) = body(
        w.http
            .get(format!("{base}/user/tokens/{token_id}"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_envelope(s, &v, 401, 10000);
}

#[tokio::test]
async fn over_the_rate_limit_answers_429_with_retry_after() {
    let w = world_with(SimOptions {
        cloudflare_rate_limit: Some(RateLimit {
            requests: 3,
            window: Duration::from_secs(60),
        }),
        datadog_rate_limit: None,
    })
    .await;
    let (since, before) = window(&w);
    let q = [("since", since), ("before", before)];
    for remaining in (0..3).rev() {
        let r = get_v2(&w, &q, Some(&bearer(&w))).await;
        assert_eq!(r.status(), 200);
        let limit = r.headers()["ratelimit"].to_str().unwrap().to_owned();
        assert!(
            limit.starts_with(&format!("\"default\";r={remaining};t=")),
            "{limit}"
        );
        assert_eq!(r.headers()["ratelimit-policy"], "\"default\";q=3;w=60");
    }
    let r = get_v2(&w, &q, Some(&bearer(&w))).await;
    assert_eq!(r.status(), 429);
    let wait: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");
    let (s, v) = body(r).await;
    assert_envelope(s, &v, 429, 971);
}
