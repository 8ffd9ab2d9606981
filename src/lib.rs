//! soc-tui: a terminal SOC console over Cloudflare and Datadog audit logs.
//!
//! The binary is a thin shell over this library so that integration tests
//! and benchmarks drive exactly the code the CLI runs.

pub mod cli;
pub mod config;
pub mod console;
pub mod demo;
pub mod detect;
pub mod engine;
pub mod ingest;
pub mod investigate;
pub mod logging;
pub mod model;
pub mod outbox;
pub mod paths;
mod pipe;
pub mod replay;
pub mod sample;
pub mod sanitize;
pub mod secrets;
pub mod setup;
pub mod sinks;
pub mod sources;
pub mod store;
pub mod store_cmd;
pub mod synth;
pub mod terminal_json;
pub mod tui;
pub mod webhook;
pub mod workflows;
