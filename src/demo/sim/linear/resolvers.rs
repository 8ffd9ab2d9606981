//! What each root field does: creating issues and comments (with the
//! client-supplied ids Linear honours), and reading them back.

use std::sync::atomic::Ordering;

use chrono::{SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use super::super::graphql::{self, Field};
use super::super::server::{lock_read, lock_write};
use super::errors::GqlError;
use super::schema::check_input;
use super::{
    COMMENT_INPUT_FIELDS, ISSUE_INPUT_FIELDS, LABELS, LinearComment, LinearIssue, LinearState,
    TEAMS, WORKSPACE, Workspace,
};

fn is_uuid(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.len() == 5
        && groups
            .iter()
            .zip([8, 4, 4, 4, 12])
            .all(|(g, n)| g.len() == n && g.bytes().all(|b| b.is_ascii_hexdigit()))
}

fn new_uuid() -> String {
    let mut rng = fastrand::Rng::new();
    let hex = format!("{:032x}", rng.u128(..));
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

fn team_json(id: &str) -> Value {
    TEAMS.iter().find(|(tid, _, _)| *tid == id).map_or(
        Value::Null,
        |(id, key, name)| json!({"id": id, "key": key, "name": name}),
    )
}

fn label_json((id, name, team): (&str, &str, Option<&str>)) -> Value {
    json!({"id": id, "name": name, "color": "#eb5757", "team": team.map_or(Value::Null, team_json)})
}

fn connection(nodes: Vec<Value>) -> Value {
    let end = nodes
        .last()
        .and_then(|n| n.get("id"))
        .cloned()
        .unwrap_or(Value::Null);
    let start = nodes
        .first()
        .and_then(|n| n.get("id"))
        .cloned()
        .unwrap_or(Value::Null);
    json!({"nodes": nodes, "pageInfo": {"hasNextPage": false, "hasPreviousPage": false, "startCursor": start, "endCursor": end}})
}

fn issue_json(issue: &LinearIssue) -> Value {
    let time = issue
        .created_at
        .to_rfc3339_opts(SecondsFormat::Millis, true);
    let labels: Vec<Value> = LABELS
        .iter()
        .filter(|(id, _, _)| issue.label_ids.iter().any(|l| l == id))
        .map(|l| label_json(*l))
        .collect();
    let priority_label = ["No priority", "Urgent", "High", "Medium", "Low"]
        .get(usize::from(issue.priority))
        .copied()
        .unwrap_or("No priority");
    json!({
        "id": issue.id,
        "identifier": issue.identifier,
        "number": issue.identifier.rsplit('-').next().and_then(|n| n.parse::<u64>().ok()),
        "title": issue.title,
        "description": issue.description,
        "priority": issue.priority,
        "priorityLabel": priority_label,
        "url": issue.url,
        "createdAt": time,
        "updatedAt": time,
        "branchName": format!("soc/{}", issue.identifier.to_lowercase()),
        "team": team_json(&issue.team_id),
        "labels": connection(labels),
    })
}

fn comment_json(comment: &LinearComment, issue: Option<&LinearIssue>) -> Value {
    let time = comment
        .created_at
        .to_rfc3339_opts(SecondsFormat::Millis, true);
    json!({
        "id": comment.id,
        "body": comment.body,
        "url": comment.url,
        "createdAt": time,
        "updatedAt": time,
        "issue": issue.map_or(Value::Null, issue_json),
    })
}

fn find_issue<'a>(workspace: &'a Workspace, key: &str) -> Option<&'a LinearIssue> {
    workspace
        .issues
        .iter()
        .find(|i| i.id == key || i.identifier.eq_ignore_ascii_case(key))
}

fn slug(title: &str) -> String {
    let words: Vec<String> = title
        .split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .take(10)
        .map(str::to_lowercase)
        .collect();
    words.join("-")
}

fn issue_create(state: &LinearState, key: &str, input: &Value) -> Result<Value, GqlError> {
    let input = check_input(input, "IssueCreateInput", &ISSUE_INPUT_FIELDS, &["teamId"])?;
    let text = |name: &str| input.get(name).and_then(Value::as_str);
    let team_id = text("teamId").unwrap_or_default();
    let Some((_, team_key, _)) = TEAMS.iter().find(|(id, _, _)| *id == team_id) else {
        return Err(GqlError::not_found(key, "Team"));
    };
    let title = text("title").map(str::trim).unwrap_or_default();
    if title.is_empty() {
        return Err(GqlError::invalid_input(key, "title must not be empty"));
    }
    let priority = match input.get("priority") {
        None | Some(Value::Null) => 0,
        Some(v) => match v.as_u64().filter(|p| *p <= 4) {
            Some(p) => p as u8,
            None => {
                return Err(GqlError::invalid_input(
                    key,
                    format!("priority must be an integer from 0 to 4, got {v}"),
                ));
            }
        },
    };
    let label_ids: Vec<String> = match input.get("labelIds") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(ids)) => ids
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        Some(other) => {
            return Err(GqlError::invalid_input(
                key,
                format!("labelIds must be a list, got {other}"),
            ));
        }
    };
    if let Some(unknown) = label_ids.iter().find(|id| {
        !LABELS
            .iter()
            .any(|(lid, _, team)| lid == id && team.is_none_or(|t| t == team_id))
    }) {
        return Err(GqlError::invalid_input(
            key,
            format!("label {unknown} does not exist in this team"),
        ));
    }
    let id = match text("id") {
        Some(id) if !is_uuid(id) => {
            return Err(GqlError::invalid_input(key, "id must be a UUID"));
        }
        Some(id) => id.to_lowercase(),
        None => new_uuid(),
    };
    let mut workspace = lock_write(&state.workspace);
    if workspace.issues.iter().any(|i| i.id == id) {
        return Err(GqlError::invalid_input(
            key,
            format!("An issue with id {id} already exists."),
        ));
    }
    let number = workspace
        .issues
        .iter()
        .filter(|i| i.team_id == team_id)
        .count()
        + 1;
    let identifier = format!("{team_key}-{number}");
    let issue = LinearIssue {
        url: format!(
            "{}/{WORKSPACE}/issue/{identifier}/{}",
            lock_read(&state.origin),
            slug(title)
        ),
        id,
        identifier,
        team_id: team_id.to_owned(),
        title: title.to_owned(),
        description: text("description").map(str::to_owned),
        priority,
        label_ids,
        created_at: Utc::now(),
    };
    let answer = json!({
        "success": true,
        "lastSyncId": state.sync_id.fetch_add(1, Ordering::Relaxed) + 1,
        "issue": issue_json(&issue),
    });
    workspace.issues.push(issue);
    Ok(answer)
}

fn comment_create(state: &LinearState, key: &str, input: &Value) -> Result<Value, GqlError> {
    let input = check_input(input, "CommentCreateInput", &COMMENT_INPUT_FIELDS, &[])?;
    let text = |name: &str| input.get(name).and_then(Value::as_str);
    let body = text("body").map(str::trim).unwrap_or_default();
    if body.is_empty() {
        return Err(GqlError::invalid_input(key, "body must not be empty"));
    }
    let Some(issue_key) = text("issueId") else {
        return Err(GqlError::invalid_input(key, "issueId is required"));
    };
    let id = match text("id") {
        Some(id) if !is_uuid(id) => return Err(GqlError::invalid_input(key, "id must be a UUID")),
        Some(id) => id.to_lowercase(),
        None => new_uuid(),
    };
    let mut workspace = lock_write(&state.workspace);
    let Some(issue) = find_issue(&workspace, issue_key).cloned() else {
        return Err(GqlError::not_found(key, "Issue"));
    };
    if workspace.comments.iter().any(|c| c.id == id) {
        return Err(GqlError::invalid_input(
            key,
            format!("A comment with id {id} already exists."),
        ));
    }
    let comment = LinearComment {
        url: format!("{}#comment-{}", issue.url, &id[..8]),
        id,
        issue_id: issue.id.clone(),
        body: body.to_owned(),
        created_at: Utc::now(),
    };
    let answer = json!({
        "success": true,
        "lastSyncId": state.sync_id.fetch_add(1, Ordering::Relaxed) + 1,
        "comment": comment_json(&comment, Some(&issue)),
    });
    workspace.comments.push(comment);
    Ok(answer)
}

pub(super) fn resolve_root(
    state: &LinearState,
    field: &Field,
    variables: &Map<String, Value>,
) -> Result<Value, GqlError> {
    let key = field.response_key();
    let argument = |name: &str| -> Result<Value, GqlError> {
        field
            .argument(name)
            .map(|v| graphql::resolve(v, variables))
            .transpose()
            .map(Option::unwrap_or_default)
            .map_err(|m| GqlError::graphql(m, "GRAPHQL_VALIDATION_FAILED"))
    };
    match field.name.as_str() {
        "issueCreate" => issue_create(state, key, &argument("input")?),
        "commentCreate" => comment_create(state, key, &argument("input")?),
        "issue" => {
            let id = argument("id")?;
            let workspace = lock_read(&state.workspace);
            find_issue(&workspace, id.as_str().unwrap_or_default())
                .map(issue_json)
                .ok_or_else(|| GqlError::not_found(key, "Issue"))
        }
        "comment" => {
            let id = argument("id")?;
            let workspace = lock_read(&state.workspace);
            let comment = workspace
                .comments
                .iter()
                .find(|c| Some(c.id.as_str()) == id.as_str())
                .ok_or_else(|| GqlError::not_found(key, "Comment"))?;
            Ok(comment_json(
                comment,
                find_issue(&workspace, &comment.issue_id),
            ))
        }
        "team" => {
            let id = argument("id")?;
            let team = team_json(id.as_str().unwrap_or_default());
            if team.is_null() {
                Err(GqlError::not_found(key, "Team"))
            } else {
                Ok(team)
            }
        }
        "teams" => Ok(connection(
            TEAMS.iter().map(|(id, _, _)| team_json(id)).collect(),
        )),
        _ => {
            // issueLabels: `filter: {name: {in: [...]}}` or `{name: {eq: "..."}}`.
            let filter = argument("filter")?;
            let names: Option<Vec<String>> = filter
                .pointer("/name/in")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .or_else(|| {
                    filter
                        .pointer("/name/eq")
                        .and_then(Value::as_str)
                        .map(|n| vec![n.to_owned()])
                });
            let nodes = LABELS
                .iter()
                .filter(|(_, name, _)| names.as_ref().is_none_or(|n| n.iter().any(|x| x == name)))
                .map(|l| label_json(*l))
                .collect();
            Ok(connection(nodes))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_checked_by_shape() {
        assert!(is_uuid("2b4a8c1e-7f0d-4e5b-9a3c-1d2e3f4a5b6c"));
        assert!(is_uuid(&new_uuid()));
        assert!(!is_uuid("2b4a8c1e7f0d4e5b9a3c1d2e3f4a5b6c"));
        assert!(!is_uuid("zb4a8c1e-7f0d-4e5b-9a3c-1d2e3f4a5b6c"));
    }
}
