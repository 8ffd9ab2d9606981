//! The whole main screen from one store read: rows per pane, drafts and
//! the status bar.

use super::drafts::DraftParts;
use super::rows;
use super::store_view::StoreView;
use crate::tui::model::{ConsoleSnapshot, StatusSnapshot};

pub fn build(view: &StoreView, drafts: &[DraftParts], status: StatusSnapshot) -> ConsoleSnapshot {
    ConsoleSnapshot {
        flagged: view.flagged.iter().map(rows::flagged).collect(),
        bursts: view.bursts.iter().map(rows::burst).collect(),
        tokens: view.tokens.iter().map(rows::token).collect(),
        investigations: drafts.iter().map(|d| d.row.clone()).collect(),
        drafts: drafts.iter().map(|d| d.view.clone()).collect(),
        status,
        outbox: view.outbox_rows.iter().map(rows::outbox_row).collect(),
    }
}
