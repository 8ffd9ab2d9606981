//! Confluence Cloud v2: approved reports become pages in the configured
//! space (optionally under a parent page), in storage format, under a
//! deterministic title. Before creating, the space is searched for that
//! title, so a retry after a lost answer finds the page instead of making
//! a second one.

mod client;
pub mod storage;
pub mod title;

use reqwest::StatusCode;
use tokio::sync::OnceCell;
use url::Url;

use crate::config::{ConfluenceConfig, HttpConfig};
use crate::secrets::{Credential, Resolver, Secret};
use crate::sources::http::{HttpClient, RateLimitState, Service};

use super::call::{Call, Credentials};
use super::request::DeliveryRequest;
use super::setup::http_client;
use super::{Delivered, DeliveryFuture, Preview, Sink, SinkError, SinkKind, SinkSetupError};

use client::NewPage;

pub(crate) use client::space_id_in;
pub use storage::{CodeLanguage, StatusColour, StatusLabel, StorageDoc};
pub use title::report_title;

/// The v2 API under the wiki root.
const API_PATH: &str = "api/v2";

pub struct ConfluenceSink {
    /// Base: the API root (`https://<site>/wiki/api/v2`, or a mock's root).
    client: HttpClient,
    /// The wiki root, for page links when an answer has no `_links.base`.
    site: String,
    space_key: String,
    parent_page_id: Option<String>,
    email: String,
    token: Secret,
    /// The space id never changes; looked up once per process.
    space_id: OnceCell<String>,
}

pub struct ConfluenceTarget {
    pub space_key: String,
    pub parent_page_id: Option<String>,
    /// The Atlassian account the API token belongs to.
    pub email: String,
    /// The wiki root (`https://<site>/wiki`), for links.
    pub site: String,
}

impl ConfluenceSink {
    /// The service's rate-limit state (blocks after a 429), shared by every call.
    pub fn rate_limit(&self) -> &RateLimitState {
        self.client.rate_limit()
    }

    /// `client`'s base is the v2 API root.
    pub fn new(client: HttpClient, target: ConfluenceTarget, token: Secret) -> ConfluenceSink {
        ConfluenceSink {
            client,
            site: target.site,
            space_key: target.space_key,
            parent_page_id: target.parent_page_id,
            email: target.email,
            token,
            space_id: OnceCell::new(),
        }
    }

    /// Skips the `GET /spaces` lookup when the space id is already known
    /// (stored from an earlier run).
    pub fn with_space_id(self, space_id: impl Into<String>) -> ConfluenceSink {
        let known = OnceCell::new();
        // A fresh cell always accepts its first value.
        let _ = known.set(space_id.into());
        ConfluenceSink {
            space_id: known,
            ..self
        }
    }

    /// The space id, once looked up (or given).
    pub fn known_space_id(&self) -> Option<&str> {
        self.space_id.get().map(String::as_str)
    }

    /// `None` when `[confluence] base_url` is not set.
    pub fn from_config(
        config: &ConfluenceConfig,
        http: &HttpConfig,
        resolver: &Resolver<'_>,
    ) -> Result<Option<ConfluenceSink>, SinkSetupError> {
        let Some(base_url) = &config.base_url else {
            return Ok(None);
        };
        let missing = |key: &'static str| SinkSetupError::Config {
            key,
            message: "required when confluence.base_url is set".into(),
        };
        let space_key = config
            .space_key
            .clone()
            .ok_or_else(|| missing("confluence.space_key"))?;
        let email = config
            .email
            .as_ref()
            .ok_or_else(|| missing("confluence.email"))?;
        let (token, _) = resolver.require(Credential::ConfluenceToken)?;
        let client = http_client(Service::Confluence, &base_url.join(API_PATH), http)?;
        Ok(Some(ConfluenceSink::new(
            client,
            ConfluenceTarget {
                space_key,
                parent_page_id: config.parent_page_id.clone(),
                email: email.as_str().to_owned(),
                site: base_url.as_str().to_owned(),
            },
            token,
        )))
    }

    fn credentials(&self) -> Credentials<'_> {
        Credentials::Basic {
            user: &self.email,
            password: self.token.expose(),
        }
    }

    fn pages(&self) -> Url {
        self.client.url(&["pages"])
    }

    fn page(request: &DeliveryRequest) -> Result<(&str, &str), SinkError> {
        match request {
            DeliveryRequest::ConfluencePage {
                title,
                storage_body,
                ..
            } => Ok((title, storage_body)),
            _ => Err(SinkError::permanent(
                SinkKind::Confluence,
                "not a Confluence request",
            )),
        }
    }

    fn calls(&self, space_id: &str, title: &str, storage_body: &str) -> (Call, Call) {
        let find = client::find_page_call(self.pages(), space_id, title);
        let create = client::create_page_call(
            self.pages(),
            &NewPage {
                space_id,
                parent_id: self.parent_page_id.as_deref(),
                title,
                storage_body,
            },
        );
        (find, create)
    }

    async fn fetch(&self, call: &Call) -> Result<Vec<u8>, SinkError> {
        let credentials = self.credentials();
        self.client
            .fetch(|http| call.request(http, Some(credentials)))
            .await
            .map(|response| response.body)
            .map_err(|e| SinkError::from_http(SinkKind::Confluence, &e))
    }

    async fn space_id(&self) -> Result<&str, SinkError> {
        self.space_id
            .get_or_try_init(|| async {
                let call = client::space_call(self.client.url(&["spaces"]), &self.space_key);
                let body = self.fetch(&call).await?;
                client::space_id(&body, &self.space_key)
            })
            .await
            .map(String::as_str)
    }

    async fn find(&self, find: &Call, title: &str) -> Result<Option<Delivered>, SinkError> {
        let body = self.fetch(find).await?;
        Ok(client::found_page(&body, title, &self.site))
    }

    async fn deliver_page(&self, request: &DeliveryRequest) -> Result<Delivered, SinkError> {
        let (title, storage_body) = ConfluenceSink::page(request)?;
        let space_id = self.space_id().await?;
        let (find, create) = self.calls(space_id, title, storage_body);
        if let Some(found) = self.find(&find, title).await? {
            return Ok(found);
        }
        let credentials = self.credentials();
        match self
            .client
            .fetch(|http| create.request(http, Some(credentials)))
            .await
        {
            Ok(response) => client::created_page(&response.body, &self.site),
            // "A page with this title already exists": another attempt
            // created it between our search and our create.
            Err(error) if error.status() == Some(StatusCode::BAD_REQUEST) => self
                .find(&find, title)
                .await?
                .ok_or_else(|| SinkError::from_http(SinkKind::Confluence, &error)),
            Err(error) => Err(SinkError::from_http(SinkKind::Confluence, &error)),
        }
    }
}

impl Sink for ConfluenceSink {
    fn deliver<'a>(&'a self, request: &'a DeliveryRequest) -> DeliveryFuture<'a> {
        Box::pin(self.deliver_page(request))
    }

    fn preview(&self, request: &DeliveryRequest) -> Result<Preview, SinkError> {
        let (title, storage_body) = ConfluenceSink::page(request)?;
        let mut steps = Vec::new();
        let space_id = match self.space_id.get() {
            Some(id) => id.clone(),
            None => {
                steps.push(
                    client::space_call(self.client.url(&["spaces"]), &self.space_key).preview(),
                );
                format!("<id of space {}>", self.space_key)
            }
        };
        let (find, create) = self.calls(&space_id, title, storage_body);
        steps.push(find.preview());
        steps.push(create.preview());
        Ok(Preview { steps })
    }
}
