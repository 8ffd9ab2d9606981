//! Delivering the outbox: the worker that pushes queued requests to the
//! sinks with backoff and dead-lettering, previews of what a row sends,
//! and `soc-tui outbox`.

pub mod backoff;
mod blocks;
pub mod cli;
pub mod fault;
pub mod lease;
pub mod preview;
mod worker;

pub use backoff::Backoff;
pub use lease::{DeliveryLease, DeliveryLeaseError};
pub use worker::{OutboxWorker, RunMode, RunSummary, WorkerError, WorkerSettings, configured};
