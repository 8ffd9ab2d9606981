//! Reading every page of one chunk, with guards against a server that
//! never stops: a cursor seen before, a v1 page identical to the previous
//! one, or more pages than the chunk may hold.

use std::collections::HashSet;

use crate::model::AuditEvent;
use crate::sources::cloudflare::client::{AuditQuery, CloudflareClient};
use crate::sources::datadog::client::{DatadogClient, EventQuery};
use crate::sources::page::{FetchError, Page};
use crate::sources::raw::Rejection;

use super::window::Window;

/// Where a target's pages come from.
#[derive(Clone, Copy)]
pub(crate) enum Feed<'a> {
    CloudflareV2 {
        client: &'a CloudflareClient,
        account: &'a str,
    },
    CloudflareV1 {
        client: &'a CloudflareClient,
        account: &'a str,
    },
    Datadog {
        client: &'a DatadogClient,
    },
}

impl Feed<'_> {
    pub(crate) fn label(&self) -> &'static str {
        match self {
            Feed::CloudflareV2 { .. } => "cloudflare audit logs v2",
            Feed::CloudflareV1 { .. } => "cloudflare audit logs v1",
            Feed::Datadog { .. } => "datadog audit events",
        }
    }

    async fn page(
        &self,
        window: &Window,
        actor: Option<&str>,
        page_size: u32,
        position: &Position,
    ) -> Result<Page, FetchError> {
        let cursor = match position {
            Position::Cursor(cursor) => cursor.as_deref(),
            Position::Number(_) => None,
        };
        match self {
            Feed::CloudflareV2 { client, account } => {
                client
                    .audit_logs_v2(account, &cf_query(window, actor, page_size), cursor)
                    .await
            }
            Feed::CloudflareV1 { client, account } => {
                let number = match position {
                    Position::Number(n) => *n,
                    Position::Cursor(_) => 1,
                };
                client
                    .audit_logs_v1(account, &cf_query(window, actor, page_size), number)
                    .await
            }
            Feed::Datadog { client } => {
                let query = EventQuery {
                    from: window.from,
                    to: window.to,
                    actor_email: actor,
                    limit: page_size,
                };
                client.audit_events(&query, cursor).await
            }
        }
    }

    fn first_position(&self) -> Position {
        match self {
            Feed::CloudflareV1 { .. } => Position::Number(1),
            _ => Position::Cursor(None),
        }
    }
}

fn cf_query<'q>(window: &Window, actor: Option<&'q str>, page_size: u32) -> AuditQuery<'q> {
    AuditQuery {
        since: window.from,
        before: window.to,
        actor_email: actor,
        limit: page_size,
    }
}

enum Position {
    Cursor(Option<String>),
    Number(u32),
}

/// Everything one chunk held.
#[derive(Debug, Default)]
pub(crate) struct Walked {
    pub events: Vec<AuditEvent>,
    /// Positioned `page <n> entry <i>`.
    pub rejected: Vec<Rejection>,
}

#[derive(Debug, thiserror::Error)]
pub enum WalkError {
    #[error("page {page}: {error}")]
    Fetch { page: u32, error: FetchError },
    #[error(
        "pagination loop: page {pages} returned a cursor already followed in this chunk; \
         stopped instead of reading the same pages forever"
    )]
    RepeatedCursor { pages: u32 },
    #[error(
        "pagination loop: page {pages} holds the same entries as page {}; the server seems \
         to ignore the page number; stopped",
        .pages - 1
    )]
    RepeatedPage { pages: u32 },
    #[error("more than {cap} pages in one chunk")]
    PageCap { cap: u32 },
}

/// Counters that survive a failed walk (requests made are requests made).
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct WalkStats {
    pub pages: u32,
}

pub(crate) struct WalkLimits {
    pub page_size: u32,
    pub max_pages: u32,
}

/// Reads `window` page by page until the service says there is no more.
pub(crate) async fn walk(
    feed: &Feed<'_>,
    window: &Window,
    actor: Option<&str>,
    limits: &WalkLimits,
    stats: &mut WalkStats,
) -> Result<Walked, WalkError> {
    let mut walked = Walked::default();
    let mut position = feed.first_position();
    let mut seen_cursors: HashSet<String> = HashSet::new();
    let mut previous_ids: Vec<String> = Vec::new();
    let mut pages: u32 = 0;
    loop {
        if pages >= limits.max_pages {
            return Err(WalkError::PageCap {
                cap: limits.max_pages,
            });
        }
        let page = feed
            .page(window, actor, limits.page_size, &position)
            .await
            .map_err(|error| WalkError::Fetch {
                page: pages + 1,
                error,
            })?;
        pages += 1;
        stats.pages += 1;
        let finished = page.entries == 0;
        let ids: Vec<String> = page.event_ids().into_iter().map(str::to_owned).collect();
        walked
            .rejected
            .extend(page.rejected.into_iter().map(|r| Rejection {
                position: format!("page {pages} {}", r.position),
                reason: r.reason,
            }));
        walked.events.extend(page.events);
        if finished {
            return Ok(walked);
        }
        position = match position {
            Position::Cursor(_) => match page.cursor {
                None => return Ok(walked),
                Some(cursor) => {
                    if !seen_cursors.insert(cursor.clone()) {
                        return Err(WalkError::RepeatedCursor { pages });
                    }
                    Position::Cursor(Some(cursor))
                }
            },
            Position::Number(n) => {
                if !ids.is_empty() && ids == previous_ids {
                    return Err(WalkError::RepeatedPage { pages });
                }
                previous_ids = ids;
                Position::Number(n.saturating_add(1))
            }
        };
    }
}
