//! Workflow 4, the investigation agent: given an actor and a time (from the
//! anomaly webhook, a finding, or the CLI), gather the actor's activity in
//! both sources, build one correlated timeline with derived markers, judge
//! it (the embedded heuristic engine, optionally a second opinion from an
//! LLM agent), and store a draft report that waits for an analyst.
//!
//! - [`identity`]: one person across emails, Cloudflare ids, Datadog uuids;
//! - [`context`]: the window, the store read, live queries;
//! - [`timeline`], [`markers`]: the ordered timeline, markers and sequences;
//! - [`heuristic`], [`llm`]: the engines; [`verdict`]: what they conclude;
//! - [`report`], [`render`]: the draft report and its renderings;
//! - [`draft`]: the run from `running` draft to finished draft;
//! - [`cli`]: `soc-tui investigate` and `soc-tui report`.

pub mod cli;
pub mod context;
pub mod draft;
pub mod heuristic;
pub mod identity;
pub mod live;
pub mod llm;
pub mod markers;
pub mod publish;
pub mod render;
pub mod report;
pub mod setup;
pub mod timeline;
pub mod verdict;

pub use draft::{InvestigateError, InvestigationRequest, Investigator, SharedStore, TriggerRecord};
pub use report::Report;
pub use verdict::{Assessment, Indicator, NextStep, Verdict};
