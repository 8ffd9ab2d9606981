//! Helpers shared by integration tests. Each test binary uses a different
//! subset, hence the `dead_code` allowance.
#![allow(dead_code)]

pub mod activity;
pub mod audit_fake;
pub mod fake_server;
pub mod fault_proxy;
pub mod moto;
pub mod prism;
pub mod spec_patch;
pub mod virtual_clock;

use std::path::{Path, PathBuf};

/// Under `CI=true` a missing external component fails the test instead of
/// skipping it, so CI cannot go green by testing nothing.
pub fn running_in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
}

/// Reports that a test cannot run here: prints why (the caller then
/// returns early), or panics under `CI=true`.
pub fn unavailable(why: &str) {
    if running_in_ci() {
        panic!("{why} (required when CI=true)");
    }
    eprintln!("SKIPPED: {why}");
}

/// `../shared/specs` next to the crate, or `None` (after [`unavailable`]).
/// `SOC_TUI_SPECS_DIR` points elsewhere, for checkouts (git worktrees) that
/// do not sit next to `shared/`.
pub fn specs_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SOC_TUI_SPECS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/specs"));
    if dir.is_dir() {
        Some(dir)
    } else {
        unavailable(&format!("API specs not found at {}", dir.display()));
        None
    }
}
