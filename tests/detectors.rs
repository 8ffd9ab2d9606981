//! Detector scenarios on small synthetic histories and on the captured API
//! payloads in `../shared/specs`: every rule and the edge cases named in the
//! issue (cold start, stable nightly job, 0 -> few changes, never-seen type,
//! suppression expiry, burst spanning two windows), asserting exact keys,
//! counts and severities.

#[path = "detectors/baseline.rs"]
mod baseline;
#[path = "detectors/burst.rs"]
mod burst;
#[path = "detectors/common.rs"]
mod common;
#[path = "detectors/tokens.rs"]
mod tokens;
