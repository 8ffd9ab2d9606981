//! Every GraphQL document soc-tui sends to Linear, and the variables that go
//! with it. `tests/linear_graphql.rs` validates each document, and the
//! variables actually sent, against Linear's published schema.

use serde_json::{Value, json};

pub const ISSUE_CREATE: &str = "mutation SocIssueCreate($input: IssueCreateInput!) {
  issueCreate(input: $input) { success issue { id identifier url } }
}";

pub const ISSUE_BY_ID: &str = "query SocIssue($id: String!) {
  issue(id: $id) { id identifier url }
}";

/// Labels by name; team-scoped and workspace labels both come back, the
/// sink keeps those usable in its team.
pub const LABELS_BY_NAME: &str = "query SocIssueLabels($names: [String!]!) {
  issueLabels(first: 100, filter: { name: { in: $names } }) { nodes { id name team { id } } }
}";

pub const COMMENT_CREATE: &str = "mutation SocCommentCreate($input: CommentCreateInput!) {
  commentCreate(input: $input) { success comment { id url } }
}";

pub const COMMENT_BY_ID: &str = "query SocComment($id: String!) {
  comment(id: $id) { id url }
}";

/// All of the above, by operation name.
pub const DOCUMENTS: [(&str, &str); 5] = [
    ("SocIssueCreate", ISSUE_CREATE),
    ("SocIssue", ISSUE_BY_ID),
    ("SocIssueLabels", LABELS_BY_NAME),
    ("SocCommentCreate", COMMENT_CREATE),
    ("SocComment", COMMENT_BY_ID),
];

/// The `{query, variables}` body of a GraphQL POST.
pub fn body(document: &str, variables: Value) -> Value {
    json!({ "query": document, "variables": variables })
}

pub struct NewIssue<'a> {
    pub id: &'a str,
    pub team_id: &'a str,
    pub title: &'a str,
    pub description: &'a str,
    pub priority: u8,
    pub label_ids: &'a [String],
}

pub fn issue_create_variables(issue: &NewIssue<'_>) -> Value {
    let mut input = json!({
        "id": issue.id,
        "teamId": issue.team_id,
        "title": issue.title,
        "description": issue.description,
        "priority": issue.priority,
    });
    if !issue.label_ids.is_empty() {
        input["labelIds"] = json!(issue.label_ids);
    }
    json!({ "input": input })
}

pub fn comment_create_variables(id: &str, issue_id: &str, body: &str) -> Value {
    json!({ "input": { "id": id, "issueId": issue_id, "body": body } })
}

pub fn by_id_variables(id: &str) -> Value {
    json!({ "id": id })
}

pub fn labels_variables(names: &[String]) -> Value {
    json!({ "names": names })
}
