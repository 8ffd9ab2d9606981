//! The status bar: each check's last and next run and last error,
//! rate-limit waits, outbox depth and dead letters, the lease holder and
//! the keychain. Segments drop by priority when the terminal is narrow.

use chrono::{DateTime, Utc};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::tui::app::App;
use crate::tui::format::{clock, fit, until};
use crate::tui::model::{KeychainStatus, StatusSnapshot};
use crate::tui::theme::Theme;

/// Higher survives longer when space runs out.
type Priority = u8;

pub fn render(app: &App, area: Rect, buf: &mut Buffer) {
    let theme = app.theme();
    buf.set_style(area, theme.status_bar());
    let segments = segments(&app.tables().status, app.now(), theme);
    let line = fit_segments(segments, usize::from(area.width), theme);
    line.style(theme.status_bar()).render(area, buf);
}

fn segments(
    status: &StatusSnapshot,
    now: DateTime<Utc>,
    theme: &Theme,
) -> Vec<(Priority, Vec<Span<'static>>)> {
    let mut out = Vec::new();
    for check in &status.checks {
        let name = check.workflow.as_str();
        let mut spans = vec![Span::raw(format!("{name} "))];
        if !check.enabled {
            spans.push(Span::styled("paused", theme.warning()));
            out.push((3, spans));
            continue;
        }
        match check.last_run {
            Some(t) => spans.push(Span::raw(clock(t))),
            None => spans.push(Span::raw("never")),
        }
        let failed = check.last_error.is_some();
        match &check.last_error {
            Some(err) => {
                spans.push(Span::styled(" ✖ ", theme.error()));
                spans.push(Span::styled(
                    fit(err.as_str(), 28).into_owned(),
                    theme.error(),
                ));
            }
            None if check.last_run.is_some() => spans.push(Span::styled(" ✓", theme.ok())),
            None => {}
        }
        if let Some(next) = check.next_run {
            spans.push(Span::raw(format!(" next {}", until(now, next))));
        }
        out.push((if failed { 6 } else { 2 }, spans));
    }
    for wait in &status.rate_limits {
        if wait.until > now {
            out.push((
                4,
                vec![Span::styled(
                    format!(
                        "⏳ {} {}",
                        fit(wait.service.as_str(), 16),
                        until(now, wait.until)
                    ),
                    theme.warning(),
                )],
            ));
        }
    }
    let dead = status.outbox_dead;
    out.push((
        if dead > 0 { 7 } else { 5 },
        vec![
            Span::raw(format!("outbox {} queued ", status.outbox_queued)),
            Span::styled(
                format!("{dead} dead"),
                if dead > 0 { theme.error() } else { theme.ok() },
            ),
        ],
    ));
    let lease = match (&status.lease.holder, status.lease.ours) {
        (_, true) => Span::styled("engine: here", theme.ok()),
        (Some(holder), false) => Span::raw(format!("engine: {}", fit(holder.as_str(), 24))),
        (None, false) => Span::styled("engine: none", theme.warning()),
    };
    out.push((3, vec![lease]));
    let keychain = match &status.keychain {
        KeychainStatus::Available => Span::styled("keychain ✓", theme.ok()),
        KeychainStatus::EnvironmentOnly => Span::styled("keychain: env only", theme.warning()),
        KeychainStatus::Unavailable(why) => Span::styled(
            format!("keychain ✖ {}", fit(why.as_str(), 24)),
            theme.error(),
        ),
    };
    out.push((4, vec![keychain]));
    out
}

/// Drops the lowest-priority segments until the rest fit in `width`.
fn fit_segments(
    mut segments: Vec<(Priority, Vec<Span<'static>>)>,
    width: usize,
    theme: &Theme,
) -> Line<'static> {
    const SEP: &str = " │ ";
    let total = |segs: &[(Priority, Vec<Span>)]| -> usize {
        segs.iter()
            .map(|(_, s)| s.iter().map(Span::width).sum::<usize>())
            .sum::<usize>()
            + SEP.len().saturating_sub(2) * 3 * segs.len()
            + 1
    };
    while segments.len() > 1 && total(&segments) > width {
        let lowest = segments
            .iter()
            .enumerate()
            .min_by_key(|(i, (p, _))| (*p, std::cmp::Reverse(*i)))
            .map(|(i, _)| i)
            .unwrap_or(0);
        segments.remove(lowest);
    }
    let mut spans = vec![Span::raw(" ")];
    for (i, (_, seg)) in segments.into_iter().enumerate() {
        if i > 0 {
            spans.push(Span::styled(SEP, theme.status_bar()));
        }
        spans.extend(seg);
    }
    Line::from(spans)
}
