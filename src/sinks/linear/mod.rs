//! Linear: `issueCreate` with a client-supplied issue id derived from the
//! finding's dedup key, `commentCreate` (same scheme) for updates.
//!
//! Linear refuses a second entity with an id it already has, so a retry
//! cannot create a second issue. When a create fails for any reason other
//! than the network, the sink asks for the entity by that id: if it exists,
//! an earlier attempt got through and the delivery is done.

pub mod documents;
mod response;

use serde_json::Value;
use url::Url;

use crate::config::{HttpConfig, LinearConfig, LinearLabels, LinearPriorities};
use crate::detect::finding::Workflow;
use crate::secrets::{Credential, Resolver, Secret};
use crate::sources::http::{HttpClient, HttpError, RateLimitState, Service};

use super::call::{Auth, Call, Credentials};
use super::idempotency::{IdPurpose, derived_uuid};
use super::request::DeliveryRequest;
use super::setup::http_client;
use super::{Delivered, DeliveryFuture, Preview, Sink, SinkError, SinkKind, SinkSetupError};

use documents::NewIssue;
use response::Answer;

/// Personal API keys go in `Authorization` as they are (no `Bearer`).
const AUTH: Auth = Auth::Header("Authorization");

pub struct LinearSink {
    client: HttpClient,
    team_id: String,
    api_key: Secret,
    /// `[linear.labels]`: added to every issue of that workflow.
    workflow_labels: LinearLabels,
    /// `[linear.priorities]`: the priority sent for a request's severity.
    priorities: LinearPriorities,
}

/// The issue or comment a request creates, and how to find it again.
struct Target {
    id: String,
    create: Call,
    lookup: Call,
    /// `data.<field>` of the create and of the lookup.
    created_field: &'static str,
    entity_field: &'static str,
    lookup_field: &'static str,
}

impl LinearSink {
    /// The service's rate-limit state (blocks after a 429), shared by every call.
    pub fn rate_limit(&self) -> &RateLimitState {
        self.client.rate_limit()
    }

    /// `client`'s base is the GraphQL endpoint (`https://api.linear.app/graphql`).
    pub fn new(client: HttpClient, team_id: impl Into<String>, api_key: Secret) -> LinearSink {
        LinearSink {
            client,
            team_id: team_id.into(),
            api_key,
            workflow_labels: LinearLabels::default(),
            priorities: LinearPriorities::default(),
        }
    }

    /// Priorities from `[linear.priorities]`, by the request's severity.
    pub fn with_priorities(mut self, priorities: LinearPriorities) -> LinearSink {
        self.priorities = priorities;
        self
    }

    /// Labels from `[linear.labels]`, added per workflow to the finding's own.
    pub fn with_workflow_labels(mut self, labels: LinearLabels) -> LinearSink {
        self.workflow_labels = labels;
        self
    }

    /// The request's labels, then the configured ones for its workflow,
    /// without repeats.
    fn label_names(&self, request: &DeliveryRequest) -> Vec<String> {
        let DeliveryRequest::LinearIssue {
            labels, workflow, ..
        } = request
        else {
            return Vec::new();
        };
        let configured: &[String] = match workflow {
            Some(Workflow::Baseline) => &self.workflow_labels.baseline,
            Some(Workflow::Burst) => &self.workflow_labels.bursts,
            Some(Workflow::Token) => &self.workflow_labels.tokens,
            Some(Workflow::Investigation) => &self.workflow_labels.investigation,
            None => &[],
        };
        let mut names: Vec<String> = Vec::new();
        for name in labels.iter().chain(configured) {
            if !names.contains(name) {
                names.push(name.clone());
            }
        }
        names
    }

    /// `None` when no team is configured.
    pub fn from_config(
        config: &LinearConfig,
        http: &HttpConfig,
        resolver: &Resolver<'_>,
    ) -> Result<Option<LinearSink>, SinkSetupError> {
        let Some(team_id) = &config.team_id else {
            return Ok(None);
        };
        let (api_key, _) = resolver.require(Credential::LinearApiKey)?;
        let client = http_client(Service::Linear, config.api_url.as_str(), http)?;
        Ok(Some(
            LinearSink::new(client, team_id, api_key)
                .with_workflow_labels(config.labels.clone())
                .with_priorities(config.priorities),
        ))
    }

    /// The id an issue for this dedup key gets (and keeps across retries).
    pub fn issue_id(dedup_key: &str) -> String {
        derived_uuid(IdPurpose::LinearIssue, dedup_key).to_string()
    }

    pub fn comment_id(dedup_key: &str) -> String {
        derived_uuid(IdPurpose::LinearComment, dedup_key).to_string()
    }

    fn endpoint(&self) -> Url {
        self.client.url(&[])
    }

    fn graphql(&self, purpose: &str, document: &str, variables: Value) -> Call {
        Call::post(
            purpose,
            self.endpoint(),
            documents::body(document, variables),
            AUTH,
        )
    }

    fn labels_call(&self, names: &[String]) -> Call {
        self.graphql(
            "find the label ids",
            documents::LABELS_BY_NAME,
            documents::labels_variables(names),
        )
    }

    fn target(&self, request: &DeliveryRequest, label_ids: &[String]) -> Result<Target, SinkError> {
        match request {
            DeliveryRequest::LinearIssue {
                dedup_key,
                title,
                body_markdown,
                priority,
                rule_severity,
                ..
            } => {
                let id = LinearSink::issue_id(dedup_key);
                let variables = documents::issue_create_variables(&NewIssue {
                    id: &id,
                    team_id: &self.team_id,
                    title,
                    description: body_markdown,
                    priority: rule_severity.map_or(*priority, |s| self.priorities.of(s)),
                    label_ids,
                });
                Ok(Target {
                    create: self.graphql("create the issue", documents::ISSUE_CREATE, variables),
                    lookup: self.graphql(
                        "only if the create fails: find the issue an earlier attempt created",
                        documents::ISSUE_BY_ID,
                        documents::by_id_variables(&id),
                    ),
                    id,
                    created_field: "issueCreate",
                    entity_field: "issue",
                    lookup_field: "issue",
                })
            }
            DeliveryRequest::LinearComment {
                dedup_key,
                issue_id,
                body_markdown,
            } => {
                let id = LinearSink::comment_id(dedup_key);
                let variables = documents::comment_create_variables(&id, issue_id, body_markdown);
                Ok(Target {
                    create: self.graphql(
                        "comment on the issue",
                        documents::COMMENT_CREATE,
                        variables,
                    ),
                    lookup: self.graphql(
                        "only if the create fails: find the comment an earlier attempt created",
                        documents::COMMENT_BY_ID,
                        documents::by_id_variables(&id),
                    ),
                    id,
                    created_field: "commentCreate",
                    entity_field: "comment",
                    lookup_field: "comment",
                })
            }
            _ => Err(SinkError::permanent(
                SinkKind::Linear,
                "not a Linear request",
            )),
        }
    }

    async fn post(&self, call: &Call) -> Result<Answer, HttpError> {
        let credentials = Credentials::Value(self.api_key.expose());
        let response = self
            .client
            .fetch(|http| call.request(http, Some(credentials)))
            .await?;
        Ok(response::parse(&response.body))
    }

    /// Label names to ids usable in the team; names not found are reported
    /// in the delivery note rather than failing the ticket.
    async fn label_ids(
        &self,
        names: &[String],
    ) -> Result<(Vec<String>, Option<String>), SinkError> {
        if names.is_empty() {
            return Ok((Vec::new(), None));
        }
        let answer = self
            .post(&self.labels_call(names))
            .await
            .map_err(|e| SinkError::from_http(SinkKind::Linear, &e))?;
        if !answer.errors.is_empty() {
            return Err(response::failure("issueLabels", &answer.errors));
        }
        let nodes = answer.data["issueLabels"]["nodes"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let mut ids = Vec::new();
        let mut missing = Vec::new();
        for name in names {
            let usable = nodes.iter().find(|node| {
                node["name"].as_str() == Some(name.as_str())
                    && (node["team"].is_null() || node["team"]["id"] == self.team_id.as_str())
            });
            match usable.and_then(|node| node["id"].as_str()) {
                Some(id) => ids.push(id.to_owned()),
                None => missing.push(name.as_str()),
            }
        }
        let note = (!missing.is_empty()).then(|| {
            format!(
                "labels not found in the team, left off: {}",
                missing.join(", ")
            )
        });
        Ok((ids, note))
    }

    async fn create_or_find(&self, target: &Target) -> Result<Delivered, SinkError> {
        let operation = target.created_field;
        let failure = match self.post(&target.create).await {
            Ok(answer) if answer.errors.is_empty() => {
                let created = &answer.data[operation];
                if created["success"] == true
                    && let Some(entity) = entity(&created[target.entity_field])
                {
                    return Ok(Delivered::created(entity.0, entity.1));
                }
                SinkError::permanent(
                    SinkKind::Linear,
                    format!("{operation}: the answer reports no success and no errors"),
                )
            }
            Ok(answer) => response::failure(operation, &answer.errors),
            // The network lost the request or its answer: it may or may not
            // have been applied; the next attempt's create will tell.
            Err(error) if error.status().is_none() => {
                return Err(SinkError::from_http(SinkKind::Linear, &error));
            }
            Err(error) => SinkError::from_http(SinkKind::Linear, &error),
        };
        match self.find(target).await? {
            Some(found) => Ok(found),
            None => Err(failure),
        }
    }

    /// The entity with the target's id, if Linear has it. "Not found" comes
    /// back as a GraphQL error, so any answer without the entity means no.
    async fn find(&self, target: &Target) -> Result<Option<Delivered>, SinkError> {
        let answer = self
            .post(&target.lookup)
            .await
            .map_err(|e| SinkError::from_http(SinkKind::Linear, &e))?;
        let found = entity(&answer.data[target.lookup_field])
            .filter(|(id, _)| id.eq_ignore_ascii_case(&target.id))
            .map(|(id, url)| Delivered::found(id, url));
        // "Not found" is a permanent-kind error; a transient one (rate
        // limit, internal error) means the answer is still unknown.
        if found.is_none() && answer.errors.iter().any(|e| e.is_transient()) {
            return Err(response::failure(target.lookup_field, &answer.errors));
        }
        Ok(found)
    }
}

/// `(id, url)` of an issue or comment object.
fn entity(value: &Value) -> Option<(String, Option<String>)> {
    let id = value["id"].as_str()?;
    Some((id.to_owned(), value["url"].as_str().map(str::to_owned)))
}

impl Sink for LinearSink {
    fn deliver<'a>(&'a self, request: &'a DeliveryRequest) -> DeliveryFuture<'a> {
        Box::pin(async move {
            let (label_ids, note) = self.label_ids(&self.label_names(request)).await?;
            let target = self.target(request, &label_ids)?;
            Ok(self.create_or_find(&target).await?.with_note(note))
        })
    }

    fn preview(&self, request: &DeliveryRequest) -> Result<Preview, SinkError> {
        let mut steps = Vec::new();
        let mut placeholders = Vec::new();
        let labels = self.label_names(request);
        if !labels.is_empty() {
            steps.push(self.labels_call(&labels).preview());
            placeholders = labels
                .iter()
                .map(|name| format!("<id of label {name:?}>"))
                .collect();
        }
        let target = self.target(request, &placeholders)?;
        steps.push(target.create.preview());
        steps.push(target.lookup.preview());
        Ok(Preview { steps })
    }
}
