//! Where things go on screen, as pure functions of the terminal size, so
//! `App::update` (which keeps selections in view) and the draw code agree
//! without sharing mutable state.
//!
//! Wide terminals (>= 100 columns and 20 rows) get the 2x2 grid of DESIGN
//! section 9. Narrower ones stack the panes: the focused pane takes the
//! space and the others collapse to a one-line summary each.

use ratatui::layout::{Constraint, Direction, Layout, Rect};

use super::action::PaneId;

pub const WIDE_MIN_WIDTH: u16 = 100;
pub const WIDE_MIN_HEIGHT: u16 = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MainLayout {
    /// One rect per pane, in [`PaneId::ALL`] order.
    pub panes: [Rect; 4],
    /// Collapsed panes draw a one-line summary without borders.
    pub collapsed: [bool; 4],
    pub status: Rect,
    pub footer: Rect,
}

impl MainLayout {
    /// Rows available for list items in a pane (inside the borders).
    pub fn list_height(&self, pane: PaneId) -> usize {
        let i = pane.index();
        if self.collapsed[i] {
            0
        } else {
            usize::from(self.panes[i].height.saturating_sub(2))
        }
    }
}

pub fn main(area: Rect, focus: PaneId) -> MainLayout {
    let [body, status, footer] = split_bottom(area);
    if area.width >= WIDE_MIN_WIDTH && area.height >= WIDE_MIN_HEIGHT {
        let rows = Layout::default()
            .direction(Direction::Vertical)
            .constraints([Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)])
            .split(body);
        let halves = |r: Rect| {
            let cols = Layout::default()
                .direction(Direction::Horizontal)
                .constraints([Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)])
                .split(r);
            (cols[0], cols[1])
        };
        let (a, b) = halves(rows[0]);
        let (c, d) = halves(rows[1]);
        MainLayout {
            panes: [a, b, c, d],
            collapsed: [false; 4],
            status,
            footer,
        }
    } else {
        let constraints: Vec<Constraint> = PaneId::ALL
            .iter()
            .map(|p| {
                if *p == focus {
                    Constraint::Min(0)
                } else {
                    Constraint::Length(1)
                }
            })
            .collect();
        let rects = Layout::default()
            .direction(Direction::Vertical)
            .constraints(constraints)
            .split(body);
        let mut panes = [Rect::default(); 4];
        let mut collapsed = [true; 4];
        for p in PaneId::ALL {
            panes[p.index()] = rects[p.index()];
            collapsed[p.index()] = p != focus;
        }
        MainLayout {
            panes,
            collapsed,
            status,
            footer,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ActorLayout {
    pub timeline: Rect,
    pub detail: Rect,
    pub status: Rect,
    pub footer: Rect,
}

impl ActorLayout {
    pub fn timeline_height(&self) -> usize {
        usize::from(self.timeline.height.saturating_sub(2))
    }

    /// Columns inside the detail pane's borders: what raw JSON wraps to.
    pub fn detail_width(&self) -> usize {
        usize::from(self.detail.width.saturating_sub(2))
    }

    pub fn detail_height(&self) -> usize {
        usize::from(self.detail.height.saturating_sub(2))
    }
}

/// Timeline and detail side by side when wide, stacked when narrow.
pub fn actor(area: Rect) -> ActorLayout {
    let [body, status, footer] = split_bottom(area);
    let direction = if area.width >= WIDE_MIN_WIDTH {
        Direction::Horizontal
    } else {
        Direction::Vertical
    };
    let parts = Layout::default()
        .direction(direction)
        .constraints([Constraint::Percentage(62), Constraint::Percentage(38)])
        .split(body);
    ActorLayout {
        timeline: parts[0],
        detail: parts[1],
        status,
        footer,
    }
}

/// Body, status bar and footer. The status bar gets a second line (checks
/// on one, outbox, limits, lease and keychain on the other) where there is
/// room for it; on one line its segments drop by priority.
fn split_bottom(area: Rect) -> [Rect; 3] {
    let status_rows = if area.width >= WIDE_MIN_WIDTH && area.height >= 30 {
        2
    } else {
        1
    };
    let parts = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Min(0),
            Constraint::Length(status_rows),
            Constraint::Length(1),
        ])
        .split(area);
    [parts[0], parts[1], parts[2]]
}

/// A rect of `percent_x` x `percent_y` of `area`, centred, at least
/// `min_w` x `min_h` where `area` allows.
pub fn centered(area: Rect, percent_x: u16, percent_y: u16, min_w: u16, min_h: u16) -> Rect {
    let w = (area.width * percent_x / 100).max(min_w).min(area.width);
    let h = (area.height * percent_y / 100).max(min_h).min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wide_is_a_grid_and_narrow_stacks_with_focus_taking_the_space() {
        let wide = main(Rect::new(0, 0, 120, 36), PaneId::Flagged);
        assert_eq!(wide.collapsed, [false; 4]);
        assert_eq!(wide.panes[0].width + wide.panes[1].width, 120);
        let narrow = main(Rect::new(0, 0, 80, 24), PaneId::Tokens);
        assert_eq!(narrow.collapsed, [true, true, false, true]);
        assert_eq!(narrow.panes[2].height, 22 - 3);
        assert_eq!(wide.status.height, 2);
        assert_eq!(narrow.status.height, 1);
        assert_eq!(narrow.list_height(PaneId::Tokens), 17);
    }

    #[test]
    fn tiny_areas_do_not_underflow() {
        for (w, h) in [(0, 0), (1, 1), (3, 2), (100, 3)] {
            let m = main(Rect::new(0, 0, w, h), PaneId::Bursts);
            let _ = m.list_height(PaneId::Bursts);
            let a = actor(Rect::new(0, 0, w, h));
            let _ = (a.timeline_height(), a.detail_width());
            let _ = centered(Rect::new(0, 0, w, h), 80, 80, 40, 10);
        }
    }
}
