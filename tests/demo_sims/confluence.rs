use base64::Engine;
use serde_json::{Value, json};

use crate::support::{World, body, keys, spec_example, world};

fn api(w: &World, path: &str) -> String {
    format!("{}/api/v2{path}", w.sims.confluence.base_url())
}

fn basic(email: &str, token: &str) -> String {
    let raw = format!("{email}:{token}");
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(raw)
    )
}

fn auth(w: &World) -> String {
    basic(&w.creds.confluence_email, w.creds.confluence_token.expose())
}

async fn space_id(w: &World) -> String {
    let r = w
        .http
        .get(api(w, "/spaces"))
        .query(&[("keys", "SOC")])
        .header("Authorization", auth(w))
        .send()
        .await
        .unwrap();
    let (s, v) = body(r).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["results"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["results"][0]["key"], "SOC");
    v["results"][0]["id"].as_str().unwrap().to_owned()
}

async fn create(w: &World, page: &Value) -> (u16, Value) {
    body(
        w.http
            .post(api(w, "/pages"))
            .header("Authorization", auth(w))
            .json(page)
            .send()
            .await
            .unwrap(),
    )
    .await
}

fn page(space: &str, title: &str, storage: &str) -> Value {
    json!({"spaceId": space, "status": "current", "title": title,
           "body": {"representation": "storage", "value": storage}})
}

fn assert_error(status: u16, v: &Value, want: u16, contains: &str) {
    assert_eq!(status, want, "{v}");
    let error = &v["errors"][0];
    assert_eq!(error["status"], want, "{v}");
    let title = error["title"].as_str().unwrap();
    assert!(title.contains(contains), "{title:?} lacks {contains:?}");
}

#[tokio::test]
async fn basic_auth_with_the_account_email_and_token_is_required() {
    let w = world().await;
    let token = w.creds.confluence_token.expose();
    for header in [
        None,
        Some(basic("someone@example.com", token)),
        Some(basic(&w.creds.confluence_email, "wrong")),
        Some(format!("Bearer {token}")),
        Some("Basic !!!".to_owned()),
    ] {
        let mut request = w.http.get(api(&w, "/spaces"));
        if let Some(h) = &header {
            request = request.header("Authorization", h);
        }
        let r = request.send().await.unwrap();
        assert!(r.headers().contains_key("www-authenticate"));
        let (s, v) = body(r).await;
        assert_error(s, &v, 401, "Unauthorized");
    }
}

#[tokio::test]
async fn a_valid_page_is_created_found_and_viewable() {
    let w = world().await;
    let space = space_id(&w).await;
    let storage = "<h2>Summary</h2><p>Token &ldquo;deploy-all&rdquo; minted at 03:12 &amp; roles granted.</p>\
                   <ac:structured-macro ac:name=\"info\"><ac:rich-text-body><p>draft</p></ac:rich-text-body></ac:structured-macro>";
    let (s, v) = create(&w, &page(&space, "INV-1: mallory <night> token", storage)).await;
    assert_eq!(s, 200, "{v}");
    let id = v["id"].as_str().unwrap().to_owned();
    assert!(id.parse::<u64>().is_ok());
    let base = v["_links"]["base"].as_str().unwrap();
    let webui = v["_links"]["webui"].as_str().unwrap();
    assert_eq!(base, w.sims.confluence.base_url());
    assert!(
        webui.starts_with(&format!("/spaces/SOC/pages/{id}/")),
        "{webui}"
    );
    if let Some(example) = spec_example("confluence/examples/create_page_v2.200.SYNTHESIZED.json") {
        assert_eq!(keys(&v), keys(&example));
        assert_eq!(keys(&v["_links"]), keys(&example["_links"]));
    }
    // Kept for the TUI, and findable by title the way the sink looks for it.
    let pages = w.sims.confluence.pages();
    assert_eq!(pages.len(), 1);
    assert_eq!(pages[0].body, storage);
    assert_eq!(pages[0].url, format!("{base}{webui}"));
    let r = w
        .http
        .get(api(&w, "/pages"))
        .header("Authorization", auth(&w))
        .query(&[
            ("space-id", space.as_str()),
            ("title", "INV-1: mallory <night> token"),
            ("status", "current"),
        ])
        .send()
        .await
        .unwrap();
    let (_, found) = body(r).await;
    assert_eq!(found["results"][0]["id"], id.as_str());
    assert_eq!(found["_links"]["base"], base);
    let r = w
        .http
        .get(api(&w, &format!("/pages/{id}")))
        .query(&[("body-format", "storage")])
        .header("Authorization", auth(&w))
        .send()
        .await
        .unwrap();
    let (s, got) = body(r).await;
    assert_eq!(s, 200);
    assert_eq!(got["body"]["storage"]["value"], storage);
    // The link shown to the analyst opens.
    let html = w.http.get(&pages[0].url).send().await.unwrap();
    assert_eq!(html.status(), 200);
    let text = html.text().await.unwrap();
    assert!(
        text.contains("INV-1: mallory &lt;night&gt; token"),
        "{text}"
    );
    // A child page under it, with the nested body form.
    let child = json!({"spaceId": space, "title": "INV-1 evidence", "parentId": id,
                       "body": {"storage": {"representation": "storage", "value": "<p>x</p>"}}});
    let (s, v) = create(&w, &child).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["parentId"], id.as_str());
}

#[tokio::test]
async fn duplicate_titles_are_refused_like_confluence() {
    let w = world().await;
    let space = space_id(&w).await;
    let (s, _) = create(&w, &page(&space, "Weekly report", "<p>one</p>")).await;
    assert_eq!(s, 200);
    let (s, v) = create(&w, &page(&space, "weekly REPORT", "<p>two</p>")).await;
    assert_error(s, &v, 400, "A page with this title already exists");
    // A draft may share the title; another space may too.
    let mut draft = page(&space, "Weekly report", "<p>d</p>");
    draft["status"] = json!("draft");
    assert_eq!(create(&w, &draft).await.0, 200);
    assert_eq!(w.sims.confluence.pages().len(), 2);
}

#[tokio::test]
async fn malformed_storage_and_invalid_fields_are_refused() {
    let w = world().await;
    let space = space_id(&w).await;
    let cases: Vec<(Value, u16, &str)> = vec![
        (page(&space, "a", "<p>unclosed"), 400, "Error parsing xhtml"),
        (
            page(&space, "b", "<p><b>x</p></b>"),
            400,
            "Error parsing xhtml",
        ),
        (
            page(&space, "c", "<p>fish & chips</p>"),
            400,
            "Error parsing xhtml",
        ),
        (
            page(&space, "d", "<p>&bogus;</p>"),
            400,
            "Undeclared general entity",
        ),
        (
            json!({"spaceId": space, "title": "e", "body": {"representation": "wiki", "value": "h1. x"}}),
            400,
            "storage",
        ),
        (
            json!({"spaceId": space, "title": "f", "body": {"representation": "html", "value": "<p/>"}}),
            400,
            "representation",
        ),
        (
            json!({"spaceId": space, "title": "g", "body": {"representation": "storage"}}),
            400,
            "body.value",
        ),
        (
            json!({"title": "h", "body": {"representation": "storage", "value": "<p/>"}}),
            400,
            "spaceId",
        ),
        (json!({"spaceId": 98305, "title": "i"}), 400, "spaceId"),
        (json!({"spaceId": "SOC", "title": "j"}), 400, "spaceId"),
        (json!({"spaceId": "4242", "title": "k"}), 404, "not found"),
        (
            json!({"spaceId": space, "title": "l", "status": "published"}),
            400,
            "status",
        ),
        (json!({"spaceId": space, "status": "current"}), 400, "title"),
        (
            json!({"spaceId": space, "title": "x".repeat(256)}),
            400,
            "title",
        ),
        (
            json!({"spaceId": space, "title": "m", "parentId": "999999"}),
            404,
            "Parent page",
        ),
        (json!(["not", "an", "object"]), 400, "JSON object"),
    ];
    for (request, status, contains) in cases {
        let (s, v) = create(&w, &request).await;
        assert_error(s, &v, status, contains);
    }
    let r = w
        .http
        .post(api(&w, "/pages"))
        .header("Authorization", auth(&w))
        .header("content-type", "application/json")
        .body("{")
        .send()
        .await
        .unwrap();
    let (s, v) = body(r).await;
    assert_error(s, &v, 400, "Invalid JSON");
    let huge = page(
        &space,
        "big",
        &format!("<p>{}</p>", "x".repeat(5 * 1024 * 1024)),
    );
    let (s, v) = create(&w, &huge).await;
    assert_error(s, &v, 413, "too large");
    assert!(
        w.sims.confluence.pages().is_empty(),
        "nothing invalid was kept"
    );
}
