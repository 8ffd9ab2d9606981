//! One HTTP call, described once and used twice: sent through `HttpClient`
//! by `deliver`, and rendered by `preview`. Describing it once is what makes
//! the preview show exactly what is sent.

use reqwest::header::CONTENT_TYPE;
use reqwest::{Method, RequestBuilder};
use url::Url;

use super::preview::{PreviewStep, REDACTED};

/// How the secret part of a call is attached.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Auth {
    /// The secret is inside the body (PagerDuty's `routing_key`); the body
    /// given to the call already holds it, or a placeholder in previews.
    InBody,
    /// `<header>: <value>`, e.g. Linear's `Authorization: <key>`.
    Header(&'static str),
    /// HTTP Basic with this user (Confluence: account email + API token).
    Basic,
}

#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub purpose: String,
    pub method: Method,
    pub url: Url,
    /// Headers that carry no secret.
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<serde_json::Value>,
    pub auth: Auth,
}

impl Call {
    pub fn get(purpose: impl Into<String>, url: Url, auth: Auth) -> Call {
        Call {
            purpose: purpose.into(),
            method: Method::GET,
            url,
            headers: Vec::new(),
            body: None,
            auth,
        }
    }

    pub fn post(purpose: impl Into<String>, url: Url, body: serde_json::Value, auth: Auth) -> Call {
        Call {
            purpose: purpose.into(),
            method: Method::POST,
            url,
            headers: Vec::new(),
            body: Some(body),
            auth,
        }
    }

    pub fn header(mut self, name: &'static str, value: impl Into<String>) -> Call {
        self.headers.push((name, value.into()));
        self
    }

    /// The request, without its credential unless the body carries it.
    /// `secret` is the header value (`Auth::Header`), or `(user, password)`
    /// for `Auth::Basic`.
    pub fn request(
        &self,
        http: &reqwest::Client,
        secret: Option<Credentials<'_>>,
    ) -> RequestBuilder {
        let mut builder = http.request(self.method.clone(), self.url.clone());
        for (name, value) in &self.headers {
            builder = builder.header(*name, value);
        }
        builder = match (self.auth, secret) {
            (Auth::Header(name), Some(Credentials::Value(value))) => builder.header(name, value),
            (Auth::Basic, Some(Credentials::Basic { user, password })) => {
                builder.basic_auth(user, Some(password))
            }
            _ => builder,
        };
        match &self.body {
            // `to_vec` of a `Value` cannot fail: its keys are strings.
            Some(body) => builder
                .header(CONTENT_TYPE, "application/json")
                .body(serde_json::to_vec(body).unwrap_or_default()),
            None => builder,
        }
    }

    pub fn preview(&self) -> PreviewStep {
        let mut headers: Vec<(String, String)> = self
            .headers
            .iter()
            .map(|(n, v)| (n.to_string(), v.clone()))
            .collect();
        match self.auth {
            Auth::Header(name) => headers.push((name.to_owned(), REDACTED.to_owned())),
            Auth::Basic => headers.push(("Authorization".into(), format!("Basic {REDACTED}"))),
            Auth::InBody => {}
        }
        if self.body.is_some() {
            headers.push(("Content-Type".into(), "application/json".into()));
        }
        PreviewStep {
            purpose: self.purpose.clone(),
            method: self.method.to_string(),
            url: self.url.to_string(),
            headers,
            body: self
                .body
                .as_ref()
                .map(|b| serde_json::to_string_pretty(b).unwrap_or_default()),
        }
    }
}

/// The secret half of a call, borrowed from a `Secret` just for sending.
#[derive(Clone, Copy)]
pub(crate) enum Credentials<'a> {
    Value(&'a str),
    Basic { user: &'a str, password: &'a str },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn preview_redacts_the_credential_and_names_the_content_type() {
        let url = Url::parse("https://api.example.com/graphql").expect("url");
        let call = Call::post(
            "create",
            url,
            serde_json::json!({"a": 1}),
            Auth::Header("Authorization"),
        )
        .header("Accept", "application/json");
        let step = call.preview();
        assert_eq!(
            step.headers,
            vec![
                ("Accept".to_owned(), "application/json".to_owned()),
                ("Authorization".to_owned(), "[redacted]".to_owned()),
                ("Content-Type".to_owned(), "application/json".to_owned()),
            ]
        );
        assert_eq!(step.body.as_deref(), Some("{\n  \"a\": 1\n}"));
    }

    #[test]
    fn request_carries_headers_body_and_credential() {
        let http = reqwest::Client::new();
        let url = Url::parse("https://api.example.com/x").expect("url");
        let call = Call::post("c", url, serde_json::json!({"k": "v"}), Auth::Basic);
        let request = call
            .request(
                &http,
                Some(Credentials::Basic {
                    user: "me@example.com",
                    password: "tok",
                }),
            )
            .build()
            .expect("request");
        let auth = request.headers()["authorization"].to_str().expect("ascii");
        assert!(auth.starts_with("Basic "), "{auth}");
        assert_eq!(request.headers()["content-type"], "application/json");
        let body = request.body().and_then(|b| b.as_bytes()).expect("bytes");
        assert_eq!(body, br#"{"k":"v"}"#);
    }
}
