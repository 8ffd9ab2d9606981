//! The console's data side: the store and a running engine behind the
//! terminal UI's [`ConsoleData`](crate::tui::ConsoleData) seam.
//!
//! - [`bridge`]: [`ConsoleBridge`], what the UI talks to;
//! - [`feed`]: the background task keeping the UI's tables current;
//! - [`store_view`], [`rows`], [`drafts`], [`status`], [`snapshot`],
//!   [`diff`]: from store rows to the UI's view models (sanitized here);
//! - [`commands`], [`approve`], [`publish`]: what the analyst's keys do;
//! - [`timeline`]: an actor's events, paged from the store;
//! - [`auto_investigate`]: findings that start investigations;
//! - [`session`]: `soc-tui` (the console on the user's store), [`demo`]:
//!   `soc-tui demo`, [`services`]: what runs beside the console.

pub mod approve;
pub mod auto_investigate;
pub mod bridge;
pub mod commands;
pub mod demo;
pub mod diff;
pub mod drafts;
pub mod feed;
pub mod hour_preview;
pub mod publish;
pub mod rows;
pub mod services;
pub mod session;
pub mod snapshot;
pub mod status;
pub mod store_view;
pub mod timeline;

pub use bridge::{ConsoleBridge, EngineFeeds};
pub use commands::CommandContext;
