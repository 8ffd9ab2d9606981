//! The demo's simulators against what the real services accept and refuse:
//! missing or wrong credentials, missing and invalid parameters, invalid
//! bodies, duplicates, the error shapes (compared with the captured ones in
//! `../shared/specs` where there are some), and pagination that ends.

mod common;

#[path = "demo_sims/cloudflare.rs"]
mod cloudflare;
#[path = "demo_sims/confluence.rs"]
mod confluence;
#[path = "demo_sims/datadog.rs"]
mod datadog;
#[path = "demo_sims/linear.rs"]
mod linear;
#[path = "demo_sims/pagerduty.rs"]
mod pagerduty;
#[path = "demo_sims/support.rs"]
mod support;
