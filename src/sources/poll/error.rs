//! Why a target's poll stopped. Whatever the cause, the chunk being read is
//! not stored and the checkpoint stays where the last stored chunk put it.

use chrono::TimeDelta;

use crate::store::StoreError;

use super::walk::WalkError;
use super::window::Window;

#[derive(Debug, thiserror::Error)]
pub enum PollError {
    #[error("reading the checkpoint: {error}")]
    Checkpoint { error: StoreError },
    /// A page failed (HTTP error after retries, unusable body) or the
    /// pagination looped.
    #[error("{api}, {window}: {error}")]
    Walk {
        api: &'static str,
        window: Window,
        error: WalkError,
    },
    #[error(
        "{api}, {window}: more than {cap} pages even in a chunk of {}s, the shortest allowed; \
         stopped (the server may be ignoring the time range)",
        .min_span.num_seconds()
    )]
    PageCap {
        api: &'static str,
        window: Window,
        cap: u32,
        min_span: TimeDelta,
    },
    #[error("storing {window}: {error}")]
    Store { window: Window, error: StoreError },
}
