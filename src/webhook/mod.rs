//! The anomaly webhook receiver (`POST /webhook/anomaly`), its
//! authentication and replay protection, and `soc-tui webhook`.
//!
//! - [`payload`]: the anomaly schema and the sender field map;
//! - [`auth`]: HMAC signatures and the shared-secret mode;
//! - [`replay`], [`limit`]: delivery ids and the rate limit;
//! - [`server`]: the axum app; [`cli`]: `serve` and `sign`.

pub mod auth;
pub mod cli;
pub mod limit;
pub mod payload;
pub mod replay;
pub mod server;

pub use cli::WebhookCommand;
pub use server::{ANOMALY_PATH, WebhookState, router, serve};
