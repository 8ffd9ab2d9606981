use serde_json::{Value, json};

use crate::support::{World, body, keys, spec_example, world};

const CREATE: &str = "mutation SocIssueCreate($input: IssueCreateInput!) {\n  issueCreate(input: $input) { success issue { id identifier url } }\n}";
const ISSUE: &str = "query SocIssue($id: String!) {\n  issue(id: $id) { id identifier url }\n}";
const COMMENT: &str = "mutation SocCommentCreate($input: CommentCreateInput!) {\n  commentCreate(input: $input) { success comment { id url } }\n}";

async fn post(w: &World, auth: Option<&str>, request: &Value) -> (u16, Value) {
    let mut r = w.http.post(w.sims.linear.base_url()).json(request);
    if let Some(a) = auth {
        r = r.header("Authorization", a);
    }
    body(r.send().await.unwrap()).await
}

async fn gql(w: &World, query: &str, variables: Value) -> (u16, Value) {
    post(
        w,
        Some(w.creds.linear_api_key.expose()),
        &json!({"query": query, "variables": variables}),
    )
    .await
}

fn issue_input(w: &World, id: &str) -> Value {
    json!({"input": {"id": id, "teamId": w.sims.linear.team_id(), "title": "Broad token minted at night",
                     "description": "soc-tui finding", "priority": 2}})
}

fn error_type(v: &Value) -> &str {
    v["errors"][0]["extensions"]["type"].as_str().unwrap_or("")
}

#[tokio::test]
async fn the_api_key_goes_in_authorization_without_bearer() {
    let w = world().await;
    let request = json!({"query": "{ teams { nodes { id } } }"});
    let key = w.creds.linear_api_key.expose();
    for auth in [
        None,
        Some(format!("Bearer {key}")),
        Some("lin_api_wrong".to_owned()),
    ] {
        let (s, v) = post(&w, auth.as_deref(), &request).await;
        assert_eq!(s, 400, "{v}");
        assert_eq!(error_type(&v), "authentication error", "{v}");
        assert!(v.get("data").is_none());
    }
    let (s, v) = post(&w, Some(key), &request).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        v["data"]["teams"]["nodes"][0]["id"],
        w.sims.linear.team_id()
    );
}

#[tokio::test]
async fn issue_create_honours_the_client_id_and_refuses_it_twice() {
    let w = world().await;
    let id = "2b4a8c1e-7f0d-4e5b-9a3c-1d2e3f4a5b6c";
    let (s, v) = gql(&w, CREATE, issue_input(&w, id)).await;
    assert_eq!(s, 200, "{v}");
    let issue = &v["data"]["issueCreate"]["issue"];
    assert_eq!(v["data"]["issueCreate"]["success"], true);
    // Exactly the selected fields.
    assert_eq!(keys(issue), ["id", "identifier", "url"]);
    assert_eq!(issue["id"], id);
    assert_eq!(issue["identifier"], "SEC-1");
    let (s, v) = gql(&w, CREATE, issue_input(&w, id)).await;
    assert_eq!(s, 200);
    assert_eq!(v["data"], Value::Null, "{v}");
    assert_eq!(error_type(&v), "invalid input");
    assert_eq!(v["errors"][0]["path"][0], "issueCreate");
    assert_eq!(w.sims.linear.issues().len(), 1);
    // Asked for by that id (how the sink confirms an earlier attempt).
    let (_, v) = gql(&w, ISSUE, json!({"id": id})).await;
    assert_eq!(v["data"]["issue"]["identifier"], "SEC-1");
    let (_, v) = gql(&w, ISSUE, json!({"id": "SEC-1"})).await;
    assert_eq!(v["data"]["issue"]["id"], id);
    let (_, v) = gql(
        &w,
        ISSUE,
        json!({"id": "7f0d2b4a-8c1e-4e5b-9a3c-1d2e3f4a5b6c"}),
    )
    .await;
    assert_eq!(v["data"], Value::Null);
    assert_eq!(v["errors"][0]["message"], "Entity not found: Issue");
}

#[tokio::test]
async fn required_variables_and_fields_are_checked_before_anything_runs() {
    let w = world().await;
    let team = w.sims.linear.team_id();
    let cases: Vec<(&str, Value, u16, &str)> = vec![
        (
            CREATE,
            json!({}),
            400,
            "Variable \"$input\" of required type \"IssueCreateInput!\" was not provided.",
        ),
        (
            CREATE,
            json!({"input": {"title": "t"}}),
            400,
            "Field \"teamId\" of required type \"String!\" was not provided.",
        ),
        (
            CREATE,
            json!({"input": {"teamId": team, "title": "t", "severity": 1}}),
            400,
            "Field \"severity\" is not defined by type \"IssueCreateInput\".",
        ),
        (CREATE, json!({"input": "nope"}), 400, "got invalid value"),
        (
            "mutation { issueCreate(input: {teamId: \"x\", title: \"t\"}) { success issue { id nonsense } } }",
            json!({}),
            400,
            "Cannot query field \"nonsense\" on type \"Issue\".",
        ),
        (
            "mutation { issueCreate(input: {teamId: \"x\", title: \"t\"}) { success issue } }",
            json!({}),
            400,
            "must have a selection of subfields",
        ),
        (
            "query { issueCreate(input: {}) { success } }",
            json!({}),
            400,
            "Cannot query field \"issueCreate\" on type \"Query\".",
        ),
        (
            "query { issue { id } }",
            json!({}),
            400,
            "argument \"id\" of type \"String!\" is required",
        ),
        (
            "query { issue(id: \"x\", foo: 1) { id } }",
            json!({}),
            400,
            "Unknown argument \"foo\"",
        ),
        (
            "query { issue(id: $nope) { id } }",
            json!({}),
            400,
            "Variable \"$nope\" is not defined.",
        ),
        (
            "mutation { issueCreate(input: ) { success } }",
            json!({}),
            400,
            "Syntax Error",
        ),
    ];
    for (query, variables, status, message) in cases {
        let (s, v) = gql(&w, query, variables).await;
        assert_eq!(s, status, "{query}: {v}");
        let got = v["errors"][0]["message"].as_str().unwrap_or_default();
        assert!(got.contains(message), "{query}: {got:?} lacks {message:?}");
    }
    let (_, v) = gql(
        &w,
        "mutation { issueCreate(input: ) { success } }",
        json!({}),
    )
    .await;
    assert_eq!(
        v["errors"][0]["locations"][0],
        json!({"line": 1, "column": 31})
    );
    // Resolver-level input errors.
    for (input, message) in [
        (
            json!({"teamId": "00000000-0000-4000-8000-000000000000", "title": "t"}),
            "Entity not found: Team",
        ),
        (
            json!({"teamId": team, "title": "   "}),
            "Argument Validation Error",
        ),
        (
            json!({"teamId": team, "title": "t", "id": "not-a-uuid"}),
            "Argument Validation Error",
        ),
        (
            json!({"teamId": team, "title": "t", "priority": 9}),
            "Argument Validation Error",
        ),
        (
            json!({"teamId": team, "title": "t", "labelIds": ["missing"]}),
            "Argument Validation Error",
        ),
    ] {
        let (s, v) = gql(&w, CREATE, json!({"input": input})).await;
        assert_eq!(s, 200);
        assert_eq!(v["errors"][0]["message"], message, "{v}");
        assert_eq!(error_type(&v), "invalid input");
    }
    assert!(
        w.sims.linear.issues().is_empty(),
        "nothing invalid was created"
    );
    for bad in [
        "{",
        r#"{"variables":{}}"#,
        r#"{"query":"{ teams { nodes { id } } }","variables":[1]}"#,
    ] {
        let r = w
            .http
            .post(w.sims.linear.base_url())
            .header("Authorization", w.creds.linear_api_key.expose())
            .header("content-type", "application/json")
            .body(bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400, "{bad}");
    }
}

#[tokio::test]
async fn comments_attach_to_issues_and_ids_stay_unique() {
    let w = world().await;
    let (_, v) = gql(
        &w,
        CREATE,
        json!({"input": {"teamId": w.sims.linear.team_id(), "title": "t"}}),
    )
    .await;
    let issue_id = v["data"]["issueCreate"]["issue"]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let comment = |id: &str, issue: &str| json!({"input": {"id": id, "issueId": issue, "body": "Investigation approved."}});
    let cid = "0f1e2d3c-4b5a-4968-8776-655443322110";
    let (_, v) = gql(&w, COMMENT, comment(cid, &issue_id)).await;
    assert_eq!(v["data"]["commentCreate"]["success"], true, "{v}");
    assert_eq!(v["data"]["commentCreate"]["comment"]["id"], cid);
    let (_, v) = gql(&w, COMMENT, comment(cid, &issue_id)).await;
    assert_eq!(error_type(&v), "invalid input");
    let (_, v) = gql(
        &w,
        COMMENT,
        comment("1f1e2d3c-4b5a-4968-8776-655443322110", "SEC-99"),
    )
    .await;
    assert_eq!(v["errors"][0]["message"], "Entity not found: Issue");
    let comments = w.sims.linear.comments();
    assert_eq!(comments.len(), 1);
    assert_eq!(comments[0].issue_id, issue_id);
    // Fragments, aliases and __typename, as the SDK documents use them.
    let query = "query Q($id: String!) { c: comment(id: $id) { ...C } } fragment C on Comment { __typename id issue { identifier team { key } } }";
    let (_, v) = gql(&w, query, json!({"id": cid})).await;
    assert_eq!(
        v["data"]["c"],
        json!({"__typename": "Comment", "id": cid, "issue": {"identifier": "SEC-1", "team": {"key": "SEC"}}})
    );
}

#[tokio::test]
async fn labels_are_found_by_name_as_the_sink_asks() {
    let w = world().await;
    let query = "query SocIssueLabels($names: [String!]!) {\n  issueLabels(first: 100, filter: { name: { in: $names } }) { nodes { id name team { id } } }\n}";
    let (s, v) = gql(
        &w,
        query,
        json!({"names": ["soc-tui", "security", "absent"]}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let nodes = v["data"]["issueLabels"]["nodes"].as_array().unwrap();
    let names: Vec<&str> = nodes.iter().map(|n| n["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["security", "soc-tui"]);
    assert_eq!(
        nodes[0]["team"],
        Value::Null,
        "a workspace label has no team"
    );
    assert_eq!(nodes[1]["team"]["id"], w.sims.linear.team_id());
    let (s, v) = gql(&w, query, json!({"names": "soc-tui"})).await;
    assert_eq!(
        s, 200,
        "a single value is coerced to a list, as GraphQL does: {v}"
    );
    let (s, _) = gql(&w, query, json!({"names": [1]})).await;
    assert_eq!(s, 400);
}

#[tokio::test]
async fn the_captured_examples_are_served_in_their_shape() {
    let w = world().await;
    let Some(request) = spec_example("linear/examples/issueCreate.request.SYNTHESIZED.json") else {
        return;
    };
    let Some(response) = spec_example("linear/examples/issueCreate.response.SYNTHESIZED.json")
    else {
        return;
    };
    let (s, v) = post(&w, Some(w.creds.linear_api_key.expose()), &request).await;
    assert_eq!(s, 200, "{v}");
    let (got, want) = (&v["data"]["issueCreate"], &response["data"]["issueCreate"]);
    assert_eq!(keys(got), keys(want));
    assert_eq!(keys(&got["issue"]), keys(&want["issue"]));
    assert_eq!(got["issue"]["team"], want["issue"]["team"]);
    if let Some(teams) = spec_example("linear/examples/teams.request-response.SYNTHESIZED.json") {
        let (_, v) = post(&w, Some(w.creds.linear_api_key.expose()), &teams["request"]).await;
        assert_eq!(
            v["data"]["teams"]["nodes"][0],
            teams["response"]["data"]["teams"]["nodes"][0]
        );
        assert_eq!(
            keys(&v["data"]["teams"]["pageInfo"]),
            keys(&teams["response"]["data"]["teams"]["pageInfo"])
        );
    }
}
