//! The three Confluence v2 calls a page needs, and reading their answers.
//! Paths are relative to the API root (`https://<site>/wiki/api/v2`).

use serde_json::{Value, json};
use url::Url;

use super::super::call::{Auth, Call};
use super::super::{Delivered, SinkError, SinkKind};

/// `GET /spaces?keys=KEY`: the numeric id `POST /pages` wants.
pub(super) fn space_call(spaces: Url, space_key: &str) -> Call {
    let mut url = spaces;
    url.query_pairs_mut().append_pair("keys", space_key);
    Call::get("look up the space id", url, Auth::Basic)
}

/// `GET /pages?space-id=ID&title=T&status=current`: an earlier attempt's page.
pub(super) fn find_page_call(pages: Url, space_id: &str, title: &str) -> Call {
    let mut url = pages;
    url.query_pairs_mut()
        .append_pair("space-id", space_id)
        .append_pair("title", title)
        .append_pair("status", "current");
    Call::get("look for a page with this title", url, Auth::Basic)
}

pub(super) struct NewPage<'a> {
    pub space_id: &'a str,
    pub parent_id: Option<&'a str>,
    pub title: &'a str,
    pub storage_body: &'a str,
}

/// `POST /pages` in storage representation.
pub(super) fn create_page_call(pages: Url, page: &NewPage<'_>) -> Call {
    let mut body = json!({
        "spaceId": page.space_id,
        "status": "current",
        "title": page.title,
        "body": { "representation": "storage", "value": page.storage_body },
    });
    if let Some(parent) = page.parent_id {
        body["parentId"] = json!(parent);
    }
    Call::post("create the page", pages, body, Auth::Basic)
}

/// The id of the space in a `GET /spaces` answer.
pub(super) fn space_id(body: &[u8], space_key: &str) -> Result<String, SinkError> {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    space_id_in(&value, space_key).ok_or_else(|| {
        SinkError::permanent(
            SinkKind::Confluence,
            format!(
                "space {space_key:?} not found, or the account cannot see it \
                 (check confluence.space_key and the API token's access)"
            ),
        )
    })
}

/// The id of the space whose key is `space_key` in a parsed `GET /spaces`
/// answer (a result without a key is taken as the one asked for).
pub(crate) fn space_id_in(answer: &Value, space_key: &str) -> Option<String> {
    answer["results"]
        .as_array()?
        .iter()
        .find(|space| space["key"].as_str().is_none_or(|key| key == space_key))
        .and_then(|space| match &space["id"] {
            Value::String(id) => Some(id.clone()),
            Value::Number(id) => Some(id.to_string()),
            _ => None,
        })
}

/// The first page of a `GET /pages` answer whose title is exactly `title`
/// (the title filter is exact, but checking costs nothing).
pub(super) fn found_page(body: &[u8], title: &str, site: &str) -> Option<Delivered> {
    let value: Value = serde_json::from_slice(body).ok()?;
    let base = value["_links"]["base"].as_str().unwrap_or(site);
    let page = value["results"]
        .as_array()?
        .iter()
        .find(|page| page["title"].as_str() == Some(title))?;
    let (id, url) = page_link(page, base)?;
    Some(Delivered::found(id, url))
}

/// The page of a `POST /pages` answer. Confluence documents 200; 201 is
/// accepted too.
pub(super) fn created_page(body: &[u8], site: &str) -> Result<Delivered, SinkError> {
    let value: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let base = value["_links"]["base"].as_str().unwrap_or(site);
    let (id, url) = page_link(&value, base).ok_or_else(|| {
        SinkError::permanent(
            SinkKind::Confluence,
            "POST /pages: the answer has no page id",
        )
    })?;
    Ok(Delivered::created(id, url))
}

fn page_link(page: &Value, base: &str) -> Option<(String, Option<String>)> {
    let id = match &page["id"] {
        Value::String(id) => id.clone(),
        Value::Number(id) => id.to_string(),
        _ => return None,
    };
    let url = page["_links"]["webui"]
        .as_str()
        .map(|webui| format!("{}{webui}", base.trim_end_matches('/')));
    Some((id, url))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn root() -> Url {
        Url::parse("https://example.atlassian.net/wiki/api/v2/pages").expect("url")
    }

    #[test]
    fn find_page_encodes_title_and_space() {
        let call = find_page_call(root(), "98304", "[SOC] a & b");
        assert_eq!(
            call.url.as_str(),
            "https://example.atlassian.net/wiki/api/v2/pages?space-id=98304&title=%5BSOC%5D+a+%26+b&status=current"
        );
    }

    #[test]
    fn create_body_is_storage_with_optional_parent() {
        let page = NewPage {
            space_id: "98304",
            parent_id: Some("123"),
            title: "t",
            storage_body: "<p>x</p>",
        };
        let body = create_page_call(root(), &page).body.expect("body");
        assert_eq!(
            body,
            json!({"spaceId": "98304", "status": "current", "title": "t", "parentId": "123",
                   "body": {"representation": "storage", "value": "<p>x</p>"}})
        );
    }

    #[test]
    fn answers_give_ids_and_links() {
        assert_eq!(
            space_id(br#"{"results":[{"id":"98304","key":"SEC"}]}"#, "SEC").unwrap(),
            "98304"
        );
        assert!(
            space_id(br#"{"results":[]}"#, "SEC")
                .unwrap_err()
                .is_permanent()
        );
        let found = found_page(
            br#"{"results":[{"id":"7","title":"t","_links":{"webui":"/spaces/SEC/pages/7/t"}}],"_links":{"base":"https://x.atlassian.net/wiki"}}"#,
            "t",
            "https://fallback/wiki",
        )
        .expect("found");
        assert_eq!(
            found.url.as_deref(),
            Some("https://x.atlassian.net/wiki/spaces/SEC/pages/7/t")
        );
        assert!(found.already_delivered);
        assert!(found_page(br#"{"results":[{"id":"7","title":"other"}]}"#, "t", "s").is_none());
        let created = created_page(
            br#"{"id":"9","_links":{"webui":"/p/9"}}"#,
            "https://s/wiki/",
        )
        .unwrap();
        assert_eq!(created.url.as_deref(), Some("https://s/wiki/p/9"));
    }
}
