//! The status bar: each workflow's mode (ON, DRY, OFF), each check's last
//! and next run and last error,
//! rate-limit waits, outbox depth and dead letters, the lease holder and
//! the keychain. On two lines, checks go on the first and the rest on the
//! second; on one line, details and then whole segments drop by priority.

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::tui::app::App;
use crate::tui::format::{clock, fit, until};
use crate::tui::model::{KeychainStatus, StatusSnapshot, Workflow, WorkflowMode};
use crate::tui::popups::workflows::mode_style;
use crate::tui::theme::Theme;

/// One part of the bar. `detail` is dropped before the segment itself.
struct Segment {
    /// Higher survives longer when space runs out.
    priority: u8,
    core: Vec<Span<'static>>,
    detail: Vec<Span<'static>>,
}

const SEPARATOR: &str = " │ ";
const SEPARATOR_CELLS: usize = 3;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = app.theme();
    buf.set_style(area, theme.status_bar());
    let status = &app.tables().status;
    let (checks, others) = (
        checks(status, app.now(), theme),
        others(status, app.now(), theme),
    );
    let width = usize::from(area.width);
    if area.height >= 2 {
        let first = Rect { height: 1, ..area };
        let second = Rect {
            y: area.y + 1,
            height: 1,
            ..area
        };
        fit_segments(checks, width, theme).render(first, buf);
        fit_segments(others, width, theme).render(second, buf);
    } else {
        let mut all = checks;
        all.extend(others);
        fit_segments(all, width, theme).render(area, buf);
    }
}

/// `DRY`, `ON`, `OFF`: how the workflow treats its requests right now.
fn mode_badge(mode: WorkflowMode, theme: &Theme) -> Span<'static> {
    let text = match mode {
        WorkflowMode::On => "ON",
        WorkflowMode::DryRun => "DRY",
        WorkflowMode::Off => "OFF",
    };
    Span::styled(text, mode_style(mode, theme))
}

fn checks(status: &StatusSnapshot, now: DateTime<Utc>, theme: &Theme) -> Vec<Segment> {
    let mode_of = |workflow: Workflow| {
        status
            .workflows
            .iter()
            .find(|w| w.workflow == workflow)
            .map(|w| w.mode)
    };
    let mut out = Vec::new();
    for check in &status.checks {
        let mut core = vec![Span::styled(
            format!("{} ", check.workflow.as_str()),
            theme.status_bar(),
        )];
        let mut detail = Vec::new();
        let mode = mode_of(check.workflow);
        if let Some(mode) = mode {
            core.push(mode_badge(mode, theme));
            if mode == WorkflowMode::Off {
                out.push(Segment {
                    priority: 3,
                    core,
                    detail,
                });
                continue;
            }
            core.push(Span::styled(" ", theme.status_bar()));
        }
        core.push(Span::styled(
            check.last_run.map_or("never".to_owned(), clock),
            theme.status_bar(),
        ));
        match &check.last_error {
            Some(err) => {
                core.push(Span::styled(" ✖", theme.error()));
                detail.push(Span::styled(
                    format!(" {}", fit(err.as_str(), 40)),
                    theme.error(),
                ));
            }
            None if check.last_run.is_some() => core.push(Span::styled(" ✓", theme.ok())),
            None => {}
        }
        if let Some(next) = check.next_run {
            detail.push(Span::styled(
                format!(" next {}", until(now, next)),
                theme.status_bar(),
            ));
        }
        let priority = if check.last_error.is_some() { 6 } else { 2 };
        out.push(Segment {
            priority,
            core,
            detail,
        });
    }
    // Not a scheduled check: only its mode.
    if let Some(mode) = mode_of(Workflow::Investigation) {
        out.push(Segment {
            priority: 2,
            core: vec![
                Span::styled("investigation ", theme.status_bar()),
                mode_badge(mode, theme),
            ],
            detail: Vec::new(),
        });
    }
    out
}

fn others(status: &StatusSnapshot, now: DateTime<Utc>, theme: &Theme) -> Vec<Segment> {
    let mut out = Vec::new();
    for wait in status.rate_limits.iter().filter(|w| w.until > now) {
        out.push(Segment {
            priority: 4,
            core: vec![Span::styled(
                format!(
                    "⏳ {} {}",
                    fit(wait.service.as_str(), 16),
                    until(now, wait.until)
                ),
                theme.warning(),
            )],
            detail: Vec::new(),
        });
    }
    let dead = status.outbox_dead;
    out.push(Segment {
        priority: if dead > 0 { 7 } else { 5 },
        core: vec![
            Span::styled(
                format!("outbox {} queued ", status.outbox_queued),
                theme.status_bar(),
            ),
            Span::styled(
                format!("{dead} dead"),
                if dead > 0 { theme.error() } else { theme.ok() },
            ),
        ],
        detail: Vec::new(),
    });
    let lease = match (&status.lease.holder, status.lease.ours) {
        (_, true) => Span::styled("lease: here", theme.ok()),
        (Some(holder), false) => Span::styled(
            format!("lease: {}", fit(holder.as_str(), 24)),
            theme.status_bar(),
        ),
        (None, false) => Span::styled("lease: nobody", theme.warning()),
    };
    out.push(Segment {
        priority: 3,
        core: vec![lease],
        detail: Vec::new(),
    });
    let (core, detail) = match &status.keychain {
        KeychainStatus::Available => (Span::styled("keychain ✓", theme.ok()), None),
        KeychainStatus::EnvironmentOnly => {
            (Span::styled("keychain: env only", theme.warning()), None)
        }
        KeychainStatus::Unavailable(why) => (
            Span::styled("keychain ✖", theme.error()),
            Some(Span::styled(
                format!(" {}", fit(why.as_str(), 30)),
                theme.error(),
            )),
        ),
    };
    out.push(Segment {
        priority: 4,
        core: vec![core],
        detail: detail.into_iter().collect(),
    });
    out
}

fn width(segments: &[Segment]) -> usize {
    let cells: usize = segments
        .iter()
        .flat_map(|s| s.core.iter().chain(&s.detail))
        .map(Span::width)
        .sum();
    1 + cells + SEPARATOR_CELLS * segments.len().saturating_sub(1)
}

/// Drops details, then segments, lowest priority (then rightmost) first,
/// until the rest fit in `max`.
fn fit_segments(mut segments: Vec<Segment>, max: usize, theme: &Theme) -> Line<'static> {
    let lowest = |segs: &[Segment], with_detail: bool| {
        segs.iter()
            .enumerate()
            .filter(|(_, s)| !with_detail || !s.detail.is_empty())
            .min_by_key(|(i, s)| (s.priority, std::cmp::Reverse(*i)))
            .map(|(i, _)| i)
    };
    while width(&segments) > max {
        if let Some(i) = lowest(&segments, true) {
            segments[i].detail.clear();
        } else if segments.len() > 1
            && let Some(i) = lowest(&segments, false)
        {
            segments.remove(i);
        } else {
            break;
        }
    }
    let mut spans = vec![Span::styled(" ", theme.status_bar())];
    for (i, seg) in segments.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(SEPARATOR, theme.status_bar()));
        }
        spans.extend(seg.core);
        spans.extend(seg.detail);
    }
    Line::from(spans)
}
