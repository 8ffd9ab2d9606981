//! The terminal console (DESIGN sections 4 and 9).
//!
//! - [`model`]: the seam with the data side (view models, [`DataEvent`] in,
//!   [`Command`] out, [`TimelineSource`]) and [`ConsoleData`], the trait the
//!   engine bridge implements.
//! - [`app`]: state and `App::update`, the only place it changes.
//! - [`draw`], [`panes`], [`popups`], [`editor`]: rendering from `&App`.
//! - [`terminal`]: raw mode, panic hook, the event loop, [`run_console`].
//!
//! [`DataEvent`]: model::DataEvent
//! [`Command`]: model::Command
//! [`TimelineSource`]: model::TimelineSource

pub mod action;
pub mod actor_view;
pub mod app;
pub mod data;
pub mod diff;
pub mod draw;
pub mod editor;
pub mod fake;
pub mod format;
pub mod keymap;
pub mod keys;
pub mod layout;
pub mod lists;
pub mod model;
pub mod panes;
pub mod popups;
pub mod safe_text;
pub mod terminal;
pub mod theme;

pub use action::{Action, Effect, PaneId};
pub use app::{App, AppConfig};
pub use data::{ConsoleData, DataError, DataSink, Incoming};
pub use terminal::{Console, ConsoleOptions, Suspend, build_app, run_console};
